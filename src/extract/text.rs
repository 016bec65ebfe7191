//! Plain text files in UTF-8, UTF-16 (with BOM), GB18030/GBK or Big5, and the charset guess.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use encoding_rs::{BIG5, Encoding, GB18030, UTF_8};

use super::{ExtractError, Raw};

/// Text that was decoded, and how.
pub(crate) struct Decoded {
    /// The text, with malformed sequences replaced by U+FFFD.
    pub text: String,
    /// The encoding used.
    pub encoding: &'static Encoding,
    /// Whether malformed sequences were replaced.
    pub had_errors: bool,
}

/// Reads at most `limit` bytes of a file; says whether the file was longer.
pub(crate) fn read_head(path: &Path, limit: usize) -> Result<(Vec<u8>, bool), ExtractError> {
    let action = || format!("read {}", path.display());
    let file = File::open(path).map_err(|error| ExtractError::io(action(), error))?;
    let mut bytes = Vec::new();
    let wanted = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    file.take(wanted)
        .read_to_end(&mut bytes)
        .map_err(|error| ExtractError::io(action(), error))?;
    let truncated = bytes.len() > limit;
    bytes.truncate(limit);
    Ok((bytes, truncated))
}

/// A plain text file (`text/plain`, Markdown, CSV): decoded, nothing else.
/// `declared` is the `charset` parameter of the media type, if any.
pub(crate) fn extract_plain(
    path: &Path,
    declared: Option<&'static Encoding>,
    input_limit: usize,
) -> Result<Raw, ExtractError> {
    let (bytes, truncated) = read_head(path, input_limit)?;
    let decoded = decode(&bytes, declared, truncated);
    let mut raw = Raw::text(decoded.text);
    raw.truncated = truncated;
    if decoded.had_errors {
        raw.warnings.push(format!(
            "text decoded as {} had malformed bytes",
            decoded.encoding.name()
        ));
    }
    Ok(raw)
}

/// Decodes bytes: a byte order mark wins, then the declared encoding, then UTF-8 if the bytes
/// are valid UTF-8, else the better of GB18030 and Big5. A declared encoding that reads with
/// errors gives way to the guess if the guess reads with fewer (mislabelled pages are common).
/// `cut` says the bytes are the head of a longer file, so a character cut in half at the end
/// is not counted as an error.
pub(crate) fn decode(bytes: &[u8], declared: Option<&'static Encoding>, cut: bool) -> Decoded {
    if let Some((encoding, bom_length)) = Encoding::for_bom(bytes) {
        return decode_as(encoding, &bytes[bom_length..], cut);
    }
    let Some(declared) = declared else {
        return decode_as(guess(bytes, cut), bytes, cut);
    };
    let decoded = decode_as(declared, bytes, cut);
    if !decoded.had_errors {
        return decoded;
    }
    let guessed = guess(bytes, cut);
    if guessed == declared {
        return decoded;
    }
    let alternative = decode_as(guessed, bytes, cut);
    if replacements(&alternative.text) < replacements(&decoded.text) {
        alternative
    } else {
        decoded
    }
}

fn decode_as(encoding: &'static Encoding, body: &[u8], cut: bool) -> Decoded {
    let (text, had_errors) = encoding.decode_without_bom_handling(body);
    let mut text = text.into_owned();
    let mut had_errors = had_errors;
    if cut && text.ends_with('\u{FFFD}') {
        text.pop();
        had_errors = text.contains('\u{FFFD}');
    }
    Decoded {
        text,
        encoding,
        had_errors,
    }
}

fn replacements(text: &str) -> usize {
    text.chars().filter(|&c| c == '\u{FFFD}').count()
}

/// UTF-8 if the bytes are valid UTF-8 (allowing a cut character at the end), else GB18030 or
/// Big5 by which reads with fewer errors and, when equal, which puts more of the double-byte
/// characters in its own table of frequent characters.
///
/// GBK and Big5 overlap almost entirely, so both usually decode without error; but the 3,755
/// frequent characters of GB2312 level 1 (lead bytes B0–D7, trail A1–FE) and the 5,401 of Big5
/// level 1 (A440–C67E) sit in different places, and real text is mostly frequent characters.
fn guess(bytes: &[u8], cut: bool) -> &'static Encoding {
    match std::str::from_utf8(bytes) {
        Ok(_) => return UTF_8,
        Err(error) if cut && error.error_len().is_none() => return UTF_8,
        Err(_) => {}
    }
    let gb_errors = replacement_count(GB18030, bytes);
    let big5_errors = replacement_count(BIG5, bytes);
    if gb_errors != big5_errors {
        return if big5_errors < gb_errors {
            BIG5
        } else {
            GB18030
        };
    }
    let (gb_frequent, big5_frequent) = frequent_pairs(bytes);
    if big5_frequent > gb_frequent {
        BIG5
    } else {
        GB18030
    }
}

