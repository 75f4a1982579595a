//! Which forms an issue run writes. A form is named by what it is (template, year,
//! partnership, respondent): once issued for a year (its workbook is in the outbox, or
//! an issue email for it was sent or drafted) a later run leaves it alone, so issuing
//! again when a partnership joins mid-year writes only the new one. Issuing a form
//! again is explicit (`--reissue ID`): the earlier file is kept in `replaced/`, and the
//! store numbers the new edition so that `ptk mail issue` sends it once, as a
//! replacement.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{recipients_for, respondent_file_name};
use crate::mail::IssueRecord;
use crate::register::Partnership;
use crate::respondents::Respondents;
use crate::store::Store;
use crate::template::Template;

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
