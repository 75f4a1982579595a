//! The worker pool: returned files are read in worker processes (this same binary in
//! its hidden worker mode), so a file that makes a reader abort, loop for ever or
//! allocate without end costs that file alone, not the batch.
//!
//! Each worker reads one file at a time under a memory cap (set in the worker, see
//! [`worker`]) and a time limit (kept here by a watchdog thread), with the next file
//! already waiting in its pipe. A worker that dies or runs out of time is killed and
//! replaced; the file it was reading is tried once more alone in a fresh worker, then
//! rejected with `reader-failed`, naming the limit it hit; the file queued behind it is
//! simply sent again. A worker that goes away without taking its file (its pipe
//! closed, or it ended normally without answering) failed the pool, not the file:
//! the file is sent to a fresh worker, unblamed, and if workers keep going away
//! before reading anything the run stops (nothing saved) with the reason. Protocol:
//! [`protocol`].

use std::borrow::Cow;
use std::collections::VecDeque;
use std::io::{BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;

use super::{Input, Outcome, Status};
use crate::validate::{Code, Finding};

pub mod protocol;
pub mod worker;

pub use protocol::{Setup, Source};

/// The hidden subcommand that makes `ptk` a worker.
pub const WORKER_COMMAND: &str = "ingest-worker";

/// How the pool runs.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    /// The `ptk` binary (the running one).
    pub program: PathBuf,
    /// How many workers read files at the same time.
    pub workers: usize,
    /// Longest a worker may spend on one file.
    pub file_timeout: Duration,
    pub setup: Setup,
}

/// Default memory cap of a worker for a file-size limit: room for the file, its
/// unpacked copy (up to 4 × the limit), the reader's cells and the allocator's
/// reservations. 448 MB for the default 20 MB.
pub fn default_memory_cap_mb(max_file_mb: u64) -> u64 {
    max_file_mb.saturating_mul(16).saturating_add(128).max(256)
}

/// Why a worker gave no outcome for a file.
#[derive(Debug, Clone, PartialEq)]
enum Failure {
    /// It went away without taking the file: its end of the pipe was closed when the
    /// file was sent, or it ended normally (exit 0) without answering. Nothing in
    /// the file made it fail, so the file is not blamed.
    Gone(String),
    TimedOut(Duration),
    /// Died; what the process said and how it ended.
    Died {
        memory: bool,
        how: String,
    },
}

impl Failure {
    /// Which limit was hit, in words for the findings.
    fn describe(&self, cap_mb: Option<u64>) -> String {
        match self {
            Failure::Gone(how) => {
                format!("the spreadsheet reader went away before reading it ({how})")
            }
            Failure::TimedOut(d) => format!(
                "reading it did not finish within the time limit of {} seconds",
                d.as_secs()
            ),
            Failure::Died { memory: true, .. } => match cap_mb {
                Some(mb) => format!("reading it needed more than the memory limit of {mb} MB"),
                None => "reading it needed more memory than the computer could give".into(),
            },
            Failure::Died { how, .. } => format!("the spreadsheet reader crashed on it ({how})"),
        }
    }
}

/// The `reader-failed` finding for a file that failed twice.
fn reader_failed(input: &Input, failure: &Failure, cap_mb: Option<u64>) -> Outcome {
    Outcome::new(&input.path, Status::Rejected, "").reject(Finding::file(
        Code::ReaderFailed,
        format!(
            "the file could not be read safely: {}, twice, so it was set aside and the other files were read as normal. Ask the sender to open it in Excel, save it again as an Excel Workbook (.xlsx) and send that copy",
            failure.describe(cap_mb)
        ),
    ))
}

/// One worker process, the thread that keeps its stderr, and the watchdog that
/// enforces the time limit.
struct Worker {
    child: Arc<Mutex<Child>>,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    /// When the worker started on the file it is reading (ms since `epoch`; 0: idle).
    busy_since: Arc<AtomicU64>,
    /// Set by the watchdog when it stopped the worker for overrunning.
    timed_out: Arc<AtomicBool>,
    /// A file could not be handed over: the worker had closed its end of the pipe.
    refused: bool,
    /// Tells the watchdog to finish.
    retired: Arc<AtomicBool>,
    epoch: Instant,
    /// The end of what the worker wrote to stderr (an allocation failure says so there).
    stderr: Arc<Mutex<Vec<u8>>>,
    /// The thread collecting it; done once the worker has exited.
    stderr_listener: Option<std::thread::JoinHandle<()>>,
}

/// How much of a worker's stderr is kept.
const STDERR_TAIL: usize = 4096;

/// Files sent to a worker ahead of its replies: the next file is waiting in the pipe
/// when it finishes one, so it never sleeps between files. Only the first unanswered
/// file can be the one a dead worker was reading; the other is sent again.
const IN_FLIGHT: usize = 2;

