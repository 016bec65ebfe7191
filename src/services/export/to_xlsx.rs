//! XLSX bodies: a workbook in rust_xlsxwriter's constant-memory mode (each row goes to disk
//! once the next begins), written on a blocking thread into an unnamed temporary file that is
//! then streamed and vanishes when closed. Text is written as text cells, never as formulas.

use std::io::{Seek, SeekFrom};

use bytes::Bytes;
use futures::stream::{BoxStream, StreamExt, TryStreamExt};
use rust_xlsxwriter::{Format, Workbook, Worksheet, XlsxError};
use tokio_util::io::ReaderStream;

use super::{Lines, internal};
use crate::domain::export::Cell;
use crate::services::{ServiceError, ServiceResult};

/// Rows of a worksheet, the heading included.
const MAX_ROWS: u32 = 1_048_576;
/// The longest text a cell holds.
const MAX_CELL_CHARS: usize = 32_767;

/// The finished workbook as a stream, and its length.
pub(super) async fn body(
    sheet_name: &'static str,
    headings: &'static [&'static str],
    lines: Lines,
) -> ServiceResult<(BoxStream<'static, ServiceResult<Bytes>>, u64)> {
    let file = tokio::task::spawn_blocking(move || write(sheet_name, headings, lines))
        .await
        .map_err(|error| internal("xlsx writer", error))??;
    let length = file
        .metadata()
        .map_err(|error| internal("xlsx file", error))?
        .len();
    let stream = ReaderStream::new(tokio::fs::File::from_std(file))
        .map_err(|error| internal("xlsx file", error))
        .boxed();
    Ok((stream, length))
}

/// Writes the workbook, pulling batches from `lines` until they end.
fn write(sheet_name: &str, headings: &[&str], mut lines: Lines) -> ServiceResult<std::fs::File> {
    let mut workbook = Workbook::new();
    let sheet = workbook
        .add_worksheet_with_constant_memory()
        .map_err(xlsx)?;
    sheet.set_name(sheet_name).map_err(xlsx)?;
    write_headings(sheet, headings).map_err(xlsx)?;
    let mut row: u32 = 0;
    while let Some(batch) = lines.blocking_recv() {
        for line in batch? {
            row += 1;
            if row >= MAX_ROWS {
                return Err(ServiceError::Validation(format!(
                    "the export has more than {} lines, more than a worksheet holds; narrow it with filters or ask for format=csv",
                    MAX_ROWS - 1
                )));
            }
            write_line(sheet, row, &line).map_err(xlsx)?;
        }
    }
    let mut file = tempfile::tempfile().map_err(|error| internal("temporary file", error))?;
    workbook.save_to_writer(&mut file).map_err(xlsx)?;
    file.seek(SeekFrom::Start(0))
        .map_err(|error| internal("temporary file", error))?;
    Ok(file)
}

fn write_headings(sheet: &mut Worksheet, headings: &[&str]) -> Result<(), XlsxError> {
    let bold = Format::new().set_bold();
    for (column, heading) in (0_u16..).zip(headings) {
        sheet.set_column_width(column, column_width(heading))?;
        sheet.write_string_with_format(0, column, *heading, &bold)?;
    }
    sheet.set_freeze_panes(1, 0)?;
    Ok(())
}

/// Wide columns for titles and codes, narrow ones for numbers.
fn column_width(heading: &str) -> f64 {
    match heading {
        "题名" | "題名" | "Title" | "案卷题名" | "案卷題名" | "Folder title" => 48.0,
        "档号" | "檔號" | "Archival code" | "备注" | "備註" | "Remarks" => 28.0,
        "序号" | "序號" | "No." | "页数" | "頁數" | "Pages" | "件数" | "件數" | "Items" => {
            8.0
        }
        _ => 16.0,
    }
}

fn write_line(sheet: &mut Worksheet, row: u32, line: &[Cell]) -> Result<(), XlsxError> {
    for (column, cell) in (0_u16..).zip(line) {
        match cell {
            Cell::Text(text) => {
                sheet.write_string(row, column, clip(text))?;
            }
            Cell::Number(number) => {
                // Counts and page numbers are far below 2^53: exact as f64.
                sheet.write_number(row, column, *number as f64)?;
            }
            Cell::Empty => {}
        }
    }
    Ok(())
}

/// Text cut to what a cell holds.
fn clip(text: &str) -> &str {
    match text.char_indices().nth(MAX_CELL_CHARS) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

fn xlsx(error: XlsxError) -> ServiceError {
    internal("xlsx", error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_is_clipped_to_what_a_cell_holds() {
        let long = "檔".repeat(MAX_CELL_CHARS + 10);
        assert_eq!(clip(&long).chars().count(), MAX_CELL_CHARS);
        assert_eq!(clip("短"), "短");
    }
}
