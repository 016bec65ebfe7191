//! The search box language: words are ANDed, `"quoted phrases"` match as written,
//! `-word` excludes, `OR` between two terms accepts either. Parsed here, with no knowledge of
//! the index; a query the parser rejects says why.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One thing to look for: a word (analysed, may match in parts) or an exact phrase.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Atom {
    Word(String),
    Phrase(String),
}

text_enum!(
    /// How a hit matched, best first: the query's words as written (ANDed, CJK runs as exact
    /// substrings), its Chinese runs as their words in order across punctuation, or most of
    /// its words with their regional variants and synonyms. Every hit of a tier ranks above
    /// every hit of the next.
    Tier { Exact => "exact", Words => "words", Relaxed => "relaxed" }
);

/// A clause every hit must satisfy: one of `alternatives` matches (or, when `excluded`,
/// none does).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    pub alternatives: Vec<Atom>,
    pub excluded: bool,
}

/// A parsed query: every clause must hold. No clauses: everything (narrowed by filters).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SearchQuery {
    pub clauses: Vec<Clause>,
}

/// Why a query was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueryError {
    #[error("q: a quotation mark is not closed")]
    UnclosedQuote,
    #[error("q: OR needs a term on each side")]
    DanglingOr,
    #[error("q: an excluded term cannot be part of an OR")]
    ExcludedAlternative,
    #[error("q: at least one term must not be excluded")]
    OnlyExclusions,
    #[error("q: longer than {0} characters")]
    TooLong(usize),
    #[error("q: more than {0} terms")]
    TooManyTerms(usize),
}

const MAX_CHARS: usize = 1000;
const MAX_TERMS: usize = 32;

#[derive(Debug, PartialEq)]
enum Token {
    Atom { atom: Atom, excluded: bool },
    Or,
}

impl SearchQuery {
    /// Parses the text of the search box.
    pub fn parse(text: &str) -> Result<Self, QueryError> {
        if text.chars().count() > MAX_CHARS {
            return Err(QueryError::TooLong(MAX_CHARS));
        }
        let tokens = tokenize(text)?;
        if tokens.len() > MAX_TERMS * 2 {
            return Err(QueryError::TooManyTerms(MAX_TERMS));
        }
        let mut clauses: Vec<Clause> = Vec::new();
        let mut pending_or = false;
        for token in tokens {
            match token {
                Token::Or => {
                    if pending_or || clauses.is_empty() {
                        return Err(QueryError::DanglingOr);
                    }
                    pending_or = true;
                }
                Token::Atom { atom, excluded } => {
                    if pending_or {
                        let previous = clauses.last_mut().ok_or(QueryError::DanglingOr)?;
                        if excluded || previous.excluded {
                            return Err(QueryError::ExcludedAlternative);
                        }
                        previous.alternatives.push(atom);
                        pending_or = false;
                    } else {
                        clauses.push(Clause {
                            alternatives: vec![atom],
                            excluded,
                        });
                    }
                }
            }
        }
        if pending_or {
            return Err(QueryError::DanglingOr);
        }
        if clauses.len() > MAX_TERMS {
            return Err(QueryError::TooManyTerms(MAX_TERMS));
        }
        if !clauses.is_empty() && clauses.iter().all(|clause| clause.excluded) {
            return Err(QueryError::OnlyExclusions);
        }
        Ok(Self { clauses })
    }

    /// The words and phrases that should be highlighted in results.
    pub fn positive_atoms(&self) -> impl Iterator<Item = &Atom> {
        self.clauses
            .iter()
            .filter(|clause| !clause.excluded)
            .flat_map(|clause| clause.alternatives.iter())
    }
}

/// Quotation marks: ASCII and the CJK ones an input method types.
fn closing_quote(open: char) -> Option<char> {
    match open {
        '"' => Some('"'),
        '“' => Some('”'),
        '＂' => Some('＂'),
        _ => None,
    }
}

