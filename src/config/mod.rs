//! Typed settings: `config/default.toml` (built in), then an optional file, then `DANGAN_*`
//! environment variables. Parsed and validated once at start-up.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use figment::providers::{Format, Toml};
use figment::value::{Dict, Map, Value};
use figment::{Figment, Metadata, Profile, Provider};
use serde::{Deserialize, Deserializer};

/// The documented defaults, compiled into the binary so it runs from any directory.
pub const DEFAULT_TOML: &str = include_str!("../../config/default.toml");

/// Environment variable naming an extra TOML file read after the defaults.
pub const CONFIG_FILE_VAR: &str = "DANGAN_CONFIG";

/// Short names of the configuration contract (api.md) and the keys they set.
const ENV_ALIASES: &[(&str, &str)] = &[
    ("DANGAN_LISTEN", "server.listen"),
    ("DANGAN_MAX_UPLOAD_BYTES", "server.max_upload_bytes"),
    ("DANGAN_DATA_DIR", "storage.data_dir"),
    ("DANGAN_OBJECT_STORE_URL", "storage.object_store_url"),
    ("DANGAN_DATABASE_URL", "database.url"),
    ("DANGAN_ADMIN_PASSWORD", "auth.admin_password"),
    ("DANGAN_TIMEZONE", "time.timezone"),
];

/// All settings of one dangan process.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub storage: StorageSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub time: TimeSettings,
    pub catalogue: CatalogueSettings,
    pub worker: WorkerSettings,
    /// Recurring jobs: job kind -> cron pattern.
    pub schedules: std::collections::BTreeMap<String, String>,
    pub extract: ExtractSettings,
    pub search: SearchSettings,
    pub reminders: ReminderSettings,
    pub integrity: IntegritySettings,
    pub log: LogSettings,
}

/// Fixity sweeps and the four-properties check.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IntegritySettings {
    /// Bytes per second a sweep reads at most; 0 for no limit.
    pub fixity_rate: u64,
    /// Largest file the four-properties check opens to look inside.
    pub max_inspect_bytes: u64,
}

/// Reminders: how far ahead they are raised, and where they are delivered.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReminderSettings {
    pub retention_lead_days: u32,
    pub deadline_lead_days: u32,
    pub missed_reading_days: u32,
    #[serde(default, deserialize_with = "non_empty")]
    pub webhook_url: Option<String>,
    #[serde(default, deserialize_with = "non_empty_secret")]
    pub smtp_url: Option<Secret>,
    pub email_from: String,
}

/// The background job runner.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSettings {
    /// Jobs one process runs at once; 0: [`WorkerSettings::jobs_at_once`] picks it.
    pub concurrency: usize,
    /// Deaths of its worker after which a job fails without being run again.
    pub max_crashes: u32,
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
    #[serde(with = "humantime_serde")]
    pub retry_base: Duration,
    #[serde(with = "humantime_serde")]
    pub retry_max: Duration,
    pub destruction_chunk: usize,
}

impl WorkerSettings {
    /// Jobs run at once: `concurrency`, or when it is 0 twice the cores (at least 2, at most
    /// 16). A job alternates between waiting (on PostgreSQL, the store, a tool's start) and
    /// a tool working a core, so one job per core leaves cores idle in the waits: a bulk
    /// import on 2 cores went from 0.36 to 0.42 of the bare pdftotext loops' speed with 4.
    pub fn jobs_at_once(&self, requested: Option<usize>) -> usize {
        match requested.unwrap_or(self.concurrency) {
            0 => std::thread::available_parallelism()
                .map_or(2, |cores| cores.get() * 2)
                .clamp(2, 16),
            jobs => jobs,
        }
    }
}

/// Text extraction: OCR languages and the bounds of external tools.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExtractSettings {
    pub ocr_languages: String,
    pub max_ocr_pages: u32,
    pub ocr_dpi: u32,
    #[serde(with = "humantime_serde")]
    pub tool_timeout: Duration,
    pub max_text_bytes: usize,
    /// The dangan binary that parses uploaded files in a child process; unset: this one.
    #[serde(default, deserialize_with = "non_empty")]
    pub sandbox_program: Option<String>,
    /// Address space of that child, in bytes.
    pub sandbox_memory: u64,
    /// CPU time of that child.
    #[serde(with = "humantime_serde")]
    pub sandbox_cpu: Duration,
}

/// The search index.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SearchSettings {
    pub writer_memory: usize,
    #[serde(with = "humantime_serde")]
    pub poll_interval: Duration,
}

/// The catalogue of a new installation.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CatalogueSettings {
    /// Preset loaded on the first start of an empty database: "enterprise" or "none".
    pub preset: String,
    /// Age in years at which a record comes up for release review.
    pub review_after_years: u32,
}

/// The HTTP listener.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    pub max_upload_bytes: u64,
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
}

