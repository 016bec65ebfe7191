//! The registers a records office keeps on paper, printed (issue 17): the catalogue
//! (歸檔文件目錄), the lending register (借閱登記簿) and the storage-room log (溫濕度記錄表).
//! poppler reads the Chinese back and finds the CJK font embedded; each register holds only
//! what the caller may see.

use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{TestApp, assert_problem};
use crate::places::{
    admin_only_record, created, get_as, paper_record, poppler, post_as, store_room,
};

async fn pdf_text(response: reqwest::Response) -> String {
    let status = response.status();
    let content_type = response.headers()["content-type"].clone();
    let bytes = response.bytes().await.expect("body");
    assert_eq!(status, 200, "{}", String::from_utf8_lossy(&bytes));
    assert_eq!(content_type, "application/pdf");
    let fonts = poppler("pdffonts", &bytes);
    assert!(fonts.contains("CJK"), "{fonts}");
    // poppler sets spaces between scripts as it sees fit: compare without them
    squeezed(&poppler("pdftotext", &bytes))
}

fn squeezed(text: &str) -> String {
    text.split_whitespace().collect()
}

#[sqlx::test]
async fn the_catalogue_prints_what_the_caller_may_see(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let keeper = app.user_token("keeper", "archivist", None).await;
    store_room(&app, &keeper).await;
    let at = json!({ "room": "K1", "box": "B1" });
    let record = paper_record(&app, "年度工作总结", "WS", "2024-12-30", at.clone()).await;
    admin_only_record(&app, at).await;

    let text = pdf_text(get_as(&app, &keeper, "/api/v1/catalogue/export?format=pdf").await).await;
    let code = record["archival_code"].as_str().expect("code");
    for expected in ["归档文件目录", "题名", "年度工作总结", code] {
        assert!(
            text.contains(&squeezed(expected)),
            "{expected:?} not in {text}"
        );
    }
    assert!(
        !text.contains("董事会决议"),
        "a hidden record printed: {text}"
    );
    // the admin's copy has it; traditional headings on request
    let text = pdf_text(
        app.get("/api/v1/catalogue/export?format=pdf&lang=zh-Hant")
            .send()
            .await
            .expect("get"),
    )
    .await;
    assert!(
        text.contains("董事会决议") && text.contains("題名"),
        "{text}"
    );
    assert_problem(
        get_as(&app, &keeper, "/api/v1/catalogue/export?format=doc").await,
        400,
        "validation",
    )
    .await;
}

#[sqlx::test]
async fn the_lending_register_prints_the_years_loans_for_the_records_office(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let keeper = app.user_token("keeper", "archivist", None).await;
    let director = app.user_token("approver", "director", None).await;
    let clerk = app.user_token("clerk", "staff", None).await;
    let record = app
        .file_record(
            &json!({ "title": "供货合同 二〇二四", "category": "WS", "security_level": "secret" }),
            vec![crate::helpers::TestFile::new(
                "合同.txt",
                "供货合同".as_bytes().to_vec(),
            )],
        )
        .await;
    let loan = created(
        post_as(
            &app,
            &keeper,
            "/api/v1/loans",
            json!({ "record_id": record["id"], "purpose": "审计核对", "days": 7, "borrower": "clerk" }),
        )
        .await,
    )
    .await;
    let approved = post_as(
        &app,
        &director,
        &format!("/api/v1/loans/{}/approve", loan["id"].as_str().expect("id")),
        json!({}),
    )
    .await;
    assert_eq!(approved.status(), 200);

    // a loan of a record only the admin sees is in the admin's register, not the keeper's
    store_room(&app, &keeper).await;
    let hidden = admin_only_record(&app, json!({ "room": "K1" })).await;
    let hidden_loan = app
        .post("/api/v1/loans")
        .json(&json!({ "record_id": hidden["id"], "purpose": "董事会查阅", "days": 3, "borrower": "clerk" }))
        .send()
        .await
        .expect("loan");
    assert_eq!(hidden_loan.status(), 201);
    let admins = pdf_text(app.get("/api/v1/loans/register").send().await.expect("get")).await;
    assert!(
        admins.contains("董事会决议") && admins.contains("共2次借阅"),
        "{admins}"
    );

    let text = pdf_text(get_as(&app, &keeper, "/api/v1/loans/register").await).await;
    assert!(
        !text.contains("董事会"),
        "a hidden record's loan printed: {text}"
    );
    for expected in [
        "档案借阅登记簿",
        "供货合同",
        "clerk",
        "审计核对",
        "approver",
        "经办人（签字）",
        "共 1 次借阅",
    ] {
        assert!(
            text.contains(&squeezed(expected)),
            "{expected:?} not in {text}"
        );
    }
    // another year's register is empty; a borrower does not keep the register
    let text =
        pdf_text(get_as(&app, &keeper, "/api/v1/loans/register?year=2019&month=3").await).await;
    assert!(
        text.contains("共0次借阅") && !text.contains("供货合同"),
        "{text}"
    );
    assert_problem(
        get_as(&app, &clerk, "/api/v1/loans/register").await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        get_as(&app, &keeper, "/api/v1/loans/register?month=13").await,
        400,
        "validation",
    )
    .await;
}

