//! PDF bodies: the catalogue printed on A4 as a ruled table (歸檔文件目錄 to bind with the
//! boxes), the CJK font embedded. A printed catalogue is made whole in memory, so it is
//! bounded: a larger one is refused with the advice to narrow it or ask for CSV.

use super::Lines;
use crate::domain::export::Cell;
use crate::print::table::{Table, table_pdf};
use crate::services::{ServiceError, ServiceResult, printed};

/// Lines a printed catalogue holds (about 1,000 pages).
const MAX_LINES: usize = 30_000;

/// The printed catalogue of `lines` under `title`.
pub(super) async fn body(
    title: &str,
    subtitle: String,
    headings: &[&str],
    mut lines: Lines,
) -> ServiceResult<Vec<u8>> {
    let mut rows = Vec::new();
    while let Some(batch) = lines.recv().await {
        for line in batch? {
            if rows.len() >= MAX_LINES {
                return Err(ServiceError::Validation(format!(
                    "a printed catalogue holds at most {MAX_LINES} lines; narrow it with filters (year, category, fonds) or ask for format=csv"
                )));
            }
            rows.push(line.iter().map(text).collect());
        }
    }
    let table = Table {
        title: title.to_owned(),
        subtitle,
        headings: headings
            .iter()
            .map(|heading| (*heading).to_owned())
            .collect(),
        widths: headings.iter().map(|heading| share(heading)).collect(),
        rows,
        signatures: Vec::new(),
    };
    printed(move || table_pdf(&table)).await
}

fn text(cell: &Cell) -> String {
    match cell {
        Cell::Text(text) => text.clone(),
        Cell::Number(number) => number.to_string(),
        Cell::Empty => String::new(),
    }
}

/// A column's share of the page width: titles widest, then codes.
fn share(heading: &str) -> f32 {
    let has = |words: &[&str]| words.iter().any(|word| heading.contains(word));
    if has(&["题名", "題名", "Title"]) {
        4.0
    } else if has(&["档号", "檔號", "案卷号", "案卷號", "code", "Folder number"]) {
        2.4
    } else if has(&[
        "责任者",
        "責任者",
        "Responsible",
        "日期",
        "Date",
        "文号",
        "文號",
        "number",
    ]) {
        1.4
    } else {
        0.8
    }
}
