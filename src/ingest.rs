//! Ingest: the year-end batch import of returned workbooks.
//!
//! Every input file ends with exactly one status: accepted, accepted-with-warnings,
//! rejected, duplicate, unchanged or skipped. Files are read, identified, validated
//! and scored in parallel; the results are written to the store in one transaction
//! and to `ingest-report.csv` and `findings.csv`.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::contract::{self, CellRef};
use crate::mail::{self, Envelope};
use crate::read::{self, CellValue, Limits, Workbook};
use crate::register::Register;
use crate::score::{self, Score};
use crate::store::{AcceptedReturn, FileRecord, RunChanges, SeenFile, Store};
use crate::template::{Layout, Template};
use crate::validate::{self, Answer, Code, Finding, Severity};

mod spool;
pub use spool::Tally;

/// The outcome of one input file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Status {
    Accepted,
    AcceptedWithWarnings,
    Rejected,
    Duplicate,
    Unchanged,
    Skipped,
}

impl Status {
    pub const ALL: [Status; 6] = [
        Status::Accepted,
        Status::AcceptedWithWarnings,
        Status::Rejected,
        Status::Duplicate,
        Status::Unchanged,
        Status::Skipped,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Accepted => "accepted",
            Status::AcceptedWithWarnings => "accepted-with-warnings",
            Status::Rejected => "rejected",
            Status::Duplicate => "duplicate",
            Status::Unchanged => "unchanged",
            Status::Skipped => "skipped",
        }
    }

    pub fn is_accepted(self) -> bool {
        matches!(self, Status::Accepted | Status::AcceptedWithWarnings)
    }
}

impl std::str::FromStr for Status {
    type Err = anyhow::Error;

    fn from_str(s: &str) -> anyhow::Result<Self> {
        Status::ALL
            .into_iter()
            .find(|x| x.as_str() == s)
            .ok_or_else(|| anyhow::anyhow!("unknown file status '{s}'"))
    }
}

/// A file found among the inputs, with the reason to skip it if there is one.
/// A workbook attached to an email carries its bytes and the message it came in.
#[derive(Debug, Clone, Default)]
pub struct Input {
    /// The file, or for an attachment `<mailbox or .eml>#<message>/<file name>`.
    pub path: PathBuf,
    pub skip: Option<String>,
    pub attachment: Option<std::sync::Arc<Vec<u8>>>,
    pub envelope: Option<Envelope>,
}

/// File endings read as saved emails or mailboxes.
pub const MAIL_EXTENSIONS: [&str; 3] = ["eml", "mbox", "msg"];

/// Turns one email into inputs: one per workbook attachment, or one skipped entry that
/// names the message when it has no workbook (so no message is silently dropped).
fn from_message(label: &str, raw: &[u8], limits: &Limits) -> Vec<Input> {
    from_received(
        label,
        mail::parse_message(raw).ok_or_else(|| "cannot be read as an email message".into()),
        limits,
    )
}

/// Inputs from a message already parsed (an .eml/mbox message, or an Outlook .msg).
fn from_received(
    label: &str,
    received: Result<mail::Received, String>,
    limits: &Limits,
) -> Vec<Input> {
    let received = match received {
        Ok(r) => r,
        Err(why) => {
            return vec![Input {
                path: PathBuf::from(label),
                skip: Some(why),
                ..Input::default()
            }]
        }
    };
    let env = received.envelope;
    if received.workbooks.is_empty() {
        let why = format!(
            "an email with no workbook attached ({}); if it should have had a return, ask the sender to attach it",
            env.describe()
        );
        return vec![Input {
            path: PathBuf::from(label),
            skip: Some(why),
            envelope: Some(env),
            ..Input::default()
        }];
    }
    received
        .workbooks
        .into_iter()
        .map(|(name, bytes)| {
            // An attachment over the size limit is kept only as its size, for the message.
            let skip = None;
            let attachment = if bytes.len() as u64 > limits.max_file_bytes {
                Some(std::sync::Arc::new(Vec::new()))
            } else {
                Some(std::sync::Arc::new(bytes))
            };
            Input {
                path: PathBuf::from(format!("{label}/{name}")),
                skip,
                attachment,
                envelope: Some(env.clone()),
            }
        })
        .collect()
}

