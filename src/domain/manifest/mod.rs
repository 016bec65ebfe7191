//! Import manifests (`dangan import DIR --manifest FILE.csv`): a CSV file with one row per
//! file, a path relative to the import directory and the record's metadata, headed in
//! English or Chinese. This module reads the file's bytes (UTF-8, UTF-16 or GB18030),
//! checks the headings before anything is imported, and turns rows into records to file:
//! rows sharing a `record` key become one record with several files. Pure: no I/O.

mod encoding;
mod headings;
mod row;
mod values;

use std::collections::HashMap;

pub use headings::{Column, Field};
pub use row::{PartyRef, RecordDraft, RelativePath, row_key};
pub use values::typed_custom;

/// Why a manifest cannot be imported at all; nothing is imported when this happens.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    #[error("{0}")]
    Encoding(String),
    #[error("the manifest has no heading row; the first row names the columns (path, title, …)")]
    Empty,
    #[error("line {line} of the manifest cannot be read as CSV: {reason}")]
    Csv { line: u64, reason: String },
    #[error("unknown heading {heading:?} in column {column}; accepted headings are {accepted}")]
    UnknownHeading {
        heading: String,
        column: String,
        accepted: String,
    },
    #[error("headings {first:?} and {second:?} both give {field}; keep one of them")]
    DuplicateHeading {
        first: String,
        second: String,
        field: String,
    },
    #[error("the manifest has no {english} column ({chinese}); add one")]
    MissingColumn {
        english: &'static str,
        chinese: &'static str,
    },
}

/// A manifest whose headings are known; rows are checked one by one by [`Manifest::entries`].
#[derive(Debug)]
pub struct Manifest {
    /// The encoding the file was in.
    pub encoding: &'static str,
    /// What each column gives; `None` for a column without a heading.
    columns: Vec<Option<Column>>,
    rows: Vec<ManifestRow>,
}

#[derive(Debug)]
struct ManifestRow {
    /// The line the row starts on, as a spreadsheet numbers its rows.
    line: u64,
    cells: Vec<String>,
}

/// One record to file: a row, or the rows sharing a `record` key, in manifest order.
#[derive(Debug)]
pub struct ManifestEntry {
    pub record_key: Option<String>,
    pub rows: Vec<EntryRow>,
    /// The record's metadata, or why the entry cannot be filed and which row is at fault.
    pub draft: Result<RecordDraft, RowError>,
}

/// A row of an entry: its line and the file it names.
#[derive(Debug, Clone)]
pub struct EntryRow {
    pub line: u64,
    /// The path cell as written, for reports.
    pub path_text: String,
    /// The path, if it is a valid relative path.
    pub path: Option<RelativePath>,
}

/// What is wrong with a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub line: u64,
    pub reason: String,
}

