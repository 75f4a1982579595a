//! Template definitions: the plain-text (TOML) forms a council officer edits without
//! recompiling. A [`Template`] is loaded from `templates/<id>.toml`, checked, and then
//! drives both the issued workbook and the validation and scoring of returns.
//!
//! Every problem found while loading is a [`TemplateProblem`] carrying the file and the
//! line, so `ptk templates check` can say exactly where to look.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::register::Status;

/// The kinds of answer a question can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum QuestionType {
    /// A scored scale: pick one labelled option, each worth some points.
    Scale,
    /// Pick one option from a list (points optional).
    Choice,
    /// Yes or No (points optional).
    YesNo,
    /// Free text.
    Text,
    /// A calendar date.
    Date,
    /// A number, optionally whole and within a range.
    Number,
    /// An email address.
    Email,
}

impl QuestionType {
    /// Types whose answer is picked from `options` (and so get a dropdown).
    pub fn has_options(self) -> bool {
        matches!(self, Self::Scale | Self::Choice | Self::YesNo)
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Scale => "scale",
            Self::Choice => "choice",
            Self::YesNo => "yes-no",
            Self::Text => "text",
            Self::Date => "date",
            Self::Number => "number",
            Self::Email => "email",
        }
    }
}

/// One option of a scale, choice or yes-no question. An option without points
/// (for example "Not applicable") is left out of scoring altogether.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnswerOption {
    pub label: String,
    #[serde(default)]
    pub points: Option<f64>,
}

/// A question on the form. Its `id` is the stable key of the answer: the answer
/// cell carries the workbook name `ptk_<id>`.
#[derive(Debug, Clone, PartialEq)]
pub struct Question {
    pub id: String,
    pub text: String,
    /// Guidance shown under the question text (for example a step's purpose).
    pub help: Option<String>,
    pub kind: QuestionType,
    pub required: bool,
    pub options: Vec<AnswerOption>,
    /// Whether the question has an evidence / comment cell beside the answer.
    pub evidence: bool,
    /// `in_review = true`: the answer (a text question's, e.g. "What has the
    /// partnership achieved?") is quoted in full on its Assistant Director's page.
    pub in_review: bool,
    pub min: Option<f64>,
    pub max: Option<f64>,
    /// For numbers: only whole numbers are valid.
    pub whole: bool,
    /// Line in the template file, for messages.
    pub line: usize,
}

impl Question {
    /// Highest points any option of this question is worth, if it is scored.
    pub fn max_points(&self) -> Option<f64> {
        self.options
            .iter()
            .filter_map(|o| o.points)
            .fold(None, |acc: Option<f64>, p| {
                Some(acc.map_or(p, |a| a.max(p)))
            })
    }

    /// A question counts towards the score when at least one option has points.
    pub fn is_scored(&self) -> bool {
        self.max_points().is_some()
    }

    /// The workbook-scoped defined name of the answer cell (the contract).
    pub fn answer_name(&self) -> String {
        crate::contract::answer_name(&self.id)
    }
}

/// How a section is laid out on its sheet.
#[derive(Debug, Clone, PartialEq)]
pub enum Layout {
    /// One row per question: number, question, answer, evidence.
    Questions,
    /// A risk register table: one row per risk with likelihood × impact.
    Risks { rows: usize, required_rows: usize },
}

/// The condition under which a section's required questions are required
/// (e.g. the 8-step model only for a strategic partnership).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Condition {
    pub question: String,
    pub answer: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Section {
    pub id: String,
    pub title: String,
    pub intro: Option<String>,
    pub weight: f64,
    /// The sheet the section is written on.
    pub sheet: String,
    pub layout: Layout,
    pub required_when: Option<Condition>,
    pub questions: Vec<Question>,
}

impl Section {
    pub fn is_scored(&self) -> bool {
        self.questions.iter().any(Question::is_scored)
    }
}

/// A RAG band: a percent at or above `min` (and below the next band up) gets `label`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Band {
    pub label: String,
    pub min: f64,
    /// Fill colour used in workbooks, as RRGGBB hex.
    #[serde(default = "default_band_colour")]
    pub colour: String,
}

fn default_band_colour() -> String {
    "D9D9D9".into()
}

