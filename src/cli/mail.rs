//! `ptk mail issue|chase|corrections`: send the forms, reminders and correction requests.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use ptk::config::Config;
use ptk::letter::{self, LetterContext};
use ptk::mail::{
    self, DeliverOptions, EmlFolder, Outgoing, Security, Smtp, SmtpSettings, Transport,
};
use ptk::respondents::Respondents;
use ptk::store::Store;
use ptk::{issue, register, template};

use super::mail_common::{stop_on, Common, SecurityArg};

/// What every mail subcommand's help ends with.
macro_rules! mail_notes {
    () => {
        concat!(
            "By default each message is written as an .eml draft into mail-outbox/ beside the store:
it opens in Outlook ready to send (check it, then press Send, or run the same command
again with --smtp to send every draft not yet sent). With --smtp they are sent: STARTTLS
by default, --smtp-security tls for port 465; plain SMTP only to a loopback address or
with --smtp-insecure. The SMTP password is read from the PTK_SMTP_PASSWORD environment
variable or --smtp-password-file, never from the command line. Every message is recorded
in the store: running again sends only what has not gone yet (--resend sends again).
One email per person a day: letters to the same address in one run go as one email (a
section and an attachment for each; letters copied to different Assistant Directors are
kept apart), and someone already written to today gets no new reminder or corrections
letter until tomorrow (the run says what it held back; forms and feedback are not held).
Texts are in templates/email/. With a respondents file (--respondents, or respondents in
ptk.toml) each message goes to the respondent whose form or file it is: a reminder only to
those who have not returned their own.

",
            super::exit_codes!()
        )
    };
}

const ISSUE_HELP: &str = concat!(
    "Examples:
  ptk mail issue work/outbox --template self-assessment --year 2026 --dry-run
  ptk mail issue work/outbox --template self-assessment --year 2026
  ptk mail issue work/outbox --template exit --year 2026 --partnership ENV14
  ptk mail issue work/outbox --template self-assessment --year 2026 --smtp mail.council.gov.uk:587

",
    mail_notes!()
);

const CHASE_HELP: &str = concat!(
    "Examples:
  ptk mail chase --year 2026 --dry-run
  ptk mail chase --year 2026
  ptk mail chase --year 2026 --partnership LSP01 --partnership ICT12

Reminds the partnerships that were issued a form (it is in the outbox, or an issue email
was sent) and have no return; the form is attached again when it is in the outbox. Not
reminded: a form whose issue email was only drafted, and a return that needs correcting
(its corrections letter asks for it). Someone owed a corrections letter for another form
gets it in the same email as their reminder. The run says who was left out, and why.

",
    mail_notes!()
);

const CORRECTIONS_HELP: &str = concat!(
    "Examples:
  ptk mail corrections --year 2026 --dry-run
  ptk mail corrections --year 2026
  ptk mail corrections --year 2026 --partnership HOU07

Sends each rejected return back to its partnership with its problems listed (sheet, cell,
what to fix). Someone also owed a reminder for another form gets it in the same email.

",
    mail_notes!()
);

const FEEDBACK_HELP: &str = concat!(
    "Examples:
  ptk mail feedback --year 2026
  ptk mail feedback --year 2026 --smtp mail.council.gov.uk:587
  ptk mail feedback --year 2026 --corrected --partnership LSP01

Sends each scored partnership's feedback workbook (written by `ptk feedback`) to its lead
officer and to every respondent who returned a form: once per person per year. When a late
or corrected return changes a partnership's feedback, run `ptk feedback` again and send it
with --corrected: only those whose file changed get it, with a letter saying it replaces
the earlier one. Texts: templates/email/feedback.txt and feedback-corrected.txt.

",
    mail_notes!()
);

const AD_HELP: &str = concat!(
    "Examples:
  ptk mail ad --year 2026
  ptk mail ad --year 2026 --smtp mail.council.gov.uk:587

Writes and sends each Assistant Director with an assistant_director_email in the register a
workbook of only their partnerships: their partnerships' page, the council-wide headline
(naming no partnership) and each scored partnership's feedback pages. Partnerships whose
Assistant Director has no email are listed, not skipped silently. Once per Assistant
Director per year. Text: templates/email/ad-pack.txt.

",
    mail_notes!()
);

