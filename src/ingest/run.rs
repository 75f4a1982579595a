//! The run: outcomes streamed, in input order, into one store transaction and the
//! report spool; duplicates settled; the summary.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::email::Envelope;
use super::examine::process;
use super::spool::{self, Tally};
use super::{Context, Input, Outcome, Status};
use crate::score;
use crate::store::{AcceptedReturn, FileRecord, RunChanges, Store};

/// What the reports say about one input file; it goes to the run's report spool as soon
/// as the files before it are done (see `spool`).
#[derive(Debug, Clone)]
pub struct FileReport {
    pub path: String,
    pub sha256: String,
    pub status: Status,
    /// For an unchanged file: the status it was given when first ingested.
    pub previous: Option<String>,
    pub partnership_id: String,
    pub template_id: String,
    pub template_version: String,
    pub year: String,
    pub message: String,
    pub email: String,
    /// path, partnership_id, sheet, cell, question_id, severity, code, message
    pub findings: Vec<[String; 8]>,
}

impl FileReport {
    pub(super) fn new(o: &Outcome, stored: Option<Vec<crate::store::StoredFinding>>) -> Self {
        let path = o.path.display().to_string();
        let pid = o.partnership_id.clone().unwrap_or_default();
        let findings = match stored {
            Some(f) => f
                .into_iter()
                .map(|f| {
                    [
                        path.clone(),
                        f.partnership_id,
                        f.sheet,
                        f.cell,
                        f.question_id,
                        f.severity,
                        f.code,
                        f.message,
                    ]
                })
                .collect(),
            None => o
                .findings
                .iter()
                .map(|f| {
                    [
                        path.clone(),
                        pid.clone(),
                        f.sheet.clone(),
                        f.cell.clone(),
                        f.question_id.clone(),
                        f.severity.as_str().into(),
                        f.code.as_str().into(),
                        f.message.clone(),
                    ]
                })
                .collect(),
        };
        Self {
            sha256: o.sha256.clone(),
            status: o.status,
            previous: o.previous.clone(),
            partnership_id: pid,
            template_id: o.template_id.clone().unwrap_or_default(),
            template_version: o
                .template_version
                .map(|v| v.to_string())
                .unwrap_or_default(),
            year: o.year.map(|v| v.to_string()).unwrap_or_default(),
            message: o.message.clone(),
            email: o
                .envelope
                .as_ref()
                .map(Envelope::describe)
                .unwrap_or_default(),
            findings,
            path,
        }
    }

    pub(super) fn count(&self, severity: &str) -> usize {
        self.findings.iter().filter(|f| f[5] == severity).count()
    }

    /// Rejected now, or unchanged since it was rejected: the partnership still has to correct it.
    pub fn needs_correction(&self) -> bool {
        self.status == Status::Rejected
            || (self.status == Status::Unchanged
                && self.previous.as_deref() == Some(Status::Rejected.as_str()))
    }
}

/// Moves an outcome into the record the store writes (no copies of the answers).
fn record(o: Outcome) -> FileRecord {
    let accepted = o.status.is_accepted().then(|| {
        let scores = o
            .score
            .as_ref()
            .map(|s| {
                s.sections
                    .iter()
                    .map(|x| (x.section_id.clone(), x.percent, x.points, x.max_points))
                    .chain(std::iter::once((
                        score::OVERALL.to_string(),
                        s.overall,
                        s.sections.iter().map(|x| x.points).sum(),
                        s.sections.iter().map(|x| x.max_points).sum(),
                    )))
                    .collect()
            })
            .unwrap_or_default();
        AcceptedReturn {
            status: o.status.as_str().to_string(),
            overall: o.score.as_ref().and_then(|s| s.overall),
            band: o.score.as_ref().and_then(|s| s.band.clone()),
            answers: o.answers,
            scores,
        }
    });
    FileRecord {
        sha256: o.sha256,
        path: o.path.display().to_string(),
        status: o.status.as_str().to_string(),
        partnership_id: o.partnership_id,
        template_id: o.template_id,
        template_version: o.template_version,
        year: o.year,
        issued_at: o.issued_at,
        message: o.message,
        findings: o.findings,
        accepted,
    }
}