/// A risk rating band for likelihood × impact (1–25).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RiskRating {
    pub label: String,
    pub min: f64,
    #[serde(default = "default_band_colour")]
    pub colour: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    pub id: String,
    pub version: u32,
    pub title: String,
    pub description: String,
    pub instructions: Vec<String>,
    /// Register statuses whose partnerships receive this template by default.
    pub issue_to: Vec<Status>,
    /// Who completes it: every respondent of the partnership, or the lead officer only.
    pub respondents: Recipients,
    /// A scored question whose respondents' points differ by at least this much is
    /// listed as a disagreement in the review.
    pub disagreement: f64,
    /// Bands, highest `min` first.
    pub bands: Vec<Band>,
    /// Risk ratings, highest `min` first.
    pub risk_ratings: Vec<RiskRating>,
    pub sections: Vec<Section>,
    pub source: PathBuf,
}

impl Template {
    /// Whether any question is scored (so the template gets a score and a band).
    pub fn is_scored(&self) -> bool {
        self.sections.iter().any(Section::is_scored)
    }

    pub fn questions(&self) -> impl Iterator<Item = (&Section, &Question)> {
        self.sections
            .iter()
            .flat_map(|s| s.questions.iter().map(move |q| (s, q)))
    }

    pub fn question(&self, id: &str) -> Option<&Question> {
        self.questions().map(|(_, q)| q).find(|q| q.id == id)
    }

    /// Sheet names in the order they first appear.
    pub fn sheets(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for s in &self.sections {
            if !out.contains(&s.sheet.as_str()) {
                out.push(&s.sheet);
            }
        }
        out
    }

    /// The band a percent falls in.
    pub fn band_for(&self, percent: f64) -> Option<&Band> {
        self.bands.iter().find(|b| percent >= b.min)
    }

    pub fn risk_rating_for(&self, score: f64) -> Option<&RiskRating> {
        self.risk_ratings.iter().find(|b| score >= b.min)
    }
}

/// A problem in a template file, with the line it is on (1-based; 0 when unknown).
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateProblem {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

impl fmt::Display for TemplateProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        } else {
            write!(f, "{}: {}", self.file.display(), self.message)
        }
    }
}

// ---------------------------------------------------------------------------
// Raw (file) form. Kept separate from the domain types so that spans and
// defaults stay out of the code that uses templates.

/// Who receives a template's form for a partnership.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Recipients {
    /// The register's lead officer only (one form per partnership).
    #[default]
    Lead,
    /// Every respondent (the lead and those in the respondents file), each their own form.
    All,
}

/// The default disagreement threshold, in points: two steps apart on a 0–4 scale.
pub const DEFAULT_DISAGREEMENT: f64 = 2.0;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    id: Spanned<String>,
    version: Spanned<i64>,
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    instructions: Vec<String>,
    /// Default sheet for sections that do not name one.
    #[serde(default = "default_sheet")]
    sheet: Spanned<String>,
    #[serde(default)]
    issue_to: Vec<Spanned<String>>,
    #[serde(default)]
    respondents: Recipients,
    #[serde(default)]
    disagreement: Option<Spanned<f64>>,
    #[serde(default)]
    bands: Vec<Band>,
    #[serde(default)]
    risk_ratings: Vec<RiskRating>,
    /// Named option lists that questions can share with `options_from`.
    #[serde(default)]
    option_sets: HashMap<String, Vec<AnswerOption>>,
    #[serde(default)]
    sections: Vec<RawSection>,
}

