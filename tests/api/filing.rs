//! Filing fully described records: archival codes (檔號), their continuous item numbers under
//! concurrency and failure, retention due dates, custom fields, audited changes.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, TestFile, assert_problem};

async fn patch(app: &TestApp, id: &str, body: Value) -> reqwest::Response {
    app.client
        .patch(app.url(&format!("/api/v1/records/{id}")))
        .bearer_auth(&app.token)
        .json(&body)
        .send()
        .await
        .expect("patch")
}

#[sqlx::test]
async fn a_classified_record_gets_an_archival_code_and_a_due_date(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(
            &json!({
                "title": "关于2024年度档案工作的通知", "doc_date": "2024-05-01",
                "category": "WS", "retention": "D10", "department": "BGS",
                "doc_number": "办发〔2024〕7号", "responsible": "办公室", "pages": 3,
                "security_level": "internal", "open_status": "controlled",
            }),
            vec![TestFile::new("通知.pdf", b"%PDF-1.4 notice".to_vec())],
        )
        .await;
    assert_eq!(record["archival_code"], "Z001-WS·2024-D10-BGS-0001");
    assert_eq!(record["retention_due_on"], "2035-01-01");
    let reason = record["retention_reason"].as_str().expect("reason");
    assert!(
        reason.starts_with("D10") && reason.contains("2025-01-01"),
        "{reason}"
    );
    assert_eq!(record["fonds"], "Z001");
    assert_eq!(record["doc_number"], "办发〔2024〕7号");
    assert_eq!(record["pages"], 3);
    assert_eq!(record["carrier"], "electronic");
    assert_eq!(record["year"], 2024);

    let second = app
        .file_record(
            &json!({ "title": "第二件", "doc_date": "2024-06-01", "category": "WS", "retention": "D10", "department": "BGS" }),
            vec![],
        )
        .await;
    assert_eq!(second["archival_code"], "Z001-WS·2024-D10-BGS-0002");
    assert_eq!(second["carrier"], "paper", "no files: a paper record");
    let other_class = app
        .file_record(
            &json!({ "title": "另一类", "doc_date": "2024-06-01", "category": "WS", "department": "BGS" }),
            vec![],
        )
        .await;
    assert_eq!(
        other_class["archival_code"], "Z001-WS·2024-D30-BGS-0001",
        "WS defaults to D30"
    );
    assert_eq!(other_class["retention_due_on"], "2055-01-01");
}

#[sqlx::test]
async fn permanent_records_are_never_due(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(
            &json!({ "title": "2024年度财务会计报告", "doc_date": "2025-03-31", "category": "KUNB", "department": "CWB" }),
            vec![],
        )
        .await;
    assert_eq!(record["retention"], "Y");
    assert_eq!(record["retention_due_on"], Value::Null);
    assert_eq!(record["retention_reason"], "Y: permanent");
    assert_eq!(record["archival_code"], "Z001-KUNB·2025-Y-CWB-0001");
}

#[sqlx::test]
async fn fifty_concurrent_filings_into_one_class_are_numbered_0001_to_0050(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let filings = (0..50).map(|n| {
        let app = &app;
        async move {
            app.file_record(
                &json!({ "title": format!("并发 {n}"), "doc_date": "2024-01-15", "category": "WS", "retention": "D30", "department": "BGS" }),
                vec![],
            )
            .await
        }
    });
    let records = futures::future::join_all(filings).await;

    let mut items: Vec<u32> = records
        .iter()
        .map(|record| {
            let code = record["archival_code"].as_str().expect("code");
            assert!(code.starts_with("Z001-WS·2024-D30-BGS-"), "{code}");
            code.rsplit('-')
                .next()
                .expect("item")
                .parse()
                .expect("number")
        })
        .collect();
    items.sort_unstable();
    assert_eq!(
        items,
        (1..=50).collect::<Vec<u32>>(),
        "no duplicate and no gap"
    );
}

