//! Access by policy (R11) over HTTP against the real stores: a matrix of role × own or other
//! department × category (RS personnel, KH customer, WS documents) × security level, over
//! every path that shows or touches a record; each expected 200 or 404 from R11 as the
//! seed rules state it, written out here independently of the code under test.

use std::collections::HashSet;

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::TestApp;
use crate::search::{search_as, settle};

mod exploits;
mod releases;
mod users;

/// The viewers: each role once, all in department BGS but the admin.
const ROLES: [&str; 7] = [
    "admin",
    "archivist",
    "director",
    "general_manager",
    "dept_manager",
    "staff",
    "auditor",
];
const LEVELS: [&str; 4] = ["public", "internal", "secret", "confidential"];

/// One record of the matrix.
#[derive(Debug, Clone)]
struct Cell {
    category: &'static str,
    /// In the viewers' department (BGS), or another (RSB).
    own: bool,
    level: &'static str,
    id: String,
    file_id: String,
    title: String,
}

/// R11 with the seed rules: who sees a record without a loan.
fn expected(role: &str, cell: &Cell) -> bool {
    let manager_level = matches!(cell.level, "public" | "internal");
    match role {
        "admin" | "archivist" => true,
        "director" => cell.category != "KH",
        "general_manager" => cell.category != "RS",
        "dept_manager" => cell.own && manager_level && cell.category != "KH",
        _ => false,
    }
}

/// A party of `kind` in `department`; its id.
pub async fn party(app: &TestApp, kind: &str, identifier: &str, department: &str) -> String {
    let response = app
        .post("/api/v1/parties")
        .json(&json!({"kind": kind, "identifier": identifier, "name": identifier, "department": department}))
        .send()
        .await
        .expect("party");
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.expect("party JSON");
    body["id"].as_str().expect("id").to_owned()
}

