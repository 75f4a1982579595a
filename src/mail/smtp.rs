//! Sending through an SMTP server: settings, security, redaction of credentials.

use std::net::IpAddr;
use std::time::Duration;

use anyhow::Context;
use lettre::message::Message;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{SmtpTransport, Transport as _};

use super::deliver::{StopSending, Transport};
use super::redact::redact_smtp_error;
use super::Email;

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Security {
    /// Upgrade with STARTTLS, and refuse to send if the server cannot (the default).
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
    /// No encryption: only to a loopback address, or when explicitly allowed.
    Plain,
}

#[derive(Clone)]
pub struct SmtpSettings {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub user: Option<String>,
    pub password: Option<String>,
    /// Messages a minute at most.
    pub per_minute: u32,
    /// Extra attempts after a temporary failure.
    pub retries: u32,
    /// Allow plain SMTP to a host that is not loopback.
    pub allow_plain_remote: bool,
}

/// Never shows the password (only whether there is one).
impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "[redacted]"))
            .field("per_minute", &self.per_minute)
            .field("retries", &self.retries)
            .field("allow_plain_remote", &self.allow_plain_remote)
            .finish()
    }
}

/// Whether an SMTP error means no later message can go either: the server cannot be
/// reached, secured or logged in to. Such a run stops at the first message.
fn stops_the_run(e: &lettre::transport::smtp::Error) -> bool {
    let auth_refused = e
        .status()
        .is_some_and(|c| matches!(u16::from(c), 530 | 534 | 535 | 538));
    !e.is_transient() && !e.is_permanent() || auth_refused
}

