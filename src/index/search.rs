//! Running a search: ranked hits with snippets, the total, and facet counts, all under the
//! caller's permission filter.

use tantivy::aggregation::agg_req::Aggregations;
use tantivy::aggregation::agg_result::{AggregationResult, BucketResult};
use tantivy::aggregation::{AggregationCollector, Key};
use tantivy::collector::{Count, TopDocs};
use tantivy::schema::Value;
use tantivy::{DocAddress, TantivyDocument};
use uuid::Uuid;

use super::analysis::{self, fold, fold_script};
use super::query::{Filters, QueryBuilder, cjk_runs};
use super::snippet::snippet;
use super::{IndexError, SearchIndex};
use crate::domain::permissions::Visibility;
use crate::domain::search_query::{Atom, SearchQuery};

/// A search to run.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: SearchQuery,
    pub filters: Filters,
    pub visibility: Visibility,
    pub offset: usize,
    pub limit: usize,
}

/// One hit.
#[derive(Debug, Clone)]
pub struct Hit {
    pub record_id: Uuid,
    pub score: f32,
    pub snippet: String,
}

/// A facet value and how many hits have it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Facet {
    pub value: String,
    pub count: u64,
}

/// Hits of one page, the total, and facets over all hits.
#[derive(Debug, Clone)]
pub struct SearchResults {
    pub total: usize,
    pub hits: Vec<Hit>,
    pub categories: Vec<Facet>,
    pub years: Vec<Facet>,
    pub departments: Vec<Facet>,
}

impl SearchIndex {
    /// Runs `request` on the current generation.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResults, IndexError> {
        let generation = self.generation();
        let searcher = generation.reader.searcher();
        let fields = self.fields;
        let query =
            QueryBuilder::new(fields).build(&request.query, &request.filters, &request.visibility);
        let aggregations: Aggregations = serde_json::from_value(serde_json::json!({
            "category": { "terms": { "field": "category", "size": 200 } },
            "year": { "terms": { "field": "year", "size": 200 } },
            "department": { "terms": { "field": "department", "size": 200 } },
        }))
        .map_err(|error| IndexError::Corrupt(error.to_string()))?;
        let facets = AggregationCollector::from_aggs(aggregations, Default::default());
        let top = TopDocs::with_limit(request.limit.max(1))
            .and_offset(request.offset)
            .order_by_score();
        let (top, total, facets) = searcher.search(&query, &(top, Count, facets))?;
        let needles = needles(&request.query);
        let mut hits = Vec::with_capacity(top.len());
        for (score, address) in top {
            let address: DocAddress = address;
            let document: TantivyDocument = searcher.doc(address)?;
            let id = document
                .get_first(fields.id)
                .and_then(|value| value.as_str())
                .and_then(|text| Uuid::parse_str(text).ok())
                .ok_or_else(|| IndexError::Corrupt("a document without an id".into()))?;
            let text = document
                .get_first(fields.text)
                .and_then(|value| value.as_str())
                .unwrap_or_default();
            hits.push(Hit {
                record_id: id,
                score,
                snippet: snippet(text, &needles),
            });
        }
        let mut facets = facets.0;
        let mut take = |name: &str| facet_values(facets.remove(name));
        Ok(SearchResults {
            total,
            hits,
            categories: take("category"),
            years: take("year"),
            departments: take("department"),
        })
    }
}

fn facet_values(result: Option<AggregationResult>) -> Vec<Facet> {
    let Some(AggregationResult::BucketResult(BucketResult::Terms { buckets, .. })) = result else {
        return Vec::new();
    };
    let mut facets: Vec<Facet> = buckets
        .into_iter()
        .map(|bucket| Facet {
            value: match bucket.key {
                Key::Str(text) => text,
                Key::I64(number) => number.to_string(),
                Key::U64(number) => number.to_string(),
                Key::F64(number) => format!("{}", number as i64),
            },
            count: bucket.doc_count,
        })
        .collect();
    facets.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.value.cmp(&b.value)));
    facets
}

/// The folded strings to highlight: CJK runs, their jieba words, and other words.
fn needles(query: &SearchQuery) -> Vec<String> {
    let mut needles: Vec<String> = Vec::new();
    let mut words = analysis::words_analyzer();
    for atom in query.positive_atoms() {
        let (Atom::Word(text) | Atom::Phrase(text)) = atom;
        let folded = fold(text);
        let runs = cjk_runs(&folded);
        needles.extend(runs.iter().cloned());
        // as the text is written, before vocabulary folding (功能表 as well as 菜单)
        needles.extend(cjk_runs(&fold_script(text)));
        let mut stream = words.token_stream(&folded);
        while tantivy::tokenizer::TokenStream::advance(&mut stream) {
            let token = tantivy::tokenizer::TokenStream::token(&stream);
            // the unstemmed surface form, as it appears in the folded text
            let surface = folded
                .get(token.offset_from..token.offset_to)
                .unwrap_or(&token.text)
                .to_owned();
            if surface.chars().count() >= 2 || runs.iter().any(|run| run == &surface) {
                needles.push(surface);
            }
        }
    }
    needles.sort_by_key(|needle| std::cmp::Reverse(needle.chars().count()));
    needles.dedup();
    needles
}
