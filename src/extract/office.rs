//! Word-processing documents: DOCX (`word/document.xml`) and ODT (`content.xml`), read as a
//! stream from the zip with a cap on the bytes inflated, so a zip bomb costs bounded time.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use super::{ExtractError, Raw};

/// The magic number of an OLE compound file: what an encrypted DOCX/XLSX really is.
const COMPOUND_FILE_MAGIC: [u8; 8] = [0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];

/// Which elements of a word-processing XML vocabulary carry text and structure.
struct Dialect {
    format: &'static str,
    /// Text counts only inside this element (`w:t`); `None`: all character data counts.
    text_element: Option<&'static [u8]>,
    paragraphs: &'static [&'static [u8]],
    tabs: &'static [&'static [u8]],
    breaks: &'static [&'static [u8]],
    /// An element standing for `c` spaces (ODF `text:s`).
    spaces: Option<&'static [u8]>,
    /// An element whose content repeats text found elsewhere (`mc:Fallback` of text boxes).
    duplicate: Option<&'static [u8]>,
}

const DOCX: Dialect = Dialect {
    format: "docx",
    text_element: Some(b"t"),
    paragraphs: &[b"p"],
    tabs: &[b"tab"],
    breaks: &[b"br", b"cr"],
    spaces: None,
    duplicate: Some(b"Fallback"),
};

const ODT: Dialect = Dialect {
    format: "odt",
    text_element: None,
    paragraphs: &[b"p", b"h"],
    tabs: &[b"tab"],
    breaks: &[b"line-break"],
    spaces: Some(b"s"),
    duplicate: None,
};

/// The body text of a DOCX, then its footnotes and endnotes.
pub(crate) fn extract_docx(
    path: &Path,
    xml_limit: u64,
    text_limit: usize,
) -> Result<Raw, ExtractError> {
    let parts = [
        "word/document.xml",
        "word/footnotes.xml",
        "word/endnotes.xml",
    ];
    extract_parts(path, &DOCX, &parts, xml_limit, text_limit)
}

/// The body text of an ODT.
pub(crate) fn extract_odt(
    path: &Path,
    xml_limit: u64,
    text_limit: usize,
) -> Result<Raw, ExtractError> {
    extract_parts(path, &ODT, &["content.xml"], xml_limit, text_limit)
}

/// Opens a zip container; a compound file (an encrypted Office document) is reported as such.
pub(crate) fn open_zip(
    path: &Path,
    format: &'static str,
) -> Result<zip::ZipArchive<BufReader<File>>, ExtractError> {
    let mut file = File::open(path)
        .map_err(|error| ExtractError::io(format!("open {}", path.display()), error))?;
    let mut magic = [0u8; 8];
    if file.read_exact(&mut magic).is_ok() && magic == COMPOUND_FILE_MAGIC {
        return Err(ExtractError::Encrypted { format });
    }
    let file = File::open(path)
        .map_err(|error| ExtractError::io(format!("open {}", path.display()), error))?;
    zip::ZipArchive::new(BufReader::new(file)).map_err(|error| match error {
        zip::result::ZipError::Io(source) => {
            ExtractError::io(format!("read {}", path.display()), source)
        }
        other => ExtractError::corrupt(format, other),
    })
}

fn extract_parts(
    path: &Path,
    dialect: &Dialect,
    parts: &[&str],
    xml_limit: u64,
    text_limit: usize,
) -> Result<Raw, ExtractError> {
    let mut archive = open_zip(path, dialect.format)?;
    let mut raw = Raw::text(String::new());
    let mut budget = xml_limit;
    for (index, part) in parts.iter().enumerate() {
        let entry = match archive.by_name(part) {
            Ok(entry) => entry,
            Err(zip::result::ZipError::FileNotFound) if index > 0 => continue,
            Err(error) => {
                return Err(ExtractError::corrupt(
                    dialect.format,
                    format!("{part}: {error}"),
                ));
            }
        };
        if entry.encrypted() {
            return Err(ExtractError::Encrypted {
                format: dialect.format,
            });
        }
        let mut limited = entry.take(budget);
        let outcome = xml_text(
            BufReader::new(&mut limited),
            dialect,
            &mut raw.text,
            text_limit,
        );
        let used = budget - limited.limit();
        budget -= used;
        let over_budget = budget == 0 && has_more(limited.into_inner());
        match (outcome, over_budget) {
            (Ok(Stop::TextLimit), _) => raw.truncated = true,
            // cut off by the budget: an XML error, if any, is where the cut fell
            (_, true) => {
                raw.truncated = true;
                raw.warnings.push(format!(
                    "{part} is past the limit of {xml_limit} inflated bytes; text cut there"
                ));
            }
            (Ok(Stop::End), false) => {}
            (Err(error), false) => {
                return Err(ExtractError::corrupt(
                    dialect.format,
                    format!("{part}: {error}"),
                ));
            }
        }
        if raw.truncated {
            break;
        }
    }
    Ok(raw)
}

