//! `ptk history import|export`: earlier years' scores in a long CSV.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use ptk::config::Config;
use ptk::store::{self, Store};

#[derive(Subcommand)]
pub enum HistoryCommand {
    /// Load earlier years' scores (CSV: year,partnership_id,section_id,percent; section_id may be `overall`).
    #[command(
        after_help = "Example:\n  ptk history import samples/history.csv\n\nA row for a year, partnership and section already stored replaces it."
    )]
    Import {
        file: PathBuf,
        #[arg(long)]
        store: Option<PathBuf>,
    },
    /// Write every stored score in the same CSV format (to standard output unless --out).
    #[command(after_help = "Example:\n  ptk history export --out scores-all-years.csv")]
    Export {
        #[arg(long)]
        store: Option<PathBuf>,
        #[arg(long)]
        out: Option<PathBuf>,
        /// The scored template whose scores to export.
        #[arg(long, default_value = "self-assessment")]
        template: String,
    },
}

pub fn run(cmd: HistoryCommand, config: &Config) -> anyhow::Result<i32> {
    match cmd {
        HistoryCommand::Import { file, store } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let rows = match store::parse_history_csv(&file, &bytes) {
                Ok(r) => r,
                Err(problems) => {
                    for p in &problems {
                        eprintln!("{p}");
                    }
                    eprintln!(
                        "Nothing was imported: fix the {} line(s) above and run again.",
                        problems.len()
                    );
                    return Ok(ptk::exit::REJECTED);
                }
            };
            let path = config.store_path(store.as_deref());
            let n = Store::open(&path)?.import_history(&rows)?;
            println!(
                "Imported {n} score(s) from {} into {}.",
                file.display(),
                path.display()
            );
            Ok(ptk::exit::OK)
        }
        HistoryCommand::Export {
            store,
            out,
            template,
        } => {
            let path = config.store_path(store.as_deref());
            let rows = Store::open(&path)?.history(&template)?;
            let bytes = store::history_csv(&rows)?;
            match out {
                Some(o) => {
                    ptk::output::write_atomic(&o, &bytes)?;
                    eprintln!("Wrote {} score(s) to {}.", rows.len(), o.display());
                }
                None => {
                    use std::io::Write;
                    std::io::stdout().write_all(&bytes)?;
                }
            }
            Ok(ptk::exit::OK)
        }
    }
}
