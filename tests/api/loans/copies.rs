//! Borrowed copies: a loan that permits copies gives the stored file; a PNG scan comes as a
//! marked PDF page that poppler draws.

use std::process::Command;

use serde_json::json;
use sqlx::PgPool;

use super::{get_as, lend, pdftotext, secret_record};
use crate::helpers::{TestApp, TestFile, corpus};

#[sqlx::test]
async fn a_loan_that_permits_copies_gives_the_stored_file(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let original = corpus("pdf/debian-faq.zh-cn.pdf");
    let record = secret_record(
        &app,
        json!({}),
        vec![TestFile::new("faq.pdf", original.clone())],
    )
    .await;
    let (id, file) = (
        record["id"].as_str().expect("id"),
        record["files"][0]["id"].as_str().expect("file"),
    );
    let clerk = app.user_token("clerk", "staff", None).await;
    let body = json!({"record_id": id, "purpose": "複印存檔", "days": 3});
    // the approver, not the borrower, allows copies
    let loan = lend(&app, "clerk", body, json!({"copy_allowed": true})).await;
    assert_eq!(loan["copy_allowed"], true);
    let download = get_as(&app, &clerk, &format!("/api/v1/records/{id}/files/{file}")).await;
    assert_eq!(download.status(), 200);
    assert_eq!(
        download.headers()["etag"],
        format!(
            "\"{}\"",
            record["files"][0]["sha256"].as_str().expect("sha")
        )
    );
    assert_eq!(
        download.bytes().await.expect("body").as_ref(),
        original.as_slice()
    );
}

/// A page of a corpus PDF rendered to PNG by poppler, as a scanner would deliver it.
fn png_scan() -> Vec<u8> {
    let dir = tempfile::tempdir().expect("tempdir");
    let pdf = dir.path().join("page.pdf");
    std::fs::write(&pdf, corpus("pdf/debian-faq.zh-cn.pdf")).expect("write");
    let status = Command::new("pdftoppm")
        .args(["-png", "-r", "40", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&pdf)
        .arg(dir.path().join("scan"))
        .status()
        .expect("pdftoppm runs (poppler-utils)");
    assert!(status.success());
    std::fs::read(dir.path().join("scan.png")).expect("png")
}

#[sqlx::test]
async fn a_borrowed_png_scan_comes_as_a_marked_pdf_page_that_renders(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = secret_record(
        &app,
        json!({}),
        vec![TestFile::new("id-card.png", png_scan())],
    )
    .await;
    let id = record["id"].as_str().expect("id");
    let file = record["files"][0]["id"].as_str().expect("file");
    let clerk = app.user_token("clerk", "staff", None).await;
    let body = json!({"record_id": id, "purpose": "核對身份", "days": 1});
    let loan = lend(&app, "clerk", body, json!({})).await;
    let loan_id = loan["id"].as_str().expect("loan id");
    let copy = get_as(&app, &clerk, &format!("/api/v1/records/{id}/files/{file}")).await;
    assert_eq!(copy.status(), 200);
    assert_eq!(copy.headers()["content-type"], "application/pdf");
    let disposition = copy.headers()["content-disposition"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(disposition.contains(".png.pdf"), "{disposition}");
    let pdf = copy.bytes().await.expect("copy");
    assert!(pdftotext(&pdf).contains(&format!("loan {loan_id}")));
    // poppler draws the page: the embedded scan decodes without complaint.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("copy.pdf"), &pdf).expect("write");
    let output = Command::new("pdftoppm")
        .args(["-png", "-r", "20", "-singlefile"])
        .arg(dir.path().join("copy.pdf"))
        .arg(dir.path().join("drawn"))
        .output()
        .expect("pdftoppm");
    assert!(
        output.status.success() && output.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
