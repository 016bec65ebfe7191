//! The period report (issue 19, item 3): its counts match the records filed, withdrawn and
//! destroyed and the loans granted in the test; use is counted in 卷次 (loans) and 人次 (a
//! borrower on a day), by purpose and department; XLSX and PDF carry the same figures.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use chrono::{Days, Duration, Utc};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, TestFile, assert_problem};
use crate::places::{get_as, post_as};
use crate::search::settle;

async fn ok(response: reqwest::Response, status: u16) -> Value {
    let got = response.status();
    let body = response.text().await.expect("body");
    assert_eq!(got.as_u16(), status, "{body}");
    serde_json::from_str(&body).expect("json")
}

fn sorted(mut lines: Vec<(String, i64, i64)>) -> Vec<(String, i64, i64)> {
    lines.sort();
    lines
}

/// A loan registered by the records office for `body`, decided by `decider`.
async fn loan(app: &TestApp, office: &str, decider: &str, body: Value, action: &str) -> Value {
    let requested = ok(post_as(app, office, "/api/v1/loans", body).await, 201).await;
    let id = requested["id"].as_str().expect("loan id");
    ok(
        post_as(
            app,
            decider,
            &format!("/api/v1/loans/{id}/{action}"),
            json!({}),
        )
        .await,
        200,
    )
    .await
}

