//! `ptk report`: the consolidated review workbook and scores CSV from the history store.

use std::path::{Path, PathBuf};

use clap::Args;
use ptk::config::Config;
use ptk::report;

const EXAMPLES: &str = concat!(
    "\
Examples:
  ptk report --year 2026
  ptk report --year 2026 --store reviews.db --out review-2026.xlsx
  ptk report --year 2026 --respondents respondents.csv

Writes the review workbook (Overview with the partnerships for decision, Summary, Trends,
Sections, Statements, Where respondents disagree, By Assistant Director, By priority,
Charts, Outstanding, Exits, Lessons, New partnerships, Findings, About) and scores-<year>.csv
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

impl ReportArgs {
    pub fn sources(&self) -> report::SourcePaths {
        report::SourcePaths {
            store: self.store.clone(),
            register: self.register.clone(),
            templates: self.templates.clone(),
            respondents: self.respondents.clone(),
            as_run_for: Some(self.year),
        }
    }
}

pub fn run(args: ReportArgs, config: &Config) -> anyhow::Result<i32> {
    let store_path = config.store_path(args.store.as_deref());
    if !store_path.exists() {
        anyhow::bail!(
            "there is no history store at {}; run `ptk ingest` (or `ptk review`) first, or point --store at it",
            store_path.display()
        );
    }
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| beside(&store_path, &format!("review-{}.xlsx", args.year)));
    let register = config.register_path(args.register.as_deref());
    let respondents = config.respondents_path(args.respondents.as_deref());
    let mut inputs = vec![
        ("history store", store_path.as_path()),
        ("register", register.as_path()),
    ];
    inputs.extend(respondents.as_deref().map(|r| ("respondents file", r)));
    let scores = out.with_file_name(format!("scores-{}.csv", args.year));
    for o in [&out, &scores] {
        ptk::output::refuse_overwriting(o, &inputs)?;
    }
    let sources = report::Sources::load(&args.sources(), config, &store_path, false)?;
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
    if !sources.store().year_has_data(args.year)? {
        anyhow::bail!(
            "the history store {} holds nothing for {}: no returns were read for it and no scores imported. Is the year right? (`ptk runs` lists the runs and their years)",
            store_path.display(),
            args.year
        );
    }
    let review = sources.review(args.year, config)?;
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

/// A file name in the store's folder.
pub fn beside(store: &Path, name: &str) -> PathBuf {
    store
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from(name), |d| d.join(name))
}
