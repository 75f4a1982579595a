//! The worker pool: returned files are read in worker processes (this same binary in
//! its hidden worker mode), so a file that makes a reader abort, loop for ever or
//! allocate without end costs that file alone, not the batch.
//!
//! Each worker reads one file at a time under a memory cap (set in the worker, see
//! [`worker`]) and a time limit (kept here). A worker that dies or runs out of time is
//! killed and replaced; its file is tried once more in a fresh worker, then rejected
//! with `reader-failed`, naming the limit it hit.

use std::borrow::Cow;
use std::io::{BufReader, Read};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context as _;

use super::{Input, Outcome, Status};
use crate::validate::{Code, Finding};

pub mod protocol;
pub mod worker;

pub use protocol::Setup;

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

/// One worker process and the threads that listen to it.
struct Worker {
    child: Child,
    stdin: Option<ChildStdin>,
    replies: Receiver<std::io::Result<Vec<u8>>>,
    /// The end of what the worker wrote to stderr (an allocation failure says so there).
    stderr: Arc<Mutex<Vec<u8>>>,
    /// The thread collecting it; done once the worker has exited.
    stderr_listener: Option<std::thread::JoinHandle<()>>,
}

/// How much of a worker's stderr is kept.
const STDERR_TAIL: usize = 4096;

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
        let mut stdout = BufReader::new(child.stdout.take().expect("piped"));
        let (tx, replies) = std::sync::mpsc::channel();
        std::thread::spawn(move || loop {
            let frame = protocol::receive_frame(&mut stdout).and_then(|f| {
                f.ok_or_else(|| std::io::Error::from(std::io::ErrorKind::UnexpectedEof))
            });
            let end = frame.is_err();
            if tx.send(frame).is_err() || end {
                break;
            }
        });
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut err_pipe = child.stderr.take().expect("piped");
        let tail = Arc::clone(&stderr);
        let stderr_listener = std::thread::spawn(move || {
            let mut buf = [0u8; 1024];
            while let Ok(n) = err_pipe.read(&mut buf) {
                if n == 0 {
                    break;
                }
                let mut t = tail.lock().unwrap_or_else(|e| e.into_inner());
                t.extend_from_slice(&buf[..n]);
                let excess = t.len().saturating_sub(STDERR_TAIL);
                t.drain(..excess);
            }
        });
        let mut w = Worker {
            stdin: child.stdin.take(),
            child,
            replies,
            stderr,
            stderr_listener: Some(stderr_listener),
        };
        let stdin = w.stdin.as_mut().expect("piped");
        protocol::send(stdin, &opts.setup).context("cannot start a reader process")?;
        let ready = match w.replies.recv_timeout(Duration::from_secs(60)) {
            Ok(Ok(frame)) => protocol::decode::<protocol::Ready>(&frame)?,
            _ => Err(format!(
                "it stopped before it was ready: {}",
                w.stderr_text().trim()
            )),
        };
        ready.map_err(|e| anyhow::anyhow!("a reader process could not start: {e}"))?;
        Ok(w)
    }

    fn stderr_text(&self) -> String {
        let t = self.stderr.lock().unwrap_or_else(|e| e.into_inner());
        String::from_utf8_lossy(&t).into_owned()
    }

    /// Sends one file and waits for its outcome, at most `timeout`.
    fn ask(&mut self, input: &Input, timeout: Duration) -> Result<Outcome, Failure> {
        let job = protocol::Job {
            path: Cow::Borrowed(input.path.as_path()),
            attachment: input
                .attachment
                .as_deref()
                .map(|b| Cow::Borrowed(b.as_slice())),
        };
        let sent = match self.stdin.as_mut() {
            Some(stdin) => protocol::send(stdin, &job).is_ok(),
            None => false,
        };
        let reply = if sent {
            self.replies.recv_timeout(timeout)
        } else {
            Err(RecvTimeoutError::Disconnected)
        };
        match reply {
            Ok(Ok(frame)) => match protocol::decode::<Outcome>(&frame) {
                Ok(o) => Ok(o),
                Err(e) => Err(self.died(Some(format!("it sent a broken message: {e}")))),
            },
            Err(RecvTimeoutError::Timeout) => {
                self.stop();
                Err(Failure::TimedOut(timeout))
            }
            Ok(Err(_)) | Err(RecvTimeoutError::Disconnected) => Err(self.died(None)),
        }
    }

    /// Ends the worker and says how it ended.
    fn died(&mut self, why: Option<String>) -> Failure {
        self.stdin = None;
        // It has usually exited already; if not (a broken message), stop it.
        let status = match why {
            Some(_) => {
                self.stop();
                None
            }
            None => self.child.wait().ok(),
        };
        // The worker has exited, so its stderr is closed: wait for the last lines.
        if let Some(t) = self.stderr_listener.take() {
            let _ = t.join();
        }
        let said = self.stderr_text();
        // Rust's allocation-failure message, and mimalloc's.
        let memory = said.contains("memory allocation of")
            || said.contains("unable to allocate")
            || said.contains("out of memory");
        let how = why.unwrap_or_else(|| match status {
            Some(s) => describe_exit(s),
            None => "it stopped".into(),
        });
        Failure::Died { memory, how }
    }

    fn stop(&mut self) {
        self.stdin = None;
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        // Closing stdin ends an idle worker; one still busy is stopped.
        self.stdin = None;
        if !matches!(self.child.try_wait(), Ok(Some(_))) {
            let _ = self.child.kill();
        }
        let _ = self.child.wait();
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

/// One pool slot: a worker, started when first needed and replaced when it fails.
pub struct Slot<'a> {
    opts: &'a PoolOptions,
    worker: Option<Worker>,
}

impl<'a> Slot<'a> {
    pub fn new(opts: &'a PoolOptions) -> Self {
        Self { opts, worker: None }
    }

    /// Examines one file in a worker: a failure is retried once in a fresh worker,
    /// then becomes the file's `reader-failed` finding. Errors only if no worker can
    /// be started at all.
    pub fn examine(&mut self, input: &Input) -> anyhow::Result<Outcome> {
        let mut failure = None;
        for _ in 0..2 {
            let w = match &mut self.worker {
                Some(w) => w,
                None => self.worker.insert(Worker::start(self.opts)?),
            };
            match w.ask(input, self.opts.file_timeout) {
                Ok(mut o) => {
                    o.envelope = input.envelope.clone();
                    return Ok(o);
                }
                Err(f) => {
                    self.worker = None;
                    failure = Some(f);
                }
            }
        }
        let failure = failure.expect("two attempts failed");
        let cap_mb = self.opts.setup.memory_cap_bytes.map(|b| b >> 20);
        let mut o = reader_failed(input, &failure, cap_mb);
        o.envelope = input.envelope.clone();
        Ok(o)
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