/// A job this small always fits in the pipe's buffer (64 KiB on Linux, 4 KiB at the
/// least elsewhere), so sending it ahead can never block.
const SMALL_JOB: usize = 2048;

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Worker {
    fn start(opts: &PoolOptions) -> anyhow::Result<Self> {
        let mut child = Command::new(&opts.program)
            .arg(WORKER_COMMAND)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| {
                format!("cannot start a reader process ({})", opts.program.display())
            })?;
        let stdout = BufReader::with_capacity(64 * 1024, child.stdout.take().expect("piped"));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut err_pipe = child.stderr.take().expect("piped");
        let tail = Arc::clone(&stderr);
        let stderr_listener = std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut t = lock(&tail);
                t.extend_from_slice(&buf[..n]);
                let excess = t.len().saturating_sub(STDERR_TAIL);
                t.drain(..excess);
            }
        });
        let mut w = Worker {
            stdin: child.stdin.take(),
            child: Arc::new(Mutex::new(child)),
            stdout,
            busy_since: Arc::new(AtomicU64::new(0)),
            timed_out: Arc::new(AtomicBool::new(false)),
            refused: false,
            retired: Arc::new(AtomicBool::new(false)),
            epoch: Instant::now(),
            stderr,
            stderr_listener: Some(stderr_listener),
        };
        w.watch(opts.file_timeout);
        let stdin = w.stdin.as_mut().expect("piped");
        protocol::send(stdin, &opts.setup).context("cannot start a reader process")?;
        // Loading the templates is timed like a file.
        w.busy();
        let ready = match protocol::receive_frame(&mut w.stdout) {
            Ok(Some(frame)) => protocol::decode::<protocol::Ready>(&frame)?,
            _ => Err(format!(
                "it stopped before it was ready: {}",
                w.stderr_text().trim()
            )),
        };
        w.idle();
        ready.map_err(|e| anyhow::anyhow!("a reader process could not start: {e}"))?;
        Ok(w)
    }

    /// The watchdog: a thread that looks a few times a second whether the current file
    /// has run past `timeout`, and stops the worker if so. Polling, rather than a timer
    /// per file, costs nothing per file.
    fn watch(&self, timeout: Duration) {
        let (busy, timed_out, retired, child) = (
            Arc::clone(&self.busy_since),
            Arc::clone(&self.timed_out),
            Arc::clone(&self.retired),
            Arc::clone(&self.child),
        );
        let epoch = self.epoch;
        let tick = (timeout / 8).clamp(Duration::from_millis(20), Duration::from_millis(250));
        let limit = timeout.as_millis() as u64;
        std::thread::spawn(move || {
            while !retired.load(Ordering::Acquire) {
                std::thread::sleep(tick);
                let since = busy.load(Ordering::Acquire);
                let now = epoch.elapsed().as_millis() as u64 + 1;
                if since != 0 && now.saturating_sub(since) > limit {
                    timed_out.store(true, Ordering::Release);
                    let _ = lock(&child).kill();
                    return;
                }
            }
        });
    }

    /// The worker starts on a file now.
    fn busy(&self) {
        let now = self.epoch.elapsed().as_millis() as u64 + 1;
        self.busy_since.store(now, Ordering::Release);
    }

    fn idle(&self) {
        self.busy_since.store(0, Ordering::Release);
    }

    fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&lock(&self.stderr)).into_owned()
    }

    /// Sends one file. A failure shows when its reply is awaited.
    fn send(&mut self, input: &Input) {
        // A kept attachment that cannot be read back is sent empty: the reader then
        // finds it is not a workbook.
        let attachment = input
            .attachment
            .as_deref()
            .map(|a| a.bytes().unwrap_or_default());
        let job = protocol::Job {
            path: Cow::Borrowed(input.path.as_path()),
            attachment,
        };
        match self.stdin.as_mut() {
            Some(stdin) => {
                if protocol::send(stdin, &job).is_err() {
                    self.stdin = None;
                    self.refused = true;
                }
            }
            None => self.refused = true,
        }
    }

    /// Waits for the outcome of the oldest file sent.
    fn receive(&mut self) -> Result<Outcome, Failure> {
        match protocol::receive_frame(&mut self.stdout) {
            Ok(Some(frame)) => match protocol::decode::<Outcome>(&frame) {
                Ok(o) => Ok(o),
                Err(e) => Err(self.died(Some(format!("it sent a broken message: {e}")))),
            },
            // Gone, before or while answering: it died (or was stopped).
            Ok(None) => Err(self.died(None)),
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Err(self.died(None)),
            Err(e) => Err(self.died(Some(format!("it sent a broken message: {e}")))),
        }
    }

    /// Ends the worker and says how it ended.
    fn died(&mut self, why: Option<String>) -> Failure {
        self.stdin = None;
        self.retired.store(true, Ordering::Release);
        let status = {
            let mut child = lock(&self.child);
            if why.is_some() {
                let _ = child.kill();
            }
            child.wait().ok()
        };
        if self.timed_out.load(Ordering::Acquire) {
            return Failure::TimedOut(Duration::ZERO);
        }
        // The worker has exited, so its stderr is closed: wait for the last lines.
        if let Some(t) = self.stderr_listener.take() {
            let _ = t.join();
        }
        let said = self.stderr_text();
        // Rust's allocation-failure message, and mimalloc's.
        let memory = said.contains("memory allocation of")
            || said.contains("unable to allocate")
            || said.contains("out of memory");
        let clean_exit = why.is_none() && status.is_some_and(|s| s.success());
        if (self.refused || clean_exit) && !memory {
            let how = if self.refused {
                "its end of the pipe was closed".to_string()
            } else {
                "it ended without answering".to_string()
            };
            let said = said.trim();
            return Failure::Gone(if said.is_empty() {
                how
            } else {
                format!("{how}: {}", crate::output::printable(said))
            });
        }
        let how = why.unwrap_or_else(|| match status {
            Some(s) => describe_exit(s),
            None => "it stopped".into(),
        });
        Failure::Died { memory, how }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing stdin ends an idle worker (given a moment to exit on its own, so
        // profilers and its own clean-up see a normal end); one still busy, or one
        // that does not end, is stopped.
        self.stdin = None;
        self.retired.store(true, Ordering::Release);
        let idle = self.busy_since.load(Ordering::Acquire) == 0;
        let mut child = lock(&self.child);
        let deadline = Instant::now() + Duration::from_secs(if idle { 2 } else { 0 });
        loop {
            match child.try_wait() {
                Ok(Some(_)) => break,
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(2));
                }
                _ => {
                    let _ = child.kill();
                    break;
                }
            }
        }
        let _ = child.wait();
    }
}

