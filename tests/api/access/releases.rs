//! Release review (R18): an archivist proposes, a director or general manager other than
//! the proposer approves, every record changes at once, staff then see the opened records
//! in search; destroyed or held records and raises are refused and nothing changes.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, TestFile, assert_problem};
use crate::search::{search_as, settle};

async fn secret(app: &TestApp, title: &str, year: &str) -> Value {
    app.file_record(
        &json!({"title": title, "category": "WS", "security_level": "secret",
                "doc_date": format!("{year}-05-04")}),
        vec![TestFile::new("a.txt", title.as_bytes().to_vec())],
    )
    .await
}

async fn post_as(app: &TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("post")
}

#[sqlx::test]
async fn a_release_approved_by_a_second_person_opens_every_record_at_once(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let first = secret(&app, "一九九〇年 解密檔案 甲", "1990").await;
    let second = secret(&app, "一九九〇年 解密檔案 乙", "1990").await;
    let recent = secret(&app, "今年的 秘密檔案", "2026").await;
    let archivist = app.user_token("keeper", "archivist", None).await;
    let director = app.user_token("director", "director", None).await;
    let staff = app.user_token("clerk", "staff", None).await;
    settle(&app).await;
    assert_eq!(
        search_as(&app, &staff, &[("q", "解密檔案")]).await["total"],
        0
    );

    // what has come of age for review (30 years by default)
    let due: Value = app
        .get_json_as(&archivist, "/api/v1/releases/due?year=2026")
        .await;
    let due_ids: Vec<&Value> = due
        .as_array()
        .expect("due")
        .iter()
        .map(|item| &item["id"])
        .collect();
    assert!(
        due_ids.contains(&&first["id"]) && !due_ids.contains(&&recent["id"]),
        "{due}"
    );

    let body = json!({"record_ids": [first["id"], second["id"]], "open": true,
                      "security_level": "public", "reason": "滿三十年，經鑒定可以開放"});
    let proposed = post_as(&app, &archivist, "/api/v1/releases", body).await;
    assert_eq!(proposed.status(), 201);
    let proposed: Value = proposed.json().await.expect("release");
    let id = proposed["id"].as_str().expect("id");
    assert_eq!(proposed["status"], "proposed");
    assert_eq!(proposed["items"].as_array().map(Vec::len), Some(2));
    // proposing changes nothing yet; the proposer cannot approve, staff cannot either
    assert_eq!(
        search_as(&app, &staff, &[("q", "解密檔案")]).await["total"],
        0
    );
    let approve = format!("/api/v1/releases/{id}/approve");
    assert_problem(
        post_as(&app, &archivist, &approve, json!({})).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        post_as(&app, &staff, &approve, json!({})).await,
        403,
        "forbidden",
    )
    .await;

    let approved = post_as(&app, &director, &approve, json!({})).await;
    assert_eq!(approved.status(), 200);
    let approved: Value = approved.json().await.expect("release");
    assert_eq!(approved["status"], "approved");
    for item in approved["items"].as_array().expect("items") {
        assert_eq!(
            (&item["security_level"], &item["open_status"]),
            (&json!("public"), &json!("open"))
        );
        assert_eq!(item["level_before"], "secret");
    }
    assert_problem(
        post_as(&app, &director, &approve, json!({})).await,
        409,
        "conflict",
    )
    .await;
    settle(&app).await;
    let found = search_as(&app, &staff, &[("q", "解密檔案")]).await;
    assert_eq!(found["total"], 2, "{found}");
    let record = app
        .client
        .get(app.url(&format!(
            "/api/v1/records/{}",
            first["id"].as_str().expect("id")
        )))
        .bearer_auth(&staff)
        .send()
        .await
        .expect("get");
    assert_eq!(record.status(), 200);
    let released: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'record.released'")
            .fetch_one(&app.pool)
            .await
            .expect("count");
    assert_eq!(released, 2);

    // the listing by status: the decided release left the proposed ones
    let listed = |status: &'static str| {
        let (app, director) = (&app, &director);
        async move {
            app.get_json_as(director, &format!("/api/v1/releases?status={status}"))
                .await
        }
    };
    assert_eq!(listed("approved").await[0]["id"], proposed["id"]);
    assert_eq!(listed("proposed").await, json!([]));
    let unknown = app
        .client
        .get(app.url("/api/v1/releases?status=decided"))
        .bearer_auth(&director)
        .send()
        .await
        .expect("get");
    assert_problem(unknown, 400, "validation").await;
}

#[sqlx::test]
async fn releases_and_withdrawals_name_the_three_states_of_a_proposal(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let doc = app.get_json("/api/openapi.json").await;
    let schemas = &doc["components"]["schemas"];
    for view in ["ReleaseView", "WithdrawalView"] {
        assert_eq!(
            schemas[view]["properties"]["status"]["$ref"], "#/components/schemas/ProposalStatus",
            "{}",
            schemas[view]
        );
    }
    assert_eq!(
        schemas["ProposalStatus"]["enum"],
        json!(["proposed", "approved", "rejected"])
    );
}

#[sqlx::test]
async fn a_release_of_a_destroyed_or_held_record_or_a_raise_is_refused(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let held = secret(&app, "保全中的檔案", "1980").await;
    let gone = secret(&app, "已銷毀的檔案", "1980").await;
    let archivist = app.user_token("keeper", "archivist", None).await;
    let staff = app.user_token("clerk", "staff", None).await;
    let hold = app
        .post("/api/v1/holds")
        .json(&json!({"reason": "訴訟保全", "record_ids": [held["id"]]}))
        .send()
        .await
        .expect("hold");
    assert_eq!(hold.status(), 201);
    sqlx::query("update records set status = 'destroyed' where id = $1::uuid")
        .bind(gone["id"].as_str().expect("id"))
        .execute(&app.pool)
        .await
        .expect("destroy");
    let release = |records: Value, level: &str| json!({"record_ids": records, "security_level": level, "reason": "開放"});
    let cases = [
        (release(json!([held["id"]]), "public"), 409, "on_hold"),
        (release(json!([gone["id"]]), "public"), 409, "conflict"),
        (
            release(json!([held["id"]]), "confidential"),
            400,
            "validation",
        ),
        (
            json!({"record_ids": [held["id"]], "reason": "開放"}),
            400,
            "validation",
        ),
        (
            release(json!([uuid::Uuid::now_v7()]), "public"),
            404,
            "not_found",
        ),
    ];
    for (body, status, code) in cases {
        assert_problem(
            post_as(&app, &archivist, "/api/v1/releases", body).await,
            status,
            code,
        )
        .await;
    }
    let by_staff = post_as(
        &app,
        &staff,
        "/api/v1/releases",
        release(json!([held["id"]]), "public"),
    )
    .await;
    assert_problem(by_staff, 403, "forbidden").await;
    assert_eq!(app.count("releases").await, 0);
    let still: Value = app
        .get_json(&format!(
            "/api/v1/records/{}",
            held["id"].as_str().expect("id")
        ))
        .await;
    assert_eq!(still["security_level"], "secret");
}