impl Manifest {
    /// Decodes the file and checks its headings: every heading must be known, none given
    /// twice, and `path` and `title` must be there.
    pub fn parse(bytes: &[u8]) -> Result<Self, ManifestError> {
        let decoded = encoding::decode(bytes)?;
        // csv counts a CRLF row's line only once its LF is read, one row late: use LF alone.
        let text = decoded.text.replace("\r\n", "\n");
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter(&text))
            .from_reader(text.as_bytes());
        let mut columns = None;
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|error| ManifestError::Csv {
                line: error.position().map_or(0, csv::Position::line),
                reason: error.to_string(),
            })?;
            let line = record.position().map_or(0, csv::Position::line);
            let cells: Vec<String> = record.iter().map(str::to_owned).collect();
            if cells.iter().all(|cell| cell.trim().is_empty()) {
                continue;
            }
            match columns {
                None => columns = Some(read_headings(&cells)?),
                Some(_) => rows.push(ManifestRow { line, cells }),
            }
        }
        Ok(Self {
            encoding: decoded.encoding,
            columns: columns.ok_or(ManifestError::Empty)?,
            rows,
        })
    }

    /// How many rows (files) the manifest lists.
    pub fn row_count(&self) -> usize {
        self.rows.len()
    }

    /// The records to file, in the order their first rows appear.
    pub fn entries(&self) -> Vec<ManifestEntry> {
        let mut groups: Vec<(Option<String>, Vec<&ManifestRow>)> = Vec::new();
        let mut by_key: HashMap<&str, usize> = HashMap::new();
        for row in &self.rows {
            let key = self.cell(row, &Column::Field(Field::Record)).trim();
            if key.is_empty() {
                groups.push((None, vec![row]));
            } else if let Some(&index) = by_key.get(key) {
                groups[index].1.push(row);
            } else {
                by_key.insert(key, groups.len());
                groups.push((Some(key.to_owned()), vec![row]));
            }
        }
        let mut seen_paths: HashMap<RelativePath, u64> = HashMap::new();
        groups
            .into_iter()
            .map(|(record_key, rows)| self.entry(record_key, &rows, &mut seen_paths))
            .collect()
    }

    fn entry(
        &self,
        record_key: Option<String>,
        rows: &[&ManifestRow],
        seen_paths: &mut HashMap<RelativePath, u64>,
    ) -> ManifestEntry {
        let mut first_error = None;
        let mut entry_rows = Vec::with_capacity(rows.len());
        for row in rows {
            let path_text = self
                .cell(row, &Column::Field(Field::Path))
                .trim()
                .to_owned();
            let path = self.check_row(row, &path_text, seen_paths);
            if let (Err(error), None) = (&path, &first_error) {
                first_error = Some(error.clone());
            }
            entry_rows.push(EntryRow {
                line: row.line,
                path_text,
                path: path.ok(),
            });
        }
        let draft = match first_error {
            Some(error) => Err(error),
            None => self.draft(rows),
        };
        ManifestEntry {
            record_key,
            rows: entry_rows,
            draft,
        }
    }

    /// Checks what belongs to the row alone: its cells fit the headings, its path is valid
    /// and listed only once in the manifest.
    fn check_row(
        &self,
        row: &ManifestRow,
        path_text: &str,
        seen_paths: &mut HashMap<RelativePath, u64>,
    ) -> Result<RelativePath, RowError> {
        let fail = |reason: String| RowError {
            line: row.line,
            reason,
        };
        for (index, cell) in row.cells.iter().enumerate() {
            let headed = self.columns.get(index).is_some_and(Option::is_some);
            if !headed && !cell.trim().is_empty() {
                return Err(fail(format!(
                    "column {} holds {cell:?} but has no heading",
                    column_name(index)
                )));
            }
        }
        let path = RelativePath::parse(path_text).map_err(|error| fail(error.to_string()))?;
        if let Some(line) = seen_paths.get(&path) {
            return Err(fail(format!("path: {path} is also listed in row {line}")));
        }
        seen_paths.insert(path.clone(), row.line);
        Ok(path)
    }

    /// The metadata of a group: each cell from the first row that fills it; a later row may
    /// leave it empty or repeat it, but not contradict it.
    fn draft(&self, rows: &[&ManifestRow]) -> Result<RecordDraft, RowError> {
        let mut merged: Vec<(&Column, &str, u64)> = Vec::new();
        for (index, column) in self.columns.iter().enumerate() {
            let Some(column) = column else { continue };
            if matches!(column, Column::Field(Field::Path | Field::Record)) {
                continue;
            }
            let mut chosen: Option<(&str, u64)> = None;
            for row in rows {
                let text = row.cells.get(index).map_or("", |cell| cell.trim());
                match chosen {
                    _ if text.is_empty() => {}
                    None => chosen = Some((text, row.line)),
                    Some((first, line)) if first != text => {
                        return Err(RowError {
                            line: row.line,
                            reason: format!(
                                "{column}: {text:?} differs from {first:?} in row {line} of the same record"
                            ),
                        });
                    }
                    Some(_) => {}
                }
            }
            if let Some((text, line)) = chosen {
                merged.push((column, text, line));
            }
        }
        let first_line = rows.first().map_or(0, |row| row.line);
        RecordDraft::from_cells(merged.iter().map(|(column, text, _)| (*column, *text))).map_err(
            |error| {
                let line = merged
                    .iter()
                    .find(|(column, _, _)| gives(column, &error.field))
                    .map_or(first_line, |(_, _, line)| *line);
                RowError {
                    line,
                    reason: error.to_string(),
                }
            },
        )
    }

    fn cell<'a>(&self, row: &'a ManifestRow, wanted: &Column) -> &'a str {
        self.columns
            .iter()
            .position(|column| column.as_ref() == Some(wanted))
            .and_then(|index| row.cells.get(index))
            .map_or("", String::as_str)
    }
}

/// Whether a validation error of `field` comes from `column`.
fn gives(column: &Column, field: &str) -> bool {
    match column {
        Column::Field(Field::Party | Field::EmployeeNumber | Field::CustomerCode) => {
            field == "party"
        }
        other => other.name() == field,
    }
}

fn read_headings(cells: &[String]) -> Result<Vec<Option<Column>>, ManifestError> {
    let mut columns = Vec::with_capacity(cells.len());
    let mut seen: HashMap<Column, &str> = HashMap::new();
    for (index, heading) in cells.iter().enumerate() {
        let trimmed = heading.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
        if trimmed.is_empty() {
            columns.push(None);
            continue;
        }
        let column =
            Column::from_heading(trimmed).ok_or_else(|| ManifestError::UnknownHeading {
                heading: trimmed.to_owned(),
                column: column_name(index),
                accepted: headings::accepted_headings(),
            })?;
        if let Some(first) = seen.insert(column.clone(), trimmed) {
            return Err(ManifestError::DuplicateHeading {
                first: first.to_owned(),
                second: trimmed.to_owned(),
                field: column.name(),
            });
        }
        columns.push(Some(column));
    }
    for field in [Field::Path, Field::Title] {
        if !seen.contains_key(&Column::Field(field)) {
            return Err(ManifestError::MissingColumn {
                english: field.name(),
                chinese: field.chinese(),
            });
        }
    }
    Ok(columns)
}

/// Tab-separated when the heading row has tabs and no commas (Excel's "Unicode text").
fn delimiter(text: &str) -> u8 {
    let first_line = text.lines().next().unwrap_or_default();
    if first_line.contains('\t') && !first_line.contains(',') {
        b'\t'
    } else {
        b','
    }
}

/// `3 (C)`: the column's number and its spreadsheet letters.
fn column_name(index: usize) -> String {
    let mut letters = Vec::new();
    let mut rest = index + 1;
    while rest > 0 {
        let digit = (rest - 1) % 26;
        letters.push(char::from(b'A' + u8::try_from(digit).unwrap_or(0)));
        rest = (rest - 1) / 26;
    }
    let letters: String = letters.into_iter().rev().collect();
    format!("{} ({letters})", index + 1)
}

#[cfg(test)]
mod tests;
