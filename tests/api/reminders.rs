//! The reminders engine (R22): deadlines from party events as data, retention falling due,
//! recipients, acknowledging and closing; delivery is in `delivery`.

use chrono::Duration;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, assert_problem};

mod branches;
mod customers;
mod delivery;

async fn reminders_for(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let response = app
        .client
        .get(app.url(&format!("/api/v1/reminders?{query}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("list reminders");
    assert_eq!(response.status(), 200);
    response.json().await.expect("a JSON array")
}

async fn create_party(app: &TestApp, kind: &str, identifier: &str) -> String {
    let response = app
        .post("/api/v1/parties")
        .json(&json!({"kind": kind, "identifier": identifier, "name": "張三", "department": "BGS"}))
        .send()
        .await
        .expect("create party");
    assert_eq!(
        response.status(),
        201,
        "{}",
        response.text().await.unwrap_or_default()
    );
    let party: Value = response.json().await.expect("json");
    party["id"].as_str().expect("id").to_owned()
}

#[sqlx::test]
async fn deadlines_of_the_regulations_follow_party_events(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let today = app.app.reminders.today();
    let employee = create_party(&app, "employee", "E1001").await;
    let regularised = today - Duration::days(25);
    let response = app
        .post(&format!("/api/v1/parties/{employee}/events"))
        .json(&json!({"type": "regularised", "date": regularised}))
        .send()
        .await
        .expect("event");
    assert!(
        response.status().is_success(),
        "{}",
        response.text().await.unwrap_or_default()
    );
    let customer = create_party(&app, "customer", "C2001").await;

    let report = app.app.reminders.sweep(today).await.expect("sweep");
    let token = app.token.clone();
    let deadlines = reminders_for(&app, &token, "kind=deadline").await;
    // the personnel file due in, and the new customer folder's sign-off due in a week
    assert_eq!(deadlines.len(), 2, "{deadlines:?}");
    assert_eq!(deadlines[1]["party_id"], customer.as_str());
    assert_eq!(deadlines[1]["details"]["rule"], "customer_sign_off");
    assert_eq!(
        deadlines[1]["due_on"],
        (today + Duration::days(7)).to_string()
    );
    assert_eq!(deadlines[0]["party_id"], employee.as_str());
    assert_eq!(
        deadlines[0]["due_on"],
        (regularised + Duration::days(30)).to_string()
    );
    assert_eq!(deadlines[0]["details"]["rule"], "personnel_file_in");

    let follow_ups = reminders_for(&app, &token, "kind=follow_up").await;
    assert_eq!(
        follow_ups.len(),
        1,
        "only the 3-day follow-up is within the lead time: {follow_ups:?}"
    );
    assert_eq!(follow_ups[0]["party_id"], customer.as_str());
    assert_eq!(
        follow_ups[0]["due_on"],
        (today + Duration::days(3)).to_string()
    );
    assert_eq!(report.deadlines, 3);

    // A month on, the 30-day follow-up and nothing twice.
    let later = app
        .app
        .reminders
        .sweep(today + Duration::days(26))
        .await
        .expect("sweep");
    assert_eq!(later.deadlines, 1);
    let follow_ups = reminders_for(&app, &token, "kind=follow_up").await;
    assert_eq!(follow_ups.len(), 2);
    // Rules are data: a rule switched off raises nothing.
    sqlx::query("update deadline_rules set active = false where code = 'customer_follow_up_60'")
        .execute(&app.pool)
        .await
        .expect("switch rule off");
    let much_later = app
        .app
        .reminders
        .sweep(today + Duration::days(56))
        .await
        .expect("sweep");
    assert_eq!(much_later.deadlines, 0);
}

#[sqlx::test]
async fn retention_falling_due_is_reminded_once_per_due_date(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for title in ["舊合同 1", "舊合同 2"] {
        app.file_record(
            &json!({"title": title, "doc_date": "2000-05-01", "category": "WS", "retention": "D10", "department": "BGS"}),
            vec![],
        )
        .await;
    }
    let today = app.app.reminders.today();
    let report = app.app.reminders.sweep(today).await.expect("sweep");
    assert_eq!(report.retention, 1);
    let token = app.token.clone();
    let due = reminders_for(&app, &token, "kind=retention").await;
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!(due[0]["details"]["records"], 2);
    assert_eq!(due[0]["recipient_role"], "archivist");
    assert_eq!(due[0]["overdue"], true);
    let again = app.app.reminders.sweep(today).await.expect("sweep");
    assert_eq!(again.retention, 0);
    // Nothing is destroyed because it is due.
    assert_eq!(app.count("records where status = 'active'").await, 2);
}

#[sqlx::test]
async fn reminders_reach_their_recipients_only(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let room = app
        .post("/api/v1/rooms")
        .json(&json!({"code": "R1", "name": "一號庫房"}))
        .send()
        .await
        .expect("room");
    assert_eq!(room.status(), 201);
    let archivist = app.user_token("keeper", "archivist", Some("BGS")).await;
    let staff = app.user_token("clerk", "staff", Some("BGS")).await;

    let seen = reminders_for(&app, &archivist, "").await;
    assert_eq!(seen.len(), 1, "the room's first inspection");
    assert!(reminders_for(&app, &staff, "").await.is_empty());
    let id = seen[0]["id"].as_str().expect("id");

    let foreign = app
        .client
        .post(app.url(&format!("/api/v1/reminders/{id}/done")))
        .bearer_auth(&staff)
        .send()
        .await
        .expect("done by staff");
    assert_problem(foreign, 404, "not_found").await;

    let acknowledged = app
        .client
        .post(app.url(&format!("/api/v1/reminders/{id}/acknowledge")))
        .bearer_auth(&archivist)
        .send()
        .await
        .expect("acknowledge");
    assert_eq!(acknowledged.status(), 200);
    let acknowledged: Value = acknowledged.json().await.expect("json");
    assert_eq!(acknowledged["status"], "acknowledged");
    assert_eq!(
        reminders_for(&app, &archivist, "").await.len(),
        1,
        "seen, not done"
    );

    // an inspection reminder is not ticked off: recording the inspection makes it done
    let ticked = app
        .client
        .post(app.url(&format!("/api/v1/reminders/{id}/done")))
        .bearer_auth(&archivist)
        .send()
        .await
        .expect("done");
    let problem = assert_problem(ticked, 409, "conflict").await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("/inspections")),
        "{problem}"
    );
    assert_eq!(reminders_for(&app, &archivist, "").await.len(), 1);
    let room: Value = room.json().await.expect("room");
    let results: Vec<Value> = room["plan"]
        .as_array()
        .expect("plan")
        .iter()
        .map(|item| json!({"item": item["code"], "ok": true, "remarks": null}))
        .collect();
    let inspected = app
        .client
        .post(app.url(&format!(
            "/api/v1/rooms/{}/inspections",
            room["id"].as_str().expect("room id")
        )))
        .bearer_auth(&archivist)
        .json(&json!({ "results": results, "remarks": null }))
        .send()
        .await
        .expect("inspection");
    assert_eq!(inspected.status(), 201);
    // the next inspection's reminder is due later, not today
    let open = reminders_for(&app, &archivist, "").await;
    assert!(
        open.iter().all(|reminder| reminder["id"] != json!(id)),
        "{open:?}"
    );
    assert_eq!(
        reminders_for(&app, &archivist, "status=done").await.len(),
        1
    );
    let twice = app
        .client
        .post(app.url(&format!("/api/v1/reminders/{id}/done")))
        .bearer_auth(&archivist)
        .send()
        .await
        .expect("done twice");
    assert_problem(twice, 409, "conflict").await;

    let bad_kind = app
        .get("/api/v1/reminders?kind=gossip")
        .send()
        .await
        .expect("bad kind");
    assert_problem(bad_kind, 400, "validation").await;
}

#[sqlx::test]
async fn deadline_rules_are_data_an_archivist_can_change(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let rules = app
        .get("/api/v1/reminder-rules")
        .send()
        .await
        .expect("rules");
    let rules: Value = rules.json().await.expect("json");
    let review = rules["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|rule| rule["code"] == "customer_file_review")
        .expect("quarterly review rule")
        .clone();
    assert_eq!(
        (review["delay"].clone(), review["repeat_every"].clone()),
        (json!("3 months"), json!("3 months"))
    );
    let personnel = rules["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|rule| rule["code"] == "personnel_file_out")
        .expect("rule")
        .clone();
    assert_eq!(personnel["delay"], "15 days");

    // A branch rule of its own: a follow-up a week after a customer's folder is made.
    let response = app
        .client
        .put(app.url("/api/v1/reminder-rules/customer_follow_up_7"))
        .bearer_auth(&app.token)
        .json(&json!({"party_kind": "customer", "trigger": "folder_created", "delay": "1 week",
                      "kind": "follow_up", "subject": "客戶回訪 (7天)", "recipient_role": "general_manager"}))
        .send()
        .await
        .expect("put rule");
    assert_eq!(
        response.status(),
        200,
        "{}",
        response.text().await.unwrap_or_default()
    );
    let customer = create_party(&app, "customer", "C3001").await;
    let today = app.app.reminders.today();
    app.app.reminders.sweep(today).await.expect("sweep");
    let manager = app.user_token("boss", "general_manager", None).await;
    let theirs = reminders_for(&app, &manager, "kind=follow_up").await;
    assert_eq!(theirs.len(), 1, "{theirs:?}");
    assert_eq!(theirs[0]["party_id"], customer.as_str());
    assert_eq!(theirs[0]["due_on"], (today + Duration::days(7)).to_string());

    let bad = app
        .client
        .put(app.url("/api/v1/reminder-rules/x"))
        .bearer_auth(&app.token)
        .json(
            &json!({"party_kind": "customer", "trigger": "folder_created", "delay": "soon",
                      "kind": "follow_up", "subject": "x"}),
        )
        .send()
        .await
        .expect("bad rule");
    assert_problem(bad, 400, "validation").await;
    let staff = app.user_token("clerk", "staff", Some("BGS")).await;
    let forbidden = app
        .client
        .put(app.url("/api/v1/reminder-rules/x"))
        .bearer_auth(&staff)
        .json(
            &json!({"party_kind": "customer", "trigger": "folder_created", "delay": "1 day",
                      "kind": "follow_up", "subject": "x"}),
        )
        .send()
        .await
        .expect("staff rule");
    assert_problem(forbidden, 403, "forbidden").await;
}

#[sqlx::test]
async fn the_scheduled_reminders_job_runs_the_sweep(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.file_record(
        &json!({"title": "舊憑證", "doc_date": "2001-02-01", "category": "WS", "retention": "D10", "department": "BGS"}),
        vec![],
    )
    .await;
    let queued = app
        .app
        .jobs
        .enqueue_scheduled(chrono::Utc::now(), &dangan::domain::job::Job::Reminders)
        .await
        .expect("enqueue");
    assert!(queued);
    dangan::jobs::runner::run_until_idle(&app.app)
        .await
        .expect("run jobs");
    let token = app.token.clone();
    let due = reminders_for(&app, &token, "kind=retention").await;
    assert_eq!(due.len(), 1, "{due:?}");
    let jobs = app
        .get("/api/v1/jobs?kind=reminders")
        .send()
        .await
        .expect("jobs");
    let jobs: Value = jobs.json().await.expect("json");
    assert_eq!(jobs["items"][0]["status"], "done", "{jobs}");
}
