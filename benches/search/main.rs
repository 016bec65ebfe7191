//! `scripts/bench search` (issue 4): dangan's search index against PostgreSQL pg_trgm on the
//! same documents, in one run. BENCH_DOCS synthetic catalogue entries (default 100 000)
//! built from real Chinese sentences, plus the real corpus texts as whole documents, are
//! indexed through the library's rebuild path (throughput in MB of text per second), then a
//! fixed query mix runs against both, and p50/p99 latencies and hits are reported.
//!
//! Environment: BENCH_DOCS, DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres),
//! BENCH_CORPUS (default ../shared/corpus), BENCH_WORK (where the index goes; default the
//! temporary directory), BENCH_JSON (a file for the JSON figures; default stdout).

mod corpus;
mod trgm;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;
use dangan::domain::permissions::{Viewer, Visibility};
use dangan::domain::search_query::SearchQuery;
use dangan::domain::user::Role;
use dangan::index::{Filters, Position, Rebuild, RecordDocument, SearchIndex, SearchRequest};
use serde_json::json;

use corpus::{Corpus, Lcg};
use trgm::Baseline;

const SEED: u64 = 20_240_404;
/// Measured rounds of the query mix, after one warm-up round each.
const DANGAN_ROUNDS: usize = 20;
const PG_ROUNDS: usize = 5;
const LIMIT: usize = 20;
const BATCH: usize = 1000;
const WRITER_MEMORY: usize = 256 << 20;

/// The query mix: search-box text and its class. Two-character words in both scripts are
/// the crux (pg_trgm cannot use its index below three characters).
const QUERIES: &[(&str, &str)] = &[
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
        })
    }
}

/// Latencies and hits of one query on one engine.
#[derive(Default)]
struct Measured {
    /// dangan: total hits; pg_trgm: rows matching (an untimed count(*)).
    matches: u64,
    /// Rows the timed search returned (at most [`LIMIT`]).
    rows: usize,
    millis: Vec<f64>,
}

