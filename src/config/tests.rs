//! Settings: defaults, overrides, validation and redaction.

use super::*;

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

#[test]
fn default_toml_parses_to_the_documented_defaults() {
    let settings = Settings::from_sources(None, env(&[])).expect("defaults are valid");
    assert_eq!(settings.server.listen.to_string(), "127.0.0.1:8080");
    assert_eq!(settings.server.max_upload_bytes, 4 * 1024 * 1024 * 1024);
    assert_eq!(settings.storage.data_dir, PathBuf::from("./var"));
    assert!(settings.database.url.is_none());
    assert!(settings.storage.object_store_url.is_none());
    assert!(settings.auth.admin_password.is_none());
    assert_eq!(settings.time.timezone, chrono_tz::Asia::Shanghai);
}

#[test]
fn contract_variables_override_the_defaults() {
    let settings = Settings::from_sources(
        None,
        env(&[
            ("DANGAN_LISTEN", "0.0.0.0:9000"),
            ("DANGAN_MAX_UPLOAD_BYTES", "1024"),
            ("DANGAN_DATA_DIR", "/srv/dangan"),
            ("DANGAN_DATABASE_URL", "postgres://u:pw@db/dangan"),
            ("DANGAN_ADMIN_PASSWORD", "007"),
            ("DANGAN_TIMEZONE", "Asia/Taipei"),
            ("DANGAN_DATABASE__MAX_CONNECTIONS", "3"),
        ]),
    )
    .expect("valid overrides");
    assert_eq!(settings.server.listen.port(), 9000);
    assert_eq!(settings.server.max_upload_bytes, 1024);
    assert_eq!(settings.storage.data_dir, PathBuf::from("/srv/dangan"));
    assert_eq!(settings.database.max_connections, 3);
    assert_eq!(
        settings.auth.admin_password.as_ref().map(Secret::expose),
        Some("007"),
        "a numeric-looking password keeps its leading zeros"
    );
    assert_eq!(settings.time.timezone, chrono_tz::Asia::Taipei);
}

#[test]
fn a_bad_environment_value_names_the_setting_and_the_variable() {
    let error = Settings::from_sources(None, env(&[("DANGAN_MAX_UPLOAD_BYTES", "lots")]))
        .expect_err("not a number")
        .to_string();
    assert!(error.contains("max_upload_bytes"), "{error}");
    assert!(error.contains("DANGAN_MAX_UPLOAD_BYTES"), "{error}");
}

#[test]
fn an_unknown_time_zone_is_rejected_with_advice() {
    let error = Settings::from_sources(None, env(&[("DANGAN_TIMEZONE", "China/Beijing")]))
        .expect_err("unknown zone")
        .to_string();
    assert!(
        error.contains("timezone") && error.contains("Asia/Shanghai"),
        "{error}"
    );
}

#[test]
fn secrets_never_appear_in_debug_output() {
    let settings = Settings::from_sources(
        None,
        env(&[
            ("DANGAN_DATABASE_URL", "postgres://u:hunter2@db/dangan"),
            ("DANGAN_ADMIN_PASSWORD", "s3cret-pw"),
        ]),
    )
    .expect("valid");
    let printed = format!("{settings:?}");
    assert!(
        !printed.contains("hunter2") && !printed.contains("s3cret-pw"),
        "{printed}"
    );
}

#[test]
fn a_database_url_that_is_not_postgres_is_rejected_without_echoing_it() {
    let error = Settings::from_sources(None, env(&[("DANGAN_DATABASE_URL", "mysql://u:pw@x/db")]))
        .expect_err("wrong scheme")
        .to_string();
    assert!(
        error.contains("database.url") && !error.contains("pw@"),
        "{error}"
    );
}

#[test]
fn a_config_file_overrides_defaults_and_env_overrides_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("site.toml");
    std::fs::write(
        &file,
        "[server]\nlisten = \"127.0.0.1:7000\"\nmax_upload_bytes = 10\n",
    )
    .expect("write config");
    let settings = Settings::from_sources(Some(&file), env(&[("DANGAN_MAX_UPLOAD_BYTES", "20")]))
        .expect("valid");
    assert_eq!(settings.server.listen.port(), 7000);
    assert_eq!(settings.server.max_upload_bytes, 20);
}

#[test]
fn an_unknown_setting_in_a_file_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("site.toml");
    std::fs::write(&file, "[server]\nlisten_port = 80\n").expect("write config");
    let error = Settings::from_sources(Some(&file), env(&[]))
        .expect_err("unknown key")
        .to_string();
    assert!(error.contains("listen_port"), "{error}");
}

#[test]
fn workers_default_to_twice_the_cores_and_a_number_is_kept() {
    let settings = Settings::from_sources(None, env(&[])).expect("defaults are valid");
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    assert_eq!(settings.worker.jobs_at_once(None), (cores * 2).clamp(2, 16));
    assert_eq!(
        settings.worker.jobs_at_once(Some(3)),
        3,
        "--concurrency wins"
    );
    let set = Settings::from_sources(None, env(&[("DANGAN_WORKER__CONCURRENCY", "5")]))
        .expect("a number of jobs is valid");
    assert_eq!(set.worker.jobs_at_once(None), 5);
    let error = Settings::from_sources(None, env(&[("DANGAN_WORKER__CONCURRENCY", "65")]))
        .expect_err("too many")
        .to_string();
    assert!(error.contains("worker.concurrency"), "{error}");
}