/// Expands an `.eml` file, an mbox file or a maildir folder into inputs.
fn expand_mail(path: &Path, limits: &Limits) -> Vec<Input> {
    let label = path.display().to_string();
    let fail = |e: anyhow::Error| {
        vec![Input {
            path: path.to_path_buf(),
            skip: Some(format!("cannot be read: {e}")),
            ..Input::default()
        }]
    };
    if path.is_dir() {
        return match mail::maildir_messages(path) {
            Ok(files) => files
                .iter()
                .flat_map(|f| match std::fs::read(f) {
                    Ok(raw) => from_message(&f.display().to_string(), &raw, limits),
                    Err(e) => vec![Input {
                        path: f.clone(),
                        skip: Some(format!("cannot be read: {e}")),
                        ..Input::default()
                    }],
                })
                .collect(),
            Err(e) => fail(e),
        };
    }
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    if ext == "msg" {
        return match std::fs::read(path) {
            Ok(raw) => from_received(&label, crate::msg::parse(&raw), limits),
            Err(e) => fail(e.into()),
        };
    }
    if ext == "mbox" {
        return match mail::mbox_messages(path) {
            Ok(messages) => messages
                .iter()
                .enumerate()
                .flat_map(|(i, raw)| from_message(&format!("{label}#{}", i + 1), raw, limits))
                .collect(),
            Err(e) => fail(e),
        };
    }
    match std::fs::read(path) {
        Ok(raw) => from_message(&label, &raw, limits),
        Err(e) => fail(e.into()),
    }
}

/// File endings read as workbooks.
pub const WORKBOOK_EXTENSIONS: [&str; 5] = ["xlsx", "xlsm", "xlsb", "xls", "ods"];

/// Expands folders (recursively, in name order) into the files to ingest. Hidden
/// folders are not entered (reported as one skipped entry); nothing is dropped silently.
pub fn collect_inputs(paths: &[PathBuf], limits: &Limits) -> anyhow::Result<Vec<Input>> {
    let mut out = Vec::new();
    let skipped = |path: &Path, why: String| Input {
        path: path.to_path_buf(),
        skip: Some(why),
        ..Input::default()
    };
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| {
            anyhow::anyhow!(
                "cannot read {}: {e}. Check the path of the returns folder or file.",
                p.display()
            )
        })?;
        if meta.is_file() {
            out.extend(classify(p, limits));
            continue;
        }
        let mut it = walkdir::WalkDir::new(p)
            .follow_links(false)
            .sort_by_file_name()
            .into_iter();
        while let Some(entry) = it.next() {
            let entry = match entry {
                Ok(e) => e,
                Err(e) => {
                    let path = e.path().map(Path::to_path_buf).unwrap_or_else(|| p.clone());
                    out.push(skipped(&path, format!("cannot be read: {e}")));
                    continue;
                }
            };
            let hidden = entry.depth() > 0 && entry.file_name().to_string_lossy().starts_with('.');
            if entry.file_type().is_dir() {
                if hidden {
                    out.push(skipped(
                        entry.path(),
                        "hidden folder: not looked into".into(),
                    ));
                    it.skip_current_dir();
                } else if mail::is_maildir(entry.path()) {
                    out.extend(expand_mail(entry.path(), limits));
                    it.skip_current_dir();
                }
                continue;
            }
            if entry.file_type().is_symlink() {
                out.push(skipped(
                    entry.path(),
                    "a link, not a file: not followed".into(),
                ));
                continue;
            }
            out.extend(classify(entry.path(), limits));
        }
    }
    Ok(out)
}

