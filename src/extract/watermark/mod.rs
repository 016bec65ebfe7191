//! Watermarks on borrowed copies (R12): every page of a PDF gets the line naming borrower,
//! loan and time at its foot and head and across it; a JPEG or PNG scan becomes a one-page
//! PDF that carries the same; a text file gets the line before and after its text. Other
//! formats cannot be marked here.

use lopdf::{Dictionary, Document, Object, ObjectId, Stream, dictionary};

mod scan;

use super::ExtractError;
use crate::domain::loan::pdf_ascii;

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

/// The content of `media_type` with `line` on it.
pub fn watermark(content: &[u8], media_type: &str, line: &str) -> Result<Marked, ExtractError> {
    let Some(mark) = mark_of(media_type) else {
        return Err(ExtractError::Unsupported {
            media_type: media_type.to_owned(),
        });
    };
    Ok(match mark {
        Mark::Pdf => Marked {
            content: mark_pdf(content, line)?,
            media_type: "application/pdf",
        },
        Mark::Scan => Marked {
            content: scan::marked_pdf(content, media_type, line)?,
            media_type: "application/pdf",
        },
        Mark::Text => {
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

pub(super) const FONT: &str = "DanganWatermark";

pub(super) fn corrupt(error: impl std::fmt::Display) -> ExtractError {
    ExtractError::Corrupt {
        format: "pdf",
        reason: error.to_string(),
    }
}

/// Adds the line to every page, after the page's own content (wrapped in q … Q so the
/// page's graphics state cannot move or hide it).
fn mark_pdf(content: &[u8], line: &str) -> Result<Vec<u8>, ExtractError> {
    let mut document = Document::load_mem(content).map_err(corrupt)?;
    if document.is_encrypted() {
        return Err(ExtractError::Encrypted { format: "pdf" });
    }
    let font = add_font(&mut document);
    let text = pdf_ascii(line);
    let pages: Vec<ObjectId> = document.get_pages().into_values().collect();
    if pages.is_empty() {
        return Err(corrupt("the document has no pages"));
    }
    for page in pages {
        let area = media_box(&document, page);
        add_font_resource(&mut document, page, font)?;
        let existing = page_contents(&document, page)?;
        let before = document.add_object(Stream::new(dictionary! {}, b"q\n".to_vec()));
        let after = document.add_object(Stream::new(dictionary! {}, marks(area, &text)));
        let mut contents = vec![Object::Reference(before)];
        contents.extend(existing);
        contents.push(Object::Reference(after));
        document
            .get_object_mut(page)
            .and_then(Object::as_dict_mut)
            .map_err(corrupt)?
            .set("Contents", contents);
    }
    let mut out = Vec::with_capacity(content.len() + 4096);
    document.save_to(&mut out).map_err(corrupt)?;
    Ok(out)
}

pub(super) fn add_font(document: &mut Document) -> ObjectId {
    document.add_object(dictionary! {
        "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica",
        "Encoding" => "WinAnsiEncoding",
    })
}

/// The drawing of the marks over a page whose visible area is `[x0, y0, x1, y1]`: the line
/// at the foot and the head, and once across the page in outline.
pub(super) fn marks(area: [f64; 4], text: &str) -> Vec<u8> {
    let [x0, y0, x1, y1] = area;
    let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
    let size = ((x1 - x0).min(y1 - y0) / 40.0).clamp(5.0, 9.0);
    let across = ((x1 - x0).hypot(y1 - y0) / (text.len().max(1) as f64 * 0.55)).clamp(6.0, 28.0);
    let half = text.len() as f64 * across * 0.5 * 0.5;
    format!(
        "Q q 0 g BT /{FONT} {size:.1} Tf {fx:.2} {fy:.2} Td ({text}) Tj ET \
         BT /{FONT} {size:.1} Tf {fx:.2} {hy:.2} Td ({text}) Tj ET \
         0.6 G 0.4 w 1 Tr BT /{FONT} {across:.1} Tf 0.7071 0.7071 -0.7071 0.7071 {sx:.2} {sy:.2} Tm ({text}) Tj ET Q\n",
        fx = x0 + 12.0,
        fy = y0 + 8.0,
        hy = y1 - 8.0 - size,
        sx = cx - half * std::f64::consts::FRAC_1_SQRT_2,
        sy = cy - half * std::f64::consts::FRAC_1_SQRT_2,
    )
    .into_bytes()
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

/// Puts the watermark font into the page's font resources (a shared font dictionary that is
/// an indirect object is copied into the page's own resources first).
fn add_font_resource(
    document: &mut Document,
    page: ObjectId,
    font: ObjectId,
) -> Result<(), ExtractError> {
    let fonts_ref = document
        .get_or_create_resources(page)
        .ok()
        .and_then(|resources| resources.as_dict().ok())
        .and_then(|resources| resources.get(b"Font").ok())
        .and_then(|fonts| fonts.as_reference().ok());
    let shared: Option<Dictionary> = match fonts_ref {
        Some(id) => Some(document.get_dictionary(id).map_err(corrupt)?.clone()),
        None => None,
    };
    let resources = document
        .get_or_create_resources(page)
        .and_then(Object::as_dict_mut)
        .map_err(corrupt)?;
    if let Some(fonts) = shared {
        resources.set("Font", fonts);
    }
    if !matches!(resources.get(b"Font"), Ok(Object::Dictionary(_))) {
        resources.set("Font", Dictionary::new());
    }
    resources
        .get_mut(b"Font")
        .and_then(Object::as_dict_mut)
        .map_err(corrupt)?
        .set(FONT, font);
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
        let font = add_font(&mut document);
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

    pub(super) fn page_text(pdf: &[u8]) -> String {
        let document = Document::load_mem(pdf).expect("marked pdf loads");
        let pages: Vec<u32> = document.get_pages().into_keys().collect();
        document.extract_text(&pages).expect("text")
    }

    #[test]
    fn every_pdf_page_keeps_its_text_and_gains_the_line() {
        let marked = watermark(
            &one_page_pdf("Contract 2024"),
            "application/pdf",
            "loan L1 li.lei",
        )
        .expect("marked");
        assert_eq!(marked.media_type, "application/pdf");
        let text = page_text(&marked.content);
        assert!(text.contains("Contract 2024"), "{text}");
        assert_eq!(text.matches("loan L1 li.lei").count(), 3, "{text}");
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
