//! `dangan import DIR --manifest FILE.csv [--as USERNAME] [--report FILE]`: bulk import with
//! a progress bar, a CSV report of the rows that failed, and a non-zero exit when any did.

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::progress::Progress;
use crate::app::{App, Stores};
use crate::config::Settings;
use crate::services::import::{ImportRequest, ImportSummary, RowOutcome, RowReport};

/// How many failed rows are listed on the terminal; the report has them all.
const FAILURES_SHOWN: usize = 10;

/// Arguments of `dangan import`.
#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The directory the manifest's paths are relative to.
    pub dir: PathBuf,
    /// CSV manifest, one row per file: path, title, doc_date, category, … or 路径, 题名, 日期,
    /// 门类, … (UTF-8 or GB18030). Rows sharing a `record` key become one record.
    #[arg(long, value_name = "FILE.csv")]
    pub manifest: PathBuf,
    /// The user the records are filed by.
    #[arg(long = "as", value_name = "USERNAME", default_value = "admin")]
    pub username: String,
    /// Where to write the rows that failed [default: <manifest>.errors.csv].
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
}

/// Opens the stores, imports, writes the report and prints a summary.
pub async fn run(settings: Settings, args: ImportArgs) -> anyhow::Result<()> {
    let (stores, app) = Stores::open_app(&settings).await?;
    let result = import(&app, args).await;
    stores
        .database
        .close(settings.database.connect_timeout)
        .await;
    result
}

async fn import(app: &App, args: ImportArgs) -> anyhow::Result<()> {
    let report_path = args
        .report
        .clone()
        .unwrap_or_else(|| default_report(&args.manifest));
    let plan = app
        .import
        .plan(ImportRequest {
            dir: args.dir,
            manifest: args.manifest.clone(),
            username: args.username,
        })
        .await?;
    println!(
        "importing {} rows of {} ({}) from {}",
        plan.rows(),
        args.manifest.display(),
        plan.encoding(),
        plan.dir().display()
    );
    let progress = Progress::new(u64::try_from(plan.rows()).unwrap_or(u64::MAX), "rows");
    let mut failures: Vec<RowReport> = Vec::new();
    let (mut imported, mut skipped, mut done) = (0usize, 0usize, 0usize);
    let outcome = app
        .import
        .run(plan, |report| {
            done += 1;
            match &report.outcome {
                RowOutcome::Imported { .. } => imported += 1,
                RowOutcome::Skipped { .. } => skipped += 1,
                RowOutcome::Failed { .. } => failures.push(report.clone()),
            }
            progress.bar().inc(1);
            progress.bar().set_message(format!(
                "{imported} imported, {skipped} skipped, {} failed",
                failures.len()
            ));
        })
        .await;
    drop(progress);
    failures.sort_by_key(|report| report.line);
    write_report(&report_path, &failures)?;
    let summary = outcome.with_context(|| {
        format!(
            "the import stopped after {done} rows; what was filed is kept, and running the same command again resumes"
        )
    })?;
    print_summary(&summary, &report_path);
    if summary.failures.is_empty() {
        return Ok(());
    }
    anyhow::bail!(
        "{} rows failed (listed in {}); fix them and run the same command again: rows already filed are skipped",
        summary.failures.len(),
        report_path.display()
    )
}

fn print_summary(summary: &ImportSummary, report_path: &Path) {
    println!(
        "imported {} records ({} rows); skipped {} rows filed by an earlier run; {} rows failed",
        summary.records_imported,
        summary.rows_imported,
        summary.rows_skipped,
        summary.failures.len()
    );
    for failure in summary.failures.iter().take(FAILURES_SHOWN) {
        if let RowOutcome::Failed { reason } = &failure.outcome {
            println!("  row {} ({}): {reason}", failure.line, failure.path);
        }
    }
    if summary.failures.len() > FAILURES_SHOWN {
        println!(
            "  … and {} more in {}",
            summary.failures.len() - FAILURES_SHOWN,
            report_path.display()
        );
    }
}

/// `<manifest>.errors.csv` beside the manifest.
fn default_report(manifest: &Path) -> PathBuf {
    let mut name = manifest.as_os_str().to_owned();
    name.push(".errors.csv");
    PathBuf::from(name)
}

/// Writes the failed rows as CSV (row, path, record, reason), with a UTF-8 byte-order mark
/// so that Excel shows Chinese text; written on every run, so it never shows stale rows.
fn write_report(path: &Path, failures: &[RowReport]) -> anyhow::Result<()> {
    let write = || -> anyhow::Result<()> {
        let mut file = std::fs::File::create(path)?;
        std::io::Write::write_all(&mut file, "\u{feff}".as_bytes())?;
        let mut writer = csv::Writer::from_writer(file);
        writer.write_record(["row", "path", "record", "reason"])?;
        for failure in failures {
            let reason = match &failure.outcome {
                RowOutcome::Failed { reason } => reason.as_str(),
                _ => "",
            };
            writer.write_record([
                failure.line.to_string().as_str(),
                failure.path.as_str(),
                failure.record_key.as_deref().unwrap_or_default(),
                reason,
            ])?;
        }
        writer.flush()?;
        Ok(())
    };
    write().with_context(|| {
        format!(
            "cannot write the report {}; name another file with --report",
            path.display()
        )
    })
}
