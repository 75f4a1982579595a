//! The rows of a risk register section: likelihood × impact with a score and rating.

use rust_xlsxwriter::Worksheet;

use super::styles::Styles;
use super::validation::validation_for;
use crate::contract;
use crate::template::{Question, QuestionType, Template};

#[allow(clippy::too_many_arguments)]
pub(super) fn write_risk_row<'q>(
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
    // A starting height with room to write; it grows with the text.
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