/// What to do about an SMTP error that stops the run, in the officer's words. A server
/// on this computer (a test or relay server, usually without encryption) is told to use
/// `--smtp-security plain`; any other, to check the settings with IT.
fn stop_advice(error: &str, s: &SmtpSettings) -> String {
    let here = is_loopback(&s.host);
    let server = format!("the SMTP server {}:{}", s.host, s.port);
    let lower = error.to_ascii_lowercase();
    let local_fix = "For a server on this computer without encryption, add --smtp-security plain.";
    if lower.contains("starttls") {
        if here {
            format!("{server} does not offer STARTTLS (encryption). {local_fix}")
        } else {
            format!("{server} does not offer STARTTLS (encryption) on port {}: use its TLS port with --smtp-security tls (usually port 465), or ask IT which settings to use.", s.port)
        }
    } else if lower.contains("535")
        || lower.contains("534")
        || lower.contains("530")
        || lower.contains("538")
    {
        format!("{server} refused the login{}: check --smtp-user and the password (PTK_SMTP_PASSWORD or --smtp-password-file).", s.user.as_deref().map(|u| format!(" for '{u}'")).unwrap_or_default())
    } else if lower.contains("tls") || lower.contains("certificate") || lower.contains("handshake")
    {
        if here {
            format!("the encrypted connection to {server} could not be set up. {local_fix}")
        } else {
            format!("the encrypted connection to {server} could not be set up: check --smtp-security (starttls for port 587, tls for port 465) and ask IT whether the server's certificate is trusted on this computer.")
        }
    } else if here {
        format!("cannot connect to {server}: is it running, on that port? {local_fix}")
    } else {
        format!("cannot connect to {server}: check the server name and port (ask IT which to use), and that this computer is on the council's network.")
    }
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(['[', ']'])
            .parse::<IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Sends through an SMTP server, with a rate limit and retries of temporary failures.
pub struct Smtp {
    transport: SmtpTransport,
    settings: SmtpSettings,
    sent_any: bool,
}

impl Smtp {
    pub fn new(settings: SmtpSettings) -> anyhow::Result<Self> {
        if settings.security == Security::Plain
            && !is_loopback(&settings.host)
            && !settings.allow_plain_remote
        {
            anyhow::bail!(
                "plain (unencrypted) SMTP to {} would send passwords and attachments in the clear; use STARTTLS or TLS, or allow it explicitly with --smtp-insecure",
                settings.host
            );
        }
        let tls = || {
            TlsParameters::new(settings.host.clone())
                .context("cannot set up TLS for the SMTP server")
        };
        let security = match settings.security {
            Security::StartTls => Tls::Required(tls()?),
            Security::Tls => Tls::Wrapper(tls()?),
            Security::Plain => Tls::None,
        };
        let mut b = SmtpTransport::builder_dangerous(settings.host.clone())
            .port(settings.port)
            .tls(security)
            .timeout(Some(Duration::from_secs(30)));
        if let Some(user) = &settings.user {
            let password = settings.password.clone().context("an SMTP user was given but no password: set PTK_SMTP_PASSWORD or use --smtp-password-file")?;
            b = b.credentials(Credentials::new(user.clone(), password));
        }
        Ok(Self {
            transport: b.build(),
            settings,
            sent_any: false,
        })
    }
}

impl Transport for Smtp {
    fn describe(&self) -> String {
        format!("smtp:{}:{}", self.settings.host, self.settings.port)
    }

    fn send(&mut self, _e: &Email, m: &Message) -> anyhow::Result<()> {
        if self.sent_any && self.settings.per_minute > 0 {
            std::thread::sleep(Duration::from_millis(
                60_000 / u64::from(self.settings.per_minute),
            ));
        }
        self.sent_any = true;
        let mut attempt = 0;
        loop {
            match self.transport.send(m) {
                Ok(_) => return Ok(()),
                Err(e)
                    if !stops_the_run(&e)
                        && !e.is_permanent()
                        && attempt < self.settings.retries =>
                {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(500 * (1 << attempt.min(6))));
                }
                Err(e) => {
                    let said = redact_smtp_error(
                        &e.to_string(),
                        self.settings.user.as_deref(),
                        self.settings.password.as_deref(),
                    );
                    if stops_the_run(&e) {
                        return Err(anyhow::Error::new(StopSending {
                            advice: stop_advice(&said, &self.settings),
                            detail: said,
                        }));
                    }
                    return Err(anyhow::anyhow!("{said}"));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_smtp_is_only_for_loopback() {
        assert!(is_loopback("127.0.0.1"));
        assert!(is_loopback("localhost"));
        assert!(is_loopback("[::1]"));
        assert!(!is_loopback("mail.rochford.gov.uk"));
        let s = SmtpSettings {
            host: "mail.rochford.gov.uk".into(),
            port: 25,
            security: Security::Plain,
            user: None,
            password: None,
            per_minute: 0,
            retries: 0,
            allow_plain_remote: false,
        };
        let e = Smtp::new(s).err().unwrap().to_string();
        assert!(e.contains("--smtp-insecure"), "{e}");
    }

    #[test]
    fn a_failure_that_stops_the_run_says_what_to_change() {
        let mut s = SmtpSettings {
            host: "mail.rochford.gov.uk".into(),
            port: 587,
            security: Security::StartTls,
            user: Some("ptk".into()),
            password: None,
            per_minute: 0,
            retries: 0,
            allow_plain_remote: false,
        };
        let starttls = "internal client error: STARTTLS is not supported by this server";
        let a = stop_advice(starttls, &s);
        assert!(
            a.contains("--smtp-security tls") && !a.contains("plain"),
            "{a}"
        );
        let a = stop_advice("Connection error: Connection refused (os error 111)", &s);
        assert!(a.contains("check the server name and port"), "{a}");
        let a = stop_advice("permanent error (535): 5.7.8 bad credentials", &s);
        assert!(a.contains("refused the login for 'ptk'"), "{a}");
        s.host = "127.0.0.1".into();
        for e in [
            starttls,
            "Connection error: Connection refused",
            "tls error: handshake",
        ] {
            let a = stop_advice(e, &s);
            assert!(a.contains("--smtp-security plain"), "{a}");
            assert!(!a.to_lowercase().contains("run the same command"), "{a}");
        }
    }

    #[test]
    fn smtp_settings_never_show_the_password() {
        let s = SmtpSettings {
            host: "mail.rochford.gov.uk".into(),
            port: 587,
            security: Security::StartTls,
            user: Some("ptk".into()),
            password: Some("s3cret-pw".into()),
            per_minute: 30,
            retries: 3,
            allow_plain_remote: false,
        };
        let d = format!("{s:?} {s:#?}");
        assert!(
            !d.contains("s3cret") && d.contains("[redacted]") && d.contains("ptk"),
            "{d}"
        );
    }
}
