//! Recognising a file's media type: from its content first, then its name.

/// The media type of an uploaded file: what its first bytes say, else what its filename's
/// extension says, else what the client declared, else plain text for UTF-8 content, else
/// `application/octet-stream`.
pub fn media_type(head: &[u8], filename: &str, declared: Option<&str>) -> String {
    if let Some(kind) = infer::get(head) {
        return kind.mime_type().to_owned();
    }
    if let Some(guess) = mime_guess::from_path(filename).first_raw() {
        return guess.to_owned();
    }
    if let Some(declared) = declared.map(str::trim).filter(|value| is_specific(value)) {
        return declared.to_ascii_lowercase();
    }
    if !head.is_empty() && looks_like_utf8_text(head) {
        return "text/plain".to_owned();
    }
    "application/octet-stream".to_owned()
}

fn is_specific(media_type: &str) -> bool {
    media_type.contains('/') && !media_type.eq_ignore_ascii_case("application/octet-stream")
}

/// UTF-8 without control characters other than whitespace; the head may end mid-character.
fn looks_like_utf8_text(head: &[u8]) -> bool {
    let text = match std::str::from_utf8(head) {
        Ok(text) => text,
        Err(error) if error.error_len().is_none() => {
            // cut in the middle of a character at the end of the sample
            std::str::from_utf8(&head[..error.valid_up_to()]).unwrap_or_default()
        }
        Err(_) => return false,
    };
    text.chars().all(|c| !c.is_control() || c.is_whitespace())
}

#[cfg(test)]
mod tests {
    use super::*;

    const JPEG: &[u8] = &[
        0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, b'J', b'F', b'I', b'F', 0x00,
    ];
    const PDF: &[u8] = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n";

    #[test]
    fn content_wins_over_a_misleading_name() {
        assert_eq!(media_type(PDF, "身份證復印件.jpg", None), "application/pdf");
        assert_eq!(
            media_type(JPEG, "scan.pdf", Some("application/pdf")),
            "image/jpeg"
        );
    }

    #[test]
    fn the_name_decides_when_content_has_no_signature() {
        assert_eq!(
            media_type("第一章 總則".as_bytes(), "規定.txt", None),
            "text/plain"
        );
        assert_eq!(media_type(b"a,b\n1,2\n", "清冊.csv", None), "text/csv");
    }

    #[test]
    fn declared_then_text_then_octets_are_the_fallbacks() {
        assert_eq!(
            media_type(b"{}", "noext", Some("application/json")),
            "application/json"
        );
        assert_eq!(media_type("檔案".as_bytes(), "noext", None), "text/plain");
        assert_eq!(
            media_type(&[0, 1, 2, 3], "noext", Some("application/octet-stream")),
            "application/octet-stream"
        );
        let cut = &"檔案".as_bytes()[..4];
        assert_eq!(media_type(cut, "noext", None), "text/plain");
    }
}
