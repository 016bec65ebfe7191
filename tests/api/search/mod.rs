//! Search: Chinese in both scripts, phrases, single characters, archival codes, filters and
//! facets, permissions inside the query, the index following changes, and rebuilds.

mod documents;
mod pruning;
mod recall;
mod sources;
mod stalled;
mod tiers;

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{ADMIN_PASSWORD, TestApp, assert_problem, login};

/// Runs the queued jobs, then lets the index catch up with the change log.
pub async fn settle(app: &TestApp) {
    dangan::jobs::runner::run_until_idle(&app.app)
        .await
        .expect("jobs run");
    app.app.search.catch_up().await.expect("index caught up");
}

pub async fn search_as(app: &TestApp, token: &str, query: &[(&str, &str)]) -> Value {
    let response = app
        .client
        .get(app.url("/api/v1/search"))
        .bearer_auth(token)
        .query(query)
        .send()
        .await
        .expect("search");
    assert_eq!(response.status(), 200);
    response.json().await.expect("search JSON")
}

pub async fn search(app: &TestApp, q: &str) -> Value {
    search_as(app, &app.token, &[("q", q)]).await
}

pub fn titles(results: &Value) -> Vec<String> {
    results["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|hit| hit["title"].as_str().expect("title").to_owned())
        .collect()
}

async fn file(app: &TestApp, metadata: Value) -> Value {
    app.file_record(&metadata, vec![]).await
}

async fn sample(app: &TestApp) {
    for (title, description, category, year) in [
        (
            "員工檔案管理辦法",
            "人事部制定的員工檔案管理規定",
            "WS",
            "2023",
        ),
        (
            "劳动合同 张伟",
            "劳动合同期满后档案保存十年再销毁",
            "HT",
            "2024",
        ),
        (
            "王晓明的身份证复印件",
            "入职时提交身份证复印件两份",
            "RS",
            "2024",
        ),
        (
            "深圳市腾讯计算机系统有限公司采购合同",
            "Contract No. HT-2024-001 采购合同 PDF 扫描件",
            "HT",
            "2023",
        ),
        ("档案管理工作年度总结", "全年档案管理工作情况", "WS", "2024"),
    ] {
        file(
            app,
            json!({ "title": title, "description": description, "category": category,
                    "doc_date": format!("{year}-03-01"), "department": "BGS" }),
        )
        .await;
    }
    settle(app).await;
}

#[sqlx::test]
async fn a_simplified_query_finds_traditional_records_and_the_reverse(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    sample(&app).await;
    let simplified = titles(&search(&app, "员工档案").await);
    assert_eq!(simplified, vec!["員工檔案管理辦法"]);
    let traditional = titles(&search(&app, "勞動合同").await);
    assert_eq!(traditional, vec!["劳动合同 张伟"]);
    let both = search(&app, "檔案管理").await;
    assert_eq!(both["total"], 2, "{both}");
    assert_eq!(
        both["total_exact"], true,
        "a count below the cap is every hit"
    );
}

#[sqlx::test]
async fn a_phrase_matches_only_as_written_and_words_match_anywhere(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    sample(&app).await;
    // 档案 and 管理 both occur in three records, adjacent only in two
    let words = search(&app, "管理 档案").await;
    assert_eq!(words["total"], 2);
    let phrase = titles(&search(&app, "\"工作年度\"").await);
    assert_eq!(phrase, vec!["档案管理工作年度总结"]);
    let not_a_phrase = search(&app, "\"年度工作\"").await;
    assert_eq!(not_a_phrase["total"], 0);
    let excluded = titles(&search(&app, "档案 -年度").await);
    assert!(
        !excluded.iter().any(|title| title.contains("年度")),
        "{excluded:?}"
    );
    assert!(!excluded.is_empty());
    let either = search(&app, "腾讯 OR 张伟").await;
    assert_eq!(either["total"], 2);
}

#[sqlx::test]
async fn a_single_character_or_part_of_a_name_finds_its_records(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    sample(&app).await;
    let single = titles(&search(&app, "伟").await);
    assert_eq!(single, vec!["劳动合同 张伟"]);
    let part_of_name = titles(&search(&app, "晓明").await);
    assert_eq!(part_of_name, vec!["王晓明的身份证复印件"]);
    // stemmed English finds the record that says "Contract" as written
    let english =
        titles(&search_as(&app, &app.token, &[("q", "contracts"), ("exact", "true")]).await);
    assert_eq!(english, vec!["深圳市腾讯计算机系统有限公司采购合同"]);
    // and without exact=true the relaxed tier adds the other contract (合同) below it
    let widened = search(&app, "contracts").await;
    let tiers: Vec<(&str, &str)> = widened["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|hit| {
            (
                hit["title"].as_str().expect("title"),
                hit["tier"].as_str().expect("tier"),
            )
        })
        .collect();
    assert_eq!(
        tiers,
        vec![
            ("深圳市腾讯计算机系统有限公司采购合同", "exact"),
            ("劳动合同 张伟", "relaxed")
        ]
    );
}

