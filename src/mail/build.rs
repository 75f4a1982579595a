//! Building a planned message into RFC 5322 (with lettre).

use std::fmt::Write as _;

use anyhow::Context;
use email_encoding::headers::writer::EmailWriter;
use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::Message;

use super::{sha256_hex, Email};

fn content_type_for(name: &str) -> &'static str {
    match name
        .rsplit('.')
        .next()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        Some("xlsx") => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        Some("xlsm") => "application/vnd.ms-excel.sheet.macroEnabled.12",
        Some("xls") => "application/vnd.ms-excel",
        Some("ods") => "application/vnd.oasis.opendocument.spreadsheet",
        _ => "application/octet-stream",
    }
}

/// An attachment's headers, naming the file every way mail programs look for it.
/// lettre writes only RFC 2231's `filename*` (continued as `filename*0*=` for a long
/// name), which Outlook and Exchange show as "ATT00001" or "Untitled attachment"; so
/// the Content-Type also gets `name=` and the Content-Disposition a plain `filename=`
/// (RFC 2047 encoded words for a name that is not plain ASCII, as Outlook writes them).
#[derive(Clone)]
struct AttachmentHeader(HeaderValue);

impl AttachmentHeader {
    fn content_type(file_name: &str) -> Self {
        let prefix = "Content-Type: ";
        let mut v = String::new();
        {
            let mut w = EmailWriter::new(&mut v, prefix.len(), 0, false);
            let _ = w.write_str(content_type_for(file_name));
            let _ = w.write_char(';');
            let _ = fold(&mut w);
            let _ = write_plain_param(&mut w, "name", file_name);
        }
        let raw = format!("{}; name=\"{file_name}\"", content_type_for(file_name));
        Self(HeaderValue::dangerous_new_pre_encoded(
            HeaderName::new_from_ascii_str("Content-Type"),
            raw,
            v,
        ))
    }

    fn disposition(file_name: &str) -> Self {
        let prefix = "Content-Disposition: ";
        let mut v = String::new();
        {
            let mut w = EmailWriter::new(&mut v, prefix.len(), 0, false);
            let _ = w.write_str("attachment;");
            let _ = fold(&mut w);
            let _ = write_plain_param(&mut w, "filename", file_name);
            let _ = w.write_char(';');
            let _ = write_rfc2231_filename(&mut w, file_name);
        }
        let raw = format!("attachment; filename=\"{file_name}\"");
        Self(HeaderValue::dangerous_new_pre_encoded(
            HeaderName::new_from_ascii_str("Content-Disposition"),
            raw,
            v,
        ))
    }
}

/// Continues the header on a new line (folding whitespace).
fn fold(w: &mut EmailWriter<'_>) -> std::fmt::Result {
    w.new_line()?;
    w.write_char(' ')
}

/// `filename*` (RFC 2231): as lettre writes it for a long or non-ASCII name (continued
/// as `filename*0*=`), and written out for a short ASCII one too, where the encoder
/// would give only the plain form already written.
fn write_rfc2231_filename(w: &mut EmailWriter<'_>, name: &str) -> std::fmt::Result {
    let mut encoded = String::new();
    {
        let mut e = EmailWriter::new(&mut encoded, w.line_len() + 1, 0, false);
        email_encoding::headers::rfc2231::encode("filename", name, &mut e)?;
    }
    if encoded.starts_with("\r\n") {
        // Continued on lines of its own, folding included.
        return w.write_str(&encoded);
    }
    fold(w)?;
    w.write_str("filename*=utf-8''")?;
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            w.write_char(char::from(b))?;
        } else {
            write!(w, "%{b:02X}")?;
        }
    }
    Ok(())
}

/// `key="value"`: quoted as it is when plain printable ASCII, else as RFC 2047 encoded
/// words inside the quotes.
fn write_plain_param(w: &mut EmailWriter<'_>, key: &str, value: &str) -> std::fmt::Result {
    w.write_str(key)?;
    w.write_str("=\"")?;
    if value.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        for c in value.chars() {
            if matches!(c, '"' | '\\') {
                w.write_char('\\')?;
            }
            w.write_char(c)?;
        }
    } else {
        email_encoding::headers::rfc2047::encode(value, w)?;
    }
    w.write_char('"')
}

