//! HTML: charset from BOM or `<meta charset>`, tags, scripts and styles stripped, entities decoded.

use std::path::Path;

use encoding_rs::{Encoding, UTF_8};

use super::text::{decode, read_head};
use super::{ExtractError, Raw};

/// Elements whose content is never text a reader sees.
const HIDDEN: [&str; 5] = ["script", "style", "template", "svg", "object"];

/// Elements that start a new line when rendered.
const BLOCKS: [&str; 37] = [
    "address",
    "article",
    "aside",
    "blockquote",
    "br",
    "caption",
    "dd",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "hr",
    "li",
    "main",
    "nav",
    "ol",
    "option",
    "p",
    "pre",
    "section",
    "table",
    "tbody",
    "thead",
    "title",
    "tr",
    "ul",
];

/// An HTML file as the text a reader sees, with block boundaries as line breaks. The charset
/// comes from a byte order mark, else the media type's `charset` (`declared`), else `<meta>`.
pub(crate) fn extract_html(
    path: &Path,
    declared: Option<&'static Encoding>,
    input_limit: usize,
) -> Result<Raw, ExtractError> {
    let (bytes, truncated) = read_head(path, input_limit)?;
    let declared = declared.or_else(|| declared_charset(&bytes));
    let decoded = decode(&bytes, declared, truncated);
    let mut raw = Raw::text(html_to_text(&decoded.text));
    raw.truncated = truncated;
    if decoded.had_errors {
        raw.warnings.push(format!(
            "HTML decoded as {} had malformed bytes",
            decoded.encoding.name()
        ));
    }
    Ok(raw)
}

/// The encoding named by `<meta charset=…>` or `content="…; charset=…"` in the first 4 KiB.
fn declared_charset(bytes: &[u8]) -> Option<&'static Encoding> {
    let head = &bytes[..bytes.len().min(4096)];
    let lower = head.to_ascii_lowercase();
    let mut from = 0;
    while let Some(found) = find(&lower[from..], b"charset") {
        let mut at = from + found + b"charset".len();
        from = at;
        while lower.get(at).is_some_and(u8::is_ascii_whitespace) {
            at += 1;
        }
        if lower.get(at) != Some(&b'=') {
            continue;
        }
        at += 1;
        while lower
            .get(at)
            .is_some_and(|b| b.is_ascii_whitespace() || *b == b'"' || *b == b'\'')
        {
            at += 1;
        }
        let end = lower[at..]
            .iter()
            .position(|b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':')))
            .map_or(lower.len(), |length| at + length);
        let encoding = Encoding::for_label(&lower[at..end])?;
        // HTML: a document that declares UTF-16 in ASCII-compatible bytes is UTF-8
        return Some(
            if encoding.is_single_byte() || encoding.output_encoding() == encoding {
                encoding
            } else {
                UTF_8
            },
        );
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// The text of an HTML document: tags dropped, hidden elements and comments skipped, entities
/// decoded, block elements on lines of their own, table cells separated by tabs.
pub(crate) fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len() / 2);
    let mut rest = html;
    let mut in_pre = false;
    while let Some(open) = rest.find('<') {
        push_text(&mut out, &rest[..open], in_pre);
        rest = &rest[open..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        if let Some(after) = rest.strip_prefix("<![CDATA[") {
            let end = after.find("]]>").unwrap_or(after.len());
            out.push_str(&after[..end]);
            rest = after.get(end + 3..).unwrap_or("");
            continue;
        }
        let Some(tag) = Tag::parse(rest) else {
            out.push('<');
            rest = &rest[1..];
            continue;
        };
        rest = &rest[tag.length..];
        if !tag.closing && HIDDEN.contains(&tag.name.as_str()) {
            rest = skip_element(rest, &tag.name);
            continue;
        }
        if tag.name == "pre" {
            in_pre = !tag.closing;
        }
        if BLOCKS.contains(&tag.name.as_str()) {
            out.push('\n');
        } else if !tag.closing && matches!(tag.name.as_str(), "td" | "th") {
            out.push('\t');
        }
    }
    push_text(&mut out, rest, in_pre);
    out
}

/// A start or end tag at the beginning of the input.
struct Tag {
    /// Lower-case element name, empty for `<!DOCTYPE>` and `<?…?>`.
    name: String,
    closing: bool,
    /// Bytes from `<` to `>` inclusive.
    length: usize,
}

