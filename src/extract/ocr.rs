//! OCR with the Tesseract CLI, and rasterising PDF pages for it with `pdftoppm`.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Instant;

use super::command::{Tool, path_arg, run, run_checked};
use super::{ExtractError, ExtractOptions, Raw};

/// Image formats Tesseract (leptonica) reads, by their first bytes.
///
/// Checked before Tesseract runs because Tesseract reads a file that is not an image as a list
/// of image paths, one per line, and would OCR whatever images those paths name.
fn is_image(head: &[u8]) -> bool {
    let known = infer::get(head).is_some_and(|kind| {
        matches!(
            kind.mime_type(),
            "image/jpeg"
                | "image/png"
                | "image/tiff"
                | "image/bmp"
                | "image/webp"
                | "image/gif"
                | "image/jp2"
        )
    });
    let portable_anymap = head.len() > 2
        && head[0] == b'P'
        && (b'1'..=b'6').contains(&head[1])
        && head[2].is_ascii_whitespace();
    known || portable_anymap
}

/// The text of an image file.
pub(crate) fn extract_image(path: &Path, opts: &ExtractOptions) -> Result<Raw, ExtractError> {
    let mut head = [0u8; 64];
    let read = File::open(path)
        .and_then(|mut file| file.read(&mut head))
        .map_err(|error| ExtractError::io(format!("read {}", path.display()), error))?;
    if !is_image(&head[..read]) {
        return Err(ExtractError::corrupt(
            "image",
            "not an image format Tesseract reads",
        ));
    }
    let (text, truncated) = ocr(path, opts)?;
    let mut raw = Raw::text(text);
    raw.pages = Some(1);
    raw.truncated = truncated;
    raw.ocr_used = true;
    Ok(raw)
}

/// Runs Tesseract on one image file; the text and whether it was cut at the output limit.
pub(crate) fn ocr(image: &Path, opts: &ExtractOptions) -> Result<(String, bool), ExtractError> {
    let started = Instant::now();
    let mut command = Tool::Tesseract.command();
    command
        .arg(path_arg(image))
        .arg("stdout")
        .arg("-l")
        .arg(&opts.ocr_languages);
    let output = run_checked(
        Tool::Tesseract,
        command,
        opts.timeout,
        opts.tool_output_limit(),
    )?;
    let output = output.map_err(|failure| {
        let unreadable = [
            "cannot be read",
            "pixRead",
            "truncated file",
            "Unsupported image",
        ]
        .iter()
        .any(|sign| failure.stderr.contains(sign));
        if unreadable {
            ExtractError::corrupt("image", failure.stderr)
        } else {
            failure.into_error(Tool::Tesseract)
        }
    })?;
    tracing::debug!(image = %image.display(), elapsed_ms = started.elapsed().as_millis(), "ocr done");
    Ok((
        String::from_utf8_lossy(&output.stdout).into_owned(),
        output.stdout_truncated,
    ))
}

/// Renders one PDF page (1-based) as a grey image in `dir` and returns its path.
pub(crate) fn rasterise_page(
    pdf: &Path,
    page: u32,
    dir: &Path,
    opts: &ExtractOptions,
) -> Result<PathBuf, ExtractError> {
    let prefix = dir.join(format!("page-{page}"));
    let mut command = Tool::Pdftoppm.command();
    command
        .arg("-r")
        .arg(opts.ocr_dpi.to_string())
        .arg("-gray")
        .arg("-f")
        .arg(page.to_string())
        .arg("-l")
        .arg(page.to_string())
        .arg("-singlefile")
        .arg(path_arg(pdf))
        .arg(&prefix);
    run(Tool::Pdftoppm, command, opts.timeout, 64 * 1024)?;
    let image = prefix.with_extension("pgm");
    if !image.is_file() {
        return Err(ExtractError::ToolFailed {
            tool: Tool::Pdftoppm,
            status: "exit status: 0".into(),
            stderr: format!("no image written for page {page}"),
        });
    }
    Ok(image)
}

