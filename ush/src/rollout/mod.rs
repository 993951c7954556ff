//! `rollout`: one update over a fleet, on a schedule, with health gates
//! (SPEC §5.5; Ajmani, Liskov & Shrira's scheduling functions).
//!
//! Invariants:
//! - Nothing is touched until every pup's state has been read: a version
//!   that some reachable pup does not hold refuses the whole rollout, naming
//!   those pups.
//! - A pup is *done* when its update completes (every group applied) and,
//!   with `--health`, a line of its program's output received after the
//!   completion notice matches the regex within `--health-within`. Anything
//!   else — partial, nothing applied, no health line, the program ended, the
//!   pup unreachable or lost — is a *failure*, with the reason in words.
//! - Batches run strictly one after another; within a batch at most
//!   [`CONCURRENCY`] pups are in flight. Once more than `--max-failures`
//!   pups failed, no further pup is touched and each update still pending
//!   in flight is aborted (the pup abandons its groups, as `abort` does).
//! - Ctrl-C stops waiting: in-flight updates keep their state in the pups
//!   (they are neither aborted nor awaited) and `rollout status` shows it.
//! - Every pup ends in the table; the summary line counts each pup once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use pup_client::proto::{Notice, Request, Response, StatusInfo, UpdateSpec};
use regex::Regex;

use crate::fleet::{self, CONCURRENCY, Ctx, Member, plural, version_words};
use crate::link::{Dial, Link};
use crate::parse::{UpdateTarget, duration, version};
use crate::shell::CmdResult;

mod args;
mod drive;
mod progress;
#[cfg(test)]
mod tests;

pub(crate) use args::{human, parse};
use drive::{soak_one, update_one};
use progress::Progress;

/// Default of `--health-within`.
pub(crate) const HEALTH_WITHIN: Duration = Duration::from_secs(10);
/// How long past `--within` ush waits for the pup's own verdict.
const WITHIN_SLACK: Duration = Duration::from_secs(5);
/// How long an aborted pup has to confirm what it applied.
const ABORT_WAIT: Duration = Duration::from_secs(5);
/// How often waiting workers look at the halt and interrupt flags.
const TICK: Duration = Duration::from_millis(50);
/// Shortest gap between two plain progress lines.
const PROGRESS_EVERY: Duration = Duration::from_millis(500);
/// Longest unterminated output line kept while looking for a health line.
const MAX_LINE: usize = 64 << 10;

/// How many pups a batch holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum BatchSize {
    /// N pups.
    Count(usize),
    /// N percent of the fleet (at least one pup).
    Percent(u32),
}

/// The order and pace of a rollout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Strategy {
    /// Every pup at once.
    All,
    /// Batches; the next begins when every pup of the previous is done.
    Rolling(BatchSize),
    /// N pups, a soak, then the rest in batches of N.
    Canary(usize),
}

/// `rollout update`'s arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct UpdateOpts {
    /// A version or a changes file.
    pub target: UpdateTarget,
    /// `--strategy` (default `all`).
    pub strategy: Strategy,
    /// `--soak D`: healthy running the canaries need before the rest.
    pub soak: Option<Duration>,
    /// `--health REGEX`.
    pub health: Option<String>,
    /// `--health-within D`.
    pub health_within: Duration,
    /// `--max-failures K`.
    pub max_failures: usize,
    /// `--within D`, per pup.
    pub within: Option<Duration>,
    /// `--strict`: each pup refuses an update that would reset data.
    pub strict: bool,
}

/// The `rollout` command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RolloutCmd {
    /// `rollout load V FILE.uc` or `rollout load V FILE.delta FILE.o`
    Load {
        /// Version.
        version: u64,
        /// A source, or `ucc build`'s pair.
        source: crate::parse::LoadSource,
    },
    /// `rollout run [V]`
    Run(Option<u64>),
    /// `rollout stop`
    Stop,
    /// `rollout status`
    Status,
    /// `rollout update …`
    Update(UpdateOpts),
}

/// Runs `rollout`.
pub(crate) fn run(ctx: &mut Ctx<'_>, cmd: RolloutCmd) -> CmdResult {
    match cmd {
        RolloutCmd::Load { version, source } => fleet::load(ctx, version, &source),
        RolloutCmd::Run(v) => fleet::run_all(ctx, v),
        RolloutCmd::Stop => fleet::stop_all(ctx),
        RolloutCmd::Status => fleet::list(ctx),
        RolloutCmd::Update(o) => update(ctx, &o),
    }
}

