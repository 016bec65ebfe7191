//! Digital integrity (R21): fixity sweeps over the real object store, `dangan verify`, and
//! the four-properties check (四性檢測) of records.

use std::process::Command;

use lopdf::{Document, Object, dictionary};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, TestFile, assert_problem, corpus, database_url};

/// Files a record of class WS·year-D10-BGS with one text file.
async fn record_with(app: &TestApp, title: &str, name: &str, content: &[u8]) -> Value {
    app.file_record(
        &json!({"title": title, "doc_date": "2024-03-01", "category": "WS", "retention": "D10", "department": "BGS"}),
        vec![TestFile::new(name, content.to_vec())],
    )
    .await
}

async fn run_jobs(app: &TestApp) {
    dangan::jobs::runner::run_until_idle(&app.app)
        .await
        .expect("jobs run");
}

/// Runs a fixity sweep through the API and its job; returns the finished check.
async fn sweep(app: &TestApp) -> Value {
    let response = app
        .post("/api/v1/integrity/checks")
        .json(&json!({"scope": "all"}))
        .send()
        .await
        .expect("start sweep");
    assert_eq!(response.status(), 202);
    let started: Value = response.json().await.expect("json");
    run_jobs(app).await;
    app.get_json(&format!(
        "/api/v1/integrity/checks/{}",
        started["id"].as_str().expect("id")
    ))
    .await
}

fn object_of(app: &TestApp, record: &Value) -> std::path::PathBuf {
    let hex = record["files"][0]["sha256"].as_str().expect("sha256");
    app.objects("blobs")
        .into_iter()
        .find(|path| path.file_name().is_some_and(|name| name == hex))
        .expect("the object is stored")
}

