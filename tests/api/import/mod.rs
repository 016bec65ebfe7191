//! Bulk import from a CSV manifest: bad rows are reported and the rest filed, re-runs resume,
//! Chinese headings in GB18030, rows grouped into one record, archival codes as uploads get.

mod command;

use std::path::{Path, PathBuf};

use dangan::services::ServiceResult;
use dangan::services::import::{ImportRequest, ImportSummary, RowOutcome, RowReport};
use serde_json::{Value, json};
use sqlx::PgPool;
use tempfile::TempDir;

use crate::helpers::TestApp;

/// An import directory with files, and the manifest beside it.
struct Batch {
    dir: TempDir,
}

impl Batch {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    fn files(&self) -> PathBuf {
        self.dir.path().join("files")
    }

    fn manifest(&self) -> PathBuf {
        self.dir.path().join("manifest.csv")
    }

    fn add_file(&self, relative: &str, bytes: &[u8]) {
        let path = self.files().join(relative);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create dirs");
        std::fs::write(path, bytes).expect("write file");
    }

    fn write_manifest(&self, bytes: &[u8]) {
        std::fs::create_dir_all(self.files()).expect("files dir");
        std::fs::write(self.manifest(), bytes).expect("write manifest");
    }

    fn request(&self) -> ImportRequest {
        ImportRequest {
            dir: self.files(),
            manifest: self.manifest(),
            username: "admin".into(),
        }
    }
}

/// Plans and runs an import; returns the summary and every row's report in order.
async fn import(
    app: &TestApp,
    request: ImportRequest,
) -> (ServiceResult<ImportSummary>, Vec<RowReport>) {
    let plan = match app.app.import.plan(request).await {
        Ok(plan) => plan,
        Err(error) => return (Err(error), Vec::new()),
    };
    let mut reports = Vec::new();
    let summary = app
        .app
        .import
        .run(plan, |report| reports.push(report.clone()))
        .await;
    (summary, reports)
}

async fn import_ok(app: &TestApp, batch: &Batch) -> (ImportSummary, Vec<RowReport>) {
    let (summary, reports) = import(app, batch.request()).await;
    (summary.expect("the import runs"), reports)
}

fn reason(report: &RowReport) -> &str {
    match &report.outcome {
        RowOutcome::Failed { reason } => reason,
        other => panic!("row {} did not fail: {other:?}", report.line),
    }
}

async fn record(app: &TestApp, report: &RowReport) -> Value {
    let RowOutcome::Imported { record_id, .. } = &report.outcome else {
        panic!("row {} was not imported: {:?}", report.line, report.outcome);
    };
    let response = app
        .get(&format!("/api/v1/records/{record_id}"))
        .send()
        .await
        .expect("get record");
    assert_eq!(response.status(), 200);
    response.json().await.expect("record JSON")
}

#[sqlx::test]
async fn import_of_a_manifest_with_one_bad_row_imports_the_rest_and_reports_the_bad_one(
    pool: PgPool,
) {
    let app = TestApp::spawn(pool).await;
    let batch = Batch::new();
    batch.add_file("2024/通知.pdf", b"%PDF-1.4 notice");
    batch.add_file("2024/bad.pdf", b"%PDF-1.4 bad");
    batch.add_file("2024/纪要.pdf", b"%PDF-1.4 minutes");
    batch.write_manifest(
        "path,title,doc_date,category,retention,department,doc_number,pages\n\
         2024/通知.pdf,关于档案工作的通知,2024-05-01,WS,D10,BGS,办发〔2024〕7号,3\n\
         2024/bad.pdf,分类错误,2024-05-02,XX,D10,BGS,,\n\
         2024/纪要.pdf,会议纪要,2024/5/3,WS,D10,BGS,,2\n"
            .as_bytes(),
    );

    let (summary, reports) = import_ok(&app, &batch).await;

    assert_eq!(
        (
            summary.records_imported,
            summary.rows_imported,
            summary.rows_skipped
        ),
        (2, 2, 0)
    );
    assert_eq!(summary.failures.len(), 1);
    let bad = &summary.failures[0];
    assert_eq!((bad.line, bad.path.as_str()), (3, "2024/bad.pdf"));
    assert!(
        reason(bad).contains("category") && reason(bad).contains("XX"),
        "{}",
        reason(bad)
    );
    let first = record(&app, &reports[0]).await;
    assert_eq!(first["archival_code"], "Z001-WS·2024-D10-BGS-0001");
    assert_eq!(first["retention_due_on"], "2035-01-01");
    assert_eq!(first["doc_number"], "办发〔2024〕7号");
    assert_eq!(first["files"][0]["filename"], "通知.pdf");
    let third = record(&app, &reports[2]).await;
    assert_eq!(
        third["archival_code"], "Z001-WS·2024-D10-BGS-0002",
        "item numbers follow the manifest and the bad row leaves no gap"
    );
    assert_eq!(third["doc_date"], "2024-05-03");
    let audited: i64 =
        sqlx::query_scalar("select count(*) from audit_events where action = 'record.created'")
            .fetch_one(&app.pool)
            .await
            .expect("count audit events");
    assert_eq!(audited, 2);
}

