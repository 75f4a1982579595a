//! The run: outcomes streamed, in input order, into one store transaction and the
//! report spool; duplicates settled; the summary.

use std::path::{Path, PathBuf};

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::AtomicUsize;

use super::pool::{PoolOptions, Slot};
use super::spool::{self, FileReport, Tally};
use super::{Input, Outcome, Status};
use crate::score;
use crate::store::SeenFile;
use crate::store::{AcceptedReturn, FileRecord, RunChanges, Store};
use crate::validate::{Code, Finding};

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
        path: crate::output::shown_path(&o.path),
        status: o.status.as_str().to_string(),
        partnership_id: o.identity.partnership_id,
        template_id: o.identity.template_id,
        template_version: o.identity.template_version,
        year: o.identity.year,
        issued_at: o.identity.issued_at,
        respondent_id: o.identity.respondent_id,
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

/// Outcomes handed to the writer together.
const BATCH: usize = 8;

/// Runs an ingest: reads, validates and scores the inputs in worker processes (see
/// [`pool`](super::pool)) and streams the outcomes, as they are ready, into one store
/// transaction and the run's report spool, so memory does not grow with the number of
/// files; then settles duplicates and commits. The reports (`ingest-report.csv`,
/// `findings.csv`, for `report_dir`) are written afterwards with
/// [`PendingReports::write`], so an error there can never be mistaken for a run that
/// was not saved. `seen` is the store's record of files already ingested (their hashes
/// went to the workers in `pool.setup`). `progress` is called after each file.
#[allow(clippy::too_many_arguments)]
pub fn run(
    inputs: &[Input],
    pool: &PoolOptions,
    seen: &HashMap<String, SeenFile>,
    store: &mut Store,
    started_at: &str,
    partnerships: &[crate::register::Partnership],
    templates: &[crate::template::Template],
    fail_after: Option<usize>,
    progress: &(dyn Fn() + Sync),
    report_dir: &Path,
) -> anyhow::Result<RunOutput> {
    let mut spool = spool::Spool::new(report_dir)?;
    let mut writer = store.begin_run(pool.setup.year, started_at, partnerships, fail_after)?;
    // Each pool slot takes the next input in order, so outcomes arrive nearly in order
    // and the spool's reorder buffer stays short. The channel is bounded: reading never
    // runs far ahead of the store.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<(usize, Outcome)>>(8);
    let next = AtomicUsize::new(0);
    // Content hash → the first file with it in this run: a byte-identical copy is a
    // duplicate of that one, not a second return.
    let mut first_with: HashMap<String, String> = HashMap::new();
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let mut slots = Vec::new();
        for _ in 0..pool.workers.max(1) {
            let tx = tx.clone();
            let next = &next;
            slots.push(scope.spawn(move || -> anyhow::Result<()> {
                // Outcomes go to the writer a few at a time: one channel hand-over
                // (and thread wake-up) per batch rather than per file.
                let mut batch = Vec::with_capacity(BATCH);
                let mut open = true;
                Slot::new(pool).run(inputs, next, &mut |i, o| {
                    progress();
                    batch.push((i, o));
                    if batch.len() == BATCH {
                        open = tx.send(std::mem::take(&mut batch)).is_ok();
                    }
                    // Stops early if the writer gave up (its error is the run's).
                    open
                })?;
                if open && !batch.is_empty() {
                    let _ = tx.send(batch);
                }
                Ok(())
            }));
        }
        drop(tx);
        // Outcomes are taken in input order (held briefly when one arrives early), so
        // which of two identical files is "the first" never depends on timing. Slots
        // take inputs in order, so few wait: at most those read while a slow file is
        // being read (bounded by the time limit).
        let mut early: BTreeMap<usize, Outcome> = BTreeMap::new();
        let mut next_in_order = 0;
        let mut take = |i: usize, mut o: Outcome| -> anyhow::Result<()> {
            if o.status == Status::Unchanged {
                if let Some(s) = seen.get(&o.sha256) {
                    describe_unchanged(&mut o, s);
                }
            }
            let stored = if o.status == Status::Unchanged {
                Some(writer.findings_for(&o.sha256)?)
            } else {
                None
            };
            let copy = examined(&o)
                .then(|| match first_with.get(&o.sha256) {
                    Some(first) => Some(first.clone()),
                    None => {
                        first_with.insert(o.sha256.clone(), crate::output::shown_path(&o.path));
                        None
                    }
                })
                .flatten();
            if let Some(first) = copy {
                // Stored once already (same content): reported, not written again.
                let o = identical_copy(o, &first);
                spool.push(i, FileReport::new(&o, None))?;
                return Ok(());
            }
            spool.push(i, FileReport::new(&o, stored))?;
            let modified = o
                .modified
                .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                .and_then(|d| i64::try_from(d.as_nanos()).ok());
            writer.write(&record(o), modified)?;
            Ok(())
        };
        let written = (|| -> anyhow::Result<()> {
            for (i, o) in rx.iter().flatten() {
                early.insert(i, o);
                while let Some(o) = early.remove(&next_in_order) {
                    take(next_in_order, o)?;
                    next_in_order += 1;
                }
            }
            Ok(())
        })();
        // On a writer error the slots stop at their next send; then their workers end.
        drop(rx);
        for s in slots {
            s.join().expect("a pool slot panicked")?;
        }
        written
    })?;
    let (changes, duplicates) = writer.settle()?;
    // The partnerships' results, from all their respondents' current returns.
    writer.refresh_results(|id, version| {
        templates
            .iter()
            .filter(|t| t.id == id)
            .find(|t| t.version == version)
            .or_else(|| templates.iter().find(|t| t.id == id))
    })?;
    let tally = spool.tally(&duplicates);
    anyhow::ensure!(
        tally.files() == inputs.len(),
        "internal error: {} of {} files were reported",
        tally.files(),
        inputs.len()
    );
    let summary = tally.summary_naming(&spool.failed);
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

/// Whether a file was read and recorded in this run (so a copy of it is a duplicate).
fn examined(o: &Outcome) -> bool {
    !o.sha256.is_empty() && !matches!(o.status, Status::Skipped | Status::Unchanged)
}

/// A byte-identical copy of a file read earlier in the same run.
fn identical_copy(mut o: Outcome, first: &str) -> Outcome {
    let message = format!("identical to {first} (the same file twice); counted once");
    o.status = Status::Duplicate;
    o.findings = vec![Finding::file(Code::DuplicateReturn, message.clone())];
    o.message = message;
    o.answers.clear();
    o.score = None;
    o
}

/// Completes an unchanged file's outcome from the store's record of it.
fn describe_unchanged(o: &mut Outcome, seen: &SeenFile) {
    o.identity.partnership_id = seen.partnership_id.clone();
    o.identity.template_id = seen.template_id.clone();
    o.identity.template_version = seen.template_version;
    o.identity.year = seen.year;
    o.previous = Some(seen.status.clone());
    let path = crate::output::shown_path(&o.path);
    o.message = format!(
        "already ingested (as {}{}); not read again",
        seen.status,
        if seen.path != path {
            format!(", from {}", seen.path)
        } else {
            String::new()
        }
    );
}
