//! The run's per-file report (`ingest-report.csv`, `findings.csv`), streamed.
//!
//! Files finish in any order on the worker threads; the writer puts them back in input
//! order with a small reorder buffer and appends each one to two unnamed temporary
//! files (the spool), so a run holds only the few files that finished early, not one
//! row per input. Which returns are duplicates is known only when the whole run is
//! settled, so the final CSVs are written after the store commits, in one sequential
//! pass over the spool that marks the duplicates.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{BufReader, BufWriter, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{Outcome, Status};
use crate::output::{printable_text, write_atomic_with, SafeCsv};
use crate::store::Duplicate;
use crate::validate::Code;

/// What the reports say about one input file; it goes to the report spool as soon as
/// the files before it are done. Defined here, beside the spool, so that `run` imports
/// `spool` and not the other way round.
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
    /// Every text is made safe on the way in (control characters shown, not acted on):
    /// names, ids and messages all come from files a sender controls.
    pub(super) fn new(o: &Outcome, stored: Option<Vec<crate::store::StoredFinding>>) -> Self {
        let t = |s: &str| printable_text(s).into_owned();
        let path = t(&crate::output::shown_path(&o.path));
        let pid = t(o.identity.partnership_id.as_deref().unwrap_or_default());
        let findings = match stored {
            Some(f) => f
                .into_iter()
                .map(|f| {
                    [
                        path.clone(),
                        t(&f.partnership_id),
                        t(&f.sheet),
                        t(&f.cell),
                        t(&f.question_id),
                        f.severity,
                        f.code,
                        t(&f.message),
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
                        t(&f.sheet),
                        t(&f.cell),
                        t(&f.question_id),
                        f.severity.as_str().into(),
                        f.code.as_str().into(),
                        t(&f.message),
                    ]
                })
                .collect(),
        };
        Self {
            sha256: o.sha256.clone(),
            status: o.status,
            previous: o.previous.clone(),
            partnership_id: pid,
            template_id: t(o.identity.template_id.as_deref().unwrap_or_default()),
            template_version: o
                .identity
                .template_version
                .map(|v| v.to_string())
                .unwrap_or_default(),
            year: o.identity.year.map(|v| v.to_string()).unwrap_or_default(),
            message: t(&o.message),
            email: o
                .envelope
                .as_ref()
                .map(|e| t(&e.describe()))
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

const REPORT_HEADER: [&str; 11] = [
    "path",
    "sha256",
    "status",
    "partnership_id",
    "template_id",
    "template_version",
    "year",
    "errors",
    "warnings",
    "message",
    "email",
];

// Columns of an ingest-report row, as in REPORT_HEADER (a spooled row has the input
// index in front, so its columns are one further on).
const PATH: usize = 0;
const SHA256: usize = 1;
const STATUS: usize = 2;
const PARTNERSHIP: usize = 3;
const WARNINGS: usize = 8;
const MESSAGE: usize = 9;

const FINDINGS_HEADER: [&str; 8] = [
    "path",
    "partnership_id",
    "sheet",
    "cell",
    "question_id",
    "severity",
    "code",
    "message",
];

/// How many files ended with each status, and how many still need correcting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tally {
    counts: [usize; Status::ALL.len()],
    /// Rejected now, or unchanged since an earlier run rejected them.
    pub needs_correction: usize,
}

impl Tally {
    fn slot(s: Status) -> usize {
        Status::ALL
            .iter()
            .position(|x| *x == s)
            .expect("every status is listed")
    }

    pub fn add(&mut self, f: &FileReport) {
        self.counts[Self::slot(f.status)] += 1;
        self.needs_correction += usize::from(f.needs_correction());
    }

    /// An accepted return that settling found to be a duplicate.
    fn count_as_duplicate(&mut self, was: &str) {
        if let Ok(was) = was.parse::<Status>() {
            self.counts[Self::slot(was)] = self.counts[Self::slot(was)].saturating_sub(1);
            self.counts[Self::slot(Status::Duplicate)] += 1;
        }
    }

    pub fn count(&self, s: Status) -> usize {
        self.counts[Self::slot(s)]
    }

    pub fn files(&self) -> usize {
        self.counts.iter().sum()
    }

    /// "12 files: 9 accepted, 1 accepted with warnings, 1 rejected, 1 skipped."
    pub fn summary(&self) -> String {
        let parts: Vec<String> = Status::ALL
            .iter()
            .map(|s| (s, self.count(*s)))
            .filter(|(_, n)| *n > 0)
            .map(|(s, n)| format!("{n} {}", s.as_str().replace('-', " ")))
            .collect();
        let n = self.files();
        format!(
            "{n} file{}: {}.",
            if n == 1 { "" } else { "s" },
            if parts.is_empty() {
                "nothing to do".to_string()
            } else {
                parts.join(", ")
            }
        )
    }
}

impl Tally {
    /// The summary, naming the files no reader could read safely (so they can be
    /// found without searching the findings).
    pub fn summary_naming(&self, failed: &[String]) -> String {
        let mut s = self.summary();
        if !failed.is_empty() {
            s.push_str(&format!(
                " Could not be read safely (reader-failed, ask the senders to save them again as .xlsx): {}.",
                failed.join(", ")
            ));
        }
        s
    }
}

/// Report rows spooled in input order (see the module documentation).
pub struct Spool {
    report: csv::Writer<BufWriter<File>>,
    findings: csv::Writer<BufWriter<File>>,
    /// Files that finished before an earlier one, by input index.
    waiting: BTreeMap<usize, FileReport>,
    next: usize,
    tally: Tally,
    /// Files no reader could read safely (`reader-failed`), for the run's summary.
    pub failed: Vec<String>,
}

/// An unnamed temporary file, gone when closed (or if the process dies).
fn spool_file(dir: &Path) -> anyhow::Result<File> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the folder {}", dir.display()))?;
    tempfile::tempfile_in(dir)
        .with_context(|| format!("cannot create a temporary file in {}", dir.display()))
}

