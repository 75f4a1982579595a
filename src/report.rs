//! The consolidated review for the Assistant Directors and the Leadership Team:
//! one workbook (Summary, Trends, Sections, By Assistant Director, By priority,
//! Charts, Outstanding, Exits, New partnerships, Findings, About) and a long
//! `scores-<year>.csv` for Power BI and Excel users.
//!
//! [`gather`] turns the store, register and templates into a plain [`Review`];
//! the writers only lay that out. The same store gives the same output.

use std::collections::{BTreeMap, BTreeSet};

use anyhow::Context;
use rust_xlsxwriter::{
    Chart, ChartType, Color, DocProperties, ExcelDateTime, Format, FormatAlign, FormatBorder,
    Sparkline, Table, TableColumn, TableStyle, Workbook, Worksheet,
};

use crate::register::{Partnership, Register, Status};
use crate::score::OVERALL;
use crate::store::{ReturnRow, Store, StoredFinding};
use crate::template::{Layout, Template};
use crate::xlsx::{fit, fit_row, header_text, MID_GREY, NAVY, ROW_HEIGHT};

/// Where a partnership's return for the year stands.
#[derive(Debug, Clone, PartialEq)]
pub enum ReturnState {
    Accepted,
    /// Exit document received.
    Exited,
    /// Rejected: the problems to correct, summarised.
    Rejected(String),
    NotReturned,
    /// A file named for the partnership came in but could not be opened (damaged,
    /// cut short, encrypted): ask for it again, saved afresh. Holds the file's name.
    Unreadable(String),
    /// No form is expected (e.g. a closed partnership).
    NotExpected,
}

impl ReturnState {
    pub fn label(&self) -> &'static str {
        match self {
            ReturnState::Accepted => "accepted",
            ReturnState::Exited => "exited",
            ReturnState::Rejected(_) => "rejected",
            ReturnState::NotReturned => "not returned",
            ReturnState::Unreadable(_) => "received, unreadable",
            ReturnState::NotExpected => "not expected",
        }
    }

    pub fn is_outstanding(&self) -> bool {
        matches!(
            self,
            ReturnState::Rejected(_) | ReturnState::NotReturned | ReturnState::Unreadable(_)
        )
    }
}

/// One partnership's line in the review.
#[derive(Debug, Clone)]
pub struct Row<'a> {
    /// Borrowed from the register: a review of thousands holds no copies.
    pub partnership: &'a Partnership,
    /// The form expected from it this year (by register status).
    pub expected: Option<String>,
    pub state: ReturnState,
    pub overall: Option<f64>,
    pub band: Option<String>,
    /// (section id, percent) for the sections scored, by id.
    pub sections: Vec<(String, f64)>,
    pub previous: Option<f64>,
    pub stage: Option<String>,
    pub first_year: Option<i32>,
    /// Overall % by year, every year the store knows.
    pub by_year: BTreeMap<i32, f64>,
}

impl Row<'_> {
    /// The percent of one section, if scored.
    pub fn section(&self, id: &str) -> Option<f64> {
        self.sections.iter().find(|(s, _)| s == id).map(|(_, v)| *v)
    }

    pub fn change(&self) -> Option<f64> {
        crate::score::change(self.overall, self.previous)
    }

    /// A scored partnership with no earlier score is new to the review.
    pub fn is_new(&self) -> bool {
        self.overall.is_some()
            && self.previous.is_none()
            && self.by_year.keys().all(|y| *y >= self.year())
    }

    fn year(&self) -> i32 {
        self.by_year.keys().copied().max().unwrap_or(0)
    }
}

/// Per-question statistics for the Sections sheet.
#[derive(Debug, Clone)]
pub struct QuestionStats {
    pub section: String,
    pub number: String,
    pub question_id: String,
    pub text: String,
    pub average: Option<f64>,
    pub max_points: f64,
    /// Option label → count, in option order.
    pub distribution: Vec<(String, usize)>,
    pub last_year_average: Option<f64>,
}

/// Everything the review shows, gathered once.
#[derive(Debug, Clone)]
pub struct Review<'a> {
    pub year: i32,
    pub council: String,
    pub scored: Template,
    pub templates: Vec<Template>,
    pub rows: Vec<Row<'a>>,
    pub years: Vec<i32>,
    pub questions: Vec<QuestionStats>,
    /// Section id → (average this year, average last year).
    pub section_averages: Vec<(String, String, Option<f64>, Option<f64>)>,
    pub exits: Vec<(Partnership, ReturnRow)>,
    pub new_partnerships: Vec<(Partnership, ReturnRow)>,
    pub findings: Vec<StoredFinding>,
    pub store_path: String,
    pub runs: i64,
    pub files_read: i64,
    pub generated_at: Option<String>,
}

/// Whether a file's name starts with a partnership id as its own word (`ICT12_…`,
/// `ICT12 return.xlsx`), as issued file names and most renamed ones do: how a file
/// that cannot be opened, so cannot say whose it is, is still put to its partnership.
pub fn names_partnership(path: &str, id: &str) -> bool {
    let name = file_name_of(path);
    name.len() > id.len()
        && name.is_char_boundary(id.len())
        && name[..id.len()].eq_ignore_ascii_case(id)
        && !name[id.len()..].starts_with(|c: char| c.is_ascii_alphanumeric())
}

pub fn file_name_of(path: &str) -> String {
    std::path::Path::new(path)
        .file_name()
        .map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned())
}

fn mean(values: impl IntoIterator<Item = f64>) -> Option<f64> {
    let (sum, n) = values
        .into_iter()
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (n > 0).then(|| sum / n as f64)
}

