//! `/loans`: registering a loan (the records office for a borrower, or anyone for a record
//! they see), deciding requests, returns; the same service calls as `/api/v1/loans`.

use askama::Template;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::form::{csrf, refusal};
use super::i18n::Texts;
use super::session::WebUser;
use super::{Chrome, render_with};
use crate::app::App;
use crate::domain::loan::LoanStatus;
use crate::domain::permissions::Capability;
use crate::domain::user::Role;
use crate::services::ServiceError;
use crate::services::loans::{ApprovalInput, LoanFilter, NewLoanInput};

struct LoanLine {
    id: Uuid,
    record_id: Uuid,
    title: String,
    borrower: String,
    status: &'static str,
    status_code: &'static str,
    overdue: bool,
    due: String,
    decidable: bool,
    returnable: bool,
}

/// What was typed into the registration form.
#[derive(Debug, Default, Deserialize)]
pub struct LoanForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    record_id: String,
    #[serde(default)]
    borrower: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    days: String,
    #[serde(default)]
    hours: String,
    #[serde(default)]
    physical: Option<String>,
    #[serde(default)]
    reading_room: Option<String>,
}

struct FormView {
    record_id: String,
    borrower: String,
    purpose: String,
    days: String,
    hours: String,
    physical: bool,
    reading_room: bool,
}

#[derive(Template)]
#[template(path = "loans.html")]
struct LoansPage {
    t: Texts,
    chrome: Chrome,
    form: FormView,
    loans: Vec<LoanLine>,
    message: Option<String>,
    notice: Option<String>,
    /// The records office: it prints the lending register.
    keeper: bool,
}

#[derive(Deserialize)]
pub struct LoansQuery {
    record_id: Option<Uuid>,
    done: Option<String>,
}

async fn page(
    app: &App,
    user: &WebUser,
    form: FormView,
    message: Option<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let t = user.texts;
    let filter = LoanFilter {
        limit: Some(100),
        ..LoanFilter::default()
    };
    let loans = app
        .loans
        .list(&user.actor, filter)
        .await
        .map(|page| page.items)
        .unwrap_or_default();
    let approver = matches!(user.actor.role, Role::Director | Role::GeneralManager);
    let keeper = user.actor.role.may(Capability::KeepLoans);
    let lines = loans
        .into_iter()
        .map(|loan| {
            let own = loan.borrower_id == Some(user.actor.user_id);
            LoanLine {
                decidable: loan.status == LoanStatus::Requested && approver && !own,
                returnable: loan.status == LoanStatus::Approved
                    && (keeper || (own && !loan.physical)),
                status: t.get(&format!("loans.{}", loan.status.as_str())),
                status_code: loan.status.as_str(),
                due: loan.due_on.map_or_else(String::new, |due| t.date(&due)),
                id: loan.id,
                record_id: loan.record_id,
                title: loan.title,
                borrower: loan.borrower,
                overdue: loan.overdue,
            }
        })
        .collect();
    render_with(
        status,
        &LoansPage {
            t,
            chrome: Chrome::of(user),
            form,
            loans: lines,
            message,
            notice,
            keeper: user
                .actor
                .role
                .may(crate::domain::permissions::Capability::KeepLoans),
        },
    )
}

pub async fn loans_page(
    State(app): State<App>,
    user: WebUser,
    Query(query): Query<LoansQuery>,
) -> Response {
    let form = FormView {
        record_id: query.record_id.map(|id| id.to_string()).unwrap_or_default(),
        borrower: String::new(),
        purpose: String::new(),
        days: "7".into(),
        hours: String::new(),
        physical: false,
        reading_room: false,
    };
    let notice = query
        .done
        .map(|done| user.texts.get(&format!("loans.{done}")).to_owned());
    page(&app, &user, form, None, notice, StatusCode::OK).await
}

/// Registers a loan; the form comes back with the reason if it is refused.
pub async fn register_loan(
    State(app): State<App>,
    user: WebUser,
    Form(form): Form<LoanForm>,
) -> Response {
    let view = FormView {
        record_id: form.record_id.clone(),
        borrower: form.borrower.clone(),
        purpose: form.purpose.clone(),
        days: form.days.clone(),
        hours: form.hours.clone(),
        physical: form.physical.is_some(),
        reading_room: form.reading_room.is_some(),
    };
    let result = async {
        csrf(&user, Some(&form.csrf))?;
        let record_id = form.record_id.trim().parse::<Uuid>().map_err(|_| {
            ServiceError::Validation(format!(
                "record_id: {:?} is not a record id",
                form.record_id
            ))
        })?;
        let number = |field: &str, value: &str| {
            let value = value.trim();
            (!value.is_empty())
                .then(|| {
                    value.parse::<i32>().map_err(|_| {
                        ServiceError::Validation(format!("{field}: {value:?} is not a number"))
                    })
                })
                .transpose()
        };
        let hours = number("hours", &form.hours)?;
        // the form offers days by default: a loan of hours or of the reading room has none
        let days = if hours.is_some() || form.reading_room.is_some() {
            None
        } else {
            number("days", &form.days)?
        };
        let borrower = Some(form.borrower.trim().to_owned()).filter(|name| !name.is_empty());
        app.loans
            .request(
                &user.actor,
                NewLoanInput {
                    record_id,
                    purpose: form.purpose.clone(),
                    days,
                    hours,
                    physical: form.physical.is_some(),
                    reading_room: form.reading_room.is_some(),
                    copy_allowed: false,
                    borrower,
                    outside_borrower: None,
                },
            )
            .await
    }
    .await;
    match result {
        Ok(_) => Redirect::to("/loans?done=registered").into_response(),
        Err(error) => {
            let status = crate::http::status_of(error.code());
            let message = refusal(&user, &error);
            page(&app, &user, view, Some(message), None, status).await
        }
    }
}

#[derive(Deserialize)]
pub struct DecisionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    copy_allowed: Option<String>,
}

/// Approves, rejects or takes back a loan.
pub async fn act_on_loan(
    State(app): State<App>,
    user: WebUser,
    Path((id, action)): Path<(Uuid, String)>,
    Form(form): Form<DecisionForm>,
) -> Response {
    let result = async {
        csrf(&user, Some(&form.csrf))?;
        match action.as_str() {
            "approve" => {
                let input = ApprovalInput {
                    copy_allowed: form.copy_allowed.is_some(),
                };
                app.loans.approve(&user.actor, id, input).await
            }
            "reject" => app.loans.reject(&user.actor, id).await,
            "return" => app.loans.return_loan(&user.actor, id).await,
            other => Err(ServiceError::NotFound(format!("no action {other:?}"))),
        }
    }
    .await;
    match result {
        Ok(_) => Redirect::to("/loans?done=decided").into_response(),
        Err(error) => {
            let status = crate::http::status_of(error.code());
            let message = refusal(&user, &error);
            let form = FormView {
                record_id: String::new(),
                borrower: String::new(),
                purpose: String::new(),
                days: "7".into(),
                hours: String::new(),
                physical: false,
                reading_room: false,
            };
            page(&app, &user, form, Some(message), None, status).await
        }
    }
}
