//! The catalogue set-up in the browser: a department, a retention period and a category
//! with its fields and folder checklist, created and changed on `/admin`; the integrity
//! checks listed on `/integrity`.

use serde_json::json;
use sqlx::PgPool;

use super::{log_in, page_is_healthy};
use crate::helpers::browser::with_browser;
use crate::helpers::{ADMIN_PASSWORD, TestApp};

#[sqlx::test]
async fn the_admin_sets_up_a_department_a_retention_and_a_category_with_fields(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    with_browser(&app.address, "zh-CN", "admin-setup", |browser| async move {
        log_in(&browser, "admin", ADMIN_PASSWORD, "/admin").await;
        browser
            .type_into("#department-form input[name=code]", "FW")
            .await;
        browser
            .type_into("#department-form input[name=name]", "法务部")
            .await;
        browser.click("#department-form input[name=branch]").await;
        browser.click("#department-form button").await;
        browser.wait_for_url_with("done=1").await;
        assert!(browser.text("ul.departments").await.contains("法务部"));

        // each form from an address without `done=`, so that waiting for it waits for it
        browser.goto("/admin").await;
        browser
            .type_into("#retention-form input[name=code]", "D15")
            .await;
        browser
            .type_into("#retention-form input[name=name]", "十五年")
            .await;
        browser
            .type_into("#retention-form input[name=years]", "15")
            .await;
        browser.click("#retention-form button").await;
        browser.wait_for_url_with("done=1").await;

        browser.goto("/admin").await;
        browser.type_into("#category-code", "HT2").await;
        browser.type_into("#category-name", "采购合同").await;
        browser
            .script("document.getElementById('category-retention').value = 'D15';")
            .await;
        browser
            .type_into(
                "#category-fields",
                "contract_no | 合同编号 | text | required\namount | 金额 | number",
            )
            .await;
        browser
            .type_into("#category-checklist", "SIGNED | 签字页 | always")
            .await;
        browser.click("#category-form button").await;
        browser.wait_for_url_with("done=1").await;
        page_is_healthy(&browser).await;

        // a line that cannot be read is refused with its line named; nothing changes
        browser.click("details[data-category='HT2'] summary").await;
        browser
            .type_into("#checklist-HT2", "\nX | 某项 | sometimes")
            .await;
        browser
            .click("details[data-category='HT2'] form button")
            .await;
        browser.wait_for_url_with("error=").await;
        assert!(browser.text("p.error").await.contains("line 2"));
    })
    .await;
    let category = app.get_json("/api/v1/categories/HT2").await;
    assert_eq!(category["retention"], "D15");
    assert_eq!(category["fields"][0]["name"], "contract_no");
    assert_eq!(category["fields"][0]["required"], true);
    assert_eq!(category["fields"][1]["type"], "number");
    assert_eq!(category["checklist"].as_array().map(Vec::len), Some(1));
    let departments = app.get_json("/api/v1/departments").await;
    let branch = departments
        .as_array()
        .expect("departments")
        .iter()
        .find(|department| department["name"] == "法务部")
        .expect("法务部");
    assert_eq!(branch["branch"], true, "the box ticked makes it a branch");
}

/// The integrity page names each check's kind and status in the reader's language, not in
/// the API's words (before, "fixity" and "done" stood in the Chinese page).
#[sqlx::test]
async fn the_integrity_page_names_checks_in_the_readers_language(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(&json!({"title": "四性檢測用的檔案"}), vec![])
        .await;
    let response = app
        .post("/api/v1/integrity/checks")
        .json(&json!({"record_id": record["id"]}))
        .send()
        .await
        .expect("check");
    assert_eq!(
        response.status(),
        201,
        "a four-properties check, done at once"
    );
    let api_words = [
        "fixity",
        "four_properties",
        "queued",
        "running",
        "done",
        "failed",
    ];
    with_browser(
        &app.address,
        "zh-CN",
        "integrity-zh",
        |browser| async move {
            log_in(&browser, "admin", ADMIN_PASSWORD, "/integrity").await;
            browser.submit("form[action='/integrity'] button").await;
            let table = browser.text("table").await;
            assert!(
                table.contains("四性检测") && table.contains("已完成"),
                "{table}"
            );
            assert!(
                table.contains("固定性核查"),
                "the sweep just started: {table}"
            );
            for word in api_words {
                assert!(!table.contains(word), "{word} in {table}");
            }
            page_is_healthy(&browser).await;
        },
    )
    .await;
    with_browser(&app.address, "en", "integrity-en", |browser| async move {
        log_in(&browser, "admin", ADMIN_PASSWORD, "/integrity").await;
        let table = browser.text("table").await;
        assert!(
            table.contains("Four-properties check") && table.contains("Done"),
            "{table}"
        );
        assert!(table.contains("Fixity sweep"), "{table}");
    })
    .await;
}
