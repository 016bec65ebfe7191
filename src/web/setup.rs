//! The catalogue set-up on `/admin`: departments, retention policies, and categories with
//! their retention, metadata fields and folder checklist, through the same services as
//! `/api/v1/departments`, `/api/v1/retention-policies` and `/api/v1/categories`.
//!
//! Fields and checklist items are edited one per line, their parts separated by `|`:
//! `name | label | type | required | value/value` and `code | name | always`.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::{Value, json};

use super::admin::back;
use super::form::Fields;
use super::session::WebUser;
use crate::app::App;
use crate::domain::catalogue::{ChecklistItem, FieldDefinition, NameInput};
use crate::domain::patch::Patch;
use crate::services::ServiceError;
use crate::services::catalogue::{CategoryPatch, NewCategory, NewDepartment, NewRetentionPolicy};

/// The parts of a `|`-separated line, trimmed; blank lines are skipped.
fn lines(text: &str) -> impl Iterator<Item = (usize, Vec<&str>)> {
    text.lines()
        .enumerate()
        .map(|(index, line)| {
            (
                index + 1,
                line.split('|').map(str::trim).collect::<Vec<_>>(),
            )
        })
        .filter(|(_, parts)| parts.iter().any(|part| !part.is_empty()))
}

fn from_lines<T: serde::de::DeserializeOwned>(
    field: &str,
    items: Vec<(usize, Value)>,
) -> Result<Vec<T>, ServiceError> {
    items
        .into_iter()
        .map(|(line, item)| {
            serde_json::from_value(item)
                .map_err(|error| ServiceError::Validation(format!("{field}: line {line}: {error}")))
        })
        .collect()
}

/// `name | label | type | required | value/value` per line.
pub fn parse_fields(text: &str) -> Result<Vec<FieldDefinition>, ServiceError> {
    let items = lines(text)
        .map(|(line, parts)| {
            let part = |index: usize| parts.get(index).copied().unwrap_or_default();
            let values: Vec<&str> = part(4)
                .split(['/', '、'])
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .collect();
            let item = json!({
                "name": part(0),
                "label": Some(part(1)).filter(|label| !label.is_empty()),
                "type": Some(part(2)).filter(|kind| !kind.is_empty()).unwrap_or("text"),
                "required": matches!(part(3), "required" | "必填" | "yes" | "true"),
                "values": values,
            });
            (line, item)
        })
        .collect();
    from_lines("fields", items)
}

/// `code | name | always` (or `on_departure`, `optional`) per line.
pub fn parse_checklist(text: &str) -> Result<Vec<ChecklistItem>, ServiceError> {
    let items = lines(text)
        .map(|(line, parts)| {
            let part = |index: usize| parts.get(index).copied().unwrap_or_default();
            let required = Some(part(2)).filter(|r| !r.is_empty()).unwrap_or("always");
            (
                line,
                json!({"code": part(0), "name": part(1), "required": required}),
            )
        })
        .collect();
    from_lines("checklist", items)
}

/// The lines [`parse_fields`] reads back.
pub fn fields_text(fields: &[FieldDefinition]) -> String {
    fields
        .iter()
        .map(|field| {
            format!(
                "{} | {} | {} | {} | {}",
                field.name,
                field.label.as_deref().unwrap_or_default(),
                field.kind.as_str(),
                if field.required { "required" } else { "" },
                field.values.join("/")
            )
            .trim_end_matches([' ', '|'])
            .to_owned()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The lines [`parse_checklist`] reads back.
pub fn checklist_text(items: &[ChecklistItem]) -> String {
    items
        .iter()
        .map(|item| {
            let required = serde_json::to_value(item.required)
                .ok()
                .and_then(|value| value.as_str().map(str::to_owned))
                .unwrap_or_default();
            format!("{} | {} | {required}", item.code, item.name)
        })
        .collect::<Vec<_>>()
        .join("\n")
}

pub async fn create_department(State(app): State<App>, user: WebUser, body: Bytes) -> Response {
    let fields = Fields::parse(&body);
    let result = async {
        fields.check_csrf(&user)?;
        let input = NewDepartment {
            code: fields.get("code").trim().to_owned(),
            name: fields.get("name").trim().to_owned(),
            branch: !fields.get("branch").is_empty(),
        };
        app.catalogue
            .create_department(&user.actor, input)
            .await
            .map(drop)
    }
    .await;
    back(&user, result)
}

pub async fn create_retention(State(app): State<App>, user: WebUser, body: Bytes) -> Response {
    let fields = Fields::parse(&body);
    let result = async {
        fields.check_csrf(&user)?;
        let years = fields
            .optional("years")
            .map(|years| {
                years
                    .parse()
                    .map_err(|_| ServiceError::Validation(format!("years: {years:?}")))
            })
            .transpose()?;
        let input = NewRetentionPolicy {
            code: fields.get("code").trim().to_owned(),
            name: fields.get("name").trim().to_owned(),
            years,
            trigger: fields.optional("trigger"),
        };
        app.catalogue
            .create_retention(&user.actor, input)
            .await
            .map(drop)
    }
    .await;
    back(&user, result)
}

pub async fn create_category(State(app): State<App>, user: WebUser, body: Bytes) -> Response {
    let fields = Fields::parse(&body);
    let result = async {
        fields.check_csrf(&user)?;
        let input = NewCategory {
            code: fields.get("code").trim().to_owned(),
            name: NameInput::One(fields.get("name").trim().to_owned()),
            parent: fields.optional("parent"),
            retention: fields.optional("retention"),
            folder_kind: None,
            fields: parse_fields(fields.get("fields"))?,
            checklist: parse_checklist(fields.get("checklist"))?,
            access: None,
        };
        app.catalogue
            .create_category(&user.actor, input)
            .await
            .map(drop)
    }
    .await;
    back(&user, result)
}

/// A category's retention, fields and checklist.
pub async fn update_category(
    State(app): State<App>,
    user: WebUser,
    Path(code): Path<String>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    let result = async {
        fields.check_csrf(&user)?;
        let patch = CategoryPatch {
            retention: fields
                .optional("retention")
                .map_or(Patch::Clear, Patch::Set),
            fields: Some(parse_fields(fields.get("fields"))?),
            checklist: Some(parse_checklist(fields.get("checklist"))?),
            ..CategoryPatch::default()
        };
        app.catalogue
            .update_category(&user.actor, &code, patch)
            .await
            .map(drop)
    }
    .await;
    back(&user, result)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_checklists_read_back_what_they_write() {
        let fields = parse_fields(
            "contract_no | 合同编号 | text | required\n\n\
             kind | 合同类型 | enum | | 采购/销售\nsigned | | date",
        )
        .expect("fields");
        assert_eq!(fields.len(), 3);
        assert!(fields[0].required && !fields[1].required);
        assert_eq!(fields[1].values, ["采购", "销售"]);
        assert_eq!(parse_fields(&fields_text(&fields)).expect("again"), fields);
        let checklist =
            parse_checklist("ID | 身份证复印件\nLEAVE | 离职证明 | on_departure").expect("list");
        assert_eq!(
            parse_checklist(&checklist_text(&checklist)).expect("again"),
            checklist
        );
    }

    #[test]
    fn a_bad_line_is_named() {
        let error = parse_fields("a | A | colour").expect_err("unknown type");
        assert!(error.to_string().contains("line 1"), "{error}");
        let error = parse_checklist("X | 某项 | sometimes").expect_err("unknown requirement");
        assert!(error.to_string().contains("checklist: line 1"), "{error}");
    }
}
