//! Facet counts over all hits, read straight from the fast-field columns: a counter per term
//! ordinal in each segment, turned into strings once per segment. tantivy's generic terms
//! aggregation does the same through JSON-shaped requests and results, and costs several
//! times as much per hit; this runs on every search.

use std::collections::HashMap;

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::{Column, StrColumn};
use tantivy::{DocId, Score, SegmentOrdinal, SegmentReader};

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
