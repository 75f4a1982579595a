//! Loading what a review is gathered from (register, templates, respondents, store),
//! shared by `ptk report`, `ptk status` and `ptk mail chase|corrections`, so that no
//! command borrows another's arguments.

use std::path::{Path, PathBuf};

use crate::config::Config;
use crate::register::{self, Register, RegisterProblem};
use crate::respondents::Respondents;
use crate::store::Store;
use crate::template::Template;

/// The files named on the command line (`None`: the setting in ptk.toml, else the
/// default).
#[derive(Debug, Clone, Default)]
pub struct SourcePaths {
    pub store: Option<PathBuf>,
    pub register: Option<PathBuf>,
    pub templates: Option<PathBuf>,
    pub respondents: Option<PathBuf>,
    /// Make the review of this year again with the register (and respondents file) as
    /// that year's last run read them, unless `register` names one (`ptk report`).
    pub as_run_for: Option<i32>,
}

/// What a review is gathered from: the register, templates, respondents and store.
pub struct Sources {
    store: Store,
    register: Register,
    templates: Vec<Template>,
    respondents: Respondents,
    /// Bad rows of the respondents file, with their line numbers (`ptk report` stops
    /// on them; the respondents on good rows are loaded).
    pub respondent_problems: Vec<RegisterProblem>,
}

impl Sources {
    /// Loads the register, templates and the existing store at `store_path`. With
    /// `strict`, a register with problems is an error (for the commands whose answer
    /// would be wrong without the rows left out: a status or reminders that skip a
    /// partnership look like good news); otherwise its bad rows are listed and left out.
    pub fn load(
        paths: &SourcePaths,
        config: &Config,
        store_path: &Path,
        strict: bool,
    ) -> anyhow::Result<Self> {
        let store = Store::open(store_path)?;
        let templates_dir = config.templates_dir(paths.templates.as_deref());
        let templates = crate::template::load_checked(&templates_dir)?;
        let register_path = config.register_path(paths.register.as_deref());
        let as_run = match (paths.as_run_for, &paths.register) {
            (Some(year), None) => store.run_register(year)?,
            _ => None,
        };
        let (register, problems) = match &as_run {
            Some((when, bytes, _)) => {
                eprintln!(
                    "Using the register as the last run for {} read it ({when}); name one with --register to use another.",
                    paths.as_run_for.unwrap_or_default()
                );
                register::parse(&register_path, bytes)
            }
            None => register::load(&register_path)?,
        };
        let left_out = if strict {
            ""
        } else {
            " (left out of the review)"
        };
        for p in &problems {
            eprintln!("{}{left_out}", crate::output::printable(&p.to_string()));
        }
        if strict && !problems.is_empty() {
            anyhow::bail!(
                "the register {} could not be read: {} problem(s), listed above. Fix them and run again",
                register_path.display(),
                problems.len()
            );
        }
        let respondents_path = config.respondents_path(paths.respondents.as_deref());
        let (respondents, respondent_problems) = match (&as_run, &paths.respondents) {
            (Some((_, _, Some(bytes))), None) => crate::respondents::parse(
                respondents_path
                    .as_deref()
                    .unwrap_or(Path::new("respondents.csv")),
                bytes,
                &register,
            ),
            _ => crate::respondents::load_optional(respondents_path.as_deref(), &register)?,
        };
        Ok(Self {
            store,
            register,
            templates,
            respondents,
            respondent_problems,
        })
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The respondents on the good rows of the respondents file (see
    /// `respondent_problems` for the bad ones).
    pub fn respondents(&self) -> &Respondents {
        &self.respondents
    }

    /// Gathers the review of `year` (its rows borrow from the register).
    pub fn review(&self, year: i32, config: &Config) -> anyhow::Result<super::Review<'_>> {
        super::gather(
            &self.store,
            &self.register,
            &self.respondents,
            &self.templates,
            year,
            config.council(),
            "self-assessment",
            &config.decision,
        )
    }
}

/// Warns when the store knows nothing of `year`: no file read, no email recorded and no
/// issued workbook in the outbox. Usually a mistyped year (2025 for 2026).
pub fn warn_if_year_is_empty(store: &Store, year: i32, outbox: &Path) -> anyhow::Result<()> {
    let (_, files, _) = store.runs_for_year(year)?;
    let sent = !store.sends_for_year(year)?.is_empty();
    let suffix = format!("_{year}.xlsx");
    let issued = std::fs::read_dir(outbox).is_ok_and(|d| {
        d.flatten()
            .any(|e| e.file_name().to_string_lossy().ends_with(&suffix))
    });
    if files == 0 && !sent && !issued {
        eprintln!(
            "ptk: warning: nothing is known for {year}: no returns read, no emails recorded and no {year} forms in {}. Is the year right?",
            outbox.display()
        );
    }
    Ok(())
}
