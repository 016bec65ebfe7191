//! The paper side (issue 17): places inside places (a box on a shelf), what a box holds,
//! its printed label (poppler reads the Chinese back, the font is embedded, the QR code
//! decodes to the box's id), and the register of movements (進出庫). A record the caller may
//! not see is neither listed in a box nor movable: it answers as a missing one.

use std::process::Command;

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, TestFile, assert_problem};

mod finding;

pub(crate) async fn post_as(
    app: &TestApp,
    token: &str,
    path: &str,
    body: Value,
) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("post")
}

pub(crate) async fn get_as(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.client
        .get(app.url(path))
        .bearer_auth(token)
        .send()
        .await
        .expect("get")
}

pub(crate) async fn created(response: reqwest::Response) -> Value {
    let status = response.status();
    let body: Value = response.json().await.expect("json");
    assert_eq!(status, 201, "{body}");
    body
}

/// Room K1 with cabinet C1, shelf S1 in it and boxes B1 (40 mm) and B2 on the shelf.
pub(crate) async fn store_room(app: &TestApp, token: &str) -> (Value, Vec<Value>) {
    let room = created(
        post_as(
            app,
            token,
            "/api/v1/rooms",
            json!({ "code": "K1", "name": "一号库房" }),
        )
        .await,
    )
    .await;
    let path = format!(
        "/api/v1/rooms/{}/locations",
        room["id"].as_str().expect("id")
    );
    let mut places = Vec::new();
    for body in [
        json!({ "code": "C1", "kind": "cabinet" }),
        json!({ "code": "S1", "kind": "shelf", "parent": "C1" }),
        json!({ "code": "B1", "kind": "box", "parent": "S1", "width_mm": 40, "label": "2024 文书" }),
        json!({ "code": "B2", "kind": "box", "parent": "S1", "width_mm": 30 }),
    ] {
        places.push(created(post_as(app, token, &path, body).await).await);
    }
    assert_eq!(places[2]["parent_id"], places[1]["id"]);
    assert_eq!(places[2]["width_mm"], 40);
    // nothing stands in a box, and a parent must be a place of the room
    for body in [
        json!({ "code": "X1", "kind": "shelf", "parent": "B1" }),
        json!({ "code": "X2", "kind": "box", "parent": "S9" }),
        json!({ "code": "X3", "kind": "box", "width_mm": 0 }),
    ] {
        assert_problem(post_as(app, token, &path, body).await, 400, "validation").await;
    }
    (room, places)
}

pub(crate) async fn paper_record(
    app: &TestApp,
    title: &str,
    category: &str,
    date: &str,
    location: Value,
) -> Value {
    app.file_record(
        &json!({ "title": title, "category": category, "doc_date": date, "retention": "D10",
                 "carrier": "paper", "location": location }),
        vec![TestFile::new(
            "扫描件.txt",
            format!("{title} 的扫描件").into_bytes(),
        )],
    )
    .await
}

/// A paper record at `location` of category MM, which only the admin sees.
pub(crate) async fn admin_only_record(app: &TestApp, location: Value) -> Value {
    let category = app
        .post("/api/v1/categories")
        .json(&json!({ "code": "MM", "name": "董事会密件" }))
        .send()
        .await
        .expect("category");
    assert_eq!(category.status(), 201);
    let patched = app
        .client
        .patch(app.url("/api/v1/categories/MM"))
        .bearer_auth(&app.token)
        .json(&json!({ "access": { "see": ["admin"], "loan_approver": "director" } }))
        .send()
        .await
        .expect("patch");
    assert_eq!(patched.status(), 200);
    paper_record(app, "董事会决议", "MM", "2024-03-01", location).await
}

