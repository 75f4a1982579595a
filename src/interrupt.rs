//! Ctrl-C. During a run that writes to the store, the first Ctrl-C asks the run to stop:
//! the writer notices at its next step and returns [`Interrupted`], so the transaction is
//! rolled back and the store closed properly (no `-wal` or `-shm` left behind). Outside a
//! run, or at a second Ctrl-C, ptk stops at once (exit 130), as without a handler.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static INTERRUPTED: AtomicBool = AtomicBool::new(false);
static RUNS: AtomicUsize = AtomicUsize::new(0);

/// The exit code after Ctrl-C (128 + SIGINT, as shells report it).
pub const EXIT: i32 = 130;

/// The run was stopped by Ctrl-C; nothing of it was saved.
#[derive(Debug)]
pub struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("interrupted: nothing from this run was saved; run the same command again")
    }
}

impl std::error::Error for Interrupted {}

/// Installs the handler (once, in the main process; reader processes keep the default).
pub fn install() {
    let _ = ctrlc::set_handler(|| {
        if RUNS.load(Ordering::SeqCst) > 0 && !INTERRUPTED.swap(true, Ordering::SeqCst) {
            return;
        }
        eprintln!("ptk: interrupted; run the same command again");
        std::process::exit(EXIT);
    });
}

/// Held while a run writes to the store (see [`install`]).
pub struct RunGuard(());

impl RunGuard {
    pub fn new() -> Self {
        RUNS.fetch_add(1, Ordering::SeqCst);
        RunGuard(())
    }
}

impl Default for RunGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        RUNS.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `Err(Interrupted)` once Ctrl-C was pressed.
pub fn check() -> Result<(), Interrupted> {
    match INTERRUPTED.load(Ordering::SeqCst) {
        true => Err(Interrupted),
        false => Ok(()),
    }
}
