//! Disposition: the due list, appraisals (鑒定) that extend, make permanent or approve
//! destruction; legal holds are in `holds`.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, assert_problem, login};

mod holds;

/// Files a paper record of category WS in department BGS.
async fn file(app: &TestApp, title: &str, doc_date: &str, retention: &str) -> String {
    let record = app
        .file_record(
            &json!({ "title": title, "doc_date": doc_date, "category": "WS",
                     "retention": retention, "department": "BGS" }),
            vec![],
        )
        .await;
    record["id"].as_str().expect("id").to_owned()
}

async fn record(app: &TestApp, id: &str) -> Value {
    app.get_json(&format!("/api/v1/records/{id}")).await
}

async fn due_ids(app: &TestApp, query: &str) -> Vec<String> {
    let page = app
        .get_json(&format!("/api/v1/disposition/due?{query}"))
        .await;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["id"].as_str().expect("id").to_owned())
        .collect()
}

async fn appraise(app: &TestApp, body: Value) -> reqwest::Response {
    app.post("/api/v1/disposition/appraisals")
        .json(&body)
        .send()
        .await
        .expect("appraise")
}

async fn appraised(app: &TestApp, body: Value) -> Value {
    let response = appraise(app, body).await;
    assert_eq!(
        response.status(),
        201,
        "{}",
        response.text().await.unwrap_or_default()
    );
    response.json().await.expect("json")
}

async fn patch(app: &TestApp, id: &str, body: Value) -> reqwest::Response {
    app.client
        .patch(app.url(&format!("/api/v1/records/{id}")))
        .bearer_auth(&app.token)
        .json(&body)
        .send()
        .await
        .expect("patch")
}

async fn party_event(app: &TestApp, party: &str, date: &str) {
    let response = app
        .post(&format!("/api/v1/parties/{party}/events"))
        .json(&json!({ "type": "employment_ended", "date": date }))
        .send()
        .await
        .expect("event");
    assert_eq!(response.status(), 201);
}

async fn employee(app: &TestApp, identifier: &str) -> String {
    let response = app
        .post("/api/v1/parties")
        .json(&json!({ "kind": "employee", "identifier": identifier, "name": "王芳", "department": "RSB" }))
        .send()
        .await
        .expect("party");
    assert_eq!(response.status(), 201);
    let party: Value = response.json().await.expect("json");
    party["id"].as_str().expect("id").to_owned()
}

fn destroy(record: &str) -> Value {
    json!({ "record_id": record, "decision": "destroy", "reason": "已无保存价值" })
}

