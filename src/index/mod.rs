//! The tantivy search index: schema and Chinese analysis, the writer that the indexer feeds
//! from the change log, and the searcher. The index lives in generations under its
//! directory (`gen-1`, `gen-2`, …) named by the file `CURRENT`; a rebuild writes a new
//! generation while the old one keeps serving, then moves `CURRENT`.
//! All calls here block: run them on a blocking thread.

pub mod analysis;
mod facets;
mod merges;
pub mod query;
pub mod schema;
mod search;
pub mod snippet;
mod stored;
mod tiers;
pub mod variants;

use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};

use serde::{Deserialize, Serialize};
use tantivy::store::{Compressor, ZstdCompressor};
use tantivy::{Index, IndexReader, IndexSettings, IndexWriter, ReloadPolicy, Term};
use uuid::Uuid;

pub use query::Filters;
pub use schema::{Fields, RecordDocument};
pub use search::{COUNT_CAP, Facet, Hit, SearchRequest, SearchResults};

use crate::domain::ErrorCode;

/// What went wrong with the index.
#[derive(Debug, thiserror::Error)]
pub enum IndexError {
    #[error("search index: {0}")]
    Tantivy(#[from] tantivy::TantivyError),
    #[error("search index directory {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("search index: {0}")]
    Corrupt(String),
    /// Another process on this data directory (`dangan serve` beside `dangan worker`)
    /// holds the index's writer: that process applies the change log to it.
    #[error("search index: its writer is held by another process on this data directory")]
    HeldElsewhere,
}

impl IndexError {
    pub fn code(&self) -> ErrorCode {
        ErrorCode::Internal
    }

    fn io(path: &Path, source: std::io::Error) -> Self {
        IndexError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// How far the index has followed the change log: every change with a transaction id below
/// `tx`, and those of `tx` up to `seq`, are applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct Position {
    pub tx: u64,
    pub seq: i64,
}

/// A change to apply: the record's current document, or its removal.
#[derive(Debug, Clone)]
pub enum Change {
    Upsert(Box<RecordDocument>),
    Delete(Uuid),
}

struct Generation {
    name: String,
    /// This generation's identity as a reader of the change log (`<name>.reader`).
    reader_id: Uuid,
    index: Index,
    reader: IndexReader,
    writer: Mutex<Option<IndexWriter>>,
}

/// The index of this node.
pub struct SearchIndex {
    root: PathBuf,
    fields: Fields,
    writer_memory: usize,
    current: RwLock<std::sync::Arc<Generation>>,
    /// Hits' stored fields, across searches and reloads.
    stored: stored::StoredHits,
}

const CURRENT: &str = "CURRENT";
/// Heap of a rebuild's writer at the least (128 MiB), split over its threads.
const REBUILD_MEMORY: usize = 128 << 20;

impl SearchIndex {
    /// Opens the current generation under `root`, creating the first on a new node.
    pub fn open(root: &Path, writer_memory: usize) -> Result<Self, IndexError> {
        std::fs::create_dir_all(root).map_err(|error| IndexError::io(root, error))?;
        let name = match std::fs::read_to_string(root.join(CURRENT)) {
            Ok(name) => name.trim().to_owned(),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                let name = "gen-1".to_owned();
                write_current(root, &name)?;
                name
            }
            Err(error) => return Err(IndexError::io(root, error)),
        };
        let (_, fields) = schema::build();
        let generation = match open_generation(root, &name) {
            Err(IndexError::Tantivy(tantivy::TantivyError::SchemaError(reason))) => {
                // written by a dangan with another schema: start an empty generation, which
                // the indexer fills by replaying the change log from its beginning
                let fresh = next_generation_name(root)?;
                tracing::warn!(old = name, new = fresh, %reason, "search index schema changed; rebuilding from the change log");
                let generation = open_generation(root, &fresh)?;
                write_current(root, &fresh)?;
                generation
            }
            other => other?,
        };
        Ok(Self {
            root: root.to_path_buf(),
            fields,
            writer_memory,
            current: RwLock::new(std::sync::Arc::new(generation)),
            stored: stored::StoredHits::default(),
        })
    }

