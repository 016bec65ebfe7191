//! PDF: the text layer through poppler's `pdftotext`, page count and encryption through lopdf,
//! and OCR of pages that have no text layer but carry images (scans).

use std::collections::BTreeSet;
use std::fs::File;
use std::io::Read;
use std::path::Path;

use lopdf::{Document, Object, ObjectId};

use super::command::{CommandOutput, Limits, Tool, path_arg, run_checked, run_fed};
use super::ocr::ocr_pdf_pages;
use super::text_server::{self, Outcome};
use super::{ExtractError, ExtractOptions, Raw};

/// A page with fewer non-blank characters than this in its text layer counts as empty: a scan,
/// perhaps with a stamped page number or a line of header.
const NEAR_EMPTY_PAGE_CHARS: usize = 32;

/// The text layer, page by page.
struct TextLayer {
    pages: Vec<String>,
    /// The output hit the limit, so the last pages are missing or cut.
    truncated: bool,
}

/// The text of a PDF, from its text layer, and from OCR for pages that are images only.
pub(crate) fn extract_pdf(path: &Path, opts: &ExtractOptions) -> Result<Raw, ExtractError> {
    check_header(path)?;
    let mut raw = Raw::text(String::new());
    let metadata = match Document::load_metadata(path) {
        Ok(metadata) => Some(metadata),
        Err(error) => {
            raw.warnings
                .push(format!("lopdf could not read the structure: {error}"));
            None
        }
    };
    let encrypted = metadata.as_ref().is_some_and(|metadata| metadata.encrypted);
    let layer = text_layer(path, opts, encrypted)?;
    raw.pages = match (&metadata, layer.truncated) {
        (Some(metadata), _) => Some(metadata.page_count),
        (None, false) => u32::try_from(layer.pages.len()).ok(),
        (None, true) => None,
    };
    raw.truncated = layer.truncated;
    let mut pages = layer.pages;
    if !layer.truncated {
        ocr_empty_pages(path, &mut pages, opts, &mut raw)?;
    }
    raw.text = pages.join("\u{000C}");
    Ok(raw)
}

/// PDFs up to this size may have their text layer read without the sandbox
/// ([`text_layer_alone`]): their bytes are held in memory to be fed to pdftotext.
pub(super) const TEXT_LAYER_ALONE_BYTES: u64 = 16 << 20;

/// The text of a PDF whose text layer is the whole of it, read by poppler alone: by the
/// `reader` ([`text_server`]) when there is one, else by pdftotext. No parser of dangan's
/// touches the bytes, so no sandbox child is needed (one adds half again to pdftotext's time
/// for a page); pdftotext is given `bytes` on standard input only once its limits are set
/// ([`run_fed`]). `Ok(None)` when the full extraction must run in the sandbox: poppler failed
/// (a damaged or encrypted file, told apart there), its output was cut, or a page is
/// near-empty (a scan, for OCR). A timeout is not tried again there.
pub(super) fn text_layer_alone(
    bytes: Vec<u8>,
    limits: &Limits,
    reader: Option<&Path>,
) -> Result<Option<Raw>, ExtractError> {
    if !has_header(&bytes) {
        return Ok(None);
    }
    let answer = reader.and_then(|reader| text_server::read(reader, &bytes, limits));
    let output = match answer {
        Some(answer) => match answer.outcome {
            Outcome::Read { truncated } => CommandOutput {
                stdout: answer.text,
                stdout_truncated: truncated,
            },
            Outcome::TimedOut => {
                return Err(ExtractError::Timeout {
                    tool: Tool::Pdftotext,
                    after: limits.timeout,
                });
            }
            Outcome::Damaged | Outcome::Locked | Outcome::Died => return Ok(None),
        },
        None => {
            let mut command = Tool::Pdftotext.command();
            command.args(["-enc", "UTF-8", "-", "-"]);
            match run_fed(Tool::Pdftotext, command, limits, bytes) {
                Ok(Ok(output)) => output,
                Err(error @ ExtractError::Timeout { .. }) => return Err(error),
                Ok(Err(_)) | Err(_) => return Ok(None),
            }
        }
    };
    let layer = pages_of(&output);
    if layer.truncated || layer.pages.iter().any(|page| near_empty(page)) {
        return Ok(None);
    }
    let mut raw = Raw::text(layer.pages.join("\u{000C}"));
    raw.pages = u32::try_from(layer.pages.len()).ok();
    Ok(Some(raw))
}

/// A PDF starts with `%PDF-` within its first 1024 bytes.
fn check_header(path: &Path) -> Result<(), ExtractError> {
    let mut head = Vec::with_capacity(1024);
    File::open(path)
        .and_then(|file| file.take(1024).read_to_end(&mut head))
        .map_err(|error| ExtractError::io(format!("read {}", path.display()), error))?;
    if has_header(&head) {
        Ok(())
    } else {
        Err(ExtractError::corrupt("pdf", "no %PDF- header"))
    }
}