#[derive(Subcommand)]
pub enum MailCommand {
    /// Send each partnership its issued workbook (after `ptk issue`).
    #[command(after_help = ISSUE_HELP)]
    Issue(IssueMail),
    /// Remind every partnership that was issued a form and has no accepted return.
    #[command(after_help = CHASE_HELP)]
    Chase(FollowUp),
    /// Send every rejected return back with its problems listed.
    #[command(after_help = CORRECTIONS_HELP)]
    Corrections(FollowUp),
    /// Send each partnership its feedback (after `ptk feedback`), once per person per year.
    #[command(after_help = FEEDBACK_HELP)]
    Feedback(super::mail_feedback::FeedbackMail),
    /// Send each Assistant Director a workbook of their partnerships.
    #[command(after_help = AD_HELP)]
    Ad(super::mail_feedback::AdMail),
}

#[derive(Args)]
pub struct IssueMail {
    /// The folder `ptk issue` wrote the workbooks to.
    outbox: PathBuf,
    /// The template that was issued.
    #[arg(long)]
    template: String,
    /// Only these partnerships (repeat for several).
    #[arg(long = "partnership", value_name = "ID")]
    partnerships: Vec<String>,
    #[command(flatten)]
    common: Common,
}

#[derive(Args)]
pub struct FollowUp {
    /// The folder with the issued workbooks, to attach each partnership's form again (chase; default: `outbox` in ptk.toml, else ./outbox).
    #[arg(long)]
    outbox: Option<PathBuf>,
    /// Only these partnerships (repeat for several).
    #[arg(long = "partnership", value_name = "ID")]
    partnerships: Vec<String>,
    #[command(flatten)]
    common: Common,
}

fn context(c: &Common, config: &Config) -> anyhow::Result<LetterContext> {
    let deadline = c
        .deadline
        .as_deref()
        .or(config.deadline.as_deref())
        .context(
        "give the return deadline for the letters: --deadline YYYY-MM-DD, or deadline in ptk.toml",
    )?;
    Ok(LetterContext {
        council: config.council().to_string(),
        year: c.year,
        deadline: register::parse_date(deadline).with_context(|| {
            format!("the deadline '{deadline}' is not a date; write it as YYYY-MM-DD")
        })?,
        return_address: c
            .return_address
            .clone()
            .or_else(|| config.return_address.clone())
            .context(
                "say where completed forms go: --return-address, or return_address in ptk.toml",
            )?,
    })
}

/// Where .eml drafts are written (and, after an SMTP run sends them, moved from).
fn drafts_dir(c: &Common, store: &std::path::Path) -> PathBuf {
    c.eml_dir
        .clone()
        .unwrap_or_else(|| super::report::beside(store, "mail-outbox"))
}

fn transport(c: &Common, store: &std::path::Path) -> anyhow::Result<Box<dyn Transport>> {
    let Some(hp) = &c.smtp else {
        return Ok(Box::new(EmlFolder {
            dir: drafts_dir(c, store),
        }));
    };
    let (host, port) = hp
        .rsplit_once(':')
        .context("--smtp needs HOST:PORT, for example mail.council.gov.uk:587")?;
    let port: u16 = port
        .parse()
        .with_context(|| format!("'{port}' is not a port number"))?;
    let password = match (
        &c.smtp_password_file,
        std::env::var("PTK_SMTP_PASSWORD").ok(),
    ) {
        (Some(f), _) => Some(
            std::fs::read_to_string(f)
                .with_context(|| format!("cannot read the password file {}", f.display()))?
                .lines()
                .next()
                .unwrap_or("")
                .to_string(),
        ),
        (None, env) => env,
    };
    Ok(Box::new(Smtp::new(SmtpSettings {
        host: host.to_string(),
        port,
        security: match c.smtp_security {
            SecurityArg::Starttls => Security::StartTls,
            SecurityArg::Tls => Security::Tls,
            SecurityArg::Plain => Security::Plain,
        },
        user: c.smtp_user.clone(),
        password,
        per_minute: c.per_minute,
        retries: c.retries,
        allow_plain_remote: c.smtp_insecure,
    })?))
}