/// The batches of a rollout over `n` pups, as lists of indices.
pub(crate) fn batches(strategy: Strategy, n: usize) -> Vec<Vec<usize>> {
    let chunk = |from: usize, size: usize| -> Vec<Vec<usize>> {
        (from..n)
            .collect::<Vec<_>>()
            .chunks(size.max(1))
            .map(<[usize]>::to_vec)
            .collect()
    };
    match strategy {
        Strategy::All => chunk(0, n),
        Strategy::Rolling(BatchSize::Count(k)) => chunk(0, k),
        Strategy::Rolling(BatchSize::Percent(p)) => chunk(0, (n * p as usize).div_ceil(100)),
        Strategy::Canary(k) => chunk(0, k),
    }
}

/// How one pup's part ended.
#[derive(Clone, Debug, PartialEq, Eq)]
enum End {
    /// Updated (and healthy).
    Done,
    /// Failed, and why.
    Failed(String),
    /// Its update was in flight when the rollout halted, and was aborted:
    /// what it says the pup kept.
    Aborted(String),
    /// Ctrl-C: left as it was in the pup.
    Interrupted,
    /// Already at this version before the rollout: not touched.
    Already(u64),
}

impl End {
    /// Counts against `--max-failures` and the rollout's success.
    fn failed(&self) -> bool {
        matches!(self, End::Failed(_) | End::Aborted(_))
    }
}

/// One pup's line of the final table.
#[derive(Clone, Debug)]
struct Row {
    end: Option<End>,
    version: String,
    time: Option<Duration>,
}

/// What every worker shares.
struct Job<'a> {
    dial: &'a dyn Dial,
    spec: UpdateSpec,
    health: Option<Regex>,
    health_within: Duration,
    within: Option<Duration>,
    halt: AtomicBool,
    interrupt: &'a AtomicBool,
}

impl Job<'_> {
    fn halted(&self) -> bool {
        self.halt.load(Ordering::SeqCst)
    }
    fn interrupted(&self) -> bool {
        self.interrupt.load(Ordering::SeqCst)
    }
}

/// Messages from workers to the thread that shows progress.
enum Event {
    Started,
    Finished(usize, End, String, Duration),
}

/// The update's wire form.
fn spec_of(ctx: &mut Ctx<'_>, o: &UpdateOpts) -> Result<UpdateSpec, String> {
    let mut spec = UpdateSpec::default();
    match &o.target {
        UpdateTarget::Version(v) => spec.to = Some(*v),
        UpdateTarget::Changes(f) => {
            let path = ctx.resolve(f);
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("rollout update: cannot read {}: {e}", path.display()))?;
            let cf = match compiler::changes::parse(f, &text) {
                Ok(cf) => cf,
                Err(d) => {
                    let rendered = d.render(f, &text, ctx.settings.color);
                    ctx.sink.err(&rendered);
                    return Err(format!(
                        "rollout update: {f} is not a valid changes file; nothing was updated"
                    ));
                }
            };
            crate::shell::apply_changes(&mut spec, cf);
        }
    }
    if let Some(w) = o.within {
        spec.within_ms = Some(w.as_millis() as u64);
    }
    spec.strict |= o.strict;
    Ok(spec)
}

