//! What waits for whom (issue 19, item 2): a batch awaiting approval reminds the director
//! and the general manager, each until they approved or the batch is approved; a batch
//! awaiting shredding reminds its named supervisors until it is done; a release and a
//! withdrawal remind their deciders until decided. The reminder list is the one query.

use serde_json::{Value, json};
use sqlx::PgPool;

use super::shredding::{confirm, due_paper_record, new_batch};
use super::{approve, user};
use crate::helpers::TestApp;
use crate::places::post_as;
use crate::search::settle;

/// The open reminders of `kind` addressed to the holder of `token`.
async fn waiting(app: &TestApp, token: &str, kind: &str) -> Vec<Value> {
    let response = app
        .client
        .get(app.url(&format!("/api/v1/reminders?kind={kind}")))
        .bearer_auth(token)
        .send()
        .await
        .expect("reminders");
    assert_eq!(response.status(), 200);
    response.json().await.expect("reminders JSON")
}

fn about<'a>(reminders: &'a [Value], field: &str, id: &Value) -> Vec<&'a Value> {
    reminders
        .iter()
        .filter(|reminder| reminder["details"][field] == *id)
        .collect()
}

#[sqlx::test]
async fn a_batch_reminds_both_approvers_then_its_supervisors_until_each_has_acted(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let paper = due_paper_record(&app, "紙質合同").await;
    let created = new_batch(&app, &[&paper], json!({})).await;
    let id = &created["id"];
    let director = user(&app, "director", "director").await;
    let manager = user(&app, "manager", "general_manager").await;
    let keeper = user(&app, "keeper", "archivist").await;
    let clerk = user(&app, "clerk", "staff").await;

    for token in [&director, &manager] {
        let asked = waiting(&app, token, "approval").await;
        let asked = about(&asked, "batch_id", id);
        assert_eq!(asked.len(), 1, "{asked:?}");
        assert!(
            asked[0]["subject"]
                .as_str()
                .is_some_and(|s| s.contains("銷毀批次待審批"))
        );
        assert_eq!(asked[0]["status"], "open");
    }
    assert!(about(&waiting(&app, &clerk, "approval").await, "batch_id", id).is_empty());

    // the director approves: their reminder closes, the general manager is still asked
    assert_eq!(approve(&app, &director, &created).await.status(), 200);
    assert!(about(&waiting(&app, &director, "approval").await, "batch_id", id).is_empty());
    assert_eq!(
        about(&waiting(&app, &manager, "approval").await, "batch_id", id).len(),
        1
    );
    assert_eq!(approve(&app, &manager, &created).await.status(), 200);
    assert!(about(&waiting(&app, &manager, "approval").await, "batch_id", id).is_empty());

    // run: the paper item waits for shredding, and its supervisors are asked
    settle(&app).await;
    let asked = waiting(&app, &keeper, "shredding").await;
    let asked = about(&asked, "batch_id", id);
    // keeper is a named supervisor; 王監銷 has no login, so the records office (keeper's
    // role) is asked to enter that confirmation
    assert_eq!(asked.len(), 2, "{asked:?}");
    assert!(about(&waiting(&app, &clerk, "shredding").await, "batch_id", id).is_empty());
    let done = confirm(&app, &keeper, &created, json!({})).await;
    assert_eq!(done.status(), 200);
    assert!(about(&waiting(&app, &keeper, "shredding").await, "batch_id", id).is_empty());
}

#[sqlx::test]
async fn releases_and_withdrawals_remind_their_deciders_until_decided(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = app
        .file_record(
            &json!({"title": "一九八〇年 舊檔", "category": "WS", "security_level": "secret",
                    "doc_date": "1980-01-01"}),
            vec![],
        )
        .await;
    let archivist = app.user_token("keeper", "archivist", None).await;
    let director = app.user_token("director", "director", None).await;
    let manager = app.user_token("gm", "general_manager", None).await;

    let release = post_as(
        &app,
        &archivist,
        "/api/v1/releases",
        json!({"record_ids": [record["id"]], "open": true, "reason": "滿三十年"}),
    )
    .await;
    assert_eq!(release.status(), 201);
    let release: Value = release.json().await.expect("release");
    let withdrawal = post_as(
        &app,
        &archivist,
        &format!(
            "/api/v1/records/{}/withdrawals",
            record["id"].as_str().expect("id")
        ),
        json!({"reason": "重複歸檔"}),
    )
    .await;
    assert_eq!(withdrawal.status(), 201);
    let withdrawal: Value = withdrawal.json().await.expect("withdrawal");

    for token in [&director, &manager] {
        let asked = waiting(&app, token, "approval").await;
        assert_eq!(
            about(&asked, "release_id", &release["id"]).len(),
            1,
            "{asked:?}"
        );
        let withdrawals = about(&asked, "withdrawal_id", &withdrawal["id"]);
        assert_eq!(withdrawals.len(), 1, "{asked:?}");
        assert_eq!(withdrawals[0]["record_id"], record["id"]);
    }
    // the proposer is not asked to decide their own proposal
    assert!(waiting(&app, &archivist, "approval").await.is_empty());

    let release_id = release["id"].as_str().expect("id");
    let rejected = post_as(
        &app,
        &director,
        &format!("/api/v1/releases/{release_id}/reject"),
        json!({}),
    )
    .await;
    assert_eq!(rejected.status(), 200);
    let withdrawal_id = withdrawal["id"].as_str().expect("id");
    let approved = post_as(
        &app,
        &manager,
        &format!("/api/v1/withdrawals/{withdrawal_id}/approve"),
        json!({}),
    )
    .await;
    assert_eq!(approved.status(), 200);
    for token in [&director, &manager] {
        let asked = waiting(&app, token, "approval").await;
        assert!(
            about(&asked, "release_id", &release["id"]).is_empty(),
            "{asked:?}"
        );
        assert!(
            about(&asked, "withdrawal_id", &withdrawal["id"]).is_empty(),
            "{asked:?}"
        );
    }
}