#[sqlx::test]
async fn re_running_imports_only_what_is_missing_and_a_fixed_row_is_filed_once(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let batch = Batch::new();
    batch.add_file("a.pdf", b"%PDF-1.4 a");
    batch.write_manifest(
        "path,title,category,department\n\
         a.pdf,A,WS,BGS\n\
         scans/b.pdf,B,WS,BGS\n"
            .as_bytes(),
    );
    let (first, _) = import_ok(&app, &batch).await;
    assert_eq!((first.rows_imported, first.failures.len()), (1, 1));
    assert!(
        reason(&first.failures[0]).contains("no file scans/b.pdf"),
        "{:?}",
        first.failures
    );

    let (again, _) = import_ok(&app, &batch).await;
    assert_eq!((again.rows_imported, again.rows_skipped), (0, 1));
    assert_eq!(again.failures.len(), 1, "the bad row fails again");
    assert_eq!(again.failures[0].line, 3);
    assert_eq!(app.count("records").await, 1);

    batch.add_file("scans/b.pdf", b"%PDF-1.4 b");
    let (fixed, reports) = import_ok(&app, &batch).await;
    assert_eq!(
        (
            fixed.rows_imported,
            fixed.rows_skipped,
            fixed.failures.len()
        ),
        (1, 1, 0)
    );
    assert!(matches!(reports[0].outcome, RowOutcome::Skipped { .. }));
    assert_eq!(app.count("records").await, 2);
    assert_eq!(app.count("import_rows").await, 2);
    let b = record(&app, &reports[1]).await;
    assert!(
        b["archival_code"]
            .as_str()
            .is_some_and(|code| code.ends_with("-0002")),
        "{b}"
    );
}

#[sqlx::test]
async fn chinese_headings_and_labels_in_gb18030_are_imported(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let response = app
        .post("/api/v1/parties")
        .json(&json!({ "kind": "employee", "identifier": "E001", "name": "張三", "department": "RSB" }))
        .send()
        .await
        .expect("create party");
    assert_eq!(response.status(), 201);
    let party: Value = response.json().await.expect("party JSON");
    let batch = Batch::new();
    batch.add_file("人事/E001/身份證.jpg", b"\xff\xd8\xff\xe0 id card");
    let manifest = "路徑,題名,日期,門類,部門,工號,文件類型,密級,載體,頁數,備註\r\n\
                    人事\\E001\\身份證.jpg,身份證復印件,2024年5月1日,RS,RSB,E001,id_card,機密,紙質,1,正反面\r\n";
    let (bytes, _, unmappable) = encoding_rs::GB18030.encode(manifest);
    assert!(!unmappable);
    batch.write_manifest(&bytes);

    let (summary, reports) = import_ok(&app, &batch).await;

    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    let filed = record(&app, &reports[0]).await;
    assert_eq!(filed["title"], "身份證復印件");
    assert_eq!(filed["party_id"], party["id"]);
    assert_eq!(filed["security_level"], "confidential");
    assert_eq!(filed["carrier"], "paper");
    assert_eq!(filed["description"], "正反面");
    assert_eq!(filed["archival_code"], "Z001-RS·2024-LZ2-RSB-0001");
    assert_eq!(filed["files"][0]["filename"], "身份證.jpg");
}

#[sqlx::test]
async fn rows_sharing_a_record_key_become_one_record_with_two_files(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let batch = Batch::new();
    batch.add_file("ht/合同-1.pdf", b"%PDF-1.4 page one");
    batch.add_file("ht/合同-2.pdf", b"%PDF-1.4 page two");
    batch.add_file("other.pdf", b"%PDF-1.4 other");
    batch.write_manifest(
        "path,record,title,doc_date,category,department,custom.amount,custom.signed_on\n\
         ht/合同-1.pdf,HT-7,采购合同,2024-03-01,HT,XSB,1200.5,2024/3/1\n\
         other.pdf,,另一件,2024-03-02,WS,XSB,,\n\
         ht/合同-2.pdf,HT-7,,,,,,\n"
            .as_bytes(),
    );

    let (summary, reports) = import_ok(&app, &batch).await;

    assert!(summary.failures.is_empty(), "{:?}", summary.failures);
    assert_eq!((summary.records_imported, summary.rows_imported), (2, 3));
    assert_eq!(app.count("records").await, 2);
    let contract = record(&app, &reports[0]).await;
    let filenames: Vec<&str> = contract["files"]
        .as_array()
        .expect("files")
        .iter()
        .map(|file| file["filename"].as_str().expect("filename"))
        .collect();
    assert_eq!(filenames, ["合同-1.pdf", "合同-2.pdf"]);
    assert_eq!(contract["archival_code"], "Z001-HT·2024-D30-XSB-0001");
    assert_eq!(
        contract["custom"],
        json!({ "amount": 1200.5, "signed_on": "2024-03-01" })
    );
    assert_eq!(
        reports.iter().map(|report| report.line).collect::<Vec<_>>(),
        [2, 4, 3]
    );
}

#[sqlx::test]
async fn an_unknown_heading_or_user_stops_the_import_before_anything_is_filed(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let batch = Batch::new();
    batch.add_file("a.pdf", b"%PDF-1.4 a");
    batch.write_manifest("path,title,titel\na.pdf,A,B\n".as_bytes());
    let (result, _) = import(&app, batch.request()).await;
    let message = result.expect_err("unknown heading").to_string();
    assert!(
        message.contains("\"titel\"") && message.contains("column 3"),
        "{message}"
    );

    batch.write_manifest("path,title\na.pdf,A\n".as_bytes());
    let mut request = batch.request();
    request.username = "nobody".into();
    let (result, _) = import(&app, request).await;
    let message = result.expect_err("unknown user").to_string();
    assert!(
        message.contains("\"nobody\"") && message.contains("--as"),
        "{message}"
    );
    assert_eq!(app.count("records").await, 0);
}

/// The directory of a batch, for the command test.
fn path_arg(path: &Path) -> &str {
    path.to_str().expect("temp paths are UTF-8")
}
