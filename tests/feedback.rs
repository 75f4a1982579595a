//! `ptk feedback` through the binary: forms issued to each respondent, filled with
//! openpyxl as each officer would, ingested, reported; then each scored partnership's
//! feedback checked against the review workbook, against a computation made here from
//! the answers the test wrote, and for any trace of another partnership.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io::Read;
use std::path::{Path, PathBuf};

use calamine::{open_workbook, Data, Reader, Xlsx};
use common::*;

/// The shipped self-assessment's scored statements, in form order, with their numbers.
fn statements() -> Vec<(String, String)> {
    let sections = [('F', 8), ('P', 6), ('C', 5), ('M', 6)];
    let mut out = Vec::new();
    for (si, (letter, n)) in sections.iter().enumerate() {
        for qi in 1..=*n {
            out.push((format!("{letter}{qi}"), format!("{}.{qi}", si + 1)));
        }
    }
    out
}

/// Every statement at `level`, then the exceptions.
fn plan(level: usize, except: &[(&str, Option<usize>)]) -> Plan {
    let mut p: Plan = statements()
        .into_iter()
        .map(|(q, _)| (q, Some(level)))
        .collect();
    for (q, v) in except {
        p.insert(q.to_string(), *v);
    }
    p
}

/// Fills a form: `answers` maps question id to a scale position, `None` for Not
/// applicable; then the stage, what was achieved and the support asked for. Saved into
/// the inbox folder beside the outbox.
fn fill(path: &Path, answers: &Plan, stage: &str, achieved: &str, support: &str) {
    let mut values = plan_answers(answers);
    values.extend(completed(stage));
    values.push(answer("achievements", achieved));
    values.push(answer("support", support));
    let outbox = path.parent().unwrap();
    let inbox = outbox.parent().unwrap().join("inbox");
    fill_named(path, &inbox.join(path.file_name().unwrap()), &values);
}

/// Each statement's mean points over the respondents who scored it.
fn means(plans: &[&Plan]) -> Vec<(String, String, f64)> {
    statements()
        .into_iter()
        .filter_map(|(q, number)| {
            let pts: Vec<f64> = plans
                .iter()
                .filter_map(|p| p.get(&q).copied().flatten())
                .map(|v| v as f64)
                .collect();
            (!pts.is_empty()).then(|| (q, number, pts.iter().sum::<f64>() / pts.len() as f64))
        })
        .collect()
}

/// Section % and overall %, computed here: per statement the mean points, per section
/// 100 × Σ means ÷ (4 × statements with a mean), overall the mean of the sections.
fn expected(plans: &[&Plan]) -> (Vec<f64>, f64) {
    let m = means(plans);
    let sections: Vec<f64> = ['F', 'P', 'C', 'M']
        .iter()
        .map(|l| {
            let s: Vec<f64> = m
                .iter()
                .filter(|(q, _, _)| q.starts_with(*l))
                .map(|(_, _, v)| *v)
                .collect();
            100.0 * s.iter().sum::<f64>() / (4.0 * s.len() as f64)
        })
        .collect();
    let overall = sections.iter().sum::<f64>() / sections.len() as f64;
    (sections, overall)
}

fn rows_of(path: &Path, sheet: &str) -> Vec<Vec<Data>> {
    let mut wb: Xlsx<_> = open_workbook(path).unwrap();
    let range = wb.worksheet_range(sheet).unwrap();
    range.rows().map(|r| r.to_vec()).collect()
}

/// The tables headed `first` (every one on the sheet), as header → cell maps.
fn tables(rows: &[Vec<Data>], first: &str) -> Vec<Vec<HashMap<String, Data>>> {
    let mut out = Vec::new();
    for (h, row) in rows.iter().enumerate() {
        if !row.first().is_some_and(|c| *c == first) {
            continue;
        }
        let headers: Vec<String> = row.iter().map(|c| c.to_string()).collect();
        out.push(
            rows[h + 1..]
                .iter()
                .take_while(|r| r.first().is_some_and(|c| !c.to_string().is_empty()))
                .map(|r| headers.iter().cloned().zip(r.iter().cloned()).collect())
                .collect(),
        );
    }
    out
}

