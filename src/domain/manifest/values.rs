//! Cell values of a manifest: dates as spreadsheets write them, security levels, open status
//! and carriers by their English or Chinese labels, and custom fields typed by their
//! category's definitions.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde_json::{Map, Value};

use crate::domain::catalogue::{
    Carrier, FieldDefinition, FieldType, Language, OpenStatus, SecurityLevel,
};
use crate::domain::validation::ValidationError;

/// A date as `2024-05-01`, `2024/5/1`, `2024.05.01`, `20240501` (DA/T 22) or `2024年5月1日`.
pub fn parse_date(field: &str, text: &str) -> Result<NaiveDate, ValidationError> {
    let invalid = || {
        ValidationError::new(
            field,
            format!("{text:?} is not a date; write YYYY-MM-DD, e.g. 2024-05-01"),
        )
    };
    let text = text.trim();
    if text.len() == 8 && text.bytes().all(|b| b.is_ascii_digit()) {
        return NaiveDate::parse_from_str(text, "%Y%m%d").map_err(|_| invalid());
    }
    let parts: Vec<&str> = text
        .trim_end_matches('日')
        .split(['-', '/', '.', '年', '月'])
        .collect();
    let [year, month, day] = parts.as_slice() else {
        return Err(invalid());
    };
    if year.len() != 4 {
        return Err(invalid());
    }
    let number = |part: &str| part.trim().parse::<u32>().map_err(|_| invalid());
    let year = i32::try_from(number(year)?).map_err(|_| invalid())?;
    NaiveDate::from_ymd_opt(year, number(month)?, number(day)?).ok_or_else(invalid)
}

/// A whole number of pages.
pub fn parse_pages(text: &str) -> Result<u32, ValidationError> {
    text.trim().parse::<u32>().map_err(|_| {
        ValidationError::new("pages", format!("{text:?} is not a whole number of pages"))
    })
}

/// A year of the archival code.
pub fn parse_year(text: &str) -> Result<i32, ValidationError> {
    text.trim()
        .parse::<i32>()
        .map_err(|_| ValidationError::new("year", format!("{text:?} is not a year")))
}

/// `public`, `internal`, `secret`, `confidential`, or 公开/公開, 内部/內部, 秘密, 机密/機密.
pub fn parse_security_level(text: &str) -> Result<SecurityLevel, ValidationError> {
    let text = text.trim();
    SecurityLevel::ALL
        .iter()
        .copied()
        .find(|level| {
            level.as_str().eq_ignore_ascii_case(text)
                || [Language::ZhHans, Language::ZhHant]
                    .into_iter()
                    .any(|language| level.label(language) == text)
        })
        .ok_or_else(|| {
            ValidationError::new(
                "security_level",
                format!("{text:?} is not a security level; one of public, internal, secret, confidential, 公开, 内部, 秘密, 机密"),
            )
        })
}

const OPEN_STATUS_LABELS: &[(OpenStatus, &[&str])] = &[
    (OpenStatus::Open, &["开放", "開放"]),
    (OpenStatus::Controlled, &["控制", "不开放", "不開放"]),
];

/// `open`, `controlled`, or 开放/開放, 控制.
pub fn parse_open_status(text: &str) -> Result<OpenStatus, ValidationError> {
    let text = text.trim();
    OPEN_STATUS_LABELS
        .iter()
        .find(|(status, labels)| {
            status.as_str().eq_ignore_ascii_case(text) || labels.contains(&text)
        })
        .map(|(status, _)| *status)
        .ok_or_else(|| {
            ValidationError::new(
                "open_status",
                format!("{text:?} is not an open status; one of open, controlled, 开放, 控制"),
            )
        })
}

const CARRIER_LABELS: &[(Carrier, &[&str])] = &[
    (Carrier::Electronic, &["电子", "電子"]),
    (
        Carrier::Paper,
        &["纸质", "紙質", "纸", "紙", "纸张", "紙張"],
    ),
    (Carrier::Photo, &["照片", "相片"]),
    (Carrier::Object, &["实物", "實物"]),
    (
        Carrier::Media,
        &["音像", "声像", "聲像", "磁介质", "磁介質"],
    ),
];

/// `electronic`, `paper`, `photo`, `object`, `media`, or 电子, 纸质, 照片, 实物, 音像 (either script).
pub fn parse_carrier(text: &str) -> Result<Carrier, ValidationError> {
    let text = text.trim();
    CARRIER_LABELS
        .iter()
        .find(|(carrier, labels)| carrier.as_str().eq_ignore_ascii_case(text) || labels.contains(&text))
        .map(|(carrier, _)| *carrier)
        .ok_or_else(|| {
            ValidationError::new(
                "carrier",
                format!("{text:?} is not a carrier; one of electronic, paper, photo, object, media, 电子, 纸质, 照片, 实物, 音像"),
            )
        })
}

