//! Repairs made in the unpacked copy (see `unpack`) so that calamine reads workbooks
//! other programs write and Excel or LibreOffice open, one function per repair:
//! - [`utf16_to_utf8`]: an XML part written as UTF-16 becomes UTF-8 (calamine reads
//!   UTF-8 only);
//! - [`link_workbook`]: a package whose `_rels/.rels` does not name its workbook gets
//!   the link;
//! - [`link_sheets`]: a sheet listed in `xl/workbook.xml` without a relationship id, or
//!   with one its relationships part does not hold, is linked to its part by sheet
//!   number, then by position (`xl/worksheets/sheetN.xml`);
//! - [`drop_macro_sheets`]: Excel 4.0 macro sheets (which calamine refuses: "Unrecognized
//!   sheet:type") are left out of the sheet list; a ptk form never has one.
//!
//! Each works on the parts as read, which the copy's size cap already bounds; a repair
//! adds at most a few hundred bytes a sheet.

use quick_xml::events::{BytesStart, Event};

use super::memory::reserve;
use super::ReadError;

/// The parts that say where a workbook's sheets are.
pub(super) const PACKAGE_RELS: &str = "_rels/.rels";
pub(super) const WORKBOOK: &str = "xl/workbook.xml";
pub(super) const WORKBOOK_RELS: &str = "xl/_rels/workbook.xml.rels";

const REL_NS: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const WORKSHEET_TYPE: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet";
const OFFICE_DOCUMENT_TYPE: &str =
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument";
const EMPTY_RELS: &str =
    "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\"></Relationships>";

/// The three parts as read (already UTF-8); `None` where the file has no such part.
#[derive(Debug, Default)]
pub(super) struct SheetParts {
    pub package_rels: Option<Vec<u8>>,
    pub workbook: Option<Vec<u8>>,
    pub workbook_rels: Option<Vec<u8>>,
}

impl SheetParts {
    /// The (possibly repaired) part of that name, taken out so it is written once.
    pub fn take(&mut self, name: &str) -> Option<Vec<u8>> {
        match name {
            PACKAGE_RELS => self.package_rels.take(),
            WORKBOOK => self.workbook.take(),
            WORKBOOK_RELS => self.workbook_rels.take(),
            _ => None,
        }
    }

    /// Applies every repair; `has_part` says whether the file holds a part.
    pub fn repair(&mut self, has_part: &dyn Fn(&str) -> bool) -> Result<(), ReadError> {
        link_workbook(self);
        link_sheets(self, has_part)?;
        drop_macro_sheets(self);
        Ok(())
    }
}

/// The encoding of a part that starts as UTF-16 does: a byte-order mark, or `<` as a
/// 16-bit unit. `true` for little-endian.
pub(super) fn utf16_order(head: &[u8]) -> Option<bool> {
    match head {
        [0xFF, 0xFE, ..] | [b'<', 0, ..] => Some(true),
        [0xFE, 0xFF, ..] | [0, b'<', ..] => Some(false),
        _ => None,
    }
}

/// A UTF-16 XML part as UTF-8, its declaration saying so (`None`: not UTF-16). The
/// UTF-8 size is counted before any memory is taken for it, and must fit in `room`
/// (what is left under the copy's cap, `cap`). Text that is not valid UTF-16 is damage.
pub(super) fn utf16_to_utf8(
    name: &str,
    part: &[u8],
    room: u64,
    cap: u64,
) -> Result<Option<Vec<u8>>, ReadError> {
    let Some(little) = utf16_order(part) else {
        return Ok(None);
    };
    let has_bom = matches!(part, [0xFF, 0xFE, ..] | [0xFE, 0xFF, ..]);
    let body = &part[if has_bom { 2 } else { 0 }..];
    let damaged = || {
        ReadError::Damaged(format!(
            "its part {name} is marked as UTF-16 text but is not valid UTF-16"
        ))
    };
    if !body.len().is_multiple_of(2) {
        return Err(damaged());
    }
    let units = || {
        body.chunks_exact(2).map(move |u| {
            if little {
                u16::from_le_bytes([u[0], u[1]])
            } else {
                u16::from_be_bytes([u[0], u[1]])
            }
        })
    };
    let mut size: u64 = 0;
    for c in char::decode_utf16(units()) {
        size += c.map_err(|_| damaged())?.len_utf8() as u64;
    }
    if size > room {
        return Err(ReadError::UnpacksTooLarge { limit: cap });
    }
    let mut out = Vec::new();
    reserve(&mut out, usize::try_from(size).unwrap_or(usize::MAX))?;
    let mut buf = [0u8; 4];
    for c in char::decode_utf16(units()).flatten() {
        out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    }
    declare_utf8(&mut out);
    Ok(Some(out))
}

