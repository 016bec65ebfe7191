//! Progress bars of long commands, and the log writer that keeps log lines from tearing the
//! bar: while a bar is shown, each log line is written with the bar briefly cleared.

use std::io::{self, Write};
use std::sync::Mutex;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// The bar on screen, if any; log lines are written around it.
static ACTIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// A progress bar on standard error (hidden when that is not a terminal); log lines go
/// around it until it is dropped.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar counting `total` `unit`s, with a message after the count.
    pub fn new(total: u64, unit: &str) -> Self {
        let template =
            format!("{{elapsed_precise}} [{{wide_bar}}] {{pos}}/{{len}} {unit}  {{msg}}");
        let style = ProgressStyle::with_template(&template)
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr())
            .with_style(style);
        if let Ok(mut active) = ACTIVE.lock() {
            *active = Some(bar.clone());
        }
        Self { bar }
    }

    /// Shows `done` of `total` (the total may grow as work is found).
    pub fn show(&self, done: u64, total: u64) {
        self.bar.set_length(total);
        self.bar.set_position(done);
    }

    /// The bar, to advance and label.
    pub fn bar(&self) -> &ProgressBar {
        &self.bar
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Ok(mut active) = ACTIVE.lock() {
            *active = None;
        }
        self.bar.finish_and_clear();
    }
}

/// Standard error, written around the active progress bar.
pub struct LogWriter;

/// The writer for `tracing_subscriber::fmt().with_writer(..)`.
pub fn log_writer() -> LogWriter {
    LogWriter
}

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let active = ACTIVE.lock().ok().and_then(|active| active.clone());
        match active {
            Some(bar) => bar.suspend(|| io::stderr().write(buf)),
            None => io::stderr().write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}
