//! `ptk feedback`: each scored partnership's own results, one workbook each.

use std::path::PathBuf;

use clap::Args;
use ptk::config::Config;
use ptk::feedback::{self, NextSteps};

use ptk::report::{SourcePaths, Sources};

use super::report::beside;

const EXAMPLES: &str = concat!(
    "\
Examples:
  ptk feedback --year 2026
  ptk feedback --year 2026 --review-date 2027-03-03 --contact partnerships@rochford.gov.uk
  ptk feedback --year 2026 --out feedback/

Writes <ID>_feedback_<year>.xlsx for every partnership scored this year (default folder:
feedback-<year>/ beside the store), two A4 pages for its lead officer and partners: their
scores against last year and the council's average, their strongest and weakest
statements, where their respondents differ (an agenda with questions to discuss), what
they wrote, and what happens next. It shows no other partnership's scores or names: the
council's average appears only over at least 3 partnerships. Send them with
`ptk mail feedback`. The same store always gives the same workbooks.

",
    super::exit_codes!()
);

#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct FeedbackArgs {
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
    /// The respondents CSV (default: `respondents` in ptk.toml; none: lead officers only).
    #[arg(long)]
    pub respondents: Option<PathBuf>,
    /// The folder to write the workbooks to (default: feedback-<year>/ beside the store).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// When the Leadership Team considers the review, YYYY-MM-DD (said under "What happens next").
    #[arg(long, value_name = "DATE")]
    pub review_date: Option<String>,
    /// Who partnerships ask about their feedback (default: `return_address` in ptk.toml, else `sender`).
    #[arg(long, value_name = "EMAIL")]
    pub contact: Option<String>,
}

pub fn run(args: FeedbackArgs, config: &Config) -> anyhow::Result<i32> {
    let store_path = config.store_path(args.store.as_deref());
    if !store_path.exists() {
        anyhow::bail!(
            "there is no history store at {}; run `ptk ingest` (or `ptk review`) first, or point --store at it",
            store_path.display()
        );
    }
    let sources = Sources::load(&args.sources(), config, &store_path, false)?;
    if !sources.respondent_problems.is_empty() {
        for p in &sources.respondent_problems {
            eprintln!("{}", ptk::output::printable(&p.to_string()));
        }
        eprintln!(
            "ptk: {} row(s) of the respondents file have problems (above); fix them and run again: feedback that leaves respondents out would misstate who answered.",
            sources.respondent_problems.len()
        );
        return Ok(ptk::exit::CANNOT_RUN);
    }
    ptk::report::warn_if_year_is_empty(sources.store(), args.year, &config.outbox_dir(None))?;
    let next = next_steps(&args, config)?;
    let review = sources.review(args.year, config)?;
    let feedbacks = feedback::build_all(&review, sources.store(), &next)?;
    let dir = args
        .out
        .clone()
        .unwrap_or_else(|| beside(&store_path, &format!("feedback-{}", args.year)));
    let written = feedback::write_all(&feedbacks, &dir)?;
    let unscored = review
        .rows
        .iter()
        .filter(|r| r.expected.as_deref() == Some(review.scored.id.as_str()) && r.overall.is_none())
        .count();
    println!(
        "Feedback {}: {} workbook(s) in {} (one per partnership scored){}.",
        args.year,
        written.len(),
        dir.display(),
        if unscored > 0 {
            format!("; {unscored} partnership(s) owing a self-assessment have no score yet and get none")
        } else {
            String::new()
        }
    );
    Ok(ptk::exit::OK)
}

/// "What happens next" from the flags and ptk.toml.
pub fn next_steps(args: &FeedbackArgs, config: &Config) -> anyhow::Result<NextSteps> {
    let readable = |s: &str, what: &str| -> anyhow::Result<String> {
        ptk::register::parse_date(s)
            .map(|d| d.format("%-d %B %Y").to_string())
            .ok_or_else(|| {
                anyhow::anyhow!("the {what} '{s}' is not a date; write it as YYYY-MM-DD")
            })
    };
    Ok(NextSteps {
        review_date: args
            .review_date
            .as_deref()
            .map(|d| readable(d, "review date"))
            .transpose()?,
        deadline: config
            .deadline
            .as_deref()
            .and_then(|d| readable(d, "deadline").ok()),
        contact: args
            .contact
            .clone()
            .or_else(|| config.return_address.clone())
            .or_else(|| config.sender.clone()),
    })
}

impl FeedbackArgs {
    /// The same sources as `ptk report` reads.
    pub fn sources(&self) -> SourcePaths {
        SourcePaths {
            store: self.store.clone(),
            register: self.register.clone(),
            templates: self.templates.clone(),
            respondents: self.respondents.clone(),
            // The register as the year's review read it, as `ptk report` does.
            as_run_for: Some(self.year),
        }
    }
}
