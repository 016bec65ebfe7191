//! The text of a manifest file: UTF-8 with or without a byte-order mark, UTF-16 with one
//! (Excel's "Unicode text"), or GB18030 (Excel's "CSV" on Chinese Windows).

use encoding_rs::{Encoding, GB18030};

use super::ManifestError;

/// A decoded manifest and the name of the encoding it was in.
#[derive(Debug)]
pub struct Decoded {
    pub text: String,
    pub encoding: &'static str,
}

/// Detects the encoding: a byte-order mark decides; otherwise valid UTF-8 is UTF-8, and
/// anything else must be valid GB18030 (which includes GBK and GB2312).
pub fn decode(bytes: &[u8]) -> Result<Decoded, ManifestError> {
    if let Some((encoding, bom_length)) = Encoding::for_bom(bytes) {
        let rest = bytes.get(bom_length..).unwrap_or_default();
        let (text, had_errors) = encoding.decode_without_bom_handling(rest);
        if had_errors {
            return Err(ManifestError::Encoding(format!(
                "the manifest starts with a {} byte-order mark but is not valid {}; save it again as CSV UTF-8",
                encoding.name(),
                encoding.name()
            )));
        }
        return Ok(Decoded {
            text: text.into_owned(),
            encoding: encoding.name(),
        });
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        return Ok(Decoded {
            text: text.to_owned(),
            encoding: "UTF-8",
        });
    }
    let (text, had_errors) = GB18030.decode_without_bom_handling(bytes);
    if had_errors {
        return Err(ManifestError::Encoding(
            "the manifest is neither UTF-8 nor GB18030 text; save it from Excel as CSV UTF-8"
                .into(),
        ));
    }
    Ok(Decoded {
        text: text.into_owned(),
        encoding: GB18030.name(),
    })
}

#[cfg(test)]
mod tests {
    use encoding_rs::UTF_16LE;

    use super::*;

    const TEXT: &str = "路徑,題名\n合同.pdf,勞動合同\n";

    #[test]
    fn utf8_is_read_with_or_without_a_byte_order_mark() {
        let plain = decode(TEXT.as_bytes()).expect("utf-8");
        assert_eq!((plain.text.as_str(), plain.encoding), (TEXT, "UTF-8"));
        let with_bom = [b"\xef\xbb\xbf".as_slice(), TEXT.as_bytes()].concat();
        assert_eq!(decode(&with_bom).expect("utf-8 with bom").text, TEXT);
    }

    #[test]
    fn gb18030_is_detected_when_the_bytes_are_not_utf8() {
        let (bytes, _, _) = GB18030.encode(TEXT);
        assert!(std::str::from_utf8(&bytes).is_err());
        let decoded = decode(&bytes).expect("gb18030");
        assert_eq!((decoded.text.as_str(), decoded.encoding), (TEXT, "gb18030"));
    }

    #[test]
    fn utf16_with_a_byte_order_mark_is_read() {
        let mut bytes = vec![0xff, 0xfe];
        for unit in TEXT.encode_utf16() {
            bytes.extend_from_slice(&unit.to_le_bytes());
        }
        let decoded = decode(&bytes).expect("utf-16");
        assert_eq!(
            (decoded.text.as_str(), decoded.encoding),
            (TEXT, UTF_16LE.name())
        );
    }

    #[test]
    fn binary_is_refused() {
        assert!(matches!(
            decode(&[0x81, 0x20, 0xff, 0x00]),
            Err(ManifestError::Encoding(_))
        ));
    }
}
