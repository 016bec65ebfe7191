//! Legal holds: several per record, held until all are released; party holds covering
//! records filed later; `on_hold` for destruction appraisals and shortened retention.

use serde_json::{Value, json};
use sqlx::PgPool;

use super::{appraise, appraised, destroy, employee, file, party_event, patch, record};
use crate::helpers::{TestApp, assert_problem};

async fn hold(app: &TestApp, body: Value) -> String {
    let response = app
        .post("/api/v1/holds")
        .json(&body)
        .send()
        .await
        .expect("hold");
    assert_eq!(response.status(), 201);
    let hold: Value = response.json().await.expect("json");
    assert_eq!(hold["reason"], body["reason"]);
    hold["id"].as_str().expect("id").to_owned()
}

async fn release(app: &TestApp, id: &str) -> reqwest::Response {
    app.client
        .delete(app.url(&format!("/api/v1/holds/{id}")))
        .bearer_auth(&app.token)
        .send()
        .await
        .expect("release")
}

#[sqlx::test]
async fn a_record_is_held_until_every_hold_is_released(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let id = file(&app, "2014年合同", "2014-05-01", "D10").await;
    let first = hold(&app, json!({ "reason": "诉讼保全", "record_ids": [id] })).await;
    let second = hold(&app, json!({ "reason": "审计", "record_ids": [id, id] })).await;
    assert_eq!(record(&app, &id).await["holds"], json!([first, second]));
    let due = app
        .get_json("/api/v1/disposition/due?as_of=2026-01-01")
        .await;
    assert_eq!(due["items"][0]["holds"], json!([first, second]));
    let active = app.get_json("/api/v1/holds").await;
    assert_eq!(active["items"].as_array().expect("items").len(), 2);
    assert_eq!(active["items"][1]["record_ids"], json!([id]));
    assert_problem(appraise(&app, destroy(&id)).await, 409, "on_hold").await;

    assert_eq!(release(&app, &first).await.status(), 204);
    assert_eq!(record(&app, &id).await["holds"], json!([second]));
    assert_problem(appraise(&app, destroy(&id)).await, 409, "on_hold").await;
    assert_problem(release(&app, &first).await, 409, "conflict").await;

    assert_eq!(release(&app, &second).await.status(), 204);
    assert_eq!(record(&app, &id).await["holds"], json!([]));
    assert!(
        app.get_json("/api/v1/holds").await["items"]
            .as_array()
            .expect("items")
            .is_empty()
    );
    appraised(&app, destroy(&id)).await;
    let unknown = release(&app, "018f0000-0000-7000-8000-000000000000").await;
    assert_problem(unknown, 404, "not_found").await;
}

#[sqlx::test]
async fn a_party_hold_covers_records_filed_into_the_folder_later(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let party = employee(&app, "E0202").await;
    let response = app
        .post("/api/v1/holds")
        .json(&json!({ "reason": "劳动仲裁", "party_id": party }))
        .send()
        .await
        .expect("hold");
    assert_eq!(response.status(), 201);
    let held: Value = response.json().await.expect("json");
    assert_eq!(held["party_id"], party.as_str());
    assert!(held.get("record_ids").is_none());
    let hold_id = held["id"].as_str().expect("id").to_owned();

    let filed = app
        .file_record(
            &json!({ "title": "离职证明", "doc_date": "2015-03-01", "party_id": party, "department": "RSB" }),
            vec![],
        )
        .await;
    let id = filed["id"].as_str().expect("id").to_owned();
    assert_eq!(record(&app, &id).await["holds"], json!([hold_id]));
    party_event(&app, &party, "2020-01-01").await;
    assert_problem(appraise(&app, destroy(&id)).await, 409, "on_hold").await;
    let other = file(&app, "无关文件", "2014-05-01", "D10").await;
    assert_eq!(record(&app, &other).await["holds"], json!([]));

    assert_eq!(release(&app, &hold_id).await.status(), 204);
    appraised(&app, destroy(&id)).await;
}

#[sqlx::test]
async fn a_held_records_retention_cannot_be_shortened(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    // no category: the record has no archival code yet, so its retention may still change
    let filed = app
        .file_record(
            &json!({ "title": "待归档", "doc_date": "2014-05-01", "retention": "D30" }),
            vec![],
        )
        .await;
    assert_eq!(filed["archival_code"], Value::Null);
    assert_eq!(filed["retention_due_on"], "2045-01-01");
    let id = filed["id"].as_str().expect("id").to_owned();
    let hold_id = hold(&app, json!({ "reason": "调查", "record_ids": [id] })).await;

    assert_problem(
        patch(&app, &id, json!({ "retention": "D10" })).await,
        409,
        "on_hold",
    )
    .await;
    let unchanged = record(&app, &id).await;
    assert_eq!(unchanged["retention"], "D30");
    assert_eq!(unchanged["retention_due_on"], "2045-01-01");
    let longer = patch(&app, &id, json!({ "retention": "Y" })).await;
    assert_eq!(longer.status(), 200, "lengthening is allowed");
    assert_problem(
        patch(&app, &id, json!({ "retention": "D30" })).await,
        409,
        "on_hold",
    )
    .await;

    assert_eq!(release(&app, &hold_id).await.status(), 204);
    let shortened = patch(&app, &id, json!({ "retention": "D10" })).await;
    assert_eq!(shortened.status(), 200);
    assert_eq!(record(&app, &id).await["retention_due_on"], "2025-01-01");
}

#[sqlx::test]
async fn a_policy_change_cannot_shorten_a_held_records_retention(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let id = file(&app, "2014年合同", "2014-05-01", "D10").await;
    let hold_id = hold(&app, json!({ "reason": "诉讼", "record_ids": [id] })).await;
    let shorten = |years: u32| {
        app.client
            .patch(app.url("/api/v1/retention-policies/D10"))
            .bearer_auth(&app.token)
            .json(&json!({ "years": years }))
            .send()
    };

    assert_problem(shorten(5).await.expect("patch"), 409, "on_hold").await;
    assert_eq!(record(&app, &id).await["retention_due_on"], "2025-01-01");
    assert_eq!(
        shorten(12).await.expect("patch").status(),
        200,
        "longer is fine"
    );
    assert_eq!(record(&app, &id).await["retention_due_on"], "2027-01-01");

    assert_eq!(release(&app, &hold_id).await.status(), 204);
    assert_eq!(shorten(5).await.expect("patch").status(), 200);
    assert_eq!(record(&app, &id).await["retention_due_on"], "2020-01-01");
}
