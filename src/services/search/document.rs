//! The index document of a record: what the indexer gathers from PostgreSQL, as the
//! index takes it.

use std::collections::HashSet;

use uuid::Uuid;

use crate::db::search::SourceRow;
use crate::index::{Change, RecordDocument};

/// The index document of a record row.
pub(super) fn document(row: SourceRow) -> RecordDocument {
    let mut custom_values = Vec::new();
    collect_strings(&row.custom, &mut custom_values);
    RecordDocument {
        id: row.id,
        archival_code: row.archival_code,
        doc_number: row.doc_number,
        title: row.title,
        translated_title: row.translated_title,
        description: row.description,
        responsible: row.responsible,
        party_name: row.party_name,
        party_identifier: row.party_identifier,
        custom_values,
        texts: row.texts,
        category: row.category,
        fonds: row.fonds,
        department: row.department,
        department_id: row.department_id,
        retention: row.retention,
        security_level: row.security_level,
        open_status: row.open_status,
        party_id: row.party_id,
        category_id: row.category_id,
        access_department: row.access_department,
        year: row.year,
        doc_date: row.doc_date,
        places: row.places,
    }
}

fn collect_strings(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::String(text) => out.push(text.clone()),
        serde_json::Value::Number(number) => out.push(number.to_string()),
        serde_json::Value::Array(items) => items.iter().for_each(|item| collect_strings(item, out)),
        serde_json::Value::Object(map) => map.values().for_each(|item| collect_strings(item, out)),
        _ => {}
    }
}

/// What the index does for the records `ids` of the change log: each active one (`sources`)
/// is written again, every other one removed.
pub(super) fn changes(ids: &[Uuid], sources: Vec<SourceRow>) -> Vec<Change> {
    let active: HashSet<Uuid> = sources.iter().map(|row| row.id).collect();
    let mut found: Vec<Change> = ids
        .iter()
        .filter(|id| !active.contains(id))
        .map(|id| Change::Delete(*id))
        .collect();
    found.extend(
        sources
            .into_iter()
            .map(|row| Change::Upsert(Box::new(document(row)))),
    );
    found
}
