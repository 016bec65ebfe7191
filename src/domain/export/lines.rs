//! How each line of a catalogue becomes cells: DA/T 22 dates, security levels and folder
//! titles in the requested script, and text defused against formula injection.

use std::borrow::Cow;

use chrono::NaiveDate;

use crate::domain::catalogue::{Language, SecurityLevel};
use crate::domain::party::{PartyKind, PartyStatus};

/// One cell of an exported line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cell {
    Text(String),
    Number(i64),
    Empty,
}

impl Cell {
    fn text(value: Option<&str>) -> Self {
        match value {
            Some(text) if !text.is_empty() => Cell::Text(text.to_owned()),
            _ => Cell::Empty,
        }
    }

    fn number(value: Option<i64>) -> Self {
        value.map_or(Cell::Empty, Cell::Number)
    }

    /// The cell as CSV text, with text that a spreadsheet would take for a formula defused.
    pub fn csv_text(&self) -> Cow<'_, str> {
        match self {
            Cell::Text(text) => guard_formula(text),
            Cell::Number(number) => Cow::Owned(number.to_string()),
            Cell::Empty => Cow::Borrowed(""),
        }
    }
}

/// Text that spreadsheets would read as a formula (it starts with `=`, `+`, `-`, `@`, a tab
/// or a carriage return) gets a leading apostrophe, so that opening an export never runs
/// anything a depositor typed into a title (CSV injection).
pub fn guard_formula(text: &str) -> Cow<'_, str> {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => Cow::Owned(format!("'{text}")),
        _ => Cow::Borrowed(text),
    }
}

/// A date as DA/T 22 writes it: eight digits, `20240501`.
pub fn date_text(date: NaiveDate) -> String {
    date.format("%Y%m%d").to_string()
}

fn date_range(first: Option<NaiveDate>, last: Option<NaiveDate>) -> Option<String> {
    match (first, last) {
        (Some(first), Some(last)) if first != last => {
            Some(format!("{}-{}", date_text(first), date_text(last)))
        }
        (Some(date), _) | (None, Some(date)) => Some(date_text(date)),
        (None, None) => None,
    }
}

/// One line of the item catalogue, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemEntry {
    pub archival_code: Option<String>,
    pub doc_number: Option<String>,
    pub responsible: Option<String>,
    pub title: String,
    pub doc_date: NaiveDate,
    /// The stored security level, e.g. `internal`.
    pub security_level: String,
    pub pages: Option<i32>,
    pub remarks: Option<String>,
}

impl ItemEntry {
    /// The cells under [`CatalogueKind::Items`](crate::domain::export::CatalogueKind::Items) headings; `number` is the 序號.
    pub fn cells(&self, number: u64, language: Language) -> Vec<Cell> {
        let security = SecurityLevel::parse(&self.security_level)
            .map_or(self.security_level.as_str(), |level| level.label(language));
        vec![
            Cell::Number(i64::try_from(number).unwrap_or(i64::MAX)),
            Cell::text(self.archival_code.as_deref()),
            Cell::text(self.doc_number.as_deref()),
            Cell::text(self.responsible.as_deref()),
            Cell::Text(self.title.clone()),
            Cell::Text(date_text(self.doc_date)),
            Cell::text(Some(security)),
            Cell::number(self.pages.map(i64::from)),
            Cell::text(self.remarks.as_deref()),
        ]
    }
}

/// One party folder with the totals of its records, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderEntry {
    /// Employee number or customer code: the folder number (案卷號).
    pub identifier: String,
    /// `employee` or `customer`.
    pub kind: String,
    pub name: String,
    /// `active`, `departed` or `inactive`.
    pub status: String,
    pub first_date: Option<NaiveDate>,
    pub last_date: Option<NaiveDate>,
    pub items: i64,
    pub pages: i64,
    /// The distinct retention codes of its records.
    pub retention: Vec<String>,
}

