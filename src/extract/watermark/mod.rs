//! Watermarks on borrowed copies (R12) and the filing stamp (歸檔章) on derived copies.
//! Every page of a borrowed PDF gets the line naming borrower,
//! loan and time at its foot and head and across it; a JPEG or PNG scan becomes a one-page
//! PDF that carries the same; a text file gets the line before and after its text. Other
//! formats cannot be marked here.

use lopdf::{Dictionary, Document, Object, ObjectId, Stream, dictionary};

mod scan;

use serde::{Deserialize, Serialize};

use super::ExtractError;
use crate::print;
use crate::print::stamp::FilingStamp;

/// A marked copy, made for one download, and its media type (a scan comes as a PDF page).
#[derive(Debug)]
pub struct Marked {
    pub content: Vec<u8>,
    pub media_type: &'static str,
}

/// How a media type is marked.
enum Mark {
    Pdf,
    Scan,
    Text,
}

fn mark_of(media_type: &str) -> Option<Mark> {
    match media_type {
        "application/pdf" => Some(Mark::Pdf),
        "image/jpeg" | "image/jpg" | "image/pjpeg" | "image/png" => Some(Mark::Scan),
        text if text.starts_with("text/") => Some(Mark::Text),
        _ => None,
    }
}

/// Whether files of `media_type` can be marked at all (a given file may still be refused:
/// an encrypted PDF, a PNG with an alpha channel).
pub fn can_watermark(media_type: &str) -> bool {
    mark_of(media_type).is_some()
}

/// What is laid over a copy: the watermark line of a borrowed copy on every page, or the
/// filing stamp on the first page of a derived copy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Overlay {
    Line { line: String },
    FilingStamp { stamp: FilingStamp },
}

impl From<&str> for Overlay {
    fn from(line: &str) -> Self {
        Overlay::Line {
            line: line.to_owned(),
        }
    }
}

impl Overlay {
    /// The overlay as a page of `width` × `height` points to lay over a page.
    fn page(&self, width: f32, height: f32) -> Result<Vec<u8>, print::PrintError> {
        match self {
            Overlay::Line { line } => print::watermark_page(width, height, line),
            Overlay::FilingStamp { stamp } => print::stamp::stamp_page(width, height, stamp),
        }
    }

    /// Whether it goes on every page (a watermark) or on the first only (a stamp).
    fn every_page(&self) -> bool {
        matches!(self, Overlay::Line { .. })
    }
}

/// The content of `media_type` with `line` on it.
pub fn watermark(content: &[u8], media_type: &str, line: &str) -> Result<Marked, ExtractError> {
    overlay(content, media_type, &line.into())
}

/// The content of `media_type` with `overlay` laid over it.
pub fn overlay(
    content: &[u8],
    media_type: &str,
    overlay: &Overlay,
) -> Result<Marked, ExtractError> {
    let Some(mark) = mark_of(media_type) else {
        return Err(ExtractError::Unsupported {
            media_type: media_type.to_owned(),
        });
    };
    Ok(match (mark, overlay) {
        (Mark::Pdf, _) => Marked {
            content: mark_pdf(content, overlay)?,
            media_type: "application/pdf",
        },
        (Mark::Scan, _) => Marked {
            content: scan::marked_pdf(content, media_type, overlay)?,
            media_type: "application/pdf",
        },
        (Mark::Text, Overlay::FilingStamp { .. }) => {
            return Err(ExtractError::Unsupported {
                media_type: media_type.to_owned(),
            });
        }
        (Mark::Text, Overlay::Line { line }) => {
            let mut marked = Vec::with_capacity(content.len() + 2 * line.len() + 8);
            marked.extend_from_slice(format!("[{line}]\n\n").as_bytes());
            marked.extend_from_slice(content);
            marked.extend_from_slice(format!("\n\n[{line}]\n").as_bytes());
            Marked {
                content: marked,
                media_type: "text/plain; charset=utf-8",
            }
        }
    })
}

/// The name of a mark's form XObject in the pages' resources, followed by its object number
/// (a copy of a marked copy keeps both marks).
const MARK: &str = "DanganMark";

pub(super) fn corrupt(error: impl std::fmt::Display) -> ExtractError {
    ExtractError::Corrupt {
        format: "pdf",
        reason: error.to_string(),
    }
}

