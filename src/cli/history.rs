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
        /// The partnership register CSV the ids are checked against (default: `register` in ptk.toml).
        #[arg(long)]
        register: Option<PathBuf>,
        /// The templates folder; section ids are checked against the self-assessment (default: `templates` in ptk.toml, else ./templates).
        #[arg(long)]
        templates: Option<PathBuf>,
        /// Import the good rows of a file with bad ones (the bad rows are listed and left out).
        #[arg(long)]
        skip_bad_rows: bool,
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
        HistoryCommand::Import {
            file,
            store,
            register,
            templates,
            skip_bad_rows,
        } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let (register, _) = ptk::register::load(&config.register_path(register.as_deref()))?;
            let template = ptk::template::find(
                &config.templates_dir(templates.as_deref()),
                "self-assessment",
            )?;
            let ids: Vec<String> = register.partnerships.iter().map(|p| p.id.clone()).collect();
            let sections: Vec<String> = template
                .sections
                .iter()
                .filter(|s| s.is_scored())
                .map(|s| s.id.clone())
                .collect();
            let checked =
                store::parse_history_lines(&file, &bytes).and_then(|(rows, mut problems)| {
                    problems.extend(store::check_history_rows(&file, &rows, &ids, &sections));
                    if problems.is_empty() || skip_bad_rows {
                        for p in &problems {
                            eprintln!("{p} (left out)");
                        }
                        let bad: std::collections::BTreeSet<&str> = problems
                            .iter()
                            .filter_map(|p| p.strip_prefix(&format!("{}:", file.display())))
                            .filter_map(|p| p.split(':').next())
                            .collect();
                        Ok(rows
                            .into_iter()
                            .filter(|(line, _)| !bad.contains(line.to_string().as_str()))
                            .map(|(_, r)| r)
                            .collect())
                    } else {
                        Err(problems)
                    }
                });
            let rows: Vec<store::HistoryRow> = match checked {
                Ok(r) => r,
                Err(problems) => {
                    for p in &problems {
                        eprintln!("{p}");
                    }
                    eprintln!(
                        "Nothing was imported: fix the {} problem(s) above and run again (or run again with --skip-bad-rows to import the other rows).",
                        problems.len()
                    );
                    return Ok(ptk::exit::REJECTED);
                }
            };
            let path = config.store_path(store.as_deref());
            let mut store = Store::open(&path)?;
            let shadowed = store.history_shadowed("self-assessment", &rows)?;
            let n = store.import_history(&rows)?;
            println!(
                "Imported {n} score(s) from {} into {}.",
                file.display(),
                path.display()
            );
            if shadowed > 0 {
                println!("{shadowed} of them are for a partnership and year whose returns were already read: the scores from those returns are used instead.");
            }
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
                    ptk::output::refuse_overwriting(&o, &[("history store", path.as_path())])?;
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
