//! The partnership register: the council's CSV list of every partnership it is in.
//!
//! Loading never stops at the first bad row: every problem is collected with its
//! line number so the officer can fix the file in one pass.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;

/// The four Business Plan priorities named in the toolkit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Priority {
    FinanciallySelfSufficient,
    EarlyIntervention,
    MaximiseAssets,
    EnableCommunities,
}

impl Priority {
    pub const ALL: [Priority; 4] = [
        Priority::FinanciallySelfSufficient,
        Priority::EarlyIntervention,
        Priority::MaximiseAssets,
        Priority::EnableCommunities,
    ];

    pub fn label(self) -> &'static str {
        match self {
            Self::FinanciallySelfSufficient => "Become financially self-sufficient",
            Self::EarlyIntervention => "Early intervention",
            Self::MaximiseAssets => "Maximise our assets",
            Self::EnableCommunities => "Enable communities",
        }
    }

    /// Accepts the label with any case, spacing or a trailing full stop.
    pub fn parse(s: &str) -> Option<Self> {
        let n = crate::text::normalise_label(s.trim().trim_end_matches('.'));
        Self::ALL
            .into_iter()
            .find(|p| crate::text::normalise_label(p.label()) == n)
    }
}

/// Where a partnership is in its life with the council.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Being set up: answers the new-partnership questions.
    Proposed,
    /// Running: reviewed every year.
    Active,
    /// The council's involvement is ending: completes the exit document.
    Exiting,
    /// Ended: kept for history.
    Closed,
}

impl Status {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "proposed" | "new" => Some(Self::Proposed),
            "active" => Some(Self::Active),
            "exiting" => Some(Self::Exiting),
            "closed" => Some(Self::Closed),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Active => "active",
            Self::Exiting => "exiting",
            Self::Closed => "closed",
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One partnership the council is in.
#[derive(Debug, Clone, PartialEq)]
pub struct Partnership {
    pub id: String,
    pub name: String,
    /// For example "Strategic", "Operational", "Statutory".
    pub category: String,
    pub lead_officer: String,
    pub email: String,
    pub assistant_director: String,
    pub assistant_director_email: Option<String>,
    pub priority: Priority,
    pub status: Status,
    pub lead_organisation: String,
    pub partners: String,
    pub start_date: Option<NaiveDate>,
    /// When the council's involvement ends (an exiting partnership), if known: the
    /// review's decision rule on exits uses it.
    pub exit_date: Option<NaiveDate>,
    pub notes: String,
    /// Line in the register file, for messages.
    pub line: u64,
}

/// A rejected register row (or a whole-file problem, with line 0).
#[derive(Debug, Clone, PartialEq)]
pub struct RegisterProblem {
    pub file: PathBuf,
    pub line: u64,
    pub message: String,
}

impl fmt::Display for RegisterProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        } else {
            write!(f, "{}: {}", self.file.display(), self.message)
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct Register {
    pub path: PathBuf,
    pub partnerships: Vec<Partnership>,
    /// Lower-case id → index, so looking a partnership up does not scan the list.
    index: HashMap<String, usize>,
}

impl Register {
    pub fn new(path: PathBuf, partnerships: Vec<Partnership>) -> Self {
        let index = partnerships
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id.to_ascii_lowercase(), i))
            .collect();
        Self {
            path,
            partnerships,
            index,
        }
    }

    /// The partnership with this id (ids match whatever their case).
    pub fn get(&self, id: &str) -> Option<&Partnership> {
        self.index
            .get(&id.to_ascii_lowercase())
            .map(|&i| &self.partnerships[i])
    }

    pub fn with_status<'a>(
        &'a self,
        statuses: &'a [Status],
    ) -> impl Iterator<Item = &'a Partnership> + 'a {
        self.partnerships
            .iter()
            .filter(move |p| statuses.contains(&p.status))
    }
}

/// Columns every register must have.
pub const REQUIRED_COLUMNS: [&str; 7] = [
    "partnership_id",
    "name",
    "lead_officer",
    "email",
    "assistant_director",
    "business_plan_priority",
    "status",
];

/// Optional columns that ptk understands.
pub const OPTIONAL_COLUMNS: [&str; 7] = [
    "category",
    "assistant_director_email",
    "lead_organisation",
    "partners",
    "start_date",
    "exit_date",
    "notes",
];

/// Partnership ids become file names and sheet values: keep them simple.
pub fn valid_partnership_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 32
        && id
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

pub fn valid_email(s: &str) -> bool {
    use std::str::FromStr;
    // email_address accepts bare local names and IP domains; a council register
    // needs a real domain with a dot.
    email_address::EmailAddress::from_str(s).is_ok_and(|e| {
        let d = e.domain();
        d.contains('.') && !d.starts_with('[') && !s.contains(char::is_whitespace)
    })
}