struct Indexing {
    documents: usize,
    text_bytes: usize,
    seconds: f64,
    disk_bytes: u64,
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
    let (indexing, dangan, pg, pg_build) = outcome?;
    dropped?;
    let report = report(
        &indexing,
        &dangan,
        &pg,
        pg_build,
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

type Outcome = (Indexing, Vec<Measured>, Vec<Measured>, (f64, f64));

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
    let dangan = search_dangan(&index)?;
    drop(index);

    progress("pg_trgm: COPY, GIN trigram index, analyze");
    let pg_build = runtime.block_on(baseline.load(documents.iter().map(pg_body)))?;
    drop(documents);
    let pg = runtime.block_on(search_pg(baseline))?;
    Ok((indexing, dangan, pg, pg_build))
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

fn rounds(engine: &str, round: usize, of: usize) -> String {
    if round == 0 {
        format!("{engine}: warm-up round of {} queries", QUERIES.len())
    } else {
        format!("{engine}: round {round}/{of}")
    }
}

/// Nearest-rank percentile of `samples` (milliseconds).
fn percentile(samples: &[f64], p: f64) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn all_samples(measured: &[Measured]) -> Vec<f64> {
    measured
        .iter()
        .flat_map(|m| m.millis.iter().copied())
        .collect()
}

fn report(
    indexing: &Indexing,
    dangan: &[Measured],
    pg: &[Measured],
    (pg_load, pg_index): (f64, f64),
    load: [String; 2],
) -> serde_json::Value {
    let (dangan_all, pg_all) = (all_samples(dangan), all_samples(pg));
    let dangan_p50 = percentile(&dangan_all, 0.5);
    let dangan_p99 = percentile(&dangan_all, 0.99);
    let pg_p50 = percentile(&pg_all, 0.5);
    let pg_p99 = percentile(&pg_all, 0.99);
    let ratio = pg_p99 / dangan_p99;
    let text_mb = indexing.text_bytes as f64 / 1e6;
    let mb_per_s = text_mb / indexing.seconds;

    eprintln!(
        "\n{}  {:>11} {:>7} {:>8}  {:>8} {:>8} {:>9}",
        pad("query", 16),
        "dangan hits",
        "rows",
        "p50 ms",
        "pg count",
        "pg rows",
        "pg p50 ms"
    );
    let mut queries = Vec::new();
    for (((text, class), d), p) in QUERIES.iter().zip(dangan).zip(pg) {
        let (d50, p50) = (percentile(&d.millis, 0.5), percentile(&p.millis, 0.5));
        eprintln!(
            "{}  {:>11} {:>7} {:>8.2}  {:>8} {:>8} {:>9.1}   {class}",
            pad(text, 16),
            d.matches,
            d.rows,
            d50,
            p.matches,
            p.rows,
            p50
        );
        queries.push(json!({
            "query": text, "class": class,
            "dangan": { "hits": d.matches, "rows": d.rows, "p50_ms": d50,
                        "p99_ms": percentile(&d.millis, 0.99) },
            "pg_trgm": { "matches": p.matches, "rows": p.rows, "p50_ms": p50,
                         "p99_ms": percentile(&p.millis, 0.99) },
        }));
    }
    let verdict = |met: bool| if met { "met" } else { "NOT met" };
    eprintln!(
        "\nsearch benchmark: {} documents, {text_mb:.1} MB of text (title + description + texts)",
        indexing.documents
    );
    eprintln!(
        "  indexing          {:>8.1} s   {mb_per_s:.2} MB/s   (index on disk {:.0} MB)",
        indexing.seconds,
        indexing.disk_bytes as f64 / 1e6
    );
    eprintln!(
        "  dangan      p50 {dangan_p50:>8.2} ms   p99 {dangan_p99:>8.2} ms   ({} searches, {} queries x {DANGAN_ROUNDS} rounds, limit {LIMIT})",
        dangan_all.len(),
        QUERIES.len()
    );
    eprintln!(
        "  pg_trgm     p50 {pg_p50:>8.2} ms   p99 {pg_p99:>8.2} ms   ({} searches, {} queries x {PG_ROUNDS} rounds; COPY {pg_load:.1} s, GIN index {pg_index:.1} s)",
        pg_all.len(),
        QUERIES.len()
    );
    eprintln!(
        "  p99 ratio pg_trgm/dangan {ratio:>7.1}x   (target >= 20x: {})",
        verdict(ratio >= 20.0)
    );
    eprintln!("  dangan p99 <= 20 ms: {}", verdict(dangan_p99 <= 20.0));
    eprintln!("  load average before: {}; after: {}", load[0], load[1]);

    json!({
        "documents": indexing.documents,
        "text_mb": text_mb,
        "indexing": { "seconds": indexing.seconds, "mb_per_s": mb_per_s,
                      "disk_mb": indexing.disk_bytes as f64 / 1e6 },
        "dangan": { "p50_ms": dangan_p50, "p99_ms": dangan_p99, "samples": dangan_all.len(),
                    "rounds": DANGAN_ROUNDS },
        "pg_trgm": { "p50_ms": pg_p50, "p99_ms": pg_p99, "samples": pg_all.len(),
                     "rounds": PG_ROUNDS, "copy_seconds": pg_load, "gin_index_seconds": pg_index },
        "ratio_p99": ratio,
        "targets": { "ratio_p99_at_least_20": ratio >= 20.0, "dangan_p99_at_most_20ms": dangan_p99 <= 20.0 },
        "load_average": { "before": load[0], "after": load[1] },
        "queries": queries,
    })
}

/// `text` padded to `width` terminal columns (CJK characters take two).
fn pad(text: &str, width: usize) -> String {
    let columns: usize = text
        .chars()
        .map(|c| if c as u32 >= 0x1100 { 2 } else { 1 })
        .sum();
    format!("{text}{}", " ".repeat(width.saturating_sub(columns)))
}

fn disk_usage(dir: &Path) -> u64 {
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

fn progress(message: &str) {
    eprintln!("  {message}");
}
