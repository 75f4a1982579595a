//! The contract between an issued workbook and the file that comes back.
//!
//! It is deliberately small and stable (documented in `docs/contract.md`):
//! - a hidden sheet named [`ID_SHEET`] with key/value rows (key in column A, value
//!   in column B), holding at least the [`REQUIRED_KEYS`];
//! - every answer cell has a workbook-scoped defined name `ptk_<question id>`, and
//!   every evidence cell `ptk_<question id>__evidence`;
//! - the same names are listed in the hidden sheet as keys whose values are the cell
//!   references (`Sheet!$C$12`), so answers can be found when a client drops the names.
//!
//! Changing anything here breaks every workbook already out with partnerships.

/// Name of the hidden identification sheet.
pub const ID_SHEET: &str = "_ptk";

/// Version of this contract, written as the first key of the identification sheet.
pub const CONTRACT_VERSION: u32 = 1;

pub const KEY_CONTRACT: &str = "ptk_contract";
pub const KEY_TEMPLATE_ID: &str = "template_id";
pub const KEY_TEMPLATE_VERSION: &str = "template_version";
pub const KEY_PARTNERSHIP_ID: &str = "partnership_id";
pub const KEY_YEAR: &str = "year";
pub const KEY_ISSUED_AT: &str = "issued_at";
/// Whose form it is: a respondent id of the partnership (see `respondents`). Optional:
/// a return without it (every form issued before respondents existed) is the lead
/// officer's.
pub const KEY_RESPONDENT_ID: &str = "respondent_id";
/// Informational keys (not needed to identify a return).
pub const KEY_RESPONDENT_NAME: &str = "respondent_name";
pub const KEY_PARTNERSHIP_NAME: &str = "partnership_name";
pub const KEY_TEMPLATE_TITLE: &str = "template_title";

/// Keys a returned workbook must carry to be identified.
pub const REQUIRED_KEYS: [&str; 5] = [
    KEY_TEMPLATE_ID,
    KEY_TEMPLATE_VERSION,
    KEY_PARTNERSHIP_ID,
    KEY_YEAR,
    KEY_ISSUED_AT,
];

/// Prefix of every answer-cell defined name.
pub const NAME_PREFIX: &str = "ptk_";
/// Suffix of an evidence-cell name, after the question id.
pub const EVIDENCE_SUFFIX: &str = "__evidence";

/// Whether an identification-sheet key is a cell-map entry (`ptk_<question>`, written
/// after the identity keys) rather than an identity key.
pub fn is_cell_map_key(key: &str) -> bool {
    let key = key.trim();
    key.len() > NAME_PREFIX.len()
        && key[..NAME_PREFIX.len()].eq_ignore_ascii_case(NAME_PREFIX)
        && !key.eq_ignore_ascii_case(KEY_CONTRACT)
}

pub fn answer_name(question_id: &str) -> String {
    format!("{NAME_PREFIX}{question_id}")
}

pub fn evidence_name(question_id: &str) -> String {
    format!("{NAME_PREFIX}{question_id}{EVIDENCE_SUFFIX}")
}

/// Column letters for a zero-based column index (0 → A, 26 → AA).
pub fn column_letters(mut col: u16) -> String {
    let mut out = Vec::new();
    loop {
        out.push(b'A' + (col % 26) as u8);
        if col < 26 {
            break;
        }
        col = col / 26 - 1;
    }
    out.reverse();
    String::from_utf8(out).expect("ASCII")
}

/// A1 form of a zero-based (row, col), e.g. (11, 2) → "C12".
pub fn a1(row: u32, col: u16) -> String {
    format!("{}{}", column_letters(col), row + 1)
}

/// Absolute reference as written in names and the cell map: `Sheet!$C$12`,
/// quoting the sheet name when Excel requires it.
pub fn absolute_ref(sheet: &str, row: u32, col: u16) -> String {
    format!(
        "{}!${}${}",
        quote_sheet(sheet),
        column_letters(col),
        row + 1
    )
}

pub fn quote_sheet(sheet: &str) -> String {
    if sheet.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        sheet.to_string()
    } else {
        format!("'{}'", sheet.replace('\'', "''"))
    }
}

