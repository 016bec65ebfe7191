//! The archival code parser: what parses prints back to a code that parses to the same.
#![no_main]

use dangan::domain::archival_code::ArchivalCode;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(code) = ArchivalCode::parse(text) {
        let printed = code.to_string();
        assert_eq!(ArchivalCode::parse(&printed).ok(), Some(code), "{printed}");
    }
});
