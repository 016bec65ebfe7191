//! A physical item out on loan stays out of destruction until it is returned.

use serde_json::json;
use sqlx::PgPool;

use super::{act, json_of, lend};
use crate::helpers::{TestApp, assert_problem};

#[sqlx::test]
async fn a_physical_item_out_on_loan_cannot_enter_a_destruction_batch(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = crate::destruction::due_record(&app, "過期憑證", b"paper").await;
    let clerk = app.user_token("clerk", "staff", None).await;
    let body =
        json!({"record_id": record["id"], "purpose": "查閱原件", "days": 3, "physical": true});
    let loan = lend(&app, "clerk", body, json!({})).await;
    let loan_id = loan["id"].as_str().expect("loan id");
    // a physical loan lends the paper: no download for the borrower
    let file = format!(
        "/api/v1/records/{}/files/{}",
        record["id"].as_str().expect("id"),
        record["files"][0]["id"].as_str().expect("file")
    );
    let download = app
        .client
        .get(app.url(&file))
        .bearer_auth(&clerk)
        .send()
        .await
        .expect("get");
    assert_eq!(download.status(), 403);
    let batch =
        json!({"as_of": "2026-12-31", "record_ids": [record["id"]], "supervisors": ["王監銷"]});
    let refused = app
        .post("/api/v1/disposition/batches")
        .json(&batch)
        .send()
        .await
        .expect("batch");
    let problem = assert_problem(refused, 409, "conflict").await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains(loan_id)),
        "{problem}"
    );
    json_of(act(&app, &app.token, loan_id, "return").await, 200).await;
    let created = app
        .post("/api/v1/disposition/batches")
        .json(&batch)
        .send()
        .await
        .expect("batch");
    assert_eq!(created.status(), 201);
}
