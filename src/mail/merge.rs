//! One email per person: the letters a run plans for the same address (and the same
//! copy, if any) go as one message, a section per letter and every attachment with its
//! own name, instead of one email per form. Each letter keeps its own key in the send
//! log, so merging never makes a letter go twice, nor drops one.
//!
//! Only letters to the same person are merged: a letter copied to an Assistant
//! Director is merged only with letters copied to the same one, so nobody sees another
//! partnership's letter.

use std::collections::HashMap;

use super::{sha256_hex, FileAttachment, Kind, Outgoing};
use crate::letter::Letter;

/// One email: one or more planned letters to the same person, in a stable order.
#[derive(Debug, Clone)]
pub struct Email {
    pub parts: Vec<Outgoing>,
}

/// Who a letter goes to, as merging compares it: the address and the copy, any case.
fn addressee(o: &Outgoing) -> (String, String) {
    (
        o.to.1.trim().to_lowercase(),
        o.cc.as_deref().unwrap_or("").trim().to_lowercase(),
    )
}

/// The order of the sections: by partnership, form, then what the letter is for.
fn rank(k: Kind) -> u8 {
    match k {
        Kind::Issue => 0,
        Kind::Corrections => 1,
        Kind::Chase => 2,
        Kind::Feedback => 3,
        Kind::AdPack => 4,
    }
}

/// Groups the letters by address (any case) and copy: the emails in the order of each
/// address's first letter, the letters of each by partnership, form and kind (so the
/// same plan gives the same emails, byte for byte but for the Date).
pub fn merge(plan: &[Outgoing]) -> Vec<Email> {
    let mut order: Vec<(String, String)> = Vec::new();
    let mut groups: HashMap<(String, String), Vec<Outgoing>> = HashMap::new();
    for o in plan {
        let who = addressee(o);
        if !groups.contains_key(&who) {
            order.push(who.clone());
        }
        groups.entry(who).or_default().push(o.clone());
    }
    order
        .into_iter()
        .map(|who| {
            let mut parts = groups.remove(&who).unwrap_or_default();
            parts.sort_by(|a, b| {
                (
                    a.partnership_id.to_ascii_lowercase(),
                    &a.template_id,
                    rank(a.kind),
                    &a.key,
                )
                    .cmp(&(
                        b.partnership_id.to_ascii_lowercase(),
                        &b.template_id,
                        rank(b.kind),
                        &b.key,
                    ))
            });
            Email { parts }
        })
        .collect()
}

impl Email {
    /// An email of one letter.
    pub fn single(o: Outgoing) -> Self {
        Self { parts: vec![o] }
    }

    /// The first letter (every email has one): its addressee is the email's.
    pub fn first(&self) -> &Outgoing {
        &self.parts[0]
    }

    /// The keys of its letters, sorted: what names the email (its draft file, its
    /// Message-ID) whatever order the letters were planned in.
    pub fn keys(&self) -> Vec<&str> {
        let mut k: Vec<&str> = self.parts.iter().map(|o| o.key.as_str()).collect();
        k.sort_unstable();
        k
    }

    /// The partnerships it is about, for the run's output (`LSP01+MGT16`).
    pub fn partnerships(&self) -> String {
        let mut ids: Vec<&str> = Vec::new();
        for o in &self.parts {
            if !ids.contains(&o.partnership_id.as_str()) {
                ids.push(&o.partnership_id);
            }
        }
        ids.join("+")
    }

    /// Every attachment, in the order of the sections; the same file twice is attached
    /// once.
    pub fn attachments(&self) -> Vec<&FileAttachment> {
        let mut out: Vec<&FileAttachment> = Vec::new();
        for a in self.parts.iter().filter_map(|o| o.attachment.as_ref()) {
            if !out.iter().any(|b| b.name == a.name && b.bytes == a.bytes) {
                out.push(a);
            }
        }
        out
    }

    /// The email's text: the letter itself when there is one; otherwise one greeting,
    /// a section per letter ("1 of 2: " and its subject as the heading, what it asks, the file
    /// attached for it) and one sign-off.
    pub fn letter(&self) -> Letter {
        if self.parts.len() == 1 {
            return self.parts[0].letter.clone();
        }
        combine(&self.parts)
    }

    /// A short hash of its keys, naming a merged email.
    pub fn hash(&self) -> String {
        sha256_hex(self.keys().join("\n").as_bytes())[..12].to_string()
    }
}

/// What `n` letters of a kind ask, for a merged email's subject.
fn asks(k: Kind, n: usize) -> &'static str {
    match (k, n > 1) {
        (Kind::Issue, false) => "a form to complete",
        (Kind::Issue, true) => "forms to complete",
        (Kind::Chase, false) => "a reminder",
        (Kind::Chase, true) => "reminders",
        (Kind::Corrections, false) => "a return to correct",
        (Kind::Corrections, true) => "returns to correct",
        (Kind::Feedback, _) => "your results",
        (Kind::AdPack, _) => "your partnerships' results",
    }
}

