//! An Assistant Director's pack: the Toolkit reports partnership progress "annually to
//! the relevant Assistant Director(s)". One workbook per Assistant Director with an
//! email in the register: the review's own page for them (`report::director::page`),
//! the council-wide headline (figures only, naming no partnership), and each of their
//! scored partnerships' feedback pages. Nothing of another Assistant Director's partnerships.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::Context as _;
use rust_xlsxwriter::{Workbook, Worksheet};

use super::{discussion_sheet, objectives_sheet, page, scores_sheet, CouncilAverages, Feedback};
use crate::report::decision::Decision;
use crate::report::director;
use crate::report::figures::{headline, SMALL_N};
use crate::report::styles::{self, opt_pct, table_at, text, Styles};
use crate::report::{Review, Row};
use crate::xlsx::fit;

/// One Assistant Director and the rows of their partnerships in the review.
#[derive(Debug, Clone)]
pub struct Pack<'r, 'a> {
    pub name: String,
    pub email: String,
    pub rows: Vec<&'r Row<'a>>,
}

/// The Assistant Directors with an email in the register, each with their partnerships
/// in the review (register order); and the partnerships in the review whose Assistant
/// Director has no email, which get no pack and are listed by the run.
pub fn packs<'r, 'a>(review: &'r Review<'a>) -> (Vec<Pack<'r, 'a>>, Vec<&'r Row<'a>>) {
    let mut by: BTreeMap<String, Pack<'r, 'a>> = BTreeMap::new();
    let mut without = Vec::new();
    for r in review.rows.iter().filter(|r| r.in_review()) {
        let p = r.partnership;
        match p
            .assistant_director_email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
        {
            Some(email) => by
                .entry(email.to_ascii_lowercase())
                .or_insert_with(|| Pack {
                    name: p.assistant_director.clone(),
                    email: email.to_string(),
                    rows: Vec::new(),
                })
                .rows
                .push(r),
            None => without.push(r),
        }
    }
    (by.into_values().collect(), without)
}

/// The pack's file name: `ad-pack_2026_angela-hutchings.xlsx`.
pub fn file_name(pack: &Pack, year: i32) -> String {
    let slug: String = pack
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect::<String>()
        .split('-')
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join("-");
    let slug = if slug.is_empty() {
        pack.email.split('@').next().unwrap_or("ad").to_string()
    } else {
        slug
    };
    format!("ad-pack_{year}_{slug}.xlsx")
}

/// Builds one Assistant Director's workbook. `feedbacks` may hold every partnership's;
/// only this pack's partnerships are used.
pub fn workbook(review: &Review, pack: &Pack, feedbacks: &[Feedback]) -> anyhow::Result<Workbook> {
    let mut wb = Workbook::new();
    wb.set_default_format(&styles::base(), 19, 72)?;
    wb.set_properties(&page::properties(
        &format!(
            "Partnership review {}: {}'s partnerships",
            review.year, pack.name
        ),
        &review.council,
        review.generated_at.as_deref(),
    )?);
    let st = Styles::default();
    // The review's own page for this Assistant Director, so the two cannot drift.
    let decisions: Vec<(&Row, &Decision)> = review
        .decisions
        .iter()
        .map(|d| (&review.rows[d.row], d))
        .filter(|(r, _)| pack.rows.iter().any(|x| std::ptr::eq(*x, *r)))
        .collect();
    director::page(
        wb.add_worksheet(),
        &st,
        review,
        &pack.name,
        &pack.rows,
        &decisions,
    )?;
    headline_sheet(wb.add_worksheet(), &st, review)?;
    for row in &pack.rows {
        let Some(fb) = feedbacks
            .iter()
            .find(|f| f.partnership_id.eq_ignore_ascii_case(&row.partnership.id))
        else {
            continue;
        };
        let tag: String = fb
            .partnership_id
            .chars()
            .filter(char::is_ascii_alphanumeric)
            .collect();
        let id = short_id(&fb.partnership_id);
        scores_sheet::scores_sheet(wb.add_worksheet(), &st, fb, &format!("{id} scores"), &tag)?;
        discussion_sheet::discussion_sheet(
            wb.add_worksheet(),
            &st,
            fb,
            &format!("{id} discussion"),
            &tag,
        )?;
        if objectives_sheet::wanted(fb) {
            let ws = wb.add_worksheet();
            objectives_sheet::sheet(ws, &st, fb, &format!("{id} objectives"), &tag)?;
        }
    }
    wb.worksheet_from_index(0)?.set_active(true);
    Ok(wb)
}