fn classify(path: &Path, limits: &Limits) -> Vec<Input> {
    let ext0 = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let hidden0 = path
        .file_name()
        .is_some_and(|n| n.to_string_lossy().starts_with('.'));
    if MAIL_EXTENSIONS.contains(&ext0.as_str()) && !hidden0 {
        return expand_mail(path, limits);
    }
    vec![classify_file(path)]
}

fn classify_file(path: &Path) -> Input {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    let skip = if name.starts_with("~$") || name.starts_with(".~lock.") {
        Some("an Office lock file (left while the workbook is open), not a return".to_string())
    } else if name.starts_with('.') {
        Some("a hidden file, not a return".to_string())
    } else if !WORKBOOK_EXTENSIONS.contains(&ext.as_str()) {
        Some(format!(
            "not a workbook (ptk reads {}, and emails saved as .eml, .msg, .mbox or a maildir folder): if it is a return, save it as .xlsx",
            WORKBOOK_EXTENSIONS.map(|e| format!(".{e}")).join(", ")
        ))
    } else {
        None
    };
    Input {
        path: path.to_path_buf(),
        skip,
        ..Input::default()
    }
}

/// What is fixed for a whole run.
pub struct Context<'a> {
    pub templates: &'a [Template],
    pub register: &'a Register,
    pub year: i32,
    pub limits: Limits,
    /// Files already in the store, by content hash.
    pub seen: &'a HashMap<String, SeenFile>,
}

/// Everything learned from one file.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub path: PathBuf,
    pub sha256: String,
    pub status: Status,
    pub partnership_id: Option<String>,
    pub template_id: Option<String>,
    pub template_version: Option<u32>,
    pub year: Option<i32>,
    pub issued_at: Option<String>,
    pub findings: Vec<Finding>,
    pub message: String,
    /// Validated answers and evidence, for accepted returns.
    pub answers: Vec<(String, String, Option<f64>, String)>,
    pub score: Option<Score>,
    /// Modification time, to choose between duplicates.
    pub modified: Option<std::time::SystemTime>,
    /// For an unchanged file: the status it was given when first ingested.
    pub previous: Option<String>,
    /// The email a return came in, if it came in one.
    pub envelope: Option<Envelope>,
}

impl Outcome {
    fn new(path: &Path, status: Status, message: impl Into<String>) -> Self {
        Self {
            path: path.to_path_buf(),
            sha256: String::new(),
            status,
            partnership_id: None,
            template_id: None,
            template_version: None,
            year: None,
            issued_at: None,
            findings: Vec::new(),
            message: message.into(),
            answers: Vec::new(),
            score: None,
            modified: None,
            previous: None,
            envelope: None,
        }
    }

    fn reject(mut self, finding: Finding) -> Self {
        self.status = Status::Rejected;
        self.message = finding.message.clone();
        self.findings.push(finding);
        self
    }

    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }

    pub fn warnings(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Warning)
            .count()
    }
}

/// Processes one input file completely. Never panics on bad input; every problem
/// becomes a finding.
pub fn process(input: &Input, ctx: &Context<'_>) -> Outcome {
    // A reader library that panics on a strange file must not take the batch down: the
    // panic becomes this file's finding and the run goes on.
    let guarded = || {
        if cfg!(debug_assertions)
            && std::env::var_os("PTK_TEST_PANIC_ON")
                .is_some_and(|n| input.path.file_name() == Some(n.as_os_str()))
        {
            panic!("PTK_TEST_PANIC_ON: simulated reader failure");
        }
        process_input(input, ctx)
    };
    let mut o = std::panic::catch_unwind(std::panic::AssertUnwindSafe(guarded)).unwrap_or_else(|_| {
        Outcome::new(&input.path, Status::Rejected, "").reject(Finding::file(
            Code::Unreadable,
            "the file could not be read: it made the spreadsheet reader fail. Open it in Excel or LibreOffice, save it again as .xlsx and send it again",
        ))
    });
    o.envelope = input.envelope.clone();
    o
}

