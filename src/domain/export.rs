//! Catalogue exports as archivists print them: the item catalogue (歸檔文件目錄, DA/T 22), the
//! folder catalogue (案卷目錄) and the in-folder item list (卷內文件目錄); their parameters,
//! column headings in three scripts, and how each line becomes cells. Pure: no I/O.

use std::borrow::Cow;

use chrono::NaiveDate;
use uuid::Uuid;

use super::catalogue::{Language, SecurityLevel};
use super::party::{PartyKind, PartyStatus};
use super::record::ValidationError;
use super::user::Role;

/// Whether `role` may export catalogues and read archive statistics: the records office and
/// the managers who see everything in their scope.
pub fn may_export(role: Role) -> bool {
    matches!(
        role,
        Role::Admin | Role::Archivist | Role::Director | Role::GeneralManager
    )
}

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportFormat {
    /// UTF-8 with a byte-order mark, so that Excel opens it.
    #[default]
    Csv,
    Xlsx,
}

impl ExportFormat {
    /// `csv` (the default when absent) or `xlsx`.
    pub fn parse(text: Option<&str>) -> Result<Self, ValidationError> {
        match text.map(str::trim) {
            None | Some("csv") => Ok(Self::Csv),
            Some("xlsx") => Ok(Self::Xlsx),
            Some(other) => Err(ValidationError::new(
                "format",
                format!("{other:?} is not a format; one of csv, xlsx"),
            )),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
        }
    }
}

/// Which catalogue to export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CatalogueKind {
    /// 歸檔文件目錄: one line per record, in archival-code order.
    #[default]
    Items,
    /// 案卷目錄: one line per party folder.
    Folders,
    /// 卷內文件目錄: every folder's records, folder by folder, in document-date order.
    FolderItems,
}

impl CatalogueKind {
    /// `items` (the default when absent), `folders` or `folder_items`.
    pub fn parse(text: Option<&str>) -> Result<Self, ValidationError> {
        match text.map(str::trim) {
            None | Some("items") => Ok(Self::Items),
            Some("folders") => Ok(Self::Folders),
            Some("folder_items") => Ok(Self::FolderItems),
            Some(other) => Err(ValidationError::new(
                "kind",
                format!("{other:?} is not a catalogue; one of items, folders, folder_items"),
            )),
        }
    }

    /// The catalogue's name, used for the sheet and the file name.
    pub fn title(self, language: Language) -> &'static str {
        match (self, language) {
            (Self::Items, Language::ZhHans) => "归档文件目录",
            (Self::Items, Language::ZhHant) => "歸檔文件目錄",
            (Self::Items, Language::En) => "Item catalogue",
            (Self::Folders, Language::ZhHans) => "案卷目录",
            (Self::Folders, Language::ZhHant) => "案卷目錄",
            (Self::Folders, Language::En) => "Folder catalogue",
            (Self::FolderItems, Language::ZhHans) => "卷内文件目录",
            (Self::FolderItems, Language::ZhHant) => "卷內文件目錄",
            (Self::FolderItems, Language::En) => "Folder item list",
        }
    }

    /// The column headings, in the order of the cells of each line.
    pub fn headings(self, language: Language) -> &'static [&'static str] {
        match (self, language) {
            (Self::Items, Language::ZhHans) => &[
                "序号",
                "档号",
                "文号",
                "责任者",
                "题名",
                "日期",
                "密级",
                "页数",
                "备注",
            ],
            (Self::Items, Language::ZhHant) => &[
                "序號",
                "檔號",
                "文號",
                "責任者",
                "題名",
                "日期",
                "密級",
                "頁數",
                "備註",
            ],
            (Self::Items, Language::En) => &[
                "No.",
                "Archival code",
                "Doc. number",
                "Responsible",
                "Title",
                "Date",
                "Security",
                "Pages",
                "Remarks",
            ],
            (Self::Folders, Language::ZhHans) => &[
                "序号",
                "案卷号",
                "案卷题名",
                "起止日期",
                "件数",
                "页数",
                "保管期限",
                "备注",
            ],
            (Self::Folders, Language::ZhHant) => &[
                "序號",
                "案卷號",
                "案卷題名",
                "起止日期",
                "件數",
                "頁數",
                "保管期限",
                "備註",
            ],
            (Self::Folders, Language::En) => &[
                "No.",
                "Folder number",
                "Folder title",
                "Dates",
                "Items",
                "Pages",
                "Retention",
                "Remarks",
            ],
            (Self::FolderItems, Language::ZhHans) => &[
                "案卷号",
                "序号",
                "文号",
                "责任者",
                "题名",
                "日期",
                "页数",
                "备注",
            ],
            (Self::FolderItems, Language::ZhHant) => &[
                "案卷號",
                "序號",
                "文號",
                "責任者",
                "題名",
                "日期",
                "頁數",
                "備註",
            ],
            (Self::FolderItems, Language::En) => &[
                "Folder number",
                "No.",
                "Doc. number",
                "Responsible",
                "Title",
                "Date",
                "Pages",
                "Remarks",
            ],
        }
    }
}

/// `zh-Hans` (the default when absent), `zh-Hant` or `en`.
pub fn parse_language(text: Option<&str>) -> Result<Language, ValidationError> {
    match text.map(str::trim) {
        None | Some("zh-Hans") => Ok(Language::ZhHans),
        Some("zh-Hant") => Ok(Language::ZhHant),
        Some("en") => Ok(Language::En),
        Some(other) => Err(ValidationError::new(
            "lang",
            format!("{other:?} is not a language; one of zh-Hans, zh-Hant, en"),
        )),
    }
}

