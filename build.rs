//! Rebuilds when a migration changes: `sqlx::migrate!` embeds the directory, but cargo does
//! not know to watch it (the build script sqlx documents for stable Rust).
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