fn process_input(input: &Input, ctx: &Context<'_>) -> Outcome {
    if let Some(why) = &input.skip {
        return Outcome::new(&input.path, Status::Skipped, why.clone());
    }
    let read = match &input.attachment {
        Some(b) if b.is_empty() => Ok(Err(read::ReadError::TooLarge {
            bytes: ctx.limits.max_file_bytes + 1,
            limit: ctx.limits.max_file_bytes,
        })),
        Some(b) => Ok(Ok(b.as_ref().clone())),
        None => read::read_bounded(&input.path, &ctx.limits),
    };
    let bytes = match read {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => {
            return Outcome::new(&input.path, Status::Rejected, "")
                .reject(Finding::file(Code::TooLarge, e.message()))
        }
        Err(e) => {
            return Outcome::new(&input.path, Status::Rejected, "").reject(Finding::file(
                Code::Unreadable,
                format!(
                    "the file cannot be read ({e}); check it is not open or locked and run again"
                ),
            ))
        }
    };
    let mut out = Outcome::new(&input.path, Status::Rejected, "");
    out.sha256 = hex(&Sha256::digest(&bytes));
    out.modified = std::fs::metadata(&input.path)
        .and_then(|m| m.modified())
        .ok();
    if let Some(seen) = ctx.seen.get(&out.sha256) {
        out.status = Status::Unchanged;
        out.partnership_id = seen.partnership_id.clone();
        out.template_id = seen.template_id.clone();
        out.template_version = seen.template_version;
        out.year = seen.year;
        out.previous = Some(seen.status.clone());
        out.message = format!(
            "already ingested (as {}{}); not read again",
            seen.status,
            if seen.path != input.path.display().to_string() {
                format!(", from {}", seen.path)
            } else {
                String::new()
            }
        );
        return out;
    }
    examine(out, &bytes, ctx)
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The identification keys of a return, from its hidden sheet.
struct Identity {
    template_id: String,
    version: u32,
    partnership_id: String,
    year: i32,
    issued_at: String,
    keys: HashMap<String, String>,
}

fn identify(ids: Vec<(String, String)>) -> Result<Identity, String> {
    let mut keys: HashMap<String, String> = HashMap::new();
    for (k, v) in ids {
        keys.entry(k.to_ascii_lowercase()).or_insert(v);
    }
    let missing: Vec<&str> = contract::REQUIRED_KEYS
        .iter()
        .copied()
        .filter(|k| keys.get(*k).is_none_or(|v| v.is_empty()))
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "its identification sheet '{}' is missing {}",
            contract::ID_SHEET,
            missing.join(", ")
        ));
    }
    let whole = |k: &str| -> Option<i64> {
        let v = keys[k].trim();
        v.parse::<i64>().ok().or_else(|| {
            v.parse::<f64>()
                .ok()
                .filter(|f| f.fract() == 0.0)
                .map(|f| f as i64)
        })
    };
    let version = whole(contract::KEY_TEMPLATE_VERSION)
        .and_then(|v| u32::try_from(v).ok())
        .ok_or("its template_version is not a whole number")?;
    let year = whole(contract::KEY_YEAR)
        .and_then(|v| i32::try_from(v).ok())
        .ok_or("its year is not a whole number")?;
    Ok(Identity {
        template_id: keys[contract::KEY_TEMPLATE_ID].trim().to_string(),
        version,
        partnership_id: keys[contract::KEY_PARTNERSHIP_ID].trim().to_string(),
        year,
        issued_at: keys[contract::KEY_ISSUED_AT].trim().to_string(),
        keys,
    })
}

