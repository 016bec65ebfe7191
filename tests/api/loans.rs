//! Lending (借閱, R11–R13) over HTTP: a staff member sees a secret record only through an
//! approved loan, and its downloads carry a watermark that poppler reads back; customer
//! records need the general manager; overdue loans are reminded; bad requests are refused.

use std::process::Command;

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, TestFile, assert_problem, corpus};

mod copies;
mod outside;
mod physical;
mod requests;

async fn send(request: reqwest::RequestBuilder) -> reqwest::Response {
    request.send().await.expect("request")
}

async fn json_of(response: reqwest::Response, status: u16) -> Value {
    let got = response.status();
    let body = response.text().await.expect("body");
    assert_eq!(got, status, "{body}");
    serde_json::from_str(&body).expect("json")
}

async fn request_loan(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    send(
        app.client
            .post(app.url("/api/v1/loans"))
            .bearer_auth(token)
            .json(&body),
    )
    .await
}

async fn act(app: &TestApp, token: &str, loan: &str, action: &str) -> reqwest::Response {
    send(
        app.client
            .post(app.url(&format!("/api/v1/loans/{loan}/{action}")))
            .bearer_auth(token),
    )
    .await
}

/// Registers a loan of `body` for `borrower` at the records office and has the director
/// approve it, with `approval` as the approval's body; returns the loan.
async fn lend(app: &TestApp, borrower: &str, mut body: Value, approval: Value) -> Value {
    let archivist = app.user_token("lender", "archivist", None).await;
    let director = app.user_token("approver", "director", None).await;
    body["borrower"] = json!(borrower);
    let loan = json_of(request_loan(app, &archivist, body).await, 201).await;
    let path = format!(
        "/api/v1/loans/{}/approve",
        loan["id"].as_str().expect("loan id")
    );
    json_of(
        send(
            app.client
                .post(app.url(&path))
                .bearer_auth(&director)
                .json(&approval),
        )
        .await,
        200,
    )
    .await
}

async fn get_as(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    send(app.client.get(app.url(path)).bearer_auth(token)).await
}

/// A secret record with the given files; staff cannot see it by role.
async fn secret_record(app: &TestApp, extra: Value, files: Vec<TestFile>) -> Value {
    let mut metadata = json!({"title": "董事會決議 board resolution", "security_level": "secret"});
    if let (Some(map), Some(extra)) = (metadata.as_object_mut(), extra.as_object()) {
        map.extend(extra.clone());
    }
    app.file_record(&metadata, files).await
}

