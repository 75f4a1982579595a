//! Respondents: the officers and partners who each complete a partnership's
//! self-assessment. The toolkit asks for it "to be completed … by all officers involved";
//! answering separately and comparing views is how the widely used partnership
//! assessment tools work.
//!
//! The register's lead officer is always a respondent, with id [`LEAD`]; an optional
//! CSV adds the others. Loading never stops at the first bad row: every problem is
//! collected with its line number, as for the register.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::register::{valid_email, Partnership, Register, RegisterProblem};

/// The id of the register's lead officer as a respondent. Returns issued before
/// respondents existed carry no id and are the lead's.
pub const LEAD: &str = "lead";

/// Columns the respondents file must have.
pub const REQUIRED_COLUMNS: [&str; 4] = ["partnership_id", "respondent_id", "name", "email"];

/// One person who completes a partnership's form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Respondent {
    pub partnership_id: String,
    /// Short and unique within the partnership; part of the form's file name.
    pub id: String,
    pub name: String,
    pub email: String,
    pub organisation: String,
    pub role: String,
    /// Line in the respondents file (0 for the lead, who comes from the register).
    pub line: u64,
}

impl Respondent {
    /// The lead officer of `p` as a respondent: the council's own officer.
    pub fn lead(p: &Partnership, council: &str) -> Self {
        Self {
            partnership_id: p.id.clone(),
            id: LEAD.to_string(),
            name: p.lead_officer.clone(),
            email: p.email.clone(),
            organisation: council.to_string(),
            role: "Lead officer".to_string(),
            line: 0,
        }
    }

    pub fn is_lead(&self) -> bool {
        self.id.eq_ignore_ascii_case(LEAD)
    }

    /// "Name (Organisation)", or the name alone.
    pub fn label(&self) -> String {
        if self.organisation.is_empty() {
            self.name.clone()
        } else {
            format!("{} ({})", self.name, self.organisation)
        }
    }
}

/// The respondents beyond each partnership's lead, from the respondents file.
#[derive(Debug, Clone, Default)]
pub struct Respondents {
    pub path: Option<PathBuf>,
    /// Lower-case partnership id → its respondents in file order.
    by_partnership: HashMap<String, Vec<Respondent>>,
}

impl Respondents {
    /// Everyone who completes `p`'s forms: the lead first, then the file's respondents.
    pub fn for_partnership(&self, p: &Partnership, council: &str) -> Vec<Respondent> {
        let mut out = vec![Respondent::lead(p, council)];
        if let Some(more) = self.by_partnership.get(&p.id.to_ascii_lowercase()) {
            out.extend(more.iter().cloned());
        }
        out
    }

    /// The respondent `id` of `p`, if the lead or in the file.
    pub fn get(&self, p: &Partnership, id: &str, council: &str) -> Option<Respondent> {
        if id.eq_ignore_ascii_case(LEAD) {
            return Some(Respondent::lead(p, council));
        }
        self.by_partnership
            .get(&p.id.to_ascii_lowercase())?
            .iter()
            .find(|r| r.id.eq_ignore_ascii_case(id))
            .cloned()
    }

    /// How many people complete `p`'s forms (the lead included).
    pub fn count(&self, p: &Partnership) -> usize {
        1 + self
            .by_partnership
            .get(&p.id.to_ascii_lowercase())
            .map_or(0, Vec::len)
    }

