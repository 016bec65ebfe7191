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
