//! Fixity: re-reading stored content to compare it with its address, and listing the
//! content objects of the store. A local store is read straight from disk on a blocking
//! thread in large reads; other stores are streamed.

use std::io::Read;

use futures::StreamExt;
use sha2::{Digest, Sha256};

use super::{BlobError, BlobKey, BlobStore};
use crate::domain::Sha256Digest;

/// Bytes read at a time from a local file.
const READ_SIZE: usize = 1 << 20;

/// What a stored object hashes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectFixity {
    pub sha256: Sha256Digest,
    pub size: u64,
}

impl BlobStore {
    /// Re-reads the content stored under `digest` and hashes it; `None` when the object is
    /// missing.
    pub async fn fixity(&self, digest: Sha256Digest) -> Result<Option<ObjectFixity>, BlobError> {
        if let Some(root) = &self.local_root {
            let path = root.join(BlobKey::Content(digest).path().as_ref());
            return tokio::task::spawn_blocking(move || hash_file(&path))
                .await
                .map_err(|error| BlobError::Io {
                    action: "hashing a stored object",
                    source: std::io::Error::other(error),
                })?;
        }
        let mut stream = match self.read(digest, None).await {
            Ok(stream) => stream,
            Err(BlobError::NotFound(_)) => return Ok(None),
            Err(error) => return Err(error),
        };
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            size += chunk.len() as u64;
            hasher.update(&chunk);
        }
        Ok(Some(ObjectFixity {
            sha256: digest_of(hasher),
            size,
        }))
    }

    /// The digests of every content object in the store (staging objects left out); keys
    /// that are not content addresses are returned as they are in the second list.
    pub async fn content_objects(&self) -> Result<(Vec<Sha256Digest>, Vec<String>), BlobError> {
        let mut digests = Vec::new();
        let mut strays = Vec::new();
        for key in self.list_keys(BlobKey::CONTENT_PREFIX).await? {
            let name = key.rsplit('/').next().unwrap_or_default();
            match name.parse::<Sha256Digest>().ok() {
                Some(digest) if BlobKey::Content(digest).path().as_ref() == key => {
                    digests.push(digest);
                }
                _ => strays.push(key),
            }
        }
        Ok((digests, strays))
    }
}

fn hash_file(path: &std::path::Path) -> Result<Option<ObjectFixity>, BlobError> {
    let mut file = match std::fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(BlobError::Io {
                action: "opening a stored object",
                source,
            });
        }
    };
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; READ_SIZE];
    let mut size = 0u64;
    loop {
        let read = file.read(&mut buffer).map_err(|source| BlobError::Io {
            action: "reading a stored object",
            source,
        })?;
        if read == 0 {
            break;
        }
        size += read as u64;
        hasher.update(&buffer[..read]);
    }
    Ok(Some(ObjectFixity {
        sha256: digest_of(hasher),
        size,
    }))
}

fn digest_of(hasher: Sha256) -> Sha256Digest {
    let bytes: [u8; 32] = hasher.finalize().into();
    Sha256Digest::from_bytes(bytes)
}
