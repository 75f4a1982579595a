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
