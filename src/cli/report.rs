//! `ptk report`: the consolidated review workbook and scores CSV from the history store.

use std::path::{Path, PathBuf};

use clap::Args;
use ptk::config::Config;
use ptk::respondents::Respondents;
use ptk::store::Store;
use ptk::{register, report, template};

const EXAMPLES: &str = concat!(
    "\
Examples:
  ptk report --year 2026
  ptk report --year 2026 --store reviews.db --out review-2026.xlsx
  ptk report --year 2026 --respondents respondents.csv

Writes the review workbook (Overview with the partnerships for decision, Summary, Trends,
Sections, Statements, Where respondents disagree, By Assistant Director, By priority,
Charts, Outstanding, Exits, New partnerships, Findings, About) and scores-<year>.csv
beside it. With a respondents file (--respondents, or `respondents` in ptk.toml) the
Summary counts each partner's form, Outstanding lists each partner still to return, and
the disagreement sheet compares their answers. The decision rules are
set in ptk.toml under [decision] (see docs/review.md). The same store always gives the
same workbook.

",
    super::exit_codes!()
);

#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct ReportArgs {
    /// The review year, in full (2000–2100).
    #[arg(long, value_parser = super::year)]
    pub year: i32,
    /// The history store (default: `store` in ptk.toml, else ./ptk.db).
    #[arg(long)]
    pub store: Option<PathBuf>,
    /// The partnership register CSV (default: `register` in ptk.toml).
    #[arg(long)]
    pub register: Option<PathBuf>,
    /// The templates folder (default: `templates` in ptk.toml, else ./templates).
    #[arg(long)]
    pub templates: Option<PathBuf>,
    /// The workbook to write (default: review-<year>.xlsx beside the store).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// The respondents CSV: the partners who complete each partnership's
    /// self-assessment besides its lead officer (default: `respondents` in ptk.toml;
    /// none: lead officers only).
    #[arg(long)]
    pub respondents: Option<PathBuf>,
}

pub fn run(args: ReportArgs, config: &Config) -> anyhow::Result<i32> {
    let store_path = config.store_path(args.store.as_deref());
    if !store_path.exists() {
        anyhow::bail!(
            "there is no history store at {}; run `ptk ingest` (or `ptk review`) first, or point --store at it",
            store_path.display()
        );
    }
    let sources = load(&args, config, &store_path)?;
    if !sources.respondent_problems.is_empty() {
        for p in &sources.respondent_problems {
            eprintln!("{}", ptk::output::printable(&p.to_string()));
        }
        eprintln!(
            "ptk: {} row(s) of the respondents file have problems (above); fix them and run again: a review that leaves respondents out would show partnerships as complete when they are not.",
            sources.respondent_problems.len()
        );
        return Ok(ptk::exit::CANNOT_RUN);
    }
    warn_if_year_is_empty(&sources.store, args.year, &config.outbox_dir(None))?;
    let review = sources.review(&args, config)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| beside(&store_path, &format!("review-{}.xlsx", args.year)));
    let csv = report::write(&review, &out)?;
    let outstanding = review
        .rows
        .iter()
        .filter(|r| r.state.is_outstanding())
        .count();
    let disagreements = if review.disagreements.is_empty() {
        String::new()
    } else {
        format!(
            ", {} statement(s) where respondents disagree",
            review.disagreements.len()
        )
    };
    println!(
        "Review {}: {} partnerships, {} scored, {} outstanding{disagreements}. Workbook: {}  Scores: {}",
        args.year,
        review.rows.len(),
        review.rows.iter().filter(|r| r.overall.is_some()).count(),
        outstanding,
        out.display(),
        csv.display()
    );
    Ok(ptk::exit::OK)
}

/// What a review is gathered from: the register, templates and store.
pub struct Sources {
    store: Store,
    register: register::Register,
    templates: Vec<template::Template>,
    respondents: Respondents,
    /// Bad rows of the respondents file, with their line numbers (`ptk report` stops
    /// on them; the respondents on good rows are loaded).
    pub respondent_problems: Vec<register::RegisterProblem>,
}

/// Loads the register, templates and store; a register with problems is an error
/// (for the commands whose answer would be wrong without the rows left out: a
/// status or reminders that skip a partnership look like good news).
pub fn load_strict(
    args: &ReportArgs,
    config: &Config,
    store_path: &Path,
) -> anyhow::Result<Sources> {
    load_with(args, config, store_path, true)
}

/// Warns when the store knows nothing of `year`: no file read, no email recorded and no
/// issued workbook in the outbox. Usually a mistyped year (2025 for 2026).
pub fn warn_if_year_is_empty(store: &Store, year: i32, outbox: &Path) -> anyhow::Result<()> {
    let (_, files, _) = store.runs_for_year(year)?;
    let sent = !store.sends_for_year(year)?.is_empty();
    let suffix = format!("_{year}.xlsx");
    let issued = std::fs::read_dir(outbox).is_ok_and(|d| {
        d.flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(&suffix))
    });
    if files == 0 && !sent && !issued {
        eprintln!(
            "ptk: warning: nothing is known for {year}: no returns read, no emails recorded and no {year} forms in {}. Is the year right?",
            outbox.display()
        );
    }
    Ok(())
}

/// Loads the register, templates and store; register rows with problems are listed
/// and left out.
pub fn load(args: &ReportArgs, config: &Config, store_path: &Path) -> anyhow::Result<Sources> {
    load_with(args, config, store_path, false)
}

fn load_with(
    args: &ReportArgs,
    config: &Config,
    store_path: &Path,
    strict: bool,
) -> anyhow::Result<Sources> {
    let templates_dir = config.templates_dir(args.templates.as_deref());
    let templates = template::load_checked(&templates_dir)?;
    let register_path = config.register_path(args.register.as_deref());
    let (register, problems) = register::load(&register_path)?;
    let left_out = if strict {
        ""
    } else {
        " (left out of the review)"
    };
    for p in &problems {
        eprintln!("{}{left_out}", ptk::output::printable(&p.to_string()));
    }
    if strict && !problems.is_empty() {
        anyhow::bail!(
            "the register {} could not be read: {} problem(s), listed above. Fix them and run again",
            register_path.display(),
            problems.len()
        );
    }
    let respondents_path = config.respondents_path(args.respondents.as_deref());
    let (respondents, respondent_problems) =
        ptk::respondents::load_optional(respondents_path.as_deref(), &register)?;
    let store = Store::open(store_path)?;
    Ok(Sources {
        store,
        register,
        templates,
        respondents,
        respondent_problems,
    })
}

impl Sources {
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The respondents on the good rows of the respondents file (see
    /// `respondent_problems` for the bad ones).
    pub fn respondents(&self) -> &Respondents {
        &self.respondents
    }

    /// Gathers the review of `args.year` (its rows borrow from the register).
    pub fn review(&self, args: &ReportArgs, config: &Config) -> anyhow::Result<report::Review<'_>> {
        let mut review = report::gather(
            &self.store,
            &self.register,
            &self.respondents,
            &self.templates,
            args.year,
            config.council(),
            "self-assessment",
            &config.decision,
        )?;
        review.deadline = config.deadline.as_deref().and_then(register::parse_date);
        Ok(review)
    }
}

/// A file name in the store's folder.
pub fn beside(store: &Path, name: &str) -> PathBuf {
    store
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from(name), |d| d.join(name))
}
