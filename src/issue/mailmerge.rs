//! `mailmerge.csv`: one row per issued workbook, addressed to the respondent whose form
//! it is, for Outlook's mail merge or `ptk mail`.

use std::collections::BTreeMap;
use std::path::Path;

use super::settings::{IssueSettings, Issued};
use crate::letter::LetterTemplate;
use crate::output::SafeCsv;
use crate::register::Partnership;
use crate::template::Template;

/// Name of the mail-merge file written beside the workbooks.
pub const MAILMERGE: &str = "mailmerge.csv";

const MAILMERGE_HEADER: [&str; 8] = [
    "to",
    "cc",
    "name",
    "partnership_id",
    "partnership",
    "subject",
    "body",
    "attachment",
];

/// Writes `mailmerge.csv`, one row per workbook. Rows already in the file for other
/// workbooks (another template issued into the same folder) are kept; rows for the
/// workbooks just written are replaced. Rows are sorted by attachment so the file
/// is the same whatever order templates were issued in.
pub(super) fn write_mailmerge(
    template: &Template,
    partnerships: &[&Partnership],
    settings: &IssueSettings,
    letter: &LetterTemplate,
    issued: &[Issued],
    out_dir: &Path,
) -> anyhow::Result<()> {
    let path = out_dir.join(MAILMERGE);
    // Rows by attachment name: rows kept from an earlier mailmerge.csv in this folder
    // (other templates), and this run's, whose letters are rendered only as they are
    // written, so thousands of letters are never all in memory at once.
    enum Source<'a> {
        Kept(Vec<String>),
        New(&'a Partnership, &'a Issued),
    }
    let mut rows: BTreeMap<String, Source<'_>> = BTreeMap::new();
    if let Ok(f) = std::fs::File::open(&path) {
        let mut reader = csv::Reader::from_reader(std::io::BufReader::new(f));
        let attachment_col = MAILMERGE_HEADER.len() - 1;
        let header_ok = reader
            .headers()
            .is_ok_and(|h| h.iter().eq(MAILMERGE_HEADER.iter().copied()));
        if header_ok {
            for rec in reader.records().flatten() {
                let fields: Vec<String> = rec.iter().map(str::to_string).collect();
                if fields.len() == MAILMERGE_HEADER.len() {
                    rows.insert(fields[attachment_col].clone(), Source::Kept(fields));
                }
            }
        }
    }
    let by_id: std::collections::HashMap<&str, &Partnership> =
        partnerships.iter().map(|p| (p.id.as_str(), *p)).collect();
    for i in issued {
        let Some(&p) = by_id.get(i.partnership_id.as_str()) else {
            continue;
        };
        let attachment = i
            .path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        rows.insert(attachment, Source::New(p, i));
    }
    let context = settings.letter_context();
    crate::output::write_atomic_with(&path, |file| {
        let mut csv = SafeCsv::to_writer(std::io::BufWriter::new(file));
        csv.row(MAILMERGE_HEADER)?;
        for (attachment, source) in &rows {
            match source {
                Source::Kept(r) => csv.row(r)?,
                Source::New(p, i) => {
                    let r = &i.respondent;
                    let l = letter
                        .render(&crate::letter::respondent_fields(template, p, r, &context))?;
                    // The Assistant Director is copied on the lead officer's form only:
                    // the partners' forms are between them and the council's officer.
                    let cc = if r.is_lead() {
                        p.assistant_director_email.as_deref().unwrap_or_default()
                    } else {
                        ""
                    };
                    csv.row([
                        r.email.as_str(),
                        cc,
                        &r.name,
                        &p.id,
                        &p.name,
                        &l.subject,
                        &l.body,
                        attachment,
                    ])?
                }
            }
        }
        csv.finish()?;
        Ok(())
    })
}