/// The score line of partnership `pid` on the review's Assistant Director page
/// ("62.5% Amber; -1.8 on 2025 (respondents changed: …)").
fn review_ad_line(review: &Path, pid: &str) -> String {
    let wb: Xlsx<_> = open_workbook(review).unwrap();
    for name in wb.sheet_names().iter().filter(|n| n.starts_with("AD ")) {
        let rows = rows_of(review, name);
        let suffix = format!("({pid})");
        if let Some(i) = rows
            .iter()
            .position(|r| r.first().is_some_and(|c| c.to_string().ends_with(&suffix)))
        {
            return rows[i + 1]
                .get(1)
                .map(|c| c.to_string())
                .unwrap_or_default();
        }
    }
    panic!("{pid} is on no Assistant Director page of the review")
}

fn num(d: &Data) -> f64 {
    match d {
        Data::Float(f) => *f,
        Data::Int(i) => *i as f64,
        other => panic!("not a number: {other:?}"),
    }
}

/// A text cell holding exactly `s`.
fn is(d: &Data, s: &str) -> bool {
    matches!(d, Data::String(x) if x == s)
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-9
}

/// Every XML part of an xlsx, as text.
fn xml_parts(path: &Path) -> Vec<(String, String)> {
    let mut z = zip::ZipArchive::new(std::fs::File::open(path).unwrap()).unwrap();
    (0..z.len())
        .map(|i| {
            let mut f = z.by_index(i).unwrap();
            let mut s = String::new();
            f.read_to_string(&mut s).unwrap();
            (f.name().unwrap().to_string(), s)
        })
        .collect()
}

fn xml_escaped(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\'', "&apos;")
        .replace('"', "&quot;")
}

struct Setup {
    _dir: tempfile::TempDir,
    d: PathBuf,
    plans: BTreeMap<&'static str, Vec<Plan>>,
}

/// LSP01: lead, Castle Point and Essex Police; CSP02: lead and Essex Police; HWB03 and
/// SEP04: the lead alone. Every form filled, ingested, and the review reported.
fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    import_sample_history(&d);
    let resp = repo().join("samples/respondents.csv");
    let out = issue(
        &d,
        "self-assessment",
        &[
            "--respondents",
            resp.to_str().unwrap(),
            "--store",
            d.join("ptk.db").to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let form = |pid: &str, rid: &str| {
        d.join("out").join(if rid == "lead" {
            format!("{pid}_self-assessment_2026.xlsx")
        } else {
            format!("{pid}_self-assessment_2026_{rid}.xlsx")
        })
    };
    std::fs::create_dir(d.join("inbox")).unwrap();
    let mut plans: BTreeMap<&'static str, Vec<Plan>> = BTreeMap::new();
    // LSP01: 1.1 (F1) 4, 1, 2 apart by 3; 3.2 (C2) 3, 3, 1 by 2; 2.3 (P3) Not applicable
    // for one; 4.6 (M6) 1 point apart (not listed).
    let lsp = [
        (
            "lead",
            plan(
                3,
                &[
                    ("F1", Some(4)),
                    ("C2", Some(3)),
                    ("M6", Some(2)),
                    ("F4", Some(4)),
                ],
            ),
            "Functioning",
            "Delivered the agreed action plan.",
            "Help with measuring outcomes.",
        ),
        (
            "castle-point",
            plan(
                3,
                &[
                    ("F1", Some(1)),
                    ("C2", Some(3)),
                    ("P3", None),
                    ("M6", Some(1)),
                ],
            ),
            "Functioning",
            "A joint campaign with the police.",
            "Clearer shared outcomes.",
        ),
        (
            "essex-police",
            plan(2, &[("F1", Some(2)), ("C2", Some(1)), ("M6", Some(2))]),
            "Frustration",
            "Shared patrol data.",
            "",
        ),
    ];
    for (rid, p, stage, a, s) in &lsp {
        fill(&form("LSP01", rid), p, stage, a, s);
        plans.entry("LSP01").or_default().push(p.clone());
    }
    let csp = [
        (
            "lead",
            plan(2, &[("C1", Some(4)), ("M1", Some(0))]),
            "Forming",
            "Agreed the strategy.",
            "Funding advice.",
        ),
        (
            "essex-police",
            plan(2, &[("C1", Some(1))]),
            "Forming",
            "Joint tasking meetings.",
            "Data sharing agreement.",
        ),
    ];
    for (rid, p, stage, a, s) in &csp {
        fill(&form("CSP02", rid), p, stage, a, s);
        plans.entry("CSP02").or_default().push(p.clone());
    }
    let hwb = plan(4, &[("P2", Some(1)), ("M4", Some(2))]);
    fill(
        &form("HWB03", "lead"),
        &hwb,
        "Flying",
        "A new health plan.",
        "None.",
    );
    plans.entry("HWB03").or_default().push(hwb);
    let sep = plan(1, &[("F2", Some(3))]);
    fill(
        &form("SEP04", "lead"),
        &sep,
        "Failing",
        "Little.",
        "A new chair.",
    );
    plans.entry("SEP04").or_default().push(sep);

    let run = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["--year", "2026", "--respondents", resp.to_str().unwrap()]);
        text(&exited(ptk_samples(&d, &all), ptk::exit::OK).stdout)
    };
    run(&["ingest", "inbox", "--quiet"]);
    run(&["report"]);
    let said = run(&[
        "feedback",
        "--review-date",
        "2027-03-03",
        "--contact",
        "partnerships@rochford.gov.uk",
    ]);
    assert!(said.contains("4 workbook(s)"), "{said}");
    Setup {
        _dir: dir,
        d,
        plans,
    }
}

