//! Login, tokens, session cookies, users, and what happens without them.

use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{ADMIN_PASSWORD, TestApp, assert_problem, login};

#[sqlx::test]
async fn login_returns_a_token_and_sets_an_http_only_session_cookie(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let response = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "username": "admin", "password": ADMIN_PASSWORD }))
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), 200);
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_owned();
    assert!(
        cookie.starts_with("dangan_session=dgn_") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
    let body: serde_json::Value = response.json().await.expect("json");
    assert!(body["token"].as_str().expect("token").starts_with("dgn_"));
    assert_eq!(body["user"]["role"], "admin");

    // the cookie alone authenticates
    let session = cookie.split(';').next().expect("pair").to_owned();
    let response = app
        .client
        .get(app.url("/api/v1/users"))
        .header("cookie", session)
        .send()
        .await
        .expect("users");
    assert_eq!(response.status(), 200);
}

#[sqlx::test]
async fn tokens_are_stored_only_as_hashes(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let stored: Vec<Vec<u8>> = sqlx::query_scalar("select token_hash from auth_tokens")
        .fetch_all(&app.pool)
        .await
        .expect("tokens");
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0], app.token.as_bytes());
    assert_eq!(stored[0].len(), 32);
}

#[sqlx::test]
async fn a_wrong_password_or_unknown_user_is_401(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for (username, password) in [("admin", "wrong password"), ("nobody", ADMIN_PASSWORD)] {
        let response = app
            .client
            .post(app.url("/api/v1/auth/login"))
            .json(&json!({ "username": username, "password": password }))
            .send()
            .await
            .expect("login");
        assert_problem(response, 401, "unauthorized").await;
    }
}

#[sqlx::test]
async fn requests_without_or_with_a_bad_token_are_401(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let path = format!("/api/v1/records/{}", uuid::Uuid::new_v4());
    let response = app.client.get(app.url(&path)).send().await.expect("get");
    assert_eq!(response.headers()["www-authenticate"], "Bearer");
    assert_problem(response, 401, "unauthorized").await;
    let response = app
        .client
        .get(app.url(&path))
        .bearer_auth("dgn_forged")
        .send()
        .await
        .expect("get");
    assert_problem(response, 401, "unauthorized").await;
    // search signs its caller in its own way (with their access in one read): the same
    // answer, before its parameters are looked at
    for query in ["q=x", "year=not-a-year"] {
        let response = app
            .client
            .get(app.url(&format!("/api/v1/search?{query}")))
            .bearer_auth("dgn_forged")
            .send()
            .await
            .expect("search");
        assert_eq!(response.headers()["www-authenticate"], "Bearer");
        assert_problem(response, 401, "unauthorized").await;
    }
}

#[sqlx::test]
async fn logout_ends_the_session(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let response = app
        .post("/api/v1/auth/logout")
        .send()
        .await
        .expect("logout");
    assert_eq!(response.status(), 204);
    let response = app.get("/api/v1/users").send().await.expect("users");
    assert_problem(response, 401, "unauthorized").await;
    let response = app.get("/api/v1/search?q=x").send().await.expect("search");
    assert_problem(response, 401, "unauthorized").await;
}

#[sqlx::test]
async fn an_admin_creates_users_with_roles_and_they_can_log_in(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let response = app
        .post("/api/v1/users")
        .json(&json!({ "username": "李檔案", "password": "archivist-pw", "role": "archivist" }))
        .send()
        .await
        .expect("create user");
    assert_eq!(response.status(), 201);
    let user: serde_json::Value = response.json().await.expect("json");
    assert_eq!(user["role"], "archivist");
    assert!(user.get("password_hash").is_none());

    let token = login(&app.client, &app.address, "李檔案", "archivist-pw").await;
    // an archivist may not create users
    let response = app
        .client
        .post(app.url("/api/v1/users"))
        .bearer_auth(token)
        .json(&json!({ "username": "x", "password": "long enough", "role": "staff" }))
        .send()
        .await
        .expect("create user");
    assert_problem(response, 403, "forbidden").await;

    let duplicate = app
        .post("/api/v1/users")
        .json(&json!({ "username": "李檔案", "password": "archivist-pw", "role": "staff" }))
        .send()
        .await
        .expect("create user");
    assert_problem(duplicate, 409, "conflict").await;

    let bad_role = app
        .post("/api/v1/users")
        .json(&json!({ "username": "y", "password": "long enough", "role": "emperor" }))
        .send()
        .await
        .expect("create user");
    assert_problem(bad_role, 400, "validation").await;
}

#[sqlx::test]
async fn the_first_admin_is_created_only_once(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let again = app.app.auth.ensure_admin(None).await.expect("second call");
    assert_eq!(again, None, "no second admin, no new password");
    assert_eq!(app.count("users").await, 1);
}

#[tokio::test]
async fn an_unreachable_database_is_503_unavailable() {
    use dangan::db::{PoolSettings, Target, connect_lazy};
    let settings = PoolSettings {
        max_connections: 2,
        acquire_timeout: std::time::Duration::from_secs(1),
        connect_timeout: std::time::Duration::from_secs(1),
    };
    // nothing listens on port 1
    let pool = connect_lazy(
        &Target::Url("postgres://postgres@127.0.0.1:1/none".into()),
        settings,
    )
    .expect("lazy pool");
    let dir = tempfile::tempdir().expect("temp dir");
    let settings = dangan::config::Settings::from_sources(
        None,
        vec![(
            "DANGAN_DATA_DIR".to_owned(),
            dir.path().display().to_string(),
        )],
    )
    .expect("settings");
    let blobs = dangan::blobs::BlobStore::open(None, &dir.path().join("objects")).expect("blobs");
    let app = dangan::app::App::new(&settings, pool, blobs, dir.path().join("index"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let address = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(dangan::http::serve(
        listener,
        app,
        std::future::pending(),
        std::time::Duration::from_secs(1),
    ));

    let client = reqwest::Client::new();
    let response = client
        .get(format!("{address}/api/v1/records/{}", uuid::Uuid::new_v4()))
        .bearer_auth("dgn_any")
        .send()
        .await
        .expect("get");
    let body = assert_problem(response, 503, "unavailable").await;
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("database"),
        "{body}"
    );

    let ready = client
        .get(format!("{address}/readyz"))
        .send()
        .await
        .expect("readyz");
    assert_eq!(ready.status(), 503);
}
