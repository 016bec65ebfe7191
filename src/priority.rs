//! Who gets the cores first on a busy machine. Searches, page views and every other request
//! run at normal priority; bulk work (uploads, text extraction, indexing, sweeps, and the
//! PostgreSQL backends serving them) runs at background priority, so that a bulk import or a
//! scan being OCR'd does not slow the archivist who is searching meanwhile.
//!
//! Background priority is a niceness: on Linux it belongs to the thread, and the threads and
//! processes a thread starts inherit it. Lowering it needs no privilege for one's own
//! threads; for PostgreSQL's backends it needs the same user or root, and is skipped without
//! it (the work then runs at normal priority, as before). Under the kernel's autogroups
//! (`kernel.sched_autogroup_enabled`) every PostgreSQL backend leads a session of its own, so
//! its niceness weighs only where PostgreSQL runs in a cgroup of its own (systemd with the cpu
//! controller). Lowering the backends' autogroups as well was measured (a348c7f, reverted):
//! searches during an import were no faster, and the import was a quarter slower.

use std::future::Future;

/// The niceness of background work: under contention CFS gives a thread of niceness 0 about
/// nine times the share of one at 10, and wakes it ahead.
pub const BACKGROUND_NICE: i32 = 10;

/// Lowers the calling thread's priority to background. Best effort: work at normal priority
/// still works.
#[expect(
    unsafe_code,
    reason = "setpriority has no safe binding; the call passes plain values"
)]
pub fn lower_this_thread() {
    let nice = BACKGROUND_NICE.max(this_thread_niceness().unwrap_or(0));
    // SAFETY: plain values; on Linux `who` 0 is the calling thread, not the whole process.
    unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) };
}

/// The niceness of the calling thread.
#[expect(unsafe_code, reason = "gettid has no safe binding")]
pub fn this_thread_niceness() -> Option<i32> {
    // SAFETY: no arguments, no memory touched
    niceness(unsafe { libc::gettid() } as u32)
}

/// Lowers process `pid` (a PostgreSQL backend of this machine) to background priority.
#[expect(
    unsafe_code,
    reason = "setpriority has no safe binding; the call passes plain values"
)]
pub fn lower_process(pid: u32) -> std::io::Result<()> {
    // SAFETY: plain values; a pid that is gone or not ours gives an error, nothing else.
    let done = unsafe {
        libc::setpriority(
            libc::PRIO_PROCESS,
            pid as libc::id_t,
            BACKGROUND_NICE.max(niceness(pid).unwrap_or(0)),
        )
    };
    if done == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The niceness of thread or process `pid` of this machine, from /proc.
pub fn niceness(pid: u32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // the command name, in parentheses, may hold spaces: fields are counted after it
    let fields = stat.rsplit_once(')')?.1;
    // the 19th field of stat (nice) is the 17th after the name
    fields.split_whitespace().nth(16)?.parse().ok()
}

/// Where background work of this process runs: a runtime whose threads (its blocking pool's
/// too) run at background priority, or the caller's runtime when there is none (tests, tools).
#[derive(Clone, Default)]
pub struct Background {
    handle: Option<tokio::runtime::Handle>,
}

/// The runtime behind a [`Background`]; shut it down when the process stops.
pub struct BackgroundRuntime(tokio::runtime::Runtime);

impl BackgroundRuntime {
    /// A runtime of `threads` workers at background priority.
    pub fn start(threads: usize) -> std::io::Result<Self> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads.max(1))
            .thread_name("dangan-background")
            .on_thread_start(lower_this_thread)
            .enable_all()
            .build()
            .map(Self)
    }

    /// The handle that runs work on this runtime.
    pub fn background(&self) -> Background {
        Background {
            handle: Some(self.0.handle().clone()),
        }
    }

    /// Stops the runtime without waiting: its tasks have been awaited by then.
    pub fn stop(self) {
        self.0.shutdown_background();
    }
}

impl Background {
    /// Starts `work` at background priority; its handle is awaited like a task's.
    pub fn spawn<F>(&self, work: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match &self.handle {
            Some(handle) => handle.spawn(work),
            None => tokio::spawn(work),
        }
    }

    /// Runs `work` at background priority and waits for it. Dropped before the end (the
    /// client went away), it cancels `work` as dropping `work` itself would.
    pub async fn run<F>(&self, work: F) -> Result<F::Output, tokio::task::JoinError>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);
        impl<T> Drop for AbortOnDrop<T> {
            fn drop(&mut self) {
                self.0.abort();
            }
        }
        let mut task = AbortOnDrop(self.spawn(work));
        (&mut task.0).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn work_sent_to_the_background_runs_at_background_priority_and_requests_do_not() {
        let runtime = BackgroundRuntime::start(1).expect("runtime");
        let background = runtime.background();
        let here = tokio::runtime::Runtime::new().expect("runtime");
        let (mine, theirs, blocking) = here.block_on(async {
            let mine = this_thread_niceness();
            let theirs = background
                .run(async { this_thread_niceness() })
                .await
                .expect("task");
            let blocking = background
                .run(async {
                    tokio::task::spawn_blocking(this_thread_niceness)
                        .await
                        .expect("blocking")
                })
                .await
                .expect("task");
            (mine, theirs, blocking)
        });
        runtime.stop();
        let mine = mine.expect("this thread's niceness");
        assert!(
            mine < BACKGROUND_NICE,
            "the tests run at background priority already"
        );
        assert_eq!(theirs, Some(BACKGROUND_NICE));
        assert_eq!(blocking, Some(BACKGROUND_NICE));
    }

    #[test]
    fn a_background_run_dropped_midway_cancels_its_work() {
        let runtime = BackgroundRuntime::start(1).expect("runtime");
        let background = runtime.background();
        let here = tokio::runtime::Runtime::new().expect("runtime");
        let finished = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = finished.clone();
        here.block_on(async {
            let work = background.run(async move {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
            });
            let _ = tokio::time::timeout(std::time::Duration::from_millis(20), work).await;
            tokio::time::sleep(std::time::Duration::from_millis(400)).await;
        });
        runtime.stop();
        assert!(!finished.load(std::sync::atomic::Ordering::SeqCst));
    }
}