    /// Respondents in the file, every partnership.
    pub fn len(&self) -> usize {
        self.by_partnership.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Respondent ids become part of file names: keep them short and simple.
pub fn valid_respondent_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 16
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Loads the respondents file, checked against the register. Errors only when the
/// file cannot be read at all; every bad row is a problem with its line number.
pub fn load(
    path: &Path,
    register: &Register,
) -> anyhow::Result<(Respondents, Vec<RegisterProblem>)> {
    let bytes = std::fs::read(path).map_err(|e| {
        anyhow::anyhow!(
            "cannot read the respondents file {}: {e}. Check the path (option --respondents or `respondents` in ptk.toml).",
            path.display()
        )
    })?;
    if let Some(m) = crate::text::not_csv_utf8(path, &bytes) {
        anyhow::bail!(m);
    }
    Ok(parse(path, &bytes, register))
}

/// Loads the respondents file if there is one (`path`), else no respondents beyond
/// the leads.
pub fn load_optional(
    path: Option<&Path>,
    register: &Register,
) -> anyhow::Result<(Respondents, Vec<RegisterProblem>)> {
    match path {
        Some(p) => load(p, register),
        None => Ok((Respondents::default(), Vec::new())),
    }
}

/// Parses respondents CSV bytes (UTF-8, with or without Excel's byte-order mark).
pub fn parse(
    path: &Path,
    bytes: &[u8],
    register: &Register,
) -> (Respondents, Vec<RegisterProblem>) {
    let mut problems = Vec::new();
    let problem = |line: u64, message: String| RegisterProblem {
        file: path.to_path_buf(),
        line,
        message,
    };
    let mut out = Respondents {
        path: Some(path.to_path_buf()),
        ..Respondents::default()
    };
    let needs = format!(
        "the respondents file needs {} (and may have organisation, role)",
        REQUIRED_COLUMNS.join(", ")
    );
    let mut rows = match crate::rows::open(bytes, &REQUIRED_COLUMNS, &needs) {
        Ok(rows) => rows,
        Err(message) => {
            problems.push(problem(1, message));
            return (out, problems);
        }
    };
    // (partnership, respondent id) lower-case → line first used.
    let mut seen: HashMap<(String, String), u64> = HashMap::new();
    while let Some(row) = rows.next_row() {
        let row = match row {
            Ok(r) => r,
            Err((line, message)) => {
                problems.push(problem(line, message));
                continue;
            }
        };
        let (line, record) = (row.line, &row.record);
        let get = |name: &str| -> String { rows.get(&row, name).to_string() };
        let (pid, rid, name, email) = (
            get("partnership_id"),
            get("respondent_id"),
            get("name"),
            get("email"),
        );
        let mut row = Vec::new();
        if let Some(field) = rows
            .headers
            .iter()
            .zip(record.iter())
            .find(|(_, v)| v.chars().any(char::is_control))
        {
            row.push(format!(
                "the {} field contains a control character (a line break or tab inside the cell?); retype it as plain text",
                field.0
            ));
        }
        let partnership = register.get(&pid);
        if pid.is_empty() {
            row.push(
                "partnership_id is empty; say which partnership this person answers for".into(),
            );
        } else if partnership.is_none() {
            row.push(format!(
                "partnership '{pid}' is not in the register {}; check the id",
                register.path.display()
            ));
        }
        if rid.is_empty() {
            row.push(
                "respondent_id is empty; give each person a short id such as 'essex-police'".into(),
            );
        } else if rid.eq_ignore_ascii_case(LEAD) {
            row.push(format!(
                "respondent_id '{rid}' is kept for the partnership's lead officer, who comes from the register; give this person another id"
            ));
        } else if !valid_respondent_id(&rid) {
            row.push(format!(
                "respondent_id '{}' may only use letters, digits, '-' and '_' (at most 16 characters)",
                crate::output::printable(&rid)
            ));
        } else if let Some(first) = seen.get(&(pid.to_ascii_lowercase(), rid.to_ascii_lowercase()))
        {
            row.push(format!(
                "respondent_id '{rid}' is already used for partnership {pid} on line {first}; each person needs their own id"
            ));
        }
        if name.is_empty() {
            row.push("name is empty".into());
        }
        if !valid_email(&email) {
            row.push(format!(
                "email '{}' is not an email address",
                crate::output::printable(&email)
            ));
        }
        if !row.is_empty() {
            problems.extend(row.into_iter().map(|m| problem(line, m)));
            continue;
        }
        let p = partnership.expect("checked above");
        seen.insert((pid.to_ascii_lowercase(), rid.to_ascii_lowercase()), line);
        out.by_partnership
            .entry(p.id.to_ascii_lowercase())
            .or_default()
            .push(Respondent {
                partnership_id: p.id.clone(),
                id: rid,
                name,
                email,
                organisation: get("organisation"),
                role: get("role"),
                line,
            });
    }
    (out, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn register() -> Register {
        let csv = "partnership_id,name,lead_officer,email,assistant_director,business_plan_priority,status\n\
                   LSP01,Local Strategic Partnership,Helen Marsh,helen@rochford.gov.uk,Angela,Enable communities,active\n\
                   CSP02,Community Safety,David,david@rochford.gov.uk,Angela,Early intervention,active\n";
        let (r, problems) = crate::register::parse(Path::new("register.csv"), csv.as_bytes());
        assert!(problems.is_empty(), "{problems:?}");
        r
    }

    fn load_text(body: &str) -> (Respondents, Vec<String>) {
        let (r, p) = parse(Path::new("respondents.csv"), body.as_bytes(), &register());
        (r, p.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn the_lead_comes_first_then_the_file_in_order() {
        let (r, p) = load_text(
            "partnership_id,respondent_id,name,email,organisation,role\n\
             LSP01,police,Sam Lee,sam@essex.police.uk,Essex Police,Inspector\n\
             lsp01,cvs,Ann Cole,ann@rochfordcvs.org.uk,Rochford CVS,\n",
        );
        assert!(p.is_empty(), "{p:?}");
        let reg = register();
        let all = r.for_partnership(reg.get("LSP01").unwrap(), "Rochford District Council");
        let ids: Vec<&str> = all.iter().map(|x| x.id.as_str()).collect();
        assert_eq!(ids, ["lead", "police", "cvs"]);
        assert_eq!(all[0].name, "Helen Marsh");
        assert_eq!(all[0].organisation, "Rochford District Council");
        assert_eq!(all[1].label(), "Sam Lee (Essex Police)");
        assert_eq!(r.count(reg.get("CSP02").unwrap()), 1);
        assert_eq!(
            r.get(reg.get("LSP01").unwrap(), "CVS", "x").unwrap().name,
            "Ann Cole"
        );
    }

    #[test]
    fn every_bad_row_names_its_line_even_with_windows_line_endings() {
        let (r, p) = load_text(
            "partnership_id,respondent_id,name,email\r\n\
             NOPE9,a,Al,al@x.org.uk\r\n\
             LSP01,lead,Bo,bo@x.org.uk\r\n\
             LSP01,ok,Cy,cy@x.org.uk\r\n\
             LSP01,OK,Di,di@x.org.uk\r\n\
             LSP01,bad id!,Ed,ed@x.org.uk\r\n\
             LSP01,fi,Fi,not-an-email\r\n\
             LSP01,gu,\"Gu\nNewline\",gu@x.org.uk\r\n",
        );
        assert_eq!(r.len(), 1, "only the good row is kept");
        let expect = [
            "respondents.csv:2: partnership 'NOPE9' is not in the register",
            "respondents.csv:3: respondent_id 'lead' is kept for",
            "respondents.csv:5: respondent_id 'OK' is already used for partnership LSP01 on line 4",
            "respondents.csv:6: respondent_id 'bad id!' may only use",
            "respondents.csv:7: email 'not-an-email' is not an email address",
            "respondents.csv:8: the name field contains a control character",
        ];
        assert_eq!(p.len(), expect.len(), "{p:#?}");
        for (got, want) in p.iter().zip(expect) {
            assert!(got.starts_with(want), "{got}\nshould start with\n{want}");
        }
    }

    #[test]
    fn missing_columns_are_named() {
        let (_, p) = load_text("partnership_id,name\nLSP01,x\n");
        assert_eq!(p.len(), 1);
        assert!(p[0].contains("respondent_id, email"), "{}", p[0]);
    }
}