#[test]
fn each_scored_partnership_gets_its_own_results_and_nothing_of_anyone_else() {
    let s = setup();
    let d = &s.d;
    let review = d.join("review-2026.xlsx");
    let dir = d.join("feedback-2026");
    let files: BTreeSet<String> = xlsx_files(&dir)
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    let want: BTreeSet<String> = s
        .plans
        .keys()
        .map(|p| format!("{p}_feedback_2026.xlsx"))
        .collect();
    assert_eq!(files, want, "one workbook per scored partnership");

    let summary = &tables(&rows_of(&review, "Summary"), "ID")[0];
    let sections = &tables(&rows_of(&review, "Sections"), "Section")[0];
    let disagree = tables(&rows_of(&review, "Where respondents disagree"), "ID");
    let disagree = disagree.first().cloned().unwrap_or_default();
    let titles = [
        "Foundations",
        "Partners",
        "Communication and Involvement",
        "Measuring and reviewing success",
    ];
    // The council's overall average over the partnerships the Summary scores.
    let scored: Vec<f64> = summary
        .iter()
        .filter_map(|r| match &r["Overall %"] {
            Data::Float(f) => Some(*f),
            _ => None,
        })
        .collect();
    assert_eq!(scored.len(), 4);
    let council_overall = scored.iter().sum::<f64>() / 4.0;

    let mut changed_seen = false;
    for (pid, plans) in &s.plans {
        let path = dir.join(format!("{pid}_feedback_2026.xlsx"));
        let page = rows_of(&path, "Your scores");
        let scores = &tables(&page, "Part")[0];
        assert_eq!(scores.len(), 5, "{pid}: overall and four sections");
        let mine = summary.iter().find(|r| is(&r["ID"], pid)).unwrap();
        let refs: Vec<&Plan> = plans.iter().collect();
        let (want_sections, want_overall) = expected(&refs);

        // Overall: the review's, and the computation here.
        assert_eq!(scores[0]["Part"].to_string(), "All");
        let overall = num(&scores[0]["Your % 2026"]);
        assert!(
            close(overall, num(&mine["Overall %"])),
            "{pid} overall vs review"
        );
        assert!(
            close(overall, want_overall),
            "{pid}: {overall} != {want_overall}"
        );
        // Last year like for like: the change is the review's.
        assert!(
            close(
                num(&scores[0]["Change (points)"]),
                num(&mine["Change vs 2025"])
            ),
            "{pid} change"
        );
        // Where the review says the respondents changed, the feedback says so too, on
        // the overall score's line and in the note.
        let review_says = review_ad_line(&review, pid).contains("respondents changed");
        let note = page.iter().flatten().any(|c| {
            c.to_string()
                .contains("A different number of respondents scored your partnership")
        });
        assert_eq!(note, review_says, "{pid}: respondents changed note");
        assert_eq!(
            is(
                &scores[0]["Score"],
                "Overall score (respondents changed: not counted as up or down)"
            ),
            review_says,
            "{pid}: overall line"
        );
        changed_seen |= review_says;
        assert!(close(
            num(&scores[0]["Council average % 2026"]),
            council_overall
        ));
        assert_eq!(num(&scores[0]["Partnerships in the average (n)"]), 4.0);

        for (i, title) in titles.iter().enumerate() {
            let line = &scores[i + 1];
            assert_eq!(line["Score"].to_string(), *title);
            assert_eq!(line["Part"].to_string(), (i + 1).to_string());
            let got = num(&line["Your % 2026"]);
            assert!(
                close(got, num(&mine[&format!("{title} %")])),
                "{pid} {title} vs review"
            );
            assert!(
                close(got, want_sections[i]),
                "{pid} {title}: {got} != {}",
                want_sections[i]
            );
            let council = sections.iter().find(|r| is(&r["Section"], title)).unwrap();
            assert!(close(
                num(&line["Council average % 2026"]),
                num(&council["Average % 2026"])
            ));
            assert_eq!(
                num(&line["Partnerships in the average (n)"]),
                num(&council["Partnerships scored 2026 (n)"])
            );
        }

        // Strongest and weakest, computed here: by mean points, ties in form order.
        let mut m = means(&refs);
        let listed = tables(&page, "Question");
        m.sort_by(|a, b| b.2.total_cmp(&a.2));
        let top: Vec<String> = m.iter().take(3).map(|x| x.1.clone()).collect();
        m.sort_by(|a, b| a.2.total_cmp(&b.2));
        let bottom: Vec<String> = m.iter().take(3).map(|x| x.1.clone()).collect();
        let numbers = |t: &Vec<HashMap<String, Data>>| -> Vec<String> {
            t.iter().map(|r| r["Question"].to_string()).collect()
        };
        assert_eq!(numbers(&listed[0]), top, "{pid} strongest");
        assert_eq!(numbers(&listed[1]), bottom, "{pid} weakest");

        // Where respondents differ: exactly this partnership's rows of the review.
        let talk = rows_of(&path, "For discussion");
        // The review's stage rows ("different stages") are the feedback's own question
        // about the life-cycle stage, checked below; the table holds the statements.
        let stage_row = disagree
            .iter()
            .any(|r| is(&r["ID"], pid) && r["Spread (points)"] == "different stages");
        let theirs: Vec<(String, String, String, String)> = disagree
            .iter()
            .filter(|r| is(&r["ID"], pid))
            .filter(|r| r["Spread (points)"] != "different stages")
            .map(|r| {
                (
                    r["Question"].to_string(),
                    r["Statement"].to_string(),
                    r["Spread (points)"].to_string(),
                    r["Each respondent's answer"].to_string(),
                )
            })
            .collect();
        let listed = tables(&talk, "Question");
        let ours: Vec<(String, String, String, String)> = listed
            .first()
            .map(|t| {
                t.iter()
                    .map(|r| {
                        (
                            r["Question"].to_string(),
                            r["Statement (as on the form)"].to_string(),
                            r["Spread (points)"].to_string(),
                            r["Each respondent's answer"].to_string(),
                        )
                    })
                    .collect()
            })
            .unwrap_or_default();
        assert_eq!(ours, theirs, "{pid} disagreements");
        let asks_about_stage = talk.iter().flatten().any(|c| {
            c.to_string()
                .contains("You named different life-cycle stages")
        });
        assert_eq!(asks_about_stage, stage_row, "{pid} stage question");

        // What they wrote: a row per respondent who returned.
        let flat: Vec<String> = talk.iter().flatten().map(|c| c.to_string()).collect();
        assert!(flat.iter().any(|c| c.contains("Angela Hutchings")
            || c.contains("Marcus Hill")
            || c.contains("Naomi Clarke")));
        assert!(flat.iter().any(|c| c.contains("3 March 2027")));
    }

    assert!(
        changed_seen,
        "LSP01's respondents changed (the lead alone in 2025, three in 2026)"
    );

    // LSP01 by hand: F1 (1.1) 4, 1, 2 is three apart, F4 (1.4) 4, 3, 2 and C2 (3.2)
    // 3, 3, 1 two apart; M6's 2, 1, 2 is not; the stages differ.
    let talk = rows_of(&dir.join("LSP01_feedback_2026.xlsx"), "For discussion");
    let listed = &tables(&talk, "Question")[0];
    let got: Vec<String> = listed.iter().map(|r| r["Question"].to_string()).collect();
    assert_eq!(got, ["1.1", "1.4", "3.2"]);
    let flat: Vec<String> = talk.iter().flatten().map(|c| c.to_string()).collect();
    assert!(
        flat.iter()
            .any(|c| c.contains("different life-cycle stages (Frustration, Functioning)")),
        "{flat:?}"
    );
    for who in [
        "Helen Marsh (Rochford District Council)",
        "Mark Jennings (Castle Point Borough Council)",
        "Sergeant Kate Lowe (Essex Police)",
    ] {
        assert!(flat.iter().any(|c| c == who), "{who} in What you told us");
    }
    assert!(flat.iter().any(|c| c == "Shared patrol data."));
    assert!(
        flat.iter().any(|c| c == "(left blank)"),
        "Essex Police asked for no support"
    );
    // HWB03 alone: nothing to compare, and it says so.
    let talk = rows_of(&dir.join("HWB03_feedback_2026.xlsx"), "For discussion");
    let flat: Vec<String> = talk.iter().flatten().map(|c| c.to_string()).collect();
    assert!(flat
        .iter()
        .any(|c| c.contains("One form was completed for your partnership in 2026")));

    // No other partnership's id, name or people, in any part of the file.
    let register = csv::Reader::from_path(repo().join("samples/register.csv"))
        .unwrap()
        .records()
        .map(|r| r.unwrap())
        .map(|r| (r[0].to_string(), r[1].to_string(), r[3].to_string()))
        .collect::<Vec<_>>();
    let partners = csv::Reader::from_path(repo().join("samples/respondents.csv"))
        .unwrap()
        .records()
        .map(|r| r.unwrap())
        .map(|r| (r[0].to_string(), r[2].to_string()))
        .collect::<Vec<_>>();
    for pid in s.plans.keys() {
        let path = dir.join(format!("{pid}_feedback_2026.xlsx"));
        let parts = xml_parts(&path);
        assert!(parts.iter().any(|(n, _)| n == "docProps/core.xml"));
        // Names of this partnership's own people (a lead officer may lead two).
        let own: BTreeSet<&str> = register
            .iter()
            .filter(|r| r.0 == *pid)
            .map(|r| r.2.as_str())
            .chain(
                partners
                    .iter()
                    .filter(|r| r.0 == *pid)
                    .map(|r| r.1.as_str()),
            )
            .collect();
        let mut needles: Vec<String> = Vec::new();
        for (id, name, lead) in register.iter().filter(|r| r.0 != *pid) {
            needles.extend([id.clone(), name.clone()]);
            if !own.contains(lead.as_str()) {
                needles.push(lead.clone());
            }
        }
        for (p, name) in partners.iter().filter(|r| r.0 != *pid) {
            if !own.contains(name.as_str()) && p != pid {
                needles.push(name.clone());
            }
        }
        let mine = &register.iter().find(|r| r.0 == *pid).unwrap().1;
        assert!(
            parts.iter().any(|(_, x)| x.contains(&xml_escaped(mine))),
            "{pid}: its own name is there (the scan can see text)"
        );
        for (part, xml) in &parts {
            for n in &needles {
                assert!(
                    !xml.contains(n.as_str()) && !xml.contains(&xml_escaped(n)),
                    "{pid}: {part} holds another partnership's '{n}'"
                );
            }
        }
    }

    // The same store gives the same bytes.
    let before = std::fs::read(dir.join("LSP01_feedback_2026.xlsx")).unwrap();
    let out = ptk_samples(
        d,
        &[
            "feedback",
            "--year",
            "2026",
            "--respondents",
            sample_respondents().to_str().unwrap(),
            "--review-date",
            "2027-03-03",
            "--contact",
            "partnerships@rochford.gov.uk",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::OK),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(
        std::fs::read(dir.join("LSP01_feedback_2026.xlsx")).unwrap(),
        before,
        "same store, same bytes"
    );
}

/// `ptk mail <what>` for 2026 over SMTP to `port`, on `register`.
fn mail_smtp(d: &Path, port: u16, register: &Path, what: &[&str]) -> std::process::Output {
    let smtp = format!("127.0.0.1:{port}");
    let mut args: Vec<&str> = vec!["mail"];
    args.extend_from_slice(what);
    let store = d.join("ptk.db");
    let templates = repo().join("templates");
    let resp = repo().join("samples/respondents.csv");
    args.extend([
        "--year",
        "2026",
        "--from",
        "partnerships@rochford.gov.uk",
        "--return-address",
        "partnerships@rochford.gov.uk",
        "--store",
        store.to_str().unwrap(),
        "--register",
        register.to_str().unwrap(),
        "--templates",
        templates.to_str().unwrap(),
        "--respondents",
        resp.to_str().unwrap(),
        "--smtp",
        &smtp,
        "--smtp-security",
        "plain",
        "--per-minute",
        "0",
        "--retries",
        "0",
    ]);
    let out = ptk(d, &args);
    // Every run here is expected to finish cleanly: checked before any output is read.
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::OK),
        "{args:?}\n{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    out
}

