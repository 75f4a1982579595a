//! `ptk status`: in the terminal, who has returned, who is outstanding, who must correct;
//! with --csv, one row per partnership, form and respondent with its state.

use std::path::PathBuf;

use clap::Args;
use ptk::config::Config;
use ptk::status::{RespondentReturns, StatusRow};

/// Whether a return state belongs to a group of the listing.
type InGroup = fn(&str) -> bool;

const EXAMPLES: &str = concat!(
    "\
Examples:
  ptk status --year 2026
  ptk status --year 2026 --csv status-2026.csv

Lists every partnership in the register by where its return stands, from the history store,
and whether its form was issued, drafted as an .eml or sent. With a respondents file, a form
sent to all respondents has a line for each. --csv writes the same as one row per
partnership, form and respondent, with its state (accepted, exited, rejected,
received-unreadable, sent, drafted, issued, not-issued, not-expected), for mail merges,
Excel or Power BI.

",
    super::exit_codes!()
);

#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct StatusArgs {
    /// The review year, in full (2000–2100).
    #[arg(long, value_parser = super::year)]
    pub year: i32,
    /// The history store (default: `store` in ptk.toml, else ./ptk.db).
    #[arg(long)]
    pub store: Option<PathBuf>,
    /// The partnership register CSV (default: `register` in ptk.toml, else ./register.csv).
    #[arg(long)]
    pub register: Option<PathBuf>,
    /// The templates folder (default: `templates` in ptk.toml, else ./templates).
    #[arg(long)]
    pub templates: Option<PathBuf>,
    /// The respondents CSV: a form sent to all respondents gets a row per respondent (default: `respondents` in ptk.toml; none: leads only).
    #[arg(long)]
    pub respondents: Option<PathBuf>,
    /// The folder with the issued workbooks, to tell issued forms from forms never issued (default: `outbox` in ptk.toml, else ./outbox).
    #[arg(long)]
    pub outbox: Option<PathBuf>,
    /// Also write the status as a CSV file (UTF-8 with a byte-order mark, opens in Excel).
    #[arg(long, value_name = "FILE")]
    pub csv: Option<PathBuf>,
}

pub fn run(args: StatusArgs, config: &Config) -> anyhow::Result<i32> {
    let paths = ptk::report::SourcePaths {
        store: args.store.clone(),
        register: args.register.clone(),
        templates: args.templates.clone(),
        respondents: args.respondents.clone(),
        as_run_for: None,
    };
    let store_path = config.store_path(args.store.as_deref());
    if !store_path.exists() {
        anyhow::bail!(
            "there is no history store at {}; run `ptk ingest` first, or point --store at it",
            store_path.display()
        );
    }
    let sources = ptk::report::Sources::load(&paths, config, &store_path, true)?;
    let review = sources.review(args.year, config)?;
    let outbox = config.outbox_dir(args.outbox.as_deref());
    ptk::report::warn_if_year_is_empty(sources.store(), args.year, &outbox)?;
    let store = sources.store();
    let sends = store.sends_for_year(args.year)?;
    let (respondents, problems) = (sources.respondents(), &sources.respondent_problems);
    if !problems.is_empty() {
        for p in problems {
            eprintln!("{p}");
        }
        eprintln!(
            "ptk: {} row(s) of the respondents file have problems (above); fix them first: a status that leaves people out looks like good news.",
            problems.len()
        );
        return Ok(ptk::exit::CANNOT_RUN);
    }
    let mut returned = Vec::new();
    for t in &review.templates {
        returned.push((t.id.clone(), store.returned_respondents(args.year, &t.id)?));
    }
    let returns = RespondentReturns::new(returned, &store.rejected_respondent_files(args.year)?);
    let rows = ptk::status::rows(&review, respondents, &returns, &sends, &|p, t, r| {
        outbox
            .join(ptk::issue::respondent_file_name(p, t, args.year, r))
            .exists()
    });
    let groups: [(&str, InGroup); 5] = [
        ("Must correct a rejected return", |s| s == "rejected"),
        (
            "Received but unreadable: ask for the file to be saved again and resent",
            |s| s == "received-unreadable",
        ),
        ("Not returned yet", |s| s == "not-returned"),
        ("Returned", |s| s == "accepted" || s == "exited"),
        ("No form expected", |s| s == "not-expected"),
    ];
    println!(
        "Partnership returns for {} ({})",
        review.year,
        store_path.display()
    );
    for (title, test) in groups {
        let members: Vec<&StatusRow> = rows.iter().filter(|s| test(s.return_state)).collect();
        println!("\n{title} ({})", members.len());
        for s in members {
            let detail = match s.return_state {
                "rejected" => truncate(&s.detail, 140),
                "received-unreadable" => s.detail.clone(),
                "not-returned" => format!(
                    "{} <{}>; {}{}",
                    s.respondent,
                    s.recipient,
                    form_words(s.form_state, &s.emailed_at),
                    if s.reminded_at.is_empty() {
                        String::new()
                    } else {
                        format!("; reminded{}", date(&s.reminded_at))
                    }
                ),
                _ => s
                    .overall
                    .map(|o| format!("{o:.1}% {}", s.band.clone().unwrap_or_default()))
                    .unwrap_or_default(),
            };
            // A partner's row says whose it is.
            let detail = if s.respondent_id == ptk::respondents::LEAD {
                detail
            } else if s.return_state == "not-returned" {
                format!("({}) {detail}", s.respondent_id)
            } else {
                format!("({}: {}) {detail}", s.respondent_id, s.respondent)
            };
            println!(
                "  {:<7} {:<16} {:<52} {}",
                s.partnership_id,
                s.form,
                truncate(&s.partnership, 52),
                ptk::output::printable(&detail)
            );
        }
    }
    if let Some(path) = &args.csv {
        ptk::output::refuse_overwriting(path, &[("history store", store_path.as_path())])?;
        ptk::output::write_atomic(path, &ptk::status::csv(&rows)?)?;
        println!(
            "\nWrote the status of {} form(s) (one row per partnership, form and respondent) to {}.",
            rows.len(),
            path.display()
        );
    }
    Ok(ptk::exit::OK)
}

fn form_words(state: &str, at: &str) -> String {
    match state {
        "sent" => format!("form sent{}", date(at)),
        "drafted" => format!("form drafted{} as an .eml (not sent by ptk)", date(at)),
        "issued" => "form issued (in the outbox), not emailed by ptk".into(),
        _ => "form not issued".into(),
    }
}

fn date(at: &str) -> String {
    if at.is_empty() {
        String::new()
    } else {
        format!(" {}", at.get(..10).unwrap_or(at))
    }
}

fn truncate(s: &str, n: usize) -> String {
    let s = ptk::output::printable(s);
    if s.chars().count() <= n {
        s.into_owned()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}