fn examine(mut out: Outcome, bytes: &[u8], ctx: &Context<'_>) -> Outcome {
    let mut wb = match Workbook::open(bytes, ctx.limits) {
        Ok(wb) => wb,
        Err(e) => {
            let code = Code::parse(e.code()).unwrap_or(Code::Unreadable);
            return out.reject(Finding::file(code, e.message()));
        }
    };
    let ids = match wb.identification() {
        Ok(Some(ids)) => ids,
        Ok(None) => {
            return out.reject(Finding::file(
                Code::NotPtk,
                format!(
                    "this is not a form issued by ptk: it has no hidden '{}' identification sheet. If the answers were copied into another workbook, ask for them on the issued form",
                    contract::ID_SHEET
                ),
            ))
        }
        Err(e) => return out.reject(Finding::file(Code::Unreadable, e.message())),
    };
    let id = match identify(ids) {
        Ok(id) => id,
        Err(why) => return out.reject(Finding::file(Code::NotPtk, format!("this file cannot be identified as a ptk return: {why}. Ask for the answers on the issued form"))),
    };
    out.partnership_id = Some(id.partnership_id.clone());
    out.template_id = Some(id.template_id.clone());
    out.template_version = Some(id.version);
    out.year = Some(id.year);
    out.issued_at = Some(id.issued_at.clone());

    let Some(template) = ctx.templates.iter().find(|t| t.id == id.template_id) else {
        return out.reject(Finding::file(
            Code::UnknownTemplate,
            format!("the return is for template '{}', which is not in the templates folder; check the templates folder (option --templates)", id.template_id),
        ));
    };
    if id.version > template.version {
        return out.reject(Finding::file(
            Code::UnknownVersion,
            format!(
                "the return was made from version {} of '{}', but the newest version here is {}; update the templates folder to the one the form was issued from",
                id.version, template.id, template.version
            ),
        ));
    }
    let Some(partnership) = ctx.register.get(&id.partnership_id) else {
        return out.reject(Finding::file(
            Code::UnknownPartnership,
            format!("the return is for partnership '{}', which is not in the register; add it to the register or check the file came from this council", id.partnership_id),
        ));
    };
    if id.year != ctx.year {
        return out.reject(Finding::file(
            Code::WrongYear,
            format!(
                "this is the {} form, not {}'s; if the partnership sent last year's file by mistake, ask for the {} return",
                id.year, ctx.year, ctx.year
            ),
        ));
    }
    if !template.issue_to.contains(&partnership.status) {
        out.findings.push(Finding::file(
            Code::StatusMismatch,
            format!(
                "the register says {} is '{}', but this {} is for {} partnerships; check the register is up to date",
                partnership.id,
                partnership.status,
                template.title,
                template.issue_to.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" or ")
            ),
        ));
    }

    // Locate every answer (and evidence) cell: by defined name first, then the cell map.
    let names: HashMap<String, &str> = wb
        .defined_names()
        .iter()
        .map(|(n, r)| (n.to_ascii_lowercase(), r.as_str()))
        .collect();
    let locate = |name: &str| -> Option<CellRef> {
        let key = name.to_ascii_lowercase();
        names
            .get(&key)
            .and_then(|r| contract::parse_ref(r))
            .or_else(|| id.keys.get(&key).and_then(|r| contract::parse_ref(r)))
    };
    let mut unmapped = Vec::new();
    let mut answer_cells: Vec<(String, CellRef)> = Vec::new();
    let mut evidence_cells: Vec<(String, CellRef)> = Vec::new();
    for (_, q) in template.questions() {
        match locate(&q.answer_name()) {
            Some(c) => answer_cells.push((q.id.clone(), c)),
            None => unmapped.push(q.id.clone()),
        }
        if q.evidence {
            if let Some(c) = locate(&contract::evidence_name(&q.id)) {
                evidence_cells.push((q.id.clone(), c));
            }
        }
    }
    if !unmapped.is_empty() {
        let list = unmapped
            .iter()
            .take(5)
            .map(|q| validate::describe(template, q))
            .collect::<Vec<_>>()
            .join("; ");
        let more = if unmapped.len() > 5 {
            format!(" and {} more", unmapped.len() - 5)
        } else {
            String::new()
        };
        let finding = if id.version < template.version {
            Finding::file(
                Code::UnknownVersion,
                format!(
                    "the return was made from version {} of '{}', and the current version {} asks questions it does not have ({list}{more}); send the partnership the current form",
                    id.version, template.id, template.version
                ),
            )
        } else {
            Finding::file(
                Code::StructureChanged,
                format!("the answer cells of {list}{more} cannot be found: the form's structure was changed. Ask the partnership to fill in a fresh copy of the issued form"),
            )
        };
        return out.reject(finding);
    }
    if id.version < template.version {
        out.findings.push(Finding::file(
            Code::OlderVersion,
            format!("the return was made from version {} of '{}' (current: {}); its questions still match, so it was read", id.version, template.id, template.version),
        ));
    }

    // Read the wanted cells, sheet by sheet.
    let mut by_sheet: BTreeMap<&str, Vec<(u32, u32)>> = BTreeMap::new();
    for (_, c) in answer_cells.iter().chain(&evidence_cells) {
        by_sheet
            .entry(c.sheet.as_str())
            .or_default()
            .push((c.row, c.col));
    }
    let mut values: HashMap<(String, u32, u32), CellValue> = HashMap::new();
    for (sheet, wanted) in by_sheet {
        match wb.cells(sheet, &wanted) {
            Ok(Some(found)) => {
                for ((r, c), v) in found {
                    values.insert((sheet.to_string(), r, c), v);
                }
            }
            Ok(None) => {
                return out.reject(Finding::file(
                    Code::StructureChanged,
                    format!("the sheet '{sheet}' is missing (it may have been renamed or deleted); ask the partnership to fill in a fresh copy of the issued form"),
                ))
            }
            Err(e) => return out.reject(Finding::file(Code::Unreadable, e.message())),
        }
    }
    let take = |c: &CellRef| {
        values
            .get(&(c.sheet.clone(), c.row, c.col))
            .cloned()
            .unwrap_or_default()
    };
    let cells: HashMap<String, (CellRef, CellValue)> = answer_cells
        .iter()
        .map(|(q, c)| (q.clone(), (c.clone(), take(c))))
        .collect();
    let evidence: HashMap<&str, String> = evidence_cells
        .iter()
        .map(|(q, c)| (q.as_str(), take(c).display().trim().to_string()))
        .collect();

    let (answers, mut findings) = validate::validate_return(template, &cells);
    out.findings.append(&mut findings);
    if out.errors() > 0 {
        let n = out.errors();
        let first = out
            .findings
            .iter()
            .find(|f| f.severity == Severity::Error)
            .map(|f| f.message.clone())
            .unwrap_or_default();
        out.status = Status::Rejected;
        out.message = if n == 1 {
            first
        } else {
            format!("{n} problems to correct; the first: {first}")
        };
        return out;
    }

    // Accepted: score it and keep the answers.
    let s = score::score(template, |q| answers.get(q).and_then(Answer::choice));
    for (_, q) in template.questions() {
        let a = answers.get(&q.id).cloned().unwrap_or(Answer::Blank);
        let points = a
            .choice()
            .and_then(|i| q.options.get(i))
            .and_then(|o| o.points);
        out.answers.push((
            q.id.clone(),
            a.display(q),
            points,
            evidence.get(q.id.as_str()).cloned().unwrap_or_default(),
        ));
    }
    for section in template
        .sections
        .iter()
        .filter(|s| matches!(s.layout, Layout::Risks { .. }))
    {
        let Layout::Risks { rows, .. } = section.layout else {
            continue;
        };
        for n in 1..=rows {
            let get = |f: &str| {
                answers
                    .get(&format!("{}_{n}_{f}", section.id))
                    .and_then(Answer::number)
            };
            if let (Some(l), Some(i)) = (get("likelihood"), get("impact")) {
                let (risk, rating) = score::risk_score(template, l, i);
                out.answers.push((
                    format!("{}_{n}_score", section.id),
                    read::format_number(risk),
                    Some(risk),
                    String::new(),
                ));
                out.answers.push((
                    format!("{}_{n}_rating", section.id),
                    rating.unwrap_or_default(),
                    None,
                    String::new(),
                ));
            }
        }
    }
    out.status = if out.warnings() > 0 {
        Status::AcceptedWithWarnings
    } else {
        Status::Accepted
    };
    out.message = match (&s.overall, &s.band) {
        (Some(o), Some(b)) if template.is_scored() => {
            format!("{} scored {o:.1}% ({b})", partnership.id)
        }
        _ => format!("{} {} received", partnership.id, template.title),
    };
    out.score = template.is_scored().then_some(s);
    out
}

