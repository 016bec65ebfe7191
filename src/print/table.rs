//! Registers and lists printed as tables on A4 (the ledger, and the registers to come):
//! a title, headings repeated on every page, ruled rows, and the page number at the foot.

use super::{A4, MM, Pen, PrintError, Sheet, text_width};

/// A table to print.
#[derive(Debug, Clone)]
pub struct Table {
    pub title: String,
    /// A line under the title (what was selected, when it was printed).
    pub subtitle: String,
    pub headings: Vec<String>,
    /// Relative widths of the columns.
    pub widths: Vec<f32>,
    pub rows: Vec<Vec<String>>,
    /// Who signs under the table on its last page (銷毀清冊: 監銷人（簽字）), each with a
    /// line for the signature and one for the date.
    pub signatures: Vec<String>,
}

const SIZE: f32 = 9.0;
const ROW: f32 = 7.0 * MM;

/// The table on as many A4 pages as it needs.
pub fn table_pdf(table: &Table) -> Result<Vec<u8>, PrintError> {
    let mut sheet = Sheet::new()?;
    let (left, top, width) = (15.0 * MM, 15.0 * MM, A4.0 - 30.0 * MM);
    let total: f32 = table.widths.iter().sum::<f32>().max(1.0);
    let columns: Vec<f32> = table
        .widths
        .iter()
        .map(|share| share / total * width)
        .collect();
    let first_row = top + 20.0 * MM;
    let per_page = (((A4.1 - 20.0 * MM - first_row) / ROW) as usize).max(1) - 1;
    let mut pages: Vec<&[Vec<String>]> = if table.rows.is_empty() {
        vec![&[]]
    } else {
        table.rows.chunks(per_page).collect()
    };
    // the signatures need their rows under the last line of the table
    let signature_rows = table.signatures.len().div_ceil(2) * 2;
    if signature_rows > 0
        && pages
            .last()
            .is_some_and(|rows| rows.len() + signature_rows > per_page)
    {
        pages.push(&[]);
    }
    let count = pages.len();
    for (number, rows) in pages.into_iter().enumerate() {
        sheet.page(A4.0, A4.1, |pen| {
            pen.centred(A4.0 / 2.0, top + 6.0 * MM, 16.0, &table.title);
            pen.text(left, top + 14.0 * MM, SIZE, &table.subtitle);
            let mut y = first_row;
            for (index, row) in std::iter::once(&table.headings)
                .chain(rows.iter())
                .enumerate()
            {
                pen.line(left, y, left + width, y, if index == 0 { 0.8 } else { 0.3 });
                let mut x = left;
                for (cell, column) in row.iter().zip(&columns) {
                    // a cell too long for its column is set smaller
                    let size = (column / text_width(cell, 1.0).max(1.0) * 0.9).clamp(4.0, SIZE);
                    pen.text(x + 1.5 * MM, y + ROW - 2.2 * MM, size, cell);
                    x += column;
                }
                y += ROW;
            }
            pen.line(left, y, left + width, y, 0.8);
            if number + 1 == count {
                signatures(pen, &table.signatures, left, y + ROW, width);
            }
            pen.centred(
                A4.0 / 2.0,
                A4.1 - 10.0 * MM,
                SIZE,
                &format!("第{}页 共{count}页", number + 1),
            );
        });
    }
    sheet.finish()
}

/// Two signatures a row: the role, a line to sign on, and a line for the date.
fn signatures(pen: &mut Pen, roles: &[String], left: f32, top: f32, width: f32) {
    let half = width / 2.0;
    for (index, role) in roles.iter().enumerate() {
        let x = left + half * (index % 2) as f32;
        let y = top + 2.0 * ROW * (index / 2) as f32 + ROW;
        pen.text(x, y, SIZE + 1.0, &format!("{role}："));
        let start = x + text_width(role, SIZE + 1.0) + 6.0 * MM;
        pen.line(start, y + 1.0 * MM, x + half - 6.0 * MM, y + 1.0 * MM, 0.4);
        pen.text(x, y + ROW * 0.9, SIZE, "日期：");
        pen.line(
            x + 12.0 * MM,
            y + ROW * 0.9 + 1.0 * MM,
            x + half - 6.0 * MM,
            y + ROW * 0.9 + 1.0 * MM,
            0.4,
        );
    }
}