/// Whether a reader has at least one more byte.
fn has_more(mut reader: impl Read) -> bool {
    let mut byte = [0u8; 1];
    matches!(reader.read(&mut byte), Ok(1))
}

/// Why reading the XML stopped.
enum Stop {
    End,
    TextLimit,
}

/// Where the reader is: inside how many text elements and how many duplicated parts.
#[derive(Default)]
struct Depth {
    text: usize,
    duplicate: usize,
}

impl Depth {
    fn capturing(&self, dialect: &Dialect) -> bool {
        self.duplicate == 0 && (dialect.text_element.is_none() || self.text > 0)
    }

    fn enter(&mut self, dialect: &Dialect, name: &[u8]) {
        if Some(name) == dialect.text_element {
            self.text += 1;
        }
        if Some(name) == dialect.duplicate {
            self.duplicate += 1;
        }
    }

    fn leave(&mut self, dialect: &Dialect, name: &[u8]) {
        if Some(name) == dialect.text_element {
            self.text = self.text.saturating_sub(1);
        }
        if Some(name) == dialect.duplicate {
            self.duplicate = self.duplicate.saturating_sub(1);
        }
    }
}

/// Appends the text of one XML part to `out`, paragraphs as lines, until the end or until
/// `out` holds `text_limit` bytes.
fn xml_text(
    input: impl std::io::BufRead,
    dialect: &Dialect,
    out: &mut String,
    text_limit: usize,
) -> Result<Stop, quick_xml::Error> {
    let mut reader = Reader::from_reader(input);
    let mut buf = Vec::new();
    let mut depth = Depth::default();
    loop {
        let capturing = depth.capturing(dialect);
        match reader.read_event_into(&mut buf)? {
            Event::Start(element) => {
                depth.enter(dialect, element.local_name().as_ref());
                push_structure(out, dialect, &element);
            }
            Event::Empty(element) => {
                push_structure(out, dialect, &element);
                if dialect.paragraphs.contains(&element.local_name().as_ref()) {
                    out.push('\n');
                }
            }
            Event::End(element) => {
                let name = element.local_name();
                depth.leave(dialect, name.as_ref());
                if dialect.paragraphs.contains(&name.as_ref()) {
                    out.push('\n');
                }
            }
            Event::Text(text) if capturing => out.push_str(&text.decode()?),
            Event::CData(text) if capturing => out.push_str(&text.decode()?),
            Event::GeneralRef(reference) if capturing => match reference.resolve_char_ref()? {
                Some(c) => out.push(c),
                None => {
                    let name = reference.decode()?;
                    if let Some(value) = quick_xml::escape::resolve_predefined_entity(&name) {
                        out.push_str(value);
                    }
                }
            },
            Event::Eof => return Ok(Stop::End),
            _ => {}
        }
        if out.len() >= text_limit {
            return Ok(Stop::TextLimit);
        }
        buf.clear();
    }
}

