//! The store's tables, and the upgrade of stores written by earlier versions of ptk.

use rusqlite::Connection;

/// "PTK1": the SQLite `application_id` of every ptk store. Defined with the schema
/// (which writes it) so that `open`, which checks it, imports `schema` and not the
/// other way round.
pub const APPLICATION_ID: i32 = 0x5054_4B31;

/// Raised whenever the schema changes; an older store is upgraded on open.
pub(super) const SCHEMA_VERSION: i64 = 4;

pub(super) const SCHEMA: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS partnerships (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    lead_officer TEXT NOT NULL,
    email TEXT NOT NULL,
    assistant_director TEXT NOT NULL,
    assistant_director_email TEXT,
    priority TEXT NOT NULL,
    status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    year INTEGER NOT NULL,
    ptk_version TEXT NOT NULL,
    files INTEGER NOT NULL,
    summary TEXT NOT NULL,
    -- Schema 4: the command line, and the register and respondents files as they were
    -- (to make the year's review again as it was).
    command TEXT NOT NULL DEFAULT '',
    register BLOB,
    respondents BLOB
);
-- Every file ingested, accepted or not, by content hash.
CREATE TABLE IF NOT EXISTS files (
    sha256 TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    status TEXT NOT NULL,
    partnership_id TEXT,
    template_id TEXT,
    template_version INTEGER,
    year INTEGER,
    issued_at TEXT,
    message TEXT NOT NULL,
    run_id INTEGER NOT NULL REFERENCES runs(id),
    respondent_id TEXT,
    -- Schema 4: the run that first recorded the file (run_id is the latest).
    first_run INTEGER
);
CREATE TABLE IF NOT EXISTS findings (
    sha256 TEXT NOT NULL REFERENCES files(sha256),
    seq INTEGER NOT NULL,
    severity TEXT NOT NULL,
    code TEXT NOT NULL,
    sheet TEXT NOT NULL,
    cell TEXT NOT NULL,
    question_id TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (sha256, seq)
) WITHOUT ROWID;
-- Accepted returns. Exactly one is current per partnership, template, year and
-- respondent; a corrected return replaces the earlier one, which keeps replaced_by.
CREATE TABLE IF NOT EXISTS returns (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE REFERENCES files(sha256),
    partnership_id TEXT NOT NULL,
    template_id TEXT NOT NULL,
    template_version INTEGER NOT NULL,
    year INTEGER NOT NULL,
    path TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    status TEXT NOT NULL,
    overall REAL,
    band TEXT,
    current INTEGER NOT NULL,
    replaced_by INTEGER REFERENCES returns(id),
    replaced_at TEXT,
    -- The run that read it, and the file's modification time (ns since 1970), to
    -- choose between two returns for the same form in one run.
    run_id INTEGER NOT NULL REFERENCES runs(id),
    modified INTEGER,
    respondent_id TEXT NOT NULL DEFAULT 'lead'
);
CREATE TABLE IF NOT EXISTS answers (
    return_id INTEGER NOT NULL REFERENCES returns(id),
    question_id TEXT NOT NULL,
    value TEXT NOT NULL,
    points REAL,
    evidence TEXT NOT NULL,
    PRIMARY KEY (return_id, question_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS scores (
    return_id INTEGER NOT NULL REFERENCES returns(id),
    scope TEXT NOT NULL,
    percent REAL,
    points REAL NOT NULL,
    max_points REAL NOT NULL,
    PRIMARY KEY (return_id, scope)
) WITHOUT ROWID;
-- Every email ptk sent or tried to send; `key` identifies the message so a re-run never
-- sends it twice. Written one row at a time, as each message goes.
CREATE TABLE IF NOT EXISTS sends (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    message_id TEXT NOT NULL,
    partnership_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    template_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    file_sha256 TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    transport TEXT NOT NULL,
    result TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sends_key ON sends (key, result);
-- A partnership's result for a form and year, from all its respondents' current
-- returns (score::aggregate): derived, rewritten whenever those returns change.
CREATE TABLE IF NOT EXISTS results (
    template_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    partnership_id TEXT NOT NULL,
    respondents INTEGER NOT NULL,
    overall REAL,
    band TEXT,
    stage TEXT,
    PRIMARY KEY (template_id, year, partnership_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS result_scores (
    template_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    partnership_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    percent REAL,
    points REAL NOT NULL,
    max_points REAL NOT NULL,
    PRIMARY KEY (template_id, year, partnership_id, scope)
) WITHOUT ROWID;
-- Earlier years' scores loaded with `ptk history import`.
CREATE TABLE IF NOT EXISTS history (
    year INTEGER NOT NULL,
    partnership_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    percent REAL NOT NULL,
    PRIMARY KEY (year, partnership_id, scope)
);
"#;

/// Indexes, created after any upgrade (some name columns an older store gains in it).
pub(super) const INDEXES: &str = "
CREATE INDEX IF NOT EXISTS returns_run ON returns (run_id);
DROP INDEX IF EXISTS returns_key;
CREATE INDEX IF NOT EXISTS returns_form ON returns (partnership_id, template_id, year, respondent_id, current);
";

/// Schema 3 adds respondents: each return and file names whose it is (every return
/// before it was the lead officer's), and the partnership-level `results` aggregated
/// from all respondents. A store of schema 2 gains the columns, and its current returns
/// become the results as they are (one respondent each: the aggregate is the return's
/// own score). One transaction.
pub(super) fn upgrade_from_v2(conn: &Connection) -> rusqlite::Result<()> {
    let has_column = |table: &str, column: &str| -> rusqlite::Result<bool> {
        conn.query_row(
            &format!("SELECT COUNT(*) FROM pragma_table_info('{table}') WHERE name = ?1"),
            [column],
            |r| r.get::<_, i64>(0),
        )
        .map(|n| n > 0)
    };
    let mut batch = String::from("BEGIN IMMEDIATE;\n");
    if !has_column("returns", "respondent_id")? {
        batch.push_str(
            "ALTER TABLE returns ADD COLUMN respondent_id TEXT NOT NULL DEFAULT 'lead';\n",
        );
    }
    if !has_column("files", "respondent_id")? {
        batch.push_str("ALTER TABLE files ADD COLUMN respondent_id TEXT;\n");
    }
    batch.push_str(&format!(
        "INSERT OR REPLACE INTO results (template_id, year, partnership_id, respondents, overall, band, stage)
           SELECT r.template_id, r.year, r.partnership_id, 1, r.overall, r.band,
                  (SELECT NULLIF(a.value, '') FROM answers a WHERE a.return_id = r.id AND a.question_id = '{stage}')
           FROM returns r WHERE r.current = 1;
         INSERT OR REPLACE INTO result_scores (template_id, year, partnership_id, scope, percent, points, max_points)
           SELECT r.template_id, r.year, r.partnership_id, s.scope, s.percent, s.points, s.max_points
           FROM scores s JOIN returns r ON r.id = s.return_id WHERE r.current = 1;
         UPDATE meta SET value = '3' WHERE key = 'schema_version';
         COMMIT;",
        stage = crate::score::STAGE_QUESTION
    ));
    conn.execute_batch(&batch).inspect_err(|_| {
        let _ = conn.execute_batch("ROLLBACK");
    })
}

/// Schema 4 marks the store as ptk's (`application_id`, `user_version`) and records
/// each run's command line, register and respondents. One transaction.
pub(super) fn upgrade_from_v3(conn: &Connection) -> rusqlite::Result<()> {
    let has: bool = conn.query_row(
        "SELECT COUNT(*) > 0 FROM pragma_table_info('runs') WHERE name = 'command'",
        [],
        |r| r.get(0),
    )?;
    let columns = if has {
        ""
    } else {
        "ALTER TABLE runs ADD COLUMN command TEXT NOT NULL DEFAULT '';
         ALTER TABLE runs ADD COLUMN register BLOB;
         ALTER TABLE runs ADD COLUMN respondents BLOB;
         ALTER TABLE files ADD COLUMN first_run INTEGER;"
    };
    conn.execute_batch(&format!(
        "BEGIN IMMEDIATE;
         {columns}
         PRAGMA application_id = {id};
         PRAGMA user_version = {SCHEMA_VERSION};
         UPDATE meta SET value = '{SCHEMA_VERSION}' WHERE key = 'schema_version';
         COMMIT;",
        id = APPLICATION_ID
    ))
    .inspect_err(|_| {
        let _ = conn.execute_batch("ROLLBACK");
    })
}

/// Schema 1 kept answers, scores and findings in rowid tables with a separate primary-key
/// index; schema 2 makes them `WITHOUT ROWID` (one B-tree per row instead of two, which
/// roughly halves the cost of storing a return). Rewrites the three tables in one
/// transaction; nothing else changes.
pub(super) fn upgrade_from_v1(conn: &Connection) -> rusqlite::Result<()> {
    let table_sql = |name: &str| -> rusqlite::Result<String> {
        conn.query_row(
            "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?1",
            [name],
            |r| r.get(0),
        )
    };
    let mut batch = String::from("BEGIN IMMEDIATE;\n");
    for name in ["findings", "answers", "scores"] {
        let create = table_sql(name)?;
        if create.contains("WITHOUT ROWID") {
            continue;
        }
        batch.push_str(&format!(
            "ALTER TABLE {name} RENAME TO {name}_v1;\n{create} WITHOUT ROWID;\nINSERT INTO {name} SELECT * FROM {name}_v1;\nDROP TABLE {name}_v1;\n"
        ));
    }
    batch.push_str("UPDATE meta SET value = '2' WHERE key = 'schema_version';\nCOMMIT;");
    conn.execute_batch(&batch).inspect_err(|_| {
        let _ = conn.execute_batch("ROLLBACK");
    })
}

/// The tables of schema 2, as stores written before respondents have them: the upgrade
/// tests build such a store from it.
#[cfg(test)]
pub(super) const SCHEMA_V2: &str = r#"
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS partnerships (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    category TEXT NOT NULL,
    lead_officer TEXT NOT NULL,
    email TEXT NOT NULL,
    assistant_director TEXT NOT NULL,
    assistant_director_email TEXT,
    priority TEXT NOT NULL,
    status TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    year INTEGER NOT NULL,
    ptk_version TEXT NOT NULL,
    files INTEGER NOT NULL,
    summary TEXT NOT NULL
);
-- Every file ingested, accepted or not, by content hash.
CREATE TABLE IF NOT EXISTS files (
    sha256 TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    status TEXT NOT NULL,
    partnership_id TEXT,
    template_id TEXT,
    template_version INTEGER,
    year INTEGER,
    issued_at TEXT,
    message TEXT NOT NULL,
    run_id INTEGER NOT NULL REFERENCES runs(id)
);
CREATE TABLE IF NOT EXISTS findings (
    sha256 TEXT NOT NULL REFERENCES files(sha256),
    seq INTEGER NOT NULL,
    severity TEXT NOT NULL,
    code TEXT NOT NULL,
    sheet TEXT NOT NULL,
    cell TEXT NOT NULL,
    question_id TEXT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (sha256, seq)
) WITHOUT ROWID;
-- Accepted returns. Exactly one is current per partnership, template and year;
-- a corrected return replaces the earlier one, which keeps replaced_by.
CREATE TABLE IF NOT EXISTS returns (
    id INTEGER PRIMARY KEY,
    sha256 TEXT NOT NULL UNIQUE REFERENCES files(sha256),
    partnership_id TEXT NOT NULL,
    template_id TEXT NOT NULL,
    template_version INTEGER NOT NULL,
    year INTEGER NOT NULL,
    path TEXT NOT NULL,
    issued_at TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    status TEXT NOT NULL,
    overall REAL,
    band TEXT,
    current INTEGER NOT NULL,
    replaced_by INTEGER REFERENCES returns(id),
    replaced_at TEXT,
    -- The run that read it, and the file's modification time (ns since 1970), to
    -- choose between two returns for the same form in one run.
    run_id INTEGER NOT NULL REFERENCES runs(id),
    modified INTEGER
);
CREATE INDEX IF NOT EXISTS returns_run ON returns (run_id);
CREATE INDEX IF NOT EXISTS returns_key ON returns (partnership_id, template_id, year, current);
CREATE TABLE IF NOT EXISTS answers (
    return_id INTEGER NOT NULL REFERENCES returns(id),
    question_id TEXT NOT NULL,
    value TEXT NOT NULL,
    points REAL,
    evidence TEXT NOT NULL,
    PRIMARY KEY (return_id, question_id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS scores (
    return_id INTEGER NOT NULL REFERENCES returns(id),
    scope TEXT NOT NULL,
    percent REAL,
    points REAL NOT NULL,
    max_points REAL NOT NULL,
    PRIMARY KEY (return_id, scope)
) WITHOUT ROWID;
-- Every email ptk sent or tried to send; `key` identifies the message so a re-run never
-- sends it twice. Written one row at a time, as each message goes.
CREATE TABLE IF NOT EXISTS sends (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL,
    kind TEXT NOT NULL,
    message_id TEXT NOT NULL,
    partnership_id TEXT NOT NULL,
    recipient TEXT NOT NULL,
    template_id TEXT NOT NULL,
    year INTEGER NOT NULL,
    file_sha256 TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    transport TEXT NOT NULL,
    result TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sends_key ON sends (key, result);
-- (sends.state is added by add_send_state, so that stores from before it get it too.)
-- Earlier years' scores loaded with `ptk history import`.
CREATE TABLE IF NOT EXISTS history (
    year INTEGER NOT NULL,
    partnership_id TEXT NOT NULL,
    scope TEXT NOT NULL,
    percent REAL NOT NULL,
    PRIMARY KEY (year, partnership_id, scope)
);
"#;

/// Adds `sends.state` where it is missing: `drafted` (written as an .eml for the officer to
/// check; not yet delivered), `sent` (handed to an SMTP server) or `failed`. Before it,
/// an .eml counted as sent, so a later SMTP run sent nothing; rows from then are marked
/// from their transport. Idempotent: does nothing once the column exists.
pub(super) fn add_send_state(conn: &Connection) -> rusqlite::Result<()> {
    let has = |conn: &Connection| -> rusqlite::Result<bool> {
        conn.query_row(
            "SELECT COUNT(*) > 0 FROM pragma_table_info('sends') WHERE name = 'state'",
            [],
            |r| r.get(0),
        )
    };
    if has(conn)? {
        return Ok(());
    }
    // Checked again under the write lock: another ptk may have upgraded it meanwhile.
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let upgraded = (|| {
        if has(conn)? {
            return Ok(());
        }
        conn.execute_batch(
            "ALTER TABLE sends ADD COLUMN state TEXT NOT NULL DEFAULT 'failed';
             UPDATE sends SET state = CASE
                 WHEN result <> 'sent' THEN 'failed'
                 WHEN transport LIKE 'eml:%' THEN 'drafted'
                 ELSE 'sent' END;
             UPDATE sends SET result = 'drafted' WHERE state = 'drafted';
             CREATE INDEX IF NOT EXISTS sends_state ON sends (key, state);",
        )
    })();
    match upgraded {
        Ok(()) => conn.execute_batch("COMMIT"),
        Err(e) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(e)
        }
    }
}
