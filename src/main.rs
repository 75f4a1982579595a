//! The `ptk` command line. This layer only parses arguments and calls the library.

mod cli;

/// mimalloc: faster than the system allocator for the many small allocations of
/// parsing, and it returns memory freed by other threads instead of fragmenting, so
/// peak memory stays flat over tens of thousands of files (measured: docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    std::process::exit(cli::run());
}
