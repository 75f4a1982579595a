//! A feedback on two portrait A4 pages: "Your scores" (scores against last year and
//! the council's average, strongest and weakest statements) and "For discussion"
//! (where the respondents differ, questions to discuss, what they wrote, what happens
//! next). Each table has a marked header row; changes carry an arrow, never colour
//! alone; notes merge across columns only above or below a table, never over data.
//!
//! Each page is its own module ([`super::scores_sheet`], [`super::discussion_sheet`],
//! [`super::objectives_sheet`]) over the shared [`super::page`]; this one only puts
//! them in a workbook.

use rust_xlsxwriter::Workbook;

use super::page::properties;
use super::{discussion_sheet, objectives_sheet, scores_sheet, Feedback};
use crate::report::styles::{self, Styles};

/// The feedback workbook of one partnership, ready to save.
pub fn workbook(fb: &Feedback) -> anyhow::Result<Workbook> {
    let mut wb = Workbook::new();
    wb.set_default_format(&styles::base(), 19, 72)?;
    wb.set_properties(&properties(
        &format!("Partnership feedback {}: {}", fb.year, fb.partnership),
        &fb.council,
        fb.generated_at.as_deref(),
    )?);
    let st = Styles::default();
    scores_sheet::scores_sheet(wb.add_worksheet(), &st, fb, "Your scores", "")?;
    discussion_sheet::discussion_sheet(wb.add_worksheet(), &st, fb, "For discussion", "")?;
    if objectives_sheet::wanted(fb) {
        let ws = wb.add_worksheet();
        objectives_sheet::sheet(ws, &st, fb, "Objectives and actions", "")?;
    }
    wb.worksheet_from_index(0)?.set_active(true);
    Ok(wb)
}
