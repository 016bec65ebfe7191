//! Manifest headings: the English field names and their Simplified and Traditional Chinese
//! equivalents, as archivists write them in Excel.

use std::fmt;

/// A metadata field a manifest column can give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    Path,
    Record,
    Title,
    DocDate,
    Year,
    Fonds,
    Category,
    Retention,
    Department,
    /// An employee number or customer code; which one is looked up (or prefixed).
    Party,
    /// An employee number (工號).
    EmployeeNumber,
    /// A customer code.
    CustomerCode,
    DocNumber,
    Responsible,
    Pages,
    SecurityLevel,
    OpenStatus,
    Carrier,
    Description,
    TranslatedTitle,
    DocType,
    Room,
    Row,
    Cabinet,
    Shelf,
    Box,
}

/// Every field with its English heading and the Chinese headings accepted for it.
const HEADINGS: &[(Field, &str, &[&str])] = &[
    (
        Field::Path,
        "path",
        &["file", "路径", "路徑", "文件路径", "文件路徑", "文件名"],
    ),
    (
        Field::Record,
        "record",
        &["件", "记录", "記錄", "分组", "分組"],
    ),
    (Field::Title, "title", &["题名", "題名", "标题", "標題"]),
    (
        Field::DocDate,
        "doc_date",
        &["date", "日期", "文件日期", "成文日期"],
    ),
    (Field::Year, "year", &["年度"]),
    (Field::Fonds, "fonds", &["全宗", "全宗号", "全宗號"]),
    (
        Field::Category,
        "category",
        &["门类", "門類", "类别", "類別", "门类代码", "門類代碼"],
    ),
    (Field::Retention, "retention", &["保管期限"]),
    (
        Field::Department,
        "department",
        &["部门", "部門", "机构", "機構"],
    ),
    (Field::Party, "party", &["当事人", "當事人"]),
    (Field::EmployeeNumber, "employee_number", &["工号", "工號"]),
    (
        Field::CustomerCode,
        "customer_code",
        &["客户编号", "客戶編號", "客户代码", "客戶代碼"],
    ),
    (
        Field::DocNumber,
        "doc_number",
        &["文号", "文號", "文件编号", "文件編號"],
    ),
    (Field::Responsible, "responsible", &["责任者", "責任者"]),
    (Field::Pages, "pages", &["页数", "頁數"]),
    (Field::SecurityLevel, "security_level", &["密级", "密級"]),
    (
        Field::OpenStatus,
        "open_status",
        &["开放状态", "開放狀態", "控制标识", "控制標識"],
    ),
    (
        Field::Carrier,
        "carrier",
        &["载体", "載體", "载体类型", "載體類型"],
    ),
    (
        Field::Description,
        "description",
        &["备注", "備註", "描述", "说明", "說明"],
    ),
    (
        Field::TranslatedTitle,
        "translated_title",
        &[
            "译名",
            "譯名",
            "中文题名",
            "中文題名",
            "翻译题名",
            "翻譯題名",
        ],
    ),
    (
        Field::DocType,
        "doc_type",
        &["文件类型", "文件類型", "材料类型", "材料類型"],
    ),
    (Field::Room, "location.room", &["库房", "庫房"]),
    (Field::Row, "location.row", &["排"]),
    (
        Field::Cabinet,
        "location.cabinet",
        &["柜", "櫃", "柜号", "櫃號"],
    ),
    (Field::Shelf, "location.shelf", &["架", "架号", "架號"]),
    (Field::Box, "location.box", &["盒", "盒号", "盒號"]),
];

/// Prefix of the headings of custom fields: `custom.amount`.
pub const CUSTOM_PREFIX: &str = "custom.";

