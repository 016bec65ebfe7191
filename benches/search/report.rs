//! The figures of the search benchmark: per query and in all, on the terminal and as JSON.

use serde_json::json;

use super::install::Built;
use super::{DANGAN_ROUNDS, Indexing, LIMIT, Measured, PG_ROUNDS, QUERIES};

/// Nearest-rank percentile of `samples` (milliseconds).
pub fn percentile(samples: &[f64], p: f64) -> f64 {
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

/// dangan served over HTTP on its own installation: the index rebuild, and the query mix.
pub struct Http {
    pub built: Built,
    pub measured: Vec<Measured>,
}

pub fn report(
    indexing: &Indexing,
    dangan: &[Measured],
    pg: &[Measured],
    (pg_load, pg_index): (f64, f64),
    http: Option<&Http>,
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
    let no_http = Vec::new();
    let http_measured = http.map_or(&no_http, |http| &http.measured);

    eprintln!(
        "\n{}  {:>11} {:>7} {:>8}  {:>9}  {:>8} {:>8} {:>9}",
        pad("query", 16),
        "dangan hits",
        "rows",
        "p50 ms",
        "HTTP p50",
        "pg count",
        "pg rows",
        "pg p50 ms"
    );
    let mut queries = Vec::new();
    for (n, (((text, class), d), p)) in QUERIES.iter().zip(dangan).zip(pg).enumerate() {
        let (d50, p50) = (percentile(&d.millis, 0.5), percentile(&p.millis, 0.5));
        let h = http_measured.get(n);
        let h50 = h.map_or(f64::NAN, |h| percentile(&h.millis, 0.5));
        eprintln!(
            "{}  {:>11} {:>7} {:>8.2}  {:>9.2}  {:>8} {:>8} {:>9.1}   {class}",
            pad(text, 16),
            d.matches,
            d.rows,
            d50,
            h50,
            p.matches,
            p.rows,
            p50
        );
        queries.push(json!({
            "query": text, "class": class,
            "dangan": { "hits": d.matches, "rows": d.rows, "p50_ms": d50,
                        "p99_ms": percentile(&d.millis, 0.99) },
            "http": h.map(|h| json!({ "hits": h.matches, "rows": h.rows, "p50_ms": h50,
                                      "p99_ms": percentile(&h.millis, 0.99) })),
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
        "  engine indexing   {:>8.1} s   {mb_per_s:.2} MB/s   (index on disk {:.0} MB)",
        indexing.seconds,
        indexing.disk_bytes as f64 / 1e6
    );
    eprintln!(
        "  engine      p50 {dangan_p50:>8.2} ms   p99 {dangan_p99:>8.2} ms   ({} searches, {} queries x {DANGAN_ROUNDS} rounds, limit {LIMIT})",
        dangan_all.len(),
        QUERIES.len()
    );
    eprintln!(
        "  pg_trgm     p50 {pg_p50:>8.2} ms   p99 {pg_p99:>8.2} ms   ({} searches, {} queries x {PG_ROUNDS} rounds; COPY {pg_load:.1} s, GIN index {pg_index:.1} s)",
        pg_all.len(),
        QUERIES.len()
    );
    eprintln!(
        "  p99 ratio pg_trgm/engine {ratio:>7.1}x   (target >= 20x: {})",
        verdict(ratio >= 20.0)
    );
    eprintln!("  engine p99 <= 20 ms: {}", verdict(dangan_p99 <= 20.0));
    let http_json = http.map(|http| {
        let all = all_samples(&http.measured);
        let (p50, p99) = (percentile(&all, 0.5), percentile(&all, 0.99));
        let built = &http.built;
        let size_ratio = built.disk_bytes as f64 / indexing.text_bytes as f64;
        eprintln!(
            "  dangan reindex    {:>8.1} s   {:.2} MB/s   ({} records; index on disk {:.0} MB, {size_ratio:.2}x the text: target <= 2x, {})",
            built.seconds,
            text_mb / built.seconds,
            built.records,
            built.disk_bytes as f64 / 1e6,
            verdict(size_ratio <= 2.0)
        );
        eprintln!(
            "  HTTP        p50 {p50:>8.2} ms   p99 {p99:>8.2} ms   ({} searches by one client, each audited)",
            all.len()
        );
        eprintln!(
            "  p99 ratio pg_trgm/HTTP   {:>7.1}x   (target >= 20x: {}); HTTP p99 <= 50 ms: {}",
            pg_p99 / p99,
            verdict(pg_p99 / p99 >= 20.0),
            verdict(p99 <= 50.0)
        );
        json!({
            "reindex_seconds": built.seconds, "records": built.records,
            "disk_mb": built.disk_bytes as f64 / 1e6, "disk_to_text": size_ratio,
            "p50_ms": p50, "p99_ms": p99, "samples": all.len(),
            "ratio_p99": pg_p99 / p99,
            "targets": { "p99_at_most_50ms": p99 <= 50.0, "ratio_p99_at_least_20": pg_p99 / p99 >= 20.0,
                         "index_within_2x_text": size_ratio <= 2.0 },
        })
    });
    eprintln!("  load average before: {}; after: {}", load[0], load[1]);

    json!({
        "documents": indexing.documents,
        "text_mb": text_mb,
        "indexing": { "seconds": indexing.seconds, "mb_per_s": mb_per_s,
                      "disk_mb": indexing.disk_bytes as f64 / 1e6 },
        "dangan": { "p50_ms": dangan_p50, "p99_ms": dangan_p99, "samples": dangan_all.len(),
                    "rounds": DANGAN_ROUNDS },
        "http": http_json,
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