    fn generation(&self) -> std::sync::Arc<Generation> {
        match self.current.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// The current generation's identity as a reader of the change log.
    pub fn reader_id(&self) -> Uuid {
        self.generation().reader_id
    }

    /// The change-log position of the last commit; `None` for a new, empty generation.
    pub fn position(&self) -> Result<Option<Position>, IndexError> {
        read_position(&self.generation().index)
    }

    /// Applies changes and remembers `position`, in one commit; searches see them after.
    /// The work runs behind searches: on a thread of lower priority, from which the writer's
    /// own threads (indexing, merging) are started and inherit it, so that a bulk import's
    /// indexing does not slow the searches made meanwhile.
    pub fn apply(&self, changes: Vec<Change>, position: Position) -> Result<(), IndexError> {
        std::thread::scope(|scope| {
            std::thread::Builder::new()
                .name("index-apply".into())
                .spawn_scoped(scope, || {
                    crate::priority::lower_this_thread();
                    self.apply_here(changes, position)
                })
                .map_err(|error| IndexError::io(&self.root, error))?
                .join()
                .unwrap_or_else(|_| Err(IndexError::Corrupt("the index writer panicked".into())))
        })
    }

    fn apply_here(&self, changes: Vec<Change>, position: Position) -> Result<(), IndexError> {
        let generation = self.generation();
        let mut guard = generation
            .writer
            .lock()
            .map_err(|_| IndexError::Corrupt("the index writer panicked".into()))?;
        if guard.is_none() {
            // one thread: the indexer applies small batches; a rebuild uses every core
            let writer = generation
                .index
                .writer_with_num_threads(1, self.writer_memory)
                .map_err(|error| match error {
                    tantivy::TantivyError::LockFailure(
                        tantivy::directory::error::LockError::LockBusy,
                        _,
                    ) => IndexError::HeldElsewhere,
                    other => other.into(),
                })?;
            writer.set_merge_policy(Box::new(merges::policy()));
            *guard = Some(writer);
        }
        let Some(writer) = guard.as_mut() else {
            return Err(IndexError::Corrupt("no index writer".into()));
        };
        apply_changes(writer, &self.fields, changes)?;
        commit(writer, position)?;
        generation.reader.reload()?;
        Ok(())
    }

    /// Lets go of the writer (and of the directory's lock), for a process that wrote to the
    /// index once but is not the node's indexer.
    pub fn release_writer(&self) {
        let generation = self.generation();
        let mut guard = match generation.writer.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        *guard = None;
    }

    /// Waits up to `timeout` for the process holding the writer to commit `position` or
    /// later, then shows its commits to this process's searches; returns whether it did.
    pub fn wait_for(
        &self,
        position: Position,
        timeout: std::time::Duration,
    ) -> Result<bool, IndexError> {
        let generation = self.generation();
        let started = std::time::Instant::now();
        loop {
            if read_position(&generation.index)? >= Some(position) {
                generation.reader.reload()?;
                return Ok(true);
            }
            if started.elapsed() >= timeout {
                return Ok(false);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }

    /// Switches to the generation `CURRENT` names, if a rebuild moved it; returns whether it
    /// did. The old generation is removed.
    pub fn follow_current(&self) -> Result<bool, IndexError> {
        let name = std::fs::read_to_string(self.root.join(CURRENT))
            .map_err(|error| IndexError::io(&self.root, error))?;
        let name = name.trim();
        let old = self.generation();
        if old.name == name {
            return Ok(false);
        }
        let generation = std::sync::Arc::new(open_generation(&self.root, name)?);
        match self.current.write() {
            Ok(mut current) => *current = generation,
            Err(poisoned) => *poisoned.into_inner() = generation,
        }
        let old_dir = self.root.join(&old.name);
        let old_reader = reader_file(&self.root, &old.name);
        drop(old);
        if let Err(error) = std::fs::remove_dir_all(&old_dir) {
            tracing::warn!(%error, dir = %old_dir.display(), "old index generation not removed");
        }
        std::fs::remove_file(old_reader).ok();
        tracing::info!(generation = name, "switched to the rebuilt search index");
        Ok(true)
    }

    /// Number of documents searchable now.
    pub fn num_docs(&self) -> u64 {
        self.generation().reader.searcher().num_docs()
    }

    /// The index fields.
    pub fn fields(&self) -> Fields {
        self.fields
    }

    /// Bytes of each part of the searchable index (`positions unigrams`, `store`, …),
    /// largest first: where its size goes.
    pub fn space_usage(&self) -> Result<Vec<(String, u64)>, IndexError> {
        let usage = self
            .generation()
            .reader
            .searcher()
            .space_usage()
            .map_err(|error| IndexError::Corrupt(format!("space usage: {error}")))?;
        let mut parts: std::collections::BTreeMap<String, u64> = Default::default();
        for segment in usage.segments() {
            for (component, per_field) in [
                ("terms", segment.termdict()),
                ("postings", segment.postings()),
                ("positions", segment.positions()),
                ("fast", segment.fast_fields()),
                ("norms", segment.fieldnorms()),
            ] {
                for field in per_field.fields() {
                    *parts
                        .entry(format!("{component} {}", field.field_name()))
                        .or_default() += field.total().get_bytes();
                }
            }
            *parts.entry("store".into()).or_default() += segment.store().total().get_bytes();
            *parts.entry("deletes".into()).or_default() += segment.deletes().get_bytes();
        }
        let mut parts: Vec<(String, u64)> = parts.into_iter().filter(|(_, n)| *n > 0).collect();
        parts.sort_by_key(|(_, bytes)| std::cmp::Reverse(*bytes));
        Ok(parts)
    }
}

/// A new generation being built by `dangan reindex`, invisible until [`Rebuild::finish`].
pub struct Rebuild {
    root: PathBuf,
    name: String,
    reader_id: Uuid,
    fields: Fields,
    writer: IndexWriter,
}

impl Rebuild {
    /// Starts a generation after the newest one under `root`.
    pub fn start(root: &Path, writer_memory: usize) -> Result<Self, IndexError> {
        std::fs::create_dir_all(root).map_err(|error| IndexError::io(root, error))?;
        let name = next_generation_name(root)?;
        let generation = open_generation(root, &name)?;
        let (_, fields) = schema::build();
        // a rebuild is a one-off: more heap means fewer, larger segments and a faster build
        let writer = generation.index.writer(writer_memory.max(REBUILD_MEMORY))?;
        writer.set_merge_policy(Box::new(merges::policy()));
        Ok(Self {
            root: root.to_path_buf(),
            name,
            reader_id: generation.reader_id,
            fields,
            writer,
        })
    }

    /// The new generation's identity as a reader of the change log.
    pub fn reader_id(&self) -> Uuid {
        self.reader_id
    }

    /// Adds documents.
    pub fn add(&mut self, documents: Vec<RecordDocument>) -> Result<(), IndexError> {
        for document in documents {
            self.writer
                .add_document(document.to_document(&self.fields))?;
        }
        Ok(())
    }

    /// Commits with `position` and makes this generation current.
    pub fn finish(mut self, position: Position) -> Result<String, IndexError> {
        commit(&mut self.writer, position)?;
        self.writer.wait_merging_threads()?;
        write_current(&self.root, &self.name)?;
        Ok(self.name)
    }
}

/// The name after the newest generation under `root`.
fn next_generation_name(root: &Path) -> Result<String, IndexError> {
    let newest = std::fs::read_dir(root)
        .map_err(|error| IndexError::io(root, error))?
        .filter_map(|entry| {
            entry
                .ok()?
                .file_name()
                .to_str()?
                .strip_prefix("gen-")?
                .parse::<u64>()
                .ok()
        })
        .max()
        .unwrap_or(0);
    Ok(format!("gen-{}", newest + 1))
}

/// Bytes of records compressed together in the docstore.
const DOCSTORE_BLOCK: usize = 128 << 10;
/// zstd's level for the docstore: decompression is as fast at any level.
const DOCSTORE_LEVEL: i32 = 7;

fn open_generation(root: &Path, name: &str) -> Result<Generation, IndexError> {
    let dir = root.join(name);
    std::fs::create_dir_all(&dir).map_err(|error| IndexError::io(&dir, error))?;
    let (schema, _) = schema::build();
    let directory = tantivy::directory::MmapDirectory::open(&dir)
        .map_err(|error| IndexError::Corrupt(error.to_string()))?;
    // the stored texts in zstd, in blocks of many records: most records are a catalogue
    // entry of a few hundred bytes, and a larger block finds more of what they share (on
    // the corpus's texts, 64 KiB at level 7 keeps 0.22 of their size, 16 KiB at level 3 0.29;
    // on catalogue entries made of the corpus's sentences, 128 KiB keeps 10 % less than
    // 64 KiB, where level 9 instead of 7 saves under 1 %). Compression runs on tantivy's own
    // thread; a hit costs one block's decompression (about 0.1 ms for 128 KiB), and the
    // reader caches the blocks it read
    let settings = IndexSettings {
        docstore_compression: Compressor::Zstd(ZstdCompressor {
            compression_level: Some(DOCSTORE_LEVEL),
        }),
        docstore_blocksize: DOCSTORE_BLOCK,
        ..IndexSettings::default()
    };
    let index = Index::builder()
        .schema(schema)
        .settings(settings)
        .open_or_create(directory)?;
    analysis::register(&index);
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::Manual)
        .try_into()?;
    Ok(Generation {
        name: name.to_owned(),
        reader_id: generation_reader_id(root, name)?,
        index,
        reader,
        writer: Mutex::new(None),
    })
}

fn apply_changes(
    writer: &mut IndexWriter,
    fields: &Fields,
    changes: Vec<Change>,
) -> Result<(), IndexError> {
    for change in changes {
        match change {
            Change::Upsert(document) => {
                writer.delete_term(Term::from_field_text(fields.id, &document.id.to_string()));
                writer.add_document(document.to_document(fields))?;
            }
            Change::Delete(id) => {
                writer.delete_term(Term::from_field_text(fields.id, &id.to_string()));
            }
        }
    }
    Ok(())
}

fn commit(writer: &mut IndexWriter, position: Position) -> Result<(), IndexError> {
    let payload =
        serde_json::to_string(&position).map_err(|error| IndexError::Corrupt(error.to_string()))?;
    let mut prepared = writer.prepare_commit()?;
    prepared.set_payload(&payload);
    prepared.commit()?;
    Ok(())
}

fn read_position(index: &Index) -> Result<Option<Position>, IndexError> {
    let metas = index.load_metas()?;
    match metas.payload {
        None => Ok(None),
        Some(payload) => serde_json::from_str(&payload).map(Some).map_err(|error| {
            IndexError::Corrupt(format!("unreadable position {payload:?}: {error}"))
        }),
    }
}

fn reader_file(root: &Path, name: &str) -> PathBuf {
    root.join(format!("{name}.reader"))
}

/// The reader identity of generation `name`, made on first use and kept beside it.
fn generation_reader_id(root: &Path, name: &str) -> Result<Uuid, IndexError> {
    let path = reader_file(root, name);
    match std::fs::read_to_string(&path) {
        Ok(text) => Uuid::parse_str(text.trim())
            .map_err(|error| IndexError::Corrupt(format!("{}: {error}", path.display()))),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            let id = Uuid::new_v4();
            let temporary = path.with_extension("reader.tmp");
            std::fs::write(&temporary, id.to_string())
                .and_then(|()| std::fs::rename(&temporary, &path))
                .map_err(|error| IndexError::io(&path, error))?;
            Ok(id)
        }
        Err(error) => Err(IndexError::io(&path, error)),
    }
}

/// Points `CURRENT` at `name`, atomically.
fn write_current(root: &Path, name: &str) -> Result<(), IndexError> {
    let temporary = root.join("CURRENT.tmp");
    let written = std::fs::File::create(&temporary).and_then(|mut file| {
        std::io::Write::write_all(&mut file, name.as_bytes())?;
        file.sync_all()
    });
    written.map_err(|error| IndexError::io(root, error))?;
    std::fs::rename(&temporary, root.join(CURRENT)).map_err(|error| IndexError::io(root, error))
}

#[cfg(test)]
mod tests;
