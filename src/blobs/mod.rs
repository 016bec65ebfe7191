//! File content in the object store, addressed by SHA-256. `BlobKey` owns every object
//! path; [`BlobStore`](crate::blobs::BlobStore) streams uploads to a staging key while hashing, promotes them to their
//! content address, reads ranges back and collects staging leftovers.

mod fixity;
mod staging;

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use object_store::local::LocalFileSystem;
use object_store::path::Path as ObjectPath;
use object_store::prefix::PrefixStore;
use object_store::{GetOptions, GetRange, ObjectStore, ObjectStoreExt};
use uuid::Uuid;

pub use fixity::ObjectFixity;
pub use staging::{StageError, StagedBlob};

use crate::domain::{ErrorCode, Sha256Digest};

/// What went wrong in the object store.
#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("object {0} not found")]
    NotFound(String),
    #[error("object store: {0}")]
    Store(#[source] object_store::Error),
    #[error("{action}: {source}")]
    Io {
        action: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error("object store URL {url:?}: {reason}")]
    Url { url: String, reason: String },
}

impl BlobError {
    pub fn code(&self) -> ErrorCode {
        match self {
            BlobError::NotFound(_) => ErrorCode::NotFound,
            BlobError::Store(_) | BlobError::Io { .. } => ErrorCode::Unavailable,
            BlobError::Url { .. } => ErrorCode::Internal,
        }
    }
}

impl From<object_store::Error> for BlobError {
    fn from(error: object_store::Error) -> Self {
        match error {
            object_store::Error::NotFound { path, .. } => BlobError::NotFound(path),
            other => BlobError::Store(other),
        }
    }
}

/// Every object path dangan uses.
pub enum BlobKey {
    /// Content at rest: `blobs/sha256/ab/cd/<hash>`.
    Content(Sha256Digest),
    /// An upload in progress or abandoned: `staging/<uuid>`.
    Staging(Uuid),
    /// The anchored head of the audit chain at one seal number:
    /// `audit/anchors/<seal number, 20 digits>.json`, so the newest sorts last.
    AuditAnchor(i64),
}

impl BlobKey {
    pub const STAGING_PREFIX: &'static str = "staging";
    pub const CONTENT_PREFIX: &'static str = "blobs/sha256";
    pub const ANCHOR_PREFIX: &'static str = "audit/anchors";

    pub fn path(&self) -> ObjectPath {
        match self {
            BlobKey::Content(digest) => {
                let hex = digest.to_hex();
                ObjectPath::from(format!(
                    "{}/{}/{}/{hex}",
                    Self::CONTENT_PREFIX,
                    &hex[0..2],
                    &hex[2..4]
                ))
            }
            BlobKey::Staging(id) => ObjectPath::from(format!("{}/{id}", Self::STAGING_PREFIX)),
            BlobKey::AuditAnchor(seal_seq) => {
                ObjectPath::from(format!("{}/{seal_seq:020}.json", Self::ANCHOR_PREFIX))
            }
        }
    }
}

/// Whether promotion stored new content or found it already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Promotion {
    /// The staging object became the content object.
    Created,
    /// The content was already stored; the staging copy is now redundant.
    AlreadyStored,
}

/// The object store with dangan's layout on top.
#[derive(Clone)]
pub struct BlobStore {
    store: Arc<dyn ObjectStore>,
    /// The directory behind a local store: uploads are written there directly, with fsync.
    local_root: Option<PathBuf>,
    description: Arc<str>,
}

/// Retries of a remote store's requests: a few, within seconds, so that an unreachable store
/// refuses an upload (503) soon instead of holding it for the client library's three minutes.
const RETRY: object_store::RetryConfig = object_store::RetryConfig {
    backoff: object_store::BackoffConfig {
        init_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_secs(2),
        base: 2.0,
    },
    max_retries: 3,
    retry_timeout: Duration::from_secs(10),
};

impl BlobStore {
    /// Opens the store at `url` (`s3://`, `gs://`, `az://`, `file://`), or the local
    /// directory `default_dir` when there is none. Remote stores take their credentials and
    /// options from the usual environment variables (`AWS_*`, `GOOGLE_*`, `AZURE_*`).
    pub fn open(url: Option<&str>, default_dir: &Path) -> Result<Self, BlobError> {
        Self::open_with(url, default_dir, &[])
    }

