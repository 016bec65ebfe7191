//! Backup and restore (`dangan backup DIR`, `dangan restore DIR`).
//!
//! A backup directory holds content once, by its SHA-256, and one snapshot per backup:
//!
//! ```text
//! DIR/objects/ab/abcdef…            stored content, copied once, checked on the way
//! DIR/anchors/<seal number>.json    the audit chain's anchors
//! DIR/snapshots/<UTC time>/database.dump, manifest.json
//! ```
//!
//! The dump and the list of content come from one PostgreSQL snapshot, so every file a
//! dumped record names is in the manifest; content copied by an earlier backup is not
//! copied again. A snapshot directory appears only once it is complete. A restore fills an
//! empty database and object store from a snapshot, checking every hash, and rebuilds the
//! search index.

use std::path::{Path, PathBuf};

use futures::StreamExt;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::io::AsyncWriteExt;

use super::{ServiceError, ServiceResult};
use crate::blobs::{BlobStore, StageError};
use crate::db::{self, Database};
use crate::domain::Sha256Digest;

const MANIFEST: &str = "manifest.json";
const DUMP: &str = "database.dump";

/// What a snapshot holds.
#[derive(Debug, Serialize, Deserialize)]
pub struct Manifest {
    pub format: u32,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub dangan_version: String,
    pub database: StoredFile,
    pub objects: Vec<StoredFile>,
    /// Content the database names that the object store no longer had (destroyed after the
    /// snapshot was taken, or lost: `dangan verify` says which).
    pub missing: Vec<String>,
}

/// A file and its SHA-256 (hex) and size.
#[derive(Debug, Serialize, Deserialize)]
pub struct StoredFile {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub sha256: String,
    pub size: u64,
}

/// What a backup did.
#[derive(Debug)]
pub struct BackupSummary {
    pub snapshot: PathBuf,
    pub objects: usize,
    pub copied: usize,
    pub bytes_copied: u64,
    pub missing: usize,
}

/// What a restore did.
#[derive(Debug)]
pub struct RestoreSummary {
    pub snapshot: PathBuf,
    pub objects: usize,
    pub bytes: u64,
}

fn io(action: String) -> impl FnOnce(std::io::Error) -> ServiceError {
    move |error| ServiceError::Internal(format!("{action}: {error}"))
}

fn object_path(dir: &Path, hex: &str) -> PathBuf {
    dir.join("objects").join(&hex[..2]).join(hex)
}

/// Backs the database and the stored content up into `dir`; `progress(done, total)` is
/// called as content is copied.
pub async fn backup(
    database: &Database,
    blobs: &BlobStore,
    dir: &Path,
    progress: impl Fn(u64, u64),
) -> ServiceResult<BackupSummary> {
    let created_at = chrono::Utc::now();
    let name = created_at.format("%Y%m%dT%H%M%S%.3fZ").to_string();
    let snapshots = dir.join("snapshots");
    let partial = snapshots.join(format!(".{name}.partial"));
    tokio::fs::create_dir_all(&partial)
        .await
        .map_err(io(format!("cannot create {}", partial.display())))?;

    let mut snapshot = db::backup::snapshot(&database.pool).await?;
    let content = db::backup::stored_content(&mut snapshot).await?;
    let dump = partial.join(DUMP);
    db::backup::dump(&database.target, &snapshot.id, &dump).await?;
    drop(snapshot); // the read-only transaction ends

    let total = content.len() as u64;
    let (mut objects, mut missing) = (Vec::new(), Vec::new());
    let (mut copied, mut bytes_copied) = (0, 0);
    for (done, (sha256, size)) in content.into_iter().enumerate() {
        progress(done as u64, total);
        let digest = Sha256Digest::from_slice(&sha256)
            .ok_or_else(|| ServiceError::Internal("a stored digest is not 32 bytes".into()))?;
        let hex = digest.to_hex();
        let size = u64::try_from(size).unwrap_or_default();
        let target = object_path(dir, &hex);
        let present = tokio::fs::metadata(&target)
            .await
            .is_ok_and(|meta| meta.len() == size);
        if !present {
            match copy_out(blobs, digest, &target).await {
                Ok(written) => {
                    copied += 1;
                    bytes_copied += written;
                }
                Err(ServiceError::Blob(crate::blobs::BlobError::NotFound(_))) => {
                    missing.push(hex);
                    continue;
                }
                Err(error) => return Err(error),
            }
        }
        objects.push(StoredFile {
            file: None,
            sha256: hex,
            size,
        });
    }
    progress(total, total);
    for (seal_seq, body) in blobs.anchors().await? {
        let path = dir.join("anchors").join(format!("{seal_seq:020}.json"));
        write_file(&path, &body).await?;
    }
    let (dump_sha256, dump_size) = hash_file(&dump).await?;
    let manifest = Manifest {
        format: 1,
        created_at,
        dangan_version: env!("CARGO_PKG_VERSION").to_owned(),
        database: StoredFile {
            file: Some(DUMP.to_owned()),
            sha256: dump_sha256,
            size: dump_size,
        },
        missing: missing.clone(),
        objects,
    };
    let text = serde_json::to_vec_pretty(&manifest)
        .map_err(|error| ServiceError::Internal(error.to_string()))?;
    write_file(&partial.join(MANIFEST), &text).await?;
    let finished = snapshots.join(&name);
    tokio::fs::rename(&partial, &finished)
        .await
        .map_err(io(format!("cannot complete {}", finished.display())))?;
    Ok(BackupSummary {
        snapshot: finished,
        objects: manifest.objects.len(),
        copied,
        bytes_copied,
        missing: missing.len(),
    })
}

