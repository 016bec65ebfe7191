//! Start-up with bad configuration stops with a message naming the setting.

use std::process::Command;

fn dangan_migrate(env: &[(&str, &str)]) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_dangan"));
    command
        .arg("migrate")
        .env_remove("DANGAN_DATABASE_URL")
        .env("DANGAN_DATA_DIR", dir.path());
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().expect("run dangan");
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_bad_environment_value_stops_start_up_naming_the_variable() {
    let (code, stderr) = dangan_migrate(&[("DANGAN_MAX_UPLOAD_BYTES", "lots")]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("DANGAN_MAX_UPLOAD_BYTES"), "{stderr}");
}

#[test]
fn a_bad_listen_address_or_time_zone_is_named() {
    let (code, stderr) = dangan_migrate(&[("DANGAN_LISTEN", "localhost")]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("listen"), "{stderr}");
    let (code, stderr) = dangan_migrate(&[("DANGAN_TIMEZONE", "Mars/Olympus")]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("Mars/Olympus"), "{stderr}");
}

#[test]
fn a_missing_config_file_is_named() {
    let (code, stderr) = dangan_migrate(&[("DANGAN_CONFIG", "/nonexistent/dangan.toml")]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("/nonexistent/dangan.toml"), "{stderr}");
}

#[test]
fn a_bad_schedule_is_named_with_what_is_wrong() {
    let (code, stderr) = dangan_migrate(&[("DANGAN_SCHEDULES__HOUSEKEEPING", "every day")]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("schedules") && stderr.contains("cron pattern"),
        "{stderr}"
    );
    let (code, stderr) = dangan_migrate(&[("DANGAN_SCHEDULES__SHRED_EVERYTHING", "* * * * *")]);
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("shred_everything"), "{stderr}");
}
