//! Destruction batches (銷毀): two distinct approvers other than the creator, exactly-once
//! execution by the job, holds placed after approval, shared blobs, and the destruction list.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, TestFile, assert_problem, login};
use crate::search::{search, settle, titles};

mod killed;
mod queue;
mod shredding;

/// A user of `role`, logged in; returns the token.
pub(super) async fn user(app: &TestApp, name: &str, role: &str) -> String {
    let response = app
        .post("/api/v1/users")
        .json(&json!({ "username": name, "password": format!("{name}-password"), "role": role }))
        .send()
        .await
        .expect("create user");
    assert_eq!(response.status(), 201);
    login(&app.client, &app.address, name, &format!("{name}-password")).await
}

/// Files a record from 2000 kept ten years, with one file, and appraises it for destruction.
pub(crate) async fn due_record(app: &TestApp, title: &str, content: &[u8]) -> Value {
    let record = app
        .file_record(
            &json!({ "title": title, "doc_date": "2000-01-01", "category": "WS",
                     "retention": "D10", "department": "BGS" }),
            vec![TestFile::new("scan.txt", content.to_vec())],
        )
        .await;
    let response = app
        .post("/api/v1/disposition/appraisals")
        .json(&json!({ "record_id": record["id"], "decision": "destroy", "reason": "期滿無保存價值" }))
        .send()
        .await
        .expect("appraise");
    assert_eq!(
        response.status(),
        201,
        "{}",
        response.text().await.unwrap_or_default()
    );
    record
}

async fn create_batch(app: &TestApp, records: &[&Value]) -> Value {
    let ids: Vec<&Value> = records.iter().map(|record| &record["id"]).collect();
    let response = app
        .post("/api/v1/disposition/batches")
        .json(&json!({ "as_of": "2026-12-31", "record_ids": ids, "supervisors": ["王監銷"] }))
        .send()
        .await
        .expect("create batch");
    assert_eq!(
        response.status(),
        201,
        "{}",
        response.text().await.unwrap_or_default()
    );
    response.json().await.expect("batch json")
}

pub(super) async fn approve(app: &TestApp, token: &str, batch: &Value) -> reqwest::Response {
    app.client
        .post(app.url(&format!(
            "/api/v1/disposition/batches/{}/approve",
            batch["id"].as_str().expect("id")
        )))
        .bearer_auth(token)
        .send()
        .await
        .expect("approve")
}

/// Two approvals by a director and a general manager.
async fn approve_twice(app: &TestApp, batch: &Value) {
    let director = user(app, "director", "director").await;
    let manager = user(app, "manager", "general_manager").await;
    assert_eq!(approve(app, &director, batch).await.status(), 200);
    let response = approve(app, &manager, batch).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["status"], "approved");
}

async fn batch(app: &TestApp, batch: &Value, query: &str) -> reqwest::Response {
    app.get(&format!(
        "/api/v1/disposition/batches/{}{query}",
        batch["id"].as_str().expect("id")
    ))
    .send()
    .await
    .expect("get batch")
}

async fn batch_json(app: &TestApp, created: &Value) -> Value {
    let response = batch(app, created, "").await;
    assert_eq!(response.status(), 200);
    response.json().await.expect("json")
}

async fn file_status(app: &TestApp, record: &Value) -> reqwest::Response {
    app.get(&format!(
        "/api/v1/records/{}/files/{}",
        record["id"].as_str().expect("id"),
        record["files"][0]["id"].as_str().expect("file id")
    ))
    .send()
    .await
    .expect("file")
}

/// Whether the object store holds content with this digest.
fn stored(app: &TestApp, sha256: &Value) -> bool {
    let hex = sha256.as_str().expect("sha256");
    app.objects("")
        .iter()
        .any(|path| path.file_name().is_some_and(|name| name == hex))
}

fn outcomes(batch: &Value) -> Vec<String> {
    batch["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|item| item["outcome"].as_str().expect("outcome").to_owned())
        .collect()
}

#[sqlx::test]
async fn a_batch_with_one_approval_does_not_run(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = due_record(&app, "一次批准的記錄", b"one approval").await;
    let created = create_batch(&app, &[&record]).await;
    assert_eq!(created["status"], "awaiting_approval");
    let director = user(&app, "director", "director").await;

    assert_eq!(approve(&app, &director, &created).await.status(), 200);
    settle(&app).await;

    let after = batch_json(&app, &created).await;
    assert_eq!(after["status"], "awaiting_approval");
    assert_eq!(outcomes(&after), ["pending"]);
    assert_eq!(file_status(&app, &record).await.status(), 200);

    // the list by status finds it where it stands, and a status batches never have is refused
    let listed = |status: &'static str| {
        app.get("/api/v1/disposition/batches")
            .query(&[("status", status)])
            .send()
    };
    let waiting: Value = listed("awaiting_approval")
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(waiting.as_array().map(Vec::len), Some(1), "{waiting}");
    assert_eq!(waiting[0]["id"], created["id"]);
    let approved: Value = listed("approved")
        .await
        .expect("list")
        .json()
        .await
        .expect("json");
    assert_eq!(approved, serde_json::json!([]));
    let refused = listed("failed").await.expect("list");
    assert_eq!(refused.status(), 400);
    let problem: Value = refused.json().await.expect("problem");
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|detail| detail.contains("awaiting_shredding")),
        "{problem}"
    );
}

