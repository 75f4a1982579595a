//! `ptk ingest`: read the returned workbooks into the history store.

use std::io::IsTerminal;
use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use ptk::config::Config;
use ptk::ingest::pool::{self, PoolOptions};
use ptk::ingest::{self, Status};
use ptk::output::printable;
use ptk::read::Limits;
use ptk::store::Store;
use ptk::{register, template};

const EXAMPLES: &str = "\
Examples:
  ptk ingest samples/returns --year 2026
  ptk ingest inbox/ late-returns/HWB03.xlsx --year 2026 --store reviews.db --report-dir reports/

Reads .xlsx, .xlsm, .xlsb, .xls and .ods files, and the workbooks attached to emails
saved as .eml, .msg (Outlook), .mbox or a maildir folder (folders are searched recursively), in separate
reader processes, each under a memory and time limit (--max-memory-mb, --file-timeout), so
one damaged file cannot stop the run: it is rejected as reader-failed. Identifies each
return from its hidden _ptk sheet, validates every answer and scores it. Files already
accepted are recognised by their content and not read again; rejected files are read again
each run (fixing the register or --year may be all they need); a corrected return replaces
the earlier one. Writes ingest-report.csv (one row per file) and findings.csv (one row per
problem) next to the store, or into --report-dir.

Exit codes: 0 every return accepted; 1 finished, but some files were rejected;
2 could not run (bad arguments, unreadable register or templates, store problem).";

#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct IngestArgs {
    /// Returned workbooks, or folders holding them.
    #[arg(required = true, value_name = "DIR|FILE")]
    pub paths: Vec<PathBuf>,
    /// The review year the returns are for, in full (2000–2100).
    #[arg(long, value_parser = super::year)]
    pub year: i32,
    /// The partnership register CSV (default: `register` in ptk.toml).
    #[arg(long)]
    pub register: Option<PathBuf>,
    /// The respondents file: who answers for each partnership besides its lead officer
    /// (default: `respondents` in ptk.toml; without one, each lead is the only respondent).
    #[arg(long, value_name = "FILE")]
    pub respondents: Option<PathBuf>,
    /// The templates folder (default: `templates` in ptk.toml, else ./templates).
    #[arg(long)]
    pub templates: Option<PathBuf>,
    /// The history store (default: `store` in ptk.toml, else ./ptk.db).
    #[arg(long)]
    pub store: Option<PathBuf>,
    /// Where to write ingest-report.csv and findings.csv (default: beside the store).
    #[arg(long)]
    pub report_dir: Option<PathBuf>,
    /// Print the summary only: no progress bar and no line per file (ingest-report.csv
    /// and findings.csv still list every file).
    #[arg(long, short)]
    pub quiet: bool,
    /// Let this run replace data it would otherwise leave alone: that year's imported
    /// history, or a file an earlier run recorded for another year. Must be the run's --year.
    #[arg(long, value_name = "YEAR", value_parser = super::year)]
    pub replace_year: Option<i32>,
    /// Ingest even if some register rows are rejected (their returns are then rejected as unknown).
    #[arg(long)]
    pub skip_bad_rows: bool,
    /// Largest file accepted, in megabytes.
    #[arg(long, default_value_t = 20)]
    pub max_file_mb: u64,
    /// Memory each reader process may use, in megabytes (default: 16 x --max-file-mb + 128,
    /// at least 256). A file that needs more is rejected as reader-failed.
    #[arg(long, value_name = "MB", value_parser = clap::value_parser!(u64).range(64..))]
    pub max_memory_mb: Option<u64>,
    /// Longest one file may take to read, in seconds. A file that takes longer is
    /// rejected as reader-failed.
    #[arg(long, value_name = "SECONDS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..))]
    pub file_timeout: u64,
}

pub fn run(args: IngestArgs, config: &Config) -> anyhow::Result<i32> {
    ingest(args, config).map(|(code, _)| code)
}

