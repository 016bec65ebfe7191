//! Several nodes: two `dangan serve` processes and one `dangan worker` on one PostgreSQL and
//! one S3-compatible store (s3s-fs). A record filed on one node is searchable on the other
//! within the stated bound; a destruction run removes the record from both nodes' indexes;
//! no job runs twice.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::child::{CHILD_ADMIN_PASSWORD, Dangan};
use crate::helpers::s3::start_s3;
use crate::helpers::{database_url, login};

/// How soon a record filed on one node is found on another (README, "Several nodes").
const BOUND: Duration = Duration::from_secs(5);

struct Node {
    server: Dangan,
    client: reqwest::Client,
    token: String,
    _data_dir: tempfile::TempDir,
}

impl Node {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.address)
    }

    async fn post(&self, path: &str, token: &str, body: &Value) -> Value {
        let response = self
            .client
            .post(self.url(path))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("request");
        let status = response.status();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        assert!(status.is_success(), "POST {path}: {status} {body}");
        body
    }

    async fn titles(&self, query: &str) -> Vec<String> {
        let found: Value = self
            .client
            .get(self.url("/api/v1/search"))
            .query(&[("q", query)])
            .bearer_auth(&self.token)
            .send()
            .await
            .expect("search")
            .json()
            .await
            .expect("json");
        found["hits"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|hit| hit["title"].as_str().unwrap_or_default().to_owned())
            .collect()
    }

    /// Waits until `query` finds `title` (or, with `present` false, no longer does).
    async fn wait_for(
        &self,
        query: &str,
        title: &str,
        present: bool,
        within: Duration,
    ) -> Duration {
        let started = Instant::now();
        loop {
            let found = self.titles(query).await.iter().any(|hit| hit == title);
            if found == present {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < within,
                "{query:?} on {}: {title} present={found} after {within:?}",
                self.server.address
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn node(url: &str, env: &[(&str, &str)]) -> Node {
    let data_dir = tempfile::tempdir().expect("temp dir");
    let mut server = Dangan::start("serve", url, data_dir.path(), env);
    let client = reqwest::Client::new();
    server.wait_ready(&client).await;
    let token = login(&client, &server.address, "admin", CHILD_ADMIN_PASSWORD).await;
    Node {
        server,
        client,
        token,
        _data_dir: data_dir,
    }
}

#[sqlx::test]
async fn two_nodes_and_a_worker_share_one_database_and_one_s3_store(pool: PgPool) {
    let s3 = start_s3().await;
    let url = database_url(&pool).await;
    let env_owned = s3.env();
    let env: Vec<(&str, &str)> = env_owned
        .iter()
        .map(|(name, value)| (*name, value.as_str()))
        .collect();
    let one = node(&url, &env).await;
    let two = node(&url, &env).await;
    let worker_dir = tempfile::tempdir().expect("temp dir");
    let worker = Dangan::start("worker", &url, worker_dir.path(), &env);

    // filed on one node, found on the other
    let form = reqwest::multipart::Form::new()
        .part(
            "metadata",
            reqwest::multipart::Part::text(
                json!({ "title": "双节点 合同", "doc_date": "2000-01-01", "category": "WS",
                        "retention": "D10", "department": "BGS" })
                .to_string(),
            ),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes("双节点共享的合同正文".as_bytes().to_vec())
                .file_name("合同.txt"),
        );
    let response = one
        .client
        .post(one.url("/api/v1/records"))
        .bearer_auth(&one.token)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), 201);
    let record: Value = response.json().await.expect("json");
    let seen = two.wait_for("双节点", "双节点 合同", true, BOUND).await;
    eprintln!("filed on one node, searchable on the other after {seen:?}");
    // the content is in the shared store: the other node serves it
    let file = two
        .client
        .get(two.url(&format!(
            "/api/v1/records/{}/files/{}",
            record["id"].as_str().expect("id"),
            record["files"][0]["id"].as_str().expect("file id")
        )))
        .bearer_auth(&two.token)
        .send()
        .await
        .expect("download");
    assert_eq!(file.status(), 200);
    assert_eq!(
        file.bytes().await.expect("bytes").as_ref(),
        "双节点共享的合同正文".as_bytes()
    );
    // its text, extracted by whichever process took the job, is searchable on both
    one.wait_for(
        "共享的合同正文",
        "双节点 合同",
        true,
        Duration::from_secs(60),
    )
    .await;
    two.wait_for("共享的合同正文", "双节点 合同", true, BOUND)
        .await;

    // destroyed through one node's API and a worker: gone from both indexes
    one.post(
        "/api/v1/disposition/appraisals",
        &one.token,
        &json!({ "record_id": record["id"], "decision": "destroy", "reason": "期滿無保存價值" }),
    )
    .await;
    let batch = one
        .post(
            "/api/v1/disposition/batches",
            &one.token,
            &json!({ "as_of": "2026-12-31", "record_ids": [record["id"]], "supervisors": ["王監銷"] }),
        )
        .await;
    for (name, role) in [("director", "director"), ("manager", "general_manager")] {
        let password = format!("{name}-password");
        one.post(
            "/api/v1/users",
            &one.token,
            &json!({ "username": name, "password": password, "role": role }),
        )
        .await;
        // approvals on the other node: a session is valid on every node
        let token = login(&two.client, &two.server.address, name, &password).await;
        two.post(
            &format!(
                "/api/v1/disposition/batches/{}/approve",
                batch["id"].as_str().expect("id")
            ),
            &token,
            &json!({}),
        )
        .await;
    }
    let started = Instant::now();
    one.wait_for("双节点", "双节点 合同", false, Duration::from_secs(60))
        .await;
    two.wait_for("双节点", "双节点 合同", false, BOUND).await;
    eprintln!(
        "destroyed and gone from both indexes after {:?}",
        started.elapsed()
    );
    // the batch's job ends after the indexes follow: wait for the batch to be done
    let batch_url = one.url(&format!(
        "/api/v1/disposition/batches/{}",
        batch["id"].as_str().expect("id")
    ));
    loop {
        let state: Value = one
            .client
            .get(&batch_url)
            .bearer_auth(&one.token)
            .send()
            .await
            .expect("batch")
            .json()
            .await
            .expect("json");
        if state["status"] == "done" {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(60), "{state}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let objects = walk(s3.dir.path());
    assert!(
        !objects
            .iter()
            .any(|name| name.as_str() == record["files"][0]["sha256"]),
        "the content is gone from the store: {objects:?}"
    );

    // every job ran once: done on its first attempt, nothing failed or still running (a
    // job settles just after its work commits: the batch can be done a moment before it)
    let started = std::time::Instant::now();
    let jobs = loop {
        let jobs: Vec<(String, String, i32)> =
            sqlx::query_as("select kind, status, attempts from jobs order by id")
                .fetch_all(&pool)
                .await
                .expect("jobs");
        let settling = jobs.iter().any(|(_, status, _)| status == "running");
        if !settling || started.elapsed() > Duration::from_secs(10) {
            break jobs;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(!jobs.is_empty());
    for (kind, status, attempts) in &jobs {
        assert!(
            status == "done" && *attempts == 1 || status == "queued" && *attempts == 0,
            "{kind}: {status} after {attempts} attempts: {jobs:?}"
        );
    }
    let destroyed: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'record.destroyed'")
            .fetch_one(&pool)
            .await
            .expect("count");
    assert_eq!(destroyed, 1);
    drop(worker);
}

/// The names of every file under `dir`.
fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        if entry.path().is_dir() {
            names.extend(walk(&entry.path()));
        } else {
            names.push(entry.file_name().to_string_lossy().into_owned());
        }
    }
    names
}
