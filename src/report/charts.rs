//! Charts: each partnership's overall score this year and last, and the section
//! averages like for like, each with the band thresholds drawn as lines and the data
//! in the table beside it.

use rust_xlsxwriter::{
    Chart, ChartFont, ChartFormat, ChartLegendPosition, ChartLine, ChartLineDashType,
    ChartSolidFill, ChartType, Color, Worksheet,
};

use super::figures::sections;
use super::gather::Review;
use super::row::Row;
use super::styles::{opt_pct, print_setup, table, text, Styles, LAST_YEAR, THIS_YEAR};

/// Most partnerships shown as bars in the per-partnership chart.
const CHART_LIMIT: usize = 40;

/// Chart sizes in pixels, and the rows (19 px each) they cover.
const SECTION_CHART_HEIGHT: u32 = 360;
const SECTION_CHART_ROWS: u32 = 20;

/// The band thresholds above the lowest band, highest first: (label, min).
fn thresholds(review: &Review) -> Vec<(String, f64)> {
    let mut b: Vec<(String, f64)> = review
        .scored
        .bands
        .iter()
        .filter(|b| b.min > 0.0)
        .map(|b| (b.label.clone(), b.min))
        .collect();
    b.sort_by(|x, y| y.1.total_cmp(&x.1));
    b
}

/// A chart of this year against last year over rows `first..=last` of the table at
/// column 0 (label), 1 (this year), 2 (last year), then one column per threshold.
fn chart(
    kind: ChartType,
    title: &str,
    names: (&str, &str),
    rows: (u32, u32),
    lines: &[(String, f64)],
) -> Chart {
    chart_at(kind, title, names, rows, 0, lines)
}

/// [`chart`] over a table whose first column is `col`.
fn chart_at(
    kind: ChartType,
    title: &str,
    names: (&str, &str),
    rows: (u32, u32),
    col: u16,
    lines: &[(String, f64)],
) -> Chart {
    let (first, last) = rows;
    let mut chart = Chart::new(kind);
    chart
        .title()
        .set_name(title)
        .set_font(ChartFont::new().set_size(13).set_bold());
    chart.legend().set_position(ChartLegendPosition::Bottom);
    for (i, (name, colour)) in [(names.0, THIS_YEAR), (names.1, LAST_YEAR)]
        .iter()
        .enumerate()
    {
        chart
            .add_series()
            .set_name(*name)
            .set_categories(("Charts", first, col, last, col))
            .set_values((
                "Charts",
                first,
                col + 1 + i as u16,
                last,
                col + 1 + i as u16,
            ))
            .set_format(
                ChartFormat::new()
                    .set_solid_fill(ChartSolidFill::new().set_color(Color::RGB(*colour))),
            );
    }
    let mut line = Chart::new(ChartType::Line);
    for (i, (label, min)) in lines.iter().enumerate() {
        let dash = if i == 0 {
            ChartLineDashType::Dash
        } else {
            ChartLineDashType::RoundDot
        };
        line.add_series()
            .set_name(format!("{label} from {min:.0}").as_str())
            .set_categories(("Charts", first, col, last, col))
            .set_values((
                "Charts",
                first,
                col + 3 + i as u16,
                last,
                col + 3 + i as u16,
            ))
            .set_format(
                ChartFormat::new().set_line(
                    ChartLine::new()
                        .set_color(Color::RGB(0x404040))
                        .set_width(1.5)
                        .set_dash_type(dash),
                ),
            );
    }
    if !lines.is_empty() {
        chart.combine(&line);
    }
    if kind != ChartType::Bar {
        chart.y_axis().set_min(0).set_max(100).set_name("%");
    }
    chart
}

