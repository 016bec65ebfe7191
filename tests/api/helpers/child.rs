//! The real `dangan` binary as a child process, `serve` or `worker`, over a test's database
//! and data directory: started as a newcomer would (environment only), killed with SIGKILL
//! when a test needs a death, and always killed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The admin password every child server starts with.
pub const CHILD_ADMIN_PASSWORD: &str = "child-admin-password";

/// A running `dangan` child.
pub struct Dangan {
    child: Option<Child>,
    /// `http://127.0.0.1:PORT` of a `serve` child.
    pub address: String,
    log: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

impl Dangan {
    /// Starts `dangan COMMAND` (`serve`, `worker`) on database `url` and `data_dir`, with
    /// extra `DANGAN_*` settings.
    pub fn start(command: &str, url: &str, data_dir: &Path, env: &[(&str, &str)]) -> Self {
        let port = free_port();
        let log = data_dir.join(format!("dangan-{command}-{port}.log"));
        let log_file = std::fs::File::create(&log).expect("log file");
        let mut process = Command::new(env!("CARGO_BIN_EXE_dangan"));
        process
            .arg(command)
            .env_remove("DANGAN_CONFIG")
            .env("DANGAN_DATABASE_URL", url)
            .env("DANGAN_DATA_DIR", data_dir)
            .env("DANGAN_LISTEN", format!("127.0.0.1:{port}"))
            .env("DANGAN_ADMIN_PASSWORD", CHILD_ADMIN_PASSWORD)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log_file);
        let child = process.spawn().expect("dangan starts");
        Self {
            child: Some(child),
            address: format!("http://127.0.0.1:{port}"),
            log,
        }
    }

    /// The child's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// Waits until a `serve` child answers `/readyz`.
    pub async fn wait_ready(&mut self, client: &reqwest::Client) {
        let started = Instant::now();
        loop {
            if let Ok(response) = client.get(format!("{}/readyz", self.address)).send().await
                && response.status() == 200
            {
                return;
            }
            assert!(self.is_running(), "dangan exited early:\n{}", self.logs());
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "not ready within a minute:\n{}",
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Whether the child has not exited.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|child| matches!(child.try_wait(), Ok(None)))
    }

    /// Kills the child with SIGKILL, as a crash or the kernel's OOM killer would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// What the child logged.
    pub fn logs(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Dangan {
    fn drop(&mut self) {
        self.kill();
    }
}
