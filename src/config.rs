//! `ptk.toml`: the defaults an officer would otherwise retype on every run.
//! Command-line flags always win over the file; the file wins over built-in defaults.

use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::Deserialize;

/// The settings file's name, looked for in the working folder.
pub const FILE_NAME: &str = "ptk.toml";

#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The council's name, shown on forms and reports.
    pub council: Option<String>,
    pub register: Option<PathBuf>,
    /// Optional CSV of the respondents beyond each partnership's lead officer.
    pub respondents: Option<PathBuf>,
    pub templates: Option<PathBuf>,
    pub store: Option<PathBuf>,
    pub outbox: Option<PathBuf>,
    /// Where partnerships send completed forms.
    pub return_address: Option<String>,
    /// The return deadline, as YYYY-MM-DD.
    pub deadline: Option<String>,
    /// The sender of emails.
    pub sender: Option<String>,
    /// Name of an environment variable holding the sheet-protection password.
    pub password_env: Option<String>,
    /// The `[decision]` table: which partnerships the review lists for decision.
    #[serde(default)]
    pub decision: crate::report::DecisionRules,
    /// The settings file read (not a setting).
    #[serde(skip)]
    source: Option<PathBuf>,
    /// Where ptk looked for ptk.toml and found none (not a setting).
    #[serde(skip)]
    looked_in: Option<PathBuf>,
}

/// The environment variable naming the settings file (like `--config`).
pub const ENV: &str = "PTK_CONFIG";

impl Config {
    /// Reads the settings: `explicit` (`--config`, else `PTK_CONFIG`), which must exist,
    /// or else `ptk.toml` in the working folder if there is one. Relative paths in a file
    /// named explicitly are taken from that file's folder.
    pub fn load(explicit: Option<&Path>) -> anyhow::Result<Self> {
        let from_env = std::env::var_os(ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from);
        match explicit.map(Path::to_path_buf).or(from_env) {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot read the settings file {} (named by --config or {ENV}): {e}",
                        path.display()
                    )
                })?;
                let mut c = Self::parse(&path, &text)?;
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    c.relative_to(dir);
                }
                c.source = Some(path);
                Ok(c)
            }
            None => Self::load_from(Path::new(".")),
        }
    }

    /// Reads `ptk.toml` from `dir` if it exists; a missing file is the empty config
    /// (which remembers where it looked, for [`Config::not_found_note`]).
    pub fn load_from(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(FILE_NAME);
        match std::fs::read_to_string(&path) {
            Ok(text) => {
                let mut c = Self::parse(&path, &text)?;
                c.source = Some(path);
                Ok(c)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self {
                looked_in: Some(std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf())),
                ..Self::default()
            }),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    /// Parses settings text; an error names the file and line, and for a Windows path
    /// in double quotes says how to write it.
    fn parse(path: &Path, text: &str) -> anyhow::Result<Self> {
        toml::from_str(text).map_err(|e| {
            let line = e.span().map(|s| text[..s.start].matches('\n').count() + 1);
            let at = line.map(|l| format!(" at line {l}")).unwrap_or_default();
            let source_line = line.and_then(|l| text.lines().nth(l - 1)).unwrap_or("");
            if source_line.contains('\\') && source_line.contains('"') {
                let fixed = source_line.replacen('"', "'", 2);
                return anyhow::anyhow!(
                    "{} has a problem{at}: a backslash in a \"double-quoted\" setting starts an escape code, so a Windows path cannot be written that way. Use single quotes (the backslashes then stay as they are): {} , or forward slashes",
                    path.display(),
                    fixed.trim()
                );
            }
            anyhow::anyhow!("{} has a problem{at}: {}", path.display(), e.message().trim())
        })
    }

    /// Takes relative paths from `dir` (the folder of a settings file named explicitly).
    fn relative_to(&mut self, dir: &Path) {
        for p in [
            &mut self.register,
            &mut self.respondents,
            &mut self.templates,
            &mut self.store,
            &mut self.outbox,
        ]
        .into_iter()
        .flatten()
        {
            if p.is_relative() {
                *p = dir.join(&*p);
            }
        }
    }

    /// The settings file read, if any.
    pub fn source(&self) -> Option<&Path> {
        self.source.as_deref()
    }

    /// When no settings file was found: where ptk looked, and how to name one (said
    /// before any error, which is often a path the file would have given).
    pub fn not_found_note(&self) -> Option<String> {
        self.looked_in.as_ref().map(|dir| {
            format!(
                "no {FILE_NAME} found (looked in {}), so only the command line's settings and the defaults apply. Run ptk from the folder with your {FILE_NAME}, or name it with --config FILE (or {ENV})",
                dir.display()
            )
        })
    }

    pub fn council(&self) -> &str {
        self.council
            .as_deref()
            .unwrap_or("Rochford District Council")
    }

    pub fn templates_dir(&self, flag: Option<&Path>) -> PathBuf {
        pick(flag, self.templates.as_deref(), "templates")
    }

    pub fn register_path(&self, flag: Option<&Path>) -> PathBuf {
        pick(flag, self.register.as_deref(), "register.csv")
    }

    /// The respondents file, if one is given by flag or in ptk.toml (it is optional:
    /// without it, each partnership's lead officer is its only respondent).
    pub fn respondents_path(&self, flag: Option<&Path>) -> Option<PathBuf> {
        flag.or(self.respondents.as_deref()).map(Path::to_path_buf)
    }

    pub fn store_path(&self, flag: Option<&Path>) -> PathBuf {
        pick(flag, self.store.as_deref(), "ptk.db")
    }

    pub fn outbox_dir(&self, flag: Option<&Path>) -> PathBuf {
        pick(flag, self.outbox.as_deref(), "outbox")
    }
}

