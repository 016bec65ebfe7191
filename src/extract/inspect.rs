//! Inspection of stored content for the four-properties check: what the bytes are, whether
//! they open, whether they are encrypted, and whether they carry active content (PDF
//! JavaScript, launch actions, embedded files; office macros; executables).

use std::io::Cursor;

use lopdf::{Dictionary, Document, Object};

/// What the content turned out to be.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ContentReport {
    /// The media type the bytes show, when they show one.
    pub sniffed: Option<String>,
    /// Why the content does not open as its type, if it does not.
    pub unreadable: Option<String>,
    pub encrypted: bool,
    /// Each kind of active content found, e.g. `JavaScript`, `Launch action`, `macros`.
    pub active_content: Vec<String>,
    /// The bytes are a program (PE, ELF, Mach-O, …).
    pub executable: bool,
}

/// PDF dictionary keys that carry or start active content.
const ACTIVE_PDF_KEYS: &[(&[u8], &str)] = &[
    (b"JavaScript", "JavaScript"),
    (b"JS", "JavaScript"),
    (b"Launch", "Launch action"),
    (b"EmbeddedFile", "embedded file"),
    (b"EmbeddedFiles", "embedded file"),
    (b"RichMedia", "rich media"),
    (b"XFA", "XFA form"),
];

/// Inspects `bytes` declared as `media_type`.
pub fn inspect(bytes: &[u8], media_type: &str) -> ContentReport {
    let kind = infer::get(bytes);
    let mut report = ContentReport {
        sniffed: kind.map(|kind| kind.mime_type().to_owned()),
        executable: kind.is_some_and(|kind| kind.matcher_type() == infer::MatcherType::App),
        ..ContentReport::default()
    };
    let is_pdf =
        media_type == "application/pdf" || report.sniffed.as_deref() == Some("application/pdf");
    let is_zip_office = media_type.starts_with("application/vnd.openxmlformats-officedocument")
        || media_type.starts_with("application/vnd.ms-")
        || media_type.starts_with("application/vnd.oasis.opendocument");
    if is_pdf {
        inspect_pdf(bytes, &mut report);
    } else if is_zip_office {
        inspect_zip(bytes, &mut report);
    } else if media_type.starts_with("image/") {
        if !report
            .sniffed
            .as_deref()
            .is_some_and(|sniffed| sniffed.starts_with("image/"))
        {
            report.unreadable = Some("the bytes are not an image of a known format".into());
        }
    } else if media_type.starts_with("text/") {
        let (_, _, had_errors) = encoding_rs::GB18030.decode(bytes);
        if std::str::from_utf8(bytes).is_err() && had_errors {
            report.unreadable = Some("the text is neither UTF-8 nor GB18030".into());
        }
    }
    report
}

fn inspect_pdf(bytes: &[u8], report: &mut ContentReport) {
    match Document::load_mem(bytes) {
        Ok(document) => {
            report.encrypted = document.trailer.get(b"Encrypt").is_ok() || document.is_encrypted();
            for object in document.objects.values() {
                let dictionary = match object {
                    Object::Dictionary(dictionary) => dictionary,
                    Object::Stream(stream) => &stream.dict,
                    _ => continue,
                };
                note_active(dictionary, report);
            }
        }
        Err(error) => {
            report.unreadable = Some(format!("the PDF does not parse: {error}"));
            // what cannot be parsed is still scanned for the tell-tale names
            for (key, label) in ACTIVE_PDF_KEYS {
                let needle = [b"/".as_slice(), key].concat();
                if contains_name(bytes, &needle) {
                    add(report, label);
                }
            }
        }
    }
}

fn note_active(dictionary: &Dictionary, report: &mut ContentReport) {
    for (key, label) in ACTIVE_PDF_KEYS {
        if dictionary.has(key) {
            add(report, label);
        }
    }
    // an action dictionary: /S /JavaScript or /S /Launch
    if let Ok(Object::Name(action)) = dictionary.get(b"S") {
        match action.as_slice() {
            b"JavaScript" => add(report, "JavaScript"),
            b"Launch" => add(report, "Launch action"),
            _ => {}
        }
    }
}