impl Spool {
    /// Spools into unnamed temporary files in `dir` (where the reports will go, so the
    /// data never leaves the folder the user chose).
    pub fn new(dir: &Path) -> anyhow::Result<Self> {
        let writer = |f| csv::WriterBuilder::new().from_writer(BufWriter::new(f));
        Ok(Self {
            report: writer(spool_file(dir)?),
            findings: writer(spool_file(dir)?),
            waiting: BTreeMap::new(),
            next: 0,
            tally: Tally::default(),
            failed: Vec::new(),
        })
    }

    /// Takes input `index`'s report; appends it, and any it was holding up, in order.
    pub fn push(&mut self, index: usize, f: FileReport) -> anyhow::Result<()> {
        self.waiting.insert(index, f);
        while let Some(f) = self.waiting.remove(&self.next) {
            self.append(&f)?;
            self.next += 1;
        }
        Ok(())
    }

    fn append(&mut self, f: &FileReport) -> anyhow::Result<()> {
        self.tally.add(f);
        let i = self.next.to_string();
        self.report.write_record([
            i.as_str(),
            &f.path,
            &f.sha256,
            f.status.as_str(),
            &f.partnership_id,
            &f.template_id,
            &f.template_version,
            &f.year,
            &f.count("error").to_string(),
            &f.count("warning").to_string(),
            &f.message,
            &f.email,
        ])?;
        if f.findings
            .iter()
            .any(|x| x[6] == Code::ReaderFailed.as_str())
        {
            self.failed.push(f.path.clone());
        }
        for x in &f.findings {
            self.findings
                .write_record(std::iter::once(i.as_str()).chain(x.iter().map(String::as_str)))?;
        }
        Ok(())
    }

    /// The tally of every file appended, with `duplicates` counted as such.
    pub fn tally(&self, duplicates: &[Duplicate]) -> Tally {
        let mut t = self.tally.clone();
        for d in duplicates {
            t.count_as_duplicate(&d.was);
        }
        t
    }

