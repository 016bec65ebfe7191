//! Holds, shredding and release review in the browser: a hold placed on a record's page
//! keeps it out of the destruction batch until released; a supervisor confirms a paper
//! record shredded; the archivist proposes opening an old record and the director approves.

use serde_json::json;
use sqlx::PgPool;

use super::workflows::{PASSWORD, switch_user};
use super::{log_in, page_is_healthy};
use crate::helpers::TestApp;
use crate::helpers::browser::with_browser;
use crate::search::settle;

#[sqlx::test]
async fn a_held_record_waits_and_a_paper_record_is_confirmed_shredded(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mut ids = Vec::new();
    for title in ["涉訴合同", "過期收發文登記簿"] {
        let record = app
            .file_record(
                &json!({"title": title, "doc_date": "2000-01-01", "category": "WS",
                        "retention": "D10", "department": "BGS", "carrier": "paper"}),
                vec![],
            )
            .await;
        ids.push(record["id"].as_str().expect("id").to_owned());
    }
    for (name, role) in [
        ("keeper", "archivist"),
        ("director", "director"),
        ("gm", "general_manager"),
    ] {
        app.user_token(name, role, Some("BGS")).await;
    }
    let held = format!("/records/{}", ids[0]);
    let (held_ref, app_ref) = (&held, &app);
    with_browser(&app.address, "zh-CN", "holds", |browser| async move {
        log_in(&browser, "keeper", PASSWORD, held_ref).await;
        browser.type_into("#hold-reason", "合同纠纷诉讼中").await;
        browser.click("#hold-form button[type=submit]").await;
        browser.wait_for_url_with("done=held").await;
        page_is_healthy(&browser).await;
        assert!(browser.text("table.holds").await.contains("合同纠纷诉讼中"));
        browser.goto(held_ref).await;
        assert!(browser.text("dd.holds").await.contains('1'));

        // the held record is not offered for appraisal; the other is appraised "destroy"
        browser.goto("/disposition?as_of=2026-12-31").await;
        assert_eq!(browser.count("tr.held form.appraise").await, 0);
        assert!(browser.text("tr.held").await.contains("涉訴合同"));
        browser
            .type_into("form.appraise input[name=reason]", "期满无保存价值")
            .await;
        browser.click("form.appraise button").await;
        browser.wait_for_url_with("done=appraised").await;
        let batch_form = browser.text("#batch-form").await;
        assert!(
            batch_form.contains("過期收發文登記簿") && !batch_form.contains("涉訴合同"),
            "{batch_form}"
        );
        browser.type_into("#supervisors", "王监销").await;
        browser.click("#batch-form button[type=submit]").await;
        browser.wait_for_url_with("done=created").await;
        for approver in ["director", "gm"] {
            switch_user(&browser, approver, "/disposition").await;
            browser.click("tr[data-batch] button.approve").await;
            browser.wait_for_url_with("done=approved").await;
        }
        // the digital part runs; the paper waits for its supervisor
        settle(app_ref).await;
        switch_user(&browser, "keeper", "/disposition").await;
        assert!(
            browser
                .text("tr[data-batch] td.status")
                .await
                .contains("待粉碎确认")
        );
        browser
            .type_into("form.shred input[name=remarks]", "碎纸机当场销毁")
            .await;
        browser.click("form.shred button.confirm-shred").await;
        browser.wait_for_url_with("done=shredded").await;
        page_is_healthy(&browser).await;
        assert!(
            browser
                .text("tr[data-batch] td.status")
                .await
                .contains("已完成")
        );

        // the hold is released from the list
        browser.click("table.holds button.release").await;
        browser.wait_for_url_with("done=released").await;
        assert_eq!(browser.count("table.holds").await, 0);
    })
    .await;
    let batches = app.get_json("/api/v1/disposition/batches").await;
    let batch = batches[0]["id"].as_str().expect("batch id");
    let batch = app
        .get_json(&format!("/api/v1/disposition/batches/{batch}"))
        .await;
    let item = &batch["items"][0];
    assert_eq!(item["shred_supervisor"], "王监销");
    assert_eq!(item["shred_remarks"], "碎纸机当场销毁");
    let held = app.get_json(&format!("/api/v1/records/{}", ids[0])).await;
    assert_eq!(
        (
            held["status"].as_str(),
            held["holds"].as_array().map(Vec::len)
        ),
        (Some("active"), Some(0))
    );
}

#[sqlx::test]
async fn an_old_record_is_opened_after_the_directors_approval(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(
            &json!({"title": "一九九〇年度工作总结", "doc_date": "1990-12-01", "category": "WS",
                    "retention": "Y", "department": "BGS", "security_level": "internal"}),
            vec![],
        )
        .await;
    let id = record["id"].as_str().expect("id").to_owned();
    for (name, role) in [("keeper", "archivist"), ("director", "director")] {
        app.user_token(name, role, Some("BGS")).await;
    }
    let id_ref = &id;
    with_browser(&app.address, "zh-TW", "releases", |browser| async move {
        log_in(&browser, "keeper", PASSWORD, "/releases").await;
        page_is_healthy(&browser).await;
        browser
            .click(&format!("input[name=record_ids][value='{id_ref}']"))
            .await;
        browser
            .script("document.getElementById('open').value = 'true';")
            .await;
        browser.type_into("#reason", "已逾三十年，無敏感內容").await;
        browser.click("#release-form button[type=submit]").await;
        browser.wait_for_path("/releases?done=proposed_done").await;
        assert!(
            browser
                .text("tr[data-release] td.status")
                .await
                .contains("待審核")
        );
        // the proposer cannot decide her own proposal
        assert_eq!(browser.count("tr[data-release] button.approve").await, 0);
        switch_user(&browser, "director", "/releases").await;
        page_is_healthy(&browser).await;
        browser.click("tr[data-release] button.approve").await;
        browser.wait_for_path("/releases?done=decided").await;
        assert!(
            browser
                .text("tr[data-release] td.status")
                .await
                .contains("已核准")
        );
    })
    .await;
    let after = app.get_json(&format!("/api/v1/records/{id}")).await;
    assert_eq!(after["open_status"], "open");
}
