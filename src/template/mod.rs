//! Template definitions: the plain-text (TOML) forms a council officer edits without
//! recompiling. A [`Template`] is loaded from `templates/<id>.toml`, checked, and then
//! drives both the issued workbook and the validation and scoring of returns.
//!
//! Every problem found while loading is a [`TemplateProblem`] carrying the file and the
//! line, so `ptk templates check` can say exactly where to look.

// The steps, in the order a template file goes through them: `raw` (what serde reads),
// `check` (the template and its sections), `question` (each question), `risks` (the rows
// ptk makes for a risk table), giving the `model` the rest of ptk uses.
mod check;
mod model;
mod question;
mod raw;
mod risks;
mod table;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::path::{Path, PathBuf};

pub use crate::text::normalise_label;
pub use model::*;
pub use risks::RISK_FIELDS;

use check::{Checker, LineIndex};
use raw::RawTemplate;

/// Loads every `*.toml` in a folder, sorted by file name. Returns the templates
/// that loaded cleanly and every problem found.
pub fn load_dir(dir: &Path) -> anyhow::Result<(Vec<Template>, Vec<TemplateProblem>)> {
    Ok(parse_all(read_dir_texts(dir)?))
}

/// The text of every `*.toml` in a folder, sorted by file name (a file that cannot be
/// read is a problem of `parse_all`, as an empty text with the error in its place).
pub fn read_dir_texts(dir: &Path) -> anyhow::Result<Vec<(PathBuf, Result<String, String>)>> {
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
    Ok(files
        .into_iter()
        .map(|f| {
            let text = std::fs::read_to_string(&f).map_err(|e| e.to_string());
            (f, text)
        })
        .collect())
}

/// Parses and checks a folder's template texts (as [`read_dir_texts`] gives them).
pub fn parse_all(
    texts: Vec<(PathBuf, Result<String, String>)>,
) -> (Vec<Template>, Vec<TemplateProblem>) {
    let mut templates = Vec::new();
    let mut problems = Vec::new();
    for (f, text) in texts {
        let parsed = match text {
            Ok(text) => parse(&f, &text),
            Err(e) => Err(vec![TemplateProblem {
                file: f.clone(),
                line: 0,
                message: format!("cannot read the file: {e}"),
            }]),
        };
        match parsed {
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
    (templates, problems)
}

/// Loads every template in a folder, failing (with every problem listed) unless all
/// of them are sound: a run must never read returns against a half-broken set.
pub fn load_checked(dir: &Path) -> anyhow::Result<Vec<Template>> {
    check_all(dir, read_dir_texts(dir)?)
}

/// As [`load_checked`], from texts already read (`dir` names the folder in messages).
pub fn check_all(
    dir: &Path,
    texts: Vec<(PathBuf, Result<String, String>)>,
) -> anyhow::Result<Vec<Template>> {
    let (templates, problems) = parse_all(texts);
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