fn describe_exit(s: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = s.signal() {
            let name = match sig {
                libc::SIGABRT => "it aborted",
                libc::SIGKILL => {
                    "it was killed, most likely by the system for using too much memory"
                }
                libc::SIGSEGV => "it crashed with a memory fault",
                _ => "it was stopped by a signal",
            };
            return format!("{name}: signal {sig}");
        }
    }
    match s.code() {
        Some(c) => format!("it stopped with exit code {c}"),
        None => "it stopped".into(),
    }
}

/// Workers in a row that may go away without taking a file before the pool gives up
/// (a file is never blamed for that; see [`Failure::Gone`]).
const MAX_GONE: u32 = 3;

/// One pool slot: a worker, started when first needed and replaced when it fails.
pub struct Slot<'a> {
    opts: &'a PoolOptions,
    worker: Option<Worker>,
    /// Workers in a row that went away without taking a file.
    gone: u32,
}

impl<'a> Slot<'a> {
    pub fn new(opts: &'a PoolOptions) -> Self {
        Self {
            opts,
            worker: None,
            gone: 0,
        }
    }

    /// Notes a worker that went away without taking a file; an error once too many
    /// have in a row (the pool cannot work: nothing a file did).
    fn went_away(&mut self, how: &str) -> anyhow::Result<()> {
        self.worker = None;
        self.gone += 1;
        anyhow::ensure!(
            self.gone < MAX_GONE,
            "the reader processes keep stopping before they read any file ({MAX_GONE} in a row; the last: {how}). No file was at fault. Check that ptk can start processes on this computer (memory, security software) and run the same command again"
        );
        Ok(())
    }

    fn worker(&mut self) -> anyhow::Result<&mut Worker> {
        if self.worker.is_none() {
            self.worker = Some(Worker::start(self.opts)?);
        }
        Ok(self.worker.as_mut().expect("just started"))
    }

