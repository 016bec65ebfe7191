//! The stored part of a hit (its record id and the text its snippet is cut from), kept across
//! searches and across reloads of the reader.
//!
//! tantivy keeps the docstore in zstd blocks of [`super::DOCSTORE_BLOCK`] bytes and caches
//! up to 100 decompressed blocks per segment in each searcher. Two things defeat that cache
//! on a busy archive: every reload (up to four a second while records are filed) starts a
//! searcher with empty caches, and a few queries' first pages reach more blocks of a large
//! segment than it holds, so that each hit decompressed a whole block (1.4 ms of a search's
//! 2.7 at 10 000 records). A segment never changes once written, so a document's stored
//! fields are known for good by its segment and number: this cache holds them, a few
//! kilobytes each where a block is 128 KiB, and a merge or a rebuild simply makes new keys.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tantivy::DocId;
use tantivy::index::SegmentId;
use uuid::Uuid;

/// What a hit needs from the docstore.
#[derive(Debug)]
pub(super) struct StoredHit {
    pub id: Uuid,
    pub text: String,
}

type Key = (SegmentId, DocId);

/// Bytes of stored hits kept at the most.
const CAPACITY: usize = 32 << 20;
/// A text larger than this is not kept: one document must not push out hundreds.
const LARGEST: usize = 1 << 20;
/// What an entry costs beside its text.
const OVERHEAD: usize = 96;

/// Stored hits, bounded in bytes: two generations, where a hit found in the old one moves to
/// the young one, and a full young generation becomes the old one (dropping the old). Recent
/// and repeated hits stay; the memory is at most [`CAPACITY`] and the bookkeeping is one
/// hash lookup.
#[derive(Default)]
pub(super) struct StoredHits {
    generations: Mutex<Generations>,
}

#[derive(Default)]
struct Generations {
    young: HashMap<Key, Arc<StoredHit>>,
    young_bytes: usize,
    old: HashMap<Key, Arc<StoredHit>>,
}

fn cost(hit: &StoredHit) -> usize {
    hit.text.len() + OVERHEAD
}

impl StoredHits {
    /// The stored hit of document `doc` of segment `segment`, read by `load` if not kept.
    pub fn get_or_load<E>(
        &self,
        segment: SegmentId,
        doc: DocId,
        load: impl FnOnce() -> Result<StoredHit, E>,
    ) -> Result<Arc<StoredHit>, E> {
        let key = (segment, doc);
        if let Some(hit) = self.lock().find(&key) {
            return Ok(hit);
        }
        // read outside the lock: decompressing a block takes a while
        let hit = Arc::new(load()?);
        if cost(&hit) <= LARGEST {
            self.lock().keep(key, hit.clone());
        }
        Ok(hit)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Generations> {
        match self.generations.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}

impl Generations {
    fn find(&mut self, key: &Key) -> Option<Arc<StoredHit>> {
        if let Some(hit) = self.young.get(key) {
            return Some(hit.clone());
        }
        let hit = self.old.remove(key)?;
        self.keep(*key, hit.clone());
        Some(hit)
    }

    fn keep(&mut self, key: Key, hit: Arc<StoredHit>) {
        let bytes = cost(&hit);
        if self.young_bytes + bytes > CAPACITY / 2 {
            self.old = std::mem::take(&mut self.young);
            self.young_bytes = 0;
        }
        if self.young.insert(key, hit).is_none() {
            self.young_bytes += bytes;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hit(bytes: usize) -> StoredHit {
        StoredHit {
            id: Uuid::new_v4(),
            text: "x".repeat(bytes),
        }
    }

    fn loads(cache: &StoredHits, segment: SegmentId, doc: DocId, bytes: usize) -> bool {
        let mut loaded = false;
        cache
            .get_or_load::<()>(segment, doc, || {
                loaded = true;
                Ok(hit(bytes))
            })
            .expect("load");
        loaded
    }

    #[test]
    fn a_kept_hit_is_not_read_again_and_the_memory_stays_bounded() {
        let cache = StoredHits::default();
        let segment = SegmentId::generate_random();
        assert!(loads(&cache, segment, 1, 1000), "first read");
        assert!(!loads(&cache, segment, 1, 1000), "kept");
        // another segment's document 1 is another document
        assert!(loads(&cache, SegmentId::generate_random(), 1, 1000));

        // fill far past the capacity while document 1 keeps being asked for: it stays, and
        // what is kept stays under the bound
        let each = 64 << 10;
        for doc in 2..(4 * CAPACITY / each) as DocId {
            loads(&cache, segment, doc, each);
            assert!(!loads(&cache, segment, 1, 1000), "a repeated hit stays");
        }
        let kept = {
            let generations = cache.lock();
            generations
                .young
                .values()
                .chain(generations.old.values())
                .map(|hit| cost(hit))
                .sum::<usize>()
        };
        assert!(kept <= CAPACITY, "{kept} bytes kept");
        assert!(loads(&cache, segment, 2, each), "the oldest were let go");
    }

    #[test]
    fn a_huge_text_is_read_each_time_not_kept() {
        let cache = StoredHits::default();
        let segment = SegmentId::generate_random();
        assert!(loads(&cache, segment, 7, LARGEST + 1));
        assert!(loads(&cache, segment, 7, LARGEST + 1));
    }
}
