//! Lending as the plans run it (issue 19, item 5): outside borrowers registered with their
//! organisation and letter of introduction, reading-room loans that open the record but
//! refuse every download and come back the same day, and loans of a few hours.

use serde_json::{Value, json};
use sqlx::PgPool;

use super::{act, get_as, json_of, lend, request_loan, send};
use crate::helpers::{TestApp, TestFile, assert_problem};

async fn secret_record(app: &TestApp, title: &str) -> Value {
    app.file_record(
        &json!({"title": title, "category": "WS", "security_level": "secret"}),
        vec![TestFile::new("a.txt", format!("{title} 正文").into_bytes())],
    )
    .await
}

fn file_path(record: &Value) -> String {
    format!(
        "/api/v1/records/{}/files/{}",
        record["id"].as_str().expect("id"),
        record["files"][0]["id"].as_str().expect("file")
    )
}

#[sqlx::test]
async fn an_outside_borrowers_reading_room_loan_refuses_downloads(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = secret_record(&app, "王五 勞動合同").await;
    let archivist = app.user_token("keeper", "archivist", None).await;
    let director = app.user_token("director", "director", None).await;
    let staff = app.user_token("clerk", "staff", None).await;
    let post = |token: &str, body: Value| {
        app.client
            .post(app.url("/api/v1/borrowers"))
            .bearer_auth(token.to_owned())
            .json(&body)
    };
    let police = json!({"name": "王警官", "organisation": "某市公安局經偵支隊",
                        "id_document": "警官證 310123", "letter": "公安介紹信〔2026〕12號"});
    assert_problem(send(post(&staff, police.clone())).await, 403, "forbidden").await;
    let mut no_letter = police.clone();
    no_letter["letter"] = json!(" ");
    assert_problem(send(post(&archivist, no_letter)).await, 400, "validation").await;
    let borrower = json_of(send(post(&archivist, police)).await, 201).await;
    let found = json_of(
        get_as(&app, &archivist, "/api/v1/borrowers?q=公安").await,
        200,
    )
    .await;
    assert_eq!(found.as_array().map(Vec::len), Some(1), "{found}");

    // no login: an electronic loan is refused, a reading-room one is registered
    let electronic = json!({"record_id": record["id"], "purpose": "案件偵查", "days": 3,
                            "outside_borrower": borrower["id"]});
    assert_problem(
        request_loan(&app, &archivist, electronic).await,
        400,
        "validation",
    )
    .await;
    let reading = json!({"record_id": record["id"], "purpose": "案件偵查",
                         "reading_room": true, "outside_borrower": borrower["id"]});
    // only the records office lends to outside borrowers (refused before the record is read)
    assert_problem(
        request_loan(&app, &staff, reading.clone()).await,
        403,
        "forbidden",
    )
    .await;
    let loan = json_of(request_loan(&app, &archivist, reading).await, 201).await;
    assert_eq!(loan["borrower"], "王警官（某市公安局經偵支隊）");
    assert_eq!(loan["borrower_id"], Value::Null);
    assert_eq!(loan["outside_borrower_id"], borrower["id"]);
    assert_eq!(loan["reading_room"], true);
    let loan_id = loan["id"].as_str().expect("id");
    let approved = json_of(act(&app, &director, loan_id, "approve").await, 200).await;
    // back the same day, never copied
    assert_eq!(approved["due_on"], app.app.reminders.today().to_string());
    assert_eq!(approved["copy_allowed"], false);
    let due = json_of(
        get_as(&app, &archivist, "/api/v1/reminders?kind=loan").await,
        200,
    )
    .await;
    assert!(
        due.as_array()
            .expect("reminders")
            .iter()
            .any(|r| r["details"]["loan_id"] == loan["id"] && r["recipient_role"] == "archivist"),
        "the records office sees to an outside borrower's return: {due}"
    );
    json_of(act(&app, &archivist, loan_id, "return").await, 200).await;

    // a staff member's reading-room loan opens the record but no download of any kind
    let mine = json!({"record_id": record["id"], "purpose": "核對", "reading_room": true});
    let lent = lend(&app, "clerk", mine, json!({"copy_allowed": true})).await;
    assert_eq!(lent["copy_allowed"], false, "{lent}");
    let seen = get_as(
        &app,
        &staff,
        &format!("/api/v1/records/{}", record["id"].as_str().expect("id")),
    )
    .await;
    assert_eq!(seen.status(), 200);
    let path = file_path(&record);
    assert_problem(get_as(&app, &staff, &path).await, 403, "forbidden").await;
    assert_problem(
        get_as(&app, &staff, &format!("{path}/stamped")).await,
        403,
        "forbidden",
    )
    .await;
    // the borrower cannot close it themselves: the reading room takes it back
    let own_return = act(&app, &staff, lent["id"].as_str().expect("id"), "return").await;
    assert_problem(own_return, 403, "forbidden").await;
}

#[sqlx::test]
async fn a_loan_of_hours_ends_when_its_hours_are_up(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = secret_record(&app, "合同原件 帶出洽談").await;
    let staff = app.user_token("clerk", "staff", None).await;
    let archivist = app.user_token("keeper", "archivist", None).await;
    let both = json!({"record_id": record["id"], "purpose": "洽談", "days": 1, "hours": 3});
    assert_problem(
        request_loan(&app, &archivist, both).await,
        400,
        "validation",
    )
    .await;
    let long = json!({"record_id": record["id"], "purpose": "洽談", "hours": 13});
    assert_problem(
        request_loan(&app, &archivist, long).await,
        400,
        "validation",
    )
    .await;

    let body = json!({"record_id": record["id"], "purpose": "帶出洽談", "hours": 3,
                      "physical": true});
    let loan = lend(&app, "clerk", body, json!({})).await;
    assert_eq!(
        (loan["days"].as_i64(), loan["hours"].as_i64()),
        (Some(0), Some(3))
    );
    let due_at: chrono::DateTime<chrono::Utc> = loan["due_at"]
        .as_str()
        .expect("due_at")
        .parse()
        .expect("instant");
    let left = due_at - chrono::Utc::now();
    assert!(
        left > chrono::Duration::minutes(170) && left <= chrono::Duration::hours(3),
        "{left}"
    );
    let id = record["id"].as_str().expect("id");
    assert_eq!(
        get_as(&app, &staff, &format!("/api/v1/records/{id}"))
            .await
            .status(),
        200
    );

    // three hours later the loan no longer opens the record and is overdue
    sqlx::query("update loans set due_at = now() - interval '1 minute' where id = $1::uuid")
        .bind(loan["id"].as_str().expect("loan"))
        .execute(&app.pool)
        .await
        .expect("time passes");
    assert_problem(
        get_as(&app, &staff, &format!("/api/v1/records/{id}")).await,
        404,
        "not_found",
    )
    .await;
    let listed = json_of(
        get_as(&app, &archivist, "/api/v1/loans?status=approved").await,
        200,
    )
    .await;
    assert_eq!(listed["items"][0]["overdue"], true, "{listed}");
    let today = app.app.reminders.today();
    let report = app.app.reminders.sweep(today).await.expect("sweep");
    assert_eq!(report.overdue_loans, 1);
}
