//! Bad loan requests are refused and store nothing.

use serde_json::json;
use sqlx::PgPool;

use super::{act, get_as, json_of, request_loan, secret_record, uuid_nil};
use crate::helpers::{TestApp, assert_problem};

#[sqlx::test]
async fn bad_loan_requests_are_refused_and_nothing_is_stored(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = secret_record(&app, json!({}), vec![]).await;
    let id = record["id"].as_str().expect("id");
    let clerk = app.user_token("clerk", "staff", None).await;
    let auditor = app.user_token("auditor", "auditor", None).await;
    let archivist = app.user_token("keeper", "archivist", None).await;
    let director = app.user_token("director", "director", None).await;
    for (body, status, code) in [
        (
            json!({"record_id": id, "purpose": "x", "days": 0}),
            400,
            "validation",
        ),
        (
            json!({"record_id": id, "purpose": " ", "days": 3}),
            400,
            "validation",
        ),
        // a missing record and one the clerk may not see answer alike
        (
            json!({"record_id": uuid_nil(), "purpose": "x", "days": 3}),
            404,
            "not_found",
        ),
        (
            json!({"record_id": id, "purpose": "x", "days": 3}),
            404,
            "not_found",
        ),
        (
            json!({"record_id": id, "purpose": "x", "days": 3, "colour": "red"}),
            400,
            "validation",
        ),
        (
            json!({"record_id": id, "purpose": "x", "days": 3, "borrower": "admin"}),
            403,
            "forbidden",
        ),
        (
            json!({"record_id": id, "purpose": "x", "days": 3, "copy_allowed": true}),
            400,
            "validation",
        ),
    ] {
        assert_problem(request_loan(&app, &clerk, body).await, status, code).await;
    }
    let body = json!({"record_id": id, "purpose": "x", "days": 3});
    assert_problem(
        request_loan(&app, &auditor, body.clone()).await,
        403,
        "forbidden",
    )
    .await;
    let for_auditor = json!({"record_id": id, "purpose": "x", "days": 3, "borrower": "auditor"});
    assert_problem(
        request_loan(&app, &archivist, for_auditor).await,
        400,
        "validation",
    )
    .await;
    assert_eq!(app.count("loans").await, 0);
    let body = json!({"record_id": id, "purpose": "x", "days": 3, "borrower": "clerk"});
    let loan = json_of(request_loan(&app, &archivist, body.clone()).await, 201).await;
    assert_problem(
        request_loan(&app, &archivist, body.clone()).await,
        409,
        "conflict",
    )
    .await;
    // A record destroyed while the request waited is not lent.
    sqlx::query("update records set status = 'destroyed' where id = $1::uuid")
        .bind(id)
        .execute(&app.pool)
        .await
        .expect("destroy");
    let loan_id = loan["id"].as_str().expect("loan id");
    assert_problem(
        act(&app, &director, loan_id, "approve").await,
        409,
        "conflict",
    )
    .await;
    json_of(act(&app, &director, loan_id, "reject").await, 200).await;
    assert_problem(request_loan(&app, &archivist, body).await, 409, "conflict").await;
    let unknown = format!("/api/v1/loans/{}", uuid_nil());
    assert_problem(get_as(&app, &clerk, &unknown).await, 404, "not_found").await;
    assert_problem(
        get_as(&app, &clerk, "/api/v1/loans?status=lost").await,
        400,
        "validation",
    )
    .await;
    assert_eq!(app.count("loans").await, 1);
    let openapi = json_of(
        app.get("/api/openapi.json").send().await.expect("openapi"),
        200,
    )
    .await;
    for path in [
        "/api/v1/loans",
        "/api/v1/loans/{id}/approve",
        "/api/v1/loans/{id}/return",
    ] {
        assert!(
            openapi["paths"][path].is_object(),
            "{path} missing from the OpenAPI document"
        );
    }
}
