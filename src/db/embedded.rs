//! The embedded PostgreSQL cluster used when no database URL is configured: created under
//! `<data_dir>/pg` on first start with the system's `initdb`, run as a child process that
//! listens only on a Unix socket inside the data directory, and stopped on shutdown.
//!
//! PostgreSQL refuses to run as root; when dangan runs as root the cluster belongs to the
//! unprivileged `postgres` system user and the server is started as that user. When that
//! user cannot enter the data directory (a clone under `/root`, say), the cluster lives
//! under `FALLBACK_ROOT` instead, in a directory named after the data directory, and the
//! log and `<data_dir>/pg.location` say where.

use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::net::UnixStream;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::{Pid, Uid, User, chown};
use sha2::{Digest, Sha256};

use super::Target;

/// Superuser of the embedded cluster.
const SUPERUSER: &str = "dangan";
/// The database dangan keeps its catalogue in; created on first connection.
pub const DATABASE: &str = "dangan";
const PORT: u16 = 5432;
/// Longest Unix socket path the kernel accepts (sun_path is 108 bytes with the NUL).
const MAX_SOCKET_PATH: usize = 107;
/// Where a root-run dangan keeps clusters whose data directory `postgres` cannot enter.
const FALLBACK_ROOT: &str = "/var/lib/dangan";

/// Why the embedded cluster could not be used; each message says what to do next.
#[derive(Debug, thiserror::Error)]
pub enum EmbeddedError {
    #[error(
        "PostgreSQL server programs (initdb, postgres) were not found: install them \
         (apt-get install postgresql), set PG_BIN to their directory, or set DANGAN_DATABASE_URL"
    )]
    BinariesNotFound,
    #[error(
        "PostgreSQL refuses to run as root and there is no `postgres` system user: create one \
         (apt-get install postgresql does), run dangan as a normal user, or set DANGAN_DATABASE_URL"
    )]
    NoUnprivilegedUser,
    #[error(
        "the `postgres` user cannot enter {0}: make it and its parents searchable \
         (chmod o+x) or choose another DANGAN_DATA_DIR"
    )]
    NotTraversable(PathBuf),
    #[error(
        "the socket path {0} is longer than {MAX_SOCKET_PATH} bytes: choose a shorter DANGAN_DATA_DIR"
    )]
    SocketPathTooLong(PathBuf),
    #[error("{action} failed: {detail}")]
    Command { action: String, detail: String },
    #[error("{action}: {source}")]
    Io {
        action: String,
        #[source]
        source: std::io::Error,
    },
}

fn io_error(action: impl Into<String>) -> impl FnOnce(std::io::Error) -> EmbeddedError {
    let action = action.into();
    move |source| EmbeddedError::Io { action, source }
}

/// The directory layout under `<data_dir>/pg`.
struct Layout {
    root: PathBuf,
    cluster: PathBuf,
    socket_dir: PathBuf,
    log: PathBuf,
}

impl Layout {
    fn new(data_dir: &Path) -> Self {
        Self::at(data_dir.join("pg"))
    }

    fn at(root: PathBuf) -> Self {
        Self {
            cluster: root.join("data"),
            socket_dir: root.join("run"),
            log: root.join("postgres.log"),
            root,
        }
    }

    fn socket_file(&self) -> PathBuf {
        self.socket_dir.join(format!(".s.PGSQL.{PORT}"))
    }
}

/// A running embedded cluster. Dropping it without [`EmbeddedPostgres::stop`] leaves the
/// server to the parent-death signal, which shuts it down fast when dangan exits.
pub struct EmbeddedPostgres {
    target: Target,
    server: Option<Server>,
}

/// The server process we started, and the thread that waits for it.
struct Server {
    pid: Pid,
    exited: mpsc::Receiver<()>,
}

