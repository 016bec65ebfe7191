//! What the ingest benchmark measures with: the server's HTTP API (filing, jobs, search)
//! and its CPU time.

use std::time::{Duration, Instant};

use anyhow::bail;
use serde_json::Value;

use super::Settings;

/// CPU seconds of the server, of its children (those that ended, and the long-lived text
/// readers with what their own children used), and of PostgreSQL's processes.
#[derive(Default)]
pub struct Cpu {
    pub own: f64,
    pub children: f64,
    pub postgres: f64,
}

impl Cpu {
    pub fn read(pid: u32) -> Self {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let stats: Vec<String> = std::fs::read_dir("/proc")
            .into_iter()
            .flatten()
            .flatten()
            .filter_map(|entry| std::fs::read_to_string(entry.path().join("stat")).ok())
            .collect();
        let postgres = stats
            .iter()
            .filter(|stat| stat.contains("(postgres)"))
            .map(|stat| ticks(stat, 14..16))
            .sum();
        // a child still running is not in the server's own figures for children yet
        let running_children: f64 = stats
            .iter()
            .filter(|stat| field(stat, 4) == Some(f64::from(pid)))
            .map(|stat| ticks(stat, 14..18))
            .sum();
        Cpu {
            own: ticks(&stat, 14..16),
            children: ticks(&stat, 16..18) + running_children,
            postgres,
        }
    }

    pub fn since(&self, before: &Cpu) -> Cpu {
        Cpu {
            own: self.own - before.own,
            children: self.children - before.children,
            postgres: self.postgres - before.postgres,
        }
    }
}

/// Seconds in the given fields of a `/proc/PID/stat` line (utime, stime, cutime, cstime are
/// fields 14 to 17, in clock ticks of 1/100 s).
fn ticks(stat: &str, fields: std::ops::Range<usize>) -> f64 {
    fields.filter_map(|n| field(stat, n)).sum::<f64>() / 100.0
}

/// Field `n` of a `/proc/PID/stat` line (4 is the parent's process id), as a number.
fn field(stat: &str, n: usize) -> Option<f64> {
    let after_name = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    // after the name comes field 3 (the state)
    let value = after_name.split_whitespace().nth(n.checked_sub(3)?)?;
    Some(value.parse().unwrap_or(0.0))
}

/// Latencies in milliseconds.
#[derive(Default)]
pub struct Millis(pub Vec<f64>);

impl Millis {
    pub fn percentile(&self, p: f64) -> f64 {
        let mut sorted = self.0.clone();
        sorted.sort_by(f64::total_cmp);
        let at = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len().max(1)) - 1;
        sorted.get(at).copied().unwrap_or(f64::NAN)
    }
}

/// Files a record with one file; the upload's milliseconds.
pub async fn file(
    client: &reqwest::Client,
    settings: &Settings,
    metadata: Value,
    name: String,
    content: Vec<u8>,
) -> anyhow::Result<f64> {
    let started = Instant::now();
    let form = reqwest::multipart::Form::new()
        .part(
            "metadata",
            reqwest::multipart::Part::text(metadata.to_string()),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(content).file_name(name.clone()),
        );
    let response = client
        .post(format!("{}/api/v1/records", settings.base))
        .bearer_auth(&settings.token)
        .multipart(form)
        .send()
        .await?;
    let status = response.status();
    let body = response.text().await?;
    if !status.is_success() {
        bail!("filing {name} answered {status}: {body}");
    }
    Ok(started.elapsed().as_secs_f64() * 1000.0)
}

pub async fn get(
    client: &reqwest::Client,
    settings: &Settings,
    path: &str,
) -> anyhow::Result<Value> {
    let response = client
        .get(format!("{}{path}", settings.base))
        .bearer_auth(&settings.token)
        .send()
        .await?;
    let status = response.status();
    if !status.is_success() {
        bail!("GET {path} answered {status}");
    }
    Ok(response.json().await?)
}

/// Jobs of `kind` queued or running, and failed extraction jobs.
pub async fn jobs_left(
    client: &reqwest::Client,
    settings: &Settings,
    kind: &str,
) -> anyhow::Result<(bool, usize)> {
    let mut busy = false;
    for status in ["queued", "running"] {
        let page = get(
            client,
            settings,
            &format!("/api/v1/jobs?kind={kind}&status={status}&limit=1"),
        )
        .await?;
        busy |= page["items"]
            .as_array()
            .is_some_and(|items| !items.is_empty());
    }
    let failed = get(
        client,
        settings,
        "/api/v1/jobs?kind=extract_text&status=failed&limit=200",
    )
    .await?;
    Ok((busy, failed["items"].as_array().map_or(0, Vec::len)))
}

/// Waits until no extraction job is queued or running; the failed ones.
pub async fn wait_for_extraction(
    client: &reqwest::Client,
    settings: &Settings,
) -> anyhow::Result<usize> {
    wait_for_jobs(client, settings, "extract_text").await
}

/// Waits until no job of `kind` is queued or running; the failed extractions.
pub async fn wait_for_jobs(
    client: &reqwest::Client,
    settings: &Settings,
    kind: &str,
) -> anyhow::Result<usize> {
    let deadline = Instant::now() + Duration::from_secs(6 * 3600);
    loop {
        let (busy, failed) = jobs_left(client, settings, kind).await?;
        if !busy {
            return Ok(failed);
        }
        if Instant::now() > deadline {
            bail!("the {kind} jobs did not finish in six hours");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

pub fn url_encode(text: &str) -> String {
    text.bytes()
        .map(|byte| match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => {
                (byte as char).to_string()
            }
            _ => format!("%{byte:02X}"),
        })
        .collect()
}