/// Loads a register, returning the good rows and a problem for every bad one.
/// Errors only when the file cannot be read at all.
pub fn load(path: &Path) -> anyhow::Result<(Register, Vec<RegisterProblem>)> {
    let bytes = std::fs::read(path).map_err(|e| {
        anyhow::anyhow!(
            "cannot read the partnership register {}: {e}. Check the path (option --register or `register` in ptk.toml).",
            path.display()
        )
    })?;
    if let Some(m) = crate::text::not_csv_utf8(path, &bytes) {
        anyhow::bail!(m);
    }
    Ok(parse(path, &bytes))
}

/// Parses register bytes (UTF-8, with or without a byte-order mark as Excel writes it).
pub fn parse(path: &Path, bytes: &[u8]) -> (Register, Vec<RegisterProblem>) {
    let mut problems = Vec::new();
    let problem = |line: u64, message: String| RegisterProblem {
        file: path.to_path_buf(),
        line,
        message,
    };
    let needs = format!("the register needs {}", REQUIRED_COLUMNS.join(", "));
    let mut rows = match crate::rows::open(bytes, &REQUIRED_COLUMNS, &needs) {
        Ok(rows) => rows,
        Err(message) => {
            problems.push(problem(1, message));
            return (Register::new(path.to_path_buf(), vec![]), problems);
        }
    };

    let mut partnerships: Vec<Partnership> = Vec::new();
    let mut seen: HashMap<String, u64> = HashMap::new();
    while let Some(row) = rows.next_row() {
        let row = match row {
            Ok(r) => r,
            Err((line, message)) => {
                problems.push(problem(line, message));
                continue;
            }
        };
        let (line, record) = (row.line, &row.record);
        // Control characters (CR/LF, escape sequences) would forge email headers and
        // terminal output; only the free-text columns may hold line breaks and tabs.
        let mut hidden = false;
        for (h, field) in rows.headers.iter().zip(record.iter()) {
            let free_text = matches!(h.as_str(), "notes" | "partners" | "lead_organisation");
            if field
                .chars()
                .any(|c| c.is_control() && !(free_text && matches!(c, '\n' | '\r' | '\t')))
            {
                hidden = true;
                problems.push(problem(
                    line,
                    format!(
                        "the {h} column holds a control character (a hidden line break or code): '{}'. Retype the cell without it",
                        crate::output::printable(field)
                    ),
                ));
            }
        }
        if hidden {
            continue;
        }
        let get = |name: &str| -> String { rows.get(&row, name).to_string() };
        let id = get("partnership_id");
        let mut row_problems = Vec::new();
        let who = if id.is_empty() {
            String::from("this row")
        } else {
            format!("partnership {id}")
        };
        if id.is_empty() {
            row_problems.push("partnership_id is empty; every partnership needs an id".to_string());
        } else if !valid_partnership_id(&id) {
            row_problems.push(format!("partnership_id '{id}' may only use letters, digits, '-' and '_' (at most 32 characters)"));
        } else if let Some(first) = seen.get(&id.to_ascii_lowercase()) {
            row_problems.push(format!("partnership_id '{id}' is already used on line {first}; each partnership needs its own id"));
        }
        for c in ["name", "lead_officer", "assistant_director"] {
            if get(c).is_empty() {
                row_problems.push(format!("{who} has no {c}"));
            }
        }
        let email = get("email");
        if !valid_email(&email) {
            row_problems.push(format!(
                "{who} has email '{email}', which is not a valid email address"
            ));
        }
        let ad_email = Some(get("assistant_director_email")).filter(|s| !s.is_empty());
        if let Some(e) = &ad_email {
            if !valid_email(e) {
                row_problems.push(format!(
                    "{who} has assistant_director_email '{e}', which is not a valid email address"
                ));
            }
        }
        let priority_text = get("business_plan_priority");
        let priority = Priority::parse(&priority_text);
        if priority.is_none() {
            row_problems.push(format!(
                "{who} has business_plan_priority '{priority_text}'; use one of: {}",
                Priority::ALL.map(Priority::label).join("; ")
            ));
        }
        let status_text = get("status");
        let status = Status::parse(&status_text);
        if status.is_none() {
            row_problems.push(format!(
                "{who} has status '{status_text}'; use proposed, active, exiting or closed"
            ));
        }
        let mut date = |column: &str| -> Option<NaiveDate> {
            let text = get(column);
            if text.is_empty() {
                return None;
            }
            let d = parse_date(&text);
            if d.is_none() {
                row_problems.push(format!(
                    "{who} has {column} '{text}'; write dates as YYYY-MM-DD or DD/MM/YYYY"
                ));
            }
            d
        };
        let start_date = date("start_date");
        let exit_date = date("exit_date");
        if !row_problems.is_empty() {
            problems.extend(row_problems.into_iter().map(|m| problem(line, m)));
            continue;
        }
        seen.insert(id.to_ascii_lowercase(), line);
        partnerships.push(Partnership {
            id,
            name: get("name"),
            category: get("category"),
            lead_officer: get("lead_officer"),
            email,
            assistant_director: get("assistant_director"),
            assistant_director_email: ad_email,
            priority: priority.expect("checked above"),
            status: status.expect("checked above"),
            lead_organisation: get("lead_organisation"),
            partners: get("partners"),
            start_date,
            exit_date,
            notes: get("notes"),
            line,
        });
    }
    if partnerships.is_empty() && problems.is_empty() {
        problems.push(problem(0, "the register has no partnerships".into()));
    }
    (Register::new(path.to_path_buf(), partnerships), problems)
}