/// The result of a run, saved in the store; its reports still to write.
pub struct RunOutput {
    pub changes: RunChanges,
    pub tally: Tally,
    pub summary: String,
    pub reports: PendingReports,
}

/// The run's per-file report, spooled, waiting to be written as CSV.
pub struct PendingReports {
    spool: spool::Spool,
    dir: PathBuf,
    duplicates: Vec<crate::store::Duplicate>,
}

impl PendingReports {
    /// Writes `ingest-report.csv` and `findings.csv` atomically; calls
    /// `each(status, path, message)` once per file, in input order. Returns their paths.
    pub fn write(
        self,
        each: &mut dyn FnMut(Status, &str, &str),
    ) -> anyhow::Result<(PathBuf, PathBuf)> {
        self.spool.finish(&self.dir, &self.duplicates, each)
    }
}

/// Files processed together by one worker before their outcomes go to the writer.
const BATCH: usize = 16;

/// Runs an ingest: reads, validates and scores the inputs in parallel and streams the
/// outcomes, as they are ready, into one store transaction and the run's report spool,
/// so memory does not grow with the number of files; then settles duplicates and
/// commits. The reports (`ingest-report.csv`, `findings.csv`, for `report_dir`) are
/// written afterwards with [`PendingReports::write`], so an error there can never be
/// mistaken for a run that was not saved. `progress` is called after each file.
#[allow(clippy::too_many_arguments)]
pub fn run(
    inputs: &[Input],
    ctx: &Context<'_>,
    store: &mut Store,
    started_at: &str,
    partnerships: &[crate::register::Partnership],
    fail_after: Option<usize>,
    progress: &(dyn Fn() + Sync),
    report_dir: &Path,
) -> anyhow::Result<RunOutput> {
    let mut spool = spool::Spool::new(report_dir)?;
    let mut writer = store.begin_run(ctx.year, started_at, partnerships, fail_after)?;
    // Outcomes travel to the writer in small batches: one channel hand-over (and thread
    // wake-up) per batch rather than per file. The channel is bounded, so parsing never
    // runs far ahead of the store; batches are handed out in input order (par_bridge),
    // so the spool's reorder buffer stays a few batches long.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(usize, Outcome)>>(8);
    std::thread::scope(|scope| -> anyhow::Result<()> {
        scope.spawn(move || {
            // Stops early if the writer gives up (the channel closes).
            let _ = inputs
                .chunks(BATCH)
                .enumerate()
                .par_bridge()
                .try_for_each_with(tx, |tx, (b, chunk)| {
                    let batch = chunk
                        .iter()
                        .enumerate()
                        .map(|(j, input)| {
                            let o = process(input, ctx);
                            progress();
                            (b * BATCH + j, o)
                        })
                        .collect();
                    tx.send(batch).map_err(|_| ())
                });
        });
        for (i, o) in rx.into_iter().flatten() {
            let stored = if o.status == Status::Unchanged {
                Some(writer.findings_for(&o.sha256)?)
            } else {
                None
            };
            spool.push(i, FileReport::new(&o, stored))?;
            let modified = o
                .modified
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .and_then(|d| i64::try_from(d.as_nanos()).ok());
            writer.write(&record(o), modified)?;
        }
        Ok(())
    })?;
    let (changes, duplicates) = writer.settle()?;
    let tally = spool.tally(&duplicates);
    anyhow::ensure!(
        tally.files() == inputs.len(),
        "internal error: {} of {} files were reported",
        tally.files(),
        inputs.len()
    );
    let summary = tally.summary();
    writer.commit(inputs.len(), &summary)?;
    Ok(RunOutput {
        changes,
        tally,
        summary,
        reports: PendingReports {
            spool,
            dir: report_dir.to_path_buf(),
            duplicates,
        },
    })
}