/// Gathers the review of `year`. `scored_id` names the scored template (the self-assessment).
pub fn gather<'a>(
    store: &Store,
    register: &'a Register,
    templates: &[Template],
    year: i32,
    council: &str,
    scored_id: &str,
) -> anyhow::Result<Review<'a>> {
    let scored = templates
        .iter()
        .find(|t| t.id == scored_id)
        .with_context(|| format!("there is no template '{scored_id}' in the templates folder"))?
        .clone();
    let mut by_year = store.overall_by_year(&scored.id)?;
    let section_history = store.section_averages(&scored.id)?;
    let years: Vec<i32> = by_year
        .values()
        .flat_map(|m| m.keys().copied())
        .chain(section_history.keys().map(|(y, _)| *y))
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    // Every answer is loaded only for the unscored forms (shown in full); for the
    // scored one, just the scores and the life-cycle stage, moved into the rows.
    let mut scored_returns = store.scored_returns(year, &scored.id, "stage")?;
    let returns: BTreeMap<String, BTreeMap<String, ReturnRow>> = templates
        .iter()
        .filter(|t| t.id != scored.id)
        .map(|t| Ok((t.id.clone(), store.current_returns(year, &t.id)?)))
        .collect::<anyhow::Result<_>>()?;
    let stats_now = store.question_stats(year, &scored.id)?;
    let stats_before = store.question_stats(year - 1, &scored.id)?;
    let rejected = store.rejected_files(year)?;
    let unreadable = store.unreadable_files(year)?;

    let mut rows = Vec::with_capacity(register.partnerships.len());
    for p in &register.partnerships {
        let expected = templates
            .iter()
            .find(|t| t.issue_to.contains(&p.status))
            .map(|t| t.id.clone());
        let own = scored_returns.remove(&p.id);
        let got = match &expected {
            None => false,
            Some(t) if *t == scored.id => own.is_some(),
            Some(t) => returns.get(t).is_some_and(|m| m.contains_key(&p.id)),
        };
        let own = own.unwrap_or_default();
        let state = match (&expected, got) {
            (None, _) => ReturnState::NotExpected,
            (Some(_), true) if p.status == Status::Exiting => ReturnState::Exited,
            (Some(_), true) => ReturnState::Accepted,
            (Some(t), false) => match rejected.iter().find(|(_, f)| {
                f.partnership_id.as_deref() == Some(&p.id) && f.template_id.as_deref() == Some(t)
            }) {
                Some((sha, f)) => {
                    ReturnState::Rejected(summarise_findings(&store.findings_for(sha)?, &f.message))
                }
                None => match unreadable
                    .iter()
                    .find(|(_, f)| names_partnership(&f.path, &p.id))
                {
                    Some((_, f)) => ReturnState::Unreadable(file_name_of(&f.path)),
                    None => ReturnState::NotReturned,
                },
            },
        };
        let history = by_year.remove(&p.id).unwrap_or_default();
        rows.push(Row {
            expected,
            state,
            overall: own.overall,
            band: own.band,
            sections: own.sections,
            previous: history.get(&(year - 1)).copied(),
            stage: own.stage,
            first_year: history.keys().next().copied(),
            by_year: history,
            partnership: p,
        });
    }

    // Question statistics for the scored template.
    let mut questions = Vec::new();
    for (si, s) in scored
        .sections
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_scored())
    {
        for (qi, q) in s
            .questions
            .iter()
            .enumerate()
            .filter(|(_, q)| q.is_scored())
        {
            let now = stats_now.get(&q.id);
            let distribution = q
                .options
                .iter()
                .map(|o| {
                    (
                        o.label.clone(),
                        now.and_then(|(_, d)| d.get(&o.label)).copied().unwrap_or(0),
                    )
                })
                .collect();
            questions.push(QuestionStats {
                section: s.title.clone(),
                number: format!("{}.{}", si + 1, qi + 1),
                question_id: q.id.clone(),
                text: q.text.clone(),
                average: now.and_then(|(a, _)| *a),
                max_points: q.max_points().unwrap_or(0.0),
                distribution,
                last_year_average: stats_before.get(&q.id).and_then(|(a, _)| *a),
            });
        }
    }
    let section_averages = scored
        .sections
        .iter()
        .filter(|s| s.is_scored())
        .map(|s| {
            let avg = |y: i32| section_history.get(&(y, s.id.clone())).copied();
            (s.id.clone(), s.title.clone(), avg(year), avg(year - 1))
        })
        .collect();

    let pick = |template: &str| -> Vec<(Partnership, ReturnRow)> {
        returns
            .get(template)
            .map(|m| {
                m.values()
                    .filter_map(|r| {
                        register
                            .get(&r.partnership_id)
                            .map(|p| (p.clone(), r.clone()))
                    })
                    .collect()
            })
            .unwrap_or_default()
    };
    let (runs, files_read, generated_at) = store.runs_for_year(year)?;
    Ok(Review {
        year,
        council: council.to_string(),
        exits: pick("exit"),
        new_partnerships: pick("new-partnership"),
        findings: store.findings_for_year(year)?,
        scored,
        templates: templates.to_vec(),
        rows,
        years,
        questions,
        section_averages,
        store_path: store.path.display().to_string(),
        runs,
        files_read,
        generated_at,
    })
}

/// "2 problems: C22 question 2.3 has no answer; …" from a rejected file's findings.
fn summarise_findings(findings: &[StoredFinding], fallback: &str) -> String {
    let errors: Vec<&StoredFinding> = findings.iter().filter(|f| f.severity == "error").collect();
    if errors.is_empty() {
        return fallback.to_string();
    }
    let parts: Vec<String> = errors
        .iter()
        .map(|f| {
            if f.cell.is_empty() {
                f.message.clone()
            } else {
                format!("{}!{}: {}", f.sheet, f.cell, f.message)
            }
        })
        .collect();
    format!(
        "{} problem{} to correct: {}",
        errors.len(),
        if errors.len() == 1 { "" } else { "s" },
        parts.join(" | ")
    )
}

/// Writes the review workbook to `out` and `scores-<year>.csv` beside it, atomically.
pub fn write(review: &Review, out: &std::path::Path) -> anyhow::Result<std::path::PathBuf> {
    let mut wb = workbook(review)?;
    crate::output::write_atomic_with(out, |f| {
        wb.save_to_writer(std::io::BufWriter::new(f))?;
        Ok(())
    })?;
    let csv = out.with_file_name(format!("scores-{}.csv", review.year));
    crate::output::write_atomic_with(&csv, |f| {
        write_scores_csv(review, std::io::BufWriter::new(f))?;
        Ok(())
    })?;
    Ok(csv)
}

// ---------------------------------------------------------------------------
// The long CSV