impl Tag {
    fn parse(input: &str) -> Option<Tag> {
        let body = &input[1..];
        let (closing, body) = match body.strip_prefix('/') {
            Some(body) => (true, body),
            None => (false, body),
        };
        let declaration = body.starts_with('!') || body.starts_with('?');
        let name: String = body
            .chars()
            .take_while(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if name.is_empty() && !declaration {
            return None;
        }
        // A tag that never ends takes the rest of the input with it, as in a browser (EOF in
        // a tag); looking for its end again from every later `<` would take quadratic time.
        let length = tag_end(input).unwrap_or(input.len());
        Some(Tag {
            name: if declaration { String::new() } else { name },
            closing,
            length,
        })
    }
}

/// Where a tag ends: just past the first `>` outside a quoted attribute value.
fn tag_end(input: &str) -> Option<usize> {
    let mut quote = None;
    for (index, c) in input.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(open), c) if c == open => quote = None,
            (None, '>') => return Some(index + 1),
            _ => {}
        }
    }
    None
}

/// The input after the end tag of a hidden element (or nothing, if it never ends).
fn skip_element<'a>(rest: &'a str, name: &str) -> &'a str {
    let closing = format!("</{name}");
    let mut from = 0;
    while let Some(found) = find_ascii_ci(&rest[from..], &closing) {
        let at = from + found;
        let after = &rest[at + closing.len()..];
        if !after.starts_with(|c: char| c.is_ascii_alphanumeric()) {
            return tag_end(&rest[at..]).map_or("", |end| &rest[at + end..]);
        }
        from = at + closing.len();
    }
    ""
}

fn find_ascii_ci(haystack: &str, needle: &str) -> Option<usize> {
    let needle = needle.as_bytes();
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|window| window.eq_ignore_ascii_case(needle))
}

