//! What an upload does with its parts before anything is stored: the metadata part read and
//! validated, each file's media type recognised from its name, declared type and first bytes.
//! Input: metadata JSON, a NUL, a filename, a NUL, a declared type, a NUL, the file's head.
#![no_main]

use dangan::domain::media::media_type;
use dangan::domain::record::RecordMetadataInput;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    let mut parts = bytes.splitn(4, |byte| *byte == 0);
    let metadata = parts.next().unwrap_or_default();
    let filename = String::from_utf8_lossy(parts.next().unwrap_or_default());
    let declared = parts.next().map(String::from_utf8_lossy);
    let head = parts.next().unwrap_or_default();
    if let Ok(input) = serde_json::from_slice::<RecordMetadataInput>(metadata) {
        let filed_on = chrono::NaiveDate::from_ymd_opt(2026, 12, 4).unwrap_or_default();
        let _ = input.validate(filed_on);
    }
    let found = media_type(head, &filename, declared.as_deref());
    assert!(!found.is_empty());
});
