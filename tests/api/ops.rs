//! Health, readiness, metrics and the OpenAPI document.

use sqlx::PgPool;

use crate::helpers::{TestApp, assert_problem};

#[sqlx::test]
async fn health_and_readiness_need_no_token(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let health = app
        .client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    assert_eq!(health.status(), 200);
    let ready = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 200);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(body["ready"], true);
    assert_eq!(body["database"], "ok");
    assert_eq!(body["object_store"], "ok");
    assert_eq!(body["index"], "ok");
}

#[sqlx::test]
async fn readiness_fails_when_the_index_directory_is_gone(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    std::fs::remove_dir_all(app.data_dir.path().join("index")).expect("remove index dir");
    let ready = app
        .client
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 503);
    let body: serde_json::Value = ready.json().await.expect("json");
    assert_eq!(body["database"], "ok");
    assert_ne!(body["index"], "ok");
}

#[sqlx::test]
async fn metrics_count_requests_by_route(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.client
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("healthz");
    // invented methods are counted, but not each under a label of its own
    for invented in ["BREW", "WHEN", "XYZZY"] {
        let method = reqwest::Method::from_bytes(invented.as_bytes()).expect("method");
        app.client
            .request(method, app.url("/healthz"))
            .send()
            .await
            .expect("invented method");
    }
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        text.contains(r#"dangan_http_requests_total{method="GET",route="/healthz",status="200"}"#),
        "{text}"
    );
    assert!(
        text.contains(
            r#"dangan_http_requests_total{method="other",route="/healthz",status="405"} 3"#
        ),
        "{text}"
    );
    assert!(!text.contains("XYZZY") && !text.contains("BREW"), "{text}");
}

#[sqlx::test]
async fn the_openapi_document_describes_the_contract(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let doc: serde_json::Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .expect("openapi")
        .json()
        .await
        .expect("json");
    for path in [
        "/api/v1/records",
        "/api/v1/records/{id}",
        "/api/v1/records/{id}/files/{file_id}",
        "/api/v1/auth/login",
        "/healthz",
        "/readyz",
    ] {
        assert!(
            doc["paths"].get(path).is_some(),
            "{path} missing from the OpenAPI document"
        );
    }
    assert!(doc["components"]["schemas"].get("RecordView").is_some());
}

#[sqlx::test]
async fn unknown_endpoints_are_problem_details(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let response = app.get("/api/v1/nothing-here").send().await.expect("get");
    assert_problem(response, 404, "not_found").await;
}
