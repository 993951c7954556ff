//! Fleets (SPEC §5.5): the same program in many pups on many hosts.
//!
//! Invariants:
//! - A fleet is a list of `NAME@HOST[:PORT]` entries, not a service: each
//!   pup is found through its host's pupmapper, as `connect` finds one.
//! - Fleet commands never touch the shell's single-pup connections: every
//!   pup is reached on a connection of its own, opened by a worker thread
//!   and closed when its part is done, at most [`CONCURRENCY`] at once. A
//!   pup that cannot be reached fails alone; the others go on.
//! - Ctrl-C stops starting new pups; what a pup already began stays in the
//!   pup (it holds the program's whole state), so `rollout status` tells
//!   the truth afterwards.
//! - `rollout load` compiles once and sends the same object to every pup.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Instant;

use pup_client::proto::{Request, Response, StatusInfo};

use crate::link::{Connector, Dial};
use crate::parse::LoadSource;
use crate::shell::{CmdResult, Settings, Sink};

/// Most pups a fleet command works on at once.
pub(crate) const CONCURRENCY: usize = 32;

/// One pup of a fleet: a program name and the host whose pupmapper knows it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Member {
    /// The program name the pup registered.
    pub name: String,
    /// `HOST[:PORT]` of its pupmapper; `None`: this host.
    pub host: Option<String>,
}

impl Member {
    /// `NAME@HOST`, or `NAME` for this host.
    pub(crate) fn label(&self) -> String {
        match &self.host {
            Some(h) => format!("{}@{h}", self.name),
            None => self.name.clone(),
        }
    }
}

/// The `fleet` command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum FleetCmd {
    /// `fleet`: list every pup with its state.
    List,
    /// `fleet PUP...`
    Set(Vec<Member>),
    /// `fleet --file FILE`
    File(String),
}

/// The shell's current fleet.
#[derive(Default)]
pub(crate) struct FleetState {
    /// Its pups, in the order given.
    pub members: Vec<Member>,
}

/// What the fleet commands use of the shell.
pub(crate) struct Ctx<'a> {
    /// Reaches pups (and starts them under `--local`).
    pub connector: &'a mut dyn Connector,
    /// Where output goes.
    pub sink: &'a mut dyn Sink,
    /// Relative paths resolve here.
    pub base_dir: &'a Path,
    /// Shell options.
    pub settings: &'a Settings,
    /// Set by Ctrl-C.
    pub interrupt: &'a AtomicBool,
    /// The fleet.
    pub state: &'a mut FleetState,
    /// The observer's state, while `observe` serves: a rollout shows each
    /// pup's new state on the page as soon as that pup is done.
    pub observer: Option<&'a crate::observe::Hub>,
}

impl Ctx<'_> {
    /// Prints one line.
    pub(crate) fn line(&mut self, s: &str) {
        self.sink.out(&format!("{s}\n"));
    }

    /// Prints lines.
    pub(crate) fn lines(&mut self, v: &[String]) {
        let mut t = String::new();
        for l in v {
            t.push_str(l);
            t.push('\n');
        }
        if !t.is_empty() {
            self.sink.out(&t);
        }
    }

    /// A path relative to the script's directory.
    pub(crate) fn resolve(&self, p: &str) -> PathBuf {
        let path = Path::new(p);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir.join(path)
        }
    }

    /// The fleet's pups, or an error saying how to set them.
    pub(crate) fn members(&self, cmd: &str) -> Result<Vec<Member>, String> {
        if self.state.members.is_empty() {
            Err(format!(
                "{cmd}: no fleet (set one with `fleet PUP...` or `fleet --file FILE`)"
            ))
        } else {
            Ok(self.state.members.clone())
        }
    }

    /// Takes a Ctrl-C that arrived (clearing it).
    pub(crate) fn interrupted(&self) -> bool {
        self.interrupt.swap(false, Ordering::SeqCst)
    }
}

