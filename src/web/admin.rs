//! `/admin`: users (create, disable, enable), each category's access rule (R11) and the
//! catalogue set-up ([`super::setup`]), through the same services as `/api/v1/users` and
//! `/api/v1/categories`.

use askama::Template;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::form::{Fields, refusal};
use super::i18n::Texts;
use super::session::WebUser;
use super::{Chrome, error_page, render};
use crate::app::App;
use crate::domain::patch::Patch;
use crate::domain::permissions::{AccessRule, Approver, Grant};
use crate::domain::user::Role;
use crate::services::ServiceError;
use crate::services::auth::NewUserInput;
use crate::services::catalogue::CategoryPatch;
use crate::services::users::UserPatch;

struct UserLine {
    id: Uuid,
    username: String,
    role: &'static str,
    active: bool,
}

struct CategoryLine {
    code: String,
    name: String,
    own: bool,
    grants: Vec<(&'static str, bool)>,
    approver: &'static str,
    /// Who signs off new folders: `""` for nobody.
    sign_off: &'static str,
    retention: String,
    fields: String,
    checklist: String,
}

#[derive(Template)]
#[template(path = "admin.html")]
struct AdminPage {
    t: Texts,
    chrome: Chrome,
    users: Vec<UserLine>,
    roles: Vec<&'static str>,
    departments: Vec<(String, String)>,
    categories: Vec<CategoryLine>,
    /// Retention policies: code, name, years (empty: permanent).
    retention: Vec<(String, String, String)>,
    message: Option<String>,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct AdminQuery {
    done: Option<String>,
    error: Option<String>,
}

pub async fn admin_page(
    State(app): State<App>,
    user: WebUser,
    Query(query): Query<AdminQuery>,
) -> Response {
    let t = user.texts;
    let users = match app.auth.list_users(&user.actor).await {
        Ok(users) => users,
        Err(error) => return error_page(&user, &error),
    };
    let departments = app
        .catalogue
        .list_departments()
        .await
        .map(|list| list.into_iter().map(|d| (d.code, d.name)).collect())
        .unwrap_or_default();
    let categories = app
        .catalogue
        .list_categories()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|category| CategoryLine {
            grants: Grant::ALL
                .iter()
                .map(|grant| (grant.as_str(), category.access.see.contains(grant)))
                .collect(),
            approver: category.access.loan_approver.as_str(),
            sign_off: category.access.sign_off.map_or("", Approver::as_str),
            own: category.access_own,
            retention: category.retention.unwrap_or_default(),
            fields: super::setup::fields_text(&category.fields),
            checklist: super::setup::checklist_text(&category.checklist),
            name: category.names.get(t.lang.language()).to_owned(),
            code: category.code,
        })
        .collect();
    let retention = app
        .catalogue
        .list_retention()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|policy| {
            let years = policy.years.map_or_else(
                || t.get("admin.permanent").to_owned(),
                |years| years.to_string(),
            );
            (policy.code, policy.name, years)
        })
        .collect();
    render(&AdminPage {
        t,
        retention,
        chrome: Chrome::of(&user),
        users: users
            .into_iter()
            .map(|view| UserLine {
                id: view.id,
                username: view.username,
                role: view.role.as_str(),
                active: view.active,
            })
            .collect(),
        roles: Role::ALL.iter().map(|role| role.as_str()).collect(),
        departments,
        categories,
        message: query.error,
        notice: query.done.map(|_| t.get("admin.saved").to_owned()),
    })
}

/// After a change: the page again, with the notice or the translated refusal.
pub(super) fn back(user: &WebUser, result: Result<(), ServiceError>) -> Response {
    match result {
        Ok(()) => Redirect::to("/admin?done=1").into_response(),
        Err(error) => {
            let message = refusal(user, &error);
            Redirect::to(&format!(
                "/admin?error={}",
                super::session::url_encode(&message)
            ))
            .into_response()
        }
    }
}

pub async fn create_user(State(app): State<App>, user: WebUser, body: Bytes) -> Response {
    let fields = Fields::parse(&body);
    let result = async {
        fields.check_csrf(&user)?;
        let input = NewUserInput {
            username: fields.get("username").to_owned(),
            password: fields.get("password").to_owned(),
            role: Role::parse(fields.get("role"))?,
            department: fields.optional("department"),
            email: None,
        };
        app.auth
            .create_user(Some(&user.actor), input)
            .await
            .map(drop)
    }
    .await;
    back(&user, result)
}

pub async fn set_active(
    State(app): State<App>,
    user: WebUser,
    Path(id): Path<Uuid>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    let result = async {
        fields.check_csrf(&user)?;
        let patch = UserPatch {
            active: Some(fields.get("active") == "true"),
            ..UserPatch::default()
        };
        app.auth
            .update_user(Some(&user.actor), id, patch)
            .await
            .map(drop)
    }
    .await;
    back(&user, result)
}

pub async fn set_access(
    State(app): State<App>,
    user: WebUser,
    Path(code): Path<String>,
    body: Bytes,
) -> Response {
    let fields = Fields::parse(&body);
    let result = async {
        fields.check_csrf(&user)?;
        let see = fields
            .all("see")
            .map(|value| {
                Grant::parse(value).ok_or_else(|| {
                    ServiceError::Validation(format!("see: unknown grant {value:?}"))
                })
            })
            .collect::<Result<Vec<Grant>, _>>()?;
        let loan_approver = Approver::parse(fields.get("loan_approver")).ok_or_else(|| {
            ServiceError::Validation("loan_approver: director or general_manager".into())
        })?;
        let sign_off = match fields.get("sign_off") {
            "" => None,
            value => Some(Approver::parse(value).ok_or_else(|| {
                ServiceError::Validation("sign_off: nobody, director or general_manager".into())
            })?),
        };
        let patch = CategoryPatch {
            access: Patch::Set(AccessRule {
                see,
                loan_approver,
                sign_off,
            }),
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
