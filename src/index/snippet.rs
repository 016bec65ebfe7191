//! Highlighted snippets: the passage of a record's text where most of the query's words
//! occur, HTML-escaped, matches wrapped in `<mark>`. The needles (folded to simplified
//! script) are looked for as each script writes them (so 档案 highlights 檔案), in the text
//! folded only for width and case: the text itself is never converted, which for long texts
//! was most of a search's work.

use aho_corasick::AhoCorasick;

use super::analysis::fold_char;

/// Characters of context in a snippet.
const WINDOW: usize = 120;
/// Matches looked at in one text at the most.
const MAX_MATCHES: usize = 10_000;

/// The best passage of `text` for `needles` (folded with `fold_script`), or its start when
/// none occurs. For several texts, build one [`Highlighter`].
pub fn snippet(text: &str, needles: &[String]) -> String {
    Highlighter::new(needles).snippet(text)
}

/// The needles of one search in every spelling, ready to mark any number of texts.
pub struct Highlighter {
    automaton: Option<AhoCorasick>,
    /// The needle each pattern of the automaton spells.
    needle_of: Vec<usize>,
    /// The characters of the patterns, folded: a text needs folding only where folding
    /// yields one of them (Chinese full-width punctuation folds to ASCII that a Chinese
    /// needle never holds).
    pattern_chars: Vec<char>,
}

impl Highlighter {
    pub fn new(needles: &[String]) -> Self {
        let (needle_of, patterns): (Vec<usize>, Vec<String>) =
            spellings(needles).into_iter().unzip();
        // the needles are folded: ASCII case is left to the automaton
        let automaton = (!patterns.is_empty())
            .then(|| {
                AhoCorasick::builder()
                    .ascii_case_insensitive(true)
                    .build(&patterns)
                    .ok()
            })
            .flatten();
        let mut pattern_chars: Vec<char> = patterns
            .iter()
            .flat_map(|pattern| pattern.chars().map(fold_char))
            .collect();
        pattern_chars.sort_unstable();
        pattern_chars.dedup();
        Self {
            automaton,
            needle_of,
            pattern_chars,
        }
    }

    /// Whether folding `c` (not ASCII) yields a character some needle holds, so that a match
    /// may run through it.
    fn folds_into_a_needle(&self, c: char) -> bool {
        let folded = fold_char(c);
        folded != c && self.pattern_chars.binary_search(&folded).is_ok()
    }

    /// The best passage of `text`, matches in `<mark>`, the rest HTML-escaped.
    pub fn snippet(&self, text: &str) -> String {
        if text.is_empty() {
            return String::new();
        }
        let matches = self.matches(text);
        let (start, end) = best_window(text, &matches);
        render(text, &matches, start, end)
    }

    /// Every occurrence of every needle in `text` folded for width and case: (start, end,
    /// needle) in bytes of `text`, sorted by start, longest first.
    fn matches(&self, text: &str) -> Vec<(usize, usize, usize)> {
        let Some(automaton) = &self.automaton else {
            return Vec::new();
        };
        // a text none of whose characters folds into a needle's has the same matches folded
        // or not: most Chinese texts, whose full-width punctuation folds to ASCII
        let mut matches: Vec<(usize, usize, usize)> = if text
            .chars()
            .any(|c| !c.is_ascii() && self.folds_into_a_needle(c))
        {
            self.folded_matches(automaton, text)
        } else {
            // nothing but ASCII case to fold, which the automaton ignores
            automaton
                .find_overlapping_iter(text)
                .take(MAX_MATCHES)
                .map(|found| {
                    (
                        found.start(),
                        found.end(),
                        self.needle_of[found.pattern().as_usize()],
                    )
                })
                .collect()
        };
        // longest first among matches at one place, so a word inside a longer match is skipped
        matches.sort_unstable_by_key(|&(start, end, _)| (start, std::cmp::Reverse(end)));
        matches
    }

    /// The matches in `text` folded for width and case, in bytes of `text`.
    fn folded_matches(&self, automaton: &AhoCorasick, text: &str) -> Vec<(usize, usize, usize)> {
        let mut folded = String::with_capacity(text.len());
        let mut same_offsets = true;
        for c in text.chars() {
            let f = fold_char(c);
            same_offsets &= f.len_utf8() == c.len_utf8();
            folded.push(f);
        }
        // where folding changed a character's width in bytes (full-width letters), the
        // folded offsets are mapped back to the text's
        let original: Option<Vec<usize>> = (!same_offsets).then(|| {
            let mut map = vec![text.len(); folded.len() + 1];
            let mut at = 0;
            for (offset, c) in text.char_indices() {
                map[at] = offset;
                at += fold_char(c).len_utf8();
            }
            map
        });
        let to_text = |offset: usize| original.as_ref().map_or(offset, |map| map[offset]);
        automaton
            .find_overlapping_iter(&folded)
            .take(MAX_MATCHES)
            .map(|found| {
                (
                    to_text(found.start()),
                    to_text(found.end()),
                    self.needle_of[found.pattern().as_usize()],
                )
            })
            .collect()
    }
}

/// Each needle as texts write it, with the needle's index: as given (simplified), and in
/// traditional script as Taiwan and Hong Kong write it, where that keeps its length.
fn spellings(needles: &[String]) -> Vec<(usize, String)> {
    let mut forms: Vec<(usize, String)> = Vec::new();
    for (index, needle) in needles.iter().enumerate() {
        if needle.is_empty() {
            continue;
        }
        let length = needle.chars().count();
        let mut own = vec![needle.clone()];
        for variant in [
            zhconv::Variant::ZhHant,
            zhconv::Variant::ZhTW,
            zhconv::Variant::ZhHK,
        ] {
            let form: String = zhconv::zhconv(needle, variant)
                .chars()
                .map(fold_char)
                .collect();
            if form.chars().count() == length && !own.contains(&form) {
                own.push(form);
            }
        }
        forms.extend(own.into_iter().map(|form| (index, form)));
    }
    forms
}

