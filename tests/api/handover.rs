//! Handover (R14): an employee's records in custody pass to a successor before the leave
//! can be recorded.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, assert_problem};

async fn employee(app: &TestApp, identifier: &str, name: &str) -> String {
    let response = app
        .post("/api/v1/parties")
        .json(&json!({"kind": "employee", "identifier": identifier, "name": name, "department": "BGS"}))
        .send()
        .await
        .expect("party");
    assert_eq!(response.status(), 201);
    let party: Value = response.json().await.expect("json");
    party["id"].as_str().expect("id").to_owned()
}

async fn leave(app: &TestApp, party: &str) -> reqwest::Response {
    app.post(&format!("/api/v1/parties/{party}/events"))
        .json(&json!({"type": "employment_ended", "date": "2026-11-20"}))
        .send()
        .await
        .expect("event")
}

#[sqlx::test]
async fn records_in_custody_are_handed_over_before_the_leave_completes(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let leaving = employee(&app, "E100", "李離職").await;
    let successor = employee(&app, "E200", "王接任").await;
    let mut kept = Vec::new();
    for title in ["採購合同", "供應商名錄"] {
        let record = app
            .file_record(
                &json!({"title": title, "category": "WS", "custodian": leaving}),
                vec![],
            )
            .await;
        assert_eq!(record["custodian"], leaving.as_str());
        kept.push(record["id"].as_str().expect("id").to_owned());
    }

    let refused = leave(&app, &leaving).await;
    let problem = assert_problem(refused, 409, "conflict").await;
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("2 records"),
        "{problem}"
    );

    let response = app
        .post(&format!("/api/v1/parties/{leaving}/handover"))
        .json(&json!({"successor": successor, "remarks": "交接清單已簽字"}))
        .send()
        .await
        .expect("handover");
    assert_eq!(
        response.status(),
        200,
        "{}",
        response.text().await.unwrap_or_default()
    );
    let handover: Value = response.json().await.expect("json");
    assert_eq!(handover["count"], 2);
    for id in &kept {
        let record: Value = app
            .get(&format!("/api/v1/records/{id}"))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        assert_eq!(record["custodian"], successor.as_str());
    }
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'record.handed_over'")
            .fetch_one(&app.pool)
            .await
            .expect("count");
    assert_eq!(audited, 2);

    assert_eq!(leave(&app, &leaving).await.status(), 201);
    // A departed employee cannot be a successor or a new custodian.
    let to_departed = app
        .post(&format!("/api/v1/parties/{successor}/handover"))
        .json(&json!({"successor": leaving}))
        .send()
        .await
        .expect("handover");
    assert_problem(to_departed, 400, "validation").await;
    let custody = app
        .upload(&json!({"title": "新文件", "custodian": leaving}), vec![])
        .await;
    assert_problem(custody, 400, "validation").await;
}
