//! Filing records by multipart upload: content addressing, deduplication, limits, errors,
//! and what is left behind when filing fails.

use serde_json::json;
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::helpers::{TestApp, TestFile, assert_problem, corpus};

#[sqlx::test]
async fn a_jpeg_and_a_pdf_with_chinese_names_are_filed_in_one_record(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let jpeg = corpus("scans/scan_sc.jpg");
    let pdf = corpus("pdf/debian-faq.zh-cn.pdf");

    let record = app
        .file_record(
            &json!({ "title": "王曉明 入職材料", "doc_date": "2024-03-01", "category": "RS" }),
            vec![
                TestFile::new("身份證復印件.jpg", jpeg.clone()),
                TestFile::new("勞動合同.pdf", pdf.clone()),
            ],
        )
        .await;

    assert_eq!(record["title"], "王曉明 入職材料");
    assert_eq!(record["doc_date"], "2024-03-01");
    assert_eq!(record["status"], "active");
    let files = record["files"].as_array().expect("files");
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["filename"], "身份證復印件.jpg");
    assert_eq!(files[0]["media_type"], "image/jpeg");
    assert_eq!(files[0]["size"], jpeg.len());
    assert_eq!(files[0]["sha256"], hex::encode(Sha256::digest(&jpeg)));
    assert_eq!(files[1]["filename"], "勞動合同.pdf");
    assert_eq!(files[1]["media_type"], "application/pdf");
    assert_eq!(files[1]["sha256"], hex::encode(Sha256::digest(&pdf)));

    let fetched = app
        .get_json(&format!(
            "/api/v1/records/{}",
            record["id"].as_str().expect("id")
        ))
        .await;
    let mut fetched_files = fetched["files"].as_array().expect("files").clone();
    for file in &mut fetched_files {
        // read on its own, a record also shows each file's text extraction, queued at filing
        let text = file.as_object_mut().and_then(|file| file.remove("text"));
        assert_eq!(text.expect("text state")["status"], "pending");
    }
    assert_eq!(serde_json::Value::Array(fetched_files), record["files"]);
    assert_filed_as_read(&record, &fetched);
    assert!(record["archival_code"].is_string(), "{record}");
    assert_eq!(app.objects("staging").len(), 0, "nothing left in staging");
    assert_eq!(app.objects("blobs/sha256").len(), 2);
}

#[sqlx::test]
async fn a_filing_with_a_retention_period_answers_with_its_due_date_and_code(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(
            &json!({ "title": "2019年度採購合同", "doc_date": "2019-06-30", "category": "WS",
                     "retention": "D10", "department": "BGS" }),
            vec![TestFile::new(
                "合同.txt",
                "採購合同 正文".as_bytes().to_vec(),
            )],
        )
        .await;
    // ten years counted from the first day after the year the record was formed
    assert_eq!(record["retention_due_on"], "2030-01-01", "{record}");
    assert!(record["retention_reason"].is_string(), "{record}");
    assert!(record["archival_code"].is_string(), "{record}");
    let fetched = app
        .get_json(&format!(
            "/api/v1/records/{}",
            record["id"].as_str().expect("id")
        ))
        .await;
    assert_filed_as_read(&record, &fetched);
}

#[sqlx::test]
async fn the_content_address_is_the_sha256_fan_out_path(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(
            &json!({ "title": "發票" }),
            vec![TestFile::new("a.txt", b"invoice 2024".to_vec())],
        )
        .await;
    let hash = record["files"][0]["sha256"]
        .as_str()
        .expect("hash")
        .to_owned();
    let expected = app
        .data_dir
        .path()
        .join("objects/blobs/sha256")
        .join(&hash[0..2])
        .join(&hash[2..4])
        .join(&hash);
    assert_eq!(
        std::fs::read(expected).expect("stored object"),
        b"invoice 2024"
    );
}

