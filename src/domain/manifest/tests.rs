//! Table tests of manifest reading: headings, grouping, and the row each error blames.

use super::*;

fn parse(text: &str) -> Result<Manifest, ManifestError> {
    Manifest::parse(text.as_bytes())
}

fn entries(text: &str) -> Vec<ManifestEntry> {
    parse(text).expect("manifest parses").entries()
}

fn error_of(entry: &ManifestEntry) -> &RowError {
    entry.draft.as_ref().expect_err("entry has an error")
}

#[test]
fn an_unknown_heading_stops_the_import_naming_it_and_its_column() {
    let error = parse("path,title,titel\na.pdf,A,x\n").expect_err("unknown heading");
    let ManifestError::UnknownHeading {
        heading, column, ..
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!((heading.as_str(), column.as_str()), ("titel", "3 (C)"));
    assert!(error.to_string().contains("\"titel\""), "{error}");
}

#[test]
fn headings_given_twice_or_missing_are_refused() {
    assert!(matches!(
        parse("path,title,题名\n"),
        Err(ManifestError::DuplicateHeading { .. })
    ));
    assert_eq!(
        parse("title\nA\n").expect_err("no path"),
        ManifestError::MissingColumn {
            english: "path",
            chinese: "路径"
        }
    );
    assert!(matches!(
        parse("path\na.pdf\n"),
        Err(ManifestError::MissingColumn {
            english: "title",
            ..
        })
    ));
    assert_eq!(parse("\n,,\n").expect_err("empty"), ManifestError::Empty);
}

#[test]
fn chinese_headings_in_gb18030_are_read() {
    let text = "路徑,題名,日期,門類,密級,工號\r\n人事/E001.pdf,勞動合同,2024/5/1,RS,內部,E001\r\n";
    let (bytes, _, _) = encoding_rs::GB18030.encode(text);
    let manifest = Manifest::parse(&bytes).expect("gb18030 manifest");
    assert_eq!(manifest.encoding, "gb18030");
    let entries = manifest.entries();
    assert_eq!(entries.len(), 1);
    let draft = entries[0].draft.as_ref().expect("valid row");
    assert_eq!(draft.metadata.title, "勞動合同");
    assert_eq!(draft.metadata.category.as_deref(), Some("RS"));
    assert_eq!(
        draft.party.as_ref().map(|party| party.identifier.as_str()),
        Some("E001")
    );
    assert_eq!(entries[0].rows[0].line, 2);
    assert_eq!(
        entries[0].rows[0].path.as_ref().map(RelativePath::as_str),
        Some("人事/E001.pdf")
    );
}

#[test]
fn a_bad_row_is_reported_with_its_line_and_the_others_stay_valid() {
    let entries = entries(
        "path,title,doc_date\n\
         a.pdf,A,2024-01-01\n\
         b.pdf,B,someday\n\
         ,C,2024-01-01\n\
         d.pdf,,2024-01-01\n\
         a.pdf,E,2024-01-01\n\
         ,,\n",
    );
    assert_eq!(entries.len(), 5, "the blank row is skipped");
    assert!(entries[0].draft.is_ok());
    assert_eq!(error_of(&entries[1]).line, 3);
    assert!(
        error_of(&entries[1]).reason.starts_with("doc_date:"),
        "{:?}",
        entries[1].draft
    );
    assert!(error_of(&entries[2]).reason.starts_with("path:"));
    assert!(
        entries[3].draft.is_ok(),
        "a missing title is left to the record's own validation"
    );
    assert_eq!(
        error_of(&entries[4]).reason,
        "path: a.pdf is also listed in row 2"
    );
}

#[test]
fn rows_sharing_a_record_key_become_one_record_with_several_files() {
    let entries = entries(
        "path,record,title,category\n\
         r1/page1.jpg,R1,身份證,RS\n\
         other.pdf,,其他,WS\n\
         r1/page2.jpg,R1,,RS\n",
    );
    assert_eq!(entries.len(), 2);
    let lines: Vec<u64> = entries[0].rows.iter().map(|row| row.line).collect();
    assert_eq!(lines, [2, 4]);
    assert_eq!(entries[0].record_key.as_deref(), Some("R1"));
    let draft = entries[0].draft.as_ref().expect("valid group");
    assert_eq!(draft.metadata.title, "身份證");
    assert_eq!(entries[1].rows[0].line, 3);
}

#[test]
fn a_group_whose_rows_disagree_blames_the_later_row() {
    let entries = entries(
        "path,件,题名,页数\n\
         a.jpg,R1,合同,2\n\
         b.jpg,R1,合同,x\n\
         c.jpg,R2,合同,2\n\
         d.jpg,R2,合同,3\n",
    );
    assert_eq!(
        error_of(&entries[0]).line,
        3,
        "the bad pages cell is in row 3"
    );
    assert!(error_of(&entries[0]).reason.starts_with("pages:"));
    assert_eq!(error_of(&entries[1]).line, 5);
    assert!(
        error_of(&entries[1])
            .reason
            .contains("differs from \"2\" in row 4"),
        "{:?}",
        entries[1].draft
    );
}

#[test]
fn a_value_under_a_column_without_heading_is_an_error_but_empty_ones_are_not() {
    let entries = entries("path,title,\na.pdf,A,\nb.pdf,B,x\nc.pdf,C,,y\n");
    assert!(entries[0].draft.is_ok());
    assert!(error_of(&entries[1]).reason.contains("column 3 (C)"));
    assert!(error_of(&entries[2]).reason.contains("column 4 (D)"));
}

#[test]
fn tab_separated_text_is_read() {
    let entries = entries("path\ttitle\tdepartment\na.pdf\tA, B\tBGS\n");
    let draft = entries[0].draft.as_ref().expect("valid");
    assert_eq!(draft.metadata.title, "A, B");
    assert_eq!(draft.metadata.department.as_deref(), Some("BGS"));
}

#[test]
fn column_names_count_like_a_spreadsheet() {
    assert_eq!(column_name(0), "1 (A)");
    assert_eq!(column_name(25), "26 (Z)");
    assert_eq!(column_name(26), "27 (AA)");
}
