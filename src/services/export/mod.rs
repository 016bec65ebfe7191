//! Catalogue exports (歸檔文件目錄, 案卷目錄, 卷內文件目錄) as CSV or XLSX. A task streams the
//! lines from PostgreSQL in small batches through a bounded channel; CSV is encoded as the
//! response body is read, XLSX is written on a blocking thread to a temporary file that is
//! then streamed. Memory stays constant whatever the number of records.

mod table;
mod to_csv;
mod to_pdf;
mod to_xlsx;

use bytes::Bytes;
use futures::TryStreamExt;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use utoipa::IntoParams;

pub(crate) use table::table_download;

use super::{Actor, ServiceError, ServiceResult};
use crate::db::{self, DbError, PgConnection, Pool};
use crate::domain::audit::AuditAction;
use crate::domain::catalogue::Language;
use crate::domain::export::{self, CatalogueFilter, CatalogueKind, Cell, ExportFormat};
use crate::domain::permissions::{Capability, Visibility};
use crate::services::require;

/// Lines sent through the channel at a time.
const BATCH_LINES: usize = 256;
/// Batches waiting in the channel before the query waits for the reader.
const BATCHES_IN_FLIGHT: usize = 4;

/// A batch of exported lines, each one cell per heading.
type Batch = Vec<Vec<Cell>>;
/// The receiving end of an export's lines; an error ends it.
type Lines = mpsc::Receiver<ServiceResult<Batch>>;

/// Parameters of `GET /api/v1/catalogue/export`, as sent; every one is checked and a wrong
/// one is named in the 400 response.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ExportQuery {
    /// `csv` (default; UTF-8 with BOM), `xlsx` or `pdf` (printed on A4).
    pub format: Option<String>,
    /// `items` (歸檔文件目錄, default), `folders` (案卷目錄) or `folder_items` (卷內文件目錄).
    pub kind: Option<String>,
    /// Language and script of the headings: `zh-Hans` (default), `zh-Hant` or `en`.
    pub lang: Option<String>,
    /// Category code; sub-categories included.
    pub category: Option<String>,
    /// Year (年度) of the records.
    pub year: Option<String>,
    /// Department code: of the records for `items`, of the parties for the folder catalogues.
    pub department: Option<String>,
    /// Party id: its records, or its folder.
    pub party: Option<String>,
    /// Fonds code.
    pub fonds: Option<String>,
    /// Retention policy code.
    pub retention: Option<String>,
    /// Storage room code: the records kept there.
    pub room: Option<String>,
    /// A place of `room` (cabinet, shelf or box code): the records kept in it and in the
    /// places inside it.
    pub place: Option<String>,
    /// Records filed on or after this day (`YYYY-MM-DD`, in `DANGAN_TIMEZONE`; items only).
    pub filed_from: Option<String>,
    /// Records filed on or before this day (items only).
    pub filed_to: Option<String>,
}

/// What the caller asked for, parsed.
struct ExportRequest {
    format: ExportFormat,
    kind: CatalogueKind,
    language: Language,
    filter: CatalogueFilter,
}

impl ExportRequest {
    fn parse(query: ExportQuery, timezone: chrono_tz::Tz) -> ServiceResult<Self> {
        let day_start = |field: &str, text: Option<&str>, days: u64| -> ServiceResult<_> {
            let Some(text) = text.map(str::trim).filter(|text| !text.is_empty()) else {
                return Ok(None);
            };
            let day = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|day| day.checked_add_days(chrono::Days::new(days)))
                .ok_or_else(|| {
                    ServiceError::Validation(format!("{field}: {text:?} is not a YYYY-MM-DD day"))
                })?;
            Ok(day
                .and_hms_opt(0, 0, 0)
                .and_then(|start| start.and_local_timezone(timezone).earliest())
                .map(|start| start.to_utc()))
        };
        let filed_since = day_start("filed_from", query.filed_from.as_deref(), 0)?;
        let filed_before = day_start("filed_to", query.filed_to.as_deref(), 1)?;
        let code = |value: Option<String>| {
            value
                .map(|text| text.trim().to_owned())
                .filter(|text| !text.is_empty())
        };
        Ok(Self {
            format: ExportFormat::parse(query.format.as_deref())?,
            kind: CatalogueKind::parse(query.kind.as_deref())?,
            language: export::parse_language(query.lang.as_deref())?,
            filter: CatalogueFilter {
                category: code(query.category),
                year: export::parse_year(query.year.as_deref())?,
                department: code(query.department),
                party: export::parse_party(query.party.as_deref())?,
                fonds: code(query.fonds),
                retention: code(query.retention),
                room: code(query.room),
                place: code(query.place),
                filed_since,
                filed_before,
            },
        })
    }
}

