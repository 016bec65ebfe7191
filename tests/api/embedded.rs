//! The zero-configuration path: `dangan serve` with no database URL creates and runs its own
//! PostgreSQL cluster under the data directory, stops it on shutdown, and finds its data
//! again on the next start. Drives the real binary over TCP.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::{Value, json};

use crate::helpers::{corpus, login};

const PASSWORD: &str = "embedded-admin-pw";

struct Dangan {
    child: Child,
    address: String,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

fn start(data_dir: &Path) -> Dangan {
    let port = free_port();
    let log = std::fs::File::create(data_dir.join(format!("dangan-{port}.log"))).expect("log file");
    let child = Command::new(env!("CARGO_BIN_EXE_dangan"))
        .arg("serve")
        .env_remove("DANGAN_DATABASE_URL")
        .env_remove("DANGAN_CONFIG")
        .env("DANGAN_DATA_DIR", data_dir)
        .env("DANGAN_LISTEN", format!("127.0.0.1:{port}"))
        .env("DANGAN_ADMIN_PASSWORD", PASSWORD)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("start dangan");
    Dangan {
        child,
        address: format!("http://127.0.0.1:{port}"),
    }
}

impl Dangan {
    async fn wait_ready(&mut self, data_dir: &Path, client: &reqwest::Client) {
        let started = Instant::now();
        loop {
            if let Ok(response) = client.get(format!("{}/readyz", self.address)).send().await
                && response.status() == 200
            {
                return;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!(
                    "dangan exited with {status} before it was ready:\n{}",
                    logs(data_dir)
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(120),
                "not ready in time:\n{}",
                logs(data_dir)
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn stop(mut self, data_dir: &Path) {
        let pid = Pid::from_raw(i32::try_from(self.child.id()).expect("pid"));
        kill(pid, Signal::SIGTERM).expect("SIGTERM");
        let started = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(
                    status.success(),
                    "dangan exited with {status}:\n{}",
                    logs(data_dir)
                );
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "dangan did not stop:\n{}",
                logs(data_dir)
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

fn logs(data_dir: &Path) -> String {
    let mut text = String::new();
    for entry in std::fs::read_dir(data_dir).into_iter().flatten().flatten() {
        if entry.path().extension().is_some_and(|ext| ext == "log") {
            text.push_str(&std::fs::read_to_string(entry.path()).unwrap_or_default());
        }
    }
    text.push_str(&std::fs::read_to_string(data_dir.join("pg/postgres.log")).unwrap_or_default());
    text
}

/// The record `id` as its owner sees it.
async fn get_record(client: &reqwest::Client, address: &str, token: &str, id: &str) -> Value {
    client
        .get(format!("{address}/api/v1/records/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json")
}

/// Files a record titled `title`, with one file if given; asserts 201 and returns it.
async fn file(
    client: &reqwest::Client,
    address: &str,
    token: &str,
    title: &str,
    content: Option<(&str, Vec<u8>)>,
) -> Value {
    let mut form = reqwest::multipart::Form::new().part(
        "metadata",
        reqwest::multipart::Part::text(json!({ "title": title }).to_string()),
    );
    if let Some((name, bytes)) = content {
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name.to_owned()),
        );
    }
    let response = client
        .post(format!("{address}/api/v1/records"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(response.status(), 201);
    response.json().await.expect("record")
}

#[tokio::test]
async fn serve_without_a_database_url_runs_its_own_cluster_and_keeps_the_data() {
    let dir = tempfile::tempdir().expect("temp dir");
    // the unprivileged postgres user must be able to enter the data directory
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let data_dir = dir.path();
    let client = reqwest::Client::new();
    let pdf = corpus("pdf/debian-faq.zh-cn.pdf");

    let mut first = start(data_dir);
    first.wait_ready(data_dir, &client).await;
    let token = login(&client, &first.address, "admin", PASSWORD).await;
    let record = file(
        &client,
        &first.address,
        &token,
        "嵌入式 資料庫",
        Some(("常見問題.pdf", pdf.clone())),
    )
    .await;
    assert!(
        data_dir.join("pg/data/PG_VERSION").exists(),
        "cluster under <data_dir>/pg"
    );
    first.stop(data_dir);
    assert!(
        !data_dir.join("pg/data/postmaster.pid").exists(),
        "PostgreSQL stopped with dangan:\n{}",
        logs(data_dir)
    );

    let mut second = start(data_dir);
    second.wait_ready(data_dir, &client).await;
    let token = login(&client, &second.address, "admin", PASSWORD).await;
    let id = record["id"].as_str().expect("id");
    let again = get_record(&client, &second.address, &token, id).await;
    assert_eq!(again["title"], "嵌入式 資料庫");
    let file_id = again["files"][0]["id"].as_str().expect("file id");
    let bytes = client
        .get(format!(
            "{}/api/v1/records/{id}/files/{file_id}",
            second.address
        ))
        .bearer_auth(&token)
        .send()
        .await
        .expect("download")
        .bytes()
        .await
        .expect("bytes");
    assert_eq!(bytes.as_ref(), pdf.as_slice());
    second.stop(data_dir);
}

/// As root from a clone under a directory `postgres` cannot enter (the usual `/root/dangan`),
/// the cluster moves where it can live and the data directory says where.
#[tokio::test]
async fn serve_as_root_under_a_closed_directory_runs_its_cluster_elsewhere() {
    if !nix::unistd::Uid::effective().is_root() {
        return; // an ordinary user's cluster always lives in the data directory (tested above)
    }
    let closed = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(closed.path(), std::fs::Permissions::from_mode(0o700)).expect("chmod");
    let data_dir = closed.path().join("clone/var");
    std::fs::create_dir_all(&data_dir).expect("data dir");
    let client = reqwest::Client::new();

    let mut dangan = start(&data_dir);
    dangan.wait_ready(&data_dir, &client).await;
    let token = login(&client, &dangan.address, "admin", PASSWORD).await;
    let record = file(&client, &dangan.address, &token, "根用戶 克隆", None).await;
    let note = std::fs::read_to_string(data_dir.join("pg.location")).expect("pg.location");
    let cluster = note
        .split_whitespace()
        .find(|word| word.starts_with("/var/lib/dangan/"))
        .expect("the note names the cluster's directory")
        .to_owned();
    assert!(
        Path::new(&cluster).join("data/PG_VERSION").exists(),
        "{note}"
    );
    assert!(
        logs(&data_dir).contains("lives outside it"),
        "said in the log"
    );
    dangan.stop(&data_dir);

    // the next start finds the same cluster and its data
    let mut again = start(&data_dir);
    again.wait_ready(&data_dir, &client).await;
    let token = login(&client, &again.address, "admin", PASSWORD).await;
    let id = record["id"].as_str().expect("id");
    let found = get_record(&client, &again.address, &token, id).await;
    assert_eq!(found["title"], "根用戶 克隆", "{found}");
    again.stop(&data_dir);
    std::fs::remove_dir_all(&cluster).expect("remove the test's cluster");
}

/// `dangan backup` and `dangan restore` with the embedded cluster: the data directory is
/// destroyed, restored into a new cluster, and every record, file and search hit is back.
#[tokio::test]
async fn a_backup_of_the_embedded_cluster_restores_into_a_new_one() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let data_dir = dir.path().join("data");
    let backups = dir.path().join("backups");
    std::fs::create_dir_all(&data_dir).expect("data dir");
    let client = reqwest::Client::new();
    let cli = |args: &[&std::ffi::OsStr]| {
        let output = Command::new(env!("CARGO_BIN_EXE_dangan"))
            .args(args)
            .env_remove("DANGAN_DATABASE_URL")
            .env_remove("DANGAN_CONFIG")
            .env("DANGAN_DATA_DIR", &data_dir)
            .output()
            .expect("dangan runs");
        assert!(
            output.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };

    let mut first = start(&data_dir);
    first.wait_ready(&data_dir, &client).await;
    let token = login(&client, &first.address, "admin", PASSWORD).await;
    let record = file(
        &client,
        &first.address,
        &token,
        "嵌入式 备份",
        Some(("正文.txt", "备份的正文".as_bytes().to_vec())),
    )
    .await;
    first.stop(&data_dir);

    let said = cli(&["backup".as_ref(), backups.as_os_str()]);
    assert!(said.contains("1 files (1 copied now"), "{said}");
    std::fs::remove_dir_all(&data_dir).expect("destroy the data directory");
    let said = cli(&["restore".as_ref(), backups.as_os_str()]);
    assert!(said.contains("1 records indexed"), "{said}");

    let mut second = start(&data_dir);
    second.wait_ready(&data_dir, &client).await;
    let token = login(&client, &second.address, "admin", PASSWORD).await;
    let id = record["id"].as_str().expect("id");
    let again = get_record(&client, &second.address, &token, id).await;
    assert_eq!(again["title"], "嵌入式 备份");
    for key in ["id", "sha256", "size"] {
        assert_eq!(again["files"][0][key], record["files"][0][key], "{key}");
    }
    assert_eq!(again["files"][0]["text"]["status"], "done", "{again}");
    let found: Value = client
        .get(format!("{}/api/v1/search?q=备份", second.address))
        .bearer_auth(&token)
        .send()
        .await
        .expect("search")
        .json()
        .await
        .expect("json");
    assert_eq!(found["total"], 1, "{found}");
    second.stop(&data_dir);
}
