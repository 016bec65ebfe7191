//! `/records/{id}`: a record with its retention, holds, loans, files and previews, its
//! history and its edit form; `/records/{id}/text/…` and `/records/{id}/thumbnail/…`.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use super::form::{Fields, refusal};
use super::i18n::Texts;
use super::session::WebUser;
use super::{Chrome, error_page, message_page, render};
use crate::app::App;
use crate::domain::permissions::Capability;
use crate::domain::record::{RecordStatus, TextStatus};
use crate::services::ServiceError;
use crate::services::audit::AuditFilter;
use crate::services::loans::LoanFilter;
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
    /// The first page as an image, for PDFs.
    thumbnail: Option<String>,
    /// A copy with the filing stamp, for the records office (PDFs and scans).
    stamped: Option<String>,
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
    due_reason: String,
    /// `record.intact` or `record.damaged` after a fixity sweep, translated.
    integrity: Option<&'static str>,
    /// The record's loans the caller may see: borrower, status, due date.
    loans: Vec<(String, &'static str, String)>,
    status: &'static str,
    extra: Vec<(&'static str, String)>,
    files: Vec<FileLine>,
    /// Whether the caller may place a legal hold on the record (an active one).
    may_hold: bool,
    /// The edit form's values, for those who may change the record.
    edit: Option<EditForm>,
    /// The record's audit trail, for those who read it: time, actor, action.
    history: Vec<(String, String, String)>,
    /// Replaced files: name, download, SHA-256, when, why.
    earlier: Vec<(String, String, String, String, String)>,
    /// Whether the caller may add or replace files and propose a withdrawal.
    may_correct: bool,
    /// For a withdrawn record: why, translated around the reason.
    withdrawn: Option<String>,
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
    corrected: Option<String>,
    withdrawal: Option<String>,
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
        .or_else(|| query.saved.map(|_| t.get("record.saved").to_owned()))
        .or_else(|| {
            query
                .corrected
                .map(|_| t.get("record.corrected").to_owned())
        })
        .or_else(|| {
            query
                .withdrawal
                .map(|_| t.get("record.withdrawal_proposed").to_owned())
        });
    if query.filed.is_some()
        && let Ok(shared) = app.records.shared_content(&user.actor, id).await
    {
        for (file, _) in shared {
            let warning = t.fill("upload.duplicate", &[("file", &file)]);
            notice = Some(format!("{} {warning}", notice.unwrap_or_default()));
        }
    }
    let stamps = user
        .actor
        .role
        .may(crate::domain::permissions::Capability::FileRecords);
    let files = record
        .files
        .iter()
        .map(|file| FileLine {
            id: file.id,
            has_text: file
                .text
                .as_ref()
                .is_some_and(|text| text.status == TextStatus::Done),
            name: file.filename.clone(),
            media_type: file.media_type.clone(),
            size: file.size.to_string(),
            href: format!("/api/v1/records/{}/files/{}", record.id, file.id),
            text_status: file.text.as_ref().map_or_else(String::new, |text| {
                t.get(&format!("text.{}", text.status)).to_owned()
            }),
            pdf: file.media_type == "application/pdf",
            thumbnail: (file.media_type == "application/pdf")
                .then(|| format!("/records/{}/thumbnail/{}", record.id, file.id)),
            image: file.media_type.starts_with("image/")
                && !matches!(file.media_type.as_str(), "image/tiff"),
            stamped: (stamps
                && matches!(
                    file.media_type.as_str(),
                    "application/pdf" | "image/jpeg" | "image/png"
                ))
            .then(|| format!("/api/v1/records/{}/files/{}/stamped", record.id, file.id)),
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
    let active = record.status == RecordStatus::Active;
    let edit = (user.actor.role.may(Capability::EditRecords) && active).then(|| EditForm {
        title: record.title.clone(),
        doc_date: record.doc_date.to_string(),
        doc_number: optional(&record.doc_number),
        responsible: optional(&record.responsible),
        description: optional(&record.description),
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
    let loans = app
        .loans
        .list(
            &user.actor,
            LoanFilter {
                record_id: Some(id),
                limit: Some(20),
                ..LoanFilter::default()
            },
        )
        .await
        .map(|page| {
            page.items
                .into_iter()
                .map(|loan| {
                    let due = loan.due_on.map_or_else(String::new, |due| t.date(&due));
                    (
                        loan.borrower,
                        t.get(&format!("loans.{}", loan.status.as_str())),
                        due,
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let earlier = record
        .earlier_files
        .iter()
        .map(|file| {
            (
                file.filename.clone(),
                format!("/api/v1/records/{}/files/{}", record.id, file.id),
                file.sha256.to_string(),
                file.replaced_at.map_or_else(String::new, |at| {
                    t.date(&at.with_timezone(&app.timezone).date_naive())
                }),
                file.replace_reason.clone().unwrap_or_default(),
            )
        })
        .collect();
    let withdrawn = (record.status == RecordStatus::Withdrawn).then(|| {
        let reason = record
            .tombstone
            .as_ref()
            .and_then(|tombstone| tombstone["reason"].as_str())
            .unwrap_or_default();
        t.fill("record.withdrawn_because", &[("reason", reason)])
    });
    let page = RecordPage {
        t,
        earlier,
        may_correct: user.actor.role.may(Capability::CorrectRecords) && active,
        withdrawn,
        may_hold: user.actor.role.may(Capability::Dispose) && active,
        loans,
        integrity: record.integrity.as_deref().map(|integrity| {
            t.get(if integrity == "damaged" {
                "record.damaged"
            } else {
                "record.intact"
            })
        }),
        due_reason: optional(&record.retention_reason),
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
        status: t.get(match record.status {
            RecordStatus::Destroyed => "record.destroyed",
            RecordStatus::Withdrawn => "record.withdrawn",
            RecordStatus::Active => "record.active",
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

/// The longer side of a page thumbnail, in pixels.
const THUMBNAIL_PIXELS: u32 = 240;

/// The first page of a PDF file as a PNG, for the record page; the same access decision as
/// the file's download.
pub async fn thumbnail(
    State(app): State<App>,
    user: WebUser,
    Path((record_id, file_id)): Path<(Uuid, Uuid)>,
) -> Response {
    match app
        .records
        .thumbnail(&user.actor, record_id, file_id, THUMBNAIL_PIXELS)
        .await
    {
        Ok(png) => (
            [
                (axum::http::header::CONTENT_TYPE, "image/png"),
                (axum::http::header::CACHE_CONTROL, "private, max-age=3600"),
            ],
            png,
        )
            .into_response(),
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