/// lettre's `Headers::set` keeps one header per name; the two attachment headers are
/// told apart by a name each, so the header carries its own.
macro_rules! attachment_header {
    ($ty:ident, $name:literal) => {
        #[derive(Clone)]
        struct $ty(AttachmentHeader);
        impl Header for $ty {
            fn name() -> HeaderName {
                HeaderName::new_from_ascii_str($name)
            }
            fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
                Err("not parsed".into())
            }
            fn display(&self) -> HeaderValue {
                (self.0).0.clone()
            }
        }
    };
}
attachment_header!(AttachmentType, "Content-Type");
attachment_header!(AttachmentDisposition, "Content-Disposition");

/// The attachment part: its bytes (base64) under the headers above.
fn attachment_part(file_name: &str, bytes: Vec<u8>) -> SinglePart {
    SinglePart::builder()
        .header(AttachmentType(AttachmentHeader::content_type(file_name)))
        .header(AttachmentDisposition(AttachmentHeader::disposition(
            file_name,
        )))
        .body(bytes)
}

/// A stable Message-ID derived from the message's key (a merged email's: from all its
/// letters' keys), so a message can be traced from the store to the mailbox.
pub fn message_id(e: &Email, from: &Mailbox) -> String {
    let o = e.first();
    if e.parts.len() > 1 {
        return format!(
            "<ptk.merged.{}.{}@{}>",
            o.year,
            e.hash(),
            from.email.domain()
        );
    }
    let h = sha256_hex(o.key.as_bytes());
    format!(
        "<ptk.{}.{}.{}.{}.{}@{}>",
        o.kind.as_str(),
        o.template_id,
        o.year,
        o.partnership_id,
        &h[..12],
        from.email.domain()
    )
}

/// Text for a header (a display name, the subject): control characters, which would
/// end the header early or make the mail library panic, become spaces. The register
/// already rejects them; this keeps any other path from reaching a header with one.
fn header_text(s: &str) -> String {
    if !s.chars().any(char::is_control) {
        return s.to_string();
    }
    s.split(char::is_control)
        .filter(|p| !p.trim().is_empty())
        .map(str::trim)
        .collect::<Vec<_>>()
        .join(" ")
}

