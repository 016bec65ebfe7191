//! The index schema: one document per record, and how a record becomes one.

use chrono::NaiveDate;
use tantivy::schema::{
    FAST, Field, INDEXED, IndexRecordOption, STORED, STRING, Schema, TextFieldIndexing, TextOptions,
};
use tantivy::{DateTime, TantivyDocument};
use uuid::Uuid;

use super::analysis::{self, BIGRAMS, CODES, UNIGRAMS, WORDS};
use crate::domain::permissions::category_key;

/// Fields of the index.
#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub codes: Field,
    pub title: Field,
    pub title_grams: Field,
    pub body: Field,
    pub body_grams: Field,
    pub unigrams: Field,
    /// Stored original text for snippets; not indexed.
    pub text: Field,
    pub category: Field,
    pub fonds: Field,
    pub department: Field,
    pub department_id: Field,
    pub retention: Field,
    pub security_level: Field,
    pub open_status: Field,
    pub status: Field,
    pub party: Field,
    /// The category id (or `none`) and the access department (or `none`): what the
    /// permission filter matches (see `domain::permissions::Visibility`).
    pub category_id: Field,
    pub access_department: Field,
    pub year: Field,
    pub doc_date: Field,
    /// Where the record is kept: `K1` (its room) and `K1/B03` (each place it is in).
    pub places: Field,
}

/// Builds the schema and its field handles.
pub fn build() -> (Schema, Fields) {
    let mut builder = Schema::builder();
    let indexed = |name: &str, option| {
        TextOptions::default().set_indexing_options(
            TextFieldIndexing::default()
                .set_tokenizer(name)
                .set_index_option(option),
        )
    };
    let analysed = |name: &str| indexed(name, IndexRecordOption::WithFreqsAndPositions);
    let keyword = STRING | FAST;
    let fields = Fields {
        id: builder.add_text_field("id", STRING | STORED),
        codes: builder.add_text_field("codes", indexed(CODES, IndexRecordOption::WithFreqs)),
        title: builder.add_text_field("title", analysed(WORDS)),
        title_grams: builder.add_text_field("title_grams", analysed(BIGRAMS)),
        body: builder.add_text_field("body", analysed(WORDS)),
        body_grams: builder.add_text_field("body_grams", analysed(BIGRAMS)),
        // single-character queries only: no phrase runs over them, and no frequencies (a
        // character's count says little; its hits rank by the length of the text)
        unigrams: builder.add_text_field("unigrams", indexed(UNIGRAMS, IndexRecordOption::Basic)),
        text: builder.add_text_field("text", STORED),
        category: builder.add_text_field("category", keyword.clone()),
        fonds: builder.add_text_field("fonds", keyword.clone()),
        department: builder.add_text_field("department", keyword.clone()),
        department_id: builder.add_text_field("department_id", keyword.clone()),
        retention: builder.add_text_field("retention", keyword.clone()),
        security_level: builder.add_text_field("security_level", keyword.clone()),
        open_status: builder.add_text_field("open_status", keyword.clone()),
        status: builder.add_text_field("status", keyword.clone()),
        party: builder.add_text_field("party", keyword.clone()),
        category_id: builder.add_text_field("category_id", keyword.clone()),
        access_department: builder.add_text_field("access_department", keyword.clone()),
        year: builder.add_i64_field("year", INDEXED | FAST),
        doc_date: builder.add_date_field("doc_date", INDEXED | FAST),
        places: builder.add_text_field("places", keyword),
    };
    (builder.build(), fields)
}

/// Value of `department_id` for records without a department.
pub const NO_DEPARTMENT: &str = "none";

/// What the index holds of one record, gathered from PostgreSQL.
#[derive(Debug, Clone, Default)]
pub struct RecordDocument {
    pub id: Uuid,
    pub archival_code: Option<String>,
    pub doc_number: Option<String>,
    pub title: String,
    pub translated_title: Option<String>,
    pub description: Option<String>,
    pub responsible: Option<String>,
    pub party_name: Option<String>,
    pub party_identifier: Option<String>,
    pub custom_values: Vec<String>,
    pub texts: Vec<String>,
    pub category: Option<String>,
    pub fonds: Option<String>,
    pub department: Option<String>,
    pub department_id: Option<Uuid>,
    pub retention: Option<String>,
    pub security_level: String,
    pub open_status: String,
    pub party_id: Option<Uuid>,
    pub category_id: Option<Uuid>,
    pub access_department: Option<Uuid>,
    pub year: i32,
    pub doc_date: NaiveDate,
    /// Its room's code and `room/place` for each place it is in.
    pub places: Vec<String>,
}