    /// Like [`BlobStore::open`], with extra store options (`endpoint`, `allow_http`, …) on
    /// top of the environment's.
    pub fn open_with(
        url: Option<&str>,
        default_dir: &Path,
        options: &[(&str, &str)],
    ) -> Result<Self, BlobError> {
        let Some(url) = url else {
            return Self::local(default_dir);
        };
        let bad_url = |reason: String| BlobError::Url {
            url: url.to_owned(),
            reason,
        };
        let parsed = url::Url::parse(url).map_err(|error| bad_url(error.to_string()))?;
        if parsed.scheme() == "file" {
            let dir = parsed
                .to_file_path()
                .map_err(|()| bad_url("not an absolute file path".into()))?;
            return Self::local(&dir);
        }
        macro_rules! build {
            ($builder:ty) => {{
                let mut builder = <$builder>::from_env().with_url(url).with_retry(RETRY);
                for (key, value) in options {
                    let key = key
                        .parse()
                        .map_err(|error: object_store::Error| bad_url(error.to_string()))?;
                    builder = builder.with_config(key, *value);
                }
                Arc::new(
                    builder
                        .build()
                        .map_err(|error| bad_url(error.to_string()))?,
                ) as Arc<dyn ObjectStore>
            }};
        }
        let store = match parsed.scheme() {
            "s3" | "s3a" => build!(object_store::aws::AmazonS3Builder),
            "gs" => build!(object_store::gcp::GoogleCloudStorageBuilder),
            "az" | "azure" | "abfs" | "abfss" => build!(object_store::azure::MicrosoftAzureBuilder),
            other => {
                return Err(bad_url(format!(
                    "unsupported scheme {other:?}; use s3, gs, az or file"
                )));
            }
        };
        let prefix = parsed.path().trim_matches('/');
        let store: Arc<dyn ObjectStore> = if prefix.is_empty() {
            store
        } else {
            Arc::new(PrefixStore::new(store, prefix))
        };
        Ok(Self {
            store,
            local_root: None,
            description: format!(
                "{}://{}/{prefix}",
                parsed.scheme(),
                parsed.host_str().unwrap_or("")
            )
            .into(),
        })
    }

    fn local(dir: &Path) -> Result<Self, BlobError> {
        std::fs::create_dir_all(dir.join(BlobKey::STAGING_PREFIX)).map_err(|source| {
            BlobError::Io {
                action: "creating the object directory",
                source,
            }
        })?;
        let root = std::fs::canonicalize(dir).map_err(|source| BlobError::Io {
            action: "resolving the object directory",
            source,
        })?;
        // No automatic cleanup of empty directories: it races with promotions creating them.
        let store = LocalFileSystem::new_with_prefix(&root)?;
        Ok(Self {
            store: Arc::new(store),
            description: format!("file://{}", root.display()).into(),
            local_root: Some(root),
        })
    }

    /// Where the content lives, for logs.
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// Makes the staged content available at its content address. Call it while holding the
    /// blob's database row lock, so that a concurrent deletion of the same content cannot
    /// interleave.
    pub async fn promote(&self, staged: &StagedBlob) -> Result<Promotion, BlobError> {
        let target = BlobKey::Content(staged.digest).path();
        match self.store.head(&target).await {
            Ok(meta) if meta.size == staged.size => return Ok(Promotion::AlreadyStored),
            Ok(_) | Err(object_store::Error::NotFound { .. }) => {}
            Err(error) => return Err(error.into()),
        }
        match &self.local_root {
            Some(root) => staging::promote_local(root, staged.id, staged.digest).await?,
            None => {
                self.store
                    .rename(&BlobKey::Staging(staged.id).path(), &target)
                    .await?
            }
        }
        Ok(Promotion::Created)
    }

    /// Removes a staging object; one that is already gone is fine.
    pub async fn discard(&self, staging_id: Uuid) -> Result<(), BlobError> {
        ignore_not_found(
            self.store
                .delete(&BlobKey::Staging(staging_id).path())
                .await,
        )
    }

    /// Removes stored content; content that is already gone is fine.
    pub async fn delete(&self, digest: Sha256Digest) -> Result<(), BlobError> {
        ignore_not_found(self.store.delete(&BlobKey::Content(digest).path()).await)
    }

    /// Whether content with this digest is stored.
    pub async fn exists(&self, digest: Sha256Digest) -> Result<bool, BlobError> {
        match self.store.head(&BlobKey::Content(digest).path()).await {
            Ok(_) => Ok(true),
            Err(object_store::Error::NotFound { .. }) => Ok(false),
            Err(error) => Err(error.into()),
        }
    }