fn pick(flag: Option<&Path>, file: Option<&Path>, default: &str) -> PathBuf {
    flag.or(file)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from(default))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_decision_table_in_ptk_toml() {
        let c: Config = toml::from_str("[decision]\ndecline_points = 3\nstages = []\n").unwrap();
        assert_eq!(c.decision.decline_points, 3.0);
        assert!(c.decision.stages.is_empty());
        assert!(c.decision.lowest_band, "unset rules keep their default");
        let none: Config = toml::from_str("").unwrap();
        assert_eq!(none.decision, crate::report::DecisionRules::default());
        assert!(toml::from_str::<Config>("[decision]\ndecline = 3\n").is_err());
    }

    #[test]
    fn flag_beats_file_beats_default() {
        let c: Config = toml::from_str("register = \"file.csv\"").unwrap();
        assert_eq!(
            c.register_path(Some(Path::new("flag.csv"))),
            PathBuf::from("flag.csv")
        );
        assert_eq!(c.register_path(None), PathBuf::from("file.csv"));
        assert_eq!(c.store_path(None), PathBuf::from("ptk.db"));
    }

    #[test]
    fn unknown_setting_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(FILE_NAME), "registr = \"x\"\n").unwrap();
        let e = Config::load_from(dir.path()).unwrap_err().to_string();
        assert!(e.contains("registr") && e.contains("line 1"), "{e}");
        std::fs::write(
            dir.path().join(FILE_NAME),
            "council = \"x\"\n\nregistr = \"x\"\n",
        )
        .unwrap();
        let e = Config::load_from(dir.path()).unwrap_err().to_string();
        assert!(e.contains("line 3"), "{e}");
    }

    #[test]
    fn a_windows_path_in_double_quotes_says_how_to_write_it() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join(FILE_NAME);
        std::fs::write(
            &file,
            "council = \"x\"\nregister = \"S:\\Partnerships\\2026\\register.csv\"\n",
        )
        .unwrap();
        let e = Config::load_from(dir.path()).unwrap_err().to_string();
        assert!(
            e.contains("line 2") && e.contains("Use single quotes"),
            "{e}"
        );
        assert!(
            e.contains("register = 'S:\\Partnerships\\2026\\register.csv'"),
            "{e}"
        );
        std::fs::write(&file, "register = 'S:\\Partnerships\\2026\\register.csv'\nstore = \"S:/Partnerships/ptk.db\"\n").unwrap();
        let c = Config::load_from(dir.path()).unwrap();
        assert_eq!(
            c.register_path(None),
            PathBuf::from("S:\\Partnerships\\2026\\register.csv")
        );
        assert_eq!(c.store_path(None), PathBuf::from("S:/Partnerships/ptk.db"));
    }
}
