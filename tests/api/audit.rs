//! The audit trail over HTTP: listing by record, actor and action with paging, and the
//! check of its hash chain, which finds an event changed in the database.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, TestFile, assert_problem};

/// A record filed and then changed: two events of its own.
async fn changed_record(app: &TestApp, title: &str) -> String {
    let record = app
        .file_record(
            &json!({"title": title}),
            vec![TestFile::new("a.txt", title.as_bytes().to_vec())],
        )
        .await;
    let id = record["id"].as_str().expect("id").to_owned();
    let response = app
        .client
        .patch(app.url(&format!("/api/v1/records/{id}")))
        .bearer_auth(&app.token)
        .json(&json!({"description": "改過的說明"}))
        .send()
        .await
        .expect("patch");
    assert_eq!(response.status(), 200);
    id
}

#[sqlx::test]
async fn the_trail_of_a_record_is_listed_newest_first_and_pages(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let id = changed_record(&app, "合同").await;
    let other = changed_record(&app, "另一份合同").await;

    let trail = app.get_json(&format!("/api/v1/audit?record_id={id}")).await;
    let items = trail["items"].as_array().expect("items");
    assert!(items.len() >= 2, "{trail}");
    assert!(items.iter().all(|event| event["record_id"] == json!(id)));
    assert!(
        items[0]["id"].as_i64() > items[1]["id"].as_i64(),
        "newest first"
    );
    assert_eq!(items[0]["action"], "record.updated", "{trail}");
    assert_eq!(items[0]["actor"], "admin");

    let first = app.get_json("/api/v1/audit?actor=admin&limit=1").await;
    assert_eq!(first["items"].as_array().map(Vec::len), Some(1));
    let cursor = first["next_cursor"].as_str().expect("more pages");
    let second = app
        .get_json(&format!(
            "/api/v1/audit?actor=admin&limit=1&cursor={cursor}"
        ))
        .await;
    assert!(second["items"][0]["id"].as_i64() < first["items"][0]["id"].as_i64());

    let updates = app.get_json("/api/v1/audit?action=record.updated").await;
    let records: Vec<&Value> = updates["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|event| &event["record_id"])
        .collect();
    assert_eq!(records, vec![&json!(other), &json!(id)]);

    let unknown = app
        .get("/api/v1/audit?actor=nobody")
        .send()
        .await
        .expect("get");
    assert_problem(unknown, 400, "validation").await;
    let staff = app.user_token("clerk", "staff", None).await;
    let forbidden = app
        .client
        .get(app.url("/api/v1/audit"))
        .bearer_auth(&staff)
        .send()
        .await
        .expect("get");
    assert_problem(forbidden, 403, "forbidden").await;
    let auditor = app.user_token("auditor", "auditor", None).await;
    let allowed = app
        .client
        .get(app.url("/api/v1/audit/verify"))
        .bearer_auth(&auditor)
        .send()
        .await
        .expect("get");
    assert_eq!(allowed.status(), 200);
}

#[sqlx::test]
async fn verify_finds_the_event_changed_behind_dangans_back(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let id = changed_record(&app, "合同").await;
    let other = changed_record(&app, "另一份合同").await;

    let intact = app.get_json("/api/v1/audit/verify").await;
    assert_eq!(intact["ok"], true, "{intact}");
    assert_eq!(intact["records"], 2);
    assert!(intact["events"].as_u64() >= Some(4), "{intact}");

    let changed: i64 = sqlx::query_scalar(
        "update audit_events set details = details || '{\"title\": \"偽造\"}'
         where id = (select min(id) from audit_events where record_id = $1::uuid) returning id",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .expect("tamper");
    let report = app.get_json("/api/v1/audit/verify").await;
    assert_eq!(report["ok"], false);
    assert_eq!(
        report["broken"],
        json!([{"record_id": id, "event_ids": [changed]}]),
        "{report}"
    );
    let one = app
        .get_json(&format!("/api/v1/audit/verify?record_id={other}"))
        .await;
    assert_eq!((&one["ok"], &one["records"]), (&json!(true), &json!(1)));
}

#[sqlx::test]
async fn seeing_a_record_its_files_a_search_or_the_catalogue_is_traced_to_the_person(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(
            &json!({"title": "勞動合同"}),
            vec![TestFile::new("a.txt", "勞動合同正文".as_bytes().to_vec())],
        )
        .await;
    let id = record["id"].as_str().expect("id");
    let file = record["files"][0]["id"].as_str().expect("file id");
    let reader = app.user_token("reader", "archivist", None).await;
    for path in [
        format!("/api/v1/records/{id}"),
        format!("/api/v1/records/{id}/files/{file}"),
        "/api/v1/search?q=%E5%90%88%E5%90%8C&year=2024".to_owned(),
        "/api/v1/catalogue/export?format=csv".to_owned(),
    ] {
        let response = app
            .client
            .get(app.url(&path))
            .bearer_auth(&reader)
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), 200, "{path}");
        response.bytes().await.expect("body");
    }
    // A request refused for bad input reaches nothing, so it leaves no trace.
    let refused = app
        .client
        .get(app.url("/api/v1/search?q=%22unclosed"))
        .bearer_auth(&reader)
        .send()
        .await
        .expect("get");
    assert_problem(refused, 400, "validation").await;

    let trail = app.get_json("/api/v1/audit?actor=reader").await;
    let items = trail["items"].as_array().expect("items");
    let actions: Vec<&str> = items.iter().filter_map(|e| e["action"].as_str()).collect();
    assert_eq!(
        actions,
        ["catalogue.exported", "search", "file.read", "record.viewed"],
        "{trail}"
    );
    assert_eq!(items[0]["details"]["query"]["format"], "csv");
    assert_eq!(items[1]["details"]["params"]["q"], "合同");
    assert_eq!(items[1]["details"]["params"]["year"], 2024);
    assert_eq!(items[2]["details"]["file_id"], json!(file));
    assert_eq!(items[3]["record_id"], json!(id));

    // Views join the record's hash chain like any other event.
    let chain = app
        .get_json(&format!("/api/v1/audit/verify?record_id={id}"))
        .await;
    assert_eq!(chain["ok"], true, "{chain}");
    assert!(chain["events"].as_u64() >= Some(3), "{chain}");

    // A search names the records its page showed, in their order.
    app.file_record(
        &json!({"title": "勞動合同 附件"}),
        vec![TestFile::new("b.txt", "勞動合同附件".as_bytes().to_vec())],
    )
    .await;
    crate::search::settle(&app).await;
    let page = app
        .get_json("/api/v1/search?q=%E5%8B%9E%E5%8B%95%E5%90%88%E5%90%8C")
        .await;
    let ranked: Vec<&Value> = page["hits"]
        .as_array()
        .expect("hits")
        .iter()
        .map(|hit| &hit["record_id"])
        .collect();
    assert_eq!(ranked.len(), 2, "{page}");
    let newest = app
        .get_json("/api/v1/audit?actor=admin&action=search")
        .await;
    let details = &newest["items"][0]["details"];
    assert_eq!(
        details["shown"]
            .as_array()
            .expect("shown")
            .iter()
            .collect::<Vec<_>>(),
        ranked
    );
    assert_eq!(details["total"], 2);
    assert_eq!(details["params"]["q"], "勞動合同");
}