fn parse(raw: &[u8]) -> mail_parser::Message<'_> {
    mail_parser::MessageParser::default().parse(raw).unwrap()
}

/// The one address a message is to.
fn to_address(m: &mail_parser::Message) -> String {
    let to = m.to().unwrap().first().unwrap();
    to.address().unwrap().to_string()
}

#[test]
fn feedback_goes_once_to_each_lead_and_returned_respondent_with_their_own_file() {
    use mail_parser::MimeHeaders;
    let s = setup();
    let d = &s.d;
    let register = repo().join("samples/register.csv");
    let port = free_port();
    let server = SmtpServer::start(port, &d.join("received"));
    let out = mail_smtp(d, port, &register, &["feedback"]);
    says(&out, "7 sent via smtp");

    // Who returned, by the test's own plan: LSP01's three, CSP02's two, HWB03's and
    // SEP04's leads.
    let mut want: BTreeSet<(String, String)> = [
        ("LSP01", "helen.marsh@rochford.gov.uk"),
        ("LSP01", "mark.jennings@castlepoint.gov.uk"),
        ("LSP01", "kate.lowe@essex.police.uk"),
        ("CSP02", "david.okafor@rochford.gov.uk"),
        ("CSP02", "tom.reid@essex.police.uk"),
        ("HWB03", "priya.raman@rochford.gov.uk"),
        ("SEP04", "james.whitfield@rochford.gov.uk"),
    ]
    .iter()
    .map(|(p, e)| (p.to_string(), e.to_string()))
    .collect();
    let received = server.received();
    assert_eq!(received.len(), 7);
    for raw in &received {
        let m = parse(raw);
        let to = to_address(&m);
        let att = m.attachments().next().expect("the feedback is attached");
        let name = att.attachment_name().unwrap().to_string();
        let pid = name.split('_').next().unwrap().to_string();
        assert_eq!(name, format!("{pid}_feedback_2026.xlsx"));
        assert!(
            want.remove(&(pid.clone(), to.clone())),
            "{pid} to {to}: not expected, or twice"
        );
        let file = std::fs::read(d.join("feedback-2026").join(&name)).unwrap();
        assert!(
            att.contents() == file.as_slice(),
            "{to} gets {pid}'s own file"
        );
        let body = m.body_text(0).unwrap();
        assert!(
            !body.contains('{') && body.contains("partnerships@rochford.gov.uk"),
            "{body}"
        );
    }
    assert!(want.is_empty(), "not sent: {want:?}");

    // Again: nothing. A changed feedback is not sent without --corrected...
    let out = mail_smtp(d, port, &register, &["feedback"]);
    says(&out, "0 sent via smtp");
    assert_eq!(server.received().len(), 7);
    let out = ptk(
        d,
        &[
            "feedback",
            "--year",
            "2026",
            "--store",
            d.join("ptk.db").to_str().unwrap(),
            "--register",
            register.to_str().unwrap(),
            "--templates",
            repo().join("templates").to_str().unwrap(),
            "--respondents",
            repo().join("samples/respondents.csv").to_str().unwrap(),
            "--review-date",
            "2027-04-07",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::OK),
        "{}",
        text(&out.stderr)
    );
    let out = mail_smtp(d, port, &register, &["feedback"]);
    says(&out, "0 sent via smtp");
    // ...and with it, to those of one partnership, saying it replaces the earlier one.
    let out = mail_smtp(
        d,
        port,
        &register,
        &["feedback", "--corrected", "--partnership", "CSP02"],
    );
    says(&out, "2 sent via smtp");
    let received = server.received();
    assert_eq!(received.len(), 9);
    let corrected: Vec<_> = received
        .iter()
        .map(|r| parse(r))
        .filter(|m| m.subject().unwrap().starts_with("Corrected: "))
        .collect();
    assert_eq!(corrected.len(), 2);
    for m in &corrected {
        assert!(m.body_text(0).unwrap().contains("replaces the earlier one"));
        let att = m.attachments().next().unwrap();
        let file = std::fs::read(d.join("feedback-2026/CSP02_feedback_2026.xlsx")).unwrap();
        assert!(att.contents() == file.as_slice());
    }
    let out = mail_smtp(
        d,
        port,
        &register,
        &["feedback", "--corrected", "--partnership", "CSP02"],
    );
    says(&out, "0 sent via smtp");
}