/// The respondents file for `common` (none: leads only), checked against `reg`. A file
/// with bad rows stops the run, as a bad register does: a letter to the wrong person,
/// or none to the right one, cannot be taken back.
fn respondents(
    common: &Common,
    config: &Config,
    reg: &register::Register,
) -> anyhow::Result<Respondents> {
    let path = config.respondents_path(common.respondents.as_deref());
    let (respondents, problems) = ptk::respondents::load_optional(path.as_deref(), reg)?;
    stop_on(&problems)?;
    Ok(respondents)
}

pub fn run(cmd: MailCommand, config: &Config) -> anyhow::Result<i32> {
    let (common, kind) = match &cmd {
        MailCommand::Issue(a) => (&a.common, "issue"),
        MailCommand::Chase(a) => (&a.common, "chase"),
        MailCommand::Corrections(a) => (&a.common, "corrections"),
        MailCommand::Feedback(a) => (&a.common, "feedback"),
        MailCommand::Ad(a) => (&a.common, "ad-pack"),
    };
    let council = config.council().to_string();
    let from_text = common
        .from
        .clone()
        .or_else(|| config.sender.clone())
        .context("give the sender's address: --from ADDRESS, or sender in ptk.toml")?;
    let from = lettre::message::Mailbox::new(
        Some(format!("{council} partnerships")),
        from_text
            .parse()
            .with_context(|| format!("--from '{from_text}' is not an email address"))?,
    );
    let templates_dir = config.templates_dir(common.templates.as_deref());
    let store_path = config.store_path(common.store.as_deref());
    let letter = || letter::load_named(&templates_dir, kind);
    let today = chrono::Local::now().format("%Y-%m-%d").to_string();

    let plan: Vec<Outgoing> = match &cmd {
        MailCommand::Feedback(a) => super::mail_feedback::plan_feedback(a, config)?,
        MailCommand::Ad(a) => super::mail_feedback::plan_ad(a, config)?,
        MailCommand::Issue(a) => {
            let (ctx, letter) = (context(common, config)?, letter()?);
            let t = template::find(&templates_dir, &a.template)?;
            let (reg, problems) =
                register::load(&config.register_path(common.register.as_deref()))?;
            if !problems.is_empty() {
                for p in &problems {
                    eprintln!("{p}");
                }
                anyhow::bail!(
                    "{} register row(s) have problems (above); fix them before sending",
                    problems.len()
                );
            }
            let respondents = respondents(common, config, &reg)?;
            let who = issue::select_partnerships(&reg, &t, &a.partnerships)?;
            // What was sent, drafted or returned before is in the store, if there is one.
            let store = if store_path.exists() {
                Some(Store::open(&store_path)?)
            } else {
                None
            };
            let letters = mail::IssueLetters {
                issue: letter,
                reissue: letter::load_named(&templates_dir, "reissue")?,
            };
            let plan = mail::plan_issue(
                &t,
                &who,
                &respondents,
                &ctx,
                &letters,
                &a.outbox,
                common.cc_ad,
                store.as_ref(),
            )?;
            for n in &plan.notes {
                println!("{}", ptk::output::printable(n));
            }
            plan.messages
        }
        MailCommand::Chase(_) | MailCommand::Corrections(_) if !store_path.exists() => {
            anyhow::bail!(
                "there is no history store at {}: nothing was issued or read yet. Run `ptk mail issue` and `ptk ingest` first, or point --store at it",
                store_path.display()
            );
        }
        MailCommand::Chase(a) | MailCommand::Corrections(a) => {
            let ctx = context(common, config)?;
            let paths = ptk::report::SourcePaths {
                store: common.store.clone(),
                register: common.register.clone(),
                templates: common.templates.clone(),
                respondents: common.respondents.clone(),
                as_run_for: None,
            };
            let sources = ptk::report::Sources::load(&paths, config, &store_path, true)?;
            stop_on(&sources.respondent_problems)?;
            let respondents = sources.respondents();
            let review = sources.review(common.year, config)?;
            let store = sources.store();
            let outbox = config.outbox_dir(a.outbox.as_deref());
            ptk::report::warn_if_year_is_empty(store, common.year, &outbox)?;
            let letters = mail::FollowUpLetters {
                reminder: letter::load_named(&templates_dir, "chase")?,
                corrections: mail::CorrectionLetters {
                    correct: letter::load_named(&templates_dir, "corrections")?,
                    resend: letter::load_named(&templates_dir, "resend")?,
                },
            };
            let plan = mail::plan_follow_up(
                if kind == "chase" {
                    mail::Kind::Chase
                } else {
                    mail::Kind::Corrections
                },
                &review,
                store,
                respondents,
                &ctx,
                &letters,
                &mail::ChaseOptions {
                    outbox: outbox.clone(),
                    cc_ad: common.cc_ad,
                    only: a.partnerships.clone(),
                    today: today.clone(),
                },
            )?;
            for n in &plan.notes {
                println!("{}", ptk::output::printable(n));
            }
            plan.messages
        }
    };
    if plan.is_empty() {
        println!(
            "No {kind} email is needed for {}: nobody to write to.",
            common.year
        );
        return Ok(ptk::exit::OK);
    }
    let mut t = transport(common, &store_path)?;
    // Only now, with a plan and a transport, is the store opened (created for the
    // first `mail issue`): a run that cannot start leaves nothing behind.
    let store = Store::open(&store_path)?;
    let now = chrono::Local::now().format("%Y-%m-%dT%H:%M:%S").to_string();
    let opts = DeliverOptions {
        dry_run: common.dry_run,
        resend: common.resend,
        limit: common.limit,
        drafts_dir: Some(drafts_dir(common, &store_path)),
    };
    let summary = mail::deliver(
        &store,
        &plan,
        &from,
        t.as_mut(),
        opts,
        &now,
        &mut |e, what| {
            let names: Vec<&str> = e.attachments().iter().map(|a| a.name.as_str()).collect();
            let att = if names.is_empty() {
                String::new()
            } else {
                format!(" [{}]", names.join(", "))
            };
            let (o, letter) = (e.first(), e.letter());
            println!(
                "{:<8} {} <{}>: \"{}\"{att} — {what}",
                e.partnerships(),
                o.to.0,
                o.to.1,
                letter.subject
            );
        },
    )?;
    let dest = t.describe();
    let mut later = if summary.left_for_later > 0 {
        format!(
            ", {} left for the next run (--limit)",
            summary.left_for_later
        )
    } else {
        String::new()
    };
    if let Some(day) = &summary.held_until {
        later.push_str(&format!(
            ", {} held back until {day} (one email per person a day: those people were already written to today)",
            summary.held_back
        ));
    }
    let emails = summary.sent + summary.drafted + summary.would_send;
    if summary.letters > emails {
        println!(
            "{} letters go as {emails} emails: letters to the same person are merged into one email, a section and an attachment for each.",
            summary.letters
        );
    }
    if common.dry_run {
        println!(
            "Dry run: {} message(s) would be {} via {dest}; {} already sent{}{later}.",
            summary.would_send,
            if t.drafts() { "drafted" } else { "sent" },
            summary.already_sent,
            if summary.already_drafted > 0 {
                format!(", {} already drafted", summary.already_drafted)
            } else {
                String::new()
            }
        );
    } else if t.drafts() {
        println!(
            "{} drafted as .eml files in {} (not sent yet), {} failed, {} already drafted, {} already sent{later}.",
            summary.drafted,
            dest.trim_start_matches("eml:"),
            summary.failed,
            summary.already_drafted,
            summary.already_sent,
        );
        if summary.drafted + summary.already_drafted > 0 {
            println!(
                "Check the drafts (they open in Outlook ready to send), then either send them from Outlook or run the same command with --smtp HOST:PORT to send every draft not yet sent."
            );
        }
    } else {
        println!(
            "{} sent via {dest}, {} failed, {} already sent before{later}.",
            summary.sent, summary.failed, summary.already_sent,
        );
        if summary.drafts_retired > 0 {
            println!(
                "{} draft(s) of the messages just sent were moved to {} without the draft mark, so they cannot be sent again from Outlook.",
                summary.drafts_retired,
                drafts_dir(common, &store_path).join(mail::deliver::SENT_DRAFTS).display()
            );
        }
    }
    if let Some(advice) = &summary.stopped {
        eprintln!(
            "ptk: sending stopped at the first message that could not go, and {} more were not tried: {}",
            summary.not_tried,
            ptk::output::printable(advice)
        );
        return Ok(ptk::exit::CANNOT_RUN);
    }
    if summary.failed > 0 {
        println!("Each failed message says why above: once that is put right (an address in the register, a full mailbox), run the same command again to send them; the ones sent will not be sent twice.");
        return Ok(ptk::exit::REJECTED);
    }
    Ok(ptk::exit::OK)
}
