//! The files of the ingest benchmark, made from the corpus, and the floors: bare loops of the
//! same tools dangan runs, over the same files.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use anyhow::{Context, bail};

/// Every page of every PDF under `dir` as a PDF of its own in `out`, re-written by
/// `pdftocairo` so that it carries only its own glyphs (a page cut out with `pdfseparate`
/// keeps the whole document's fonts, some 700 KB); the pages that have a text layer, in a
/// stable order.
pub fn split_pages(dir: &Path, out: &Path) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out)?;
    let mut pdfs: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("read {}", dir.display()))?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "pdf"))
        .collect();
    pdfs.sort();
    let mut pages = Vec::new();
    for pdf in &pdfs {
        let stem = pdf
            .file_stem()
            .context("a PDF without a name")?
            .to_string_lossy();
        for page in 1..=page_count(pdf)? {
            let path = out.join(format!("{stem}-{page:03}.pdf"));
            let number = page.to_string();
            let status = Command::new("pdftocairo")
                .args(["-pdf", "-f", &number, "-l", &number])
                .arg(pdf)
                .arg(&path)
                .stderr(Stdio::null())
                .status()
                .context("pdftocairo (poppler-utils) did not start")?;
            if status.success() && text_of(&path).is_ok_and(|text| text.trim().chars().count() > 20)
            {
                pages.push(path);
            }
        }
    }
    if pages.is_empty() {
        bail!("no page with text under {}", dir.display());
    }
    Ok(pages)
}

/// The pages of a PDF, as `pdfinfo` counts them.
fn page_count(pdf: &Path) -> anyhow::Result<u32> {
    let output = Command::new("pdfinfo")
        .arg(pdf)
        .stderr(Stdio::null())
        .output()
        .context("pdfinfo (poppler-utils) did not start")?;
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .find_map(|line| line.strip_prefix("Pages:")?.trim().parse().ok())
        .with_context(|| format!("pdfinfo gave no page count for {}", pdf.display()))
}

/// The text layer of a PDF, as `pdftotext` reads it.
pub fn text_of(pdf: &Path) -> anyhow::Result<String> {
    let output = command("pdftotext", &["-enc", "UTF-8"], pdf, &["-"]).output()?;
    if !output.status.success() {
        bail!("pdftotext {} failed", pdf.display());
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// `count` files in `out`, page after page, each a page with a comment of its own after its
/// end so that no two files have the same content (dangan stores a content once).
pub fn unique_files(pages: &[PathBuf], out: &Path, count: usize) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out)?;
    let contents = pages
        .iter()
        .map(std::fs::read)
        .collect::<Result<Vec<_>, _>>()?;
    (0..count)
        .map(|n| {
            let mut bytes = contents[n % contents.len()].clone();
            bytes.extend_from_slice(format!("\n%dangan-ingest {n}\n").as_bytes());
            let path = out.join(format!("{n:05}.pdf"));
            std::fs::write(&path, bytes)?;
            Ok(path)
        })
        .collect()
}

/// A run of four Han characters (or else a word of six letters) of the file's text: what a
/// search for that file's text asks for.
pub fn marker_word(pdf: &Path) -> anyhow::Result<String> {
    let text = text_of(pdf)?;
    let han = |c: char| ('\u{4e00}'..='\u{9fff}').contains(&c);
    for line in text.lines() {
        let chars: Vec<char> = line.chars().collect();
        if let Some(run) = chars.windows(4).find(|run| run.iter().all(|c| han(*c))) {
            return Ok(run.iter().collect());
        }
    }
    text.split(|c: char| !c.is_ascii_alphabetic())
        .find(|word| word.len() >= 6)
        .map(str::to_owned)
        .with_context(|| format!("no word to search for in {}", pdf.display()))
}

/// `count` grey 300-dpi JPEG renderings of pages with Chinese text, as a scanner makes them.
pub fn render_scans(pages: &[PathBuf], out: &Path, count: usize) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out)?;
    let chinese: Vec<&PathBuf> = pages
        .iter()
        .filter(|page| {
            text_of(page).is_ok_and(|text| {
                text.chars()
                    .filter(|c| ('\u{4e00}'..='\u{9fff}').contains(c))
                    .count()
                    > 200
            })
        })
        .collect();
    if chinese.is_empty() {
        bail!("no page with Chinese text to render as a scan");
    }
    let step = (chinese.len() / count).max(1);
    (0..count)
        .map(|n| {
            let page = chinese[(n * step) % chinese.len()];
            let prefix = out.join(format!("scan-{n:03}"));
            let status = Command::new("pdftoppm")
                .args([
                    "-r",
                    "300",
                    "-gray",
                    "-jpeg",
                    "-jpegopt",
                    "quality=75",
                    "-singlefile",
                ])
                .arg(page)
                .arg(&prefix)
                .status()
                .context("pdftoppm (poppler-utils) did not start")?;
            if !status.success() {
                bail!("pdftoppm {} failed", page.display());
            }
            Ok(prefix.with_extension("jpg"))
        })
        .collect()
}

/// `program BEFORE… FILE AFTER…` with its output discarded.
pub fn command(program: &str, before: &[&str], file: &Path, after: &[&str]) -> Command {
    let mut command = Command::new(program);
    command
        .args(before)
        .arg(file)
        .args(after)
        .stdin(Stdio::null())
        .stderr(Stdio::null());
    command
}

/// Seconds to run `make(file)` for every file, `loops` loops at once taking the next file.
/// The output is read (as dangan reads it) and dropped.
pub fn run_loops(
    files: &[PathBuf],
    loops: usize,
    make: impl Fn(&Path) -> Command + Sync,
) -> anyhow::Result<f64> {
    let next = AtomicUsize::new(0);
    let started = Instant::now();
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..loops.max(1))
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<()> {
                    while let Some(file) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                        let output = make(file).output()?;
                        if !output.status.success() {
                            bail!(
                                "{:?} failed on {}",
                                make(file).get_program(),
                                file.display()
                            );
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        workers.into_iter().try_for_each(|worker| {
            worker
                .join()
                .map_err(|_| anyhow::anyhow!("a floor loop panicked"))?
        })
    })?;
    Ok(started.elapsed().as_secs_f64())
}