/// What the reports say about one input file; it goes to the run's report spool as soon
/// as the files before it are done (see `spool`).
#[derive(Debug, Clone)]
pub struct FileReport {
    pub path: String,
    pub sha256: String,
    pub status: Status,
    /// For an unchanged file: the status it was given when first ingested.
    pub previous: Option<String>,
    pub partnership_id: String,
    pub template_id: String,
    pub template_version: String,
    pub year: String,
    pub message: String,
    pub email: String,
    /// path, partnership_id, sheet, cell, question_id, severity, code, message
    pub findings: Vec<[String; 8]>,
}

impl FileReport {
    fn new(o: &Outcome, stored: Option<Vec<crate::store::StoredFinding>>) -> Self {
        let path = o.path.display().to_string();
        let pid = o.partnership_id.clone().unwrap_or_default();
        let findings = match stored {
            Some(f) => f
                .into_iter()
                .map(|f| {
                    [
                        path.clone(),
                        f.partnership_id,
                        f.sheet,
                        f.cell,
                        f.question_id,
                        f.severity,
                        f.code,
                        f.message,
                    ]
                })
                .collect(),
            None => o
                .findings
                .iter()
                .map(|f| {
                    [
                        path.clone(),
                        pid.clone(),
                        f.sheet.clone(),
                        f.cell.clone(),
                        f.question_id.clone(),
                        f.severity.as_str().into(),
                        f.code.as_str().into(),
                        f.message.clone(),
                    ]
                })
                .collect(),
        };
        Self {
            sha256: o.sha256.clone(),
            status: o.status,
            previous: o.previous.clone(),
            partnership_id: pid,
            template_id: o.template_id.clone().unwrap_or_default(),
            template_version: o
                .template_version
                .map(|v| v.to_string())
                .unwrap_or_default(),
            year: o.year.map(|v| v.to_string()).unwrap_or_default(),
            message: o.message.clone(),
            email: o
                .envelope
                .as_ref()
                .map(Envelope::describe)
                .unwrap_or_default(),
            findings,
            path,
        }
    }

