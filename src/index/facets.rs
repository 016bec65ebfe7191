//! Facet counts over all hits, read straight from the fast-field columns: a counter per term
//! ordinal in each segment, turned into strings once per segment. tantivy's generic terms
//! aggregation does the same through JSON-shaped requests and results, and costs several
//! times as much per hit; this runs on every search.

use std::collections::HashMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::query::{EnableScoring, Query};
use tantivy::{DocId, DocSet, Score, Searcher, SegmentOrdinal, SegmentReader, TERMINATED};

use super::search::Facet;

/// Counts of the hits by category, year and department.
#[derive(Debug, Default)]
pub struct FacetCounts {
    pub categories: Vec<Facet>,
    pub years: Vec<Facet>,
    pub departments: Vec<Facet>,
}

/// Collects [`FacetCounts`].
pub struct Facets;

/// One segment's counters: by term ordinal for the keyword columns, by value for the year.
pub struct SegmentFacets {
    category: Option<Counter>,
    department: Option<Counter>,
    year: Column<i64>,
    years: HashMap<i64, u64>,
}

struct Counter {
    column: StrColumn,
    counts: Vec<u64>,
}

impl Counter {
    fn new(column: Option<StrColumn>) -> Option<Self> {
        column.map(|column| Counter {
            counts: vec![0; column.num_terms()],
            column,
        })
    }

    fn collect(&mut self, doc: DocId) {
        if let Some(ord) = self.column.ords().first(doc)
            && let Some(count) = self.counts.get_mut(ord as usize)
        {
            *count += 1;
        }
    }

    fn harvest(this: Option<Self>) -> HashMap<String, u64> {
        let mut named = HashMap::new();
        let Some(counter) = this else {
            return named;
        };
        for (ord, count) in counter.counts.into_iter().enumerate() {
            let mut value = String::new();
            if count > 0 && matches!(counter.column.ord_to_str(ord as u64, &mut value), Ok(true)) {
                named.insert(value, count);
            }
        }
        named
    }
}

/// A segment's counts by value.
pub struct SegmentCounts {
    categories: HashMap<String, u64>,
    departments: HashMap<String, u64>,
    years: HashMap<i64, u64>,
}

impl Collector for Facets {
    type Fruit = FacetCounts;
    type Child = SegmentFacets;

