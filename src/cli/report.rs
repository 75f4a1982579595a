//! `ptk report`: the consolidated review workbook and scores CSV from the history store.

use std::path::{Path, PathBuf};

use clap::Args;
use ptk::config::Config;
use ptk::store::Store;
use ptk::{register, report, template};

const EXAMPLES: &str = "\
Examples:
  ptk report --year 2026
  ptk report --year 2026 --store reviews.db --out review-2026.xlsx

Writes the review workbook (Overview with the partnerships for decision, Summary, Trends,
Sections, Statements, By Assistant Director, By priority, Charts, Outstanding, Exits,
New partnerships, Findings, About) and scores-<year>.csv beside it. The decision rules are
set in ptk.toml under [decision] (see docs/review.md). The same store always gives the
same workbook.";

#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct ReportArgs {
    /// The review year.
    #[arg(long)]
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
    println!(
        "Review {}: {} partnerships, {} scored, {} outstanding. Workbook: {}  Scores: {}",
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
}

/// Loads the register, templates and store.
pub fn load(args: &ReportArgs, config: &Config, store_path: &Path) -> anyhow::Result<Sources> {
    let templates_dir = config.templates_dir(args.templates.as_deref());
    let templates = template::load_checked(&templates_dir)?;
    let register_path = config.register_path(args.register.as_deref());
    let (register, problems) = register::load(&register_path)?;
    for p in &problems {
        eprintln!("{p} (left out of the review)");
    }
    let store = Store::open(store_path)?;
    Ok(Sources {
        store,
        register,
        templates,
    })
}

impl Sources {
    /// Gathers the review of `args.year` (its rows borrow from the register).
    pub fn review(&self, args: &ReportArgs, config: &Config) -> anyhow::Result<report::Review<'_>> {
        report::gather(
            &self.store,
            &self.register,
            &self.templates,
            args.year,
            config.council(),
            "self-assessment",
            &config.decision,
        )
    }
}

/// A file name in the store's folder.
pub fn beside(store: &Path, name: &str) -> PathBuf {
    store
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from(name), |d| d.join(name))
}
