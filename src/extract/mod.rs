//! Text extraction from stored files: PDF text layers (poppler), OCR of scans and images
//! (Tesseract), plain text and HTML in UTF-8/GB18030/Big5, DOCX, ODT and spreadsheets.
//!
//! Everything here blocks (files, child processes): call [`extract_file`](crate::extract::extract_file) from
//! `tokio::task::spawn_blocking`. The text comes back normalised (NFKC, whitespace collapsed,
//! no spaces between CJK characters) and capped at [`ExtractOptions::max_text_bytes`](crate::extract::ExtractOptions::max_text_bytes); folding
//! Traditional to Simplified is left to the index's analyzer, so the stored text keeps its
//! script.

mod command;
mod error;
mod html;
mod inspect;
mod normalize;
mod ocr;
mod office;
mod pdf;
mod pipes;
mod sandbox;
mod sheet;
#[cfg(test)]
mod testing;
mod text;
pub mod text_server;
mod watermark;

use std::path::Path;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

pub use command::{Limits, Tool};
pub use error::{ExtractError, Resource};
pub use inspect::{ContentReport, inspect};
pub use sandbox::{Sandbox, child_main as sandbox_main};
pub use watermark::{Marked, Overlay, can_watermark, overlay, watermark};

use sheet::SheetFormat;

/// Limits and settings for one extraction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtractOptions {
    /// At most this many PDF pages are OCR'd per file; more make the result `truncated`.
    /// Zero turns OCR of PDFs off (images are still OCR'd).
    pub max_ocr_pages: u32,
    /// Tesseract languages, `+`-separated, e.g. `chi_sim+chi_tra+eng`.
    pub ocr_languages: String,
    /// The longest any one external command (pdftotext, pdftoppm, one page of OCR) may run.
    #[serde(with = "humantime_serde")]
    pub timeout: Duration,
    /// The extracted text is cut to at most this many bytes of UTF-8.
    pub max_text_bytes: usize,
    /// Resolution at which PDF pages are rendered for OCR.
    pub ocr_dpi: u32,
}

impl Default for ExtractOptions {
    fn default() -> Self {
        Self {
            max_ocr_pages: 20,
            ocr_languages: "chi_sim+chi_tra+eng".to_owned(),
            timeout: Duration::from_secs(120),
            max_text_bytes: 8 * 1024 * 1024,
            ocr_dpi: 300,
        }
    }
}

impl ExtractOptions {
    /// How much of a tool's standard output is read before the rest is dropped.
    fn tool_output_limit(&self) -> usize {
        self.max_text_bytes
            .saturating_mul(2)
            .saturating_add(1 << 20)
    }

    /// How many bytes of a text or HTML file are read.
    fn input_limit(&self) -> usize {
        self.max_text_bytes.saturating_mul(4).max(1 << 20)
    }

    /// How many bytes a zip container (DOCX, ODT, XLSX, ODS) may inflate to.
    fn inflate_limit(&self) -> u64 {
        let limit = u64::try_from(self.max_text_bytes)
            .unwrap_or(u64::MAX)
            .saturating_mul(32);
        limit.clamp(16 << 20, 2 << 30)
    }
}

/// How the text of a file was obtained; stored as `file_texts.method`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Method {
    /// The PDF's text layer (pdftotext).
    PdfText,
    /// The PDF's text layer plus OCR of pages without one (a scanned PDF).
    PdfOcr,
    /// OCR of an image file.
    ImageOcr,
    /// A plain text file (text, Markdown, CSV).
    PlainText,
    /// An HTML page with its markup removed.
    Html,
    /// A Word document (DOCX).
    Docx,
    /// An OpenDocument text (ODT).
    Odt,
    /// A spreadsheet (XLSX, XLSM, XLSB, XLS, ODS).
    Spreadsheet,
    /// Nothing was extracted; for callers recording a file they did not extract. Never
    /// returned by [`extract_file`].
    None,
}

impl Method {
    /// The stored name: `pdf_text`, `pdf_ocr`, `image_ocr`, `plain_text`, `html`, `docx`,
    /// `odt`, `spreadsheet`, `none`.
    pub fn as_str(self) -> &'static str {
        match self {
            Method::PdfText => "pdf_text",
            Method::PdfOcr => "pdf_ocr",
            Method::ImageOcr => "image_ocr",
            Method::PlainText => "plain_text",
            Method::Html => "html",
            Method::Docx => "docx",
            Method::Odt => "odt",
            Method::Spreadsheet => "spreadsheet",
            Method::None => "none",
        }
    }
}