/// Makes an XML declaration's `encoding` say UTF-8 (a reader that believes a UTF-16
/// declaration would decode the UTF-8 text wrongly).
fn declare_utf8(xml: &mut Vec<u8>) {
    if !xml.starts_with(b"<?xml") {
        return;
    }
    let Some(end) = memchr::memmem::find(xml, b"?>") else {
        return;
    };
    let Some(at) = memchr::memmem::find(&xml[..end], b"encoding=") else {
        return;
    };
    let open = at + 9;
    let Some(&quote) = xml.get(open) else {
        return;
    };
    let Some(len) = memchr::memchr(quote, &xml[open + 1..end]) else {
        return;
    };
    xml.splice(open + 1..open + 1 + len, *b"UTF-8");
}

/// A relationship: its id, type and target.
struct Rel {
    id: String,
    kind: String,
    target: String,
}

/// A `<sheet>` of the workbook part: where its element is, and what it says.
struct Sheet {
    /// The start tag (or empty element).
    tag: std::ops::Range<usize>,
    /// The whole element, end tag included.
    whole: std::ops::Range<usize>,
    name: String,
    sheet_id: Option<String>,
    rel_id: Option<String>,
}

/// The value of the first attribute whose local name is `local`, as written (ids,
/// numbers and part names, which carry no entities).
fn attr(e: &BytesStart<'_>, local: &str) -> Option<String> {
    e.attributes()
        .with_checks(false)
        .flatten()
        .find(|a| a.key.local_name().as_ref() == local)
        .map(|a| a.value.into_owned())
}

/// The relationships of a relationships part, and where its root's end is (to add
/// more before it); `None` if it cannot be parsed (calamine then names the damage).
fn read_rels(xml: &[u8]) -> Option<(Vec<Rel>, usize)> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut rels = Vec::new();
    loop {
        let before = reader.buffer_position() as usize;
        match reader.read_event().ok()? {
            Event::Start(e) | Event::Empty(e) if e.local_name().as_ref() == "Relationship" => {
                rels.push(Rel {
                    id: attr(&e, "Id").unwrap_or_default(),
                    kind: attr(&e, "Type").unwrap_or_default(),
                    target: attr(&e, "Target").unwrap_or_default(),
                });
            }
            Event::Empty(e) if e.local_name().as_ref() == "Relationships" => {
                return Some((rels, before));
            }
            Event::End(e) if e.local_name().as_ref() == "Relationships" => {
                return Some((rels, before));
            }
            Event::Eof => return None,
            _ => {}
        }
    }
}

/// Adds relationships (as XML) before the end of a relationships part's root, making
/// the part if the file has none.
fn add_rels(part: &mut Option<Vec<u8>>, added: &str) {
    let mut xml = part
        .take()
        .unwrap_or_else(|| EMPTY_RELS.as_bytes().to_vec());
    if let Some((_, end)) = read_rels(&xml) {
        if xml[end..].starts_with(b"</") {
            xml.splice(end..end, added.bytes());
        } else if let Some(close) = memchr::memchr(b'>', &xml[end..]).map(|c| end + c) {
            // `<Relationships …/>`: opened and closed around the new ones.
            let name: String = String::from_utf8_lossy(&xml[end + 1..close])
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '/')
                .collect();
            let tail = format!(">{added}</{name}>");
            xml.splice(close - 1..close + 1, tail.bytes());
        }
    }
    *part = Some(xml);
}

/// The sheets the workbook part lists; `None` if the list cannot be parsed.
fn read_sheets(xml: &[u8]) -> Option<Vec<Sheet>> {
    let mut reader = quick_xml::Reader::from_reader(xml);
    let mut sheets = Vec::new();
    let mut open: Option<Sheet> = None;
    loop {
        let before = reader.buffer_position() as usize;
        let event = reader.read_event().ok()?;
        let after = reader.buffer_position() as usize;
        let sheet = |e: &BytesStart<'_>| Sheet {
            tag: before..after,
            whole: before..after,
            name: attr(e, "name").unwrap_or_default(),
            sheet_id: attr(e, "sheetId"),
            rel_id: attr(e, "id"),
        };
        match event {
            Event::Empty(e) if e.local_name().as_ref() == "sheet" => sheets.push(sheet(&e)),
            Event::Start(e) if e.local_name().as_ref() == "sheet" => open = Some(sheet(&e)),
            Event::End(e) if e.local_name().as_ref() == "sheet" => {
                if let Some(mut s) = open.take() {
                    s.whole.end = after;
                    sheets.push(s);
                }
            }
            // The list ends there: the defined names after it (a form has a hundred or
            // more) are not parsed.
            Event::End(e) if e.local_name().as_ref() == "sheets" => return Some(sheets),
            Event::Empty(e) if e.local_name().as_ref() == "sheets" => return Some(sheets),
            Event::Eof => return Some(sheets),
            _ => {}
        }
    }
}