/// `scores-<year>.csv`: year, partnership_id, partnership, template, section_id, percent, band.
pub fn scores_csv(review: &Review) -> anyhow::Result<Vec<u8>> {
    write_scores_csv(review, Vec::new())
}

/// Streams `scores-<year>.csv` (see [`scores_csv`]) to `w`, returning it.
pub fn write_scores_csv<W: std::io::Write>(review: &Review, w: W) -> anyhow::Result<W> {
    let mut csv = crate::output::SafeCsv::to_writer(w);
    csv.row([
        "year",
        "partnership_id",
        "partnership",
        "template",
        "section_id",
        "percent",
        "band",
    ])?;
    for r in review.rows.iter().filter(|r| r.overall.is_some()) {
        let band = |pct: f64| {
            review
                .scored
                .band_for(pct)
                .map(|b| b.label.clone())
                .unwrap_or_default()
        };
        for s in review.scored.sections.iter().filter(|s| s.is_scored()) {
            if let Some(pct) = r.section(&s.id) {
                csv.row([
                    review.year.to_string(),
                    r.partnership.id.clone(),
                    r.partnership.name.clone(),
                    review.scored.id.clone(),
                    s.id.clone(),
                    format!("{pct:.2}"),
                    band(pct),
                ])?;
            }
        }
        let o = r.overall.expect("filtered");
        csv.row([
            review.year.to_string(),
            r.partnership.id.clone(),
            r.partnership.name.clone(),
            review.scored.id.clone(),
            OVERALL.to_string(),
            format!("{o:.2}"),
            band(o),
        ])?;
    }
    csv.finish()
}

// ---------------------------------------------------------------------------
// The workbook

const GREEN_TEXT: u32 = 0x00703C;
const RED_TEXT: u32 = 0xC00000;

struct Styles {
    title: Format,
    subtitle: Format,
    header: Format,
    text: Format,
    wrap: Format,
    pct: Format,
    number: Format,
    up: Format,
    down: Format,
    flat: Format,
    note: Format,
    label: Format,
}

impl Styles {
    fn new() -> Self {
        let cell = Format::new()
            .set_align(FormatAlign::Top)
            .set_border(FormatBorder::Thin)
            .set_border_color(Color::RGB(0xD9D9D9));
        let change = cell
            .clone()
            .set_num_format("\"▲ \"0.0;\"▼ \"0.0;\"● \"0.0")
            .set_align(FormatAlign::Right);
        Styles {
            title: Format::new()
                .set_bold()
                .set_font_size(16)
                .set_font_color(Color::RGB(NAVY)),
            subtitle: Format::new()
                .set_italic()
                .set_font_color(Color::RGB(MID_GREY)),
            header: Format::new()
                .set_bold()
                .set_text_wrap()
                .set_align(FormatAlign::Top)
                .set_font_color(Color::White)
                .set_background_color(Color::RGB(NAVY)),
            text: cell.clone(),
            wrap: cell.clone().set_text_wrap(),
            pct: cell.clone().set_num_format("0.0"),
            number: cell.clone().set_num_format("0"),
            up: change.clone().set_font_color(Color::RGB(GREEN_TEXT)),
            down: change.clone().set_font_color(Color::RGB(RED_TEXT)),
            flat: change,
            note: Format::new()
                .set_italic()
                .set_text_wrap()
                .set_align(FormatAlign::Top)
                .set_font_color(Color::RGB(MID_GREY)),
            label: Format::new().set_bold(),
        }
    }

    /// A percent cell filled with its band's colour.
    fn band(&self, review: &Review, pct: f64) -> Format {
        match review.scored.band_for(pct) {
            Some(b) => self.pct.clone().set_background_color(Color::RGB(
                u32::from_str_radix(&b.colour, 16).unwrap_or(0xFFFFFF),
            )),
            None => self.pct.clone(),
        }
    }
}

fn print_setup(
    ws: &mut Worksheet,
    review: &Review,
    title: &str,
    landscape: bool,
    repeat_row: Option<u32>,
) -> anyhow::Result<()> {
    if landscape {
        ws.set_landscape();
    } else {
        ws.set_portrait();
    }
    ws.set_paper_size(9);
    ws.set_print_fit_to_pages(1, 0);
    ws.set_margins(0.4, 0.4, 0.6, 0.6, 0.3, 0.3);
    ws.set_header(format!(
        "&L{}&R{}",
        header_text(&review.council),
        header_text(title)
    ));
    ws.set_footer(format!(
        "&LPartnership review {}&CPage &P of &N",
        review.year
    ));
    if let Some(r) = repeat_row {
        ws.set_repeat_rows(r, r)?;
        ws.set_freeze_panes(r + 1, 0)?;
    }
    Ok(())
}

/// Writes a header row and returns a Table over `rows` data rows below it.
fn table(
    ws: &mut Worksheet,
    st: &Styles,
    row: u32,
    headers: &[String],
    rows: usize,
    name: &str,
) -> anyhow::Result<()> {
    let columns: Vec<TableColumn> = headers
        .iter()
        .map(|h| {
            TableColumn::new()
                .set_header(h.as_str())
                .set_header_format(&st.header)
        })
        .collect();
    let t = Table::new()
        .set_columns(&columns)
        .set_style(TableStyle::Light9)
        .set_name(name);
    let last = row + (rows.max(1) as u32);
    ws.add_table(row, 0, last, (headers.len() - 1) as u16, &t)?;
    ws.set_row_height(row, 45)?;
    Ok(())
}

fn opt_pct(ws: &mut Worksheet, r: u32, c: u16, v: Option<f64>, f: &Format) -> anyhow::Result<()> {
    match v {
        Some(v) => ws.write_number_with_format(r, c, v, f)?,
        None => ws.write_string_with_format(r, c, "", f)?,
    };
    Ok(())
}

