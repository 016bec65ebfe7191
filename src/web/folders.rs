//! `/folders/{party_id}`: an employee's or customer's folder: its data, its sign-off, the
//! checklist with what is missing, its records in order and its events; the same service
//! call (and the same access decision, audited) as `GET /api/v1/parties/{id}`;
//! `/folders/{party_id}/sign-off` signs it off.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::Response;
use uuid::Uuid;

use super::i18n::Texts;
use super::session::WebUser;
use super::{Chrome, error_page, render};
use crate::app::App;
use crate::services::parties::PartyView;

struct ChecklistLine {
    code: String,
    name: String,
    missing: bool,
}

struct RecordLine {
    id: Uuid,
    date: String,
    code: String,
    title: String,
}

#[derive(Template)]
#[template(path = "folder.html")]
struct FolderPage {
    t: Texts,
    chrome: Chrome,
    party: PartyView,
    kind: &'static str,
    department: String,
    status: &'static str,
    extra: Vec<(&'static str, String)>,
    checklist: Vec<ChecklistLine>,
    records: Vec<RecordLine>,
    events: Vec<(String, String)>,
    /// Whether the caller may place a legal hold on the whole folder.
    may_hold: bool,
    /// The sign-off line (who signs, or who signed when), if the folder needs one.
    sign_off: Option<String>,
    /// Whether the caller is the one to sign the folder off now.
    may_sign: bool,
}

pub async fn folder_page(State(app): State<App>, user: WebUser, Path(id): Path<Uuid>) -> Response {
    let folder = match app.parties.folder(&user.actor, id).await {
        Ok(folder) => folder,
        Err(error) => return error_page(&user, &error),
    };
    let t = user.texts;
    let checklist = match &folder.folder_category {
        Some(code) => app
            .catalogue
            .get_category(code)
            .await
            .map(|category| category.checklist)
            .unwrap_or_default(),
        None => Vec::new(),
    };
    let missing: Vec<&str> = folder
        .missing
        .iter()
        .map(|item| item.code.as_str())
        .collect();
    let party = folder.party;
    let extra = [
        ("folder.grade", party.grade.clone()),
        ("folder.region", party.region.clone()),
        ("folder.industry", party.industry.clone()),
        (
            "folder.credit_limit",
            party.credit_limit.map(|limit| limit.to_string()),
        ),
    ]
    .into_iter()
    .filter_map(|(key, value)| value.map(|value| (t.get(key), value)))
    .collect();
    let sign_off = &folder.sign_off;
    let may_sign = sign_off.signed_off_at.is_none()
        && sign_off.by_role.as_deref() == Some(user.actor.role.as_str());
    let sign_off_line = sign_off.by_role.as_deref().map(|role| {
        let role = t.get(&format!("role.{role}"));
        match sign_off.signed_off_at {
            Some(at) => t.fill(
                "folder.signed_off",
                &[
                    ("role", role),
                    (
                        "date",
                        &t.date(&at.with_timezone(&app.timezone).date_naive()),
                    ),
                ],
            ),
            None => t.fill("folder.awaiting_sign_off", &[("role", role)]),
        }
    });
    let page = FolderPage {
        t,
        sign_off: sign_off_line,
        may_sign,
        may_hold: user
            .actor
            .role
            .may(crate::domain::permissions::Capability::Dispose),
        chrome: Chrome::of(&user),
        kind: t.get(&format!("folder.{}", party.kind.as_str())),
        department: party.department.clone().unwrap_or_default(),
        status: t.get(&format!("folder.{}", party.status.as_str())),
        extra,
        checklist: checklist
            .into_iter()
            .map(|item| ChecklistLine {
                missing: missing.contains(&item.code.as_str()),
                code: item.code,
                name: item.name,
            })
            .collect(),
        records: folder
            .records
            .into_iter()
            .map(|record| RecordLine {
                id: record.id,
                date: t.date(&record.doc_date),
                code: record.archival_code.unwrap_or_default(),
                title: record.title,
            })
            .collect(),
        events: folder
            .events
            .into_iter()
            .map(|event| {
                let said: Vec<String> = [event.outcome, event.next_step]
                    .into_iter()
                    .flatten()
                    .collect();
                let kind = if said.is_empty() {
                    event.r#type
                } else {
                    format!("{} · {}", event.r#type, said.join(" · "))
                };
                (t.date(&event.date), kind)
            })
            .collect(),
        party,
    };
    render(&page)
}

/// Signs the folder off (the role its category names); the folder again.
pub async fn sign_off(
    State(app): State<App>,
    user: WebUser,
    Path(id): Path<Uuid>,
    body: axum::body::Bytes,
) -> Response {
    use axum::response::IntoResponse;
    let fields = super::form::Fields::parse(&body);
    let result = async {
        fields.check_csrf(&user)?;
        let note = Some(fields.get("note").to_owned()).filter(|note| !note.trim().is_empty());
        let input = crate::services::parties::SignOffInput { note };
        app.parties.sign_off(&user.actor, id, input).await
    }
    .await;
    match result {
        Ok(_) => axum::response::Redirect::to(&format!("/folders/{id}")).into_response(),
        Err(error) => {
            let status = crate::http::status_of(error.code());
            super::message_page(&user, status, super::form::refusal(&user, &error))
        }
    }
}
