//! Catalogue exports: the item catalogue (歸檔文件目錄) with DA/T 22 columns in archival-code
//! order, the folder catalogue (案卷目錄) and the in-folder item lists (卷內文件目錄), as CSV and
//! XLSX, in three scripts, filtered, defused against formula injection, for the right roles.

use std::io::Cursor;

use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, assert_problem};

mod folders;

const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

async fn export(app: &TestApp, query: &str) -> reqwest::Response {
    app.get(&format!("/api/v1/catalogue/export?{query}"))
        .send()
        .await
        .expect("export request")
}

fn header(response: &reqwest::Response, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The lines of a CSV export, headings first; asserts the BOM and the content type.
async fn csv_lines(app: &TestApp, query: &str) -> Vec<Vec<String>> {
    let response = export(app, query).await;
    assert_eq!(response.status(), 200, "{query}");
    assert_eq!(header(&response, "content-type"), "text/csv; charset=utf-8");
    let bytes = response.bytes().await.expect("body");
    let text = bytes
        .strip_prefix(b"\xEF\xBB\xBF")
        .expect("a UTF-8 byte-order mark");
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text)
        .records()
        .map(|line| {
            line.expect("a CSV line")
                .iter()
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

/// The cells of the first sheet of an XLSX export, headings first.
async fn xlsx_lines(app: &TestApp, query: &str) -> Vec<Vec<Data>> {
    let response = export(app, query).await;
    assert_eq!(response.status(), 200, "{query}");
    assert_eq!(header(&response, "content-type"), XLSX_TYPE);
    let bytes = response.bytes().await.expect("body");
    let mut workbook: Xlsx<_> =
        open_workbook_from_rs(Cursor::new(bytes.to_vec())).expect("the workbook opens");
    let range = workbook
        .worksheet_range_at(0)
        .expect("a worksheet")
        .expect("a readable worksheet");
    range.rows().map(<[Data]>::to_vec).collect()
}

fn text(cell: &Data) -> String {
    cell.to_string()
}

fn column(lines: &[Vec<String>], index: usize) -> Vec<&str> {
    lines[1..].iter().map(|line| line[index].as_str()).collect()
}

async fn file(app: &TestApp, metadata: Value) -> Value {
    app.file_record(&metadata, vec![]).await
}

async fn create_party(app: &TestApp, body: Value) -> String {
    let response = app
        .post("/api/v1/parties")
        .json(&body)
        .send()
        .await
        .expect("create party");
    assert_eq!(response.status(), 201);
    let party: Value = response.json().await.expect("party JSON");
    party["id"].as_str().expect("id").to_owned()
}

/// Four coded records (filed out of code order: 六月通知 gets item 0001, 五月通知 0002), one
/// without a code, one destroyed.
async fn file_office_records(app: &TestApp) {
    for (title, date, retention, pages) in [
        ("六月通知", "2024-06-01", "D10", 2),
        ("五月通知", "2024-05-01", "D10", 3),
        ("二〇二三年文件", "2023-03-01", "D30", 1),
    ] {
        file(
            app,
            json!({ "title": title, "doc_date": date, "category": "WS", "retention": retention,
                    "department": "BGS", "doc_number": "办发〔2024〕7号", "responsible": "办公室",
                    "pages": pages, "security_level": "internal" }),
        )
        .await;
    }
    file(
        app,
        json!({ "title": "财务报告", "doc_date": "2025-03-31", "category": "KUNB", "department": "CWB", "security_level": "secret" }),
    )
    .await;
    let uncoded = file(
        app,
        json!({ "title": "未分类文件", "doc_date": "2022-01-01" }),
    )
    .await;
    assert_eq!(
        uncoded["archival_code"],
        Value::Null,
        "no category: no code"
    );
    let destroyed = file(
        app,
        json!({ "title": "已销毁文件", "doc_date": "2024-01-01", "category": "WS", "department": "BGS" }),
    )
    .await;
    sqlx::query("update records set status = 'destroyed' where id = $1::uuid")
        .bind(destroyed["id"].as_str().expect("id"))
        .execute(&app.pool)
        .await
        .expect("destroy a record");
}

#[sqlx::test]
async fn xlsx_export_opens_with_the_da_t_22_headings_and_rows_in_archival_code_order(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    file_office_records(&app).await;

    let response = export(&app, "format=xlsx").await;
    let disposition = header(&response, "content-disposition");
    assert!(
        disposition.starts_with("attachment;")
            && disposition.contains(
                "filename*=UTF-8''%E5%BD%92%E6%A1%A3%E6%96%87%E4%BB%B6%E7%9B%AE%E5%BD%95-"
            ),
        "归档文件目录-….xlsx: {disposition}"
    );
    assert!(disposition.ends_with(".xlsx"), "{disposition}");
    drop(response);
    let lines = xlsx_lines(&app, "format=xlsx").await;

    let headings: Vec<String> = lines[0].iter().map(text).collect();
    assert_eq!(
        headings,
        [
            "序号",
            "档号",
            "文号",
            "责任者",
            "题名",
            "日期",
            "密级",
            "页数",
            "备注"
        ]
    );
    let codes: Vec<String> = lines[1..].iter().map(|line| text(&line[1])).collect();
    assert_eq!(
        codes,
        [
            "Z001-KUNB·2025-Y-CWB-0001",
            "Z001-WS·2023-D30-BGS-0001",
            "Z001-WS·2024-D10-BGS-0001",
            "Z001-WS·2024-D10-BGS-0002",
            "",
        ],
        "archival-code order, the uncoded record last, the destroyed one left out"
    );
    let numbers: Vec<Data> = lines[1..].iter().map(|line| line[0].clone()).collect();
    assert_eq!(
        numbers,
        [1.0, 2.0, 3.0, 4.0, 5.0].map(Data::Float),
        "序号 as numbers"
    );
    let third = &lines[3];
    assert_eq!(text(&third[2]), "办发〔2024〕7号");
    assert_eq!(text(&third[3]), "办公室");
    assert_eq!(text(&third[4]), "六月通知");
    assert_eq!(text(&third[5]), "20240601", "DA/T 22 eight-digit dates");
    assert_eq!(text(&third[6]), "内部");
    assert_eq!(third[7], Data::Float(2.0));
    assert_eq!(text(&lines[1][6]), "秘密");
    assert_eq!(text(&lines[5][4]), "未分类文件");
}

#[sqlx::test]
async fn csv_export_has_headings_and_labels_in_traditional_chinese_and_english(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    file_office_records(&app).await;

    let response = export(&app, "format=csv&lang=zh-Hant").await;
    let disposition = header(&response, "content-disposition");
    assert!(
        disposition
            .contains("filename*=UTF-8''%E6%AD%B8%E6%AA%94%E6%96%87%E4%BB%B6%E7%9B%AE%E9%8C%84-")
            && disposition.ends_with(".csv"),
        "歸檔文件目錄-….csv: {disposition}"
    );
    drop(response);
    let hant = csv_lines(&app, "format=csv&lang=zh-Hant").await;
    assert_eq!(
        hant[0],
        [
            "序號",
            "檔號",
            "文號",
            "責任者",
            "題名",
            "日期",
            "密級",
            "頁數",
            "備註"
        ]
    );
    assert_eq!(hant[3][6], "內部");
    assert_eq!(hant[1][6], "秘密");

    let english = csv_lines(&app, "lang=en").await;
    assert_eq!(
        english[0],
        [
            "No.",
            "Archival code",
            "Doc. number",
            "Responsible",
            "Title",
            "Date",
            "Security",
            "Pages",
            "Remarks"
        ]
    );
    assert_eq!(column(&english, 0), ["1", "2", "3", "4", "5"]);
    assert_eq!(english[3][6], "internal");
    assert_eq!(english[3][7], "2");
    assert_eq!(english[5][7], "", "no page count given");
}

#[sqlx::test]
async fn filters_narrow_the_item_catalogue(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    file_office_records(&app).await;
    let employee = create_party(
        &app,
        json!({ "kind": "employee", "identifier": "E0001", "name": "王晓明", "department": "XSB" }),
    )
    .await;
    file(
        &app,
        json!({ "title": "劳动合同", "doc_date": "2023-03-01", "party_id": employee, "department": "RSB" }),
    )
    .await;

    for (query, expected) in [
        (
            "category=WS",
            vec!["二〇二三年文件", "六月通知", "五月通知"],
        ),
        ("category=KU", vec!["财务报告"]),
        ("year=2023", vec!["劳动合同", "二〇二三年文件"]),
        ("year=2024&retention=D10", vec!["六月通知", "五月通知"]),
        ("department=CWB", vec!["财务报告"]),
        (&format!("party={employee}"), vec!["劳动合同"]),
        ("fonds=Z001&category=RS", vec!["劳动合同"]),
    ] {
        let lines = csv_lines(&app, query).await;
        assert_eq!(column(&lines, 4), expected, "{query}");
    }

    let unknown = export(&app, "category=XX").await;
    let body = assert_problem(unknown, 400, "validation").await;
    assert!(
        body["detail"]
            .as_str()
            .expect("detail")
            .starts_with("category:"),
        "{body}"
    );
}

#[sqlx::test]
async fn formula_like_text_is_defused_in_csv_and_stays_text_in_xlsx(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    file(
        &app,
        json!({
            "title": "=HYPERLINK(\"http://evil.example\",\"点我\")", "doc_date": "2024-05-01",
            "category": "WS", "department": "BGS", "doc_number": "+1-555", "responsible": "@SUM(A1)",
            "description": "-2+3",
        }),
    )
    .await;

    let lines = csv_lines(&app, "").await;
    assert_eq!(lines[1][4], "'=HYPERLINK(\"http://evil.example\",\"点我\")");
    assert_eq!(lines[1][2], "'+1-555");
    assert_eq!(lines[1][3], "'@SUM(A1)");
    assert_eq!(lines[1][8], "'-2+3");

    let sheet = xlsx_lines(&app, "format=xlsx").await;
    assert_eq!(
        sheet[1][4],
        Data::String("=HYPERLINK(\"http://evil.example\",\"点我\")".into()),
        "a text cell, not a formula"
    );
}

#[sqlx::test]
async fn staff_may_not_export_the_catalogue(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let staff = app.user_token("staff1", "staff", None).await;
    let refused = app
        .client
        .get(app.url("/api/v1/catalogue/export?format=xlsx"))
        .bearer_auth(&staff)
        .send()
        .await
        .expect("export");
    assert_problem(refused, 403, "forbidden").await;

    let director = app.user_token("director1", "director", None).await;
    let allowed = app
        .client
        .get(app.url("/api/v1/catalogue/export"))
        .bearer_auth(&director)
        .send()
        .await
        .expect("export");
    assert_eq!(allowed.status(), 200);
}

#[sqlx::test]
async fn bad_parameters_are_refused_naming_the_parameter(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    for (query, parameter) in [
        ("format=docx", "format"),
        ("kind=boxes", "kind"),
        ("lang=fr", "lang"),
        ("year=twenty", "year"),
        ("party=someone", "party"),
        ("department=NOPE", "department"),
        ("retention=D99", "retention"),
        ("fonds=Z999", "fonds"),
        ("party=6c1f0a4e-0000-4000-8000-000000000000", "party"),
        ("colour=red", "colour"),
    ] {
        let body = assert_problem(export(&app, query).await, 400, "validation").await;
        assert!(
            body["detail"].as_str().expect("detail").contains(parameter),
            "{query}: {body}"
        );
    }
}

#[sqlx::test]
async fn export_and_statistics_are_in_the_openapi_document(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let openapi: Value = app
        .get("/api/openapi.json")
        .send()
        .await
        .expect("openapi")
        .json()
        .await
        .expect("JSON");
    let export = &openapi["paths"]["/api/v1/catalogue/export"]["get"];
    let parameters: Vec<&str> = export["parameters"]
        .as_array()
        .expect("parameters")
        .iter()
        .map(|parameter| parameter["name"].as_str().expect("name"))
        .collect();
    for name in [
        "format",
        "kind",
        "lang",
        "category",
        "year",
        "department",
        "party",
        "fonds",
        "retention",
    ] {
        assert!(parameters.contains(&name), "{name}: {parameters:?}");
    }
    assert!(export["responses"]["200"]["content"][XLSX_TYPE].is_object());
    assert!(openapi["paths"]["/api/v1/stats"]["get"].is_object());
}
