//! The whole workbook for one partnership's respondent, and its hidden `_ptk` sheet.

use rust_xlsxwriter::{DocProperties, Workbook, Worksheet};

use super::form_sheet::write_form_sheet;
use super::instructions::write_instructions;
use super::settings::IssueSettings;
use super::styles::Styles;
use crate::contract;
use crate::objectives::Carried;
use crate::register::Partnership;
use crate::respondents::Respondent;
use crate::score::PriorScore;
use crate::template::{Section, Template};

/// Builds the complete workbook for one respondent of a partnership, as xlsx bytes;
/// `respondents` is how many people are sent this form for the partnership.
pub fn build_workbook(
    template: &Template,
    p: &Partnership,
    who: &Respondent,
    respondents: usize,
    settings: &IssueSettings,
    prior: &[PriorScore],
    carried: &Carried,
) -> anyhow::Result<Vec<u8>> {
    let st = Styles::new();
    let mut wb = Workbook::new();
    let created = crate::xlsx::excel_date(settings.issued_on)?;
    wb.set_properties(
        &DocProperties::new()
            .set_title(format!(
                "{} {} – {} – {}",
                template.title, settings.year, p.name, who.name
            ))
            .set_author(&settings.council)
            .set_company(&settings.council)
            .set_subject(format!("{} ({})", template.title, template.id))
            .set_creation_datetime(&created),
    );

    let mut cell_map: Vec<(String, String)> = Vec::new();
    {
        let ws = wb.add_worksheet();
        ws.set_name("Instructions")?;
        write_instructions(ws, &st, template, p, who, respondents, settings, prior)?;
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
            who,
            settings,
            sheet,
            &sections,
            carried,
            &mut cell_map,
        )?;
    }
    {
        let ws = wb.add_worksheet();
        ws.set_name(contract::ID_SHEET)?;
        write_id_sheet(ws, template, p, who, settings, &cell_map)?;
    }
    for (name, reference) in &cell_map {
        wb.define_name(name, &format!("={reference}"))?;
    }
    // Open on the Instructions sheet.
    wb.worksheet_from_index(0)?.set_active(true);

    rows_grow_with_their_text(&wb.save_to_buffer()?)
}

/// Makes every row height a starting height only, as Excel does for rows nobody
/// resized: the writer marks each row it gives a height as fixed (`customHeight`),
/// and Excel and LibreOffice never grow a fixed row, so a long answer would be cut
/// off on screen and on paper. Without the mark, both fit the row to its text as the
/// officer types. The issue-time heights stay, so the empty form still shows each
/// question whole (LibreOffice does not fit rows when it opens an xlsx).
fn rows_grow_with_their_text(xlsx: &[u8]) -> anyhow::Result<Vec<u8>> {
    use std::io::{Cursor, Read, Write};
    let mut zin = zip::ZipArchive::new(Cursor::new(xlsx))?;
    let mut out = zip::ZipWriter::new(Cursor::new(Vec::with_capacity(xlsx.len())));
    // The writer's own fixed timestamp and compression, so output stays byte-identical.
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .last_modified_time(zip::DateTime::default());
    for i in 0..zin.len() {
        let mut entry = zin.by_index(i)?;
        let name = entry.name()?.into_owned();
        let mut data = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut data)?;
        if name.starts_with("xl/worksheets/sheet") && name.ends_with(".xml") {
            let xml = String::from_utf8(data)?;
            data = xml.replace(" customHeight=\"1\"", "").into_bytes();
        }
        out.start_file(name, options)?;
        out.write_all(&data)?;
    }
    Ok(out.finish()?.into_inner())
}

fn write_id_sheet(
    ws: &mut Worksheet,
    template: &Template,
    p: &Partnership,
    who: &Respondent,
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
        (contract::KEY_RESPONDENT_ID, who.id.clone()),
        (contract::KEY_RESPONDENT_NAME, who.name.clone()),
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
    use std::io::Read;

    fn sheet_xml(xlsx: &[u8]) -> String {
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(xlsx)).unwrap();
        let mut s = String::new();
        z.by_name("xl/worksheets/sheet1.xml")
            .unwrap()
            .read_to_string(&mut s)
            .unwrap();
        s
    }

    #[test]
    fn row_heights_become_starting_heights() {
        let mut wb = Workbook::new();
        let ws = wb.add_worksheet();
        ws.write(0, 0, "a long answer").unwrap();
        ws.set_row_height(0, 45).unwrap();
        let written = wb.save_to_buffer().unwrap();
        assert!(sheet_xml(&written).contains(r#"ht="45" customHeight="1""#));
        let out = rows_grow_with_their_text(&written).unwrap();
        let xml = sheet_xml(&out);
        assert!(xml.contains(r#"ht="45""#), "{xml}");
        assert!(!xml.contains("customHeight"), "{xml}");
        // Same input, same bytes.
        assert_eq!(out, rows_grow_with_their_text(&written).unwrap());
    }
}
