//! A party's folder on paper: the folder cover (案卷封面) and the notes sheet (備考表) that
//! closes it, on two A4 pages, as DA/T 22 and the personnel-file rules lay them out.

use super::{A4, MM, Pen, PrintError, Sheet};

/// What the cover and the notes sheet of a folder say.
#[derive(Debug, Clone)]
pub struct FolderCover {
    /// The organisation that keeps the folder (立卷單位).
    pub organisation: String,
    pub fonds: Vec<String>,
    /// Employee number or customer code: the folder number (案卷號).
    pub number: String,
    /// The folder's title (案卷題名), e.g. `张三 人事档案`.
    pub title: String,
    pub first_date: Option<String>,
    pub last_date: Option<String>,
    pub items: i64,
    pub pages: i64,
    /// Items filed as copies, with the reason on each (複印件).
    pub copies: i64,
    pub retention: Vec<String>,
    /// The day the sheets were printed.
    pub printed_on: String,
}

/// The cover on the first page, the notes sheet on the second.
pub fn folder_cover(cover: &FolderCover) -> Result<Vec<u8>, PrintError> {
    let mut sheet = Sheet::new()?;
    let (left, width) = (25.0 * MM, A4.0 - 50.0 * MM);
    let dates = match (&cover.first_date, &cover.last_date) {
        (Some(first), Some(last)) => format!("{first} 至 {last}"),
        _ => String::new(),
    };
    sheet.page(A4.0, A4.1, |pen| {
        pen.frame(
            left - 5.0 * MM,
            20.0 * MM,
            width + 10.0 * MM,
            A4.1 - 40.0 * MM,
            1.2,
        );
        pen.centred(A4.0 / 2.0, 45.0 * MM, 15.0, &cover.organisation);
        pen.centred(A4.0 / 2.0, 75.0 * MM, 26.0, "案 卷 封 面");
        let fields = [
            ("全宗号", cover.fonds.join("、")),
            ("案卷号", cover.number.clone()),
            ("案卷题名", cover.title.clone()),
            ("起止日期", dates),
            (
                "卷内件数",
                format!("本卷共 {} 件 {} 页", cover.items, cover.pages),
            ),
            ("保管期限", cover.retention.join("、")),
        ];
        field_rows(
            pen,
            left + 10.0 * MM,
            110.0 * MM,
            width - 20.0 * MM,
            &fields,
        );
    });
    sheet.page(A4.0, A4.1, |pen| {
        pen.centred(A4.0 / 2.0, 35.0 * MM, 20.0, "卷内备考表");
        pen.text(left, 50.0 * MM, 10.0, &format!("案卷号：{}", cover.number));
        pen.frame(left, 55.0 * MM, width, 150.0 * MM, 0.8);
        pen.text(left + 5.0 * MM, 65.0 * MM, 11.0, "本卷情况说明：");
        let mut lines = vec![format!(
            "本卷共有文件材料 {} 件，{} 页。",
            cover.items, cover.pages
        )];
        if cover.copies > 0 {
            lines.push(format!(
                "其中复印件 {} 件，复印原因已逐件注明。",
                cover.copies
            ));
        }
        for (n, line) in lines.iter().enumerate() {
            pen.text(left + 12.0 * MM, (77.0 + 9.0 * n as f32) * MM, 11.0, line);
        }
        let signs = [("立卷人", 220.0), ("检查人", 240.0)];
        for (role, y) in signs {
            pen.text(left, y * MM, 11.0, &format!("{role}："));
            pen.line(
                left + 18.0 * MM,
                y * MM + 1.0 * MM,
                left + 75.0 * MM,
                y * MM + 1.0 * MM,
                0.4,
            );
            pen.text(left + 90.0 * MM, y * MM, 11.0, "日期：");
            pen.line(
                left + 103.0 * MM,
                y * MM + 1.0 * MM,
                left + width,
                y * MM + 1.0 * MM,
                0.4,
            );
        }
        pen.text(
            left,
            260.0 * MM,
            10.0,
            &format!("立卷时间：{}", cover.printed_on),
        );
    });
    sheet.finish()
}

/// Labels on the left, values on ruled lines to their right.
fn field_rows(pen: &mut Pen, x: f32, top: f32, width: f32, fields: &[(&str, String)]) {
    for (n, (name, value)) in fields.iter().enumerate() {
        let y = top + 16.0 * MM * n as f32;
        pen.text(x, y, 12.0, name);
        let start = x + 28.0 * MM;
        let size = ((width - 30.0 * MM) / super::text_width(value, 1.0).max(1.0)).clamp(6.0, 13.0);
        pen.text(start + 2.0 * MM, y, size, value);
        pen.line(start, y + 2.0 * MM, x + width, y + 2.0 * MM, 0.4);
    }
}