fn replacement_count(encoding: &'static Encoding, bytes: &[u8]) -> usize {
    replacements(&encoding.decode_without_bom_handling(bytes).0)
}

/// How many double-byte pairs are frequent characters under GB2312 and under Big5.
fn frequent_pairs(bytes: &[u8]) -> (usize, usize) {
    let (mut gb, mut big5) = (0, 0);
    let mut index = 0;
    while index + 1 < bytes.len() {
        let (lead, trail) = (bytes[index], bytes[index + 1]);
        if lead < 0x80 {
            index += 1;
            continue;
        }
        if (0xB0..=0xD7).contains(&lead) && (0xA1..=0xFE).contains(&trail) {
            gb += 1;
        }
        let code = u16::from_be_bytes([lead, trail]);
        let big5_trail = (0x40..=0x7E).contains(&trail) || (0xA1..=0xFE).contains(&trail);
        if (0xA440..=0xC67E).contains(&code) && big5_trail {
            big5 += 1;
        }
        index += 2;
    }
    (gb, big5)
}

#[cfg(test)]
mod tests {
    use super::super::testing::corpus;
    use super::*;

    fn encode(encoding: &'static Encoding, text: &str) -> Vec<u8> {
        let (bytes, _, unmappable) = encoding.encode(text);
        assert!(!unmappable, "test text fits {}", encoding.name());
        bytes.into_owned()
    }

    #[test]
    fn short_gbk_and_big5_strings_are_told_apart() {
        for text in ["档案管理办法", "员工的身份证复印件", "销毁清册"] {
            let decoded = decode(&encode(GB18030, text), None, false);
            assert_eq!((decoded.encoding, decoded.text.as_str()), (GB18030, text));
        }
        for text in ["檔案管理辦法", "員工的身份證影本", "銷毀清冊"] {
            let decoded = decode(&encode(BIG5, text), None, false);
            assert_eq!((decoded.encoding, decoded.text.as_str()), (BIG5, text));
        }
    }

    #[test]
    fn a_big5_corpus_text_decodes_as_big5() {
        let Some(dir) = corpus() else { return };
        let text = std::fs::read_to_string(dir.join("text/archive-plans.zh-tw.txt")).expect("read");
        // keep the lines Big5 can encode (a few characters fall outside it)
        let lines: Vec<&str> = text.lines().filter(|line| !BIG5.encode(line).2).collect();
        let text = lines.join("\n");
        assert!(text.chars().count() > 10_000, "most of the text is kept");
        let decoded = decode(&encode(BIG5, &text), None, false);
        assert_eq!(decoded.encoding, BIG5);
        assert!(!decoded.had_errors);
        assert_eq!(decoded.text, text);
    }

    #[test]
    fn a_gb18030_corpus_text_decodes_as_gb18030() {
        let Some(dir) = corpus() else { return };
        let text = std::fs::read_to_string(dir.join("scans/truth_sc.txt")).expect("read");
        let decoded = decode(&encode(GB18030, &text), None, false);
        assert_eq!(decoded.encoding, GB18030);
        assert_eq!(decoded.text, text);
        // the Traditional corpus text in GB18030 (which encodes every character) too
        let text = std::fs::read_to_string(dir.join("text/archive-plans.zh-tw.txt")).expect("read");
        let decoded = decode(&encode(GB18030, &text), None, false);
        assert_eq!(decoded.encoding, GB18030);
        assert_eq!(decoded.text, text);
    }

    #[test]
    fn byte_order_marks_win_and_utf8_is_taken_as_is() {
        let mut utf16 = vec![0xFF, 0xFE];
        for unit in "檔案".encode_utf16() {
            utf16.extend_from_slice(&unit.to_le_bytes());
        }
        assert_eq!(decode(&utf16, None, false).text, "檔案");
        let with_bom = [&[0xEF, 0xBB, 0xBF][..], "档案".as_bytes()].concat();
        assert_eq!(decode(&with_bom, Some(BIG5), false).text, "档案");
        assert_eq!(decode("档案".as_bytes(), None, false).encoding, UTF_8);
    }

    #[test]
    fn a_wrong_declared_encoding_gives_way_to_one_that_reads_cleanly() {
        let bytes = encode(GB18030, "员工档案管理办法");
        let decoded = decode(&bytes, Some(UTF_8), false);
        assert_eq!(
            (decoded.encoding, decoded.text.as_str()),
            (GB18030, "员工档案管理办法")
        );
        let decoded = decode("檔案".as_bytes(), Some(BIG5), false);
        assert_eq!((decoded.encoding, decoded.text.as_str()), (UTF_8, "檔案"));
    }

    #[test]
    fn a_character_cut_at_the_end_of_a_head_is_not_an_error() {
        let bytes = "档案管理".as_bytes();
        let decoded = decode(&bytes[..7], None, true);
        assert_eq!(decoded.encoding, UTF_8);
        assert_eq!(decoded.text, "档案");
        assert!(!decoded.had_errors);
    }
}