fn default_sheet() -> Spanned<String> {
    Spanned::new(0..0, "Form".to_string())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSection {
    id: Spanned<String>,
    title: String,
    #[serde(default)]
    intro: Option<String>,
    #[serde(default)]
    weight: Option<Spanned<f64>>,
    #[serde(default)]
    sheet: Option<Spanned<String>>,
    #[serde(default)]
    layout: Option<Spanned<String>>,
    #[serde(default)]
    rows: Option<usize>,
    #[serde(default)]
    required_rows: Option<usize>,
    #[serde(default)]
    required_when: Option<Spanned<Condition>>,
    #[serde(default)]
    questions: Vec<RawQuestion>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawQuestion {
    id: Spanned<String>,
    text: String,
    #[serde(default)]
    help: Option<String>,
    #[serde(rename = "type")]
    kind: Spanned<QuestionType>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    options: Option<Vec<AnswerOption>>,
    #[serde(default)]
    options_from: Option<Spanned<String>>,
    #[serde(default)]
    evidence: bool,
    #[serde(default)]
    in_review: bool,
    #[serde(default)]
    min: Option<f64>,
    #[serde(default)]
    max: Option<f64>,
    #[serde(default)]
    whole: bool,
}

/// Puts sections in the order they appear on the form: every section of the first
/// sheet, then the next sheet's, keeping the file's order within a sheet. A section's
/// number (its position + 1) is then the same on the form, in ingest messages and in
/// the review, and runs on without gaps from sheet to sheet.
fn in_form_order(sections: &mut [Section]) {
    let mut sheets: Vec<String> = Vec::new();
    for s in sections.iter() {
        if !sheets.contains(&s.sheet) {
            sheets.push(s.sheet.clone());
        }
    }
    sections.sort_by_key(|s| sheets.iter().position(|x| *x == s.sheet));
}

/// Excel's limit on an inline dropdown list (all labels plus separators).
const MAX_LIST_CHARS: usize = 255;

/// Loads every `*.toml` in a folder, sorted by file name. Returns the templates
/// that loaded cleanly and every problem found.
pub fn load_dir(dir: &Path) -> anyhow::Result<(Vec<Template>, Vec<TemplateProblem>)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot open the templates folder {}: {e}. Check the path (option --templates or `templates` in ptk.toml).",
                dir.display()
            )
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let mut templates = Vec::new();
    let mut problems = Vec::new();
    for f in files {
        match load_file(&f) {
            Ok(t) => templates.push(t),
            Err(mut p) => problems.append(&mut p),
        }
    }
    // Ids must be unique across the folder, since files are named after them.
    let mut seen: HashMap<String, PathBuf> = HashMap::new();
    for t in &templates {
        if let Some(first) = seen.insert(t.id.clone(), t.source.clone()) {
            problems.push(TemplateProblem {
                file: t.source.clone(),
                line: 0,
                message: format!(
                    "template id '{}' is also used by {}; each template needs its own id",
                    t.id,
                    first.display()
                ),
            });
        }
    }
    Ok((templates, problems))
}

/// Loads every template in a folder, failing (with every problem listed) unless all
/// of them are sound: a run must never read returns against a half-broken set.
pub fn load_checked(dir: &Path) -> anyhow::Result<Vec<Template>> {
    let (templates, problems) = load_dir(dir)?;
    if !problems.is_empty() {
        let list: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        anyhow::bail!(
            "the templates in {} have problems; fix them and run again:\n  {}",
            dir.display(),
            list.join("\n  ")
        );
    }
    Ok(templates)
}

/// Finds a template by id in a folder (loading and checking it).
pub fn find(dir: &Path, id: &str) -> anyhow::Result<Template> {
    let (templates, problems) = load_dir(dir)?;
    if let Some(t) = templates.into_iter().find(|t| t.id == id) {
        return Ok(t);
    }
    let bad: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
    if !bad.is_empty() {
        anyhow::bail!(
            "template '{id}' was not loaded from {}; these template problems need fixing first:\n  {}",
            dir.display(),
            bad.join("\n  ")
        );
    }
    anyhow::bail!(
        "there is no template with id '{id}' in {}. Run `ptk templates list` to see the ones there are.",
        dir.display()
    )
}

/// Loads and checks one template file.
pub fn load_file(path: &Path) -> Result<Template, Vec<TemplateProblem>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![TemplateProblem {
            file: path.to_path_buf(),
            line: 0,
            message: format!("cannot read the file: {e}"),
        }]
    })?;
    parse(path, &text)
}

/// Parses and checks template text; `path` is only used in messages.
pub fn parse(path: &Path, text: &str) -> Result<Template, Vec<TemplateProblem>> {
    let lines = LineIndex::new(text);
    let raw: RawTemplate = toml::from_str(text).map_err(|e| {
        let line = e.span().map_or(0, |s| lines.line(s.start));
        vec![TemplateProblem {
            file: path.to_path_buf(),
            line,
            message: e.message().trim().to_string(),
        }]
    })?;
    Checker {
        path,
        lines: &lines,
        problems: Vec::new(),
    }
    .build(raw)
}

struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(text: &str) -> Self {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Self { starts }
    }
    fn line(&self, offset: usize) -> usize {
        match self.starts.binary_search(&offset) {
            Ok(i) => i + 1,
            Err(i) => i,
        }
    }
}

struct Checker<'a> {
    path: &'a Path,
    lines: &'a LineIndex,
    problems: Vec<TemplateProblem>,
}

/// Ids become Excel names and file names: keep them to a safe alphabet.
fn valid_question_id(id: &str) -> bool {
    let mut chars = id.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && id.len() <= 40
        && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !id.contains("__")
        && !id.ends_with('_')
}

fn valid_template_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 40
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

