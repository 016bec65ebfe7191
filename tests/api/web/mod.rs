//! The web interface in a real headless Chromium: logging in, filing a PDF and a scan with
//! Chinese metadata typed into the form, finding the PDF by a query typed in Traditional
//! characters, opening its page and preview, switching languages; forged forms and lost
//! sessions. Every page visited is checked for server errors and browser console errors.

use serde_json::json;
use sqlx::PgPool;

use crate::helpers::browser::{Browser, with_browser};
use crate::helpers::{ADMIN_PASSWORD, TestApp, corpus};
use crate::search::settle;

mod admin;
mod corrections;
mod customers;
mod forms;
mod paper;
mod reviews;
mod searching;
mod workflows;

/// Logs in through the form as `username`; the browser lands on `next`.
pub async fn log_in(browser: &Browser, username: &str, password: &str, next: &str) {
    browser.goto(next).await;
    browser.wait_for_path("/login").await;
    browser.type_into("#username", username).await;
    browser.type_into("#password", password).await;
    // the page the form leads to has loaded: with `next` "/", the login page's own address
    // already starts with it
    browser
        .submit("form[action='/login'] button[type=submit]")
        .await;
    browser.wait_for_path(next).await;
}

/// The page rendered without a server error and without console errors.
pub async fn page_is_healthy(browser: &Browser) {
    let source = browser.source().await;
    assert!(
        !source.contains("internal error") && source.contains("<html lang="),
        "the page is not a healthy page: {source}"
    );
    let errors = browser.console_errors().await;
    assert!(
        errors.is_empty(),
        "console errors on {}: {errors:?}",
        browser.url().await
    );
    let problems = browser.accessibility_problems().await;
    assert!(
        problems.is_empty(),
        "accessibility problems on {}: {problems:?}",
        browser.url().await
    );
}

#[sqlx::test]
async fn an_archivist_files_a_pdf_and_a_scan_and_finds_the_pdf_typing_traditional(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let files = tempfile::tempdir().expect("temp dir");
    let pdf = files.path().join("新维护者手册.pdf");
    let scan = files.path().join("身份证复印件.jpg");
    std::fs::write(&pdf, corpus("pdf/maint-guide.zh-cn.pdf")).expect("pdf");
    std::fs::write(&scan, corpus("scans/scan_sc.jpg")).expect("scan");
    let app_ref = &app;
    with_browser(&app.address, "zh-CN", "filing", |browser| async move {
        // the search page asked for first: login, then back to it
        log_in(&browser, "admin", ADMIN_PASSWORD, "/search").await;
        assert_eq!(
            browser.attribute("html", "lang").await.as_deref(),
            Some("zh-CN")
        );
        page_is_healthy(&browser).await;

        browser.goto("/upload").await;
        page_is_healthy(&browser).await;
        browser
            .type_into("#title", "员工手册与身份证复印件（扫描）")
            .await;
        browser
            .script("document.getElementById('doc_date').value = '2024-03-01';")
            .await;
        browser
            .script(
                "document.getElementById('category').value = 'WS';\
                 document.getElementById('department').value = 'BGS';",
            )
            .await;
        browser.type_into("#responsible", "人事部 王晓明").await;
        let paths = format!("{}\n{}", pdf.display(), scan.display());
        browser.type_into("#file", &paths).await;
        browser.click("#upload-form button[type=submit]").await;
        browser.wait_for_path("/records/").await;
        page_is_healthy(&browser).await;
        let code = browser.text("#archival-code").await;
        assert!(code.starts_with("Z001-WS"), "{code}");
        assert!(
            browser
                .source()
                .await
                .contains("员工手册与身份证复印件（扫描）")
        );
        // the PDF shows in the browser's viewer, the scan as an image
        let preview = browser
            .attribute("iframe.preview", "src")
            .await
            .unwrap_or_default();
        assert!(preview.starts_with("/api/v1/records/"), "{preview}");
        let image = browser
            .attribute("img.preview", "src")
            .await
            .unwrap_or_default();
        assert!(image.contains("/files/"), "{image}");
        // the PDF's first page as a thumbnail, rendered by poppler
        assert!(browser.loaded_image_width("img.thumb").await > 100);
        let record_url = browser.url().await;

        // the text is extracted and indexed in the background
        settle(app_ref).await;
        browser.goto("/search").await;
        browser.type_into("#q", "維護者手冊").await;
        browser.click("form.search button[type=submit]").await;
        browser.wait_for_path("/search?q=").await;
        page_is_healthy(&browser).await;
        let first = browser.text(".hit .hit-title").await;
        assert_eq!(first, "员工手册与身份证复印件（扫描）");
        assert!(
            browser.source().await.contains("<mark>"),
            "highlighted snippet"
        );
        browser.click(".hit .hit-title").await;
        browser.wait_for_path("/records/").await;
        assert_eq!(browser.url().await, record_url.replace("?filed=1", ""));
    })
    .await;
}

