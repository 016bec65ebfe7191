//! dangan (檔案): archive and records management for Chinese companies and archive offices.

/// The composition root: stores and services built from the settings.
pub mod app;
/// File content in the object store, addressed by SHA-256.
pub mod blobs;
/// The command line.
pub mod cli;
/// Typed settings from default.toml, a config file and DANGAN_* variables.
pub mod config;
/// PostgreSQL: pool, migrations, embedded cluster, queries.
pub mod db;
/// Plain types and rules, no I/O.
pub mod domain;
/// Text of stored files: PDF text layers, OCR of scans, office documents (blocking).
pub mod extract;
/// The HTTP API.
pub mod http;
/// The tantivy search index: Chinese analysis, writer, searcher.
pub mod index;
/// Background work.
pub mod jobs;
/// Prometheus metrics.
pub mod metrics;
/// Printing: PDFs with an embedded CJK font (labels, forms, registers, watermarks).
pub mod print;
/// Who gets the cores first: requests at normal priority, bulk work in the background.
pub mod priority;
/// The capabilities: filing, reading, accounts, health.
pub mod services;
/// The web interface: pages in zh-CN, zh-TW and en over the same services.
pub mod web;
