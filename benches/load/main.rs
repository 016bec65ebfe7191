//! `scripts/bench load` (issue 16): LOAD_UPLOADERS (default 50) concurrent uploaders and
//! LOAD_SEARCHERS (default 200) concurrent searchers against one running `dangan serve` for
//! LOAD_SECONDS (default 60) over loopback, at most LOAD_MAX_UPLOADS uploads (default 20 000).
//! Reports throughput, p50/p99 and errors of each, the search p99 under load as a ratio of
//! its idle p99 measured first in the same run (target ≤ 10, and 0 errors), and the growth of
//! the server's resident memory. Two more baselines of the same run tell the causes apart:
//! the same searchers alone (what their own number costs), and idle search again on the index
//! the load left behind (what its growth costs).
//!
//! `scripts/bench indexing` (issue 18, item 4) runs the same with LOAD_UNTIL_DONE=1: the
//! uploaders file exactly LOAD_MAX_UPLOADS records (a bulk import) and the searchers run until
//! it is done, whatever LOAD_SECONDS says; LOAD_TARGET is the ratio to meet (default 10).
//!
//! Environment (set by the script): LOAD_BASE (`http://127.0.0.1:PORT`), LOAD_TOKEN (an admin
//! token), LOAD_PID (the server's pid, for its memory), LOAD_CORPUS (a directory of texts).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use tokio::sync::Mutex;

/// Queries in both scripts and English, as archivists type them.
const QUERIES: [&str; 8] = [
    "档案",
    "合同",
    "功能表",
    "编辑菜单",
    "說明",
    "备份",
    "工作表",
    "document",
];

struct Settings {
    base: String,
    token: String,
    pid: u32,
    uploaders: usize,
    searchers: usize,
    seconds: u64,
    max_uploads: usize,
    /// Run until every upload is done (a bulk import), not for `seconds`.
    until_done: bool,
    /// The ratio of search p99 under load to idle p99 to meet.
    target: f64,
    texts: Vec<String>,
}

fn main() -> ExitCode {
    match tokio::runtime::Runtime::new()
        .context("runtime")
        .and_then(|runtime| runtime.block_on(run()))
    {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("load benchmark failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn number(name: &str, default: u64) -> anyhow::Result<u64> {
    std::env::var(name)
        .ok()
        .map(|value| {
            value
                .parse()
                .with_context(|| format!("{name} is not a number"))
        })
        .transpose()
        .map(|value| value.unwrap_or(default))
}

fn settings() -> anyhow::Result<Settings> {
    let var = |name: &str| std::env::var(name).with_context(|| format!("{name} is not set"));
    let corpus = PathBuf::from(var("LOAD_CORPUS")?);
    let mut texts = Vec::new();
    collect_texts(&corpus, &mut texts);
    if texts.is_empty() {
        bail!("no texts under {}", corpus.display());
    }
    Ok(Settings {
        base: var("LOAD_BASE")?,
        token: var("LOAD_TOKEN")?,
        pid: var("LOAD_PID")?.parse().context("LOAD_PID")?,
        uploaders: usize::try_from(number("LOAD_UPLOADERS", 50)?)?,
        searchers: usize::try_from(number("LOAD_SEARCHERS", 200)?)?,
        seconds: number("LOAD_SECONDS", 60)?,
        max_uploads: usize::try_from(number("LOAD_MAX_UPLOADS", 20_000)?)?,
        until_done: number("LOAD_UNTIL_DONE", 0)? != 0,
        target: number("LOAD_TARGET", 10)? as f64,
        texts,
    })
}

/// Up to 2000 texts of 1–8 KB from the corpus, to upload as small documents.
fn collect_texts(dir: &Path, texts: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let mut paths: Vec<PathBuf> = entries.flatten().map(|entry| entry.path()).collect();
    paths.sort();
    for path in paths {
        if texts.len() >= 2000 {
            return;
        }
        if path.is_dir() {
            collect_texts(&path, texts);
        } else if let Ok(text) = std::fs::read_to_string(&path) {
            let end = text
                .char_indices()
                .map(|(at, _)| at)
                .find(|at| *at >= 8192)
                .unwrap_or(text.len());
            if end >= 1024 {
                texts.push(text[..end].to_owned());
            }
        }
    }
}

fn rss_kb(pid: u32, key: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|line| {
            line.strip_prefix(key)?
                .trim()
                .split(' ')
                .next()?
                .parse()
                .ok()
        })
        .unwrap_or(0)
}

/// CPU seconds the whole machine (server, PostgreSQL, this client) has spent so far, from
/// `/proc/stat` (ticks of 1/100 s).
fn machine_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let ticks: Vec<f64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|value| value.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal: all but idle and iowait are work
    let busy: f64 = ticks
        .iter()
        .take(8)
        .enumerate()
        .filter(|(at, _)| *at != 3 && *at != 4)
        .map(|(_, ticks)| ticks)
        .sum();
    busy / 100.0
}

