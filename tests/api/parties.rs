//! Parties and their folders: employees by employee number, customers by code; folder item
//! lists in document-date order, missing checklist items, departures moving retention.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, TestFile, assert_problem, corpus};

async fn create_employee(app: &TestApp, identifier: &str, name: &str) -> String {
    let response = app
        .post("/api/v1/parties")
        .json(&json!({ "kind": "employee", "identifier": identifier, "name": name, "department": "XSB" }))
        .send()
        .await
        .expect("create party");
    assert_eq!(response.status(), 201);
    let party: Value = response.json().await.expect("json");
    assert_eq!(party["status"], "active");
    party["id"].as_str().expect("id").to_owned()
}

async fn folder(app: &TestApp, id: &str) -> Value {
    let response = app
        .get(&format!("/api/v1/parties/{id}"))
        .send()
        .await
        .expect("folder");
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

fn missing(folder: &Value) -> Vec<String> {
    folder["missing"]
        .as_array()
        .expect("missing")
        .iter()
        .map(|item| item["code"].as_str().expect("code").to_owned())
        .collect()
}

#[sqlx::test]
async fn missing_checklist_items_appear_and_disappear_as_records_are_filed(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let id = create_employee(&app, "E0012", "王晓明").await;

    let empty = folder(&app, &id).await;
    assert_eq!(empty["folder_category"], "RS");
    let before = missing(&empty);
    for item in [
        "resume",
        "application_form",
        "id_card",
        "diploma",
        "labour_contract",
        "nda",
        "integrity_agreement",
    ] {
        assert!(
            before.contains(&item.to_owned()),
            "{item} should be missing: {before:?}"
        );
    }
    assert!(
        !before.contains(&"driving_licence".to_owned()),
        "optional items are never missing"
    );
    assert!(
        !before.contains(&"resignation".to_owned()),
        "departure items only once departed"
    );

    app.file_record(
        &json!({ "title": "王晓明 身份证复印件", "party_id": id, "doc_type": "id_card", "department": "RSB", "doc_date": "2023-03-01" }),
        vec![TestFile::new("身份證復印件.jpg", corpus("scans/scan_sc.jpg"))],
    )
    .await;
    let after = missing(&folder(&app, &id).await);
    assert!(!after.contains(&"id_card".to_owned()), "{after:?}");
    assert_eq!(after.len(), before.len() - 1);
}

#[sqlx::test]
async fn a_folder_lists_its_records_in_document_date_order_and_keeps_training_apart(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let id = create_employee(&app, "E0013", "张伟").await;
    for (title, date, doc_type) in [
        ("劳动合同", "2023-03-01", "labour_contract"),
        ("个人简历", "2023-01-10", "resume"),
        ("转正考核表", "2023-06-01", "probation_review"),
    ] {
        app.file_record(
            &json!({ "title": title, "doc_date": date, "party_id": id, "doc_type": doc_type, "department": "RSB" }),
            vec![],
        )
        .await;
    }
    let training = app
        .file_record(
            &json!({ "title": "消防安全培训记录", "doc_date": "2023-02-01", "party_id": id, "category": "PX", "department": "RSB" }),
            vec![],
        )
        .await;

    let view = folder(&app, &id).await;
    let titles: Vec<&str> = view["records"]
        .as_array()
        .expect("records")
        .iter()
        .map(|record| record["title"].as_str().expect("title"))
        .collect();
    assert_eq!(titles, ["个人简历", "劳动合同", "转正考核表"]);
    // item numbers follow the order of filing; the list follows the document dates
    assert_eq!(
        view["records"][0]["archival_code"], "Z001-RS·2023-LZ2-RSB-0002",
        "personnel records go to RS with LZ2"
    );
    assert_eq!(view["other_records"][0]["id"], training["id"]);
    assert_eq!(view["identifier"], "E0013");
    assert_eq!(view["department"], "XSB");
}

#[sqlx::test]
async fn leaving_moves_every_record_of_the_folder_to_two_years_after_the_departure(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let id = create_employee(&app, "E0014", "李娜").await;
    let mut records = Vec::new();
    for (title, date) in [("劳动合同", "2019-03-01"), ("调令单", "2021-07-01")] {
        let record = app
            .file_record(
                &json!({ "title": title, "doc_date": date, "party_id": id, "department": "RSB" }),
                vec![],
            )
            .await;
        assert_eq!(
            record["retention_due_on"],
            Value::Null,
            "LZ2 waits for the departure"
        );
        assert!(
            record["retention_reason"]
                .as_str()
                .expect("reason")
                .contains("has not happened")
        );
        records.push(record["id"].as_str().expect("id").to_owned());
    }

    let event = app
        .post(&format!("/api/v1/parties/{id}/events"))
        .json(&json!({ "type": "employment_ended", "date": "2026-06-30", "note": "合同到期" }))
        .send()
        .await
        .expect("event");
    assert_eq!(event.status(), 201);

    let view = folder(&app, &id).await;
    assert_eq!(view["status"], "departed", "out of the active set");
    assert_eq!(view["events"][0]["type"], "employment_ended");
    for record in &records {
        let record: Value = app
            .get(&format!("/api/v1/records/{record}"))
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        assert_eq!(record["retention_due_on"], "2028-06-30");
        assert_eq!(
            record["retention_reason"],
            "LZ2: 2 years after employment_ended on 2026-06-30"
        );
    }
    let now_missing = missing(&view);
    assert!(
        now_missing.contains(&"resignation".to_owned())
            && now_missing.contains(&"leaving_settlement".to_owned())
    );

    let active: Value = app
        .get("/api/v1/parties?kind=employee&status=active")
        .send()
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert!(
        active["items"]
            .as_array()
            .expect("items")
            .iter()
            .all(|party| party["id"] != id.as_str())
    );
}

#[sqlx::test]
async fn customers_carry_their_business_details(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let response = app
        .post("/api/v1/parties")
        .json(&json!({
            "kind": "customer", "identifier": "KH-2024-001", "name": "深圳市某某贸易有限公司",
            "industry": "零售", "nature": "民营", "region": "华南", "customer_type": "经销商", "grade": "A",
            "credit_limit": 500000.0,
            "contacts": [{ "name": "陈经理", "title": "采购经理", "phone": "0755-12345678" }],
        }))
        .send()
        .await
        .expect("create customer");
    assert_eq!(response.status(), 201);
    let customer: Value = response.json().await.expect("json");
    assert_eq!(customer["grade"], "A");
    assert_eq!(customer["credit_limit"], 500000.0);
    assert_eq!(customer["contacts"][0]["name"], "陈经理");
    let id = customer["id"].as_str().expect("id");
    let view = folder(&app, id).await;
    assert_eq!(view["folder_category"], "KH");
    assert!(missing(&view).contains(&"business_licence".to_owned()));

    let changed = app
        .client
        .patch(app.url(&format!("/api/v1/parties/{id}")))
        .bearer_auth(&app.token)
        .json(&json!({ "grade": "B", "region": null }))
        .send()
        .await
        .expect("patch");
    assert_eq!(changed.status(), 200);
    let changed: Value = changed.json().await.expect("json");
    assert_eq!(changed["grade"], "B");
    assert_eq!(changed["region"], Value::Null);
}

#[sqlx::test]
async fn bad_parties_are_rejected(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    create_employee(&app, "E0001", "甲").await;
    let duplicate = app
        .post("/api/v1/parties")
        .json(&json!({ "kind": "employee", "identifier": "E0001", "name": "乙" }))
        .send()
        .await
        .expect("post");
    assert_problem(duplicate, 409, "conflict").await;
    for body in [
        json!({ "kind": "employee", "identifier": "E 2", "name": "x" }),
        json!({ "kind": "vendor", "identifier": "V1", "name": "x" }),
        json!({ "kind": "employee", "identifier": "E3", "name": "x", "department": "NOPE" }),
        json!({ "kind": "employee", "identifier": "E4", "name": " " }),
    ] {
        let response = app
            .post("/api/v1/parties")
            .json(&body)
            .send()
            .await
            .expect("post");
        assert_problem(response, 400, "validation").await;
    }
    let unknown = app
        .get(&format!("/api/v1/parties/{}", uuid::Uuid::new_v4()))
        .send()
        .await
        .expect("get");
    assert_problem(unknown, 404, "not_found").await;
    let bad_event = app
        .post(&format!("/api/v1/parties/{}/events", uuid::Uuid::new_v4()))
        .json(&json!({ "type": "Left Us", "date": "2026-01-01" }))
        .send()
        .await
        .expect("post");
    assert_problem(bad_event, 400, "validation").await;
}

#[sqlx::test]
async fn parties_are_listed_in_pages(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for n in 0..5 {
        create_employee(&app, &format!("E{n:04}"), &format!("员工{n}")).await;
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(cursor) => format!("/api/v1/parties?kind=employee&limit=2&cursor={cursor}"),
            None => "/api/v1/parties?kind=employee&limit=2".to_owned(),
        };
        let page: Value = app
            .get(&path)
            .send()
            .await
            .expect("list")
            .json()
            .await
            .expect("json");
        for party in page["items"].as_array().expect("items") {
            seen.push(party["identifier"].as_str().expect("identifier").to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    assert_eq!(seen, ["E0000", "E0001", "E0002", "E0003", "E0004"]);
}
