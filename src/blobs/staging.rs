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

/// Local stores: the receiving task hashes and packs the content into large aligned buffers;
/// a blocking thread writes them with `O_DIRECT` (past the page cache, which on busy hosts is
/// several times slower than the disk) and fsyncs. Buffers circulate between the two, so
/// memory stays at [`WRITE_BUFFERS`] × [`WRITE_BUFFER_BYTES`] whatever the file size.
async fn stage_local<S, E>(root: &Path, id: Uuid, mut body: S) -> Result<StagedBlob, StageError<E>>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    let path = root.join(BlobKey::Staging(id).path().as_ref());
    let (full_tx, full_rx) = mpsc::channel::<AlignedBuffer>(WRITE_BUFFERS);
    let (free_tx, mut free_rx) = mpsc::channel::<AlignedBuffer>(WRITE_BUFFERS);
    // buffers are made as the content needs them: most records are a few pages, and
    // zeroing megabytes for each of them was a good part of a small upload's work
    let mut unmade = WRITE_BUFFERS - 1;
    let writer_path = path.clone();
    let writer = tokio::task::spawn_blocking(move || write_file(&writer_path, full_rx, free_tx));
    let mut fingerprint = Fingerprint::new();
    let mut buffer = AlignedBuffer::new(FIRST_BUFFER_BYTES);
    let mut source_error = None;
    'receive: while let Some(chunk) = body.next().await {
        let chunk = match chunk {
            Ok(chunk) => chunk,
            Err(error) => {
                source_error = Some(error);
                break;
            }
        };
        fingerprint.update(&chunk);
        let mut rest = chunk.as_ref();
        while !rest.is_empty() {
            rest = buffer.fill(rest);
            if buffer.is_full() {
                let returned = match free_rx.try_recv() {
                    Ok(next) => Some(next),
                    Err(_) if unmade > 0 => None,
                    Err(_) => match free_rx.recv().await {
                        Some(next) => Some(next),
                        None => break 'receive, // the writer failed; its error is collected below
                    },
                };
                // the small first buffer leaves circulation once it comes back
                let next = match returned {
                    Some(next) if next.capacity == WRITE_BUFFER_BYTES => next,
                    Some(_) => AlignedBuffer::new(WRITE_BUFFER_BYTES),
                    None => {
                        unmade -= 1;
                        AlignedBuffer::new(WRITE_BUFFER_BYTES)
                    }
                };
                if full_tx
                    .send(std::mem::replace(&mut buffer, next))
                    .await
                    .is_err()
                {
                    break 'receive;
                }
            }
        }
    }
    if source_error.is_none() && !buffer.is_empty() {
        let _ = full_tx.send(buffer).await;
    }
    drop(full_tx);
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
        (None, Ok(Ok(size))) if size != fingerprint.size => {
            Some(StageError::Store(BlobError::Io {
                action: "writing a staging file",
                source: std::io::Error::other(format!(
                    "wrote {size} bytes of {}",
                    fingerprint.size
                )),
            }))
        }
        (None, Ok(Ok(_))) => None,
    };
    if let Some(failure) = failure {
        let _ = tokio::fs::remove_file(&path).await;
        return Err(failure);
    }
    Ok(fingerprint.finish(id))
}

/// Buffers in flight between the receiving task and the writer, and their size.
const WRITE_BUFFERS: usize = 3;
const WRITE_BUFFER_BYTES: usize = 4 * 1024 * 1024;
/// The first buffer of an upload: enough for most documents whole.
const FIRST_BUFFER_BYTES: usize = 256 * 1024;
/// Alignment `O_DIRECT` asks of buffers, offsets and lengths.
const DIRECT_ALIGN: usize = 4096;

/// A fixed-size buffer whose usable part starts on a [`DIRECT_ALIGN`] boundary.
struct AlignedBuffer {
    raw: Vec<u8>,
    start: usize,
    len: usize,
    /// Usable bytes: a multiple of [`DIRECT_ALIGN`].
    capacity: usize,
}

impl AlignedBuffer {
    fn new(capacity: usize) -> Self {
        let raw = vec![0u8; capacity + DIRECT_ALIGN];
        let start = raw.as_ptr().align_offset(DIRECT_ALIGN).min(DIRECT_ALIGN);
        Self {
            raw,
            start,
            len: 0,
            capacity,
        }
    }