/// Builds the review workbook, ready to save.
pub fn workbook(review: &Review) -> anyhow::Result<Workbook> {
    let st = Styles::new();
    let mut wb = Workbook::new();
    let created = review
        .generated_at
        .as_deref()
        .and_then(|s| ExcelDateTime::parse_from_str(s).ok())
        .unwrap_or(ExcelDateTime::from_ymd(2000, 1, 1)?);
    wb.set_properties(
        &DocProperties::new()
            .set_title(format!("Partnership review {}", review.year))
            .set_author(&review.council)
            .set_company(&review.council)
            .set_creation_datetime(&created),
    );
    // Sheets with a row per partnership (or finding) stream their rows to disk as they
    // are written, so memory stays flat however many partnerships there are.
    summary_sheet(wb.add_worksheet_with_constant_memory()?, &st, review)?;
    trends_sheet(wb.add_worksheet_with_constant_memory()?, &st, review)?;
    sections_sheet(wb.add_worksheet(), &st, review)?;
    group_sheet(
        wb.add_worksheet(),
        &st,
        review,
        "By Assistant Director",
        "Assistant Director",
        |p| p.assistant_director.clone(),
    )?;
    group_sheet(
        wb.add_worksheet(),
        &st,
        review,
        "By priority",
        "Business Plan priority",
        |p| p.priority.label().to_string(),
    )?;
    charts_sheet(wb.add_worksheet(), &st, review)?;
    outstanding_sheet(wb.add_worksheet_with_constant_memory()?, &st, review)?;
    exits_sheet(wb.add_worksheet(), &st, review)?;
    new_sheet(wb.add_worksheet(), &st, review)?;
    findings_sheet(wb.add_worksheet_with_constant_memory()?, &st, review)?;
    about_sheet(wb.add_worksheet(), &st, review)?;
    wb.worksheet_from_index(0)?.set_active(true);
    Ok(wb)
}

fn title(
    ws: &mut Worksheet,
    st: &Styles,
    review: &Review,
    text: &str,
    sub: &str,
) -> anyhow::Result<()> {
    ws.write_with_format(0, 0, format!("{text} – {}", review.year), &st.title)?;
    ws.write_with_format(1, 0, sub, &st.subtitle)?;
    ws.set_row_height(0, 24)?;
    Ok(())
}

/// Summary: one row per partnership in the register.
fn summary_sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    ws.set_name("Summary")?;
    ws.set_default_row_height(ROW_HEIGHT);
    title(ws, st, review, "Partnership self-assessment scores", &format!(
        "{}: every partnership in the register. Overall % is coloured by band; change is in percentage points against {}; 'new' means no earlier score.",
        review.council,
        review.year - 1
    ))?;
    let sections: Vec<&crate::template::Section> = review
        .scored
        .sections
        .iter()
        .filter(|s| s.is_scored())
        .collect();
    let mut headers: Vec<String> = [
        "ID",
        "Partnership",
        "Assistant Director",
        "Business Plan priority",
        "Status",
        "Return",
        "Overall %",
        "Band",
    ]
    .map(String::from)
    .to_vec();
    headers.push(format!("Change vs {}", review.year - 1));
    headers.extend(sections.iter().map(|s| format!("{} %", s.title)));
    headers.push("Life-cycle stage".into());
    headers.push("Years since first reviewed".into());
    let top = 3;
    table(ws, st, top, &headers, review.rows.len(), "Summary")?;
    for (i, row) in review.rows.iter().enumerate() {
        let r = top + 1 + i as u32;
        let p = &row.partnership;
        ws.write_with_format(r, 0, p.id.as_str(), &st.text)?;
        ws.write_with_format(r, 1, p.name.as_str(), &st.wrap)?;
        fit_row(ws, r, &[(&p.name, 40.0)])?;
        ws.write_with_format(r, 2, p.assistant_director.as_str(), &st.text)?;
        ws.write_with_format(r, 3, p.priority.label(), &st.text)?;
        ws.write_with_format(r, 4, p.status.as_str(), &st.text)?;
        ws.write_with_format(r, 5, row.state.label(), &st.text)?;
        match row.overall {
            Some(o) => ws.write_number_with_format(r, 6, o, &st.band(review, o))?,
            None => ws.write_string_with_format(r, 6, "", &st.pct)?,
        };
        ws.write_with_format(r, 7, row.band.as_deref().unwrap_or(""), &st.text)?;
        match (row.change(), row.overall) {
            (Some(c), _) => {
                let f = if c > 0.05 {
                    &st.up
                } else if c < -0.05 {
                    &st.down
                } else {
                    &st.flat
                };
                ws.write_number_with_format(r, 8, c, f)?;
            }
            (None, Some(_)) if row.is_new() => {
                ws.write_string_with_format(r, 8, "new", &st.text)?;
            }
            _ => {
                ws.write_string_with_format(r, 8, "", &st.text)?;
            }
        }
        for (j, s) in sections.iter().enumerate() {
            let v = row.section(&s.id);
            let f = v.map_or(st.pct.clone(), |v| st.band(review, v));
            opt_pct(ws, r, 9 + j as u16, v, &f)?;
        }
        let c = 9 + sections.len() as u16;
        ws.write_with_format(r, c, row.stage.as_deref().unwrap_or(""), &st.text)?;
        match (
            row.first_year,
            row.overall.is_some() || !row.by_year.is_empty(),
        ) {
            (Some(first), true) => {
                ws.write_number_with_format(r, c + 1, f64::from(review.year - first), &st.number)?
            }
            _ => ws.write_string_with_format(r, c + 1, "", &st.text)?,
        };
    }
    let widths = [8.0, 40.0, 20.0, 26.0, 9.0, 13.0, 10.0, 8.0, 12.0];
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    for j in 0..sections.len() {
        ws.set_column_width(9 + j as u16, 14)?;
    }
    ws.set_column_width(9 + sections.len() as u16, 14)?;
    ws.set_column_width(10 + sections.len() as u16, 11)?;
    print_setup(ws, review, "Summary", true, Some(top))?;
    Ok(())
}