#[sqlx::test]
async fn the_same_content_in_two_records_is_stored_once(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let pdf = corpus("pdf/debian-faq.zh-cn.pdf");

    let first = app
        .file_record(
            &json!({ "title": "合同 甲" }),
            vec![TestFile::new("甲.pdf", pdf.clone())],
        )
        .await;
    let second = app
        .file_record(
            &json!({ "title": "合同 乙" }),
            vec![TestFile::new("乙.pdf", pdf.clone())],
        )
        .await;

    assert_ne!(first["id"], second["id"]);
    assert_eq!(first["files"][0]["sha256"], second["files"][0]["sha256"]);
    assert_eq!(app.objects("blobs/sha256").len(), 1);
    let refcount: i32 = sqlx::query_scalar("select refcount from blobs")
        .fetch_one(&app.pool)
        .await
        .expect("one blob row");
    assert_eq!(refcount, 2);
}

#[sqlx::test]
async fn a_record_without_files_is_filed(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(
            &json!({ "title": "實物 錦旗", "description": "紅色錦旗一面" }),
            vec![],
        )
        .await;
    assert_eq!(record["files"], json!([]));
    assert_eq!(record["description"], "紅色錦旗一面");
}

#[sqlx::test]
async fn the_document_date_defaults_to_the_filing_date_in_the_configured_zone(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(&json!({ "title": "會議紀要" }), vec![])
        .await;
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    assert_eq!(record["doc_date"], today.to_string());
}

#[sqlx::test]
async fn an_upload_over_the_limit_is_413_and_stores_nothing(pool: PgPool) {
    let app = TestApp::spawn_with(pool, &[("DANGAN_MAX_UPLOAD_BYTES", "4000")]).await;

    let response = app
        .upload(
            &json!({ "title": "太大" }),
            vec![TestFile::new("big.bin", vec![7u8; 20_000])],
        )
        .await;

    assert_problem(response, 413, "payload_too_large").await;
    assert_nothing_stored(&app).await;
}

#[sqlx::test]
async fn an_upload_of_more_files_than_a_record_takes_is_400_and_stores_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let files = (0..501)
        .map(|n| TestFile::new(&format!("p{n}.txt"), format!("第{n}頁").into_bytes()))
        .collect();
    let response = app.upload(&json!({ "title": "太多頁" }), files).await;
    let problem = assert_problem(response, 400, "validation").await;
    assert!(
        problem.to_string().contains("at most 500 files"),
        "{problem}"
    );
    assert_nothing_stored(&app).await;
}

#[sqlx::test]
async fn a_chunked_upload_that_grows_over_the_limit_is_413_and_stores_nothing(pool: PgPool) {
    let app = TestApp::spawn_with(pool, &[("DANGAN_MAX_UPLOAD_BYTES", "50000")]).await;
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> =
        (0..20).map(|_| Ok(vec![1u8; 8192])).collect();
    let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let form = reqwest::multipart::Form::new()
        .part(
            "metadata",
            reqwest::multipart::Part::text(r#"{"title":"串流"}"#),
        )
        .part(
            "file",
            reqwest::multipart::Part::stream(body).file_name("stream.bin"),
        );

    let response = app
        .post("/api/v1/records")
        .multipart(form)
        .send()
        .await
        .expect("sent");

    assert_problem(response, 413, "payload_too_large").await;
    assert_nothing_stored(&app).await;
}

async fn assert_nothing_stored(app: &TestApp) {
    // the partial staging file is removed by the request or, at worst, the staging collector
    for _ in 0..50 {
        if app.objects("staging").is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(app.objects("staging"), Vec::<std::path::PathBuf>::new());
    assert_eq!(app.objects("blobs"), Vec::<std::path::PathBuf>::new());
    assert_eq!(app.count("records").await, 0);
    assert_eq!(app.count("blobs").await, 0);
}

#[sqlx::test]
async fn malformed_multipart_is_400(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let response = app
        .post("/api/v1/records")
        .header("content-type", "multipart/form-data; boundary=XYZ")
        .body("--XYZ\r\nContent-Disposition: form-data; name=\"metadata\"\r\n\r\n{\"title\":")
        .send()
        .await
        .expect("sent");
    assert_problem(response, 400, "validation").await;
    assert_eq!(app.count("records").await, 0);
}

#[sqlx::test]
async fn a_body_that_is_not_multipart_is_415(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let response = app
        .post("/api/v1/records")
        .json(&json!({ "title": "x" }))
        .send()
        .await
        .expect("sent");
    assert_problem(response, 415, "unsupported_media_type").await;
}

#[sqlx::test]
async fn a_missing_metadata_part_is_400_and_the_staged_file_is_removed(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(b"content".to_vec()).file_name("a.txt"),
    );
    let response = app
        .post("/api/v1/records")
        .multipart(form)
        .send()
        .await
        .expect("sent");
    let body = assert_problem(response, 400, "validation").await;
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .contains("metadata"),
        "{body}"
    );
    assert_nothing_stored(&app).await;
}

