//! The filing stamp (歸檔章, DA/T 22): a ruled box of two rows and three cells at the top
//! right of an item's first page, holding its fonds, year, item number, organisation,
//! retention and pages.

use serde::{Deserialize, Serialize};

use super::{MM, PrintError, Sheet, text_width};

/// What the filing stamp of an item says.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilingStamp {
    /// 全宗號
    pub fonds: String,
    /// 年度
    pub year: String,
    /// 件號: the item's number in its year and category.
    pub item: String,
    /// 機構（問題）: the department that filed it.
    pub organisation: String,
    /// 保管期限
    pub retention: String,
    /// 頁數
    pub pages: String,
}

const CELL: (f32, f32) = (16.0 * MM, 8.0 * MM);

/// A page of `width` × `height` points that is only the stamp, 10 mm from the top and the
/// right edge, to lay over an item's first page.
pub fn stamp_page(width: f32, height: f32, stamp: &FilingStamp) -> Result<Vec<u8>, PrintError> {
    let mut sheet = Sheet::new()?;
    let (left, top) = (width - 10.0 * MM - 3.0 * CELL.0, 10.0 * MM);
    let cells = [
        [
            ("全宗号", &stamp.fonds),
            ("年度", &stamp.year),
            ("件号", &stamp.item),
        ],
        [
            ("机构", &stamp.organisation),
            ("保管期限", &stamp.retention),
            ("页数", &stamp.pages),
        ],
    ];
    sheet.page(width, height, |pen| {
        pen.frame(left, top, 3.0 * CELL.0, 2.0 * CELL.1, 0.9);
        pen.line(left, top + CELL.1, left + 3.0 * CELL.0, top + CELL.1, 0.6);
        for column in 1..3 {
            let x = left + CELL.0 * column as f32;
            pen.line(x, top, x, top + 2.0 * CELL.1, 0.6);
        }
        for (row, line) in cells.iter().enumerate() {
            for (column, (name, value)) in line.iter().enumerate() {
                let (x, y) = (left + CELL.0 * column as f32, top + CELL.1 * row as f32);
                pen.text(x + 0.8 * MM, y + 2.2 * MM, 3.8, name);
                let size = ((CELL.0 - 1.6 * MM) / text_width(value, 1.0).max(1.0)).clamp(3.0, 8.0);
                pen.centred(x + CELL.0 / 2.0, y + CELL.1 - 1.4 * MM, size, value);
            }
        }
    });
    sheet.finish()
}