/// Lays the line over every page, after the page's own content (wrapped in q … Q so the
/// page's graphics state cannot move or hide it): a page printed with the CJK font, brought
/// in once as a form and drawn scaled to each page.
pub(super) fn mark_pdf(content: &[u8], overlay: &Overlay) -> Result<Vec<u8>, ExtractError> {
    let mut document = Document::load_mem(content).map_err(corrupt)?;
    if document.is_encrypted() {
        return Err(ExtractError::Encrypted { format: "pdf" });
    }
    let pages: Vec<ObjectId> = document.get_pages().into_values().collect();
    let Some(first) = pages.first() else {
        return Err(corrupt("the document has no pages"));
    };
    let [x0, y0, x1, y1] = media_box(&document, *first);
    let (width, height) = ((x1 - x0) as f32, (y1 - y0) as f32);
    let stamp = overlay
        .page(width, height)
        .map_err(|error| ExtractError::Reported {
            message: error.to_string(),
            permanent: false,
        })?;
    let form = import_page(&mut document, &stamp)?;
    let count = if overlay.every_page() { pages.len() } else { 1 };
    for page in pages.into_iter().take(count) {
        let [x0, y0, x1, y1] = media_box(&document, page);
        let (sx, sy) = ((x1 - x0) / f64::from(width), (y1 - y0) / f64::from(height));
        add_xobject_resource(&mut document, page, form)?;
        let existing = page_contents(&document, page)?;
        let before = document.add_object(Stream::new(dictionary! {}, b"q\n".to_vec()));
        let drawn = format!(
            "Q q {sx:.5} 0 0 {sy:.5} {x0:.2} {y0:.2} cm /{MARK}{} Do Q\n",
            form.0
        );
        let after = document.add_object(Stream::new(dictionary! {}, drawn.into_bytes()));
        let mut contents = vec![Object::Reference(before)];
        contents.extend(existing);
        contents.push(Object::Reference(after));
        document
            .get_object_mut(page)
            .and_then(Object::as_dict_mut)
            .map_err(corrupt)?
            .set("Contents", contents);
    }
    let mut out = Vec::with_capacity(content.len() + 16384);
    document.save_to(&mut out).map_err(corrupt)?;
    Ok(out)
}

/// Brings the one page of the PDF `page` into `document` as a form XObject, with the
/// objects it uses (its fonts); returns the form's id.
fn import_page(document: &mut Document, page: &[u8]) -> Result<ObjectId, ExtractError> {
    let mut source = Document::load_mem(page).map_err(corrupt)?;
    source.renumber_objects_with(document.max_id + 1);
    let id = *source
        .get_pages()
        .values()
        .next()
        .ok_or_else(|| corrupt("the printed mark has no page"))?;
    let content = source.get_page_content(id);
    let [x0, y0, x1, y1] = media_box(&source, id);
    let resources = match source
        .get_dictionary(id)
        .map_err(corrupt)?
        .get(b"Resources")
    {
        Ok(Object::Reference(resources)) => {
            source.get_dictionary(*resources).map_err(corrupt)?.clone()
        }
        Ok(Object::Dictionary(resources)) => resources.clone(),
        _ => Dictionary::new(),
    };
    document.max_id = document.max_id.max(source.max_id);
    // what the page draws with comes along; its page tree and catalogue do not
    for (object_id, object) in source.objects {
        let structural = matches!(&object, Object::Dictionary(dict)
            if matches!(dict.get(b"Type").and_then(Object::as_name), Ok(b"Page" | b"Pages" | b"Catalog")));
        if !structural {
            document.objects.insert(object_id, object);
        }
    }
    Ok(document.add_object(Stream::new(
        dictionary! {
            "Type" => "XObject", "Subtype" => "Form",
            "BBox" => vec![x0.into(), y0.into(), x1.into(), y1.into()],
            "Resources" => resources,
        },
        content,
    )))
}

/// The page's media box, from the page or the page tree above it; A4 when there is none.
fn media_box(document: &Document, page: ObjectId) -> [f64; 4] {
    let mut node = document.get_dictionary(page).ok();
    for _ in 0..32 {
        let Some(dict) = node else { break };
        if let Ok(object) = dict.get(b"MediaBox") {
            let array = match object {
                Object::Reference(id) => document.get_object(*id).and_then(Object::as_array),
                other => other.as_array(),
            };
            if let Ok(values) = array {
                let numbers: Vec<f64> = values
                    .iter()
                    .filter_map(|value| value.as_float().ok().map(f64::from))
                    .collect();
                if let [a, b, c, d] = numbers[..] {
                    return [a.min(c), b.min(d), a.max(c), b.max(d)];
                }
            }
        }
        node = dict
            .get(b"Parent")
            .and_then(Object::as_reference)
            .and_then(|parent| document.get_dictionary(parent))
            .ok();
    }
    [0.0, 0.0, 595.0, 842.0]
}

