//! Hostile files against the real binary (`dangan serve` as a child process): a 1.6 KB
//! workbook that asks for a dense range of 16,384 × 1,048,576 cells, HTML of 200,000 nested
//! or unclosed tags. Each is filed, its extraction ends (in text or in a clear failure), and
//! the server goes on serving everyone else.

use std::io::{Cursor, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::child::{CHILD_ADMIN_PASSWORD, Dangan};
use crate::helpers::{database_url, login};

/// A `dangan serve` child with its client and admin token.
struct Served {
    server: Dangan,
    client: reqwest::Client,
    token: String,
    _data_dir: tempfile::TempDir,
}

impl Served {
    async fn start(pool: &PgPool) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let url = database_url(pool).await;
        let mut server = Dangan::start(
            "serve",
            &url,
            data_dir.path(),
            &[("DANGAN_WORKER__RETRY_BASE", "1s")],
        );
        let client = reqwest::Client::new();
        server.wait_ready(&client).await;
        let token = login(&client, &server.address, "admin", CHILD_ADMIN_PASSWORD).await;
        Self {
            server,
            client,
            token,
            _data_dir: data_dir,
        }
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.server.address))
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("request sent")
    }

    async fn file(&self, title: &str, name: &str, bytes: Vec<u8>) -> Value {
        let form = Form::new()
            .part(
                "metadata",
                Part::text(json!({ "title": title }).to_string())
                    .mime_str("application/json")
                    .expect("mime"),
            )
            .part("file", Part::bytes(bytes).file_name(name.to_owned()));
        let response = self
            .client
            .post(format!("{}/api/v1/records", self.server.address))
            .bearer_auth(&self.token)
            .multipart(form)
            .send()
            .await
            .expect("upload sent");
        assert_eq!(response.status(), 201, "{}", self.server.logs());
        response.json().await.expect("record JSON")
    }

    /// The record once its first file's text extraction has ended.
    async fn extracted(&mut self, record: &Value) -> Value {
        let path = format!("/api/v1/records/{}", record["id"].as_str().expect("id"));
        let started = Instant::now();
        loop {
            assert!(
                self.server.is_running(),
                "the server died:\n{}",
                self.server.logs()
            );
            let response = self.get(&path).await;
            assert_eq!(response.status(), 200);
            let body: Value = response.json().await.expect("record JSON");
            if body["files"][0]["text"]["status"] != "pending" {
                return body;
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "extraction still pending after two minutes:\n{}",
                self.server.logs()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Searches for `query` until `record` is the first hit (the index follows the text).
    async fn finds(&self, query: &str, record: &Value) {
        let path = format!("/api/v1/search?q={}", urlencode(query));
        let started = Instant::now();
        loop {
            let hits: Value = self.get(&path).await.json().await.expect("search JSON");
            if hits["hits"][0]["record_id"] == record["id"] {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "{query} does not find the record: {hits}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// The server answers, files and serves a file of someone else's.
    async fn still_serves(&mut self) {
        assert!(self.server.is_running(), "{}", self.server.logs());
        assert_eq!(self.get("/healthz").await.status(), 200);
        let record = self
            .file("仍在服務", "note.txt", "庫房溫濕度記錄".as_bytes().to_vec())
            .await;
        let body = self.extracted(&record).await;
        assert_eq!(body["files"][0]["text"]["status"], "done", "{body}");
        let content = self
            .get(&format!(
                "/api/v1/records/{}/files/{}",
                record["id"].as_str().expect("id"),
                record["files"][0]["id"].as_str().expect("file id")
            ))
            .await;
        assert_eq!(content.status(), 200);
        assert_eq!(
            content.text().await.expect("body").as_str(),
            "庫房溫濕度記錄"
        );
    }
}

/// A workbook whose only cells are A1 and XFD1048576, zipped by hand (1.6 KB): a reader that
/// builds a dense range sizes it at 16,384 × 1,048,576 cells.
fn far_cell_workbook() -> Vec<u8> {
    const MAIN: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
    const RELS: &str = "http://schemas.openxmlformats.org/package/2006/relationships";
    const DOC: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    let parts = [
        (
            "[Content_Types].xml".to_owned(),
            r#"<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>"#
                .to_owned(),
        ),
        (
            "_rels/.rels".to_owned(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#
            ),
        ),
        (
            "xl/workbook.xml".to_owned(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{DOC}"><sheets><sheet name="清冊" sheetId="1" r:id="rId1"/></sheets></workbook>"#
            ),
        ),
        (
            "xl/_rels/workbook.xml.rels".to_owned(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#
            ),
        ),
        (
            "xl/worksheets/sheet1.xml".to_owned(),
            format!(
                r#"<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>檔案</t></is></c></row><row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>末</t></is></c></row></sheetData></worksheet>"#
            ),
        ),
    ];
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, content) in parts {
        zip.start_file(name, options).expect("zip entry");
        zip.write_all(content.as_bytes()).expect("zip write");
    }
    zip.finish().expect("zip").into_inner()
}

/// 1,000 real rows spread over 7,000, in columns A, C and Z, with empty cells between.
fn sparse_workbook(dir: &Path) -> Vec<u8> {
    let path = dir.join("sparse.xlsx");
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    for row in 0..1000u32 {
        let at = row * 7;
        sheet
            .write(at, 0, format!("第{row}行"))
            .expect("write")
            .write(at, 2, f64::from(row))
            .expect("write")
            .write(at, 25, "備註")
            .expect("write");
    }
    workbook.save(&path).expect("save");
    std::fs::read(&path).expect("read back")
}

#[sqlx::test]
async fn a_far_cell_workbook_fails_its_extraction_clearly_and_the_server_keeps_serving(
    pool: PgPool,
) {
    let mut served = Served::start(&pool).await;
    let bytes = far_cell_workbook();
    assert!(bytes.len() < 2048, "{} bytes", bytes.len());

    let record = served.file("惡意工作簿", "hostile.xlsx", bytes).await;
    assert_eq!(
        record["files"][0]["media_type"],
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    );
    let body = served.extracted(&record).await;
    let text = &body["files"][0]["text"];
    assert_eq!(text["status"], "failed", "{body}");
    let error = text["error"].as_str().unwrap_or_default();
    assert!(
        error.contains("the extractor ran out of memory on this file"),
        "{error}"
    );
    // the record stays filed and its file downloadable
    assert_eq!(body["status"], "active");
    let download = served
        .get(&format!(
            "/api/v1/records/{}/files/{}",
            record["id"].as_str().expect("id"),
            record["files"][0]["id"].as_str().expect("file id")
        ))
        .await;
    assert_eq!(download.status(), 200);
    // the job ended failed, visibly, and is not run again
    let jobs: Value = served
        .get("/api/v1/jobs?kind=extract_text&status=failed")
        .await
        .json()
        .await
        .expect("jobs JSON");
    let failed = &jobs["items"][0];
    assert_eq!(failed["payload"]["file_id"], record["files"][0]["id"]);
    assert!(
        failed["last_error"]
            .as_str()
            .is_some_and(|error| error.contains("ran out of memory")),
        "{failed}"
    );
    served.still_serves().await;

    // a sparse sheet of 1,000 real rows still gives its text
    let dir = tempfile::tempdir().expect("temp dir");
    let sparse = served
        .file("稀疏工作簿", "sparse.xlsx", sparse_workbook(dir.path()))
        .await;
    let body = served.extracted(&sparse).await;
    assert_eq!(body["files"][0]["text"]["status"], "done", "{body}");
    served.finds("第999行", &sparse).await;
}

#[sqlx::test]
async fn html_of_200000_nested_or_unclosed_tags_is_bounded(pool: PgPool) {
    let mut served = Served::start(&pool).await;
    let depth = 200_000;
    let nested = format!(
        "<html><body>{}深層嵌套的員工檔案{}</body></html>",
        "<div><span>".repeat(depth),
        "</span></div>".repeat(depth)
    );
    let unclosed = format!(
        "<html><body><p>未閉合標籤之前的正文</p>{}</body></html>",
        "<a title=\"x ".repeat(depth)
    );
    for (title, html, expected) in [
        ("嵌套", nested, "深層嵌套的員工檔案"),
        ("未閉合", unclosed, "未閉合標籤之前的正文"),
    ] {
        let record = served.file(title, "page.html", html.into_bytes()).await;
        let body = served.extracted(&record).await;
        let text = &body["files"][0]["text"];
        assert_eq!(text["status"], "done", "{body}");
        assert!(
            text["chars"].as_i64().is_some_and(|chars| chars > 0),
            "{body}"
        );
        served.finds(&format!("\"{expected}\""), &record).await;
    }
    served.still_serves().await;
}

fn urlencode(text: &str) -> String {
    text.bytes().map(|byte| format!("%{byte:02X}")).collect()
}