/// Parses one entry: `NAME`, `NAME@HOST` or `NAME@HOST:PORT`.
pub(crate) fn parse_member(s: &str) -> Result<Member, String> {
    let (name, host) = match s.split_once('@') {
        Some((n, h)) => {
            if h.is_empty() {
                return Err(format!("`{s}`: no host after @ (NAME@HOST[:PORT])"));
            }
            (n, Some(h.to_string()))
        }
        None => (s, None),
    };
    pupmapper_client::proto::validate_name(name).map_err(|e| format!("`{s}`: {e}"))?;
    Ok(Member {
        name: name.to_string(),
        host,
    })
}

/// Parses a fleet file: entries separated by white space, one or more per
/// line, `#` to the end of a line is a comment.
pub(crate) fn parse_file(file: &str, text: &str) -> Result<Vec<Member>, String> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.split('#').next().unwrap_or("");
        for w in line.split_whitespace() {
            out.push(parse_member(w).map_err(|e| format!("{file}:{}: {e}", i + 1))?);
        }
    }
    Ok(out)
}

/// Parses `fleet`'s arguments.
pub(crate) fn parse(words: &[String]) -> Result<FleetCmd, String> {
    let a = crate::parse::split_args("fleet", words, &["file"], &[])?;
    match (a.opt("file"), a.positional.is_empty()) {
        (Some(_), false) => Err("fleet: give pups or --file FILE, not both".into()),
        (Some(f), true) => Ok(FleetCmd::File(f.to_string())),
        (None, true) => Ok(FleetCmd::List),
        (None, false) => Ok(FleetCmd::Set(
            a.positional
                .iter()
                .map(|w| parse_member(w).map_err(|e| format!("fleet: {e}")))
                .collect::<Result<_, _>>()?,
        )),
    }
}

/// Runs `fleet`.
pub(crate) fn run(ctx: &mut Ctx<'_>, cmd: FleetCmd) -> CmdResult {
    match cmd {
        FleetCmd::List => list(ctx),
        FleetCmd::Set(m) => set(ctx, m),
        FleetCmd::File(f) => {
            let path = ctx.resolve(&f);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("fleet: cannot read {}: {e}", path.display()))?;
            let m = parse_file(&f, &text).map_err(|e| format!("fleet: {e}"))?;
            if m.is_empty() {
                return Err(format!("fleet: {f} names no pup"));
            }
            set(ctx, m)
        }
    }
}

fn set(ctx: &mut Ctx<'_>, members: Vec<Member>) -> CmdResult {
    let mut seen = BTreeSet::new();
    if let Some(d) = members.iter().find(|m| !seen.insert((*m).clone())) {
        return Err(format!("fleet: {} is listed twice", d.label()));
    }
    // Under --local, this host's pups are private ones, started on demand.
    let mut started = 0;
    for m in members.iter().filter(|m| m.host.is_none()) {
        if ctx.connector.start_local(&m.name, ctx.settings.debug)? {
            started += 1;
        }
    }
    let hosts = members
        .iter()
        .map(|m| m.host.as_ref())
        .collect::<BTreeSet<_>>()
        .len();
    let n = members.len();
    ctx.state.members = members;
    ctx.line(&format!(
        "The current fleet is now {} on {}",
        plural(n, "pup"),
        plural(hosts, "host")
    ));
    if started > 0 {
        ctx.line(&format!(
            "Started {} on this host (ush --local)",
            plural(started, "pup")
        ));
    }
    Ok(())
}

/// `1 pup`, `2 pups`.
pub(crate) fn plural(n: usize, what: &str) -> String {
    if n == 1 {
        format!("1 {what}")
    } else {
        format!("{n} {what}s")
    }
}

/// Runs `f` on each index of `which` from worker threads, at most `limit`
/// at once, and returns the results in order. Once `stop` is set no
/// further index is started (its result is `None`).
pub(crate) fn parallel<T: Send>(
    which: &[usize],
    limit: usize,
    stop: &AtomicBool,
    f: impl Fn(usize) -> T + Sync,
) -> Vec<Option<T>> {
    let next = AtomicUsize::new(0);
    let workers = limit.clamp(1, which.len().max(1));
    let mut out: Vec<Option<T>> = which.iter().map(|_| None).collect();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let (next, f) = (&next, &f);
                s.spawn(move || {
                    let mut mine = Vec::new();
                    loop {
                        if stop.load(Ordering::SeqCst) {
                            break;
                        }
                        let k = next.fetch_add(1, Ordering::SeqCst);
                        let Some(&i) = which.get(k) else { break };
                        mine.push((k, f(i)));
                    }
                    mine
                })
            })
            .collect();
        for h in handles {
            // A worker that panicked leaves its pups without a result.
            if let Ok(mine) = h.join() {
                for (k, r) in mine {
                    out[k] = Some(r);
                }
            }
        }
    });
    out
}

