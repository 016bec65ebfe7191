//! The search query parser: any text parses or is refused, never panics.
#![no_main]

use dangan::domain::search_query::SearchQuery;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &str| {
    if let Ok(query) = SearchQuery::parse(text) {
        let _ = query.positive_atoms().count();
    }
});
