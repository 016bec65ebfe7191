//! `scripts/bench search` (issue 4): dangan's search index against PostgreSQL pg_trgm on the
//! same documents, in one run. BENCH_DOCS synthetic catalogue entries (default 100 000)
//! built from real Chinese sentences, plus the real corpus texts as whole documents, are
//! indexed through the library's rebuild path (throughput in MB of text per second), then a
//! fixed query mix runs against both, and p50/p99 latencies and hits are reported.
//!
//! With BENCH_DANGAN (a release `dangan` binary, as `scripts/bench search` sets it), the same
//! documents are also filed in a scratch dangan installation, indexed by `dangan reindex`'s
//! rebuild from PostgreSQL, and searched over HTTP through a running `dangan serve`
//! (issue 18, item 2), end to end with the audit write of each search.
//!
//! Environment: BENCH_DOCS, BENCH_DANGAN, DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres),
//! BENCH_CORPUS (default ../shared/corpus), BENCH_WORK (where the index goes; default the
//! temporary directory), BENCH_JSON (a file for the JSON figures; default stdout).

mod corpus;
mod http;
mod install;
mod report;
mod trgm;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use dangan::domain::permissions::{Viewer, Visibility};
use dangan::domain::search_query::SearchQuery;
use dangan::domain::user::Role;
use dangan::index::{Filters, Position, Rebuild, RecordDocument, SearchIndex, SearchRequest};

use corpus::{Corpus, Lcg};
use install::Installation;
use report::{Http, report};
use trgm::Baseline;

const SEED: u64 = 20_240_404;
/// Measured rounds of the query mix, after one warm-up round each.
pub const DANGAN_ROUNDS: usize = 20;
pub const PG_ROUNDS: usize = 5;
pub const LIMIT: usize = 20;
const BATCH: usize = 1000;
const WRITER_MEMORY: usize = 256 << 20;

/// The query mix: search-box text and its class. Two-character words in both scripts are
/// the crux (pg_trgm cannot use its index below three characters).
pub const QUERIES: &[(&str, &str)] = &[
    ("档案", "2 zh-Hans"),
    ("合同", "2 zh-Hans"),
    ("销毁", "2 zh-Hans"),
    ("员工", "2 zh-Hans"),
    ("人事", "2 zh-Hans"),
    ("图表", "2 zh-Hans"),
    ("函数", "2 zh-Hans"),
    ("公式", "2 zh-Hans"),
    ("打印", "2 zh-Hans"),
    ("筛选", "2 zh-Hans"),
    ("檔案", "2 zh-Hant"),
    ("員工", "2 zh-Hant"),
    ("銷毀", "2 zh-Hant"),
    ("圖表", "2 zh-Hant"),
    ("列印", "2 zh-Hant"),
    ("篩選", "2 zh-Hant"),
    ("鲸鱼", "2 no hits"),
    ("劳动合同", "4"),
    ("勞動合同", "4 zh-Hant"),
    ("单元格", "3"),
    ("儲存格", "3 zh-Hant"),
    ("工作表", "3"),
    ("数据透视表", "5"),
    ("保管期限", "4"),
    ("区块链", "3 no hits"),
    ("\"档案管理\"", "phrase"),
    ("\"單元格區域\"", "phrase zh-Hant"),
    ("\"员工档案\"", "phrase"),
    ("档", "1"),
    ("表", "1"),
    ("印", "1"),
    ("檔", "1 zh-Hant"),
    ("Calc", "English"),
    ("spreadsheet", "English"),
    ("Excel", "English"),
    ("档案 销毁", "AND"),
    ("单元格 格式", "AND"),
    ("員工 合同", "AND"),
];

struct Settings {
    docs: usize,
    database_url: String,
    corpus: PathBuf,
    work: PathBuf,
    json: Option<PathBuf>,
    /// The release binary to serve the HTTP half with.
    dangan: Option<PathBuf>,
}

impl Settings {
    fn from_env() -> anyhow::Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let docs = match var("BENCH_DOCS") {
            Some(text) => text
                .replace('_', "")
                .parse()
                .with_context(|| format!("BENCH_DOCS={text:?} is not a number"))?,
            None => 100_000,
        };
        Ok(Self {
            docs,
            database_url: var("DATABASE_URL")
                .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/postgres".to_owned()),
            corpus: var("BENCH_CORPUS").map_or_else(
                || Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus"),
                PathBuf::from,
            ),
            work: var("BENCH_WORK").map_or_else(std::env::temp_dir, PathBuf::from),
            json: var("BENCH_JSON").map(PathBuf::from),
            dangan: var("BENCH_DANGAN").map(PathBuf::from),
        })
    }
}