/// A partnership id short enough for a sheet name (31 characters with " discussion").
fn short_id(id: &str) -> String {
    id.chars()
        .filter(|c| !matches!(c, '[' | ']' | ':' | '*' | '?' | '/' | '\\' | '\''))
        .take(19)
        .collect()
}

/// A4 page setup for the pack's own sheets.
fn page_setup(ws: &mut Worksheet, review: &Review, who: &str, sheet: &str, landscape: bool) {
    let title = format!("Partnership review {}", review.year);
    page::a4(ws, &review.council, who, &title, sheet, landscape);
}

/// The council-wide headline: counts and averages over every partnership, naming none.
fn headline_sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    let name = "Council headline";
    ws.set_name(name)?;
    let widths = [40.0, 12.0, 14.0];
    let y = review.year;
    let h = headline(&review.rows, &review.scored);
    let avg = CouncilAverages::of(review);
    ws.write_with_format(0, 0, format!("The council's partnerships, {y}"), &st.title)?;
    ws.set_row_height(0, 24)?;
    styles::note(
        ws,
        1,
        &format!("Every partnership in the {y} review, for comparison with yours. Averages are over the partnerships scored in {y} (n), and are left out over fewer than {SMALL_N}."),
        &widths,
        &st.subtitle,
    )?;
    let mut lines: Vec<(String, Option<f64>, Option<usize>)> = vec![
        ("Partnerships in the review".into(), None, Some(h.in_review)),
        (
            format!(
                "Self-assessments scored (of {} due)",
                h.assessments_expected
            ),
            None,
            Some(h.scored),
        ),
        (
            format!(
                "Forms received (of {} due, one per respondent)",
                h.forms_due
            ),
            None,
            Some(h.received),
        ),
    ];
    for (label, n) in &h.bands {
        lines.push((format!("{label} band"), None, Some(*n)));
    }
    lines.extend([
        (format!("Improved on {}", y - 1), None, Some(h.improved)),
        (format!("Declined on {}", y - 1), None, Some(h.declined)),
        ("Steady".into(), None, Some(h.steady)),
        ("Outstanding".into(), None, Some(h.outstanding)),
    ]);
    let shown = |a: crate::report::figures::Average| (a.n >= SMALL_N).then_some(a.value).flatten();
    lines.push((
        "Average overall score %".into(),
        shown(avg.overall),
        Some(avg.overall.n),
    ));
    for s in review.scored.sections.iter().filter(|s| s.is_scored()) {
        if let Some(a) = avg.sections.get(&s.id) {
            lines.push((format!("Average % {}", s.title), shown(*a), Some(a.n)));
        }
    }
    let top = 3;
    table_at(
        ws,
        st,
        top,
        0,
        &["Headline".into(), "Average %".into(), "Number (n)".into()],
        lines.len(),
        "CouncilHeadline",
    )?;
    ws.set_row_height(top, 32)?;
    for (i, (label, pct, n)) in lines.iter().enumerate() {
        let r = top + 1 + i as u32;
        text(ws, r, 0, label, &st.wrap)?;
        opt_pct(ws, r, 1, *pct, &st.pct)?;
        match n {
            Some(n) => ws.write_number_with_format(r, 2, *n as f64, &st.number)?,
            None => ws.write_string_with_format(r, 2, "", &st.text)?,
        };
        ws.set_row_height(r, fit(&[(label, widths[0])]))?;
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    page_setup(ws, review, "Council headline", name, false);
    Ok(())
}

/// Writes every pack into `dir`, atomically; returns (pack, path) pairs.
pub fn write_all<'p, 'r, 'a>(
    review: &Review,
    packs: &'p [Pack<'r, 'a>],
    feedbacks: &[Feedback],
    dir: &Path,
) -> anyhow::Result<Vec<(&'p Pack<'r, 'a>, PathBuf)>> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    let mut out = Vec::new();
    for pack in packs {
        let path = dir.join(file_name(pack, review.year));
        let mut wb = workbook(review, pack, feedbacks)?;
        crate::output::write_atomic_with(&path, |f| {
            wb.save_to_writer(std::io::BufWriter::new(f))?;
            Ok(())
        })?;
        out.push((pack, path));
    }
    Ok(out)
}