#[sqlx::test]
async fn deleting_the_newest_audit_events_in_sql_makes_verify_fail(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for n in 0..3 {
        app.file_record(
            &json!({ "title": format!("封存測試 {n}") }),
            vec![TestFile::new("a.txt", format!("第{n}件").into_bytes())],
        )
        .await;
    }
    // an event of no record is in the whole trail's chain too
    app.user_token("someone", "staff", None).await;
    // an event is sealed once every transaction older than it has ended, in the whole
    // cluster: other tests' open transactions can hold the last one back for a moment
    let started = std::time::Instant::now();
    let report = loop {
        let report = app.get_json("/api/v1/audit/verify").await;
        let sealed = report["trail"]["sealed"].as_u64().expect("sealed");
        if sealed >= 4 || started.elapsed() > std::time::Duration::from_secs(30) {
            break report;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    };
    assert_eq!(report["ok"], true, "{report}");
    let sealed = report["trail"]["sealed"].as_u64().expect("sealed");
    assert!(sealed >= 4, "{report}");
    assert_eq!(report["trail"]["anchor"]["ok"], true, "{report}");
    assert!(
        !app.objects("audit/anchors").is_empty(),
        "the head is anchored in the object store"
    );

    // the newest two events go, in SQL, leaving the chain itself consistent
    sqlx::query(
        "delete from audit_events where id in
             (select id from audit_events order by id desc limit 2)",
    )
    .execute(&app.pool)
    .await
    .expect("delete");
    let report = app.get_json("/api/v1/audit/verify").await;
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["trail"]["anchor"]["ok"], false, "{report}");
    assert!(
        report["trail"]["anchor"]["problem"]
            .as_str()
            .is_some_and(|problem| problem.contains("deleted")),
        "{report}"
    );
}

#[sqlx::test]
async fn an_event_changed_in_the_middle_of_the_trail_breaks_the_whole_chain_there(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    app.user_token("first", "staff", None).await;
    app.user_token("second", "staff", None).await;
    app.user_token("third", "staff", None).await;
    let report = app.get_json("/api/v1/audit/verify").await;
    assert_eq!(report["ok"], true, "{report}");
    let middle: i64 = sqlx::query_scalar(
        "select id from audit_events where action = 'user.created' order by id limit 1 offset 1",
    )
    .fetch_one(&app.pool)
    .await
    .expect("event");
    // the whole trail's chain covers an event once the sealer has taken it in, which other
    // tests' open transactions can hold back for a moment (a loaded machine: longer); each
    // verify seals what it can first
    let started = std::time::Instant::now();
    loop {
        app.get_json("/api/v1/audit/verify").await;
        let sealed: bool =
            sqlx::query_scalar("select seal_seq is not null from audit_events where id = $1")
                .bind(middle)
                .fetch_one(&app.pool)
                .await
                .expect("seal");
        if sealed {
            break;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(30),
            "event {middle} was never sealed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    sqlx::query("update audit_events set details = '{\"username\": \"mallory\"}' where id = $1")
        .bind(middle)
        .execute(&app.pool)
        .await
        .expect("tamper");
    let report = app.get_json("/api/v1/audit/verify").await;
    assert_eq!(report["ok"], false, "{report}");
    assert_eq!(report["trail"]["broken"], json!([middle]), "{report}");
}
