//! Who gets the cores first on a busy machine. Searches, page views and every other request
//! run at normal priority; bulk work (uploads, text extraction, indexing, sweeps, and the
//! PostgreSQL backends serving them) runs at background priority, so that a bulk import or a
//! scan being OCR'd does not slow the archivist who is searching meanwhile.
//!
//! Background priority is a niceness: on Linux it belongs to the thread, and the threads and
//! processes a thread starts inherit it. Lowering it needs no privilege for one's own
//! threads; for PostgreSQL's backends it needs the same user or root, and is skipped without
//! it (the work then runs at normal priority, as before).
//!
//! With the kernel's autogroups (`kernel.sched_autogroup_enabled`, on by default in most
//! distributions' kernels), the cores are shared between sessions first and by niceness only
//! within a session. PostgreSQL starts every backend in a session of its own, so a backend's
//! niceness alone leaves it an equal of this whole server: its session's autogroup is given
//! the background niceness as well.

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

/// Lowers process `pid` (a PostgreSQL backend of this machine) to background priority: its
/// niceness, then its autogroup's ([`lower_autogroup`]).
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
    if done != 0 {
        return Err(std::io::Error::last_os_error());
    }
    lower_autogroup(pid)
}

/// Gives the autogroup of process `pid` the background niceness, when `pid` leads a session
/// of its own (as PostgreSQL's backends do): then no other process shares that autogroup.
/// Without autogroups in the kernel there is nothing to do. The kernel refuses a change
/// within 100 ms of another one to a process without CAP_SYS_ADMIN: `WouldBlock`, try again.
pub fn lower_autogroup(pid: u32) -> std::io::Result<()> {
    let path = format!("/proc/{pid}/autogroup");
    let Some(nice) = autogroup_niceness(pid) else {
        return Ok(());
    };
    if nice >= BACKGROUND_NICE || session(pid) != Some(pid) {
        return Ok(());
    }
    std::fs::write(path, BACKGROUND_NICE.to_string())
}

/// The niceness of the autogroup of process `pid`; `None` without autogroups.
pub fn autogroup_niceness(pid: u32) -> Option<i32> {
    // "/autogroup-167 nice 0"
    let line = std::fs::read_to_string(format!("/proc/{pid}/autogroup")).ok()?;
    line.rsplit_once("nice ")?.1.trim().parse().ok()
}

/// The session of process `pid`, from /proc.
fn session(pid: u32) -> Option<u32> {
    stat_field(pid, 3)
}

/// The niceness of thread or process `pid` of this machine, from /proc.
pub fn niceness(pid: u32) -> Option<i32> {
    // the 19th field of stat (nice) is the 17th after the name
    stat_field(pid, 16)
}

/// Field `at` (from 0) after the command name of `/proc/PID/stat`.
fn stat_field<T: std::str::FromStr>(pid: u32, at: usize) -> Option<T> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // the command name, in parentheses, may hold spaces: fields are counted after it
    let fields = stat.rsplit_once(')')?.1;
    fields.split_whitespace().nth(at)?.parse().ok()
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

    /// A `sleep` child; with `own_session`, it leads a session of its own, as PostgreSQL's
    /// backends do.
    fn sleeper(own_session: bool) -> std::process::Child {
        let mut command = if own_session {
            let mut command = std::process::Command::new("setsid");
            command.arg("sleep");
            command
        } else {
            std::process::Command::new("sleep")
        };
        command.arg("30").spawn().expect("sleep")
    }

    #[test]
    fn a_process_leading_its_own_session_has_its_autogroup_lowered_and_no_other_is_touched() {
        let Some(own) = autogroup_niceness(std::process::id()) else {
            eprintln!("this kernel has no autogroups: nothing to lower");
            return;
        };
        let (mut alone, mut ours) = (sleeper(true), sleeper(false));
        // setsid execs sleep in the same process once it has its session
        let started = std::time::Instant::now();
        while session(alone.id()) != Some(alone.id()) && started.elapsed().as_secs() < 5 {
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let mut lowered = lower_process(alone.id());
        // without CAP_SYS_ADMIN, one autogroup change in 100 ms (of any process)
        while lowered
            .as_ref()
            .is_err_and(|error| error.kind() == std::io::ErrorKind::WouldBlock)
        {
            std::thread::sleep(std::time::Duration::from_millis(110));
            lowered = lower_autogroup(alone.id());
        }
        let shared = lower_process(ours.id());
        let (alone_nice, ours_nice) = (autogroup_niceness(alone.id()), niceness(ours.id()));
        for child in [&mut alone, &mut ours] {
            let _ = child.kill();
            let _ = child.wait();
        }
        lowered.expect("lowered");
        shared.expect("lowered");
        assert_eq!(alone_nice, Some(BACKGROUND_NICE));
        assert_eq!(
            ours_nice,
            Some(BACKGROUND_NICE),
            "its own niceness is lowered"
        );
        assert_eq!(
            autogroup_niceness(std::process::id()),
            Some(own),
            "the autogroup a child shares with this process keeps its niceness"
        );
    }

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
