//! The in-process text extractors (HTML, DOCX, ODT, XLSX, ODS, XLS): the first byte picks the
//! format, the rest is the file. In the server they run in a sandboxed child; here any panic,
//! hang or runaway allocation is a finding.
#![no_main]

use std::io::Write;

use dangan::extract::{ExtractOptions, extract_file};
use libfuzzer_sys::fuzz_target;

const TYPES: [&str; 6] = [
    "text/html; charset=utf-8",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.oasis.opendocument.text",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.ms-excel",
];

fuzz_target!(|bytes: &[u8]| {
    let Some((&selector, content)) = bytes.split_first() else {
        return;
    };
    let media_type = TYPES[usize::from(selector) % TYPES.len()];
    let Ok(mut file) = tempfile::NamedTempFile::new() else {
        return;
    };
    if file.write_all(content).is_err() {
        return;
    }
    let options = ExtractOptions::default();
    if let Ok(extracted) = extract_file(file.path(), media_type, &options) {
        assert!(extracted.text.len() <= options.max_text_bytes);
    }
});
