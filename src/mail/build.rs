//! Building a planned message into RFC 5322 (with lettre).

use anyhow::Context;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};
use lettre::Message;

use super::{sha256_hex, Outgoing};

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

/// A stable Message-ID derived from the message's key, so a message can be traced
/// from the store to the mailbox.
pub fn message_id(o: &Outgoing, from: &Mailbox) -> String {
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

/// Builds the RFC 5322 message. An address the mail library refuses is an error
/// naming the partnership (the caller skips that message and goes on).
pub fn build(o: &Outgoing, from: &Mailbox) -> anyhow::Result<Message> {
    let to = Mailbox::new(
        Some(header_text(&o.to.0)),
        o.to.1.parse().with_context(|| {
            format!(
                "'{}' is not an email address ({})",
                o.to.1, o.partnership_id
            )
        })?,
    );
    let mut b = Message::builder()
        .from(from.clone())
        .reply_to(from.clone())
        .to(to)
        .subject(header_text(&o.letter.subject))
        .message_id(Some(message_id(o, from)));
    if let Some(cc) = &o.cc {
        b = b.cc(cc
            .parse()
            .with_context(|| format!("'{cc}' is not an email address ({})", o.partnership_id))?);
    }
    let text = SinglePart::plain(o.letter.body.clone());
    let msg = match &o.attachment {
        Some(a) => b.multipart(MultiPart::mixed().singlepart(text).singlepart(
            Attachment::new(a.name.clone()).body(
                a.bytes.clone(),
                ContentType::parse(content_type_for(&a.name))?,
            ),
        ))?,
        None => b.singlepart(text)?,
    };
    Ok(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    use super::super::{Kind, Outgoing};
    use crate::letter::Letter;

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
        let raw = String::from_utf8(build(&o, &from).unwrap().formatted()).unwrap();
        let head = raw.split("\r\n\r\n").next().unwrap();
        assert!(!head.lines().any(|l| l.starts_with("Bcc")), "{head}");
        o.to.1 = "not an address".into();
        let e = build(&o, &from).unwrap_err().to_string();
        assert!(e.contains("P1") && e.contains("not an address"), "{e}");
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