/// Trends: overall % by year for every partnership with any score.
fn trends_sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    ws.set_name("Trends")?;
    ws.set_default_row_height(ROW_HEIGHT);
    title(ws, st, review, "Overall score by year", "Overall % for every year in the history store, with the change against the previous year and the first year.")?;
    let mut headers: Vec<String> = vec!["ID".into(), "Partnership".into()];
    headers.extend(review.years.iter().map(|y| y.to_string()));
    headers.extend([
        "Change vs previous year".into(),
        "Change vs first year".into(),
        "Trend".into(),
    ]);
    let rows: Vec<&Row> = review
        .rows
        .iter()
        .filter(|r| !r.by_year.is_empty())
        .collect();
    let top = 3;
    table(ws, st, top, &headers, rows.len(), "Trends")?;
    let n = review.years.len() as u16;
    for (i, row) in rows.iter().enumerate() {
        let r = top + 1 + i as u32;
        ws.write_with_format(r, 0, row.partnership.id.as_str(), &st.text)?;
        ws.write_with_format(r, 1, row.partnership.name.as_str(), &st.wrap)?;
        fit_row(ws, r, &[(&row.partnership.name, 40.0)])?;
        for (j, y) in review.years.iter().enumerate() {
            let v = row.by_year.get(y).copied();
            let f = v.map_or(st.pct.clone(), |v| st.band(review, v));
            opt_pct(ws, r, 2 + j as u16, v, &f)?;
        }
        // Changes are this year's score against earlier ones; none without a score this year.
        let now = row.by_year.get(&review.year).copied();
        let first = row
            .by_year
            .iter()
            .next()
            .filter(|(y, _)| **y < review.year)
            .map(|(_, v)| *v);
        let vs_prev = crate::score::change(now, row.by_year.get(&(review.year - 1)).copied());
        let vs_first = crate::score::change(now, first);
        for (k, v) in [vs_prev, vs_first].into_iter().enumerate() {
            let c = 2 + n + k as u16;
            match v {
                Some(v) => {
                    let f = if v > 0.05 {
                        &st.up
                    } else if v < -0.05 {
                        &st.down
                    } else {
                        &st.flat
                    };
                    ws.write_number_with_format(r, c, v, f)?
                }
                None => ws.write_string_with_format(r, c, "", &st.text)?,
            };
        }
        ws.write_string_with_format(r, 4 + n, "", &st.text)?;
    }
    // One sparkline group for the column (one object, however many partnerships).
    if n >= 2 && !rows.is_empty() {
        let (first, last) = (top + 1, top + rows.len() as u32);
        let spark = Sparkline::new()
            .set_range(("Trends", first, 2, last, 1 + n))
            .show_markers(true)
            .show_last_point(true);
        if first == last {
            ws.add_sparkline(first, 4 + n, &spark)?;
        } else {
            ws.add_sparkline_group(first, 4 + n, last, 4 + n, &spark)?;
        }
    }
    ws.set_column_width(0, 8)?;
    ws.set_column_width(1, 40)?;
    for j in 0..n {
        ws.set_column_width(2 + j, 9)?;
    }
    ws.set_column_width(2 + n, 13)?;
    ws.set_column_width(3 + n, 13)?;
    ws.set_column_width(4 + n, 18)?;
    print_setup(ws, review, "Trends", true, Some(top))?;
    Ok(())
}

/// Sections: for each scored question, this year's average and distribution, and last year's average.
fn sections_sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    ws.set_name("Sections")?;
    title(ws, st, review, "Where partnerships are strongest and weakest", "Section averages of overall section %, then every statement: average points this year, how many partnerships gave each answer, and last year's average.")?;
    let mut r = 3;
    let sec_headers: Vec<String> = [
        "Section",
        &format!("Average % {}", review.year),
        &format!("Average % {}", review.year - 1),
        "Change",
    ]
    .map(String::from)
    .to_vec();
    table(
        ws,
        st,
        r,
        &sec_headers,
        review.section_averages.len(),
        "SectionAverages",
    )?;
    for (id, title, now, before) in &review.section_averages {
        r += 1;
        let _ = id;
        ws.write_with_format(r, 0, title.as_str(), &st.text)?;
        opt_pct(
            ws,
            r,
            1,
            *now,
            &now.map_or(st.pct.clone(), |v| st.band(review, v)),
        )?;
        opt_pct(ws, r, 2, *before, &st.pct)?;
        match crate::score::change(*now, *before) {
            Some(c) => ws.write_number_with_format(
                r,
                3,
                c,
                if c > 0.05 {
                    &st.up
                } else if c < -0.05 {
                    &st.down
                } else {
                    &st.flat
                },
            )?,
            None => ws.write_string_with_format(r, 3, "", &st.text)?,
        };
    }
    r += 3;
    let options: Vec<String> = review
        .questions
        .first()
        .map(|q| q.distribution.iter().map(|(l, _)| l.clone()).collect())
        .unwrap_or_default();
    let mut headers: Vec<String> = [
        "No.",
        "Section",
        "Statement",
        &format!("Average points {}", review.year),
        "Out of",
        &format!("Average points {}", review.year - 1),
    ]
    .map(String::from)
    .to_vec();
    headers.extend(options.iter().map(|o| format!("Answered '{o}'")));
    table(ws, st, r, &headers, review.questions.len(), "Statements")?;
    ws.set_row_height(r, 45)?;
    for q in &review.questions {
        r += 1;
        ws.write_with_format(r, 0, q.number.as_str(), &st.text)?;
        ws.write_with_format(r, 1, q.section.as_str(), &st.text)?;
        ws.write_with_format(r, 2, q.text.as_str(), &st.wrap)?;
        ws.set_row_height(r, fit(&[(&q.text, 60.0)]))?;
        let dec = st.pct.clone().set_num_format("0.00");
        opt_pct(ws, r, 3, q.average, &dec)?;
        ws.write_number_with_format(r, 4, q.max_points, &st.number)?;
        opt_pct(ws, r, 5, q.last_year_average, &dec)?;
        for (j, (label, n)) in q.distribution.iter().enumerate() {
            let col = options.iter().position(|o| o == label).unwrap_or(j);
            ws.write_number_with_format(r, 6 + col as u16, *n as f64, &st.number)?;
        }
    }
    for (c, w) in [24.0, 28.0, 60.0, 12.0, 8.0, 12.0].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    for j in 0..options.len() {
        ws.set_column_width(6 + j as u16, 13)?;
    }
    print_setup(ws, review, "Sections", true, None)?;
    Ok(())
}

