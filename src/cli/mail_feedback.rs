//! `ptk mail feedback` and `ptk mail ad`: the feedback workbooks to each partnership's
//! lead officer and returned respondents, and each Assistant Director's pack. Parsing
//! and messages only; planning is in `ptk::mail`, the workbooks in `ptk::feedback`.

use std::path::PathBuf;

use anyhow::Context as _;
use clap::Args;
use ptk::config::Config;
use ptk::feedback::{self, pack, NextSteps};
use ptk::letter;
use ptk::mail::{self, Outgoing};
use ptk::report::{SourcePaths, Sources};

use super::mail_common::{stop_on, Common};

#[derive(Args)]
pub struct FeedbackMail {
    /// The folder `ptk feedback` wrote the workbooks to (default: feedback-<year>/ beside the store).
    #[arg(long)]
    feedback_dir: Option<PathBuf>,
    /// Send a changed feedback again to those already sent it, saying it replaces the earlier one.
    #[arg(long)]
    corrected: bool,
    /// Only these partnerships (repeat for several).
    #[arg(long = "partnership", value_name = "ID")]
    partnerships: Vec<String>,
    #[command(flatten)]
    pub common: Common,
}

#[derive(Args)]
pub struct AdMail {
    /// Where to write the packs (default: ad-packs-<year>/ beside the store).
    #[arg(long)]
    out: Option<PathBuf>,
    /// When the Leadership Team considers the review, YYYY-MM-DD (on the feedback pages).
    #[arg(long, value_name = "DATE")]
    review_date: Option<String>,
    #[command(flatten)]
    pub common: Common,
}

fn sources(c: &Common, config: &Config) -> anyhow::Result<(Sources, PathBuf)> {
    let store_path = config.store_path(c.store.as_deref());
    if !store_path.exists() {
        anyhow::bail!(
            "there is no history store at {}: nothing was read yet. Run `ptk ingest` first, or point --store at it",
            store_path.display()
        );
    }
    let paths = SourcePaths {
        store: c.store.clone(),
        register: c.register.clone(),
        templates: c.templates.clone(),
        respondents: c.respondents.clone(),
        // Today's register: today's addresses.
        as_run_for: None,
    };
    let s = Sources::load(&paths, config, &store_path, true)?;
    stop_on(&s.respondent_problems)?;
    Ok((s, store_path))
}

/// Who partnerships and Assistant Directors ask: the return address, else the sender.
fn contact(c: &Common, config: &Config) -> String {
    c.return_address
        .clone()
        .or_else(|| config.return_address.clone())
        .or_else(|| c.from.clone())
        .or_else(|| config.sender.clone())
        .unwrap_or_default()
}

/// Plans `ptk mail feedback`.
pub fn plan_feedback(a: &FeedbackMail, config: &Config) -> anyhow::Result<Vec<Outgoing>> {
    let c = &a.common;
    let (sources, store_path) = sources(c, config)?;
    let review = sources.review(c.year, config)?;
    let templates_dir = config.templates_dir(c.templates.as_deref());
    let first = letter::load_named(&templates_dir, "feedback")?;
    let corrected = letter::load_named(&templates_dir, "feedback-corrected")?;
    let contact = contact(c, config);
    let dir = a
        .feedback_dir
        .clone()
        .unwrap_or_else(|| super::report::beside(&store_path, &format!("feedback-{}", c.year)));
    let plan = mail::plan_feedback(
        &review,
        &dir,
        &mail::FeedbackLetters {
            first: &first,
            corrected: &corrected,
            contact: &contact,
        },
        sources.store(),
        a.corrected,
        &a.partnerships,
    )?;
    for (id, why) in &plan.left_out {
        println!("{id:<8} left out: {why}");
    }
    Ok(plan.messages)
}

/// Writes the packs and plans `ptk mail ad`.
pub fn plan_ad(a: &AdMail, config: &Config) -> anyhow::Result<Vec<Outgoing>> {
    let c = &a.common;
    let (sources, store_path) = sources(c, config)?;
    let review = sources.review(c.year, config)?;
    let templates_dir = config.templates_dir(c.templates.as_deref());
    let letter = letter::load_named(&templates_dir, "ad-pack")?;
    let contact = contact(c, config);
    let next = NextSteps {
        review_date: a
            .review_date
            .as_deref()
            .map(|d| {
                ptk::register::parse_date(d)
                    .map(ptk::dates::long_date)
                    .ok_or_else(|| {
                        anyhow::anyhow!(
                            "the review date '{d}' is not a date; write it as YYYY-MM-DD"
                        )
                    })
            })
            .transpose()?,
        deadline: config
            .deadline
            .as_deref()
            .and_then(ptk::register::parse_date)
            .map(ptk::dates::long_date),
        contact: (!contact.is_empty()).then(|| contact.clone()),
    };
    let feedbacks = feedback::build_all(&review, sources.store(), &next)?;
    let (packs, without) = pack::packs(&review);
    let dir = a
        .out
        .clone()
        .unwrap_or_else(|| super::report::beside(&store_path, &format!("ad-packs-{}", c.year)));
    // A dry run keeps nothing: the packs are made in a temporary folder only so the
    // messages can be planned (and their attachments sized), then removed with it.
    let preview = if c.dry_run {
        Some(tempfile::tempdir().context("cannot make a temporary folder for the dry run")?)
    } else {
        None
    };
    let into = preview.as_ref().map_or(dir.as_path(), |t| t.path());
    let written = pack::write_all(&review, &packs, &feedbacks, into)?;
    if preview.is_some() {
        println!(
            "Dry run: {} Assistant Director pack(s) would be written in {}; nothing written.",
            written.len(),
            dir.display()
        );
    } else {
        println!(
            "{} Assistant Director pack(s) written in {}.",
            written.len(),
            dir.display()
        );
    }
    if !without.is_empty() {
        println!(
            "{} partnership(s) have no assistant_director_email in the register, so are in no pack (add it and run again):",
            without.len()
        );
        for r in &without {
            let ad = if r.partnership.assistant_director.is_empty() {
                "no Assistant Director named".to_string()
            } else {
                format!("Assistant Director {}", r.partnership.assistant_director)
            };
            println!(
                "  {} {} ({ad})",
                r.partnership.id,
                ptk::output::printable(&r.partnership.name)
            );
        }
    }
    let plan = mail::plan_ad_packs(&review, &written, &letter, &contact)?;
    drop(preview);
    Ok(plan)
}
