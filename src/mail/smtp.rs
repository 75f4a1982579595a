//! Sending through an SMTP server: settings, security, redaction of credentials.

use std::net::IpAddr;
use std::time::Duration;

use anyhow::Context;
use lettre::message::Message;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{SmtpTransport, Transport as _};

use super::deliver::Transport;
use super::Outgoing;

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

/// What to do about an SMTP error an officer cannot act on as worded by the library.
fn smtp_hint(error: &str) -> &'static str {
    if error.contains("STARTTLS") {
        " (the server does not offer STARTTLS on this port: use its TLS port with --smtp-security tls, e.g. port 465, or ask IT which settings to use; plain SMTP is allowed only to this computer)"
    } else {
        ""
    }
}

/// Removes authentication content from an SMTP error before it is shown or stored: a
/// server that echoes the AUTH command would otherwise put the base64-encoded password
/// into the sends log and on screen. Cuts everything after `AUTH <mechanism>` on each
/// line, and every occurrence of the secrets given (the password, and the base64 forms
/// a client sends for PLAIN and LOGIN).
pub fn redact_smtp_error(text: &str, user: Option<&str>, password: Option<&str>) -> String {
    use base64::Engine as _;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let mut secrets: Vec<String> = Vec::new();
    if let Some(pw) = password.filter(|p| !p.is_empty()) {
        secrets.push(pw.to_string());
        secrets.push(b64(pw));
        if let Some(u) = user {
            secrets.push(b64(&format!("\0{u}\0{pw}")));
            secrets.push(b64(&format!("{u}\0{u}\0{pw}")));
        }
    }
    // Longest first, so a secret containing another is cut whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out: Vec<String> = Vec::new();
    for line in text.split('\n') {
        let mut line = line.to_string();
        if let Some(at) = line.to_ascii_uppercase().find("AUTH ") {
            let rest = &line[at + 5..];
            let mech_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            if mech_end < rest.len() {
                line = format!("{} [redacted]", &line[..at + 5 + mech_end]);
            }
        }
        for sec in &secrets {
            line = line.replace(sec.as_str(), "[redacted]");
        }
        out.push(line);
    }
    out.join("\n")
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

    fn send(&mut self, _o: &Outgoing, m: &Message) -> anyhow::Result<()> {
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
                Err(e) if !e.is_permanent() && attempt < self.settings.retries => {
                    attempt += 1;
                    std::thread::sleep(Duration::from_millis(500 * (1 << attempt.min(6))));
                }
                Err(e) => {
                    let said = redact_smtp_error(
                        &e.to_string(),
                        self.settings.user.as_deref(),
                        self.settings.password.as_deref(),
                    );
                    return Err(anyhow::anyhow!("{said}{}", smtp_hint(&said)));
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
    fn smtp_errors_lose_their_authentication_content() {
        use base64::Engine as _;
        let plain = base64::engine::general_purpose::STANDARD.encode("\0ptk\0s3cret-pw");
        let echoed = format!(
            "permanent error (535): 5.7.8 bad credentials: AUTH PLAIN {plain}\nretry later"
        );
        let r = redact_smtp_error(&echoed, Some("ptk"), Some("s3cret-pw"));
        assert!(!r.contains(&plain) && !r.contains("s3cret"), "{r}");
        assert!(
            r.contains("AUTH PLAIN [redacted]") && r.contains("retry later"),
            "{r}"
        );
        // The secret itself, or its base64, anywhere else on a line.
        let pw64 = base64::engine::general_purpose::STANDARD.encode("s3cret-pw");
        let r = redact_smtp_error(
            &format!("535 {pw64} s3cret-pw rejected"),
            Some("ptk"),
            Some("s3cret-pw"),
        );
        assert_eq!(r, "535 [redacted] [redacted] rejected");
        assert_eq!(
            redact_smtp_error("550 mailbox unavailable", None, None),
            "550 mailbox unavailable"
        );
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
