//! The import manifest reader (CSV or TSV in UTF-8, UTF-16 or GB18030).
#![no_main]

use dangan::domain::manifest::Manifest;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|bytes: &[u8]| {
    if let Ok(manifest) = Manifest::parse(bytes) {
        assert!(manifest.entries().len() <= manifest.row_count());
    }
});
