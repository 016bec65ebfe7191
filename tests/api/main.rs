//! Integration tests: the real router over real PostgreSQL, object store and index.

mod helpers;

mod auth;
mod blob_store;
mod catalogue;
mod config;
mod embedded;
mod export;
mod files;
mod filing;
mod ops;
mod parties;
mod stats;
mod upload;