/// A relationship target as a part name (`/xl/worksheets/sheet1.xml` or
/// `worksheets/sheet1.xml` → `xl/worksheets/sheet1.xml`).
fn part_name(target: &str) -> String {
    match target.strip_prefix('/') {
        Some(absolute) => absolute.to_string(),
        None => format!("xl/{target}"),
    }
}

/// A package whose `_rels/.rels` lacks the link to its workbook (calamine:
/// "Relationship not found") gets one, to `xl/workbook.xml`.
fn link_workbook(parts: &mut SheetParts) {
    if parts.workbook.is_none() {
        return;
    }
    let linked = match parts.package_rels.as_deref().map(read_rels) {
        Some(Some((rels, _))) => rels
            .iter()
            .any(|r| r.kind.ends_with("/relationships/officeDocument")),
        Some(None) => return, // unparseable: calamine names it
        None => false,
    };
    if !linked {
        let rel = format!(
            "<Relationship Id=\"rIdPtkWorkbook\" Type=\"{OFFICE_DOCUMENT_TYPE}\" Target=\"{WORKBOOK}\"/>"
        );
        add_rels(&mut parts.package_rels, &rel);
    }
}

/// Links each sheet the workbook part lists without a relationship id its
/// relationships part holds (some writers leave out `r:id`, or the relationships
/// part): to `xl/worksheets/sheet<sheetId>.xml`, else to the sheet at its position,
/// whichever the file holds and no other sheet uses. A listed sheet with neither is
/// damage: the file does not hold its content.
fn link_sheets(parts: &mut SheetParts, has_part: &dyn Fn(&str) -> bool) -> Result<(), ReadError> {
    let Some(workbook) = parts.workbook.as_deref() else {
        return Ok(());
    };
    let Some(sheets) = read_sheets(workbook) else {
        return Ok(());
    };
    let rels = match parts.workbook_rels.as_deref().map(read_rels) {
        Some(Some((rels, _))) => rels,
        Some(None) => return Ok(()),
        None => Vec::new(),
    };
    let resolves = |s: &Sheet| {
        s.rel_id
            .as_ref()
            .is_some_and(|id| rels.iter().any(|r| &r.id == id))
    };
    if sheets.iter().all(resolves) {
        return Ok(());
    }
    // Parts the linked sheets use; a relationship no sheet uses is free to link.
    let mut used: Vec<String> = rels
        .iter()
        .filter(|r| sheets.iter().any(|s| s.rel_id.as_ref() == Some(&r.id)))
        .map(|r| part_name(&r.target))
        .collect();
    let mut edited = workbook.to_vec();
    let mut added = String::new();
    // From the last sheet back, so the earlier sheets' places stay where they were.
    for (at, sheet) in sheets.iter().enumerate().rev() {
        if resolves(sheet) {
            continue;
        }
        let by_number = sheet
            .sheet_id
            .as_ref()
            .map(|n| format!("xl/worksheets/sheet{n}.xml"));
        let by_place = format!("xl/worksheets/sheet{}.xml", at + 1);
        let Some(target) = by_number
            .into_iter()
            .chain([by_place])
            .find(|p| has_part(p) && !used.contains(p))
        else {
            return Err(ReadError::Damaged(format!(
                "it lists a sheet '{}' whose content is not in the file",
                sheet.name
            )));
        };
        let id = match rels.iter().find(|r| part_name(&r.target) == target) {
            Some(free) => free.id.clone(),
            None => {
                let id = format!("rIdPtk{}", at + 1);
                added.insert_str(
                    0,
                    &format!("<Relationship Id=\"{id}\" Type=\"{WORKSHEET_TYPE}\" Target=\"/{target}\"/>"),
                );
                id
            }
        };
        used.push(target);
        let tag = relinked_tag(&workbook[sheet.tag.clone()], &id);
        edited.splice(sheet.tag.clone(), tag);
    }
    parts.workbook = Some(edited);
    if !added.is_empty() || parts.workbook_rels.is_none() {
        add_rels(&mut parts.workbook_rels, &added);
    }
    Ok(())
}

