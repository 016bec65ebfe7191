//! Archive statistics: active records, files, bytes and pages by category, year, retention,
//! department and carrier; folders; customers by grade, region and industry.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, TestFile, assert_problem};

async fn stats(app: &TestApp) -> Value {
    let response = app.get("/api/v1/stats").send().await.expect("stats");
    assert_eq!(response.status(), 200);
    response.json().await.expect("stats JSON")
}

/// `(key, count, files, bytes, pages)` of each bucket of a breakdown.
fn buckets(stats: &Value, breakdown: &str) -> Vec<(Value, i64, i64, i64, i64)> {
    stats[breakdown]
        .as_array()
        .unwrap_or_else(|| panic!("{breakdown} is a list: {stats}"))
        .iter()
        .map(|bucket| {
            let number = |field: &str| bucket[field].as_i64().expect("a number");
            (
                bucket["key"].clone(),
                number("count"),
                number("files"),
                number("bytes"),
                number("pages"),
            )
        })
        .collect()
}

fn counts(list: &Value) -> Vec<(Value, i64)> {
    list.as_array()
        .expect("a list")
        .iter()
        .map(|bucket| {
            (
                bucket["key"].clone(),
                bucket["count"].as_i64().expect("count"),
            )
        })
        .collect()
}

#[sqlx::test]
async fn an_empty_archive_counts_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let view = stats(&app).await;
    for total in ["records", "files", "bytes", "pages", "folders"] {
        assert_eq!(view[total], 0, "{total}");
    }
    assert_eq!(view["by_category"], json!([]));
    assert_eq!(view["customers"]["by_grade"], json!([]));
}

#[sqlx::test]
async fn statistics_count_active_records_with_their_files_bytes_and_pages(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let shared = b"%PDF-1.4 shared content".to_vec();
    app.file_record(
        &json!({ "title": "通知", "doc_date": "2024-05-01", "category": "WS", "retention": "D10", "department": "BGS", "pages": 3 }),
        vec![
            TestFile::new("通知.pdf", shared.clone()),
            TestFile::new("附件.txt", b"attachment".to_vec()),
        ],
    )
    .await;
    app.file_record(
        &json!({ "title": "纪要", "doc_date": "2023-03-01", "category": "WS", "department": "BGS", "pages": 2 }),
        vec![TestFile::new("纪要.pdf", shared.clone())],
    )
    .await;
    app.file_record(
        &json!({ "title": "年度财务报告", "doc_date": "2025-03-31", "category": "KUNB", "department": "CWB", "pages": 10 }),
        vec![],
    )
    .await;
    let destroyed = app
        .file_record(
            &json!({ "title": "已销毁", "doc_date": "2024-01-01", "category": "WS", "department": "BGS", "pages": 100 }),
            vec![TestFile::new("x.txt", b"gone".to_vec())],
        )
        .await;
    sqlx::query("update records set status = 'destroyed' where id = $1::uuid")
        .bind(destroyed["id"].as_str().expect("id"))
        .execute(&app.pool)
        .await
        .expect("destroy a record");

    let view = stats(&app).await;

    let shared_size = i64::try_from(shared.len()).expect("size");
    let ws_bytes = 2 * shared_size + 10;
    assert_eq!(view["records"], 3, "the destroyed record is not counted");
    assert_eq!(view["files"], 3, "the shared content counts once per file");
    assert_eq!(view["bytes"], ws_bytes);
    assert_eq!(view["pages"], 15);
    assert_eq!(
        buckets(&view, "by_category"),
        [
            (json!("KUNB"), 1, 0, 0, 10),
            (json!("WS"), 2, 3, ws_bytes, 5),
        ]
    );
    assert_eq!(
        buckets(&view, "by_year"),
        [
            (json!("2023"), 1, 1, shared_size, 2),
            (json!("2024"), 1, 2, shared_size + 10, 3),
            (json!("2025"), 1, 0, 0, 10),
        ]
    );
    let retention: Vec<(Value, i64)> = buckets(&view, "by_retention")
        .into_iter()
        .map(|(key, count, ..)| (key, count))
        .collect();
    assert_eq!(
        retention,
        [(json!("D10"), 1), (json!("D30"), 1), (json!("Y"), 1)]
    );
    let departments: Vec<(Value, i64)> = buckets(&view, "by_department")
        .into_iter()
        .map(|(key, count, ..)| (key, count))
        .collect();
    assert_eq!(departments, [(json!("BGS"), 2), (json!("CWB"), 1)]);
    let carriers: Vec<(Value, i64)> = buckets(&view, "by_carrier")
        .into_iter()
        .map(|(key, count, ..)| (key, count))
        .collect();
    assert_eq!(carriers, [(json!("electronic"), 2), (json!("paper"), 1)]);
}

#[sqlx::test]
async fn customers_are_counted_by_grade_region_and_industry(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for (identifier, grade, region, industry) in [
        ("KH001", Some("A"), "华南", "零售"),
        ("KH002", Some("A"), "华东", "制造"),
        ("KH003", Some("B"), "华南", "零售"),
        ("KH004", None, "华南", "物流"),
    ] {
        let response = app
            .post("/api/v1/parties")
            .json(&json!({ "kind": "customer", "identifier": identifier, "name": format!("客户{identifier}"),
                           "grade": grade, "region": region, "industry": industry }))
            .send()
            .await
            .expect("create customer");
        assert_eq!(response.status(), 201);
    }
    let employee = app
        .post("/api/v1/parties")
        .json(&json!({ "kind": "employee", "identifier": "E0001", "name": "王晓明" }))
        .send()
        .await
        .expect("create employee");
    assert_eq!(employee.status(), 201);

    let view = stats(&app).await;

    assert_eq!(view["folders"], 5);
    assert_eq!(
        counts(&view["folders_by_kind"]),
        [(json!("customer"), 4), (json!("employee"), 1)]
    );
    let customers = &view["customers"];
    assert_eq!(
        counts(&customers["by_grade"]),
        [(json!("A"), 2), (json!("B"), 1), (Value::Null, 1)]
    );
    assert_eq!(
        counts(&customers["by_region"]),
        [(json!("华东"), 1), (json!("华南"), 3)]
    );
    assert_eq!(
        counts(&customers["by_industry"]),
        [(json!("制造"), 1), (json!("物流"), 1), (json!("零售"), 2)]
    );
}

#[sqlx::test]
async fn staff_may_not_read_statistics(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let token = app.user_token("staff1", "staff", None).await;
    let response = app
        .client
        .get(app.url("/api/v1/stats"))
        .bearer_auth(&token)
        .send()
        .await
        .expect("stats");
    assert_problem(response, 403, "forbidden").await;
}
