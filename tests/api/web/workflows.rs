//! The records office's daily work in the browser: filing into a personnel folder until its
//! checklist loses the item, a loan registered by the archivist and approved by the
//! director, an appraisal, a batch and its two approvals down to the destruction list, and
//! a reading out of range showing as an alert on the room's chart.

use serde_json::{Value, json};
use sqlx::PgPool;

use super::{log_in, page_is_healthy};
use crate::helpers::browser::{Browser, with_browser};
use crate::helpers::{ADMIN_PASSWORD, TestApp, TestFile, corpus};
use crate::search::settle;

pub(super) const PASSWORD: &str = "a-long-password";

async fn log_out(browser: &Browser) {
    browser.click("header form[action='/logout'] button").await;
    browser.wait_for_path("/login").await;
}

pub(super) async fn switch_user(browser: &Browser, username: &str, next: &str) {
    log_out(browser).await;
    log_in(browser, username, PASSWORD, next).await;
}

#[sqlx::test]
async fn filing_an_id_card_copy_into_a_personnel_folder_ticks_its_checklist(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let party: Value = app
        .post("/api/v1/parties")
        .json(&json!({"kind": "employee", "identifier": "E-2001", "name": "王曉明", "department": "BGS"}))
        .send()
        .await
        .expect("party")
        .json()
        .await
        .expect("party JSON");
    let folder = format!("/folders/{}", party["id"].as_str().expect("id"));
    let files = tempfile::tempdir().expect("temp dir");
    let scan = files.path().join("身份證.jpg");
    std::fs::write(&scan, corpus("scans/scan_sc.jpg")).expect("scan");
    let folder_ref = &folder;
    with_browser(&app.address, "zh-CN", "folder", |browser| async move {
        log_in(&browser, "admin", ADMIN_PASSWORD, folder_ref).await;
        page_is_healthy(&browser).await;
        let row = "tr[data-code='id_card']";
        assert_eq!(
            browser.attribute(row, "class").await.as_deref(),
            Some("missing")
        );
        browser.click("a[href^='/upload?party_id=']").await;
        browser.wait_for_path("/upload").await;
        browser.type_into("#title", "王曉明 身份證復印件").await;
        browser
            .script(
                "document.getElementById('category').value = 'RS';\
                 document.getElementById('department').value = 'BGS';\
                 document.getElementById('doc_type').value = 'id_card';",
            )
            .await;
        browser
            .type_into("#file", &scan.display().to_string())
            .await;
        browser.click("#upload-form button[type=submit]").await;
        browser.wait_for_path("/records/").await;
        page_is_healthy(&browser).await;
        browser.goto(folder_ref).await;
        assert_eq!(
            browser.attribute(row, "class").await.as_deref(),
            Some("present")
        );
        assert!(browser.source().await.contains("王曉明 身份證復印件"));
        page_is_healthy(&browser).await;
    })
    .await;
}

#[sqlx::test]
async fn a_loan_registered_by_the_archivist_is_approved_by_the_director(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(
            &json!({"title": "董事會決議（借閱）", "category": "WS", "security_level": "secret"}),
            vec![TestFile::new("a.txt", b"resolution".to_vec())],
        )
        .await;
    app.user_token("keeper", "archivist", Some("BGS")).await;
    app.user_token("director", "director", Some("BGS")).await;
    app.user_token("clerk", "staff", Some("BGS")).await;
    let loans = format!("/loans?record_id={}", record["id"].as_str().expect("id"));
    let loans_ref = &loans;
    with_browser(&app.address, "zh-CN", "loan", |browser| async move {
        log_in(&browser, "keeper", PASSWORD, loans_ref).await;
        page_is_healthy(&browser).await;
        browser.type_into("#borrower", "clerk").await;
        browser.type_into("#purpose", "審計核對").await;
        browser.click("#loan-form button[type=submit]").await;
        browser.wait_for_path("/loans?done=registered").await;
        assert!(
            browser
                .text("tr.requested td.status")
                .await
                .contains("待审批")
        );
        switch_user(&browser, "director", "/loans").await;
        page_is_healthy(&browser).await;
        browser.click("tr.requested button.approve").await;
        browser.wait_for_path("/loans?done=decided").await;
        assert!(
            browser
                .text("tr.approved td.status")
                .await
                .contains("已批准")
        );
        page_is_healthy(&browser).await;
    })
    .await;
    let listed: Value = app.get_json("/api/v1/loans").await;
    assert_eq!(listed["items"][0]["status"], "approved");
    assert_eq!(listed["items"][0]["borrower"], "clerk");
}

