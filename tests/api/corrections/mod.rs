//! Corrections of filed records (issue 19, item 1): a file replaced keeps the earlier one in
//! history with its hash and content while search finds the new text; files added after
//! filing; a record the caller may not see answers as a missing one.

mod withdrawals;

use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::{TestApp, TestFile, assert_problem};
use crate::places::{get_as, post_as};
use crate::search::{search, settle};

/// `POST /api/v1/records/{id}/files` as `token`: an optional metadata part, then files.
pub(crate) async fn send_files(
    app: &TestApp,
    token: &str,
    record: &str,
    metadata: Option<Value>,
    files: Vec<TestFile>,
) -> reqwest::Response {
    let mut form = Form::new();
    if let Some(metadata) = metadata {
        form = form.part(
            "metadata",
            Part::text(metadata.to_string())
                .mime_str("application/json")
                .expect("mime"),
        );
    }
    for file in files {
        form = form.part("file", Part::bytes(file.bytes).file_name(file.name));
    }
    app.client
        .post(app.url(&format!("/api/v1/records/{record}/files")))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("post files")
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(bytes))
}

#[sqlx::test]
async fn a_replaced_file_keeps_its_hash_in_history_while_search_finds_the_new_text(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let old_bytes = "勞動合同 第一頁 掃描模糊 qzxold".as_bytes().to_vec();
    let new_bytes = "勞動合同 第一頁 重新掃描 清晰可讀 qzxnew"
        .as_bytes()
        .to_vec();
    let record = app
        .file_record(
            &json!({"title": "張三 勞動合同", "category": "WS"}),
            vec![
                TestFile::new("合同.txt", old_bytes.clone()),
                TestFile::new("附件.txt", "附件 qzxattach".as_bytes().to_vec()),
            ],
        )
        .await;
    let id = record["id"].as_str().expect("id").to_owned();
    let old_file = record["files"][0]["id"].as_str().expect("file").to_owned();
    settle(&app).await;
    assert_eq!(search(&app, "qzxold").await["total"], 1);
    let archivist = app.user_token("keeper", "archivist", None).await;

    // a replacement says why, and is one file
    let no_reason = json!({"replaces": old_file});
    let refused = send_files(
        &app,
        &archivist,
        &id,
        Some(no_reason),
        vec![TestFile::new("a.txt", new_bytes.clone())],
    )
    .await;
    let problem = assert_problem(refused, 400, "validation").await;
    assert!(
        problem["detail"]
            .as_str()
            .is_some_and(|d| d.contains("reason")),
        "{problem}"
    );
    let two = vec![
        TestFile::new("a.txt", new_bytes.clone()),
        TestFile::new("b.txt", b"b".to_vec()),
    ];
    let body = json!({"replaces": old_file, "reason": "掃描不清，重新掃描"});
    assert_problem(
        send_files(&app, &archivist, &id, Some(body.clone()), two).await,
        400,
        "validation",
    )
    .await;
    assert_eq!(
        app.count("record_files").await,
        2,
        "refused corrections store nothing"
    );

    let replaced = send_files(
        &app,
        &archivist,
        &id,
        Some(body.clone()),
        vec![TestFile::new("合同-重掃.txt", new_bytes.clone())],
    )
    .await;
    assert_eq!(
        replaced.status(),
        201,
        "{}",
        replaced.text().await.unwrap_or_default()
    );
    let replaced: Value = replaced.json().await.expect("record");
    let files = replaced["files"].as_array().expect("files");
    assert_eq!(files.len(), 2, "{replaced}");
    // the replacement takes the earlier file's place
    assert_eq!(files[0]["sha256"], sha256_hex(&new_bytes));
    assert_eq!(files[0]["filename"], "合同-重掃.txt");
    assert_eq!(files[1]["filename"], "附件.txt");
    let earlier = replaced["earlier_files"].as_array().expect("earlier files");
    assert_eq!(earlier.len(), 1);
    assert_eq!(earlier[0]["id"], old_file.as_str());
    assert_eq!(earlier[0]["sha256"], sha256_hex(&old_bytes));
    assert_eq!(earlier[0]["replaced_by"], files[0]["id"]);
    assert_eq!(earlier[0]["replace_reason"], "掃描不清，重新掃描");
    assert_eq!(replaced["archival_code"], record["archival_code"]);

    // the earlier content stays stored and downloadable, with its hash as ETag
    let download = get_as(
        &app,
        &archivist,
        &format!("/api/v1/records/{id}/files/{old_file}"),
    )
    .await;
    assert_eq!(download.status(), 200);
    let etag = download
        .headers()
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    assert_eq!(
        etag.as_deref().map(|e| e.trim_matches('"').to_owned()),
        Some(sha256_hex(&old_bytes))
    );
    assert_eq!(download.bytes().await.expect("body").to_vec(), old_bytes);

    // search follows the current file: the new text is found, the replaced one is not
    settle(&app).await;
    assert_eq!(search(&app, "qzxnew").await["total"], 1);
    assert_eq!(search(&app, "qzxold").await["total"], 0);
    assert_eq!(search(&app, "qzxattach").await["total"], 1);
    let read: Value = app.get_json(&format!("/api/v1/records/{id}")).await;
    assert_eq!(read["files"][0]["text"]["status"], "done", "{read}");

    // the earlier file cannot be replaced again; the audit trail holds both hashes
    let again = send_files(
        &app,
        &archivist,
        &id,
        Some(body),
        vec![TestFile::new("c.txt", b"c".to_vec())],
    )
    .await;
    assert_problem(again, 409, "conflict").await;
    let details: Value = sqlx::query_scalar(
        "select details from audit_events where action = 'record.file_replaced' and record_id = $1::uuid",
    )
    .bind(&id)
    .fetch_one(&app.pool)
    .await
    .expect("audit event");
    assert_eq!(details["replaced"]["sha256"], sha256_hex(&old_bytes));
    assert_eq!(details["file"]["sha256"], sha256_hex(&new_bytes));
    let audit_ok: Value = app.get_json("/api/v1/audit/verify").await;
    assert_eq!(audit_ok["ok"], true, "{audit_ok}");

    // a file added later goes after the others; files larger than a JSON body are taken
    let mut supplement = "補充材料 qzxadded\n".as_bytes().to_vec();
    supplement.extend(b"0123456789abcdef\n".repeat(128 * 1024));
    let added = send_files(
        &app,
        &archivist,
        &id,
        None,
        vec![TestFile::new("補充.txt", supplement.clone())],
    )
    .await;
    assert_eq!(added.status(), 201);
    let added: Value = added.json().await.expect("record");
    let names: Vec<&str> = added["files"]
        .as_array()
        .expect("files")
        .iter()
        .filter_map(|f| f["filename"].as_str())
        .collect();
    assert_eq!(names, ["合同-重掃.txt", "附件.txt", "補充.txt"]);
    assert_eq!(added["files"][2]["size"], supplement.len());
    settle(&app).await;
    assert_eq!(search(&app, "qzxadded").await["total"], 1);
}