/// The records of the matrix: for RS and KH the record lies in the folder of a party of
/// the given department, but is filed under the *other* department (the uploader's), so
/// that only the party's department can be what decides.
async fn matrix_records(app: &TestApp) -> (Vec<Cell>, [(String, bool, &'static str); 4]) {
    for (code, name) in [("BGS", "办公室"), ("RSB", "人事部")] {
        let _ = app
            .post("/api/v1/departments")
            .json(&json!({ "code": code, "name": name }))
            .send()
            .await;
    }
    let parties = [
        (party(app, "employee", "E-OWN", "BGS").await, true, "RS"),
        (party(app, "employee", "E-OTHER", "RSB").await, false, "RS"),
        (party(app, "customer", "C-OWN", "BGS").await, true, "KH"),
        (party(app, "customer", "C-OTHER", "RSB").await, false, "KH"),
    ];
    let mut cells = Vec::new();
    for category in ["RS", "KH", "WS"] {
        for own in [true, false] {
            for level in LEVELS {
                let title = format!("矩阵{category}{}{level}", if own { "本部" } else { "他部" });
                let folder = parties
                    .iter()
                    .find(|(_, party_own, kind)| *party_own == own && *kind == category)
                    .map(|(id, ..)| id.clone());
                let filed_under = match (folder.is_some(), own) {
                    (true, true) | (false, false) => "RSB",
                    (true, false) | (false, true) => "BGS",
                };
                let record = app
                    .file_record(
                        &json!({
                            "title": title, "category": category, "security_level": level,
                            "department": filed_under, "party_id": folder,
                            "doc_date": "2000-03-01", "retention": "D10",
                        }),
                        vec![crate::helpers::TestFile::new(
                            "matrix.txt",
                            format!("{title} 正文").into_bytes(),
                        )],
                    )
                    .await;
                cells.push(Cell {
                    category,
                    own,
                    level,
                    id: record["id"].as_str().expect("id").to_owned(),
                    file_id: record["files"][0]["id"].as_str().expect("file").to_owned(),
                    title,
                });
            }
        }
    }
    (cells, parties)
}

async fn status_of(app: &TestApp, token: &str, request: reqwest::RequestBuilder) -> u16 {
    let _ = app;
    request
        .bearer_auth(token)
        .send()
        .await
        .expect("request")
        .status()
        .as_u16()
}

fn titles_of(list: &Value, key: &str) -> HashSet<String> {
    list[key]
        .as_array()
        .map(|items| {
            items
                .iter()
                .filter_map(|item| item["title"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[sqlx::test]
async fn every_path_answers_the_access_matrix(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (cells, parties) = matrix_records(&app).await;
    settle(&app).await;
    for role in ROLES {
        let token = if role == "admin" {
            app.token.clone()
        } else {
            app.user_token(&format!("m-{role}"), role, Some("BGS"))
                .await
        };
        let seen: Vec<&Cell> = cells.iter().filter(|cell| expected(role, cell)).collect();
        let seen_titles: HashSet<String> = seen.iter().map(|cell| cell.title.clone()).collect();
        let label = |cell: &Cell, path: &str| format!("{role} {path} {cell:?}");

        for cell in &cells {
            let want = if expected(role, cell) { 200 } else { 404 };
            let record = app.url(&format!("/api/v1/records/{}", cell.id));
            let got = status_of(&app, &token, app.client.get(&record)).await;
            assert_eq!(got, want, "{}", label(cell, "GET record"));
            let file = format!("{record}/files/{}", cell.file_id);
            let got = status_of(&app, &token, app.client.get(&file)).await;
            assert_eq!(got, want, "{}", label(cell, "GET file"));
            // changes: a hidden record is 404 before any question of role
            let patch = app
                .client
                .patch(&record)
                .json(&json!({ "description": "矩阵" }));
            let got = status_of(&app, &token, patch).await;
            let may_edit = matches!(role, "admin" | "archivist" | "director" | "general_manager");
            let want_patch = match (want, may_edit) {
                (404, _) => 404,
                (_, true) => 200,
                (_, false) => 403,
            };
            assert_eq!(got, want_patch, "{}", label(cell, "PATCH"));
            let event = app
                .client
                .post(format!("{record}/events"))
                .json(&json!({ "type": "asset_disposed", "date": "2001-01-01" }));
            let got = status_of(&app, &token, event).await;
            let want_event = match (want, matches!(role, "admin" | "archivist")) {
                (404, _) => 404,
                (_, true) => 201,
                (_, false) => 403,
            };
            assert_eq!(got, want_event, "{}", label(cell, "event"));
            if role != "auditor" {
                let loan = app.client.post(app.url("/api/v1/loans")).json(&json!({
                    "record_id": cell.id, "purpose": "矩阵", "days": 1,
                }));
                let got = status_of(&app, &token, loan).await;
                let want_loan = if want == 200 { 201 } else { 404 };
                assert_eq!(got, want_loan, "{}", label(cell, "loan request"));
            }
        }

        // search: hits, total and facets count exactly what may be seen
        let results = search_as(&app, &token, &[("q", "矩阵"), ("limit", "100")]).await;
        let hits: HashSet<String> = results["hits"]
            .as_array()
            .expect("hits")
            .iter()
            .filter_map(|hit| hit["title"].as_str().map(str::to_owned))
            .collect();
        assert_eq!(hits, seen_titles, "{role} search hits");
        assert_eq!(results["total"], json!(seen.len()), "{role} search total");
        for category in ["RS", "KH", "WS"] {
            let count = seen.iter().filter(|cell| cell.category == category).count();
            let facet = results["facets"]["category"]
                .as_array()
                .expect("facets")
                .iter()
                .find(|bucket| bucket["value"] == category)
                .map_or(0, |bucket| bucket["count"].as_u64().unwrap_or(0));
            assert_eq!(facet, count as u64, "{role} facet {category}");
        }

        // folders: seen as an internal record of the folder category; listing only the seen
        for (party_id, own, kind) in &parties {
            let probe = Cell {
                category: kind,
                own: *own,
                level: "internal",
                id: String::new(),
                file_id: String::new(),
                title: String::new(),
            };
            let path = app.url(&format!("/api/v1/parties/{party_id}"));
            let response = app
                .client
                .get(&path)
                .bearer_auth(&token)
                .send()
                .await
                .expect("folder");
            let want = if expected(role, &probe) { 200 } else { 404 };
            assert_eq!(response.status(), want, "{role} folder {kind} own={own}");
            if want == 200 {
                let folder: Value = response.json().await.expect("folder JSON");
                let listed = titles_of(&folder, "records");
                let should: HashSet<String> = seen
                    .iter()
                    .filter(|cell| cell.category == *kind && cell.own == *own)
                    .map(|cell| cell.title.clone())
                    .collect();
                assert_eq!(listed, should, "{role} folder records {kind} own={own}");
            }
        }

        // catalogue export, statistics and the due list: those who may, of what they see
        let may_export = matches!(
            role,
            "admin" | "archivist" | "director" | "general_manager" | "dept_manager"
        );
        let export = app
            .client
            .get(app.url("/api/v1/catalogue/export?format=csv&kind=items"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("export");
        if may_export {
            assert_eq!(export.status(), 200, "{role} export");
            let csv = export.text().await.expect("csv");
            for cell in &cells {
                assert_eq!(
                    csv.contains(&cell.title),
                    expected(role, cell),
                    "{}",
                    label(cell, "export")
                );
            }
            let stats: Value = app.get_json_as(&token, "/api/v1/stats").await;
            assert_eq!(stats["records"], json!(seen.len()), "{role} stats {stats}");
        } else {
            assert_eq!(export.status(), 403, "{role} export");
        }
        let due = app
            .client
            .get(app.url("/api/v1/disposition/due?as_of=2026-12-31&limit=1000"))
            .bearer_auth(&token)
            .send()
            .await
            .expect("due");
        if matches!(role, "admin" | "archivist" | "director" | "general_manager") {
            let list: Value = due.json().await.expect("due JSON");
            assert_eq!(titles_of(&list, "items"), seen_titles, "{role} due list");
        } else {
            assert_eq!(due.status(), 403, "{role} due list");
        }
    }
}
