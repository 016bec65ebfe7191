//! `/upload`: filing records from a form, through the same filing service as
//! `POST /api/v1/records`; what was typed is kept when the form comes back with an error.

use askama::Template;
use axum::extract::{Multipart, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::i18n::Texts;
use super::session::WebUser;
use super::{Chrome, message_of, render_with};
use crate::app::App;
use crate::domain::catalogue::SecurityLevel;
use crate::domain::record::RecordMetadataInput;
use crate::http::{field_stream, multipart_error};
use crate::services::ServiceError;
use crate::services::ingest::IngestService;
use crate::services::parties::PartyFilter;
use crate::services::records::RecordView;

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
    // filing runs behind searches and page views (see `priority`)
    let (ingest, filer) = (app.ingest.clone(), user.clone());
    let filing = app.background.run(async move {
        let mut form = UploadForm::default();
        let result = file_form(&ingest, &filer, multipart, limit, &mut form).await;
        (form, result)
    });
    let (form, result) = filing.await.unwrap_or_else(|error| {
        let error = ServiceError::Internal(format!("the upload's task failed: {error}"));
        (UploadForm::default(), Err(error))
    });
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

/// Reads the form's fields into `form` and files its files: the record filed, or why not.
async fn file_form(
    ingest: &IngestService,
    user: &WebUser,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
    limit: u64,
    form: &mut UploadForm,
) -> Result<RecordView, ServiceError> {
    let mut multipart =
        multipart.map_err(|rejection| ServiceError::UnsupportedMediaType(rejection.body_text()))?;
    let mut upload = ingest.begin(user.actor.clone());
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
