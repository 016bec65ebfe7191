//! Finding records by where they stand: search and the catalogue export filter by room and
//! by place, a shelf taking in its boxes (a box named without its shelf included); the
//! index follows a movement; a record the caller may not see is never found.

use serde_json::{Value, json};
use sqlx::PgPool;

use super::{admin_only_record, get_as, paper_record, post_as, store_room};
use crate::helpers::{TestApp, assert_problem};
use crate::search::{search_as, settle, titles};

async fn found(app: &TestApp, token: &str, params: &[(&str, &str)]) -> Vec<String> {
    let mut titles = titles(&search_as(app, token, params).await);
    titles.sort();
    titles
}

async fn exported(app: &TestApp, token: &str, query: &str) -> Vec<String> {
    let response = get_as(
        app,
        token,
        &format!("/api/v1/catalogue/export?format=csv&{query}"),
    )
    .await;
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("csv");
    let mut titles: Vec<String> = text
        .lines()
        .skip(1)
        .filter_map(|line| line.split(',').nth(4).map(str::to_owned))
        .collect();
    titles.sort();
    titles
}

#[sqlx::test]
async fn search_and_export_find_records_by_room_shelf_and_box(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let keeper = app.user_token("keeper", "archivist", None).await;
    store_room(&app, &keeper).await;
    let b1 = json!({ "room": "K1", "shelf": "S1", "box": "B1" });
    paper_record(&app, "一号盒合同", "WS", "2024-01-02", b1.clone()).await;
    // named by its box only: the box stands on S1, so S1 holds it
    let moved = paper_record(
        &app,
        "二号盒合同",
        "WS",
        "2024-01-03",
        json!({ "room": "K1", "box": "B2" }),
    )
    .await;
    paper_record(
        &app,
        "柜内散件",
        "WS",
        "2024-01-04",
        json!({ "room": "K1", "cabinet": "C1" }),
    )
    .await;
    paper_record(&app, "无位置文件", "WS", "2024-01-05", Value::Null).await;
    admin_only_record(&app, b1).await;
    settle(&app).await;

    let keeper_finds = |params: &'static [(&'static str, &'static str)]| {
        let (app, keeper) = (&app, keeper.clone());
        async move { found(app, &keeper, params).await }
    };
    assert_eq!(
        keeper_finds(&[("room", "K1"), ("place", "B1")]).await,
        ["一号盒合同"]
    );
    assert_eq!(
        keeper_finds(&[("room", "K1"), ("place", "S1")]).await,
        ["一号盒合同", "二号盒合同"]
    );
    assert_eq!(
        keeper_finds(&[("room", "K1"), ("place", "C1")]).await,
        ["一号盒合同", "二号盒合同", "柜内散件"],
        "the cabinet holds the shelf and its boxes"
    );
    assert_eq!(
        keeper_finds(&[("room", "K1"), ("q", "合同")]).await,
        ["一号盒合同", "二号盒合同"]
    );
    // the admin finds the hidden one in the same box
    assert_eq!(
        found(&app, &app.token, &[("room", "K1"), ("place", "B1")])
            .await
            .len(),
        2
    );

    assert_eq!(
        exported(&app, &keeper, "room=K1&place=S1").await,
        ["一号盒合同", "二号盒合同"]
    );
    assert_eq!(exported(&app, &keeper, "room=K1").await.len(), 3);
    for (query, parameter) in [
        ("place=B1", "place"),
        ("room=K9", "room"),
        ("room=K1&place=B9", "place"),
    ] {
        let refused = get_as(&app, &keeper, &format!("/api/v1/catalogue/export?{query}")).await;
        let problem = assert_problem(refused, 400, "validation").await;
        assert!(
            problem["detail"]
                .as_str()
                .is_some_and(|detail| detail.starts_with(parameter)),
            "{query}: {problem}"
        );
    }
    let refused = get_as(&app, &keeper, "/api/v1/search?place=B1").await;
    assert_problem(refused, 400, "validation").await;

    // moved into the cabinet, the index follows
    let path = format!(
        "/api/v1/records/{}/movements",
        moved["id"].as_str().expect("id")
    );
    let to = json!({ "to": { "room": "K1", "cabinet": "C1" }, "reason": "调整" });
    assert_eq!(post_as(&app, &keeper, &path, to).await.status(), 201);
    settle(&app).await;
    assert_eq!(
        keeper_finds(&[("room", "K1"), ("place", "S1")]).await,
        ["一号盒合同"]
    );
}
