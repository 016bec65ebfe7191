//! The real `dangan import` binary against the test's database: exit status, summary and
//! the report of failed rows.

use std::process::Command;

use sqlx::PgPool;

use super::{Batch, path_arg};
use crate::helpers::TestApp;

/// The URL of the test's own database, for the child process.
fn database_url(pool: &PgPool) -> String {
    let options = pool.connect_options();
    format!(
        "postgres://{}@{}:{}/{}",
        options.get_username(),
        options.get_host(),
        options.get_port(),
        options
            .get_database()
            .expect("the test database has a name")
    )
}

fn dangan_import(app: &TestApp, batch: &Batch, extra: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_dangan"))
        .arg("import")
        .arg(path_arg(&batch.files()))
        .arg("--manifest")
        .arg(path_arg(&batch.manifest()))
        .args(extra)
        .env("DANGAN_DATABASE_URL", database_url(&app.pool))
        .env("DANGAN_DATA_DIR", app.data_dir.path())
        .env_remove("DANGAN_CONFIG")
        .env_remove("RUST_LOG")
        .output()
        .expect("run dangan import")
}

#[sqlx::test]
async fn the_command_exits_non_zero_and_writes_a_report_naming_the_bad_row(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let batch = Batch::new();
    batch.add_file("a.pdf", b"%PDF-1.4 a");
    batch.add_file("c.pdf", b"%PDF-1.4 c");
    batch.write_manifest(
        "\u{feff}路径,题名,门类,部门\n\
         a.pdf,甲,WS,BGS\n\
         缺失.pdf,乙,WS,BGS\n\
         c.pdf,丙,WS,BGS\n"
            .as_bytes(),
    );

    // Blocking is fine: the child talks to PostgreSQL, not to this test's server.
    let output = dangan_import(&app, &batch, &[]);

    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(stdout.contains("imported 2 records (2 rows)"), "{stdout}");
    assert_eq!(
        stderr.matches("1 rows failed").count(),
        1,
        "the error is printed once: {stderr}"
    );
    let report_path = batch.dir.path().join("manifest.csv.errors.csv");
    let report = std::fs::read_to_string(&report_path).expect("report written beside the manifest");
    let mut lines = report.trim_start_matches('\u{feff}').lines();
    assert_eq!(lines.next(), Some("row,path,record,reason"));
    let bad = lines.next().expect("one failed row");
    assert!(
        bad.starts_with("3,缺失.pdf,,path: there is no file 缺失.pdf"),
        "{bad}"
    );
    assert_eq!(lines.next(), None);
    assert_eq!(app.count("records").await, 2);

    // Fixed, the same command files just that row, exits 0 and leaves an empty report.
    batch.add_file("缺失.pdf", b"%PDF-1.4 b");
    let again = dangan_import(&app, &batch, &["--as", "admin"]);
    let stdout = String::from_utf8_lossy(&again.stdout);
    assert_eq!(
        again.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert!(
        stdout.contains("imported 1 records (1 rows); skipped 2 rows"),
        "{stdout}"
    );
    let report = std::fs::read_to_string(&report_path).expect("report");
    assert_eq!(
        report.trim_start_matches('\u{feff}').trim_end(),
        "row,path,record,reason"
    );
    assert_eq!(app.count("records").await, 3);
}