impl EmbeddedPostgres {
    /// Creates the cluster on first use, then starts it, or attaches to the server another
    /// dangan process already runs on the same data directory.
    pub fn start(data_dir: &Path, timeout: Duration) -> Result<Self, EmbeddedError> {
        let owner = cluster_owner()?;
        let layout = choose_layout(data_dir, owner.as_ref())?;
        if layout.socket_file().as_os_str().len() > MAX_SOCKET_PATH {
            return Err(EmbeddedError::SocketPathTooLong(layout.socket_file()));
        }
        prepare_directories(&layout, owner.as_ref())?;
        let bin = find_binaries()?;
        let target = Target::Socket {
            dir: layout.socket_dir.clone(),
            user: SUPERUSER.to_owned(),
            database: DATABASE.to_owned(),
        };
        if !layout.cluster.join("PG_VERSION").exists() {
            init_cluster(&bin, &layout, owner.as_ref())?;
        }
        if accepts_connections(&layout) {
            tracing::info!(socket = %layout.socket_dir.display(), "attached to the running embedded PostgreSQL");
            return Ok(Self {
                target,
                server: None,
            });
        }
        let server = spawn_server(&bin, &layout, owner.as_ref())?;
        let embedded = Self {
            target,
            server: Some(server),
        };
        embedded.wait_until_ready(&layout, timeout)?;
        tracing::info!(cluster = %layout.cluster.display(), "embedded PostgreSQL started");
        Ok(embedded)
    }

    /// Where to connect.
    pub fn target(&self) -> &Target {
        &self.target
    }

    /// The maintenance database of the cluster, for creating [`DATABASE`].
    pub fn maintenance_target(&self) -> Target {
        match &self.target {
            Target::Socket { dir, user, .. } => Target::Socket {
                dir: dir.clone(),
                user: user.clone(),
                database: "postgres".to_owned(),
            },
            other => other.clone(),
        }
    }

