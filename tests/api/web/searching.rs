//! The search page marks the hits below the exact ones, in the user's language.

use serde_json::json;
use sqlx::PgPool;

use super::{log_in, page_is_healthy};
use crate::helpers::browser::with_browser;
use crate::helpers::{ADMIN_PASSWORD, TestApp, TestFile};
use crate::search::settle;

#[sqlx::test]
async fn a_relaxed_hit_is_marked_below_the_exact_one_in_the_users_language(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for (title, text) in [
        ("大陆的备份手册", "数据备份：每天夜里把数据备份到磁带。"),
        ("台湾的备份手册", "資料備份：每天晚上將資料備份至磁帶。"),
    ] {
        app.file_record(
            &json!({ "title": title, "category": "WS" }),
            vec![TestFile::new("page.txt", text.as_bytes().to_vec())],
        )
        .await;
    }
    settle(&app).await;
    with_browser(
        &app.address,
        "zh-TW",
        "search-tiers",
        |browser| async move {
            log_in(&browser, "admin", ADMIN_PASSWORD, "/search").await;
            browser.type_into("#q", "數據備份").await;
            browser.click("form.search button[type=submit]").await;
            browser.wait_for_url_with("q=").await;
            page_is_healthy(&browser).await;
            assert_eq!(browser.count("li.hit").await, 2);
            assert_eq!(
                browser.text("li.hit:nth-child(1) .hit-title").await,
                "大陆的备份手册"
            );
            assert_eq!(browser.count("li.hit:nth-child(1) .tier").await, 0);
            assert_eq!(
                browser.text("li.hit:nth-child(2) .tier").await,
                "近似符合（含同義詞、兩岸用語）"
            );
            let marked = browser.text("li.hit:nth-child(2) .snippet mark").await;
            assert!(
                marked.contains("資料"),
                "the variant is highlighted as the text writes it: {marked}"
            );
        },
    )
    .await;
}
