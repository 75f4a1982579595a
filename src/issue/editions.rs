//! Which forms an issue run writes. A form is named by what it is (template, year,
//! partnership, respondent): once issued for a year (its workbook is in the outbox, or
//! an issue email for it was sent or drafted) a later run leaves it alone, so issuing
//! again when a partnership joins mid-year writes only the new one. Issuing a form
//! again is explicit (`--reissue ID`): the earlier file is kept in `replaced/`, and the
//! store numbers the new edition so that `ptk mail issue` sends it once, as a
//! replacement.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{recipients_for, respondent_file_name};
use crate::register::Partnership;
use crate::respondents::Respondents;
use crate::sends::{key_respondent, message_key, Kind};
use crate::store::Store;
use crate::template::Template;

/// The tail of a re-issue's key: `reissue-<edition>`.
const REISSUE_TAIL: &str = "reissue-";
/// The tail of a first issue's key. Stores from before keep their workbook-hash tails,
/// which count as the first issue too.
const FIRST_TAIL: &str = "issued";

/// What the store knows of one template's and year's issue emails, by form.
pub struct IssueRecord<'s> {
    store: Option<&'s Store>,
    template: String,
    year: i32,
    /// (partnership, respondent), lower-case → (key, state) of each send not failed.
    sends: HashMap<(String, String), Vec<(String, String)>>,
}

impl<'s> IssueRecord<'s> {
    pub fn load(store: Option<&'s Store>, template: &str, year: i32) -> anyhow::Result<Self> {
        let mut sends: HashMap<(String, String), Vec<(String, String)>> = HashMap::new();
        if let Some(s) = store {
            for r in s.sends_for_year(year)? {
                if r.kind == Kind::Issue.as_str()
                    && r.template_id == template
                    && r.state != "failed"
                {
                    let who = (
                        r.partnership_id.to_ascii_lowercase(),
                        key_respondent(&r.key).to_ascii_lowercase(),
                    );
                    sends.entry(who).or_default().push((r.key, r.state));
                }
            }
        }
        Ok(Self {
            store,
            template: template.to_string(),
            year,
            sends,
        })
    }

    fn who(pid: &str, rid: &str) -> (String, String) {
        (pid.to_ascii_lowercase(), rid.to_ascii_lowercase())
    }

    /// Whether an issue email for this form was ever sent or drafted (any edition).
    pub fn mailed(&self, pid: &str, rid: &str) -> bool {
        self.sends.contains_key(&Self::who(pid, rid))
    }

    /// The form's current edition (1 unless re-issued).
    pub fn edition(&self, pid: &str, rid: &str) -> anyhow::Result<u32> {
        match self.store {
            Some(s) => s.form_edition((&self.template, self.year, pid, rid)),
            None => Ok(1),
        }
    }

    /// The key of the issue email of this edition of the form: for edition 1, the key
    /// it was sent (or drafted) under before if any, whatever its tail, so a store's
    /// older hash-tailed keys still count as sent.
    pub fn key(&self, pid: &str, rid: &str, edition: u32) -> String {
        if edition <= 1 {
            let before = self.sends.get(&Self::who(pid, rid)).and_then(|v| {
                let first: Vec<&(String, String)> = v
                    .iter()
                    .filter(|(k, _)| !k.rsplit('/').next().unwrap_or("").starts_with(REISSUE_TAIL))
                    .collect();
                first
                    .iter()
                    .find(|(_, st)| st == "sent")
                    .or_else(|| first.first())
                    .map(|(k, _)| k.clone())
            });
            if let Some(k) = before {
                return k;
            }
        }
        let tail = if edition <= 1 {
            FIRST_TAIL.to_string()
        } else {
            format!("{REISSUE_TAIL}{edition}")
        };
        message_key(Kind::Issue, &self.template, self.year, pid, rid, &tail)
    }
}

/// The folder inside the outbox where re-issued forms' earlier files are kept.
pub const REPLACED: &str = "replaced";