/// A small number in words, as a letter writes it.
fn count(n: usize) -> String {
    const WORDS: [&str; 9] = [
        "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    n.checked_sub(2)
        .and_then(|i| WORDS.get(i))
        .map_or_else(|| n.to_string(), |w| w.to_string())
}

fn paragraphs(body: &str) -> Vec<String> {
    body.replace("\r\n", "\n")
        .split("\n\n")
        .map(|p| p.trim_matches('\n').to_string())
        .filter(|p| !p.trim().is_empty())
        .collect()
}

fn combine(parts: &[Outgoing]) -> Letter {
    let first = paragraphs(&parts[0].letter.body);
    let greeting = first
        .first()
        .filter(|p| p.starts_with("Dear "))
        .cloned()
        .unwrap_or_else(|| format!("Dear {},", parts[0].to.0));
    let sign_off = first.last().cloned().unwrap_or_default();
    let mut what: Vec<&str> = Vec::new();
    for o in parts {
        let n = parts.iter().filter(|p| p.kind == o.kind).count();
        if !what.contains(&asks(o.kind, n)) {
            what.push(asks(o.kind, n));
        }
    }
    let what = match what.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
        None => String::new(),
    };
    let email = Email {
        parts: parts.to_vec(),
    };
    let subject = format!(
        "Partnership review {}: {what} ({})",
        parts[0].year,
        email.partnerships().replace('+', ", ")
    );
    let mut body = vec![
        greeting,
        format!(
            "So that you get one email rather than {n}, this one brings together our {n} messages to you, each in its own section below{}.",
            if email.attachments().is_empty() {
                ""
            } else {
                ", with the file for it attached under the name given there"
            },
            n = count(parts.len()),
        ),
    ];
    for (i, o) in parts.iter().enumerate() {
        let mut section = vec![format!(
            "{} of {}: {}",
            i + 1,
            parts.len(),
            o.letter.subject
        )];
        let mut text = paragraphs(&o.letter.body);
        if text.first().is_some_and(|p| p.starts_with("Dear ")) {
            text.remove(0);
        }
        if text.last() == Some(&sign_off) {
            text.pop();
        }
        section.extend(text);
        if let Some(a) = &o.attachment {
            section.push(format!("Attached for this section: {}", a.name));
        }
        body.push(section.join("\n\n"));
    }
    body.push(sign_off);
    Letter {
        subject,
        body: body.join("\n\n") + "\n",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn letter(kind: Kind, pid: &str, to: &str, cc: Option<&str>, file: Option<&str>) -> Outgoing {
        Outgoing {
            kind,
            partnership_id: pid.into(),
            respondent_id: "lead".into(),
            template_id: "self-assessment".into(),
            year: 2026,
            to: ("Helen Marsh".into(), to.into()),
            cc: cc.map(str::to_string),
            letter: Letter {
                subject: format!("{} for {pid}", kind.as_str()),
                body: format!(
                    "Dear Helen Marsh,\n\nPlease do the {} for {pid} by 29 January 2027.\n\nWith thanks,\nStrategic Partnership Officer\nRochford District Council\n",
                    kind.as_str()
                ),
            },
            attachment: file.map(|f| FileAttachment {
                name: f.into(),
                bytes: f.as_bytes().to_vec(),
            }),
            file_sha256: String::new(),
            key: format!("{}/self-assessment/2026/{pid}/x", kind.as_str()),
        }
    }

    #[test]
    fn letters_to_one_address_become_one_email_with_a_section_and_file_each() {
        let plan = [
            letter(
                Kind::Chase,
                "MGT16",
                "helen.marsh@x.gov.uk",
                None,
                Some("MGT16.xlsx"),
            ),
            letter(
                Kind::Chase,
                "CSP02",
                "david@x.gov.uk",
                None,
                Some("CSP02.xlsx"),
            ),
            letter(
                Kind::Corrections,
                "LSP01",
                "Helen.Marsh@X.gov.uk",
                None,
                Some("LSP01.xlsx"),
            ),
        ];
        let emails = merge(&plan);
        assert_eq!(emails.len(), 2);
        let helen = &emails[0];
        assert_eq!(
            helen.partnerships(),
            "LSP01+MGT16",
            "sections by partnership"
        );
        let names: Vec<&str> = helen
            .attachments()
            .iter()
            .map(|a| a.name.as_str())
            .collect();
        assert_eq!(names, ["LSP01.xlsx", "MGT16.xlsx"]);
        let l = helen.letter();
        assert_eq!(
            l.subject,
            "Partnership review 2026: a return to correct and a reminder (LSP01, MGT16)"
        );
        assert_eq!(l.body.matches("Dear Helen Marsh,").count(), 1, "{}", l.body);
        assert_eq!(l.body.matches("With thanks,").count(), 1, "{}", l.body);
        assert!(
            l.body
                .contains("one email rather than two, this one brings together our two messages"),
            "{}",
            l.body
        );
        let one = l.body.find("1 of 2: corrections for LSP01").unwrap();
        let two = l.body.find("2 of 2: chase for MGT16").unwrap();
        assert!(one < two, "{}", l.body);
        assert!(l
            .body
            .contains("Please do the chase for MGT16 by 29 January 2027."));
        assert!(l.body.contains("Attached for this section: LSP01.xlsx"));
        assert!(
            !l.body.contains("CSP02"),
            "nothing of another person's letter"
        );
        // The same letters in another order make the same email.
        let again = merge(&[plan[2].clone(), plan[0].clone()]);
        assert_eq!(again[0].letter(), l);
        assert_eq!(again[0].hash(), helen.hash());
        // One letter is sent as it is.
        assert_eq!(emails[1].letter(), plan[1].letter);
    }

    #[test]
    fn letters_copied_to_different_people_are_never_merged() {
        let plan = [
            letter(
                Kind::Chase,
                "LSP01",
                "h@x.gov.uk",
                Some("ad1@x.gov.uk"),
                None,
            ),
            letter(
                Kind::Chase,
                "MGT16",
                "h@x.gov.uk",
                Some("ad2@x.gov.uk"),
                None,
            ),
            letter(
                Kind::Chase,
                "SEP04",
                "h@x.gov.uk",
                Some("AD1@x.gov.uk"),
                None,
            ),
        ];
        let emails = merge(&plan);
        assert_eq!(emails.len(), 2);
        assert_eq!(emails[0].partnerships(), "LSP01+SEP04");
        assert_eq!(emails[1].partnerships(), "MGT16");
    }
}