#[sqlx::test]
async fn invalid_metadata_is_400_naming_the_problem(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for (metadata, expected) in [
        ("{\"title\": ", "invalid JSON"),
        ("{\"doc_date\": \"2024-01-01\"}", "title"),
        ("{\"title\": \"  \"}", "title"),
        (
            "{\"title\": \"x\", \"doc_date\": \"2024-13-01\"}",
            "invalid JSON",
        ),
        ("{\"title\": \"x\", \"colour\": \"red\"}", "colour"),
    ] {
        let form = reqwest::multipart::Form::new()
            .part("metadata", reqwest::multipart::Part::text(metadata));
        let response = app
            .post("/api/v1/records")
            .multipart(form)
            .send()
            .await
            .expect("sent");
        let body = assert_problem(response, 400, "validation").await;
        assert!(
            body["detail"].as_str().expect("detail").contains(expected),
            "{metadata}: {body}"
        );
    }
    assert_eq!(app.count("records").await, 0);
}

#[sqlx::test]
async fn a_failure_after_the_blob_write_leaves_no_record_and_no_content(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    // A real database failure between the blob write and the commit: the audit insert fails.
    app.refuse_inserts("audit_events", "new.action = 'record.created'")
        .await;

    let response = app
        .upload(
            &json!({ "title": "失敗" }),
            vec![TestFile::new("a.pdf", corpus("pdf/debian-faq.zh-cn.pdf"))],
        )
        .await;

    let body = assert_problem(response, 500, "internal").await;
    assert!(
        !body["detail"].as_str().expect("detail").contains("refused"),
        "no internals leak"
    );
    assert_nothing_stored(&app).await;
}