#[sqlx::test]
async fn the_report_counts_what_was_filed_removed_and_lent_in_its_period(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let kept = app
        .file_record(
            &json!({"title": "通知 甲", "doc_date": "2024-03-01", "category": "WS"}),
            vec![],
        )
        .await;
    let mistaken = app
        .file_record(
            &json!({"title": "通知 乙", "doc_date": "2024-04-01", "category": "WS"}),
            vec![],
        )
        .await;
    let ledger = app
        .file_record(
            &json!({"title": "2025年度财务报告", "doc_date": "2025-03-31", "category": "KUNB",
                    "department": "CWB"}),
            vec![TestFile::new("a.txt", b"report".to_vec())],
        )
        .await;
    let old = crate::destruction::due_record(&app, "過期登記簿", b"old").await;
    let archivist = app.user_token("keeper", "archivist", None).await;
    let director = app.user_token("director", "director", None).await;
    let manager = app.user_token("gm", "general_manager", None).await;
    app.user_token("clerk", "staff", Some("BGS")).await;
    app.user_token("accountant", "staff", Some("CWB")).await;
    let staff = app.user_token("reader", "staff", None).await;

    // one withdrawn, one destroyed
    let proposal = ok(
        post_as(
            &app,
            &archivist,
            &format!(
                "/api/v1/records/{}/withdrawals",
                mistaken["id"].as_str().expect("id")
            ),
            json!({"reason": "重複歸檔"}),
        )
        .await,
        201,
    )
    .await;
    let proposal = proposal["id"].as_str().expect("id");
    ok(
        post_as(
            &app,
            &director,
            &format!("/api/v1/withdrawals/{proposal}/approve"),
            json!({}),
        )
        .await,
        200,
    )
    .await;
    let batch = ok(
        post_as(
            &app,
            &archivist,
            "/api/v1/disposition/batches",
            json!({"as_of": "2026-12-31", "record_ids": [old["id"]], "supervisors": ["王監銷"]}),
        )
        .await,
        201,
    )
    .await;
    let batch = batch["id"].as_str().expect("id");
    for approver in [&director, &manager] {
        ok(
            post_as(
                &app,
                approver,
                &format!("/api/v1/disposition/batches/{batch}/approve"),
                json!({}),
            )
            .await,
            200,
        )
        .await;
    }
    settle(&app).await;

    // four loans granted (two by the clerk on one day), one refused
    let lend = |record: &Value, borrower: &str, purpose: &str| json!({"record_id": record["id"], "purpose": purpose, "days": 5, "borrower": borrower});
    let late = loan(
        &app,
        &archivist,
        &director,
        lend(&kept, "clerk", "审计"),
        "approve",
    )
    .await;
    loan(
        &app,
        &archivist,
        &director,
        lend(&ledger, "clerk", "审计"),
        "approve",
    )
    .await;
    loan(
        &app,
        &archivist,
        &director,
        lend(&kept, "accountant", "查考"),
        "approve",
    )
    .await;
    loan(
        &app,
        &archivist,
        &director,
        lend(&ledger, "accountant", "查考"),
        "reject",
    )
    .await;
    let police = ok(
        post_as(
            &app,
            &archivist,
            "/api/v1/borrowers",
            json!({"name": "王警官", "organisation": "公安局", "id_document": "警官證 1",
               "letter": "介紹信 1號"}),
        )
        .await,
        201,
    )
    .await;
    loan(
        &app,
        &archivist,
        &director,
        json!({"record_id": ledger["id"], "purpose": "案件侦查",
        "reading_room": true, "outside_borrower": police["id"]}),
        "approve",
    )
    .await;
    let today = app.app.reminders.today();
    let yesterday = today.checked_sub_days(Days::new(1)).expect("yesterday");
    sqlx::query("update loans set due_on = $2 where id = $1::uuid")
        .bind(late["id"].as_str().expect("id"))
        .bind(yesterday)
        .execute(&app.pool)
        .await
        .expect("backdate");

    // a storage room with an alert and an inspection
    let room = ok(
        app.post("/api/v1/rooms")
            .json(&json!({"code": "R9", "name": "九號庫房"}))
            .send()
            .await
            .expect("room"),
        201,
    )
    .await;
    let room_id = room["id"].as_str().expect("id");
    let at = Utc::now() - Duration::minutes(5);
    ok(
        app.post(&format!("/api/v1/rooms/{room_id}/readings"))
            .json(&json!({"at": at, "temperature_c": 29.0, "humidity_pct": 50.0}))
            .send()
            .await
            .expect("reading"),
        201,
    )
    .await;
    let results: Vec<Value> = room["plan"]
        .as_array()
        .expect("plan")
        .iter()
        .map(|item| json!({"item": item["code"], "ok": true}))
        .collect();
    ok(
        app.post(&format!("/api/v1/rooms/{room_id}/inspections"))
            .json(&json!({"results": results}))
            .send()
            .await
            .expect("inspect"),
        201,
    )
    .await;

    let from = today.checked_sub_days(Days::new(30)).expect("from");
    let query = format!("/api/v1/reports?from={from}&to={today}");
    assert_problem(get_as(&app, &staff, &query).await, 403, "forbidden").await;
    assert_problem(
        get_as(
            &app,
            &archivist,
            &format!("/api/v1/reports?from={today}&to={from}"),
        )
        .await,
        400,
        "validation",
    )
    .await;
    let report = ok(get_as(&app, &archivist, &query).await, 200).await;
    assert_eq!(report["additions"]["records"], 4, "{report}");
    assert_eq!(report["holdings"]["records"], 2, "{report}");
    assert_eq!(report["destructions"]["records"], 1, "{report}");
    assert_eq!(report["withdrawals"]["records"], 1, "{report}");
    let lines = |part: &str| -> Vec<(String, i64, i64)> {
        report[part]["by_category_year"]
            .as_array()
            .expect("lines")
            .iter()
            .map(|line| {
                (
                    line["category"].as_str().unwrap_or("-").to_owned(),
                    line["year"].as_i64().expect("year"),
                    line["records"].as_i64().expect("records"),
                )
            })
            .collect()
    };
    assert_eq!(
        lines("additions"),
        [
            ("KUNB".into(), 2025, 1),
            ("WS".into(), 2000, 1),
            ("WS".into(), 2024, 2)
        ]
    );
    assert_eq!(lines("destructions"), [("WS".to_owned(), 2000, 1)]);
    let usage = &report["use"];
    assert_eq!(
        (usage["loans"].as_i64(), usage["readers"].as_i64()),
        (Some(4), Some(3)),
        "{usage}"
    );
    let by = |dimension: &str| -> Vec<(String, i64, i64)> {
        let lines = usage[dimension]
            .as_array()
            .expect("use")
            .iter()
            .map(|line| {
                (
                    line["key"].as_str().unwrap_or("-").to_owned(),
                    line["loans"].as_i64().expect("loans"),
                    line["readers"].as_i64().expect("readers"),
                )
            })
            .collect::<Vec<_>>();
        // most used first; ties in the server's collation, so compared as a set
        assert!(
            lines.windows(2).all(|pair| pair[0].1 >= pair[1].1),
            "{lines:?}"
        );
        let mut lines = lines;
        lines.sort();
        lines
    };
    assert_eq!(
        by("by_purpose"),
        sorted(vec![
            ("审计".into(), 2, 1),
            ("查考".into(), 1, 1),
            ("案件侦查".into(), 1, 1)
        ])
    );
    assert_eq!(
        by("by_department"),
        sorted(vec![
            ("BGS".into(), 2, 1),
            ("CWB".into(), 1, 1),
            ("外单位 公安局".into(), 1, 1)
        ])
    );
    let overdue = report["overdue_loans"].as_array().expect("overdue");
    assert_eq!(overdue.len(), 1, "{overdue:?}");
    assert_eq!(overdue[0]["loan_id"], late["id"]);
    assert_eq!(
        report["rooms"],
        json!([{"room": "R9", "name": "九號庫房", "alerts": 1, "inspections": 1}])
    );

    // the same figures as a workbook and on paper
    let xlsx = get_as(&app, &archivist, &format!("{query}&format=xlsx")).await;
    assert_eq!(xlsx.status(), 200);
    let bytes = xlsx.bytes().await.expect("xlsx");
    let mut workbook: Xlsx<_> =
        open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("workbook");
    let sheet = workbook.worksheet_range("统计报表").expect("sheet");
    let use_line: Vec<Data> = sheet
        .rows()
        .find(|row| row[0] == Data::String("利用".into()))
        .expect("use line")
        .to_vec();
    assert_eq!(use_line[2].to_string(), "4");
    assert_eq!(use_line[3].to_string(), "3");
    let pdf = get_as(&app, &archivist, &format!("{query}&format=pdf")).await;
    assert_eq!(pdf.status(), 200);
    assert_eq!(
        pdf.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/pdf")
    );
    assert!(pdf.bytes().await.expect("pdf").starts_with(b"%PDF"));
}

/// A department manager's report counts only what they may see: their department's records.
#[sqlx::test]
async fn the_report_counts_only_what_the_reader_may_see(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for (title, department) in [("辦公室 通知", "BGS"), ("財務部 報告", "CWB")] {
        app.file_record(
            &json!({"title": title, "category": "WS", "department": department}),
            vec![],
        )
        .await;
    }
    let manager = app.user_token("head", "dept_manager", Some("BGS")).await;
    let theirs = ok(get_as(&app, &manager, "/api/v1/reports").await, 200).await;
    let all = ok(get_as(&app, &app.token, "/api/v1/reports").await, 200).await;
    assert_eq!(all["additions"]["records"], 2);
    assert_eq!(theirs["additions"]["records"], 1, "{theirs}");
    assert_eq!(theirs["holdings"]["records"], 1);
}
