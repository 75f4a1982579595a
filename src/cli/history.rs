//! `ptk history import|export`: earlier years' scores in a long CSV.

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use ptk::config::Config;
use ptk::store::{self, Store};

#[derive(Subcommand)]
pub enum HistoryCommand {
    /// Load earlier years' scores (CSV: year,partnership_id,section_id,percent; section_id may be `overall`).
    #[command(after_help = concat!(
        "Example:\n  ptk history import samples/history.csv\n\nA row for a year, partnership and section already stored replaces it.\nImport before issuing the self-assessment: the forms show these scores.\n\n",
        super::exit_codes!()
    ))]
    Import {
        /// The CSV of earlier scores: year,partnership_id,section_id,percent (UTF-8, as Excel's \"CSV UTF-8\" saves it).
        file: PathBuf,
        /// The history store to load them into, created if needed (default: `store` in ptk.toml, else ./ptk.db).
        #[arg(long)]
        store: Option<PathBuf>,
    },
    /// Write every stored score in the same CSV format (to standard output unless --out).
    #[command(after_help = concat!(
        "Examples:\n  ptk history export --out scores-all-years.csv\n  ptk history export --store reviews.db > scores.csv\n\n",
        super::exit_codes!()
    ))]
    Export {
        /// The history store to read (default: `store` in ptk.toml, else ./ptk.db).
        #[arg(long)]
        store: Option<PathBuf>,
        /// The CSV file to write (default: standard output).
        #[arg(long, value_name = "FILE")]
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
            if !path.exists() {
                anyhow::bail!(
                    "there is no history store at {}; point --store at it",
                    path.display()
                );
            }
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