/// A write refused at its commit removes the content it stored only while nothing else
/// references it. Here a second upload of the same content waits for the refused one's blob
/// row, takes its reference and finds the object there (so keeps it, creating nothing):
/// before, the refused upload deleted the object under it. Which of the two then reaches
/// the row first is a race, and either way the second record's file must stay readable:
/// if the refused upload's cleanup comes first, the second upload's promotion stores the
/// content again.
#[sqlx::test]
async fn a_refused_commit_keeps_content_that_a_waiting_write_took_meanwhile(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    sqlx::raw_sql(
        "create function refuse_late() returns trigger language plpgsql as
           $$ begin perform pg_sleep(1); raise exception 'refused at commit'; end $$;
         create constraint trigger refuse_commit after insert on records
           deferrable initially deferred for each row
           when (new.title = '被拒') execute function refuse_late();",
    )
    .execute(&app.pool)
    .await
    .expect("install a trigger that refuses the commit");
    let pdf = corpus("pdf/debian-faq.zh-cn.pdf");
    let digest = Sha256::digest(&pdf).to_vec();

    let metadata = json!({ "title": "被拒" });
    let refused = app.upload(&metadata, vec![TestFile::new("a.pdf", pdf.clone())]);
    let waiting_write = async {
        // the refused upload's object is in place while its commit waits in the trigger
        while app.objects("blobs").is_empty() {
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
        app.upload(
            &json!({ "title": "同時歸檔" }),
            vec![TestFile::new("b.pdf", pdf.clone())],
        )
        .await
    };
    let (refused, waited) = tokio::join!(refused, waiting_write);

    assert_problem(refused, 500, "internal").await;
    assert_eq!(waited.status(), 201, "the waiting upload is filed");
    let record: serde_json::Value = waited.json().await.expect("record JSON");
    assert_eq!(app.count("records").await, 1);
    assert_eq!(
        app.objects("blobs").len(),
        1,
        "the content the other write references stays"
    );
    let refcount: i32 = sqlx::query_scalar("select refcount from blobs where sha256 = $1")
        .bind(&digest)
        .fetch_one(&app.pool)
        .await
        .expect("refcount");
    assert_eq!(refcount, 1);
    let (id, file_id) = (&record["id"], &record["files"][0]["id"]);
    let id = id.as_str().expect("id");
    let file_id = file_id.as_str().expect("file id");
    let stored = app
        .get_bytes(&format!("/api/v1/records/{id}/files/{file_id}"))
        .await;
    assert_eq!(stored, pdf, "the second record's file is whole");
}

/// Content of a failed upload is removed with its blob row, so the next upload of it stores
/// it afresh and files it whole.
#[sqlx::test]
async fn content_of_a_failed_upload_can_be_filed_again(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.refuse_inserts("records", "new.title = '失敗'").await;
    let pdf = corpus("pdf/debian-faq.zh-cn.pdf");
    let failed = app
        .upload(
            &json!({ "title": "失敗" }),
            vec![TestFile::new("a.pdf", pdf.clone())],
        )
        .await;
    assert_problem(failed, 500, "internal").await;
    assert_nothing_stored(&app).await;

    let record = app
        .file_record(
            &json!({ "title": "再試" }),
            vec![TestFile::new("a.pdf", pdf.clone())],
        )
        .await;
    let id = record["id"].as_str().expect("id");
    let file_id = record["files"][0]["id"].as_str().expect("file id");
    let download = app
        .get_bytes(&format!("/api/v1/records/{id}/files/{file_id}"))
        .await;
    assert_eq!(download, pdf);
}

#[sqlx::test]
async fn abandoned_staging_objects_are_collected_after_the_configured_age(pool: PgPool) {
    let app = TestApp::spawn_with(pool, &[("DANGAN_STORAGE__STAGING_MAX_AGE", "1h")]).await;
    let staging = app.data_dir.path().join("objects/staging");
    let old = staging.join("0190d7a0-0000-7000-8000-000000000001");
    let fresh = staging.join("0190d7a0-0000-7000-8000-000000000002");
    std::fs::write(&old, b"left by a crash").expect("write");
    std::fs::write(&fresh, b"upload in progress").expect("write");
    let two_hours_ago = std::time::SystemTime::now() - std::time::Duration::from_secs(7200);
    std::fs::File::options()
        .write(true)
        .open(&old)
        .and_then(|file| file.set_modified(two_hours_ago))
        .expect("age the file");

    dangan::jobs::housekeeping(&app.app, app.settings.storage.staging_max_age).await;

    assert!(!old.exists(), "old staging object collected");
    assert!(fresh.exists(), "recent staging object kept");
}

#[sqlx::test]
async fn filing_without_a_token_is_401(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let form = reqwest::multipart::Form::new().part(
        "metadata",
        reqwest::multipart::Part::text(r#"{"title":"x"}"#),
    );
    let response = app
        .client
        .post(app.url("/api/v1/records"))
        .multipart(form)
        .send()
        .await
        .expect("sent");
    assert_problem(response, 401, "unauthorized").await;
    assert_eq!(app.count("records").await, 0);
}

/// The answer to a filing is the record as committed, field by field (its files apart).
fn assert_filed_as_read(record: &serde_json::Value, fetched: &serde_json::Value) {
    for (field, value) in record.as_object().expect("record object") {
        if field != "files" {
            assert_eq!(&fetched[field], value, "{field} as filed and as read");
        }
    }
}
