//! `ptk issue`: write the workbooks for one template.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use ptk::config::Config;
use ptk::issue::{self, editions, IssueSettings};
use ptk::{letter, register, template};

const EXAMPLES: &str = concat!(
    "\
Examples:
  ptk issue --template self-assessment --year 2026 --register samples/register.csv --out outbox/
  ptk issue --template exit --year 2026
  ptk issue --template new-partnership --year 2026 --partnership MGT16 --partnership ART17
  ptk issue --template self-assessment --year 2026 --reissue LSP01

Who receives it: by default the partnerships whose register status the template names
(self-assessment: active; exit: exiting; new-partnership: proposed); --partnership picks them
by id instead. Writes <partnership_id>_<template>_<year>.xlsx per partnership and mailmerge.csv.
A template for all respondents (self-assessment) also writes one form for each person in the
respondents file, <partnership_id>_<template>_<year>_<respondent_id>.xlsx, each in their name.
Forms already issued for the year (in the outbox, or emailed) are left alone and listed, so
running it again after a partnership joins writes only the new form; --reissue ID issues a
partnership's form again on purpose (the earlier file is kept in replaced/, and `ptk mail
issue` sends the new one once, saying it replaces the earlier form).
The self-assessment shows each partnership's earlier scores from the history store: import
them first (`ptk history import`), or the forms say \"no earlier scores\".

",
    super::exit_codes!()
);

#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct IssueArgs {
    /// The template id (see `ptk templates list`).
    #[arg(long)]
    template: String,
    /// The review year, in full (2000–2100).
    #[arg(long, value_parser = super::year)]
    year: i32,
    /// The partnership register CSV (default: `register` in ptk.toml).
    #[arg(long)]
    register: Option<PathBuf>,
    /// The respondents CSV: the people beyond each lead officer who complete a form sent to all respondents (default: `respondents` in ptk.toml; none: leads only).
    #[arg(long)]
    respondents: Option<PathBuf>,
    /// The templates folder (default: `templates` in ptk.toml, else ./templates).
    #[arg(long)]
    templates: Option<PathBuf>,
    /// Where to write the workbooks (default: `outbox` in ptk.toml, else ./outbox).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Issue only to these partnership ids (repeat the flag for several).
    #[arg(long = "partnership", value_name = "ID")]
    partnerships: Vec<String>,
    /// Issue this partnership's form(s) again although already issued for the year (repeat for several): the earlier file is kept in replaced/ and `ptk mail issue` sends the new one once, saying it replaces the earlier form.
    #[arg(long = "reissue", value_name = "ID")]
    reissue: Vec<String>,
    /// The return deadline, YYYY-MM-DD (default: `deadline` in ptk.toml, else six weeks after the issue date).
    #[arg(long)]
    deadline: Option<String>,
    /// Where completed forms go (default: `return_address` in ptk.toml).
    #[arg(long)]
    return_address: Option<String>,
    /// The issue date recorded in each workbook, YYYY-MM-DD (default: today). Set it to reproduce a run exactly.
    #[arg(long)]
    issued_on: Option<String>,
    /// Issue to the good rows even if some register rows are rejected.
    #[arg(long)]
    skip_bad_rows: bool,
    /// The history store to take earlier years' scores from (default: `store` in ptk.toml; skipped if it does not exist).
    #[arg(long)]
    store: Option<PathBuf>,
    /// Environment variable holding a sheet-protection password (default: none, sheets are protected without one).
    #[arg(long)]
    password_env: Option<String>,
}

fn date_arg(flag: &str, s: &str) -> anyhow::Result<chrono::NaiveDate> {
    register::parse_date(s).with_context(|| {
        format!("{flag} '{s}' is not a date; write it as YYYY-MM-DD, for example 2027-01-31")
    })
}

pub fn run(args: IssueArgs, config: &Config) -> anyhow::Result<i32> {
    let templates_dir = config.templates_dir(args.templates.as_deref());
    let template = template::find(&templates_dir, &args.template)?;
    let register_path = config.register_path(args.register.as_deref());
    let (register, mut problems) = register::load(&register_path)?;
    let respondents_path = config.respondents_path(args.respondents.as_deref());
    let (respondents, respondent_problems) =
        ptk::respondents::load_optional(respondents_path.as_deref(), &register)?;
    for p in &problems {
        eprintln!("{p}");
    }
    for p in &respondent_problems {
        eprintln!("{p}");
    }
    if !problems.is_empty() && !args.skip_bad_rows {
        eprintln!(
            "ptk: nothing was issued because {} register row(s) have problems. Fix them, or run again with --skip-bad-rows to issue to the good rows only.",
            problems.len()
        );
        return Ok(ptk::exit::CANNOT_RUN);
    }
    if !respondent_problems.is_empty() && !args.skip_bad_rows {
        eprintln!(
            "ptk: nothing was issued because {} row(s) of the respondents file {} have problems. Fix them, or run again with --skip-bad-rows to issue to the good rows only.",
            respondent_problems.len(),
            respondents_path.as_deref().map(|p| p.display().to_string()).unwrap_or_default()
        );
        return Ok(ptk::exit::CANNOT_RUN);
    }
    problems.extend(respondent_problems);

    let issued_on = match &args.issued_on {
        Some(s) => date_arg("--issued-on", s)?,
        None => chrono::Local::now().date_naive(),
    };
    let deadline = match args.deadline.as_deref().or(config.deadline.as_deref()) {
        Some(s) => date_arg("the deadline", s)?,
        None => issued_on + chrono::Duration::weeks(6),
    };
    // Last year's deadline left in ptk.toml would print "return by" a date gone by.
    if args.deadline.is_none() && deadline < issued_on {
        anyhow::bail!(
            "the deadline {deadline} in {} is before the issue date {issued_on}: nothing was issued. Change `deadline` in ptk.toml, or give --deadline YYYY-MM-DD",
            config.source().map_or("ptk.toml".into(), |p| p.display().to_string())
        );
    }
    let return_address = args
        .return_address
        .or_else(|| config.return_address.clone())
        .context("say where completed forms should be returned: --return-address ADDRESS, or return_address in ptk.toml")?;
    let password = match args
        .password_env
        .as_deref()
        .or(config.password_env.as_deref())
    {
        Some(var) => Some(std::env::var(var).with_context(|| {
            format!("the environment variable {var} (named for the sheet password) is not set")
        })?),
        None => None,
    };
    let settings = IssueSettings {
        council: config.council().to_string(),
        year: args.year,
        issued_on,
        deadline,
        return_address,
        password,
    };
    let recipients = issue::select_partnerships(&register, &template, &args.partnerships)?;
    if recipients.is_empty() {
        println!(
            "No partnership in {} has status {} for template '{}'; nothing to issue. Use --partnership ID to choose partnerships.",
            register_path.display(),
            template.issue_to.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" or "),
            template.id
        );
        return Ok(ptk::exit::OK);
    }
    let letter = letter::load_named(&templates_dir, "issue")?;
    let out = config.outbox_dir(args.out.as_deref());
    // Earlier scores are shown on the form for reference, and what was issued and
    // mailed before is recorded, when a store exists.
    let store_path = config.store_path(args.store.as_deref());
    let mut store = if store_path.exists() {
        Some(ptk::store::Store::open(&store_path)?)
    } else {
        None
    };
    let prior: BTreeMap<String, Vec<ptk::score::PriorScore>> = match &store {
        Some(s) if template.is_scored() => s
            .prior_scores(&template.id, args.year)?
            .into_iter()
            .collect(),
        _ => BTreeMap::new(),
    };
    if template.is_scored() && prior.is_empty() {
        eprintln!(
            "ptk: warning: the history store {} holds no earlier scores, so every form will say \"no earlier scores\". If partnerships have earlier years, run `ptk history import FILE` first and issue again.",
            store_path.display()
        );
    }
    let carried = ptk::objectives::carried_for(&template, &store_path, args.year)?;
    let mut choice = editions::choose(
        &template,
        &recipients,
        &respondents,
        &settings.council,
        args.year,
        &out,
        &args.reissue,
        store.as_ref(),
    )?;
    if !choice.reissues.is_empty() && store.is_none() {
        // A re-issue's edition is what keeps it from being sent twice.
        store = Some(ptk::store::Store::open(&store_path)?);
    }
    editions::set_aside(&mut choice, &template, args.year, &out)?;
    let issued = issue::issue_all(
        &template,
        &recipients,
        &respondents,
        &settings,
        &prior,
        &carried,
        &letter,
        &out,
        &choice.skip,
    )?;
    if let Some(s) = &store {
        let now = chrono::Local::now().format("%Y-%m-%dT%H:%M:%S").to_string();
        editions::record(
            &choice,
            s,
            &template,
            args.year,
            &issued_on.to_string(),
            &now,
        )?;
    }
    if !choice.left_alone.is_empty() {
        println!(
            "Left alone {} '{}' form(s) already issued for {} (in {} or emailed): {}. To issue a partnership's form again, use --reissue ID.",
            choice.left_alone.len(),
            template.id,
            args.year,
            out.display(),
            choice.left_alone.join(", ")
        );
    }
    for r in &choice.reissues {
        println!(
            "Re-issued {}'s form for {} ({}) as edition {}{}; `ptk mail issue` will send it once, saying it replaces the earlier form.",
            r.partnership_id,
            r.respondent_id,
            args.year,
            r.edition,
            r.replaced
                .as_ref()
                .map(|p| format!(", the earlier file kept as {}", p.display()))
                .unwrap_or_default()
        );
    }
    println!(
        "Issued {} '{}' workbook(s) for {} partnership(s) for {} into {} (return by {}), with mailmerge.csv for sending.",
        issued.len(),
        template.id,
        issued
            .iter()
            .map(|i| i.partnership_id.as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len(),
        args.year,
        out.display(),
        issue::long_date(deadline)
    );
    Ok(if problems.is_empty() {
        ptk::exit::OK
    } else {
        ptk::exit::REJECTED
    })
}