/// Sends `req` to one pup on a connection of its own; an `Error` reply
/// becomes `Err`.
pub(crate) fn call_one(dial: &dyn Dial, m: &Member, req: Request) -> Result<Response, String> {
    let mut link = dial.dial(&m.name, m.host.as_deref())?;
    let r = link.call(req);
    link.close();
    match r? {
        Response::Error(e) => Err(e),
        r => Ok(r),
    }
}

/// Sends a request to every pup of the fleet in parallel.
/// What the observer shows of each pup of the fleet (SPEC §5.6): its
/// status and, when its journal records, its history; `None` where the
/// pup did not answer.
pub(crate) type Observed = Vec<(
    Member,
    Option<StatusInfo>,
    Option<Vec<pup_client::proto::HistoryRow>>,
)>;

/// Reads [`Observed`] from every pup of the fleet, in parallel.
pub(crate) fn observe(ctx: &mut Ctx<'_>) -> Observed {
    let members = ctx.state.members.clone();
    observe_members(ctx, members)
}

/// Status and history of `members` (in parallel), for the observer.
pub(crate) fn observe_members(ctx: &mut Ctx<'_>, members: Vec<Member>) -> Observed {
    if members.is_empty() {
        return Vec::new();
    }
    let status = call_all(ctx, &members, || Request::Status).unwrap_or_default();
    let history = call_all(ctx, &members, || Request::History).unwrap_or_default();
    let mut status = status.into_iter();
    let mut history = history.into_iter();
    members
        .into_iter()
        .map(|m| {
            let s = match status.next() {
                Some(Ok(Response::Status(s))) => Some(s),
                _ => None,
            };
            let h = match history.next() {
                Some(Ok(Response::History {
                    journal: pup_client::proto::JournalState::On(_),
                    rows,
                })) => Some(rows),
                _ => None,
            };
            (m, s, h)
        })
        .collect()
}

fn call_all(
    ctx: &mut Ctx<'_>,
    members: &[Member],
    req: impl Fn() -> Request + Sync,
) -> Result<Vec<Result<Response, String>>, String> {
    call_each(ctx, members, |_| req())
}

/// Sends each pup of the fleet its own request (`req(i)` for member `i`),
/// in parallel.
fn call_each(
    ctx: &mut Ctx<'_>,
    members: &[Member],
    req: impl Fn(usize) -> Request + Sync,
) -> Result<Vec<Result<Response, String>>, String> {
    let dial = ctx.connector.dialer()?;
    let all: Vec<usize> = (0..members.len()).collect();
    let r = parallel(&all, CONCURRENCY, ctx.interrupt, |i| {
        call_one(&*dial, &members[i], req(i))
    });
    let interrupted = ctx.interrupted();
    Ok(r.into_iter()
        .map(|r| {
            r.unwrap_or_else(|| {
                Err(if interrupted {
                    "not asked: interrupted".to_string()
                } else {
                    "not asked".to_string()
                })
            })
        })
        .collect())
}

/// A pup's version in words: the version its procedures are committed to
/// (`1..2` when they differ, as after a partial or aborted update; `-`
/// before any load), and any update still pending.
pub(crate) fn version_words(s: &StatusInfo) -> String {
    // Committed version 0 is a procedure only a staged version has: it
    // runs at no version, so it never makes the pup read `0..1`.
    let committed = || s.bindings.iter().map(|b| b.committed).filter(|&v| v > 0);
    let lo = committed().min();
    let hi = committed().max();
    let mut v = match (lo, hi) {
        (Some(lo), Some(hi)) if lo < hi => format!("{lo}..{hi}"),
        (Some(v), _) => v.to_string(),
        (None, _) if s.versions.is_empty() => "-".to_string(),
        (None, _) => s.hrvn.to_string(),
    };
    for p in &s.pending {
        v.push_str(&format!(" (update to {} pending)", p.to));
    }
    v
}

