//! The pup's durable journal (SPEC §4.7): an SQLite file,
//! `STATE_DIR/journal.db`, with every load (object and source text), update,
//! revert, run and stop of its program. The schema is documented in
//! docs/JOURNAL.md.
//!
//! Invariants:
//! - each entry is committed (WAL, `synchronous=FULL`: on disk, not only
//!   in the page cache) before the caller tells ush the step succeeded;
//! - nothing here runs while the program is paused: callers write after
//!   the VM call that paused it has returned;
//! - a journal that cannot be opened or written is *off*, with a one-line
//!   reason, and stays off: the program never stops for it, and a journal
//!   with a hole in it would tell a lie (an update recorded as running that
//!   was in fact reverted), so after the first failed write nothing more
//!   is recorded until the pup restarts;
//! - one pup per journal: an advisory lock on `STATE_DIR/pup.lock` is held
//!   for the pup's life, so a second pup with the same state directory
//!   runs with its journal off instead of interleaving entries.

use std::collections::HashMap;
use std::fs::File;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::proto::{
    ClientId, Ending, EntryKind, EntryOutcome, HistoryRow, JournalState, NotApplied,
    NotAppliedGroup,
};

/// The schema's version, in `meta`.
pub const SCHEMA_VERSION: i64 = 1;
/// The most entries `history` answers with (the newest; the file keeps all).
pub const HISTORY_SHOWN: i64 = 10_000;
/// How long a write waits for a lock held by another process (a user's
/// `sqlite3` in a transaction) before the journal turns off.
const BUSY: Duration = Duration::from_secs(2);

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    seq INTEGER PRIMARY KEY,
    at_ms INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('load','update','revert','run','stop','restore')),
    ush_user TEXT NOT NULL DEFAULT '',
    ush_host TEXT NOT NULL DEFAULT '',
    pup_pid INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS loads (
    seq INTEGER PRIMARY KEY REFERENCES entries(seq),
    version INTEGER NOT NULL UNIQUE,
    code_of INTEGER,
    digest TEXT NOT NULL,
    object BLOB NOT NULL,
    mprocs TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS load_files (
    seq INTEGER NOT NULL REFERENCES loads(seq),
    idx INTEGER NOT NULL,
    path TEXT NOT NULL,
    text TEXT NOT NULL,
    PRIMARY KEY (seq, idx)
);
CREATE TABLE IF NOT EXISTS updates (
    seq INTEGER PRIMARY KEY REFERENCES entries(seq),
    from_version INTEGER NOT NULL,
    to_version INTEGER NOT NULL,
    revert_to INTEGER,
    lossy INTEGER NOT NULL DEFAULT 0,
    committed_at_begin TEXT NOT NULL,
    pending_at_begin TEXT NOT NULL,
    begin_pause_ns INTEGER NOT NULL,
    ending TEXT CHECK (ending IN ('complete','partial','nothing applied','interrupted')),
    ended_ms INTEGER,
    applied TEXT,
    abandoned TEXT,
    pause_ns INTEGER,
    objects_transformed INTEGER,
    frames_moved INTEGER,
    committed_after TEXT
);
CREATE VIEW IF NOT EXISTS reverts AS
    SELECT * FROM updates WHERE revert_to IS NOT NULL;
CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER PRIMARY KEY REFERENCES entries(seq),
    version INTEGER NOT NULL,
    restored INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS stops (
    seq INTEGER PRIMARY KEY REFERENCES entries(seq),
    how TEXT NOT NULL CHECK (how IN ('exit','stopped','error')),
    exit_code INTEGER NOT NULL,
    message TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS restores (
    seq INTEGER PRIMARY KEY REFERENCES entries(seq),
    version INTEGER NOT NULL,
    versions TEXT NOT NULL,
    journal_ms INTEGER NOT NULL
);
";

/// Why the journal could not be opened (the pup runs without it).
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The state directory cannot be created.
    #[error("cannot create the state directory {0}: {1}")]
    Dir(PathBuf, std::io::Error),
    /// Another process holds the pup lock of this state directory.
    #[error("the journal {0} is in use by another pup ({1})")]
    Locked(PathBuf, String),
    /// SQLite refused the file (corrupt, not a database, locked, full disk).
    #[error("cannot open the journal {0}: {1}")]
    Sqlite(PathBuf, String),
}

/// A version as the journal keeps it, for restore and revert.
#[derive(Clone, Debug)]
pub struct LoadRecord {
    /// The engine's version number.
    pub version: u64,
    /// The user-visible version whose code this is, when it is a copy.
    pub code_of: Option<u64>,
    /// The object bytes.
    pub object: Vec<u8>,
    /// The combined source text, if ush sent it.
    pub source: Option<String>,
    /// The mprocs of the version (by the name they serve).
    pub mprocs: Vec<String>,
}

/// What to restore: the last run's version, each procedure's committed
/// version after the last update that applied something since (if any),
/// and the time of that entry.
pub type Committed = (u64, Option<HashMap<String, u64>>, u64);

/// The pup's journal, on or off.
pub struct Journal {
    inner: Mutex<Inner>,
}

struct Inner {
    conn: Option<Connection>,
    path: PathBuf,
    off: Option<String>,
    /// Engine update id → its `entries.seq`.
    updates: HashMap<u64, i64>,
    /// Held for the pup's life (see the module doc).
    _lock: Option<File>,
}

/// Now, in ms since the epoch.
pub fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The files of a combined source text (compiler::source::combine): the
/// main file as `main`, then each included file by its path.
pub fn split_files(main: &str, text: &str) -> Vec<(String, String)> {
    let cut = text.find('\0').unwrap_or(text.len());
    let mut out = vec![(main.to_string(), text[..cut].to_string())];
    let mut rest = &text[cut..];
    while let Some(r) = rest.strip_prefix('\0') {
        let Some(kind) = r.chars().next() else { break };
        let r = &r[kind.len_utf8()..];
        let Some(end) = r.find('\0') else { break };
        let (name, after) = (&r[..end], &r[end + 1..]);
        let next = after.find('\0').unwrap_or(after.len());
        let body = &after[..next];
        rest = &after[next..];
        // `M` marks a file that could not be read: its body is the reason.
        if kind == 'F' {
            out.push((
                name.to_string(),
                body.strip_prefix('\n').unwrap_or(body).to_string(),
            ));
        }
    }
    out
}

fn ending_word(e: Ending) -> &'static str {
    match e {
        Ending::Complete => "complete",
        Ending::Partial => "partial",
        Ending::NothingApplied => "nothing applied",
    }
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "null".into())
}

