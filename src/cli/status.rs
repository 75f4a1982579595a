//! `ptk status`: in the terminal, who has returned, who is outstanding, who must correct.

use clap::Args;
use ptk::config::Config;
use ptk::report::ReturnState;

use super::report::ReportArgs;

/// Whether a return state belongs to a group of the listing.
type InGroup = fn(&ReturnState) -> bool;

const EXAMPLES: &str = "\
Example:
  ptk status --year 2026

Lists every partnership in the register by where its return stands, from the history store.";

#[derive(Args)]
#[command(after_help = EXAMPLES)]
pub struct StatusArgs {
    #[command(flatten)]
    pub report: ReportArgs,
}

pub fn run(args: StatusArgs, config: &Config) -> anyhow::Result<i32> {
    let store_path = config.store_path(args.report.store.as_deref());
    if !store_path.exists() {
        anyhow::bail!(
            "there is no history store at {}; run `ptk ingest` first, or point --store at it",
            store_path.display()
        );
    }
    let sources = super::report::load(&args.report, config, &store_path)?;
    let review = sources.review(&args.report, config)?;
    let groups: [(&str, InGroup); 4] = [
        ("Must correct a rejected return", |s| {
            matches!(s, ReturnState::Rejected(_))
        }),
        ("Not returned yet", |s| {
            matches!(s, ReturnState::NotReturned)
        }),
        ("Returned", |s| {
            matches!(s, ReturnState::Accepted | ReturnState::Exited)
        }),
        ("No form expected", |s| {
            matches!(s, ReturnState::NotExpected)
        }),
    ];
    println!(
        "Partnership returns for {} ({})",
        review.year,
        store_path.display()
    );
    for (title, test) in groups {
        let rows: Vec<_> = review.rows.iter().filter(|r| test(&r.state)).collect();
        println!("\n{title} ({})", rows.len());
        for r in rows {
            let p = &r.partnership;
            let form = r
                .expected
                .clone()
                .unwrap_or_else(|| p.status.as_str().to_string());
            let detail = match &r.state {
                ReturnState::Rejected(why) => truncate(why, 140),
                ReturnState::NotReturned => format!("{} <{}>", p.lead_officer, p.email),
                _ => r
                    .overall
                    .map(|o| format!("{o:.1}% {}", r.band.clone().unwrap_or_default()))
                    .unwrap_or_default(),
            };
            println!(
                "  {:<7} {:<16} {:<52} {}",
                p.id,
                form,
                truncate(&p.name, 52),
                detail
            );
        }
    }
    Ok(ptk::exit::OK)
}

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        format!("{}…", s.chars().take(n - 1).collect::<String>())
    }
}