/// Lays out rows under headers, columns padded to their widest cell.
pub(crate) fn table(headers: &[&str], rows: &[Vec<String>]) -> Vec<String> {
    let mut width: Vec<usize> = headers.iter().map(|h| h.len()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if i < width.len() {
                width[i] = width[i].max(c.chars().count());
            }
        }
    }
    let fmt = |cells: Vec<&str>| -> String {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                l.push_str(c);
                let pad = width[i] - c.chars().count() + 2;
                l.extend(std::iter::repeat_n(' ', pad));
            }
        }
        l.trim_end().to_string()
    };
    let mut out = vec![fmt(headers.to_vec())];
    for r in rows {
        out.push(fmt(r.iter().map(String::as_str).collect()));
    }
    out
}

/// `fleet` alone, and `rollout status`: every pup's state, read now.
pub(crate) fn list(ctx: &mut Ctx<'_>) -> CmdResult {
    let members = ctx.members("fleet")?;
    let res = call_all(ctx, &members, || Request::Status)?;
    let mut rows = Vec::new();
    let mut bad = 0;
    let mut at: BTreeMap<String, usize> = BTreeMap::new();
    for (m, r) in members.iter().zip(res) {
        match r {
            Ok(Response::Status(s)) => {
                let v = version_words(&s);
                *at.entry(v.clone()).or_default() += 1;
                let loaded: Vec<String> =
                    s.versions.iter().map(|v| v.version.to_string()).collect();
                let pending = s
                    .pending
                    .iter()
                    .map(|p| format!("{}->{}: {}", p.from, p.to, plural(p.groups.len(), "group")))
                    .collect::<Vec<_>>()
                    .join("; ");
                rows.push(vec![
                    m.label(),
                    v,
                    s.program.clone(),
                    if loaded.is_empty() {
                        "-".into()
                    } else {
                        loaded.join(" ")
                    },
                    pending,
                ]);
            }
            Ok(r) => {
                bad += 1;
                rows.push(vec![
                    m.label(),
                    "?".into(),
                    "?".into(),
                    "?".into(),
                    format!("unexpected answer: {r:?}"),
                ]);
            }
            Err(e) => {
                bad += 1;
                rows.push(vec![
                    m.label(),
                    "?".into(),
                    "unreachable".into(),
                    "?".into(),
                    e,
                ]);
            }
        }
    }
    // The last column holds pending updates, or why a pup could not be read.
    let mut lines = table(&["pup", "version", "program", "loaded", "pending"], &rows);
    let mut summary = format!("fleet: {}", plural(members.len(), "pup"));
    for (v, n) in &at {
        summary.push_str(&format!(", {n} at version {v}"));
    }
    if bad > 0 {
        summary.push_str(&format!(", {bad} unreachable"));
    }
    lines.push(summary);
    ctx.lines(&lines);
    if bad > 0 {
        Err(format!(
            "fleet: {} of {} could not be read",
            plural(bad, "pup"),
            members.len()
        ))
    } else {
        Ok(())
    }
}

/// Prints the pups a command failed on and its summary; fails if any did.
fn report(
    ctx: &mut Ctx<'_>,
    what: &str,
    members: &[Member],
    res: &[Result<Response, String>],
    done: &str,
    t0: Instant,
) -> CmdResult {
    let mut lines = Vec::new();
    let mut failed = 0;
    for (m, r) in members.iter().zip(res) {
        if let Err(e) = r {
            failed += 1;
            let first = e.lines().next().unwrap_or("");
            lines.push(format!("  {}: {first}", m.label()));
        }
    }
    lines.push(format!(
        "rollout {what}: {done} on {} of {} ({})",
        members.len() - failed,
        plural(members.len(), "pup"),
        crate::rollout::human(t0.elapsed())
    ));
    ctx.lines(&lines);
    if failed > 0 {
        Err(format!(
            "rollout {what}: failed on {}",
            plural(failed, "pup")
        ))
    } else {
        Ok(())
    }
}

