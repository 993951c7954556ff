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

/// Default of `--health-within`.
pub const HEALTH_WITHIN: Duration = Duration::from_secs(10);
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
pub enum BatchSize {
    /// N pups.
    Count(usize),
    /// N percent of the fleet (at least one pup).
    Percent(u32),
}

/// The order and pace of a rollout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strategy {
    /// Every pup at once.
    All,
    /// Batches; the next begins when every pup of the previous is done.
    Rolling(BatchSize),
    /// N pups, a soak, then the rest in batches of N.
    Canary(usize),
}

/// `rollout update`'s arguments.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UpdateOpts {
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
pub enum RolloutCmd {
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

/// `2s`, `250ms`, `1.5s`, `2m 5s`.
pub fn human(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 {
        format!("{ms}ms")
    } else if ms < 60_000 {
        if ms.is_multiple_of(1000) {
            format!("{}s", ms / 1000)
        } else {
            format!("{:.1}s", d.as_secs_f64())
        }
    } else {
        format!("{}m {}s", ms / 60_000, (ms % 60_000) / 1000)
    }
}

fn count(s: &str, what: &str) -> Result<usize, String> {
    s.parse::<usize>()
        .map_err(|_| format!("rollout update: {what} `{s}` is not a number"))
}

/// Parses `rollout`'s arguments.
pub fn parse(words: &[String]) -> Result<RolloutCmd, String> {
    let usage = || format!("usage: {}", crate::commands::usage("rollout"));
    let (sub, rest) = words.split_first().ok_or_else(usage)?;
    let plain = |n: usize| -> Result<Vec<String>, String> {
        let a = crate::parse::split_args("rollout", rest, &[], &[])?;
        a.at_most("rollout", n)?;
        Ok(a.positional)
    };
    Ok(match sub.as_str() {
        "load" => {
            let p = plain(3)?;
            let Some((v, files)) = p.split_first().filter(|(_, f)| !f.is_empty()) else {
                return Err(
                    "usage: rollout load V FILE.uc | rollout load V FILE.delta FILE.o".into(),
                );
            };
            let version = version(v)?;
            if version == 0 {
                return Err("rollout load: versions are numbered from 1".into());
            }
            RolloutCmd::Load {
                version,
                source: crate::parse::load_source("rollout load", v, files)?,
            }
        }
        "run" => RolloutCmd::Run(plain(1)?.first().map(|v| version(v)).transpose()?),
        "stop" => {
            plain(0)?;
            RolloutCmd::Stop
        }
        "status" => {
            plain(0)?;
            RolloutCmd::Status
        }
        "update" => RolloutCmd::Update(parse_update(rest)?),
        other => {
            return Err(format!(
                "rollout: unknown subcommand `{other}` (load, run, stop, status, update)"
            ));
        }
    })
}

fn parse_update(words: &[String]) -> Result<UpdateOpts, String> {
    // `--strategy rolling 4` takes two words: take them out first.
    let mut rest = Vec::new();
    let mut strategy = Strategy::All;
    let mut it = words.iter().peekable();
    while let Some(w) = it.next() {
        let value = match w.strip_prefix("--strategy") {
            Some("") => it
                .next()
                .cloned()
                .ok_or("rollout update: --strategy needs a value")?,
            Some(v) if v.starts_with('=') => v[1..].to_string(),
            _ => {
                rest.push(w.clone());
                continue;
            }
        };
        let mut parts: Vec<String> = value.split_whitespace().map(String::from).collect();
        if matches!(parts.as_slice(), [k] if k == "rolling" || k == "canary") {
            parts.push(
                it.next()
                    .cloned()
                    .ok_or_else(|| format!("rollout update: --strategy {value} needs N"))?,
            );
        }
        strategy = match parts
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .as_slice()
        {
            ["all"] => Strategy::All,
            ["rolling", n] => match n.strip_suffix('%') {
                Some(p) => {
                    let p = count(p, "percentage")?;
                    if !(1..=100).contains(&p) {
                        return Err("rollout update: rolling N% needs 1 to 100".into());
                    }
                    Strategy::Rolling(BatchSize::Percent(p as u32))
                }
                None => Strategy::Rolling(BatchSize::Count(count(n, "batch size")?)),
            },
            ["canary", n] => Strategy::Canary(count(n, "canary count")?),
            _ => {
                return Err(format!(
                    "rollout update: unknown strategy `{value}` (all, rolling N, rolling N%, canary N)"
                ));
            }
        };
        if matches!(
            strategy,
            Strategy::Rolling(BatchSize::Count(0)) | Strategy::Canary(0)
        ) {
            return Err("rollout update: a batch holds at least 1 pup".into());
        }
    }
    let a = crate::parse::split_args(
        "rollout",
        &rest,
        &["soak", "health", "health-within", "max-failures", "within"],
        &["strict"],
    )?;
    let [t] = a.positional.as_slice() else {
        return Err(
            "usage: rollout update V|CHANGES [--strategy all | rolling N | rolling N% | canary N] \
             [--soak D] [--health REGEX [--health-within D]] [--max-failures K] [--within D] [--strict]"
                .into(),
        );
    };
    let target = match t.parse::<u64>() {
        Ok(v) => UpdateTarget::Version(v),
        Err(_) => UpdateTarget::Changes(t.clone()),
    };
    let health = a.opt("health").map(str::to_string);
    if let Some(h) = &health {
        Regex::new(h).map_err(|e| format!("rollout update: --health {h:?}: {e}"))?;
    }
    if a.has("health-within") && health.is_none() {
        return Err("rollout update: --health-within needs --health REGEX".into());
    }
    let soak = a.opt("soak").map(duration).transpose()?;
    if soak.is_some() && !matches!(strategy, Strategy::Canary(_)) {
        return Err("rollout update: --soak goes with --strategy canary N".into());
    }
    Ok(UpdateOpts {
        target,
        strategy,
        soak,
        health,
        health_within: a
            .opt("health-within")
            .map(duration)
            .transpose()?
            .unwrap_or(HEALTH_WITHIN),
        max_failures: a
            .opt("max-failures")
            .map(|k| count(k, "--max-failures"))
            .transpose()?
            .unwrap_or(0),
        within: a.opt("within").map(duration).transpose()?,
        strict: a.has("strict"),
    })
}

/// Runs `rollout`.
pub fn run(ctx: &mut Ctx<'_>, cmd: RolloutCmd) -> CmdResult {
    match cmd {
        RolloutCmd::Load { version, source } => fleet::load(ctx, version, &source),
        RolloutCmd::Run(v) => fleet::run_all(ctx, v),
        RolloutCmd::Stop => fleet::stop_all(ctx),
        RolloutCmd::Status => fleet::list(ctx),
        RolloutCmd::Update(o) => update(ctx, &o),
    }
}

/// The batches of a rollout over `n` pups, as lists of indices.
pub fn batches(strategy: Strategy, n: usize) -> Vec<Vec<usize>> {
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

/// The update of one pup, on its own connection.
fn update_one(job: &Job<'_>, m: &Member) -> (End, String) {
    let mut link = match job.dial.dial(&m.name, m.host.as_deref()) {
        Ok(l) => l,
        Err(e) => return (End::Failed(format!("unreachable: {e}")), "?".into()),
    };
    let end = drive(job, &mut *link);
    let version = match link.call(Request::Status) {
        Ok(Response::Status(s)) => version_words(&s),
        _ => "?".into(),
    };
    if job.health.is_some() && !link.is_closed() {
        let _ = link.call(Request::Output { on: false });
    }
    link.close();
    (end, version)
}

fn lost(e: &str) -> End {
    End::Failed(format!("lost the pup: {e}"))
}

/// Begins the update, waits for its end, then for the health line.
fn drive(job: &Job<'_>, link: &mut dyn Link) -> End {
    if job.health.is_some() {
        match link.call(Request::Output { on: true }) {
            Ok(Response::Error(e)) => return End::Failed(e),
            Ok(_) => {}
            Err(e) => return lost(&e),
        }
    }
    let info = match link.call(Request::Update(job.spec.clone())) {
        Ok(Response::UpdateBegun(i)) => i,
        Ok(Response::WouldReset(r)) => return End::Failed(crate::format::would_reset(&r)),
        Ok(Response::Error(e)) => return End::Failed(e),
        Ok(r) => return End::Failed(format!("unexpected answer: {r:?}")),
        Err(e) => return lost(&e),
    };
    let to = info.to;
    let mut errors: Vec<String> = info
        .failed
        .iter()
        .map(|f| format!("{}: {}", f.members.join(" "), f.error))
        .collect();
    let deadline = job.within.map(|w| Instant::now() + w + WITHIN_SLACK);
    let mut abort_deadline: Option<Instant> = None;
    let (applied, not_applied) = loop {
        if job.interrupted() {
            return End::Interrupted;
        }
        if job.halted() && abort_deadline.is_none() {
            abort_deadline = Some(Instant::now() + ABORT_WAIT);
            if let Err(e) = link.call(Request::Abort) {
                return lost(&e);
            }
        }
        let now = Instant::now();
        if abort_deadline.is_some_and(|d| now >= d) {
            return End::Aborted(
                "aborted (the rollout halted); the pup did not say what it applied".into(),
            );
        }
        if deadline.is_some_and(|d| now >= d) {
            return End::Failed(format!(
                "the update did not end within {}",
                human(job.within.unwrap_or_default())
            ));
        }
        match link.recv_notice(TICK) {
            Some(Notice::UpdateComplete(e)) if e.to == to => {
                // The pup's reason for each abandoned group comes first.
                errors.splice(0..0, e.not_applied.iter().map(|g| g.why.to_string()));
                let not_applied: Vec<Vec<String>> =
                    e.not_applied.into_iter().map(|g| g.members).collect();
                break (e.applied, not_applied);
            }
            Some(Notice::GroupFailed { members, error, .. }) => {
                errors.push(format!("{}: {error}", members.join(" ")))
            }
            Some(Notice::Exited { message, .. }) => {
                return End::Failed(format!("the program ended during the update: {message}"));
            }
            Some(_) => {}
            None if link.is_closed() => return lost("the connection closed during the update"),
            None => {}
        }
    };
    let groups = |g: &[Vec<String>]| g.iter().map(|m| m.join(" ")).collect::<Vec<_>>().join("; ");
    if abort_deadline.is_some() {
        return End::Aborted(format!(
            "aborted (the rollout halted): {} of {} applied",
            plural(applied.len(), "group"),
            applied.len() + not_applied.len()
        ));
    }
    if !not_applied.is_empty() {
        let how = if applied.is_empty() {
            "nothing applied".to_string()
        } else {
            format!("partial: applied {}", groups(&applied))
        };
        let why = if errors.is_empty() {
            String::new()
        } else {
            format!(" ({})", errors.join("; "))
        };
        return End::Failed(format!("{how}; not applied: {}{why}", groups(&not_applied)));
    }
    let Some(re) = &job.health else {
        return End::Done;
    };
    let end = Instant::now() + job.health_within;
    let mut partial: Vec<u8> = Vec::new();
    loop {
        if job.interrupted() {
            return End::Interrupted;
        }
        let now = Instant::now();
        if now >= end {
            return End::Failed(format!(
                "no output line matched {:?} within {} after the update; the update applied, \
                 so the pup stays on version {to} (nothing moves it back)",
                re.as_str(),
                human(job.health_within)
            ));
        }
        match link.recv_notice((end - now).min(TICK)) {
            Some(Notice::Output(bytes)) => {
                partial.extend_from_slice(&bytes);
                while let Some(pos) = partial.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = partial.drain(..=pos).collect();
                    if re.is_match(&String::from_utf8_lossy(&line)) {
                        return End::Done;
                    }
                }
                if partial.len() > MAX_LINE {
                    partial.clear();
                }
            }
            Some(Notice::Exited { message, .. }) => {
                return End::Failed(format!(
                    "the program ended after the update (to version {to}): {message}"
                ));
            }
            Some(_) => {}
            None if link.is_closed() => return lost("the connection closed after the update"),
            None => {}
        }
    }
}

/// The soak: each canary must keep its program running for `d`.
fn soak_one(job: &Job<'_>, m: &Member, d: Duration) -> Option<String> {
    let mut link = match job.dial.dial(&m.name, m.host.as_deref()) {
        Ok(l) => l,
        Err(e) => return Some(format!("unreachable during the soak: {e}")),
    };
    let end = Instant::now() + d;
    let mut failed = None;
    while failed.is_none() && !job.interrupted() {
        let now = Instant::now();
        if now >= end {
            break;
        }
        match link.recv_notice((end - now).min(TICK)) {
            Some(Notice::Exited { message, .. }) => {
                failed = Some(format!("the program ended during the soak: {message}"))
            }
            Some(_) => {}
            None if link.is_closed() => failed = Some("lost the pup during the soak".into()),
            None => {}
        }
    }
    if failed.is_none() && !job.interrupted() {
        failed = match link.call(Request::Status) {
            Ok(Response::Status(s)) if s.program.starts_with("running") => None,
            Ok(Response::Status(s)) => Some(format!("after the soak its program is {}", s.program)),
            Ok(r) => Some(format!("unexpected answer after the soak: {r:?}")),
            Err(e) => Some(format!("lost the pup during the soak: {e}")),
        };
    }
    link.close();
    failed
}

/// Progress: a bar on a terminal, plain lines in scripts.
struct Progress {
    bar: Option<ProgressBar>,
    last: Option<Instant>,
    shown: String,
}

impl Progress {
    fn new(on_terminal: bool, n: usize) -> Progress {
        let bar = on_terminal.then(|| {
            let b = ProgressBar::new(n as u64);
            if let Ok(style) =
                ProgressStyle::with_template("rollout [{bar:30}] {pos}/{len} {msg} ({elapsed})")
            {
                b.set_style(style.progress_chars("=> "));
            }
            b.enable_steady_tick(Duration::from_millis(200));
            b
        });
        Progress {
            bar,
            last: None,
            shown: String::new(),
        }
    }

