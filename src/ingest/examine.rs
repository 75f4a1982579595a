//! Examining one file: bytes in, outcome out. Read it, identify the return from its
//! hidden sheet, validate every answer and score it. Pure apart from reading the file.

use std::borrow::Cow;
use std::collections::BTreeMap;

use foldhash::{HashMap, HashMapExt};

use sha2::{Digest, Sha256};

use super::{Context, Input, Outcome, Status};
use crate::contract::{self, CellRef};
use crate::read::{self, CellValue, Workbook};
use crate::score;
use crate::template::Layout;
use crate::validate::{self, Answer, Code, Finding, Severity};

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
        if cfg!(debug_assertions) {
            test_hooks(input);
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

/// Debug builds only: make a worker print, abort, hang or exhaust its memory on a named file,
/// to test that the run survives what `catch_unwind` cannot catch.
fn test_hooks(input: &Input) {
    let on = |var: &str| {
        std::env::var_os(var).is_some_and(|n| input.path.file_name() == Some(n.as_os_str()))
    };
    if on("PTK_TEST_PRINT_ON") {
        // A library that prints: the worker's protocol must not be disturbed.
        println!("stray output from a reader library");
    }
    // Like a reader whose allocation is refused at its memory cap: the checked
    // allocations fail (set or cleared for each file; a reader reads one at a time).
    crate::read::FAIL_ALLOCATIONS.store(
        on("PTK_TEST_ALLOC_FAIL_ON"),
        std::sync::atomic::Ordering::Relaxed,
    );
    if on("PTK_TEST_ABORT_ON") {
        std::process::abort();
    }
    if on("PTK_TEST_HANG_ON") {
        loop {
            std::thread::sleep(std::time::Duration::from_secs(1));
        }
    }
    if on("PTK_TEST_OOM_ON") {
        // Like a reader that believes a forged count: allocate and touch until refused.
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(vec![1u8; 64 << 20]);
            std::hint::black_box(&hoard);
        }
    }
}