#[sqlx::test]
async fn the_creator_cannot_approve_and_nobody_approves_twice(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = due_record(&app, "批准規則", b"rules").await;
    let created = create_batch(&app, &[&record]).await;
    let director = user(&app, "director", "director").await;
    let staff = user(&app, "staff", "staff").await;

    assert_problem(approve(&app, &app.token, &created).await, 409, "conflict").await;
    assert_problem(approve(&app, &staff, &created).await, 403, "forbidden").await;
    assert_eq!(approve(&app, &director, &created).await.status(), 200);
    assert_problem(approve(&app, &director, &created).await, 409, "conflict").await;
}

#[sqlx::test]
async fn a_batch_refuses_records_not_appraised_for_destruction(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let appraised = due_record(&app, "已鑒定", b"appraised").await;
    let plain = app
        .file_record(
            &json!({ "title": "未鑒定", "doc_date": "2000-01-01", "category": "WS",
                     "retention": "D10", "department": "BGS" }),
            vec![],
        )
        .await;
    let response = app
        .post("/api/v1/disposition/batches")
        .json(
            &json!({ "as_of": "2026-12-31", "record_ids": [appraised["id"], plain["id"]],
                       "supervisors": ["王監銷"] }),
        )
        .send()
        .await
        .expect("create");
    let body = assert_problem(response, 409, "conflict").await;
    assert!(
        body.to_string().contains(plain["id"].as_str().expect("id")),
        "{body}"
    );
    let response = app
        .post("/api/v1/disposition/batches")
        .json(&json!({ "as_of": "2026-12-31", "record_ids": [appraised["id"]], "supervisors": [] }))
        .send()
        .await
        .expect("create");
    assert_problem(response, 400, "validation").await;
}

#[sqlx::test]
async fn an_approved_batch_destroys_every_item_once(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let first = due_record(&app, "銷毀甲號記錄", b"first content").await;
    let second = due_record(&app, "銷毀乙號記錄", b"second content").await;
    settle(&app).await;
    assert_eq!(titles(&search(&app, "銷毀").await).len(), 2);
    let created = create_batch(&app, &[&first, &second]).await;

    approve_twice(&app, &created).await;
    settle(&app).await;

    let after = batch_json(&app, &created).await;
    assert_eq!(after["status"], "done");
    assert_eq!(outcomes(&after), ["destroyed", "destroyed"]);
    let tombstone = &after["items"][0]["tombstone"];
    assert_eq!(tombstone["files"][0]["sha256"], first["files"][0]["sha256"]);
    assert_eq!(tombstone["supervisors"], json!(["王監銷"]));
    assert_eq!(tombstone["approvers"].as_array().map(Vec::len), Some(2));
    for record in [&first, &second] {
        assert_problem(file_status(&app, record).await, 410, "gone").await;
        let response = app
            .get(&format!(
                "/api/v1/records/{}",
                record["id"].as_str().expect("id")
            ))
            .send()
            .await
            .expect("record");
        let view: Value = response.json().await.expect("json");
        assert_eq!(view["status"], "destroyed");
        assert_eq!(view["tombstone"]["title"], record["title"]);
        assert_eq!(
            view["tombstone"]["files"][0]["sha256"],
            record["files"][0]["sha256"]
        );
    }
    assert!(titles(&search(&app, "銷毀").await).is_empty());
    for record in [&first, &second] {
        assert!(!stored(&app, &record["files"][0]["sha256"]));
    }
    let destroyed: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'record.destroyed'")
            .fetch_one(&app.pool)
            .await
            .expect("count");
    assert_eq!(destroyed, 2);
    assert_eq!(app.count("file_texts").await, 0);
}

