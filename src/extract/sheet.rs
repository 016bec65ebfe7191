//! Spreadsheets (XLSX, XLSM, XLSB, XLS, ODS) through calamine: cell text, sheet by sheet.

use std::fmt::Write as _;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;

use calamine::{Data, Ods, Reader, Xls, Xlsb, Xlsx, open_workbook};

use super::office::open_zip;
use super::{ExtractError, Raw};

/// The container formats calamine reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SheetFormat {
    /// Office Open XML (zip).
    Xlsx,
    /// Excel binary workbook (zip).
    Xlsb,
    /// Excel 97–2003 (compound file).
    Xls,
    /// OpenDocument spreadsheet (zip).
    Ods,
}

impl SheetFormat {
    fn name(self) -> &'static str {
        match self {
            SheetFormat::Xlsx => "xlsx",
            SheetFormat::Xlsb => "xlsb",
            SheetFormat::Xls => "xls",
            SheetFormat::Ods => "ods",
        }
    }
}

/// Every sheet's cells: a line with the sheet name, then one line per row, cells separated by
/// tabs. Zip-based workbooks are first inflated once into nothing, counting, so that a zip bomb
/// is refused before calamine holds it in memory.
pub(crate) fn extract_sheets(
    path: &Path,
    format: SheetFormat,
    inflate_limit: u64,
    text_limit: usize,
) -> Result<Raw, ExtractError> {
    if format != SheetFormat::Xls {
        check_inflated_size(path, format.name(), inflate_limit)?;
    }
    match format {
        SheetFormat::Xlsx => read::<Xlsx<_>, _>(path, format, text_limit, |error| {
            matches!(error, calamine::XlsxError::Password)
        }),
        SheetFormat::Xlsb => read::<Xlsb<_>, _>(path, format, text_limit, |error| {
            matches!(error, calamine::XlsbError::Password)
        }),
        SheetFormat::Xls => read::<Xls<_>, _>(path, format, text_limit, |error| {
            matches!(error, calamine::XlsError::Password)
        }),
        SheetFormat::Ods => read::<Ods<_>, _>(path, format, text_limit, |error| {
            matches!(error, calamine::OdsError::Password)
        }),
    }
}

fn read<R, E>(
    path: &Path,
    format: SheetFormat,
    text_limit: usize,
    is_password: impl Fn(&E) -> bool,
) -> Result<Raw, ExtractError>
where
    R: Reader<BufReader<File>, Error = E>,
    E: std::fmt::Display,
{
    let failed = |error: E| {
        if is_password(&error) {
            ExtractError::Encrypted {
                format: format.name(),
            }
        } else {
            ExtractError::corrupt(format.name(), error)
        }
    };
    let mut workbook: R = open_workbook(path).map_err(failed)?;
    let mut raw = Raw::text(String::new());
    for name in workbook.sheet_names() {
        let range = match workbook.worksheet_range(&name) {
            Ok(range) => range,
            Err(error) => {
                raw.warnings
                    .push(format!("sheet {name:?} skipped: {error}"));
                continue;
            }
        };
        raw.text.push_str(&name);
        raw.text.push('\n');
        for row in range.rows() {
            push_row(&mut raw.text, row);
            if raw.text.len() >= text_limit {
                raw.truncated = true;
                return Ok(raw);
            }
        }
        raw.text.push('\n');
    }
    Ok(raw)
}

fn push_row(out: &mut String, row: &[Data]) {
    let mut first = true;
    for cell in row {
        if matches!(cell, Data::Empty | Data::Error(_)) {
            continue;
        }
        if !first {
            out.push('\t');
        }
        first = false;
        match cell {
            Data::DateTime(value) if value.is_datetime() => {
                let (year, month, day, hour, minute, second, _) = value.to_ymd_hms_milli();
                let _ = write!(out, "{year:04}-{month:02}-{day:02}");
                if (hour, minute, second) != (0, 0, 0) {
                    let _ = write!(out, " {hour:02}:{minute:02}:{second:02}");
                }
            }
            other => {
                let _ = write!(out, "{other}");
            }
        }
    }
    if !first {
        out.push('\n');
    }
}

/// Inflates every entry of a zip container into nothing, failing once more than `limit` bytes
/// came out (declared sizes can lie, so they are not trusted).
fn check_inflated_size(path: &Path, format: &'static str, limit: u64) -> Result<(), ExtractError> {
    let mut archive = open_zip(path, format)?;
    let mut total = 0u64;
    for index in 0..archive.len() {
        let entry = archive
            .by_index(index)
            .map_err(|error| ExtractError::corrupt(format, error))?;
        if entry.encrypted() {
            return Err(ExtractError::Encrypted { format });
        }
        let name = entry.name().to_owned();
        let remaining = limit - total;
        let mut limited = std::io::Read::take(entry, remaining.saturating_add(1));
        let inflated = std::io::copy(&mut limited, &mut std::io::sink())
            .map_err(|error| ExtractError::corrupt(format, format!("{name}: {error}")))?;
        total += inflated;
        if total > limit {
            return Err(ExtractError::TooLarge {
                what: format!("{format} contents"),
                limit,
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use rust_xlsxwriter::Workbook;

    use super::super::office::tests::write_zip;
    use super::super::{ExtractOptions, Method, extract_file};
    use super::*;

    const XLSX_TYPE: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

    #[test]
    fn an_xlsx_yields_its_cells_sheet_by_sheet() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("清冊.xlsx");
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.set_name("销毁清册").expect("name");
        sheet.write(0, 0, "档号").expect("write");
        sheet.write(0, 1, "题名").expect("write");
        sheet.write(1, 0, "A1-2024-001").expect("write");
        sheet.write(1, 1, "劳动合同").expect("write");
        sheet.write(1, 2, 30).expect("write");
        let second = workbook.add_worksheet();
        second.write(0, 0, "員工檔案").expect("write");
        workbook.save(&path).expect("save");

        let extracted =
            extract_file(&path, XLSX_TYPE, &ExtractOptions::default()).expect("extracts");
        assert_eq!(extracted.method, Method::Spreadsheet);
        assert_eq!(
            extracted.text,
            "销毁清册\n档号\t题名\nA1-2024-001\t劳动合同\t30\n\nSheet2\n員工檔案"
        );
    }

    #[test]
    fn a_workbook_that_inflates_past_the_limit_is_refused() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("bomb.xlsx");
        let zeros = vec![b'0'; 5_000_000];
        write_zip(&path, &[("xl/worksheets/sheet1.xml", &zeros)]);
        let error =
            extract_sheets(&path, SheetFormat::Xlsx, 1_000_000, usize::MAX).expect_err("too large");
        assert!(
            matches!(error, ExtractError::TooLarge { .. }) && error.is_permanent(),
            "{error}"
        );
    }

    #[test]
    fn a_corrupt_workbook_is_a_permanent_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("broken.xls");
        std::fs::write(&path, b"not a workbook").expect("write");
        let error = extract_file(
            &path,
            "application/vnd.ms-excel",
            &ExtractOptions::default(),
        )
        .expect_err("corrupt");
        assert!(error.is_permanent(), "{error}");
    }
}
