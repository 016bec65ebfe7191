//! Reading records and downloading their files: ETag, Range, Content-Disposition, 404s.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, TestFile, assert_problem, corpus};

async fn filed_pdf(app: &TestApp) -> (Value, Vec<u8>) {
    let pdf = corpus("pdf/debian-faq.zh-cn.pdf");
    let record = app
        .file_record(
            &json!({ "title": "常見問題" }),
            vec![TestFile::new("常見問題 解答.pdf", pdf.clone())],
        )
        .await;
    (record, pdf)
}

fn file_path(record: &Value) -> String {
    format!(
        "/api/v1/records/{}/files/{}",
        record["id"].as_str().expect("id"),
        record["files"][0]["id"].as_str().expect("file id")
    )
}

#[sqlx::test]
async fn a_download_returns_the_same_bytes_with_etag_and_utf8_filename(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (record, pdf) = filed_pdf(&app).await;

    let response = app.get(&file_path(&record)).send().await.expect("download");

    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(
        headers["etag"],
        format!(
            "\"{}\"",
            record["files"][0]["sha256"].as_str().expect("hash")
        )
    );
    assert_eq!(headers["content-type"], "application/pdf");
    assert_eq!(headers["accept-ranges"], "bytes");
    let disposition = headers["content-disposition"]
        .to_str()
        .expect("ascii header");
    assert!(
        disposition.contains(
            "filename*=UTF-8''%E5%B8%B8%E8%A6%8B%E5%95%8F%E9%A1%8C%20%E8%A7%A3%E7%AD%94.pdf"
        ),
        "{disposition}"
    );
    assert_eq!(
        response.bytes().await.expect("body").as_ref(),
        pdf.as_slice()
    );
}

#[sqlx::test]
async fn a_range_request_returns_206_with_exactly_those_bytes(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (record, pdf) = filed_pdf(&app).await;

    let response = app
        .get(&file_path(&record))
        .header("range", "bytes=100-1099")
        .send()
        .await
        .expect("range");
    assert_eq!(response.status(), 206);
    assert_eq!(
        response.headers()["content-range"],
        format!("bytes 100-1099/{}", pdf.len())
    );
    assert_eq!(
        response.bytes().await.expect("body").as_ref(),
        &pdf[100..1100]
    );

    let suffix = app
        .get(&file_path(&record))
        .header("range", "bytes=-10")
        .send()
        .await
        .expect("suffix range");
    assert_eq!(suffix.status(), 206);
    assert_eq!(
        suffix.bytes().await.expect("body").as_ref(),
        &pdf[pdf.len() - 10..]
    );
}

#[sqlx::test]
async fn a_range_beyond_the_end_is_416(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (record, pdf) = filed_pdf(&app).await;
    let response = app
        .get(&file_path(&record))
        .header("range", format!("bytes={}-", pdf.len() + 10))
        .send()
        .await
        .expect("range");
    assert_eq!(
        response.headers()["content-range"],
        format!("bytes */{}", pdf.len())
    );
    assert_problem(response, 416, "range_not_satisfiable").await;
}

#[sqlx::test]
async fn a_matching_if_none_match_is_304(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (record, _) = filed_pdf(&app).await;
    let etag = format!(
        "\"{}\"",
        record["files"][0]["sha256"].as_str().expect("hash")
    );
    let response = app
        .get(&file_path(&record))
        .header("if-none-match", &etag)
        .send()
        .await
        .expect("conditional");
    assert_eq!(response.status(), 304);
}

#[sqlx::test]
async fn unknown_records_and_files_are_404(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (record, _) = filed_pdf(&app).await;
    let unknown = uuid::Uuid::new_v4();

    let response = app
        .get(&format!("/api/v1/records/{unknown}"))
        .send()
        .await
        .expect("get");
    assert_problem(response, 404, "not_found").await;
    let response = app
        .get(&format!(
            "/api/v1/records/{}/files/{unknown}",
            record["id"].as_str().expect("id")
        ))
        .send()
        .await
        .expect("get");
    assert_problem(response, 404, "not_found").await;
    let response = app
        .get("/api/v1/records/not-a-uuid")
        .send()
        .await
        .expect("get");
    assert_problem(response, 400, "validation").await;
}

/// Originals and copies (原件/複印件): a copy is filed only with the reason why, a note on
/// an original or a description of more files than were sent is refused and stores nothing,
/// and each file says what it is.
#[sqlx::test]
async fn a_copy_is_filed_only_with_its_reason_and_each_file_says_what_it_is(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let scans = || {
        vec![
            TestFile::new("劳动合同.txt", "劳动合同 原件扫描".as_bytes().to_vec()),
            TestFile::new("身份证复印件.txt", "身份证 复印件".as_bytes().to_vec()),
        ]
    };
    for files in [
        json!([{}, { "copy": true }]),
        json!([{}, { "copy": true, "copy_note": "  " }]),
        json!([{ "copy_note": "原件存人事部" }]),
        json!([{}, {}, { "copy": true, "copy_note": "多描述了一份" }]),
    ] {
        let refused = app
            .upload(&json!({ "title": "员工入职材料", "files": files }), scans())
            .await;
        let problem = assert_problem(refused, 400, "validation").await;
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|detail| detail.contains("files")),
            "{problem}"
        );
    }
    assert_eq!(app.count("records").await, 0);
    assert_eq!(app.count("record_files").await, 0);

    let record = app
        .file_record(
            &json!({ "title": "员工入职材料", "files": [{}, { "copy": true, "copy_note": "原件由本人保管" }] }),
            scans(),
        )
        .await;
    let files = &record["files"];
    assert_eq!(files[0]["copy"], false);
    assert!(files[0].get("copy_note").is_none(), "{files}");
    assert_eq!(files[1]["copy"], true);
    assert_eq!(files[1]["copy_note"], "原件由本人保管");
    let read = app
        .get_json(&format!(
            "/api/v1/records/{}",
            record["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(read["files"][1]["copy_note"], "原件由本人保管");
    assert_eq!(read["files"][0]["copy"], false);
}

#[sqlx::test]
async fn a_files_text_status_is_one_of_the_four_the_document_names(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(
            &json!({ "title": "抽取狀態" }),
            vec![TestFile::new("note.txt", "庫房溫濕度".as_bytes().to_vec())],
        )
        .await;
    let path = format!("/api/v1/records/{}", record["id"].as_str().expect("id"));
    assert_eq!(
        app.get_json(&path).await["files"][0]["text"]["status"],
        "pending"
    );
    dangan::jobs::runner::run_until_idle(&app.app)
        .await
        .expect("run");
    assert_eq!(
        app.get_json(&path).await["files"][0]["text"]["status"],
        "done"
    );
    let doc = app.get_json("/api/openapi.json").await;
    assert_eq!(
        doc["components"]["schemas"]["TextStatus"]["enum"],
        json!(["pending", "done", "failed", "unsupported"]),
        "{}",
        doc["components"]["schemas"]["FileTextView"]
    );
}
