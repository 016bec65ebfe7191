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

/// A physical item lent leaves its box in the register of movements (進出庫) and comes back
/// to it on return; while out, its box does not list it and a stock-take does not expect it.
#[sqlx::test]
async fn a_physical_loan_moves_the_item_out_of_its_box_and_back(pool: PgPool) {
    use crate::places::{paper_record, store_room};
    let app = TestApp::spawn(pool).await;
    let keeper = app.user_token("keeper", "archivist", None).await;
    let (room, places) = store_room(&app, &keeper).await;
    let at = json!({ "room": "K1", "shelf": "S1", "box": "B1" });
    let record = paper_record(&app, "房屋租赁合同原件", "WS", "2024-06-01", at.clone()).await;
    let id = record["id"].as_str().expect("id");
    app.user_token("clerk", "staff", None).await;
    let body = json!({"record_id": id, "purpose": "核对原件", "days": 5, "physical": true});
    let loan = lend(&app, "clerk", body, json!({})).await;
    let loan_id = loan["id"].as_str().expect("loan id");

    let room_id = room["id"].as_str().expect("id");
    let b1 = places[2]["id"].as_str().expect("id");
    let box_path = format!("/api/v1/rooms/{room_id}/locations/{b1}");
    assert_eq!(
        items_in(&app, &keeper, &box_path).await,
        Some(0),
        "lent out, the box is empty"
    );
    let now = app.get_json(&format!("/api/v1/records/{id}")).await;
    assert_eq!(now["location"], serde_json::Value::Null);

    json_of(act(&app, &app.token, loan_id, "return").await, 200).await;
    assert_eq!(
        items_in(&app, &keeper, &box_path).await,
        Some(1),
        "back in its box"
    );
    let now = app.get_json(&format!("/api/v1/records/{id}")).await;
    assert_eq!(now["location"], at);
    let register = app
        .get_json(&format!("/api/v1/records/{id}/movements"))
        .await;
    let register = register.as_array().expect("movements");
    assert_eq!(register.len(), 2, "{register:?}");
    assert_eq!(
        (&register[0]["from"], &register[0]["to"]),
        (&at, &serde_json::Value::Null)
    );
    assert_eq!(
        (&register[1]["from"], &register[1]["to"]),
        (&serde_json::Value::Null, &at)
    );
    for movement in register {
        assert!(
            movement["reason"]
                .as_str()
                .is_some_and(|reason| reason.contains(loan_id) && reason.contains("clerk")),
            "{movement}"
        );
    }
}

async fn items_in(app: &TestApp, token: &str, place: &str) -> Option<usize> {
    let place: serde_json::Value = crate::places::get_as(app, token, place)
        .await
        .json()
        .await
        .expect("json");
    place["contents"].as_array().map(Vec::len)
}