fn process_input(input: &Input, ctx: &Context<'_>) -> Outcome {
    if let Some(why) = &input.skip {
        return Outcome::new(&input.path, Status::Skipped, why.clone());
    }
    // A file's modification time comes from the same open file as its bytes (one
    // file-system call less per file); an attachment's is looked up by its label as
    // before (it has none of its own).
    if let Some(f) = &input.verdict {
        return Outcome::new(&input.path, Status::Rejected, "").reject(f.clone());
    }
    let read = match &input.attachment {
        Some(a) => a.bytes().map(|b| {
            Ok((
                b,
                std::fs::metadata(&input.path)
                    .and_then(|m| m.modified())
                    .ok(),
            ))
        }),
        None => read::read_bounded(&input.path, &ctx.limits)
            .map(|r| r.map(|f| (Cow::Owned(f.bytes), f.modified))),
    };
    let (bytes, modified) = match read {
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
    out.modified = modified;
    if ctx.seen.contains(&out.sha256) {
        // Described by the run, which has the store's record of it.
        out.status = Status::Unchanged;
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
    let mut keys: HashMap<String, String> = HashMap::with_capacity(ids.len());
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
            return out.reject(Finding::file(e.code(), e.message()));
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
    out.identity.partnership_id = Some(id.partnership_id.clone());
    out.identity.template_id = Some(id.template_id.clone());
    out.identity.template_version = Some(id.version);
    out.identity.year = Some(id.year);
    out.identity.issued_at = Some(id.issued_at.clone());
    // Whose form: absent on forms issued before respondents existed (the lead's).
    let respondent = id
        .keys
        .get(contract::KEY_RESPONDENT_ID)
        .map(|r| r.trim())
        .filter(|r| !r.is_empty());
    if let Some(r) = respondent {
        if !crate::respondents::valid_respondent_id(r) {
            return out.reject(Finding::file(
                Code::StructureChanged,
                format!(
                    "its identification sheet '{}' names the respondent '{}', which is not an id ptk writes; ask for the answers on a fresh copy of the form",
                    contract::ID_SHEET,
                    crate::output::printable(r)
                ),
            ));
        }
        out.identity.respondent_id = Some(if r.eq_ignore_ascii_case(crate::respondents::LEAD) {
            crate::respondents::LEAD.to_string()
        } else {
            r.to_string()
        });
    }

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
    if let Some(r) = out.identity.respondent_id.as_deref() {
        // People move on: a genuine form from someone no longer listed still counts.
        if r != crate::respondents::LEAD && ctx.respondents.get(partnership, r, "").is_none() {
            let name = id
                .keys
                .get(contract::KEY_RESPONDENT_NAME)
                .map(|n| format!(" ({})", crate::output::printable(n.trim())))
                .unwrap_or_default();
            out.findings.push(Finding::file(
                Code::UnknownRespondent,
                format!(
                    "this form was issued to respondent '{r}'{name} of {}, who is not in the respondents file now; the answers are accepted and count towards the partnership's score. If they still take part, add them back to the respondents file",
                    partnership.id
                ),
            ));
        }
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
    let mut names: HashMap<String, &str> = HashMap::with_capacity(wb.defined_names().len());
    names.extend(
        wb.defined_names()
            .iter()
            .map(|(n, r)| (n.to_ascii_lowercase(), r.as_str())),
    );
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
    for q in template.cells() {
        match locate(&q.answer_name()) {
            Some(c) => answer_cells.push((q.id.clone(), c)),
            // Not on the older form it was made from: read as blank.
            None if q.since > id.version => {}
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
    // A template that marks what later versions added (`since`) says exactly how an
    // older return differs: it is complete for its version, so no warning.
    let explained = template.cells().any(|q| q.since > id.version);
    if id.version < template.version && !explained {
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
    let mut values: HashMap<(&str, u32, u32), CellValue> =
        HashMap::with_capacity(answer_cells.len() + evidence_cells.len());
    for (sheet, wanted) in by_sheet {
        match wb.cells(sheet, &wanted) {
            Ok(Some(found)) => {
                for ((r, c), v) in found {
                    values.insert((sheet, r, c), v);
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
            .get(&(c.sheet.as_str(), c.row, c.col))
            .cloned()
            .unwrap_or_default()
    };
    let mut cells: HashMap<String, (CellRef, CellValue)> =
        HashMap::with_capacity(answer_cells.len());
    cells.extend(
        answer_cells
            .iter()
            .map(|(q, c)| (q.clone(), (c.clone(), take(c)))),
    );
    let mut evidence: HashMap<&str, String> = HashMap::with_capacity(evidence_cells.len());
    evidence.extend(
        evidence_cells
            .iter()
            .map(|(q, c)| (q.as_str(), take(c).display().trim().to_string())),
    );

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

    // Accepted: score it and keep the answers. A blank answer to a question that
    // does not score (an unused row of a table, an action left empty) says nothing and
    // is not kept: readers of the store take a missing answer as blank, and such cells
    // are half of a typical form, so storing them was half of the store's work. A
    // blank scored statement is kept, so the review can say "(no answer)".
    let s = score::score(template, |q| answers.get(q).and_then(Answer::choice));
    for q in template.cells() {
        let a = answers.get(&q.id).cloned().unwrap_or(Answer::Blank);
        let points = a
            .choice()
            .and_then(|i| q.options.get(i))
            .and_then(|o| o.points);
        let value = a.display(q);
        let evidence = evidence.get(q.id.as_str()).cloned().unwrap_or_default();
        if value.is_empty() && evidence.is_empty() && points.is_none() && !q.is_scored() {
            continue;
        }
        out.answers.push((q.id.clone(), value, points, evidence));
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
    // A partner's own form says whose it is; the partnership's score combines them all.
    let whose = match out.identity.respondent_id.as_deref() {
        Some(r) if r != crate::respondents::LEAD => format!("{} ({r})", partnership.id),
        _ => partnership.id.clone(),
    };
    out.message = match (&s.overall, &s.band) {
        (Some(o), Some(b)) if template.is_scored() => format!("{whose} scored {o:.1}% ({b})"),
        _ => format!("{whose} {} received", template.title),
    };
    out.score = template.is_scored().then_some(s);
    out
}