/// Excel's rules for a sheet name, plus the names ptk reserves.
fn sheet_name_problem(name: &str) -> Option<String> {
    if name.is_empty() || name.chars().count() > 31 {
        return Some(format!(
            "sheet name '{name}' must be 1 to 31 characters long"
        ));
    }
    if name.contains(['[', ']', ':', '*', '?', '/', '\\']) || name.starts_with('\'') {
        return Some(format!(
            "sheet name '{name}' contains a character Excel does not allow ([ ] : * ? / \\ or a leading ')"
        ));
    }
    let lower = name.to_lowercase();
    if lower == crate::contract::ID_SHEET.to_lowercase() || lower == "instructions" {
        return Some(format!(
            "sheet name '{name}' is reserved by ptk; choose another"
        ));
    }
    None
}

pub use crate::text::normalise_label;

impl Checker<'_> {
    fn problem(&mut self, span_start: usize, message: impl Into<String>) {
        let line = if span_start == usize::MAX {
            0
        } else {
            self.lines.line(span_start)
        };
        self.problems.push(TemplateProblem {
            file: self.path.to_path_buf(),
            line,
            message: message.into(),
        });
    }

    fn build(mut self, raw: RawTemplate) -> Result<Template, Vec<TemplateProblem>> {
        let id = raw.id.get_ref().trim().to_string();
        if !valid_template_id(&id) {
            self.problem(
                raw.id.span().start,
                format!("template id '{id}' must be lower-case letters, digits and hyphens (like 'self-assessment'), at most 40 characters"),
            );
        }
        let version = *raw.version.get_ref();
        if !(1..=i64::from(u32::MAX)).contains(&version) {
            self.problem(
                raw.version.span().start,
                format!("version must be a whole number of 1 or more (found {version})"),
            );
        }
        if raw.title.trim().is_empty() {
            self.problem(raw.id.span().start, "the template needs a title");
        }
        let default_sheet = raw.sheet.get_ref().trim().to_string();
        if let Some(p) = sheet_name_problem(&default_sheet) {
            self.problem(raw.sheet.span().start, p);
        }

        let mut issue_to = Vec::new();
        for s in &raw.issue_to {
            match Status::parse(s.get_ref()) {
                Some(st) => issue_to.push(st),
                None => self.problem(
                    s.span().start,
                    format!(
                        "issue_to has '{}', which is not a register status (use proposed, active, exiting or closed)",
                        s.get_ref()
                    ),
                ),
            }
        }

        let bands = self.check_bands(raw.bands, "bands", 100.0);
        let risk_ratings: Vec<RiskRating> = {
            let as_bands: Vec<Band> = raw
                .risk_ratings
                .into_iter()
                .map(|r| Band {
                    label: r.label,
                    min: r.min,
                    colour: r.colour,
                })
                .collect();
            self.check_bands(as_bands, "risk_ratings", 25.0)
                .into_iter()
                .map(|b| RiskRating {
                    label: b.label,
                    min: b.min,
                    colour: b.colour,
                })
                .collect()
        };

        let mut sections = Vec::new();
        let mut section_ids: HashMap<String, usize> = HashMap::new();
        let mut question_ids: HashMap<String, usize> = HashMap::new();
        for rs in raw.sections {
            let sid = rs.id.get_ref().trim().to_string();
            let sline = self.lines.line(rs.id.span().start);
            if !valid_question_id(&sid) {
                self.problem(rs.id.span().start, format!("section id '{sid}' must start with a letter and use only letters, digits and single underscores"));
            }
            if let Some(first) = section_ids.insert(sid.to_lowercase(), sline) {
                self.problem(
                    rs.id.span().start,
                    format!("section id '{sid}' is used twice (first at line {first}); give each section its own id"),
                );
            }
            if let Some(section) = self.build_section(
                rs,
                &sid,
                &default_sheet,
                &raw.option_sets,
                &mut question_ids,
            ) {
                sections.push(section);
            }
        }
        if sections.is_empty() && self.problems.is_empty() {
            self.problem(usize::MAX, "the template has no [[sections]]");
        }
        in_form_order(&mut sections);

        // A risk table has its own columns, so it needs a sheet of its own.
        for s in sections
            .iter()
            .filter(|s| matches!(s.layout, Layout::Risks { .. }))
        {
            let shared = sections.iter().any(|o| o.id != s.id && o.sheet == s.sheet);
            if shared {
                self.problems.push(TemplateProblem {
                    file: self.path.to_path_buf(),
                    line: 0,
                    message: format!(
                        "risk section '{}' shares the sheet '{}' with other sections; give it a sheet of its own (sheet = \"Risk assessment\")",
                        s.id, s.sheet
                    ),
                });
            }
        }

        // Conditions must refer to a real option of a real question.
        for s in &sections {
            if let Some(c) = &s.required_when {
                let q = sections
                    .iter()
                    .flat_map(|s| &s.questions)
                    .find(|q| q.id == c.question);
                let ok = q.is_some_and(|q| {
                    q.options
                        .iter()
                        .any(|o| normalise_label(&o.label) == normalise_label(&c.answer))
                });
                if !ok {
                    self.problems.push(TemplateProblem {
                        file: self.path.to_path_buf(),
                        line: 0,
                        message: format!(
                            "section '{}' is required when question '{}' is '{}', but there is no such question with that option",
                            s.id, c.question, c.answer
                        ),
                    });
                }
            }
        }

        let disagreement = match &raw.disagreement {
            None => DEFAULT_DISAGREEMENT,
            Some(d) if d.get_ref().is_finite() && *d.get_ref() > 0.0 => *d.get_ref(),
            Some(d) => {
                self.problem(
                    d.span().start,
                    format!(
                        "disagreement must be a number of points above 0, such as 2 (found {})",
                        d.get_ref()
                    ),
                );
                DEFAULT_DISAGREEMENT
            }
        };
        let template = Template {
            id,
            version: version.clamp(0, i64::from(u32::MAX)) as u32,
            title: raw.title.trim().to_string(),
            description: raw.description.trim().to_string(),
            instructions: raw.instructions,
            issue_to,
            respondents: raw.respondents,
            disagreement,
            bands,
            risk_ratings,
            sections,
            source: self.path.to_path_buf(),
        };
        if template.is_scored() && template.bands.is_empty() {
            self.problem(
                raw.id.span().start,
                "the template has scored questions but no [[bands]] (RAG thresholds such as Green min = 75, Amber min = 50, Red min = 0)",
            );
        }
        let has_risks = template
            .sections
            .iter()
            .any(|s| matches!(s.layout, Layout::Risks { .. }));
        if has_risks && template.risk_ratings.is_empty() {
            self.problem(
                raw.id.span().start,
                "the template has a risk section but no [[risk_ratings]] (such as High min = 15, Medium min = 8, Low min = 1)",
            );
        }
        if self.problems.is_empty() {
            Ok(template)
        } else {
            Err(self.problems)
        }
    }

    /// Bands are sorted highest first; the lowest must start at 0 so every percent has one.
    fn check_bands(&mut self, mut bands: Vec<Band>, key: &str, top: f64) -> Vec<Band> {
        bands.sort_by(|a, b| b.min.total_cmp(&a.min));
        for b in &bands {
            if !(0.0..=top).contains(&b.min) {
                self.problem(
                    usize::MAX,
                    format!(
                        "{key}: '{}' has min = {}, which must be between 0 and {top}",
                        b.label, b.min
                    ),
                );
            }
            if !is_hex_colour(&b.colour) {
                self.problem(
                    usize::MAX,
                    format!(
                        "{key}: '{}' has colour '{}'; write it as six hex digits like 'C6EFCE'",
                        b.label, b.colour
                    ),
                );
            }
        }
        if let Some(last) = bands.last() {
            let floor = if key == "risk_ratings" { 1.0 } else { 0.0 };
            if last.min > floor {
                self.problem(
                    usize::MAX,
                    format!(
                        "{key}: the lowest band ('{}') starts at {}, so lower values would have no band; set its min to {floor}",
                        last.label, last.min
                    ),
                );
            }
        }
        bands
    }

    fn build_section(
        &mut self,
        rs: RawSection,
        sid: &str,
        default_sheet: &str,
        option_sets: &HashMap<String, Vec<AnswerOption>>,
        question_ids: &mut HashMap<String, usize>,
    ) -> Option<Section> {
        let sspan = rs.id.span().start;
        let weight = rs.weight.as_ref().map_or(1.0, |w| *w.get_ref());
        if !(weight.is_finite() && weight > 0.0) {
            let at = rs.weight.as_ref().map_or(sspan, |w| w.span().start);
            self.problem(
                at,
                format!("section '{sid}' has weight {weight}; a weight must be a number above 0"),
            );
        }
        let sheet = match &rs.sheet {
            Some(s) => {
                let name = s.get_ref().trim().to_string();
                if let Some(p) = sheet_name_problem(&name) {
                    self.problem(s.span().start, p);
                }
                name
            }
            None => default_sheet.to_string(),
        };
        let layout = match rs.layout.as_ref().map(|l| l.get_ref().as_str()) {
            None | Some("questions") => Layout::Questions,
            Some("risks") => {
                let rows = rs.rows.unwrap_or(5);
                let required_rows = rs.required_rows.unwrap_or(1);
                if !(1..=50).contains(&rows) || required_rows > rows {
                    self.problem(sspan, format!("section '{sid}': a risk table needs rows between 1 and 50 and required_rows no more than rows"));
                }
                Layout::Risks {
                    rows,
                    required_rows,
                }
            }
            Some(other) => {
                let at = rs.layout.as_ref().map_or(sspan, |l| l.span().start);
                self.problem(
                    at,
                    format!("section '{sid}' has layout '{other}'; use 'questions' or 'risks'"),
                );
                Layout::Questions
            }
        };

        let mut questions = Vec::new();
        match layout {
            Layout::Risks {
                rows,
                required_rows,
            } => {
                if !rs.questions.is_empty() {
                    self.problem(sspan, format!("section '{sid}' is a risk table; its questions are made by ptk, so remove its [[sections.questions]]"));
                }
                for n in 1..=rows {
                    questions.extend(risk_row_questions(
                        sid,
                        n,
                        n <= required_rows,
                        self.lines.line(sspan),
                    ));
                }
                for q in &questions {
                    if let Some(first) = question_ids.insert(q.id.to_lowercase(), q.line) {
                        self.problem(sspan, format!("question id '{}' (made for the risk table) clashes with a question at line {first}", q.id));
                    }
                }
            }
            Layout::Questions => {
                for rq in rs.questions {
                    if let Some(q) = self.build_question(rq, option_sets, question_ids) {
                        questions.push(q);
                    }
                }
                if questions.is_empty() {
                    self.problem(sspan, format!("section '{sid}' has no questions"));
                }
            }
        }

        Some(Section {
            id: sid.to_string(),
            title: rs.title.trim().to_string(),
            intro: rs
                .intro
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            weight,
            sheet,
            layout,
            required_when: rs.required_when.map(Spanned::into_inner),
            questions,
        })
    }

    fn build_question(
        &mut self,
        rq: RawQuestion,
        option_sets: &HashMap<String, Vec<AnswerOption>>,
        question_ids: &mut HashMap<String, usize>,
    ) -> Option<Question> {
        let at = rq.id.span().start;
        let line = self.lines.line(at);
        let id = rq.id.get_ref().trim().to_string();
        if !valid_question_id(&id) {
            self.problem(at, format!("question id '{id}' must start with a letter and use only letters, digits and single underscores (at most 40 characters)"));
        }
        if let Some(first) = question_ids.insert(id.to_lowercase(), line) {
            self.problem(at, format!("question id '{id}' is used twice (first at line {first}); give each question its own id"));
        }
        if rq.text.trim().is_empty() {
            self.problem(at, format!("question '{id}' has no text"));
        }
        let kind = *rq.kind.get_ref();
        let mut options = match (rq.options, &rq.options_from) {
            (Some(_), Some(from)) => {
                self.problem(
                    from.span().start,
                    format!("question '{id}' has both options and options_from; keep one"),
                );
                Vec::new()
            }
            (Some(o), None) => o,
            (None, Some(from)) => match option_sets.get(from.get_ref()) {
                Some(o) => o.clone(),
                None => {
                    self.problem(from.span().start, format!("question '{id}' uses options_from = '{}', but there is no [option_sets] entry with that name", from.get_ref()));
                    Vec::new()
                }
            },
            (None, None) => Vec::new(),
        };
        if kind == QuestionType::YesNo && options.is_empty() {
            options = vec![
                AnswerOption {
                    label: "Yes".into(),
                    points: None,
                },
                AnswerOption {
                    label: "No".into(),
                    points: None,
                },
            ];
        }
        if kind.has_options() {
            if options.is_empty() {
                self.problem(
                    at,
                    format!(
                        "question '{id}' is a {} question but has no options",
                        kind.name()
                    ),
                );
            }
            if kind == QuestionType::Scale && !options.iter().any(|o| o.points.is_some()) {
                self.problem(at, format!("question '{id}' is a scored scale but none of its options has points; add points = N to each scored option"));
            }
            let mut seen = HashMap::new();
            for o in &options {
                let label = o.label.trim();
                if label.is_empty() {
                    self.problem(
                        at,
                        format!("question '{id}' has an option with an empty label"),
                    );
                }
                if label.contains([',', '"']) {
                    self.problem(at, format!("question '{id}': option '{label}' contains a comma or a double quote, which Excel dropdown lists cannot show; reword it"));
                }
                if seen.insert(normalise_label(label), ()).is_some() {
                    self.problem(
                        at,
                        format!("question '{id}' has the option '{label}' twice"),
                    );
                }
                if let Some(p) = o.points {
                    if !(p.is_finite() && p >= 0.0) {
                        self.problem(at, format!("question '{id}': option '{label}' has points = {p}; points must be 0 or more"));
                    }
                }
            }
            let list_len: usize = options
                .iter()
                .map(|o| o.label.trim().chars().count() + 1)
                .sum();
            if list_len > MAX_LIST_CHARS + 1 {
                self.problem(at, format!("question '{id}': its option labels add up to {} characters, more than the {MAX_LIST_CHARS} an Excel dropdown can hold; shorten them", list_len - 1));
            }
        } else if !options.is_empty() {
            self.problem(at, format!("question '{id}' is a {} question, which cannot have options (only scale, choice and yes-no can)", kind.name()));
        }
        if (rq.min.is_some() || rq.max.is_some() || rq.whole) && kind != QuestionType::Number {
            self.problem(
                at,
                format!("question '{id}': min, max and whole only apply to number questions"),
            );
        }
        if let (Some(lo), Some(hi)) = (rq.min, rq.max) {
            if lo > hi {
                self.problem(at, format!("question '{id}' has min {lo} above max {hi}"));
            }
        }
        Some(Question {
            id,
            text: rq.text.trim().to_string(),
            help: rq
                .help
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty()),
            kind,
            required: rq.required,
            options: options
                .into_iter()
                .map(|o| AnswerOption {
                    label: o.label.trim().to_string(),
                    points: o.points,
                })
                .collect(),
            evidence: rq.evidence,
            in_review: rq.in_review,
            min: rq.min,
            max: rq.max,
            whole: rq.whole,
            line,
        })
    }
}