/// Restores snapshot `name` (the newest when `None`) of `dir` into an empty database and
/// object store; the caller migrates and rebuilds the index afterwards.
pub async fn restore(
    database: &Database,
    blobs: &BlobStore,
    dir: &Path,
    name: Option<&str>,
    progress: impl Fn(u64, u64),
) -> ServiceResult<RestoreSummary> {
    let snapshot = choose_snapshot(dir, name).await?;
    let text = tokio::fs::read(snapshot.join(MANIFEST))
        .await
        .map_err(io(format!(
            "cannot read the manifest of {}",
            snapshot.display()
        )))?;
    let manifest: Manifest = serde_json::from_slice(&text).map_err(|error| {
        ServiceError::Validation(format!(
            "{}: not a dangan manifest: {error}",
            snapshot.display()
        ))
    })?;
    if !db::backup::is_empty(&database.pool).await? || blobs.holds_content().await? {
        return Err(ServiceError::Conflict(
            "the database or the object store is not empty: restore into a new data directory \
             (DANGAN_DATA_DIR), or a new database (DANGAN_DATABASE_URL) and object store"
                .into(),
        ));
    }
    let dump = snapshot.join(DUMP);
    let (sha256, _) = hash_file(&dump).await?;
    if sha256 != manifest.database.sha256 {
        return Err(ServiceError::Validation(format!(
            "{} does not match its manifest: the backup is damaged",
            dump.display()
        )));
    }
    // content first: a restored database never names content that is not there
    let total = manifest.objects.len() as u64;
    let mut bytes = 0;
    for (done, object) in manifest.objects.iter().enumerate() {
        progress(done as u64, total);
        bytes += copy_in(blobs, &object_path(dir, &object.sha256), &object.sha256).await?;
    }
    progress(total, total);
    let mut anchors = tokio::fs::read_dir(dir.join("anchors")).await.ok();
    while let Some(entry) = match anchors.as_mut() {
        Some(entries) => entries.next_entry().await.ok().flatten(),
        None => None,
    } {
        let Some(seal_seq) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.strip_suffix(".json"))
            .and_then(|number| number.parse().ok())
        else {
            continue;
        };
        let body = tokio::fs::read(entry.path())
            .await
            .map_err(io(format!("cannot read {}", entry.path().display())))?;
        blobs.put_anchor(seal_seq, body).await?;
    }
    db::backup::restore(&database.target, &dump).await?;
    db::backup::forget_transaction_ids(&database.pool).await?;
    Ok(RestoreSummary {
        snapshot,
        objects: manifest.objects.len(),
        bytes,
    })
}

