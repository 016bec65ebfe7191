//! Storage rooms (R19, R20): targets, readings and their alerts, missed readings, the
//! inspection plan and inspections.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, assert_problem};

/// Creates a room with the defaults and returns it.
async fn create_room(app: &TestApp, code: &str) -> Value {
    let response = app
        .post("/api/v1/rooms")
        .json(&json!({ "code": code, "name": format!("庫房 {code}") }))
        .send()
        .await
        .expect("create room");
    assert_eq!(
        response.status(),
        201,
        "{}",
        response.text().await.unwrap_or_default()
    );
    response.json().await.expect("room json")
}

async fn post_readings(app: &TestApp, room: &Value, body: Value) -> reqwest::Response {
    app.post(&format!(
        "/api/v1/rooms/{}/readings",
        room["id"].as_str().expect("id")
    ))
    .json(&body)
    .send()
    .await
    .expect("post readings")
}

async fn reminders(app: &TestApp, query: &str) -> Vec<Value> {
    let list = app.get_json(&format!("/api/v1/reminders?{query}")).await;
    list.as_array().expect("a JSON array").clone()
}

fn today(app: &TestApp) -> NaiveDate {
    app.app.reminders.today()
}

/// Yesterday at 09:00 in the archive's time zone: readings an hour or two apart from it
/// fall on one local day whatever the time the test runs at.
fn yesterday_morning(app: &TestApp) -> DateTime<Utc> {
    let nine = (today(app) - Duration::days(1))
        .and_hms_opt(9, 0, 0)
        .expect("09:00 exists");
    nine.and_local_timezone(app.settings.time.timezone)
        .single()
        .expect("09:00 is unambiguous")
        .with_timezone(&Utc)
}

#[sqlx::test]
async fn a_reading_of_28_degrees_raises_an_alert(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let room = create_room(&app, "A01").await;
    let now = yesterday_morning(&app) + Duration::hours(3);

    let fine = post_readings(
        &app,
        &room,
        json!({"at": now - Duration::hours(2), "temperature_c": 20.0, "humidity_pct": 50.0}),
    )
    .await;
    assert_eq!(fine.status(), 201);
    let fine: Value = fine.json().await.expect("json");
    assert_eq!(fine["accepted"], 1);
    assert_eq!(fine["alerts"], json!([]));
    assert!(reminders(&app, "kind=alert").await.is_empty());

    let hot = post_readings(
        &app,
        &room,
        json!({"at": now - Duration::hours(1), "temperature_c": 28.0, "humidity_pct": 50.0}),
    )
    .await;
    assert_eq!(hot.status(), 201);
    let hot: Value = hot.json().await.expect("json");
    let breaches: Vec<&str> = hot["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .map(|alert| alert["breach"].as_str().expect("breach"))
        .collect();
    assert!(breaches.contains(&"temperature_high"), "{hot}");

    let alerts = reminders(&app, "kind=alert").await;
    let high: Vec<&Value> = alerts
        .iter()
        .filter(|alert| alert["details"]["breach"] == "temperature_high")
        .collect();
    assert_eq!(high.len(), 1, "{alerts:?}");
    assert_eq!(high[0]["room_id"], room["id"]);
    assert_eq!(high[0]["status"], "open");
    assert!(
        high[0]["subject"]
            .as_str()
            .expect("subject")
            .contains("A01")
    );

    // The same breach on the same day is the same alert.
    let again = post_readings(&app, &room, json!({"at": now, "temperature_c": 29.0})).await;
    let again: Value = again.json().await.expect("json");
    assert!(
        again["alerts"]
            .as_array()
            .expect("alerts")
            .iter()
            .all(|alert| alert["breach"] != "temperature_high")
    );
    let high_now = reminders(&app, "kind=alert")
        .await
        .into_iter()
        .filter(|alert| alert["details"]["breach"] == "temperature_high")
        .count();
    assert_eq!(high_now, 1);
}

#[sqlx::test]
async fn a_day_swinging_more_than_the_limit_raises_a_swing_alert(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let room = create_room(&app, "A02").await;
    let day = yesterday_morning(&app);
    let response = post_readings(
        &app,
        &room,
        json!([
            {"at": day, "temperature_c": 18.0, "humidity_pct": 50.0},
            {"at": day + Duration::minutes(30), "temperature_c": 22.5, "humidity_pct": 52.0},
        ]),
    )
    .await;
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["accepted"], 2);
    let breaches: Vec<&str> = body["alerts"]
        .as_array()
        .expect("alerts")
        .iter()
        .map(|alert| alert["breach"].as_str().expect("breach"))
        .collect();
    assert_eq!(
        breaches,
        vec!["temperature_swing"],
        "22.5 − 18.0 is more than ±2 ℃"
    );
}