/// `rollout update`.
fn update(ctx: &mut Ctx<'_>, o: &UpdateOpts) -> CmdResult {
    let members = ctx.members("rollout update")?;
    let spec = spec_of(ctx, o)?;
    let dial = ctx.connector.dialer()?;
    let n = members.len();
    let t0 = Instant::now();

    // Read every pup before touching any.
    let all: Vec<usize> = (0..n).collect();
    let before = fleet::parallel(&all, CONCURRENCY, ctx.interrupt, |i| {
        fleet::call_one(&*dial, &members[i], Request::Status)
    });
    if ctx.interrupted() {
        return Err("rollout update: interrupted before anything was touched".into());
    }
    let mut rows: Vec<Row> = Vec::with_capacity(n);
    let mut missing = Vec::new();
    let mut todo = Vec::new();
    for (i, r) in before.into_iter().enumerate() {
        let mut row = Row {
            end: None,
            version: "?".into(),
            time: None,
        };
        match r {
            Some(Ok(Response::Status(s))) => {
                row.version = version_words(&s);
                match spec.to {
                    Some(v) if s.retired.contains(&v) => {
                        missing.push(format!("{} (retired there)", members[i].label()))
                    }
                    _ if !holds(&s, spec.to) => missing.push(members[i].label()),
                    Some(v) if at_version(&s, v) => {
                        // Nothing to do: the pup is not touched.
                        row.end = Some(End::Already(v));
                    }
                    _ => todo.push(i),
                }
            }
            Some(Ok(r)) => row.end = Some(End::Failed(format!("unexpected answer: {r:?}"))),
            Some(Err(e)) => row.end = Some(End::Failed(format!("unreachable: {e}"))),
            None => row.end = Some(End::Failed("not read".into())),
        }
        rows.push(row);
    }
    if !missing.is_empty() {
        let v = spec.to.map(|v| v.to_string()).unwrap_or_default();
        return Err(format!(
            "rollout update: version {v} is not loaded on {} ({}); nothing was touched \
             (load it with `rollout load {v} FILE.uc`)",
            plural(missing.len(), "pup"),
            missing.join(", ")
        ));
    }
    let health = match &o.health {
        Some(h) => Some(Regex::new(h).map_err(|e| format!("rollout update: --health: {e}"))?),
        None => None,
    };
    let job = Job {
        dial: &*dial,
        spec,
        health,
        health_within: o.health_within,
        within: o.within,
        halt: AtomicBool::new(false),
        interrupt: ctx.interrupt,
    };
    let mut progress = Progress::new(ctx.settings.progress_bar, n);
    let failures = |rows: &[Row]| {
        rows.iter()
            .filter(|r| r.end.as_ref().is_some_and(End::failed))
            .count()
    };
    let too_many = |rows: &[Row]| failures(rows) > o.max_failures;
    let order = batches(o.strategy, todo.len());
    let mut halted_at: Option<usize> = None;
    for (b, batch) in order.iter().enumerate() {
        if too_many(&rows) {
            halted_at.get_or_insert(failures(&rows));
            job.halt.store(true, Ordering::SeqCst);
        }
        if job.halted() || job.interrupted() {
            break;
        }
        let batch: Vec<usize> = batch.iter().map(|&k| todo[k]).collect();
        if order.len() > 1 {
            let names: Vec<String> = batch.iter().map(|&i| members[i].label()).collect();
            let what = if matches!(o.strategy, Strategy::Canary(_)) && b == 0 {
                "canaries"
            } else {
                "batch"
            };
            progress.note(
                ctx,
                &format!(
                    "rollout: {what} {}/{}: {}",
                    b + 1,
                    order.len(),
                    names.join(" ")
                ),
            );
        }
        run_batch(ctx, &job, &members, &batch, &mut rows, &mut progress, o);
        if too_many(&rows) {
            halted_at.get_or_insert(failures(&rows));
            job.halt.store(true, Ordering::SeqCst);
        }
        // The canaries soak before the rest begins.
        if let (Strategy::Canary(_), Some(d), 0) = (o.strategy, o.soak, b)
            && order.len() > 1
            && !job.halted()
            && !job.interrupted()
        {
            let healthy: Vec<usize> = batch
                .iter()
                .copied()
                .filter(|&i| rows[i].end == Some(End::Done))
                .collect();
            progress.note(
                ctx,
                &format!(
                    "rollout: soaking for {}: {} must keep running",
                    human(d),
                    match healthy.len() {
                        1 => "1 canary".to_string(),
                        k => format!("{k} canaries"),
                    }
                ),
            );
            let res = fleet::parallel(&healthy, CONCURRENCY, &AtomicBool::new(false), |i| {
                soak_one(&job, &members[i], d)
            });
            for (&i, r) in healthy.iter().zip(res) {
                if let Some(Some(why)) = r {
                    rows[i].end = Some(End::Failed(why));
                }
            }
            progress.show(ctx, &rows, 0, true);
        }
    }
    if too_many(&rows) {
        halted_at.get_or_insert(failures(&rows));
    }
    progress.finish();
    let interrupted = ctx.interrupted() || rows.iter().any(|r| r.end == Some(End::Interrupted));

    // The table and the summary.
    let mut lines = Vec::new();
    if let Some(f) = halted_at {
        let aborted = rows
            .iter()
            .filter(|r| matches!(r.end, Some(End::Aborted(_))))
            .count();
        let in_flight = match aborted {
            0 => String::new(),
            k => format!(
                " and {} in flight {} aborted",
                plural(k, "update"),
                if k == 1 { "was" } else { "were" }
            ),
        };
        lines.push(format!(
            "rollout: halted: {} failed (more than --max-failures {}); no further pup was \
             touched{in_flight}",
            plural(f, "pup"),
            o.max_failures
        ));
    }
    if interrupted {
        lines.push(
            "rollout: interrupted: updates in flight keep their state in the pups \
             (see `rollout status`)"
                .into(),
        );
    }
    let (mut done, mut failed, mut untouched) = (0, 0, 0);
    let table_rows: Vec<Vec<String>> = members
        .iter()
        .zip(&rows)
        .map(|(m, r)| {
            let (result, reason) = match &r.end {
                Some(End::Done) => {
                    done += 1;
                    ("updated", String::new())
                }
                Some(End::Already(v)) => {
                    done += 1;
                    ("updated", format!("already at version {v}"))
                }
                Some(End::Failed(why)) => {
                    failed += 1;
                    ("failed", why.clone())
                }
                Some(End::Aborted(why)) => {
                    failed += 1;
                    ("aborted", why.clone())
                }
                Some(End::Interrupted) => {
                    failed += 1;
                    (
                        "interrupted",
                        "left as it was in the pup (Ctrl-C)".to_string(),
                    )
                }
                None => {
                    untouched += 1;
                    ("not touched", String::new())
                }
            };
            vec![
                m.label(),
                r.version.clone(),
                result.to_string(),
                r.time.map(human).unwrap_or_else(|| "-".into()),
                reason,
            ]
        })
        .collect();
    lines.extend(fleet::table(
        &["pup", "version", "result", "time", "reason"],
        &table_rows,
    ));
    lines.push(format!(
        "rollout: {}: {done} updated, {failed} failed, {untouched} not touched ({})",
        plural(n, "pup"),
        human(t0.elapsed())
    ));
    ctx.lines(&lines);
    if done == n {
        Ok(())
    } else {
        Err(format!(
            "rollout update: {} of {n} not updated",
            plural(n - done, "pup")
        ))
    }
}