    fn count(&self, severity: &str) -> usize {
        self.findings.iter().filter(|f| f[5] == severity).count()
    }

    /// Rejected now, or unchanged since it was rejected: the partnership still has to correct it.
    pub fn needs_correction(&self) -> bool {
        self.status == Status::Rejected
            || (self.status == Status::Unchanged
                && self.previous.as_deref() == Some(Status::Rejected.as_str()))
    }
}

/// Moves an outcome into the record the store writes (no copies of the answers).
fn record(o: Outcome) -> FileRecord {
    let accepted = o.status.is_accepted().then(|| {
        let scores = o
            .score
            .as_ref()
            .map(|s| {
                s.sections
                    .iter()
                    .map(|x| (x.section_id.clone(), x.percent, x.points, x.max_points))
                    .chain(std::iter::once((
                        score::OVERALL.to_string(),
                        s.overall,
                        s.sections.iter().map(|x| x.points).sum(),
                        s.sections.iter().map(|x| x.max_points).sum(),
                    )))
                    .collect()
            })
            .unwrap_or_default();
        AcceptedReturn {
            status: o.status.as_str().to_string(),
            overall: o.score.as_ref().and_then(|s| s.overall),
            band: o.score.as_ref().and_then(|s| s.band.clone()),
            answers: o.answers,
            scores,
        }
    });
    FileRecord {
        sha256: o.sha256,
        path: o.path.display().to_string(),
        status: o.status.as_str().to_string(),
        partnership_id: o.partnership_id,
        template_id: o.template_id,
        template_version: o.template_version,
        year: o.year,
        issued_at: o.issued_at,
        message: o.message,
        findings: o.findings,
        accepted,
    }
}

