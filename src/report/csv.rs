//! `scores-<year>.csv`: this year's scores in long format for Power BI and Excel.

use super::gather::Review;
use crate::score::OVERALL;

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
    let band = |pct: f64| {
        review
            .scored
            .band_for(pct)
            .map(|b| b.label.clone())
            .unwrap_or_default()
    };
    for r in review.rows.iter() {
        let Some(o) = r.overall else { continue };
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
