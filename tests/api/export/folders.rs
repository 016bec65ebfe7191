//! The folder catalogue (案卷目錄) and the in-folder item lists (卷內文件目錄): one line per
//! party folder, training records kept out, folder filters by party and department.

use calamine::Data;
use serde_json::json;
use sqlx::PgPool;

use super::{column, create_party, csv_lines, file, text, xlsx_lines};
use crate::helpers::TestApp;

/// Two employees and a customer with their folders; a training record outside the folder.
async fn file_folders(app: &TestApp) -> (String, String) {
    let wang = create_party(
        app,
        json!({ "kind": "employee", "identifier": "E0002", "name": "王晓明", "department": "XSB" }),
    )
    .await;
    let zhang = create_party(
        app,
        json!({ "kind": "employee", "identifier": "E0001", "name": "张伟", "department": "JSB" }),
    )
    .await;
    let customer = create_party(
        app,
        json!({ "kind": "customer", "identifier": "KH001", "name": "深圳市某某贸易有限公司", "department": "XSB" }),
    )
    .await;
    for (party, title, date, pages) in [
        (&wang, "劳动合同", "2023-03-01", 4),
        (&wang, "个人简历", "2023-01-10", 2),
        (&wang, "转正考核表", "2023-06-01", 1),
        (&zhang, "劳动合同", "2024-02-01", 5),
        (&customer, "客户登记表", "2024-04-01", 1),
    ] {
        file(
            app,
            json!({ "title": title, "doc_date": date, "party_id": party, "department": "RSB", "pages": pages }),
        )
        .await;
    }
    file(
        app,
        json!({ "title": "消防安全培训记录", "doc_date": "2023-02-01", "party_id": wang, "category": "PX", "department": "RSB", "pages": 9 }),
    )
    .await;
    let left = app
        .post(&format!("/api/v1/parties/{wang}/events"))
        .json(&json!({ "type": "employment_ended", "date": "2026-06-30" }))
        .send()
        .await
        .expect("event");
    assert_eq!(left.status(), 201);
    (wang, zhang)
}

#[sqlx::test]
async fn the_folder_catalogue_has_one_line_per_party_folder(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (_wang, zhang) = file_folders(&app).await;

    let lines = csv_lines(&app, "kind=folders").await;
    assert_eq!(
        lines[0],
        [
            "序号",
            "案卷号",
            "案卷题名",
            "起止日期",
            "件数",
            "页数",
            "保管期限",
            "备注"
        ]
    );
    assert_eq!(
        lines[1..],
        [
            [
                "1",
                "KH001",
                "深圳市某某贸易有限公司 客户档案",
                "20240401",
                "1",
                "1",
                "D30",
                ""
            ],
            [
                "2",
                "E0001",
                "张伟 员工档案",
                "20240201",
                "1",
                "5",
                "LZ2",
                ""
            ],
            [
                "3",
                "E0002",
                "王晓明 员工档案",
                "20230110-20230601",
                "3",
                "7",
                "LZ2",
                "已离职"
            ],
        ],
        "customers before employees, by identifier; training records are not in the folder"
    );

    let hant = xlsx_lines(&app, "kind=folders&format=xlsx&lang=zh-Hant").await;
    assert_eq!(text(&hant[0][1]), "案卷號");
    assert_eq!(text(&hant[3][2]), "王晓明 員工檔案");
    assert_eq!(hant[3][4], Data::Float(3.0));

    let in_2024 = csv_lines(&app, "kind=folders&year=2024").await;
    assert_eq!(
        column(&in_2024, 1),
        ["KH001", "E0001"],
        "folders without 2024 records left out"
    );
    let of_department = csv_lines(&app, "kind=folders&department=JSB&lang=en").await;
    assert_eq!(
        column(&of_department, 2),
        ["张伟, employee file"],
        "by the party's department"
    );
    let one = csv_lines(&app, &format!("kind=folders&party={zhang}")).await;
    assert_eq!(column(&one, 1), ["E0001"]);
}

#[sqlx::test]
async fn folder_item_lists_go_folder_by_folder_in_document_date_order(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (wang, _zhang) = file_folders(&app).await;

    let lines = csv_lines(&app, "kind=folder_items").await;
    assert_eq!(
        lines[0],
        [
            "案卷号",
            "序号",
            "文号",
            "责任者",
            "题名",
            "日期",
            "页数",
            "备注"
        ]
    );
    let folders_numbers_titles: Vec<(&str, &str, &str)> = lines[1..]
        .iter()
        .map(|line| (line[0].as_str(), line[1].as_str(), line[4].as_str()))
        .collect();
    assert_eq!(
        folders_numbers_titles,
        [
            ("KH001", "1", "客户登记表"),
            ("E0001", "1", "劳动合同"),
            ("E0002", "1", "个人简历"),
            ("E0002", "2", "劳动合同"),
            ("E0002", "3", "转正考核表"),
        ]
    );
    assert_eq!(lines[3][5], "20230110");

    let english = xlsx_lines(
        &app,
        &format!("kind=folder_items&format=xlsx&lang=en&party={wang}"),
    )
    .await;
    assert_eq!(text(&english[0][0]), "Folder number");
    let titles: Vec<String> = english[1..].iter().map(|line| text(&line[4])).collect();
    assert_eq!(titles, ["个人简历", "劳动合同", "转正考核表"]);
}