    /// Shows the counts; a plain line at most every [`PROGRESS_EVERY`]
    /// unless `force`, and only when they changed.
    fn show(&mut self, ctx: &mut Ctx<'_>, rows: &[Row], in_flight: usize, force: bool) {
        let done = rows
            .iter()
            .filter(|r| matches!(r.end, Some(End::Done) | Some(End::Already(_))))
            .count();
        let failed = rows
            .iter()
            .filter(|r| matches!(&r.end, Some(e) if e.failed() || *e == End::Interrupted))
            .count();
        let waiting = rows.len() - done - failed - in_flight;
        let text =
            format!("{done} done, {failed} failed, {in_flight} in flight, {waiting} waiting");
        if let Some(b) = &self.bar {
            b.set_position((done + failed) as u64);
            b.set_message(text);
            return;
        }
        if text == self.shown {
            return;
        }
        if !force && self.last.is_some_and(|t| t.elapsed() < PROGRESS_EVERY) {
            return;
        }
        ctx.line(&format!("rollout progress: {text}"));
        self.shown = text;
        self.last = Some(Instant::now());
    }

    /// A line of news, above the bar.
    fn note(&mut self, ctx: &mut Ctx<'_>, text: &str) {
        match &self.bar {
            Some(b) => b.println(text),
            None => ctx.line(text),
        }
    }

    fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<RolloutCmd, String> {
        let w: Vec<String> = crate::parse::split_words(s).unwrap();
        parse(&w[1..])
    }

    fn upd(s: &str) -> UpdateOpts {
        match p(s).unwrap() {
            RolloutCmd::Update(o) => o,
            c => panic!("{c:?}"),
        }
    }

    #[test]
    fn parses_strategies_and_gates() {
        let o = upd("rollout update 2 --strategy rolling 4 --health 'v2 step' --health-within 3s");
        assert_eq!(o.target, UpdateTarget::Version(2));
        assert_eq!(o.strategy, Strategy::Rolling(BatchSize::Count(4)));
        assert_eq!(o.health.as_deref(), Some("v2 step"));
        assert_eq!(o.health_within, Duration::from_secs(3));
        assert_eq!(o.max_failures, 0);
        let o = upd("rollout update x.changes --strategy=all --max-failures 2");
        assert_eq!(o.target, UpdateTarget::Changes("x.changes".into()));
        assert_eq!(o.strategy, Strategy::All);
        let o = upd("rollout update 3 --strategy 'rolling 25%' --max-failures 2 --within 1m");
        assert_eq!(o.strategy, Strategy::Rolling(BatchSize::Percent(25)));
        assert_eq!(o.max_failures, 2);
        assert_eq!(o.within, Some(Duration::from_secs(60)));
        let o = upd("rollout update 3 --strategy canary 2 --soak 5s");
        assert_eq!(o.strategy, Strategy::Canary(2));
        assert_eq!(o.soak, Some(Duration::from_secs(5)));
        assert_eq!(upd("rollout update 2").health_within, HEALTH_WITHIN);
    }