/// A form issued again on purpose.
#[derive(Debug, Clone)]
pub struct Reissue {
    pub partnership_id: String,
    pub respondent_id: String,
    /// The new edition (2 for the first re-issue).
    pub edition: u32,
    /// Where the earlier file now is (none if it was no longer in the outbox).
    pub replaced: Option<PathBuf>,
}

/// What an issue run writes and leaves alone.
#[derive(Debug, Default)]
pub struct IssueChoice {
    /// File names of the forms already issued for the year, left as they are.
    pub left_alone: Vec<String>,
    /// (partnership id, respondent id), lower-case, of the forms not written.
    pub skip: HashSet<(String, String)>,
    /// Forms issued again on purpose.
    pub reissues: Vec<Reissue>,
}

/// Chooses the forms to write for `partnerships`: those not issued yet for the year,
/// and those of the partnerships in `reissue` (which must be among them).
#[allow(clippy::too_many_arguments)]
pub fn choose(
    template: &Template,
    partnerships: &[&Partnership],
    respondents: &Respondents,
    council: &str,
    year: i32,
    out_dir: &Path,
    reissue: &[String],
    store: Option<&Store>,
) -> anyhow::Result<IssueChoice> {
    for id in reissue {
        if !partnerships.iter().any(|p| p.id.eq_ignore_ascii_case(id)) {
            anyhow::bail!(
                "--reissue {id}: partnership {id} is not among those this run issues '{}' to; add --partnership {id} (or check the id and its status in the register)",
                template.id
            );
        }
    }
    let record = IssueRecord::load(store, &template.id, year)?;
    let mut choice = IssueChoice::default();
    for p in partnerships {
        let again = reissue.iter().any(|id| id.eq_ignore_ascii_case(&p.id));
        for r in recipients_for(template, p, respondents, council) {
            let name = respondent_file_name(&p.id, &template.id, year, &r.id);
            let issued = out_dir.join(&name).exists() || record.mailed(&p.id, &r.id);
            if !issued {
                continue;
            }
            if again {
                choice.reissues.push(Reissue {
                    partnership_id: p.id.clone(),
                    respondent_id: r.id.clone(),
                    edition: record.edition(&p.id, &r.id)? + 1,
                    replaced: None,
                });
            } else {
                choice
                    .skip
                    .insert((p.id.to_ascii_lowercase(), r.id.to_ascii_lowercase()));
                choice.left_alone.push(name);
            }
        }
    }
    Ok(choice)
}

/// Moves each re-issued form's earlier file into `replaced/`, named with its edition
/// (`…_edition-1.xlsx`), never over another file.
pub fn set_aside(
    choice: &mut IssueChoice,
    template: &Template,
    year: i32,
    out_dir: &Path,
) -> anyhow::Result<()> {
    for r in &mut choice.reissues {
        let name = respondent_file_name(&r.partnership_id, &template.id, year, &r.respondent_id);
        let from = out_dir.join(&name);
        if !from.exists() {
            continue;
        }
        let dir = out_dir.join(REPLACED);
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create the folder {}", dir.display()))?;
        let stem = name.trim_end_matches(".xlsx");
        let mut to = dir.join(format!("{stem}_edition-{}.xlsx", r.edition - 1));
        let mut n = 2;
        while to.exists() {
            to = dir.join(format!("{stem}_edition-{}-{n}.xlsx", r.edition - 1));
            n += 1;
        }
        std::fs::rename(&from, &to).with_context(|| {
            format!(
                "cannot move the earlier form {} to {} before issuing it again; nothing was issued",
                from.display(),
                to.display()
            )
        })?;
        r.replaced = Some(to);
    }
    Ok(())
}

/// Records the re-issues in the store, so `ptk mail issue` sends each new edition once.
pub fn record(
    choice: &IssueChoice,
    store: &Store,
    template: &Template,
    year: i32,
    issued_on: &str,
    now: &str,
) -> anyhow::Result<()> {
    for r in &choice.reissues {
        store.record_reissue(
            (&template.id, year, &r.partnership_id, &r.respondent_id),
            r.edition,
            issued_on,
            &r.replaced
                .as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
            now,
        )?;
    }
    Ok(())
}