#[sqlx::test]
async fn a_correction_of_a_record_the_caller_cannot_see_answers_as_a_missing_one(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let secret = app
        .file_record(
            &json!({"title": "機密 合同", "category": "WS", "security_level": "secret"}),
            vec![TestFile::new("a.txt", b"secret".to_vec())],
        )
        .await;
    let id = secret["id"].as_str().expect("id");
    let staff = app.user_token("clerk", "staff", None).await;
    let director = app.user_token("director", "director", None).await;
    let archivist = app.user_token("keeper", "archivist", None).await;
    let file = || vec![TestFile::new("b.txt", b"b".to_vec())];

    let hidden = assert_problem(
        send_files(&app, &staff, id, None, file()).await,
        404,
        "not_found",
    )
    .await;
    let missing_id = uuid::Uuid::now_v7().to_string();
    let missing = assert_problem(
        send_files(&app, &staff, &missing_id, None, file()).await,
        404,
        "not_found",
    )
    .await;
    assert_eq!(hidden["title"], missing["title"]);
    let withdraw = json!({"reason": "誤歸檔"});
    assert_problem(
        post_as(
            &app,
            &staff,
            &format!("/api/v1/records/{id}/withdrawals"),
            withdraw.clone(),
        )
        .await,
        404,
        "not_found",
    )
    .await;
    // a director sees the record but the records office corrects it
    assert_problem(
        send_files(&app, &director, id, None, file()).await,
        403,
        "forbidden",
    )
    .await;
    assert_problem(
        post_as(
            &app,
            &director,
            &format!("/api/v1/records/{id}/withdrawals"),
            withdraw,
        )
        .await,
        403,
        "forbidden",
    )
    .await;
    // not multipart, and an unknown file: clear 4xx
    let plain = app
        .client
        .post(app.url(&format!("/api/v1/records/{id}/files")))
        .bearer_auth(&archivist)
        .body("x")
        .send()
        .await
        .expect("post");
    assert_problem(plain, 415, "unsupported_media_type").await;
    let unknown = json!({"replaces": uuid::Uuid::now_v7(), "reason": "重掃"});
    assert_problem(
        send_files(&app, &archivist, id, Some(unknown), file()).await,
        404,
        "not_found",
    )
    .await;
    assert_problem(
        send_files(&app, &archivist, id, None, Vec::new()).await,
        400,
        "validation",
    )
    .await;

    // a held record's file is not replaced; a destroyed record's files do not change
    let hold = app
        .post("/api/v1/holds")
        .json(&json!({"reason": "訴訟保全", "record_ids": [id]}))
        .send()
        .await
        .expect("hold");
    assert_eq!(hold.status(), 201);
    let replace = json!({"replaces": secret["files"][0]["id"], "reason": "重掃"});
    assert_problem(
        send_files(&app, &archivist, id, Some(replace), file()).await,
        409,
        "on_hold",
    )
    .await;
    sqlx::query("update records set status = 'destroyed' where id = $1::uuid")
        .bind(id)
        .execute(&app.pool)
        .await
        .expect("destroy");
    assert_problem(
        send_files(&app, &archivist, id, None, file()).await,
        409,
        "conflict",
    )
    .await;
    assert_eq!(app.count("record_files").await, 1, "nothing was added");
}