    /// Writes `ingest-report.csv` and `findings.csv` into `dir` atomically from the
    /// spool, marking `duplicates`; calls `each(status, path, message)` per file in
    /// input order (for the console).
    pub fn finish(
        self,
        dir: &Path,
        duplicates: &[Duplicate],
        each: &mut dyn FnMut(Status, &str, &str),
    ) -> anyhow::Result<(PathBuf, PathBuf)> {
        anyhow::ensure!(
            self.waiting.is_empty(),
            "internal error: {} file report(s) never reached the spool",
            self.waiting.len()
        );
        let reopen =
            |w: csv::Writer<BufWriter<File>>| -> anyhow::Result<csv::Reader<BufReader<File>>> {
                let mut f = w
                    .into_inner()
                    .map_err(|e| anyhow::anyhow!("cannot write the run report: {e}"))?
                    .into_inner()
                    .map_err(|e| anyhow::anyhow!("cannot write the run report: {e}"))?;
                f.seek(SeekFrom::Start(0))?;
                Ok(csv::ReaderBuilder::new()
                    .has_headers(false)
                    .from_reader(BufReader::new(f)))
            };
        let mut report_in = reopen(self.report)?;
        let mut findings_in = reopen(self.findings)?;
        let dups: HashMap<&str, &Duplicate> =
            duplicates.iter().map(|d| (d.sha256.as_str(), d)).collect();

        let (report_path, findings_path) =
            (dir.join("ingest-report.csv"), dir.join("findings.csv"));
        write_atomic_with(&findings_path, |findings_file| {
            write_atomic_with(&report_path, |report_file| {
                let mut report = SafeCsv::to_writer(BufWriter::new(report_file));
                let mut findings = SafeCsv::to_writer(BufWriter::new(findings_file));
                report.row(REPORT_HEADER)?;
                findings.row(FINDINGS_HEADER)?;
                let mut finding = csv::StringRecord::new();
                let mut have_finding = findings_in.read_record(&mut finding)?;
                let mut row = csv::StringRecord::new();
                while report_in.read_record(&mut row)? {
                    let index = &row[0];
                    let fields: Vec<&str> = row.iter().skip(1).collect();
                    let (path, sha, pid) = (fields[PATH], fields[SHA256], fields[PARTNERSHIP]);
                    let status: Status = fields[STATUS].parse()?;
                    // This file's findings follow in the findings spool, in order.
                    while have_finding && &finding[0] == index {
                        findings.row(finding.iter().skip(1))?;
                        have_finding = findings_in.read_record(&mut finding)?;
                    }
                    let dup = dups.get(sha).filter(|_| status.is_accepted());
                    match dup {
                        None => {
                            report.row(&fields)?;
                            each(status, path, fields[MESSAGE]);
                        }
                        Some(d) => {
                            let message = d.message();
                            let warnings =
                                (fields[WARNINGS].parse::<usize>().unwrap_or(0) + 1).to_string();
                            let mut out = fields.clone();
                            out[STATUS] = Status::Duplicate.as_str();
                            out[WARNINGS] = &warnings;
                            out[MESSAGE] = &message;
                            report.row(out)?;
                            findings.row([
                                path,
                                pid,
                                "",
                                "",
                                "",
                                "warning",
                                Code::DuplicateReturn.as_str(),
                                &message,
                            ])?;
                            each(Status::Duplicate, path, &message);
                        }
                    }
                }
                anyhow::ensure!(
                    !have_finding,
                    "internal error: findings out of order in the run report"
                );
                report.finish()?;
                findings.finish()?;
                Ok(())
            })
        })?;
        Ok((report_path, findings_path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(path: &str, sha: &str, status: Status, findings: &[&str]) -> FileReport {
        FileReport {
            path: path.into(),
            sha256: sha.into(),
            status,
            previous: None,
            partnership_id: "P1".into(),
            template_id: "self-assessment".into(),
            template_version: "1".into(),
            year: "2026".into(),
            message: String::new(),
            email: String::new(),
            findings: findings
                .iter()
                .map(|m| {
                    [
                        path,
                        "P1",
                        "Assessment",
                        "D7",
                        "q1",
                        "error",
                        "missing-answer",
                        m,
                    ]
                    .map(String::from)
                })
                .collect(),
        }
    }

    #[test]
    fn files_finishing_out_of_order_are_reported_in_input_order_with_duplicates_marked() {
        let dir = tempfile::tempdir().unwrap();
        let mut spool = Spool::new(dir.path()).unwrap();
        spool
            .push(2, report("c.xlsx", "ccc", Status::Accepted, &[]))
            .unwrap();
        spool
            .push(
                1,
                report("b.xlsx", "bbb", Status::Rejected, &["=bad", "two"]),
            )
            .unwrap();
        assert_eq!(spool.waiting.len(), 2, "held until file 0 arrives");
        spool
            .push(0, report("a.xlsx", "aaa", Status::Accepted, &[]))
            .unwrap();
        assert!(spool.waiting.is_empty());
        let dups = [Duplicate {
            sha256: "aaa".into(),
            partnership_id: "P1".into(),
            was: "accepted".into(),
            kept_path: "c.xlsx".into(),
        }];
        let tally = spool.tally(&dups);
        assert_eq!(
            tally.summary(),
            "3 files: 1 accepted, 1 rejected, 1 duplicate."
        );
        assert_eq!(tally.needs_correction, 1);
        let mut seen = Vec::new();
        let (r, f) = spool
            .finish(dir.path(), &dups, &mut |s, p, _| {
                seen.push((s, p.to_string()))
            })
            .unwrap();
        assert_eq!(
            seen,
            [
                (Status::Duplicate, "a.xlsx".to_string()),
                (Status::Rejected, "b.xlsx".into()),
                (Status::Accepted, "c.xlsx".into())
            ]
        );
        let report = std::fs::read_to_string(r).unwrap();
        let lines: Vec<&str> = report.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(
            lines[0].starts_with("\u{feff}path,sha256,status,"),
            "with the BOM"
        );
        assert!(
            lines[1].starts_with(
                "a.xlsx,aaa,duplicate,P1,self-assessment,1,2026,0,1,another return for P1 (c.xlsx)"
            ),
            "{}",
            lines[1]
        );
        assert!(lines[2].starts_with("b.xlsx,bbb,rejected,"));
        let findings = std::fs::read_to_string(f).unwrap();
        let lines: Vec<&str> = findings.lines().collect();
        assert_eq!(lines.len(), 4, "{findings}");
        assert!(lines[1].starts_with("a.xlsx,P1,,,,warning,duplicate-return,"));
        // Neutralised for spreadsheets on the way out, not before.
        assert!(lines[2].ends_with(",'=bad"), "{}", lines[2]);
        assert!(lines[3].ends_with(",two"));
        // Only the two reports are left in the folder: the spool files had no names.
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 2);
    }
}
