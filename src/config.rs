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
}

impl Config {
    /// Reads `ptk.toml` from `dir` if it exists; a missing file is the empty config.
    pub fn load_from(dir: &Path) -> anyhow::Result<Self> {
        let path = dir.join(FILE_NAME);
        match std::fs::read_to_string(&path) {
            Ok(text) => toml::from_str(&text).map_err(|e| {
                anyhow::anyhow!(
                    "{} has a problem{}: {}",
                    path.display(),
                    e.span()
                        .map(|s| format!(" at line {}", text[..s.start].lines().count().max(1)))
                        .unwrap_or_default(),
                    e.message().trim()
                )
            }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
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
    }
}
