//! Highlighted snippets: the passage of a record's text where most of the query's words
//! occur, HTML-escaped, matches wrapped in `<mark>`. The needles (folded to simplified
//! script) are looked for as each script writes them (so 档案 highlights 檔案), in the text
//! folded only for width and case: the text itself is never converted, which for long texts
//! was most of a search's work.

use super::analysis::fold_char;

/// Characters of context in a snippet.
const WINDOW: usize = 120;

/// The best passage of `text` for `needles` (folded with `fold_script`), or its start when
/// none occurs.
pub fn snippet(text: &str, needles: &[String]) -> String {
    let original: Vec<char> = text.chars().collect();
    if original.is_empty() {
        return String::new();
    }
    let folded: Vec<char> = original.iter().map(|&c| fold_char(c)).collect();
    let matches = find_matches(&folded, &spellings(needles));
    let (start, end) = best_window(&matches, original.len());
    render(&original, &matches, start, end)
}

/// Each needle as texts write it, with the needle's index: as given (simplified), and in
/// traditional script as Taiwan and Hong Kong write it, where that keeps its length.
fn spellings(needles: &[String]) -> Vec<(usize, Vec<char>)> {
    let mut forms: Vec<(usize, Vec<char>)> = Vec::new();
    for (index, needle) in needles.iter().enumerate() {
        let given: Vec<char> = needle.chars().collect();
        let mut own = vec![given.clone()];
        for variant in [
            zhconv::Variant::ZhHant,
            zhconv::Variant::ZhTW,
            zhconv::Variant::ZhHK,
        ] {
            let form: Vec<char> = zhconv::zhconv(needle, variant)
                .chars()
                .map(fold_char)
                .collect();
            if form.len() == given.len() && !own.contains(&form) {
                own.push(form);
            }
        }
        forms.extend(own.into_iter().map(|form| (index, form)));
    }
    forms
}

/// Every occurrence of every needle: (start, end, needle index), sorted by start.
fn find_matches(folded: &[char], needles: &[(usize, Vec<char>)]) -> Vec<(usize, usize, usize)> {
    let mut matches = Vec::new();
    for (index, needle) in needles {
        let index = *index;
        if needle.is_empty() || needle.len() > folded.len() {
            continue;
        }
        let mut at = 0;
        while at + needle.len() <= folded.len() {
            if folded[at..at + needle.len()] == needle[..] {
                matches.push((at, at + needle.len(), index));
                at += needle.len();
                if matches.len() > 10_000 {
                    break;
                }
            } else {
                at += 1;
            }
        }
    }
    // longest first among matches at one place, so a word inside a longer match is skipped
    matches.sort_unstable_by_key(|&(start, end, _)| (start, std::cmp::Reverse(end)));
    matches
}

/// The window of about [`WINDOW`] characters holding the most distinct needles.
fn best_window(matches: &[(usize, usize, usize)], length: usize) -> (usize, usize) {
    let mut best = (0, 0usize);
    for (i, &(start, _, _)) in matches.iter().enumerate() {
        let mut seen: Vec<usize> = Vec::new();
        for &(other, _, needle) in &matches[i..] {
            if other >= start + WINDOW {
                break;
            }
            if !seen.contains(&needle) {
                seen.push(needle);
            }
        }
        if seen.len() > best.1 {
            best = (start, seen.len());
        }
    }
    if best.1 == 0 {
        return (0, length.min(WINDOW));
    }
    let start = best.0.saturating_sub(WINDOW / 4);
    (start, (start + WINDOW).min(length))
}

fn render(
    original: &[char],
    matches: &[(usize, usize, usize)],
    start: usize,
    end: usize,
) -> String {
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
            push_escaped(&mut out, &original[at..from]);
            out.push_str("<mark>");
        }
        push_escaped(&mut out, &original[from..to.min(end)]);
        out.push_str("</mark>");
        at = to.min(end);
    }
    push_escaped(&mut out, &original[at..end]);
    if end < original.len() {
        out.push('…');
    }
    out
}

fn push_escaped(out: &mut String, chars: &[char]) {
    for &c in chars {
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
    fn without_matches_the_snippet_is_the_start() {
        assert_eq!(snippet("abc", &["zzz".into()]), "abc");
        assert_eq!(snippet("", &["zzz".into()]), "");
    }
}