    /// Examines files in this slot's worker until `next` runs past the inputs, passing
    /// each outcome (with its input index) to `deliver`; stops early if `deliver`
    /// returns false. A file whose worker dies or overruns is tried once more alone in
    /// a fresh worker, then gets its `reader-failed` outcome; files sent behind it are
    /// sent again, unblamed. Errors only if no worker can be started at all.
    pub fn run(
        &mut self,
        inputs: &[Input],
        next: &AtomicUsize,
        deliver: &mut dyn FnMut(usize, Outcome) -> bool,
    ) -> anyhow::Result<()> {
        let mut sent: VecDeque<usize> = VecDeque::with_capacity(IN_FLIGHT);
        let mut again: VecDeque<usize> = VecDeque::new();
        loop {
            while sent.len() < IN_FLIGHT {
                let i = match again.pop_front() {
                    Some(i) => i,
                    None => next.fetch_add(1, Ordering::Relaxed),
                };
                let Some(input) = inputs.get(i) else { break };
                // Settled without a reader: skipped, or judged from what the main
                // process already knows (an email's empty or oversized attachment).
                let settled = match (&input.skip, &input.verdict) {
                    (Some(why), _) => Some(Outcome::new(&input.path, Status::Skipped, why.clone())),
                    (None, Some(f)) => {
                        Some(Outcome::new(&input.path, Status::Rejected, "").reject(f.clone()))
                    }
                    (None, None) => None,
                };
                if let Some(mut o) = settled {
                    o.envelope = input.envelope.clone();
                    if !deliver(i, o) {
                        return Ok(());
                    }
                    continue;
                }
                let size = input.path.as_os_str().len()
                    + input.attachment.as_ref().map_or(0, |b| b.len() as usize);
                if !sent.is_empty() && size > SMALL_JOB {
                    // A big job could fill the pipe while the worker is blocked writing a
                    // big reply: send it only to an idle worker.
                    again.push_front(i);
                    break;
                }
                let w = self.worker()?;
                if sent.is_empty() {
                    w.busy();
                }
                w.send(input);
                sent.push_back(i);
            }
            let Some(&i) = sent.front() else {
                return Ok(());
            };
            let w = self.worker.as_mut().expect("files were sent to it");
            let outcome = match w.receive() {
                Ok(o) => {
                    self.gone = 0;
                    sent.pop_front();
                    if sent.is_empty() {
                        w.idle();
                    } else {
                        w.busy();
                    }
                    if w.timed_out.load(Ordering::Acquire) {
                        // Stopped just as it answered: the answer stands; the rest go again.
                        self.worker = None;
                        again.extend(sent.drain(..));
                    }
                    o
                }
                Err(Failure::Gone(how)) => {
                    // Not the file's doing: every file sent goes again, unblamed.
                    self.went_away(&how)?;
                    for j in sent.drain(..).rev() {
                        again.push_front(j);
                    }
                    continue;
                }
                Err(first) => {
                    self.worker = None;
                    sent.pop_front();
                    again.extend(sent.drain(..));
                    self.alone(&inputs[i], first)?
                }
            };
            let mut o = outcome;
            o.envelope = inputs[i].envelope.clone();
            if !deliver(i, o) {
                return Ok(());
            }
        }
    }

    /// The second try of a file that failed once: alone, in a fresh worker (a worker
    /// that goes away without taking it does not count as a try).
    fn alone(&mut self, input: &Input, first: Failure) -> anyhow::Result<Outcome> {
        loop {
            let w = self.worker()?;
            w.busy();
            w.send(input);
            match w.receive() {
                Ok(o) => {
                    w.idle();
                    if w.timed_out.load(Ordering::Acquire) {
                        self.worker = None;
                    }
                    self.gone = 0;
                    return Ok(o);
                }
                Err(Failure::Gone(how)) => self.went_away(&how)?,
                Err(second) => return Ok(self.failed_twice(input, first, second)),
            }
        }
    }

    /// The `reader-failed` outcome of a file that failed in two workers.
    fn failed_twice(&mut self, input: &Input, first: Failure, second: Failure) -> Outcome {
        self.worker = None;
        // A time-out is reported with the limit (the watchdog does not know it).
        let failure = match (second, first) {
            (Failure::TimedOut(_), _) => Failure::TimedOut(self.opts.file_timeout),
            (Failure::Died { memory: false, .. }, Failure::Died { memory: true, how }) => {
                Failure::Died { memory: true, how }
            }
            (f, _) => f,
        };
        let cap_mb = self.opts.setup.memory_cap_bytes.map(|b| b >> 20);
        reader_failed(input, &failure, cap_mb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_finding_names_the_limit_and_what_to_ask_for() {
        let input = Input {
            path: "in/bad.xls".into(),
            ..Input::default()
        };
        let timed = reader_failed(&input, &Failure::TimedOut(Duration::from_secs(60)), None);
        assert_eq!(timed.status, Status::Rejected);
        assert_eq!(timed.findings[0].code, Code::ReaderFailed);
        assert!(
            timed.message.contains("time limit of 60 seconds"),
            "{}",
            timed.message
        );
        assert!(timed
            .message
            .contains("save it again as an Excel Workbook (.xlsx)"));
        let oom = Failure::Died {
            memory: true,
            how: "it aborted: signal 6".into(),
        };
        let m = reader_failed(&input, &oom, Some(448)).message;
        assert!(m.contains("memory limit of 448 MB"), "{m}");
        let crash = Failure::Died {
            memory: false,
            how: "it aborted: signal 6".into(),
        };
        let m = reader_failed(&input, &crash, Some(448)).message;
        assert!(m.contains("crashed on it (it aborted: signal 6)"), "{m}");
        assert_eq!(default_memory_cap_mb(20), 448);
        assert_eq!(default_memory_cap_mb(1), 256);
    }
}