/// Appends text content: entities decoded; source line breaks are spaces outside `<pre>`.
fn push_text(out: &mut String, text: &str, in_pre: bool) {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        push_whitespace_folded(out, &rest[..amp], in_pre);
        rest = &rest[amp..];
        match decode_entity(rest) {
            Some((decoded, length)) => {
                out.push(decoded);
                rest = &rest[length..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    push_whitespace_folded(out, rest, in_pre);
}

fn push_whitespace_folded(out: &mut String, text: &str, in_pre: bool) {
    if in_pre {
        out.push_str(text);
    } else {
        out.extend(
            text.chars()
                .map(|c| if c.is_whitespace() { ' ' } else { c }),
        );
    }
}

/// The longest entity reference looked for, `;` included: the `;` is searched for within
/// these bytes only, so text full of `&` costs linear time.
const MAX_ENTITY_BYTES: usize = 32;

/// The character of an entity reference at the start of `input`, and the reference's length.
fn decode_entity(input: &str) -> Option<(char, usize)> {
    let end = input.as_bytes()[1..]
        .iter()
        .take(MAX_ENTITY_BYTES)
        .position(|&byte| byte == b';')?
        + 1;
    let name = &input[1..end];
    let decoded = if let Some(number) = name.strip_prefix('#') {
        let value = match number.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok()?,
            None => number.parse().ok()?,
        };
        char::from_u32(value).filter(|&c| c != '\0')?
    } else {
        named_entity(name)?
    };
    Some((decoded, end + 1))
}

fn named_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" | "ensp" | "emsp" | "thinsp" => ' ',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "hellip" => '…',
        "mdash" => '—',
        "ndash" => '–',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "laquo" => '«',
        "raquo" => '»',
        "middot" => '·',
        "bull" => '•',
        "times" => '×',
        "divide" => '÷',
        "deg" => '°',
        "plusmn" => '±',
        "yen" => '¥',
        "euro" => '€',
        "pound" => '£',
        "cent" => '¢',
        "sect" => '§',
        "para" => '¶',
        "shy" => '\u{AD}',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::corpus;
    use super::super::{ExtractOptions, Method, extract_file};
    use super::*;

    #[test]
    fn tags_scripts_styles_and_comments_are_stripped_and_blocks_become_lines() {
        let html = "<html><head><title>档案</title><style>p{color:red}</style>\
            <script type=\"text/javascript\">if (a < b) { x = '</p>'; }</script></head>\
            <body><!-- 注释 --><h1 class='x>y'>标题</h1><p>第一段&amp;&lt;A&gt;&#x6587;&#26723;&nbsp;末</p>\
            <table><tr><td>姓名</td><td>王晓明</td></tr></table>x &unknown; y<br/>z</body></html>";
        let text = html_to_text(html);
        let lines: Vec<&str> = text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect();
        assert_eq!(
            lines,
            [
                "档案",
                "标题",
                "第一段&<A>文档 末",
                "姓名\t王晓明",
                "x &unknown; y",
                "z"
            ]
        );
    }

    #[test]
    fn meta_charset_is_respected() {
        let (body, _, _) = encoding_rs::GBK.encode("<p>档案管理</p>");
        let html = [
            &b"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=GB2312\">"[..],
            &body,
        ]
        .concat();
        assert_eq!(declared_charset(&html), Some(encoding_rs::GBK));
        let decoded = decode(&html, declared_charset(&html), false);
        assert!(html_to_text(&decoded.text).contains("档案管理"));
        assert_eq!(declared_charset(b"<meta charset='utf-16'>"), Some(UTF_8));
        assert_eq!(
            declared_charset(b"<meta charset=\"big5\">"),
            Some(encoding_rs::BIG5)
        );
    }

    #[test]
    fn a_corpus_help_page_keeps_its_text_and_loses_its_markup() {
        let Some(dir) = corpus() else { return };
        let path = dir.join("text/libreoffice-help-zh-CN/scalc/05/empty_cells.html");
        let extracted =
            extract_file(&path, "text/html", &ExtractOptions::default()).expect("extracts");
        assert_eq!(extracted.method, Method::Html);
        let text = extracted.text;
        assert!(text.contains("处理空白单元格"), "{text}");
        assert!(
            text.contains("对一个空白单元格的简单引用仍显示为数字 0"),
            "{text}"
        );
        assert!(text.contains("B1: <Empty>"), "entities decoded: {text}");
        for markup in [
            "<p",
            "</",
            "dir=\"auto\"",
            "text/javascript",
            "setupModules",
            "&lt;",
        ] {
            assert!(!text.contains(markup), "{markup} left in: {text}");
        }
        let traditional = dir.join("text/libreoffice-help-zh-TW/scalc/05/empty_cells.html");
        let extracted =
            extract_file(&traditional, "text/html", &ExtractOptions::default()).expect("extracts");
        assert!(extracted.text.contains("空白儲存格"), "{}", extracted.text);
    }

    #[test]
    fn an_unclosed_tag_takes_the_rest_of_the_document_with_it() {
        assert_eq!(html_to_text("前文<a href='x>後文"), "前文");
        // 200,000 tags that never close: each would otherwise be looked for to the end
        let hostile = format!("檔案{}", "<a title=\"x ".repeat(200_000));
        assert_eq!(html_to_text(&hostile), "檔案");
        let unquoted = format!("檔案{}", "<b ".repeat(200_000));
        assert_eq!(html_to_text(&unquoted), "檔案");
    }

    #[test]
    fn two_hundred_thousand_nested_elements_give_their_text() {
        let depth = 200_000;
        let html = format!(
            "{}員工檔案{}",
            "<div><span>".repeat(depth),
            "</span></div>".repeat(depth)
        );
        let text = html_to_text(&html);
        assert_eq!(text.replace('\n', ""), "員工檔案");
    }

    #[test]
    fn an_entity_is_looked_for_within_its_longest_length_only() {
        let ampersands = "&".repeat(200_000);
        assert_eq!(
            html_to_text(&format!("{ampersands}&amp;")),
            format!("{ampersands}&")
        );
        let far = format!("&amp{};", "x".repeat(MAX_ENTITY_BYTES));
        assert_eq!(html_to_text(&far), far);
        assert_eq!(html_to_text("&#x6863;&#26696;"), "档案");
    }

    #[test]
    fn every_corpus_help_page_extracts_without_markup() {
        let Some(dir) = corpus() else { return };
        let (mut pages, mut chinese) = (0, 0);
        for script in ["libreoffice-help-zh-CN", "libreoffice-help-zh-TW"] {
            let mut stack = vec![dir.join("text").join(script)];
            while let Some(folder) = stack.pop() {
                for entry in std::fs::read_dir(&folder).expect("read dir").flatten() {
                    let path = entry.path();
                    if path.is_dir() {
                        stack.push(path);
                        continue;
                    }
                    let extracted = extract_file(&path, "text/html", &ExtractOptions::default())
                        .expect("extracts");
                    let text = &extracted.text;
                    assert!(!text.is_empty(), "{}", path.display());
                    assert!(
                        !text.contains("</p") && !text.contains("<span"),
                        "{}",
                        path.display()
                    );
                    if text.chars().any(super::super::normalize::is_cjk) {
                        chinese += 1;
                    }
                    pages += 1;
                }
            }
        }
        assert!(pages >= 900, "{pages} pages");
        // a few pages are untranslated English examples
        assert!(
            chinese * 100 >= pages * 95,
            "{chinese} of {pages} pages have Chinese text"
        );
    }
}