fn is_hex_colour(s: &str) -> bool {
    s.len() == 6 && s.chars().all(|c| c.is_ascii_hexdigit())
}

/// The columns of one risk row, in sheet order after the row number.
pub const RISK_FIELDS: [&str; 5] = ["risk", "likelihood", "impact", "mitigation", "owner"];

/// Builds the questions of risk row `n` in section `sid`: `<sid>_<n>_risk`, `_likelihood`, …
fn risk_row_questions(sid: &str, n: usize, required: bool, line: usize) -> Vec<Question> {
    let q = |field: &str, text: String, kind: QuestionType, required: bool| Question {
        id: format!("{sid}_{n}_{field}"),
        text,
        help: None,
        kind,
        required,
        options: Vec::new(),
        evidence: false,
        in_review: false,
        min: (kind == QuestionType::Number).then_some(1.0),
        max: (kind == QuestionType::Number).then_some(5.0),
        whole: kind == QuestionType::Number,
        line,
    };
    vec![
        q(
            "risk",
            format!("Risk {n}: description"),
            QuestionType::Text,
            required,
        ),
        q(
            "likelihood",
            format!("Risk {n}: likelihood (1 = rare, 5 = almost certain)"),
            QuestionType::Number,
            required,
        ),
        q(
            "impact",
            format!("Risk {n}: impact (1 = negligible, 5 = severe)"),
            QuestionType::Number,
            required,
        ),
        q(
            "mitigation",
            format!("Risk {n}: mitigation"),
            QuestionType::Text,
            false,
        ),
        q(
            "owner",
            format!("Risk {n}: risk owner"),
            QuestionType::Text,
            false,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
id = "mini"
version = 2
title = "Mini"
[[bands]]
label = "Green"
min = 60
[[bands]]
label = "Red"
min = 0
[[sections]]
id = "s1"
title = "One"
[[sections.questions]]
id = "q1"
text = "Is it?"
type = "scale"
options = [{ label = "0 - No", points = 0 }, { label = "2 - Yes", points = 2 }, { label = "Not applicable" }]
"#;

    fn problems(text: &str) -> Vec<String> {
        parse(Path::new("t.toml"), text)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|p| p.to_string())
            .collect()
    }

    #[test]
    fn minimal_template_loads() {
        let t = parse(Path::new("t.toml"), MINIMAL).unwrap();
        assert_eq!(t.version, 2);
        assert!(t.is_scored());
        assert_eq!(t.question("q1").unwrap().max_points(), Some(2.0));
        assert_eq!(t.band_for(59.9).unwrap().label, "Red");
        assert_eq!(t.band_for(60.0).unwrap().label, "Green");
        assert_eq!(t.sheets(), vec!["Form"]);
    }

    #[test]
    fn who_answers_and_the_disagreement_threshold() {
        let t = parse(Path::new("t.toml"), MINIMAL).unwrap();
        assert_eq!(
            t.respondents,
            Recipients::Lead,
            "one form per partnership unless asked"
        );
        assert_eq!(t.disagreement, DEFAULT_DISAGREEMENT);
        let all = MINIMAL.replacen(
            "version = 2",
            "version = 2\nrespondents = \"all\"\ndisagreement = 1.5",
            1,
        );
        let t = parse(Path::new("t.toml"), &all).unwrap();
        assert_eq!((t.respondents, t.disagreement), (Recipients::All, 1.5));
        let bad = MINIMAL.replacen("version = 2", "version = 2\ndisagreement = 0", 1);
        let p = problems(&bad);
        assert!(
            p.iter()
                .any(|m| m.contains("disagreement must be a number of points above 0")),
            "{p:?}"
        );
    }

    #[test]
    fn duplicate_question_id_reports_both_lines() {
        let text = MINIMAL.to_string()
            + "[[sections.questions]]\nid = \"Q1\"\ntext = \"Again\"\ntype = \"text\"\n";
        let p = problems(&text);
        assert_eq!(p.len(), 1, "{p:?}");
        assert!(p[0].starts_with("t.toml:20:"), "{p:?}");
        assert!(p[0].contains("used twice (first at line 15)"), "{p:?}");
    }

    #[test]
    fn scale_without_points_is_rejected() {
        let text = MINIMAL
            .replace("points = 0 }", "}")
            .replace("points = 2 }", "}");
        let p = problems(&text);
        assert!(
            p.iter()
                .any(|m| m.contains("none of its options has points")),
            "{p:?}"
        );
    }

    #[test]
    fn unknown_type_is_rejected_with_line() {
        let text = MINIMAL.replace("type = \"scale\"", "type = \"scael\"");
        let p = problems(&text);
        assert!(p[0].starts_with("t.toml:17:"), "{p:?}");
        assert!(p[0].contains("scael"), "{p:?}");
    }

    #[test]
    fn unknown_key_is_rejected() {
        let text = MINIMAL.replace("title = \"One\"", "title = \"One\"\nwieght = 2");
        let p = problems(&text);
        assert!(p[0].contains("wieght"), "{p:?}");
    }

    #[test]
    fn bands_must_reach_zero() {
        let text = MINIMAL.replace("min = 0\n", "min = 10\n");
        let p = problems(&text);
        assert!(
            p.iter()
                .any(|m| m.contains("lower values would have no band")),
            "{p:?}"
        );
    }

    #[test]
    fn comma_in_option_label_is_rejected() {
        let text = MINIMAL.replace("2 - Yes", "2 - Yes, fully");
        let p = problems(&text);
        assert!(p.iter().any(|m| m.contains("comma")), "{p:?}");
    }

    #[test]
    fn risk_section_generates_rows() {
        let text = r#"
id = "r"
version = 1
title = "R"
[[risk_ratings]]
label = "High"
min = 15
[[risk_ratings]]
label = "Low"
min = 1
[[sections]]
id = "risks"
title = "Risks"
layout = "risks"
rows = 3
"#;
        let t = parse(Path::new("r.toml"), text).unwrap();
        let ids: Vec<&str> = t.questions().map(|(_, q)| q.id.as_str()).collect();
        assert_eq!(ids.len(), 15);
        assert_eq!(ids[0], "risks_1_risk");
        assert!(t.question("risks_1_likelihood").unwrap().required);
        assert!(!t.question("risks_2_likelihood").unwrap().required);
        assert_eq!(t.risk_rating_for(16.0).unwrap().label, "High");
        assert!(!t.is_scored());
    }

    #[test]
    fn sections_are_numbered_in_form_order_across_sheets() {
        let text = r#"
id = "n"
version = 1
title = "N"
sheet = "Questions"
[[risk_ratings]]
label = "Low"
min = 1
[[sections]]
id = "a"
title = "A"
[[sections.questions]]
id = "qa"
text = "A?"
type = "text"
[[sections]]
id = "risks"
title = "Risks"
sheet = "Risk assessment"
layout = "risks"
rows = 1
[[sections]]
id = "b"
title = "B"
[[sections.questions]]
id = "qb"
text = "B?"
type = "text"
"#;
        let t = parse(Path::new("n.toml"), text).unwrap();
        let order: Vec<&str> = t.sections.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(order, ["a", "b", "risks"]);
        assert_eq!(t.sheets(), ["Questions", "Risk assessment"]);
    }

    #[test]
    fn normalise_label_ignores_case_and_spacing() {
        assert_eq!(normalise_label("  3 -  In   Place "), "3 - in place");
    }
}