/// Where content and local state live.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StorageSettings {
    pub data_dir: PathBuf,
    #[serde(default, deserialize_with = "non_empty")]
    pub object_store_url: Option<String>,
    #[serde(with = "humantime_serde")]
    pub staging_max_age: Duration,
}

/// PostgreSQL connection, or the embedded cluster when `url` is unset.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    #[serde(default, deserialize_with = "non_empty_secret")]
    pub url: Option<Secret>,
    pub max_connections: u32,
    #[serde(with = "humantime_serde")]
    pub acquire_timeout: Duration,
    #[serde(with = "humantime_serde")]
    pub connect_timeout: Duration,
}

/// Logins and the first administrator.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    #[serde(default, deserialize_with = "non_empty_secret")]
    pub admin_password: Option<Secret>,
    #[serde(with = "humantime_serde")]
    pub token_ttl: Duration,
}

/// Local time for schedules and due dates.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeSettings {
    #[serde(deserialize_with = "time_zone")]
    pub timezone: chrono_tz::Tz,
}

/// Logging.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub level: String,
    pub format: LogFormat,
}

/// Log line format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

/// A value that must never reach a log line: `Debug` prints `[redacted]`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself, for the one place that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

/// Why the settings could not be used; the message names the setting.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("configuration: {0}")]
    Invalid(Box<figment::Error>),
    #[error("configuration: {setting}: {reason}")]
    Setting {
        setting: &'static str,
        reason: String,
    },
}

impl Settings {
    /// Loads the settings of this process: defaults, `config_file` (or `DANGAN_CONFIG`), then
    /// the process environment.
    pub fn load(config_file: Option<&Path>) -> Result<Self, ConfigError> {
        Self::from_sources(config_file, std::env::vars())
    }

    /// Loads settings from explicit sources; tests use this instead of the process environment.
    pub fn from_sources(
        config_file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let env: Vec<(String, String)> = env.into_iter().collect();
        let mut figment = Figment::new().merge(Toml::string(DEFAULT_TOML));
        let file_from_env = env
            .iter()
            .find(|(name, value)| name == CONFIG_FILE_VAR && !value.is_empty())
            .map(|(_, value)| PathBuf::from(value));
        if let Some(file) = config_file.map(Path::to_path_buf).or(file_from_env) {
            if !file.is_file() {
                return Err(ConfigError::Setting {
                    setting: "--config / DANGAN_CONFIG",
                    reason: format!("no such file: {}", file.display()),
                });
            }
            figment = figment.merge(Toml::file(file));
        }
        let defaults = Figment::new().merge(Toml::string(DEFAULT_TOML));
        for (name, value) in env {
            if let Some(key) = env_key(&name) {
                let value = typed_like_default(&defaults, &key, value);
                figment = figment.merge(EnvVar { name, key, value });
            }
        }
        let settings: Settings = figment
            .extract()
            .map_err(|error| ConfigError::Invalid(Box::new(error)))?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |setting, reason: &str| {
            Err(ConfigError::Setting {
                setting,
                reason: reason.to_owned(),
            })
        };
        if self.server.max_upload_bytes == 0 {
            return invalid("server.max_upload_bytes", "must be greater than 0");
        }
        if self.database.max_connections == 0 {
            return invalid("database.max_connections", "must be greater than 0");
        }
        if self.extract.sandbox_memory < 64 << 20 {
            return invalid(
                "extract.sandbox_memory",
                "must be at least 67108864 (64 MiB)",
            );
        }
        if self.extract.sandbox_cpu < Duration::from_secs(1) {
            return invalid("extract.sandbox_cpu", "must be at least 1s");
        }
        if self.worker.max_crashes == 0 {
            return invalid("worker.max_crashes", "must be greater than 0");
        }
        if self.storage.data_dir.as_os_str().is_empty() {
            return invalid("storage.data_dir", "must not be empty");
        }
        if let Some(url) = &self.storage.object_store_url
            && url::Url::parse(url).is_err()
        {
            return invalid(
                "storage.object_store_url",
                "is not a URL (expected s3://…, gs://…, az://… or file:///…)",
            );
        }
        if let Some(url) = &self.database.url {
            let parsed = url::Url::parse(url.expose()).ok();
            if !matches!(
                parsed.as_ref().map(url::Url::scheme),
                Some("postgres" | "postgresql")
            ) {
                return invalid(
                    "database.url",
                    "is not a postgres:// URL (the value is not shown: it may hold a password)",
                );
            }
        }
        if let Some(url) = &self.reminders.webhook_url
            && !matches!(
                url::Url::parse(url).as_ref().map(url::Url::scheme),
                Ok("http" | "https")
            )
        {
            return invalid("reminders.webhook_url", "is not an http:// or https:// URL");
        }
        if let Some(url) = &self.reminders.smtp_url
            && !matches!(
                url::Url::parse(url.expose()).as_ref().map(url::Url::scheme),
                Ok("smtp" | "smtps")
            )
        {
            return invalid(
                "reminders.smtp_url",
                "is not an smtp:// or smtps:// URL (the value is not shown: it may hold a password)",
            );
        }
        if self
            .reminders
            .email_from
            .parse::<lettre::message::Mailbox>()
            .is_err()
        {
            return invalid(
                "reminders.email_from",
                "is not an e-mail address such as \"dangan <dangan@example.com>\"",
            );
        }
        if self.worker.concurrency > 64 {
            return invalid(
                "worker.concurrency",
                "must be between 1 and 64, or 0 for twice the cores",
            );
        }
        for (name, pattern) in &self.schedules {
            if let Err(reason) = crate::domain::schedule::Schedule::parse(name, pattern) {
                return Err(ConfigError::Setting {
                    setting: "schedules",
                    reason,
                });
            }
        }
        if self.extract.ocr_languages.trim().is_empty() {
            return invalid(
                "extract.ocr_languages",
                "must name at least one language, e.g. \"eng\"",
            );
        }
        if self.extract.ocr_dpi < 72 || self.extract.ocr_dpi > 1200 {
            return invalid("extract.ocr_dpi", "must be between 72 and 1200");
        }
        if self.search.writer_memory < 15_000_000 {
            return invalid("search.writer_memory", "must be at least 15000000 bytes");
        }
        if !matches!(self.catalogue.preset.as_str(), "enterprise" | "none") {
            return invalid("catalogue.preset", "must be \"enterprise\" or \"none\"");
        }
        if tracing_subscriber::EnvFilter::try_new(&self.log.level).is_err() {
            return invalid("log.level", "is not a valid log filter, e.g. \"info\"");
        }
        Ok(())
    }

