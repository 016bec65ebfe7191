//! Shared by the fault tests: concurrent uploaders that keep what each upload answered, and
//! the checks run after a fault: clean refusals, every acknowledged record whole, the audit
//! chain holding and `dangan verify` clean.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::Mutex;

/// Concurrent uploaders that run until stopped, keeping what each upload answered.
pub(super) struct Load {
    pub(super) stop: Arc<AtomicBool>,
    pub(super) acknowledged: Arc<Mutex<Vec<(String, String)>>>,
    pub(super) refused: Arc<Mutex<Vec<(u16, Value)>>>,
    pub(super) lost_connections: Arc<Mutex<usize>>,
    pub(super) tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Load {
    pub(super) fn start(address: &str, token: &str, uploaders: usize) -> Self {
        let load = Self {
            stop: Arc::new(AtomicBool::new(false)),
            acknowledged: Arc::default(),
            refused: Arc::default(),
            lost_connections: Arc::default(),
            tasks: Vec::new(),
        };
        let tasks = (0..uploaders)
            .map(|uploader| {
                let (stop, acknowledged, refused, lost) = (
                    load.stop.clone(),
                    load.acknowledged.clone(),
                    load.refused.clone(),
                    load.lost_connections.clone(),
                );
                let (address, token) = (address.to_owned(), token.to_owned());
                tokio::spawn(async move {
                    let client = reqwest::Client::builder()
                        .timeout(Duration::from_secs(30))
                        .build()
                        .expect("client");
                    let mut n = 0;
                    while !stop.load(Ordering::SeqCst) {
                        n += 1;
                        let title = format!("故障演练 {uploader}-{n}");
                        let body = format!("{title}\n{}", "檔案正文。".repeat(2000));
                        let form = reqwest::multipart::Form::new()
                            .part(
                                "metadata",
                                reqwest::multipart::Part::text(
                                    json!({ "title": title }).to_string(),
                                ),
                            )
                            .part(
                                "file",
                                reqwest::multipart::Part::bytes(body.into_bytes())
                                    .file_name("正文.txt"),
                            );
                        let sent = client
                            .post(format!("{address}/api/v1/records"))
                            .bearer_auth(&token)
                            .multipart(form)
                            .send()
                            .await;
                        match sent {
                            Ok(response) if response.status() == 201 => {
                                let record: Value = response.json().await.expect("json");
                                let id = record["id"].as_str().expect("id").to_owned();
                                acknowledged.lock().await.push((id, title));
                            }
                            Ok(response) => {
                                let status = response.status().as_u16();
                                let body = response.json().await.unwrap_or(Value::Null);
                                refused.lock().await.push((status, body));
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                            Err(_) => {
                                *lost.lock().await += 1;
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        }
                    }
                })
            })
            .collect();
        Self { tasks, ..load }
    }

    pub(super) async fn acknowledged(&self) -> usize {
        self.acknowledged.lock().await.len()
    }

    /// Stops the uploaders; returns the acknowledged records and the refusals.
    pub(super) async fn finish(self) -> (Vec<(String, String)>, Vec<(u16, Value)>, usize) {
        self.stop.store(true, Ordering::SeqCst);
        for task in self.tasks {
            task.await.expect("uploader");
        }
        let acknowledged = self.acknowledged.lock().await.clone();
        let refused = self.refused.lock().await.clone();
        let lost = *self.lost_connections.lock().await;
        (acknowledged, refused, lost)
    }
}

/// Every refusal is a 503 `unavailable` problem.
pub(super) fn assert_clean_refusals(refused: &[(u16, Value)]) {
    for (status, body) in refused {
        assert_eq!(*status, 503, "{body}");
        assert_eq!(body["code"], "unavailable", "{body}");
    }
}

pub(super) async fn wait_until_ready(
    client: &reqwest::Client,
    address: &str,
    within: Duration,
) -> Duration {
    let started = Instant::now();
    loop {
        if let Ok(response) = client.get(format!("{address}/readyz")).send().await
            && response.status() == 200
        {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "{address} did not recover in {within:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Every acknowledged record is there with its content; the audit chain holds.
pub(super) async fn assert_all_there(
    client: &reqwest::Client,
    address: &str,
    token: &str,
    acknowledged: &[(String, String)],
) {
    for (id, title) in acknowledged {
        let record: Value = client
            .get(format!("{address}/api/v1/records/{id}"))
            .bearer_auth(token)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        assert_eq!(record["title"], title.as_str(), "{record}");
        let file = &record["files"][0];
        let bytes = client
            .get(format!(
                "{address}/api/v1/records/{id}/files/{}",
                file["id"].as_str().expect("file id")
            ))
            .bearer_auth(token)
            .send()
            .await
            .expect("download")
            .bytes()
            .await
            .expect("bytes");
        assert_eq!(file["sha256"], hex::encode(Sha256::digest(&bytes)).as_str());
    }
    let chain: Value = client
        .get(format!("{address}/api/v1/audit/verify"))
        .bearer_auth(token)
        .send()
        .await
        .expect("verify")
        .json()
        .await
        .expect("json");
    assert_eq!(chain["ok"], true, "{chain}");
}

/// `dangan verify` re-reads every stored file of every record: nothing missing or changed.
pub(super) fn assert_verify_clean(url: &str, data_dir: &std::path::Path, env: &[(&str, &str)]) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_dangan"))
        .arg("verify")
        .env_remove("DANGAN_CONFIG")
        .env("DANGAN_DATABASE_URL", url)
        .env("DANGAN_DATA_DIR", data_dir)
        .envs(env.iter().copied())
        .output()
        .expect("dangan verify");
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Waits until an upload has been refused (at most 30 s); returns how long that took.
pub(super) async fn wait_for_a_refusal(load: &Load) -> Duration {
    let started = Instant::now();
    while load.refused.lock().await.is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no upload was refused in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    started.elapsed()
}

pub(super) async fn wait_for_acknowledgements(load: &Load, at_least: usize) {
    let started = Instant::now();
    while load.acknowledged().await < at_least {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "uploads stalled"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
