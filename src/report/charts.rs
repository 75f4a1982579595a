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
const CHART_WIDTH: u32 = 1000;
const CHART_HEIGHT: u32 = 520;
const CHART_ROWS: u32 = 28;
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
            .set_categories(("Charts", first, 0, last, 0))
            .set_values(("Charts", first, 1 + i as u16, last, 1 + i as u16))
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
            .set_categories(("Charts", first, 0, last, 0))
            .set_values(("Charts", first, 3 + i as u16, last, 3 + i as u16))
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
    chart.y_axis().set_min(0).set_max(100).set_name("%");
    chart
}

pub fn sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    ws.set_name("Charts")?;
    let (y, py) = (review.year, review.year - 1);
    let lines = thresholds(review);
    let mut scored: Vec<&Row> = review
        .rows
        .iter()
        .filter(|r| r.overall.is_some() || r.previous.is_some())
        .collect();
    let missing = scored.iter().filter(|r| r.overall.is_none()).count();
    // A bar per partnership is readable up to a few dozen; beyond that the chart shows
    // the lowest-scoring ones, which are the ones that need attention.
    let mut note = if scored.len() > CHART_LIMIT {
        scored.sort_by(|a, b| {
            let key = |r: &Row| r.overall.or(r.previous).unwrap_or(0.0);
            key(a)
                .total_cmp(&key(b))
                .then_with(|| a.partnership.id.cmp(&b.partnership.id))
        });
        scored.truncate(CHART_LIMIT);
        format!("The first chart shows the {CHART_LIMIT} partnerships with the lowest overall score; every partnership is on the Summary sheet. ")
    } else {
        String::new()
    };
    note.push_str(&format!(
        "This year is dark blue, {py} light blue; the dashed and dotted lines are the band thresholds. Partnerships with no {y} return are labelled so: they have only a {py} bar, which is not a fall. The data behind each chart is in the table below it."
    ));
    super::styles::title(ws, st, review, "Charts", &note, &[46.0, 9.0, 9.0, 9.0, 9.0])?;
    // Each chart full width across the page, its table under it.
    let top = 3 + CHART_ROWS;
    let mut headers = vec!["Partnership".to_string(), y.to_string(), py.to_string()];
    headers.extend(lines.iter().map(|(l, m)| format!("{l} from {m:.0}")));
    table(ws, st, top, &headers, scored.len(), "ChartOverall")?;
    for (i, row) in scored.iter().enumerate() {
        let r = top + 1 + i as u32;
        let mut label = super::short_name(&row.partnership.name, 34);
        if row.overall.is_none() {
            label.push_str(&format!(" (no {y} return)"));
        } else if row.previous.is_none() {
            label.push_str(&format!(" (none in {py})"));
        }
        text(ws, r, 0, &label, &st.text)?;
        opt_pct(ws, r, 1, row.overall, &st.pct)?;
        opt_pct(ws, r, 2, row.previous, &st.pct)?;
        for (k, (_, m)) in lines.iter().enumerate() {
            ws.write_number_with_format(r, 3 + k as u16, *m, &st.number)?;
        }
    }
    let last = top + scored.len().max(1) as u32;
    let mut c = chart(
        ChartType::Column,
        &format!("Overall % by partnership: {y} and {py}"),
        (&y.to_string(), &py.to_string()),
        (top + 1, last),
        &lines,
    );
    c.set_alt_text(format!(
        "Overall score of {} partnerships, {y} dark and {py} light, 0-100, lines at the band thresholds {}. {missing} have no {y} return (labelled) and show only a {py} bar. Data in the table below.",
        scored.len(),
        lines.iter().map(|(l, m)| format!("{l} {m:.0}")).collect::<Vec<_>>().join(" and ")
    ));
    c.x_axis()
        .set_name("Partnership")
        .set_font(ChartFont::new().set_rotation(-45).set_size(8));
    c.set_width(CHART_WIDTH).set_height(CHART_HEIGHT);
    ws.insert_chart(3, 0, &c)?;

    let figures = sections(&review.rows, &review.scored);
    let n = figures.first().map_or(0, |f| f.same.n);
    let chart2 = last + 2;
    let top2 = chart2 + SECTION_CHART_ROWS;
    let (now_name, before_name) = (format!("{y} (same {n})"), format!("{py} (same {n})"));
    let mut headers2 = vec!["Section".to_string(), now_name.clone(), before_name.clone()];
    headers2.extend(lines.iter().map(|(l, m)| format!("{l} from {m:.0}")));
    table(ws, st, top2, &headers2, figures.len(), "ChartSections")?;
    for (i, f) in figures.iter().enumerate() {
        let r = top2 + 1 + i as u32;
        text(ws, r, 0, &f.title, &st.text)?;
        opt_pct(ws, r, 1, f.same.now, &st.pct)?;
        opt_pct(ws, r, 2, f.same.before, &st.pct)?;
        for (k, (_, m)) in lines.iter().enumerate() {
            ws.write_number_with_format(r, 3 + k as u16, *m, &st.number)?;
        }
    }
    let last2 = top2 + figures.len().max(1) as u32;
    let mut c = chart(
        ChartType::Column,
        &format!("Average section %, like for like: the {n} partnerships scored in {py} and {y}"),
        (&now_name, &before_name),
        (top2 + 1, last2),
        &lines,
    );
    c.set_alt_text(format!(
        "Average % of the {} sections in table order, like for like: the {n} partnerships scored in both {py} (light) and {y} (dark), 0-100, lines at the band thresholds. Data in the table below.",
        figures.len()
    ));
    c.set_width(CHART_WIDTH).set_height(SECTION_CHART_HEIGHT);
    ws.insert_chart(chart2, 0, &c)?;
    // Page 1: the chart; then its table; then the section chart and its table.
    ws.set_page_breaks(&[top, chart2])?;
    ws.set_column_width(0, 46)?;
    for col in 1..headers.len().max(headers2.len()) as u16 {
        ws.set_column_width(col, 9)?;
    }
    print_setup(ws, review, "Charts", true, None)?;
    Ok(())
}
