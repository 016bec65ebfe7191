//! Integration tests: the real router over real PostgreSQL, object store and index.

mod helpers;

mod access;
mod audit;
mod auth;
mod backup;
mod blob_store;
mod catalogue;
mod config;
mod conformance;
mod corrections;
mod destruction;
mod disposition;
mod embedded;
mod export;
mod faults;
mod files;
mod filing;
mod handover;
mod hostile;
mod import;
mod integrity;
mod jobs;
mod loans;
mod nodes;
mod ops;
mod parties;
mod places;
mod printing;
mod reminders;
mod rooms;
mod search;
mod stats;
mod stocktakes;
mod upload;
mod web;