#[sqlx::test]
async fn an_appraisal_a_batch_and_two_approvals_lead_to_the_destruction_list(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for title in ["過期會議紀要 甲", "過期會議紀要 乙"] {
        app.file_record(
            &json!({"title": title, "doc_date": "2000-01-01", "category": "WS",
                    "retention": "D10", "department": "BGS"}),
            vec![TestFile::new("a.txt", title.as_bytes().to_vec())],
        )
        .await;
    }
    settle(&app).await;
    for (name, role) in [
        ("keeper", "archivist"),
        ("director", "director"),
        ("gm", "general_manager"),
    ] {
        app.user_token(name, role, Some("BGS")).await;
    }
    let app_ref = &app;
    with_browser(&app.address, "zh-TW", "disposition", |browser| async move {
        log_in(
            &browser,
            "keeper",
            PASSWORD,
            "/disposition?as_of=2026-12-31",
        )
        .await;
        page_is_healthy(&browser).await;
        for _ in 0..2 {
            // from an address without `done=`, so that waiting for it waits for this form
            browser.goto("/disposition?as_of=2026-12-31").await;
            browser
                .type_into(
                    "tr:not(.appraised) form.appraise input[name=reason]",
                    "期滿無保存價值",
                )
                .await;
            browser
                .click("tr:not(.appraised) form.appraise button")
                .await;
            browser
                .wait_for_path("/disposition?as_of=2026-12-31&done=appraised")
                .await;
        }
        assert_eq!(browser.text("tr[data-record] td.decision").await, "銷毀");
        browser.type_into("#supervisors", "王監銷").await;
        browser.click("#batch-form button[type=submit]").await;
        browser
            .wait_for_path("/disposition?as_of=2026-12-31&done=created")
            .await;
        assert!(
            browser
                .text("tr[data-batch] td.status")
                .await
                .contains("待核准")
        );
        for approver in ["director", "gm"] {
            switch_user(&browser, approver, "/disposition").await;
            browser.click("tr[data-batch] button.approve").await;
            browser.wait_for_path("/disposition?as_of=").await;
            page_is_healthy(&browser).await;
        }
        let approvals = browser.text("tr[data-batch] td.approvals").await;
        assert!(
            approvals.contains("director") && approvals.contains("gm"),
            "{approvals}"
        );
        // the worker runs the batch; the page shows it done and links its destruction list
        settle(app_ref).await;
        browser.goto("/disposition").await;
        assert!(
            browser
                .text("tr[data-batch] td.status")
                .await
                .contains("已完成")
        );
        let list = browser
            .attribute("a.list-csv", "href")
            .await
            .unwrap_or_default();
        let csv = app_ref
            .get(&list)
            .send()
            .await
            .expect("list")
            .text()
            .await
            .expect("csv");
        assert!(
            csv.contains("過期會議紀要 甲") && csv.contains("過期會議紀要 乙"),
            "{csv}"
        );
    })
    .await;
}

#[sqlx::test]
async fn a_reading_out_of_range_shows_as_an_alert_on_the_rooms_chart(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.user_token("keeper", "archivist", Some("BGS")).await;
    with_browser(&app.address, "en", "rooms", |browser| async move {
        log_in(&browser, "keeper", PASSWORD, "/rooms").await;
        page_is_healthy(&browser).await;
        browser.type_into("#code", "K01").await;
        browser.type_into("#name", "Main store room").await;
        browser.click("#room-form button[type=submit]").await;
        browser.wait_for_path("/rooms/").await;
        page_is_healthy(&browser).await;
        browser.type_into("#temperature_c", "28").await;
        browser.type_into("#humidity_pct", "50").await;
        browser.click("#reading-form button[type=submit]").await;
        browser.wait_for_path("/rooms/").await;
        assert!(browser.text("p.notice").await.contains("Saved"));
        let alert_points = browser
            .script("return document.querySelectorAll('svg.chart-svg circle.alert').length;")
            .await;
        assert_eq!(
            alert_points,
            json!(1),
            "one temperature point outside the band"
        );
        assert!(!browser.text("ul.alerts").await.is_empty());
        page_is_healthy(&browser).await;
    })
    .await;
}

#[sqlx::test]
async fn a_record_is_edited_its_text_read_and_its_history_shown(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(
            &json!({"title": "員工守則", "category": "WS", "department": "BGS"}),
            vec![TestFile::new(
                "守則.txt",
                "第一條 遵守檔案保密制度".as_bytes().to_vec(),
            )],
        )
        .await;
    settle(&app).await;
    let path = format!("/records/{}", record["id"].as_str().expect("id"));
    let path_ref = &path;
    with_browser(&app.address, "zh-CN", "edit", |browser| async move {
        log_in(&browser, "admin", ADMIN_PASSWORD, path_ref).await;
        browser.click("a[href*='/text/']").await;
        browser.wait_for_path(&format!("{path_ref}/text/")).await;
        assert!(browser.text("pre.text").await.contains("遵守檔案保密制度"));
        browser.goto(path_ref).await;
        browser.clear_field("#title").await;
        browser.type_into("#title", "員工守則（修訂版）").await;
        browser.type_into("#doc_number", "辦字〔2024〕7號").await;
        browser.click("#edit-form button[type=submit]").await;
        browser.wait_for_path(&format!("{path_ref}?saved=1")).await;
        assert_eq!(browser.text("main h1").await, "員工守則（修訂版）");
        let history = browser.text("table.history").await;
        assert!(
            history.contains("record.updated") && history.contains("file.read"),
            "{history}"
        );
        page_is_healthy(&browser).await;
    })
    .await;
    let after = app
        .get_json(&path.replace("/records/", "/api/v1/records/"))
        .await;
    assert_eq!(after["doc_number"], "辦字〔2024〕7號");
}
