//! A real headless Chromium driven through WebDriver (Debian's `chromium` and
//! `chromium-driver`): a `chromedriver` child per browser, spoken to over HTTP with reqwest
//! (the W3C WebDriver protocol needs nothing more). A test that fails saves a screenshot and
//! the page source; every page's browser console is read for errors.

use std::future::Future;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::FutureExt;
use serde_json::{Value, json};

const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";

/// One browser session; clones share it.
#[derive(Clone)]
pub struct Browser {
    http: reqwest::Client,
    session: String,
    /// Kept for its `Drop`: the last clone ends chromedriver.
    _driver: std::sync::Arc<Driver>,
    /// The server under test, e.g. `http://127.0.0.1:4000`.
    pub base: String,
}

/// The chromedriver child and the browser profile, gone with the last clone.
struct Driver {
    child: std::sync::Mutex<Child>,
    _profile: tempfile::TempDir,
}

impl Drop for Driver {
    fn drop(&mut self) {
        if let Ok(mut child) = self.child.lock() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

impl Browser {
    /// Starts chromedriver and a headless Chromium for the server at `base`, in `lang`.
    pub async fn start(base: &str, lang: &str) -> Self {
        let port = free_port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts (apt-get install chromium-driver)");
        let http = reqwest::Client::new();
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while http.get(format!("{url}/status")).send().await.is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver never answered"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let profile = tempfile::tempdir().expect("profile dir");
        let args = json!([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--window-size=1280,1000",
            format!("--lang={lang}"),
            format!("--user-data-dir={}", profile.path().display()),
        ]);
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium", "args": args,
                "prefs": {"intl.accept_languages": lang},
            },
            "goog:loggingPrefs": {"browser": "ALL"},
        }}});
        let created: Value = http
            .post(format!("{url}/session"))
            .json(&capabilities)
            .send()
            .await
            .expect("new session")
            .json()
            .await
            .expect("session JSON");
        let session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no browser session: {created}"))
            .to_owned();
        Self {
            http,
            session: format!("{url}/session/{session}"),
            _driver: std::sync::Arc::new(Driver {
                child: std::sync::Mutex::new(driver),
                _profile: profile,
            }),
            base: base.to_owned(),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let mut request = self.http.request(method, format!("{}{path}", self.session));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response: Value = request
            .send()
            .await
            .expect("webdriver request")
            .json()
            .await
            .expect("webdriver JSON");
        if let Some(error) = response["value"]["error"].as_str() {
            panic!(
                "webdriver {path}: {error}: {}",
                response["value"]["message"]
            );
        }
        response["value"].clone()
    }

    /// Opens `path` of the server.
    pub async fn goto(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.call(reqwest::Method::POST, "/url", Some(json!({ "url": url })))
            .await;
    }

    /// The element for a CSS selector, waiting up to 10 s for it.
    pub async fn find(&self, css: &str) -> String {
        let started = Instant::now();
        loop {
            let response: Value = self
                .http
                .post(format!("{}/element", self.session))
                .json(&json!({ "using": "css selector", "value": css }))
                .send()
                .await
                .expect("find")
                .json()
                .await
                .expect("find JSON");
            if let Some(id) = response["value"][ELEMENT_KEY].as_str() {
                return id.to_owned();
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "no element {css} on {}",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Types `text` (any script) into the element.
    pub async fn type_into(&self, css: &str, text: &str) {
        let id = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/value"),
            Some(json!({ "text": text })),
        )
        .await;
    }

    /// Empties a field.
    pub async fn clear_field(&self, css: &str) {
        let id = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/clear"),
            Some(json!({})),
        )
        .await;
    }

    pub async fn click(&self, css: &str) {
        let id = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{id}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// The visible text of the element.
    pub async fn text(&self, css: &str) -> String {
        let id = self.find(css).await;
        self.call(reqwest::Method::GET, &format!("/element/{id}/text"), None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// An attribute or property of the element.
    pub async fn attribute(&self, css: &str, name: &str) -> Option<String> {
        let id = self.find(css).await;
        self.call(
            reqwest::Method::GET,
            &format!("/element/{id}/attribute/{name}"),
            None,
        )
        .await
        .as_str()
        .map(str::to_owned)
    }

    /// Runs JavaScript in the page and returns its result.
    pub async fn script(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({ "script": script, "args": [] })),
        )
        .await
    }

    /// The natural width of the image `css` once it has loaded (0: it failed to load).
    pub async fn loaded_image_width(&self, css: &str) -> u64 {
        let script = format!(
            "const i = document.querySelector({css:?}); \
             return i && i.complete ? i.naturalWidth : null;"
        );
        for _ in 0..100 {
            if let Some(width) = self.script(&script).await.as_u64() {
                return width;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("the image {css} did not load within 10 s");
    }

    /// What keeps the page from being used with a screen reader or a keyboard alone: form
    /// controls without a label, images without a text alternative, a page without exactly
    /// one `h1`, duplicated ids.
    pub async fn accessibility_problems(&self) -> Vec<String> {
        let found = self
            .script(
                "const problems = [];\
                 document.querySelectorAll('input:not([type=hidden]):not([type=submit]), select, textarea')\
                   .forEach(e => { if (!(e.labels && e.labels.length) && !e.getAttribute('aria-label')\
                     && !e.getAttribute('aria-labelledby')) problems.push('no label: ' + e.outerHTML.slice(0, 120)); });\
                 document.querySelectorAll('img:not([alt]), svg:not([aria-hidden]):not([role])')\
                   .forEach(e => problems.push('no text alternative: ' + e.outerHTML.slice(0, 120)));\
                 if (!document.title.trim() || document.title.includes('<')) problems.push('title: ' + document.title.slice(0, 80));\
                 const h1 = document.querySelectorAll('h1').length;\
                 if (h1 !== 1) problems.push(h1 + ' h1 headings');\
                 const ids = {};\
                 document.querySelectorAll('[id]').forEach(e => { if (ids[e.id]) problems.push('duplicate id ' + e.id); ids[e.id] = 1; });\
                 document.querySelectorAll('button').forEach(e => { if (!e.textContent.trim() && !e.getAttribute('aria-label')) problems.push('unnamed button'); });\
                 return problems;",
            )
            .await;
        let Some(items) = found.as_array() else {
            panic!("the accessibility check did not run: {found}");
        };
        items
            .iter()
            .filter_map(|item| item.as_str().map(str::to_owned))
            .collect()
    }

    pub async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    pub async fn source(&self) -> String {
        self.call(reqwest::Method::GET, "/source", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Waits until the page's path is `path` (after a submit or a redirect).
    pub async fn wait_for_path(&self, path: &str) {
        let started = Instant::now();
        loop {
            let url = self.url().await;
            if url.trim_start_matches(&self.base).starts_with(path) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "still on {url}, waiting for {path}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Clicks `css`, a form's submit button, and waits until the page it leads to has
    /// loaded: a form that comes back to the same address is told apart from the page it
    /// was sent from, which the address alone cannot do.
    pub async fn submit(&self, css: &str) {
        self.script("window.danganSentFrom = true;").await;
        self.click(css).await;
        let started = Instant::now();
        loop {
            let loaded = self
                .script(
                    "return window.danganSentFrom === undefined \
                     && document.readyState === 'complete';",
                )
                .await;
            if loaded.as_bool() == Some(true) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the page of {css} never loaded; still on {}",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Waits until the page's address holds `part` (a query parameter a redirect adds).
    pub async fn wait_for_url_with(&self, part: &str) {
        let started = Instant::now();
        loop {
            let url = self.url().await;
            if url.contains(part) {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "still on {url}, waiting for {part}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// How many elements match `css` now (no waiting).
    pub async fn count(&self, css: &str) -> u64 {
        let script = format!("return document.querySelectorAll({css:?}).length;");
        self.script(&script).await.as_u64().unwrap_or_default()
    }

    /// Console messages of level SEVERE since the last call (errors of the page's own
    /// scripts and failed loads).
    pub async fn console_errors(&self) -> Vec<String> {
        let logs: Value = self
            .http
            .post(format!("{}/se/log", self.session))
            .json(&json!({ "type": "browser" }))
            .send()
            .await
            .expect("log")
            .json()
            .await
            .expect("log JSON");
        logs["value"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter(|entry| entry["level"] == "SEVERE")
                    .filter_map(|entry| entry["message"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A PNG of the window.
    pub async fn screenshot(&self) -> Vec<u8> {
        use base64::Engine;
        let encoded = self.call(reqwest::Method::GET, "/screenshot", None).await;
        base64::engine::general_purpose::STANDARD
            .decode(encoded.as_str().unwrap_or_default())
            .unwrap_or_default()
    }

    /// Saves a screenshot and the page source of the test `name`; returns the folder.
    async fn save_evidence(&self, name: &str) -> PathBuf {
        let dir = std::env::temp_dir()
            .join("dangan-browser-failures")
            .join(name);
        let _ = std::fs::create_dir_all(&dir);
        let _ = std::fs::write(dir.join("screenshot.png"), self.screenshot().await);
        let _ = std::fs::write(dir.join("page.html"), self.source().await);
        dir
    }

    async fn quit(self) {
        let _ = self.http.delete(&self.session).send().await;
    }
}

/// Runs `test` in a browser for the server at `base`; a failure leaves a screenshot and
/// the page source behind (the panic message says where) and fails the test.
pub async fn with_browser<F, Fut>(base: &str, lang: &str, name: &str, test: F)
where
    F: FnOnce(Browser) -> Fut,
    Fut: Future<Output = ()>,
{
    let browser = Browser::start(base, lang).await;
    let outcome = std::panic::AssertUnwindSafe(test(browser.clone()))
        .catch_unwind()
        .await;
    if let Err(panic) = outcome {
        let dir = browser.save_evidence(name).await;
        // What a CI log needs when the evidence folder is on another machine: why, where,
        // and what the page said.
        let why = panic
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("(no message)");
        let url = browser.url().await;
        let said = browser
            .script("return document.body ? document.body.innerText : ''")
            .await;
        let said: String = said
            .as_str()
            .unwrap_or_default()
            .chars()
            .take(1500)
            .collect();
        eprintln!(
            "browser test {name} failed: {why}\n  at {url}\n  the page said: {said}\n  \
             screenshot and page source in {}",
            dir.display()
        );
        browser.quit().await;
        std::panic::resume_unwind(panic);
    }
    browser.quit().await;
}