/// Whether `needle` (a PDF name such as `/JS`) occurs, not as the start of a longer name.
fn contains_name(bytes: &[u8], needle: &[u8]) -> bool {
    bytes.windows(needle.len() + 1).any(|window| {
        &window[..needle.len()] == needle && !window[needle.len()].is_ascii_alphanumeric()
    })
}

fn inspect_zip(bytes: &[u8], report: &mut ContentReport) {
    match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(archive) => {
            let names: Vec<String> = archive.file_names().map(str::to_ascii_lowercase).collect();
            if names
                .iter()
                .any(|name| name.ends_with("vbaproject.bin") || name.starts_with("basic/"))
            {
                add(report, "macros");
            }
            if names
                .iter()
                .any(|name| name.contains("/embeddings/") && name.ends_with(".bin"))
            {
                add(report, "embedded object");
            }
        }
        Err(error) => report.unreadable = Some(format!("the document does not open: {error}")),
    }
}

fn add(report: &mut ContentReport, label: &str) {
    if !report.active_content.iter().any(|known| known == label) {
        report.active_content.push(label.to_owned());
    }
}

#[cfg(test)]
mod tests {
    use lopdf::{Stream, dictionary};

    use super::*;

    fn pdf(with_javascript: bool) -> Vec<u8> {
        let mut document = Document::with_version("1.5");
        let pages_id = document.new_object_id();
        let content = document.add_object(Stream::new(dictionary! {}, b"BT ET".to_vec()));
        let page = document.add_object(dictionary! {
            "Type" => "Page", "Parent" => pages_id, "Contents" => content,
        });
        document.objects.insert(
            pages_id,
            Object::Dictionary(
                dictionary! { "Type" => "Pages", "Kids" => vec![page.into()], "Count" => 1 },
            ),
        );
        let mut catalog = dictionary! { "Type" => "Catalog", "Pages" => pages_id };
        if with_javascript {
            let action = document.add_object(dictionary! {
                "S" => "JavaScript", "JS" => Object::string_literal("app.alert('hi')"),
            });
            catalog.set("OpenAction", action);
        }
        let catalog_id = document.add_object(catalog);
        document.trailer.set("Root", catalog_id);
        let mut bytes = Vec::new();
        document.save_to(&mut bytes).expect("save pdf");
        bytes
    }

    #[test]
    fn a_pdf_with_javascript_carries_active_content() {
        let report = inspect(&pdf(true), "application/pdf");
        assert_eq!(report.active_content, vec!["JavaScript".to_owned()]);
        assert_eq!(report.unreadable, None);
        let clean = inspect(&pdf(false), "application/pdf");
        assert!(clean.active_content.is_empty(), "{clean:?}");
        assert_eq!(clean.sniffed.as_deref(), Some("application/pdf"));
    }

    #[test]
    fn broken_pdfs_and_fake_images_do_not_open() {
        let report = inspect(
            b"%PDF-1.4 this is not a pdf /JavaScript (x)",
            "application/pdf",
        );
        assert!(report.unreadable.is_some());
        assert_eq!(report.active_content, vec!["JavaScript".to_owned()]);
        assert!(inspect(b"plain words", "image/png").unreadable.is_some());
    }

    #[test]
    fn programs_are_recognised_whatever_they_are_called() {
        let mut elf = b"\x7fELF\x02\x01\x01\x00".to_vec();
        elf.resize(64, 0);
        assert!(inspect(&elf, "application/pdf").executable);
    }

    #[test]
    fn text_in_gb18030_opens() {
        let (bytes, _, _) = encoding_rs::GB18030.encode("檔案管理");
        assert_eq!(inspect(&bytes, "text/plain").unreadable, None);
    }
}