impl Field {
    /// The English heading, also the field name in error messages.
    pub fn name(self) -> &'static str {
        HEADINGS
            .iter()
            .find(|(field, _, _)| *field == self)
            .map_or("?", |(_, name, _)| name)
    }

    /// The first Chinese heading (Simplified), to show in messages.
    pub fn chinese(self) -> &'static str {
        HEADINGS
            .iter()
            .find(|(field, _, _)| *field == self)
            .and_then(|(_, _, aliases)| aliases.iter().find(|alias| !alias.is_ascii()))
            .copied()
            .unwrap_or("")
    }
}

/// What one column of a manifest gives.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Column {
    Field(Field),
    /// A custom field of the category, by its name.
    Custom(String),
}

impl Column {
    /// Recognises a heading; `None` if it is not one we know. Case, surrounding spaces, a
    /// leading `*` (the "required" mark of Excel templates) and spaces or hyphens in English
    /// names do not matter.
    pub fn from_heading(heading: &str) -> Option<Column> {
        let normalised = normalise(heading);
        if let Some(name) = normalised.strip_prefix(CUSTOM_PREFIX) {
            let valid = !name.is_empty()
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            return valid.then(|| Column::Custom(name.to_owned()));
        }
        HEADINGS
            .iter()
            .find(|(_, name, aliases)| {
                *name == normalised || aliases.contains(&normalised.as_str())
            })
            .map(|(field, _, _)| Column::Field(*field))
    }

    /// The field name used in messages: `doc_date`, `custom.amount`.
    pub fn name(&self) -> String {
        match self {
            Column::Field(field) => field.name().to_owned(),
            Column::Custom(name) => format!("{CUSTOM_PREFIX}{name}"),
        }
    }
}

impl fmt::Display for Column {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name())
    }
}

/// A short list of accepted headings for an error message.
pub fn accepted_headings() -> String {
    let english: Vec<&str> = HEADINGS.iter().map(|(_, name, _)| *name).collect();
    format!(
        "{}, custom.<field>, or their Chinese names (路径/路徑, 题名/題名, 日期, 门类/門類, 保管期限, 部门/部門, 全宗, 工号/工號 …)",
        english.join(", ")
    )
}

fn normalise(heading: &str) -> String {
    let trimmed = heading
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}')
        .trim_start_matches(['*', '＊'])
        .trim();
    if trimmed.is_ascii() {
        trimmed
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c == ' ' || c == '-' { '_' } else { c })
            .collect()
    } else {
        trimmed.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headings_are_recognised_in_english_and_both_chinese_scripts() {
        for (heading, field) in [
            ("path", Field::Path),
            (" Title ", Field::Title),
            ("Doc Date", Field::DocDate),
            ("doc-number", Field::DocNumber),
            ("*题名", Field::Title),
            ("題名", Field::Title),
            ("路径", Field::Path),
            ("路徑", Field::Path),
            ("门类", Field::Category),
            ("門類", Field::Category),
            ("工號", Field::EmployeeNumber),
            ("当事人", Field::Party),
            ("密級", Field::SecurityLevel),
            ("載體", Field::Carrier),
            ("備註", Field::Description),
            ("\u{feff}path", Field::Path),
            ("LOCATION.BOX", Field::Box),
        ] {
            assert_eq!(
                Column::from_heading(heading),
                Some(Column::Field(field)),
                "{heading:?}"
            );
        }
    }

    #[test]
    fn custom_headings_name_a_field_and_unknown_headings_are_none() {
        assert_eq!(
            Column::from_heading("custom.amount"),
            Some(Column::Custom("amount".into()))
        );
        assert_eq!(Column::from_heading("custom."), None);
        assert_eq!(Column::from_heading("custom.合同"), None);
        assert_eq!(Column::from_heading("titel"), None);
        assert_eq!(Column::from_heading("题目"), None);
    }

    #[test]
    fn every_field_has_an_english_and_a_chinese_heading() {
        for (field, name, _) in HEADINGS {
            assert_eq!(field.name(), *name);
            assert!(!field.chinese().is_empty(), "{name}");
            assert_eq!(
                Column::from_heading(field.chinese()),
                Some(Column::Field(*field))
            );
        }
    }
}
