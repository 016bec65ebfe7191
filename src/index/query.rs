//! From a parsed search-box query, filters and the caller's visibility to one tantivy query.
//! A word matches where its CJK runs occur as exact substrings (bigram phrases; single
//! characters through unigrams) and its other words occur (stemmed), or where it equals an
//! identifier (archival code, document number, ID number), which ranks far above.

use tantivy::Term;
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, EmptyQuery, Occur, PhraseQuery, Query, RangeQuery,
    RegexPhraseQuery, TermQuery,
};
use tantivy::schema::{Field, IndexRecordOption};
use tantivy::tokenizer::TextAnalyzer;
use uuid::Uuid;

use super::analysis::{self, BRIDGE, fold, fold_code, is_cjk};
use super::schema::{Fields, date_value};
use crate::domain::catalogue::OpenStatus;
use crate::domain::permissions::Visibility;
use crate::domain::search_query::{Atom, SearchQuery};

/// Boost of an exact identifier match: far above any text score.
const CODE_BOOST: f32 = 50.0;
/// Boost of title matches over body matches.
const TITLE_BOOST: f32 = 3.0;

/// Narrowing by catalogue fields; each is exact.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    pub category: Option<String>,
    pub year: Option<i32>,
    pub department: Option<String>,
    pub fonds: Option<String>,
    pub retention: Option<String>,
    pub party: Option<Uuid>,
    pub security_level: Option<String>,
    pub open_status: Option<String>,
    pub date_from: Option<chrono::NaiveDate>,
    pub date_to: Option<chrono::NaiveDate>,
    /// A room's code, or `room/place` for a place of it (with the places inside it).
    pub place: Option<String>,
}

/// Builds queries against one index's fields and analyzers.
pub struct QueryBuilder {
    fields: Fields,
    words: TextAnalyzer,
}

impl QueryBuilder {
    pub fn new(fields: Fields) -> Self {
        Self {
            fields,
            words: analysis::words_analyzer(),
        }
    }

    /// The whole query: text clauses AND filters AND visibility.
    pub fn build(
        &mut self,
        query: &SearchQuery,
        filters: &Filters,
        visibility: &Visibility,
    ) -> Box<dyn Query> {
        let text = self.exact(query);
        self.restrict(text, filters, visibility)
    }