#[sqlx::test]
async fn the_storage_room_log_prints_a_months_readings_with_the_breaches_marked(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let keeper = app.user_token("keeper", "archivist", None).await;
    let (room, _) = store_room(&app, &keeper).await;
    let room_id = room["id"].as_str().expect("id");
    let readings = post_as(
        &app,
        &keeper,
        &format!("/api/v1/rooms/{room_id}/readings"),
        json!([
            { "at": "2026-11-03T09:00:00+08:00", "temperature_c": 18.5, "humidity_pct": 52.0 },
            { "at": "2026-11-03T15:00:00+08:00", "temperature_c": 27.5, "humidity_pct": 55.0 },
            { "at": "2026-10-31T09:00:00+08:00", "temperature_c": 19.0, "humidity_pct": 50.0 },
        ]),
    )
    .await;
    assert_eq!(readings.status(), 201);
    let text = pdf_text(
        get_as(
            &app,
            &keeper,
            &format!("/api/v1/rooms/{room_id}/readings/log?month=2026-11"),
        )
        .await,
    )
    .await;
    for expected in [
        "库房温湿度记录表 2026年11月",
        "K1",
        "18.5",
        "27.5",
        "超标",
        "共 2 次记录",
        "记录人（签字）",
        "审核人（签字）",
    ] {
        assert!(
            text.contains(&squeezed(expected)),
            "{expected:?} not in {text}"
        );
    }
    assert!(
        !text.contains("19.0"),
        "October's reading is not November's: {text}"
    );
    assert_eq!(
        text.matches("超标").count(),
        2,
        "the heading and the one breach: {text}"
    );
    assert_problem(
        get_as(
            &app,
            &keeper,
            &format!("/api/v1/rooms/{room_id}/readings/log?month=2026-13"),
        )
        .await,
        400,
        "validation",
    )
    .await;
    let unknown = format!("/api/v1/rooms/{}/readings/log", uuid::Uuid::now_v7());
    assert_problem(get_as(&app, &keeper, &unknown).await, 404, "not_found").await;
}

#[sqlx::test]
async fn a_folder_prints_its_cover_and_notes_sheet_to_those_who_see_it(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let party: serde_json::Value = app
        .post("/api/v1/parties")
        .json(&json!({ "kind": "employee", "identifier": "E0042", "name": "王晓明", "department": "RSB" }))
        .send()
        .await
        .expect("party")
        .json()
        .await
        .expect("json");
    let id = party["id"].as_str().expect("id");
    for (title, date, copy) in [
        ("劳动合同", "2021-03-01", false),
        ("学历证书", "2019-07-01", true),
    ] {
        let mut metadata = json!({ "title": title, "doc_date": date, "party_id": id, "department": "RSB", "pages": 2 });
        if copy {
            metadata["files"] = json!([{ "copy": true, "copy_note": "原件由本人保存" }]);
        }
        app.file_record(
            &metadata,
            vec![crate::helpers::TestFile::new(
                "scan.txt",
                title.as_bytes().to_vec(),
            )],
        )
        .await;
    }
    let text = pdf_text(
        app.get(&format!("/api/v1/parties/{id}/cover"))
            .send()
            .await
            .expect("get"),
    )
    .await;
    for expected in [
        "案卷封面",
        "E0042",
        "王晓明 人事档案",
        "2019-07-01 至 2021-03-01",
        "本卷共 2 件 4 页",
        "卷内备考表",
        "其中复印件 1 件",
        "立卷人",
        "检查人",
    ] {
        assert!(
            text.contains(&squeezed(expected)),
            "{expected:?} not in {text}"
        );
    }
    // a folder the caller may not see answers as a missing one
    let clerk = app.user_token("clerk", "staff", None).await;
    let hidden = get_as(&app, &clerk, &format!("/api/v1/parties/{id}/cover")).await;
    let missing = get_as(
        &app,
        &clerk,
        &format!("/api/v1/parties/{}/cover", uuid::Uuid::now_v7()),
    )
    .await;
    let hidden = assert_problem(hidden, 404, "not_found").await;
    let missing = assert_problem(missing, 404, "not_found").await;
    assert_eq!(hidden["title"], missing["title"]);
}

