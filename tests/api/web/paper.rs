//! The paper side in the browser: the room's page lists its places with their labels and
//! contents, a stock-take is begun for a shelf, the keeper scans what stands in a box and
//! ticks what stands in another, closes it, and the report names the missing and the
//! misplaced item; in Chinese.

use serde_json::{Value, json};
use sqlx::PgPool;

use super::workflows::PASSWORD;
use super::{log_in, page_is_healthy};
use crate::helpers::TestApp;
use crate::helpers::browser::with_browser;
use crate::places::{paper_record, store_room};

#[sqlx::test]
async fn a_keeper_takes_stock_of_a_shelf_in_the_browser(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let keeper = app.user_token("keeper", "archivist", Some("BGS")).await;
    let (room, places) = store_room(&app, &keeper).await;
    let b1 = json!({ "room": "K1", "shelf": "S1", "box": "B1" });
    let b2 = json!({ "room": "K1", "shelf": "S1", "box": "B2" });
    let mut codes = Vec::new();
    for (title, at) in [
        ("档案甲", &b1),
        ("档案乙", &b1),
        ("档案丙", &b2),
        ("档案丁", &b2),
    ] {
        let record = paper_record(&app, title, "WS", "2024-03-01", at.clone()).await;
        codes.push(record["archival_code"].as_str().expect("code").to_owned());
    }
    let room_path = format!("/rooms/{}", room["id"].as_str().expect("id"));
    let ids: Vec<String> = places
        .iter()
        .map(|place: &Value| place["id"].as_str().expect("id").to_owned())
        .collect();
    let (room_ref, ids_ref, codes_ref) = (&room_path, &ids, &codes);
    with_browser(&app.address, "zh-CN", "stocktake", |browser| async move {
        log_in(&browser, "keeper", PASSWORD, room_ref).await;
        page_is_healthy(&browser).await;
        assert_eq!(browser.count("#places tbody tr").await, 4);
        assert!(browser.text("#places").await.contains("档案盒"));
        let label = format!("a[href$='/locations/{}/label']", ids_ref[2]);
        assert_eq!(browser.count(&label).await, 1, "the box's label prints");

        // a stock-take of shelf S1 (its two boxes)
        browser
            .script(&format!(
                "document.getElementById('stocktake-place').value = '{}';",
                ids_ref[1]
            ))
            .await;
        browser.click("#stocktake-form button[type=submit]").await;
        browser.wait_for_path("/stocktakes/").await;
        page_is_healthy(&browser).await;
        assert!(
            browser
                .text("#stocktake-counts")
                .await
                .contains("应在 4 件")
        );

        // box B1 holds 档案甲 and 档案丙 (which belongs in B2); 档案乙 is not there
        browser
            .script(&format!(
                "document.getElementById('place').value = '{}';",
                ids_ref[2]
            ))
            .await;
        browser
            .type_into("#items", &format!("{}\n{}", codes_ref[0], codes_ref[2]))
            .await;
        browser.submit("#sightings-form button[type=submit]").await;
        browser.wait_for_path("/stocktakes/").await;
        page_is_healthy(&browser).await;
        // box B2: 档案丁 ticked from the list of what is not seen yet
        browser
            .script(&format!(
                "document.getElementById('place').value = '{}';",
                ids_ref[3]
            ))
            .await;
        assert_eq!(
            browser.count("#ticks input[name=tick]").await,
            2,
            "乙 and 丁 wait"
        );
        browser
            .click(&format!("#ticks input[value='{}']", codes_ref[3]))
            .await;
        browser.submit("#sightings-form button[type=submit]").await;
        browser.wait_for_path("/stocktakes/").await;
        page_is_healthy(&browser).await;
        browser.submit("#finish-form button[type=submit]").await;
        browser.wait_for_path("/stocktakes/").await;
        page_is_healthy(&browser).await;
        let counts = browser.text("#stocktake-counts").await;
        assert!(
            counts.contains("在位 2") && counts.contains("缺失 1") && counts.contains("错放 1"),
            "{counts}"
        );
        assert_eq!(browser.count("tr[data-finding='missing']").await, 1);
        let missing = browser.text("tr[data-finding='missing']").await;
        assert!(
            missing.contains("档案乙") && missing.contains("缺失"),
            "{missing}"
        );
        assert!(browser.text("#stocktake-state").await.contains("结束"));
        assert_eq!(
            browser.count("#sightings-form").await,
            0,
            "a finished stock-take takes no more"
        );
        assert_eq!(browser.count("a[href$='?format=pdf']").await, 1);
    })
    .await;
}