#[sqlx::test]
async fn a_failed_filing_gives_its_number_back(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let metadata =
        json!({ "title": "x", "doc_date": "2024-01-15", "category": "WS", "department": "BGS" });
    let first = app.file_record(&metadata, vec![]).await;
    assert!(
        first["archival_code"]
            .as_str()
            .expect("code")
            .ends_with("-0001")
    );

    app.refuse_inserts("audit_events", "new.action = 'record.created'")
        .await;
    let failed = app.upload(&metadata, vec![]).await;
    assert_eq!(failed.status(), 500);
    sqlx::raw_sql("drop trigger refuse on audit_events")
        .execute(&app.pool)
        .await
        .expect("drop trigger");

    let next = app.file_record(&metadata, vec![]).await;
    assert!(
        next["archival_code"]
            .as_str()
            .expect("code")
            .ends_with("-0002"),
        "{next}"
    );
}

#[sqlx::test]
async fn a_record_missing_part_of_its_class_is_filed_without_a_code_until_classified(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    // no category: the class is incomplete (a department may be left out, a category not)
    let record = app
        .file_record(
            &json!({ "title": "待整理", "doc_date": "2023-02-01", "retention": "D30", "department": "BGS" }),
            vec![],
        )
        .await;
    assert_eq!(record["archival_code"], Value::Null);
    assert_eq!(
        record["retention_due_on"], "2054-01-01",
        "the due date does not wait for the code"
    );

    let id = record["id"].as_str().expect("id");
    let classified = patch(&app, id, json!({ "category": "WS" })).await;
    assert_eq!(classified.status(), 200);
    let classified: Value = classified.json().await.expect("json");
    assert_eq!(classified["archival_code"], "Z001-WS·2023-D30-BGS-0001");
}

#[sqlx::test]
async fn unknown_codes_and_bad_custom_fields_are_400(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for (metadata, field) in [
        (json!({ "title": "x", "category": "NOPE" }), "category"),
        (json!({ "title": "x", "retention": "D99" }), "retention"),
        (json!({ "title": "x", "department": "NOPE" }), "department"),
        (json!({ "title": "x", "fonds": "Z999" }), "fonds"),
        (
            json!({ "title": "x", "category": "HT", "custom": { "amount": "很多" } }),
            "custom.amount",
        ),
        (
            json!({ "title": "x", "category": "HT", "custom": { "colour": "红" } }),
            "custom.colour",
        ),
        (
            json!({ "title": "x", "custom": { "amount": 1 } }),
            "custom.amount",
        ),
        (
            json!({ "title": "x", "category": "RS", "doc_type": "horoscope" }),
            "doc_type",
        ),
        (
            json!({ "title": "x", "security_level": "top_secret" }),
            "security_level",
        ),
        (
            json!({ "title": "x", "party_id": "0190d7a0-0000-7000-8000-000000000001" }),
            "party_id",
        ),
    ] {
        let response = app.upload(&metadata, vec![]).await;
        let body = assert_problem(response, 400, "validation").await;
        assert!(
            body["detail"].as_str().expect("detail").contains(field),
            "{metadata}: {body}"
        );
    }
    assert_eq!(app.count("records").await, 0);

    let contract = app
        .file_record(
            &json!({ "title": "采购合同", "category": "HT", "department": "XSB",
                     "custom": { "counterparty": "深圳市腾讯计算机系统有限公司", "amount": 120000.5, "signed_on": "2024-03-01" } }),
            vec![],
        )
        .await;
    assert_eq!(contract["custom"]["amount"], 120000.5);
}

#[sqlx::test]
async fn changes_are_audited_with_before_and_after(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(&json!({ "title": "旧题名", "category": "WS", "department": "BGS", "doc_date": "2024-01-01" }), vec![])
        .await;
    let id = record["id"].as_str().expect("id");

    let changed = patch(
        &app,
        id,
        json!({ "title": "新题名", "responsible": "办公室", "doc_date": "2020-06-01" }),
    )
    .await;
    assert_eq!(changed.status(), 200);
    let changed: Value = changed.json().await.expect("json");
    assert_eq!(changed["title"], "新题名");
    assert_eq!(
        changed["retention_due_on"], "2051-01-01",
        "a new document date moves the due date"
    );
    assert_eq!(
        changed["archival_code"], record["archival_code"],
        "the code stays"
    );

    let details: Value = sqlx::query_scalar(
        "select details from audit_events where action = 'record.updated' and record_id = $1::text::uuid",
    )
    .bind(id)
    .fetch_one(&app.pool)
    .await
    .expect("audit event");
    assert_eq!(
        details["changes"]["title"],
        json!({ "before": "旧题名", "after": "新题名" })
    );
    assert_eq!(
        details["changes"]["responsible"],
        json!({ "before": null, "after": "办公室" })
    );
    assert!(
        details["changes"].get("department").is_none(),
        "unchanged fields are not listed"
    );
}

