//! `ptk runs` and `ptk runs undo N`: list the runs that wrote to the store, and undo one.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use ptk::config::Config;
use ptk::output::printable;
use ptk::store::Store;

const EXAMPLES: &str = concat!(
    "\
Examples:
  ptk runs
  ptk runs --store work/ptk.db

Every ingest (and `ptk review`) and every history import is a run. Before each, the store
is copied to <store>.backups/before-run-<N>.db (the last 10 are kept). `ptk runs undo N`
puts the store back as it was before run N: run N and every run after it are removed. The
record of email sent is kept (what was sent stays sent: undo never makes ptk send it
again). Run the same commands again afterwards to redo them.

",
    super::exit_codes!()
);

const UNDO_EXAMPLES: &str = concat!(
    "\
Examples:
  ptk runs undo 7
  ptk runs undo 7 --store work/ptk.db

Puts the store back as it was before run 7, from the copy taken before it; runs 7 and
later are removed and listed. The record of email sent is kept.

",
    super::exit_codes!()
);

#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct RunsArgs {
    #[command(subcommand)]
    action: Option<RunsAction>,
    /// The history store (default: `store` in ptk.toml, else ./ptk.db).
    #[arg(long, global = true)]
    store: Option<PathBuf>,
}

#[derive(Subcommand)]
enum RunsAction {
    /// Put the store back as it was before run N (N and every later run are removed).
    #[command(after_help = UNDO_EXAMPLES)]
    Undo {
        /// The run's number, as `ptk runs` lists it.
        run: i64,
    },
}

pub fn run(args: RunsArgs, config: &Config) -> anyhow::Result<i32> {
    let path = config.store_path(args.store.as_deref());
    if !path.exists() {
        anyhow::bail!(
            "there is no history store at {}: nothing has run yet (or point --store at it)",
            path.display()
        );
    }
    let mut store = Store::open(&path)?;
    match args.action {
        None => {
            let runs = store.runs()?;
            if runs.is_empty() {
                println!("No runs recorded in {}.", path.display());
            }
            for r in &runs {
                println!("{}", printable(&r.line()));
            }
        }
        Some(RunsAction::Undo { run }) => {
            let removed = store.undo_runs_from(run)?;
            println!(
                "Undid {} run(s); {} is as it was before run {run}. Removed:",
                removed.len(),
                path.display()
            );
            for r in &removed {
                println!("  {}", printable(&r.line()));
            }
            println!(
                "The record of email sent is unchanged. A copy from just before this undo is in {}.",
                store.backups_dir().display()
            );
        }
    }
    Ok(ptk::exit::OK)
}
