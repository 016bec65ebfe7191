//! The tiers of a search, best first (issue 18). The exact tier is the query as written.
//! Below it, a Chinese run typed without spaces also matches as its words (jieba) in order,
//! or as its characters in order, across the punctuation and line breaks a document puts
//! between them (身份证复印件 finds 居民身份證（複印件）, where jieba reads 居民身份证). Below that, the relaxed tier takes most of the query's words, each
//! also as its regional variants and synonyms ([`Variants`]). Each tier leaves out what the
//! tiers above it found, so every hit ranks in the best tier that finds it.

use tantivy::query::{BooleanQuery, EmptyQuery, Occur, Query};

use super::analysis::{fold, is_cjk};
use super::query::QueryBuilder;
use super::variants::Variants;
use crate::domain::search_query::{Atom, SearchQuery, Tier};

impl QueryBuilder {
    /// The text query of each tier that can find something the tiers above it cannot, best
    /// first; the exact tier only when `exact_only`. Each tier's query also matches
    /// everything the tiers above it match (tantivy's exclusion of phrase queries trips over
    /// its own seeks, so a search takes a tier's new hits by leaving out those it has).
    pub fn tiers(
        &mut self,
        query: &SearchQuery,
        variants: &Variants,
        exact_only: bool,
    ) -> Vec<(Tier, Box<dyn Query>)> {
        let mut tiers = vec![(Tier::Exact, self.exact(query))];
        if exact_only {
            return tiers;
        }
        let segmented = query.positive_atoms().any(|atom| match atom {
            Atom::Word(word) => word.chars().filter(|c| is_cjk(*c)).nth(1).is_some(),
            Atom::Phrase(_) => false,
        });
        if segmented {
            let words = self.clauses(query, |builder, atom| match atom {
                Atom::Word(word) => {
                    let terms = builder.word_terms(&fold(word));
                    let as_words = match &terms[..] {
                        [] => Box::new(EmptyQuery) as Box<dyn Query>,
                        [(_, word)] => builder.word_in_title_or_body(word),
                        _ => builder.word_phrase(&terms),
                    };
                    let mut forms = vec![
                        (Occur::Should, builder.atom(atom)),
                        (Occur::Should, as_words),
                    ];
                    if let Some(run_on) = builder.run_on(word) {
                        forms.push((Occur::Should, run_on));
                    }
                    Box::new(BooleanQuery::new(forms))
                }
                Atom::Phrase(_) => builder.atom(atom),
            });
            tiers.push((Tier::Words, words));
        }
        if let Some(relaxed) = self.relaxed(query, variants) {
            let above = tiers
                .last()
                .map(|(_, query)| query.box_clone())
                .unwrap_or_else(|| Box::new(EmptyQuery));
            let either = BooleanQuery::new(vec![(Occur::Should, above), (Occur::Should, relaxed)]);
            tiers.push((Tier::Relaxed, Box::new(either)));
        }
        tiers
    }

    /// Most of the words of the query's plain words, each as itself or one of its variants;
    /// quoted phrases, OR clauses and exclusions as written. `None` when it would find
    /// nothing the exact tier does not.
    fn relaxed(&mut self, query: &SearchQuery, variants: &Variants) -> Option<Box<dyn Query>> {
        let mut required: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut optional: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let mut widened = false;
        for clause in &query.clauses {
            match (&clause.alternatives[..], clause.excluded) {
                ([Atom::Word(word)], false) => {
                    for term in self.surface_words(word) {
                        let mut forms = vec![(Occur::Should, self.text(&term, false))];
                        for variant in variants.of(&term) {
                            widened = true;
                            forms.push((Occur::Should, self.text(variant, false)));
                        }
                        optional.push((Occur::Should, Box::new(BooleanQuery::new(forms))));
                    }
                }
                (alternatives, excluded) => {
                    let any: Vec<(Occur, Box<dyn Query>)> = alternatives
                        .iter()
                        .map(|atom| (Occur::Should, self.atom(atom)))
                        .collect();
                    let occur = if excluded {
                        Occur::MustNot
                    } else {
                        Occur::Must
                    };
                    required.push((occur, Box::new(BooleanQuery::new(any))));
                }
            }
        }
        let terms = optional.len();
        // with one word and no variant, "most of the words" is the exact tier again
        if terms == 0 || (terms == 1 && !widened) {
            return None;
        }
        let mut parts = required;
        parts.push((
            Occur::Must,
            Box::new(BooleanQuery::with_minimum_required_clauses(
                optional,
                most_of(terms),
            )),
        ));
        Some(Box::new(BooleanQuery::new(parts)))
    }

    /// The words of a search-box word as written (folded, unstemmed), without the single
    /// Chinese characters between longer words (的, 件): they match almost everything.
    fn surface_words(&mut self, word: &str) -> Vec<String> {
        let folded = fold(word);
        let mut words: Vec<String> = Vec::new();
        let mut stream = self.words_stream(&folded);
        while tantivy::tokenizer::TokenStream::advance(&mut stream) {
            let token = tantivy::tokenizer::TokenStream::token(&stream);
            if let Some(surface) = folded.get(token.offset_from..token.offset_to)
                && !words.iter().any(|known| known == surface)
            {
                words.push(surface.to_owned());
            }
        }
        let long = |word: &String| word.chars().count() > 1 || !word.chars().all(is_cjk);
        if words.iter().any(long) {
            words.retain(long);
        }
        words
    }
}

/// More than half of `n` terms.
fn most_of(n: usize) -> usize {
    n / 2 + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn most_is_more_than_half() {
        assert_eq!(
            [1, 2, 3, 4, 5].map(most_of),
            [1, 2, 2, 3, 3],
            "one of one, two of two, two of three, three of four or five"
        );
    }
}