/// Counts and averages per group (Assistant Director or priority).
fn group_sheet(
    ws: &mut Worksheet,
    st: &Styles,
    review: &Review,
    name: &str,
    what: &str,
    key: impl Fn(&Partnership) -> String,
) -> anyhow::Result<()> {
    ws.set_name(name)?;
    title(ws, st, review, &format!("Partnerships by {}", what.to_lowercase()), "Returns, outstanding forms, average overall score, and how many improved or declined on last year.")?;
    let mut groups: BTreeMap<String, Vec<&Row>> = BTreeMap::new();
    for r in &review.rows {
        groups.entry(key(r.partnership)).or_default().push(r);
    }
    let headers: Vec<String> = [
        what,
        "Partnerships",
        "Returns accepted",
        "Outstanding",
        "Average overall %",
        "Improved",
        "Declined",
        "New",
    ]
    .map(String::from)
    .to_vec();
    let top = 3;
    table(ws, st, top, &headers, groups.len(), &name.replace(' ', ""))?;
    for (i, (g, rows)) in groups.iter().enumerate() {
        let r = top + 1 + i as u32;
        let accepted = rows
            .iter()
            .filter(|x| matches!(x.state, ReturnState::Accepted | ReturnState::Exited))
            .count();
        let outstanding = rows.iter().filter(|x| x.state.is_outstanding()).count();
        let avg = mean(rows.iter().filter_map(|x| x.overall));
        let improved = rows
            .iter()
            .filter(|x| x.change().is_some_and(|c| c > 0.0))
            .count();
        let declined = rows
            .iter()
            .filter(|x| x.change().is_some_and(|c| c < 0.0))
            .count();
        let new = rows.iter().filter(|x| x.is_new()).count();
        ws.write_with_format(r, 0, g.as_str(), &st.text)?;
        for (c, n) in [rows.len(), accepted, outstanding].iter().enumerate() {
            ws.write_number_with_format(r, 1 + c as u16, *n as f64, &st.number)?;
        }
        opt_pct(
            ws,
            r,
            4,
            avg,
            &avg.map_or(st.pct.clone(), |v| st.band(review, v)),
        )?;
        for (c, n) in [improved, declined, new].iter().enumerate() {
            ws.write_number_with_format(r, 5 + c as u16, *n as f64, &st.number)?;
        }
    }
    ws.set_column_width(0, 34)?;
    for c in 1..8 {
        ws.set_column_width(c, 13)?;
    }
    print_setup(ws, review, name, true, Some(top))?;
    Ok(())
}

/// Most partnerships shown as bars in the per-partnership chart.
const CHART_LIMIT: usize = 40;

/// Charts: overall this year vs last year per partnership; section averages this year vs last year.
fn charts_sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    ws.set_name("Charts")?;
    let (y, py) = (review.year.to_string(), (review.year - 1).to_string());
    let mut scored: Vec<&Row> = review
        .rows
        .iter()
        .filter(|r| r.overall.is_some() || r.previous.is_some())
        .collect();
    // A bar per partnership is readable up to a few dozen; beyond that the chart shows
    // the lowest-scoring ones, which are the ones that need attention.
    let note = if scored.len() > CHART_LIMIT {
        scored.sort_by(|a, b| {
            let key = |r: &Row| r.overall.or(r.previous).unwrap_or(0.0);
            key(a)
                .total_cmp(&key(b))
                .then_with(|| a.partnership.id.cmp(&b.partnership.id))
        });
        scored.truncate(CHART_LIMIT);
        format!("The first chart shows the {CHART_LIMIT} partnerships with the lowest overall score; every partnership is on the Summary sheet. The data behind each chart is in the table beside it.")
    } else {
        "The data behind each chart is in the table beside it.".to_string()
    };
    title(ws, st, review, "Charts", &note)?;
    let top = 3;
    table(
        ws,
        st,
        top,
        &["Partnership".into(), y.clone(), py.clone()],
        scored.len(),
        "ChartOverall",
    )?;
    for (i, row) in scored.iter().enumerate() {
        let r = top + 1 + i as u32;
        ws.write_with_format(r, 0, row.partnership.id.as_str(), &st.text)?;
        opt_pct(ws, r, 1, row.overall, &st.pct)?;
        opt_pct(ws, r, 2, row.previous, &st.pct)?;
    }
    let last = top + scored.len().max(1) as u32;
    let mut chart = Chart::new(ChartType::Column);
    chart
        .title()
        .set_name(&format!("Overall % by partnership: {y} and {py}"));
    chart
        .add_series()
        .set_name(y.as_str())
        .set_categories(("Charts", top + 1, 0, last, 0))
        .set_values(("Charts", top + 1, 1, last, 1));
    chart
        .add_series()
        .set_name(py.as_str())
        .set_categories(("Charts", top + 1, 0, last, 0))
        .set_values(("Charts", top + 1, 2, last, 2));
    chart.y_axis().set_min(0).set_max(100).set_name("%");
    chart.set_width(760).set_height(360);
    ws.insert_chart(top, 5, &chart)?;

    // The second chart sits under the first (about 19 rows tall), or under the table if longer.
    let top2 = (top + 21).max(last + 2);
    table(
        ws,
        st,
        top2,
        &["Section".into(), y.clone(), py.clone()],
        review.section_averages.len(),
        "ChartSections",
    )?;
    for (i, (_, title, now, before)) in review.section_averages.iter().enumerate() {
        let r = top2 + 1 + i as u32;
        ws.write_with_format(r, 0, title.as_str(), &st.text)?;
        opt_pct(ws, r, 1, *now, &st.pct)?;
        opt_pct(ws, r, 2, *before, &st.pct)?;
    }
    let last2 = top2 + review.section_averages.len().max(1) as u32;
    let mut chart = Chart::new(ChartType::Bar);
    chart
        .title()
        .set_name(&format!("Average section %: {y} and {py}"));
    chart
        .add_series()
        .set_name(y.as_str())
        .set_categories(("Charts", top2 + 1, 0, last2, 0))
        .set_values(("Charts", top2 + 1, 1, last2, 1));
    chart
        .add_series()
        .set_name(py.as_str())
        .set_categories(("Charts", top2 + 1, 0, last2, 0))
        .set_values(("Charts", top2 + 1, 2, last2, 2));
    chart.x_axis().set_min(0).set_max(100);
    chart.set_width(760).set_height(320);
    ws.insert_chart(top2, 5, &chart)?;
    ws.set_column_width(0, 30)?;
    ws.set_column_width(1, 9)?;
    ws.set_column_width(2, 9)?;
    print_setup(ws, review, "Charts", true, None)?;
    Ok(())
}