/// A file ready to be sent.
pub struct Download {
    /// The UTF-8 file name, e.g. `歸檔文件目錄-20261201.xlsx`.
    pub file_name: String,
    pub content_type: &'static str,
    /// Known for XLSX, which is complete before it is sent; CSV is sent as it is made.
    pub length: Option<u64>,
    pub body: BoxStream<'static, ServiceResult<Bytes>>,
}

impl Download {
    /// A file made whole in memory (an XLSX sheet, a printed PDF).
    pub fn whole(bytes: Vec<u8>, content_type: &'static str, file_name: String) -> Self {
        Self {
            file_name,
            content_type,
            length: Some(bytes.len() as u64),
            body: one_chunk(bytes),
        }
    }
}

/// A body sent in one piece.
fn one_chunk(bytes: Vec<u8>) -> BoxStream<'static, ServiceResult<Bytes>> {
    futures::StreamExt::boxed(futures::stream::once(async move { Ok(Bytes::from(bytes)) }))
}

/// Catalogue exports.
#[derive(Clone)]
pub struct ExportService {
    pool: Pool,
    timezone: chrono_tz::Tz,
}

impl ExportService {
    /// `timezone` dates the file names.
    pub fn new(pool: Pool, timezone: chrono_tz::Tz) -> Self {
        Self { pool, timezone }
    }

    /// The catalogue `query` asks for. Bad parameters and unknown codes are refused before
    /// anything is sent; so is a query that fails before its first lines.
    #[tracing::instrument(skip_all, fields(kind = ?query.kind, format = ?query.format))]
    pub async fn export(&self, actor: &Actor, query: ExportQuery) -> ServiceResult<Download> {
        require(actor, Capability::ExportCatalogue)?;
        let asked = serde_json::to_value(&query)
            .map_err(|error| ServiceError::Internal(format!("export query as JSON: {error}")))?;
        let request = ExportRequest::parse(query, self.timezone)?;
        if request.kind != CatalogueKind::Items
            && (request.filter.filed_since.is_some() || request.filter.filed_before.is_some())
        {
            return Err(ServiceError::Validation(
                "filed_from, filed_to: select records by filing date in the item catalogue \
                 (kind=items)"
                    .into(),
            ));
        }
        let visibility = {
            let mut conn = self.pool.acquire().await.map_err(DbError::from)?;
            check_codes(&mut conn, &request.filter).await?;
            // The whole catalogue leaving the system is an access worth tracing (R13).
            db::audit::append(
                &mut conn,
                Some(actor.user_id),
                AuditAction::CatalogueExported,
                None,
                &serde_json::json!({ "query": asked }),
            )
            .await?;
            super::access::standing_visibility(&mut conn, actor).await?
        };
        let today = chrono::Utc::now()
            .with_timezone(&self.timezone)
            .date_naive();
        let file_name = export::file_name(request.kind, request.language, request.format, today);
        let headings = request.kind.headings(request.language);
        let lines = spawn_lines(self.pool.clone(), &request, visibility);
        let (body, length) = match request.format {
            ExportFormat::Csv => (to_csv::body(headings, lines).await?, None),
            ExportFormat::Xlsx => {
                let (body, length) =
                    to_xlsx::body(request.kind.title(request.language), headings, lines).await?;
                (body, Some(length))
            }
            ExportFormat::Pdf => {
                let title = request.kind.title(request.language);
                let subtitle = format!("{} {}", actor.username, export::date_text(today));
                let pdf = to_pdf::body(title, subtitle, headings, lines).await?;
                let length = pdf.len() as u64;
                (one_chunk(pdf), Some(length))
            }
        };
        Ok(Download {
            file_name,
            content_type: request.format.content_type(),
            length,
            body,
        })
    }
}