    fn wait_until_ready(&self, layout: &Layout, timeout: Duration) -> Result<(), EmbeddedError> {
        let started = Instant::now();
        loop {
            if accepts_connections(layout) {
                return Ok(());
            }
            if let Some(server) = &self.server
                && server.exited.try_recv().is_ok()
            {
                return Err(EmbeddedError::Command {
                    action: "starting PostgreSQL".into(),
                    detail: format!(
                        "the server exited; its log says:\n{}",
                        log_tail(&layout.log)
                    ),
                });
            }
            if started.elapsed() > timeout {
                return Err(EmbeddedError::Command {
                    action: "starting PostgreSQL".into(),
                    detail: format!(
                        "not ready after {timeout:?}; its log says:\n{}",
                        log_tail(&layout.log)
                    ),
                });
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Shuts the server down (fast shutdown: running transactions are rolled back, nothing
    /// committed is lost) and waits for it to exit. A server we only attached to is left alone.
    pub fn stop(mut self, timeout: Duration) {
        let Some(server) = self.server.take() else {
            return;
        };
        if let Err(error) = kill(server.pid, Signal::SIGINT) {
            tracing::warn!(%error, "could not signal the embedded PostgreSQL");
            return;
        }
        match server.exited.recv_timeout(timeout) {
            Ok(()) => tracing::info!("embedded PostgreSQL stopped"),
            Err(_) => {
                tracing::warn!("embedded PostgreSQL did not stop in time; sending SIGQUIT");
                let _ = kill(server.pid, Signal::SIGQUIT);
                let _ = server.exited.recv_timeout(timeout);
            }
        }
    }
}

/// The user to run PostgreSQL as: `None` means the current (non-root) user.
fn cluster_owner() -> Result<Option<User>, EmbeddedError> {
    if !Uid::effective().is_root() {
        return Ok(None);
    }
    match User::from_name("postgres") {
        Ok(Some(user)) => Ok(Some(user)),
        _ => Err(EmbeddedError::NoUnprivilegedUser),
    }
}

fn prepare_directories(layout: &Layout, owner: Option<&User>) -> Result<(), EmbeddedError> {
    for dir in [&layout.root, &layout.socket_dir] {
        fs::create_dir_all(dir).map_err(io_error(format!("creating {}", dir.display())))?;
    }
    fs::set_permissions(&layout.socket_dir, fs::Permissions::from_mode(0o700))
        .map_err(io_error("restricting the socket directory"))?;
    let Some(owner) = owner else {
        return Ok(());
    };
    for dir in [&layout.root, &layout.socket_dir] {
        chown(dir.as_path(), Some(owner.uid), Some(owner.gid)).map_err(|errno| {
            io_error(format!("handing {} to postgres", dir.display()))(errno.into())
        })?;
    }
    // The server must be able to walk from / down to its own directory.
    match blocked_ancestor(&layout.root, owner) {
        Some(ancestor) => Err(EmbeddedError::NotTraversable(ancestor)),
        None => Ok(()),
    }
}

/// The first directory above `path` that `owner` cannot enter, if any.
fn blocked_ancestor(path: &Path, owner: &User) -> Option<PathBuf> {
    path.ancestors().skip(1).find_map(|ancestor| {
        let meta = fs::metadata(ancestor).ok()?;
        let mode = meta.mode();
        let searchable = mode & 0o001 != 0
            || (meta.uid() == owner.uid.as_raw() && mode & 0o100 != 0)
            || (meta.gid() == owner.gid.as_raw() && mode & 0o010 != 0);
        (!searchable).then(|| ancestor.to_path_buf())
    })
}

/// The cluster lives under `<data_dir>/pg`, unless dangan runs as root and `postgres` cannot
/// enter the data directory: then under [`FALLBACK_ROOT`], in a directory named after the
/// data directory's path (so every start finds it again), said in the log and in
/// `<data_dir>/pg.location`.
fn choose_layout(data_dir: &Path, owner: Option<&User>) -> Result<Layout, EmbeddedError> {
    let inside = Layout::new(data_dir);
    let Some(owner) = owner else {
        return Ok(inside);
    };
    fs::create_dir_all(data_dir).map_err(io_error(format!("creating {}", data_dir.display())))?;
    let Some(blocked) = blocked_ancestor(&inside.root, owner) else {
        return Ok(inside);
    };
    let data_dir = fs::canonicalize(data_dir)
        .map_err(io_error(format!("resolving {}", data_dir.display())))?;
    let digest = hex::encode(Sha256::digest(data_dir.as_os_str().as_encoded_bytes()));
    let root = Path::new(FALLBACK_ROOT).join(format!("pg-{}", &digest[..16]));
    let note = data_dir.join("pg.location");
    let text = format!(
        "The embedded PostgreSQL cluster of this data directory is in {}\n\
         (the postgres user cannot enter {}).\n",
        root.display(),
        blocked.display()
    );
    fs::write(&note, text).map_err(io_error(format!("writing {}", note.display())))?;
    fs::create_dir_all(FALLBACK_ROOT).map_err(io_error(format!("creating {FALLBACK_ROOT}")))?;
    fs::set_permissions(FALLBACK_ROOT, fs::Permissions::from_mode(0o755))
        .map_err(io_error(format!("opening {FALLBACK_ROOT} to postgres")))?;
    tracing::info!(
        cluster = %root.display(),
        blocked = %blocked.display(),
        "the postgres user cannot enter the data directory; the embedded cluster lives outside it"
    );
    Ok(Layout::at(root))
}

/// A PostgreSQL program (`pg_dump`, `pg_restore`, …) from the directory of the server
/// programs, else from `PATH`.
pub fn program(name: &str) -> Option<PathBuf> {
    find_binaries()
        .ok()
        .map(|dir| dir.join(name))
        .filter(|path| path.is_file())
        .or_else(|| {
            std::env::split_paths(&std::env::var_os("PATH")?)
                .map(|dir| dir.join(name))
                .find(|path| path.is_file())
        })
}

/// The directory holding `initdb` and `postgres`: `PG_BIN`, then `pg_config --bindir`, then
/// `PATH`, then the newest `/usr/lib/postgresql/*/bin` (Debian's layout).
fn find_binaries() -> Result<PathBuf, EmbeddedError> {
    let complete = |dir: &Path| dir.join("initdb").is_file() && dir.join("postgres").is_file();
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(dir) = std::env::var_os("PG_BIN") {
        candidates.push(dir.into());
    }
    if let Ok(output) = Command::new("pg_config").arg("--bindir").output()
        && output.status.success()
    {
        candidates.push(String::from_utf8_lossy(&output.stdout).trim().into());
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    let mut debian: Vec<(u32, PathBuf)> = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            Some((version, entry.path().join("bin")))
        })
        .collect();
    debian.sort();
    candidates.extend(debian.into_iter().rev().map(|(_, dir)| dir));
    candidates
        .into_iter()
        .find(|dir| complete(dir))
        .map(|dir| fs::canonicalize(&dir).unwrap_or(dir))
        .ok_or(EmbeddedError::BinariesNotFound)
}

/// A command that runs as the cluster's owner.
fn command_as(program: PathBuf, owner: Option<&User>) -> Command {
    let mut command = Command::new(program);
    if let Some(owner) = owner {
        command
            .uid(owner.uid.as_raw())
            .gid(owner.gid.as_raw())
            .env("HOME", &owner.dir)
            .env("USER", &owner.name);
    }
    command.env("LC_ALL", "C.UTF-8").stdin(Stdio::null());
    command
}

fn run(mut command: Command, action: &str) -> Result<(), EmbeddedError> {
    let output = command.output().map_err(io_error(action))?;
    if output.status.success() {
        return Ok(());
    }
    Err(EmbeddedError::Command {
        action: action.to_owned(),
        detail: format!(
            "{}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ),
    })
}

/// Runs `initdb` into a fresh directory, then moves it into place, so an interrupted first
/// start never leaves a half-made cluster behind.
fn init_cluster(bin: &Path, layout: &Layout, owner: Option<&User>) -> Result<(), EmbeddedError> {
    let staging = layout.root.join("data.init");
    if staging.exists() {
        fs::remove_dir_all(&staging).map_err(io_error("removing an interrupted initdb"))?;
    }
    tracing::info!(cluster = %layout.cluster.display(), "creating the embedded PostgreSQL cluster (first start)");
    let mut command = command_as(bin.join("initdb"), owner);
    command.arg("-D").arg(&staging).args([
        "-U",
        SUPERUSER,
        "-A",
        "trust",
        "-E",
        "UTF8",
        "--locale=C.UTF-8",
    ]);
    run(command, "initdb")?;
    fs::rename(&staging, &layout.cluster).map_err(io_error("moving the new cluster into place"))
}

fn accepts_connections(layout: &Layout) -> bool {
    UnixStream::connect(layout.socket_file()).is_ok()
}

fn spawn_server(
    bin: &Path,
    layout: &Layout,
    owner: Option<&User>,
) -> Result<Server, EmbeddedError> {
    let log = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&layout.log)
        .map_err(io_error(format!("opening {}", layout.log.display())))?;
    if let Some(owner) = owner {
        let _ = chown(layout.log.as_path(), Some(owner.uid), Some(owner.gid));
    }
    let log_err = log
        .try_clone()
        .map_err(io_error("opening the server log"))?;
    let mut command = command_as(bin.join("postgres"), owner);
    command
        .arg("-D")
        .arg(&layout.cluster)
        .arg("-k")
        .arg(&layout.socket_dir)
        .args(["-p", &PORT.to_string(), "-c", "listen_addresses="])
        .args(["-c", "unix_socket_permissions=0700"])
        .stdout(log)
        .stderr(log_err);
    set_parent_death_signal(&mut command);

    // The child is spawned from a thread that lives exactly as long as the server: the
    // parent-death signal fires when the spawning thread ends, not only the process.
    let (started_tx, started_rx) = mpsc::channel();
    let (exited_tx, exited_rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("embedded-postgres".into())
        .spawn(move || match command.spawn() {
            Ok(mut child) => {
                let _ = started_tx.send(Ok(child.id()));
                let status = child.wait();
                tracing::debug!(?status, "embedded PostgreSQL exited");
                let _ = exited_tx.send(());
            }
            Err(error) => {
                let _ = started_tx.send(Err(error));
            }
        })
        .map_err(io_error("starting the supervisor thread"))?;
    let pid = started_rx
        .recv()
        .map_err(|_| EmbeddedError::Command {
            action: "starting PostgreSQL".into(),
            detail: "the supervisor thread ended early".into(),
        })?
        .map_err(io_error("starting postgres"))?;
    Ok(Server {
        pid: Pid::from_raw(i32::try_from(pid).unwrap_or(i32::MAX)),
        exited: exited_rx,
    })
}

#[expect(
    unsafe_code,
    reason = "pre_exec is unsafe; the closure only calls prctl, which is async-signal-safe"
)]
fn set_parent_death_signal(command: &mut Command) {
    // SAFETY: runs in the forked child before exec and only makes one async-signal-safe
    // system call.
    unsafe {
        command.pre_exec(|| {
            nix::sys::prctl::set_pdeathsig(Signal::SIGINT).map_err(std::io::Error::from)
        });
    }
}

fn log_tail(log: &Path) -> String {
    let text = fs::read_to_string(log).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(15)..].join("\n")
}