/// Latencies in milliseconds and the number of failed requests.
#[derive(Default)]
struct Tally {
    millis: Vec<f64>,
    errors: usize,
    first_error: Option<String>,
}

impl Tally {
    fn percentile(&self, p: f64) -> f64 {
        let mut sorted = self.millis.clone();
        sorted.sort_by(f64::total_cmp);
        let at = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len().max(1)) - 1;
        sorted.get(at).copied().unwrap_or(f64::NAN)
    }
}

async fn timed(
    request: reqwest::RequestBuilder,
    tally: &Mutex<Tally>,
) -> Option<reqwest::StatusCode> {
    let started = Instant::now();
    let outcome = request.send().await;
    let elapsed = started.elapsed().as_secs_f64() * 1000.0;
    let mut tally = tally.lock().await;
    match outcome {
        Ok(response) if response.status().is_success() => {
            let status = response.status();
            // read the body: the request is done when the client has the answer
            let _ = response.bytes().await;
            tally.millis.push(started.elapsed().as_secs_f64() * 1000.0);
            Some(status)
        }
        Ok(response) => {
            tally.errors += 1;
            tally.first_error.get_or_insert(format!(
                "status {} after {elapsed:.0} ms",
                response.status()
            ));
            None
        }
        Err(error) => {
            tally.errors += 1;
            tally.first_error.get_or_insert(error.to_string());
            None
        }
    }
}

fn search(client: &reqwest::Client, settings: &Settings, n: usize) -> reqwest::RequestBuilder {
    client
        .get(format!("{}/api/v1/search", settings.base))
        .query(&[("q", QUERIES[n % QUERIES.len()]), ("limit", "20")])
        .bearer_auth(&settings.token)
}

fn upload(client: &reqwest::Client, settings: &Settings, n: usize) -> reqwest::RequestBuilder {
    let text = format!(
        "负载测试 第{n}件\n{}",
        settings.texts[n % settings.texts.len()]
    );
    let form = reqwest::multipart::Form::new()
        .part(
            "metadata",
            reqwest::multipart::Part::text(
                serde_json::json!({ "title": format!("负载测试 第{n}件"), "category": "WS" })
                    .to_string(),
            ),
        )
        .part(
            "file",
            reqwest::multipart::Part::bytes(text.into_bytes()).file_name(format!("load-{n}.txt")),
        );
    client
        .post(format!("{}/api/v1/records", settings.base))
        .bearer_auth(&settings.token)
        .multipart(form)
}

