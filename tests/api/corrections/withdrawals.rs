//! Withdrawal (作廢) of a record filed by mistake: an archivist proposes, a director other
//! than the proposer approves; the record leaves search and keeps its archival code, whose
//! item number is never given again.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, TestFile, assert_problem};
use crate::places::{get_as, post_as};
use crate::search::{search, settle};

async fn file(app: &TestApp, title: &str) -> Value {
    app.file_record(
        &json!({"title": title, "doc_date": "2024-05-01", "category": "WS",
                "retention": "D10", "department": "BGS"}),
        vec![TestFile::new("a.txt", format!("{title} 正文").into_bytes())],
    )
    .await
}

fn item_number(record: &Value) -> u32 {
    record["archival_code"]
        .as_str()
        .and_then(|code| code.rsplit('-').next())
        .and_then(|number| number.parse().ok())
        .unwrap_or_else(|| panic!("no item number in {record}"))
}

async fn json_of(response: reqwest::Response, status: u16) -> Value {
    assert_eq!(response.status(), status);
    response.json().await.expect("JSON")
}

#[sqlx::test]
async fn a_withdrawn_record_needs_two_people_and_keeps_its_number(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let kept = file(&app, "正確歸檔 qzxkept").await;
    let mistake = file(&app, "誤歸檔的合同 qzxmistake").await;
    settle(&app).await;
    assert_eq!(search(&app, "qzxmistake").await["total"], 1);
    let archivist = app.user_token("keeper", "archivist", None).await;
    let director = app.user_token("director", "director", None).await;
    let staff = app.user_token("clerk", "staff", Some("BGS")).await;
    let id = mistake["id"].as_str().expect("id");
    let propose = format!("/api/v1/records/{id}/withdrawals");

    assert_problem(
        post_as(&app, &archivist, &propose, json!({"reason": " "})).await,
        400,
        "validation",
    )
    .await;
    let proposed = json_of(
        post_as(
            &app,
            &archivist,
            &propose,
            json!({"reason": "誤歸入他人檔案"}),
        )
        .await,
        201,
    )
    .await;
    assert_eq!(proposed["status"], "proposed");
    assert_eq!(proposed["record_id"], id);
    let withdrawal = proposed["id"].as_str().expect("withdrawal id");
    assert_problem(
        post_as(&app, &archivist, &propose, json!({"reason": "再次"})).await,
        409,
        "conflict",
    )
    .await;

    // the approvers' queue lists it; the proposal alone changes nothing
    let queue = json_of(
        get_as(&app, &director, "/api/v1/withdrawals?status=proposed").await,
        200,
    )
    .await;
    assert_eq!(queue.as_array().map(Vec::len), Some(1), "{queue}");
    assert_problem(
        get_as(&app, &staff, "/api/v1/withdrawals").await,
        403,
        "forbidden",
    )
    .await;
    let approve = format!("/api/v1/withdrawals/{withdrawal}/approve");
    // the proposer cannot approve; staff, who do not see the record, find no withdrawal
    assert_problem(
        post_as(&app, &archivist, &approve, json!({})).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        post_as(&app, &staff, &approve, json!({})).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(
        app.get_json(&format!("/api/v1/records/{id}")).await["status"],
        "active"
    );

    let approved = json_of(
        post_as(&app, &director, &approve, json!({"note": "同意作廢"})).await,
        200,
    )
    .await;
    assert_eq!(approved["status"], "approved");
    assert_problem(
        post_as(&app, &director, &approve, json!({})).await,
        409,
        "conflict",
    )
    .await;

    // a tombstone with its code and why; out of search; nothing changes it any more
    let tombstone = app.get_json(&format!("/api/v1/records/{id}")).await;
    assert_eq!(tombstone["status"], "withdrawn");
    assert_eq!(tombstone["archival_code"], mistake["archival_code"]);
    assert_eq!(tombstone["tombstone"]["reason"], "誤歸入他人檔案");
    assert_eq!(tombstone["tombstone"]["note"], "同意作廢");
    settle(&app).await;
    assert_eq!(search(&app, "qzxmistake").await["total"], 0);
    assert_eq!(search(&app, "qzxkept").await["total"], 1);
    let patch = app
        .client
        .patch(app.url(&format!("/api/v1/records/{id}")))
        .bearer_auth(&archivist)
        .json(&json!({"title": "改"}))
        .send()
        .await
        .expect("patch");
    assert_problem(patch, 409, "conflict").await;
    assert_problem(
        post_as(&app, &archivist, &propose, json!({"reason": "再次"})).await,
        409,
        "conflict",
    )
    .await;

    // its number is not given again
    let next = file(&app, "下一件").await;
    assert_eq!(item_number(&kept) + 1, item_number(&mistake));
    assert_eq!(item_number(&next), item_number(&mistake) + 1, "{next}");
    let actions: Vec<String> = sqlx::query_scalar(
        "select action from audit_events where record_id = $1::uuid and action <> 'record.viewed'
         order by id",
    )
    .bind(id)
    .fetch_all(&app.pool)
    .await
    .expect("audit");
    assert_eq!(
        actions,
        [
            "record.created",
            "record.withdrawal_proposed",
            "record.withdrawn"
        ]
    );
}

#[sqlx::test]
async fn a_rejected_withdrawal_leaves_the_record_and_a_hidden_one_is_missing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = file(&app, "待審的合同").await;
    let secret = app
        .file_record(
            &json!({"title": "機密", "category": "WS", "security_level": "secret"}),
            vec![],
        )
        .await;
    let archivist = app.user_token("keeper", "archivist", None).await;
    let manager = app.user_token("gm", "general_manager", None).await;
    let staff = app.user_token("clerk", "staff", None).await;
    let id = record["id"].as_str().expect("id");
    let proposed = json_of(
        post_as(
            &app,
            &archivist,
            &format!("/api/v1/records/{id}/withdrawals"),
            json!({"reason": "重複歸檔"}),
        )
        .await,
        201,
    )
    .await;
    let withdrawal = proposed["id"].as_str().expect("id");
    let rejected = json_of(
        post_as(
            &app,
            &manager,
            &format!("/api/v1/withdrawals/{withdrawal}/reject"),
            json!({"note": "不是重複"}),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(
        app.get_json(&format!("/api/v1/records/{id}")).await["status"],
        "active"
    );
    // once rejected, a new proposal may follow
    let secret_id = secret["id"].as_str().expect("id");
    let hidden = json_of(
        post_as(
            &app,
            &archivist,
            &format!("/api/v1/records/{secret_id}/withdrawals"),
            json!({"reason": "誤歸檔"}),
        )
        .await,
        201,
    )
    .await;
    let hidden_id = hidden["id"].as_str().expect("id");
    // a staff member asking after the withdrawal of a record they cannot see is told of
    // nothing: forbidden to the queue, missing to a decision
    assert_problem(
        post_as(
            &app,
            &staff,
            &format!("/api/v1/withdrawals/{hidden_id}/approve"),
            json!({}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let unknown = uuid::Uuid::now_v7();
    assert_problem(
        post_as(
            &app,
            &staff,
            &format!("/api/v1/withdrawals/{unknown}/approve"),
            json!({}),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    let list = json_of(
        get_as(
            &app,
            &manager,
            &format!("/api/v1/withdrawals?record_id={id}"),
        )
        .await,
        200,
    )
    .await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
}
