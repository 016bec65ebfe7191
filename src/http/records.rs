//! Records: filing by multipart upload, reading metadata, downloading files.

use std::ops::Range;

use axum::body::Body;
use axum::extract::multipart::{Field, MultipartError, MultipartRejection};
use axum::extract::{Multipart, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use uuid::Uuid;

use super::error::{ApiError, Problem};
use super::extract::{CurrentUser, Json, Path};
use crate::app::App;
use crate::domain::ErrorCode;
use crate::domain::record::{RecordMetadataInput, RecordPatch};
use crate::services::ServiceError;
use crate::services::ingest::Upload;
use crate::services::parties::{EventInput, EventView};
use crate::services::records::{BorrowedCopy, FileView, RecordView};

/// The largest `metadata` part accepted.
const MAX_METADATA_BYTES: usize = 1024 * 1024;
/// Media types shown in the browser; everything else downloads as an attachment.
const INLINE_TYPES: &[&str] = &[
    "application/pdf",
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "text/plain",
];

/// The multipart form of an upload (for the OpenAPI description).
#[derive(utoipa::ToSchema)]
#[expect(
    dead_code,
    reason = "describes the multipart body in the OpenAPI document only"
)]
pub struct UploadForm {
    /// JSON record metadata.
    metadata: RecordMetadataInput,
    /// Zero or more files.
    #[schema(value_type = Vec<String>, format = Binary)]
    file: Vec<Vec<u8>>,
}

/// Files a record: a `metadata` JSON part, then zero or more `file` parts.
#[utoipa::path(
    post, path = "/api/v1/records", tag = "records",
    request_body(content = UploadForm, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "record filed", body = RecordView),
        (status = 400, description = "missing or invalid metadata, malformed multipart", body = Problem),
        (status = 401, body = Problem),
        (status = 413, description = "larger than the upload limit; nothing stored", body = Problem),
        (status = 415, description = "not multipart/form-data", body = Problem),
        (status = 503, description = "database or object store unreachable", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn create_record(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    headers: HeaderMap,
    multipart: Result<Multipart, MultipartRejection>,
) -> Result<Response, ApiError> {
    let limit = app.limits.max_upload_bytes;
    if content_length(&headers).is_some_and(|length| length > limit) {
        return Err(ServiceError::PayloadTooLarge { limit }.into());
    }
    let mut multipart = multipart.map_err(|rejection| {
        ApiError::new(
            ErrorCode::UnsupportedMediaType,
            format!(
                "send the record as multipart/form-data: {}",
                rejection.body_text()
            ),
        )
    })?;
    // filing runs behind searches and page views (see `priority`); over the background pool
    // alone, so it is the only thing that runs there
    let ingest = app.ingest.clone();
    let filing = app.background.run(async move {
        let mut upload = ingest.begin(actor);
        read_parts(&mut multipart, &mut upload, limit, |upload, metadata| {
            Ok(upload.set_metadata(metadata)?)
        })
        .await?;
        Ok::<_, ApiError>(upload.commit().await?)
    });
    let record = filing
        .await
        .map_err(|error| ServiceError::Internal(format!("the upload's task failed: {error}")))??;
    let location = format!("/api/v1/records/{}", record.id);
    let mut response = (StatusCode::CREATED, axum::Json(record)).into_response();
    if let Ok(location) = HeaderValue::from_str(&location) {
        response.headers_mut().insert(header::LOCATION, location);
    }
    Ok(response)
}

/// Streams the `file` parts of an upload into `upload` as they arrive, handing the JSON
/// `metadata` part to `metadata` when it comes (so that bad metadata is refused before the
/// files after it stream in); any other part is refused.
pub(crate) async fn read_parts<M: serde::de::DeserializeOwned>(
    multipart: &mut Multipart,
    upload: &mut Upload,
    limit: u64,
    mut metadata: impl FnMut(&mut Upload, M) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|error| multipart_error(error, limit))?
    {
        match field.name() {
            Some("metadata") => metadata(upload, read_json_part(field, limit).await?)?,
            Some("file") => {
                let filename = field.file_name().map(str::to_owned);
                let declared = field.content_type().map(str::to_owned);
                let body = field_stream(field, limit);
                upload
                    .add_file(filename.as_deref(), declared.as_deref(), body)
                    .await?;
            }
            other => {
                return Err(ApiError::validation(format!(
                    "unexpected part {:?}: send one `metadata` part and `file` parts",
                    other.unwrap_or("")
                )));
            }
        }
    }
    Ok(())
}

