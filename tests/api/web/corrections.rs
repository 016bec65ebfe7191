//! Corrections in the browser (issue 19): the archivist replaces a bad scan from the
//! record's page and sees the earlier file kept, proposes withdrawing the record, and the
//! director approves the withdrawal from the 工作台; the record then shows as withdrawn.

use serde_json::json;
use sqlx::PgPool;

use super::forms::signed_in_as;
use super::workflows::{PASSWORD, switch_user};
use super::{log_in, page_is_healthy};
use crate::helpers::browser::with_browser;
use crate::helpers::{TestApp, TestFile};

#[sqlx::test]
async fn a_scan_is_replaced_and_a_record_withdrawn_from_the_pages(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(
            &json!({"title": "李四 勞動合同", "category": "WS", "department": "BGS"}),
            vec![TestFile::new(
                "模糊掃描.txt",
                "掃描模糊".as_bytes().to_vec(),
            )],
        )
        .await;
    let file_id = record["files"][0]["id"].as_str().expect("file").to_owned();
    for (name, role) in [("keeper", "archivist"), ("director", "director")] {
        app.user_token(name, role, Some("BGS")).await;
    }
    let files = tempfile::tempdir().expect("temp dir");
    let rescan = files.path().join("重新掃描.txt");
    std::fs::write(&rescan, "重新掃描 清晰").expect("rescan");
    let page = format!("/records/{}", record["id"].as_str().expect("id"));
    let (page_ref, rescan_ref, file_ref) = (&page, &rescan, &file_id);
    with_browser(&app.address, "zh-CN", "corrections", |browser| async move {
        log_in(&browser, "keeper", PASSWORD, page_ref).await;
        page_is_healthy(&browser).await;
        browser
            .script(&format!(
                "document.getElementById('replaces').value = '{file_ref}';"
            ))
            .await;
        browser
            .type_into("#correct-reason", "扫描模糊，重新扫描")
            .await;
        browser
            .type_into("#correct-file", &rescan_ref.display().to_string())
            .await;
        browser.click("#correct-form button[type=submit]").await;
        browser.wait_for_url_with("corrected=1").await;
        page_is_healthy(&browser).await;
        assert!(
            browser
                .text("p.notice")
                .await
                .contains("原文件保留在历史版本中")
        );
        let earlier = browser.text("table.earlier-files").await;
        assert!(
            earlier.contains("模糊掃描.txt") && earlier.contains("扫描模糊，重新扫描"),
            "{earlier}"
        );
        assert!(
            browser
                .text("section.file h3")
                .await
                .contains("重新掃描.txt")
        );

        browser
            .type_into("#withdraw-reason", "误归入他人档案")
            .await;
        browser.click("#withdraw-form button[type=submit]").await;
        browser.wait_for_url_with("withdrawal=1").await;
        assert!(browser.text("p.notice").await.contains("作废申请已提交"));

        switch_user(&browser, "director", "/").await;
        page_is_healthy(&browser).await;
        let waiting = browser.text("ul.withdrawals").await;
        assert!(
            waiting.contains("李四 勞動合同") && waiting.contains("误归入他人档案"),
            "{waiting}"
        );
        browser.click("ul.withdrawals button.approve").await;
        // the form posts from `/` back to `/`: wait for the page without the list
        let started = std::time::Instant::now();
        while browser.count("ul.withdrawals").await != 0 {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(30),
                "the approved withdrawal is still listed"
            );
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        browser.goto(page_ref).await;
        page_is_healthy(&browser).await;
        let status = browser.text("dd.status").await;
        assert!(
            status.contains("已作废") && status.contains("误归入他人档案"),
            "{status}"
        );
        assert_eq!(browser.count("#correct-form").await, 0);
    })
    .await;
}

/// The pages' correction, withdrawal and sign-off forms answer a record or folder the user
/// may not see exactly as a missing one, and change nothing.
#[sqlx::test]
async fn the_correction_forms_answer_a_hidden_record_as_a_missing_one(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let secret = app
        .file_record(
            &json!({"title": "機密合同", "category": "WS", "security_level": "secret"}),
            vec![TestFile::new("a.txt", b"secret".to_vec())],
        )
        .await;
    let customer: serde_json::Value = app
        .post("/api/v1/parties")
        .json(&json!({"kind": "customer", "identifier": "C-9001", "name": "某客戶", "department": "BGS"}))
        .send()
        .await
        .expect("party")
        .json()
        .await
        .expect("json");
    let archivist = app.user_token("keeper", "archivist", None).await;
    let withdrawal: serde_json::Value = app
        .client
        .post(app.url(&format!(
            "/api/v1/records/{}/withdrawals",
            secret["id"].as_str().expect("id")
        )))
        .bearer_auth(&archivist)
        .json(&json!({"reason": "誤歸檔"}))
        .send()
        .await
        .expect("propose")
        .json()
        .await
        .expect("json");
    app.user_token("clerk", "staff", Some("BGS")).await;
    let (client, csrf) = signed_in_as(&app, "clerk", PASSWORD, "zh-CN").await;
    let missing = uuid::Uuid::now_v7().to_string();
    let post_form = |path: String, fields: Vec<(&'static str, String)>| {
        let mut fields = fields;
        fields.push(("csrf", csrf.clone()));
        client.post(app.url(&path)).form(&fields).send()
    };
    let file_form = |id: &str| {
        let form = reqwest::multipart::Form::new()
            .text("csrf", csrf.clone())
            .part(
                "file",
                reqwest::multipart::Part::bytes(b"x".to_vec()).file_name("x.txt"),
            );
        client
            .post(app.url(&format!("/records/{id}/files")))
            .multipart(form)
            .send()
    };
    let secret_id = secret["id"].as_str().expect("id");
    let pairs = [
        (file_form(secret_id).await, file_form(&missing).await),
        (
            post_form(
                format!("/records/{secret_id}/withdrawal"),
                vec![("reason", "x".into())],
            )
            .await,
            post_form(
                format!("/records/{missing}/withdrawal"),
                vec![("reason", "x".into())],
            )
            .await,
        ),
        (
            post_form(
                format!(
                    "/withdrawals/{}/approve",
                    withdrawal["id"].as_str().expect("id")
                ),
                vec![],
            )
            .await,
            post_form(format!("/withdrawals/{missing}/approve"), vec![]).await,
        ),
        (
            post_form(
                format!("/folders/{}/sign-off", customer["id"].as_str().expect("id")),
                vec![],
            )
            .await,
            post_form(format!("/folders/{missing}/sign-off"), vec![]).await,
        ),
    ];
    for (hidden, missing) in pairs {
        let (hidden, missing) = (hidden.expect("hidden"), missing.expect("missing"));
        let (hidden_status, missing_status) = (hidden.status(), missing.status());
        assert_eq!(
            hidden_status,
            404,
            "{}",
            hidden.text().await.unwrap_or_default()
        );
        assert_eq!(missing_status, 404);
    }
    assert_eq!(app.count("record_files").await, 1, "nothing was added");
    let state: String = sqlx::query_scalar("select status from withdrawals")
        .fetch_one(&app.pool)
        .await
        .expect("withdrawal");
    assert_eq!(state, "proposed");
}