#[sqlx::test]
async fn one_reading_a_day_raises_a_missed_reading_reminder(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let room = create_room(&app, "B01").await;
    let room_id: uuid::Uuid = room["id"].as_str().expect("id").parse().expect("uuid");
    // The room has existed for three days: its first, partial day is spared.
    sqlx::query("update rooms set created_at = now() - interval '3 days' where id = $1")
        .bind(room_id)
        .execute(&app.pool)
        .await
        .expect("backdate room");
    let today = today(&app);
    let noon = |days_ago: i64| {
        let day = today - Duration::days(days_ago);
        format!("{day}T12:00:00+08:00")
    };
    let morning = |days_ago: i64| {
        let day = today - Duration::days(days_ago);
        format!("{day}T08:00:00+08:00")
    };
    let response = post_readings(
        &app,
        &room,
        json!([
            {"at": morning(2), "temperature_c": 20.0, "humidity_pct": 50.0},
            {"at": noon(2), "temperature_c": 20.5, "humidity_pct": 51.0},
            {"at": noon(1), "temperature_c": 20.0, "humidity_pct": 50.0},
        ]),
    )
    .await;
    assert_eq!(response.status(), 201);

    let report = app.app.reminders.sweep(today).await.expect("sweep");
    assert_eq!(report.missed_readings, 1);
    let missed = reminders(&app, "kind=missed_reading").await;
    assert_eq!(missed.len(), 1, "{missed:?}");
    assert_eq!(
        missed[0]["details"]["day"],
        (today - Duration::days(1)).to_string()
    );
    assert_eq!(missed[0]["details"]["readings"], 1);
    assert_eq!(missed[0]["details"]["expected"], 2);

    let again = app.app.reminders.sweep(today).await.expect("sweep again");
    assert_eq!(
        again.missed_readings, 0,
        "a second sweep raises nothing twice"
    );
    assert_eq!(reminders(&app, "kind=missed_reading").await.len(), 1);
}