/// Whether a background job is queued or running.
async fn jobs_open(client: &reqwest::Client, settings: &Settings) -> anyhow::Result<bool> {
    for status in ["queued", "running"] {
        let page: serde_json::Value = client
            .get(format!("{}/api/v1/jobs", settings.base))
            .query(&[("status", status), ("limit", "1")])
            .bearer_auth(&settings.token)
            .send()
            .await?
            .error_for_status()?
            .json()
            .await?;
        if page["items"]
            .as_array()
            .is_some_and(|items| !items.is_empty())
        {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Searches made one at a time for an idle baseline: its p99 is the 20th-slowest of them, where
/// 500 made it the 5th-slowest, which varied by a fifth between runs of the same code.
const IDLE_SEARCHES: usize = 2000;

/// [`IDLE_SEARCHES`] searches one at a time: the idle baseline.
async fn idle_searches(client: &reqwest::Client, settings: &Settings) -> Tally {
    let idle = Mutex::new(Tally::default());
    for n in 0..IDLE_SEARCHES {
        timed(search(client, settings, n), &idle).await;
    }
    idle.into_inner()
}

/// The searchers, each searching without pause until `deadline`, or (a bulk import) until no
/// importer is left.
fn searchers(
    client: &reqwest::Client,
    settings: &Arc<Settings>,
    searches: &Arc<Mutex<Tally>>,
    deadline: Instant,
    importing: &Arc<AtomicUsize>,
) -> Vec<tokio::task::JoinHandle<()>> {
    (0..settings.searchers)
        .map(|worker| {
            let (client, settings, searches, importing) = (
                client.clone(),
                settings.clone(),
                searches.clone(),
                importing.clone(),
            );
            tokio::spawn(async move {
                let mut n = worker;
                while Instant::now() < deadline
                    && !(settings.until_done && importing.load(Ordering::Relaxed) == 0)
                {
                    timed(search(&client, &settings, n), &searches).await;
                    n += settings.searchers;
                }
            })
        })
        .collect()
}

async fn run() -> anyhow::Result<bool> {
    let settings = Arc::new(settings()?);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(512)
        .build()?;

    eprintln!(
        "seeding 200 records and measuring idle search ({IDLE_SEARCHES} requests, one at a time)"
    );
    let seed = Mutex::new(Tally::default());
    for n in 0..200 {
        timed(upload(&client, &settings, n), &seed).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await; // the indexer catches up
    let cpu_before = machine_cpu_seconds();
    let idle = idle_searches(&client, &settings).await;
    // what one search costs the machine, all processes together
    let cpu_per_search = (machine_cpu_seconds() - cpu_before) / IDLE_SEARCHES as f64;
    // the same searchers with no upload: what their own number costs them
    eprintln!("{} searchers alone for 10 s", settings.searchers);
    let alone = Arc::new(Mutex::new(Tally::default()));
    let none_importing = Arc::new(AtomicUsize::new(usize::MAX));
    let deadline = Instant::now() + Duration::from_secs(10);
    for task in searchers(&client, &settings, &alone, deadline, &none_importing) {
        task.await?;
    }
    let alone = alone.lock().await.percentile(0.99);
    let rss_before = rss_kb(settings.pid, "VmRSS:");

    eprintln!(
        "load: {} uploaders and {} searchers for {} s",
        settings.uploaders, settings.searchers, settings.seconds
    );
    let seconds = if settings.until_done {
        24 * 3600
    } else {
        settings.seconds
    };
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let importing = Arc::new(AtomicUsize::new(settings.uploaders));
    let uploads = Arc::new(Mutex::new(Tally::default()));
    let searches = Arc::new(Mutex::new(Tally::default()));
    let next_upload = Arc::new(AtomicUsize::new(200));
    let mut tasks = Vec::new();
    for _ in 0..settings.uploaders {
        let (client, settings, uploads, next, importing) = (
            client.clone(),
            settings.clone(),
            uploads.clone(),
            next_upload.clone(),
            importing.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while Instant::now() < deadline {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= settings.max_uploads + 200 {
                    break;
                }
                timed(upload(&client, &settings, n), &uploads).await;
                if settings.until_done && (n - 200) % 1000 == 999 {
                    eprintln!("  {} records filed", n - 199);
                }
            }
            importing.fetch_sub(1, Ordering::Relaxed);
        }));
    }
    tasks.extend(searchers(
        &client, &settings, &searches, deadline, &importing,
    ));
    let started = Instant::now();
    for task in tasks {
        task.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let rss_after = rss_kb(settings.pid, "VmRSS:");
    let rss_peak = rss_kb(settings.pid, "VmHWM:");
    // the same idle searches on the index as the load left it: the searches under load ran
    // on an index growing to this size, each one counting and faceting more hits
    eprintln!("waiting for the background work the load left (text extraction) to end");
    let drained = Instant::now();
    while jobs_open(&client, &settings).await? && drained.elapsed() < Duration::from_secs(300) {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let drained = drained.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await; // the indexer catches up
    eprintln!("measuring idle search again on the grown index");
    let idle_after = idle_searches(&client, &settings).await;
    let (uploads, searches) = (uploads.lock().await, searches.lock().await);

    let ratio = searches.percentile(0.99) / idle.percentile(0.99);
    println!(
        "\none node, {} uploaders and {} searchers for {elapsed:.0} s over loopback",
        settings.uploaders, settings.searchers
    );
    for (name, tally) in [("uploads", &*uploads), ("searches", &*searches)] {
        println!(
            "  {name:<9} {:>7} done  {:>7.1}/s  p50 {:>7.1} ms  p99 {:>7.1} ms  errors {}{}",
            tally.millis.len(),
            tally.millis.len() as f64 / elapsed,
            tally.percentile(0.5),
            tally.percentile(0.99),
            tally.errors,
            tally
                .first_error
                .as_ref()
                .map(|error| format!(" (first: {error})"))
                .unwrap_or_default()
        );
    }
    println!(
        "  idle search p50 {:.1} ms  p99 {:.1} ms (the baseline, same run)",
        idle.percentile(0.5),
        idle.percentile(0.99)
    );
    println!(
        "  the same {} searchers alone (no upload) p99 {alone:.1} ms; under load / alone: {:.1}",
        settings.searchers,
        searches.percentile(0.99) / alone
    );
    println!(
        "  idle search on the grown index p50 {:.1} ms  p99 {:.1} ms (after the load and its \
         {drained:.0} s of remaining extraction, same run)",
        idle_after.percentile(0.5),
        idle_after.percentile(0.99)
    );
    println!(
        "  search p99 under load / idle p99: {ratio:.1} (target ≤ {}); / idle p99 on the grown \
         index: {:.1}",
        settings.target,
        searches.percentile(0.99) / idle_after.percentile(0.99)
    );
    // Little's law: N searchers that always have a search outstanding, answered at X per
    // second, wait N / X each on average; X is at most cores / (CPU per search), so no server
    // could answer them faster on average than N × (CPU per search) / cores, even with no
    // uploads at all
    let cores = std::thread::available_parallelism().map_or(1, usize::from) as f64;
    let floor = settings.searchers as f64 * cpu_per_search * 1000.0 / cores;
    println!(
        "  one search costs the machine {:.2} ms of CPU (idle, all processes); {} searchers on \
         {cores} cores wait at least {floor:.1} ms on average (Little's law), {:.1}× idle p99",
        cpu_per_search * 1000.0,
        settings.searchers,
        floor / idle.percentile(0.99)
    );
    println!(
        "  searches under load: mean {:.1} ms (= searchers / throughput)",
        searches.millis.iter().sum::<f64>() / searches.millis.len().max(1) as f64
    );
    println!(
        "  server RSS {:.0} MB before, {:.0} MB after (+{:.0} MB), peak {:.0} MB",
        rss_before as f64 / 1024.0,
        rss_after as f64 / 1024.0,
        (rss_after as f64 - rss_before as f64) / 1024.0,
        rss_peak as f64 / 1024.0
    );
    Ok(uploads.errors == 0 && searches.errors == 0 && ratio <= settings.target)
}
