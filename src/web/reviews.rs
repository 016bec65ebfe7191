//! Holds placed from a record's or a folder's page and released from `/disposition`, the
//! supervisors' shredding confirmation of a batch, and `/releases`: the release review
//! (開放審核, R18) proposed by the records office and decided by the director. The same
//! service calls as `/api/v1/holds`, `/api/v1/disposition/batches/{id}/shredded` and
//! `/api/v1/releases`.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::disposition::after;
use super::form::{Fields, refusal};
use super::i18n::Texts;
use super::session::{WebUser, url_encode};
use super::{Chrome, message_of, render_with};
use crate::app::App;
use crate::domain::catalogue::SecurityLevel;
use crate::domain::permissions::Capability;
use crate::domain::proposal::ProposalStatus;
use crate::services::ServiceError;
use crate::services::destruction::ShreddingInput;
use crate::services::holds::NewHold;
use crate::services::releases::{NewRelease, ReleaseFilter, ReviewDueFilter};

/// Places a hold on the record (`record_ids`) or on the whole folder (`party_id`).
pub async fn place_hold(State(app): State<App>, user: WebUser, body: Bytes) -> Response {
    let fields = Fields::parse(&body);
    let result = async {
        fields.check_csrf(&user)?;
        let record_ids = fields.uuids("record_ids")?;
        let input = NewHold {
            reason: fields.get("reason").to_owned(),
            record_ids: (!record_ids.is_empty()).then_some(record_ids),
            party_id: fields.uuid("party_id")?,
        };
        app.holds.create(&user.actor, input).await.map(drop)
    }
    .await;
    let today = app.reminders.today();
    after(&app, &user, today, result, "held").await
}

pub async fn release_hold(
    State(app): State<App>,
    user: WebUser,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    let result = async {
        fields.check_csrf(&user)?;
        app.holds.release(&user.actor, id).await
    }
    .await;
    let today = app.reminders.today();
    after(&app, &user, today, result, "released").await
}

/// A supervisor's (監銷人) confirmation that the batch's physical items were shredded.
pub async fn confirm_shredded(
    State(app): State<App>,
    user: WebUser,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    let result = async {
        fields.check_csrf(&user)?;
        let input = ShreddingInput {
            record_ids: None,
            supervisor: fields.optional("supervisor"),
            remarks: fields.optional("remarks"),
        };
        app.destruction
            .confirm_shredded(&user.actor, id, input)
            .await
            .map(drop)
    }
    .await;
    let today = app.reminders.today();
    after(&app, &user, today, result, "shredded").await
}

struct ReleaseLine {
    id: Uuid,
    status_code: &'static str,
    status: &'static str,
    change: String,
    reason: String,
    /// Archival code (or title) of each record.
    records: String,
    decidable: bool,
}

#[derive(Template)]
#[template(path = "releases.html")]
struct ReleasesPage {
    t: Texts,
    chrome: Chrome,
    /// Records due for review: id, code, title, year, level, open status.
    due: Vec<(Uuid, String, String, i32, &'static str, &'static str)>,
    may_propose: bool,
    levels: Vec<(&'static str, &'static str)>,
    releases: Vec<ReleaseLine>,
    message: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct ReleasesQuery {
    done: Option<String>,
}

async fn page(
    app: &App,
    user: &WebUser,
    message: Option<String>,
    notice: Option<String>,
    status: StatusCode,
) -> Response {
    let t = user.texts;
    let role = user.actor.role;
    let may_propose = role.may(Capability::ProposeRelease);
    let due = if may_propose {
        app.releases
            .due(&user.actor, ReviewDueFilter::default())
            .await
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    let filter = ReleaseFilter {
        limit: Some(100),
        ..ReleaseFilter::default()
    };
    let (releases, message) = match app.releases.list(&user.actor, filter).await {
        Ok(releases) => (releases, message),
        Err(error) => (Vec::new(), message.or_else(|| Some(message_of(t, &error)))),
    };
    let releases = releases
        .into_iter()
        .map(|release| {
            let change = [
                release
                    .open_status
                    .as_deref()
                    .map(|open| t.get(&format!("open.{open}"))),
                release
                    .security_level
                    .as_deref()
                    .map(|level| t.get(&format!("level.{level}"))),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ");
            ReleaseLine {
                id: release.id,
                status: t.get(&format!("releases.{}", release.status)),
                decidable: release.status == ProposalStatus::Proposed
                    && role.may(Capability::ReviewRelease)
                    && release.proposed_by != user.actor.user_id,
                status_code: release.status.as_str(),
                change,
                reason: release.reason,
                records: release
                    .items
                    .into_iter()
                    .map(|item| item.archival_code.unwrap_or(item.title))
                    .collect::<Vec<_>>()
                    .join(t.get("releases.separator")),
            }
        })
        .collect();
    let due = due
        .into_iter()
        .map(|record| {
            (
                record.id,
                record.archival_code.unwrap_or_default(),
                record.title,
                record.year,
                t.get(&format!("level.{}", record.security_level)),
                t.get(&format!("open.{}", record.open_status)),
            )
        })
        .collect();
    let levels = SecurityLevel::ALL
        .iter()
        .map(|level| (level.as_str(), t.get(&format!("level.{}", level.as_str()))))
        .collect();
    render_with(
        status,
        &ReleasesPage {
            t,
            chrome: Chrome::of(user),
            due,
            may_propose,
            levels,
            releases,
            message,
            notice,
        },
    )
}

pub async fn releases_page(
    State(app): State<App>,
    user: WebUser,
    Query(query): Query<ReleasesQuery>,
) -> Response {
    let notice = query
        .done
        .map(|done| user.texts.get(&format!("releases.{done}")).to_owned());
    page(&app, &user, None, notice, StatusCode::OK).await
}

async fn after_release(
    app: &App,
    user: &WebUser,
    result: Result<(), ServiceError>,
    done: &str,
) -> Response {
    match result {
        Ok(()) => Redirect::to(&format!("/releases?done={}", url_encode(done))).into_response(),
        Err(error) => {
            let status = crate::http::status_of(error.code());
            page(app, user, Some(refusal(user, &error)), None, status).await
        }
    }
}

/// Proposes opening (`open`) and/or declassifying (`security_level`) the ticked records.
pub async fn propose_release(State(app): State<App>, user: WebUser, body: Bytes) -> Response {
    let fields = Fields::parse(&body);
    let result = async {
        fields.check_csrf(&user)?;
        let security_level =
            match fields.get("security_level") {
                "" => None,
                level => Some(SecurityLevel::parse(level).ok_or_else(|| {
                    ServiceError::Validation(format!("security_level: {level:?}"))
                })?),
            };
        let input = NewRelease {
            record_ids: fields.uuids("record_ids")?,
            open: match fields.get("open") {
                "" => None,
                open => Some(open == "true"),
            },
            security_level,
            reason: fields.get("reason").to_owned(),
        };
        app.releases.propose(&user.actor, input).await.map(drop)
    }
    .await;
    after_release(&app, &user, result, "proposed_done").await
}

pub async fn decide_release(
    State(app): State<App>,
    user: WebUser,
    Path((id, action)): Path<(Uuid, String)>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    let result = async {
        fields.check_csrf(&user)?;
        match action.as_str() {
            "approve" => app.releases.approve(&user.actor, id).await.map(drop),
            "reject" => app.releases.reject(&user.actor, id).await.map(drop),
            other => Err(ServiceError::NotFound(format!("no action {other:?}"))),
        }
    }
    .await;
    after_release(&app, &user, result, "decided").await
}
