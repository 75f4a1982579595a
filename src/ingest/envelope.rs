//! What a saved message holds once read, whatever its format: the envelope (sender,
//! date, subject, forwards) and its workbook attachments. Both message readers (`.eml`
//! in [`super::email`], Outlook `.msg` in [`super::msg`]) and the inputs use it, so it
//! sits below all of them and imports none.

/// How deep messages attached to messages are followed (a reply forwarded a few times).
pub const MAX_DEPTH: usize = 8;

/// Where an attachment came from: the message as received and, for a forwarded
/// return, each message inside it down to the one the workbook was attached to.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Envelope {
    pub from: String,
    pub date: String,
    pub subject: String,
    /// The forwarded messages, outermost first.
    #[serde(default)]
    pub forwarded: Vec<Envelope>,
}

impl Envelope {
    pub fn describe(&self) -> String {
        let mut s = format!(
            "From: {}; Date: {}; Subject: {}",
            self.from, self.date, self.subject
        );
        for f in &self.forwarded {
            s.push_str(&format!(
                "; forwarding From: {}; Date: {}; Subject: {}",
                f.from, f.date, f.subject
            ));
        }
        s
    }
}

/// What one message held: its workbook attachments (name, bytes) and the messages
/// attached to it.
#[derive(Debug, Clone, Default)]
pub struct Received {
    pub envelope: Envelope,
    pub workbooks: Vec<(String, Vec<u8>)>,
    pub forwarded: Vec<Received>,
}
