//! The send log's keys: each message ptk sends is named by why it is sent and what it
//! is about (template, year, partnership, respondent) and a tail (the edition of an
//! issued form, the day of a reminder, the file corrected), so the same message is never
//! sent twice. Used by `mail` to plan, by `issue` to know which forms were sent, and by
//! `status`.

use crate::respondents::LEAD;

/// Why a message is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The form, when it is issued.
    Issue,
    /// A reminder to a partnership with no accepted return.
    Chase,
    /// The problems found in a rejected return, with the file sent back.
    Corrections,
    /// A partnership's own results, to its lead officer and each respondent who returned.
    Feedback,
    /// An Assistant Director's pack of their partnerships.
    AdPack,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Issue => "issue",
            Kind::Chase => "chase",
            Kind::Corrections => "corrections",
            Kind::Feedback => "feedback",
            Kind::AdPack => "ad-pack",
        }
    }

    /// The kind named by [`Kind::as_str`] (as the send log keeps it).
    pub fn parse(s: &str) -> Option<Kind> {
        [
            Kind::Issue,
            Kind::Chase,
            Kind::Corrections,
            Kind::Feedback,
            Kind::AdPack,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }

    /// What a letter of this kind is, in the officer's words ("a reminder for LSP01").
    pub fn letter_name(self) -> &'static str {
        match self {
            Kind::Issue => "form",
            Kind::Chase => "reminder",
            Kind::Corrections => "corrections letter",
            Kind::Feedback => "feedback",
            Kind::AdPack => "feedback pack",
        }
    }
}

/// The key naming a message: `<kind>/<template>/<year>/<partnership>/<tail>` for the
/// lead officer (as before respondents existed, so nothing already sent is sent again),
/// `<kind>/<template>/<year>/<partnership>/<respondent>/<tail>` for anyone else. Ids
/// never contain `/`.
pub fn message_key(kind: Kind, t: &str, year: i32, pid: &str, rid: &str, tail: &str) -> String {
    if rid.eq_ignore_ascii_case(LEAD) {
        format!("{}/{t}/{year}/{pid}/{tail}", kind.as_str())
    } else {
        format!("{}/{t}/{year}/{pid}/{rid}/{tail}", kind.as_str())
    }
}

/// Whose message a key names (see [`message_key`]): the respondent id, or `lead`.
pub fn key_respondent(key: &str) -> &str {
    let parts: Vec<&str> = key.split('/').collect();
    if parts.len() == 6 {
        parts[4]
    } else {
        LEAD
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_read_back_from_the_name_the_log_keeps() {
        for k in [
            Kind::Issue,
            Kind::Chase,
            Kind::Corrections,
            Kind::Feedback,
            Kind::AdPack,
        ] {
            assert_eq!(Kind::parse(k.as_str()), Some(k));
        }
        assert_eq!(Kind::parse("reminder"), None);
    }

    #[test]
    fn a_key_names_its_respondent_and_the_leads_keys_are_unchanged() {
        let lead = message_key(
            Kind::Issue,
            "self-assessment",
            2026,
            "LSP01",
            "lead",
            "ab12",
        );
        assert_eq!(lead, "issue/self-assessment/2026/LSP01/ab12");
        assert_eq!(key_respondent(&lead), "lead");
        let other = message_key(
            Kind::Chase,
            "self-assessment",
            2026,
            "LSP01",
            "essex-police",
            "2026-12-01",
        );
        assert_eq!(
            other,
            "chase/self-assessment/2026/LSP01/essex-police/2026-12-01"
        );
        assert_eq!(key_respondent(&other), "essex-police");
        assert_eq!(
            key_respondent("corrections/exit/2026/P1/0123456789abcdef"),
            "lead"
        );
    }
}