impl FolderEntry {
    /// The cells under [`CatalogueKind::Folders`](crate::domain::export::CatalogueKind::Folders) headings; `number` is the 序號.
    pub fn cells(&self, number: u64, language: Language) -> Vec<Cell> {
        let separator = match language {
            Language::En => ", ",
            Language::ZhHans | Language::ZhHant => "、",
        };
        vec![
            Cell::Number(i64::try_from(number).unwrap_or(i64::MAX)),
            Cell::Text(self.identifier.clone()),
            Cell::Text(folder_title(&self.name, &self.kind, language)),
            Cell::text(date_range(self.first_date, self.last_date).as_deref()),
            Cell::Number(self.items),
            Cell::Number(self.pages),
            Cell::text(Some(&self.retention.join(separator))),
            Cell::text(status_remark(&self.status, language)),
        ]
    }
}

/// `王曉明 員工檔案`, `Wang Xiaoming, employee file`.
fn folder_title(name: &str, kind: &str, language: Language) -> String {
    let label = match (PartyKind::parse(kind), language) {
        (Some(PartyKind::Employee), Language::ZhHans) => "员工档案",
        (Some(PartyKind::Employee), Language::ZhHant) => "員工檔案",
        (Some(PartyKind::Employee), Language::En) => "employee file",
        (Some(PartyKind::Customer), Language::ZhHans) => "客户档案",
        (Some(PartyKind::Customer), Language::ZhHant) => "客戶檔案",
        (Some(PartyKind::Customer), Language::En) => "customer file",
        (None, _) => return name.to_owned(),
    };
    match language {
        Language::En => format!("{name}, {label}"),
        Language::ZhHans | Language::ZhHant => format!("{name} {label}"),
    }
}

/// The remark of a folder that left the active set.
fn status_remark(status: &str, language: Language) -> Option<&'static str> {
    match (PartyStatus::parse(status)?, language) {
        (PartyStatus::Active, _) => None,
        (PartyStatus::Departed, Language::ZhHans) => Some("已离职"),
        (PartyStatus::Departed, Language::ZhHant) => Some("已離職"),
        (PartyStatus::Departed, Language::En) => Some("departed"),
        (PartyStatus::Inactive, Language::ZhHans | Language::ZhHant) => Some("已停用"),
        (PartyStatus::Inactive, Language::En) => Some("inactive"),
    }
}

/// One record of a folder's item list, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderItemEntry {
    /// The folder number (案卷號): the party's identifier.
    pub folder: String,
    /// The position of the record in its folder, from 1.
    pub number: i64,
    pub doc_number: Option<String>,
    pub responsible: Option<String>,
    pub title: String,
    pub doc_date: NaiveDate,
    pub pages: Option<i32>,
    pub remarks: Option<String>,
}