pub fn sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    ws.set_name("Charts")?;
    let (y, py) = (review.year, review.year - 1);
    let lines = thresholds(review);
    // Only partnerships that owed a self-assessment this year: an exiting or proposed
    // one owes none, so a missing bar would read as a fall.
    let mut scored: Vec<&Row> = review
        .rows
        .iter()
        .filter(|r| r.expected.as_deref() == Some(review.scored.id.as_str()))
        .filter(|r| r.overall.is_some() || r.previous.is_some())
        .collect();
    // Highest first (unscored this year last), so the weakest sit at the bottom.
    scored.sort_by(|a, b| {
        let key = |r: &Row| r.overall.unwrap_or(-1.0);
        key(b)
            .total_cmp(&key(a))
            .then_with(|| a.partnership.id.cmp(&b.partnership.id))
    });
    let missing = scored.iter().filter(|r| r.overall.is_none()).count();
    let mut note = String::new();
    if scored.len() > CHART_LIMIT {
        // The weakest are the ones that need attention.
        scored.drain(..scored.len() - CHART_LIMIT);
        note.push_str(&format!(
            "The chart shows the {CHART_LIMIT} partnerships with the lowest overall score. "
        ));
    }
    note.push_str(&format!(
        "Partnerships that owed a {y} self-assessment, highest score first: {y} dark blue, {py} light blue. The value axis has a line every {} points, so the band thresholds ({}) are marked. A partnership with no {y} return is labelled so: it has only a {py} bar, which is not a fall.",
        step(&lines),
        lines.iter().map(|(l, m)| format!("{l} from {m:.0}")).collect::<Vec<_>>().join(", ")
    ));
    super::styles::title(
        ws,
        st,
        review,
        "Charts",
        &note,
        &[40.0, 8.0, 8.0, 4.0, 40.0, 9.0, 9.0],
    )?;
    let height = 110 + 34 * scored.len().max(1) as u32;
    let rows_high = height / 19 + 1;
    let top = 3 + rows_high.max(SECTION_CHART_ROWS);
    let headers = vec!["Partnership".to_string(), y.to_string(), py.to_string()];
    table(ws, st, top, &headers, scored.len(), "ChartOverall")?;
    for (i, row) in scored.iter().enumerate() {
        let r = top + 1 + i as u32;
        let mut label = format!(
            "{} {}",
            row.partnership.id,
            super::short_name(&row.partnership.name, 26)
        );
        if row.overall.is_none() {
            label.push_str(&format!(" (no {y} return)"));
        } else if row.previous.is_none() {
            label.push_str(&format!(" (none in {py})"));
        }
        text(ws, r, 0, &label, &st.text)?;
        opt_pct(ws, r, 1, row.overall, &st.pct)?;
        opt_pct(ws, r, 2, row.previous, &st.pct)?;
    }
    let last = top + scored.len().max(1) as u32;
    let mut c = chart(
        ChartType::Bar,
        &format!("Overall % by partnership: {y} and {py}"),
        (&y.to_string(), &py.to_string()),
        (top + 1, last),
        &[],
    );
    c.set_alt_text(format!(
        "Bars: overall % of the {} partnerships owing a {y} self-assessment, highest first, {y} dark, {py} light; gridlines every {} points mark the bands. {missing} have no {y} return (labelled). Data in the table below.",
        scored.len(),
        step(&lines)
    ));
    // In a bar chart the category axis is the vertical one (`y_axis` here) and runs
    // bottom to top: reversed, the table's first row is at the top.
    c.y_axis()
        .set_reverse()
        .set_font(ChartFont::new().set_size(8));
    c.x_axis()
        .set_min(0)
        .set_max(100)
        .set_major_unit(step(&lines))
        .set_major_gridlines(true)
        .set_name("%");
    c.set_width(620).set_height(height);
    ws.insert_chart(3, 0, &c)?;

    let figures = sections(&review.rows, &review.scored);
    let n = figures.first().map_or(0, |f| f.same.n);
    let (now_name, before_name) = (format!("{y} (same {n})"), format!("{py} (same {n})"));
    let mut headers2 = vec!["Section".to_string(), now_name.clone(), before_name.clone()];
    headers2.extend(lines.iter().map(|(l, m)| format!("{l} from {m:.0}")));
    let col = 4u16;
    let top2 = top;
    section_table(ws, st, top2, col, &headers2, &figures, &lines)?;
    let last2 = top2 + figures.len().max(1) as u32;
    let mut c = chart_at(
        ChartType::Column,
        &format!("Average section %, like for like: the {n} partnerships scored in {py} and {y}"),
        (&now_name, &before_name),
        (top2 + 1, last2),
        col,
        &lines,
    );
    c.set_alt_text(format!(
        "Average % of the {} sections in table order, like for like: the {n} partnerships scored in both {py} (light) and {y} (dark), 0-100, lines at the band thresholds. Data in the table below.",
        figures.len()
    ));
    c.set_width(520).set_height(SECTION_CHART_HEIGHT);
    ws.insert_chart(3, col, &c)?;
    // Column D is the gap that the first chart spans beyond its table.
    let widths = [40.0, 8.0, 8.0, 26.0, 30.0, 9.0, 9.0, 9.0, 9.0];
    for (i, w) in widths.iter().enumerate() {
        ws.set_column_width(i as u16, *w)?;
    }
    print_setup(ws, review, "Charts", true, None)?;
    ws.set_print_fit_to_pages(1, 1);
    Ok(())
}

/// The value axis' step: the largest of 25, 10 and 5 points that every band threshold
/// is a multiple of, so a gridline falls on each threshold.
fn step(lines: &[(String, f64)]) -> f64 {
    [25.0, 10.0, 5.0, 1.0]
        .into_iter()
        .find(|s| lines.iter().all(|(_, m)| (m / s).fract().abs() < 1e-9))
        .unwrap_or(1.0)
}

/// The section table at column `col`: title, this year, last year, then thresholds.
fn section_table(
    ws: &mut Worksheet,
    st: &Styles,
    top: u32,
    col: u16,
    headers: &[String],
    figures: &[super::figures::SectionFigures],
    lines: &[(String, f64)],
) -> anyhow::Result<()> {
    super::styles::table_at(ws, st, top, col, headers, figures.len(), "ChartSections")?;
    for (i, f) in figures.iter().enumerate() {
        let r = top + 1 + i as u32;
        text(ws, r, col, &f.title, &st.wrap)?;
        opt_pct(ws, r, col + 1, f.same.now, &st.pct)?;
        opt_pct(ws, r, col + 2, f.same.before, &st.pct)?;
        for (k, (_, m)) in lines.iter().enumerate() {
            ws.write_number_with_format(r, col + 3 + k as u16, *m, &st.number)?;
        }
    }
    Ok(())
}