/// Builds the RFC 5322 message: the letter (or the merged letters, see [`Email`]) and
/// every attachment. The multipart boundary comes from the Message-ID, so the same
/// email is the same bytes but for the Date. An address the mail library refuses is an
/// error naming the partnership (the caller skips that message and goes on).
pub fn build(e: &Email, from: &Mailbox) -> anyhow::Result<Message> {
    let o = e.first();
    let letter = e.letter();
    let to = Mailbox::new(
        Some(header_text(&o.to.0)),
        o.to.1.parse().with_context(|| {
            format!(
                "'{}' is not an email address ({})",
                o.to.1,
                e.partnerships()
            )
        })?,
    );
    let id = message_id(e, from);
    let mut b = Message::builder()
        .from(from.clone())
        .reply_to(from.clone())
        .to(to)
        .subject(header_text(&letter.subject))
        .message_id(Some(id.clone()));
    if let Some(cc) = &o.cc {
        b = b.cc(cc
            .parse()
            .with_context(|| format!("'{cc}' is not an email address ({})", e.partnerships()))?);
    }
    let text = SinglePart::plain(letter.body);
    let attachments = e.attachments();
    if attachments.is_empty() {
        return Ok(b.singlepart(text)?);
    }
    let mut parts = MultiPart::mixed()
        .boundary(format!("ptk-{}", &sha256_hex(id.as_bytes())[..24]))
        .singlepart(text);
    for a in attachments {
        parts = parts.singlepart(attachment_part(&a.name, a.bytes.clone()));
    }
    Ok(b.multipart(parts)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::{Kind, Outgoing};
    use crate::letter::Letter;
    use crate::mail::Email;

    #[test]
    fn attachments_are_named_plainly_and_by_rfc_2231() {
        let head = |name: &str| {
            let part = attachment_part(name, vec![1, 2, 3]);
            let raw = String::from_utf8(part.formatted()).unwrap();
            raw.split("\r\n\r\n").next().unwrap().to_string()
        };
        let long = "LSP01_self-assessment_2026_castle-point-community-safety.xlsx";
        let h = head(long);
        assert!(h.contains(&format!("\r\n name=\"{long}\"")), "{h}");
        assert!(h.contains(&format!("\r\n filename=\"{long}\";")), "{h}");
        assert!(
            h.contains("filename*=utf-8''LSP01_") || h.contains("filename*0=\"LSP01_"),
            "{h}"
        );
        let longer = format!("{}.xlsx", "a".repeat(120));
        assert!(head(&longer).contains("\r\n filename*0=\"aaa"));
        let h = head("LSP01_exit_2026.xlsx");
        assert!(h.contains("\r\n name=\"LSP01_exit_2026.xlsx\""), "{h}");
        assert!(h.contains("\r\n filename=\"LSP01_exit_2026.xlsx\";"), "{h}");
        assert!(h.contains("filename*=utf-8''LSP01_exit_2026.xlsx"), "{h}");
        assert!(h.lines().all(|l| l.len() <= 998), "{h}");
        let h = head("Réponse \"Q1\".xlsx");
        assert!(h.contains("name=\"=?utf-8?b?"), "{h}");
        assert!(h.contains("filename=\"=?utf-8?b?"), "{h}");
        let h = head("a \"b\".xlsx");
        assert!(h.contains(r#"filename="a \"b\".xlsx""#), "{h}");
    }

    #[test]
    fn line_breaks_in_a_name_never_reach_a_header_or_panic() {
        let from: Mailbox = "partnerships@rochford.gov.uk".parse().unwrap();
        let mut o = Outgoing {
            kind: Kind::Issue,
            partnership_id: "P1".into(),
            respondent_id: "lead".into(),
            template_id: "exit".into(),
            year: 2026,
            to: ("Ann\r\nBcc: all@x.gov.uk".into(), "ann@x.gov.uk".into()),
            cc: None,
            letter: Letter {
                subject: "Form for Alpha\r\nBcc: all@x.gov.uk".into(),
                body: "Dear Ann".into(),
            },
            attachment: None,
            file_sha256: String::new(),
            key: "issue/exit/2026/P1/x".into(),
        };
        let raw = String::from_utf8(build(&Email::single(o.clone()), &from).unwrap().formatted())
            .unwrap();
        let head = raw.split("\r\n\r\n").next().unwrap();
        assert!(!head.lines().any(|l| l.starts_with("Bcc")), "{head}");
        o.to.1 = "not an address".into();
        let e = build(&Email::single(o), &from).unwrap_err().to_string();
        assert!(e.contains("P1") && e.contains("not an address"), "{e}");
    }

    #[test]
    fn a_merged_email_is_the_same_bytes_each_time_but_for_the_date() {
        let from: Mailbox = "partnerships@rochford.gov.uk".parse().unwrap();
        let part = |pid: &str| Outgoing {
            kind: Kind::Chase,
            partnership_id: pid.into(),
            respondent_id: "lead".into(),
            template_id: "self-assessment".into(),
            year: 2026,
            to: ("Helen Marsh".into(), "helen@x.gov.uk".into()),
            cc: None,
            letter: Letter {
                subject: format!("Reminder for {pid}"),
                body: "Dear Helen Marsh,\n\nPlease.\n\nWith thanks\n".into(),
            },
            attachment: Some(crate::mail::FileAttachment {
                name: format!("{pid}_self-assessment_2026.xlsx"),
                bytes: vec![7; 100],
            }),
            file_sha256: String::new(),
            key: format!("chase/self-assessment/2026/{pid}/2026-12-06"),
        };
        let e = Email {
            parts: vec![part("LSP01"), part("MGT16")],
        };
        let bytes = || {
            let raw = String::from_utf8(build(&e, &from).unwrap().formatted()).unwrap();
            raw.lines()
                .filter(|l| !l.starts_with("Date:"))
                .collect::<Vec<_>>()
                .join("\n")
        };
        let one = bytes();
        assert_eq!(one, bytes());
        assert!(one.contains("filename=\"LSP01_self-assessment_2026.xlsx\""));
        assert!(one.contains("filename=\"MGT16_self-assessment_2026.xlsx\""));
    }

    #[test]
    fn attachments_get_the_right_content_type() {
        assert!(content_type_for("a.xlsx").contains("spreadsheetml"));
        assert_eq!(
            content_type_for("a.ODS"),
            "application/vnd.oasis.opendocument.spreadsheet"
        );
        assert_eq!(content_type_for("a.pdf"), "application/octet-stream");
    }
}