/// Latencies and hits of one query on one engine.
#[derive(Default)]
pub struct Measured {
    /// dangan: total hits; pg_trgm: rows matching (an untimed count(*)).
    pub matches: u64,
    /// Rows the timed search returned (at most [`LIMIT`]).
    pub rows: usize,
    pub millis: Vec<f64>,
}

pub struct Indexing {
    pub documents: usize,
    pub text_bytes: usize,
    pub seconds: f64,
    pub disk_bytes: u64,
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let settings = Settings::from_env()?;
    let load_before = load_average();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    progress("creating the pg_trgm scratch database");
    let mut baseline = runtime.block_on(Baseline::create(&settings.database_url))?;
    let outcome = measure(&settings, &runtime, &mut baseline);
    progress("dropping the scratch database");
    let dropped = runtime.block_on(baseline.drop_database());
    let (indexing, dangan, pg, pg_build, http) = outcome?;
    dropped?;
    let report = report(
        &indexing,
        &dangan,
        &pg,
        pg_build,
        http.as_ref(),
        [load_before, load_average()],
    );
    let json = serde_json::to_string_pretty(&report)?;
    match &settings.json {
        Some(path) => std::fs::write(path, json + "\n")
            .with_context(|| format!("writing {}", path.display()))?,
        None => println!("{json}"),
    }
    Ok(())
}

type Outcome = (
    Indexing,
    Vec<Measured>,
    Vec<Measured>,
    (f64, f64),
    Option<Http>,
);

fn measure(
    settings: &Settings,
    runtime: &tokio::runtime::Runtime,
    baseline: &mut Baseline,
) -> anyhow::Result<Outcome> {
    runtime.block_on(baseline.prepare())?;
    progress(&format!(
        "reading the corpus in {}",
        settings.corpus.display()
    ));
    let corpus = Corpus::load(&settings.corpus)?;
    progress(&format!(
        "{} real texts ({} PDFs through pdftotext), {} sentences; generating {} catalogue entries",
        corpus.texts.len(),
        corpus.pdfs_read,
        corpus.sentence_count(),
        settings.docs
    ));
    let documents = corpus.documents(settings.docs, &mut Lcg::new(SEED));
    drop(corpus);

    let work = tempfile::Builder::new()
        .prefix("dangan-bench-search-")
        .tempdir_in(&settings.work)
        .with_context(|| format!("a work directory in {}", settings.work.display()))?;
    let indexing = build_index(&documents, work.path())?;
    let index = SearchIndex::open(work.path(), 64 << 20)?;
    report_space(&index, indexing.text_bytes)?;
    let dangan = search_dangan(&index)?;
    drop(index);
    let http = match &settings.dangan {
        Some(binary) => {
            Some(runtime.block_on(serve_and_search(settings, binary, work.path(), &documents))?)
        }
        None => None,
    };

    progress("pg_trgm: COPY, GIN trigram index, analyze");
    let pg_build = runtime.block_on(baseline.load(documents.iter().map(pg_body)))?;
    drop(documents);
    let pg = runtime.block_on(search_pg(baseline))?;
    Ok((indexing, dangan, pg, pg_build, http))
}

/// The HTTP half: a scratch installation holding `documents`, served by `binary`.
async fn serve_and_search(
    settings: &Settings,
    binary: &Path,
    work: &Path,
    documents: &[RecordDocument],
) -> anyhow::Result<Http> {
    progress(&format!(
        "dangan: filing {} records in a scratch installation",
        documents.len()
    ));
    let (installation, built) = Installation::create(&settings.database_url, work, documents)
        .await
        .context("filling the scratch installation")?;
    let measured = http::search(binary, &installation, work).await;
    progress("dropping the scratch installation");
    installation.drop_all().await?;
    Ok(Http {
        built,
        measured: measured?,
    })
}

fn text_bytes(document: &RecordDocument) -> usize {
    document.title.len()
        + document.description.as_ref().map_or(0, String::len)
        + document.texts.iter().map(String::len).sum::<usize>()
}

/// The same searchable text that dangan indexes, as one column.
fn pg_body(document: &RecordDocument) -> String {
    let mut parts = vec![document.title.as_str()];
    parts.extend(document.description.as_deref());
    parts.extend(document.archival_code.as_deref());
    parts.extend(document.doc_number.as_deref());
    parts.extend(document.texts.iter().map(String::as_str));
    parts.join("\n")
}