    fn for_segment(
        &self,
        _segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<SegmentFacets> {
        let fast = reader.fast_fields();
        Ok(SegmentFacets {
            category: Counter::new(fast.str("category")?),
            department: Counter::new(fast.str("department")?),
            year: fast.i64("year")?,
            years: HashMap::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, segments: Vec<SegmentCounts>) -> tantivy::Result<FacetCounts> {
        let mut categories = HashMap::new();
        let mut departments = HashMap::new();
        let mut years = HashMap::new();
        for segment in segments {
            add(&mut categories, segment.categories);
            add(&mut departments, segment.departments);
            add(&mut years, segment.years);
        }
        Ok(FacetCounts {
            categories: ranked(categories),
            years: ranked(years.into_iter().map(|(year, n)| (year.to_string(), n))),
            departments: ranked(departments),
        })
    }
}

impl SegmentCollector for SegmentFacets {
    type Fruit = SegmentCounts;

    fn collect(&mut self, doc: DocId, _score: Score) {
        if let Some(counter) = &mut self.category {
            counter.collect(doc);
        }
        if let Some(counter) = &mut self.department {
            counter.collect(doc);
        }
        if let Some(year) = self.year.first(doc) {
            *self.years.entry(year).or_default() += 1;
        }
    }

    fn harvest(self) -> SegmentCounts {
        SegmentCounts {
            categories: Counter::harvest(self.category),
            departments: Counter::harvest(self.department),
            years: self.years,
        }
    }
}

/// The hits of `query` counted, with their facets, up to `cap`: past it the count stops and
/// the facets are of the first `cap` hits in index order. The count and whether it stopped
/// (more hits exist). Bounded work however many documents match.
pub fn count(
    searcher: &Searcher,
    query: &dyn Query,
    cap: usize,
) -> tantivy::Result<(usize, bool, FacetCounts)> {
    let weight = query.weight(EnableScoring::disabled_from_searcher(searcher))?;
    let mut total = 0;
    let mut capped = false;
    let mut segments = Vec::new();
    for (ord, reader) in searcher.segment_readers().iter().enumerate() {
        let mut facets = Facets.for_segment(u32::try_from(ord).unwrap_or(u32::MAX), reader)?;
        let alive = reader.alive_bitset();
        let mut hits = weight.scorer(reader, 1.0)?;
        let mut doc = hits.doc();
        while doc != TERMINATED {
            if alive.is_none_or(|alive| alive.is_alive(doc)) {
                if total == cap {
                    capped = true;
                    break;
                }
                facets.collect(doc, 0.0);
                total += 1;
            }
            doc = hits.advance();
        }
        segments.push(facets.harvest());
        if capped {
            break;
        }
    }
    Ok((total, capped, Facets.merge_fruits(segments)?))
}

fn add<K: std::hash::Hash + Eq>(total: &mut HashMap<K, u64>, part: HashMap<K, u64>) {
    for (key, count) in part {
        *total.entry(key).or_default() += count;
    }
}

/// Most hits first, then by value; at most 200 values, as the page shows.
fn ranked(counts: impl IntoIterator<Item = (String, u64)>) -> Vec<Facet> {
    let mut facets: Vec<Facet> = counts
        .into_iter()
        .map(|(value, count)| Facet { value, count })
        .collect();
    facets.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    facets.truncate(200);
    facets
}

#[cfg(test)]
mod tests {
    use tantivy::query::TermQuery;
    use tantivy::schema::{FAST, INDEXED, IndexRecordOption, STRING, Schema};
    use tantivy::{Index, TantivyDocument, Term};

    use super::*;

    /// An index of `n` documents with the word "contract", one category in three "KJ", and
    /// document 0 deleted.
    fn sample(n: i64) -> (Index, Term) {
        let mut builder = Schema::builder();
        let word = builder.add_text_field("word", STRING);
        let category = builder.add_text_field("category", STRING | FAST);
        builder.add_text_field("department", STRING | FAST);
        let year = builder.add_i64_field("year", INDEXED | FAST);
        let id = builder.add_i64_field("id", INDEXED);
        let index = Index::create_in_ram(builder.build());
        let mut writer = index.writer(15_000_000).expect("writer");
        for n in 0..n {
            let mut doc = TantivyDocument::default();
            doc.add_text(word, "contract");
            doc.add_text(category, if n % 3 == 0 { "KJ" } else { "WS" });
            doc.add_i64(year, 2020 + n % 2);
            doc.add_i64(id, n);
            writer.add_document(doc).expect("add");
        }
        writer.delete_term(Term::from_field_i64(id, 0));
        writer.commit().expect("commit");
        (index, Term::from_field_text(word, "contract"))
    }

    #[test]
    fn counting_stops_at_the_cap_and_says_there_are_more() {
        // its writer's threads are not the priority test's
        let _alone = crate::index::tests::writers_alone();
        let (index, term) = sample(31);
        let searcher = index.reader().expect("reader").searcher();
        let query = TermQuery::new(term, IndexRecordOption::Basic);

        let (total, capped, facets) = count(&searcher, &query, 10).expect("count");
        assert_eq!((total, capped), (10, true));
        let faceted: u64 = facets.categories.iter().map(|facet| facet.count).sum();
        assert_eq!(faceted, 10, "the facets are of the hits counted");

        // 31 documents, one deleted: a cap of exactly the hits is no cap
        let (total, capped, facets) = count(&searcher, &query, 30).expect("count");
        assert_eq!((total, capped), (30, false));
        let kj = facets.categories.iter().find(|facet| facet.value == "KJ");
        assert_eq!(
            kj.map(|facet| facet.count),
            Some(10),
            "0, 3, … 30 less the deleted 0"
        );
        assert_eq!(count(&searcher, &query, 1000).expect("count").0, 30);
    }
}
