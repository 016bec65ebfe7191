//! `/disposition`: the due list with appraisal, destruction batches built from the records
//! appraised "destroy", their two approvals and the destruction list; the same service calls
//! as `/api/v1/disposition/…`.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::Deserialize;
use uuid::Uuid;

use super::form::{Fields, refusal};
use super::i18n::Texts;
use super::session::{WebUser, url_encode};
use super::{Chrome, message_of, render_with};
use crate::app::App;
use crate::domain::disposition::{BatchStatus, Decision};
use crate::services::ServiceError;
use crate::services::destruction::NewBatch;
use crate::services::disposition::{DueFilter, NewAppraisal};

struct DueLine {
    id: Uuid,
    title: String,
    code: String,
    due: String,
    decision: String,
    appraised: bool,
    /// Under a legal hold: not to be appraised for destruction until released.
    held: bool,
}

struct BatchLine {
    id: Uuid,
    created: String,
    status: &'static str,
    items: usize,
    approvals: String,
    approvable: bool,
    /// Awaiting shredding: the named supervisors, one of whom confirms.
    supervisors: Vec<String>,
    /// Physical items still to be shredded.
    to_shred: usize,
}

/// An active hold: id, reason, what it covers (records or a folder), placed on.
struct HoldLine {
    id: Uuid,
    reason: String,
    records: Vec<Uuid>,
    party: Option<Uuid>,
    placed: String,
}

