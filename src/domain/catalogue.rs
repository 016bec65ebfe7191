//! The vocabulary of the catalogue: names in three scripts, security levels, open status,
//! carriers, storage locations, per-category custom fields and folder checklists.

use std::collections::HashSet;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::validation::ValidationError;

pub use super::location::Location;

/// A name in Simplified and Traditional Chinese and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Names {
    #[serde(rename = "zh-Hans")]
    pub zh_hans: String,
    #[serde(rename = "zh-Hant")]
    pub zh_hant: String,
    pub en: String,
}

/// A name as clients send it: one string for every language, or one per language (missing
/// ones are filled from the others).
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum NameInput {
    One(String),
    PerLanguage {
        #[serde(rename = "zh-Hans", default)]
        zh_hans: Option<String>,
        #[serde(rename = "zh-Hant", default)]
        zh_hant: Option<String>,
        #[serde(default)]
        en: Option<String>,
    },
}

impl NameInput {
    pub fn resolve(self) -> Result<Names, ValidationError> {
        let clean = |value: Option<String>| {
            value
                .map(|text| text.trim().to_owned())
                .filter(|text| !text.is_empty())
        };
        let (hans, hant, en) = match self {
            NameInput::One(name) => (clean(Some(name)), None, None),
            NameInput::PerLanguage {
                zh_hans,
                zh_hant,
                en,
            } => (clean(zh_hans), clean(zh_hant), clean(en)),
        };
        let first = hans
            .clone()
            .or_else(|| hant.clone())
            .or_else(|| en.clone())
            .ok_or_else(|| ValidationError::new("name", "is required"))?;
        Ok(Names {
            zh_hans: hans.clone().unwrap_or_else(|| first.clone()),
            zh_hant: hant.or(hans).unwrap_or_else(|| first.clone()),
            en: en.unwrap_or(first),
        })
    }
}

/// Which language headings and names are shown in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
pub enum Language {
    #[default]
    #[serde(rename = "zh-Hans")]
    ZhHans,
    #[serde(rename = "zh-Hant")]
    ZhHant,
    #[serde(rename = "en")]
    En,
}

impl Names {
    pub fn get(&self, language: Language) -> &str {
        match language {
            Language::ZhHans => &self.zh_hans,
            Language::ZhHant => &self.zh_hant,
            Language::En => &self.en,
        }
    }
}

text_enum!(
    /// Security level (密級).
    SecurityLevel { Public => "public", Internal => "internal", Secret => "secret", Confidential => "confidential" }
);
text_enum!(
    /// Open status (開放 / 控制).
    OpenStatus { Open => "open", Controlled => "controlled" }
);
text_enum!(
    /// What the record is carried on.
    Carrier { Electronic => "electronic", Paper => "paper", Photo => "photo", Object => "object", Media => "media" }
);
text_enum!(
    /// Type of a custom field.
    FieldType { Text => "text", Number => "number", Integer => "integer", Date => "date", Boolean => "boolean", Enum => "enum" }
);

impl SecurityLevel {
    /// 公開, 內部, 秘密, 機密 in the requested script.
    pub fn label(self, language: Language) -> &'static str {
        match (self, language) {
            (SecurityLevel::Public, Language::En) => "public",
            (SecurityLevel::Public, Language::ZhHant) => "公開",
            (SecurityLevel::Public, Language::ZhHans) => "公开",
            (SecurityLevel::Internal, Language::ZhHant) => "內部",
            (SecurityLevel::Internal, Language::ZhHans) => "内部",
            (SecurityLevel::Internal, Language::En) => "internal",
            (SecurityLevel::Secret, Language::En) => "secret",
            (SecurityLevel::Secret, _) => "秘密",
            (SecurityLevel::Confidential, Language::ZhHant) => "機密",
            (SecurityLevel::Confidential, Language::ZhHans) => "机密",
            (SecurityLevel::Confidential, Language::En) => "confidential",
        }
    }
}

/// A custom field that records of a category carry in `custom`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldDefinition {
    /// Key in `custom`: lower-case letters, digits and `_`.
    pub name: String,
    /// What forms show, e.g. `合同金額`.
    #[serde(default)]
    pub label: Option<String>,
    #[serde(rename = "type")]
    pub kind: FieldType,
    #[serde(default)]
    pub required: bool,
    /// The allowed values of an `enum` field.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