/// `rollout load V FILE.uc | FILE.delta FILE.o`: compile once per
/// interface the pups hold (each pup is the truth about what it runs: a
/// new version's `old.NAME` and iprocs are typed against it), load on
/// every pup.
pub(crate) fn load(ctx: &mut Ctx<'_>, version: u64, source: &LoadSource) -> CmdResult {
    use crate::shell::load::{PrepareError, Prepared, interface_module, prepare};
    let members = ctx.members("rollout load")?;
    // Pups that hold the same interface share one compile; `ucc build`'s
    // pair was typed by its `--prev` and goes to every pup as it is.
    let mut groups: Vec<(Option<Vec<u8>>, Vec<usize>)> = Vec::new();
    match source {
        LoadSource::Built { .. } => groups.push((None, (0..members.len()).collect())),
        LoadSource::Source(_) => {
            let faces = call_all(ctx, &members, || Request::Interface)?;
            let mut failed = Vec::new();
            for (i, r) in faces.into_iter().enumerate() {
                let key = match r {
                    Ok(Response::Interface { object, .. }) => Some(object),
                    Ok(Response::NoInterface) => None,
                    Ok(r) => {
                        failed.push(format!("  {}: unexpected answer {r:?}", members[i].label()));
                        continue;
                    }
                    Err(e) => {
                        failed.push(format!(
                            "  {}: {}",
                            members[i].label(),
                            e.lines().next().unwrap_or("")
                        ));
                        continue;
                    }
                };
                match groups.iter_mut().find(|(k, _)| *k == key) {
                    Some((_, g)) => g.push(i),
                    None => groups.push((key, vec![i])),
                }
            }
            if !failed.is_empty() {
                ctx.lines(&failed);
                return Err(format!(
                    "rollout load: could not ask {} what it runs; nothing was loaded",
                    plural(failed.len(), "pup")
                ));
            }
        }
    }
    let mut sends: Vec<(Vec<u8>, Option<String>, Vec<usize>)> = Vec::new();
    for (key, idx) in groups {
        let prev = key
            .map(|bytes| interface_module(&bytes))
            .transpose()
            .map_err(|e| format!("rollout load: {e}"))?;
        let resolve = |f: &str| ctx.resolve(f);
        let Prepared {
            module,
            object,
            source: src,
            how,
            ..
        } = match prepare("rollout load", source, &resolve, prev.as_ref()) {
            Ok(p) => p,
            Err(PrepareError::Compile { file, src }) => {
                let text = src.render(&file, ctx.settings.color);
                ctx.sink.err(&text);
                return Err(format!(
                    "rollout load: {file} does not compile; nothing was loaded"
                ));
            }
            Err(PrepareError::Other(e)) => return Err(e),
        };
        let what = match &how {
            crate::format::LoadHow::Compiled(f) => format!("compiled {f}"),
            crate::format::LoadHow::Delta(d) => format!("read {d}"),
        };
        let to = if idx.len() == members.len() {
            String::new()
        } else {
            format!(" for {} of the pups", idx.len())
        };
        ctx.line(&format!(
            "{what}{to}: {}, {} bytes of object",
            plural(module.procs.len(), "procedure"),
            object.len()
        ));
        sends.push((object, src, idx));
    }
    let mut of_member = vec![0usize; members.len()];
    for (k, (_, _, idx)) in sends.iter().enumerate() {
        for &i in idx {
            of_member[i] = k;
        }
    }
    let t0 = Instant::now();
    let res = call_each(ctx, &members, |i| {
        let (object, src, _) = &sends[of_member[i]];
        Request::Load {
            version,
            object: object.clone(),
            source: src.clone(),
        }
    })?;
    report(
        ctx,
        "load",
        &members,
        &res,
        &format!("version {version} loaded"),
        t0,
    )
}

