//! The `ptk` command line. This layer only parses arguments and calls the library.

mod cli;

/// mimalloc: faster than the system allocator for the many small allocations of
/// parsing, and it returns memory freed by other threads instead of fragmenting, so
/// peak memory stays flat over tens of thousands of files (measured: docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    small_pages();
    std::process::exit(cli::run());
}

/// Turns off transparent huge pages for this process. Where the kernel applies them to
/// every mapping (`always`, common on servers), each 2 MiB region the allocator touches
/// is backed by a huge page, and peak memory grew with the run (measured at 10,000
/// returns: ingest 43 MB with them, 31 MB without; review 98 MB and 71 MB) with no
/// gain in speed. This is what mimalloc's own `MIMALLOC_ALLOW_THP=0` does.
fn small_pages() {
    #[cfg(target_os = "linux")]
    // SAFETY: prctl with PR_SET_THP_DISABLE only sets a flag on this process; failure
    // (an old kernel) leaves the default, which is harmless.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

/// Restores the default action for SIGPIPE (Rust ignores it, so `println!` panics when
/// the reader goes away): `ptk status | head` then ends quietly, as other tools do.
/// Not for the commands with reader processes (see `cli::run`): a reader that died
/// would otherwise kill the whole run through the pipe the pool writes its next job to.
pub(crate) fn quiet_broken_pipe() {
    #[cfg(unix)]
    // SAFETY: resetting a signal's disposition to its default has no other effect.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

/// Has mimalloc give freed memory back to the system at once rather than after a short
/// delay (10 ms by default). Reading returns frees and reallocates in waves (one file,
/// then the next; one sheet, then the next), and with the delay the freed pages piled
/// up: measured at 10,000 returns, peak memory of `ptk review` 59 MB with the delay,
/// 40 MB without, at the same speed. Not for `ptk issue`, whose large workbook buffers
/// made the immediate purge cost 1 s of system time per 1,000 forms. (The same as
/// `MIMALLOC_PURGE_DELAY=0`.)
pub(crate) fn prompt_purge() {
    // mimalloc.h's `mi_option_purge_delay`: option 15 in both mimalloc 2 and 3. The
    // mimalloc crate exposes no constant for it.
    const MI_OPTION_PURGE_DELAY: i32 = 15;
    extern "C" {
        fn mi_option_set(option: i32, value: std::ffi::c_long);
    }
    // SAFETY: mi_option_set only stores an option value; mimalloc reads this one each
    // time it considers purging, so setting it after start-up takes effect.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 0) }
}