#[sqlx::test]
async fn the_due_list_holds_exactly_the_records_due_by_the_date(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let old = file(&app, "2014年通知", "2014-05-01", "D10").await;
    let next = file(&app, "2015年通知", "2015-03-01", "D10").await;
    let recent = file(&app, "2024年通知", "2024-05-01", "D10").await;
    app.file_record(
        &json!({ "title": "财务报告", "doc_date": "2014-03-31", "category": "KUNB", "department": "CWB" }),
        vec![],
    )
    .await;

    let page = app
        .get_json("/api/v1/disposition/due?as_of=2026-01-01")
        .await;
    assert_eq!(page["as_of"], "2026-01-01");
    let items = page["items"].as_array().expect("items");
    let ids: Vec<&str> = items
        .iter()
        .map(|item| item["id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        ids,
        [old.as_str(), next.as_str()],
        "by due date; 2024 and permanent not due"
    );
    let first = &items[0];
    assert_eq!(first["archival_code"], "Z001-WS·2014-D10-BGS-0001");
    assert_eq!(first["title"], "2014年通知");
    assert_eq!(first["doc_date"], "2014-05-01");
    assert_eq!(first["retention"], "D10");
    assert_eq!(first["retention_due_on"], "2025-01-01");
    let reason = first["retention_reason"].as_str().expect("reason");
    assert!(
        reason.starts_with("D10") && reason.contains("2015-01-01"),
        "{reason}"
    );
    assert_eq!(first["holds"], json!([]));
    assert_eq!(first["appraisal"], Value::Null);
    assert_eq!(
        items[1]["retention_due_on"], "2026-01-01",
        "due on the day itself"
    );

    assert_eq!(due_ids(&app, "as_of=2025-12-31").await, [old.as_str()]);
    assert_eq!(
        due_ids(&app, "as_of=2035-01-01").await,
        [old.as_str(), next.as_str(), recent.as_str()],
        "planning years ahead"
    );
    assert!(
        due_ids(&app, "as_of=2035-01-01&category=HT")
            .await
            .is_empty()
    );
    assert_eq!(
        due_ids(&app, "as_of=2035-01-01&department=BGS").await.len(),
        3
    );
}

#[sqlx::test]
async fn the_due_list_pages_by_due_date_then_archival_code(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut filed = Vec::new();
    for (title, doc_date) in [
        ("甲", "2016-05-01"),
        ("乙", "2014-05-01"),
        ("丙", "2014-06-01"),
    ] {
        filed.push(file(&app, title, doc_date, "D10").await);
    }
    let expected = [filed[1].as_str(), filed[2].as_str(), filed[0].as_str()];
    let page = |cursor: Option<String>| {
        let mut query = vec![
            ("as_of", "2030-01-01".to_owned()),
            ("limit", "2".to_owned()),
        ];
        query.extend(cursor.map(|cursor| ("cursor", cursor)));
        let request = app.get("/api/v1/disposition/due").query(&query);
        async move {
            let response = request.send().await.expect("due");
            assert_eq!(response.status(), 200);
            response.json::<Value>().await.expect("json")
        }
    };
    let first = page(None).await;
    assert_eq!(first["items"][0]["id"], expected[0]);
    assert_eq!(
        first["items"][1]["id"], expected[1],
        "same due date: by archival code"
    );
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let rest = page(Some(cursor)).await;
    assert_eq!(rest["items"].as_array().expect("items").len(), 1);
    assert_eq!(rest["items"][0]["id"], expected[2]);
    assert_eq!(rest["next_cursor"], Value::Null);
    let bad = app
        .get("/api/v1/disposition/due?as_of=2030-01-01&cursor=nonsense")
        .send()
        .await;
    assert_problem(bad.expect("due"), 400, "validation").await;
}

#[sqlx::test]
async fn the_due_list_needs_a_valid_date_and_a_disposing_role(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for query in ["", "?as_of=", "?as_of=2026-13-01", "?as_of=tomorrow"] {
        let response = app
            .get(&format!("/api/v1/disposition/due{query}"))
            .send()
            .await
            .expect("due");
        assert_problem(response, 400, "validation").await;
    }

    app.post("/api/v1/users")
        .json(&json!({ "username": "staff1", "password": "staff-password", "role": "staff" }))
        .send()
        .await
        .expect("create user");
    let staff = login(&app.client, &app.address, "staff1", "staff-password").await;
    let due = app
        .client
        .get(app.url("/api/v1/disposition/due?as_of=2026-01-01"))
        .bearer_auth(&staff)
        .send()
        .await
        .expect("due");
    assert_problem(due, 403, "forbidden").await;
    let hold = app
        .client
        .post(app.url("/api/v1/holds"))
        .bearer_auth(&staff)
        .json(&json!({ "reason": "诉讼", "record_ids": [] }))
        .send()
        .await
        .expect("hold");
    assert_problem(hold, 403, "forbidden").await;
}

#[sqlx::test]
async fn an_extension_moves_the_due_date_and_recomputation_never_goes_below_it(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let id = file(&app, "2014年通知", "2014-05-01", "D10").await;
    let appraisal = appraised(
        &app,
        json!({ "record_id": id, "decision": "extend", "years": 5, "reason": "仍在使用" }),
    )
    .await;
    assert_eq!(appraisal["decision"], "extend");
    assert_eq!(appraisal["years"], 5);
    assert_eq!(appraisal["retention_due_on"], "2030-01-01");

    let changed = patch(
        &app,
        &id,
        json!({ "doc_date": "2014-01-02", "title": "改名" }),
    )
    .await;
    assert_eq!(changed.status(), 200);
    let after = record(&app, &id).await;
    assert_eq!(after["retention_due_on"], "2030-01-01");
    assert!(
        after["retention_reason"]
            .as_str()
            .expect("reason")
            .contains("appraisal"),
        "{}",
        after["retention_reason"]
    );
    assert!(due_ids(&app, "as_of=2029-12-31").await.is_empty());
    let page = app
        .get_json("/api/v1/disposition/due?as_of=2030-01-01")
        .await;
    assert_eq!(page["items"][0]["appraisal"]["decision"], "extend");

    let audited: i64 = sqlx::query_scalar(
        "select count(*) from audit_events where action = 'record.appraised' and record_id = $1::text::uuid
           and details -> 'before' ->> 'retention_due_on' = '2025-01-01'
           and details -> 'after' ->> 'retention_due_on' = '2030-01-01'",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .expect("audit");
    assert_eq!(audited, 1);

    let invalid = appraise(
        &app,
        json!({ "record_id": id, "decision": "extend", "reason": "x" }),
    )
    .await;
    assert_problem(invalid, 400, "validation").await;
    let no_reason = appraise(
        &app,
        json!({ "record_id": id, "decision": "extend", "years": 1, "reason": " " }),
    )
    .await;
    assert_problem(no_reason, 400, "validation").await;
}

#[sqlx::test]
async fn a_party_event_never_recomputes_below_an_extension(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let party = employee(&app, "E0101").await;
    let filed = app
        .file_record(
            &json!({ "title": "劳动合同", "doc_date": "2015-03-01", "party_id": party, "department": "RSB" }),
            vec![],
        )
        .await;
    let id = filed["id"].as_str().expect("id").to_owned();
    party_event(&app, &party, "2020-01-01").await;
    assert_eq!(record(&app, &id).await["retention_due_on"], "2022-01-01");
    let appraisal = appraised(
        &app,
        json!({ "record_id": id, "decision": "extend", "years": 5, "reason": "劳动争议风险" }),
    )
    .await;
    assert_eq!(appraisal["retention_due_on"], "2027-01-01");

    party_event(&app, &party, "2021-06-30").await;
    assert_eq!(
        record(&app, &id).await["retention_due_on"],
        "2027-01-01",
        "LZ2 alone: 2023-06-30"
    );
    party_event(&app, &party, "2026-06-30").await;
    assert_eq!(
        record(&app, &id).await["retention_due_on"],
        "2028-06-30",
        "a longer rule still wins"
    );
}

#[sqlx::test]
async fn a_permanent_appraisal_sticks(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let id = file(&app, "2014年通知", "2014-05-01", "D10").await;
    let appraisal = appraised(
        &app,
        json!({ "record_id": id, "decision": "permanent", "reason": "具有历史价值" }),
    )
    .await;
    assert_eq!(appraisal["retention_due_on"], Value::Null);
    assert_eq!(
        patch(&app, &id, json!({ "doc_date": "2014-12-31" }))
            .await
            .status(),
        200
    );
    let after = record(&app, &id).await;
    assert_eq!(after["retention_due_on"], Value::Null);
    assert!(
        after["retention_reason"]
            .as_str()
            .expect("reason")
            .contains("permanent")
    );
    assert!(due_ids(&app, "as_of=2999-01-01").await.is_empty());
    let extend = appraise(
        &app,
        json!({ "record_id": id, "decision": "extend", "years": 1, "reason": "x" }),
    )
    .await;
    assert_problem(extend, 409, "conflict").await;
    let destroy = appraise(&app, destroy(&id)).await;
    assert_problem(destroy, 409, "conflict").await;
}

#[sqlx::test]
async fn destruction_is_appraised_only_for_due_records(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let recent = file(&app, "2024年通知", "2024-05-01", "D10").await;
    let old = file(&app, "2014年通知", "2014-05-01", "D10").await;
    assert_problem(appraise(&app, destroy(&recent)).await, 409, "conflict").await;
    let appraisal = appraised(&app, destroy(&old)).await;
    assert_eq!(appraisal["decision"], "destroy");
    assert_eq!(
        appraisal["retention_due_on"], "2025-01-01",
        "the due date stays"
    );
    let page = app
        .get_json("/api/v1/disposition/due?as_of=2026-01-01")
        .await;
    assert_eq!(page["items"][0]["appraisal"]["decision"], "destroy");
    let unknown = appraise(&app, destroy("018f0000-0000-7000-8000-000000000000")).await;
    assert_problem(unknown, 404, "not_found").await;
}

#[sqlx::test]
async fn the_openapi_document_describes_disposition_and_holds(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let doc = app.get_json("/api/openapi.json").await;
    for path in [
        "/api/v1/disposition/due",
        "/api/v1/disposition/appraisals",
        "/api/v1/holds",
        "/api/v1/holds/{id}",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
    assert!(doc["components"]["schemas"].get("DuePage").is_some());
}