impl std::fmt::Display for Method {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text of a file and how it was obtained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extracted {
    /// The normalised text; may be empty (a blank page, a scan with OCR turned off).
    pub text: String,
    /// How it was obtained.
    pub method: Method,
    /// The number of pages, for PDFs and images.
    pub pages: Option<u32>,
    /// Whether some text is missing: cut at `max_text_bytes`, pages past `max_ocr_pages`, or
    /// input past a size limit.
    pub truncated: bool,
    /// Things worth recording that did not stop extraction.
    pub warnings: Vec<String>,
}

/// What an extractor hands back before normalisation.
#[derive(Debug)]
struct Raw {
    text: String,
    pages: Option<u32>,
    truncated: bool,
    warnings: Vec<String>,
    /// Whether OCR contributed (decides pdf_text vs pdf_ocr).
    ocr_used: bool,
}

impl Raw {
    fn text(text: String) -> Self {
        Self {
            text,
            pages: None,
            truncated: false,
            warnings: Vec::new(),
            ocr_used: false,
        }
    }
}

/// The extractor for a media type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Pdf,
    Image,
    PlainText,
    Html,
    Docx,
    Odt,
    Sheet(SheetFormat),
}

impl Kind {
    fn of(essence: &str) -> Option<Kind> {
        Some(match essence {
            "application/pdf" | "application/x-pdf" => Kind::Pdf,
            "image/jpeg"
            | "image/jpg"
            | "image/pjpeg"
            | "image/png"
            | "image/tiff"
            | "image/bmp"
            | "image/x-ms-bmp"
            | "image/webp"
            | "image/gif"
            | "image/jp2"
            | "image/x-portable-anymap"
            | "image/x-portable-graymap"
            | "image/x-portable-pixmap"
            | "image/x-portable-bitmap" => Kind::Image,
            "text/plain"
            | "text/markdown"
            | "text/x-markdown"
            | "text/csv"
            | "text/tab-separated-values" => Kind::PlainText,
            "text/html" | "application/xhtml+xml" => Kind::Html,
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => Kind::Docx,
            "application/vnd.oasis.opendocument.text" => Kind::Odt,
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            | "application/vnd.ms-excel.sheet.macroenabled.12" => Kind::Sheet(SheetFormat::Xlsx),
            "application/vnd.ms-excel.sheet.binary.macroenabled.12" => {
                Kind::Sheet(SheetFormat::Xlsb)
            }
            "application/vnd.ms-excel" => Kind::Sheet(SheetFormat::Xls),
            "application/vnd.oasis.opendocument.spreadsheet" => Kind::Sheet(SheetFormat::Ods),
            _ => return None,
        })
    }
}

/// A media type's essence (`type/subtype`, lower case) and its `charset` parameter.
fn parse_media_type(media_type: &str) -> (String, Option<&'static encoding_rs::Encoding>) {
    let mut parts = media_type.split(';');
    let essence = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
    let charset = parts
        .filter_map(|parameter| parameter.split_once('='))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("charset"))
        .and_then(|(_, value)| {
            encoding_rs::Encoding::for_label(value.trim().trim_matches('"').as_bytes())
        });
    (essence, charset)
}

/// Whether [`extract_file`] has an extractor for this media type.
pub fn supports(media_type: &str) -> bool {
    Kind::of(&parse_media_type(media_type).0).is_some()
}

/// Extracts the text of the file at `path`, whose content has the given media type (as
/// `domain::media::media_type` found it). Blocking: run it on a blocking thread.
pub fn extract_file(
    path: &Path,
    media_type: &str,
    opts: &ExtractOptions,
) -> Result<Extracted, ExtractError> {
    let (essence, charset) = parse_media_type(media_type);
    let kind = Kind::of(&essence).ok_or_else(|| ExtractError::Unsupported {
        media_type: media_type.to_owned(),
    })?;
    let started = Instant::now();
    let (raw, method) = run_extractor(kind, path, charset, opts)?;
    let extracted = finish(raw, method, opts);
    tracing::debug!(
        method = method.as_str(),
        pages = extracted.pages,
        bytes = extracted.text.len(),
        elapsed_ms = started.elapsed().as_millis(),
        "text extracted"
    );
    Ok(extracted)
}

/// An extractor's raw text, normalised and cut to the limit.
fn finish(raw: Raw, method: Method, opts: &ExtractOptions) -> Extracted {
    let join_wrapped_lines = matches!(method, Method::PdfText | Method::PdfOcr | Method::ImageOcr);
    let text = normalize::normalize(&raw.text, join_wrapped_lines);
    let (text, cut) = normalize::cap(text, opts.max_text_bytes);
    Extracted {
        text,
        method,
        pages: raw.pages,
        truncated: raw.truncated || cut,
        warnings: raw.warnings,
    }
}