#[sqlx::test]
async fn an_archival_code_or_document_number_finds_its_record_first(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    sample(&app).await;
    let record = file(
        &app,
        json!({ "title": "关于档案工作的通知", "doc_number": "办发〔2024〕7号",
                "category": "WS", "doc_date": "2024-05-01", "department": "BGS",
                "description": "身份证号 110101199003077777" }),
    )
    .await;
    settle(&app).await;
    let code = record["archival_code"].as_str().expect("code");
    for query in [
        code,
        &code.to_lowercase(),
        "办发〔2024〕7号",
        "110101199003077777",
    ] {
        let results = search(&app, query).await;
        assert_eq!(
            results["hits"][0]["record_id"], record["id"],
            "{query}: {results}"
        );
        assert_eq!(results["hits"][0]["archival_code"], code);
    }
}

#[sqlx::test]
async fn filters_narrow_results_and_facets_count_all_hits(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    sample(&app).await;
    let all = search_as(&app, &app.token, &[("q", "合同")]).await;
    assert_eq!(all["total"], 2);
    let categories = &all["facets"]["category"];
    assert_eq!(categories, &json!([{ "value": "HT", "count": 2 }]));
    let by_year = search_as(&app, &app.token, &[("q", "档案"), ("year", "2024")]).await;
    assert_eq!(by_year["total"], 2, "{by_year}");
    let by_category = search_as(&app, &app.token, &[("category", "WS")]).await;
    assert_eq!(by_category["total"], 2, "an empty query lists by filters");
    let years = &search(&app, "档案").await["facets"]["year"];
    assert!(
        years
            .as_array()
            .expect("years")
            .contains(&json!({ "value": "2024", "count": 2 })),
        "{years}"
    );
}

#[sqlx::test]
async fn results_page_with_a_cursor(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for n in 0..7 {
        file(
            &app,
            json!({ "title": format!("会议纪要第{n}期"), "category": "WS" }),
        )
        .await;
    }
    settle(&app).await;
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("q", "会议纪要"), ("limit", "3")];
        if let Some(cursor) = cursor.as_deref() {
            query.push(("cursor", cursor));
        }
        let page = search_as(&app, &app.token, &query).await;
        assert_eq!(page["total"], 7);
        seen.extend(titles(&page));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 7);
}

#[sqlx::test]
async fn malformed_queries_are_refused_with_400(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for (name, value) in [
        ("q", "\"未闭合的引号"),
        ("q", "OR 档案"),
        ("q", "-档案"),
        ("year", "二〇二四"),
        ("cursor", "not-a-cursor"),
        ("security_level", "top"),
    ] {
        let response = app
            .get("/api/v1/search")
            .query(&[(name, value)])
            .send()
            .await
            .expect("search");
        let problem = assert_problem(response, 400, "validation").await;
        assert!(!problem["detail"].as_str().unwrap_or_default().is_empty());
    }
    // CJK punctuation and symbols are not syntax: never an error
    for q in ["「編輯」功能表", "（一）", "《档案法》", "&<>", "a:b", "*"] {
        let response = app
            .get("/api/v1/search")
            .query(&[("q", q)])
            .send()
            .await
            .expect("search");
        assert_eq!(response.status(), 200, "{q}");
    }
}