/// A cell located by a reference read back from a workbook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CellRef {
    pub sheet: String,
    /// Zero-based.
    pub row: u32,
    /// Zero-based.
    pub col: u32,
}

impl CellRef {
    pub fn a1(&self) -> String {
        a1(self.row, self.col.min(u32::from(u16::MAX)) as u16)
    }
}

/// Parses a single-cell reference in the forms Excel, LibreOffice and calamine
/// produce: `Sheet!$C$12`, `'My sheet'!C12`, `=Sheet!$C$12`, `$Sheet.$C$12` (ODS).
/// Returns `None` for ranges and anything else.
pub fn parse_ref(s: &str) -> Option<CellRef> {
    let s = s.trim().trim_start_matches('=');
    // ODS style uses '.' between sheet and cell; Excel style uses '!'.
    let (sheet, cell) = if let Some(i) = s.rfind('!') {
        (&s[..i], &s[i + 1..])
    } else if let Some(i) = s.rfind('.') {
        (s[..i].trim_start_matches('$'), &s[i + 1..])
    } else {
        return None;
    };
    let sheet = sheet.trim();
    let sheet = if sheet.len() >= 2 && sheet.starts_with('\'') && sheet.ends_with('\'') {
        sheet[1..sheet.len() - 1].replace("''", "'")
    } else {
        sheet.to_string()
    };
    if sheet.is_empty() || cell.contains(':') {
        return None;
    }
    let cell = cell.replace('$', "");
    let letters: String = cell
        .chars()
        .take_while(|c| c.is_ascii_alphabetic())
        .collect();
    let digits = &cell[letters.len()..];
    if letters.is_empty()
        || letters.len() > 3
        || digits.is_empty()
        || !digits.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let mut col: u32 = 0;
    for c in letters.chars() {
        col = col * 26 + (c.to_ascii_uppercase() as u32 - 'A' as u32 + 1);
    }
    let row: u32 = digits.parse().ok()?;
    if row == 0 {
        return None;
    }
    Some(CellRef {
        sheet,
        row: row - 1,
        col: col - 1,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_map_keys_are_told_from_identity_keys() {
        // The reader stops at the first cell-map row of `_ptk`: an identity key taken
        // for one would lose the identity; a cell-map row taken for an identity key
        // would read the whole map.
        for key in [
            "ptk_F1",
            "PTK_F1__evidence",
            " ptk_objectives_8_due ",
            "ptk_x",
        ] {
            assert!(is_cell_map_key(key), "{key}");
        }
        for key in [
            "ptk_contract",
            "PTK_CONTRACT",
            "template_id",
            "ptk_",
            "ptk",
            "x_ptk_a",
            "",
        ] {
            assert!(!is_cell_map_key(key), "{key}");
        }
    }

    #[test]
    fn letters_round_trip() {
        assert_eq!(column_letters(0), "A");
        assert_eq!(column_letters(25), "Z");
        assert_eq!(column_letters(26), "AA");
        assert_eq!(column_letters(701), "ZZ");
        assert_eq!(a1(11, 2), "C12");
    }

    #[test]
    fn parses_the_reference_styles_seen_in_returns() {
        let want = CellRef {
            sheet: "Assessment".into(),
            row: 11,
            col: 2,
        };
        assert_eq!(parse_ref("Assessment!$C$12"), Some(want.clone()));
        assert_eq!(parse_ref("=Assessment!C12"), Some(want.clone()));
        assert_eq!(parse_ref("$Assessment.$C$12"), Some(want.clone()));
        assert_eq!(
            parse_ref("'Risk assessment'!$B$7").unwrap().sheet,
            "Risk assessment"
        );
        assert_eq!(
            parse_ref("$'Risk assessment'.$B$7").unwrap().sheet,
            "Risk assessment"
        );
        assert_eq!(parse_ref("Assessment!$C$12:$C$14"), None);
        assert_eq!(parse_ref("nonsense"), None);
    }

    #[test]
    fn absolute_ref_quotes_when_needed() {
        assert_eq!(absolute_ref("Assessment", 11, 2), "Assessment!$C$12");
        assert_eq!(
            absolute_ref("Risk assessment", 0, 0),
            "'Risk assessment'!$A$1"
        );
    }
}
