//! Corrections from the record page: a file added or replaced, a withdrawal proposed; and
//! the decision on a withdrawal from the dashboard (`/`). The same services as
//! `POST /api/v1/records/{id}/files`, `/withdrawals` and `/withdrawals/{id}/approve`.

use axum::extract::{Multipart, Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

use super::form::{Fields, refusal};
use super::message_page;
use super::session::WebUser;
use crate::app::App;
use crate::domain::correction::{FileAdditionInput, NewWithdrawal, WithdrawalDecision};
use crate::http::{field_stream, multipart_error};
use crate::services::ServiceError;

fn refused(user: &WebUser, error: &ServiceError) -> Response {
    let status = crate::http::status_of(error.code());
    message_page(user, status, refusal(user, error))
}

/// Adds the form's file to the record, or replaces the file chosen in `replaces`; the
/// record page again on success.
pub async fn correct_files(
    State(app): State<App>,
    user: WebUser,
    Path(id): Path<Uuid>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response {
    let limit = app.limits.max_upload_bytes;
    let result = async {
        app.corrections.may_correct(&user.actor, id).await?;
        let mut multipart = multipart
            .map_err(|rejection| ServiceError::UnsupportedMediaType(rejection.body_text()))?;
        let mut upload = app.ingest.begin(user.actor.clone());
        let mut input = FileAdditionInput::default();
        let mut csrf_ok = false;
        while let Some(field) = multipart
            .next_field()
            .await
            .map_err(|error| multipart_error(error, limit))?
        {
            let name = field.name().unwrap_or_default().to_owned();
            if name == "file" {
                let filename = field.file_name().map(str::to_owned);
                if !csrf_ok || filename.as_deref().is_none_or(str::is_empty) {
                    continue; // a forged form or an empty input: nothing is stored
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
            let value = value.trim();
            match name.as_str() {
                "csrf" => csrf_ok = user.csrf_ok(Some(value)),
                "replaces" if value.is_empty() => {}
                "replaces" => {
                    input.replaces = Some(Uuid::parse_str(value).map_err(|_| {
                        ServiceError::Validation(format!("replaces: {value:?} is no file id"))
                    })?);
                }
                "reason" => input.reason = Some(value.to_owned()),
                other => {
                    return Err(ServiceError::Validation(format!(
                        "unexpected field {other:?}"
                    )));
                }
            }
        }
        if !csrf_ok {
            return Err(ServiceError::Forbidden(
                user.texts.get("error.csrf").to_owned(),
            ));
        }
        app.corrections.add_files(upload, id, input).await
    }
    .await;
    match result {
        Ok(_) => Redirect::to(&format!("/records/{id}?corrected=1")).into_response(),
        Err(error) => refused(&user, &error),
    }
}

/// Proposes withdrawing the record with the form's reason.
pub async fn propose_withdrawal(
    State(app): State<App>,
    user: WebUser,
    Path(id): Path<Uuid>,
    body: axum::body::Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    let result = async {
        fields.check_csrf(&user)?;
        let input = NewWithdrawal {
            reason: fields.get("reason").to_owned(),
        };
        app.corrections
            .propose_withdrawal(&user.actor, id, input)
            .await
    }
    .await;
    match result {
        Ok(_) => Redirect::to(&format!("/records/{id}?withdrawal=1")).into_response(),
        Err(error) => refused(&user, &error),
    }
}

/// Approves or rejects a withdrawal; the dashboard again.
pub async fn decide_withdrawal(
    State(app): State<App>,
    user: WebUser,
    Path((id, action)): Path<(Uuid, String)>,
    body: axum::body::Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    let result = async {
        fields.check_csrf(&user)?;
        let note = Some(fields.get("note").to_owned()).filter(|note| !note.trim().is_empty());
        let decision = WithdrawalDecision { note };
        match action.as_str() {
            "approve" => {
                app.corrections
                    .approve_withdrawal(&user.actor, id, decision)
                    .await
            }
            "reject" => {
                app.corrections
                    .reject_withdrawal(&user.actor, id, decision)
                    .await
            }
            other => Err(ServiceError::NotFound(format!("no action {other:?}"))),
        }
    }
    .await;
    match result {
        Ok(_) => Redirect::to("/").into_response(),
        Err(error) => refused(&user, &error),
    }
}