/// The snapshot directory called `name`, or the newest complete one.
async fn choose_snapshot(dir: &Path, name: Option<&str>) -> ServiceResult<PathBuf> {
    let snapshots = dir.join("snapshots");
    if let Some(name) = name {
        let path = snapshots.join(name);
        return if path.join(MANIFEST).is_file() {
            Ok(path)
        } else {
            Err(ServiceError::NotFound(format!(
                "no snapshot {}",
                path.display()
            )))
        };
    }
    let mut names = Vec::new();
    let mut entries = tokio::fs::read_dir(&snapshots).await.map_err(|error| {
        ServiceError::NotFound(format!(
            "{} holds no backup ({error}): give the directory `dangan backup` wrote",
            dir.display()
        ))
    })?;
    while let Ok(Some(entry)) = entries.next_entry().await {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with('.') && entry.path().join(MANIFEST).is_file() {
            names.push(name);
        }
    }
    names.sort();
    names.pop().map(|name| snapshots.join(name)).ok_or_else(|| {
        ServiceError::NotFound(format!("{} holds no complete backup", dir.display()))
    })
}

/// Copies stored content to `target`, checking its hash on the way; returns its size.
async fn copy_out(blobs: &BlobStore, digest: Sha256Digest, target: &Path) -> ServiceResult<u64> {
    let parent = target.parent().unwrap_or(target);
    tokio::fs::create_dir_all(parent)
        .await
        .map_err(io(format!("cannot create {}", parent.display())))?;
    let partial = target.with_extension("partial");
    let mut file = tokio::fs::File::create(&partial)
        .await
        .map_err(io(format!("cannot create {}", partial.display())))?;
    let mut stream = blobs.read(digest, None).await?;
    let (mut hasher, mut written) = (Sha256::new(), 0u64);
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        hasher.update(&chunk);
        written += chunk.len() as u64;
        file.write_all(&chunk)
            .await
            .map_err(io(format!("cannot write {}", partial.display())))?;
    }
    file.sync_all()
        .await
        .map_err(io(format!("cannot write {}", partial.display())))?;
    if hex::encode(hasher.finalize()) != digest.to_hex() {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(ServiceError::Internal(format!(
            "stored content {digest} does not match its hash; run `dangan verify` and restore it \
             from an earlier backup"
        )));
    }
    tokio::fs::rename(&partial, target)
        .await
        .map_err(io(format!("cannot write {}", target.display())))?;
    Ok(written)
}

/// Stores the backed-up file at `path` as content `hex`, refusing it if its hash differs.
async fn copy_in(blobs: &BlobStore, path: &Path, hex: &str) -> ServiceResult<u64> {
    let file = tokio::fs::File::open(path)
        .await
        .map_err(io(format!("the backup lacks {}", path.display())))?;
    let staged = match blobs.stage(tokio_util::io::ReaderStream::new(file)).await {
        Ok(staged) => staged,
        Err(StageError::Store(error)) => return Err(error.into()),
        Err(StageError::Source(error)) => {
            return Err(io(format!("cannot read {}", path.display()))(error));
        }
    };
    if staged.digest.to_hex() != hex {
        blobs.discard(staged.id).await?;
        return Err(ServiceError::Validation(format!(
            "{} does not match its hash: the backup is damaged",
            path.display()
        )));
    }
    blobs.promote(&staged).await?;
    Ok(staged.size)
}

async fn hash_file(path: &Path) -> ServiceResult<(String, u64)> {
    let mut file = tokio::fs::File::open(path)
        .await
        .map_err(io(format!("cannot read {}", path.display())))?;
    let (mut hasher, mut size) = (Sha256::new(), 0u64);
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let read = tokio::io::AsyncReadExt::read(&mut file, &mut buffer)
            .await
            .map_err(io(format!("cannot read {}", path.display())))?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        size += read as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

async fn write_file(path: &Path, body: &[u8]) -> ServiceResult<()> {
    if let Some(parent) = path.parent() {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(io(format!("cannot create {}", parent.display())))?;
    }
    tokio::fs::write(path, body)
        .await
        .map_err(io(format!("cannot write {}", path.display())))
}
