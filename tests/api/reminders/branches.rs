//! R22: a branch reports the catalogue of what it filed to the parent company within a month
//! of filing. A department flagged as a branch gets one reminder per month it filed in, due a
//! month after its first filing, linking the export of exactly those records.

use std::io::Cursor;

use calamine::{Reader, Xlsx, open_workbook_from_rs};
use chrono::Months;
use serde_json::{Value, json};
use sqlx::PgPool;

use super::reminders_for;
use crate::helpers::{TestApp, assert_problem};

fn branch_reminders(reminders: &[Value], code: &str) -> Vec<Value> {
    reminders
        .iter()
        .filter(|reminder| reminder["details"]["department"] == code)
        .cloned()
        .collect()
}

#[sqlx::test]
async fn a_branch_is_reminded_to_report_its_catalogue_within_a_month(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let today = app.app.reminders.today();
    let created = app
        .post("/api/v1/departments")
        .json(&json!({"code": "HDFG", "name": "華東分公司", "branch": true}))
        .send()
        .await
        .expect("department");
    assert_eq!(created.status(), 201);
    let created: Value = created.json().await.expect("json");
    assert_eq!(created["branch"], true);
    for title in ["分公司 合同 甲", "分公司 合同 乙"] {
        app.file_record(
            &json!({"title": title, "category": "WS", "department": "HDFG"}),
            vec![],
        )
        .await;
    }
    app.file_record(
        &json!({"title": "總公司 通知", "category": "WS", "department": "BGS"}),
        vec![],
    )
    .await;

    let report = app.app.reminders.sweep(today).await.expect("sweep");
    assert_eq!(report.branch_catalogues, 1);
    let archivist = app.user_token("keeper", "archivist", None).await;
    let listed = reminders_for(&app, &archivist, "kind=deadline").await;
    let asked = branch_reminders(&listed, "HDFG");
    assert_eq!(asked.len(), 1, "{listed:?}");
    let due = today
        .checked_add_months(Months::new(1))
        .expect("a month on");
    assert_eq!(asked[0]["due_on"], due.to_string());
    assert_eq!(asked[0]["details"]["records"], 2);
    assert!(
        branch_reminders(&listed, "BGS").is_empty(),
        "BGS is no branch"
    );

    // the linked export is the branch's catalogue of that month
    let link = asked[0]["details"]["export"].as_str().expect("export link");
    let export = app
        .client
        .get(app.url(link))
        .bearer_auth(&archivist)
        .send()
        .await
        .expect("export");
    assert_eq!(export.status(), 200);
    let bytes = export.bytes().await.expect("xlsx");
    let mut workbook: Xlsx<_> = open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("xlsx");
    let sheet = workbook
        .worksheet_range_at(0)
        .expect("a sheet")
        .expect("sheet");
    let text: Vec<String> = sheet
        .rows()
        .flat_map(|row| row.iter().map(|cell| cell.to_string()))
        .collect();
    assert!(
        text.iter().any(|cell| cell == "分公司 合同 甲")
            && text.iter().any(|cell| cell == "分公司 合同 乙"),
        "{text:?}"
    );
    assert!(!text.iter().any(|cell| cell == "總公司 通知"), "{text:?}");

    // swept again: nothing twice; a department made a branch later is reminded too
    assert_eq!(
        app.app
            .reminders
            .sweep(today)
            .await
            .expect("sweep")
            .branch_catalogues,
        0
    );
    let patched = app
        .client
        .patch(app.url("/api/v1/departments/BGS"))
        .bearer_auth(&app.token)
        .json(&json!({"branch": true}))
        .send()
        .await
        .expect("patch");
    assert_eq!(patched.status(), 200);
    assert_eq!(
        app.app
            .reminders
            .sweep(today)
            .await
            .expect("sweep")
            .branch_catalogues,
        1
    );
    let folders = app
        .get(&format!(
            "/api/v1/catalogue/export?kind=folders&filed_from={today}"
        ))
        .send()
        .await
        .expect("export");
    assert_problem(folders, 400, "validation").await;
}
