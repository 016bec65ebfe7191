//! Catalogue downloads: the item catalogue, the folder catalogue and the in-folder item list
//! as CSV or XLSX.

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::Response;
use futures::TryStreamExt;

use super::error::{ApiError, Problem};
use super::extract::{CurrentUser, Query};
use super::records::percent_encode_attr;
use crate::app::App;
use crate::services::export::{Download, ExportQuery};

/// Downloads a catalogue: `kind=items` (歸檔文件目錄, DA/T 22 columns, in archival-code order),
/// `folders` (案卷目錄) or `folder_items` (卷內文件目錄), as `format=csv` (UTF-8 with BOM),
/// `xlsx` or `pdf` (printed on A4), headings in `lang`. Only active records; for archivists, directors, general
/// managers and admins.
#[utoipa::path(get, path = "/api/v1/catalogue/export", tag = "catalogue", params(ExportQuery),
    responses(
        (status = 200, description = "the catalogue as an attachment",
            content((String = "text/csv"), (Vec<u8> = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                (Vec<u8> = "application/pdf"))),
        (status = 400, description = "a bad parameter, named in `detail`", body = Problem),
        (status = 403, body = Problem),
    ),
    security(("bearer" = [])))]
pub async fn export_catalogue(
    State(app): State<App>,
    CurrentUser(actor): CurrentUser,
    Query(query): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let download = app.export.export(&actor, query).await?;
    Ok(attachment(download))
}

pub(super) fn attachment(download: Download) -> Response {
    let disposition = content_disposition(&download.file_name);
    let mut response = Response::new(Body::from_stream(
        download.body.map_err(std::io::Error::other),
    ));
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(download.content_type),
    );
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    if let Some(length) = download.length {
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    response
}

/// `attachment` with the UTF-8 name in `filename*` (RFC 6266 / 8187) and an ASCII fallback
/// that keeps the date and extension.
fn content_disposition(file_name: &str) -> String {
    let fallback: String = file_name
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('_'),
            '-' | '.' | '_' => Some(c),
            c if c.is_ascii_alphanumeric() => Some(c),
            _ => None,
        })
        .collect();
    let fallback = if fallback.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        fallback
    } else {
        format!("catalogue{fallback}")
    };
    format!(
        "attachment; filename=\"{fallback}\"; filename*=UTF-8''{}",
        percent_encode_attr(file_name)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_file_names_travel_in_filename_star() {
        assert_eq!(
            content_disposition("歸檔文件目錄-20261201.xlsx"),
            "attachment; filename=\"catalogue-20261201.xlsx\"; filename*=UTF-8''%E6%AD%B8%E6%AA%94%E6%96%87%E4%BB%B6%E7%9B%AE%E9%8C%84-20261201.xlsx"
        );
        assert!(content_disposition("Item catalogue-20261201.csv")
            .starts_with("attachment; filename=\"Item_catalogue-20261201.csv\"; filename*=UTF-8''Item%20catalogue"));
    }
}