/// Stored text kept per record for snippets.
const MAX_STORED_TEXT: usize = 2 << 20;

impl RecordDocument {
    /// The tantivy document of this record.
    pub fn to_document(&self, fields: &Fields) -> TantivyDocument {
        let mut doc = TantivyDocument::default();
        doc.add_text(fields.id, self.id.to_string());
        for code in [
            &self.archival_code,
            &self.doc_number,
            &self.party_identifier,
        ]
        .into_iter()
        .flatten()
        {
            doc.add_text(fields.codes, code);
        }
        for number in id_numbers(self.texts.iter().chain(self.description.iter())) {
            doc.add_text(fields.codes, number);
        }
        let mut titles = vec![self.title.as_str()];
        titles.extend(self.translated_title.as_deref());
        for title in titles {
            doc.add_text(fields.title, title);
            doc.add_text(fields.title_grams, title);
            doc.add_text(fields.unigrams, title);
        }
        let catalogue = [
            &self.description,
            &self.responsible,
            &self.party_name,
            &self.party_identifier,
            &self.doc_number,
            &self.archival_code,
        ];
        let body = catalogue
            .into_iter()
            .flatten()
            .map(String::as_str)
            .chain(self.custom_values.iter().map(String::as_str))
            .chain(self.texts.iter().map(String::as_str));
        let mut stored = String::new();
        for part in body {
            doc.add_text(fields.body, part);
            doc.add_text(fields.body_grams, part);
            doc.add_text(fields.unigrams, part);
            if stored.len() < MAX_STORED_TEXT {
                if !stored.is_empty() {
                    stored.push('\n');
                }
                stored.push_str(cut(part, MAX_STORED_TEXT - stored.len()));
            }
        }
        doc.add_text(fields.text, stored);
        for place in &self.places {
            doc.add_text(fields.places, place);
        }
        let keyword = |doc: &mut TantivyDocument, field, value: &Option<String>| {
            if let Some(value) = value {
                doc.add_text(field, value);
            }
        };
        keyword(&mut doc, fields.category, &self.category);
        keyword(&mut doc, fields.fonds, &self.fonds);
        keyword(&mut doc, fields.department, &self.department);
        keyword(&mut doc, fields.retention, &self.retention);
        doc.add_text(
            fields.department_id,
            self.department_id
                .map_or_else(|| NO_DEPARTMENT.to_owned(), |id| id.to_string()),
        );
        doc.add_text(fields.security_level, &self.security_level);
        doc.add_text(fields.open_status, &self.open_status);
        doc.add_text(fields.status, "active");
        if let Some(party) = self.party_id {
            doc.add_text(fields.party, party.to_string());
        }
        doc.add_text(fields.category_id, category_key(self.category_id));
        doc.add_text(
            fields.access_department,
            self.access_department
                .map_or_else(|| NO_DEPARTMENT.to_owned(), |id| id.to_string()),
        );
        doc.add_i64(fields.year, i64::from(self.year));
        doc.add_date(fields.doc_date, date_value(self.doc_date));
        doc
    }
}

/// A date as the index stores it: midnight UTC.
pub fn date_value(date: NaiveDate) -> DateTime {
    let seconds = date
        .and_hms_opt(0, 0, 0)
        .map_or(0, |midnight| midnight.and_utc().timestamp());
    DateTime::from_timestamp_secs(seconds)
}

fn cut(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

/// Resident identity card numbers (18 characters: 17 digits and a digit or X) in the text,
/// so that searching one finds its record first.
fn id_numbers<'a>(texts: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut found = Vec::new();
    for text in texts {
        let folded: Vec<char> = analysis::fold(text).chars().collect();
        let mut start = 0;
        while start < folded.len() {
            if !folded[start].is_ascii_digit() {
                start += 1;
                continue;
            }
            let mut end = start;
            while end < folded.len() && (folded[end].is_ascii_digit() || folded[end] == 'x') {
                end += 1;
            }
            let candidate = &folded[start..end];
            if candidate.len() == 18 && candidate[..17].iter().all(char::is_ascii_digit) {
                let number: String = candidate.iter().collect();
                if !found.contains(&number) {
                    found.push(number);
                }
            }
            start = end;
        }
        if found.len() > 100 {
            break;
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_numbers_are_found_in_text_whatever_their_width() {
        let texts = [
            "身份证号：110101199003077777，另：４４０３０５１９８８０１０１２３４Ｘ。电话 13800138000".to_owned(),
        ];
        assert_eq!(
            id_numbers(texts.iter()),
            vec!["110101199003077777", "44030519880101234x"]
        );
    }
}