/// Puts the mark's form into the page's XObject resources (a shared dictionary that is an
/// indirect object is copied into the page's own resources first).
fn add_xobject_resource(
    document: &mut Document,
    page: ObjectId,
    form: ObjectId,
) -> Result<(), ExtractError> {
    let shared_ref = document
        .get_or_create_resources(page)
        .ok()
        .and_then(|resources| resources.as_dict().ok())
        .and_then(|resources| resources.get(b"XObject").ok())
        .and_then(|xobjects| xobjects.as_reference().ok());
    let shared: Option<Dictionary> = match shared_ref {
        Some(id) => Some(document.get_dictionary(id).map_err(corrupt)?.clone()),
        None => None,
    };
    let resources = document
        .get_or_create_resources(page)
        .and_then(Object::as_dict_mut)
        .map_err(corrupt)?;
    if let Some(xobjects) = shared {
        resources.set("XObject", xobjects);
    }
    if !matches!(resources.get(b"XObject"), Ok(Object::Dictionary(_))) {
        resources.set("XObject", Dictionary::new());
    }
    resources
        .get_mut(b"XObject")
        .and_then(Object::as_dict_mut)
        .map_err(corrupt)?
        .set(format!("{MARK}{}", form.0), form);
    Ok(())
}

/// The page's content streams, as references.
fn page_contents(document: &Document, page: ObjectId) -> Result<Vec<Object>, ExtractError> {
    let dict = document.get_dictionary(page).map_err(corrupt)?;
    Ok(match dict.get(b"Contents") {
        Ok(Object::Reference(id)) => match document.get_object(*id) {
            Ok(Object::Array(array)) => array.clone(),
            _ => vec![Object::Reference(*id)],
        },
        Ok(Object::Array(array)) => array.clone(),
        _ => Vec::new(),
    })
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    fn one_page_pdf(text: &str) -> Vec<u8> {
        let mut document = Document::with_version("1.5");
        let font = document.add_object(dictionary! {
            "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
        });
        let content = document.add_object(Stream::new(
            dictionary! {},
            format!("BT /F1 12 Tf 72 700 Td ({text}) Tj ET").into_bytes(),
        ));
        let pages_id = document.new_object_id();
        let page = document.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content,
            "Resources" => dictionary! { "Font" => dictionary! { "F1" => font } },
        });
        document.objects.insert(
            pages_id,
            Object::Dictionary(dictionary! {
                "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1,
                "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
            }),
        );
        let catalog = document.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
        document.trailer.set("Root", catalog);
        let mut out = Vec::new();
        document.save_to(&mut out).expect("save");
        out
    }

    /// The text poppler reads off `pdf`: the marks' foot and head lines read back whole (the
    /// line across the page is turned, and read back in pieces).
    pub(super) fn page_text(pdf: &[u8]) -> String {
        let file = tempfile::NamedTempFile::new().expect("temp file");
        std::fs::write(file.path(), pdf).expect("write");
        let output = std::process::Command::new("pdftotext")
            .arg(file.path())
            .arg("-")
            .output()
            .expect("pdftotext runs (poppler-utils)");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    /// The marks are drawn on every page, after the page's own content.
    fn marks_drawn(pdf: &[u8]) -> usize {
        let document = Document::load_mem(pdf).expect("marked pdf loads");
        document
            .get_pages()
            .into_values()
            .filter(|page| {
                String::from_utf8_lossy(&document.get_page_content(*page))
                    .trim_end()
                    .ends_with(" Do Q")
            })
            .count()
    }

    #[test]
    fn every_pdf_page_keeps_its_text_and_gains_the_line_in_chinese() {
        let line = "loan L1 | 李雷 | 借閱副本 未經許可不得複製";
        let marked =
            watermark(&one_page_pdf("Contract 2024"), "application/pdf", line).expect("marked");
        assert_eq!(marked.media_type, "application/pdf");
        let text = page_text(&marked.content);
        assert!(text.contains("Contract 2024"), "{text}");
        assert_eq!(text.matches(line).count(), 2, "{text}");
        assert_eq!(marks_drawn(&marked.content), 1);
        // marked again (a copy of a copy), both marks stand, each in its own form
        let again = watermark(&marked.content, "application/pdf", "loan L9").expect("marked");
        let text = page_text(&again.content);
        // the two lines overlap where they start; each reads back
        assert_eq!(
            text.matches("李雷 | 借閱副本 未經許可不得複製").count(),
            2,
            "{text}"
        );
        assert_eq!(text.matches("loan L9").count(), 2, "{text}");
    }

    #[test]
    fn text_is_framed_by_the_line_and_other_formats_are_refused() {
        let marked = watermark("正文".as_bytes(), "text/plain", "loan L1").expect("marked");
        let text = String::from_utf8(marked.content).expect("utf-8");
        assert!(
            text.starts_with("[loan L1]") && text.ends_with("[loan L1]\n"),
            "{text}"
        );
        assert!(text.contains("正文"));
        assert!(matches!(
            watermark(b"PK", "application/zip", "loan"),
            Err(ExtractError::Unsupported { .. })
        ));
        assert!(matches!(
            watermark(b"not a pdf", "application/pdf", "loan"),
            Err(ExtractError::Corrupt { .. })
        ));
    }
}
