//! Findings: every problem found in the files ingested for the year, with the question
//! number as the form shows it.

use rust_xlsxwriter::Worksheet;

use super::gather::Review;
use super::styles::{print_setup, table, text, Styles};
use crate::xlsx::fit_row;

pub fn sheet(ws: &mut Worksheet, st: &Styles, review: &Review) -> anyhow::Result<()> {
    ws.set_name("Findings")?;
    ws.set_default_row_height(crate::xlsx::ROW_HEIGHT);
    let widths = [26.0, 12.0, 12.0, 7.0, 10.0, 9.0, 16.0, 56.0];
    super::styles::title(ws, st, review, "Validation findings", "Every problem found in the files ingested for this year. Errors reject a return; warnings do not. 'Question' is the number printed on the form (1.2 = section 1, question 2). Codes are explained in the ptk documentation (docs/findings.md).", &widths)?;
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
    ws.set_row_height(top, 20)?;
    for (i, x) in review.findings.iter().enumerate() {
        let f = &x.finding;
        let r = top + 1 + i as u32;
        let file = std::path::Path::new(&f.path)
            .file_name()
            .map_or(f.path.clone(), |n| n.to_string_lossy().into_owned());
        fit_row(
            ws,
            r,
            &[
                (&file, widths[0]),
                (&f.message, widths[7] * 1.1),
                (&f.code, widths[6]),
            ],
        )?;
        for (c, v) in [
            file.as_str(),
            &f.partnership_id,
            &f.sheet,
            &f.cell,
            &x.number,
            &f.severity,
            &f.code,
            &f.message,
        ]
        .iter()
        .enumerate()
        {
            text(ws, r, c as u16, v, &st.wrap)?;
        }
    }
    for (c, w) in widths.iter().enumerate() {
        ws.set_column_width(c as u16, *w)?;
    }
    print_setup(ws, review, "Findings", true, Some(top))?;
    Ok(())
}