/// Types the text cells of custom fields by the category's definitions, so that they can be
/// checked as JSON uploads are. Fields the category does not define stay text (and are
/// refused by the check that follows, naming the fields it has).
pub fn typed_custom(
    definitions: &[FieldDefinition],
    cells: &BTreeMap<String, String>,
) -> Result<Map<String, Value>, ValidationError> {
    let mut custom = Map::new();
    for (name, text) in cells {
        let text = text.trim();
        if text.is_empty() {
            continue;
        }
        let field = format!("custom.{name}");
        let kind = definitions
            .iter()
            .find(|definition| &definition.name == name)
            .map_or(FieldType::Text, |definition| definition.kind);
        let value = match kind {
            FieldType::Text | FieldType::Enum => Value::String(text.to_owned()),
            FieldType::Number => text
                .parse::<f64>()
                .ok()
                .and_then(serde_json::Number::from_f64)
                .map(Value::Number)
                .ok_or_else(|| ValidationError::new(&field, format!("{text:?} is not a number")))?,
            FieldType::Integer => text.parse::<i64>().map(Value::from).map_err(|_| {
                ValidationError::new(&field, format!("{text:?} is not a whole number"))
            })?,
            FieldType::Boolean => Value::Bool(parse_boolean(&field, text)?),
            FieldType::Date => Value::String(parse_date(&field, text)?.to_string()),
        };
        custom.insert(name.clone(), value);
    }
    Ok(custom)
}

fn parse_boolean(field: &str, text: &str) -> Result<bool, ValidationError> {
    match text.to_ascii_lowercase().as_str() {
        "true" | "yes" | "y" | "1" | "是" | "有" => Ok(true),
        "false" | "no" | "n" | "0" | "否" | "无" | "無" => Ok(false),
        _ => Err(ValidationError::new(
            field,
            format!("{text:?} is not yes or no (true/false, 是/否)"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    #[test]
    fn dates_are_read_as_spreadsheets_write_them() {
        for text in [
            "2024-05-01",
            "2024/5/1",
            "2024.05.01",
            "20240501",
            "2024年5月1日",
            " 2024-5-1 ",
        ] {
            assert_eq!(parse_date("doc_date", text), Ok(date(2024, 5, 1)), "{text}");
        }
        for text in [
            "5/1/2024",
            "2024-02-30",
            "2024",
            "yesterday",
            "24-05-01",
            "2024-05",
        ] {
            let error = parse_date("doc_date", text).expect_err(text);
            assert_eq!(error.field, "doc_date");
            assert!(error.reason.contains("YYYY-MM-DD"), "{error}");
        }
    }

    #[test]
    fn labels_are_accepted_in_english_and_both_chinese_scripts() {
        assert_eq!(parse_security_level("公開"), Ok(SecurityLevel::Public));
        assert_eq!(parse_security_level("公开"), Ok(SecurityLevel::Public));
        assert_eq!(parse_security_level("内部"), Ok(SecurityLevel::Internal));
        assert_eq!(parse_security_level("內部"), Ok(SecurityLevel::Internal));
        assert_eq!(
            parse_security_level("機密"),
            Ok(SecurityLevel::Confidential)
        );
        assert_eq!(parse_security_level("Secret"), Ok(SecurityLevel::Secret));
        assert!(parse_security_level("绝密").is_err());
        assert_eq!(parse_carrier("紙質"), Ok(Carrier::Paper));
        assert_eq!(parse_carrier("纸质"), Ok(Carrier::Paper));
        assert_eq!(parse_carrier("electronic"), Ok(Carrier::Electronic));
        assert_eq!(parse_carrier("實物"), Ok(Carrier::Object));
        assert_eq!(parse_carrier("磁带").expect_err("unknown").field, "carrier");
        assert_eq!(parse_open_status("開放"), Ok(OpenStatus::Open));
        assert_eq!(parse_open_status("控制"), Ok(OpenStatus::Controlled));
        assert!(parse_open_status("closed").is_err());
    }

    #[test]
    fn numbers_must_be_whole() {
        assert_eq!(parse_pages(" 12 "), Ok(12));
        assert_eq!(parse_pages("3.5").expect_err("fraction").field, "pages");
        assert_eq!(parse_pages("-1").expect_err("negative").field, "pages");
        assert_eq!(parse_year("2024"), Ok(2024));
        assert!(parse_year("二〇二四").is_err());
    }

    #[test]
    fn custom_cells_are_typed_by_the_category() {
        let definitions: Vec<FieldDefinition> = serde_json::from_value(json!([
            { "name": "amount", "type": "number" },
            { "name": "copies", "type": "integer" },
            { "name": "signed_on", "type": "date" },
            { "name": "stamped", "type": "boolean" },
            { "name": "kind", "type": "enum", "values": ["采购"] },
        ]))
        .expect("definitions");
        let cells: BTreeMap<String, String> = [
            ("amount", "1200.5"),
            ("copies", "2"),
            ("signed_on", "2024/3/1"),
            ("stamped", "是"),
            ("kind", "采购"),
            ("colour", "red"),
            ("empty", " "),
        ]
        .into_iter()
        .map(|(name, text)| (name.to_owned(), text.to_owned()))
        .collect();
        let custom = typed_custom(&definitions, &cells).expect("typed");
        assert_eq!(
            Value::Object(custom),
            json!({ "amount": 1200.5, "copies": 2, "signed_on": "2024-03-01", "stamped": true, "kind": "采购", "colour": "red" })
        );
        let bad: BTreeMap<String, String> = [("amount".to_owned(), "lots".to_owned())].into();
        assert_eq!(
            typed_custom(&definitions, &bad)
                .expect_err("not a number")
                .field,
            "custom.amount"
        );
    }
}