/// Dates as officers type them: ISO, or UK day/month/year.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d/%m/%Y"))
        .or_else(|_| NaiveDate::parse_from_str(s, "%d-%m-%Y"))
        .or_else(|_| NaiveDate::parse_from_str(s, "%d.%m.%Y"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str =
        "partnership_id,name,lead_officer,email,assistant_director,business_plan_priority,status\n";

    fn load_text(body: &str) -> (Register, Vec<String>) {
        let (r, p) = parse(Path::new("r.csv"), format!("{HEADER}{body}").as_bytes());
        (r, p.into_iter().map(|p| p.to_string()).collect())
    }

    #[test]
    fn good_rows_load() {
        let (r, p) = load_text("P1,Alpha,Ann,ann@x.gov.uk,Bob,early intervention,Active\n");
        assert!(p.is_empty(), "{p:?}");
        assert_eq!(r.partnerships[0].priority, Priority::EarlyIntervention);
        assert_eq!(r.partnerships[0].status, Status::Active);
        assert_eq!(r.partnerships[0].line, 2);
    }

    #[test]
    fn bad_rows_name_their_line() {
        let (r, p) = load_text(
            "P1,Alpha,Ann,ann@x.gov.uk,Bob,Early intervention,active\n\
             P1,Beta,Ann,ann@x.gov.uk,Bob,Early intervention,active\n\
             P3,Gamma,Ann,not-an-email,Bob,Early intervention,active\n\
             P4,Delta,Ann,d@x.gov.uk,Bob,World peace,active\n\
             P5,Eps,Ann,e@x.gov.uk,Bob,Enable communities,paused\n",
        );
        assert_eq!(r.partnerships.len(), 1);
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(p[0].starts_with("r.csv:3:") && p[0].contains("already used on line 2"));
        assert!(p[1].starts_with("r.csv:4:") && p[1].contains("not a valid email"));
        assert!(p[2].starts_with("r.csv:5:") && p[2].contains("World peace"));
        assert!(p[3].starts_with("r.csv:6:") && p[3].contains("paused"));
    }

    #[test]
    fn line_numbers_are_right_with_crlf_as_excel_saves() {
        let body = "P1,Alpha,Ann,ann@x.gov.uk,Bob,Early intervention,active\r\n\
                    P2,Beta,Ann,not-an-email,Bob,Early intervention,active\r\n\
                    P3,\"Gamma\r\nTwo lines\",Ann,bad,Bob,Early intervention,active\r\n\
                    P4,Delta,Ann,bad,Bob,Early intervention,active\r\n";
        let text = format!("{}{body}", HEADER.replace('\n', "\r\n"));
        let (_, p) = parse(Path::new("r.csv"), text.as_bytes());
        let p: Vec<String> = p.iter().map(|p| p.to_string()).collect();
        assert!(p[0].starts_with("r.csv:3:"), "{p:?}");
        assert!(p[1].starts_with("r.csv:4:"), "{p:?}");
        assert!(p[2].starts_with("r.csv:6:"), "{p:?}");
    }

    #[test]
    fn control_characters_are_refused_with_their_line() {
        let (r, p) = load_text(
            "P1,Alpha,Ann,ann@x.gov.uk,Bob,Early intervention,active\n\
             P2,\"Beta\r\nBcc: all@x.gov.uk\",Ann,b@x.gov.uk,Bob,Early intervention,active\n\
             P3,Gamma\u{1b}[31m,Ann,c@x.gov.uk,Bob,Early intervention,active\n\
             P4,\"Multi\nline notes are fine\",Ann,d@x.gov.uk,Bob,Early intervention,active\n",
        );
        assert_eq!(r.partnerships.len(), 1, "{p:?}");
        assert!(
            p[0].starts_with("r.csv:3:")
                && p[0].contains("name")
                && p[0].contains("control character"),
            "{p:?}"
        );
        assert!(
            p[1].starts_with("r.csv:5:") && p[1].contains("\\u{1b}"),
            "{p:?}"
        );
        assert!(p[2].starts_with("r.csv:6:"), "{p:?}");
    }

    #[test]
    fn missing_columns_are_named() {
        let (_, p) = parse(Path::new("r.csv"), b"partnership_id,name\nP1,A\n");
        assert!(p[0].message.contains("lead_officer, email"), "{p:?}");
    }

    #[test]
    fn email_needs_a_real_domain() {
        assert!(valid_email("a.b@rochford.gov.uk"));
        assert!(!valid_email("a.b@localhost"));
        assert!(!valid_email("a b@x.org"));
        assert!(!valid_email(""));
    }
}