/// Which records and folders an export covers; every filter given must match.
///
/// For `items` each filter applies to the record. For `folders` and `folder_items`, `party`
/// and `department` choose folders (the party, the party's department), while `category`,
/// `year`, `fonds` and `retention` choose the records inside them; a folder none of whose
/// records match is then left out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CatalogueFilter {
    /// Category code; its sub-categories are included.
    pub category: Option<String>,
    pub year: Option<i32>,
    /// Department code.
    pub department: Option<String>,
    pub party: Option<Uuid>,
    /// Fonds code.
    pub fonds: Option<String>,
    /// Retention policy code.
    pub retention: Option<String>,
}

impl CatalogueFilter {
    /// Whether a filter on the records themselves is given.
    pub fn selects_records(&self) -> bool {
        self.category.is_some()
            || self.year.is_some()
            || self.fonds.is_some()
            || self.retention.is_some()
    }
}

/// Parses the `year` parameter: a four-digit year.
pub fn parse_year(text: Option<&str>) -> Result<Option<i32>, ValidationError> {
    let Some(text) = text.map(str::trim) else {
        return Ok(None);
    };
    match text.parse::<i32>() {
        Ok(year) if (1000..=9999).contains(&year) => Ok(Some(year)),
        _ => Err(ValidationError::new(
            "year",
            format!("{text:?} is not a year such as 2024"),
        )),
    }
}

/// Parses the `party` parameter: a party id.
pub fn parse_party(text: Option<&str>) -> Result<Option<Uuid>, ValidationError> {
    let Some(text) = text.map(str::trim) else {
        return Ok(None);
    };
    text.parse::<Uuid>()
        .map(Some)
        .map_err(|_| ValidationError::new("party", format!("{text:?} is not a party id")))
}

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
    /// The cells under [`CatalogueKind::Items`] headings; `number` is the 序號.
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
    /// The cells under [`CatalogueKind::Folders`] headings; `number` is the 序號.
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
    /// The cells under [`CatalogueKind::FolderItems`] headings.
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

/// The download's file name: `歸檔文件目錄-20261201.xlsx`.
pub fn file_name(
    kind: CatalogueKind,
    language: Language,
    format: ExportFormat,
    on: NaiveDate,
) -> String {
    format!(
        "{}-{}.{}",
        kind.title(language),
        date_text(on),
        format.extension()
    )
}

#[cfg(test)]
mod tests {
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
    fn item_headings_follow_da_t_22_in_every_language() {
        assert_eq!(
            CatalogueKind::Items.headings(Language::ZhHant),
            [
                "序號",
                "檔號",
                "文號",
                "責任者",
                "題名",
                "日期",
                "密級",
                "頁數",
                "備註"
            ]
        );
        assert_eq!(
            CatalogueKind::Items.headings(Language::ZhHans),
            [
                "序号",
                "档号",
                "文号",
                "责任者",
                "题名",
                "日期",
                "密级",
                "页数",
                "备注"
            ]
        );
        assert_eq!(
            CatalogueKind::Items.headings(Language::En)[1],
            "Archival code"
        );
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

    #[test]
    fn parameters_parse_with_defaults_and_name_themselves_when_wrong() {
        assert_eq!(ExportFormat::parse(None), Ok(ExportFormat::Csv));
        assert_eq!(ExportFormat::parse(Some("xlsx")), Ok(ExportFormat::Xlsx));
        assert_eq!(
            ExportFormat::parse(Some("pdf")).map_err(|e| e.field),
            Err("format".into())
        );
        assert_eq!(CatalogueKind::parse(None), Ok(CatalogueKind::Items));
        assert_eq!(
            CatalogueKind::parse(Some("folder_items")),
            Ok(CatalogueKind::FolderItems)
        );
        assert_eq!(
            CatalogueKind::parse(Some("boxes")).map_err(|e| e.field),
            Err("kind".into())
        );
        assert_eq!(parse_language(None), Ok(Language::ZhHans));
        assert_eq!(parse_language(Some("zh-Hant")), Ok(Language::ZhHant));
        assert_eq!(
            parse_language(Some("fr")).map_err(|e| e.field),
            Err("lang".into())
        );
        assert_eq!(parse_year(Some("2024")), Ok(Some(2024)));
        assert_eq!(
            parse_year(Some("24x")).map_err(|e| e.field),
            Err("year".into())
        );
        assert_eq!(
            parse_party(Some("nope")).map_err(|e| e.field),
            Err("party".into())
        );
        assert_eq!(parse_party(None), Ok(None));
    }

    #[test]
    fn only_the_records_office_and_managers_may_export() {
        let allowed: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|role| may_export(*role))
            .collect();
        assert_eq!(
            allowed,
            [
                Role::Admin,
                Role::Archivist,
                Role::Director,
                Role::GeneralManager
            ]
        );
    }

    #[test]
    fn file_names_carry_the_catalogue_and_the_date() {
        assert_eq!(
            file_name(
                CatalogueKind::Folders,
                Language::ZhHant,
                ExportFormat::Xlsx,
                date("2026-12-01")
            ),
            "案卷目錄-20261201.xlsx"
        );
    }
}