pub(crate) fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

pub(crate) fn multipart_error(error: MultipartError, limit: u64) -> ServiceError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        ServiceError::PayloadTooLarge { limit }
    } else {
        ServiceError::Validation(format!("malformed multipart body: {}", error.body_text()))
    }
}

/// A JSON part (`metadata`) of at most 1 MiB, with the path of what does not parse.
pub(crate) async fn read_json_part<T: serde::de::DeserializeOwned>(
    mut field: Field<'_>,
    limit: u64,
) -> Result<T, ApiError> {
    let mut json = Vec::new();
    while let Some(chunk) = field
        .chunk()
        .await
        .map_err(|error| multipart_error(error, limit))?
    {
        json.extend_from_slice(&chunk);
        if json.len() > MAX_METADATA_BYTES {
            return Err(ApiError::validation(
                "metadata: the part is larger than 1 MiB",
            ));
        }
    }
    let mut deserializer = serde_json::Deserializer::from_slice(&json);
    serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let place = if path == "." {
            String::new()
        } else {
            format!(" at {path}")
        };
        ApiError::validation(format!(
            "metadata: invalid JSON{place}: {}",
            error.into_inner()
        ))
    })
}

pub(crate) fn field_stream(
    field: Field<'_>,
    limit: u64,
) -> impl futures::Stream<Item = Result<bytes::Bytes, ServiceError>> + Unpin + '_ {
    Box::pin(futures::stream::try_unfold(
        field,
        move |mut field| async move {
            let chunk = field
                .chunk()
                .await
                .map_err(|error| multipart_error(error, limit))?;
            Ok(chunk.map(|chunk| (chunk, field)))
        },
    ))
}

