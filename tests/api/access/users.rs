//! User administration and login: disabling a user or changing their role ends their
//! sessions at once; passwords are reset by an admin or changed by their owner; an unknown
//! name costs the same work as a wrong password; failed logins are throttled and audited.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, assert_problem, login};

async fn user_id(app: &TestApp, name: &str) -> String {
    let users: Value = app.get_json("/api/v1/users").await;
    users
        .as_array()
        .expect("users")
        .iter()
        .find(|user| user["username"] == name)
        .and_then(|user| user["id"].as_str())
        .expect("user")
        .to_owned()
}

async fn whoami_status(app: &TestApp, token: &str) -> u16 {
    app.client
        .get(app.url("/api/v1/reminders"))
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

async fn try_login(app: &TestApp, username: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({ "username": username, "password": password }))
        .send()
        .await
        .expect("login")
}

#[sqlx::test]
async fn disabling_a_user_or_changing_their_role_ends_their_sessions(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let token = app.user_token("leaver", "archivist", None).await;
    let id = user_id(&app, "leaver").await;
    assert_eq!(whoami_status(&app, &token).await, 200);
    let patch = |body: Value| {
        app.client
            .patch(app.url(&format!("/api/v1/users/{id}")))
            .bearer_auth(&app.token)
            .json(&body)
            .send()
    };
    let demoted: Value = patch(json!({ "role": "staff" }))
        .await
        .expect("patch")
        .json()
        .await
        .expect("user");
    assert_eq!(demoted["role"], "staff");
    assert_eq!(
        whoami_status(&app, &token).await,
        401,
        "the old session ended"
    );
    let token = login(&app.client, &app.address, "leaver", "a-long-password").await;
    assert_eq!(whoami_status(&app, &token).await, 200);
    let disabled = patch(json!({ "active": false })).await.expect("patch");
    assert_eq!(disabled.status(), 200);
    assert_eq!(whoami_status(&app, &token).await, 401);
    let search = app
        .client
        .get(app.url("/api/v1/search?q=leaver"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("search");
    assert_problem(search, 401, "unauthorized").await;
    assert_problem(
        try_login(&app, "leaver", "a-long-password").await,
        401,
        "unauthorized",
    )
    .await;
    // an unknown role is refused and nothing changes
    let refused = patch(json!({ "role": "overlord" })).await.expect("patch");
    assert_eq!(refused.status(), 400);
    // the last active admin cannot lock everyone out
    let admin = user_id(&app, "admin").await;
    let refused = app
        .client
        .patch(app.url(&format!("/api/v1/users/{admin}")))
        .bearer_auth(&app.token)
        .json(&json!({ "active": false }))
        .send()
        .await
        .expect("patch");
    assert_problem(refused, 409, "conflict").await;
    // only an admin administers users
    let other = app.user_token("other", "archivist", None).await;
    let forbidden = app
        .client
        .patch(app.url(&format!("/api/v1/users/{id}")))
        .bearer_auth(&other)
        .json(&json!({ "active": true }))
        .send()
        .await
        .expect("patch");
    assert_problem(forbidden, 403, "forbidden").await;
}

#[sqlx::test]
async fn passwords_are_reset_by_an_admin_and_changed_by_their_owner(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let token = app.user_token("clerk", "staff", None).await;
    let id = user_id(&app, "clerk").await;
    let short = app
        .client
        .post(app.url(&format!("/api/v1/users/{id}/password")))
        .bearer_auth(&app.token)
        .json(&json!({ "password": "short" }))
        .send()
        .await
        .expect("reset");
    assert_problem(short, 400, "validation").await;
    let reset = app
        .client
        .post(app.url(&format!("/api/v1/users/{id}/password")))
        .bearer_auth(&app.token)
        .json(&json!({ "password": "a-new-long-password" }))
        .send()
        .await
        .expect("reset");
    assert_eq!(reset.status(), 204);
    assert_eq!(whoami_status(&app, &token).await, 401);
    let token = login(&app.client, &app.address, "clerk", "a-new-long-password").await;
    let second = login(&app.client, &app.address, "clerk", "a-new-long-password").await;
    let change = |current: &str, new: &str| {
        app.client
            .post(app.url("/api/v1/auth/password"))
            .bearer_auth(&token)
            .json(&json!({ "current": current, "new": new }))
            .send()
    };
    assert_problem(
        change("wrong-password", "another-long-one")
            .await
            .expect("change"),
        400,
        "validation",
    )
    .await;
    assert_eq!(
        change("a-new-long-password", "another-long-one")
            .await
            .expect("change")
            .status(),
        204
    );
    assert_eq!(
        whoami_status(&app, &token).await,
        200,
        "the changing session stays"
    );
    assert_eq!(whoami_status(&app, &second).await, 401, "the others end");
    login(&app.client, &app.address, "clerk", "another-long-one").await;
}

/// The median of five login attempts' times.
async fn median_login(app: &TestApp, usernames: &[String], password: &str) -> Duration {
    let mut times = Vec::new();
    for username in usernames {
        let started = Instant::now();
        let response = try_login(app, username, password).await;
        times.push(started.elapsed());
        assert_eq!(response.status(), 401);
    }
    times.sort();
    times[times.len() / 2]
}

#[sqlx::test]
async fn an_unknown_name_costs_what_a_wrong_password_costs_and_failures_are_throttled(
    pool: PgPool,
) {
    let app = TestApp::spawn(pool).await;
    let mut known = Vec::new();
    for n in 0..5 {
        app.user_token(&format!("user{n}"), "staff", None).await;
        known.push(format!("user{n}"));
    }
    let unknown: Vec<String> = (0..5).map(|n| format!("nobody{n}")).collect();
    let wrong = median_login(&app, &known, "not-the-password").await;
    let missing = median_login(&app, &unknown, "not-the-password").await;
    assert!(
        missing * 2 >= wrong,
        "an unknown name answered in {missing:?}, a wrong password in {wrong:?}"
    );

    // one name: five failures cost nothing more, then each waits longer
    app.user_token("target", "staff", None).await;
    for _ in 0..6 {
        assert_problem(
            try_login(&app, "target", "guess").await,
            401,
            "unauthorized",
        )
        .await;
    }
    let throttled = try_login(&app, "target", "a-long-password").await;
    let retry_after: u64 = throttled.headers()["retry-after"]
        .to_str()
        .expect("ascii")
        .parse()
        .expect("seconds");
    assert_problem(throttled, 429, "too_many_requests").await;
    assert!((1..=300).contains(&retry_after), "{retry_after}");
    // the legitimate user is back in once the short wait is over
    tokio::time::sleep(Duration::from_secs(retry_after)).await;
    assert_eq!(
        try_login(&app, "target", "a-long-password").await.status(),
        200
    );
    let failures: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'auth.login_failed'")
            .fetch_one(&app.pool)
            .await
            .expect("count");
    assert_eq!(failures, 16, "every failure is audited");
}
