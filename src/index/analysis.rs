//! Text analysis for Chinese and English: every analyzer first folds the text (Traditional
//! to Simplified with zhconv, full-width to half-width, lower case), so 檔案 and 档案 meet.
//! Then either jieba words (ranking, English stemmed), CJK bigrams (exact substrings:
//! names, words the dictionary lacks) or CJK unigrams (single-character queries).

use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, Stemmer, TextAnalyzer, Token, TokenFilter, TokenStream,
    Tokenizer,
};
use tantivy_jieba::JiebaTokenizer;

/// Analyzer names, as the schema refers to them.
/// The version suffix changes when the words' positions change, so an index written with
/// the old ones is rebuilt (its schema names another analyzer).
pub const WORDS: &str = "dangan_words_2";
pub const BIGRAMS: &str = "dangan_bigrams_2";
pub const UNIGRAMS: &str = "dangan_unigrams_3";
pub const CODES: &str = "dangan_codes";

/// Registers the analyzers on an index.
pub fn register(index: &tantivy::Index) {
    let tokenizers = index.tokenizers();
    tokenizers.register(WORDS, words_analyzer());
    tokenizers.register(
        BIGRAMS,
        TextAnalyzer::builder(CjkGrams { width: 2 }).build(),
    );
    tokenizers.register(
        UNIGRAMS,
        TextAnalyzer::builder(CjkGrams { width: 1 }).build(),
    );
    tokenizers.register(CODES, TextAnalyzer::builder(CodeTokenizer).build());
}

/// jieba words of the folded text, without whitespace and punctuation, English stemmed.
/// Words are numbered without the punctuation between them, so 身份證（複印件） holds
/// 身份证 and 复印件 side by side, as a query typed without punctuation has them.
pub fn words_analyzer() -> TextAnalyzer {
    TextAnalyzer::builder(Fold(JiebaTokenizer::new()))
        .filter(DropPunctuation)
        .filter(RemoveLongFilter::limit(64))
        .filter(LowerCaser)
        .filter(Stemmer::new(Language::English))
        .build()
}

/// Folds text for matching: Traditional to Simplified (with zhconv's mainland vocabulary),
/// Taiwan computing terms to mainland ones (`regional_terms.txt`), full-width ASCII to
/// half-width, lower case. Applied alike to documents, queries and snippet matching.
pub fn fold(text: &str) -> String {
    let simplified = zhconv::zhconv(text, zhconv::Variant::ZhCN);
    let regional = &*REGIONAL_TERMS;
    let mainland = if regional.automaton.is_match(&simplified) {
        regional
            .automaton
            .replace_all(&simplified, &regional.replacements)
    } else {
        simplified
    };
    mainland.chars().map(fold_char).collect()
}

/// Folds script, width and case only, keeping every character in its place: for single
/// characters (unigrams), whose words the vocabulary folding of [`fold`] may have replaced,
/// and for aligning snippets with the original text.
pub fn fold_script(text: &str) -> String {
    zhconv::zhconv(text, zhconv::Variant::ZhHans)
        .chars()
        .map(fold_char)
        .collect()
}

struct RegionalTerms {
    automaton: aho_corasick::AhoCorasick,
    replacements: Vec<&'static str>,
}

static REGIONAL_TERMS: std::sync::LazyLock<RegionalTerms> = std::sync::LazyLock::new(|| {
    let pairs: Vec<(&str, &str)> = include_str!("regional_terms.txt")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .filter_map(|line| line.split_once('\t'))
        .collect();
    let automaton = aho_corasick::AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .build(pairs.iter().map(|(from, _)| *from))
        .expect("the regional term list builds an automaton");
    RegionalTerms {
        automaton,
        replacements: pairs.iter().map(|(_, to)| *to).collect(),
    }
});

/// The per-character part of [`fold`]: width and case.
pub fn fold_char(c: char) -> char {
    // CJK, Yi and Hangul have no case and no width to fold: most of any Chinese text
    if matches!(c as u32, 0x3001..=0xA63F | 0xAC00..=0xD7FF | 0xF900..=0xFAFF) {
        return c;
    }
    let c = match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFEE0).unwrap_or(c),
        '\u{3000}' => ' ',
        _ => c,
    };
    if c.is_ascii() {
        c.to_ascii_lowercase()
    } else {
        let mut lower = c.to_lowercase();
        match (lower.next(), lower.next()) {
            (Some(single), None) => single,
            _ => c,
        }
    }
}

/// Whether `c` is written without spaces between words: Han, kana, Hangul.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x3040..=0x30FF | 0x3400..=0x4DBF | 0x4E00..=0x9FFF | 0xAC00..=0xD7AF
        | 0xF900..=0xFAFF | 0x20000..=0x2FA1F)
}

