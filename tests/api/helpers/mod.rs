//! `TestApp`: the real router over a real PostgreSQL database (one per test, from
//! `#[sqlx::test]`), a local object store and index in a temp directory, served on a real
//! TCP port and driven with reqwest.

use std::path::{Path, PathBuf};
use std::time::Duration;

use dangan::app::App;
use dangan::blobs::BlobStore;
use dangan::config::Settings;
use reqwest::multipart::{Form, Part};
use serde_json::Value;
use sqlx::PgPool;
use tempfile::TempDir;
use tokio::sync::oneshot;

pub mod browser;
pub mod child;
pub mod cluster;
pub mod proxy;
pub mod s3;
pub mod smtp;

pub const ADMIN_PASSWORD: &str = "admin-test-password";

pub struct TestApp {
    pub address: String,
    pub client: reqwest::Client,
    pub token: String,
    pub pool: PgPool,
    pub app: App,
    pub settings: Settings,
    pub data_dir: TempDir,
    _shutdown: oneshot::Sender<()>,
}

/// A file to upload.
pub struct TestFile {
    pub name: String,
    pub bytes: Vec<u8>,
    pub content_type: Option<String>,
}

impl TestFile {
    pub fn new(name: &str, bytes: Vec<u8>) -> Self {
        Self {
            name: name.to_owned(),
            bytes,
            content_type: None,
        }
    }
}

impl TestApp {
    pub async fn spawn(pool: PgPool) -> Self {
        Self::spawn_with(pool, &[]).await
    }

    /// Spawns with extra `DANGAN_*` settings, e.g. `("DANGAN_MAX_UPLOAD_BYTES", "1000")`.
    pub async fn spawn_with(pool: PgPool, env: &[(&str, &str)]) -> Self {
        let data_dir = tempfile::tempdir().expect("temp dir");
        let mut vars = vec![
            (
                "DANGAN_DATA_DIR".to_owned(),
                data_dir.path().display().to_string(),
            ),
            // the server parses uploads in `dangan-sandbox`: this test binary is not dangan
            (
                "DANGAN_EXTRACT__SANDBOX_PROGRAM".to_owned(),
                env!("CARGO_BIN_EXE_dangan-sandbox").to_owned(),
            ),
        ];
        vars.extend(
            env.iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned())),
        );
        let settings = Settings::from_sources(None, vars).expect("test settings are valid");
        let blobs = BlobStore::open(
            settings.storage.object_store_url.as_deref(),
            &data_dir.path().join("objects"),
        )
        .expect("object store opens");
        let index_dir = data_dir.path().join("index");
        std::fs::create_dir_all(&index_dir).expect("index dir");
        let app = App::new(&settings, pool.clone(), blobs, index_dir);
        app.auth
            .ensure_admin(Some(ADMIN_PASSWORD))
            .await
            .expect("admin created");
        app.catalogue
            .initialise(&settings.catalogue.preset)
            .await
            .expect("catalogue preset loads");

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind a port");
        let address = format!("http://{}", listener.local_addr().expect("local addr"));
        let (shutdown, stopped) = oneshot::channel::<()>();
        tokio::spawn(dangan::http::serve(
            listener,
            app.clone(),
            async move {
                let _ = stopped.await;
            },
            Duration::from_secs(5),
        ));
        let client = reqwest::Client::new();
        let token = login(&client, &address, "admin", ADMIN_PASSWORD).await;
        Self {
            address,
            client,
            token,
            pool,
            app,
            settings,
            data_dir,
            _shutdown: shutdown,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// A GET with the admin's token.
    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(self.url(path)).bearer_auth(&self.token)
    }

    /// GETs `path` with the admin's token, asserting 200, and returns its JSON.
    pub async fn get_json(&self, path: &str) -> Value {
        let response = self.get(path).send().await.expect("get");
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("json")
    }

    /// GETs `path` with the admin's token, asserting 200, and returns its body.
    pub async fn get_bytes(&self, path: &str) -> Vec<u8> {
        let response = self.get(path).send().await.expect("get");
        assert_eq!(response.status(), 200, "GET {path}");
        response.bytes().await.expect("bytes").to_vec()
    }

    /// GETs `path` as the holder of `token`, asserting 200, and returns its JSON.
    pub async fn get_json_as(&self, token: &str, path: &str) -> Value {
        let response = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("get");
        assert_eq!(response.status(), 200, "GET {path}");
        response.json().await.expect("json")
    }

    /// A POST with the admin's token.
    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(self.url(path)).bearer_auth(&self.token)
    }

    /// Files a record: the metadata part first, then one part per file.
    pub async fn upload(&self, metadata: &Value, files: Vec<TestFile>) -> reqwest::Response {
        let mut form = Form::new().part(
            "metadata",
            Part::text(metadata.to_string())
                .mime_str("application/json")
                .expect("valid mime"),
        );
        for file in files {
            let mut part = Part::bytes(file.bytes).file_name(file.name);
            if let Some(content_type) = file.content_type {
                part = part.mime_str(&content_type).expect("valid mime");
            }
            form = form.part("file", part);
        }
        self.post("/api/v1/records")
            .multipart(form)
            .send()
            .await
            .expect("request sent")
    }

    /// Files a record and returns its JSON, asserting 201.
    pub async fn file_record(&self, metadata: &Value, files: Vec<TestFile>) -> Value {
        let response = self.upload(metadata, files).await;
        assert_eq!(
            response.status(),
            201,
            "{}",
            response.text().await.unwrap_or_default()
        );
        response.json().await.expect("record JSON")
    }

    /// Paths of every object stored under `prefix` of the local object store.
    pub fn objects(&self, prefix: &str) -> Vec<PathBuf> {
        let mut found = Vec::new();
        walk(
            &self.data_dir.path().join("objects").join(prefix),
            &mut found,
        );
        found
    }

    /// Creates a user with `role` (and department code, if any) and returns their token.
    pub async fn user_token(&self, username: &str, role: &str, department: Option<&str>) -> String {
        let password = "a-long-password";
        let response = self
            .post("/api/v1/users")
            .json(&serde_json::json!({
                "username": username, "password": password, "role": role, "department": department,
            }))
            .send()
            .await
            .expect("create user");
        assert_eq!(
            response.status(),
            201,
            "{}",
            response.text().await.unwrap_or_default()
        );
        login(&self.client, &self.address, username, password).await
    }

    /// Row count of a table.
    pub async fn count(&self, table: &str) -> i64 {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("select count(*) from {table}")))
            .fetch_one(&self.pool)
            .await
            .expect("count rows")
    }

    /// Makes the database refuse every insert into `table` of a row for which `when` holds
    /// (an SQL condition on `new`): a real failure in the middle of a transaction. Until
    /// `drop trigger refuse on TABLE`.
    pub async fn refuse_inserts(&self, table: &str, when: &str) {
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!(
            "create or replace function refuse() returns trigger language plpgsql as
               $$ begin raise exception 'the database refused the row'; end $$;
             create trigger refuse before insert on {table}
               for each row when ({when}) execute function refuse();"
        )))
        .execute(&self.pool)
        .await
        .expect("install failing trigger");
    }
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            walk(&path, found);
        } else {
            found.push(path);
        }
    }
}

