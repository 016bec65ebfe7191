//! Normalising extracted text for storage and indexing: NFKC, whitespace, CJK spacing, size cap.

use unicode_normalization::UnicodeNormalization;

/// Normalises extracted text:
/// - NFKC, so full-width letters and digits become ASCII and Kangxi radicals become the usual
///   ideographs; full-width CJK punctuation (，：（）) is left as it is, since it reads better in
///   snippets and the tokenizers drop punctuation anyway;
/// - line ends become `\n`, form feeds (page breaks) a blank line, control and zero-width
///   characters are dropped (PostgreSQL `text` cannot hold NUL);
/// - runs of whitespace within a line become one space, or one tab if the run held a tab (tabs
///   separate table cells); lines are trimmed; runs of blank lines become one;
/// - spaces between two CJK characters are removed (OCR and justified PDF text put them there);
/// - with `join_wrapped_lines`, a line break between two CJK characters is removed: in PDF and
///   OCR text it is a visual wrap in the middle of a sentence, often in the middle of a word.
pub(crate) fn normalize(raw: &str, join_wrapped_lines: bool) -> String {
    let cleaned = clean_controls(raw);
    let folded = compatibility_fold(&cleaned);
    let mut out = String::with_capacity(folded.len());
    let mut pending_blank = false;
    for line in folded.split('\n') {
        let line = tidy_line(line);
        if line.is_empty() {
            pending_blank = !out.is_empty();
            continue;
        }
        if !out.is_empty() {
            if pending_blank {
                out.push_str("\n\n");
            } else if !(join_wrapped_lines && is_wrap(&out, &line)) {
                out.push('\n');
            }
        }
        out.push_str(&line);
        pending_blank = false;
    }
    out
}

/// Cuts `text` to at most `max_bytes` on a character boundary; says whether it cut.
pub(crate) fn cap(mut text: String, max_bytes: usize) -> (String, bool) {
    if text.len() <= max_bytes {
        return (text, false);
    }
    let mut end = max_bytes;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    (text, true)
}

/// Whether `c` belongs to CJK writing, where words are not separated by spaces.
pub(crate) fn is_cjk(c: char) -> bool {
    matches!(c,
        '\u{2E80}'..='\u{2FDF}'      // radicals
        | '\u{3000}'..='\u{303F}'    // CJK symbols and punctuation
        | '\u{3040}'..='\u{30FF}'    // kana
        | '\u{3100}'..='\u{312F}'    // bopomofo
        | '\u{3400}'..='\u{4DBF}'    // extension A
        | '\u{4E00}'..='\u{9FFF}'    // unified ideographs
        | '\u{F900}'..='\u{FAFF}'    // compatibility ideographs
        | '\u{FE30}'..='\u{FE4F}'    // compatibility forms
        | '\u{FF01}'..='\u{FF0F}'    // full-width punctuation kept by the fold
        | '\u{FF1A}'..='\u{FF20}'
        | '\u{FF3B}'..='\u{FF40}'
        | '\u{FF5B}'..='\u{FF60}'
        | '\u{20000}'..='\u{3134F}') // extensions B–G
}

/// Whether `c` is a CJK ideograph (Han character), the unit the OCR recall figure counts.
#[cfg(test)]
pub(crate) fn is_han(c: char) -> bool {
    matches!(c,
        '\u{3400}'..='\u{4DBF}' | '\u{4E00}'..='\u{9FFF}' | '\u{F900}'..='\u{FAFF}'
        | '\u{20000}'..='\u{3134F}')
}

fn keeps_width(c: char) -> bool {
    matches!(c,
        '\u{FF01}'..='\u{FF0F}' | '\u{FF1A}'..='\u{FF20}' | '\u{FF3B}'..='\u{FF40}'
        | '\u{FF5B}'..='\u{FF60}')
}

