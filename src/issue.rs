//! Issuing: one protected Excel workbook per partnership, from a template.
//!
//! Layout of an issued workbook (see `docs/templates.md`):
//! 1. `Instructions` — purpose, how to fill it in, deadline and return address, the
//!    partnership's details, what each score means, and earlier years' scores.
//! 2. One form sheet per `sheet` named in the template (e.g. `Assessment`), with
//!    question text locked and yellow answer cells unlocked, dropdowns on every
//!    choice, and print setup.
//! 3. `_ptk` — hidden identification sheet (see [`crate::contract`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context;
use chrono::NaiveDate;
use rayon::prelude::*;
use rust_xlsxwriter::{
    Color, DataValidation, DataValidationErrorStyle, DataValidationRule, DocProperties,
    ExcelDateTime, Format, FormatAlign, FormatBorder, Workbook, Worksheet,
};

use crate::contract;
use crate::letter::LetterTemplate;
use crate::output::{write_atomic, SafeCsv};
use crate::register::{Partnership, Register};
use crate::score::PriorScore;
use crate::template::{Layout, Question, QuestionType, Section, Template};
use crate::xlsx::{header_text, wrapped_height, MID_GREY, NAVY};

/// Everything about an issue run that is the same for every partnership.
#[derive(Debug, Clone)]
pub struct IssueSettings {
    pub council: String,
    pub year: i32,
    /// The issue date written into `_ptk` and the document properties; fixed so that
    /// a run can be reproduced byte for byte.
    pub issued_on: NaiveDate,
    pub deadline: NaiveDate,
    pub return_address: String,
    /// Sheet-protection password; `None` protects without a password.
    pub password: Option<String>,
}

impl IssueSettings {
    /// The part of the settings the covering letter uses.
    pub fn letter_context(&self) -> crate::letter::LetterContext {
        crate::letter::LetterContext {
            council: self.council.clone(),
            year: self.year,
            deadline: self.deadline,
            return_address: self.return_address.clone(),
        }
    }
}

/// One workbook written by an issue run.
#[derive(Debug, Clone)]
pub struct Issued {
    pub partnership_id: String,
    pub path: PathBuf,
}

/// The file name for a partnership's workbook: `<partnership_id>_<template_id>_<year>.xlsx`.
/// Both ids are already restricted to safe characters; this is a second guard.
pub fn file_name(partnership_id: &str, template_id: &str, year: i32) -> String {
    let safe = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    format!("{}_{}_{year}.xlsx", safe(partnership_id), safe(template_id))
}

/// Writes one workbook per partnership into `out_dir`, in parallel, then the
/// `mailmerge.csv` beside them. `prior` gives earlier scores by partnership id.
pub fn issue_all(
    template: &Template,
    partnerships: &[&Partnership],
    settings: &IssueSettings,
    prior: &BTreeMap<String, Vec<PriorScore>>,
    letter: &LetterTemplate,
    out_dir: &Path,
) -> anyhow::Result<Vec<Issued>> {
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create the output folder {}", out_dir.display()))?;
    let issued: Vec<Issued> = partnerships
        .par_iter()
        .map(|p| {
            let none = Vec::new();
            let bytes = build_workbook(template, p, settings, prior.get(&p.id).unwrap_or(&none))
                .with_context(|| format!("cannot build the workbook for partnership {}", p.id))?;
            let path = out_dir.join(file_name(&p.id, &template.id, settings.year));
            write_atomic(&path, &bytes)?;
            Ok(Issued {
                partnership_id: p.id.clone(),
                path,
            })
        })
        .collect::<anyhow::Result<_>>()?;
    write_mailmerge(template, partnerships, settings, letter, &issued, out_dir)?;
    Ok(issued)
}

