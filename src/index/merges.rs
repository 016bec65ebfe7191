//! How the index writer merges its segments. The indexer commits a small segment each time it
//! catches up with the change log (a few dozen records during a bulk import), so the merge
//! policy is tantivy's log policy with small segments put into levels of their own.
//!
//! tantivy's default counts every segment under 10 000 documents as one level and merges the
//! level whenever it holds eight: each new batch of small segments was merged into the one
//! grown from all before it, so a record filed early in an import was written again every few
//! commits until its segment passed 10 000 (merging took as much CPU as indexing, in profiles
//! of `scripts/bench ingest`). With levels from [`MIN_LAYER_DOCS`] up, a record is merged
//! about once per eightfold growth of its segment.

use tantivy::merge_policy::LogMergePolicy;

/// Segments below this many documents count as one level.
const MIN_LAYER_DOCS: u32 = 100;

/// The merge policy of every index writer.
pub(super) fn policy() -> LogMergePolicy {
    let mut policy = LogMergePolicy::default();
    policy.set_min_layer_size(MIN_LAYER_DOCS);
    policy
}

#[cfg(test)]
mod tests {
    use tantivy::Index;
    use tantivy::index::SegmentId;
    use tantivy::merge_policy::MergePolicy;

    use super::*;

    #[test]
    fn small_new_segments_merge_among_themselves_not_into_a_grown_one() {
        let (schema, _) = crate::index::schema::build();
        let index = Index::create_in_ram(schema);
        let segment = |docs| index.new_segment_meta(SegmentId::generate_random(), docs);
        // what an import leaves: one segment grown from earlier batches, then eight batches
        let grown = segment(3_000);
        let batches: Vec<_> = (0..8).map(|_| segment(40)).collect();
        let mut segments = vec![grown.clone()];
        segments.extend(batches.iter().cloned());

        let candidates = policy().compute_merge_candidates(&segments);
        assert_eq!(candidates.len(), 1, "one merge of the batches");
        let merged = &candidates[0].0;
        assert_eq!(merged.len(), 8);
        assert!(
            !merged.contains(&grown.id()),
            "the grown segment is not written again"
        );
        for batch in &batches {
            assert!(merged.contains(&batch.id()));
        }

        // and fewer than eight batches wait
        assert!(policy().compute_merge_candidates(&segments[..8]).is_empty());
    }
}
