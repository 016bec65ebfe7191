//! Customer files as the plans run them (issue 19, item 4): a new customer folder is signed
//! off by the role its category names, and reminded a week on until it is; a purchase
//! schedules follow-up visits at 3, 30 and 60 days, a visit without one at 3 and 15; a
//! follow-up visit recorded with its outcome answers what is due; yearly survey and
//! assessment.

use chrono::{Duration, NaiveDate};
use serde_json::{Value, json};
use sqlx::PgPool;

use super::{create_party, reminders_for};
use crate::helpers::{TestApp, assert_problem};
use crate::places::{get_as, post_as};

/// The open reminders of `rule` about `party`, as the admin sees them.
async fn of_rule(app: &TestApp, party: &str, rule: &str) -> Vec<Value> {
    reminders_for(app, &app.token, "limit=1000")
        .await
        .into_iter()
        .filter(|reminder| reminder["party_id"] == party && reminder["details"]["rule"] == rule)
        .collect()
}

async fn sweep(app: &TestApp, day: NaiveDate) {
    app.app.reminders.sweep(day).await.expect("sweep");
}

async fn event(app: &TestApp, party: &str, body: Value) {
    let response = app
        .post(&format!("/api/v1/parties/{party}/events"))
        .json(&body)
        .send()
        .await
        .expect("event");
    assert_eq!(
        response.status(),
        201,
        "{}",
        response.text().await.unwrap_or_default()
    );
}

#[sqlx::test]
async fn a_customer_folder_not_signed_off_is_reminded_after_a_week(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let today = app.app.reminders.today();
    let customer = create_party(&app, "customer", "C-7001").await;
    let employee = create_party(&app, "employee", "E-7001").await;
    let manager = app.user_token("gm", "general_manager", None).await;
    let director = app.user_token("director", "director", None).await;
    let archivist = app.user_token("keeper", "archivist", None).await;
    let folder = app.get_json(&format!("/api/v1/parties/{customer}")).await;
    assert_eq!(folder["sign_off"]["by_role"], "general_manager", "{folder}");
    assert_eq!(folder["sign_off"]["signed_off_at"], Value::Null);

    // a week after the folder was made, the general manager is asked
    sweep(&app, today + Duration::days(7)).await;
    let asked = of_rule(&app, &customer, "customer_sign_off").await;
    assert_eq!(asked.len(), 1, "{asked:?}");
    assert_eq!(asked[0]["due_on"], (today + Duration::days(7)).to_string());
    let theirs = reminders_for(&app, &manager, "kind=deadline").await;
    assert!(
        theirs.iter().any(|r| r["party_id"] == customer.as_str()),
        "{theirs:?}"
    );

    let sign = format!("/api/v1/parties/{customer}/sign-off");
    // the director does not see customer folders; the records office is not the signer
    assert_problem(
        post_as(&app, &director, &sign, json!({})).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        post_as(&app, &archivist, &sign, json!({})).await,
        403,
        "forbidden",
    )
    .await;
    let signed = post_as(&app, &manager, &sign, json!({"note": "資料齊全"})).await;
    assert_eq!(signed.status(), 200);
    let signed: Value = signed.json().await.expect("sign-off");
    assert!(
        signed["signed_off_at"].is_string() && signed["note"] == "資料齊全",
        "{signed}"
    );
    assert!(
        of_rule(&app, &customer, "customer_sign_off")
            .await
            .is_empty()
    );
    assert_problem(
        post_as(&app, &manager, &sign, json!({})).await,
        409,
        "conflict",
    )
    .await;

    // signed off, it is not asked again; an employee folder needs no sign-off
    sweep(&app, today + Duration::days(14)).await;
    assert!(
        of_rule(&app, &customer, "customer_sign_off")
            .await
            .is_empty()
    );
    let folder = get_as(&app, &manager, &format!("/api/v1/parties/{customer}")).await;
    let folder: Value = folder.json().await.expect("folder");
    assert!(folder["sign_off"]["signed_off_by"].is_string(), "{folder}");
    let employee_sign = format!("/api/v1/parties/{employee}/sign-off");
    assert_problem(
        post_as(&app, &app.token, &employee_sign, json!({})).await,
        409,
        "conflict",
    )
    .await;
}

#[sqlx::test]
async fn a_purchase_schedules_three_follow_ups_that_visits_answer(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let today = app.app.reminders.today();
    let customer = create_party(&app, "customer", "C-7002").await;
    event(&app, &customer, json!({"type": "purchase", "date": today})).await;
    for days in [3, 30, 60] {
        sweep(&app, today + Duration::days(days)).await;
    }
    let mut due = Vec::new();
    for days in [3, 30, 60] {
        let rule = format!("customer_purchase_follow_up_{days}");
        let raised = of_rule(&app, &customer, &rule).await;
        assert_eq!(raised.len(), 1, "{rule}: {raised:?}");
        assert_eq!(raised[0]["kind"], "follow_up");
        due.push(raised[0]["due_on"].clone());
    }
    let days = |n: i64| json!((today + Duration::days(n)).to_string());
    assert_eq!(due, [days(3), days(30), days(60)]);

    // the 3-day visit is recorded with its outcome: it answers that reminder only
    event(
        &app,
        &customer,
        json!({"type": "follow_up", "date": today + Duration::days(3),
        "outcome": "客戶滿意，擬續約", "next_step": "下次回訪帶新報價"}),
    )
    .await;
    assert!(
        of_rule(&app, &customer, "customer_purchase_follow_up_3")
            .await
            .is_empty()
    );
    assert_eq!(
        of_rule(&app, &customer, "customer_purchase_follow_up_30")
            .await
            .len(),
        1
    );
    let folder = app.get_json(&format!("/api/v1/parties/{customer}")).await;
    let visit = folder["events"]
        .as_array()
        .expect("events")
        .iter()
        .find(|event| event["type"] == "follow_up")
        .cloned()
        .expect("the visit");
    assert_eq!(
        (&visit["outcome"], &visit["next_step"]),
        (&json!("客戶滿意，擬續約"), &json!("下次回訪帶新報價"))
    );

    // a visit without a purchase: follow-ups at 3 and 15 days
    let visited = today + Duration::days(70);
    event(&app, &customer, json!({"type": "visit", "date": visited})).await;
    sweep(&app, visited + Duration::days(3)).await;
    sweep(&app, visited + Duration::days(15)).await;
    for (rule, after) in [
        ("customer_visit_follow_up_3", 3),
        ("customer_visit_follow_up_15", 15),
    ] {
        let raised = of_rule(&app, &customer, rule).await;
        assert_eq!(raised.len(), 1, "{rule}: {raised:?}");
        assert_eq!(
            raised[0]["due_on"],
            (visited + Duration::days(after)).to_string()
        );
    }
    // a year on: the satisfaction survey and the file assessment
    sweep(&app, today + Duration::days(366)).await;
    for rule in ["customer_satisfaction_survey", "customer_file_assessment"] {
        assert_eq!(of_rule(&app, &customer, rule).await.len(), 1, "{rule}");
    }
}
