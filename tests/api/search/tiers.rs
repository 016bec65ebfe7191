//! The tiers of a search (issue 18): the query as written first, then its Chinese runs as
//! words across punctuation, then most of its words with their regional variants and
//! synonyms; a forced-exact query stops after the first; the archive extends the table.

use serde_json::{Value, json};
use sqlx::PgPool;

use super::{search_as, settle};
use crate::helpers::{TestApp, TestFile, assert_problem};

async fn text_record(app: &TestApp, title: &str, text: &str) -> String {
    let record = app
        .file_record(
            &json!({ "title": title, "category": "WS" }),
            vec![TestFile::new("page.txt", text.as_bytes().to_vec())],
        )
        .await;
    record["id"].as_str().expect("id").to_owned()
}

/// (title, tier) of each hit, in order.
fn ranked(results: &Value) -> Vec<(String, String)> {
    results["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|hit| {
            (
                hit["title"].as_str().expect("title").to_owned(),
                hit["tier"].as_str().expect("tier").to_owned(),
            )
        })
        .collect()
}

fn tiers_in_order(results: &Value) {
    let rank = |tier: &str| {
        ["exact", "words", "relaxed"]
            .iter()
            .position(|t| *t == tier)
    };
    let tiers: Vec<usize> = ranked(results)
        .iter()
        .map(|(_, tier)| rank(tier).expect("a known tier"))
        .collect();
    assert!(
        tiers.windows(2).all(|pair| pair[0] <= pair[1]),
        "a hit of a lower tier ranks above a better one: {:?}",
        ranked(results)
    );
}

#[sqlx::test]
async fn a_phrase_typed_without_punctuation_finds_its_words_across_it_below_exact_hits(
    pool: PgPool,
) {
    let app = TestApp::spawn(pool).await;
    text_record(
        &app,
        "入职材料",
        "新员工提交身份证复印件两份，原件核对后退回。",
    )
    .await;
    text_record(
        &app,
        "掃描的證件",
        "姓名：陳大文\n證件：居民身份證\n（複印件）\n與原件相符",
    )
    .await;
    text_record(&app, "无关的记录", "身份不明的来访者，复印机故障。").await;
    settle(&app).await;

    let results = search_as(&app, &app.token, &[("q", "身份证复印件")]).await;
    assert_eq!(
        ranked(&results),
        [
            ("入职材料".to_owned(), "exact".to_owned()),
            ("掃描的證件".to_owned(), "words".to_owned())
        ]
    );
    assert_eq!(results["total"], 2);
    // forced exact, by the parameter or by quoting: the words tier stays out
    for query in [
        vec![("q", "身份证复印件"), ("exact", "true")],
        vec![("q", "\"身份证复印件\"")],
    ] {
        let exact = search_as(&app, &app.token, &query).await;
        assert_eq!(
            ranked(&exact),
            [("入职材料".to_owned(), "exact".to_owned())],
            "{query:?}"
        );
        assert_eq!(exact["total"], 1);
    }
}

#[sqlx::test]
async fn a_word_a_line_break_splits_is_found_below_exact_hits_but_not_across_a_word(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    text_record(&app, "盖章规定", "各部门的印\n章由办公室统一保管。").await;
    text_record(&app, "用印登记", "印章使用须登记。").await;
    text_record(&app, "无关的表格", "印A章不是一个词。").await;
    settle(&app).await;

    let results = search_as(&app, &app.token, &[("q", "印章")]).await;
    assert_eq!(
        ranked(&results),
        [
            ("用印登记".to_owned(), "exact".to_owned()),
            ("盖章规定".to_owned(), "words".to_owned())
        ]
    );
    let exact = search_as(&app, &app.token, &[("q", "印章"), ("exact", "true")]).await;
    assert_eq!(
        ranked(&exact),
        [("用印登记".to_owned(), "exact".to_owned())]
    );
}

