//! Delivery of due reminders by webhook and e-mail: at most once per channel, and tried
//! again only when the send certainly did not go out.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::http::StatusCode;
use axum::routing::post;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, assert_problem};

/// A webhook receiver that answers `answers` in turn (then 200) and keeps what it took.
async fn webhook(answers: Vec<StatusCode>) -> (String, Arc<Mutex<Vec<Value>>>, Arc<AtomicUsize>) {
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let calls = Arc::new(AtomicUsize::new(0));
    let (sink, counter) = (received.clone(), calls.clone());
    let hook = axum::Router::new().route(
        "/hook",
        post(move |axum::Json(body): axum::Json<Value>| {
            let (sink, counter, answers) = (sink.clone(), counter.clone(), answers.clone());
            async move {
                let call = counter.fetch_add(1, Ordering::SeqCst);
                let status = answers.get(call).copied().unwrap_or(StatusCode::OK);
                if status.is_success() {
                    sink.lock().expect("lock").push(body);
                }
                status
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let url = format!("http://{}/hook", listener.local_addr().expect("addr"));
    tokio::spawn(async move { axum::serve(listener, hook).await });
    (url, received, calls)
}

/// A room, whose first inspection is due at once: one reminder for the archivists.
async fn room(app: &TestApp, code: &str) {
    let room = app
        .post("/api/v1/rooms")
        .json(&json!({"code": code, "name": "room"}))
        .send()
        .await
        .expect("room");
    assert_eq!(room.status(), 201);
}

/// Makes every delivery waiting for another try due now.
async fn retry_now(app: &TestApp) {
    sqlx::query("update reminder_deliveries set retry_at = now() where retry_at is not null")
        .execute(&app.pool)
        .await
        .expect("retry now");
}

/// An installation that e-mails reminders through a local SMTP server; what it received.
async fn mailing_app(pool: PgPool) -> (TestApp, Arc<Mutex<Vec<crate::helpers::smtp::Mail>>>) {
    let (smtp_url, received) = crate::helpers::smtp::start().await;
    let app = TestApp::spawn_with(
        pool,
        &[
            ("DANGAN_REMINDERS__SMTP_URL", smtp_url.as_str()),
            (
                "DANGAN_REMINDERS__EMAIL_FROM",
                "dangan <archive@example.com>",
            ),
        ],
    )
    .await;
    (app, received)
}

async fn delivered(app: &TestApp) -> usize {
    let today = app.app.reminders.today();
    app.app
        .reminders
        .sweep(today)
        .await
        .expect("sweep")
        .delivered
}

#[sqlx::test]
async fn due_reminders_reach_the_webhook_once(pool: PgPool) {
    let (url, received, _) = webhook(vec![]).await;
    let app = TestApp::spawn_with(pool, &[("DANGAN_REMINDERS__WEBHOOK_URL", url.as_str())]).await;
    room(&app, "W1").await;
    assert_eq!(delivered(&app).await, 1);
    assert_eq!(delivered(&app).await, 0);
    let received = received.lock().expect("lock").clone();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0]["kind"], "inspection");
    assert!(
        received[0]["subject"]
            .as_str()
            .expect("subject")
            .contains("W1")
    );
}

#[sqlx::test]
async fn a_webhook_that_answers_503_gets_the_reminder_on_a_later_sweep(pool: PgPool) {
    let (url, received, calls) = webhook(vec![StatusCode::SERVICE_UNAVAILABLE]).await;
    let app = TestApp::spawn_with(pool, &[("DANGAN_REMINDERS__WEBHOOK_URL", url.as_str())]).await;
    room(&app, "W2").await;
    assert_eq!(delivered(&app).await, 0, "503: not taken");
    assert_eq!(delivered(&app).await, 0, "not before its retry time");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    retry_now(&app).await;
    assert_eq!(delivered(&app).await, 1);
    assert_eq!(received.lock().expect("lock").len(), 1);
    retry_now(&app).await;
    assert_eq!(delivered(&app).await, 0, "sent once, never again");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
}

#[sqlx::test]
async fn a_webhook_that_failed_with_500_is_not_sent_again(pool: PgPool) {
    // a 500 may come after the receiver acted on the reminder: at most once wins
    let (url, _, calls) = webhook(vec![StatusCode::INTERNAL_SERVER_ERROR]).await;
    let app = TestApp::spawn_with(pool, &[("DANGAN_REMINDERS__WEBHOOK_URL", url.as_str())]).await;
    room(&app, "W3").await;
    assert_eq!(delivered(&app).await, 0);
    retry_now(&app).await;
    assert_eq!(delivered(&app).await, 0);
    assert_eq!(calls.load(Ordering::SeqCst), 1);
    let (error, retry_at): (Option<String>, Option<chrono::DateTime<chrono::Utc>>) =
        sqlx::query_as("select error, retry_at from reminder_deliveries")
            .fetch_one(&app.pool)
            .await
            .expect("delivery");
    assert!(error.expect("error kept").contains("500"));
    assert_eq!(retry_at, None);
}

#[sqlx::test]
async fn due_reminders_are_emailed_to_their_role_once(pool: PgPool) {
    let (app, received) = mailing_app(pool).await;
    for (username, role, email) in [
        ("keeper", "archivist", Some("keeper@example.com")),
        ("keeper2", "archivist", None),
        ("clerk", "staff", Some("clerk@example.com")),
    ] {
        let response = app
            .post("/api/v1/users")
            .json(
                &json!({"username": username, "password": "a-long-password", "role": role,
                          "department": "BGS", "email": email}),
            )
            .send()
            .await
            .expect("create user");
        assert_eq!(response.status(), 201);
        let user: Value = response.json().await.expect("json");
        assert_eq!(user["email"], json!(email));
    }
    room(&app, "M1").await;
    assert_eq!(delivered(&app).await, 1);
    assert_eq!(delivered(&app).await, 0);
    let received = received.lock().expect("lock").clone();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].to, vec!["<keeper@example.com>".to_owned()]);
    assert!(received[0].from.contains("archive@example.com"));
    assert!(
        received[0].data.contains("Subject: [dangan]"),
        "{}",
        received[0].data
    );

    let bad = app
        .post("/api/v1/users")
        .json(&json!({"username": "x", "password": "a-long-password", "role": "staff", "email": "not an address"}))
        .send()
        .await
        .expect("bad email");
    assert_problem(bad, 400, "validation").await;
}

#[sqlx::test]
async fn a_reminder_nobody_could_be_mailed_goes_out_once_an_address_is_added(pool: PgPool) {
    let (app, received) = mailing_app(pool).await;
    let response = app
        .post("/api/v1/users")
        .json(&json!({"username": "keeper", "password": "a-long-password",
                      "role": "archivist", "department": "BGS"}))
        .send()
        .await
        .expect("create user");
    assert_eq!(response.status(), 201);
    room(&app, "M2").await;
    assert_eq!(delivered(&app).await, 0, "no archivist has an address");
    sqlx::query("update users set email = 'keeper@example.com' where username = 'keeper'")
        .execute(&app.pool)
        .await
        .expect("address added");
    retry_now(&app).await;
    assert_eq!(delivered(&app).await, 1);
    retry_now(&app).await;
    assert_eq!(delivered(&app).await, 0);
    let received = received.lock().expect("lock").clone();
    assert_eq!(received.len(), 1, "{received:?}");
    assert_eq!(received[0].to, vec!["<keeper@example.com>".to_owned()]);
}