fn has_header(bytes: &[u8]) -> bool {
    bytes[..bytes.len().min(1024)]
        .windows(5)
        .any(|window| window == b"%PDF-")
}

/// Runs `pdftotext` in its default reading-order mode (not `-layout`, which interleaves
/// side-by-side columns line by line and so breaks CJK phrases; see the tests).
fn text_layer(
    path: &Path,
    opts: &ExtractOptions,
    encrypted: bool,
) -> Result<TextLayer, ExtractError> {
    let mut command = Tool::Pdftotext.command();
    command
        .arg("-enc")
        .arg("UTF-8")
        .arg(path_arg(path))
        .arg("-");
    let output = run_checked(
        Tool::Pdftotext,
        command,
        opts.timeout,
        opts.tool_output_limit(),
    )?;
    let output = output.map_err(|failure| {
        let code = failure.status.code();
        if code == Some(3) || failure.stderr.contains("password") || (encrypted && code == Some(1))
        {
            ExtractError::Encrypted { format: "pdf" }
        } else if code == Some(1) {
            ExtractError::corrupt("pdf", failure.stderr)
        } else {
            failure.into_error(Tool::Pdftotext)
        }
    })?;
    Ok(pages_of(&output))
}

/// pdftotext's output page by page.
fn pages_of(output: &CommandOutput) -> TextLayer {
    let text = String::from_utf8_lossy(&output.stdout);
    let mut pages: Vec<String> = text.split('\u{000C}').map(str::to_owned).collect();
    // every page ends with a form feed, so the piece after the last one is not a page
    if !output.stdout_truncated && pages.last().is_some_and(|last| last.trim().is_empty()) {
        pages.pop();
    }
    TextLayer {
        pages,
        truncated: output.stdout_truncated,
    }
}

/// A page with too little text for a text layer: a scan, perhaps with a stamped page number.
fn near_empty(page: &str) -> bool {
    page.chars().filter(|c| !c.is_whitespace()).count() < NEAR_EMPTY_PAGE_CHARS
}

/// Replaces the text of near-empty pages that carry images with their OCR, up to
/// `max_ocr_pages` pages; pages left out make the result `truncated`.
fn ocr_empty_pages(
    path: &Path,
    pages: &mut [String],
    opts: &ExtractOptions,
    raw: &mut Raw,
) -> Result<(), ExtractError> {
    let empty: Vec<u32> = (1..)
        .zip(pages.iter())
        .filter(|(_, text)| near_empty(text))
        .map(|(number, _)| number)
        .collect();
    if empty.is_empty() {
        return Ok(());
    }
    let candidates: Vec<u32> = match pages_with_images(path) {
        Some(with_images) => empty
            .into_iter()
            .filter(|page| with_images.contains(page))
            .collect(),
        None => empty,
    };
    if candidates.is_empty() {
        return Ok(());
    }
    let limit = usize::try_from(opts.max_ocr_pages).unwrap_or(usize::MAX);
    if candidates.len() > limit {
        raw.truncated = true;
        raw.warnings.push(format!(
            "{} pages have no text layer; OCR limited to the first {limit}",
            candidates.len()
        ));
    }
    let chosen = &candidates[..candidates.len().min(limit)];
    for (page, text) in ocr_pdf_pages(path, chosen, opts)? {
        if let Some(slot) = usize::try_from(page - 1)
            .ok()
            .and_then(|index| pages.get_mut(index))
        {
            slot.push('\n');
            slot.push_str(&text);
        }
    }
    raw.ocr_used = !chosen.is_empty();
    Ok(())
}

/// The 1-based numbers of pages that draw an image or a form (or contain an inline image);
/// `None` when lopdf cannot read the document, so every empty page stays a candidate.
fn pages_with_images(path: &Path) -> Option<BTreeSet<u32>> {
    let document = Document::load(path).ok()?;
    let pages = document
        .get_pages()
        .into_iter()
        .filter(|&(_, page_id)| draws_images(&document, page_id))
        .map(|(number, _)| number)
        .collect();
    Some(pages)
}

fn draws_images(document: &Document, page_id: ObjectId) -> bool {
    let Ok((inline, referenced)) = document.get_page_resources(page_id) else {
        return true;
    };
    let has_xobjects = inline
        .into_iter()
        .chain(
            referenced
                .iter()
                .filter_map(|id| document.get_dictionary(*id).ok()),
        )
        .any(|resources| {
            let Ok(xobjects) = resources.get(b"XObject") else {
                return false;
            };
            match document.dereference(xobjects) {
                Ok((_, Object::Dictionary(xobjects))) => !xobjects.is_empty(),
                _ => false,
            }
        });
    has_xobjects || has_inline_image(&document.get_page_content(page_id))
}

/// Whether a content stream contains the `BI` operator that begins an inline image.
fn has_inline_image(content: &[u8]) -> bool {
    content.windows(4).any(|window| {
        window[0].is_ascii_whitespace() && &window[1..3] == b"BI" && window[3].is_ascii_whitespace()
    })
}

#[cfg(test)]
#[path = "pdf_tests.rs"]
mod tests;