#[derive(Template)]
#[template(path = "disposition.html")]
struct DispositionPage {
    t: Texts,
    chrome: Chrome,
    as_of: String,
    due: Vec<DueLine>,
    /// Records appraised "destroy": id, title.
    destroyable: Vec<(Uuid, String)>,
    batches: Vec<BatchLine>,
    holds: Vec<HoldLine>,
    message: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct DispositionQuery {
    as_of: Option<NaiveDate>,
    done: Option<String>,
}

async fn page(
    app: &App,
    user: &WebUser,
    as_of: NaiveDate,
    message: Option<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let t = user.texts;
    let filter = DueFilter {
        as_of: Some(as_of.to_string()),
        limit: Some(200),
        ..DueFilter::default()
    };
    let (due, message) = match app.disposition.due(&user.actor, filter).await {
        Ok(page) => (page.items, message),
        Err(error) => (Vec::new(), message.or_else(|| Some(message_of(t, &error)))),
    };
    let destroyable = due
        .iter()
        .filter(|item| {
            item.holds.is_empty()
                && item
                    .appraisal
                    .as_ref()
                    .is_some_and(|appraisal| appraisal.decision == Decision::Destroy)
        })
        .map(|item| (item.id, item.title.clone()))
        .collect();
    let batches = app
        .destruction
        .list_batches(&user.actor, None)
        .await
        .unwrap_or_default();
    let due = due
        .into_iter()
        .map(|item| DueLine {
            appraised: item.appraisal.is_some(),
            held: !item.holds.is_empty(),
            decision: item.appraisal.as_ref().map_or_else(
                || t.get("disposition.not_appraised").to_owned(),
                |appraisal| {
                    t.get(&format!("disposition.{}", appraisal.decision.as_str()))
                        .to_owned()
                },
            ),
            due: t.date(&item.retention_due_on),
            code: item.archival_code.unwrap_or_default(),
            id: item.id,
            title: item.title,
        })
        .collect();
    let batches = batches
        .into_iter()
        .map(|batch| {
            let approved_by_me = batch
                .approvals
                .iter()
                .any(|approval| approval.user_id == user.actor.user_id);
            let shredding = batch.status == BatchStatus::AwaitingShredding;
            BatchLine {
                supervisors: if shredding {
                    batch.supervisors.clone()
                } else {
                    Vec::new()
                },
                to_shred: batch
                    .items
                    .iter()
                    .filter(|item| item.physical && item.shredded_at.is_none())
                    .count(),
                id: batch.id,
                created: batch.created_at.format("%Y-%m-%d %H:%M").to_string(),
                status: t.get(&format!("disposition.{}", batch.status)),
                items: batch.items.len(),
                approvals: batch
                    .approvals
                    .iter()
                    .map(|approval| approval.username.clone())
                    .collect::<Vec<_>>()
                    .join(", "),
                approvable: batch.status == BatchStatus::AwaitingApproval
                    && batch.created_by != user.actor.user_id
                    && !approved_by_me,
            }
        })
        .collect();
    let holds = app
        .holds
        .list(&user.actor)
        .await
        .map(|list| list.items)
        .unwrap_or_default()
        .into_iter()
        .map(|hold| HoldLine {
            id: hold.id,
            reason: hold.reason,
            records: hold.record_ids.unwrap_or_default(),
            party: hold.party_id,
            placed: t.date(&hold.created_at.date_naive()),
        })
        .collect();
    render_with(
        status,
        &DispositionPage {
            holds,
            t,
            chrome: Chrome::of(user),
            as_of: as_of.to_string(),
            due,
            destroyable,
            batches,
            message,
            notice,
        },
    )
}

fn today(app: &App) -> NaiveDate {
    app.reminders.today()
}

pub async fn disposition_page(
    State(app): State<App>,
    user: WebUser,
    Query(query): Query<DispositionQuery>,
) -> Response {
    let as_of = query.as_of.unwrap_or_else(|| today(&app));
    let notice = query
        .done
        .map(|done| user.texts.get(&format!("disposition.{done}")).to_owned());
    page(&app, &user, as_of, None, notice, StatusCode::OK).await
}

pub(super) async fn after(
    app: &App,
    user: &WebUser,
    as_of: NaiveDate,
    result: Result<(), ServiceError>,
    done: &str,
) -> Response {
    match result {
        Ok(()) => Redirect::to(&format!(
            "/disposition?as_of={as_of}&done={}",
            url_encode(done)
        ))
        .into_response(),
        Err(error) => {
            let status = crate::http::status_of(error.code());
            let message = refusal(user, &error);
            page(app, user, as_of, Some(message), None, status).await
        }
    }
}

fn as_of_of(app: &App, fields: &Fields) -> NaiveDate {
    fields.get("as_of").parse().unwrap_or_else(|_| today(app))
}

pub async fn appraise(State(app): State<App>, user: WebUser, body: Bytes) -> Response {
    let fields = Fields::parse(&body);
    let as_of = as_of_of(&app, &fields);
    let result = async {
        fields.check_csrf(&user)?;
        let record_id = fields
            .get("record_id")
            .parse()
            .map_err(|_| ServiceError::Validation("record_id: missing".into()))?;
        let decision = Decision::parse(fields.get("decision")).ok_or_else(|| {
            ServiceError::Validation("decision: destroy, extend or permanent".into())
        })?;
        let years = Some(fields.get("years"))
            .filter(|years| !years.is_empty())
            .map(|years| {
                years
                    .parse()
                    .map_err(|_| ServiceError::Validation(format!("years: {years:?}")))
            })
            .transpose()?;
        let input = NewAppraisal {
            record_id,
            decision,
            years,
            reason: fields.get("reason").to_owned(),
        };
        app.disposition.appraise(&user.actor, input).await.map(drop)
    }
    .await;
    after(&app, &user, as_of, result, "appraised").await
}

pub async fn create_batch(State(app): State<App>, user: WebUser, body: Bytes) -> Response {
    let fields = Fields::parse(&body);
    let as_of = as_of_of(&app, &fields);
    let result = async {
        fields.check_csrf(&user)?;
        let record_ids = fields.uuids("record_ids")?;
        let supervisors = fields
            .get("supervisors")
            .split([',', '，', '、'])
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(str::to_owned)
            .collect();
        let input = NewBatch {
            as_of,
            record_ids,
            supervisors,
            run_at: None,
        };
        app.destruction.create(&user.actor, input).await.map(drop)
    }
    .await;
    after(&app, &user, as_of, result, "created").await
}

pub async fn approve_batch(
    State(app): State<App>,
    user: WebUser,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    let as_of = today(&app);
    let result = async {
        fields.check_csrf(&user)?;
        app.destruction.approve(&user.actor, id).await.map(drop)
    }
    .await;
    after(&app, &user, as_of, result, "approved").await
}
