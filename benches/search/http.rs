//! The query mix over HTTP: a release `dangan serve` (BENCH_DANGAN, the binary) on the
//! scratch installation, asked `GET /api/v1/search` on loopback by one client, as a signed-in
//! administrator. Each search is end to end: parsing, the index, the catalogue rows of the
//! page from PostgreSQL and the audit row written for the search.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::Value;

use super::install::{Installation, PASSWORD};
use super::{LIMIT, Measured, QUERIES, progress, rounds};

/// Measured rounds of the query mix over HTTP, after one warm-up round.
pub const HTTP_ROUNDS: usize = 20;

/// A running server, stopped when dropped.
struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    fn start(binary: &Path, installation: &Installation, log: &Path) -> anyhow::Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let child = Command::new(binary)
            .arg("serve")
            .env("DANGAN_DATABASE_URL", &installation.url)
            .env("DANGAN_DATA_DIR", &installation.data_dir)
            .env("DANGAN_LISTEN", format!("127.0.0.1:{port}"))
            .env("DANGAN_ADMIN_PASSWORD", PASSWORD)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(log)?)
            .spawn()
            .with_context(|| format!("starting {} serve", binary.display()))?;
        Ok(Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
        })
    }

    async fn ready(&mut self, client: &reqwest::Client, log: &Path) -> anyhow::Result<()> {
        for _ in 0..1200 {
            if let Ok(response) = client.get(format!("{}/readyz", self.base)).send().await
                && response.status().is_success()
            {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                let log = std::fs::read_to_string(log).unwrap_or_default();
                bail!("dangan serve exited ({status}):\n{log}");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!(
            "dangan serve was not ready after 120 s (log: {})",
            log.display()
        )
    }

    async fn login(&self, client: &reqwest::Client) -> anyhow::Result<String> {
        let reply: Value = client
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&serde_json::json!({ "username": "admin", "password": PASSWORD }))
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        reply["token"]
            .as_str()
            .map(str::to_owned)
            .context("the login answered no token")
    }
}

/// Waits (up to five minutes) until the machine is idle, 90 % over two seconds: what the
/// server and PostgreSQL do after a start (vacuums, scheduled jobs) is not the searches'.
async fn wait_for_quiet() {
    let busy_and_total = || -> Option<(u64, u64)> {
        let stat = std::fs::read_to_string("/proc/stat").ok()?;
        let values: Vec<u64> = stat
            .lines()
            .next()?
            .split_whitespace()
            .skip(1)
            .filter_map(|value| value.parse().ok())
            .collect();
        let total: u64 = values.iter().sum();
        // idle and iowait
        let idle = values.get(3)? + values.get(4).copied().unwrap_or(0);
        Some((total - idle, total))
    };
    let started = Instant::now();
    let mut quiet = 0;
    while quiet < 2 && started.elapsed() < Duration::from_secs(300) {
        let before = busy_and_total();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let after = busy_and_total();
        let busy = match (before, after) {
            (Some((b0, t0)), Some((b1, t1))) if t1 > t0 => (b1 - b0) as f64 / (t1 - t0) as f64,
            _ => 0.0,
        };
        quiet = if busy <= 0.1 { quiet + 1 } else { 0 };
    }
    progress(&format!(
        "machine quiet after {:.0} s",
        started.elapsed().as_secs_f64()
    ));
}

/// Runs the query mix against a server on `installation`; latencies per query.
pub async fn search(
    binary: &Path,
    installation: &Installation,
    work: &Path,
) -> anyhow::Result<Vec<Measured>> {
    let log = work.join("dangan-serve.log");
    let mut server = Server::start(binary, installation, &log)?;
    let client = reqwest::Client::new();
    server.ready(&client, &log).await?;
    let token = server.login(&client).await?;
    wait_for_quiet().await;
    let url = format!("{}/api/v1/search", server.base);
    let limit = LIMIT.to_string();
    let mut measured: Vec<Measured> = QUERIES.iter().map(|_| Measured::default()).collect();
    for round in 0..=HTTP_ROUNDS {
        progress(&rounds("dangan over HTTP", round, HTTP_ROUNDS));
        for ((text, _), measured) in QUERIES.iter().zip(&mut measured) {
            let started = Instant::now();
            let response = client
                .get(&url)
                .bearer_auth(&token)
                .query(&[("q", *text), ("limit", limit.as_str())])
                .send()
                .await?;
            let status = response.status();
            let body = response.bytes().await?;
            let millis = started.elapsed().as_secs_f64() * 1e3;
            if !status.is_success() {
                bail!(
                    "search {text:?} answered {status}: {}",
                    String::from_utf8_lossy(&body)
                );
            }
            if round > 0 {
                measured.millis.push(millis);
            }
            let reply: Value = serde_json::from_slice(&body)?;
            measured.matches = reply["total"].as_u64().unwrap_or(0);
            measured.rows = reply["hits"].as_array().map_or(0, Vec::len);
        }
    }
    drop(server);
    Ok(measured)
}