/// Runs the extractor for `kind`; the raw text and the method that produced it.
fn run_extractor(
    kind: Kind,
    path: &Path,
    charset: Option<&'static encoding_rs::Encoding>,
    opts: &ExtractOptions,
) -> Result<(Raw, Method), ExtractError> {
    let text_limit = opts.tool_output_limit();
    Ok(match kind {
        Kind::Pdf => {
            let raw = pdf::extract_pdf(path, opts)?;
            let method = if raw.ocr_used {
                Method::PdfOcr
            } else {
                Method::PdfText
            };
            (raw, method)
        }
        Kind::Image => (ocr::extract_image(path, opts)?, Method::ImageOcr),
        Kind::PlainText => (
            text::extract_plain(path, charset, opts.input_limit())?,
            Method::PlainText,
        ),
        Kind::Html => (
            html::extract_html(path, charset, opts.input_limit())?,
            Method::Html,
        ),
        Kind::Docx => (
            office::extract_docx(path, opts.inflate_limit(), text_limit)?,
            Method::Docx,
        ),
        Kind::Odt => (
            office::extract_odt(path, opts.inflate_limit(), text_limit)?,
            Method::Odt,
        ),
        Kind::Sheet(format) => (
            sheet::extract_sheets(path, format, opts.inflate_limit(), text_limit)?,
            Method::Spreadsheet,
        ),
    })
}

/// Whether each external tool can be started, for readiness checks and diagnostics.
pub fn tools_available() -> Vec<(Tool, bool)> {
    Tool::ALL
        .iter()
        .map(|&tool| (tool, tool.is_available()))
        .collect()
}

/// The languages of `languages` (`chi_sim+chi_tra+eng`) that Tesseract has no data for.
pub fn missing_ocr_languages(languages: &str) -> Result<Vec<String>, ExtractError> {
    let mut command = Tool::Tesseract.command();
    command.arg("--list-langs");
    let output = command::run(Tool::Tesseract, command, Duration::from_secs(10), 1 << 20)?;
    let listed = String::from_utf8_lossy(&output.stdout);
    let installed: Vec<&str> = listed.lines().skip(1).map(str::trim).collect();
    Ok(languages
        .split('+')
        .filter(|language| !language.is_empty() && !installed.contains(language))
        .map(str::to_owned)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_are_matched_on_their_essence() {
        assert!(supports("application/pdf"));
        assert!(supports("Text/Plain; charset=GBK"));
        assert!(supports("image/jpeg"));
        assert!(!supports("application/zip"));
        assert!(!supports("application/octet-stream"));
        let (essence, charset) = parse_media_type("text/plain; charset=\"big5\"");
        assert_eq!(
            (essence.as_str(), charset),
            ("text/plain", Some(encoding_rs::BIG5))
        );
    }

    #[test]
    fn an_unsupported_type_is_a_permanent_unsupported_error() {
        let error = extract_file(
            Path::new("/nonexistent"),
            "application/zip",
            &ExtractOptions::default(),
        )
        .expect_err("unsupported");
        assert!(error.is_unsupported() && error.is_permanent(), "{error}");
    }

    #[test]
    fn a_missing_file_is_a_transient_io_error() {
        let error = extract_file(
            Path::new("/nonexistent/a.txt"),
            "text/plain",
            &ExtractOptions::default(),
        )
        .expect_err("missing");
        assert!(
            matches!(error, ExtractError::Io { .. }) && !error.is_permanent(),
            "{error}"
        );
    }

    #[test]
    fn plain_text_honours_a_declared_charset_and_the_cap() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("notes.txt");
        let (bytes, _, _) = encoding_rs::BIG5.encode("檔案　管理\r\n\r\n\r\n銷毀清冊ＡＢＣ");
        std::fs::write(&path, &bytes).expect("write");
        let extracted = extract_file(
            &path,
            "text/plain; charset=big5",
            &ExtractOptions::default(),
        )
        .expect("extracts");
        assert_eq!(extracted.method, Method::PlainText);
        assert_eq!(extracted.text, "檔案管理\n\n銷毀清冊ABC");
        let opts = ExtractOptions {
            max_text_bytes: 7,
            ..ExtractOptions::default()
        };
        let extracted = extract_file(&path, "text/plain", &opts).expect("extracts");
        assert_eq!(
            (extracted.text.as_str(), extracted.truncated),
            ("檔案", true)
        );
    }

    #[test]
    fn the_tools_and_languages_are_installed() {
        let tools = tools_available();
        assert_eq!(tools.len(), 3);
        for (tool, available) in tools {
            assert!(
                available,
                "{tool} is not installed (apt-get install poppler-utils tesseract-ocr)"
            );
        }
        let missing =
            missing_ocr_languages(&ExtractOptions::default().ocr_languages).expect("lists");
        assert!(
            missing.is_empty(),
            "missing tesseract languages: {missing:?}"
        );
        assert_eq!(
            missing_ocr_languages("chi_sim+klingon").expect("lists"),
            ["klingon"]
        );
    }
}