#[sqlx::test]
async fn parts_of_an_assigned_archival_code_cannot_change(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(&json!({ "title": "x", "category": "WS", "department": "BGS", "doc_date": "2024-01-01" }), vec![])
        .await;
    let id = record["id"].as_str().expect("id");
    for body in [
        json!({ "category": "HT" }),
        json!({ "department": "XSB" }),
        json!({ "year": 2020 }),
        json!({ "retention": "D10" }),
    ] {
        let response = patch(&app, id, body.clone()).await;
        assert_problem(response, 409, "conflict").await;
    }
    let unknown = patch(
        &app,
        &uuid::Uuid::new_v4().to_string(),
        json!({ "title": "x" }),
    )
    .await;
    assert_problem(unknown, 404, "not_found").await;
    let bad = patch(&app, id, json!({ "title": null })).await;
    assert_problem(bad, 400, "validation").await;
}

#[sqlx::test]
async fn changing_a_policy_recomputes_the_due_dates_of_its_records(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(&json!({ "title": "x", "category": "WS", "retention": "D10", "department": "BGS", "doc_date": "2024-05-01" }), vec![])
        .await;
    assert_eq!(record["retention_due_on"], "2035-01-01");
    let response = app
        .client
        .patch(app.url("/api/v1/retention-policies/D10"))
        .bearer_auth(&app.token)
        .json(&json!({ "years": 15 }))
        .send()
        .await
        .expect("patch policy");
    assert_eq!(response.status(), 200);
    let after: Value = app
        .get(&format!(
            "/api/v1/records/{}",
            record["id"].as_str().expect("id")
        ))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(after["retention_due_on"], "2040-01-01");
}

#[sqlx::test]
async fn a_record_event_starts_an_event_based_clock(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let card = app
        .file_record(&json!({ "title": "固定资产卡片 叉车", "category": "KUGZ", "department": "CWB", "doc_date": "2015-03-01" }), vec![])
        .await;
    assert_eq!(card["retention"], "GZ5");
    assert_eq!(card["retention_due_on"], Value::Null);
    let id = card["id"].as_str().expect("id");
    let event = app
        .post(&format!("/api/v1/records/{id}/events"))
        .json(&json!({ "type": "asset_disposed", "date": "2024-02-29" }))
        .send()
        .await
        .expect("event");
    assert_eq!(event.status(), 201);
    let after: Value = app
        .get(&format!("/api/v1/records/{id}"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    assert_eq!(after["retention_due_on"], "2029-02-28");
}

/// DA/T 22 makes the organisation segment optional: records without a department are
/// numbered in their class without it, one sequence for all of them.
#[sqlx::test]
async fn a_record_without_a_department_gets_a_code_without_that_segment(pool: PgPool) {
    let app = TestApp::spawn(pool).await; // the admin belongs to no department
    let mut codes = Vec::new();
    for title in ["无部门一", "无部门二"] {
        let record = app
            .file_record(
                &json!({ "title": title, "doc_date": "2024-05-01", "category": "WS", "retention": "D10" }),
                vec![],
            )
            .await;
        assert_eq!(record["department"], Value::Null, "{record}");
        codes.push(record["archival_code"].clone());
    }
    assert_eq!(
        codes,
        [
            json!("Z001-WS·2024-D10-0001"),
            json!("Z001-WS·2024-D10-0002")
        ]
    );
    let with_department = app
        .file_record(
            &json!({ "title": "有部门", "doc_date": "2024-05-01", "category": "WS", "retention": "D10", "department": "BGS" }),
            vec![],
        )
        .await;
    assert_eq!(
        with_department["archival_code"],
        "Z001-WS·2024-D10-BGS-0001"
    );
}
