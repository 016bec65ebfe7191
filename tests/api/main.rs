//! Integration tests: the real router over real PostgreSQL, object store and index.

mod helpers;

mod auth;
mod blob_store;
mod config;
mod embedded;
mod files;
mod ops;
mod upload;
