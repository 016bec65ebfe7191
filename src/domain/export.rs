//! Catalogue exports as archivists print them: the item catalogue (歸檔文件目錄, DA/T 22), the
//! folder catalogue (案卷目錄) and the in-folder item list (卷內文件目錄); their parameters,
//! column headings in three scripts, and how each line becomes cells. Pure: no I/O.

mod lines;

use chrono::NaiveDate;
use uuid::Uuid;

pub use lines::{Cell, FolderEntry, FolderItemEntry, ItemEntry, date_text, guard_formula};

use super::catalogue::Language;
use super::validation::ValidationError;

/// The file format of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ExportFormat {
    /// UTF-8 with a byte-order mark, so that Excel opens it.
    #[default]
    Csv,
    Xlsx,
    /// Printed on A4, the CJK font embedded.
    Pdf,
}

impl ExportFormat {
    /// `csv` (the default when absent), `xlsx` or `pdf`.
    pub fn parse(text: Option<&str>) -> Result<Self, ValidationError> {
        match text.map(str::trim) {
            None | Some("csv") => Ok(Self::Csv),
            Some("xlsx") => Ok(Self::Xlsx),
            Some("pdf") => Ok(Self::Pdf),
            Some(other) => Err(ValidationError::new(
                "format",
                format!("{other:?} is not a format; one of csv, xlsx, pdf"),
            )),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Self::Csv => "text/csv; charset=utf-8",
            Self::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Self::Pdf => "application/pdf",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Self::Csv => "csv",
            Self::Xlsx => "xlsx",
            Self::Pdf => "pdf",
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
        let table = match self {
            Self::Items => &ITEM_HEADINGS,
            Self::Folders => &FOLDER_HEADINGS,
            Self::FolderItems => &FOLDER_ITEM_HEADINGS,
        };
        match language {
            Language::ZhHans => table[0],
            Language::ZhHant => table[1],
            Language::En => table[2],
        }
    }
}

/// Headings in zh-Hans, zh-Hant and en: DA/T 22 for the item catalogue.
#[rustfmt::skip]
const ITEM_HEADINGS: [&[&str]; 3] = [
    &["序号", "档号", "文号", "责任者", "题名", "日期", "密级", "页数", "备注"],
    &["序號", "檔號", "文號", "責任者", "題名", "日期", "密級", "頁數", "備註"],
    &["No.", "Archival code", "Doc. number", "Responsible", "Title", "Date", "Security", "Pages", "Remarks"],
];
#[rustfmt::skip]
const FOLDER_HEADINGS: [&[&str]; 3] = [
    &["序号", "案卷号", "案卷题名", "起止日期", "件数", "页数", "保管期限", "备注"],
    &["序號", "案卷號", "案卷題名", "起止日期", "件數", "頁數", "保管期限", "備註"],
    &["No.", "Folder number", "Folder title", "Dates", "Items", "Pages", "Retention", "Remarks"],
];
#[rustfmt::skip]
const FOLDER_ITEM_HEADINGS: [&[&str]; 3] = [
    &["案卷号", "序号", "文号", "责任者", "题名", "日期", "页数", "备注"],
    &["案卷號", "序號", "文號", "責任者", "題名", "日期", "頁數", "備註"],
    &["Folder number", "No.", "Doc. number", "Responsible", "Title", "Date", "Pages", "Remarks"],
];

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
    /// Storage room code.
    pub room: Option<String>,
    /// A place of `room`: its records and those of the places inside it.
    pub place: Option<String>,
    /// Records filed at or after this instant (items only).
    pub filed_since: Option<chrono::DateTime<chrono::Utc>>,
    /// Records filed before this instant (items only).
    pub filed_before: Option<chrono::DateTime<chrono::Utc>>,
}

impl CatalogueFilter {
    /// Whether a filter on the records themselves is given.
    pub fn selects_records(&self) -> bool {
        self.category.is_some()
            || self.year.is_some()
            || self.fonds.is_some()
            || self.retention.is_some()
            || self.room.is_some()
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
    fn parameters_parse_with_defaults_and_name_themselves_when_wrong() {
        assert_eq!(ExportFormat::parse(None), Ok(ExportFormat::Csv));
        assert_eq!(ExportFormat::parse(Some("xlsx")), Ok(ExportFormat::Xlsx));
        assert_eq!(ExportFormat::parse(Some("pdf")), Ok(ExportFormat::Pdf));
        assert_eq!(
            ExportFormat::parse(Some("docx")).map_err(|e| e.field),
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