/// A `<sheet …>` tag with its relationship id (any prefix) replaced by `id`.
fn relinked_tag(tag: &[u8], id: &str) -> Vec<u8> {
    let text = String::from_utf8_lossy(tag);
    let empty = text.ends_with("/>");
    let inner = text
        .trim_start_matches('<')
        .trim_end_matches('>')
        .trim_end_matches('/');
    let name_len = inner
        .find(|c: char| c.is_ascii_whitespace())
        .unwrap_or(inner.len());
    let e = BytesStart::from_content(inner, name_len);
    let mut out = format!("<{}", &inner[..name_len]);
    for a in e.attributes().with_checks(false).flatten() {
        let key = a.key.as_ref();
        if a.key.local_name().as_ref() == "id" || key == "xmlns:ptkr" {
            continue;
        }
        let q = if a.value.contains('"') { '\'' } else { '"' };
        out.push_str(&format!(" {key}={q}{}{q}", a.value));
    }
    out.push_str(&format!(" xmlns:ptkr=\"{REL_NS}\" ptkr:id=\"{id}\""));
    out.push_str(if empty { "/>" } else { ">" });
    out.into_bytes()
}

/// Leaves Excel 4.0 macro sheets out of the workbook's sheet list.
fn drop_macro_sheets(parts: &mut SheetParts) {
    let (Some(workbook), Some(rels)) = (parts.workbook.as_deref(), parts.workbook_rels.as_deref())
    else {
        return;
    };
    // Most workbooks have none: not parsed again for them.
    if memchr::memmem::find(rels, b"Macrosheet").is_none() {
        return;
    }
    let (Some(sheets), Some((rels, _))) = (read_sheets(workbook), read_rels(rels)) else {
        return;
    };
    let is_macro = |s: &Sheet| {
        s.rel_id.as_ref().is_some_and(|id| {
            rels.iter().any(|r| {
                &r.id == id
                    && (r.kind.ends_with("/xlMacrosheet") || r.kind.ends_with("/xlIntlMacrosheet"))
            })
        })
    };
    if !sheets.iter().any(is_macro) {
        return;
    }
    let mut edited = workbook.to_vec();
    for sheet in sheets.iter().rev().filter(|s| is_macro(s)) {
        edited.drain(sheet.whole.clone());
    }
    parts.workbook = Some(edited);
}

#[cfg(test)]
mod tests {
    use super::*;

    const WB: &str = r#"<?xml version="1.0"?><workbook xmlns:r="x"><sheets><sheet name="A" sheetId="1" r:id="rId1"/><sheet name="B &amp; C" sheetId="5"/><sheet name="M" sheetId="3" r:id="rId3"></sheet><sheet name="D" sheetId="9" r:id="rId404"/></sheets></workbook>"#;
    const RELS: &str = r#"<Relationships xmlns="p"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId3" Type="http://schemas.microsoft.com/office/2006/relationships/xlMacrosheet" Target="macrosheets/sheet1.xml"/></Relationships>"#;

    fn parts(wb: &str, rels: Option<&str>) -> SheetParts {
        SheetParts {
            package_rels: None,
            workbook: Some(wb.as_bytes().to_vec()),
            workbook_rels: rels.map(|r| r.as_bytes().to_vec()),
        }
    }

    fn text(b: &Option<Vec<u8>>) -> String {
        String::from_utf8(b.clone().unwrap()).unwrap()
    }

