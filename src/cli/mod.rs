//! The `dangan` command line: `serve`, `worker`, `migrate`, `init`, `import`, `reindex`,
//! `verify`, `backup`, `restore`, `user add`.

mod backup;
mod import;
mod init;
mod progress;
mod reindex;
mod serve;
mod user;
mod verify;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, Settings};

/// 檔案 dangan: archive and records management.
#[derive(Debug, Parser)]
#[command(name = "dangan", version, about)]
pub struct Cli {
    /// An extra TOML settings file, read after the built-in defaults (also DANGAN_CONFIG).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the HTTP API with one background worker.
    Serve,
    /// Run background workers only (text extraction and other jobs).
    Worker {
        /// Jobs run at once (default: worker.concurrency of the settings).
        #[arg(long)]
        concurrency: Option<usize>,
    },
    /// Rebuild the search index from the database; a running server keeps searching the
    /// old index until the new one is complete.
    Reindex,
    /// Re-read every stored file and compare it with its SHA-256 (a fixity sweep); exit
    /// status 1 when content is changed or missing.
    Verify,
    /// Back the database and the stored files up into DIR: a consistent snapshot, copying
    /// only files an earlier backup in DIR does not hold.
    Backup {
        /// The backup directory (created if missing); keep it on another disk or machine.
        dir: PathBuf,
    },
    /// Restore the newest backup in DIR into an empty data directory and database, then
    /// rebuild the search index.
    Restore {
        /// A directory `dangan backup` wrote.
        dir: PathBuf,
        /// A snapshot other than the newest (a name under DIR/snapshots).
        #[arg(long)]
        snapshot: Option<String>,
    },
    /// Apply database migrations and exit.
    Migrate,
    /// Load a catalogue preset (classification, retention schedule, departments); safe to repeat.
    Init {
        /// The preset to load.
        #[arg(long, default_value = "enterprise")]
        preset: String,
    },
    /// Import files and their metadata listed in a CSV manifest; re-running resumes.
    Import(import::ImportArgs),
    /// Manage user accounts.
    #[command(subcommand)]
    User(user::UserCommand),
    /// Parse one uploaded file for the server, within the limits it set (internal).
    #[command(hide = true)]
    Sandbox {
        /// The task, as JSON; read from standard input when absent.
        task: Option<String>,
    },
}

/// Parses the command line, loads the settings and runs the command.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Sandbox { task } = &cli.command {
        // no settings, no runtime, no log: the child parses one file and answers
        return crate::extract::sandbox_main(task.as_deref());
    }
    let settings = match Settings::load(cli.config.as_deref()) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("dangan: {error}");
            eprintln!("dangan: every setting is documented in config/default.toml");
            return ExitCode::from(2);
        }
    };
    init_tracing(&settings);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .thread_name("dangan-requests")
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("dangan: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve => serve::serve(settings).await,
            Command::Worker { concurrency } => serve::worker(settings, concurrency).await,
            Command::Reindex => reindex::run(settings).await,
            Command::Verify => verify::run(settings).await,
            Command::Migrate => serve::migrate(settings).await,
            Command::Backup { dir } => backup::backup(settings, dir).await,
            Command::Restore { dir, snapshot } => backup::restore(settings, dir, snapshot).await,
            Command::Init { preset } => init::run(settings, &preset).await,
            Command::Import(args) => import::run(settings, args).await,
            Command::User(command) => user::run(settings, command).await,
            Command::Sandbox { .. } => Ok(()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            // Once, on the terminal: the log goes to standard error as well.
            eprintln!("dangan: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_tracing(settings: &Settings) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&settings.log.level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(progress::log_writer);
    let _ = match settings.log.format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