impl FolderItemEntry {
    /// The cells under [`CatalogueKind::FolderItems`](crate::domain::export::CatalogueKind::FolderItems) headings.
    pub fn cells(&self) -> Vec<Cell> {
        vec![
            Cell::Text(self.folder.clone()),
            Cell::Number(self.number),
            Cell::text(self.doc_number.as_deref()),
            Cell::text(self.responsible.as_deref()),
            Cell::Text(self.title.clone()),
            Cell::Text(date_text(self.doc_date)),
            Cell::number(self.pages.map(i64::from)),
            Cell::text(self.remarks.as_deref()),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::super::CatalogueKind;
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("date")
    }

    fn item() -> ItemEntry {
        ItemEntry {
            archival_code: Some("Z109-WS·2024-D30-BGS-0007".into()),
            doc_number: Some("办发〔2024〕7号".into()),
            responsible: Some("办公室".into()),
            title: "关于档案工作的通知".into(),
            doc_date: date("2024-05-01"),
            security_level: "internal".into(),
            pages: Some(3),
            remarks: None,
        }
    }

    #[test]
    fn every_line_has_one_cell_per_heading() {
        let folder = FolderEntry {
            identifier: "E0012".into(),
            kind: "employee".into(),
            name: "王晓明".into(),
            status: "active".into(),
            first_date: None,
            last_date: None,
            items: 0,
            pages: 0,
            retention: vec![],
        };
        let folder_item = FolderItemEntry {
            folder: "E0012".into(),
            number: 1,
            doc_number: None,
            responsible: None,
            title: "劳动合同".into(),
            doc_date: date("2023-03-01"),
            pages: None,
            remarks: None,
        };
        for language in [Language::ZhHans, Language::ZhHant, Language::En] {
            assert_eq!(
                item().cells(1, language).len(),
                CatalogueKind::Items.headings(language).len()
            );
            assert_eq!(
                folder.cells(1, language).len(),
                CatalogueKind::Folders.headings(language).len()
            );
            assert_eq!(
                folder_item.cells().len(),
                CatalogueKind::FolderItems.headings(language).len()
            );
        }
    }

    #[test]
    fn item_cells_show_dates_as_eight_digits_and_security_in_the_requested_script() {
        let cells = item().cells(7, Language::ZhHant);
        assert_eq!(cells[0], Cell::Number(7));
        assert_eq!(cells[1], Cell::Text("Z109-WS·2024-D30-BGS-0007".into()));
        assert_eq!(cells[5], Cell::Text("20240501".into()));
        assert_eq!(cells[6], Cell::Text("內部".into()));
        assert_eq!(cells[7], Cell::Number(3));
        assert_eq!(cells[8], Cell::Empty);
        assert_eq!(
            item().cells(7, Language::ZhHans)[6],
            Cell::Text("内部".into())
        );
        assert_eq!(
            item().cells(7, Language::En)[6],
            Cell::Text("internal".into())
        );
    }

    #[test]
    fn folder_cells_name_the_folder_and_span_its_dates() {
        let folder = FolderEntry {
            identifier: "E0012".into(),
            kind: "employee".into(),
            name: "王晓明".into(),
            status: "departed".into(),
            first_date: Some(date("2023-01-10")),
            last_date: Some(date("2023-06-01")),
            items: 3,
            pages: 12,
            retention: vec!["D30".into(), "LZ2".into()],
        };
        let cells = folder.cells(1, Language::ZhHant);
        assert_eq!(cells[1], Cell::Text("E0012".into()));
        assert_eq!(cells[2], Cell::Text("王晓明 員工檔案".into()));
        assert_eq!(cells[3], Cell::Text("20230110-20230601".into()));
        assert_eq!(
            (&cells[4], &cells[5]),
            (&Cell::Number(3), &Cell::Number(12))
        );
        assert_eq!(cells[6], Cell::Text("D30、LZ2".into()));
        assert_eq!(cells[7], Cell::Text("已離職".into()));
        let english = folder.cells(1, Language::En);
        assert_eq!(english[2], Cell::Text("王晓明, employee file".into()));
        assert_eq!(english[6], Cell::Text("D30, LZ2".into()));
        let one_day = FolderEntry {
            last_date: Some(date("2023-01-10")),
            status: "active".into(),
            ..folder
        };
        let cells = one_day.cells(2, Language::ZhHans);
        assert_eq!(cells[3], Cell::Text("20230110".into()));
        assert_eq!(cells[7], Cell::Empty);
    }

    #[test]
    fn formula_like_text_gets_an_apostrophe() {
        for (text, guarded) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+86 10", "'+86 10"),
            ("-1", "'-1"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("办发〔2024〕7号", "办发〔2024〕7号"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(guard_formula(text), guarded, "{text:?}");
        }
        assert_eq!(Cell::Text("=1+1".into()).csv_text(), "'=1+1");
        assert_eq!(Cell::Number(-3).csv_text(), "-3", "numbers are numbers");
        assert_eq!(Cell::Empty.csv_text(), "");
    }
}
