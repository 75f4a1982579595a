//! `ptk review`: the whole year-end run in one command: (history import,) ingest, report.

use std::path::PathBuf;

use clap::Args;
use ptk::config::Config;

use super::ingest::IngestArgs;
use super::report::ReportArgs;

const EXAMPLES: &str = "\
Examples:
  ptk review samples/returns --year 2026 --history samples/history.csv
  ptk review inbox/ --year 2026

Imports earlier scores (if --history is given; re-importing the same file changes nothing),
ingests every return in the folders, then writes the review workbook and scores CSV.
Run it again whenever more returns arrive: files already read are skipped.
Exit codes as for ptk ingest: 0 all accepted; 1 some files rejected; 2 could not run.";

#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct ReviewArgs {
    #[command(flatten)]
    pub ingest: IngestArgs,
    /// Earlier years' scores to import first (CSV: year,partnership_id,section_id,percent).
    #[arg(long)]
    pub history: Option<PathBuf>,
    /// The review workbook to write (default: review-<year>.xlsx beside the store).
    #[arg(long)]
    pub out: Option<PathBuf>,
}

pub fn run(args: ReviewArgs, config: &Config) -> anyhow::Result<i32> {
    // A mistyped returns folder stops the run before the history import creates a store.
    for p in &args.ingest.paths {
        std::fs::metadata(p).map_err(|e| {
            anyhow::anyhow!(
                "cannot read {}: {e}. Check the path of the returns folder or file.",
                p.display()
            )
        })?;
    }
    if let Some(h) = &args.history {
        let code = super::history::run(
            super::history::HistoryCommand::Import {
                file: h.clone(),
                store: args.ingest.store.clone(),
                register: args.ingest.register.clone(),
                templates: args.ingest.templates.clone(),
                skip_bad_rows: args.ingest.skip_bad_rows,
            },
            config,
        )?;
        if code != ptk::exit::OK {
            return Ok(code);
        }
    }
    let report = ReportArgs {
        year: args.ingest.year,
        store: args.ingest.store.clone(),
        register: args.ingest.register.clone(),
        templates: args.ingest.templates.clone(),
        out: args.out.clone(),
        respondents: args.ingest.respondents.clone(),
    };
    let (code, _) = super::ingest::ingest(args.ingest, config)?;
    // The report's own "could not run" wins over the ingest's outcome.
    let reported = super::report::run(report, config)?;
    Ok(if reported == ptk::exit::OK {
        code
    } else {
        reported
    })
}