/// Runs the inner tokenizer on the folded text.
#[derive(Clone)]
pub struct Fold<T>(pub T);

impl<T: Tokenizer> Tokenizer for Fold<T> {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let folded = fold(text);
        let mut stream = self.0.token_stream(&folded);
        let mut tokens = Vec::new();
        while stream.advance() {
            tokens.push(stream.token().clone());
        }
        VecTokenStream::new(tokens)
    }
}

/// Tokens computed up front.
pub struct VecTokenStream {
    tokens: Vec<Token>,
    next: usize,
}

impl VecTokenStream {
    fn new(tokens: Vec<Token>) -> Self {
        Self { tokens, next: 0 }
    }
}

impl TokenStream for VecTokenStream {
    fn advance(&mut self) -> bool {
        self.next += 1;
        self.next <= self.tokens.len()
    }

    fn token(&self) -> &Token {
        &self.tokens[self.next - 1]
    }

    fn token_mut(&mut self) -> &mut Token {
        &mut self.tokens[self.next - 1]
    }
}

/// Drops tokens that hold no letter, digit or CJK character (jieba emits spaces and
/// punctuation as tokens).
#[derive(Clone)]
pub struct DropPunctuation;

impl TokenFilter for DropPunctuation {
    type Tokenizer<T: Tokenizer> = DropPunctuationTokenizer<T>;

    fn transform<T: Tokenizer>(self, tokenizer: T) -> DropPunctuationTokenizer<T> {
        DropPunctuationTokenizer(tokenizer)
    }
}

#[derive(Clone)]
pub struct DropPunctuationTokenizer<T>(T);

impl<T: Tokenizer> Tokenizer for DropPunctuationTokenizer<T> {
    type TokenStream<'a> = DropPunctuationStream<T::TokenStream<'a>>;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> Self::TokenStream<'a> {
        DropPunctuationStream {
            inner: self.0.token_stream(text),
            kept: 0,
        }
    }
}

pub struct DropPunctuationStream<S> {
    inner: S,
    kept: usize,
}

impl<S: TokenStream> TokenStream for DropPunctuationStream<S> {
    fn advance(&mut self) -> bool {
        while self.inner.advance() {
            if self.inner.token().text.chars().any(char::is_alphanumeric) {
                self.inner.token_mut().position = self.kept;
                self.kept += 1;
                return true;
            }
        }
        false
    }

    fn token(&self) -> &Token {
        self.inner.token()
    }

    fn token_mut(&mut self) -> &mut Token {
        self.inner.token_mut()
    }
}

/// Overlapping n-grams (n = 1 or 2) over each run of CJK characters of the folded text,
/// numbered consecutively so that phrase queries over them match exact substrings. A run
/// shorter than n yields itself. Other characters are ignored (the word field has them).
#[derive(Clone)]
pub struct CjkGrams {
    pub width: usize,
}

impl Tokenizer for CjkGrams {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        VecTokenStream::new(cjk_grams(text, self.width))
    }
}

/// What separates the two characters of a [bridge](cjk_grams): no bigram holds it.
pub const BRIDGE: char = ' ';

/// The n-gram tokens of `text`. Single characters (folded by script only) are for
/// one-character queries and carry no meaning in their positions. Bigrams (fully folded)
/// leave one position between runs, so that a phrase of them is an exact substring; where
/// only punctuation and line breaks stand between two runs, that position holds a
/// *bridge*, the last character of one run and the first of the next with [`BRIDGE`]
/// between (`证 复` in 身份證\n（複印件）). A phrase that takes each pair of characters as
/// either a bigram or a bridge runs on across punctuation: the words tier of a search.
pub fn cjk_grams(text: &str, width: usize) -> Vec<Token> {
    let folded = if width == 1 {
        fold_script(text)
    } else {
        fold(text)
    };
    let chars: Vec<(usize, char)> = folded.char_indices().collect();
    let mut tokens = Vec::new();
    let mut position = 0;
    let mut start = 0;
    let mut word_between = false;
    // the previous run's last character, for a bridge
    let mut last: Option<(usize, char)> = None;
    let mut push = |from: usize, to: usize, text: String, position: &mut usize| {
        tokens.push(Token {
            offset_from: from,
            offset_to: to,
            position: *position,
            text,
            position_length: 1,
        });
        *position += 1;
    };
    while start < chars.len() {
        if !is_cjk(chars[start].1) {
            word_between |= chars[start].1.is_alphanumeric();
            start += 1;
            continue;
        }
        let mut end = start;
        while end < chars.len() && is_cjk(chars[end].1) {
            end += 1;
        }
        let run = &chars[start..end];
        if width > 1
            && let Some((from, c)) = last
        {
            let (to, next) = run[0];
            if word_between {
                position += 1;
            } else {
                let bridge = format!("{c}{BRIDGE}{next}");
                push(from, to + next.len_utf8(), bridge, &mut position);
            }
        }
        word_between = false;
        let grams = if run.len() < width {
            1
        } else {
            run.len() + 1 - width
        };
        for offset in 0..grams {
            let end_of = (offset + width).min(run.len());
            let text: String = run[offset..end_of].iter().map(|&(_, c)| c).collect();
            let from = run[offset].0;
            let to = run[end_of - 1].0 + run[end_of - 1].1.len_utf8();
            push(from, to, text, &mut position);
        }
        last = run.last().copied();
        start = end;
    }
    tokens
}