#[sqlx::test]
async fn a_hold_placed_after_approval_skips_that_item_and_the_rest_complete(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let held = due_record(&app, "訴訟中的記錄", b"held content").await;
    let free = due_record(&app, "無爭議的記錄", b"free content").await;
    let created = create_batch(&app, &[&held, &free]).await;
    approve_twice(&app, &created).await;

    let response = app
        .post("/api/v1/holds")
        .json(&json!({ "reason": "訴訟保全", "record_ids": [held["id"]] }))
        .send()
        .await
        .expect("hold");
    assert_eq!(response.status(), 201);
    settle(&app).await;

    let after = batch_json(&app, &created).await;
    assert_eq!(after["status"], "done");
    assert_eq!(outcomes(&after), ["skipped_hold", "destroyed"]);
    assert_eq!(file_status(&app, &held).await.status(), 200);
    assert_problem(file_status(&app, &free).await, 410, "gone").await;
}

#[sqlx::test]
async fn a_blob_shared_with_a_live_record_survives(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let doomed = due_record(&app, "將銷毀的副本", b"shared content").await;
    let live = app
        .file_record(
            &json!({ "title": "仍保存的副本", "category": "WS", "retention": "Y", "department": "BGS" }),
            vec![TestFile::new("copy.txt", b"shared content".to_vec())],
        )
        .await;
    let created = create_batch(&app, &[&doomed]).await;

    approve_twice(&app, &created).await;
    settle(&app).await;

    assert_problem(file_status(&app, &doomed).await, 410, "gone").await;
    let response = file_status(&app, &live).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.bytes().await.expect("body").as_ref(),
        b"shared content"
    );
    assert!(stored(&app, &live["files"][0]["sha256"]));
}

#[sqlx::test]
async fn two_records_of_one_batch_sharing_content_free_it_together(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let first = due_record(&app, "同內容甲", b"same content twice").await;
    let second = due_record(&app, "同內容乙", b"same content twice").await;
    assert_eq!(first["files"][0]["sha256"], second["files"][0]["sha256"]);
    let created = create_batch(&app, &[&first, &second]).await;

    approve_twice(&app, &created).await;
    settle(&app).await;

    assert_eq!(
        outcomes(&batch_json(&app, &created).await),
        ["destroyed", "destroyed"]
    );
    let refcount: i32 = sqlx::query_scalar("select refcount from blobs")
        .fetch_one(&app.pool)
        .await
        .expect("refcount");
    assert_eq!(refcount, 0, "both references released in one chunk");
    assert!(!stored(&app, &first["files"][0]["sha256"]));
}

#[sqlx::test]
async fn the_destruction_list_holds_every_item_in_csv_and_xlsx_and_prints_to_be_signed(
    pool: PgPool,
) {
    let app = TestApp::spawn(pool).await;
    let first = due_record(&app, "清冊甲", b"list one").await;
    let second = due_record(&app, "清冊乙", b"list two").await;
    let created = create_batch(&app, &[&first, &second]).await;
    approve_twice(&app, &created).await;
    settle(&app).await;
    let hashes = [
        first["files"][0]["sha256"].as_str().expect("sha"),
        second["files"][0]["sha256"].as_str().expect("sha"),
    ];

    let response = batch(&app, &created, "?format=csv").await;
    assert_eq!(response.status(), 200);
    let csv = response.text().await.expect("csv");
    let response = batch(&app, &created, "?format=xlsx").await;
    assert_eq!(response.status(), 200);
    let bytes = response.bytes().await.expect("xlsx");
    let mut workbook: Xlsx<_> =
        open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("the workbook opens");
    let range = workbook
        .worksheet_range_at(0)
        .expect("a worksheet")
        .expect("a readable worksheet");
    let cells: Vec<String> = range
        .rows()
        .flat_map(|row| row.iter().map(Data::to_string))
        .collect();

    for (title, hash) in [("清冊甲", hashes[0]), ("清冊乙", hashes[1])] {
        assert!(csv.contains(title) && csv.contains(hash), "{csv}");
        assert!(cells.iter().any(|cell| cell == title), "{cells:?}");
        assert!(cells.iter().any(|cell| cell == hash), "{cells:?}");
    }
    assert!(csv.contains("王監銷") && csv.contains("director") && csv.contains("manager"));
    assert_eq!(cells.iter().filter(|cell| *cell == "destroyed").count(), 2);

    // printed to be signed: poppler reads the items and the signature lines back in Chinese
    let response = batch(&app, &created, "?format=pdf").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/pdf");
    let pdf = response.bytes().await.expect("pdf");
    let text = crate::places::poppler("pdftotext", &pdf);
    for expected in [
        "檔案銷毀清冊",
        "清冊甲",
        "清冊乙",
        "王監銷",
        "批准人（簽字）",
        "監銷人（簽字）",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
    let fonts = crate::places::poppler("pdffonts", &pdf);
    assert!(fonts.contains("CJK"), "{fonts}");
}

#[sqlx::test]
async fn the_openapi_document_describes_destruction_batches(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let doc: Value = app
        .get("/api/openapi.json")
        .send()
        .await
        .expect("openapi")
        .json()
        .await
        .expect("json");
    for path in [
        "/api/v1/disposition/batches",
        "/api/v1/disposition/batches/{id}",
        "/api/v1/disposition/batches/{id}/approve",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} missing");
    }
    assert!(doc["components"]["schemas"].get("BatchView").is_some());
    let statuses = &doc["components"]["schemas"]["BatchStatus"]["enum"];
    assert_eq!(
        statuses,
        &serde_json::json!([
            "awaiting_approval",
            "approved",
            "running",
            "awaiting_shredding",
            "done"
        ]),
        "{doc}"
    );
}