/// The URL of the test's own database, from the server `DATABASE_URL` names.
pub async fn database_url(pool: &PgPool) -> String {
    let name: String = sqlx::query_scalar("select current_database()")
        .fetch_one(pool)
        .await
        .expect("database name");
    let base = std::env::var("DATABASE_URL").expect("DATABASE_URL is set for sqlx::test");
    let server = base
        .rsplit_once('/')
        .map_or(base.as_str(), |(server, _)| server);
    format!("{server}/{name}")
}

/// Logs in and returns the bearer token.
pub async fn login(
    client: &reqwest::Client,
    address: &str,
    username: &str,
    password: &str,
) -> String {
    let response = client
        .post(format!("{address}/api/v1/auth/login"))
        .json(&serde_json::json!({ "username": username, "password": password }))
        .send()
        .await
        .expect("login request");
    assert_eq!(response.status(), 200, "login failed");
    let body: Value = response.json().await.expect("login JSON");
    body["token"].as_str().expect("token").to_owned()
}

/// A file of the shared test corpus (../shared/corpus beside the repository).
pub fn corpus(relative: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/corpus")
        .join(relative);
    std::fs::read(&path).unwrap_or_else(|error| {
        panic!("test corpus file {} is missing ({error}); ../shared/corpus must sit beside the repository", path.display())
    })
}

/// Asserts a problem-details response with this status and code; returns its body.
pub async fn assert_problem(response: reqwest::Response, status: u16, code: &str) -> Value {
    assert_eq!(response.status(), status);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|value| value.to_str().ok()),
        Some("application/problem+json")
    );
    let body: Value = response.json().await.expect("problem JSON");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status);
    body
}