    /// The recurring jobs, checked at start-up.
    pub fn schedules(&self) -> Vec<crate::domain::schedule::Schedule> {
        self.schedules
            .iter()
            .filter_map(|(name, pattern)| {
                crate::domain::schedule::Schedule::parse(name, pattern).ok()
            })
            .collect()
    }

    /// The data directory as an absolute path.
    pub fn data_dir(&self) -> PathBuf {
        std::path::absolute(&self.storage.data_dir)
            .unwrap_or_else(|_| self.storage.data_dir.clone())
    }
}

/// Maps `DANGAN_LISTEN` to `server.listen` and `DANGAN_SECTION__KEY` to `section.key`.
fn env_key(name: &str) -> Option<String> {
    if let Some((_, key)) = ENV_ALIASES.iter().find(|(alias, _)| *alias == name) {
        return Some((*key).to_owned());
    }
    let rest = name.strip_prefix("DANGAN_")?;
    rest.contains("__")
        .then(|| rest.to_ascii_lowercase().replace("__", "."))
}

/// An environment value as the type its default has: numbers and booleans are parsed, all
/// else stays text (so a password such as `007` keeps its zeros). A value that does not
/// parse stays text and fails extraction with an error naming the variable.
fn typed_like_default(defaults: &Figment, key: &str, value: String) -> Value {
    match defaults.find_value(key) {
        Ok(Value::Num(..)) => match value.trim().parse::<u64>() {
            Ok(number) => Value::from(number),
            Err(_) => Value::from(value),
        },
        Ok(Value::Bool(..)) => match value.trim().to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Value::from(true),
            "false" | "0" | "no" | "off" => Value::from(false),
            _ => Value::from(value),
        },
        _ => Value::from(value),
    }
}

/// One environment variable as a figment provider, so errors name the variable.
struct EnvVar {
    name: String,
    key: String,
    value: Value,
}

impl Provider for EnvVar {
    fn metadata(&self) -> Metadata {
        Metadata::named(format!("environment variable {}", self.name))
    }

    fn data(&self) -> Result<Map<Profile, Dict>, figment::Error> {
        let nested = figment::util::nest(&self.key, self.value.clone());
        let dict = nested.into_dict().unwrap_or_default();
        Ok(Profile::Default.collect(dict))
    }
}

fn non_empty<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    let value = Option::<String>::deserialize(deserializer)?;
    Ok(value.filter(|value| !value.trim().is_empty()))
}

fn non_empty_secret<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Secret>, D::Error> {
    Ok(non_empty(deserializer)?.map(Secret))
}

fn time_zone<'de, D: Deserializer<'de>>(deserializer: D) -> Result<chrono_tz::Tz, D::Error> {
    let name = String::deserialize(deserializer)?;
    name.parse().map_err(|_| {
        serde::de::Error::custom(format!(
            "unknown time zone {name:?}: use an IANA name such as \"Asia/Shanghai\""
        ))
    })
}

#[cfg(test)]
mod tests;