/// A record with its files. The view is recorded in the record's audit trail (R13).
#[utoipa::path(
    get, path = "/api/v1/records/{id}", tag = "records",
    params(("id" = Uuid, Path, description = "record id")),
    responses((status = 200, body = RecordView), (status = 401, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn get_record(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<axum::Json<RecordView>, ApiError> {
    Ok(axum::Json(app.records.view(&actor, id).await?))
}

/// Changes a record's metadata; only the fields present change, `null` clears one. Audited.
#[utoipa::path(
    patch, path = "/api/v1/records/{id}", tag = "records",
    params(("id" = Uuid, Path, description = "record id")),
    request_body = RecordPatch,
    responses(
        (status = 200, body = RecordView),
        (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, description = "part of the archival code, or the record is destroyed", body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn update_record(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    Json(patch): Json<RecordPatch>,
) -> Result<axum::Json<RecordView>, ApiError> {
    Ok(axum::Json(app.records.patch(&actor, id, patch).await?))
}

/// Records a dated event of the record (e.g. `asset_disposed` for a fixed-asset card).
#[utoipa::path(
    post, path = "/api/v1/records/{id}/events", tag = "records",
    params(("id" = Uuid, Path, description = "record id")),
    request_body = EventInput,
    responses((status = 201, body = EventView), (status = 400, body = Problem), (status = 404, body = Problem)),
    security(("bearer" = []))
)]
pub async fn add_record_event(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path(id): Path<Uuid>,
    Json(input): Json<EventInput>,
) -> Result<(StatusCode, axum::Json<EventView>), ApiError> {
    Ok((
        StatusCode::CREATED,
        axum::Json(app.records.add_event(&actor, id, input).await?),
    ))
}

/// The content of one file. `ETag` is its SHA-256; `Range` and `If-None-Match` work.
#[utoipa::path(
    get, path = "/api/v1/records/{id}/files/{file_id}", tag = "records",
    params(("id" = Uuid, Path, description = "record id"), ("file_id" = Uuid, Path, description = "file id")),
    responses(
        (status = 200, description = "the content", content_type = "application/octet-stream"),
        (status = 206, description = "the requested byte range"),
        (status = 304, description = "not modified (If-None-Match)"),
        (status = 404, body = Problem),
        (status = 416, body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn get_record_file(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path((record_id, file_id)): Path<(Uuid, Uuid)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (file, access) = app.records.file(&actor, record_id, file_id).await?;
    if let Some(loan_id) = access.marked_loan() {
        let marked = app
            .records
            .read_marked(&actor, record_id, &file, loan_id)
            .await?;
        return Ok(marked_copy(&file, marked));
    }
    let etag = format!("\"{}\"", file.sha256);
    if header_matches(&headers, header::IF_NONE_MATCH, &etag) {
        let mut response = StatusCode::NOT_MODIFIED.into_response();
        insert(&mut response, header::ETAG, &etag);
        return Ok(response);
    }
    let if_range_ok = headers
        .get(header::IF_RANGE)
        .is_none_or(|_| header_matches(&headers, header::IF_RANGE, &etag));
    let range = match headers
        .get(header::RANGE)
        .and_then(|value| value.to_str().ok())
    {
        Some(value) if if_range_ok => requested_range(value, file.size)?,
        _ => None,
    };
    let body = app
        .records
        .read(&actor, record_id, &file, range.clone())
        .await?;
    let mut response = Response::new(Body::from_stream(
        body.map(|chunk| chunk.map_err(std::io::Error::other)),
    ));
    let length = match &range {
        Some(range) => {
            *response.status_mut() = StatusCode::PARTIAL_CONTENT;
            let content_range = format!("bytes {}-{}/{}", range.start, range.end - 1, file.size);
            insert(&mut response, header::CONTENT_RANGE, &content_range);
            range.end - range.start
        }
        None => file.size,
    };
    insert(&mut response, header::CONTENT_LENGTH, &length.to_string());
    insert(&mut response, header::CONTENT_TYPE, &file.media_type);
    insert(&mut response, header::ETAG, &etag);
    insert(&mut response, header::ACCEPT_RANGES, "bytes");
    insert(&mut response, header::CACHE_CONTROL, "private, no-cache");
    insert(&mut response, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    insert(
        &mut response,
        header::CONTENT_DISPOSITION,
        &content_disposition(&file),
    );
    Ok(response)
}

/// A copy of a PDF or a scan with the filing stamp (歸檔章: fonds, year, item number,
/// organisation, retention, pages) on its first page; the stored original is untouched. For
/// the records office.
#[utoipa::path(
    get, path = "/api/v1/records/{id}/files/{file_id}/stamped", tag = "records",
    params(("id" = Uuid, Path, description = "record id"), ("file_id" = Uuid, Path, description = "file id")),
    responses(
        (status = 200, description = "the stamped copy", content_type = "application/pdf"),
        (status = 403, body = Problem),
        (status = 404, body = Problem),
        (status = 410, body = Problem),
        (status = 415, body = Problem),
    ),
    security(("bearer" = []))
)]
pub async fn get_stamped_file(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Path((record_id, file_id)): Path<(Uuid, Uuid)>,
) -> Result<Response, ApiError> {
    let (file, stamped) = app.records.stamped(&actor, record_id, file_id).await?;
    Ok(marked_copy(&file, stamped))
}

/// A borrowed, watermarked copy: made for this download, so neither cached nor ranged.
fn marked_copy(file: &FileView, marked: BorrowedCopy) -> Response {
    let mut response = Response::new(Body::from(marked.content));
    insert(&mut response, header::CONTENT_TYPE, marked.media_type);
    insert(&mut response, header::CACHE_CONTROL, "private, no-store");
    insert(&mut response, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    let mut named = file.clone();
    marked.media_type.clone_into(&mut named.media_type);
    if marked.media_type == "application/pdf" && !named.filename.to_lowercase().ends_with(".pdf") {
        named.filename.push_str(".pdf");
    }
    insert(
        &mut response,
        header::CONTENT_DISPOSITION,
        &content_disposition(&named),
    );
    response
}

fn insert(response: &mut Response, name: header::HeaderName, value: &str) {
    if let Ok(value) = HeaderValue::from_str(value) {
        response.headers_mut().insert(name, value);
    }
}

/// Whether a conditional header lists `etag` (or `*`).
fn header_matches(headers: &HeaderMap, name: header::HeaderName, etag: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|tag| tag.trim().trim_start_matches("W/"))
        .any(|tag| tag == etag || tag == "*")
}

/// The single byte range asked for; malformed or multi-range requests get the whole file
/// (RFC 9110 lets a server ignore them), a range outside the file is 416.
fn requested_range(value: &str, size: u64) -> Result<Option<Range<u64>>, ApiError> {
    use http_range_header::RangeUnsatisfiableError;
    let Ok(parsed) = http_range_header::parse_range_header(value) else {
        return Ok(None);
    };
    match parsed.validate(size) {
        Ok(ranges) if ranges.len() == 1 => {
            Ok(ranges.first().map(|range| *range.start()..*range.end() + 1))
        }
        Ok(_) => Ok(None),
        Err(RangeUnsatisfiableError::Unsatisfiable) => {
            Err(ServiceError::RangeNotSatisfiable { size }.into())
        }
        Err(_) => Ok(None),
    }
}

/// `inline` for types a browser shows safely, `attachment` otherwise; the UTF-8 filename in
/// `filename*` (RFC 6266 / 8187) with an ASCII fallback.
fn content_disposition(file: &FileView) -> String {
    let disposition = if INLINE_TYPES.contains(&file.media_type.as_str()) {
        "inline"
    } else {
        "attachment"
    };
    let fallback: String = file
        .filename
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(
        "{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{}",
        percent_encode_attr(&file.filename)
    )
}

/// RFC 8187 `attr-char` encoding.
pub(super) fn percent_encode_attr(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len() * 3);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_filenames_are_percent_encoded_with_an_ascii_fallback() {
        let file = FileView {
            id: Uuid::nil(),
            sha256: crate::domain::Sha256Digest::from_bytes([0; 32]),
            size: 1,
            media_type: "image/jpeg".into(),
            filename: "身份證 復印件.jpg".into(),
            created_at: chrono::Utc::now(),
            copy: true,
            copy_note: None,
            text: None,
            fixity: None,
            replaced_by: None,
            replaced_at: None,
            replace_reason: None,
        };
        assert_eq!(
            content_disposition(&file),
            "inline; filename=\"___ ___.jpg\"; filename*=UTF-8''%E8%BA%AB%E4%BB%BD%E8%AD%89%20%E5%BE%A9%E5%8D%B0%E4%BB%B6.jpg"
        );
    }

    #[test]
    fn ranges_are_single_satisfiable_or_ignored() {
        assert_eq!(requested_range("bytes=0-9", 100).expect("ok"), Some(0..10));
        assert_eq!(
            requested_range("bytes=-10", 100).expect("ok"),
            Some(90..100)
        );
        assert_eq!(
            requested_range("bytes=90-", 100).expect("ok"),
            Some(90..100)
        );
        assert_eq!(requested_range("bytes=0-1,5-6", 100).expect("ok"), None);
        assert_eq!(requested_range("lines=1-2", 100).expect("ok"), None);
        assert_eq!(
            requested_range("bytes=200-300", 100)
                .expect_err("outside")
                .code(),
            ErrorCode::RangeNotSatisfiable
        );
    }
}