/// Who receives a template: the partnerships named explicitly, or else every
/// partnership whose register status is in the template's `issue_to`.
pub fn select_partnerships<'r>(
    register: &'r Register,
    template: &Template,
    explicit: &[String],
) -> anyhow::Result<Vec<&'r Partnership>> {
    if explicit.is_empty() {
        return Ok(register
            .partnerships
            .iter()
            .filter(|p| template.issue_to.contains(&p.status))
            .collect());
    }
    let mut out: Vec<&Partnership> = Vec::new();
    for id in explicit {
        let p = register.get(id).with_context(|| {
            format!(
                "partnership '{id}' is not in the register {}; check the id (ids are in the partnership_id column)",
                register.path.display()
            )
        })?;
        if !out.iter().any(|q| q.id == p.id) {
            out.push(p);
        }
    }
    Ok(out)
}

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
fn write_mailmerge(
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
        New(&'a Partnership),
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
    for (p, i) in partnerships.iter().zip(issued) {
        let attachment = i
            .path
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default();
        rows.insert(attachment, Source::New(p));
    }
    let context = settings.letter_context();
    crate::output::write_atomic_with(&path, |file| {
        let mut csv = SafeCsv::to_writer(std::io::BufWriter::new(file));
        csv.row(MAILMERGE_HEADER)?;
        for (attachment, source) in &rows {
            match source {
                Source::Kept(r) => csv.row(r)?,
                Source::New(p) => {
                    let l = letter.render(&crate::letter::fields(template, p, &context))?;
                    csv.row([
                        p.email.as_str(),
                        p.assistant_director_email.as_deref().unwrap_or_default(),
                        &p.lead_officer,
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

/// "31 January 2027": unambiguous for every reader.
pub fn long_date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

// ---------------------------------------------------------------------------
// Workbook building

const PALE_BLUE: u32 = 0xDDEBF7;
const INPUT_YELLOW: u32 = 0xFFF2CC;
const GREY: u32 = 0xF2F2F2;

/// The formats of an issued workbook, made once per workbook.
struct Styles {
    title: Format,
    subtitle: Format,
    note: Format,
    label: Format,
    value: Format,
    heading: Format,
    header: Format,
    section: Format,
    intro: Format,
    number: Format,
    question: Format,
    help: Format,
    answer: Format,
    answer_date: Format,
    answer_number: Format,
    evidence: Format,
    no_evidence: Format,
    computed: Format,
    body: Format,
}

impl Styles {
    fn new() -> Self {
        let border = |f: Format| {
            f.set_border(FormatBorder::Thin)
                .set_border_color(Color::RGB(0xBFBFBF))
        };
        let wrap_top = Format::new().set_text_wrap().set_align(FormatAlign::Top);
        let answer = border(
            wrap_top
                .clone()
                .set_background_color(Color::RGB(INPUT_YELLOW))
                .set_unlocked(),
        );
        Styles {
            title: Format::new()
                .set_bold()
                .set_font_size(16)
                .set_font_color(Color::RGB(NAVY)),
            subtitle: Format::new().set_bold().set_font_size(12),
            note: Format::new()
                .set_italic()
                .set_text_wrap()
                .set_align(FormatAlign::Top)
                .set_font_color(Color::RGB(MID_GREY)),
            label: border(
                wrap_top
                    .clone()
                    .set_bold()
                    .set_background_color(Color::RGB(GREY)),
            ),
            value: border(wrap_top.clone()),
            heading: Format::new()
                .set_bold()
                .set_font_size(12)
                .set_font_color(Color::RGB(NAVY)),
            header: border(
                wrap_top
                    .clone()
                    .set_bold()
                    .set_font_color(Color::White)
                    .set_background_color(Color::RGB(NAVY))
                    .set_align(FormatAlign::VerticalCenter),
            ),
            section: border(
                Format::new()
                    .set_bold()
                    .set_font_size(12)
                    .set_background_color(Color::RGB(PALE_BLUE)),
            ),
            intro: wrap_top.clone().set_italic(),
            number: border(wrap_top.clone().set_align(FormatAlign::Center)),
            question: border(wrap_top.clone()),
            help: Format::new()
                .set_italic()
                .set_font_color(Color::RGB(MID_GREY)),
            answer_date: answer
                .clone()
                .set_num_format("dd/mm/yyyy")
                .set_align(FormatAlign::Left),
            answer_number: answer.clone().set_align(FormatAlign::Center),
            answer,
            evidence: border(
                wrap_top
                    .clone()
                    .set_background_color(Color::RGB(INPUT_YELLOW))
                    .set_unlocked(),
            ),
            no_evidence: border(Format::new().set_background_color(Color::RGB(GREY))),
            computed: border(
                wrap_top
                    .clone()
                    .set_align(FormatAlign::Center)
                    .set_background_color(Color::RGB(GREY)),
            ),
            body: wrap_top,
        }
    }
}

/// Builds the complete workbook for one partnership, as xlsx bytes.
pub fn build_workbook(
    template: &Template,
    p: &Partnership,
    settings: &IssueSettings,
    prior: &[PriorScore],
) -> anyhow::Result<Vec<u8>> {
    let st = Styles::new();
    let mut wb = Workbook::new();
    let created = crate::xlsx::excel_date(settings.issued_on)?;
    wb.set_properties(
        &DocProperties::new()
            .set_title(format!("{} {} – {}", template.title, settings.year, p.name))
            .set_author(&settings.council)
            .set_company(&settings.council)
            .set_subject(format!("{} ({})", template.title, template.id))
            .set_creation_datetime(&created),
    );

    let mut cell_map: Vec<(String, String)> = Vec::new();
    {
        let ws = wb.add_worksheet();
        ws.set_name("Instructions")?;
        write_instructions(ws, &st, template, p, settings, prior)?;
    }
    for sheet in template.sheets() {
        let ws = wb.add_worksheet();
        ws.set_name(sheet)?;
        let sections: Vec<&Section> = template
            .sections
            .iter()
            .filter(|s| s.sheet == sheet)
            .collect();
        write_form_sheet(
            ws,
            &st,
            template,
            p,
            settings,
            sheet,
            &sections,
            &mut cell_map,
        )?;
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name(contract::ID_SHEET)?;
        write_id_sheet(ws, template, p, settings, &cell_map)?;
    }
    for (name, reference) in &cell_map {
        wb.define_name(name, &format!("={reference}"))?;
    }
    // Open on the Instructions sheet.
    wb.worksheet_from_index(0)?.set_active(true);
    Ok(wb.save_to_buffer()?)
}

fn protect(ws: &mut Worksheet, settings: &IssueSettings) {
    match &settings.password {
        Some(pw) if !pw.is_empty() => ws.protect_with_password(pw),
        _ => ws.protect(),
    };
}

fn write_instructions(
    ws: &mut Worksheet,
    st: &Styles,
    template: &Template,
    p: &Partnership,
    settings: &IssueSettings,
    prior: &[PriorScore],
) -> anyhow::Result<()> {
    const WIDE: f64 = 95.0;
    ws.set_column_width(0, 30)?;
    ws.set_column_width(1, WIDE)?;
    ws.set_screen_gridlines(false);
    ws.set_portrait();
    ws.set_paper_size(9); // A4
    ws.set_print_fit_to_pages(1, 0);
    ws.set_margins(0.5, 0.5, 0.6, 0.6, 0.3, 0.3);
    ws.set_footer(format!("&L{}&R&P of &N", header_text(&settings.council)));
    let mut r: u32 = 0;
    ws.merge_range(
        r,
        0,
        r,
        1,
        &format!(
            "{} – {} {}",
            settings.council, template.title, settings.year
        ),
        &st.title,
    )?;
    ws.set_row_height(r, 24)?;
    r += 1;
    ws.merge_range(r, 0, r, 1, &p.name, &st.subtitle)?;
    r += 2;

    let pair = |ws: &mut Worksheet, r: &mut u32, label: &str, value: &str| -> anyhow::Result<()> {
        ws.write_with_format(*r, 0, label, &st.label)?;
        ws.write_with_format(*r, 1, value, &st.value)?;
        ws.set_row_height(*r, wrapped_height(value, WIDE))?;
        *r += 1;
        Ok(())
    };
    ws.write_with_format(r, 0, "Your partnership", &st.heading)?;
    r += 1;
    pair(ws, &mut r, "Partnership ID", &p.id)?;
    pair(ws, &mut r, "Partnership", &p.name)?;
    if !p.lead_organisation.is_empty() {
        pair(ws, &mut r, "Lead organisation", &p.lead_organisation)?;
    }
    if !p.partners.is_empty() {
        pair(ws, &mut r, "Partners", &p.partners)?;
    }
    pair(
        ws,
        &mut r,
        "Lead officer",
        &format!("{} ({})", p.lead_officer, p.email),
    )?;
    pair(ws, &mut r, "Assistant Director", &p.assistant_director)?;
    pair(ws, &mut r, "Business Plan priority", p.priority.label())?;
    pair(ws, &mut r, "Review year", &settings.year.to_string())?;
    pair(
        ws,
        &mut r,
        "Please return by",
        &long_date(settings.deadline),
    )?;
    pair(ws, &mut r, "Return to", &settings.return_address)?;
    r += 1;

    if !template.description.is_empty() {
        ws.write_with_format(r, 0, "What this form is for", &st.heading)?;
        r += 1;
        ws.merge_range(r, 0, r, 1, &template.description, &st.body)?;
        ws.set_row_height(r, wrapped_height(&template.description, WIDE + 30.0))?;
        r += 2;
    }

    ws.write_with_format(r, 0, "How to fill it in", &st.heading)?;
    r += 1;
    let sheets = template.sheets().join("' and '");
    let mut steps: Vec<String> = vec![
        format!("Answer on the sheet '{sheets}' (tabs at the bottom of the window). Type or choose only in the yellow cells; everything else is locked."),
        "Where a cell has a dropdown arrow, choose one of the options from the list. A message explains each answer when you select its cell.".into(),
        "Add evidence or comments where there is space for them: short, specific examples help the review.".into(),
    ];
    steps.extend(template.instructions.iter().cloned());
    steps.push("Please do not rename or delete sheets, or insert or delete rows or columns: your answers are read automatically.".into());
    steps.push(format!(
        "Save the file (Excel .xlsx or LibreOffice .ods are both fine; any file name) and email it to {} by {}.",
        settings.return_address,
        long_date(settings.deadline)
    ));
    for (i, s) in steps.iter().enumerate() {
        ws.write_with_format(r, 0, format!("Step {}", i + 1), &st.label)?;
        ws.write_with_format(r, 1, s.as_str(), &st.value)?;
        ws.set_row_height(r, wrapped_height(s, WIDE))?;
        r += 1;
    }
    r += 1;

    // What the scores mean: every scale option, once, in the order first seen.
    let mut meanings: Vec<&crate::template::AnswerOption> = Vec::new();
    for (_, q) in template
        .questions()
        .filter(|(_, q)| q.kind == QuestionType::Scale)
    {
        for o in &q.options {
            if !meanings.iter().any(|m| m.label == o.label) {
                meanings.push(o);
            }
        }
    }
    if !meanings.is_empty() {
        ws.write_with_format(r, 0, "What the answers mean", &st.heading)?;
        r += 1;
        for o in meanings {
            let meaning = match o.points {
                Some(pts) => format!("scores {pts} point{}", if pts == 1.0 { "" } else { "s" }),
                None => {
                    "not scored: use only where the statement does not apply to this partnership"
                        .into()
                }
            };
            ws.write_with_format(r, 0, o.label.as_str(), &st.label)?;
            ws.write_with_format(r, 1, meaning.as_str(), &st.value)?;
            r += 1;
        }
        if let Some(b) = template.bands.first() {
            let bands: Vec<String> = template
                .bands
                .iter()
                .map(|b| format!("{} from {}%", b.label, b.min))
                .collect();
            let text = format!(
                "Each section's score is the points given as a percentage of the points possible (answers marked not applicable are left out). The overall score rates the partnership {} (best: {}).",
                bands.join(", "),
                b.label
            );
            ws.merge_range(r, 0, r, 1, &text, &st.note)?;
            ws.set_row_height(r, wrapped_height(&text, WIDE + 30.0))?;
            r += 1;
        }
        r += 1;
    }

    if template.is_scored() {
        write_prior_scores(ws, st, template, prior, r)?;
    }
    protect(ws, settings);
    Ok(())
}

/// A small table of earlier years' scores, so the partnership can see its trend.
fn write_prior_scores(
    ws: &mut Worksheet,
    st: &Styles,
    template: &Template,
    prior: &[PriorScore],
    mut r: u32,
) -> anyhow::Result<u32> {
    ws.write_with_format(r, 0, "Your earlier scores", &st.heading)?;
    r += 1;
    if prior.is_empty() {
        ws.merge_range(r, 0, r, 1, "No earlier scores are held for this partnership: this year's return sets the baseline.", &st.note)?;
        return Ok(r + 1);
    }
    let mut years: Vec<i32> = prior.iter().map(|s| s.year).collect();
    years.sort_unstable();
    years.dedup();
    let scopes: Vec<(String, String)> = template
        .sections
        .iter()
        .filter(|s| s.is_scored())
        .map(|s| (s.id.clone(), s.title.clone()))
        .chain(std::iter::once((
            "overall".to_string(),
            "Overall".to_string(),
        )))
        .collect();
    let cols: Vec<String> = years.iter().map(|y| y.to_string()).collect();
    ws.write_with_format(r, 0, "Section", &st.header)?;
    ws.write_with_format(
        r,
        1,
        format!("Score by year: {}", cols.join(" · ")),
        &st.header,
    )?;
    r += 1;
    for (id, title) in scopes {
        let cells: Vec<String> = years
            .iter()
            .map(|y| {
                prior
                    .iter()
                    .find(|s| s.year == *y && s.scope == id)
                    .map_or("–".to_string(), |s| format!("{y}: {:.1}%", s.percent))
            })
            .collect();
        ws.write_with_format(r, 0, title.as_str(), &st.label)?;
        ws.write_with_format(r, 1, cells.join("    "), &st.value)?;
        r += 1;
    }
    Ok(r)
}

/// Columns of a question sheet: number, question, answer, evidence.
const Q_WIDTHS: [f64; 4] = [7.0, 62.0, 30.0, 48.0];
/// Columns of a risk sheet: number, risk, likelihood, impact, score, rating, mitigation, owner.
const R_WIDTHS: [f64; 8] = [5.0, 42.0, 14.0, 14.0, 9.0, 11.0, 40.0, 20.0];

#[allow(clippy::too_many_arguments)]
fn write_form_sheet(
    ws: &mut Worksheet,
    st: &Styles,
    template: &Template,
    p: &Partnership,
    settings: &IssueSettings,
    sheet: &str,
    sections: &[&Section],
    cell_map: &mut Vec<(String, String)>,
) -> anyhow::Result<()> {
    let is_risk = sections
        .iter()
        .any(|s| matches!(s.layout, Layout::Risks { .. }));
    let widths: &[f64] = if is_risk { &R_WIDTHS } else { &Q_WIDTHS };
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    let last_col = (widths.len() - 1) as u16;
    ws.set_screen_gridlines(false);
    ws.set_landscape();
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_margins(0.4, 0.4, 0.6, 0.6, 0.3, 0.3);
    ws.set_header(format!(
        "&L{}&R{} {}",
        p.name.replace('&', "&&"),
        template.title.replace('&', "&&"),
        settings.year
    ));
    ws.set_footer(format!(
        "&L{}&CPage &P of &N&R{}",
        settings.council.replace('&', "&&"),
        sheet.replace('&', "&&")
    ));

    let mut r: u32 = 0;
    ws.merge_range(
        r,
        0,
        r,
        last_col,
        &format!("{} {}", template.title, settings.year),
        &st.title,
    )?;
    ws.set_row_height(r, 24)?;
    r += 1;
    ws.merge_range(
        r,
        0,
        r,
        last_col,
        &format!("{} ({})", p.name, p.id),
        &st.subtitle,
    )?;
    r += 1;
    let details = format!(
        "Lead officer: {}   ·   Assistant Director: {}   ·   Business Plan priority: {}",
        p.lead_officer,
        p.assistant_director,
        p.priority.label()
    );
    ws.merge_range(r, 0, r, last_col, &details, &st.body)?;
    r += 1;
    let note = format!(
        "Answer in the yellow cells. Please return by {} to {}.",
        long_date(settings.deadline),
        settings.return_address
    );
    ws.merge_range(r, 0, r, last_col, &note, &st.note)?;
    r += 2;

    let header_row = r;
    let headers: &[&str] = if is_risk {
        &[
            "No.",
            "Risk",
            "Likelihood (1–5)",
            "Impact (1–5)",
            "Score",
            "Rating",
            "How it is managed",
            "Owner",
        ]
    } else {
        &["No.", "Question", "Your answer", "Evidence / comments"]
    };
    for (c, h) in headers.iter().enumerate() {
        ws.write_with_format(r, c as u16, *h, &st.header)?;
    }
    ws.set_row_height(r, 30)?;
    ws.set_repeat_rows(header_row, header_row)?;
    ws.set_freeze_panes(header_row + 1, 0)?;
    r += 1;

    for (si, section) in sections.iter().enumerate() {
        let number = template
            .sections
            .iter()
            .position(|s| s.id == section.id)
            .unwrap_or(si)
            + 1;
        let mut title = format!("{number}. {}", section.title);
        if let Some(c) = &section.required_when {
            title.push_str(&format!(
                "  (answer if '{}' is {})",
                short(&question_text(template, &c.question)),
                c.answer
            ));
        }
        ws.merge_range(r, 0, r, last_col, &title, &st.section)?;
        ws.set_row_height(r, 20)?;
        r += 1;
        if let Some(intro) = &section.intro {
            ws.merge_range(r, 0, r, last_col, intro, &st.intro)?;
            ws.set_row_height(r, wrapped_height(intro, widths.iter().sum::<f64>()))?;
            r += 1;
        }
        match section.layout {
            Layout::Questions => {
                for (qi, q) in section.questions.iter().enumerate() {
                    write_question_row(
                        ws,
                        st,
                        sheet,
                        r,
                        &format!("{number}.{}", qi + 1),
                        q,
                        cell_map,
                    )?;
                    r += 1;
                }
            }
            Layout::Risks { rows, .. } => {
                for n in 1..=rows {
                    let find = |field: &str| {
                        section
                            .questions
                            .iter()
                            .find(|q| q.id == format!("{}_{n}_{field}", section.id))
                            .expect("risk questions are generated for every row")
                    };
                    write_risk_row(ws, st, template, sheet, r, n, &find, cell_map)?;
                    r += 1;
                }
            }
        }
        r += 1;
    }
    protect(ws, settings);
    Ok(())
}

fn question_text(template: &Template, id: &str) -> String {
    template
        .question(id)
        .map_or(id.to_string(), |q| q.text.clone())
}

fn short(s: &str) -> String {
    let s = s.trim_end_matches('?');
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(57).collect::<String>())
    } else {
        s.to_string()
    }
}

fn write_question_row(
    ws: &mut Worksheet,
    st: &Styles,
    sheet: &str,
    r: u32,
    number: &str,
    q: &Question,
    cell_map: &mut Vec<(String, String)>,
) -> anyhow::Result<()> {
    ws.write_with_format(r, 0, number, &st.number)?;
    let text = if q.required {
        q.text.clone()
    } else {
        format!("{} (optional)", q.text)
    };
    match &q.help {
        Some(help) => {
            let segments = [
                (&st.question.clone(), text.as_str()),
                (&st.help, &*format!("\n{help}")),
            ];
            ws.write_rich_string_with_format(r, 1, &segments, &st.question)?;
        }
        None => {
            ws.write_with_format(r, 1, text.as_str(), &st.question)?;
        }
    }
    let full = match &q.help {
        Some(h) => format!("{text}\n{h}"),
        None => text.clone(),
    };
    // Long text answers take the evidence column too.
    let wide_text = q.kind == QuestionType::Text && !q.evidence;
    let answer_width = if wide_text {
        Q_WIDTHS[2] + Q_WIDTHS[3]
    } else {
        Q_WIDTHS[2]
    };
    let mut height = wrapped_height(&full, Q_WIDTHS[1]);
    if q.kind == QuestionType::Text {
        height = height.max(if q.evidence { 45.0 } else { 60.0 });
    }
    if q.evidence {
        height = height.max(45.0);
    }
    let longest_option = q
        .options
        .iter()
        .map(|o| o.label.as_str())
        .max_by_key(|l| l.len())
        .unwrap_or("");
    height = height.max(wrapped_height(longest_option, answer_width));
    ws.set_row_height(r, height)?;

    let format = match q.kind {
        QuestionType::Date => &st.answer_date,
        QuestionType::Number => &st.answer_number,
        _ => &st.answer,
    };
    if wide_text {
        ws.merge_range(r, 2, r, 3, "", format)?;
    } else {
        ws.write_blank(r, 2, format)?;
        if q.evidence {
            ws.write_blank(r, 3, &st.evidence)?;
            cell_map.push((
                contract::evidence_name(&q.id),
                contract::absolute_ref(sheet, r, 3),
            ));
            let dv = DataValidation::new()
                .allow_any_value()
                .set_input_title("Evidence / comments")?
                .set_input_message("Optional: evidence or comments that support your answer. Press Alt+Enter for a new line.")?;
            ws.add_data_validation(r, 3, r, 3, &dv)?;
        } else {
            ws.write_blank(r, 3, &st.no_evidence)?;
        }
    }
    if let Some(dv) = validation_for(q)? {
        ws.add_data_validation(r, 2, r, 2, &dv)?;
    }
    cell_map.push((q.answer_name(), contract::absolute_ref(sheet, r, 2)));
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn write_risk_row<'q>(
    ws: &mut Worksheet,
    st: &Styles,
    template: &Template,
    sheet: &str,
    r: u32,
    n: usize,
    find: &dyn Fn(&str) -> &'q Question,
    cell_map: &mut Vec<(String, String)>,
) -> anyhow::Result<()> {
    ws.write_with_format(r, 0, n as f64, &st.number)?;
    ws.set_row_height(r, 45)?;
    let columns: [(u16, &str); 5] = [
        (1, "risk"),
        (2, "likelihood"),
        (3, "impact"),
        (6, "mitigation"),
        (7, "owner"),
    ];
    for (col, field) in columns {
        let q = find(field);
        let format = if q.kind == QuestionType::Number {
            &st.answer_number
        } else {
            &st.answer
        };
        ws.write_blank(r, col, format)?;
        if let Some(dv) = validation_for(q)? {
            ws.add_data_validation(r, col, r, col, &dv)?;
        }
        cell_map.push((q.answer_name(), contract::absolute_ref(sheet, r, col)));
    }
    let (l, i) = (contract::a1(r, 2), contract::a1(r, 3));
    ws.write_formula_with_format(
        r,
        4,
        format!("=IF(AND(ISNUMBER({l}),ISNUMBER({i})),{l}*{i},\"\")").as_str(),
        &st.computed,
    )?;
    ws.set_formula_result(r, 4, "");
    let score = contract::a1(r, 4);
    let mut rating = String::from("\"\"");
    for band in template.risk_ratings.iter().rev() {
        rating = format!(
            "IF({score}>={},\"{}\",{rating})",
            band.min,
            band.label.replace('"', "")
        );
    }
    ws.write_formula_with_format(
        r,
        5,
        format!("=IF({score}=\"\",\"\",{rating})").as_str(),
        &st.computed,
    )?;
    ws.set_formula_result(r, 5, "");
    Ok(())
}

/// The dropdown or range check for an answer cell, with an input message that
/// says what to enter.
fn validation_for(q: &Question) -> anyhow::Result<Option<DataValidation>> {
    let title = |t: &str| t.chars().take(32).collect::<String>();
    let message = |m: String| -> String {
        if m.chars().count() > 255 {
            m.chars().take(254).collect::<String>() + "…"
        } else {
            m
        }
    };
    let dv = match q.kind {
        QuestionType::Scale | QuestionType::Choice | QuestionType::YesNo => {
            let labels: Vec<&str> = q.options.iter().map(|o| o.label.as_str()).collect();
            let mut msg = match q.kind {
                QuestionType::Scale => {
                    "Choose the option that best describes the partnership today.".to_string()
                }
                _ => "Choose one option from the list.".to_string(),
            };
            if q.options.iter().any(|o| o.points.is_none()) && q.kind == QuestionType::Scale {
                msg.push_str(" Choose 'Not applicable' only if the statement does not apply.");
            }
            if !q.required {
                msg.push_str(" You may leave this blank.");
            }
            DataValidation::new()
                .allow_list_strings(&labels)?
                .set_input_title(title("Choose an answer"))?
                .set_input_message(message(msg))?
                .set_error_title("Not one of the options")?
                .set_error_message("Please choose one of the options from the dropdown list.")?
        }
        QuestionType::Date => DataValidation::new()
            .allow_date(DataValidationRule::Between(
                ExcelDateTime::from_ymd(1990, 1, 1)?,
                ExcelDateTime::from_ymd(2100, 12, 31)?,
            ))
            .set_input_title("Enter a date")?
            .set_input_message("Enter a date, for example 31/03/2027.")?
            .set_error_title("Not a date")?
            .set_error_message("Please enter a date, for example 31/03/2027.")?,
        QuestionType::Number => {
            let lo = q.min.unwrap_or(-1e9);
            let hi = q.max.unwrap_or(1e12);
            let range = match (q.min, q.max) {
                (Some(a), Some(b)) => format!(" from {a} to {b}"),
                (Some(a), None) => format!(" of {a} or more"),
                (None, Some(b)) => format!(" up to {b}"),
                (None, None) => String::new(),
            };
            let what = if q.whole {
                "a whole number"
            } else {
                "a number"
            };
            let dv = if q.whole {
                DataValidation::new().allow_whole_number(DataValidationRule::Between(
                    lo as i32,
                    hi.min(f64::from(i32::MAX)) as i32,
                ))
            } else {
                DataValidation::new().allow_decimal_number(DataValidationRule::Between(lo, hi))
            };
            dv.set_input_title("Enter a number")?
                .set_input_message(format!("Enter {what}{range}."))?
                .set_error_title("Not a valid number")?
                .set_error_message(format!("Please enter {what}{range}."))?
        }
        QuestionType::Email => DataValidation::new()
            .allow_any_value()
            .set_input_title("Enter an email address")?
            .set_input_message("Enter an email address, for example name@rochford.gov.uk.")?,
        QuestionType::Text => DataValidation::new()
            .allow_any_value()
            .set_input_title("Type your answer")?
            .set_input_message(if q.required {
                "Type your answer. Press Alt+Enter for a new line."
            } else {
                "Optional. Type your answer. Press Alt+Enter for a new line."
            })?,
    };
    Ok(Some(dv.set_error_style(DataValidationErrorStyle::Stop)))
}

fn write_id_sheet(
    ws: &mut Worksheet,
    template: &Template,
    p: &Partnership,
    settings: &IssueSettings,
    cell_map: &[(String, String)],
) -> anyhow::Result<()> {
    let rows: Vec<(&str, String)> = vec![
        (
            contract::KEY_CONTRACT,
            contract::CONTRACT_VERSION.to_string(),
        ),
        (contract::KEY_TEMPLATE_ID, template.id.clone()),
        (contract::KEY_TEMPLATE_VERSION, template.version.to_string()),
        (contract::KEY_PARTNERSHIP_ID, p.id.clone()),
        (contract::KEY_YEAR, settings.year.to_string()),
        (
            contract::KEY_ISSUED_AT,
            settings.issued_on.format("%Y-%m-%d").to_string(),
        ),
        (contract::KEY_PARTNERSHIP_NAME, p.name.clone()),
        (contract::KEY_TEMPLATE_TITLE, template.title.clone()),
    ];
    let entries = rows
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .chain(cell_map.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    for (r, (k, v)) in (0u32..).zip(entries) {
        ws.write_string(r, 0, k)?;
        ws.write_string(r, 1, v)?;
    }
    ws.set_column_width(0, 36)?;
    ws.set_column_width(1, 36)?;
    ws.set_hidden(true);
    ws.protect();
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_safe() {
        assert_eq!(
            file_name("P01", "self-assessment", 2026),
            "P01_self-assessment_2026.xlsx"
        );
        assert_eq!(file_name("a/b", "x", 2026), "a_b_x_2026.xlsx");
    }

    #[test]
    fn long_dates_read_naturally() {
        assert_eq!(
            long_date(NaiveDate::from_ymd_opt(2027, 1, 31).unwrap()),
            "31 January 2027"
        );
    }
}
