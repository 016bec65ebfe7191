//! Physical items of a batch are confirmed shredded by a named supervisor before the batch
//! is done; a batch scheduled for later waits for its time.

use serde_json::{Value, json};
use sqlx::PgPool;

use super::{approve_twice, batch, batch_json, due_record, user};
use crate::helpers::{TestApp, assert_problem};
use crate::search::settle;

/// A paper record (no files) from 2000 kept ten years, appraised for destruction.
pub(super) async fn due_paper_record(app: &TestApp, title: &str) -> Value {
    let record = app
        .file_record(
            &json!({ "title": title, "doc_date": "2000-01-01", "category": "WS",
                     "retention": "D10", "department": "BGS", "carrier": "paper" }),
            vec![],
        )
        .await;
    assert_eq!(record["carrier"], "paper");
    let response = app
        .post("/api/v1/disposition/appraisals")
        .json(&json!({ "record_id": record["id"], "decision": "destroy", "reason": "期滿" }))
        .send()
        .await
        .expect("appraise");
    assert_eq!(response.status(), 201);
    record
}

pub(super) async fn new_batch(app: &TestApp, records: &[&Value], extra: Value) -> Value {
    let mut body = json!({
        "as_of": "2026-12-31",
        "record_ids": records.iter().map(|record| &record["id"]).collect::<Vec<_>>(),
        "supervisors": ["王監銷", "keeper"],
    });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let response = app
        .post("/api/v1/disposition/batches")
        .json(&body)
        .send()
        .await
        .expect("create batch");
    assert_eq!(
        response.status(),
        201,
        "{}",
        response.text().await.unwrap_or_default()
    );
    response.json().await.expect("json")
}

pub(super) async fn confirm(
    app: &TestApp,
    token: &str,
    created: &Value,
    body: Value,
) -> reqwest::Response {
    app.client
        .post(app.url(&format!(
            "/api/v1/disposition/batches/{}/shredded",
            created["id"].as_str().expect("id")
        )))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("confirm shredding")
}

#[sqlx::test]
async fn paper_items_wait_for_a_supervisor_to_confirm_shredding(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let paper = due_paper_record(&app, "紙質合同").await;
    let scan = due_record(&app, "電子掃描件", b"scanned content").await;
    let created = new_batch(&app, &[&paper, &scan], json!({})).await;
    let keeper = user(&app, "keeper", "archivist").await;
    let clerk = user(&app, "clerk", "staff").await;

    approve_twice(&app, &created).await;
    settle(&app).await;

    let waiting = batch_json(&app, &created).await;
    assert_eq!(waiting["status"], "awaiting_shredding");
    let physical: Vec<bool> = waiting["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["physical"].as_bool().expect("physical"))
        .collect();
    assert_eq!(physical, vec![true, false]);
    assert_eq!(waiting["items"][1]["outcome"], "destroyed");

    let stranger = confirm(&app, &clerk, &created, json!({})).await;
    assert_problem(stranger, 403, "forbidden").await;
    let unknown = confirm(&app, &app.token, &created, json!({"supervisor": "李四"})).await;
    assert_problem(unknown, 400, "validation").await;
    let electronic = confirm(&app, &keeper, &created, json!({"record_ids": [scan["id"]]})).await;
    assert_problem(electronic, 409, "conflict").await;
    assert_eq!(
        batch_json(&app, &created).await["status"],
        "awaiting_shredding"
    );

    let confirmed = confirm(&app, &keeper, &created, json!({"remarks": "碎紙機 2 號"})).await;
    assert_eq!(
        confirmed.status(),
        200,
        "{}",
        confirmed.text().await.unwrap_or_default()
    );
    let done: Value = confirmed.json().await.expect("json");
    assert_eq!(done["status"], "done");
    assert_eq!(done["items"][0]["shred_supervisor"], "keeper");
    assert_eq!(done["items"][0]["shredded_by"], "keeper");
    assert!(done["finished_at"].is_string());

    let csv = batch(&app, &created, "?format=csv")
        .await
        .text()
        .await
        .expect("csv");
    assert!(
        csv.contains("粉碎監銷人") && csv.contains("keeper"),
        "{csv}"
    );
    let again = confirm(&app, &keeper, &created, json!({})).await;
    assert_problem(again, 409, "conflict").await;
    let shredded: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'record.shredded'")
            .fetch_one(&app.pool)
            .await
            .expect("count");
    assert_eq!(shredded, 1);
}

#[sqlx::test]
async fn an_archivist_enters_the_confirmation_of_a_named_supervisor(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let paper = due_paper_record(&app, "紙質憑證").await;
    let created = new_batch(&app, &[&paper], json!({})).await;
    approve_twice(&app, &created).await;
    settle(&app).await;
    let confirmed = confirm(&app, &app.token, &created, json!({"supervisor": "王監銷"})).await;
    assert_eq!(confirmed.status(), 200);
    let done: Value = confirmed.json().await.expect("json");
    assert_eq!(done["status"], "done");
    assert_eq!(done["items"][0]["shred_supervisor"], "王監銷");
    assert_eq!(done["items"][0]["shredded_by"], "admin");
}

#[sqlx::test]
async fn a_batch_scheduled_for_later_waits_for_its_time(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = due_record(&app, "定時銷毀", b"later").await;
    let run_at = chrono::Utc::now() + chrono::Duration::hours(3);
    let created = new_batch(&app, &[&record], json!({"run_at": run_at})).await;
    assert!(created["run_at"].is_string());
    approve_twice(&app, &created).await;
    settle(&app).await;
    let waiting = batch_json(&app, &created).await;
    assert_eq!(waiting["status"], "approved", "not before its time");
    assert_eq!(waiting["items"][0]["outcome"], "pending");

    // Three hours pass.
    sqlx::query("update jobs set run_at = now() where kind = 'destroy_batch'")
        .execute(&app.pool)
        .await
        .expect("time passes");
    settle(&app).await;
    let done = batch_json(&app, &created).await;
    assert_eq!(done["status"], "done");
    assert_eq!(done["items"][0]["outcome"], "destroyed");
}
