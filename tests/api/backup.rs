//! `dangan backup DIR` and `dangan restore DIR` with the real binary: a data directory backed
//! up, destroyed and restored finds every record, file hash, audit chain and search hit again;
//! a second backup copies nothing new; a restore refuses a store that is not empty.

use std::path::Path;
use std::process::{Command, Output};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::helpers::child::{CHILD_ADMIN_PASSWORD, Dangan};
use crate::helpers::{corpus, database_url, login};

/// Runs `dangan ARGS` on database `url` (none: the embedded cluster) and `data_dir`.
fn dangan(args: &[&str], url: Option<&str>, data_dir: &Path) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_dangan"));
    command
        .args(args)
        .env_remove("DANGAN_CONFIG")
        .env_remove("DANGAN_DATABASE_URL")
        .env("DANGAN_DATA_DIR", data_dir);
    if let Some(url) = url {
        command.env("DANGAN_DATABASE_URL", url);
    }
    command.output().expect("dangan runs")
}

fn succeeds(output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

/// What a client sees of a data directory: records, file hashes, audit chain, search hits.
#[derive(Debug, PartialEq)]
struct Holdings {
    records: Vec<Value>,
    file_hashes: Vec<String>,
    audit_ok: Value,
    hits: Vec<String>,
}

async fn holdings(server: &Dangan, client: &reqwest::Client, ids: &[String]) -> Holdings {
    let token = login(client, &server.address, "admin", CHILD_ADMIN_PASSWORD).await;
    let get = |path: String| {
        let request = client
            .get(format!("{}{path}", server.address))
            .bearer_auth(&token);
        async move { request.send().await.expect("request") }
    };
    let (mut records, mut file_hashes) = (Vec::new(), Vec::new());
    for id in ids {
        let record: Value = get(format!("/api/v1/records/{id}"))
            .await
            .json()
            .await
            .expect("json");
        for file in record["files"].as_array().into_iter().flatten() {
            let bytes = get(format!(
                "/api/v1/records/{id}/files/{}",
                file["id"].as_str().expect("file id")
            ))
            .await
            .bytes()
            .await
            .expect("bytes");
            let hash = hex::encode(Sha256::digest(&bytes));
            assert_eq!(file["sha256"], hash.as_str(), "content matches its hash");
            file_hashes.push(hash);
        }
        records.push(json!({
            "title": record["title"], "archival_code": record["archival_code"],
            "files": record["files"], "status": record["status"],
        }));
    }
    let audit: Value = get("/api/v1/audit/verify".into())
        .await
        .json()
        .await
        .expect("json");
    let mut hits = Vec::new();
    for query in ["备份恢复", "常见问题"] {
        let found: Value = get(format!("/api/v1/search?q={query}"))
            .await
            .json()
            .await
            .expect("json");
        for hit in found["hits"].as_array().into_iter().flatten() {
            hits.push(format!("{query}: {}", hit["record_id"]));
        }
    }
    hits.sort();
    Holdings {
        records,
        file_hashes,
        audit_ok: audit["ok"].clone(),
        hits,
    }
}

/// Files two records with real documents and waits until both are searchable.
async fn file_records(server: &Dangan, client: &reqwest::Client) -> Vec<String> {
    let token = login(client, &server.address, "admin", CHILD_ADMIN_PASSWORD).await;
    let mut ids = Vec::new();
    for (title, name, bytes) in [
        (
            "备份恢复 演练",
            "plan.txt",
            "备份恢复的演练记录。".as_bytes().to_vec(),
        ),
        ("常见问题", "faq.pdf", corpus("pdf/debian-faq.zh-cn.pdf")),
    ] {
        let form = reqwest::multipart::Form::new()
            .part(
                "metadata",
                reqwest::multipart::Part::text(
                    json!({ "title": title, "category": "WS" }).to_string(),
                ),
            )
            .part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name),
            );
        let response = client
            .post(format!("{}/api/v1/records", server.address))
            .bearer_auth(&token)
            .multipart(form)
            .send()
            .await
            .expect("upload");
        assert_eq!(response.status(), 201);
        let record: Value = response.json().await.expect("json");
        ids.push(record["id"].as_str().expect("id").to_owned());
    }
    // both texts, each found by its own query (two workers extract them in either order)
    for query in ["备份恢复", "常见问题"] {
        for _ in 0..600 {
            let found: Value = client
                .get(format!("{}/api/v1/search?q={query}", server.address))
                .bearer_auth(&token)
                .send()
                .await
                .expect("search")
                .json()
                .await
                .expect("json");
            if found["total"] == 1 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    }
    ids
}

/// Every audit event with its hashes, in order.
async fn audit_trail(
    pool: &PgPool,
) -> Vec<(i64, String, Option<Vec<u8>>, Option<i64>, Option<Vec<u8>>)> {
    sqlx::query_as("select id, action, hash, seal_seq, chain_hash from audit_events order by id")
        .fetch_all(pool)
        .await
        .expect("audit events")
}

#[sqlx::test]
async fn a_destroyed_data_directory_comes_back_from_its_backup(pool: PgPool) {
    let url = database_url(&pool).await;
    let client = reqwest::Client::new();
    let data = tempfile::tempdir().expect("temp dir");
    let backups = tempfile::tempdir().expect("temp dir");
    let mut server = Dangan::start("serve", &url, data.path(), &[]);
    server.wait_ready(&client).await;
    let ids = file_records(&server, &client).await;
    let before = holdings(&server, &client, &ids).await;
    assert_eq!(before.file_hashes.len(), 2);
    assert_eq!(before.audit_ok, true);
    assert_eq!(before.hits.len(), 2, "{:?}", before.hits);
    server.kill();

    let first = succeeds(&dangan(
        &["backup", &backups.path().display().to_string()],
        Some(&url),
        data.path(),
    ));
    assert!(first.contains("2 files (2 copied now"), "{first}");
    let second = succeeds(&dangan(
        &["backup", &backups.path().display().to_string()],
        Some(&url),
        data.path(),
    ));
    assert!(
        second.contains("2 files (0 copied now"),
        "nothing copied twice: {second}"
    );

    // the data directory and the database are gone; a new, empty database takes their place
    std::fs::remove_dir_all(data.path()).expect("destroy the data directory");
    let restored_db = format!("dangan_restored_{}", uuid::Uuid::now_v7().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "create database {restored_db}"
    )))
    .execute(&pool)
    .await
    .expect("create database");
    let restored_url = format!("{}/{restored_db}", url.rsplit_once('/').expect("url").0);
    let output = succeeds(&dangan(
        &["restore", &backups.path().display().to_string()],
        Some(&restored_url),
        data.path(),
    ));
    assert!(output.contains("2 records indexed"), "{output}");
    let restored = PgPool::connect(&restored_url).await.expect("connect");
    assert_eq!(audit_trail(&restored).await, audit_trail(&pool).await);
    restored.close().await;

    let mut again = Dangan::start("serve", &restored_url, data.path(), &[]);
    again.wait_ready(&client).await;
    let after = holdings(&again, &client, &ids).await;
    assert_eq!(after, before);
    again.kill();

    // a second restore meets a store that is no longer empty and leaves it alone
    let refused = dangan(
        &["restore", &backups.path().display().to_string()],
        Some(&restored_url),
        data.path(),
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("not empty"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    drop(again);
    sqlx::query(sqlx::AssertSqlSafe(format!(
        "drop database {restored_db} with (force)"
    )))
    .execute(&pool)
    .await
    .expect("drop database");
}