/// Outstanding: every partnership with no accepted return for the form it owes.
fn outstanding_sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    ws.set_name("Outstanding")?;
    ws.set_default_row_height(ROW_HEIGHT);
    title(ws, st, review, "Outstanding returns", "Partnerships with no accepted return for the form they owe this year: not returned, or returned with problems to correct.")?;
    let rows: Vec<&Row> = review
        .rows
        .iter()
        .filter(|r| r.state.is_outstanding())
        .collect();
    let headers: Vec<String> = [
        "ID",
        "Partnership",
        "Form",
        "Lead officer",
        "Email",
        "Assistant Director",
        "Why",
    ]
    .map(String::from)
    .to_vec();
    let top = 3;
    table(ws, st, top, &headers, rows.len(), "Outstanding")?;
    for (i, row) in rows.iter().enumerate() {
        let r = top + 1 + i as u32;
        let p = &row.partnership;
        let form = row
            .expected
            .as_ref()
            .and_then(|t| review.templates.iter().find(|x| &x.id == t))
            .map_or(String::new(), |t| t.title.clone());
        let why = match &row.state {
            ReturnState::Rejected(summary) => format!("Rejected: {summary}"),
            ReturnState::Unreadable(file) => {
                format!("Received but unreadable ({file}): ask for it to be saved again and resent")
            }
            _ => "Not returned".to_string(),
        };
        fit_row(ws, r, &[(&p.name, 34.0), (&why, 80.0)])?;
        for (c, v) in [
            p.id.as_str(),
            p.name.as_str(),
            form.as_str(),
            p.lead_officer.as_str(),
            p.email.as_str(),
            p.assistant_director.as_str(),
            why.as_str(),
        ]
        .iter()
        .enumerate()
        {
            ws.write_with_format(
                r,
                c as u16,
                *v,
                if c == 6 || c == 1 { &st.wrap } else { &st.text },
            )?;
        }
    }
    if rows.is_empty() {
        ws.write_with_format(
            top + 1,
            0,
            "Every partnership has an accepted return.",
            &st.note,
        )?;
    }
    for (c, w) in [8.0, 34.0, 26.0, 18.0, 30.0, 20.0, 80.0].iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    print_setup(ws, review, "Outstanding", true, Some(top))?;
    Ok(())
}

/// One block per return: a heading line for the partnership, then a row per question
/// (question | answer, with evidence under the answer), then any extra lines.
/// Reads well on screen and prints on portrait A4.
fn answer_blocks(
    ws: &mut Worksheet,
    st: &Styles,
    template: &Template,
    returns: &[(Partnership, ReturnRow)],
    mut r: u32,
    extra: &dyn Fn(&ReturnRow) -> Vec<(String, String)>,
) -> anyhow::Result<u32> {
    const Q: f64 = 55.0;
    const A: f64 = 70.0;
    ws.set_column_width(0, Q)?;
    ws.set_column_width(1, A)?;
    let heading = st.header.clone();
    for (p, ret) in returns {
        ws.write_with_format(r, 0, format!("{} – {}", p.id, p.name), &heading)?;
        ws.write_with_format(
            r,
            1,
            format!(
                "Lead officer: {} · Assistant Director: {}",
                p.lead_officer, p.assistant_director
            ),
            &heading,
        )?;
        ws.set_row_height(
            r,
            fit(&[
                (&p.name, Q - 8.0),
                ("Lead officer: · Assistant Director:", A),
            ])
            .max(20.0),
        )?;
        r += 1;
        let mut lines: Vec<(String, String)> = extra(ret);
        for s in template
            .sections
            .iter()
            .filter(|s| !matches!(s.layout, Layout::Risks { .. }))
        {
            for q in &s.questions {
                let (value, _, evidence) = ret.answers.get(&q.id).cloned().unwrap_or_default();
                let shown = if evidence.is_empty() {
                    value
                } else {
                    format!("{value}\n{evidence}")
                };
                lines.push((q.text.clone(), shown));
            }
        }
        for (q, a) in lines {
            ws.write_with_format(r, 0, q.as_str(), &st.wrap)?;
            ws.write_with_format(r, 1, a.as_str(), &st.wrap)?;
            ws.set_row_height(r, fit(&[(&q, Q), (&a, A)]))?;
            r += 1;
        }
        r += 1;
    }
    Ok(r)
}

fn exits_sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    ws.set_name("Exits")?;
    title(ws, st, review, "Exit documents received", "Partnerships the council is leaving: why, what was achieved, lessons, and the exit arrangements (the toolkit requires them in the annual review).")?;
    match review.templates.iter().find(|t| t.id == "exit") {
        Some(t) if !review.exits.is_empty() => {
            answer_blocks(ws, st, t, &review.exits, 3, &|_| Vec::new())?;
        }
        _ => {
            ws.write_with_format(
                3,
                0,
                "No exit documents have been received this year.",
                &st.note,
            )?;
        }
    }
    print_setup(ws, review, "Exits", false, None)?;
    Ok(())
}

/// The scored risk rows of a new-partnership return: (row number, score, rating).
fn risk_rows(ret: &ReturnRow) -> Vec<(usize, f64, String)> {
    let mut v: Vec<(usize, f64, String)> = ret
        .answers
        .iter()
        .filter_map(|(k, (val, pts, _))| {
            let n: usize = k
                .strip_prefix("risks_")?
                .strip_suffix("_score")?
                .parse()
                .ok()?;
            let rating = ret
                .answers
                .get(&format!("risks_{n}_rating"))
                .map(|a| a.0.clone())
                .unwrap_or_default();
            Some((n, pts.or_else(|| val.parse().ok())?, rating))
        })
        .collect();
    v.sort_by_key(|x| x.0);
    v
}