/// The whole value as one folded token, for exact identifiers (檔號, 文號, ID numbers).
#[derive(Clone)]
pub struct CodeTokenizer;

impl Tokenizer for CodeTokenizer {
    type TokenStream<'a> = VecTokenStream;

    fn token_stream<'a>(&'a mut self, text: &'a str) -> VecTokenStream {
        let code = fold_code(text);
        let tokens = if code.is_empty() {
            Vec::new()
        } else {
            vec![Token {
                offset_from: 0,
                offset_to: text.len(),
                position: 0,
                text: code,
                position_length: 1,
            }]
        };
        VecTokenStream::new(tokens)
    }
}

/// An identifier as it is matched: folded, trimmed, the middle dot in its ASCII-less forms
/// unified, so `z109-ws·2024` and `Z109-WS•2024` are the same code.
pub fn fold_code(text: &str) -> String {
    fold(text.trim())
        .chars()
        .map(|c| match c {
            '•' | '・' | '‧' | '∙' => '·',
            other => other,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn texts(analyzer: &mut TextAnalyzer, text: &str) -> Vec<String> {
        let mut stream = analyzer.token_stream(text);
        let mut out = Vec::new();
        while stream.advance() {
            out.push(stream.token().text.clone());
        }
        out
    }

    #[test]
    fn traditional_and_simplified_fold_to_the_same_words() {
        let mut words = words_analyzer();
        assert_eq!(texts(&mut words, "員工檔案"), texts(&mut words, "员工档案"));
        assert!(texts(&mut words, "勞動合同期滿").contains(&"劳动".to_owned()));
        assert!(
            !texts(&mut words, "測試，一下 空格")
                .iter()
                .any(|t| t == "，" || t == " ")
        );
        assert_eq!(
            texts(&mut words, "Contracts ＡＢＣ"),
            vec!["contract", "abc"]
        );
    }

    #[test]
    fn taiwan_computing_terms_fold_to_mainland_ones() {
        assert_eq!(fold("刪除儲存格"), fold("删除单元格"));
        assert_eq!(fold("「檢視」功能表"), "“视图”菜单");
        assert_eq!(
            fold("員工檔案資料"),
            "员工档案资料",
            "資料 and 檔案 keep their meaning"
        );
    }

    #[test]
    fn bigrams_cover_cjk_runs_with_consecutive_positions() {
        let tokens = cjk_grams("王曉明的ID 是", 2);
        let pairs: Vec<(&str, usize)> = tokens
            .iter()
            .map(|t| (t.text.as_str(), t.position))
            .collect();
        assert_eq!(
            pairs,
            vec![("王晓", 0), ("晓明", 1), ("明的", 2), ("是", 4)]
        );
        let unigrams: Vec<String> = cjk_grams("档案", 1).into_iter().map(|t| t.text).collect();
        assert_eq!(unigrams, vec!["档", "案"]);
        // between runs, a bridge where only punctuation and line breaks stand; none across
        // a word
        let across: Vec<(String, usize)> = cjk_grams("身份證\n（複印件）第2页", 2)
            .into_iter()
            .map(|t| (t.text, t.position))
            .collect();
        let expected: Vec<(String, usize)> = [
            ("身份", 0),
            ("份证", 1),
            ("证 复", 2),
            ("复印", 3),
            ("印件", 4),
            ("件 第", 5),
            ("第", 6),
            ("页", 8),
        ]
        .into_iter()
        .map(|(text, position)| (text.to_owned(), position))
        .collect();
        assert_eq!(across, expected);
        let kept: Vec<String> = cjk_grams("印表機", 1).into_iter().map(|t| t.text).collect();
        assert_eq!(
            kept,
            vec!["印", "表", "机"],
            "single characters survive vocabulary folding"
        );
    }

    #[test]
    fn codes_fold_case_width_and_dots() {
        assert_eq!(
            fold_code(" Z109-WS•2024-D30-BGS-0007 "),
            "z109-ws·2024-d30-bgs-0007"
        );
        assert_eq!(
            fold_code("１１０１０１１９９００３０７７７７Ｘ"),
            "11010119900307777x"
        );
    }
}