#[sqlx::test]
async fn corrupting_one_byte_of_a_blob_flags_exactly_that_blob_and_its_records(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let records = [
        record_with(&app, "甲", "a.txt", b"first record content").await,
        record_with(&app, "乙", "b.txt", b"second record content").await,
        record_with(&app, "丙", "c.txt", b"third record content").await,
    ];
    run_jobs(&app).await;
    let path = object_of(&app, &records[1]);
    let mut bytes = std::fs::read(&path).expect("read object");
    bytes[3] ^= 0x01;
    std::fs::write(&path, bytes).expect("corrupt one byte");

    let check = sweep(&app).await;
    assert_eq!(check["status"], "done", "{check}");
    assert_eq!(
        (check["checked"].clone(), check["ok"].clone()),
        (json!(3), json!(2))
    );
    assert_eq!(check["missing"], json!([]));
    let mismatched = check["mismatched"].as_array().expect("mismatched");
    assert_eq!(mismatched.len(), 1, "{check}");
    assert_eq!(mismatched[0]["sha256"], records[1]["files"][0]["sha256"]);
    assert_eq!(mismatched[0]["records"], json!([records[1]["id"]]));

    let damaged = app
        .get_json(&format!(
            "/api/v1/records/{}",
            records[1]["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(damaged["integrity"], "damaged");
    assert_eq!(damaged["files"][0]["fixity"]["outcome"], "mismatch");
    let intact = app
        .get_json(&format!(
            "/api/v1/records/{}",
            records[0]["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(intact["integrity"], "intact");
    assert_eq!(intact["files"][0]["fixity"]["outcome"], "ok");
    let alerts = app.get_json("/api/v1/reminders?kind=alert").await;
    let alerts = alerts.as_array().expect("alerts");
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(alerts[0]["record_id"], records[1]["id"]);
    let events: i64 = sqlx::query_scalar("select count(*) from preservation_events")
        .fetch_one(&app.pool)
        .await
        .expect("count");
    assert_eq!(events, 3, "one preservation event per blob");
}

#[sqlx::test]
async fn a_deleted_object_is_missing_and_dangan_verify_fails(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    record_with(&app, "留", "keep.txt", b"kept content").await;
    let lost = record_with(&app, "失", "lost.txt", b"lost content").await;
    let lost_path = object_of(&app, &lost);
    std::fs::remove_file(&lost_path).expect("delete the object");

    let check = sweep(&app).await;
    let missing = check["missing"].as_array().expect("missing");
    assert_eq!(missing.len(), 1, "{check}");
    assert_eq!(missing[0]["sha256"], lost["files"][0]["sha256"]);
    assert_eq!(check["mismatched"], json!([]));

    let url = database_url(&app.pool).await;
    let verify = |data_dir: &std::path::Path| {
        Command::new(env!("CARGO_BIN_EXE_dangan"))
            .arg("verify")
            .env("DANGAN_DATABASE_URL", &url)
            .env("DANGAN_DATA_DIR", data_dir)
            .env_remove("DANGAN_CONFIG")
            .output()
            .expect("dangan verify runs")
    };
    let failed = verify(app.data_dir.path());
    assert!(!failed.status.success());
    let said = String::from_utf8_lossy(&failed.stdout);
    assert!(
        said.contains("1 missing") && said.contains("2 blobs checked"),
        "{said}"
    );

    // Restored from a backup, the next sweep finds everything in order.
    std::fs::write(&lost_path, b"lost content").expect("restore");
    let passed = verify(app.data_dir.path());
    assert!(
        passed.status.success(),
        "{}",
        String::from_utf8_lossy(&passed.stderr)
    );
}

#[sqlx::test]
async fn an_object_no_record_references_is_reported(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    record_with(&app, "有", "has.txt", b"referenced content").await;
    let stray = "ab".repeat(32);
    let dir = app.data_dir.path().join("objects/blobs/sha256/ab/ab");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join(&stray), b"nobody's").expect("stray object");

    let check = sweep(&app).await;
    assert_eq!(check["unreferenced"], json!([stray]), "{check}");
    assert_eq!(check["ok"], 1);
}

/// A real PDF of the corpus, with a JavaScript open action added when asked.
fn pdf(with_javascript: bool) -> Vec<u8> {
    let original = corpus("pdf/debian-faq.zh-cn.pdf");
    if !with_javascript {
        return original;
    }
    let mut document = Document::load_mem(&original).expect("corpus pdf parses");
    let action = document.add_object(dictionary! {
        "S" => "JavaScript", "JS" => Object::string_literal("app.launchURL('http://x.example')"),
    });
    document
        .catalog_mut()
        .expect("catalog")
        .set("OpenAction", action);
    let mut bytes = Vec::new();
    document.save_to(&mut bytes).expect("save pdf");
    bytes
}

async fn four_properties(app: &TestApp, record: &Value, stage: &str) -> Value {
    let response = app
        .post("/api/v1/integrity/checks")
        .json(&json!({"record_id": record["id"], "stage": stage}))
        .send()
        .await
        .expect("check");
    assert_eq!(
        response.status(),
        201,
        "{}",
        response.text().await.unwrap_or_default()
    );
    response.json().await.expect("json")
}

fn result<'a>(check: &'a Value, test: &str) -> &'a Value {
    check["results"]
        .as_array()
        .expect("results")
        .iter()
        .find(|result| result["test"] == test)
        .unwrap_or_else(|| panic!("no {test} in {check}"))
}

#[sqlx::test]
async fn a_pdf_with_javascript_fails_the_security_check(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = record_with(&app, "帶腳本的文件", "form.pdf", &pdf(true)).await;
    run_jobs(&app).await;
    let check = four_properties(&app, &record, "YJ").await;
    let active = result(&check, "no_active_content");
    assert_eq!(active["passed"], false, "{check}");
    assert_eq!(active["property"], "security");
    assert!(
        active["reason"]
            .as_str()
            .expect("reason")
            .contains("JavaScript")
    );
    assert_eq!(result(&check, "content_hash")["passed"], true);
    assert_eq!(check["ok"], 0);
}

#[sqlx::test]
async fn a_clean_record_passes_all_four_properties_and_the_filing_check_ran(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = record_with(&app, "乾淨的文件", "clean.pdf", &pdf(false)).await;
    let text = record_with(&app, "文本", "note.txt", "檔案管理 archive".as_bytes()).await;
    run_jobs(&app).await;
    for record in [&record, &text] {
        let check = four_properties(&app, record, "CQ").await;
        let failed: Vec<&Value> = check["results"]
            .as_array()
            .expect("results")
            .iter()
            .filter(|result| result["passed"] != true)
            .collect();
        assert!(failed.is_empty(), "{failed:?}");
        assert_eq!(check["results"].as_array().map(Vec::len), Some(11));
        assert_eq!(
            (check["checked"].clone(), check["ok"].clone()),
            (json!(1), json!(1))
        );
    }
    let list = app.get_json("/api/v1/integrity/checks").await;
    let filing: Vec<&Value> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter(|check| check["stage"] == "GD")
        .collect();
    assert_eq!(filing.len(), 2, "one filing check per record");
    assert!(
        filing
            .iter()
            .all(|check| check["status"] == "done" && check["ok"] == 1),
        "{filing:?}"
    );

    let id = list["items"][0]["id"].as_str().expect("id");
    let csv = app
        .get(&format!("/api/v1/integrity/checks/{id}?format=csv"))
        .send()
        .await
        .expect("csv");
    assert_eq!(csv.status(), 200);
    let csv = csv.text().await.expect("text");
    assert!(
        csv.contains("authenticity") && csv.contains("audit_trail"),
        "{csv}"
    );
    let xlsx = app
        .get(&format!("/api/v1/integrity/checks/{id}?format=xlsx"))
        .send()
        .await
        .expect("xlsx");
    assert_eq!(xlsx.status(), 200);
    assert!(xlsx.bytes().await.expect("bytes").starts_with(b"PK"));
}

#[sqlx::test]
async fn the_filing_check_waits_for_the_text_and_its_extraction_wakes_it(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = record_with(&app, "待抽取的文件", "scan.pdf", &pdf(false)).await;
    // while the text is pending the check is not due: no worker polls it (a bulk import
    // with an hour of OCR ahead used to poll every waiting check every 15 s)
    let due_in: f64 = sqlx::query_scalar(
        "select extract(epoch from run_at - now())::float8 from jobs where kind = 'four_properties'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("job");
    assert!(due_in > 300.0, "the filing check is due in {due_in} s");

    // A worker that claims it early anyway (its fallback time came) finds the text pending
    // and waits again, spending no attempt; the extraction then wakes it, and it runs.
    sqlx::query(
        "update jobs set run_at = now() - interval '1 minute' where kind = 'four_properties'",
    )
    .execute(&app.pool)
    .await
    .expect("filing check first");
    run_jobs(&app).await;
    let (status, error): (String, Option<String>) =
        sqlx::query_as("select status, last_error from jobs where kind = 'four_properties'")
            .fetch_one(&app.pool)
            .await
            .expect("job");
    assert_eq!((status.as_str(), error), ("done", None));
    let list = app.get_json("/api/v1/integrity/checks").await;
    let filing = &list["items"][0];
    assert_eq!(
        (&filing["stage"], &filing["status"], &filing["ok"]),
        (&json!("GD"), &json!("done"), &json!(1)),
        "{list}"
    );
    assert_eq!(filing["record_ids"], json!([record["id"]]), "{filing}");
    let id = filing["id"].as_str().expect("check id");
    let check = app
        .get_json(&format!("/api/v1/integrity/checks/{id}"))
        .await;
    assert_eq!(
        result(&check, "text_available")["passed"],
        true,
        "judged on the extracted text: {check}"
    );
}

#[sqlx::test]
async fn a_gap_in_item_numbers_fails_the_integrity_check(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let first = record_with(&app, "一", "1.txt", b"one").await;
    let second = record_with(&app, "二", "2.txt", b"two").await;
    let third = record_with(&app, "三", "3.txt", b"three").await;
    run_jobs(&app).await;
    assert!(
        first["archival_code"]
            .as_str()
            .expect("code")
            .ends_with("0001")
    );
    let before = four_properties(&app, &third, "CQ").await;
    assert_eq!(result(&before, "item_numbers")["passed"], true, "{before}");

    // The second item loses its code: a hole in the catalogue.
    sqlx::query("update records set archival_code = null where id = $1")
        .bind(
            second["id"]
                .as_str()
                .expect("id")
                .parse::<uuid::Uuid>()
                .expect("uuid"),
        )
        .execute(&app.pool)
        .await
        .expect("make a gap");
    let after = four_properties(&app, &third, "CQ").await;
    let items = result(&after, "item_numbers");
    assert_eq!(items["passed"], false);
    assert_eq!(items["property"], "integrity");
    assert!(
        items["reason"].as_str().expect("reason").contains("0002"),
        "{items}"
    );
}

/// At filing a record's own place is checked (the item before it is there), not its whole
/// class, which grew with every filing; where that item is missing the class is read.
#[sqlx::test]
async fn a_filing_check_looks_for_the_item_before_and_reads_the_class_without_it(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut records = Vec::new();
    for (title, name) in [
        ("一", "1.txt"),
        ("二", "2.txt"),
        ("三", "3.txt"),
        ("四", "4.txt"),
    ] {
        records.push(record_with(&app, title, name, title.as_bytes()).await);
    }
    run_jobs(&app).await;
    let code = |record: &Value| record["archival_code"].as_str().expect("code").to_owned();
    assert!(code(&records[3]).ends_with("0004"), "{}", records[3]);
    // the item-number finding of a check: whether it passed, and its reason
    let items = |check: &Value| {
        let items = result(check, "item_numbers");
        let reason = items["reason"].as_str().expect("reason").to_owned();
        (items["passed"] == true, reason)
    };

    let (passed, reason) = items(&four_properties(&app, &records[0], "GD").await);
    assert!(passed && reason.contains("0001 opens"), "{reason}");
    let (passed, reason) = items(&four_properties(&app, &records[3], "GD").await);
    assert!(passed && reason.contains("0004 follows 0003"), "{reason}");

    // the second item loses its code
    sqlx::query("update records set archival_code = null where archival_code = $1")
        .bind(code(&records[1]))
        .execute(&app.pool)
        .await
        .expect("make a gap");
    let (passed, reason) = items(&four_properties(&app, &records[3], "GD").await);
    assert!(passed, "the fourth still follows the third: {reason}");
    let (passed, reason) = items(&four_properties(&app, &records[2], "GD").await);
    assert!(
        !passed && reason.contains("0002"),
        "the item before the third is gone: {reason}"
    );
    let (passed, reason) = items(&four_properties(&app, &records[3], "CQ").await);
    assert!(!passed, "later stages read the whole class: {reason}");
}

#[sqlx::test]
async fn a_changed_audit_event_breaks_the_record_trail(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = record_with(&app, "審計", "a.txt", b"audited").await;
    run_jobs(&app).await;
    assert_eq!(
        result(&four_properties(&app, &record, "CQ").await, "audit_trail")["passed"],
        true
    );
    sqlx::query("update audit_events set details = '{}' where record_id = $1")
        .bind(
            record["id"]
                .as_str()
                .expect("id")
                .parse::<uuid::Uuid>()
                .expect("uuid"),
        )
        .execute(&app.pool)
        .await
        .expect("tamper");
    let check = four_properties(&app, &record, "CQ").await;
    assert_eq!(result(&check, "audit_trail")["passed"], false, "{check}");
}

#[sqlx::test]
async fn bad_check_requests_are_refused(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let nothing = app
        .post("/api/v1/integrity/checks")
        .json(&json!({}))
        .send()
        .await
        .expect("post");
    assert_problem(nothing, 400, "validation").await;
    let scope = app
        .post("/api/v1/integrity/checks")
        .json(&json!({"scope": "some"}))
        .send()
        .await
        .expect("post");
    assert_problem(scope, 400, "validation").await;
    let unknown = app
        .post("/api/v1/integrity/checks")
        .json(&json!({"record_id": uuid::Uuid::now_v7()}))
        .send()
        .await
        .expect("post");
    assert_problem(unknown, 400, "validation").await;
    let staff = app.user_token("clerk", "staff", Some("BGS")).await;
    let forbidden = app
        .client
        .post(app.url("/api/v1/integrity/checks"))
        .bearer_auth(&staff)
        .json(&json!({"scope": "all"}))
        .send()
        .await
        .expect("post");
    assert_problem(forbidden, 403, "forbidden").await;
    let absent = app
        .get(&format!(
            "/api/v1/integrity/checks/{}",
            uuid::Uuid::now_v7()
        ))
        .send()
        .await
        .expect("get");
    assert_problem(absent, 404, "not_found").await;
}

/// More records than a request checks at once: the check is queued (202), a job runs it, and
/// it ends with every record's results.
#[sqlx::test]
async fn a_large_four_properties_check_runs_as_a_job(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut ids = Vec::new();
    for n in 0..21 {
        let record = app
            .file_record(
                &json!({"title": format!("第{n}件"), "category": "WS", "retention": "D10", "department": "BGS"}),
                vec![],
            )
            .await;
        ids.push(record["id"].clone());
    }
    let response = app
        .post("/api/v1/integrity/checks")
        .json(&json!({"record_ids": ids, "stage": "CQ"}))
        .send()
        .await
        .expect("start");
    assert_eq!(response.status(), 202);
    let started: Value = response.json().await.expect("json");
    assert_ne!(started["status"], "done", "{started}");
    run_jobs(&app).await;
    let done = app
        .get_json(&format!(
            "/api/v1/integrity/checks/{}",
            started["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(done["status"], "done", "{done}");
    assert_eq!(done["checked"], 21, "{done}");
}