fn build_index(documents: &[RecordDocument], dir: &Path) -> anyhow::Result<Indexing> {
    let text_bytes: usize = documents.iter().map(text_bytes).sum();
    progress(&format!(
        "dangan: indexing {} documents, {:.1} MB of text",
        documents.len(),
        text_bytes as f64 / 1e6
    ));
    let started = Instant::now();
    let mut rebuild = Rebuild::start(dir, WRITER_MEMORY)?;
    for (n, batch) in documents.chunks(BATCH).enumerate() {
        rebuild.add(batch.to_vec())?;
        if (n + 1) % 20 == 0 {
            progress(&format!("  {} documents added", (n + 1) * BATCH));
        }
    }
    rebuild.finish(Position::default())?;
    let seconds = started.elapsed().as_secs_f64();
    progress(&format!(
        "  committed in {seconds:.1} s: {:.2} MB/s",
        text_bytes as f64 / 1e6 / seconds
    ));
    Ok(Indexing {
        documents: documents.len(),
        text_bytes,
        seconds,
        disk_bytes: disk_usage(dir),
    })
}

/// Where the index's bytes go, each part as a share of the text indexed.
fn report_space(index: &SearchIndex, text_bytes: usize) -> anyhow::Result<()> {
    let parts = index.space_usage()?;
    let total: u64 = parts.iter().map(|(_, bytes)| bytes).sum();
    progress(&format!(
        "  index {:.0} MB = {:.2}x the text; its parts:",
        total as f64 / 1e6,
        total as f64 / text_bytes as f64
    ));
    for (part, bytes) in parts.iter().take(12) {
        progress(&format!(
            "    {part:<28} {:>8.1} MB  {:.2}x",
            *bytes as f64 / 1e6,
            *bytes as f64 / text_bytes as f64
        ));
    }
    Ok(())
}

fn search_dangan(index: &SearchIndex) -> anyhow::Result<Vec<Measured>> {
    // an archivist's permission filter: every (unclassified) generated record
    let archivist = Viewer {
        user_id: uuid::Uuid::nil(),
        role: Role::Archivist,
        department: None,
        party_id: None,
    };
    let visibility = Visibility::of(&archivist, [], Vec::new());
    let variants = std::sync::Arc::new(dangan::index::variants::Variants::new(&[]));
    let requests = QUERIES
        .iter()
        .map(|(text, _)| {
            let query = SearchQuery::parse(text).with_context(|| format!("query {text:?}"))?;
            Ok(SearchRequest {
                query,
                filters: Filters::default(),
                visibility: visibility.clone(),
                offset: 0,
                limit: LIMIT,
                variants: variants.clone(),
                exact: false,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    let mut measured: Vec<Measured> = QUERIES.iter().map(|_| Measured::default()).collect();
    for round in 0..=DANGAN_ROUNDS {
        progress(&rounds("dangan", round, DANGAN_ROUNDS));
        for (request, measured) in requests.iter().zip(&mut measured) {
            let started = Instant::now();
            let results = index.search(request)?;
            let millis = started.elapsed().as_secs_f64() * 1e3;
            if round > 0 {
                measured.millis.push(millis);
            }
            measured.matches = results.total as u64;
            measured.rows = results.hits.len();
        }
    }
    Ok(measured)
}

/// The pg_trgm form of a query: its words without quotes, each a substring, all required.
fn pg_terms(text: &str) -> Vec<String> {
    text.split_whitespace()
        .map(|word| word.trim_matches('"').to_owned())
        .collect()
}

async fn search_pg(baseline: &mut Baseline) -> anyhow::Result<Vec<Measured>> {
    let terms: Vec<Vec<String>> = QUERIES.iter().map(|(text, _)| pg_terms(text)).collect();
    let mut measured: Vec<Measured> = QUERIES.iter().map(|_| Measured::default()).collect();
    progress("pg_trgm: matching rows per query (count(*), not timed)");
    for (terms, measured) in terms.iter().zip(&mut measured) {
        measured.matches = baseline.count(terms).await?.try_into().unwrap_or(0);
    }
    for round in 0..=PG_ROUNDS {
        progress(&rounds("pg_trgm", round, PG_ROUNDS));
        for (terms, measured) in terms.iter().zip(&mut measured) {
            let (rows, elapsed) = baseline.search(terms).await?;
            if round > 0 {
                measured.millis.push(elapsed.as_secs_f64() * 1e3);
            }
            measured.rows = rows;
        }
    }
    Ok(measured)
}

pub fn rounds(engine: &str, round: usize, of: usize) -> String {
    if round == 0 {
        format!("{engine}: warm-up round of {} queries", QUERIES.len())
    } else {
        format!("{engine}: round {round}/{of}")
    }
}

pub fn disk_usage(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .filter_map(Result::ok)
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => disk_usage(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| {
            text.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default()
}

pub fn progress(message: &str) {
    eprintln!("  {message}");
}