/// The passage of about [`WINDOW`] characters holding the most distinct needles, in bytes
/// of `text`; its start when nothing matched.
fn best_window(text: &str, matches: &[(usize, usize, usize)]) -> (usize, usize) {
    // each match's start in characters, counted between one match and the next
    let mut starts: Vec<(usize, usize, usize)> = Vec::with_capacity(matches.len());
    let (mut byte, mut chars) = (0, 0);
    for &(start, _, needle) in matches {
        chars += char_count(&text.as_bytes()[byte..start]);
        byte = start;
        starts.push((chars, start, needle));
    }
    let mut best: Option<(usize, usize)> = None;
    let mut best_count = 0;
    for (i, &(start, start_byte, _)) in starts.iter().enumerate() {
        let mut seen: Vec<usize> = Vec::new();
        for &(other, _, needle) in &starts[i..] {
            if other >= start + WINDOW {
                break;
            }
            if !seen.contains(&needle) {
                seen.push(needle);
            }
        }
        if seen.len() > best_count {
            best_count = seen.len();
            best = Some((start, start_byte));
        }
    }
    let start = match best {
        None => 0,
        Some((chars, byte)) => {
            let back = chars.min(WINDOW / 4);
            text[..byte]
                .char_indices()
                .rev()
                .nth(back.saturating_sub(1))
                .filter(|_| back > 0)
                .map_or(byte, |(offset, _)| offset)
        }
    };
    let end = text[start..]
        .char_indices()
        .nth(WINDOW)
        .map_or(text.len(), |(offset, _)| start + offset);
    (start, end)
}

/// Characters in UTF-8 bytes: those that do not continue a character.
fn char_count(bytes: &[u8]) -> usize {
    bytes.iter().filter(|&&byte| (byte as i8) >= -0x40).count()
}

fn render(text: &str, matches: &[(usize, usize, usize)], start: usize, end: usize) -> String {
    let mut out = String::new();
    if start > 0 {
        out.push('…');
    }
    let mut at = start;
    for &(from, to, _) in matches {
        if to <= at || from >= end {
            continue;
        }
        let from = from.max(at);
        if from == at && out.ends_with("</mark>") {
            out.truncate(out.len() - "</mark>".len()); // adjacent matches make one mark
        } else {
            push_escaped(&mut out, &text[at..from]);
            out.push_str("<mark>");
        }
        push_escaped(&mut out, &text[from..to.min(end)]);
        out.push_str("</mark>");
        at = to.min(end);
    }
    push_escaped(&mut out, &text[at..end]);
    if end < text.len() {
        out.push('…');
    }
    out
}

fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\r' | '\t' => out.push(' '),
            _ => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_in_either_script_are_marked_and_the_rest_escaped() {
        let text = "本辦法規定員工檔案<b>的</b>保管與銷毀。";
        let snippet = snippet(text, &["档案".into(), "销毁".into()]);
        assert_eq!(
            snippet,
            "本辦法規定員工<mark>檔案</mark>&lt;b&gt;的&lt;/b&gt;保管與<mark>銷毀</mark>。"
        );
    }

    #[test]
    fn long_texts_are_cut_around_the_matches() {
        let text = format!(
            "{}合同编号 HT-2024-001{}",
            "甲".repeat(500),
            "乙".repeat(500)
        );
        let snippet = snippet(&text, &["ht".into(), "合同".into()]);
        assert!(
            snippet.starts_with('…') && snippet.ends_with('…'),
            "{snippet}"
        );
        assert!(
            snippet.contains("<mark>合同</mark>编号 <mark>HT</mark>-2024"),
            "{snippet}"
        );
        assert!(snippet.chars().count() < WINDOW + 40);
    }

    #[test]
    fn overlapping_and_adjacent_matches_make_one_mark() {
        let needles = ["南山区".to_owned(), "南山".to_owned(), "科技".to_owned()];
        assert_eq!(
            snippet("深圳市南山区科技园", &needles),
            "深圳市<mark>南山区科技</mark>园"
        );
    }

    #[test]
    fn full_width_letters_are_matched_and_kept_as_written() {
        assert_eq!(
            snippet("编号ＨＴ－２０２４，合同", &["ht".into(), "合同".into()]),
            "编号<mark>ＨＴ</mark>－２０２４，<mark>合同</mark>"
        );
    }

    #[test]
    fn folding_is_skipped_only_where_it_could_not_change_a_match() {
        // full-width punctuation folds to ASCII no Chinese needle holds: matched unfolded
        assert_eq!(
            snippet("甲方（公司），劳动合同：第一条", &["合同".into()]),
            "甲方（公司），劳动<mark>合同</mark>：第一条"
        );
        // a needle that holds what full-width characters fold to is matched through them
        assert_eq!(
            snippet("条款：ＮＯ．７（见附件）", &["no.7".into()]),
            "条款：<mark>ＮＯ．７</mark>（见附件）"
        );
        // case beyond ASCII folds too
        assert_eq!(
            snippet("ÜBER den Vertrag", &["über".into()]),
            "<mark>ÜBER</mark> den Vertrag"
        );
    }

    #[test]
    fn without_matches_the_snippet_is_the_start() {
        assert_eq!(snippet("abc", &["zzz".into()]), "abc");
        assert_eq!(snippet("", &["zzz".into()]), "");
    }
}