    /// Copies as much of `data` as fits; returns what did not.
    fn fill<'a>(&mut self, data: &'a [u8]) -> &'a [u8] {
        let take = (self.capacity - self.len).min(data.len());
        let at = self.start + self.len;
        self.raw[at..at + take].copy_from_slice(&data[..take]);
        self.len += take;
        &data[take..]
    }

    fn is_full(&self) -> bool {
        self.len == self.capacity
    }

    fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn filled(&self) -> &[u8] {
        &self.raw[self.start..self.start + self.len]
    }
}

/// Writes full buffers as they come and hands them back; the last, partial one is written
/// in its aligned part directly and its tail through the page cache. Falls back to ordinary
/// writes where the file system refuses `O_DIRECT` (tmpfs, some network file systems).
fn write_file(
    path: &Path,
    mut full: mpsc::Receiver<AlignedBuffer>,
    free: mpsc::Sender<AlignedBuffer>,
) -> std::io::Result<u64> {
    use std::os::unix::fs::OpenOptionsExt;
    let open_direct = || {
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .custom_flags(nix::fcntl::OFlag::O_DIRECT.bits())
            .open(path)
    };
    // the staging directory is made when the first file finds it missing, not asked for
    // with a mkdir on every upload
    let direct = match open_direct() {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            if let Some(dir) = path.parent() {
                fs::create_dir_all(dir)?;
            }
            open_direct()
        }
        other => other,
    };
    let (mut file, is_direct) = match direct {
        Ok(file) => (file, true),
        Err(_) => (
            OpenOptions::new().write(true).create_new(true).open(path)?,
            false,
        ),
    };
    let mut written = 0u64;
    let mut tail: Vec<u8> = Vec::new();
    while let Some(mut buffer) = full.blocking_recv() {
        let data = buffer.filled();
        let aligned = if is_direct {
            data.len() / DIRECT_ALIGN * DIRECT_ALIGN
        } else {
            data.len()
        };
        file.write_all(&data[..aligned])?;
        written += aligned as u64;
        if aligned < data.len() {
            // only the last buffer can be partial
            tail.extend_from_slice(&data[aligned..]);
        }
        buffer.len = 0;
        let _ = free.blocking_send(buffer);
    }
    if !tail.is_empty() {
        file = OpenOptions::new().write(true).open(path)?;
        std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(written))?;
        file.write_all(&tail)?;
        written += tail.len() as u64;
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

/// The rename is tried first: the directories of a content address exist but for the first
/// content under a prefix, and asking for them (a stat per ancestor and a mkdir) cost more
/// than the rename.
fn rename_durably(from: &Path, to: &Path) -> std::io::Result<()> {
    let parent = to.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut created: Vec<PathBuf> = Vec::new();
    match fs::rename(from, to) {
        Err(error) if error.kind() == std::io::ErrorKind::NotFound && from.exists() => {
            created = parent
                .ancestors()
                .take_while(|dir| !dir.exists())
                .map(Path::to_path_buf)
                .collect();
            fs::create_dir_all(&parent)?;
            fs::rename(from, to)?;
        }
        other => other?,
    }
    File::open(&parent)?.sync_all()?;
    // Directories created just now must reach the disk too, each in its own parent.
    for dir in created {
        if let Some(grandparent) = dir.parent() {
            File::open(grandparent)?.sync_all()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_move_makes_missing_directories_and_reuses_present_ones() {
        let root = tempfile::tempdir().expect("scratch");
        let staged = |name: &str| {
            let path = root.path().join(name);
            fs::write(&path, name).expect("staged file");
            path
        };
        let into = root.path().join("blobs/sha256/ab/cd");
        rename_durably(&staged("one"), &into.join("abcd1")).expect("first move");
        rename_durably(&staged("two"), &into.join("abcd2")).expect("second move");
        assert_eq!(fs::read(into.join("abcd1")).expect("first"), b"one");
        assert_eq!(fs::read(into.join("abcd2")).expect("second"), b"two");
        let missing = rename_durably(
            &root.path().join("gone"),
            &root.path().join("blobs/sha256/ef/01/ef01"),
        )
        .expect_err("nothing to move");
        assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
        assert!(
            !root.path().join("blobs/sha256/ef").exists(),
            "no directory is made for a file that is not there"
        );
    }
}