fn page_text(pdf: &[u8], page: u32) -> String {
    let file = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(file.path(), pdf).expect("write");
    let output = std::process::Command::new("pdftotext")
        .args(["-f", &page.to_string(), "-l", &page.to_string()])
        .arg(file.path())
        .arg("-")
        .output()
        .expect("pdftotext runs");
    assert!(output.status.success());
    squeezed(&String::from_utf8_lossy(&output.stdout))
}

#[sqlx::test]
async fn the_filing_stamp_goes_on_the_first_page_of_a_copy_and_the_original_stays(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let original = crate::helpers::corpus("pdf/latex-notes-zh-cn.pdf");
    let record = app
        .file_record(
            &json!({ "title": "LaTeX 笔记", "category": "WS", "doc_date": "2024-04-02", "retention": "D30",
                     "department": "BGS", "pages": 107 }),
            vec![crate::helpers::TestFile::new("notes.pdf", original.clone())],
        )
        .await;
    let code = record["archival_code"].as_str().expect("code");
    let item = code.rsplit('-').next().expect("item number");
    let path = format!(
        "/api/v1/records/{}/files/{}",
        record["id"].as_str().expect("id"),
        record["files"][0]["id"].as_str().expect("file")
    );
    let stamped = app
        .get(&format!("{path}/stamped"))
        .send()
        .await
        .expect("get");
    assert_eq!(stamped.status(), 200);
    assert_eq!(stamped.headers()["content-type"], "application/pdf");
    let stamped = stamped.bytes().await.expect("pdf");
    let fonts = poppler("pdffonts", &stamped);
    assert!(
        fonts.contains("CJK"),
        "the stamp's font is embedded: {fonts}"
    );
    let first = page_text(&stamped, 1);
    for expected in ["全宗号", "Z001", "2024", item, "BGS", "D30", "107"] {
        assert!(
            first.contains(expected),
            "{expected:?} not on the first page: {first}"
        );
    }
    assert!(
        !page_text(&stamped, 2).contains("全宗号"),
        "the stamp is on the first page only"
    );
    assert_eq!(
        page_text(&stamped, 2),
        page_text(&original, 2),
        "the pages keep their text"
    );
    // the stored original is untouched
    let stored = app
        .get(&path)
        .send()
        .await
        .expect("get")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(stored.as_ref(), original.as_slice());

    // a text file takes no stamp; a record the keeper may not see answers as missing
    let note = app
        .file_record(
            &json!({ "title": "便条", "category": "WS" }),
            vec![crate::helpers::TestFile::new(
                "note.txt",
                "便条".as_bytes().to_vec(),
            )],
        )
        .await;
    let note_path = format!(
        "/api/v1/records/{}/files/{}/stamped",
        note["id"].as_str().expect("id"),
        note["files"][0]["id"].as_str().expect("file")
    );
    assert_problem(
        app.get(&note_path).send().await.expect("get"),
        415,
        "unsupported_media_type",
    )
    .await;
    let keeper = app.user_token("keeper", "archivist", None).await;
    store_room(&app, &keeper).await;
    let hidden = admin_only_record(&app, json!({ "room": "K1" })).await;
    let hidden_path = format!(
        "/api/v1/records/{}/files/{}/stamped",
        hidden["id"].as_str().expect("id"),
        hidden["files"][0]["id"].as_str().expect("file")
    );
    assert_problem(get_as(&app, &keeper, &hidden_path).await, 404, "not_found").await;
}
