//! Readiness: whether the database, the object store and the index directory answer.

use std::path::PathBuf;

use serde::Serialize;
use utoipa::ToSchema;

use crate::blobs::BlobStore;
use crate::db::{self, Pool};

/// The state of each store; `ready` only when all are `ok`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Readiness {
    pub ready: bool,
    pub database: String,
    pub object_store: String,
    pub index: String,
}

/// Checks the stores a request needs.
#[derive(Clone)]
pub struct HealthService {
    pool: Pool,
    blobs: BlobStore,
    index_dir: PathBuf,
}

impl HealthService {
    pub fn new(pool: Pool, blobs: BlobStore, index_dir: PathBuf) -> Self {
        Self {
            pool,
            blobs,
            index_dir,
        }
    }

    pub async fn readiness(&self) -> Readiness {
        let (database, object_store, index) = tokio::join!(
            async {
                db::ping(&self.pool)
                    .await
                    .map_err(|error| error.to_string())
            },
            async { self.blobs.check().await.map_err(|error| error.to_string()) },
            check_index_dir(self.index_dir.clone()),
        );
        let describe = |result: &Result<(), String>| match result {
            Ok(()) => "ok".to_owned(),
            Err(error) => error.clone(),
        };
        Readiness {
            ready: database.is_ok() && object_store.is_ok() && index.is_ok(),
            database: describe(&database),
            object_store: describe(&object_store),
            index: describe(&index),
        }
    }
}

/// The index directory must exist and take writes.
async fn check_index_dir(dir: PathBuf) -> Result<(), String> {
    let probe = dir.join(".readyz");
    tokio::fs::write(&probe, b"ok")
        .await
        .map_err(|error| format!("index directory {} is not writable: {error}", dir.display()))?;
    let _ = tokio::fs::remove_file(&probe).await;
    Ok(())
}