/// Checks a category's field definitions.
pub fn check_definitions(definitions: &[FieldDefinition]) -> Result<(), ValidationError> {
    let mut seen = HashSet::new();
    for field in definitions {
        let valid_name = !field.name.is_empty()
            && field.name.len() <= 64
            && field
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid_name {
            return Err(ValidationError::new(
                "fields",
                format!(
                    "{:?} is not a field name (lower-case letters, digits, _)",
                    field.name
                ),
            ));
        }
        if !seen.insert(field.name.as_str()) {
            return Err(ValidationError::new(
                "fields",
                format!("{:?} is defined twice", field.name),
            ));
        }
        if field.kind == FieldType::Enum && field.values.is_empty() {
            return Err(ValidationError::new(
                "fields",
                format!("enum field {:?} lists no values", field.name),
            ));
        }
    }
    Ok(())
}

/// Checks a record's `custom` object against its category's definitions.
pub fn check_custom(
    definitions: &[FieldDefinition],
    custom: &Map<String, Value>,
) -> Result<(), ValidationError> {
    for key in custom.keys() {
        if !definitions.iter().any(|field| &field.name == key) {
            let known: Vec<&str> = definitions
                .iter()
                .map(|field| field.name.as_str())
                .collect();
            return Err(ValidationError::new(
                format!("custom.{key}"),
                if known.is_empty() {
                    "the category defines no custom fields".to_owned()
                } else {
                    format!(
                        "the category defines no such field; it has {}",
                        known.join(", ")
                    )
                },
            ));
        }
    }
    for field in definitions {
        let field_name = format!("custom.{}", field.name);
        let Some(value) = custom.get(&field.name).filter(|value| !value.is_null()) else {
            if field.required {
                return Err(ValidationError::new(
                    field_name,
                    "is required by the category",
                ));
            }
            continue;
        };
        let fits = match field.kind {
            FieldType::Text => value.is_string(),
            FieldType::Number => value.is_number(),
            FieldType::Integer => value.is_i64() || value.is_u64(),
            FieldType::Boolean => value.is_boolean(),
            FieldType::Date => value
                .as_str()
                .is_some_and(|text| text.parse::<NaiveDate>().is_ok()),
            FieldType::Enum => value
                .as_str()
                .is_some_and(|text| field.values.iter().any(|allowed| allowed == text)),
        };
        if !fits {
            let expected = match field.kind {
                FieldType::Enum => format!("one of {}", field.values.join(", ")),
                FieldType::Date => "a date YYYY-MM-DD".to_owned(),
                other => format!("a {}", other.as_str()),
            };
            return Err(ValidationError::new(
                field_name,
                format!("{value} is not {expected}"),
            ));
        }
    }
    Ok(())
}

/// When a folder checklist item is expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Requirement {
    /// In every folder.
    #[default]
    Always,
    /// Once the employee has left (resignation, leaving settlement).
    OnDeparture,
    /// Only where it applies (a driving licence).
    Optional,
}

/// A document type a folder is expected to hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChecklistItem {
    /// What records carry in `doc_type`, e.g. `id_card`.
    pub code: String,
    /// e.g. `身份證復印件`.
    pub name: String,
    #[serde(default)]
    pub required: Requirement,
}

/// Checks a checklist: codes unique and code-like, names given.
pub fn check_checklist(items: &[ChecklistItem]) -> Result<(), ValidationError> {
    let mut seen = HashSet::new();
    for item in items {
        let valid = !item.code.is_empty()
            && item.code.len() <= 64
            && item
                .code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !valid {
            return Err(ValidationError::new(
                "checklist",
                format!("{:?} is not an item code", item.code),
            ));
        }
        if item.name.trim().is_empty() {
            return Err(ValidationError::new(
                "checklist",
                format!("item {:?} has no name", item.code),
            ));
        }
        if !seen.insert(item.code.as_str()) {
            return Err(ValidationError::new(
                "checklist",
                format!("{:?} is listed twice", item.code),
            ));
        }
    }
    Ok(())
}