    /// `text` narrowed by the filters and the caller's visibility.
    pub fn restrict(
        &self,
        text: Box<dyn Query>,
        filters: &Filters,
        visibility: &Visibility,
    ) -> Box<dyn Query> {
        let mut parts: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, text)];
        parts.extend(self.filters(filters).into_iter().map(|q| (Occur::Must, q)));
        parts.extend(self.visibility(visibility));
        Box::new(BooleanQuery::new(parts))
    }

    /// The query's text as written: every clause holds, each word's CJK runs as exact
    /// substrings. No clauses: everything.
    pub fn exact(&mut self, query: &SearchQuery) -> Box<dyn Query> {
        self.clauses(query, |builder, atom| builder.atom(atom))
    }

    /// Every clause of `query` with its atoms made queries by `atom`; excluded clauses
    /// always as written.
    pub(super) fn clauses(
        &mut self,
        query: &SearchQuery,
        mut atom: impl FnMut(&mut Self, &Atom) -> Box<dyn Query>,
    ) -> Box<dyn Query> {
        let mut parts: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for clause in &query.clauses {
            let alternatives: Vec<(Occur, Box<dyn Query>)> = clause
                .alternatives
                .iter()
                .map(|alternative| {
                    let query = if clause.excluded {
                        self.atom(alternative)
                    } else {
                        atom(self, alternative)
                    };
                    (Occur::Should, query)
                })
                .collect();
            let occur = if clause.excluded {
                Occur::MustNot
            } else {
                Occur::Must
            };
            parts.push((occur, Box::new(BooleanQuery::new(alternatives))));
        }
        if query.clauses.is_empty() {
            parts.push((Occur::Must, Box::new(AllQuery)));
        }
        Box::new(BooleanQuery::new(parts))
    }

    pub(super) fn atom(&mut self, atom: &Atom) -> Box<dyn Query> {
        match atom {
            Atom::Word(word) => {
                let code = self.code(word);
                let text = self.text(word, false);
                Box::new(BooleanQuery::new(vec![
                    (Occur::Should, code),
                    (Occur::Should, text),
                ]))
            }
            Atom::Phrase(phrase) => self.text(phrase, true),
        }
    }

    fn code(&self, word: &str) -> Box<dyn Query> {
        let term = Term::from_field_text(self.fields.codes, &fold_code(word));
        Box::new(BoostQuery::new(
            Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)),
            CODE_BOOST,
        ))
    }

    /// Every CJK run and every other word of `text` must occur; as one phrase when `phrase`.
    pub(super) fn text(&mut self, text: &str, phrase: bool) -> Box<dyn Query> {
        let folded = fold(text);
        let mut required: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let runs = cjk_runs(&folded);
        if phrase && runs.len() > 1 {
            required.push((Occur::Must, self.in_title_or_body(&folded, Grams::Bigrams)));
        } else {
            for run in &runs {
                let grams = if run.chars().count() == 1 {
                    Grams::Unigrams
                } else {
                    Grams::Bigrams
                };
                required.push((Occur::Must, self.in_title_or_body(run, grams)));
            }
        }
        let others: String = folded
            .chars()
            .map(|c| if is_cjk(c) { ' ' } else { c })
            .collect();
        let words = self.word_terms(&others);
        if phrase && words.len() > 1 {
            required.push((Occur::Must, self.word_phrase(&words)));
        } else {
            for (_, word) in words {
                required.push((Occur::Must, self.word_in_title_or_body(&word)));
            }
        }
        if required.is_empty() {
            return Box::new(EmptyQuery);
        }
        Box::new(BooleanQuery::new(required))
    }

    /// The characters of `text`'s CJK runs in order, across the punctuation and line breaks
    /// between them: each pair of neighbouring characters as a bigram or as a bridge (see
    /// [`analysis::cjk_grams`]), in the title (boosted) or the body. `None` for fewer than
    /// two characters.
    pub(super) fn run_on(&self, text: &str) -> Option<Box<dyn Query>> {
        // a pair `ab` (or a bridge `a b`) is matched in either form: the pattern `a ?b`
        let tokens: Vec<(usize, Vec<char>)> = analysis::cjk_grams(text, 2)
            .into_iter()
            .map(|token| {
                (
                    token.position,
                    token.text.replace(BRIDGE, "").chars().collect(),
                )
            })
            .collect();
        let in_field = |field: Field| -> Box<dyn Query> {
            if let [(_, pair)] = &tokens[..]
                && let [first, second] = pair[..]
            {
                // one pair: its two forms as terms (a phrase needs two)
                let forms = [
                    format!("{first}{second}"),
                    format!("{first}{BRIDGE}{second}"),
                ]
                .into_iter()
                .map(|form| {
                    let term = Term::from_field_text(field, &form);
                    let query = TermQuery::new(term, IndexRecordOption::WithFreqs);
                    (Occur::Should, Box::new(query) as Box<dyn Query>)
                })
                .collect();
                return Box::new(BooleanQuery::new(forms));
            }
            let patterns = tokens
                .iter()
                .map(|(position, chars)| match chars[..] {
                    [first, second] => (*position, format!("{first}{BRIDGE}?{second}")),
                    _ => (*position, chars.iter().collect()),
                })
                .collect();
            Box::new(RegexPhraseQuery::new_with_offset(field, patterns))
        };
        match &tokens[..] {
            [] => None,
            [(_, chars)] if chars.len() < 2 => None,
            _ => Some(self.title_or_body(false, in_field)),
        }
    }

    /// A CJK run as an exact substring of the title (boosted) or the body.
    fn in_title_or_body(&self, text: &str, grams: Grams) -> Box<dyn Query> {
        let width = match grams {
            Grams::Bigrams => 2,
            Grams::Unigrams => 1,
        };
        // bridges left out, their positions kept: punctuation or none may stand there
        let tokens: Vec<(usize, String)> = analysis::cjk_grams(text, width)
            .into_iter()
            .filter(|token| !token.text.contains(BRIDGE))
            .map(|token| (token.position, token.text))
            .collect();
        let sequence = |field: Field| -> Box<dyn Query> {
            if tokens.len() == 1 {
                let term = Term::from_field_text(field, &tokens[0].1);
                return Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs));
            }
            let terms = tokens
                .iter()
                .map(|(position, text)| (*position, Term::from_field_text(field, text)))
                .collect();
            Box::new(PhraseQuery::new_with_offset(terms))
        };
        if tokens.is_empty() {
            return Box::new(EmptyQuery);
        }
        match grams {
            Grams::Bigrams => self.title_or_body(false, sequence),
            Grams::Unigrams => sequence(self.fields.unigrams),
        }
    }

    /// `build`'s query on the title's field (boosted) or on the body's: the shape of every
    /// text match. `words` picks the jieba word fields, else the bigram fields.
    fn title_or_body(
        &self,
        words: bool,
        build: impl Fn(Field) -> Box<dyn Query>,
    ) -> Box<dyn Query> {
        let (title, body) = if words {
            (self.fields.title, self.fields.body)
        } else {
            (self.fields.title_grams, self.fields.body_grams)
        };
        Box::new(BooleanQuery::new(vec![
            (
                Occur::Should,
                Box::new(BoostQuery::new(build(title), TITLE_BOOST)),
            ),
            (Occur::Should, build(body)),
        ]))
    }

    pub(super) fn words_stream<'a>(
        &'a mut self,
        text: &'a str,
    ) -> tantivy::tokenizer::BoxTokenStream<'a> {
        self.words.token_stream(text)
    }

    pub(super) fn word_terms(&mut self, text: &str) -> Vec<(usize, String)> {
        let mut stream = self.words.token_stream(text);
        let mut terms = Vec::new();
        while tantivy::tokenizer::TokenStream::advance(&mut stream) {
            let token = tantivy::tokenizer::TokenStream::token(&stream);
            terms.push((token.position, token.text.clone()));
        }
        terms
    }

    pub(super) fn word_in_title_or_body(&self, word: &str) -> Box<dyn Query> {
        let term = |field| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, word),
                IndexRecordOption::WithFreqs,
            ))
        };
        self.title_or_body(true, term)
    }

    pub(super) fn word_phrase(&self, words: &[(usize, String)]) -> Box<dyn Query> {
        let phrase = |field| -> Box<dyn Query> {
            Box::new(PhraseQuery::new_with_offset(
                words
                    .iter()
                    .map(|(position, word)| (*position, Term::from_field_text(field, word)))
                    .collect(),
            ))
        };
        self.title_or_body(true, phrase)
    }

    fn filters(&self, filters: &Filters) -> Vec<Box<dyn Query>> {
        let fields = &self.fields;
        let mut out: Vec<Box<dyn Query>> = Vec::new();
        let exact = |field, value: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, value),
                IndexRecordOption::Basic,
            ))
        };
        let keywords = [
            (fields.category, &filters.category),
            (fields.department, &filters.department),
            (fields.fonds, &filters.fonds),
            (fields.retention, &filters.retention),
            (fields.security_level, &filters.security_level),
            (fields.open_status, &filters.open_status),
            (fields.places, &filters.place),
        ];
        for (field, value) in keywords {
            if let Some(value) = value {
                out.push(exact(field, value));
            }
        }
        if let Some(party) = filters.party {
            out.push(exact(fields.party, &party.to_string()));
        }
        if let Some(year) = filters.year {
            out.push(Box::new(TermQuery::new(
                Term::from_field_i64(fields.year, i64::from(year)),
                IndexRecordOption::Basic,
            )));
        }
        if filters.date_from.is_some() || filters.date_to.is_some() {
            let bound = |date: Option<chrono::NaiveDate>, inclusive: bool| match date {
                Some(date) => {
                    let term = Term::from_field_date(fields.doc_date, date_value(date));
                    if inclusive {
                        std::ops::Bound::Included(term)
                    } else {
                        std::ops::Bound::Excluded(term)
                    }
                }
                None => std::ops::Bound::Unbounded,
            };
            out.push(Box::new(RangeQuery::new(
                bound(filters.date_from, true),
                bound(filters.date_to, true),
            )));
        }
        out
    }

    /// The permission filter as clauses, inside the query so counts and facets see only
    /// what the caller may see: `Visibility::allows` as index terms.
    fn visibility(&self, visibility: &Visibility) -> Vec<(Occur, Box<dyn Query>)> {
        if visibility.nothing {
            return vec![(Occur::Must, Box::new(EmptyQuery))];
        }
        let fields = &self.fields;
        let mut parts: Vec<(Occur, Box<dyn Query>)> = visibility
            .own_party
            .map(|own| (Occur::MustNot, term(fields.party, &own.to_string())))
            .into_iter()
            .collect();
        if visibility.every_category {
            // a disjunction of every category would match all and cost a seek per hit
            return parts;
        }
        let loaned: Vec<String> = visibility.loaned.iter().map(Uuid::to_string).collect();
        let mut admitted: Vec<(Occur, Box<dyn Query>)> = vec![
            (
                Occur::Should,
                term(fields.open_status, OpenStatus::Open.as_str()),
            ),
            (Occur::Should, any_of(fields.id, &loaned)),
            (
                Occur::Should,
                any_of(fields.category_id, &visibility.categories),
            ),
        ];
        if let Some(managed) = &visibility.managed {
            let levels: Vec<&str> = managed.levels.iter().map(|level| level.as_str()).collect();
            admitted.push((
                Occur::Should,
                Box::new(BooleanQuery::new(vec![
                    (Occur::Must, any_of(fields.category_id, &managed.categories)),
                    (Occur::Must, any_of(fields.security_level, &levels)),
                    (
                        Occur::Must,
                        term(fields.access_department, &managed.department.to_string()),
                    ),
                ])),
            ));
        }
        parts.push((Occur::Must, Box::new(BooleanQuery::new(admitted))));
        parts
    }
}

/// An exact term.
fn term(field: Field, text: &str) -> Box<dyn Query> {
    Box::new(TermQuery::new(
        Term::from_field_text(field, text),
        IndexRecordOption::Basic,
    ))
}

/// Any of the exact terms; matches nothing when there are none.
fn any_of(field: Field, texts: &[impl AsRef<str>]) -> Box<dyn Query> {
    Box::new(BooleanQuery::new(
        texts
            .iter()
            .map(|text| (Occur::Should, term(field, text.as_ref())))
            .collect(),
    ))
}

#[derive(Clone, Copy)]
enum Grams {
    Bigrams,
    Unigrams,
}

/// The maximal runs of CJK characters in folded text.
pub fn cjk_runs(folded: &str) -> Vec<String> {
    let mut runs = Vec::new();
    let mut current = String::new();
    for c in folded.chars() {
        if is_cjk(c) {
            current.push(c);
        } else if !current.is_empty() {
            runs.push(std::mem::take(&mut current));
        }
    }
    if !current.is_empty() {
        runs.push(current);
    }
    runs
}