/// OCR of the given PDF pages, one at a time so that one rendered page is on disk at once.
/// Returns the text of each page, in the order asked.
pub(crate) fn ocr_pdf_pages(
    pdf: &Path,
    pages: &[u32],
    opts: &ExtractOptions,
) -> Result<Vec<(u32, String)>, ExtractError> {
    let dir = tempfile::Builder::new()
        .prefix("dangan-ocr-")
        .tempdir()
        .map_err(|error| ExtractError::io("create a temporary directory for OCR", error))?;
    let mut texts = Vec::with_capacity(pages.len());
    for &page in pages {
        let started = Instant::now();
        let image = rasterise_page(pdf, page, dir.path(), opts)?;
        let (text, _) = ocr(&image, opts)?;
        // a failed delete only costs disk until the directory goes
        let _ = std::fs::remove_file(&image);
        tracing::debug!(
            page,
            elapsed_ms = started.elapsed().as_millis(),
            "pdf page rasterised and read"
        );
        texts.push((page, text));
    }
    Ok(texts)
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use super::super::normalize::is_han;
    use super::super::testing::corpus;
    use super::super::{Method, extract_file};
    use super::*;

    /// Length of the longest common subsequence of two character sequences.
    fn lcs(a: &[char], b: &[char]) -> usize {
        let mut previous = vec![0usize; b.len() + 1];
        for &x in a {
            let mut current = vec![0usize; b.len() + 1];
            for (j, &y) in b.iter().enumerate() {
                current[j + 1] = if x == y {
                    previous[j] + 1
                } else {
                    previous[j + 1].max(current[j])
                };
            }
            previous = current;
        }
        previous[b.len()]
    }

    /// Share of the truth's Han characters found in order in the OCR text.
    pub(crate) fn han_recall(truth: &str, ocr: &str) -> f64 {
        let truth: Vec<char> = truth.chars().filter(|&c| is_han(c)).collect();
        let ocr: Vec<char> = ocr.chars().filter(|&c| is_han(c)).collect();
        lcs(&truth, &ocr) as f64 / truth.len().max(1) as f64
    }

    #[test]
    fn the_scanned_jpeg_is_read_with_high_recall() {
        let Some(dir) = corpus() else { return };
        let truth = std::fs::read_to_string(dir.join("scans/truth_sc.txt")).expect("truth");
        let started = Instant::now();
        let extracted = extract_file(
            &dir.join("scans/scan_sc.jpg"),
            "image/jpeg",
            &ExtractOptions::default(),
        )
        .expect("ocr");
        let elapsed = started.elapsed();
        assert_eq!(extracted.method, Method::ImageOcr);
        assert_eq!(extracted.pages, Some(1));
        let raw = han_recall(&truth, &extracted.text);
        let folded = han_recall(
            &zhconv::zhconv(&truth, zhconv::Variant::ZhHans),
            &zhconv::zhconv(&extracted.text, zhconv::Variant::ZhHans),
        );
        eprintln!(
            "scan_sc.jpg: Han recall {raw:.3} (folded to Simplified {folded:.3}) in {elapsed:?}"
        );
        assert!(raw >= 0.8, "recall {raw}: {}", extracted.text);
        assert!(
            extracted.text.contains("440301199001011234"),
            "{}",
            extracted.text
        );
        assert!(extracted.text.contains("王晓明"), "{}", extracted.text);
    }

    #[test]
    fn an_ocr_past_its_timeout_is_a_transient_error() {
        let Some(dir) = corpus() else { return };
        let opts = ExtractOptions {
            timeout: Duration::from_millis(1),
            ..ExtractOptions::default()
        };
        let error = extract_file(&dir.join("scans/scan_sc.jpg"), "image/jpeg", &opts)
            .expect_err("times out");
        assert!(
            matches!(
                error,
                ExtractError::Timeout {
                    tool: Tool::Tesseract,
                    ..
                }
            ),
            "{error}"
        );
        assert!(!error.is_permanent());
    }

    #[test]
    fn a_file_that_is_not_an_image_never_reaches_tesseract() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("list.jpg");
        // Tesseract would read this as a list of images to OCR
        std::fs::write(&path, "/etc/passwd\n/some/other/scan.png\n").expect("write");
        let error =
            extract_file(&path, "image/jpeg", &ExtractOptions::default()).expect_err("refused");
        assert!(
            matches!(error, ExtractError::Corrupt { .. }) && error.is_permanent(),
            "{error}"
        );
    }

    #[test]
    fn a_truncated_image_is_a_permanent_error() {
        let Some(dir) = corpus() else { return };
        let bytes = std::fs::read(dir.join("scans/scan_sc.jpg")).expect("read");
        let temp = tempfile::tempdir().expect("temp dir");
        let path = temp.path().join("cut.jpg");
        std::fs::write(&path, &bytes[..200]).expect("write");
        let error =
            extract_file(&path, "image/jpeg", &ExtractOptions::default()).expect_err("corrupt");
        assert!(error.is_permanent(), "{error}");
    }
}
