//! Search over the documents' own text, extracted by the worker: Chinese PDFs in both
//! scripts, an OCR'd scan, failures that stay visible, destroyed records leaving the index.

use serde_json::json;
use sqlx::PgPool;

use super::{search, settle, titles};
use crate::helpers::{TestApp, TestFile, corpus};

#[sqlx::test]
async fn chinese_pdfs_are_found_by_their_text_in_either_script(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for (title, path) in [
        ("手冊 繁體", "pdf/maint-guide.zh-tw.pdf"),
        ("手册 简体", "pdf/maint-guide.zh-cn.pdf"),
    ] {
        let name = path.rsplit('/').next().unwrap_or(path);
        app.file_record(
            &json!({ "title": title }),
            vec![TestFile::new(name, corpus(path))],
        )
        .await;
    }
    settle(&app).await;
    let texts: Vec<(String, String)> =
        sqlx::query_as("select status, coalesce(method, '') from file_texts")
            .fetch_all(&app.pool)
            .await
            .expect("texts");
    assert_eq!(texts.len(), 2);
    assert!(
        texts.iter().all(|(status, _)| status == "done"),
        "{texts:?}"
    );

    // words of the text, not the titles: Simplified finds the Traditional edition and back
    let mut simplified = titles(&search(&app, "新维护 手册").await);
    simplified.sort();
    assert_eq!(simplified, vec!["手冊 繁體", "手册 简体"]);
    let mut traditional = titles(&search(&app, "通用公共許可證").await);
    traditional.sort();
    assert_eq!(traditional, vec!["手冊 繁體", "手册 简体"]);
    let results = search(&app, "维护").await;
    let snippet = results["hits"][0]["snippet"].as_str().expect("snippet");
    assert!(snippet.contains("<mark>"), "{snippet}");
}

#[sqlx::test]
async fn text_found_only_in_an_ocr_scan_is_searchable(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(
            &json!({ "title": "扫描件" }),
            vec![TestFile::new("scan.jpg", corpus("scans/scan_sc.jpg"))],
        )
        .await;
    settle(&app).await;
    let method: String = sqlx::query_scalar("select method from file_texts")
        .fetch_one(&app.pool)
        .await
        .expect("text row");
    assert!(method.contains("ocr"), "{method}");
    for q in ["南山区", "深圳市", "身份证"] {
        let results = search(&app, q).await;
        assert_eq!(
            results["hits"][0]["record_id"], record["id"],
            "{q}: {results}"
        );
    }
}

/// A one-page PDF whose page is the corpus's scanned ID card and nothing else, as a scanner
/// makes it: its text layer is empty.
fn scanned_pdf() -> Vec<u8> {
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let image = Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Image", "Width" => 2529, "Height" => 3544,
            "ColorSpace" => "DeviceRGB", "BitsPerComponent" => 8, "Filter" => "DCTDecode",
        },
        corpus("scans/scan_sc.jpg"),
    );
    let image_id = doc.add_object(image);
    let content = Stream::new(dictionary! {}, b"q 595 0 0 842 0 0 cm /Im0 Do Q".to_vec());
    let content_id = doc.add_object(content);
    let page_id = doc.add_object(dictionary! {
        "Type" => "Page", "Parent" => pages_id, "Contents" => content_id,
        "Resources" => dictionary! { "XObject" => dictionary! { "Im0" => image_id } },
    });
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! {
            "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1,
            "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
        }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).expect("pdf");
    bytes
}

#[sqlx::test]
async fn a_scanned_pdf_whose_text_layer_is_empty_is_read_by_ocr(pool: PgPool) {
    // pdftotext alone reads it from memory first and finds nothing; the sandbox child then
    // renders the page and runs OCR
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(
            &json!({ "title": "扫描的PDF" }),
            vec![TestFile {
                name: "scan.pdf".into(),
                bytes: scanned_pdf(),
                content_type: Some("application/pdf".into()),
            }],
        )
        .await;
    settle(&app).await;
    let (status, method): (String, Option<String>) =
        sqlx::query_as("select status, method from file_texts")
            .fetch_one(&app.pool)
            .await
            .expect("text row");
    assert_eq!(status, "done");
    assert!(method.unwrap_or_default().contains("ocr"));
    let results = search(&app, "南山区").await;
    assert_eq!(results["hits"][0]["record_id"], record["id"], "{results}");
}

#[sqlx::test]
async fn a_file_without_text_is_recorded_as_failed_and_the_job_says_why(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(
            &json!({ "title": "损坏的文件" }),
            vec![TestFile {
                name: "broken.pdf".into(),
                bytes: b"%PDF-1.7\nthis is not really a pdf".to_vec(),
                content_type: Some("application/pdf".into()),
            }],
        )
        .await;
    settle(&app).await;
    let (status, error): (String, Option<String>) =
        sqlx::query_as("select status, error from file_texts")
            .fetch_one(&app.pool)
            .await
            .expect("text row");
    assert_eq!(status, "failed");
    assert!(!error.unwrap_or_default().is_empty());
    let record: serde_json::Value = app
        .get(&format!(
            "/api/v1/records/{}",
            record["id"].as_str().expect("id")
        ))
        .send()
        .await
        .expect("record")
        .json()
        .await
        .expect("json");
    assert_eq!(record["files"][0]["text"]["status"], "failed", "{record}");
    let response = app
        .get("/api/v1/jobs")
        .query(&[("kind", "extract_text")])
        .send()
        .await
        .expect("jobs");
    let page: serde_json::Value = response.json().await.expect("json");
    assert_eq!(page["items"][0]["status"], "failed", "{page}");
    // the record itself is still found by its catalogue entry
    assert_eq!(search(&app, "损坏").await["total"], 1);
}

#[sqlx::test]
async fn a_destroyed_record_is_gone_from_results(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(&json!({ "title": "到期销毁的合同" }), vec![])
        .await;
    settle(&app).await;
    assert_eq!(search(&app, "销毁的合同").await["total"], 1);
    sqlx::query("update records set status = 'destroyed' where id = $1::uuid")
        .bind(record["id"].as_str().expect("id"))
        .execute(&app.pool)
        .await
        .expect("destroy");
    // even before the index catches up, a destroyed record is never shown
    assert!(titles(&search(&app, "销毁的合同").await).is_empty());
    settle(&app).await;
    assert_eq!(search(&app, "销毁的合同").await["total"], 0);
}