fn clean_controls(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() != Some(&'\n') {
                    out.push('\n');
                }
            }
            '\n' => out.push('\n'),
            '\u{000C}' => out.push_str("\n\n"),
            '\t' => out.push('\t'),
            '\u{000B}' => out.push(' '),
            // zero-width space/joiners, word joiner, soft hyphen, byte order mark
            '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{00AD}' | '\u{FEFF}' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn compatibility_fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut segment_start = 0;
    for (index, c) in text.char_indices() {
        if keeps_width(c) {
            out.extend(text[segment_start..index].nfkc());
            out.push(c);
            segment_start = index + c.len_utf8();
        }
    }
    out.extend(text[segment_start..].nfkc());
    out
}

/// One line with whitespace runs collapsed, spaces between CJK characters removed, trimmed.
fn tidy_line(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut pending: Option<char> = None;
    for c in line.chars() {
        if c.is_whitespace() {
            if !out.is_empty() && pending != Some('\t') {
                pending = Some(if c == '\t' { '\t' } else { ' ' });
            }
            continue;
        }
        match pending.take() {
            Some('\t') => out.push('\t'),
            Some(_) if !(out.chars().next_back().is_some_and(is_cjk) && is_cjk(c)) => out.push(' '),
            _ => {}
        }
        out.push(c);
    }
    out
}

/// Whether the break between the text so far and the next line is a wrap inside a sentence.
fn is_wrap(before: &str, next: &str) -> bool {
    let Some(last) = before.chars().next_back() else {
        return false;
    };
    let ends_sentence = matches!(
        last,
        '。' | '！' | '？' | '：' | '；' | '!' | '?' | ':' | ';'
    );
    !ends_sentence && is_cjk(last) && next.chars().next().is_some_and(is_cjk)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn full_width_letters_and_digits_become_ascii_but_cjk_punctuation_stays() {
        let text = normalize("ＡＢＣ１２３，档案（复印件）⼯作", false);
        assert_eq!(text, "ABC123，档案（复印件）工作");
    }

    #[test]
    fn spaces_between_cjk_characters_are_removed_and_others_collapsed() {
        let text = normalize(
            "此 软 件 包 包 含 了  GNU   项 目  中 的 文档 ， 好 ",
            false,
        );
        assert_eq!(text, "此软件包包含了 GNU 项目中的文档，好");
        assert_eq!(normalize("姓名 \t 王晓明\t\t男", false), "姓名\t王晓明\t男");
    }

    #[test]
    fn wrapped_cjk_lines_are_joined_only_when_asked() {
        let raw = "文档作\n者和贡献者。\n下一句\nDebian 手册\n\n\n\n新段落\u{000C}第二页";
        assert_eq!(
            normalize(raw, true),
            "文档作者和贡献者。\n下一句\nDebian 手册\n\n新段落\n\n第二页"
        );
        assert_eq!(
            normalize(raw, false),
            "文档作\n者和贡献者。\n下一句\nDebian 手册\n\n新段落\n\n第二页"
        );
    }

    #[test]
    fn control_and_zero_width_characters_are_dropped() {
        let text = normalize("\u{FEFF}a\u{0}b\u{200B}c\r\nd\re\u{7}", false);
        assert_eq!(text, "abc\nd\ne");
    }

    #[test]
    fn the_cap_cuts_on_a_character_boundary() {
        let (text, cut) = cap("档案管理".to_owned(), 7);
        assert_eq!((text.as_str(), cut), ("档案", true));
        let (text, cut) = cap("档案".to_owned(), 6);
        assert_eq!((text.as_str(), cut), ("档案", false));
    }

    proptest::proptest! {
        #[test]
        fn normalised_text_is_tidy_and_the_cap_holds(
            raw in "[ \t\r\n\u{0}\u{3000}a-cＡ１档案，。\u{C}]{0,64}",
            max in 0usize..80,
            join in proptest::bool::ANY,
        ) {
            let text = normalize(&raw, join);
            proptest::prop_assert!(!text.contains("  ") && !text.contains("\n\n\n"));
            proptest::prop_assert!(!text.contains('\0') && !text.contains('\r'));
            proptest::prop_assert_eq!(text.trim(), text.as_str());
            proptest::prop_assert_eq!(normalize(&text, join), text.clone());
            let (capped, cut) = cap(text.clone(), max);
            proptest::prop_assert!(capped.len() <= max && text.starts_with(&capped));
            proptest::prop_assert_eq!(cut, capped.len() < text.len());
        }
    }
}
