//! About: how the workbook was made, the bands and how scores are computed.

use rust_xlsxwriter::Worksheet;

use super::gather::Review;
use super::styles::{print_setup, text, Styles};
use crate::xlsx::fit;

pub fn sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    ws.set_name("About")?;
    let widths = [28.0, 70.0];
    super::styles::title(
        ws,
        st,
        review,
        "About this review",
        "How this workbook was made.",
        &widths,
    )?;
    let versions = review
        .templates
        .iter()
        .map(|t| format!("{} v{}", t.id, t.version))
        .collect::<Vec<_>>()
        .join(", ");
    let bands = review
        .scored
        .bands
        .iter()
        .map(|b| {
            format!(
                "{} {}",
                b.label,
                super::overview::band_range(review, &b.label)
                    .trim_start_matches("Overall score ")
                    .trim_end_matches('.')
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    let rows: Vec<(&str, String)> = vec![
        ("Council", review.council.clone()),
        ("Review year", review.year.to_string()),
        ("Made by", format!("ptk {}", env!("CARGO_PKG_VERSION"))),
        ("Templates", versions),
        ("History store", review.store_path.clone()),
        ("Ingest runs this year", review.runs.to_string()),
        ("Files read this year", review.files_read.to_string()),
        ("Partnerships in the register", review.rows.len().to_string()),
        ("Data as of", review.generated_at.as_deref().map_or("no returns ingested yet".into(), super::readable_time)),
        ("Bands (overall %)", bands),
        ("Scores", "Section % = points ÷ points possible (not-applicable answers left out); overall % = weighted mean of section %. Where several respondents answered, each statement's points are the mean of their scored answers. Shown to one decimal place, stored unrounded.".into()),
        ("Comparisons", format!("Every change against {} compares the same partnerships in both years, scored by the same number of respondents (like for like). Every average says how many partnerships it covers (n); one over fewer than {} is marked {}.", review.year - 1, super::figures::SMALL_N, super::styles::SMALL_MARK)),
    ];
    for (i, (k, v)) in rows.iter().enumerate() {
        let r = 3 + i as u32;
        ws.write_with_format(r, 0, *k, &st.label)?;
        text(ws, r, 1, v, &st.wrap)?;
        ws.set_row_height(r, fit(&[(v, widths[1])]))?;
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    print_setup(ws, review, "About", false, None)?;
    Ok(())
}
