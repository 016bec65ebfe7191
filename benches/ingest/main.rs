//! `scripts/bench ingest` (issue 18, item 3): ingest and OCR as ratios of their floors, measured
//! in one run against one running `dangan serve`.
//!
//! - **Ingest.** INGEST_FILES (default 10 000) small real PDFs: the pages of the corpus PDFs
//!   (each re-written alone by `pdftocairo`), each file a page with a trailer comment of its own so that every upload
//!   is new content. The floor is a bare `pdftotext` loop over the same files, one loop per core
//!   (and one loop alone, for reference). dangan's time runs from the first upload until the
//!   last file's text is found by search: upload, store, catalogue, extraction job, index.
//!   Target: floor seconds / dangan seconds ≥ 0.5.
//! - **OCR.** INGEST_SCANS (default 50) scanned pages: corpus pages rendered at 300 dpi as grey
//!   JPEGs. The floor is the `tesseract` CLI with dangan's languages over the same pages, one
//!   per core (OMP_THREAD_LIMIT=1, as dangan runs it). Target: ratio ≥ 0.9. Meanwhile small
//!   text records are filed one at a time: their latency against the same uploads on the idle
//!   server shows whether OCR blocks uploads.
//!
//! Environment (set by the script): INGEST_BASE, INGEST_TOKEN, INGEST_PID (the server), INGEST_WORK (a scratch
//! directory), INGEST_CORPUS (the corpus directory), INGEST_LANGUAGES (dangan's OCR languages),
//! INGEST_CORES (loops of the floor; default the machine's cores).

mod client;
mod prepare;

use client::{Cpu, Millis, file, get, url_encode, wait_for_extraction, wait_for_jobs};

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::json;

/// Concurrent uploaders of the import.
const UPLOADERS: usize = 8;
/// Small records filed one at a time, idle and during OCR.
const PROBES: usize = 40;

struct Settings {
    base: String,
    token: String,
    work: PathBuf,
    corpus: PathBuf,
    languages: String,
    files: usize,
    scans: usize,
    cores: usize,
    /// The server's process, for its CPU time.
    pid: u32,
}

