//! Argument parsing. Each subcommand lives in its own file and only turns flags
//! into library calls and messages.

use clap::{Parser, Subcommand};

/// The exit codes, for every command's help (a macro so `concat!` can join it to each
/// command's examples).
macro_rules! exit_codes {
    () => {
        "Exit codes: 0 all done; 1 finished, but some input was rejected or some messages \
failed (see the messages); 2 could not run (bad arguments, unreadable register or template, \
bad settings)."
    };
}
pub(crate) use exit_codes;

/// Checks a review year: four digits, 2000 to 2100. A short year (`26`) would issue forms
/// titled "Self-Assessment 26" and reject every return as the wrong year.
pub(crate) fn year(s: &str) -> Result<i32, String> {
    match s.trim().parse::<i32>() {
        Ok(y) if (2000..=2100).contains(&y) => Ok(y),
        _ => Err(format!(
            "'{s}' is not a review year; write the year in full, from 2000 to 2100 (for example 2026)"
        )),
    }
}

mod feedback;
mod history;
mod ingest;
mod issue;
mod mail;
mod mail_common;
mod mail_feedback;
mod report;
mod review;
mod runs;
mod status;
mod templates;

const ABOUT: &str = "Partnership Toolkit: issue the annual partnership self-assessments as Excel \
forms, read the returns, and report the scores to the Leadership Team.";

const EXAMPLES: &str = concat!(
    "\
Examples:
  ptk templates list
  ptk history import samples/history.csv
  ptk issue --template self-assessment --year 2026 --register samples/register.csv --out outbox/
  ptk mail issue work/outbox --template self-assessment --year 2026 --dry-run
  ptk ingest returns/ --year 2026
  ptk review samples/returns --year 2026 --history samples/history.csv
  ptk report --year 2026
  ptk status --year 2026

Settings you use every time (register, templates folder, return address, deadline) can go in
ptk.toml in the working folder; flags override it.

",
    exit_codes!()
);

#[derive(Parser)]
#[command(name = "ptk", version, about = ABOUT, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// The settings file (default: the PTK_CONFIG environment variable, else ptk.toml in
    /// the working folder). Relative paths in it are taken from its folder.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<std::path::PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// List and check the template definitions.
    #[command(subcommand)]
    Templates(templates::TemplatesCommand),
    /// Write one Excel workbook per partnership, ready to email.
    Issue(issue::IssueArgs),
    /// Read returned workbooks: identify, validate, score and store them.
    Ingest(ingest::IngestArgs),
    /// Write the consolidated review workbook and scores CSV from the history store.
    Report(report::ReportArgs),
    /// Write each scored partnership's own feedback workbook (its results, for its partners).
    Feedback(feedback::FeedbackArgs),
    /// The whole year-end run: import history, ingest the returns, write the review.
    Review(review::ReviewArgs),
    /// List the runs that wrote to the history store, or undo one (`ptk runs undo N`).
    Runs(runs::RunsArgs),
    /// Show who has returned, who is outstanding, and who must correct a return.
    Status(status::StatusArgs),
    /// Email the forms, reminders and correction requests (as .eml files, or by SMTP).
    #[command(subcommand)]
    Mail(mail::MailCommand),
    /// Import or export earlier years' scores.
    #[command(subcommand)]
    History(history::HistoryCommand),
    /// Internal: a reader process of `ptk ingest` (talks over stdin/stdout).
    #[command(name = ptk::ingest::pool::WORKER_COMMAND, hide = true)]
    IngestWorker,
}

/// Parses the command line, runs it and returns the process exit code.
pub fn run() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                ptk::exit::CANNOT_RUN
            } else {
                ptk::exit::OK
            };
            let _ = e.print();
            return code;
        }
    };
    let config = match ptk::config::Config::load(cli.config.as_deref()) {
        Ok(c) => c,
        Err(e) => return fail(&e, None),
    };
    if matches!(
        cli.command,
        Command::Ingest(_)
            | Command::Review(_)
            | Command::Report(_)
            | Command::Feedback(_)
            | Command::Status(_)
            | Command::IngestWorker
    ) {
        crate::prompt_purge();
    }
    // Ingest and review write to their reader processes through pipes: there a reader
    // that dies must be an error the pool handles (EPIPE), never a signal that kills the
    // whole run, so only the other commands end quietly on a closed stdout.
    if !matches!(cli.command, Command::IngestWorker) {
        ptk::interrupt::install();
    }
    if !matches!(
        cli.command,
        Command::Ingest(_) | Command::Review(_) | Command::IngestWorker
    ) {
        crate::quiet_broken_pipe();
    }
    let result = match cli.command {
        Command::Templates(cmd) => templates::run(cmd, &config),
        Command::Issue(args) => issue::run(args, &config),
        Command::Ingest(args) => ingest::run(args, &config),
        Command::History(cmd) => history::run(cmd, &config),
        Command::Report(args) => report::run(args, &config),
        Command::Feedback(args) => feedback::run(args, &config),
        Command::Mail(cmd) => mail::run(cmd, &config),
        Command::Review(args) => review::run(args, &config),
        Command::Status(args) => status::run(args, &config),
        Command::Runs(args) => runs::run(args, &config),
        Command::IngestWorker => ptk::ingest::pool::worker::serve().map(|()| ptk::exit::OK),
    };
    match result {
        Ok(code) => code,
        Err(e) => fail(&e, Some(&config)),
    }
}

/// Prints an error that stopped the run, with its causes, and returns the exit code.
fn fail(e: &anyhow::Error, config: Option<&ptk::config::Config>) -> i32 {
    if let Some(i) = e
        .chain()
        .find_map(|c| c.downcast_ref::<ptk::interrupt::Interrupted>())
    {
        eprintln!("ptk: {i}");
        return ptk::interrupt::EXIT;
    }
    if let Some(note) = config.and_then(|c| c.not_found_note()) {
        eprintln!("ptk: {note}");
    }
    if let Some(plain) = ptk::store::plain_error(e) {
        eprintln!("ptk: error: {plain}");
    }
    eprintln!("ptk: error: {e}");
    for cause in e.chain().skip(1) {
        eprintln!("  because: {cause}");
    }
    ptk::exit::CANNOT_RUN
}