#[test]
fn each_assistant_director_gets_exactly_their_partnerships() {
    use mail_parser::MimeHeaders;
    let s = setup();
    let d = &s.d;
    // SEP04's Assistant Director has no email here: it is listed, in no pack.
    let register = d.join("register.csv");
    let text_in = std::fs::read_to_string(repo().join("samples/register.csv")).unwrap();
    let edited: String = text_in
        .lines()
        .map(|l| {
            if l.starts_with("SEP04,") {
                l.replace("naomi.clarke@rochford.gov.uk", "")
            } else {
                l.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&register, edited + "\n").unwrap();
    let rows: Vec<csv::StringRecord> = csv::Reader::from_path(&register)
        .unwrap()
        .records()
        .map(|r| r.unwrap())
        .collect();
    // AD email → the ids of their partnerships in the review (closed ones owe nothing).
    let mut by_ad: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in &rows {
        if !r[6].is_empty() && &r[8] != "closed" {
            by_ad
                .entry(r[6].to_string())
                .or_default()
                .insert(r[0].to_string());
        }
    }
    let port = free_port();
    let server = SmtpServer::start(port, &d.join("received"));
    let out = mail_smtp(d, port, &register, &["ad"]);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("1 partnership(s) have no assistant_director_email"),
        "{stdout}"
    );
    assert!(
        stdout.contains("SEP04 South Essex Economic Partnership (Assistant Director Naomi Clarke)"),
        "{stdout}"
    );
    let received = server.received();
    assert_eq!(
        received.len(),
        by_ad.len(),
        "one message per Assistant Director"
    );
    let scored: BTreeSet<&str> = s.plans.keys().copied().collect();
    for raw in &received {
        let m = parse(raw);
        let to = to_address(&m);
        let theirs = by_ad
            .remove(&to)
            .unwrap_or_else(|| panic!("{to}: not an AD, or twice"));
        let att = m.attachments().next().expect("the pack is attached");
        let path = d.join(att.attachment_name().unwrap());
        std::fs::write(&path, att.contents()).unwrap();
        // The review's own page for this Assistant Director heads each partnership
        // "Name (ID)".
        let ad = &rows.iter().find(|r| r[6] == to).unwrap()[5];
        let page = rows_of(&path, &format!("AD {ad}"));
        let listed: BTreeSet<String> = rows
            .iter()
            .filter(|r| {
                let head = format!("{} ({})", &r[1], &r[0]);
                page.iter().any(|c| c.first().is_some_and(|c| is(c, &head)))
            })
            .map(|r| r[0].to_string())
            .collect();
        assert_eq!(listed, theirs, "{to}: exactly their partnerships");
        let wb: Xlsx<_> = open_workbook(&path).unwrap();
        let pages: BTreeSet<String> = wb
            .sheet_names()
            .iter()
            .filter_map(|n| n.strip_suffix(" scores").map(String::from))
            .collect();
        let want: BTreeSet<String> = theirs
            .iter()
            .filter(|p| scored.contains(p.as_str()))
            .cloned()
            .collect();
        assert_eq!(
            pages, want,
            "{to}: feedback pages of their scored partnerships"
        );
        // No other Assistant Director's partnership anywhere in the file.
        for (part, xml) in xml_parts(&path) {
            for r in rows.iter().filter(|r| !theirs.contains(&r[0])) {
                assert!(
                    !xml.contains(&r[0]) && !xml.contains(&xml_escaped(&r[1])),
                    "{to}: {part} holds {} ({})",
                    &r[0],
                    &r[1]
                );
            }
        }
    }
    assert!(by_ad.is_empty(), "no pack for {by_ad:?}");
    let out = mail_smtp(d, port, &register, &["ad"]);
    says(&out, "0 sent via smtp");
}

/// `ptk mail ad --dry-run` writes no pack (nor anything else) in the work folder: the
/// files there and their bytes are the same after it, and it says where the packs would go.
#[test]
fn a_dry_run_of_the_assistant_director_packs_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let returns = repo().join("samples/returns");
    let history = repo().join("samples/history.csv");
    let out = ptk_samples(
        d,
        &[
            "review",
            returns.to_str().unwrap(),
            "--year",
            "2026",
            "--quiet",
            "--history",
            history.to_str().unwrap(),
        ],
    );
    // The samples hold returns that are rejected on purpose: exit 1, the store written.
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::REJECTED),
        "{}",
        text(&out.stderr)
    );
    let before = tree_hashes(d);
    assert!(before.keys().any(|p| p.ends_with("ptk.db")), "{before:?}");
    let out = ptk_samples(
        d,
        &[
            "mail",
            "ad",
            "--year",
            "2026",
            "--from",
            "partnerships@rochford.gov.uk",
            "--dry-run",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::OK),
        "{}{}",
        text(&out.stdout),
        text(&out.stderr)
    );
    let said = text(&out.stdout);
    // Assistant Directors with an email and a partnership in the review, from the register.
    let ads: BTreeSet<String> = csv::Reader::from_path(repo().join("samples/register.csv"))
        .unwrap()
        .records()
        .map(|r| r.unwrap())
        .filter(|r| !r[6].is_empty() && &r[8] != "closed")
        .map(|r| r[6].to_string())
        .collect();
    assert!(!ads.is_empty());
    assert!(
        said.contains(&format!(
            "Dry run: {} Assistant Director pack(s) would be written in {}; nothing written.",
            ads.len(),
            d.join("ad-packs-2026").display()
        )),
        "{said}"
    );
    for ad in &ads {
        assert!(said.contains(ad.as_str()), "{ad} planned: {said}");
    }
    assert_eq!(tree_hashes(d), before, "the work folder is unchanged");
}

#[test]
fn templates_check_names_a_feedback_letter_with_a_placeholder_ptk_does_not_fill() {
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("templates");
    std::fs::create_dir_all(t.join("email")).unwrap();
    for e in std::fs::read_dir(repo().join("templates")).unwrap() {
        let p = e.unwrap().path();
        if p.is_file() {
            std::fs::copy(&p, t.join(p.file_name().unwrap())).unwrap();
        }
    }
    let check = || {
        ptk(
            dir.path(),
            &["templates", "check", "--templates", t.to_str().unwrap()],
        )
    };
    let out = check();
    assert_eq!(
        out.status.code(),
        Some(ptk::exit::OK),
        "{}",
        text(&out.stderr)
    );
    std::fs::write(
        t.join("email/feedback.txt"),
        "Subject: {partnership}: your results\n\nDear {officer},\nYour score is {overall}.\n",
    )
    .unwrap();
    let out = check();
    assert_eq!(out.status.code(), Some(ptk::exit::REJECTED));
    let err = text(&out.stderr);
    assert!(
        err.contains("feedback.txt") && err.contains("{overall}"),
        "{err}"
    );
}