/// Tabs, line breaks and runs of spaces that elements stand for.
fn push_structure(out: &mut String, dialect: &Dialect, element: &BytesStart<'_>) {
    let name = element.local_name();
    let name = name.as_ref();
    if dialect.tabs.contains(&name) {
        out.push('\t');
    } else if dialect.breaks.contains(&name) {
        out.push('\n');
    } else if Some(name) == dialect.spaces {
        let count = element
            .attributes()
            .flatten()
            .find(|attribute| attribute.key.local_name().as_ref() == b"c")
            .and_then(|attribute| {
                std::str::from_utf8(&attribute.value)
                    .ok()?
                    .parse::<usize>()
                    .ok()
            })
            .unwrap_or(1);
        out.extend(std::iter::repeat_n(' ', count.min(100)));
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::io::Write;

    use zip::write::SimpleFileOptions;

    use super::super::{ExtractOptions, Method, extract_file};
    use super::*;

    const DOCX_TYPE: &str =
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    const ODT_TYPE: &str = "application/vnd.oasis.opendocument.text";

    /// Writes a zip with the given entries, deflated.
    pub(crate) fn write_zip(path: &Path, entries: &[(&str, &[u8])]) {
        let file = File::create(path).expect("create zip");
        let mut zip = zip::ZipWriter::new(file);
        let options =
            SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, content) in entries {
            zip.start_file(*name, options).expect("start entry");
            zip.write_all(content).expect("write entry");
        }
        zip.finish().expect("finish zip");
    }

    fn docx_xml(paragraphs: &[&str]) -> String {
        let body: String = paragraphs
            .iter()
            .map(|p| format!("<w:p><w:pPr><w:jc w:val=\"left\"/></w:pPr><w:r><w:t xml:space=\"preserve\">{p}</w:t></w:r></w:p>"))
            .collect();
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\
             <w:document xmlns:w=\"http://schemas.openxmlformats.org/wordprocessingml/2006/main\">\
             <w:body>{body}<w:sectPr/></w:body></w:document>"
        )
    }

    #[test]
    fn a_docx_yields_its_paragraphs_tabs_and_entities() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("合同.docx");
        let xml = docx_xml(&[
            "劳动合同书",
            "甲方：深圳市某某有限公司",
            "R&amp;D &#x90E8;门",
        ])
        .replace(
            "<w:t xml:space=\"preserve\">劳动合同书</w:t>",
            "<w:t>劳动</w:t><w:tab/><w:t>合同书</w:t><w:delText>删除</w:delText>\
             <mc:AlternateContent><mc:Choice><w:t>（文本框）</w:t></mc:Choice>\
             <mc:Fallback><w:t>（文本框）</w:t></mc:Fallback></mc:AlternateContent>",
        );
        write_zip(
            &path,
            &[
                ("[Content_Types].xml", b"<Types/>"),
                ("word/document.xml", xml.as_bytes()),
            ],
        );
        let extracted =
            extract_file(&path, DOCX_TYPE, &ExtractOptions::default()).expect("extracts");
        assert_eq!(extracted.method, Method::Docx);
        assert_eq!(
            extracted.text,
            "劳动\t合同书（文本框）\n甲方：深圳市某某有限公司\nR&D 部门"
        );
        assert!(!extracted.truncated);
    }

    #[test]
    fn an_odt_yields_headings_paragraphs_and_spaces() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("規定.odt");
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
            <office:document-content xmlns:office=\"urn:oasis:names:tc:opendocument:xmlns:office:1.0\" \
            xmlns:text=\"urn:oasis:names:tc:opendocument:xmlns:text:1.0\"><office:body><office:text>\
            <text:h text:outline-level=\"1\">檔案管理辦法</text:h>\
            <text:p>第一條<text:s text:c=\"3\"/>Article<text:s/>1<text:line-break/>第二條</text:p>\
            </office:text></office:body></office:document-content>";
        write_zip(
            &path,
            &[
                ("mimetype", ODT_TYPE.as_bytes()),
                ("content.xml", xml.as_bytes()),
            ],
        );
        let extracted =
            extract_file(&path, ODT_TYPE, &ExtractOptions::default()).expect("extracts");
        assert_eq!(extracted.method, Method::Odt);
        assert_eq!(extracted.text, "檔案管理辦法\n第一條 Article 1\n第二條");
    }

    #[test]
    fn a_zip_bomb_is_cut_at_the_inflation_limit() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bomb.docx");
        let paragraph = "<w:p><w:r><w:t>档案</w:t></w:r></w:p>".repeat(200_000); // ~7 MB, deflates to KBs
        let xml = docx_xml(&[]).replace("<w:sectPr/>", &paragraph);
        write_zip(&path, &[("word/document.xml", xml.as_bytes())]);
        assert!(std::fs::metadata(&path).expect("stat").len() < 200_000);
        let started = std::time::Instant::now();
        let raw = extract_docx(&path, 1_000_000, usize::MAX).expect("extracts what fits");
        assert!(raw.truncated);
        assert!(raw.text.len() < 1_000_000 && raw.text.contains("档案"));
        assert!(started.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn a_broken_or_encrypted_container_is_a_permanent_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let broken = dir.path().join("broken.docx");
        std::fs::write(&broken, b"PK\x03\x04 not really a zip").expect("write");
        let error =
            extract_file(&broken, DOCX_TYPE, &ExtractOptions::default()).expect_err("corrupt");
        assert!(
            matches!(error, ExtractError::Corrupt { .. }) && error.is_permanent(),
            "{error}"
        );
        let encrypted = dir.path().join("encrypted.docx");
        std::fs::write(&encrypted, [&COMPOUND_FILE_MAGIC[..], &[0; 504]].concat()).expect("write");
        let error =
            extract_file(&encrypted, DOCX_TYPE, &ExtractOptions::default()).expect_err("encrypted");
        assert!(
            matches!(error, ExtractError::Encrypted { .. }) && error.is_permanent(),
            "{error}"
        );
        let no_body = dir.path().join("no-body.docx");
        write_zip(&no_body, &[("word/styles.xml", b"<x/>")]);
        let error =
            extract_file(&no_body, DOCX_TYPE, &ExtractOptions::default()).expect_err("no body");
        assert!(error.is_permanent(), "{error}");
    }
}