fn main() -> ExitCode {
    match tokio::runtime::Runtime::new()
        .context("runtime")
        .and_then(|runtime| runtime.block_on(run()))
    {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("ingest benchmark failed: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn number(name: &str, default: usize) -> anyhow::Result<usize> {
    std::env::var(name).ok().map_or(Ok(default), |value| {
        value
            .parse()
            .with_context(|| format!("{name} is not a number"))
    })
}

fn settings() -> anyhow::Result<Settings> {
    let var = |name: &str| std::env::var(name).with_context(|| format!("{name} is not set"));
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    Ok(Settings {
        base: var("INGEST_BASE")?,
        token: var("INGEST_TOKEN")?,
        work: PathBuf::from(var("INGEST_WORK")?),
        corpus: PathBuf::from(var("INGEST_CORPUS")?),
        languages: var("INGEST_LANGUAGES").unwrap_or_else(|_| "chi_sim+chi_tra+eng".into()),
        files: number("INGEST_FILES", 10_000)?,
        scans: number("INGEST_SCANS", 50)?,
        cores: number("INGEST_CORES", cores)?,
        pid: var("INGEST_PID")?.parse().context("INGEST_PID")?,
    })
}

async fn run() -> anyhow::Result<bool> {
    let settings = Arc::new(settings()?);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()?;

    eprintln!("splitting the corpus PDFs into pages");
    let pages = prepare::split_pages(&settings.corpus.join("pdf"), &settings.work.join("pages"))?;
    eprintln!(
        "writing {} one-page PDFs from {} pages",
        settings.files,
        pages.len()
    );
    let files = prepare::unique_files(&pages, &settings.work.join("pdfs"), settings.files)?;
    let bytes: u64 = files
        .iter()
        .map(|file| std::fs::metadata(file).map_or(0, |meta| meta.len()))
        .sum();

    eprintln!("floor: pdftotext over the {} files", files.len());
    let pdftotext = |file: &Path| prepare::command("pdftotext", &["-enc", "UTF-8"], file, &["-"]);
    let floor_one = prepare::run_loops(&files, 1, pdftotext)?;
    let floor = prepare::run_loops(&files, settings.cores, pdftotext)?;

    eprintln!("dangan: uploading the {} files", files.len());
    let marker = prepare::marker_word(files.last().context("no files")?)?;
    let cpu_before = Cpu::read(settings.pid);
    let ingest = ingest(&client, &settings, &files, &marker).await?;
    let cpu = Cpu::read(settings.pid).since(&cpu_before);

    // the filing checks of the import run after it: the OCR floor must have the cores
    eprintln!("waiting for the import's filing checks");
    wait_for_jobs(&client, &settings, "four_properties").await?;
    eprintln!("rendering {} scanned pages", settings.scans);
    let scans = prepare::render_scans(&pages, &settings.work.join("scans"), settings.scans)?;
    eprintln!("floor: tesseract -l {} over the scans", settings.languages);
    let tesseract = |file: &Path| {
        let mut command = prepare::command(
            "tesseract",
            &[],
            file,
            &["stdout", "-l", &settings.languages],
        );
        command.env("OMP_THREAD_LIMIT", "1");
        command
    };
    let ocr_floor = prepare::run_loops(&scans, settings.cores, tesseract)?;

    eprintln!("dangan: filing the scans, and small records one at a time meanwhile");
    let idle_probes = probes(&client, &settings, "idle").await?;
    let ocr = ocr(&client, &settings, &scans).await?;
    let ocr_failed = ocr.failed.saturating_sub(ingest.failed);

    let ingest_ratio = floor / ingest.seconds;
    let ocr_ratio = ocr_floor / ocr.seconds;
    println!(
        "\ningest of {} one-page PDFs ({:.1} MB) over loopback, {UPLOADERS} uploaders",
        files.len(),
        bytes as f64 / 1e6
    );
    println!(
        "  pdftotext, {} loops (floor) {:7.1} s  {:6.1} files/s",
        settings.cores,
        floor,
        files.len() as f64 / floor
    );
    println!(
        "  pdftotext, one loop         {:7.1} s  {:6.1} files/s",
        floor_one,
        files.len() as f64 / floor_one
    );
    println!(
        "  dangan, upload to search    {:7.1} s  {:6.1} files/s  (uploads done after {:.1} s, p50 {:.1} ms, p99 {:.1} ms; \
         text searchable {:.2} s after the last job)",
        ingest.seconds,
        files.len() as f64 / ingest.seconds,
        ingest.uploaded,
        ingest.upload_ms.percentile(0.5),
        ingest.upload_ms.percentile(0.99),
        ingest.index_lag
    );
    let per_file = |seconds: f64| 1000.0 * seconds / files.len() as f64;
    println!(
        "  CPU per file: dangan {:.1} ms, its children (sandbox, text reader) {:.1} ms, \
         PostgreSQL {:.1} ms; pdftotext alone {:.1} ms",
        per_file(cpu.own),
        per_file(cpu.children),
        per_file(cpu.postgres),
        per_file(floor_one)
    );
    println!(
        "  ratio floor/dangan {ingest_ratio:.2} (target ≥ 0.5); failed extractions {}",
        ingest.failed
    );
    println!(
        "\nOCR of {} scanned pages (300 dpi, grey JPEG), -l {}",
        scans.len(),
        settings.languages
    );
    println!(
        "  tesseract CLI, {} at once (floor) {:7.1} s  {:6.0} pages/h",
        settings.cores,
        ocr_floor,
        3600.0 * scans.len() as f64 / ocr_floor
    );
    println!(
        "  dangan, upload to text            {:7.1} s  {:6.0} pages/h",
        ocr.seconds,
        3600.0 * scans.len() as f64 / ocr.seconds
    );
    println!("  ratio floor/dangan {ocr_ratio:.2} (target ≥ 0.9); failed extractions {ocr_failed}");
    println!(
        "  small uploads one at a time: idle p50 {:.1} ms p99 {:.1} ms; during OCR p50 {:.1} ms p99 {:.1} ms",
        idle_probes.percentile(0.5),
        idle_probes.percentile(0.99),
        ocr.probes.percentile(0.5),
        ocr.probes.percentile(0.99)
    );
    Ok(ingest_ratio >= 0.5 && ocr_ratio >= 0.9 && ingest.failed == 0 && ocr_failed == 0)
}

struct Ingest {
    seconds: f64,
    uploaded: f64,
    index_lag: f64,
    upload_ms: Millis,
    failed: usize,
}

/// Files every file, UPLOADERS at a time; the last one is dated 1999 so that a search for a
/// word of its text in that year finds it only once its text is indexed.
async fn ingest(
    client: &reqwest::Client,
    settings: &Arc<Settings>,
    files: &[PathBuf],
    marker: &str,
) -> anyhow::Result<Ingest> {
    let (before, last) = files.split_at(files.len() - 1);
    let started = Instant::now();
    let mut upload_ms = file_all(client, settings, before, UPLOADERS, |n| {
        (format!("入库测试 第{n}件"), format!("p-{n}.pdf"))
    })
    .await?;
    let metadata =
        json!({ "title": "入库测试 最后一件", "category": "WS", "doc_date": "1999-06-01" });
    upload_ms.0.push(
        file(
            client,
            settings,
            metadata,
            "last.pdf".into(),
            std::fs::read(&last[0])?,
        )
        .await?,
    );
    let uploaded = started.elapsed().as_secs_f64();

    let failed = wait_for_extraction(client, settings).await?;
    let extracted = started.elapsed().as_secs_f64();
    let query = format!("/api/v1/search?q={}&year=1999&limit=1", url_encode(marker));
    let deadline = Instant::now() + Duration::from_secs(600);
    loop {
        let found = get(client, settings, &query).await?;
        if found["total"].as_u64().unwrap_or(0) >= 1 {
            break;
        }
        if Instant::now() > deadline {
            bail!(
                "the last file's text ({marker}) was not found within 10 minutes of its extraction"
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    Ok(Ingest {
        seconds,
        uploaded,
        index_lag: seconds - extracted,
        upload_ms,
        failed,
    })
}

/// Files PROBES small text records one at a time; their latencies.
async fn probes(
    client: &reqwest::Client,
    settings: &Settings,
    label: &str,
) -> anyhow::Result<Millis> {
    let mut millis = Millis::default();
    for n in 0..PROBES {
        let text = format!("探测 {label} 第{n}件\n一件小文书,在OCR进行时归档。");
        let metadata = json!({ "title": format!("探测 {label} 第{n}件"), "category": "WS" });
        millis.0.push(
            file(
                client,
                settings,
                metadata,
                format!("probe-{n}.txt"),
                text.into_bytes(),
            )
            .await?,
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(millis)
}

/// Files each of `files` as a record of its own, `at_once` at a time, titled and named by
/// `name(n)`; the upload latencies. Says how far it got every 1000 files.
async fn file_all(
    client: &reqwest::Client,
    settings: &Arc<Settings>,
    files: &[PathBuf],
    at_once: usize,
    name: fn(usize) -> (String, String),
) -> anyhow::Result<Millis> {
    let files = Arc::new(files.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..at_once {
        let (client, settings, files, next) = (
            client.clone(),
            settings.clone(),
            files.clone(),
            next.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut millis = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some(path) = files.get(n) else { break };
                let (title, filename) = name(n);
                let metadata = json!({ "title": title, "category": "WS" });
                let content = std::fs::read(path)?;
                millis.push(file(&client, &settings, metadata, filename, content).await?);
                if n % 1000 == 999 {
                    let seconds = started.elapsed().as_secs_f64();
                    eprintln!("  {} filed after {seconds:.0} s", n + 1);
                }
            }
            anyhow::Ok(millis)
        }));
    }
    let mut millis = Millis::default();
    for task in tasks {
        millis.0.extend(task.await??);
    }
    Ok(millis)
}

struct Ocr {
    seconds: f64,
    probes: Millis,
    failed: usize,
}

/// Files the scans (two at a time), files small records meanwhile, and waits for the text.
async fn ocr(
    client: &reqwest::Client,
    settings: &Arc<Settings>,
    scans: &[PathBuf],
) -> anyhow::Result<Ocr> {
    let started = Instant::now();
    file_all(client, settings, scans, 2, |n| {
        (format!("扫描件 第{n}页"), format!("scan-{n}.jpg"))
    })
    .await?;
    let probes = probes(client, settings, "ocr").await?;
    let failed = wait_for_extraction(client, settings).await?;
    Ok(Ocr {
        seconds: started.elapsed().as_secs_f64(),
        probes,
        failed,
    })
}