/// Renders the first page of `pdf` in grey and reads the QR codes on it.
fn qr_codes(pdf: &[u8]) -> Vec<String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let input = dir.path().join("label.pdf");
    std::fs::write(&input, pdf).expect("write");
    let status = Command::new("pdftoppm")
        .args(["-r", "150", "-gray", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&input)
        .arg(dir.path().join("page"))
        .status()
        .expect("pdftoppm runs");
    assert!(status.success());
    let bytes = std::fs::read(dir.path().join("page.pgm")).expect("page.pgm");
    // P5 <width> <height> <maxval> then one byte a pixel
    let mut fields = Vec::new();
    let mut at = 0;
    while fields.len() < 4 {
        while bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        let start = at;
        while !bytes[at].is_ascii_whitespace() {
            at += 1;
        }
        fields.push(String::from_utf8_lossy(&bytes[start..at]).into_owned());
    }
    let (width, height): (usize, usize) = (
        fields[1].parse().expect("width"),
        fields[2].parse().expect("height"),
    );
    let pixels = &bytes[at + 1..];
    let mut image =
        rqrr::PreparedImage::prepare_from_greyscale(width, height, |x, y| pixels[y * width + x]);
    image
        .detect_grids()
        .into_iter()
        .filter_map(|grid| grid.decode().ok().map(|(_, content)| content))
        .collect()
}

pub(crate) fn poppler(tool: &str, pdf: &[u8]) -> String {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), pdf).expect("write");
    let mut command = Command::new(tool);
    command.arg(file.path());
    if tool == "pdftotext" {
        command.arg("-");
    }
    let output = command.output().expect("poppler runs");
    assert!(output.status.success(), "{tool} failed");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[sqlx::test]
