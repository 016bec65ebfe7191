//! Running a search: ranked hits with snippets, the total, and facet counts, all under the
//! caller's permission filter.

use std::collections::HashSet;
use std::sync::Arc;

use tantivy::collector::TopDocs;
use tantivy::schema::Value;
use tantivy::{DocAddress, TantivyDocument};
use uuid::Uuid;

use super::analysis::{self, fold, fold_script};
use super::facets::{self, FacetCounts};
use super::query::{Filters, QueryBuilder, cjk_runs};
use super::snippet::Highlighter;
use super::stored::StoredHit;
use super::variants::Variants;
use super::{Fields, IndexError, SearchIndex};
use crate::domain::permissions::Visibility;
use crate::domain::search_query::{Atom, SearchQuery, Tier};

/// Hits counted (and faceted) at the most; a search with more says its total is a lower
/// bound. As deep as a cursor may page.
pub const COUNT_CAP: usize = 10_000;

/// A search to run.
#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: SearchQuery,
    pub filters: Filters,
    pub visibility: Visibility,
    pub offset: usize,
    pub limit: usize,
    /// The regional variants and synonyms of the relaxed tier.
    pub variants: Arc<Variants>,
    /// The exact tier only.
    pub exact: bool,
}

/// One hit.
#[derive(Debug, Clone)]
pub struct Hit {
    pub record_id: Uuid,
    pub score: f32,
    pub tier: Tier,
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
    /// Hits counted, at most [`COUNT_CAP`].
    pub total: usize,
    /// Whether `total` is every hit; else there are more, and the facets are of the first
    /// `total` of them.
    pub total_exact: bool,
    pub hits: Vec<Hit>,
    pub categories: Vec<Facet>,
    pub years: Vec<Facet>,
    pub departments: Vec<Facet>,
}

impl SearchIndex {
    /// Runs `request` on the current generation: its tiers best first, each only while the
    /// ones above it leave the page short.
    pub fn search(&self, request: &SearchRequest) -> Result<SearchResults, IndexError> {
        let generation = self.generation();
        let searcher = generation.reader.searcher();
        let fields = self.fields;
        let mut builder = QueryBuilder::new(fields);
        let tiers = builder.tiers(&request.query, &request.variants, request.exact);
        let page_end = request.offset + request.limit.max(1);
        let mut total = 0;
        let mut total_exact = true;
        let mut facets = FacetCounts::default();
        // every hit up to the page's end, best tier first, each tier by score
        let mut ranked: Vec<(Tier, f32, DocAddress)> = Vec::new();
        let mut known: HashSet<DocAddress> = HashSet::new();
        for (tier, text) in tiers {
            // a page the tiers above fill needs no more; one they fill exactly still counts
            // the next tier, so that a next page is offered when it has hits
            if tier != Tier::Exact && total > page_end {
                break;
            }
            // a tier's query holds the tiers above it: its count and facets are of them all,
            // and its new hits are those not ranked yet
            let query = builder.restrict(text, &request.filters, &request.visibility);
            // ranked alone, tantivy may skip blocks that cannot reach the page (block-max
            // WAND); then counted and faceted up to COUNT_CAP hits, so that neither grows
            // without bound with the hits of a common word in a million records
            let top = searcher.search(&query, &TopDocs::with_limit(page_end).order_by_score())?;
            let (count, capped, counts) = facets::count(&searcher, &query, COUNT_CAP)?;
            for (score, address) in top {
                if known.insert(address) {
                    ranked.push((tier, score, address));
                }
            }
            total = count;
            total_exact = !capped;
            facets = counts;
        }
        let found: Vec<(Tier, f32, DocAddress)> = ranked
            .into_iter()
            .skip(request.offset)
            .take(page_end - request.offset)
            .collect();
        let exact = Highlighter::new(&needles(&request.query, None));
        let relaxed = found
            .iter()
            .any(|(tier, _, _)| *tier == Tier::Relaxed)
            .then(|| Highlighter::new(&needles(&request.query, Some(&request.variants))));
        let mut hits = Vec::with_capacity(found.len());
        for (tier, score, address) in found {
            let segment = searcher.segment_reader(address.segment_ord).segment_id();
            let stored = self.stored.get_or_load(segment, address.doc_id, || {
                let document: TantivyDocument = searcher.doc(address)?;
                stored_hit(&document, &fields)
            })?;
            let highlighter = match (tier, &relaxed) {
                (Tier::Relaxed, Some(relaxed)) => relaxed,
                _ => &exact,
            };
            hits.push(Hit {
                record_id: stored.id,
                score,
                tier,
                snippet: highlighter.snippet(&stored.text),
            });
        }
        Ok(SearchResults {
            total,
            total_exact,
            hits,
            categories: facets.categories,
            years: facets.years,
            departments: facets.departments,
        })
    }
}

/// The record id and text of a stored document.
fn stored_hit(document: &TantivyDocument, fields: &Fields) -> Result<StoredHit, IndexError> {
    let id = document
        .get_first(fields.id)
        .and_then(|value| value.as_str())
        .and_then(|text| Uuid::parse_str(text).ok())
        .ok_or_else(|| IndexError::Corrupt("a document without an id".into()))?;
    let text = document
        .get_first(fields.text)
        .and_then(|value| value.as_str())
        .unwrap_or_default()
        .to_owned();
    Ok(StoredHit { id, text })
}

/// The folded strings to highlight: CJK runs, their jieba words, and other words; with
/// `variants`, each word's variants too.
fn needles(query: &SearchQuery, variants: Option<&Variants>) -> Vec<String> {
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
            if let Some(variants) = variants {
                needles.extend(variants.of(&surface).iter().cloned());
            }
            if surface.chars().count() >= 2 || runs.iter().any(|run| run == &surface) {
                needles.push(surface);
            }
        }
    }
    needles.sort_by_key(|needle| std::cmp::Reverse(needle.chars().count()));
    needles.dedup();
    needles
}