    #[test]
    fn sheets_without_a_relationship_are_linked_by_number_then_place() {
        let files = [
            "xl/worksheets/sheet1.xml",
            "xl/worksheets/sheet4.xml",
            "xl/worksheets/sheet5.xml",
        ];
        let mut p = parts(WB, Some(RELS));
        p.repair(&|n| files.contains(&n)).unwrap();
        let wb = text(&p.workbook);
        let rels = text(&p.workbook_rels);
        // B has sheetId 5: sheet5.xml; D's id is not in the rels and sheet9 is missing:
        // its place (4th) gives sheet4.xml.
        assert!(
            wb.contains(r#"<sheet name="B &amp; C" sheetId="5" xmlns:ptkr="#),
            "{wb}"
        );
        assert!(wb.contains(r#"ptkr:id="rIdPtk2"/>"#), "{wb}");
        assert!(
            wb.contains(r#"<sheet name="D" sheetId="9" xmlns:ptkr"#) && !wb.contains("rId404"),
            "{wb}"
        );
        assert!(rels.contains(r#"Id="rIdPtk2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet5.xml"/>"#), "{rels}");
        assert!(rels.contains(r#"Id="rIdPtk4" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="/xl/worksheets/sheet4.xml"/>"#), "{rels}");
        assert!(rels.ends_with("</Relationships>"), "{rels}");
        // The macro sheet is gone from the list, its whole element.
        assert!(
            !wb.contains(r#"name="M""#) && !wb.contains("</sheet>"),
            "{wb}"
        );
        assert!(lists_three_sheets(&wb));
    }

    /// Well-formed enough for the parser used here: every tag read to the end.
    fn lists_three_sheets(xml: &str) -> bool {
        read_sheets(xml.as_bytes()).is_some_and(|s| s.len() == 3)
    }

    #[test]
    fn relationships_no_sheet_uses_are_linked_again() {
        let wb = r#"<workbook><sheets><sheet name="A" sheetId="1"/><sheet name="B" sheetId="2"/></sheets></workbook>"#;
        let rels = r#"<Relationships><Relationship Id="rId7" Type="w" Target="/xl/worksheets/sheet2.xml"/><Relationship Id="rId8" Type="w" Target="worksheets/sheet1.xml"/></Relationships>"#;
        let mut p = parts(wb, Some(rels));
        p.repair(&|n| n.starts_with("xl/worksheets/")).unwrap();
        assert_eq!(text(&p.workbook_rels), rels);
        let wb = text(&p.workbook);
        assert!(wb.contains(r#"name="A" sheetId="1" xmlns:ptkr="http://schemas.openxmlformats.org/officeDocument/2006/relationships" ptkr:id="rId8"/>"#), "{wb}");
        assert!(wb.contains(r#"ptkr:id="rId7"/>"#), "{wb}");
    }

    #[test]
    fn a_missing_relationships_part_is_made_and_a_sheet_with_no_content_is_damage() {
        let wb = r#"<workbook><sheets><sheet name="A" sheetId="1"/><sheet name="B" sheetId="2"/></sheets></workbook>"#;
        let mut p = parts(wb, None);
        let files = ["xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"];
        p.repair(&|n| files.contains(&n)).unwrap();
        let rels = text(&p.workbook_rels);
        assert!(
            rels.starts_with("<Relationships xmlns=")
                && rels.contains("rIdPtk1")
                && rels.contains("/xl/worksheets/sheet2.xml"),
            "{rels}"
        );
        let mut p = parts(wb, None);
        let e = p.repair(&|n| n == "xl/worksheets/sheet1.xml").unwrap_err();
        assert!(
            matches!(&e, ReadError::Damaged(m) if m.contains("sheet 'B' whose")),
            "{e:?}"
        );
    }

    #[test]
    fn a_package_without_its_workbook_link_gets_one() {
        let mut p = parts(r#"<workbook/>"#, None);
        p.package_rels = Some(br#"<Relationships xmlns="p"/>"#.to_vec());
        p.repair(&|_| false).unwrap();
        assert_eq!(
            text(&p.package_rels),
            format!(
                r#"<Relationships xmlns="p"><Relationship Id="rIdPtkWorkbook" Type="{OFFICE_DOCUMENT_TYPE}" Target="xl/workbook.xml"/></Relationships>"#
            )
        );
        // Linked already: left as it was.
        let before = p.package_rels.clone();
        p.repair(&|_| false).unwrap();
        assert_eq!(p.package_rels, before);
    }

    #[test]
    fn utf16_parts_become_utf8_within_the_room_left() {
        let xml = "<?xml version=\"1.0\" encoding=\"UTF-16\"?><t>é 😀</t>";
        let mut le = vec![0xFF, 0xFE];
        le.extend(xml.encode_utf16().flat_map(u16::to_le_bytes));
        let be: Vec<u8> = xml.encode_utf16().flat_map(u16::to_be_bytes).collect();
        let want = xml.replace("UTF-16", "UTF-8");
        for part in [&le, &be] {
            let got = utf16_to_utf8("p", part, 1000, 1000).unwrap().unwrap();
            assert_eq!(String::from_utf8(got).unwrap(), want);
        }
        // Counted before it is made: one byte too few is too large.
        let e = utf16_to_utf8("p", &le, want.len() as u64 - 1, 7).unwrap_err();
        assert_eq!(e, ReadError::UnpacksTooLarge { limit: 7 });
        // A lone surrogate or an odd byte is damage.
        let mut bad = le.clone();
        bad.extend([0x00, 0xD8, b'<', 0]);
        assert!(
            matches!(utf16_to_utf8("xl/a.xml", &bad, 1000, 1000), Err(ReadError::Damaged(m)) if m.contains("xl/a.xml"))
        );
        le.push(0);
        assert!(matches!(
            utf16_to_utf8("p", &le, 1000, 1000),
            Err(ReadError::Damaged(_))
        ));
        assert_eq!(utf16_to_utf8("p", b"<?xml?>", 1000, 1000).unwrap(), None);
    }
}
