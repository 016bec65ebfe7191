//! Labels of places: a box's front label and spine label, side by side on an A4 sheet to
//! cut out, each with a QR code of the place's id for stock-takes.

use super::{A4, MM, PrintError, Sheet};

/// What a place's label shows, summed up from the records it holds.
#[derive(Debug, Clone)]
pub struct PlaceLabel {
    /// The place's id: the QR code's content.
    pub id: String,
    pub room: String,
    pub code: String,
    /// `box`, `shelf`, `cabinet` or `other`.
    pub kind: String,
    pub label: Option<String>,
    pub fonds: Vec<String>,
    pub categories: Vec<String>,
    pub retention: Vec<String>,
    /// The first and last year of its records.
    pub years: Option<(i32, i32)>,
    /// The archival codes of its first and last item.
    pub first_item: Option<String>,
    pub last_item: Option<String>,
    pub items: usize,
}

impl PlaceLabel {
    fn kind_name(&self) -> &'static str {
        match self.kind.as_str() {
            "box" => "档案盒",
            "shelf" => "档案架",
            "cabinet" => "档案柜",
            _ => "存放位置",
        }
    }

    fn years(&self) -> String {
        match self.years {
            Some((first, last)) if first == last => first.to_string(),
            Some((first, last)) => format!("{first}–{last}"),
            None => String::new(),
        }
    }

    fn items(&self) -> String {
        match (&self.first_item, &self.last_item) {
            (Some(first), Some(last)) if first != last => {
                format!("{first} 至 {last}（共 {} 件）", self.items)
            }
            (Some(first), _) => format!("{first}（共 {} 件）", self.items),
            _ => format!("共 {} 件", self.items),
        }
    }
}

/// The front label (100 × 70 mm) and the spine label (30 × 200 mm) of a place on one A4 page.
pub fn place_label(label: &PlaceLabel) -> Result<Vec<u8>, PrintError> {
    let mut sheet = Sheet::new()?;
    let (x, y, w, h) = (15.0 * MM, 15.0 * MM, 100.0 * MM, 70.0 * MM);
    let rows = [
        ("全宗号", label.fonds.join("、")),
        ("类别", label.categories.join("、")),
        ("年度", label.years()),
        ("保管期限", label.retention.join("、")),
        ("件号", label.items()),
        ("位置", format!("{} / {}", label.room, label.code)),
    ];
    let spine = [
        label.fonds.join(" "),
        label.years(),
        label.categories.join(" "),
        label.retention.join(" "),
        label.code.clone(),
    ];
    sheet.page(A4.0, A4.1, |pen| {
        pen.frame(x, y, w, h, 0.8);
        let title = match &label.label {
            Some(text) if !text.trim().is_empty() => {
                format!("{} {}", label.kind_name(), text.trim())
            }
            _ => format!("{} {}", label.kind_name(), label.code),
        };
        pen.text(x + 5.0 * MM, y + 10.0 * MM, 14.0, &title);
        for (n, (name, value)) in rows.iter().enumerate() {
            let line_y = y + (19.0 + 8.0 * n as f32) * MM;
            pen.text(x + 5.0 * MM, line_y, 9.0, name);
            // a long item range is set smaller so it stays inside the label
            let room = w - 27.0 * MM;
            let size = (room / super::text_width(value, 1.0).max(1.0)).clamp(5.0, 9.0);
            pen.text(x + 22.0 * MM, line_y, size, value);
        }
        pen.qr(x + w - 31.0 * MM, y + 3.0 * MM, 28.0 * MM, &label.id);

        let (sx, sy, sw, sh) = (125.0 * MM, 15.0 * MM, 30.0 * MM, 200.0 * MM);
        pen.frame(sx, sy, sw, sh, 0.8);
        let mut at = sy + 4.0 * MM;
        for part in spine.iter().filter(|part| !part.is_empty()) {
            pen.vertical(sx + sw / 2.0, at, 12.0, part);
            let glyphs = part.chars().filter(|c| !c.is_whitespace()).count() as f32;
            at += glyphs * 12.0 * 1.15 + 4.0 * MM;
        }
        pen.qr(sx + 2.5 * MM, sy + sh - 27.0 * MM, 25.0 * MM, &label.id);
    });
    sheet.finish()
}
