//! Uploads on their way in: streamed to a staging object while SHA-256 and size are computed,
//! in constant memory, then promoted to their content address.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use bytes::{Bytes, BytesMut};
use futures::{Stream, StreamExt};
use object_store::{ObjectStoreExt, WriteMultipart};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use uuid::Uuid;

use super::{BlobError, BlobKey, BlobStore};
use crate::domain::Sha256Digest;

/// How many leading bytes are kept for content sniffing.
pub const HEAD_BYTES: usize = 8192;
/// Chunks queued between the receiving task and the disk writer (bounded memory).
const WRITE_QUEUE: usize = 64;
/// Part size and concurrency of multipart uploads to remote stores.
const PART_BYTES: usize = 8 * 1024 * 1024;
const PART_CONCURRENCY: usize = 4;

/// Content that is fully written to staging, with its digest.
#[derive(Debug, Clone)]
pub struct StagedBlob {
    pub id: Uuid,
    pub digest: Sha256Digest,
    pub size: u64,
    /// The first bytes of the content, for recognising its format.
    pub head: Bytes,
}

/// Staging failed: either the incoming stream or the store.
#[derive(Debug)]
pub enum StageError<E> {
    Source(E),
    Store(BlobError),
}

impl<E> From<BlobError> for StageError<E> {
    fn from(error: BlobError) -> Self {
        StageError::Store(error)
    }
}

/// The running hash, size and head of a stream.
struct Fingerprint {
    hasher: Sha256,
    size: u64,
    head: BytesMut,
}

impl Fingerprint {
    fn new() -> Self {
        Self {
            hasher: Sha256::new(),
            size: 0,
            head: BytesMut::with_capacity(HEAD_BYTES),
        }
    }

    fn update(&mut self, chunk: &[u8]) {
        self.hasher.update(chunk);
        self.size += chunk.len() as u64;
        if self.head.len() < HEAD_BYTES {
            let take = (HEAD_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
        }
    }

    fn finish(self, id: Uuid) -> StagedBlob {
        StagedBlob {
            id,
            digest: Sha256Digest::from_bytes(self.hasher.finalize().into()),
            size: self.size,
            head: self.head.freeze(),
        }
    }
}

impl BlobStore {
    /// Streams `body` to a new staging object, hashing it on the way. On any error the
    /// partial object is removed.
    pub async fn stage<S, E>(&self, body: S) -> Result<StagedBlob, StageError<E>>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
    {
        let id = Uuid::now_v7();
        match &self.local_root {
            Some(root) => stage_local(root, id, body).await,
            None => self.stage_remote(id, body).await,
        }
    }

    async fn stage_remote<S, E>(&self, id: Uuid, mut body: S) -> Result<StagedBlob, StageError<E>>
    where
        S: Stream<Item = Result<Bytes, E>> + Unpin,
    {
        let upload = self
            .store
            .put_multipart(&BlobKey::Staging(id).path())
            .await
            .map_err(BlobError::from)?;
        let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
        let mut fingerprint = Fingerprint::new();
        while let Some(chunk) = body.next().await {
            let chunk = match chunk {
                Ok(chunk) => chunk,
                Err(error) => {
                    let _ = writer.abort().await;
                    return Err(StageError::Source(error));
                }
            };
            fingerprint.update(&chunk);
            if let Err(error) = writer.wait_for_capacity(PART_CONCURRENCY).await {
                let _ = writer.abort().await;
                return Err(StageError::Store(error.into()));
            }
            writer.put(chunk);
        }
        writer.finish().await.map_err(BlobError::from)?;
        Ok(fingerprint.finish(id))
    }
}

/// Local stores: the receiving task hashes, a blocking thread writes and fsyncs, so the two
/// overlap on separate cores.
async fn stage_local<S, E>(root: &Path, id: Uuid, mut body: S) -> Result<StagedBlob, StageError<E>>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let path = root.join(BlobKey::Staging(id).path().as_ref());
    let (sender, receiver) = mpsc::channel::<Bytes>(WRITE_QUEUE);
    let writer_path = path.clone();
    let writer = tokio::task::spawn_blocking(move || write_file(&writer_path, receiver));
    let mut fingerprint = Fingerprint::new();
    let mut source_error = None;
    while let Some(chunk) = body.next().await {
        match chunk {
            Ok(chunk) => {
                fingerprint.update(&chunk);
                if sender.send(chunk).await.is_err() {
                    break; // the writer failed; its error is collected below
                }
            }
            Err(error) => {
                source_error = Some(error);
                break;
            }
        }
    }
    drop(sender);
    let written = writer.await.map_err(|error| BlobError::Io {
        action: "writing a staging file",
        source: std::io::Error::other(error),
    });
    let failure = match (source_error, written) {
        (Some(error), _) => Some(StageError::Source(error)),
        (None, Err(error)) => Some(StageError::Store(error)),
        (None, Ok(Err(source))) => Some(StageError::Store(BlobError::Io {
            action: "writing a staging file",
            source,
        })),
        (None, Ok(Ok(_))) => None,
    };
    if let Some(failure) = failure {
        let _ = tokio::fs::remove_file(&path).await;
        return Err(failure);
    }
    Ok(fingerprint.finish(id))
}

fn write_file(path: &Path, mut chunks: mpsc::Receiver<Bytes>) -> std::io::Result<u64> {
    let mut file = OpenOptions::new().write(true).create_new(true).open(path)?;
    let mut written = 0u64;
    while let Some(chunk) = chunks.blocking_recv() {
        file.write_all(&chunk)?;
        written += chunk.len() as u64;
    }
    file.sync_all()?;
    Ok(written)
}

/// Moves a local staging file to its content address and makes the move durable.
pub(super) async fn promote_local(
    root: &Path,
    id: Uuid,
    digest: Sha256Digest,
) -> Result<(), BlobError> {
    let from = root.join(BlobKey::Staging(id).path().as_ref());
    let to = root.join(BlobKey::Content(digest).path().as_ref());
    tokio::task::spawn_blocking(move || rename_durably(&from, &to))
        .await
        .map_err(std::io::Error::other)
        .and_then(|result| result)
        .map_err(|source| BlobError::Io {
            action: "moving a staged file to its content address",
            source,
        })
}

fn rename_durably(from: &Path, to: &Path) -> std::io::Result<()> {
    let parent = to.parent().map(Path::to_path_buf).unwrap_or_default();
    let created: Vec<PathBuf> = parent
        .ancestors()
        .take_while(|dir| !dir.exists())
        .map(Path::to_path_buf)
        .collect();
    fs::create_dir_all(&parent)?;
    fs::rename(from, to)?;
    File::open(&parent)?.sync_all()?;
    // Directories created just now must reach the disk too, each in its own parent.
    for dir in created {
        if let Some(grandparent) = dir.parent() {
            File::open(grandparent)?.sync_all()?;
        }
    }
    Ok(())
}