/// Whether every procedure of the pup is committed to `v` or later, with
/// no update pending (a partial update leaves some behind).
fn at_version(s: &StatusInfo, v: u64) -> bool {
    s.pending.is_empty() && !s.bindings.is_empty() && s.bindings.iter().all(|b| b.committed >= v)
}

/// Whether the pup holds the target version (`None`: the newest it holds).
fn holds(s: &StatusInfo, to: Option<u64>) -> bool {
    match to {
        Some(v) => s.versions.iter().any(|x| x.version == v),
        None => !s.versions.is_empty(),
    }
}

/// One batch: its pups in parallel (at most [`CONCURRENCY`] at once),
/// progress shown as they start and end, the halt raised as soon as too
/// many failed.
fn run_batch(
    ctx: &mut Ctx<'_>,
    job: &Job<'_>,
    members: &[Member],
    batch: &[usize],
    rows: &mut [Row],
    progress: &mut Progress,
    o: &UpdateOpts,
) {
    let (tx, rx) = mpsc::channel::<Event>();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut in_flight = 0usize;
    std::thread::scope(|s| {
        for _ in 0..CONCURRENCY.min(batch.len()) {
            let (tx, next) = (tx.clone(), &next);
            s.spawn(move || {
                loop {
                    if job.halted() || job.interrupted() {
                        break;
                    }
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    let Some(&i) = batch.get(k) else { break };
                    let t = Instant::now();
                    let _ = tx.send(Event::Started);
                    let (end, version) = update_one(job, &members[i]);
                    let _ = tx.send(Event::Finished(i, end, version, t.elapsed()));
                }
            });
        }
        drop(tx);
        loop {
            let ev = rx.recv_timeout(Duration::from_millis(100));
            match ev {
                Ok(Event::Started) => in_flight += 1,
                Ok(Event::Finished(i, end, version, t)) => {
                    in_flight -= 1;
                    rows[i] = Row {
                        end: Some(end),
                        version,
                        time: Some(t),
                    };
                    // The page follows the rollout pup by pup, not only
                    // once it has ended.
                    if let Some(hub) = ctx.observer {
                        let seen = crate::fleet::observe_members(ctx, vec![members[i].clone()]);
                        crate::fleet::publish(hub, &seen);
                    }
                    let failed = rows
                        .iter()
                        .filter(|r| r.end.as_ref().is_some_and(End::failed))
                        .count();
                    if failed > o.max_failures {
                        job.halt.store(true, Ordering::SeqCst);
                    }
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            progress.show(ctx, rows, in_flight, false);
        }
    });
    progress.show(ctx, rows, 0, true);
}
