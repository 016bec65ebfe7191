//! Every route of the service, in one table, and the OpenAPI document built from them.

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath, Request, State};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::error::ApiError;
use super::{
    audit, auth, borrowers, catalogue, corrections, destruction, disposition, export, integrity,
    loans, ops, parties, records, releases, reminders, rooms, search, stats, stocktakes, users,
};
use crate::app::App;
use crate::domain::ErrorCode;

/// Request bodies of routes other than uploads are small JSON documents.
const JSON_BODY_LIMIT: usize = 1024 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "dangan",
        description = "檔案 dangan: archive and records management. Errors are application/problem+json with a stable `code`."
    ),
    modifiers(&BearerAuth),
    // schemas only parameters name (utoipa does not collect those)
    components(schemas(
        crate::domain::job::JobStatus,
        crate::domain::job::JobKind,
        crate::domain::proposal::ProposalStatus,
        crate::services::integrity::CheckFormat,
        crate::services::destruction::ListFormat,
        crate::services::ledger::LedgerFormat,
        crate::services::rooms::ReportFormat,
    )),
    tags(
        (name = "auth", description = "login and sessions"),
        (name = "records", description = "records (件) and their files"),
        (name = "catalogue", description = "fonds, departments, retention schedule, classification scheme"),
        (name = "parties", description = "employees and customers, their folders and events"),
        (name = "users", description = "user accounts"),
        (name = "loans", description = "lending (借閱): requests, approvals, returns"),
        (name = "disposition", description = "due list, appraisal (鑒定) and legal holds"),
        (name = "rooms", description = "storage rooms (庫房): targets, readings, inspections (十防)"),
        (name = "reminders", description = "everything with a due date: inspections, readings, alerts, retention, deadlines"),
        (name = "integrity", description = "fixity sweeps and the four-properties check (四性檢測)"),
        (name = "audit", description = "the audit trail and its hash chain"),
        (name = "operations", description = "health, readiness, metrics"),
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The complete router over `app`.
pub fn router(app: App) -> Router {
    let upload_limit = usize::try_from(app.limits.max_upload_bytes).unwrap_or(usize::MAX);
    let uploads = OpenApiRouter::new()
        .routes(routes!(records::create_record))
        .routes(routes!(corrections::add_record_files))
        .layer(DefaultBodyLimit::max(upload_limit));
    let (api, openapi) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::change_password))
        .routes(routes!(users::create_user, users::list_users))
        .routes(routes!(users::update_user))
        .routes(routes!(users::reset_password))
        .routes(routes!(records::get_record, records::update_record))
        .routes(routes!(records::add_record_event))
        .routes(routes!(corrections::propose_withdrawal))
        .routes(routes!(corrections::list_withdrawals))
        .routes(routes!(corrections::get_withdrawal))
        .routes(routes!(corrections::approve_withdrawal))
        .routes(routes!(corrections::reject_withdrawal))
        .routes(routes!(catalogue::create_fonds, catalogue::list_fonds))
        .routes(routes!(
            catalogue::get_fonds,
            catalogue::update_fonds,
            catalogue::delete_fonds
        ))
        .routes(routes!(
            catalogue::create_department,
            catalogue::list_departments
        ))
        .routes(routes!(
            catalogue::get_department,
            catalogue::update_department,
            catalogue::delete_department
        ))
        .routes(routes!(
            catalogue::create_retention_policy,
            catalogue::list_retention_policies
        ))
        .routes(routes!(
            catalogue::get_retention_policy,
            catalogue::update_retention_policy,
            catalogue::delete_retention_policy
        ))
        .routes(routes!(
            catalogue::create_category,
            catalogue::list_categories
        ))
        .routes(routes!(
            catalogue::get_category,
            catalogue::update_category,
            catalogue::delete_category
        ))
        .routes(routes!(catalogue::apply_preset))
        .routes(routes!(parties::create_party, parties::list_parties))
        .routes(routes!(parties::get_party, parties::update_party))
        .routes(routes!(parties::add_party_event))
        .routes(routes!(parties::folder_cover))
        .routes(routes!(parties::hand_over_records))
        .routes(routes!(parties::sign_off_folder))
        .routes(routes!(records::get_record_file))
        .routes(routes!(records::get_stamped_file))
        .routes(routes!(search::search))
        .routes(routes!(search::get_variants, search::put_variants))
        .routes(routes!(search::list_jobs))
        .routes(routes!(search::retry_job))
        .routes(routes!(export::export_catalogue))
        .routes(routes!(stats::get_stats))
        .routes(routes!(stats::get_ledger))
        .routes(routes!(stats::get_report))
        .routes(routes!(loans::request_loan, loans::list_loans))
        .routes(routes!(loans::get_loan))
        .routes(routes!(
            borrowers::register_borrower,
            borrowers::list_borrowers
        ))
        .routes(routes!(borrowers::get_borrower))
        .routes(routes!(loans::loan_register))
        .routes(routes!(releases::propose_release, releases::list_releases))
        .routes(routes!(releases::list_review_due))
        .routes(routes!(releases::get_release))
        .routes(routes!(releases::approve_release))
        .routes(routes!(releases::reject_release))
        .routes(routes!(loans::approve_loan))
        .routes(routes!(loans::reject_loan))
        .routes(routes!(loans::return_loan))
        .routes(routes!(disposition::list_due_records))
        .routes(routes!(disposition::create_appraisal))
        .routes(routes!(disposition::create_hold, disposition::list_holds))
        .routes(routes!(disposition::release_hold))
        .routes(routes!(
            destruction::create_batch,
            destruction::list_batches
        ))
        .routes(routes!(destruction::get_batch))
        .routes(routes!(destruction::approve_batch))
        .routes(routes!(destruction::confirm_shredding))
        .routes(routes!(rooms::create_room, rooms::list_rooms))
        .routes(routes!(rooms::get_room, rooms::update_room))
        .routes(routes!(rooms::set_room_plan))
        .routes(routes!(rooms::create_location))
        .routes(routes!(rooms::get_location))
        .routes(routes!(rooms::location_label))
        .routes(routes!(rooms::create_movement, rooms::list_movements))
        .routes(routes!(
            stocktakes::create_stocktake,
            stocktakes::list_stocktakes
        ))
        .routes(routes!(stocktakes::get_stocktake))
        .routes(routes!(stocktakes::add_sightings))
        .routes(routes!(stocktakes::finish_stocktake))
        .routes(routes!(rooms::add_readings, rooms::list_readings))
        .routes(routes!(rooms::get_readings_summary))
        .routes(routes!(rooms::readings_log))
        .routes(routes!(rooms::create_inspection, rooms::list_inspections))
        .routes(routes!(reminders::list_reminders))
        .routes(routes!(reminders::acknowledge_reminder))
        .routes(routes!(reminders::complete_reminder))
        .routes(routes!(reminders::list_reminder_rules))
        .routes(routes!(reminders::put_reminder_rule))
        .routes(routes!(integrity::create_check, integrity::list_checks))
        .routes(routes!(integrity::get_check))
        .routes(routes!(audit::list_audit))
        .routes(routes!(audit::verify_audit))
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .merge(uploads)
        .split_for_parts();
    let mut openapi = openapi;
    super::openapi::describe_errors(&mut openapi);
    let docs = utoipa_swagger_ui::SwaggerUi::new("/api/docs")
        .url("/api/docs/openapi.json", openapi.clone());
    let openapi = Arc::new(openapi);
    api.merge(docs)
        .route(
            "/api/openapi.json",
            get(move || {
                let openapi = openapi.clone();
                async move { axum::Json(openapi.as_ref().clone()) }
            }),
        )
        .merge(crate::web::routes(&app))
        .fallback(unknown_route)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(middleware::from_fn_with_state(app.clone(), track_metrics))
        .layer(TraceLayer::new_for_http())
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
        .with_state(app)
}

async fn unknown_route() -> ApiError {
    ApiError::new(
        ErrorCode::NotFound,
        "no such endpoint; see /api/openapi.json",
    )
}

async fn method_not_allowed() -> Response {
    let mut response = ApiError::validation("method not allowed on this endpoint").into_response();
    *response.status_mut() = axum::http::StatusCode::METHOD_NOT_ALLOWED;
    response
}

/// The method as a metric label: the standard ones by name, anything a client invents as
/// `other`, so that no client can grow the metric without bound.
fn method_label(method: &axum::http::Method) -> &'static str {
    const KNOWN: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
    KNOWN
        .into_iter()
        .find(|known| *known == method.as_str())
        .unwrap_or("other")
}

async fn track_metrics(State(app): State<App>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |path| path.as_str().to_owned());
    let response = next.run(request).await;
    app.metrics.record_request(
        method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}