fn tokenize(text: &str) -> Result<Vec<Token>, QueryError> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut excluded = false;
        if c == '-' || c == '－' {
            chars.next();
            match chars.peek() {
                Some(&next) if !next.is_whitespace() => excluded = true,
                _ => continue, // a lone dash means nothing
            }
        }
        let Some(&start) = chars.peek() else { break };
        if let Some(close) = closing_quote(start) {
            chars.next();
            let mut phrase = String::new();
            let mut closed = false;
            for ch in chars.by_ref() {
                if ch == close {
                    closed = true;
                    break;
                }
                phrase.push(ch);
            }
            if !closed {
                return Err(QueryError::UnclosedQuote);
            }
            let phrase = phrase.trim().to_owned();
            if !phrase.is_empty() {
                tokens.push(Token::Atom {
                    atom: Atom::Phrase(phrase),
                    excluded,
                });
            }
            continue;
        }
        let mut word = String::new();
        while let Some(&ch) = chars.peek() {
            if ch.is_whitespace() || closing_quote(ch).is_some() {
                break;
            }
            word.push(ch);
            chars.next();
        }
        if word == "OR" && !excluded {
            tokens.push(Token::Or);
        } else if !word.is_empty() {
            tokens.push(Token::Atom {
                atom: Atom::Word(word),
                excluded,
            });
        }
    }
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn word(text: &str) -> Atom {
        Atom::Word(text.to_owned())
    }

    fn clause(alternatives: Vec<Atom>, excluded: bool) -> Clause {
        Clause {
            alternatives,
            excluded,
        }
    }

    #[test]
    fn queries_parse_into_anded_clauses() {
        let cases: Vec<(&str, Vec<Clause>)> = vec![
            ("档案", vec![clause(vec![word("档案")], false)]),
            (
                "劳动合同 2024",
                vec![
                    clause(vec![word("劳动合同")], false),
                    clause(vec![word("2024")], false),
                ],
            ),
            (
                "\"档案 管理\" -销毁",
                vec![
                    clause(vec![Atom::Phrase("档案 管理".into())], false),
                    clause(vec![word("销毁")], true),
                ],
            ),
            (
                "合同 OR 协议 员工",
                vec![
                    clause(vec![word("合同"), word("协议")], false),
                    clause(vec![word("员工")], false),
                ],
            ),
            (
                "「編輯」功能表",
                vec![clause(vec![word("「編輯」功能表")], false)],
            ),
            (
                "“身份证”",
                vec![clause(vec![Atom::Phrase("身份证".into())], false)],
            ),
            (
                "Z109-WS·2024-D30-BGS-0007",
                vec![clause(vec![word("Z109-WS·2024-D30-BGS-0007")], false)],
            ),
            ("   ", vec![]),
            (
                "a - b",
                vec![
                    clause(vec![word("a")], false),
                    clause(vec![word("b")], false),
                ],
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(
                SearchQuery::parse(text).map(|query| query.clauses),
                Ok(expected),
                "{text}"
            );
        }
    }

    #[test]
    fn malformed_queries_are_refused_with_a_reason() {
        let cases = [
            ("\"未闭合", QueryError::UnclosedQuote),
            ("OR 档案", QueryError::DanglingOr),
            ("档案 OR", QueryError::DanglingOr),
            ("档案 OR OR 合同", QueryError::DanglingOr),
            ("-档案", QueryError::OnlyExclusions),
            ("档案 OR -合同", QueryError::ExcludedAlternative),
        ];
        for (text, expected) in cases {
            assert_eq!(SearchQuery::parse(text), Err(expected), "{text}");
        }
        assert_eq!(
            SearchQuery::parse(&"档".repeat(1001)),
            Err(QueryError::TooLong(1000))
        );
        let many = vec!["词"; 40].join(" ");
        assert_eq!(SearchQuery::parse(&many), Err(QueryError::TooManyTerms(32)));
    }

    #[test]
    fn no_input_ever_panics() {
        for text in [
            "\"\"",
            "-",
            "--",
            "-\"a\"",
            "OR",
            "\u{0}",
            "「」",
            "\"a\" OR \"b\"",
        ] {
            let _ = SearchQuery::parse(text);
        }
    }
}