#[sqlx::test]
async fn the_same_page_speaks_zh_tw_and_en_once_chosen(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(
            &json!({"title": "檔案管理辦法", "doc_date": "2026-12-03", "category": "WS"}),
            vec![],
        )
        .await;
    let path = format!("/records/{}", record["id"].as_str().expect("id"));
    let path_ref = &path;
    with_browser(&app.address, "zh-CN", "languages", |browser| async move {
        log_in(&browser, "admin", ADMIN_PASSWORD, path_ref).await;
        assert!(browser.source().await.contains("2026年12月3日"));
        assert!(browser.text("header nav").await.contains("检索"));
        browser.click("a[hreflang='zh-TW']").await;
        browser.wait_for_path(path_ref).await;
        assert_eq!(
            browser.attribute("html", "lang").await.as_deref(),
            Some("zh-TW")
        );
        assert!(browser.text("header nav").await.contains("檢索"));
        page_is_healthy(&browser).await;
        browser.click("a[hreflang='en']").await;
        browser.wait_for_path(path_ref).await;
        assert_eq!(
            browser.attribute("html", "lang").await.as_deref(),
            Some("en")
        );
        assert!(browser.text("header nav").await.contains("Search"));
        assert!(browser.source().await.contains("3 Dec 2026"));
        // remembered on the next page
        browser.goto("/search").await;
        assert_eq!(
            browser.attribute("html", "lang").await.as_deref(),
            Some("en")
        );
        page_is_healthy(&browser).await;
    })
    .await;
}

#[sqlx::test]
async fn every_page_renders_without_server_or_console_errors(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(&json!({"title": "巡檢用的檔案"}), vec![])
        .await;
    let room: serde_json::Value = app
        .post("/api/v1/rooms")
        .json(&json!({"code": "K09", "name": "巡檢庫房"}))
        .send()
        .await
        .expect("room")
        .json()
        .await
        .expect("room JSON");
    let pages = [
        "/".to_owned(),
        "/upload".to_owned(),
        "/search?q=%E6%AA%94%E6%A1%88".to_owned(),
        format!("/records/{}", record["id"].as_str().expect("id")),
        "/loans".to_owned(),
        "/disposition".to_owned(),
        "/releases".to_owned(),
        "/rooms".to_owned(),
        format!("/rooms/{}", room["id"].as_str().expect("id")),
        "/catalogue".to_owned(),
        "/integrity".to_owned(),
        "/audit?verify=1".to_owned(),
        "/admin".to_owned(),
    ];
    let pages_ref = &pages;
    with_browser(&app.address, "zh-CN", "every-page", |browser| async move {
        log_in(&browser, "admin", ADMIN_PASSWORD, "/").await;
        for page in pages_ref {
            browser.goto(page).await;
            page_is_healthy(&browser).await;
            assert!(
                !browser.text("main h1").await.is_empty(),
                "{page} has no heading"
            );
            if page.starts_with("/audit") {
                assert!(browser.text("#verdict").await.contains("审计链完整"));
            }
            if page == "/catalogue" {
                let pdf = browser.attribute("ul.reports a.report-pdf", "href").await;
                assert!(
                    pdf.as_deref()
                        .is_some_and(|href| href.contains("/api/v1/reports?year=")
                            && href.ends_with("format=pdf")),
                    "{pdf:?}"
                );
            }
        }
        // the API's own documentation, Swagger UI built into the binary
        browser.goto("/api/docs/").await;
        browser.find(".swagger-ui").await;
        assert!(browser.console_errors().await.is_empty());
    })
    .await;
    // a staff member's menu offers only what their role may use
    app.user_token("clerk", "staff", Some("BGS")).await;
    with_browser(&app.address, "en", "staff-menu", |browser| async move {
        log_in(&browser, "clerk", "a-long-password", "/").await;
        let menu = browser.text("header nav").await;
        assert!(menu.contains("Search") && menu.contains("Loans"), "{menu}");
        assert!(
            !menu.contains("Administration")
                && !menu.contains("Audit")
                && !menu.contains("Release review"),
            "{menu}"
        );
        browser.goto("/admin").await;
        assert!(browser.text("main").await.contains("You may not do this"));
    })
    .await;
}