/// Runs the ingest; returns the exit code and the store path (for `ptk review`).
pub fn ingest(args: IngestArgs, config: &Config) -> anyhow::Result<(i32, PathBuf)> {
    let templates_dir = config.templates_dir(args.templates.as_deref());
    // Checked here so a problem stops the run with its message; the reader processes
    // load the same folder.
    let templates = template::load_checked(&templates_dir)?;
    let register_path = config.register_path(args.register.as_deref());
    let (register, problems) = register::load(&register_path)?;
    for p in &problems {
        eprintln!("{p}");
    }
    if !problems.is_empty() && !args.skip_bad_rows {
        anyhow::bail!(
            "{} register row(s) have problems (above); fix them, or run again with --skip-bad-rows",
            problems.len()
        );
    }
    let respondents_path = config.respondents_path(args.respondents.as_deref());
    let (_, problems) = ptk::respondents::load_optional(respondents_path.as_deref(), &register)?;
    for p in &problems {
        eprintln!("{p}");
    }
    if !problems.is_empty() && !args.skip_bad_rows {
        anyhow::bail!(
            "{} row(s) of the respondents file have problems (above); fix them, or run again with --skip-bad-rows",
            problems.len()
        );
    }
    let limits = Limits {
        max_file_bytes: args.max_file_mb.saturating_mul(1024 * 1024),
        ..Limits::default()
    };
    // The inputs first: a run that cannot start (a mistyped folder) leaves no store behind.
    let inputs = ingest::collect_inputs(&args.paths, &limits)?;
    let store_path = config.store_path(args.store.as_deref());
    let mut store = Store::open(&store_path)?;
    store.record_sources(&register_path, respondents_path.as_deref())?;
    match args.replace_year {
        Some(y) if y != args.year => anyhow::bail!(
            "--replace-year {y} names another year than --year {}: a run changes only its own year. Run with --year {y} to replace {y}'s data",
            args.year
        ),
        Some(y) => store.allow_replacing(y),
        None => {}
    }
    let seen = store.settled_files()?;
    let memory_mb = args
        .max_memory_mb
        .unwrap_or_else(|| pool::default_memory_cap_mb(args.max_file_mb));
    let pool = PoolOptions {
        program: std::env::current_exe()
            .context("cannot find the ptk program to start its reader processes")?,
        workers: rayon::current_num_threads(),
        file_timeout: std::time::Duration::from_secs(args.file_timeout),
        setup: pool::Setup {
            templates: std::path::absolute(&templates_dir)?,
            register: std::path::absolute(&register_path)?,
            respondents: respondents_path
                .as_deref()
                .map(std::path::absolute)
                .transpose()?,
            year: args.year,
            max_file_bytes: limits.max_file_bytes,
            max_cells: limits.max_cells,
            max_id_rows: limits.max_id_rows,
            memory_cap_bytes: Some(memory_mb.saturating_mul(1024 * 1024)),
            seen: seen.keys().cloned().collect(),
        },
    };

    let bar = (!args.quiet && std::io::stderr().is_terminal()).then(|| {
        let b = indicatif::ProgressBar::new(inputs.len() as u64);
        b.set_style(
            indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} files  {per_sec}  {msg}")
                .expect("valid template"),
        );
        b
    });
    let started = chrono::Local::now().format("%Y-%m-%dT%H:%M:%S").to_string();
    let fail_after = std::env::var("PTK_TEST_CRASH_AFTER")
        .ok()
        .and_then(|v| v.parse().ok());
    let report_dir = args.report_dir.clone().unwrap_or_else(|| {
        store_path
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map_or_else(|| PathBuf::from("."), PathBuf::from)
    });
    let quiet = args.quiet;
    let interactive = bar.is_some();
    // One line per file, in input order, once the run is saved (the progress bar is
    // gone by then); with a progress bar, only the files that need attention; with
    // --quiet, none (the summary only).
    let mut each = |status: Status, path: &str, message: &str| {
        let attention = matches!(
            status,
            Status::Rejected | Status::Duplicate | Status::AcceptedWithWarnings
        );
        if !quiet && (!interactive || attention) {
            eprintln!(
                "{:<22} {}  {}",
                status.as_str(),
                printable(path),
                printable(message)
            );
        }
    };
    let out = ingest::run(
        &inputs,
        &pool,
        &seen,
        &mut store,
        &started,
        &register.partnerships,
        &templates,
        fail_after,
        &|| {
            if let Some(b) = &bar {
                b.inc(1);
            }
        },
        &report_dir,
    )
    .with_context(|| {
        format!(
            "nothing from this run was saved to {}",
            store_path.display()
        )
    })?;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let ingest::RunOutput {
        changes,
        tally: _,
        summary,
        reports,
    } = out;
    let (report, findings) = reports.write(&mut each).with_context(|| {
        format!(
            "the run was saved to {}, but its reports could not be written to {}; make sure that folder can be written to (and the reports are not open in Excel), then run again: files already read are skipped",
            store_path.display(),
            report_dir.display()
        )
    })?;

    let left_alone: Vec<String> = changes.other_year.iter().map(|(p, _)| p.clone()).collect();
    ptk::store::rewrite_year_findings(&store, args.year, changes.run_id, &findings, &left_alone)
        .with_context(|| format!("cannot write {}", findings.display()))?;
    println!("{}", printable(&summary));
    for (p, t, y) in &changes.replaced {
        println!("A corrected {t} return for {p} ({y}) replaced the earlier one.");
    }
    for (p, y, path) in &changes.replaced_history {
        println!(
            "{p}'s return for {y} ({}) replaced its imported {y} scores.",
            printable(path)
        );
    }
    for (p, y, path) in &changes.held_back {
        println!("Not stored: {} would replace {p}'s imported {y} scores. To use it instead, run again with --year {y} --replace-year {y}.", printable(path));
    }
    if !changes.other_year.is_empty() {
        let mut years: Vec<i32> = changes.other_year.iter().map(|(_, y)| *y).collect();
        years.sort();
        years.dedup();
        println!(
            "{} file(s) already recorded for another year ({}) were left as they are: a run for {} changes nothing in another year.",
            changes.other_year.len(),
            years.iter().map(|y| y.to_string()).collect::<Vec<_>>().join(", "),
            args.year
        );
        for (path, y) in &changes.other_year {
            println!("  {} (recorded for {y})", printable(path));
        }
        println!(
            "  (to record one of them for {y} instead, run again with --replace-year {y})",
            y = args.year
        );
    }
    // A rejected file that an accepted return has since resolved needs nothing more.
    let rejected = store.needs_correcting(changes.run_id)?;
    let resolved = store.resolved_files(args.year)?;
    if !resolved.is_empty() {
        println!(
            "{} rejected file(s) of {} are resolved by an accepted return and left out of {}.",
            resolved.len(),
            args.year,
            findings.display()
        );
    }
    if rejected > 0 {
        println!("{rejected} file(s) were rejected and need correcting by the partnership (unless the problem is in the register or templates: fix that and run again); see {}.", findings.display());
    }
    println!(
        "Report: {}  Findings: {}  Store: {}",
        report.display(),
        findings.display(),
        store_path.display()
    );
    let code = if rejected > 0 {
        ptk::exit::REJECTED
    } else {
        ptk::exit::OK
    };
    Ok((code, store_path))
}