    /// Streams stored content, or the byte `range` of it.
    pub async fn read(
        &self,
        digest: Sha256Digest,
        range: Option<Range<u64>>,
    ) -> Result<BoxStream<'static, Result<Bytes, BlobError>>, BlobError> {
        let options = GetOptions {
            range: range.map(GetRange::Bounded),
            ..GetOptions::default()
        };
        let result = self
            .store
            .get_opts(&BlobKey::Content(digest).path(), options)
            .await?;
        Ok(result.into_stream().map_err(BlobError::from).boxed())
    }

    /// Stored content whole, in memory: for content whose size the caller has bounded.
    pub async fn read_all(&self, digest: Sha256Digest) -> Result<Bytes, BlobError> {
        let result = self.store.get(&BlobKey::Content(digest).path()).await?;
        Ok(result.bytes().await?)
    }

    /// Writes stored content to the file at `path` (a scratch copy for a child process to
    /// read); returns the bytes written.
    pub async fn copy_to_file(&self, digest: Sha256Digest, path: &Path) -> Result<u64, BlobError> {
        use tokio::io::AsyncWriteExt;
        let io = |action| move |source| BlobError::Io { action, source };
        let mut file = tokio::fs::File::create(path)
            .await
            .map_err(io("create a scratch copy"))?;
        let mut stream = self.read(digest, None).await?;
        let mut written = 0u64;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk?;
            file.write_all(&chunk)
                .await
                .map_err(io("write a scratch copy"))?;
            written += chunk.len() as u64;
        }
        file.flush().await.map_err(io("write a scratch copy"))?;
        Ok(written)
    }

    /// Deletes staging objects older than `max_age`; returns how many.
    pub async fn collect_staging(&self, max_age: Duration) -> Result<usize, BlobError> {
        let cutoff = chrono::Utc::now()
            - chrono::Duration::from_std(max_age).unwrap_or(chrono::Duration::MAX);
        let prefix = ObjectPath::from(BlobKey::STAGING_PREFIX);
        let stale: Vec<ObjectPath> = self
            .store
            .list(Some(&prefix))
            .try_filter(|meta| std::future::ready(meta.last_modified < cutoff))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await?;
        for location in &stale {
            ignore_not_found(self.store.delete(location).await)?;
        }
        Ok(stale.len())
    }

    /// Keys of every object under `prefix`, for checks and tests.
    pub async fn list_keys(&self, prefix: &str) -> Result<Vec<String>, BlobError> {
        let prefix = ObjectPath::from(prefix);
        Ok(self
            .store
            .list(Some(&prefix))
            .map_ok(|meta| meta.location.to_string())
            .try_collect()
            .await?)
    }

    /// Writes an anchor of the audit chain (small JSON).
    pub async fn put_anchor(&self, seal_seq: i64, body: Vec<u8>) -> Result<(), BlobError> {
        self.store
            .put(&BlobKey::AuditAnchor(seal_seq).path(), body.into())
            .await?;
        Ok(())
    }

    /// The newest anchor of the audit chain, if any was written.
    pub async fn latest_anchor(&self) -> Result<Option<Bytes>, BlobError> {
        let mut keys = self.list_keys(BlobKey::ANCHOR_PREFIX).await?;
        keys.sort();
        let Some(newest) = keys.pop() else {
            return Ok(None);
        };
        let body = self
            .store
            .get(&ObjectPath::from(newest))
            .await?
            .bytes()
            .await?;
        Ok(Some(body))
    }

    /// Every anchor of the audit chain, by seal number (for a backup).
    pub async fn anchors(&self) -> Result<Vec<(i64, Bytes)>, BlobError> {
        let mut anchors = Vec::new();
        for key in self.list_keys(BlobKey::ANCHOR_PREFIX).await? {
            let Some(seal_seq) = key
                .rsplit('/')
                .next()
                .and_then(|name| name.strip_suffix(".json"))
                .and_then(|number| number.parse().ok())
            else {
                continue;
            };
            let body = self
                .store
                .get(&ObjectPath::from(key))
                .await?
                .bytes()
                .await?;
            anchors.push((seal_seq, body));
        }
        Ok(anchors)
    }

    /// Whether any content is stored (a restore needs an empty store).
    pub async fn holds_content(&self) -> Result<bool, BlobError> {
        let prefix = ObjectPath::from(BlobKey::CONTENT_PREFIX);
        Ok(self
            .store
            .list(Some(&prefix))
            .next()
            .await
            .transpose()?
            .is_some())
    }

    /// Checks that the store answers: a lookup of a key that does not exist must say so.
    pub async fn check(&self) -> Result<(), BlobError> {
        match self.store.head(&ObjectPath::from("readyz-probe")).await {
            Ok(_) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }
}

fn ignore_not_found(result: object_store::Result<()>) -> Result<(), BlobError> {
    match result {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
        Err(error) => Err(error.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_keys_fan_out_by_the_first_two_bytes() {
        let digest: Sha256Digest =
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
                .parse()
                .expect("valid digest");
        assert_eq!(
            BlobKey::Content(digest).path().as_ref(),
            "blobs/sha256/e3/b0/e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