async fn a_box_lists_what_it_holds_and_prints_its_label_with_a_qr_code_of_its_id(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let keeper = app.user_token("keeper", "archivist", None).await;
    let (room, places) = store_room(&app, &keeper).await;
    let in_b1 = json!({ "room": "K1", "shelf": "S1", "box": "B1" });
    let first = paper_record(
        &app,
        "二〇二三年工作总结",
        "WS",
        "2023-12-20",
        in_b1.clone(),
    )
    .await;
    let second = paper_record(
        &app,
        "二〇二四年工作计划",
        "WS",
        "2024-01-05",
        in_b1.clone(),
    )
    .await;
    // a record of a category only the admin sees stands in the same box
    let hidden = admin_only_record(&app, in_b1).await;

    let room_id = room["id"].as_str().expect("id");
    let b1 = places[2]["id"].as_str().expect("id");
    let listed = get_as(
        &app,
        &keeper,
        &format!("/api/v1/rooms/{room_id}/locations/{b1}"),
    )
    .await;
    assert_eq!(listed.status(), 200);
    let listed: Value = listed.json().await.expect("json");
    let ids: Vec<&str> = listed["contents"]
        .as_array()
        .expect("contents")
        .iter()
        .map(|item| item["record_id"].as_str().expect("id"))
        .collect();
    assert_eq!(
        ids,
        [
            first["id"].as_str().expect("id"),
            second["id"].as_str().expect("id")
        ]
    );
    // the shelf holds what its boxes hold; the admin, who sees the third, gets it too
    let s1 = places[1]["id"].as_str().expect("id");
    let shelf = app
        .get_json(&format!("/api/v1/rooms/{room_id}/locations/{s1}"))
        .await;
    assert_eq!(
        shelf["contents"].as_array().map(Vec::len),
        Some(3),
        "{shelf}"
    );
    // another room's place is not found through this room
    let other = created(
        post_as(
            &app,
            &keeper,
            "/api/v1/rooms",
            json!({ "code": "K2", "name": "二号库房" }),
        )
        .await,
    )
    .await;
    let other_id = other["id"].as_str().expect("id");
    assert_problem(
        get_as(
            &app,
            &keeper,
            &format!("/api/v1/rooms/{other_id}/locations/{b1}"),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    // staff do not look after rooms
    let clerk = app.user_token("clerk", "staff", None).await;
    assert_problem(
        get_as(
            &app,
            &clerk,
            &format!("/api/v1/rooms/{room_id}/locations/{b1}"),
        )
        .await,
        403,
        "forbidden",
    )
    .await;

    let label = get_as(
        &app,
        &keeper,
        &format!("/api/v1/rooms/{room_id}/locations/{b1}/label"),
    )
    .await;
    assert_eq!(label.status(), 200);
    assert_eq!(label.headers()["content-type"], "application/pdf");
    let pdf = label.bytes().await.expect("pdf");
    let text = poppler("pdftotext", &pdf);
    for expected in [
        "档案盒 2024 文书",
        "全宗号",
        "Z001",
        "WS",
        "2023–2024",
        "D10",
        "共 2 件",
        "K1 / B1",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
    assert!(
        !text.contains("MM"),
        "the hidden record's category is on the label: {text}"
    );
    let fonts = poppler("pdffonts", &pdf);
    assert!(
        fonts
            .lines()
            .skip(2)
            .all(|line| line.split_whitespace().rev().nth(4) == Some("yes")),
        "every font embedded: {fonts}"
    );
    assert!(fonts.contains("CJK"), "{fonts}");
    assert_eq!(qr_codes(&pdf), [b1, b1], "front and spine carry the box id");
    assert!(hidden["id"].is_string());
}

#[sqlx::test]
async fn moving_an_item_is_registered_validated_and_hidden_records_answer_as_missing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let keeper = app.user_token("keeper", "archivist", None).await;
    let (room, places) = store_room(&app, &keeper).await;
    let record = paper_record(
        &app,
        "合同原件",
        "WS",
        "2024-05-01",
        json!({ "room": "K1", "box": "B1" }),
    )
    .await;
    let id = record["id"].as_str().expect("id");
    let path = format!("/api/v1/records/{id}/movements");

    // to a place the room does not have, or without a reason: refused, nothing moves
    let nowhere = post_as(
        &app,
        &keeper,
        &path,
        json!({ "to": { "room": "K1", "box": "B9" }, "reason": "整理" }),
    )
    .await;
    assert_problem(nowhere, 400, "validation").await;
    let silent = post_as(
        &app,
        &keeper,
        &path,
        json!({ "to": { "room": "K1", "box": "B2" }, "reason": " " }),
    )
    .await;
    assert_problem(silent, 400, "validation").await;

    let moved = created(
        post_as(
            &app,
            &keeper,
            &path,
            json!({ "to": { "room": "K1", "shelf": "S1", "box": "B2" }, "reason": "重新装盒" }),
        )
        .await,
    )
    .await;
    assert_eq!(moved["from"], json!({ "room": "K1", "box": "B1" }));
    let taken =
        created(post_as(&app, &keeper, &path, json!({ "reason": "移交市档案馆" })).await).await;
    assert_eq!(taken["from"]["box"], "B2");
    assert_eq!(taken["to"], Value::Null);
    let register: Value = get_as(&app, &keeper, &path)
        .await
        .json()
        .await
        .expect("json");
    let reasons: Vec<&str> = register
        .as_array()
        .expect("register")
        .iter()
        .map(|movement| movement["reason"].as_str().expect("reason"))
        .collect();
    assert_eq!(reasons, ["重新装盒", "移交市档案馆"]);
    // a location edited with the record's metadata is registered as a movement too
    let patched = app
        .client
        .patch(app.url(&format!("/api/v1/records/{id}")))
        .bearer_auth(&app.token)
        .json(&json!({ "location": { "room": "K1", "box": "B1" } }))
        .send()
        .await
        .expect("patch");
    assert_eq!(patched.status(), 200);
    let register: Value = get_as(&app, &keeper, &path)
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(register.as_array().map(Vec::len), Some(3), "{register}");
    assert_eq!(register[2]["from"], Value::Null);
    assert_eq!(register[2]["to"]["box"], "B1");
    assert_eq!(register[2]["actor"], "admin");
    assert_eq!(register[0]["actor"], "keeper");
    let b2 = places[3]["id"].as_str().expect("id");
    let room_id = room["id"].as_str().expect("id");
    let box_now = app
        .get_json(&format!("/api/v1/rooms/{room_id}/locations/{b2}"))
        .await;
    assert_eq!(box_now["contents"], json!([]));
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'record.moved'")
            .fetch_one(&app.pool)
            .await
            .expect("count");
    assert_eq!(audited, 2, "moved twice through the register");

    // a record the caller may not see, and one that does not exist, answer alike
    let clerk = app.user_token("clerk", "staff", None).await;
    let hidden = post_as(&app, &clerk, &path, json!({ "reason": "取走" })).await;
    let missing_path = format!("/api/v1/records/{}/movements", uuid::Uuid::now_v7());
    let missing = post_as(&app, &clerk, &missing_path, json!({ "reason": "取走" })).await;
    let hidden = assert_problem(hidden, 404, "not_found").await;
    let missing = assert_problem(missing, 404, "not_found").await;
    assert_eq!(hidden["title"], missing["title"]);
    assert_problem(get_as(&app, &clerk, &path).await, 404, "not_found").await;
}

/// The holdings ledger (基礎臺帳): items and shelf metres by fonds, category, year and carrier,
/// the boxes' widths shared among the lines by their items; as JSON, XLSX and a printed PDF;
/// only what the caller may see.
#[sqlx::test]
async fn the_ledger_sums_shelf_metres_from_the_boxes(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let keeper = app.user_token("keeper", "archivist", None).await;
    store_room(&app, &keeper).await;
    let b1 = json!({ "room": "K1", "shelf": "S1", "box": "B1" });
    let b2 = json!({ "room": "K1", "shelf": "S1", "box": "B2" });
    paper_record(&app, "会议纪要一", "WS", "2023-03-01", b1.clone()).await;
    paper_record(&app, "会议纪要二", "WS", "2023-04-01", b1).await;
    paper_record(&app, "会议纪要三", "WS", "2023-05-01", b2.clone()).await;
    paper_record(&app, "年度计划", "WS", "2024-01-01", b2.clone()).await;
    // what the keeper may not see is not in their ledger (nor in the boxes' shares)
    admin_only_record(&app, b2).await;
    app.file_record(
        &json!({ "title": "电子公文", "category": "WS", "doc_date": "2024-02-01" }),
        vec![TestFile::new(
            "公文.txt",
            "电子公文正文".as_bytes().to_vec(),
        )],
    )
    .await;

    let ledger: Value = get_as(&app, &keeper, "/api/v1/ledger")
        .await
        .json()
        .await
        .expect("json");
    let line = |year: i64, carrier: &str| {
        ledger["lines"]
            .as_array()
            .expect("lines")
            .iter()
            .find(|line| {
                line["year"] == year && line["carrier"] == carrier && line["category"] == "WS"
            })
            .cloned()
            .unwrap_or(Value::Null)
    };
    // B1 (40 mm) holds two 2023 items; B2 (30 mm) one of 2023 and one of 2024
    assert_eq!(line(2023, "paper")["items"], 3, "{ledger}");
    assert_eq!(line(2023, "paper")["shelf_m"], 0.055, "{ledger}");
    assert_eq!(line(2024, "paper")["shelf_m"], 0.015, "{ledger}");
    assert_eq!(line(2024, "electronic")["items"], 1, "{ledger}");
    assert_eq!(line(2024, "electronic")["shelf_m"], 0.0, "{ledger}");
    assert_eq!(ledger["items"], 5);
    assert_eq!(ledger["shelf_m"], 0.07);
    assert_eq!(ledger["years"][0]["added"], 5, "{ledger}");
    assert_eq!(ledger["years"][0]["removed"], 0, "{ledger}");

    let sheet = get_as(&app, &keeper, "/api/v1/ledger?format=xlsx").await;
    assert_eq!(sheet.status(), 200);
    assert!(sheet.bytes().await.expect("xlsx").starts_with(b"PK"));
    let printed = get_as(&app, &keeper, "/api/v1/ledger?format=pdf").await;
    assert_eq!(printed.headers()["content-type"], "application/pdf");
    let pdf = printed.bytes().await.expect("pdf");
    let text = poppler("pdftotext", &pdf);
    for expected in [
        "档案基础台账",
        "排架长度(米)",
        "0.055",
        "0.070",
        "第1页",
        "共1页",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text}");
    }
    assert!(poppler("pdffonts", &pdf).contains("CJK"));
    // staff do not read the holdings
    let clerk = app.user_token("clerk", "staff", None).await;
    assert_problem(
        get_as(&app, &clerk, "/api/v1/ledger").await,
        403,
        "forbidden",
    )
    .await;
}
