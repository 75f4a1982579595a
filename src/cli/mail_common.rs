//! What every `ptk mail` subcommand shares: the common arguments and the stop on a bad
//! respondents file. Kept apart from `mail` (issue, chase, corrections, and the
//! dispatch) so that `mail_feedback` uses it without importing `mail`, which imports
//! `mail_feedback`.

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use ptk::register;

#[derive(Clone, Copy, ValueEnum)]
pub(super) enum SecurityArg {
    Starttls,
    Tls,
    Plain,
}

#[derive(Args)]
pub struct Common {
    /// The review year, in full (2000–2100).
    #[arg(long, value_parser = super::year)]
    pub year: i32,
    /// The sender's address (default: `sender` in ptk.toml).
    #[arg(long)]
    pub from: Option<String>,
    /// Copy each message to the lead officer to the partnership's Assistant Director.
    #[arg(long)]
    pub(super) cc_ad: bool,
    /// Send through this SMTP server instead of writing .eml files.
    #[arg(long, value_name = "HOST:PORT")]
    pub(super) smtp: Option<String>,
    /// How the SMTP connection is secured: starttls (port 587), tls (port 465), or plain (only to this machine, or with --smtp-insecure).
    #[arg(long, value_enum, default_value = "starttls")]
    pub(super) smtp_security: SecurityArg,
    /// Allow plain SMTP to a server that is not on this machine.
    #[arg(long)]
    pub(super) smtp_insecure: bool,
    /// The user name to log in to the SMTP server with (no login without it).
    #[arg(long)]
    pub(super) smtp_user: Option<String>,
    /// A file whose first line is the SMTP password (or set PTK_SMTP_PASSWORD).
    #[arg(long)]
    pub(super) smtp_password_file: Option<PathBuf>,
    /// Messages a minute at most, over SMTP.
    #[arg(long, default_value_t = 30)]
    pub(super) per_minute: u32,
    /// Extra attempts after a temporary SMTP failure.
    #[arg(long, default_value_t = 3)]
    pub(super) retries: u32,
    /// Where .eml files go (default: mail-outbox/ beside the store).
    #[arg(long)]
    pub(super) eml_dir: Option<PathBuf>,
    /// Show what would be sent; send and record nothing.
    #[arg(long)]
    pub(super) dry_run: bool,
    /// Send again messages that were sent (or drafted) before.
    #[arg(long)]
    pub(super) resend: bool,
    /// Send at most this many messages in this run.
    #[arg(long)]
    pub(super) limit: Option<usize>,
    /// The return deadline for the letters, YYYY-MM-DD (default: `deadline` in ptk.toml).
    #[arg(long)]
    pub(super) deadline: Option<String>,
    /// Where completed forms go (default: `return_address` in ptk.toml).
    #[arg(long)]
    pub return_address: Option<String>,
    /// The partnership register CSV (default: `register` in ptk.toml, else ./register.csv).
    #[arg(long)]
    pub register: Option<PathBuf>,
    /// The respondents CSV: who beyond each lead officer was sent a form of their own (default: `respondents` in ptk.toml; none: leads only).
    #[arg(long)]
    pub respondents: Option<PathBuf>,
    /// The templates folder, with the email texts in email/ (default: `templates` in ptk.toml, else ./templates).
    #[arg(long)]
    pub templates: Option<PathBuf>,
    /// The history store, where every message sent is recorded (default: `store` in ptk.toml, else ./ptk.db).
    #[arg(long)]
    pub store: Option<PathBuf>,
}

/// Stops the run on bad respondents rows, each printed with its line.
pub(super) fn stop_on(problems: &[register::RegisterProblem]) -> anyhow::Result<()> {
    if problems.is_empty() {
        return Ok(());
    }
    for p in problems {
        eprintln!("{p}");
    }
    anyhow::bail!(
        "{} row(s) of the respondents file have problems (above); fix them before sending",
        problems.len()
    )
}
