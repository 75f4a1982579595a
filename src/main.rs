//! The `ptk` command line. This layer only parses arguments and calls the library.

mod cli;

fn main() {
    std::process::exit(cli::run());
}