/// `rollout run [V]`.
pub(crate) fn run_all(ctx: &mut Ctx<'_>, version: Option<u64>) -> CmdResult {
    let members = ctx.members("rollout run")?;
    let t0 = Instant::now();
    let res = call_all(ctx, &members, || Request::Run { version })?;
    let vs: BTreeSet<u64> = res
        .iter()
        .filter_map(|r| match r {
            Ok(Response::Running { version }) => Some(*version),
            _ => None,
        })
        .collect();
    let vs: Vec<String> = vs.iter().map(u64::to_string).collect();
    let done = match vs.as_slice() {
        [] => "running".to_string(),
        [v] => format!("running version {v}"),
        vs => format!("running versions {}", vs.join(", ")),
    };
    report(ctx, "run", &members, &res, &done, t0)
}

/// `rollout stop`.
pub(crate) fn stop_all(ctx: &mut Ctx<'_>) -> CmdResult {
    let members = ctx.members("rollout stop")?;
    let t0 = Instant::now();
    let res = call_all(ctx, &members, || Request::Stop)?;
    report(ctx, "stop", &members, &res, "program stopped", t0)
}

/// Puts what [`observe`] read on the observer's page: one row (and one
/// timeline lane) per pup, named `NAME@HOST`.
pub(crate) fn publish(hub: &crate::observe::Hub, rows: &Observed) {
    hub.update(|o| {
        for (m, status, history) in rows {
            let label = m.label();
            o.on_connect(&label, m.host.as_deref().unwrap_or("this host"));
            if let Some(s) = status {
                o.on_status(&label, s);
            }
            if let Some(h) = history {
                o.on_history(&label, h);
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn entries_name_a_pup_and_its_host() {
        assert_eq!(
            parse_member("f1@127.0.0.2:7000").unwrap(),
            Member {
                name: "f1".into(),
                host: Some("127.0.0.2:7000".into())
            }
        );
        assert_eq!(parse_member("f1").unwrap().host, None);
        assert_eq!(parse_member("f1@gto").unwrap().label(), "f1@gto");
        assert!(parse_member("f1@").unwrap_err().contains("no host"));
        assert!(parse_member("@h").is_err());
    }

    #[test]
    fn files_hold_entries_and_comments() {
        let m = parse_file(
            "f.txt",
            "# web tier\nw1@a w2@a  # two on a\n\nw3@b:9\n  w4\n",
        )
        .unwrap();
        let labels: Vec<String> = m.iter().map(Member::label).collect();
        assert_eq!(labels, ["w1@a", "w2@a", "w3@b:9", "w4"]);
        assert!(
            parse_file("f.txt", "ok\nbad@\n")
                .unwrap_err()
                .starts_with("f.txt:2:")
        );
    }

    #[test]
    fn fleet_arguments() {
        let w = |s: &str| -> Vec<String> { s.split_whitespace().map(String::from).collect() };
        assert_eq!(parse(&[]).unwrap(), FleetCmd::List);
        assert_eq!(
            parse(&w("--file f.txt")).unwrap(),
            FleetCmd::File("f.txt".into())
        );
        assert!(parse(&w("a --file f")).unwrap_err().contains("not both"));
        assert!(matches!(parse(&w("a b@h")).unwrap(), FleetCmd::Set(v) if v.len() == 2));
    }

    #[test]
    fn parallel_keeps_order_and_bounds_concurrency() {
        let live = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let which: Vec<usize> = (0..40).collect();
        let r = parallel(&which, 4, &stop, |i| {
            let n = live.fetch_add(1, Ordering::SeqCst) + 1;
            most.fetch_max(n, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(2));
            live.fetch_sub(1, Ordering::SeqCst);
            i * 2
        });
        assert_eq!(r, which.iter().map(|i| Some(i * 2)).collect::<Vec<_>>());
        assert!(most.load(Ordering::SeqCst) <= 4);
        stop.store(true, Ordering::SeqCst);
        assert!(
            parallel(&which, 4, &stop, |i| i)
                .iter()
                .all(Option::is_none)
        );
    }

    #[test]
    fn tables_line_up() {
        let t = table(
            &["pup", "version", "reason"],
            &[
                vec!["f1".into(), "2".into(), String::new()],
                vec!["f10@h".into(), "1".into(), "no line".into()],
            ],
        );
        assert_eq!(
            t,
            [
                "pup    version  reason",
                "f1     2",
                "f10@h  1        no line"
            ]
        );
    }
}