/// The result of a run, saved in the store; its reports still to write.
pub struct RunOutput {
    pub changes: RunChanges,
    pub tally: Tally,
    pub summary: String,
    pub reports: PendingReports,
}

/// The run's per-file report, spooled, waiting to be written as CSV.
pub struct PendingReports {
    spool: spool::Spool,
    dir: PathBuf,
    duplicates: Vec<crate::store::Duplicate>,
}

impl PendingReports {
    /// Writes `ingest-report.csv` and `findings.csv` atomically; calls
    /// `each(status, path, message)` once per file, in input order. Returns their paths.
    pub fn write(
        self,
        each: &mut dyn FnMut(Status, &str, &str),
    ) -> anyhow::Result<(PathBuf, PathBuf)> {
        self.spool.finish(&self.dir, &self.duplicates, each)
    }
}

/// Files processed together by one worker before their outcomes go to the writer.
const BATCH: usize = 16;

/// Runs an ingest: reads, validates and scores the inputs in parallel and streams the
/// outcomes, as they are ready, into one store transaction and the run's report spool,
/// so memory does not grow with the number of files; then settles duplicates and
/// commits. The reports (`ingest-report.csv`, `findings.csv`, for `report_dir`) are
/// written afterwards with [`PendingReports::write`], so an error there can never be
/// mistaken for a run that was not saved. `progress` is called after each file.
#[allow(clippy::too_many_arguments)]
pub fn run(
    inputs: &[Input],
    ctx: &Context<'_>,
    store: &mut Store,
    started_at: &str,
    partnerships: &[crate::register::Partnership],
    fail_after: Option<usize>,
    progress: &(dyn Fn() + Sync),
    report_dir: &Path,
) -> anyhow::Result<RunOutput> {
    let mut spool = spool::Spool::new(report_dir)?;
    let mut writer = store.begin_run(ctx.year, started_at, partnerships, fail_after)?;
    // Outcomes travel to the writer in small batches: one channel hand-over (and thread
    // wake-up) per batch rather than per file. The channel is bounded, so parsing never
    // runs far ahead of the store; batches are handed out in input order (par_bridge),
    // so the spool's reorder buffer stays a few batches long.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(usize, Outcome)>>(8);
    std::thread::scope(|scope| -> anyhow::Result<()> {
        scope.spawn(move || {
            // Stops early if the writer gives up (the channel closes).
            let _ = inputs
                .chunks(BATCH)
                .enumerate()
                .par_bridge()
                .try_for_each_with(tx, |tx, (b, chunk)| {
                    let batch = chunk
                        .iter()
                        .enumerate()
                        .map(|(j, input)| {
                            let o = process(input, ctx);
                            progress();
                            (b * BATCH + j, o)
                        })
                        .collect();
                    tx.send(batch).map_err(|_| ())
                });
        });
        for (i, o) in rx.into_iter().flatten() {
            let stored = if o.status == Status::Unchanged {
                Some(writer.findings_for(&o.sha256)?)
            } else {
                None
            };
            spool.push(i, FileReport::new(&o, stored))?;
            let modified = o
                .modified
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .and_then(|d| i64::try_from(d.as_nanos()).ok());
            writer.write(&record(o), modified)?;
        }
        Ok(())
    })?;
    let (changes, duplicates) = writer.settle()?;
    let tally = spool.tally(&duplicates);
    anyhow::ensure!(
        tally.files() == inputs.len(),
        "internal error: {} of {} files were reported",
        tally.files(),
        inputs.len()
    );
    let summary = tally.summary();
    writer.commit(inputs.len(), &summary)?;
    Ok(RunOutput {
        changes,
        tally,
        summary,
        reports: PendingReports {
            spool,
            dir: report_dir.to_path_buf(),
            duplicates,
        },
    })
}