#[sqlx::test]
async fn a_run_resumed_after_a_crash_before_object_deletion_deletes_the_orphan(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = due_record(&app, "提交後崩潰", b"orphan content").await;
    let hex = record["files"][0]["sha256"]
        .as_str()
        .expect("sha256")
        .to_owned();
    let object = app
        .objects("")
        .into_iter()
        .find(|path| path.file_name().is_some_and(|name| name == hex.as_str()))
        .expect("the object is stored");
    let created = create_batch(&app, &[&record]).await;
    approve_twice(&app, &created).await;
    settle(&app).await;
    assert!(!stored(&app, &record["files"][0]["sha256"]));

    // the state a worker killed between an item's commit and the object's deletion leaves
    std::fs::write(&object, b"orphan content").expect("object put back");
    sqlx::query("update destruction_batches set status = 'running', finished_at = null")
        .execute(&app.pool)
        .await
        .expect("batch running again");
    let id = created["id"].as_str().expect("id");
    app.app
        .jobs
        .enqueue(
            &dangan::domain::job::Job::DestroyBatch {
                batch_id: id.parse().expect("batch id"),
            },
            Some(id.to_owned()),
        )
        .await
        .expect("job queued");
    settle(&app).await;

    assert!(!stored(&app, &record["files"][0]["sha256"]));
    assert_eq!(batch_json(&app, &created).await["status"], "done");
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'record.destroyed'")
            .fetch_one(&app.pool)
            .await
            .expect("count");
    assert_eq!(audited, 1);
}

#[sqlx::test]
async fn a_record_reappraised_after_approval_is_kept(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let kept = due_record(&app, "改為續存", b"kept content").await;
    let gone = due_record(&app, "照常銷毀", b"gone content").await;
    let created = create_batch(&app, &[&kept, &gone]).await;
    approve_twice(&app, &created).await;

    let response = app
        .post("/api/v1/disposition/appraisals")
        .json(
            &json!({ "record_id": kept["id"], "decision": "permanent", "reason": "具有史料價值" }),
        )
        .send()
        .await
        .expect("appraise");
    assert_eq!(response.status(), 201);
    settle(&app).await;

    let after = batch_json(&app, &created).await;
    assert_eq!(after["status"], "done");
    assert_eq!(outcomes(&after), ["skipped_reappraised", "destroyed"]);
    assert_eq!(file_status(&app, &kept).await.status(), 200);
}

/// A filing's four-properties check that comes due only after its record was destroyed (its
/// worker was killed, so it was put off) ends without the record, instead of waiting for the
/// destroyed file's text for ever (found by tests/api/faults/chaos.rs).
#[sqlx::test]
async fn a_filing_check_of_a_record_destroyed_meanwhile_ends(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = due_record(&app, "檢查前已銷毀", b"checked late").await;
    sqlx::query(
        "update jobs set run_at = now() + interval '1 hour' where kind = 'four_properties'",
    )
    .execute(&app.pool)
    .await
    .expect("put the check off");
    let created = create_batch(&app, &[&record]).await;
    approve_twice(&app, &created).await;
    settle(&app).await;
    assert_eq!(batch_json(&app, &created).await["status"], "done");
    sqlx::query("update jobs set run_at = now() where kind = 'four_properties'")
        .execute(&app.pool)
        .await
        .expect("the check comes due");
    settle(&app).await;
    let (status, checked): (String, i64) = sqlx::query_as(
        "select j.status, c.checked from jobs j join integrity_checks c on c.id::text = j.payload->>'check_id'
          where j.kind = 'four_properties'",
    )
    .fetch_one(&app.pool)
    .await
    .expect("the check");
    assert_eq!((status.as_str(), checked), ("done", 0));
}