/// The reason of an abandoned group as the journal stores it.
fn why_json(w: &NotApplied) -> serde_json::Value {
    match w {
        NotApplied::Within(ms) => serde_json::json!({"within_ms": ms}),
        NotApplied::Abort => serde_json::json!("abort"),
        NotApplied::Failed(e) => serde_json::json!({"failed": e}),
    }
}

fn why_of(v: &serde_json::Value) -> NotApplied {
    if v.as_str() == Some("abort") {
        return NotApplied::Abort;
    }
    if let Some(e) = v.get("failed").and_then(|e| e.as_str()) {
        return NotApplied::Failed(e.to_string());
    }
    NotApplied::Within(v.get("within_ms").and_then(|m| m.as_u64()))
}

/// Takes an exclusive advisory lock on `path` without waiting.
fn try_flock(path: &Path) -> Result<File, String> {
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(path)
        .map_err(|e| e.to_string())?;
    // SAFETY: flock on an fd this function owns; no memory is involved.
    let r = unsafe { libc::flock(f.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
    if r != 0 {
        let holder = std::fs::read_to_string(path).unwrap_or_default();
        let holder = holder.trim();
        return Err(if holder.is_empty() {
            "locked".to_string()
        } else {
            format!("pid {holder}")
        });
    }
    use std::io::Write;
    let _ = f.set_len(0);
    let _ = (&f).write_all(std::process::id().to_string().as_bytes());
    Ok(f)
}

impl Journal {
    /// A journal that records nothing, with the reason shown by `status`.
    pub fn off(reason: &str) -> Journal {
        Journal {
            inner: Mutex::new(Inner {
                conn: None,
                path: PathBuf::new(),
                off: Some(reason.to_string()),
                updates: HashMap::new(),
                _lock: None,
            }),
        }
    }

    /// Opens (creating) `dir/journal.db`. An update the file says began
    /// but never ended was cut short by the end of the pup that ran it:
    /// it is marked `interrupted`, which is what happened.
    pub fn open(dir: &Path) -> Result<Journal, OpenError> {
        Self::open_with(dir, false)
    }

    /// [`Journal::open`]; with `fresh`, an existing journal is first kept
    /// aside as `journal-MS.db` (with its WAL files, under the lock, so
    /// no other pup is writing it) and a new one begins: a program started
    /// anew must not restore later from two lifetimes' loads.
    pub fn open_with(dir: &Path, fresh: bool) -> Result<Journal, OpenError> {
        std::fs::create_dir_all(dir).map_err(|e| OpenError::Dir(dir.to_path_buf(), e))?;
        let path = dir.join("journal.db");
        let file_lock =
            try_flock(&dir.join("pup.lock")).map_err(|who| OpenError::Locked(path.clone(), who))?;
        if fresh && path.exists() {
            let kept = dir.join(format!("journal-{}.db", now_ms()));
            for suffix in ["", "-wal", "-shm"] {
                let from = dir.join(format!("journal.db{suffix}"));
                if from.exists() {
                    let to = dir.join(format!("{}{suffix}", kept.display()));
                    std::fs::rename(&from, &to).map_err(|e| OpenError::Dir(from.clone(), e))?;
                }
            }
            crate::log!(
                "pup: starting anew: the previous journal is kept as {}",
                kept.display()
            );
        }
        let sq = |e: rusqlite::Error| OpenError::Sqlite(path.clone(), one_line(&e.to_string()));
        let conn = Connection::open(&path).map_err(sq)?;
        conn.busy_timeout(BUSY).map_err(sq)?;
        // WAL: readers (a user's sqlite3) never block the pup's writes.
        // FULL: a commit is on disk before ush hears of the step, so even a
        // power cut cannot take back what a user was told; the cost (an
        // fsync per load, update or run) is paid by human-scale steps,
        // never inside a pause.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(sq)?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(sq)?;
        conn.execute_batch(SCHEMA).map_err(sq)?;
        conn.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema_version', ?1)",
            params![SCHEMA_VERSION.to_string()],
        )
        .map_err(sq)?;
        conn.execute(
            "UPDATE updates SET ending = 'interrupted' WHERE ending IS NULL",
            [],
        )
        .map_err(sq)?;
        Ok(Journal {
            inner: Mutex::new(Inner {
                conn: Some(conn),
                path,
                off: None,
                updates: HashMap::new(),
                _lock: Some(file_lock),
            }),
        })
    }

    /// On (with its file) or off (with why).
    pub fn state(&self) -> JournalState {
        let g = lock(&self.inner);
        match &g.off {
            Some(why) => JournalState::Off(why.clone()),
            None => JournalState::On(g.path.display().to_string()),
        }
    }

    /// Runs one write in a transaction; a failure turns the journal off
    /// with a one-line message on stderr. Returns the entry's seq.
    fn write(
        &self,
        what: &str,
        f: impl FnOnce(&rusqlite::Transaction<'_>) -> rusqlite::Result<i64>,
    ) -> Option<i64> {
        let mut g = lock(&self.inner);
        let conn = g.conn.as_mut()?;
        let r = (|| {
            let tx = conn.transaction()?;
            let seq = f(&tx)?;
            tx.commit()?;
            Ok::<i64, rusqlite::Error>(seq)
        })();
        match r {
            Ok(seq) => Some(seq),
            Err(e) => {
                let why = format!("recording {what} failed: {}", one_line(&e.to_string()));
                crate::log!(
                    "pup: journal {}: {why}; the journal is off, the program keeps running",
                    g.path.display()
                );
                g.conn = None;
                g.off = Some(why);
                None
            }
        }
    }

    fn entry(tx: &rusqlite::Transaction<'_>, kind: &str, who: &ClientId) -> rusqlite::Result<i64> {
        tx.execute(
            "INSERT INTO entries(at_ms, kind, ush_user, ush_host, pup_pid) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![now_ms() as i64, kind, who.user, who.host, std::process::id()],
        )?;
        Ok(tx.last_insert_rowid())
    }

    /// Records a load. `main` is the main file's name (for `load_files`).
    #[allow(clippy::too_many_arguments)]
    pub fn load(
        &self,
        who: &ClientId,
        version: u64,
        code_of: Option<u64>,
        main: &str,
        object: &[u8],
        source: Option<&str>,
        mprocs: &[String],
    ) {
        let mut h = Sha256::new();
        h.update(object);
        let digest: String = h.finalize().iter().map(|b| format!("{b:02x}")).collect();
        self.write("a load", |tx| {
            let seq = Self::entry(tx, "load", who)?;
            tx.execute(
                "INSERT INTO loads(seq, version, code_of, digest, object, mprocs) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![seq, version as i64, code_of.map(|v| v as i64), digest, object, json(&mprocs)],
            )?;
            if let Some(src) = source {
                for (i, (path, text)) in split_files(main, src).iter().enumerate() {
                    tx.execute(
                        "INSERT INTO load_files(seq, idx, path, text) VALUES (?1, ?2, ?3, ?4)",
                        params![seq, i as i64, path, text],
                    )?;
                }
            }
            Ok(seq)
        });
    }

    /// Records that an update (or a revert to `revert_to`) began.
    #[allow(clippy::too_many_arguments)]
    pub fn update_begun(
        &self,
        who: &ClientId,
        id: u64,
        from: u64,
        to: u64,
        revert_to: Option<u64>,
        lossy: bool,
        committed: &[String],
        pending: &[Vec<String>],
        pause_ns: u64,
    ) {
        let kind = if revert_to.is_some() {
            "revert"
        } else {
            "update"
        };
        if let Some(seq) = self.write("an update", |tx| {
            let seq = Self::entry(tx, kind, who)?;
            tx.execute(
                "INSERT INTO updates(seq, from_version, to_version, revert_to, lossy, committed_at_begin, pending_at_begin, begin_pause_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![seq, from as i64, to as i64, revert_to.map(|v| v as i64), lossy, json(&committed), json(&pending), pause_ns as i64],
            )?;
            Ok(seq)
        }) {
            lock(&self.inner).updates.insert(id, seq);
        }
    }

    /// Records how an update ended (once: a second call for the same
    /// update does nothing). `committed` is each procedure's committed
    /// version after it.
    pub fn update_ended(
        &self,
        e: &crate::proto::UpdateEnded,
        committed: &[(String, u64)],
        pause_ns: u64,
    ) {
        let Some(seq) = lock(&self.inner).updates.remove(&e.id) else {
            return;
        };
        let abandoned: Vec<serde_json::Value> = e
            .not_applied
            .iter()
            .map(|g| serde_json::json!({"members": g.members, "why": why_json(&g.why)}))
            .collect();
        let committed: serde_json::Map<String, serde_json::Value> = committed
            .iter()
            .map(|(n, v)| (n.clone(), serde_json::json!(v)))
            .collect();
        self.write("the end of an update", |tx| {
            tx.execute(
                "UPDATE updates SET ending = ?2, ended_ms = ?3, applied = ?4, abandoned = ?5, pause_ns = ?6, committed_after = ?7 WHERE seq = ?1",
                params![
                    seq,
                    ending_word(e.ending),
                    now_ms() as i64,
                    json(&e.applied),
                    json(&abandoned),
                    pause_ns as i64,
                    json(&committed)
                ],
            )?;
            Ok(seq)
        });
    }

    /// Records that `main` started at `version`.
    pub fn run(&self, who: &ClientId, version: u64, restored: bool) {
        self.write("a run", |tx| {
            let seq = Self::entry(tx, "run", who)?;
            tx.execute(
                "INSERT INTO runs(seq, version, restored) VALUES (?1, ?2, ?3)",
                params![seq, version as i64, restored],
            )?;
            Ok(seq)
        });
    }

    /// Records that the program ended.
    pub fn stop(&self, status: &vm::ExitStatus, message: &str) {
        let how = match status {
            vm::ExitStatus::Error(_) => "error",
            vm::ExitStatus::Stopped | vm::ExitStatus::TimedOut => "stopped",
            _ => "exit",
        };
        self.write("the end of the program", |tx| {
            let seq = Self::entry(tx, "stop", &ClientId::default())?;
            tx.execute(
                "INSERT INTO stops(seq, how, exit_code, message) VALUES (?1, ?2, ?3, ?4)",
                params![seq, how, status.code(), message],
            )?;
            Ok(seq)
        });
    }

    /// Records a restore.
    pub fn restore(&self, version: u64, versions: &[u64], journal_ms: u64) {
        self.write("a restore", |tx| {
            let seq = Self::entry(tx, "restore", &ClientId::default())?;
            tx.execute(
                "INSERT INTO restores(seq, version, versions, journal_ms) VALUES (?1, ?2, ?3, ?4)",
                params![seq, version as i64, json(&versions), journal_ms as i64],
            )?;
            Ok(seq)
        });
    }

    /// Runs a read; `None` when the journal is off or the read fails.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Option<T> {
        let g = lock(&self.inner);
        let conn = g.conn.as_ref()?;
        match f(conn) {
            Ok(t) => Some(t),
            Err(e) => {
                crate::log!(
                    "pup: journal {}: reading failed: {}",
                    g.path.display(),
                    one_line(&e.to_string())
                );
                None
            }
        }
    }

    /// Every version loaded, in load order.
    pub fn loads(&self) -> Vec<LoadRecord> {
        self.read(|c| {
            let mut st = c.prepare(
                "SELECT l.seq, l.version, l.code_of, l.object, l.mprocs FROM loads l ORDER BY l.seq",
            )?;
            let rows = st.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    r.get::<_, i64>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    r.get::<_, Vec<u8>>(3)?,
                    r.get::<_, String>(4)?,
                ))
            })?;
            let mut out = Vec::new();
            for row in rows {
                let (seq, version, code_of, object, mprocs) = row?;
                let mut fs = c.prepare(
                    "SELECT path, text FROM load_files WHERE seq = ?1 ORDER BY idx",
                )?;
                let files: Vec<(String, String)> = fs
                    .query_map([seq], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<_, _>>()?;
                out.push(LoadRecord {
                    version: version as u64,
                    code_of: code_of.map(|v| v as u64),
                    object,
                    source: join_files(&files),
                    mprocs: serde_json::from_str(&mprocs).unwrap_or_default(),
                });
            }
            Ok(out)
        })
        .unwrap_or_default()
    }

    /// The state to restore: each procedure's committed version after the
    /// last update that applied something since the last run (`None`: the
    /// program ran at the run's version), the run's version, and the time
    /// of that entry. `None` when nothing was ever run.
    pub fn committed(&self) -> Option<Committed> {
        self.read(|c| {
            let run: Option<(i64, i64, i64)> = c
                .query_row(
                    "SELECT e.seq, r.version, e.at_ms FROM runs r JOIN entries e USING (seq) ORDER BY e.seq DESC LIMIT 1",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let Some((seq, version, at)) = run else {
                return Ok(None);
            };
            let upd: Option<(String, i64)> = c
                .query_row(
                    "SELECT committed_after, ended_ms FROM updates WHERE seq > ?1 AND ending IN ('complete','partial') ORDER BY seq DESC LIMIT 1",
                    [seq],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            Ok(Some(match upd {
                Some((map, ended)) => (
                    version as u64,
                    Some(serde_json::from_str(&map).unwrap_or_default()),
                    ended as u64,
                ),
                None => (version as u64, None, at as u64),
            }))
        })
        .flatten()
    }

    /// The last update (or revert) that applied something: (from, to,
    /// committed_after).
    pub fn last_applied(&self) -> Option<(u64, u64)> {
        self.read(|c| {
            c.query_row(
                "SELECT from_version, to_version FROM updates WHERE ending IN ('complete','partial') ORDER BY seq DESC LIMIT 1",
                [],
                |r| Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64)),
            )
            .optional()
        })
        .flatten()
    }

    /// Every entry, oldest first.
    pub fn history(&self) -> Vec<HistoryRow> {
        self.read(|c| {
            let mut st = c.prepare(
                "SELECT e.seq, e.at_ms, e.kind, e.ush_user, e.ush_host,
                        l.version, l.code_of,
                        u.from_version, u.to_version,
                        coalesce(u.revert_to, (SELECT l2.code_of FROM loads l2 WHERE l2.version = u.to_version)),
                        u.ending, u.applied, u.abandoned,
                        max(u.begin_pause_ns, coalesce(u.pause_ns, 0)),
                        r.version, s.how, s.exit_code, s.message, x.version
                 FROM entries e
                 LEFT JOIN loads l ON l.seq = e.seq
                 LEFT JOIN updates u ON u.seq = e.seq
                 LEFT JOIN runs r ON r.seq = e.seq
                 LEFT JOIN stops s ON s.seq = e.seq
                 LEFT JOIN restores x ON x.seq = e.seq
                 WHERE e.seq > (SELECT coalesce(max(seq), 0) FROM entries) - ?1
                 ORDER BY e.seq",
            )?;
            let rows = st.query_map([HISTORY_SHOWN], |r| {
                let kind: String = r.get(2)?;
                let kind = match kind.as_str() {
                    "load" => EntryKind::Load,
                    "update" => EntryKind::Update,
                    "revert" => EntryKind::Revert,
                    "run" => EntryKind::Run,
                    "stop" => EntryKind::Stop,
                    _ => EntryKind::Restore,
                };
                let u64o = |i: usize| r.get::<_, Option<i64>>(i).map(|v| v.map(|v| v as u64));
                let (mut from, mut version, mut code_of, mut pause_ns) = (None, None, None, None);
                let outcome = match kind {
                    EntryKind::Load => {
                        version = u64o(5)?;
                        code_of = u64o(6)?;
                        EntryOutcome::Done
                    }
                    EntryKind::Update | EntryKind::Revert => {
                        from = u64o(7)?;
                        version = u64o(8)?;
                        code_of = u64o(9)?;
                        pause_ns = u64o(13)?;
                        let ending: Option<String> = r.get(10)?;
                        let applied: Option<String> = r.get(11)?;
                        let abandoned: Option<String> = r.get(12)?;
                        let applied = applied
                            .and_then(|a| serde_json::from_str::<Vec<Vec<String>>>(&a).ok())
                            .map_or(0, |a| a.len());
                        let not_applied = abandoned
                            .and_then(|a| serde_json::from_str::<Vec<serde_json::Value>>(&a).ok())
                            .unwrap_or_default()
                            .iter()
                            .map(|g| NotAppliedGroup {
                                members: serde_json::from_value(g["members"].clone())
                                    .unwrap_or_default(),
                                why: why_of(&g["why"]),
                            })
                            .collect();
                        let ended = |ending| EntryOutcome::Ended {
                            ending,
                            applied,
                            not_applied,
                        };
                        match ending.as_deref() {
                            None => EntryOutcome::Pending,
                            Some("complete") => ended(Ending::Complete),
                            Some("partial") => ended(Ending::Partial),
                            Some("nothing applied") => ended(Ending::NothingApplied),
                            Some(_) => EntryOutcome::Interrupted,
                        }
                    }
                    EntryKind::Run => {
                        version = u64o(14)?;
                        EntryOutcome::Done
                    }
                    EntryKind::Stop => {
                        let how: Option<String> = r.get(15)?;
                        let code: Option<i64> = r.get(16)?;
                        let message: Option<String> = r.get(17)?;
                        match how.as_deref() {
                            Some("error") => EntryOutcome::Trapped(message.unwrap_or_default()),
                            Some("stopped") => EntryOutcome::Stopped,
                            _ => EntryOutcome::Exited(code.unwrap_or(0)),
                        }
                    }
                    EntryKind::Restore => {
                        version = u64o(18)?;
                        EntryOutcome::Done
                    }
                };
                Ok(HistoryRow {
                    seq: r.get::<_, i64>(0)? as u64,
                    at_ms: r.get::<_, i64>(1)? as u64,
                    kind,
                    who: ClientId {
                        user: r.get(3)?,
                        host: r.get(4)?,
                    },
                    from,
                    version,
                    code_of,
                    outcome,
                    pause_ns,
                })
            })?;
            rows.collect()
        })
        .unwrap_or_default()
    }
}

