//! A real S3-compatible server (s3s-fs, installed by scripts/test) for tests of the S3 object
//! store.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A real S3-compatible server on a free port, stopped when dropped.
pub struct S3Server {
    child: Child,
    pub port: u16,
    /// The server's files: one directory per bucket.
    pub dir: tempfile::TempDir,
}

impl S3Server {
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment that points a `dangan` process at `s3://archive/dangan` here.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("DANGAN_OBJECT_STORE_URL", "s3://archive/dangan".to_owned()),
            ("AWS_ENDPOINT", self.endpoint()),
            ("AWS_ALLOW_HTTP", "true".to_owned()),
            ("AWS_ACCESS_KEY_ID", "test".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "testsecret".to_owned()),
            ("AWS_REGION", "us-east-1".to_owned()),
            ("AWS_VIRTUAL_HOSTED_STYLE_REQUEST", "false".to_owned()),
        ]
    }
}

impl S3Server {
    /// Stops the server: the store is unreachable until [`S3Server::restart`].
    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Starts the server again on the same port and files.
    pub async fn restart(&mut self) {
        self.child = spawn(self.port, self.dir.path());
        wait_for_port(self.port).await;
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn s3s_fs() -> PathBuf {
    let home_bin =
        std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo/bin/s3s-fs"));
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join("s3s-fs"))
        .chain(home_bin)
        .find(|candidate| candidate.is_file())
        .expect("s3s-fs is not installed: run scripts/test (it installs it) or `cargo install --locked s3s-fs@0.14.1 --features binary`")
}

/// Starts s3s-fs with an empty bucket `archive`.
pub async fn start_s3() -> S3Server {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::create_dir(dir.path().join("archive")).expect("bucket directory");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("free port");
    let child = spawn(port, dir.path());
    wait_for_port(port).await;
    S3Server { child, port, dir }
}

fn spawn(port: u16, dir: &Path) -> Child {
    Command::new(s3s_fs())
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--access-key", "test", "--secret-key", "testsecret"])
        .arg(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start s3s-fs")
}

async fn wait_for_port(port: u16) {
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
