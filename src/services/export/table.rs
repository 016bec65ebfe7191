//! Small tables (a few thousand lines) as downloads: CSV with a byte-order mark, or XLSX built
//! in memory on a blocking thread.

use super::Download;
use crate::domain::export::Cell;
use crate::services::{ServiceError, ServiceResult};

/// The lines as `<stem>.csv`, or as `<stem>.xlsx` with one sheet named `sheet`.
pub(crate) async fn table_download(
    lines: Vec<Vec<Cell>>,
    stem: &str,
    sheet: Option<&str>,
) -> ServiceResult<Download> {
    let (bytes, file_name, content_type) = match sheet {
        None => (
            to_csv(&lines)?,
            format!("{stem}.csv"),
            "text/csv; charset=utf-8",
        ),
        Some(sheet) => {
            let sheet = sheet.to_owned();
            (
                tokio::task::spawn_blocking(move || to_xlsx(&lines, &sheet))
                    .await
                    .map_err(|error| internal("xlsx writer", error))??,
                format!("{stem}.xlsx"),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )
        }
    };
    Ok(Download::whole(bytes, content_type, file_name))
}

/// UTF-8 with a byte-order mark so that Excel reads the Chinese; CRLF line ends.
fn to_csv(lines: &[Vec<Cell>]) -> ServiceResult<Vec<u8>> {
    let mut out = b"\xEF\xBB\xBF".to_vec();
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .flexible(true)
        .from_writer(&mut out);
    for line in lines {
        let fields: Vec<String> = line
            .iter()
            .map(|cell| cell.csv_text().into_owned())
            .collect();
        writer
            .write_record(&fields)
            .map_err(|error| internal("csv", error))?;
    }
    writer.flush().map_err(|error| internal("csv", error))?;
    drop(writer);
    Ok(out)
}

fn to_xlsx(lines: &[Vec<Cell>], sheet_name: &str) -> ServiceResult<Vec<u8>> {
    let xlsx = |error: rust_xlsxwriter::XlsxError| internal("xlsx", error);
    let mut workbook = rust_xlsxwriter::Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.set_name(sheet_name).map_err(xlsx)?;
    for (row, line) in (0_u32..).zip(lines) {
        for (column, cell) in (0_u16..).zip(line) {
            match cell {
                Cell::Text(text) => {
                    sheet.write_string(row, column, text).map_err(xlsx)?;
                }
                Cell::Number(number) => {
                    sheet
                        .write_number(row, column, *number as f64)
                        .map_err(xlsx)?;
                }
                Cell::Empty => {}
            }
        }
    }
    workbook.save_to_buffer().map_err(xlsx)
}

fn internal(what: &str, error: impl std::fmt::Display) -> ServiceError {
    ServiceError::Internal(format!("{what}: {error}"))
}