/// The combined source text again from its files (the inverse of
/// [`split_files`], as `compiler::source::combine` writes it).
fn join_files(files: &[(String, String)]) -> Option<String> {
    let (first, rest) = files.split_first()?;
    let mut out = first.1.clone();
    for (path, text) in rest {
        out.push_str(&format!("\0F{path}\0\n"));
        out.push_str(text);
    }
    Some(out)
}

/// An error message on one line.
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_of_a_combined_text_round_trip() {
        let text = "int a;\n#include \"x.h\"\n\0Fx.h\0\nint x;\n\0Fsub/y.h\0\nint y;\n";
        let files = split_files("m.uc", text);
        assert_eq!(
            files,
            vec![
                ("m.uc".to_string(), "int a;\n#include \"x.h\"\n".to_string()),
                ("x.h".to_string(), "int x;\n".to_string()),
                ("sub/y.h".to_string(), "int y;\n".to_string()),
            ]
        );
        assert_eq!(join_files(&files).as_deref(), Some(text));
        assert_eq!(
            split_files("m.uc", "int a;\n"),
            vec![("m.uc".into(), "int a;\n".into())]
        );
    }

    #[test]
    fn entries_survive_reopening_and_an_unfinished_update_reads_as_interrupted() {
        let dir = tempfile::tempdir().unwrap();
        let who = ClientId {
            user: "ann".into(),
            host: "gto".into(),
        };
        {
            let j = Journal::open(dir.path()).unwrap();
            j.load(&who, 1, None, "a.uc", b"obj", Some("main(){}\n"), &[]);
            j.run(&who, 1, false);
            j.update_begun(&who, 0, 1, 2, None, false, &[], &[vec!["tick".into()]], 5);
        }
        let j = Journal::open(dir.path()).unwrap();
        let h = j.history();
        assert_eq!(h.len(), 3);
        assert_eq!(h[0].kind, EntryKind::Load);
        assert_eq!(h[0].who, who);
        assert_eq!(h[2].outcome, EntryOutcome::Interrupted);
        let loads = j.loads();
        assert_eq!(loads[0].object, b"obj");
        assert_eq!(loads[0].source.as_deref(), Some("main(){}\n"));
    }

    #[test]
    fn a_second_opener_of_one_state_dir_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let _a = Journal::open(dir.path()).unwrap();
        assert!(matches!(
            Journal::open(dir.path()),
            Err(OpenError::Locked(..))
        ));
    }

    #[test]
    fn a_corrupt_file_is_refused_in_one_line() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("journal.db"), vec![b'x'; 8192]).unwrap();
        let Err(e) = Journal::open(dir.path()) else {
            panic!("a corrupt journal opened")
        };
        assert!(matches!(e, OpenError::Sqlite(..)), "{e}");
        assert!(!e.to_string().contains('\n'));
    }
}