fn new_sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    ws.set_name("New partnerships")?;
    title(ws, st, review, "New partnership questions received", "For each proposed partnership: its risks (likelihood × impact), its answers, and where it stands on each step of the Partnership Model.")?;
    let Some(t) = review.templates.iter().find(|t| t.id == "new-partnership") else {
        return Ok(());
    };
    if review.new_partnerships.is_empty() {
        ws.write_with_format(
            3,
            0,
            "No new-partnership forms have been received this year.",
            &st.note,
        )?;
        return Ok(());
    }
    let extra = |ret: &ReturnRow| -> Vec<(String, String)> {
        let risks = risk_rows(ret);
        let highest = risks
            .iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map_or("No risks recorded".to_string(), |(n, s, rating)| {
                format!("{} ({rating}), risk {n}", crate::read::format_number(*s))
            });
        let counts = t
            .risk_ratings
            .iter()
            .map(|b| {
                format!(
                    "{} {}",
                    risks.iter().filter(|r| r.2 == b.label).count(),
                    b.label
                )
            })
            .collect::<Vec<_>>()
            .join(", ");
        let mut lines = vec![
            ("Highest risk score".to_string(), highest),
            ("Risks by rating".to_string(), counts),
        ];
        for (n, score, rating) in risks {
            let a = |f: &str| {
                ret.answers
                    .get(&format!("risks_{n}_{f}"))
                    .map(|a| a.0.clone())
                    .unwrap_or_default()
            };
            let mut text = format!(
                "{}: likelihood {} × impact {} = {} ({rating})",
                a("risk"),
                a("likelihood"),
                a("impact"),
                crate::read::format_number(score)
            );
            if !a("mitigation").is_empty() {
                text.push_str(&format!("; managed by: {}", a("mitigation")));
            }
            if !a("owner").is_empty() {
                text.push_str(&format!("; owner: {}", a("owner")));
            }
            lines.push((format!("Risk {n}"), text));
        }
        lines
    };
    answer_blocks(ws, st, t, &review.new_partnerships, 3, &extra)?;
    print_setup(ws, review, "New partnerships", false, None)?;
    Ok(())
}

fn findings_sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    ws.set_name("Findings")?;
    ws.set_default_row_height(ROW_HEIGHT);
    title(ws, st, review, "Validation findings", "Every problem found in the files ingested for this year. Errors reject a return; warnings do not. Codes are explained in the ptk documentation.")?;
    let headers: Vec<String> = [
        "File",
        "Partnership",
        "Sheet",
        "Cell",
        "Question",
        "Severity",
        "Code",
        "Message",
    ]
    .map(String::from)
    .to_vec();
    let top = 3;
    table(ws, st, top, &headers, review.findings.len(), "Findings")?;
    for (i, f) in review.findings.iter().enumerate() {
        let r = top + 1 + i as u32;
        let file = std::path::Path::new(&f.path)
            .file_name()
            .map_or(f.path.clone(), |n| n.to_string_lossy().into_owned());
        fit_row(ws, r, &[(&file, 30.0), (&f.message, 80.0)])?;
        for (c, v) in [
            file.as_str(),
            &f.partnership_id,
            &f.sheet,
            &f.cell,
            &f.question_id,
            &f.severity,
            &f.code,
            &f.message,
        ]
        .iter()
        .enumerate()
        {
            ws.write_with_format(
                r,
                c as u16,
                *v,
                if c == 7 || c == 0 { &st.wrap } else { &st.text },
            )?;
        }
    }
    for (c, w) in [30.0, 11.0, 14.0, 7.0, 16.0, 9.0, 18.0, 80.0]
        .iter()
        .enumerate()
    {
        ws.set_column_width(c as u16, *w)?;
    }
    print_setup(ws, review, "Findings", true, Some(top))?;
    Ok(())
}

fn about_sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    ws.set_name("About")?;
    title(
        ws,
        st,
        review,
        "About this review",
        "How this workbook was made.",
    )?;
    let versions = review
        .templates
        .iter()
        .map(|t| format!("{} v{}", t.id, t.version))
        .collect::<Vec<_>>()
        .join(", ");
    let rows: Vec<(&str, String)> = vec![
        ("Council", review.council.clone()),
        ("Review year", review.year.to_string()),
        ("Made by", format!("ptk {}", env!("CARGO_PKG_VERSION"))),
        ("Templates", versions),
        ("History store", review.store_path.clone()),
        ("Ingest runs this year", review.runs.to_string()),
        ("Files read this year", review.files_read.to_string()),
        ("Partnerships in the register", review.rows.len().to_string()),
        ("Data as of", review.generated_at.clone().unwrap_or_else(|| "no returns ingested yet".into())),
        ("Scores", "Section % = points ÷ points possible (not-applicable answers left out); overall % = weighted mean of section %. Shown to one decimal place, stored unrounded.".into()),
    ];
    for (i, (k, v)) in rows.iter().enumerate() {
        let r = 3 + i as u32;
        ws.write_with_format(r, 0, *k, &st.label)?;
        ws.write_with_format(r, 1, v.as_str(), &st.wrap)?;
    }
    ws.set_column_width(0, 28)?;
    ws.set_column_width(1, 90)?;
    print_setup(ws, review, "About", false, None)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_summary_lists_errors_with_cells() {
        let f = |sev: &str, cell: &str, msg: &str| StoredFinding {
            path: "x".into(),
            partnership_id: "P".into(),
            severity: sev.into(),
            code: "c".into(),
            sheet: "Assessment".into(),
            cell: cell.into(),
            question_id: "q".into(),
            message: msg.into(),
        };
        let s = summarise_findings(
            &[
                f("error", "C22", "no answer"),
                f("warning", "", "old"),
                f("error", "", "bad date"),
            ],
            "fallback",
        );
        assert_eq!(
            s,
            "2 problems to correct: Assessment!C22: no answer | bad date"
        );
        assert_eq!(summarise_findings(&[], "fallback"), "fallback");
    }

    #[test]
    fn mean_of_nothing_is_none() {
        assert_eq!(mean(Vec::<f64>::new()), None);
        assert_eq!(mean([1.0, 2.0]), Some(1.5));
    }
}
