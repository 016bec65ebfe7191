//! One conformance suite for the blob store, run against every backend: the local disk
//! (O_DIRECT writes), tmpfs (which refuses O_DIRECT), and S3 through a real S3-compatible
//! server (s3s-fs).

use std::convert::Infallible;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use dangan::blobs::{BlobStore, Promotion, StageError};
use futures::TryStreamExt;
use sha2::{Digest, Sha256};

use crate::helpers::s3::start_s3;

/// Deterministic content of `size` bytes.
fn content(size: usize, seed: u8) -> Vec<u8> {
    (0..size)
        .map(|i| {
            (i as u64)
                .wrapping_mul(2_654_435_761)
                .rotate_left(u32::from(seed)) as u8
        })
        .collect()
}

/// The content as a stream of irregular chunks, as a network delivers it.
fn chunked(data: &[u8]) -> impl futures::Stream<Item = Result<Bytes, Infallible>> + Unpin + use<> {
    let mut chunks = Vec::new();
    let mut offset = 0;
    let mut step = 1000;
    while offset < data.len() {
        let end = (offset + step).min(data.len());
        chunks.push(Ok(Bytes::copy_from_slice(&data[offset..end])));
        offset = end;
        step = step * 3 % 70_001 + 1;
    }
    futures::stream::iter(chunks)
}

async fn read_all(
    store: &BlobStore,
    digest: dangan::domain::Sha256Digest,
    range: Option<std::ops::Range<u64>>,
) -> Vec<u8> {
    let stream = store.read(digest, range).await.expect("read");
    let chunks: Vec<Bytes> = stream.try_collect().await.expect("read stream");
    chunks.concat()
}

async fn conformance(store: BlobStore) {
    for (seed, size) in [
        0usize,
        1,
        4095,
        4096,
        4097,
        // past the small first write buffer, then through several large ones in turn
        256 * 1024 + 1,
        4 * 1024 * 1024 + 17,
        9 * 1024 * 1024,
        21 * 1024 * 1024 + 5,
    ]
    .into_iter()
    .enumerate()
    {
        let data = content(size, seed as u8);
        let staged = store
            .stage(chunked(&data))
            .await
            .map_err(|error| format!("size {size}: {error:?}"))
            .expect("staged");
        assert_eq!(staged.size, size as u64);
        assert_eq!(
            staged.digest.as_bytes().as_slice(),
            Sha256::digest(&data).as_slice(),
            "size {size}"
        );
        assert_eq!(staged.head.as_ref(), &data[..data.len().min(8192)]);

        assert_eq!(
            store.promote(&staged).await.expect("promote"),
            Promotion::Created
        );
        store.discard(staged.id).await.expect("discard");
        assert!(store.exists(staged.digest).await.expect("exists"));
        assert_eq!(
            read_all(&store, staged.digest, None).await,
            data,
            "size {size}"
        );
        if size > 10 {
            assert_eq!(
                read_all(&store, staged.digest, Some(3..10)).await,
                &data[3..10]
            );
        }

        let again = store
            .stage(chunked(&data))
            .await
            .map_err(|error| format!("{error:?}"))
            .expect("staged again");
        assert_eq!(again.digest, staged.digest);
        assert_eq!(
            store.promote(&again).await.expect("promote"),
            Promotion::AlreadyStored
        );
        store.discard(again.id).await.expect("discard");

        store.delete(staged.digest).await.expect("delete");
        assert!(!store.exists(staged.digest).await.expect("exists"));
        store
            .delete(staged.digest)
            .await
            .expect("deleting twice is fine");
    }
    assert_eq!(
        store.list_keys("staging").await.expect("list"),
        Vec::<String>::new()
    );

    // a stream that fails midway leaves nothing behind
    let failing = futures::stream::iter(vec![
        Ok(Bytes::from(vec![1u8; 100_000])),
        Err("connection reset"),
    ]);
    match store.stage(failing).await {
        Err(StageError::Source(error)) => assert_eq!(error, "connection reset"),
        other => panic!(
            "expected the source error, got {:?}",
            other.map(|staged| staged.digest)
        ),
    }
    assert_eq!(
        store.list_keys("staging").await.expect("list"),
        Vec::<String>::new()
    );

    // abandoned staging objects are collected once old enough
    let abandoned = store
        .stage(chunked(b"abandoned upload"))
        .await
        .map_err(|error| format!("{error:?}"))
        .expect("staged");
    assert_eq!(
        store
            .collect_staging(Duration::from_secs(3600))
            .await
            .expect("collect"),
        0
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        store
            .collect_staging(Duration::from_secs(1))
            .await
            .expect("collect"),
        1
    );
    assert!(
        store.list_keys("staging").await.expect("list").is_empty(),
        "{}",
        abandoned.digest
    );
    store.check().await.expect("store answers");
}

#[tokio::test]
async fn the_local_store_on_disk_conforms() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
    conformance(BlobStore::open(None, dir.path()).expect("open")).await;
}

#[tokio::test]
async fn the_local_store_on_tmpfs_conforms() {
    let shm = Path::new("/dev/shm");
    assert!(
        shm.is_dir(),
        "this test needs /dev/shm (tmpfs, which refuses O_DIRECT)"
    );
    let dir = tempfile::tempdir_in(shm).expect("temp dir");
    let url = format!("file://{}", dir.path().display());
    conformance(BlobStore::open(Some(&url), Path::new("/unused")).expect("open")).await;
}

#[tokio::test]
async fn the_s3_store_conforms() {
    let server = start_s3().await;
    let endpoint = server.endpoint();
    let store = BlobStore::open_with(
        Some("s3://archive/dangan"),
        Path::new("/unused"),
        &[
            ("endpoint", &endpoint),
            ("allow_http", "true"),
            ("access_key_id", "test"),
            ("secret_access_key", "testsecret"),
            ("region", "us-east-1"),
            ("virtual_hosted_style_request", "false"),
        ],
    )
    .expect("open s3 store");
    conformance(store).await;
    // everything lives under the URL's prefix
    let keys = std::fs::read_dir(server.dir.path().join("archive"))
        .expect("bucket dir")
        .flatten()
        .map(|entry| entry.file_name().to_string_lossy().into_owned())
        .collect::<Vec<_>>();
    assert!(keys.iter().all(|key| key == "dangan"), "{keys:?}");
}