#[sqlx::test]
async fn an_inspection_done_today_moves_the_next_due_date_by_its_interval(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let room = create_room(&app, "C01").await;
    let today = today(&app);
    assert_eq!(
        room["plan"].as_array().expect("plan").len(),
        10,
        "the ten protections"
    );
    assert_eq!(
        room["next_inspection_due_on"],
        today.to_string(),
        "a new room is due at once"
    );
    let due = reminders(&app, "kind=inspection").await;
    assert_eq!(due.len(), 1);
    assert_eq!(due[0]["due_on"], today.to_string());
    let first_reminder = due[0]["id"].clone();

    let results: Vec<Value> = room["plan"]
        .as_array()
        .expect("plan")
        .iter()
        .map(|item| json!({"item": item["code"], "ok": item["code"] != "insects", "remarks": null}))
        .collect();
    let response = app
        .post(&format!(
            "/api/v1/rooms/{}/inspections",
            room["id"].as_str().expect("id")
        ))
        .json(&json!({"results": results, "remarks": "書蟲 found on shelf 3"}))
        .send()
        .await
        .expect("inspect");
    assert_eq!(
        response.status(),
        201,
        "{}",
        response.text().await.unwrap_or_default()
    );
    let inspection: Value = response.json().await.expect("json");
    let next = today + Duration::days(7);
    assert_eq!(inspection["next_inspection_due_on"], next.to_string());
    assert_eq!(inspection["inspector"], "admin");
    assert_eq!(inspection["inspected_on"], today.to_string());

    let room = app
        .get_json(&format!(
            "/api/v1/rooms/{}",
            room["id"].as_str().expect("id")
        ))
        .await;
    assert!(
        room["plan"]
            .as_array()
            .expect("plan")
            .iter()
            .all(|item| item["next_due_on"] == next.to_string())
    );
    let due = reminders(&app, "kind=inspection").await;
    assert_eq!(due.len(), 1, "{due:?}");
    assert_eq!(due[0]["due_on"], next.to_string());
    let all = reminders(&app, "kind=inspection&status=all").await;
    let first = all
        .iter()
        .find(|reminder| reminder["id"] == first_reminder)
        .expect("first reminder kept");
    assert_eq!(first["status"], "done");
    // The item found wanting raised an alert.
    let alerts = reminders(&app, "kind=alert").await;
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["details"]["item"], "insects");

    let listed = app
        .get_json(&format!(
            "/api/v1/rooms/{}/inspections",
            room["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(listed["items"].as_array().expect("items").len(), 1);
    assert_eq!(listed["items"][0]["remarks"], "書蟲 found on shelf 3");
}

#[sqlx::test]
async fn a_plan_of_its_own_sets_intervals_per_item(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let room = create_room(&app, "C02").await;
    let id = room["id"].as_str().expect("id");
    let response = app
        .client
        .put(app.url(&format!("/api/v1/rooms/{id}/plan")))
        .bearer_auth(&app.token)
        .json(&json!({"items": [
            {"code": "damp", "name": "防潮", "interval_days": 1},
            {"code": "fire", "name": "防火", "interval_days": 30},
        ]}))
        .send()
        .await
        .expect("set plan");
    assert_eq!(response.status(), 200);
    let today = today(&app);
    let inspected = app
        .post(&format!("/api/v1/rooms/{id}/inspections"))
        .json(&json!({"results": [{"item": "fire", "ok": true}]}))
        .send()
        .await
        .expect("inspect");
    assert_eq!(inspected.status(), 201);
    let room = app.get_json(&format!("/api/v1/rooms/{id}")).await;
    let plan = room["plan"].as_array().expect("plan");
    assert_eq!(plan.len(), 2);
    let fire = plan
        .iter()
        .find(|item| item["code"] == "fire")
        .expect("fire");
    assert_eq!(
        fire["next_due_on"],
        (today + Duration::days(30)).to_string()
    );
    let damp = plan
        .iter()
        .find(|item| item["code"] == "damp")
        .expect("damp");
    assert_eq!(
        damp["next_due_on"],
        today.to_string(),
        "not inspected: still due"
    );
    assert_eq!(room["next_inspection_due_on"], today.to_string());

    let unknown = app
        .post(&format!("/api/v1/rooms/{id}/inspections"))
        .json(&json!({"results": [{"item": "insects", "ok": true}]}))
        .send()
        .await
        .expect("inspect");
    assert_problem(unknown, 400, "validation").await;
}

#[sqlx::test]
async fn csv_readings_are_imported_and_summed_up_by_day_and_year(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let room = create_room(&app, "D01").await;
    let id = room["id"].as_str().expect("id");
    let csv = "時間,溫度,濕度,來源\n2026-03-01 08:00,18.0,50,sensor-1\n2026-03-01 20:00,20.0,54,sensor-1\n2026-03-02T08:00:00+08:00,19.0,,hand\n";
    let response = app
        .post(&format!("/api/v1/rooms/{id}/readings"))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("csv");
    assert_eq!(
        response.status(),
        201,
        "{}",
        response.text().await.unwrap_or_default()
    );
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["accepted"], 3);

    let series = app
        .get_json(&format!(
            "/api/v1/rooms/{id}/readings?from=2026-03-01&to=2026-03-02"
        ))
        .await;
    assert_eq!(series["readings"].as_array().expect("readings").len(), 3);
    let first_day = &series["daily"][0];
    assert_eq!(first_day["day"], "2026-03-01");
    assert_eq!(first_day["readings"], 2);
    assert_eq!(
        first_day["temperature_c"],
        json!({"min": 18.0, "max": 20.0, "mean": 19.0})
    );
    assert_eq!(
        first_day["humidity_pct"],
        json!({"min": 50.0, "max": 54.0, "mean": 52.0})
    );
    assert_eq!(series["daily"][1]["humidity_pct"], Value::Null);

    let summary = app
        .get_json(&format!("/api/v1/rooms/{id}/readings/summary?year=2026"))
        .await;
    assert_eq!(summary["readings"], 3);
    assert_eq!(summary["days_with_readings"], 2);
    assert_eq!(summary["months"][0]["day"], "2026-03-01");
    assert_eq!(summary["temperature_c"]["max"], 20.0);

    // Posting the same CSV again stores nothing twice.
    let again = app
        .post(&format!("/api/v1/rooms/{id}/readings"))
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .expect("csv again");
    let again: Value = again.json().await.expect("json");
    assert_eq!(
        (again["accepted"].clone(), again["duplicates"].clone()),
        (json!(0), json!(3))
    );
}

#[sqlx::test]
async fn bad_readings_are_refused_and_nothing_of_the_batch_is_stored(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let room = create_room(&app, "E01").await;
    let now = Utc::now();
    let response = post_readings(
        &app,
        &room,
        json!([
            {"at": now, "temperature_c": 20.0, "humidity_pct": 50.0},
            {"at": now - Duration::hours(1), "temperature_c": 20.0, "humidity_pct": 120.0},
        ]),
    )
    .await;
    let problem = assert_problem(response, 400, "validation").await;
    assert!(
        problem["detail"]
            .as_str()
            .expect("detail")
            .contains("reading 2"),
        "{problem}"
    );
    assert_eq!(app.count("readings").await, 0);

    let no_values = post_readings(&app, &room, json!({"at": now})).await;
    assert_problem(no_values, 400, "validation").await;
    let unknown_field = post_readings(&app, &room, json!({"at": now, "temp": 20})).await;
    assert_problem(unknown_field, 400, "validation").await;
    let plain = app
        .post(&format!(
            "/api/v1/rooms/{}/readings",
            room["id"].as_str().expect("id")
        ))
        .header("content-type", "text/plain")
        .body("20 degrees")
        .send()
        .await
        .expect("plain");
    assert_problem(plain, 415, "unsupported_media_type").await;
    let nowhere = app
        .post(&format!("/api/v1/rooms/{}/readings", uuid::Uuid::now_v7()))
        .json(&json!({"at": now, "temperature_c": 20.0}))
        .send()
        .await
        .expect("unknown room");
    assert_problem(nowhere, 404, "not_found").await;
    assert_eq!(app.count("readings").await, 0);
}

#[sqlx::test]
async fn only_archivists_and_admins_set_up_rooms(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let staff = app.user_token("clerk", "staff", Some("BGS")).await;
    let response = app
        .client
        .post(app.url("/api/v1/rooms"))
        .bearer_auth(&staff)
        .json(&json!({"code": "X1", "name": "x"}))
        .send()
        .await
        .expect("create room");
    assert_problem(response, 403, "forbidden").await;
    create_room(&app, "X1").await;
    let duplicate = app
        .post("/api/v1/rooms")
        .json(&json!({"code": "X1", "name": "again"}))
        .send()
        .await
        .expect("duplicate");
    assert_problem(duplicate, 409, "conflict").await;
    let crossed = app
        .post("/api/v1/rooms")
        .json(&json!({"code": "X2", "name": "x", "targets": [{
            "carrier": "paper", "temperature_min_c": 30, "temperature_max_c": 20,
            "humidity_min_pct": 45, "humidity_max_pct": 60,
            "temperature_swing_c": 2, "humidity_swing_pct": 5}]}))
        .send()
        .await
        .expect("crossed targets");
    assert_problem(crossed, 400, "validation").await;
}

/// A record's location names a registered room, and its cabinet, shelf or box must be places
/// of that room; anything else is refused with the field named, on filing and on a change.
#[sqlx::test]
async fn a_records_location_is_validated_against_the_rooms_places(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let room = create_room(&app, "K1").await;
    let response = app
        .post(&format!(
            "/api/v1/rooms/{}/locations",
            room["id"].as_str().expect("id")
        ))
        .json(&json!({ "code": "S3", "kind": "shelf" }))
        .send()
        .await
        .expect("add shelf");
    assert_eq!(response.status(), 201);

    let file = |location: Value| {
        let app = &app;
        async move {
            app.upload(
                &json!({ "title": "纸质合同", "location": location }),
                vec![],
            )
            .await
        }
    };
    let filed: Value = file(json!({ "room": "K1", "row": "2", "shelf": "S3" }))
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(filed["location"]["shelf"], "S3", "{filed}");

    for (location, field) in [
        (json!({ "room": "K9", "shelf": "S3" }), "location.room"),
        (json!({ "room": "K1", "shelf": "S4" }), "location.shelf"),
        (json!({ "room": "K1", "box": "S3" }), "location.box"),
        (json!({ "shelf": "S3" }), "location.room"),
    ] {
        let body = assert_problem(file(location.clone()).await, 400, "validation").await;
        assert!(
            body["detail"].as_str().unwrap_or_default().contains(field),
            "{location}: {body}"
        );
    }
    let id = filed["id"].as_str().expect("id");
    let response = app
        .client
        .patch(app.url(&format!("/api/v1/records/{id}")))
        .bearer_auth(&app.token)
        .json(&json!({ "location": { "room": "K1", "cabinet": "C1" } }))
        .send()
        .await
        .expect("patch");
    assert_problem(response, 400, "validation").await;
    assert_eq!(app.count("records").await, 1, "nothing else was filed");
}