#[sqlx::test]
async fn relaxed_hits_fill_the_page_below_exact_ones_and_respect_visibility(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    text_record(
        &app,
        "大陆的备份手册",
        "数据备份：每天夜里把数据备份到磁带。",
    )
    .await;
    // Taiwan usage: 資料 for 数据
    text_record(
        &app,
        "台湾的备份手册",
        "資料備份：每天晚上將資料備份至磁帶。",
    )
    .await;
    text_record(&app, "只谈备份", "备份的磁带放在二号库房。").await;
    settle(&app).await;

    let results = search_as(&app, &app.token, &[("q", "数据备份")]).await;
    let hits = ranked(&results);
    assert_eq!(
        hits.first(),
        Some(&("大陆的备份手册".to_owned(), "exact".to_owned()))
    );
    assert!(
        hits.contains(&("台湾的备份手册".to_owned(), "relaxed".to_owned())),
        "資料 is a variant of 数据: {hits:?}"
    );
    // most of two words is both: a text with 备份 alone is not a hit
    assert!(
        !hits.iter().any(|(title, _)| title == "只谈备份"),
        "{hits:?}"
    );
    tiers_in_order(&results);
    let snippet = results["hits"][1]["snippet"].as_str().expect("snippet");
    assert!(
        snippet.contains("<mark>"),
        "the variant is marked: {snippet}"
    );

    // a page the exact tier fills has no relaxed hit
    let first = search_as(&app, &app.token, &[("q", "数据备份"), ("limit", "1")]).await;
    assert_eq!(
        ranked(&first),
        [("大陆的备份手册".to_owned(), "exact".to_owned())]
    );
    // the next page continues into the relaxed tier
    let cursor = first["next_cursor"]
        .as_str()
        .expect("a next page")
        .to_owned();
    let next = search_as(
        &app,
        &app.token,
        &[("q", "数据备份"), ("limit", "1"), ("cursor", &cursor)],
    )
    .await;
    assert_eq!(
        ranked(&next),
        [("台湾的备份手册".to_owned(), "relaxed".to_owned())]
    );

    // a staff member sees none of these controlled records in any tier, nor their count
    let staff = app.user_token("staff1", "staff", None).await;
    let hidden = search_as(&app, &staff, &[("q", "数据备份")]).await;
    assert_eq!(
        (hidden["total"].clone(), ranked(&hidden).len()),
        (json!(0), 0)
    );
}

#[sqlx::test]
async fn the_archive_extends_the_variant_table(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    text_record(&app, "租赁协议", "甲乙双方就仓库租赁达成如下盟约。").await;
    settle(&app).await;
    assert_eq!(
        search_as(&app, &app.token, &[("q", "契据")]).await["total"],
        0
    );

    let table = app.get_json("/api/v1/search/variants").await;
    assert!(
        table["shipped"]
            .as_array()
            .expect("shipped groups")
            .iter()
            .any(|group| group == &json!(["数据", "資料", "数据资料"])),
        "{table}"
    );
    assert_eq!(table["archive"], json!([]));

    // only the records office edits it
    let staff = app.user_token("staff1", "staff", None).await;
    let refused = app
        .client
        .put(app.url("/api/v1/search/variants"))
        .bearer_auth(&staff)
        .json(&json!({ "archive": [["契據", "盟约"]] }))
        .send()
        .await
        .expect("put");
    assert_problem(refused, 403, "forbidden").await;
    let invalid = app
        .client
        .put(app.url("/api/v1/search/variants"))
        .bearer_auth(&app.token)
        .json(&json!({ "archive": [["契據"]] }))
        .send()
        .await
        .expect("put");
    assert_problem(invalid, 400, "validation").await;

    let saved = app
        .client
        .put(app.url("/api/v1/search/variants"))
        .bearer_auth(&app.token)
        .json(&json!({ "archive": [["契據", "盟约", " 盟约 "]] }))
        .send()
        .await
        .expect("put");
    assert_eq!(saved.status(), 200);
    let saved: Value = saved.json().await.expect("table");
    assert_eq!(saved["archive"], json!([["契據", "盟约"]]));

    // the traditional spelling in the table meets the simplified query
    let results = search_as(&app, &app.token, &[("q", "契据")]).await;
    assert_eq!(
        ranked(&results),
        [("租赁协议".to_owned(), "relaxed".to_owned())]
    );
    let exact = search_as(&app, &app.token, &[("q", "契据"), ("exact", "true")]).await;
    assert_eq!(exact["total"], 0);
}