#[sqlx::test]
async fn callers_see_only_records_their_role_allows_and_counts_do_not_leak(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for (title, level, department) in [
        ("公开的档案制度", "public", "BGS"),
        ("办公室内部档案", "internal", "BGS"),
        ("人事部内部档案", "internal", "RSB"),
        ("机密档案", "confidential", "BGS"),
    ] {
        let response = app
            .post("/api/v1/departments")
            .json(&json!({ "code": department, "name": department }))
            .send()
            .await
            .expect("department");
        assert!(response.status() == 201 || response.status() == 409);
        file(
            &app,
            json!({ "title": title, "security_level": level, "department": department, "category": "WS" }),
        )
        .await;
    }
    let staff = app.user_token("staff1", "staff", Some("BGS")).await;
    let manager = app
        .user_token("manager1", "dept_manager", Some("BGS"))
        .await;
    settle(&app).await;
    // staff see records only on loan or once opened: nothing here, and no count of it
    let nothing = search_as(&app, &staff, &[("q", "档案")]).await;
    assert_eq!(
        (nothing["total"].clone(), titles(&nothing).len()),
        (json!(0), 0)
    );
    // the department manager: their department's records up to internal
    let results = search_as(&app, &manager, &[("q", "档案")]).await;
    let mut seen = titles(&results);
    seen.sort();
    assert_eq!(seen, vec!["公开的档案制度", "办公室内部档案"]);
    assert_eq!(results["total"], 2);
    let departments = &results["facets"]["department"];
    assert_eq!(
        departments,
        &json!([{ "value": "BGS", "count": 2 }]),
        "{departments}"
    );
    // the hidden ones are absent for this user, not forbidden
    let hidden = app.pool.clone();
    let secret_id: uuid::Uuid =
        sqlx::query_scalar("select id from records where title = '机密档案'")
            .fetch_one(&hidden)
            .await
            .expect("record");
    let response = app
        .client
        .get(app.url(&format!("/api/v1/records/{secret_id}")))
        .bearer_auth(&staff)
        .send()
        .await
        .expect("get");
    assert_problem(response, 404, "not_found").await;
    let admin = login(&app.client, &app.address, "admin", ADMIN_PASSWORD).await;
    assert_eq!(search_as(&app, &admin, &[("q", "档案")]).await["total"], 4);
}

#[sqlx::test]
async fn the_index_follows_changes_and_a_rebuild_gives_the_same_results(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    sample(&app).await;
    let record = file(&app, json!({ "title": "旧的题名", "category": "WS" })).await;
    settle(&app).await;
    assert_eq!(search(&app, "旧的题名").await["total"], 1);
    let response = app
        .client
        .patch(app.url(&format!(
            "/api/v1/records/{}",
            record["id"].as_str().expect("id")
        )))
        .bearer_auth(&app.token)
        .json(&json!({ "title": "新的题名" }))
        .send()
        .await
        .expect("patch");
    assert_eq!(response.status(), 200);
    settle(&app).await;
    assert_eq!(search(&app, "旧的题名").await["total"], 0);
    assert_eq!(search(&app, "新的题名").await["total"], 1);

    let queries = ["档案", "合同", "晓明", "新的题名", "contract"];
    let mut before = Vec::new();
    for q in queries {
        before.push(titles(&search(&app, q).await));
    }
    let indexed = app.app.search.rebuild(|_, _| {}).await.expect("rebuild");
    assert_eq!(indexed, 6);
    // the rebuild refreshed the planner's statistics itself (after a large import, without
    // them, its reads planned as scans ran for hours)
    let analyzed: Vec<String> = sqlx::query_scalar(
        "select relname::text from pg_stat_user_tables
         where relname in ('records', 'file_texts') and last_analyze is not null order by 1",
    )
    .fetch_all(&app.pool)
    .await
    .expect("statistics");
    assert_eq!(analyzed, ["file_texts", "records"]);
    settle(&app).await;
    for (q, expected) in queries.iter().zip(before) {
        assert_eq!(titles(&search(&app, q).await), expected, "{q}");
    }
    // changes made after a rebuild still arrive
    file(
        &app,
        json!({ "title": "重建之后的新档案", "category": "WS" }),
    )
    .await;
    settle(&app).await;
    assert_eq!(search(&app, "重建之后").await["total"], 1);
}

#[sqlx::test]
async fn an_auditor_neither_reads_nor_files_nor_changes_records(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = file(
        &app,
        json!({ "title": "公开的通知", "security_level": "public" }),
    )
    .await;
    let auditor = app.user_token("auditor1", "auditor", None).await;
    let id = record["id"].as_str().expect("id");
    let response = app
        .client
        .get(app.url(&format!("/api/v1/records/{id}")))
        .bearer_auth(&auditor)
        .send()
        .await
        .expect("get");
    assert_problem(response, 404, "not_found").await;
    let response = app
        .client
        .patch(app.url(&format!("/api/v1/records/{id}")))
        .bearer_auth(&auditor)
        .json(&json!({ "title": "改过的" }))
        .send()
        .await
        .expect("patch");
    assert_problem(response, 404, "not_found").await;
    let form = reqwest::multipart::Form::new().part(
        "metadata",
        reqwest::multipart::Part::text(json!({ "title": "审计员上传" }).to_string())
            .mime_str("application/json")
            .expect("mime"),
    );
    let response = app
        .client
        .post(app.url("/api/v1/records"))
        .bearer_auth(&auditor)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_problem(response, 403, "forbidden").await;
    assert_eq!(app.count("records").await, 1);
}