fn pdftotext(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("copy.pdf");
    std::fs::write(&path, pdf).expect("write");
    let output = Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext runs (poppler-utils)");
    assert!(
        output.status.success(),
        "pdftotext failed on the marked copy"
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[sqlx::test]
async fn a_staff_member_sees_a_record_only_through_an_approved_loan_and_gets_marked_copies(
    pool: PgPool,
) {
    let app = TestApp::spawn(pool).await;
    let original = corpus("pdf/maint-guide.zh-cn.pdf");
    let scan = corpus("scans/scan_sc.jpg");
    let record = secret_record(
        &app,
        json!({}),
        vec![
            TestFile::new("決議.pdf", original.clone()),
            TestFile::new("scan.jpg", scan),
        ],
    )
    .await;
    let id = record["id"].as_str().expect("id");
    let pdf_id = record["files"][0]["id"].as_str().expect("pdf id");
    let jpg_id = record["files"][1]["id"].as_str().expect("jpg id");
    // the borrower's Chinese name is printed on every copy, with the CJK font
    let clerk = app.user_token("李清照", "staff", None).await;
    let director = app.user_token("director", "director", None).await;
    let archivist = app.user_token("keeper", "archivist", None).await;
    let record_path = format!("/api/v1/records/{id}");
    assert_problem(get_as(&app, &clerk, &record_path).await, 404, "not_found").await;
    // search, which signs its caller in with the loans they hold in one read, agrees
    crate::search::settle(&app).await;
    let found = async |token: &str| {
        let results = crate::search::search_as(&app, token, &[("q", "董事會決議")]).await;
        (results["total"].clone(), crate::search::titles(&results))
    };
    assert_eq!(found(&clerk).await, (json!(0), vec![]));

    // the clerk cannot see the record, so cannot ask for it either: the records office
    // registers the request on their behalf
    let body = json!({"record_id": id, "purpose": "審計核對", "days": 7, "physical": false});
    assert_problem(
        request_loan(&app, &clerk, body.clone()).await,
        404,
        "not_found",
    )
    .await;
    let body = json!({"record_id": id, "purpose": "審計核對", "days": 7, "physical": false,
                      "borrower": "李清照"});
    let loan = json_of(request_loan(&app, &archivist, body).await, 201).await;
    assert_eq!(
        (&loan["status"], &loan["borrower"]),
        (&json!("requested"), &json!("李清照"))
    );
    let loan_id = loan["id"].as_str().expect("loan id");
    let asked = json_of(
        get_as(&app, &director, "/api/v1/reminders?kind=loan").await,
        200,
    )
    .await;
    assert_eq!(asked.as_array().map(Vec::len), Some(1), "{asked}");
    assert_problem(get_as(&app, &clerk, &record_path).await, 404, "not_found").await;
    assert_problem(
        act(&app, &clerk, loan_id, "approve").await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        act(&app, &archivist, loan_id, "approve").await,
        403,
        "forbidden",
    )
    .await;

    let approved = json_of(act(&app, &director, loan_id, "approve").await, 200).await;
    let today = app.app.reminders.today();
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["due_on"], json!(today + chrono::Duration::days(7)));
    assert_problem(
        act(&app, &director, loan_id, "approve").await,
        409,
        "conflict",
    )
    .await;
    let due = json_of(
        get_as(&app, &clerk, "/api/v1/reminders?kind=loan").await,
        200,
    )
    .await;
    assert_eq!(due[0]["due_on"], approved["due_on"], "{due}");

    json_of(get_as(&app, &clerk, &record_path).await, 200).await;
    let title = record["title"].as_str().expect("title").to_owned();
    assert_eq!(found(&clerk).await, (json!(1), vec![title]));
    let download = get_as(&app, &clerk, &format!("{record_path}/files/{pdf_id}")).await;
    assert_eq!(download.status(), 200);
    assert_eq!(download.headers()["content-type"], "application/pdf");
    assert!(
        download.headers().get("etag").is_none(),
        "a marked copy is not the stored file"
    );
    let copy = download.bytes().await.expect("copy");
    assert_ne!(copy.as_ref(), original.as_slice());
    let text = pdftotext(&copy);
    assert!(
        text.contains(&format!("loan {loan_id} | 李清照 |")) && text.contains("借閱副本"),
        "no watermark in {text}"
    );
    // The pages keep their own text: nearly every line of the original is still found.
    let lines: Vec<String> = pdftotext(&original)
        .lines()
        .map(str::trim)
        .filter(|line| line.chars().count() > 3)
        .take(200)
        .map(str::to_owned)
        .collect();
    let kept = lines
        .iter()
        .filter(|line| text.contains(line.as_str()))
        .count();
    assert!(
        kept * 100 >= lines.len() * 95,
        "{kept} of {} lines kept",
        lines.len()
    );
    let scan_copy = get_as(&app, &clerk, &format!("{record_path}/files/{jpg_id}")).await;
    assert_eq!(scan_copy.headers()["content-type"], "application/pdf");
    let scan_text = pdftotext(&scan_copy.bytes().await.expect("scan copy"));
    assert!(
        scan_text.contains(&format!("loan {loan_id} | 李清照 |")),
        "{scan_text}"
    );

    let returned = json_of(act(&app, &clerk, loan_id, "return").await, 200).await;
    assert_eq!(returned["status"], "returned");
    assert_problem(get_as(&app, &clerk, &record_path).await, 404, "not_found").await;
    assert_eq!(found(&clerk).await, (json!(0), vec![]));
    assert_problem(act(&app, &clerk, loan_id, "return").await, 409, "conflict").await;
    let open = json_of(
        get_as(&app, &clerk, "/api/v1/reminders?kind=loan").await,
        200,
    )
    .await;
    assert!(
        open.as_array()
            .expect("list")
            .iter()
            .all(|r| r["status"] == "done"),
        "{open}"
    );

    let trail = json_of(
        app.get(&format!("/api/v1/audit?record_id={id}"))
            .send()
            .await
            .expect("audit"),
        200,
    )
    .await;
    let actions: Vec<&str> = trail["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|event| event["action"].as_str())
        .collect();
    for action in [
        "loan.requested",
        "loan.approved",
        "file.read",
        "loan.returned",
    ] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
}

#[sqlx::test]
async fn a_customers_records_are_lent_only_with_the_general_managers_approval(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let party = json_of(
        app.post("/api/v1/parties")
            .json(&json!({"kind": "customer", "identifier": "C-0042", "name": "華興貿易", "department": "BGS"}))
            .send()
            .await
            .expect("party"),
        201,
    )
    .await;
    let record = secret_record(
        &app,
        json!({"party_id": party["id"]}),
        vec![TestFile::new("合同.txt", "購銷合同".as_bytes().to_vec())],
    )
    .await;
    let clerk = app.user_token("clerk", "staff", None).await;
    let director = app.user_token("director", "director", None).await;
    let manager = app.user_token("gm", "general_manager", None).await;
    let archivist = app.user_token("keeper", "archivist", None).await;
    let body = json!({"record_id": record["id"], "purpose": "客戶回訪", "days": 2,
                      "borrower": "clerk"});
    let loan = json_of(request_loan(&app, &archivist, body).await, 201).await;
    let loan_id = loan["id"].as_str().expect("loan id");
    let for_gm = json_of(
        get_as(&app, &manager, "/api/v1/reminders?kind=loan").await,
        200,
    )
    .await;
    assert_eq!(for_gm.as_array().map(Vec::len), Some(1), "{for_gm}");
    assert_problem(
        act(&app, &director, loan_id, "approve").await,
        403,
        "forbidden",
    )
    .await;
    let approved = json_of(act(&app, &manager, loan_id, "approve").await, 200).await;
    assert_eq!(approved["status"], "approved");
    let file = record["files"][0]["id"].as_str().expect("file");
    let path = format!(
        "/api/v1/records/{}/files/{file}",
        record["id"].as_str().expect("id")
    );
    let copy = get_as(&app, &clerk, &path)
        .await
        .text()
        .await
        .expect("text");
    assert!(
        copy.contains("購銷合同") && copy.contains("clerk"),
        "{copy}"
    );
}

#[sqlx::test]
async fn an_overdue_loan_is_reminded_to_the_records_office_and_access_ends(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let record = secret_record(&app, json!({}), vec![]).await;
    let id = record["id"].as_str().expect("id");
    let clerk = app.user_token("clerk", "staff", None).await;
    let archivist = app.user_token("keeper", "archivist", None).await;
    let director = app.user_token("director", "director", None).await;
    let body = json!({"record_id": id, "purpose": "查閱", "days": 1, "physical": true,
                      "borrower": "clerk"});
    let loan = json_of(request_loan(&app, &archivist, body.clone()).await, 201).await;
    let loan_id = loan["id"].as_str().expect("loan id");
    json_of(act(&app, &director, loan_id, "reject").await, 200).await;
    assert_problem(
        act(&app, &director, loan_id, "approve").await,
        409,
        "conflict",
    )
    .await;
    let loan = json_of(request_loan(&app, &archivist, body).await, 201).await;
    let loan_id = loan["id"].as_str().expect("loan id");
    json_of(act(&app, &director, loan_id, "approve").await, 200).await;
    // The physical item is out: a second physical loan cannot be approved meanwhile.
    let other = json_of(
        request_loan(
            &app,
            &archivist,
            json!({"record_id": id, "purpose": "整理", "days": 1, "physical": true}),
        )
        .await,
        201,
    )
    .await;
    let other_id = other["id"].as_str().expect("other id");
    assert_problem(
        act(&app, &director, other_id, "approve").await,
        409,
        "conflict",
    )
    .await;

    sqlx::query("update loans set due_on = due_on - 5 where id = $1::uuid")
        .bind(loan_id)
        .execute(&app.pool)
        .await
        .expect("backdate");
    let today = app.app.reminders.today();
    let report = app.app.reminders.sweep(today).await.expect("sweep");
    assert_eq!(report.overdue_loans, 1);
    assert_eq!(
        app.app
            .reminders
            .sweep(today)
            .await
            .expect("again")
            .overdue_loans,
        0
    );
    let office = json_of(
        get_as(&app, &archivist, "/api/v1/reminders?kind=loan").await,
        200,
    )
    .await;
    assert_eq!(office.as_array().map(Vec::len), Some(1), "{office}");
    let shown = json_of(
        get_as(&app, &clerk, &format!("/api/v1/loans/{loan_id}")).await,
        200,
    )
    .await;
    assert_eq!(shown["overdue"], true);
    assert_problem(
        get_as(&app, &clerk, &format!("/api/v1/records/{id}")).await,
        404,
        "not_found",
    )
    .await;
    // A physical item comes back through the records office, not by the borrower's word.
    assert_problem(act(&app, &clerk, loan_id, "return").await, 403, "forbidden").await;
    json_of(act(&app, &archivist, loan_id, "return").await, 200).await;
    let closed = json_of(
        get_as(&app, &archivist, "/api/v1/reminders?kind=loan").await,
        200,
    )
    .await;
    assert!(
        closed
            .as_array()
            .expect("list")
            .iter()
            .all(|r| r["status"] == "done"),
        "{closed}"
    );

    let mine = json_of(get_as(&app, &clerk, "/api/v1/loans").await, 200).await;
    assert_eq!(
        mine["items"].as_array().map(Vec::len),
        Some(2),
        "the clerk sees only their own"
    );
    let all = json_of(get_as(&app, &archivist, "/api/v1/loans?limit=2").await, 200).await;
    assert!(all["next_cursor"].is_string(), "{all}");
}

pub(crate) fn uuid_nil() -> &'static str {
    "00000000-0000-0000-0000-000000000000"
}
