//! `/records/{id}`: a record with its files and previews; `/upload`: filing records from a
//! form, through the same filing service as `POST /api/v1/records`.

use askama::Template;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::form::{Fields, refusal};
use super::i18n::Texts;
use super::session::WebUser;
use super::{Chrome, error_page, message_of, message_page, render, render_with};
use crate::app::App;
use crate::domain::catalogue::SecurityLevel;
use crate::domain::permissions::Capability;
use crate::domain::record::RecordMetadataInput;
use crate::http::{field_stream, multipart_error};
use crate::services::ServiceError;
use crate::services::audit::AuditFilter;
use crate::services::parties::PartyFilter;
use crate::services::records::RecordView;

struct FileLine {
    id: Uuid,
    has_text: bool,
    name: String,
    media_type: String,
    size: String,
    href: String,
    text_status: String,
    pdf: bool,
    image: bool,
}

#[derive(Template)]
#[template(path = "record.html")]
struct RecordPage {
    t: Texts,
    chrome: Chrome,
    record: RecordView,
    notice: Option<String>,
    code: String,
    doc_date: String,
    category: String,
    department: String,
    level: &'static str,
    open: &'static str,
    retention: String,
    due: String,
    status: &'static str,
    extra: Vec<(&'static str, String)>,
    files: Vec<FileLine>,
    /// The edit form's values, for those who may change the record.
    edit: Option<EditForm>,
    /// The record's audit trail, for those who read it: time, actor, action.
    history: Vec<(String, String, String)>,
}

/// The descriptive fields of the edit form.
struct EditForm {
    title: String,
    doc_date: String,
    doc_number: String,
    responsible: String,
    description: String,
}

#[derive(Deserialize)]
pub struct RecordQuery {
    filed: Option<String>,
    saved: Option<String>,
}

pub async fn record_page(
    State(app): State<App>,
    user: WebUser,
    Path(id): Path<Uuid>,
    Query(query): Query<RecordQuery>,
) -> Response {
    let record = match app.records.view(&user.actor, id).await {
        Ok(record) => record,
        Err(error) => return error_page(&user, &error),
    };
    let t = user.texts;
    let code = record
        .archival_code
        .clone()
        .unwrap_or_else(|| t.get("record.no_code").to_owned());
    let mut notice = query
        .filed
        .is_some()
        .then(|| t.fill("upload.done", &[("code", &code)]))
        .or_else(|| query.saved.map(|_| t.get("record.saved").to_owned()));
    if query.filed.is_some()
        && let Ok(shared) = app.records.shared_content(&user.actor, id).await
    {
        for (file, _) in shared {
            let warning = t.fill("upload.duplicate", &[("file", &file)]);
            notice = Some(format!("{} {warning}", notice.unwrap_or_default()));
        }
    }
    let files = record
        .files
        .iter()
        .map(|file| FileLine {
            id: file.id,
            has_text: file.text.as_ref().is_some_and(|text| text.status == "done"),
            name: file.filename.clone(),
            media_type: file.media_type.clone(),
            size: file.size.to_string(),
            href: format!("/api/v1/records/{}/files/{}", record.id, file.id),
            text_status: file.text.as_ref().map_or_else(String::new, |text| {
                t.get(&format!("text.{}", text.status)).to_owned()
            }),
            pdf: file.media_type == "application/pdf",
            image: file.media_type.starts_with("image/")
                && !matches!(file.media_type.as_str(), "image/tiff"),
        })
        .collect();
    let optional = |value: &Option<String>| value.clone().unwrap_or_default();
    let extra = [
        ("record.doc_number", optional(&record.doc_number)),
        ("record.responsible", optional(&record.responsible)),
        ("record.description", optional(&record.description)),
    ]
    .into_iter()
    .filter(|(_, value)| !value.is_empty())
    .map(|(key, value)| (t.get(key), value))
    .collect();
    let edit =
        (user.actor.role.may(Capability::EditRecords) && record.status == "active").then(|| {
            EditForm {
                title: record.title.clone(),
                doc_date: record.doc_date.to_string(),
                doc_number: optional(&record.doc_number),
                responsible: optional(&record.responsible),
                description: optional(&record.description),
            }
        });
    let history = if user.actor.role.may(Capability::ReadAudit) {
        let filter = AuditFilter {
            record_id: Some(id),
            limit: Some(50),
            ..AuditFilter::default()
        };
        app.audit
            .list(&user.actor, filter)
            .await
            .map(|page| {
                page.items
                    .into_iter()
                    .map(|event| {
                        (
                            event.at.format("%Y-%m-%d %H:%M").to_string(),
                            event.actor.unwrap_or_default(),
                            event.action,
                        )
                    })
                    .collect()
            })
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let page = RecordPage {
        t,
        chrome: Chrome::of(&user),
        edit,
        history,
        notice,
        code,
        doc_date: t.date(&record.doc_date),
        category: optional(&record.category),
        department: optional(&record.department),
        level: t.get(&format!("level.{}", record.security_level.as_str())),
        open: t.get(&format!("open.{}", record.open_status.as_str())),
        retention: optional(&record.retention),
        due: record
            .retention_due_on
            .map_or_else(String::new, |due| t.date(&due)),
        status: t.get(if record.status == "destroyed" {
            "record.destroyed"
        } else {
            "record.active"
        }),
        extra,
        files,
        record,
    };
    render(&page)
}

#[derive(Template)]
#[template(path = "text.html")]
struct TextPage {
    t: Texts,
    chrome: Chrome,
    record_id: Uuid,
    text: String,
}

/// The longest text a page shows of a file.
const TEXT_PAGE_BYTES: usize = 512 * 1024;

/// The text extracted from one file of a record.
pub async fn text_page(
    State(app): State<App>,
    user: WebUser,
    Path((record_id, file_id)): Path<(Uuid, Uuid)>,
) -> Response {
    match app
        .records
        .file_text(&user.actor, record_id, file_id, TEXT_PAGE_BYTES)
        .await
    {
        Ok(text) => render(&TextPage {
            t: user.texts,
            chrome: Chrome::of(&user),
            record_id,
            text: text.unwrap_or_default(),
        }),
        Err(error) => error_page(&user, &error),
    }
}

/// Saves the edit form: only the fields that changed go to the service, which decides
/// whether this user may change them.
pub async fn update_record(
    State(app): State<App>,
    user: WebUser,
    Path(id): Path<Uuid>,
    body: axum::body::Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    let result = async {
        fields.check_csrf(&user)?;
        let current = app.records.get(&user.actor, id).await?;
        let before = [
            ("title", current.title.clone()),
            ("doc_date", current.doc_date.to_string()),
            ("doc_number", current.doc_number.clone().unwrap_or_default()),
            (
                "responsible",
                current.responsible.clone().unwrap_or_default(),
            ),
            (
                "description",
                current.description.clone().unwrap_or_default(),
            ),
        ];
        let mut changes = Map::new();
        for (name, was) in before {
            let now = fields.get(name).trim();
            if now != was {
                let value = if now.is_empty() {
                    Value::Null
                } else {
                    Value::String(now.to_owned())
                };
                changes.insert(name.to_owned(), value);
            }
        }
        let patch = serde_json::from_value(Value::Object(changes))
            .map_err(|error| ServiceError::Validation(error.to_string()))?;
        app.records.patch(&user.actor, id, patch).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to(&format!("/records/{id}?saved=1")).into_response(),
        Err(error) => {
            let status = crate::http::status_of(error.code());
            message_page(&user, status, refusal(&user, &error))
        }
    }
}

/// What was typed into the upload form, kept when it is shown again.
#[derive(Debug, Default, Clone)]
struct UploadForm {
    title: String,
    doc_date: String,
    category: String,
    security_level: String,
    department: String,
    doc_number: String,
    responsible: String,
    description: String,
    party_id: String,
    doc_type: String,
}

impl UploadForm {
    fn set(&mut self, name: &str, value: String) -> bool {
        let slot = match name {
            "title" => &mut self.title,
            "doc_date" => &mut self.doc_date,
            "category" => &mut self.category,
            "security_level" => &mut self.security_level,
            "department" => &mut self.department,
            "doc_number" => &mut self.doc_number,
            "responsible" => &mut self.responsible,
            "description" => &mut self.description,
            "party_id" => &mut self.party_id,
            "doc_type" => &mut self.doc_type,
            _ => return false,
        };
        *slot = value;
        true
    }

    /// The metadata of the API, from the fields that were filled.
    fn metadata(&self) -> Result<RecordMetadataInput, ServiceError> {
        let mut map = Map::new();
        for (name, value) in [
            ("title", &self.title),
            ("doc_date", &self.doc_date),
            ("category", &self.category),
            ("security_level", &self.security_level),
            ("department", &self.department),
            ("doc_number", &self.doc_number),
            ("responsible", &self.responsible),
            ("description", &self.description),
            ("party_id", &self.party_id),
            ("doc_type", &self.doc_type),
        ] {
            let value = value.trim();
            if !value.is_empty() {
                map.insert(name.to_owned(), Value::String(value.to_owned()));
            }
        }
        serde_json::from_value(Value::Object(map))
            .map_err(|error| ServiceError::Validation(error.to_string()))
    }
}

#[derive(Template)]
#[template(path = "upload.html")]
struct UploadPage {
    t: Texts,
    chrome: Chrome,
    form: UploadForm,
    categories: Vec<(String, String)>,
    departments: Vec<(String, String)>,
    levels: Vec<(&'static str, &'static str)>,
    /// Folders the user may file into: id, "identifier name".
    parties: Vec<(String, String)>,
    /// Checklist items of the folder categories: code, name.
    doc_types: Vec<(String, String)>,
    message: Option<String>,
}

async fn upload_form(
    app: &App,
    user: &WebUser,
    form: UploadForm,
    message: Option<String>,
    status: StatusCode,
) -> Response {
    let t = user.texts;
    let language = t.lang.language();
    let all_categories = app.catalogue.list_categories().await.unwrap_or_default();
    let doc_types = all_categories
        .iter()
        .filter(|category| category.folder_kind.is_some())
        .flat_map(|category| category.checklist.iter())
        .map(|item| (item.code.clone(), item.name.clone()))
        .collect();
    let categories = all_categories
        .into_iter()
        .map(|category| (category.code, category.names.get(language).to_owned()))
        .collect();
    let parties = app
        .parties
        .list(
            &user.actor,
            PartyFilter {
                limit: Some(500),
                ..PartyFilter::default()
            },
        )
        .await
        .map(|page| {
            page.items
                .into_iter()
                .map(|party| {
                    (
                        party.id.to_string(),
                        format!("{} {}", party.identifier, party.name),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let departments = app
        .catalogue
        .list_departments()
        .await
        .map(|list| {
            list.into_iter()
                .map(|department| (department.code, department.name))
                .collect()
        })
        .unwrap_or_default();
    let mut form = form;
    if form.security_level.is_empty() {
        form.security_level = SecurityLevel::Internal.as_str().to_owned();
    }
    let page = UploadPage {
        t,
        chrome: Chrome::of(user),
        form,
        categories,
        departments,
        levels: SecurityLevel::ALL
            .iter()
            .map(|level| (level.as_str(), t.get(&format!("level.{}", level.as_str()))))
            .collect(),
        parties,
        doc_types,
        message,
    };
    render_with(status, &page)
}

#[derive(Deserialize)]
pub struct UploadQuery {
    party_id: Option<Uuid>,
}

/// The empty form; `?party_id=` files into that folder.
pub async fn upload_page(
    State(app): State<App>,
    user: WebUser,
    Query(query): Query<UploadQuery>,
) -> Response {
    let form = UploadForm {
        party_id: query.party_id.map(|id| id.to_string()).unwrap_or_default(),
        ..UploadForm::default()
    };
    upload_form(&app, &user, form, None, StatusCode::OK).await
}

/// Files the record the form describes; the record's page on success, else the form again
/// with what was typed and why it was refused. Nothing is stored unless it all commits.
pub async fn upload(
    State(app): State<App>,
    user: WebUser,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let limit = app.limits.max_upload_bytes;
    let mut form = UploadForm::default();
    let result = async {
        let mut multipart = multipart
            .map_err(|rejection| ServiceError::UnsupportedMediaType(rejection.body_text()))?;
        let mut upload = app.ingest.begin(user.actor.clone());
        // the token comes first in the form; without it nothing is stored, but the text
        // fields are still read so that the form comes back as it was typed
        let mut csrf_ok = false;
        let mut metadata_set = false;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|error| multipart_error(error, limit))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "csrf" {
                let value = field
                    .text()
                    .await
                    .map_err(|error| multipart_error(error, limit))?;
                csrf_ok = user.csrf_ok(Some(value.trim()));
                continue;
            }
            if name == "file" {
                if !csrf_ok {
                    continue; // dropped unread: nothing of a forged form is stored
                }
                if !metadata_set {
                    upload.set_metadata(form.metadata()?)?;
                    metadata_set = true;
                }
                let filename = field.file_name().map(str::to_owned);
                if filename.as_deref().is_none_or(str::is_empty) {
                    continue; // the file input left empty
                }
                let declared = field.content_type().map(str::to_owned);
                let body = field_stream(field, limit);
                upload
                    .add_file(filename.as_deref(), declared.as_deref(), body)
                    .await?;
                continue;
            }
            let value = field
                .text()
                .await
                .map_err(|error| multipart_error(error, limit))?;
            if !form.set(&name, value) {
                return Err(ServiceError::Validation(format!(
                    "unexpected field {name:?}"
                )));
            }
        }
        if !csrf_ok {
            return Err(ServiceError::Forbidden(
                user.texts.get("error.csrf").to_owned(),
            ));
        }
        if !metadata_set {
            upload.set_metadata(form.metadata()?)?;
        }
        upload.commit().await
    }
    .await;
    match result {
        Ok(record) => Redirect::to(&format!("/records/{}?filed=1", record.id)).into_response(),
        Err(error) => {
            let status = crate::http::status_of(error.code());
            let message = match &error {
                ServiceError::Forbidden(text) if text == user.texts.get("error.csrf") => {
                    text.clone()
                }
                other => message_of(user.texts, other),
            };
            upload_form(&app, &user, form, Some(message), status).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_form_field_is_left_out_of_the_metadata() {
        let mut form = UploadForm::default();
        assert!(form.set("title", "  Labour contract  ".into()));
        assert!(form.set("doc_date", String::new()));
        assert!(!form.set("colour", "red".into()));
        let metadata = form.metadata().expect("metadata");
        assert_eq!(metadata.title, "Labour contract");
        assert!(metadata.doc_date.is_none());
        form.set("doc_date", "2024-13-40".into());
        assert!(form.metadata().is_err());
    }
}
