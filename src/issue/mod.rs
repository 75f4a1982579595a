//! Issuing: one protected Excel workbook per partnership and respondent, from a
//! template. A template for `all` respondents (the self-assessment) gives each of a
//! partnership's respondents a form of their own; the others go to the lead officer only.
//!
//! Layout of an issued workbook (see `docs/templates.md`):
//! 1. `Instructions` — purpose, how to fill it in, deadline and return address, the
//!    partnership's details, what each score means, and earlier years' scores.
//! 2. One form sheet per `sheet` named in the template (e.g. `Assessment`), with
//!    question text locked and the answer cells unlocked, dropdowns on every
//!    choice, and print setup.
//! 3. `_ptk` — hidden identification sheet (see [`crate::contract`]).
//!
//! The steps, one file each: [`names`] (file names), [`styles`], [`workbook`] (the
//! whole workbook and `_ptk`), [`instructions`], [`form_sheet`] (question sheets),
//! [`risk_sheet`], [`table_sheet`], [`validation`] (dropdowns and checks), [`mailmerge`].
//! Below them, so that no two of them import each other: [`settings`] (what a run is
//! given and gives back) and [`sheet`] (what every visible sheet shares).

pub mod editions;
mod form_sheet;
mod instructions;
mod mailmerge;
mod names;
mod risk_sheet;
mod settings;
mod sheet;
mod styles;
mod table_sheet;
mod validation;
mod workbook;

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context;
use rayon::prelude::*;

use mailmerge::write_mailmerge;

use crate::letter::LetterTemplate;
use crate::objectives::Carried;
use crate::output::write_atomic;
use crate::register::{Partnership, Register};
use crate::respondents::{Respondent, Respondents};
use crate::score::PriorScore;
use crate::template::{Recipients, Template};

pub use crate::dates::long_date;
pub use mailmerge::MAILMERGE;
pub use names::{file_name, respondent_file_name};
pub use settings::{IssueSettings, Issued};
pub use workbook::build_workbook;

/// Who completes `template` for partnership `p`: every respondent (the lead first) for
/// a template sent to `all`, else the lead officer alone.
pub fn recipients_for(
    template: &Template,
    p: &Partnership,
    respondents: &Respondents,
    council: &str,
) -> Vec<Respondent> {
    match template.respondents {
        Recipients::All => respondents.for_partnership(p, council),
        Recipients::Lead => vec![Respondent::lead(p, council)],
    }
}

/// Writes one workbook per partnership and respondent into `out_dir`, in parallel, then
/// the `mailmerge.csv` beside them. `prior` gives earlier scores, and `carried` last
/// year's objectives and actions, by partnership id. The forms in `skip` ((partnership
/// id, respondent id), lower-case: already issued, see [`editions::choose`]) are not written.
#[allow(clippy::too_many_arguments)]
pub fn issue_all(
    template: &Template,
    partnerships: &[&Partnership],
    respondents: &Respondents,
    settings: &IssueSettings,
    prior: &BTreeMap<String, Vec<PriorScore>>,
    carried: &BTreeMap<String, Carried>,
    letter: &LetterTemplate,
    out_dir: &Path,
    skip: &std::collections::HashSet<(String, String)>,
) -> anyhow::Result<Vec<Issued>> {
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create the output folder {}", out_dir.display()))?;
    let jobs: Vec<(&Partnership, Respondent, usize)> = partnerships
        .iter()
        .flat_map(|p| {
            let all = recipients_for(template, p, respondents, &settings.council);
            let n = all.len();
            all.into_iter().map(move |r| (*p, r, n))
        })
        .filter(|(p, r, _)| !skip.contains(&(p.id.to_ascii_lowercase(), r.id.to_ascii_lowercase())))
        .collect();
    let issued: Vec<Issued> =
        jobs.into_par_iter()
            .map(|(p, r, n)| {
                let none = Vec::new();
                let prior = prior.get(&p.id).unwrap_or(&none);
                let nothing = Carried::default();
                let carried = carried.get(&p.id).unwrap_or(&nothing);
                let bytes = build_workbook(template, p, &r, n, settings, prior, carried)
                    .with_context(|| {
                        format!(
                            "cannot build the workbook for partnership {}, respondent {}",
                            p.id, r.id
                        )
                    })?;
                let path = out_dir.join(respondent_file_name(
                    &p.id,
                    &template.id,
                    settings.year,
                    &r.id,
                ));
                write_atomic(&path, &bytes)?;
                Ok(Issued {
                    partnership_id: p.id.clone(),
                    respondent: r,
                    path,
                })
            })
            .collect::<anyhow::Result<_>>()?;
    write_mailmerge(template, partnerships, settings, letter, &issued, out_dir)?;
    Ok(issued)
}

/// Who receives a template: the partnerships named explicitly, or else every
/// partnership whose register status is in the template's `issue_to`.
pub fn select_partnerships<'r>(
    register: &'r Register,
    template: &Template,
    explicit: &[String],
) -> anyhow::Result<Vec<&'r Partnership>> {
    if explicit.is_empty() {
        return Ok(register
            .partnerships
            .iter()
            .filter(|p| template.issue_to.contains(&p.status))
            .collect());
    }
    let mut out: Vec<&Partnership> = Vec::new();
    for id in explicit {
        let p = register.get(id).with_context(|| {
            format!(
                "partnership '{id}' is not in the register {}; check the id (ids are in the partnership_id column)",
                register.path.display()
            )
        })?;
        if !out.iter().any(|q| q.id == p.id) {
            out.push(p);
        }
    }
    Ok(out)
}
