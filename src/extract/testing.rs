//! Test helpers: where the shared corpus of real documents lies.

use std::path::PathBuf;

/// `../shared/corpus` beside the checkout, or `None` (with a message) when it is absent.
pub(crate) fn corpus() -> Option<PathBuf> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/corpus");
    if dir.is_dir() {
        Some(dir)
    } else {
        eprintln!("SKIPPED: corpus not found at {}", dir.display());
        None
    }
}