    #[test]
    fn rejects_bad_rollouts_before_anything_is_sent() {
        let e = |s: &str| p(s).unwrap_err();
        assert!(e("rollout update 2 --strategy rolling").contains("needs N"));
        assert!(e("rollout update 2 --strategy rolling 0").contains("at least 1"));
        assert!(e("rollout update 2 --strategy blue-green").contains("unknown strategy"));
        assert!(e("rollout update 2 --strategy rolling 200%").contains("1 to 100"));
        assert!(e("rollout update 2 --soak 5s").contains("canary"));
        assert!(e("rollout update 2 --health '('").contains("--health"));
        assert!(e("rollout update 2 --health-within 2s").contains("needs --health"));
        assert!(e("rollout update").contains("usage"));
        assert!(e("rollout frob").contains("unknown subcommand"));
        assert!(e("rollout load 1").contains("usage"));
        assert!(e("rollout update 2 --max-failures x").contains("not a number"));
        assert_eq!(
            p("rollout load 2 a.uc").unwrap(),
            RolloutCmd::Load {
                version: 2,
                source: crate::parse::LoadSource::Source("a.uc".into())
            }
        );
        assert_eq!(p("rollout run").unwrap(), RolloutCmd::Run(None));
    }

    #[test]
    fn batches_follow_the_strategy() {
        assert_eq!(batches(Strategy::All, 3), vec![vec![0, 1, 2]]);
        assert_eq!(
            batches(Strategy::Rolling(BatchSize::Count(4)), 10),
            vec![vec![0, 1, 2, 3], vec![4, 5, 6, 7], vec![8, 9]]
        );
        assert_eq!(
            batches(Strategy::Rolling(BatchSize::Percent(25)), 10).len(),
            4,
            "25% of 10 is 3 (rounded up): 3+3+3+1"
        );
        assert_eq!(
            batches(Strategy::Canary(1), 3),
            vec![vec![0], vec![1], vec![2]]
        );
        assert!(batches(Strategy::All, 0).is_empty());
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human(Duration::from_millis(250)), "250ms");
        assert_eq!(human(Duration::from_secs(3)), "3s");
        assert_eq!(human(Duration::from_millis(1500)), "1.5s");
        assert_eq!(human(Duration::from_secs(125)), "2m 5s");
    }
}