/// The checklist items a folder still lacks: required ones (and, once the party has left,
/// the departure ones) that no record of the folder fulfils.
pub fn missing_items<'a>(
    checklist: &'a [ChecklistItem],
    present: &HashSet<&str>,
    departed: bool,
) -> Vec<&'a ChecklistItem> {
    checklist
        .iter()
        .filter(|item| match item.required {
            Requirement::Always => true,
            Requirement::OnDeparture => departed,
            Requirement::Optional => false,
        })
        .filter(|item| !present.contains(item.code.as_str()))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn definitions() -> Vec<FieldDefinition> {
        serde_json::from_value(json!([
            { "name": "amount", "label": "合同金額", "type": "number", "required": true },
            { "name": "counterparty", "type": "text" },
            { "name": "signed_on", "type": "date" },
            { "name": "kind", "type": "enum", "values": ["采购", "销售"] },
        ]))
        .expect("definitions parse")
    }

    #[test]
    fn custom_fields_are_checked_against_the_definitions() {
        let defs = definitions();
        check_definitions(&defs).expect("valid definitions");
        let ok = json!({ "amount": 1200.5, "counterparty": "深圳市腾讯计算机系统有限公司", "signed_on": "2024-03-01", "kind": "采购" });
        check_custom(&defs, ok.as_object().expect("object")).expect("valid custom fields");
        for (bad, field) in [
            (json!({}), "custom.amount"),
            (json!({ "amount": "many" }), "custom.amount"),
            (
                json!({ "amount": 1, "signed_on": "2024-02-30" }),
                "custom.signed_on",
            ),
            (json!({ "amount": 1, "kind": "租赁" }), "custom.kind"),
            (json!({ "amount": 1, "colour": "red" }), "custom.colour"),
        ] {
            let error = check_custom(&defs, bad.as_object().expect("object")).expect_err("invalid");
            assert_eq!(error.field, field, "{bad}");
        }
    }

    #[test]
    fn bad_definitions_are_rejected() {
        let twice: Vec<FieldDefinition> = serde_json::from_value(
            json!([{ "name": "a", "type": "text" }, { "name": "a", "type": "date" }]),
        )
        .expect("parse");
        assert!(check_definitions(&twice).is_err());
        let empty_enum: Vec<FieldDefinition> =
            serde_json::from_value(json!([{ "name": "k", "type": "enum" }])).expect("parse");
        assert!(check_definitions(&empty_enum).is_err());
        let bad_name: Vec<FieldDefinition> =
            serde_json::from_value(json!([{ "name": "合同", "type": "text" }])).expect("parse");
        assert!(check_definitions(&bad_name).is_err());
    }

    #[test]
    fn missing_items_depend_on_what_is_filed_and_on_departure() {
        let checklist: Vec<ChecklistItem> = serde_json::from_value(json!([
            { "code": "resume", "name": "個人簡歷" },
            { "code": "id_card", "name": "身份證復印件" },
            { "code": "driving_licence", "name": "駕駛證復印件", "required": "optional" },
            { "code": "resignation", "name": "離職申請單", "required": "on_departure" },
        ]))
        .expect("checklist parses");
        let codes = |items: Vec<&ChecklistItem>| {
            items
                .iter()
                .map(|item| item.code.clone())
                .collect::<Vec<_>>()
        };
        let present: HashSet<&str> = ["resume"].into();
        assert_eq!(
            codes(missing_items(&checklist, &present, false)),
            ["id_card"]
        );
        assert_eq!(
            codes(missing_items(&checklist, &present, true)),
            ["id_card", "resignation"]
        );
        let all: HashSet<&str> = ["resume", "id_card", "resignation"].into();
        assert!(missing_items(&checklist, &all, true).is_empty());
    }

    #[test]
    fn names_fill_missing_languages() {
        let names = NameInput::One("文書".into()).resolve().expect("valid");
        assert_eq!(
            (
                names.zh_hans.as_str(),
                names.zh_hant.as_str(),
                names.en.as_str()
            ),
            ("文書", "文書", "文書")
        );
        let names: NameInput = serde_json::from_value(
            json!({ "zh-Hans": "会计", "zh-Hant": "會計", "en": "Accounting" }),
        )
        .expect("parse");
        assert_eq!(
            names.resolve().expect("valid").get(Language::ZhHant),
            "會計"
        );
        assert!(NameInput::One("  ".into()).resolve().is_err());
    }
}