/// Refuses codes and parties that do not exist, naming the parameter: an export filtered by
/// a mistyped code would otherwise be silently empty.
async fn check_codes(conn: &mut PgConnection, filter: &CatalogueFilter) -> ServiceResult<()> {
    let unknown = |parameter: &str, what: &str, code: &str| {
        ServiceError::Validation(format!("{parameter}: no {what} with code {code:?}"))
    };
    if let Some(code) = &filter.category
        && db::catalogue::find_category(conn, code).await?.is_none()
    {
        return Err(unknown("category", "category", code));
    }
    if let Some(code) = &filter.department
        && db::catalogue::find_department(conn, code).await?.is_none()
    {
        return Err(unknown("department", "department", code));
    }
    if let Some(code) = &filter.fonds
        && db::catalogue::find_fonds(conn, code).await?.is_none()
    {
        return Err(unknown("fonds", "fonds", code));
    }
    if let Some(code) = &filter.retention
        && db::catalogue::find_retention(conn, code).await?.is_none()
    {
        return Err(unknown("retention", "retention policy", code));
    }
    if let Some(id) = filter.party
        && db::parties::find(conn, id).await?.is_none()
    {
        return Err(ServiceError::Validation(format!("party: no party {id}")));
    }
    match (&filter.room, &filter.place) {
        (None, None) => {}
        (None, Some(_)) => {
            return Err(ServiceError::Validation(
                "place: name its room too (room=K1&place=B03)".into(),
            ));
        }
        (Some(room), place) => {
            let places = db::rooms::places_by_room_code(conn, room)
                .await?
                .ok_or_else(|| unknown("room", "storage room", room))?;
            if let Some(place) = place
                && !places.iter().any(|(_, code)| code == place)
            {
                return Err(ServiceError::Validation(format!(
                    "place: room {room} has no place {place:?}"
                )));
            }
        }
    }
    Ok(())
}

/// Starts the task that reads the lines; it stops when the receiver is dropped (the client
/// went away) or after sending an error.
fn spawn_lines(pool: Pool, request: &ExportRequest, visibility: Visibility) -> Lines {
    let (sender, receiver) = mpsc::channel(BATCHES_IN_FLIGHT);
    let (kind, language, filter) = (request.kind, request.language, request.filter.clone());
    tokio::spawn(async move {
        if let Err(error) = send_lines(&pool, kind, language, &filter, &visibility, &sender).await {
            let _ = sender.send(Err(error)).await;
        }
    });
    receiver
}

async fn send_lines(
    pool: &Pool,
    kind: CatalogueKind,
    language: Language,
    filter: &CatalogueFilter,
    visibility: &Visibility,
    sender: &mpsc::Sender<ServiceResult<Batch>>,
) -> ServiceResult<()> {
    let mut conn = pool.acquire().await.map_err(DbError::from)?;
    let mut number = 0_u64;
    let mut next = || {
        number += 1;
        number
    };
    match kind {
        CatalogueKind::Items => {
            let rows = db::export::items(&mut conn, filter, visibility);
            forward(rows, sender, |entry| entry.cells(next(), language)).await
        }
        CatalogueKind::Folders => {
            let rows = db::export::folders(&mut conn, filter, visibility);
            forward(rows, sender, |entry| entry.cells(next(), language)).await
        }
        CatalogueKind::FolderItems => {
            let rows = db::export::folder_items(&mut conn, filter, visibility);
            forward(rows, sender, |entry| entry.cells()).await
        }
    }
}

/// Turns rows into lines and sends them in batches.
async fn forward<T>(
    mut rows: BoxStream<'_, Result<T, DbError>>,
    sender: &mpsc::Sender<ServiceResult<Batch>>,
    mut cells: impl FnMut(T) -> Vec<Cell>,
) -> ServiceResult<()> {
    let mut batch = Vec::with_capacity(BATCH_LINES);
    while let Some(row) = rows.try_next().await? {
        batch.push(cells(row));
        if batch.len() == BATCH_LINES {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH_LINES));
            if sender.send(Ok(full)).await.is_err() {
                // Nobody reads any more: the client left.
                return Ok(());
            }
        }
    }
    if !batch.is_empty() {
        let _ = sender.send(Ok(batch)).await;
    }
    Ok(())
}

fn internal(what: &str, error: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(format!("{what}: {error}"))
}
