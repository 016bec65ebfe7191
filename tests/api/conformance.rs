//! The API as /api/openapi.json describes it, and the findings of `scripts/api-check`
//! (schemathesis) kept as regressions: values PostgreSQL cannot hold are 400, not 500; a body
//! must be a JSON object; page sizes are documented as what the server accepts.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, assert_problem};

/// Every `$ref` of the document resolves, every error response is problem+json, and every
/// secured operation documents 401, every operation with a body 400 and 415, and a secured
/// one with a body 404.
#[sqlx::test]
async fn the_openapi_document_describes_errors_truly(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let doc: Value = app.get_json("/api/openapi.json").await;
    let text = doc.to_string();
    let mut unresolvable: Vec<&str> = text
        .split("\"$ref\":\"")
        .skip(1)
        .filter_map(|reference| reference.split('"').next())
        .filter(|reference| {
            let name = reference.trim_start_matches("#/components/schemas/");
            doc["components"]["schemas"].get(name).is_none()
        })
        .collect();
    unresolvable.dedup();
    assert!(unresolvable.is_empty(), "unresolvable: {unresolvable:?}");
    let mut operations = 0;
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("item") {
            let responses = operation["responses"].as_object().expect("responses");
            for (status, response) in responses {
                if status.starts_with('4') || status.starts_with('5') {
                    let types: Vec<&String> = response["content"]
                        .as_object()
                        .map(|content| content.keys().collect())
                        .unwrap_or_default();
                    assert_eq!(
                        types,
                        ["application/problem+json"],
                        "{method} {path} {status}"
                    );
                }
            }
            if operation.get("security").is_some() {
                assert!(responses.contains_key("401"), "{method} {path}");
            }
            if operation.get("requestBody").is_some() {
                for status in ["400", "415"] {
                    assert!(responses.contains_key(status), "{method} {path} {status}");
                }
                if operation.get("security").is_some() {
                    // a body may name a record that is not there, or hidden
                    assert!(responses.contains_key("404"), "{method} {path}");
                }
            }
            operations += 1;
        }
    }
    assert!(operations > 80, "{operations} operations");
}

#[sqlx::test]
async fn values_postgresql_cannot_hold_are_400(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let response = app
        .post("/api/v1/fonds")
        .json(&json!({ "code": "Z200", "name": "全宗\u{0}名" }))
        .send()
        .await
        .expect("fonds");
    assert_problem(response, 400, "validation").await;
    let response = app
        .post("/api/v1/parties")
        .json(
            &json!({ "kind": "customer", "identifier": "C-1", "name": "大客户",
                       "credit_limit": 4.702526232317584e16 }),
        )
        .send()
        .await
        .expect("party");
    assert_problem(response, 400, "validation").await;
    assert_eq!(app.count("parties").await, 0);
}

#[sqlx::test]
async fn a_body_that_is_not_a_json_object_is_400(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let me: Value = app.get_json("/api/v1/users").await;
    let admin = me.as_array().expect("users")[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    for body in ["[null, null]", "[\"director\"]", "42"] {
        let response = app
            .client
            .patch(app.url(&format!("/api/v1/users/{admin}")))
            .bearer_auth(&app.token)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("patch");
        assert_problem(response, 400, "validation").await;
    }
    let response = app
        .post("/api/v1/fonds")
        .header("content-type", "application/json")
        .body("[\"Z300\", \"名\", false]")
        .send()
        .await
        .expect("fonds");
    assert_problem(response, 400, "validation").await;
}

#[sqlx::test]
async fn page_sizes_past_the_maximum_are_read_as_the_maximum(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for path in [
        "/api/v1/audit",
        "/api/v1/jobs",
        "/api/v1/search",
        "/api/v1/parties",
    ] {
        let response = app
            .get(&format!("{path}?limit=2147483648"))
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), 200, "{path}");
        let response = app
            .get(&format!("{path}?limit=-1"))
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), 200, "{path}");
        for bad in ["9223372036854775808", "ten", "1.5"] {
            let response = app
                .get(&format!("{path}?limit={bad}"))
                .send()
                .await
                .expect("get");
            assert_problem(response, 400, "validation").await;
        }
    }
}
