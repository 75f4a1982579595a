//! The worker side: `ptk` started by the pool in its hidden worker mode. It reads one
//! [`Setup`], puts itself under the memory cap, then examines files one by one as
//! [`Job`]s arrive and sends back each [`Outcome`](crate::ingest::Outcome).

use std::collections::HashSet;
use std::io::{BufReader, BufWriter};
use std::sync::Arc;

use super::protocol::{self, Job, Ready, Setup};
use crate::ingest::{process, Attachment, Context, Input};

/// Serves jobs on stdin/stdout until stdin closes. Errors are the pipe's (the main
/// process went away); a file's problems are in its outcome.
pub fn serve() -> anyhow::Result<()> {
    die_with_parent();
    let mut input = BufReader::new(std::io::stdin().lock());
    let mut output = BufWriter::new(protocol_output());
    let Some(setup) = protocol::receive::<Setup>(&mut input)? else {
        return Ok(());
    };
    if let Some(cap) = setup.memory_cap_bytes {
        cap_memory(cap);
    }
    let loaded = (|| -> anyhow::Result<_> {
        let texts = setup
            .templates
            .iter()
            .map(|s| {
                let text = String::from_utf8(s.bytes.clone()).map_err(|e| e.to_string());
                (s.path.clone(), text)
            })
            .collect();
        let templates = crate::template::check_all(&setup.templates_dir, texts)?;
        let (register, _problems) =
            crate::register::parse(&setup.register.path, &setup.register.bytes);
        let respondents = match &setup.respondents {
            Some(s) => crate::respondents::parse(&s.path, &s.bytes, &register).0,
            None => crate::respondents::Respondents::default(),
        };
        Ok((templates, register, respondents))
    })();
    let (templates, register, respondents) = match loaded {
        Ok(x) => x,
        Err(e) => {
            let ready: Ready = Err(format!("{e:#}"));
            protocol::send(&mut output, &ready)?;
            return Ok(());
        }
    };
    protocol::send(&mut output, &Ready::Ok(()))?;
    if cfg!(debug_assertions) && hangs_up() {
        // Debug builds only: a reader that goes away without reading its first job, so
        // the pool's next write meets a closed pipe (tests/ingest_workers.rs).
        #[cfg(unix)]
        // SAFETY: closes this process's own stdin; nothing reads it after this.
        unsafe {
            libc::close(0);
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
        std::process::exit(0);
    }
    let seen: HashSet<String> = setup.seen.iter().cloned().collect();
    let ctx = Context {
        templates: &templates,
        register: &register,
        respondents: &respondents,
        year: setup.year,
        limits: setup.limits(),
        seen: &seen,
    };
    while let Some(job) = protocol::receive::<Job<'static>>(&mut input)? {
        let input = Input {
            path: job.path.into_owned(),
            attachment: job
                .attachment
                .map(|b| Arc::new(Attachment::Bytes(b.into_owned()))),
            ..Input::default()
        };
        protocol::send(&mut output, &process(&input, &ctx))?;
    }
    Ok(())
}

/// Debug hook `PTK_TEST_WORKER_HANGS_UP`: `1` makes every reader go away before its
/// first job; a path makes only the first reader that creates that file do so.
fn hangs_up() -> bool {
    match std::env::var_os("PTK_TEST_WORKER_HANGS_UP") {
        None => false,
        Some(v) if v == "1" => true,
        Some(path) => std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(path)
            .is_ok(),
    }
}

/// The pipe to the main process. On Unix, the original stdout is kept for the protocol
/// alone and stdout itself is pointed at stderr, so a stray print in any library cannot
/// corrupt a message.
fn protocol_output() -> Box<dyn std::io::Write> {
    #[cfg(unix)]
    {
        use std::os::fd::FromRawFd;
        // SAFETY: dup and dup2 act on this process's own descriptors 1 and 2; the
        // duplicate is owned by the File alone.
        unsafe {
            let fd = libc::dup(1);
            if fd >= 0 && libc::dup2(2, 1) >= 0 {
                return Box::new(std::fs::File::from_raw_fd(fd));
            }
        }
    }
    Box::new(std::io::stdout())
}

/// Caps this process's address space, so a reader that believes a forged size fails
/// its allocation (and the worker aborts) instead of exhausting the machine. The
/// allocator's reservations count too: the default cap leaves room for them (tested
/// in tests/ingest_workers.rs). Windows has no per-process limit here: there the time
/// limit and isolation still hold (docs/findings.md).
fn cap_memory(bytes: u64) {
    #[cfg(unix)]
    {
        let limit = libc::rlimit {
            rlim_cur: bytes as libc::rlim_t,
            rlim_max: bytes as libc::rlim_t,
        };
        // SAFETY: setrlimit only reads the struct passed; failure leaves no cap, which
        // the time limit and the process boundary still contain.
        unsafe {
            libc::setrlimit(libc::RLIMIT_AS, &limit);
        }
    }
    #[cfg(not(unix))]
    let _ = bytes;
}

/// A worker outlives nothing: if the main process dies (killed, Ctrl-C), so does it,
/// even in the middle of a file that would never finish.
fn die_with_parent() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl(PR_SET_PDEATHSIG) only sets a flag on this process.
    unsafe {
        libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0);
    }
}
