//! A customer folder's sign-off in the browser (issue 19, item 4): the general manager sees
//! that the folder awaits them, signs it off with a remark, and the folder says so (zh-TW).

use serde_json::{Value, json};
use sqlx::PgPool;

use super::workflows::PASSWORD;
use super::{log_in, page_is_healthy};
use crate::helpers::TestApp;
use crate::helpers::browser::with_browser;

#[sqlx::test]
async fn the_general_manager_signs_off_a_new_customer_folder(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let party: Value = app
        .post("/api/v1/parties")
        .json(
            &json!({"kind": "customer", "identifier": "C-8001", "name": "華南貿易有限公司",
                      "department": "BGS"}),
        )
        .send()
        .await
        .expect("party")
        .json()
        .await
        .expect("json");
    app.user_token("gm", "general_manager", None).await;
    let folder = format!("/folders/{}", party["id"].as_str().expect("id"));
    let folder_ref = &folder;
    with_browser(&app.address, "zh-TW", "sign-off", |browser| async move {
        log_in(&browser, "gm", PASSWORD, folder_ref).await;
        page_is_healthy(&browser).await;
        assert!(
            browser
                .text("dd.sign-off")
                .await
                .contains("待總經理審核簽字")
        );
        browser.type_into("#sign-off-note", "資料齊全").await;
        // the form comes back to the folder's own address: wait for the new page itself
        browser.submit("#sign-off-form button[type=submit]").await;
        browser.wait_for_path(folder_ref).await;
        page_is_healthy(&browser).await;
        let line = browser.text("dd.sign-off").await;
        assert!(
            line.contains("總經理已於") && line.contains("審核簽字"),
            "{line}"
        );
        assert_eq!(browser.count("#sign-off-form").await, 0);
    })
    .await;
}
