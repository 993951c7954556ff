//! Testing an update before it is applied (SPEC §4.2.2, `test-update`).
//!
//! A test run is an ordinary VM with two differences, both set by
//! [`crate::Vm::set_test_mode`]: time is virtual (`sleep_ms` advances a
//! per-run clock at once, `now_ms` reads it, and the run stops cleanly when
//! the clock reaches its horizon), and every safepoint poll fails (a request
//! bit stays set), so that the host sees and counts every safepoint of the
//! program thread. Since nothing else in a UC program is nondeterministic, a
//! run is a function of its program, and safepoint k of one run is the same
//! moment as safepoint k of another run of the same program.
//!
//! An update is begun at safepoint k on the program thread itself, through
//! the engine's ordinary `plan` and `begin` (groups, return barriers,
//! mprocedures, interprocedures: nothing is special-cased), exactly as if the
//! control thread had paused the program there. A `within` deadline counts in
//! virtual time.
//!
//! Invariants:
//! - the test mode touches the engine only from the program thread, at a
//!   safepoint or a return barrier, with the state lock held;
//! - a run's safepoint count, clock and output depend only on the programs,
//!   the update request and the point: two runs of one point print the same.

use crate::engine::{self, UpdateRequest};
use crate::ids::VersionNo;
use crate::layout::SegType;
use crate::runtime::ExitStatus;
use crate::{FrameInfo, Shared, State, Vm, VmConfig};
use compiler::ir::Module;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Safepoints a run may reach before it is stopped as runaway (virtual
/// time advances only in `sleep_ms`, so a program that never sleeps never
/// reaches its horizon).
pub const MAX_SAFEPOINTS: u64 = 20_000_000;
/// Output bytes a run may print before it is stopped.
pub const MAX_OUTPUT: usize = 64 << 20;
/// Wall-clock limit of one run (a safety net; runs are fast).
pub const WALL_LIMIT: Duration = Duration::from_secs(600);

/// The test-mode state of one VM (one run).
pub struct TestMode {
    clock: AtomicU64,
    horizon: u64,
    half: u64,
    count: AtomicU64,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    before_half: u64,
    max_safepoints: u64,
    update_at: Option<u64>,
    request: Option<UpdateRequest>,
    dry_run: Option<UpdateRequest>,
    plan_error: Option<String>,
    capped: bool,
    at_horizon: bool,
    begun: Option<Begun>,
    deadline: Option<u64>,
    waiting: Vec<(VersionNo, Vec<String>)>,
    commits: Vec<Commit>,
    end: Option<End>,
}

/// Where and how the update began.
#[derive(Clone, Debug, PartialEq)]
pub struct Begun {
    /// The safepoint.
    pub point: u64,
    /// Virtual time there, ms.
    pub clock_ms: u64,
    /// The stack, innermost first (`v1:proc:mix_ingredients`).
    pub stack: Vec<String>,
    /// Changed procedures committed at once.
    pub committed: Vec<String>,
    /// Groups left waiting.
    pub waiting: Vec<Vec<String>>,
    /// Groups whose prepare failed: (members, error).
    pub failed: Vec<(Vec<String>, String)>,
}

/// A waiting group that stopped waiting.
#[derive(Clone, Debug, PartialEq)]
pub struct Commit {
    /// The last safepoint reached before it happened.
    pub point: u64,
    /// Virtual time, ms.
    pub clock_ms: u64,
    /// Its members.
    pub members: Vec<String>,
    /// Committed (else abandoned or failed).
    pub applied: bool,
}

#[derive(Clone, Debug)]
struct End {
    waiting: Vec<Vec<String>>,
}

fn frame_name(f: &FrameInfo) -> String {
    match f.kind {
        SegType::Proc => format!("v{}:{}", f.version, f.name),
        k => format!("v{}:{}:{}", f.version, k.short(), f.name),
    }
}

impl TestMode {
    /// A run that stops when virtual time reaches `horizon_ms`, counting
    /// the safepoints reached before `half_ms`.
    pub fn new(horizon_ms: u64, half_ms: u64) -> TestMode {
        TestMode {
            clock: AtomicU64::new(0),
            horizon: horizon_ms,
            half: half_ms,
            count: AtomicU64::new(0),
            inner: Mutex::new(Inner {
                max_safepoints: MAX_SAFEPOINTS,
                ..Inner::default()
            }),
        }
    }

    fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Begin `req` at safepoint `k` (1-based).
    pub fn update_at(&self, k: u64, req: UpdateRequest) {
        let mut i = self.inner();
        i.update_at = Some(k);
        i.request = Some(req);
    }

    /// Check at the first safepoint that `req` can be planned (without
    /// beginning it); a run whose plan fails stops there.
    pub fn dry_run(&self, req: UpdateRequest) {
        self.inner().dry_run = Some(req);
    }

    /// Stop the run as runaway after `n` safepoints.
    pub fn max_safepoints(&self, n: u64) {
        self.inner().max_safepoints = n;
    }

    /// The virtual clock, ms.
    pub fn now(&self) -> i64 {
        self.clock.load(SeqCst) as i64
    }

    /// `sleep_ms(ms)`: the time passes at once; at the horizon the run stops.
    pub(crate) fn advance(&self, ms: i64) -> Result<(), ExitStatus> {
        let t = self.clock.load(SeqCst).saturating_add(ms.max(0) as u64);
        if t >= self.horizon {
            self.clock.store(self.horizon, SeqCst);
            self.inner().at_horizon = true;
            return Err(ExitStatus::Stopped);
        }
        self.clock.store(t, SeqCst);
        Ok(())
    }

    /// Every safepoint of the program thread (state lock held).
    pub(crate) fn at_safepoint(
        &self,
        sh: &Shared,
        st: &mut State,
        fp: u64,
        pc: u64,
    ) -> Result<(), ExitStatus> {
        let n = self.count.fetch_add(1, SeqCst) + 1;
        let clock = self.clock.load(SeqCst);
        let mut i = self.inner();
        if clock < self.half {
            i.before_half = n;
        }
        if n > i.max_safepoints {
            i.capped = true;
            return Err(ExitStatus::Stopped);
        }
        if let Some(req) = i.dry_run.take()
            && let Err(e) = engine::plan(st, &req)
        {
            i.plan_error = Some(e.to_string());
            return Err(ExitStatus::Stopped);
        }
        if i.update_at == Some(n) {
            let req = i.request.take().unwrap_or_default();
            let plan = match engine::plan(st, &req) {
                Ok(p) => p,
                Err(e) => {
                    i.plan_error = Some(e.to_string());
                    return Err(ExitStatus::Stopped);
                }
            };
            let b = engine::begin(sh, st, Some((fp, pc)), plan, req.within);
            i.deadline = req
                .within
                .map(|w| clock.saturating_add(w.as_millis() as u64));
            i.waiting = waiting(st);
            i.begun = Some(Begun {
                point: n,
                clock_ms: clock,
                stack: b.backtrace.iter().map(frame_name).collect(),
                committed: b.committed,
                waiting: b.pending,
                failed: b.failed,
            });
        }
        if i.deadline.is_some_and(|d| clock >= d) && !st.engine.pending.is_empty() {
            i.deadline = None;
            engine::abandon(sh, st, None, engine::AbandonReason::Within);
        }
        self.observe_locked(&mut i, st);
        Ok(())
    }

    /// Note groups that stopped waiting (after a return barrier's recheck).
    pub(crate) fn observe(&self, st: &State) {
        let mut i = self.inner();
        self.observe_locked(&mut i, st);
    }

    fn observe_locked(&self, i: &mut Inner, st: &State) {
        let now: usize = st.engine.pending.iter().map(|u| u.groups.len()).sum();
        if now == i.waiting.len() {
            return;
        }
        let still = waiting(st);
        let point = self.count.load(SeqCst);
        let clock_ms = self.clock.load(SeqCst);
        for (to, members) in std::mem::take(&mut i.waiting) {
            if still.iter().any(|(t, m)| *t == to && *m == members) {
                continue;
            }
            let applied = members.iter().all(|p| {
                st.names
                    .id(p)
                    .and_then(|id| st.engine.cur.get(&crate::binding::ProcId(id)))
                    .is_some_and(|&c| c >= to)
            });
            i.commits.push(Commit {
                point,
                clock_ms,
                members,
                applied,
            });
        }
        i.waiting = still;
    }

    /// The program thread is about to finish (before the exit commits
    /// whatever waits).
    pub(crate) fn at_end(&self, st: &State) {
        let mut i = self.inner();
        self.observe_locked(&mut i, st);
        i.end = Some(End {
            waiting: i.waiting.iter().map(|(_, m)| m.clone()).collect(),
        });
    }
}

fn waiting(st: &State) -> Vec<(VersionNo, Vec<String>)> {
    st.engine
        .pending
        .iter()
        .flat_map(|u| u.groups.iter().map(|g| (u.to, g.names.clone())))
        .collect()
}

/// One program version to test: its file name, source and compiled module.
#[derive(Clone)]
pub struct Program {
    /// As the user named it.
    pub file: String,
    /// Its source (for line:column in runtime errors).
    pub source: String,
    /// The compiled module.
    pub module: Module,
}

/// Says whether an output line starts a record (`--records REGEX`).
pub type RecordStart = Arc<dyn Fn(&str) -> bool + Send + Sync>;

/// What `test-update` tests.
#[derive(Clone)]
pub struct Config {
    /// The running version.
    pub old: Program,
    /// The version the update goes to.
    pub new: Program,
    /// The changes file's name, for messages (`None`: computed changes).
    pub changes_file: Option<String>,
    /// The update (from the changes file, or computed changes).
    pub request: UpdateRequest,
    /// `--for`: virtual time of an updated run, ms.
    pub run_for_ms: u64,
    /// `--points`: at most this many update points.
    pub points: usize,
    /// `--allow-pending`: an update still pending at the end is reported only.
    pub allow_pending: bool,
    /// `--records`.
    pub record_start: RecordStart,
    /// The text of `--records`, for messages.
    pub records_text: String,
    /// Runs at once (default: the cores).
    pub threads: usize,
    /// Per-run runaway limit.
    pub max_safepoints: u64,
    /// Stack size of the program thread.
    pub stack_size: usize,
}

/// Which run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Which {
    /// OLD alone, for twice `--for`.
    Old,
    /// NEW alone, for twice `--for`.
    New,
    /// OLD with the update begun at this safepoint, for `--for`.
    Update(u64),
}

/// The outcome of one run.
#[derive(Clone, Debug)]
pub struct Run {
    /// Everything the program printed.
    pub output: Vec<u8>,
    /// How the program thread ended (`Stopped` at the horizon).
    pub status: ExitStatus,
    /// Virtual time at the end, ms.
    pub clock_ms: u64,
    /// Safepoints reached.
    pub safepoints: u64,
    /// Safepoints reached while the clock was below the half mark.
    pub before_half: u64,
    /// Where the update began.
    pub begun: Option<Begun>,
    /// Groups that stopped waiting later.
    pub commits: Vec<Commit>,
    /// Groups still waiting when the run ended.
    pub waiting_at_end: Vec<Vec<String>>,
    /// The run reached its horizon.
    pub at_horizon: bool,
    /// The run reached [`MAX_SAFEPOINTS`].
    pub capped: bool,
    /// The output limit was reached.
    pub output_capped: bool,
    /// The update could not be planned (why).
    pub plan_error: Option<String>,
}

impl Run {
    /// The program ended by itself (returned or called `exit`).
    pub fn ended(&self) -> bool {
        matches!(self.status, ExitStatus::Returned | ExitStatus::Exit(_))
    }
}

/// Run one test run to its end.
pub fn run_one(cfg: &Config, which: Which) -> Result<Run, String> {
    let f = cfg.run_for_ms;
    let (horizon, half) = match which {
        Which::Old | Which::New => (f.saturating_mul(2), f / 2),
        Which::Update(_) => (f, f / 2),
    };
    let out = Arc::new(Mutex::new(Vec::<u8>::new()));
    let over = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (o2, ov2) = (out.clone(), over.clone());
    let config = VmConfig {
        stack_size: cfg.stack_size,
        output: Arc::new(move |b: &[u8]| {
            let mut o = o2.lock().unwrap_or_else(|p| p.into_inner());
            if o.len() + b.len() > MAX_OUTPUT {
                ov2.store(true, SeqCst);
            } else {
                o.extend_from_slice(b);
            }
        }),
        ..VmConfig::default()
    };
    let vm = Vm::new(config).map_err(|e| format!("cannot set up a VM: {e}"))?;
    vm.load(VersionNo(1), cfg.old.module.clone(), Some(&cfg.old.source))
        .map_err(|e| format!("OLD {} does not load: {e}", cfg.old.file))?;
    vm.load(VersionNo(2), cfg.new.module.clone(), Some(&cfg.new.source))
        .map_err(|e| {
            format!(
                "NEW {} does not fit OLD {}: {e}",
                cfg.new.file, cfg.old.file
            )
        })?;
    let mode = Arc::new(TestMode::new(horizon, half));
    mode.max_safepoints(cfg.max_safepoints);
    match which {
        Which::Old => mode.dry_run(cfg.request.clone()),
        Which::New => {}
        Which::Update(k) => mode.update_at(k, cfg.request.clone()),
    }
    vm.set_test_mode(mode.clone()).map_err(|e| e.to_string())?;
    vm.run(Some(if which == Which::New {
        VersionNo(2)
    } else {
        VersionNo(1)
    }))
    .map_err(|e| e.to_string())?;
    let t0 = Instant::now();
    let status = loop {
        if over.load(SeqCst) {
            vm.stop();
        }
        if let Some(s) = vm.wait_exit(Duration::from_millis(200)) {
            break s;
        }
        if t0.elapsed() > WALL_LIMIT {
            vm.stop();
            return Err(format!(
                "a test run took longer than {} s of real time",
                WALL_LIMIT.as_secs()
            ));
        }
    };
    drop(vm);
    let output = std::mem::take(&mut *out.lock().unwrap_or_else(|p| p.into_inner()));
    let mut i = mode.inner();
    let end = i.end.take();
    Ok(Run {
        output,
        status,
        clock_ms: mode.clock.load(SeqCst),
        safepoints: mode.count.load(SeqCst),
        before_half: i.before_half,
        begun: i.begun.take(),
        commits: std::mem::take(&mut i.commits),
        waiting_at_end: end.map(|e| e.waiting).unwrap_or_default(),
        at_horizon: i.at_horizon,
        capped: i.capped,
        output_capped: over.load(SeqCst),
        plan_error: i.plan_error.take(),
    })
}

/// Output cut into records: (first line number, 1-based; bytes).
pub fn records<'a>(out: &'a [u8], start: &dyn Fn(&str) -> bool) -> Vec<(usize, &'a [u8])> {
    let mut recs = Vec::new();
    let mut begin = 0;
    let mut begin_line = 1;
    let mut pos = 0;
    let mut line = 1;
    while pos < out.len() {
        let end = out[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(out.len(), |e| pos + e + 1);
        let text = String::from_utf8_lossy(&out[pos..end]);
        if pos > begin && start(text.trim_end_matches(['\n', '\r'])) {
            recs.push((begin_line, &out[begin..pos]));
            begin = pos;
            begin_line = line;
        }
        pos = end;
        line += 1;
    }
    if begin < out.len() {
        recs.push((begin_line, &out[begin..]));
    }
    recs
}

/// The verdict on one update point.
#[derive(Clone, Debug)]
pub struct PointResult {
    /// The safepoint number.
    pub point: u64,
    /// Stack and waiting groups at the point (the distinct-state key).
    pub state: (Vec<String>, Vec<Vec<String>>),
    /// Why it failed (`None`: passed).
    pub failure: Option<String>,
    /// Only noted (`--allow-pending`).
    pub note: Option<String>,
    /// The first offending record, with its index and line.
    pub offending: Option<(usize, usize, String)>,
    /// The run (without its output, which was judged and dropped).
    pub run: Run,
}

/// What `test-update` found.
#[derive(Clone, Debug)]
pub struct Summary {
    /// Points tested.
    pub tested: usize,
    /// Distinct states among them.
    pub distinct: usize,
    /// Points that failed.
    pub failed: usize,
    /// Every point, in order.
    pub points: Vec<PointResult>,
    /// Safepoints the OLD run reaches in the first half of `--for`.
    pub candidates: u64,
}

impl Summary {
    /// The summary line.
    pub fn line(&self) -> String {
        format!(
            "test-update: {} update points tested ({} distinct states): {} failed",
            self.tested, self.distinct, self.failed
        )
    }
}

fn secs(ms: u64) -> String {
    format!("{}.{:03}s", ms / 1000, ms % 1000)
}

fn describe_trap(what: &str, cfg: &Config, st: &ExitStatus) -> Option<String> {
    match st {
        ExitStatus::Error(e) => Some(format!(
            "the {what} reference run traps: {e}fix {} or give a shorter --for",
            if what == "OLD" {
                &cfg.old.file
            } else {
                &cfg.new.file
            }
        )),
        ExitStatus::TimedOut => Some(format!("the {what} reference run timed out")),
        _ => None,
    }
}

/// Choose at most `n` of the points `1..=p`, spread evenly: one in each
/// of `n` equal strata, at an offset within the stratum that varies from
/// one stratum to the next (the golden-ratio sequence). A fixed offset
/// would alias with a program's period: pizza's 8 safepoints per pizza and
/// a stride that is a multiple of 8 would try one state only.
pub fn choose_points(p: u64, n: usize) -> Vec<u64> {
    let n = n as u64;
    if p <= n {
        return (1..=p).collect();
    }
    const PHI_FRAC: f64 = 0.618_033_988_749_895;
    (0..n)
        .map(|i| {
            let (lo, hi) = (i * p / n, (i + 1) * p / n);
            let off = ((i as f64 * PHI_FRAC).fract() * (hi - lo) as f64) as u64;
            1 + lo + off.min(hi - lo - 1)
        })
        .collect()
}

/// Run the reference runs, then one updated run per chosen point (on
/// `cfg.threads` threads), check the records and write the report to `out`.
pub fn test_update(cfg: &Config, out: &mut dyn Write) -> Result<Summary, String> {
    let (old, new) = std::thread::scope(|s| {
        let o = s.spawn(|| run_one(cfg, Which::Old));
        let n = s.spawn(|| run_one(cfg, Which::New));
        (
            o.join()
                .unwrap_or_else(|_| Err("the OLD run panicked".into())),
            n.join()
                .unwrap_or_else(|_| Err("the NEW run panicked".into())),
        )
    });
    let (old, new) = (old?, new?);
    if let Some(e) = &old.plan_error {
        return Err(match &cfg.changes_file {
            Some(c) => format!(
                "the update {c} does not fit {} -> {}: {e}; fix {c}",
                cfg.old.file, cfg.new.file
            ),
            None => format!(
                "NEW {} does not fit OLD {}: {e}",
                cfg.new.file, cfg.old.file
            ),
        });
    }
    for (what, r) in [("OLD", &old), ("NEW", &new)] {
        if let Some(e) = describe_trap(what, cfg, &r.status) {
            return Err(e);
        }
        if r.capped {
            return Err(format!(
                "the {what} reference run reached {} safepoints at virtual time {} without reaching its horizon ({}): virtual time advances only in sleep_ms; give a shorter --for or a program that sleeps",
                cfg.max_safepoints,
                secs(r.clock_ms),
                secs(cfg.run_for_ms * 2)
            ));
        }
        if r.output_capped {
            return Err(format!(
                "the {what} reference run printed more than {} MiB; give a shorter --for",
                MAX_OUTPUT >> 20
            ));
        }
    }
    if !old
        .output
        .split(|&b| b == b'\n')
        .any(|l| (cfg.record_start)(&String::from_utf8_lossy(l)))
    {
        return Err(format!(
            "--records {:?} matches no line of what OLD {} prints in {}, so there would be no records to check; give a regular expression that matches the first line of each record",
            cfg.records_text,
            cfg.old.file,
            secs(cfg.run_for_ms * 2)
        ));
    }
    let candidates = old.before_half;
    if candidates == 0 {
        return Err(format!(
            "OLD {} reaches no safepoint before {} of virtual time, so there is nowhere to begin the update; give a longer --for",
            cfg.old.file,
            secs(cfg.run_for_ms / 2)
        ));
    }
    let chosen = choose_points(candidates, cfg.points.max(1));
    let ended = if old.ended() {
        format!(" (it ends at {})", secs(old.clock_ms))
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "test-update: OLD {} reaches {candidates} safepoints in the first {} of --for {}{ended}; testing {} of them on {}",
        cfg.old.file,
        secs(cfg.run_for_ms / 2),
        secs(cfg.run_for_ms),
        chosen.len(),
        match cfg.threads.max(1).min(chosen.len()) {
            1 => "1 thread".to_string(),
            n => format!("{n} threads"),
        }
    );
    let _ = out.flush();

    let start = &*cfg.record_start;
    let mut known: HashSet<&[u8]> = HashSet::new();
    let old_recs = records(&old.output, start);
    let new_recs = records(&new.output, start);
    for r in old_recs.iter().chain(new_recs.iter()) {
        known.insert(r.1);
    }

    // The updated runs, in parallel: each thread takes the next point.
    let next = AtomicUsize::new(0);
    // Each run is judged as soon as it ends and its output dropped, so
    // memory does not grow with the number of points.
    let results: Mutex<Vec<Option<Result<PointResult, String>>>> =
        Mutex::new((0..chosen.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..cfg.threads.max(1).min(chosen.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, SeqCst);
                    if i >= chosen.len() {
                        break;
                    }
                    let r = run_one(cfg, Which::Update(chosen[i]))
                        .map(|run| judge(cfg, chosen[i], run, &known));
                    let stop = r.is_err();
                    results.lock().unwrap()[i] = Some(r);
                    if stop {
                        next.store(chosen.len(), SeqCst);
                    }
                }
            });
        }
    });
    let mut points = Vec::with_capacity(chosen.len());
    for r in results.into_inner().unwrap() {
        let Some(r) = r else { continue };
        points.push(r?);
    }

    // Distinct states, and the report: each failing state once in full
    // (its first failing point), then the other points that fail in it.
    let mut first_of: HashMap<&(Vec<String>, Vec<Vec<String>>), usize> = HashMap::new();
    let mut also: HashMap<usize, Vec<String>> = HashMap::new();
    let mut order = Vec::new();
    let mut failed = 0;
    let mut notes = Vec::new();
    for (i, p) in points.iter().enumerate() {
        if let Some(n) = &p.note {
            notes.push(format!("{} ({n})", p.point));
        }
        let Some(why) = &p.failure else { continue };
        failed += 1;
        match first_of.get(&p.state) {
            Some(&f) if points[f].failure.is_some() => {
                let what = match &p.offending {
                    Some((idx, _, _)) => format!("point {} (record {idx})", p.point),
                    None => format!("point {} ({why})", p.point),
                };
                also.entry(f).or_default().push(what);
            }
            _ => {
                first_of.insert(&p.state, i);
                order.push(i);
            }
        }
    }
    for &i in &order {
        let _ = write!(
            out,
            "{}",
            render_failure(cfg, &points[i], candidates, &old_recs, &new_recs)
        );
        if let Some(a) = also.get(&i) {
            let _ = writeln!(
                out,
                "  the same state fails at {} more points: {}",
                a.len(),
                a.join(", ")
            );
        }
    }
    let distinct: HashSet<&(Vec<String>, Vec<Vec<String>>)> =
        points.iter().map(|p| &p.state).collect();
    let distinct = distinct.len();
    if !notes.is_empty() {
        let _ = writeln!(
            out,
            "note: the update was still pending at the end of the run at {} points (allowed by --allow-pending): {}",
            notes.len(),
            notes.join(", ")
        );
    }
    let summary = Summary {
        tested: points.len(),
        distinct,
        failed,
        points,
        candidates,
    };
    let _ = writeln!(out, "{}", summary.line());
    let _ = out.flush();
    Ok(summary)
}

fn judge(cfg: &Config, point: u64, run: Run, known: &HashSet<&[u8]>) -> PointResult {
    let state = match &run.begun {
        Some(b) => (b.stack.clone(), b.waiting.clone()),
        None => (vec![], vec![]),
    };
    let mut failure = None;
    let mut note = None;
    let mut offending = None;
    let recs = records(&run.output, &*cfg.record_start);
    let upto = if run.ended() {
        recs.len()
    } else {
        recs.len().saturating_sub(1)
    };
    if let Some((i, (line, r))) = recs[..upto]
        .iter()
        .enumerate()
        .find(|(_, (_, r))| !known.contains(r))
    {
        offending = Some((i + 1, *line, String::from_utf8_lossy(r).into_owned()));
        failure = Some(format!(
            "record {} (output line {line}) is in neither reference run",
            i + 1
        ));
    }
    if let Some(e) = &run.plan_error {
        failure = Some(format!("the update could not begin: {e}"));
    } else if run.begun.is_none() {
        failure = Some(format!(
            "the run ended at safepoint {} before reaching the update point",
            run.safepoints
        ));
    }
    if let ExitStatus::Error(e) = &run.status {
        failure = Some(format!("the run traps: {}", e.message));
    }
    let abandoned: Vec<&Commit> = run.commits.iter().filter(|c| !c.applied).collect();
    let failed_at_begin = run.begun.as_ref().map_or(0, |b| b.failed.len());
    if failure.is_none() && (failed_at_begin > 0 || !abandoned.is_empty()) {
        let mut what: Vec<String> = run
            .begun
            .iter()
            .flat_map(|b| b.failed.iter())
            .map(|(m, e)| format!("{{{}}}: {e}", m.join(" ")))
            .collect();
        what.extend(
            abandoned
                .iter()
                .map(|c| format!("{{{}}} at safepoint {}", c.members.join(" "), c.point)),
        );
        let msg = format!("the update was not applied in full: {}", what.join("; "));
        if abandoned.len() == what.len() && cfg.allow_pending {
            note = Some(msg);
        } else {
            failure = Some(msg);
        }
    }
    if failure.is_none() && !run.waiting_at_end.is_empty() && !run.ended() {
        let w: Vec<String> = run
            .waiting_at_end
            .iter()
            .map(|m| format!("{{{}}}", m.join(" ")))
            .collect();
        let msg = format!(
            "the update is still pending at the end of the run ({}): {} waiting",
            secs(run.clock_ms),
            w.join(" ")
        );
        if cfg.allow_pending {
            note = Some(msg);
        } else {
            failure = Some(msg);
        }
    }
    let mut run = run;
    run.output = Vec::new();
    PointResult {
        point,
        state,
        failure,
        note,
        offending,
        run,
    }
}

/// How alike two records are: shared lines, then common prefix length.
fn likeness(a: &[u8], b: &[u8]) -> (usize, usize) {
    let la: Vec<&[u8]> = a.split(|&c| c == b'\n').filter(|l| !l.is_empty()).collect();
    let mut lb: Vec<&[u8]> = b.split(|&c| c == b'\n').filter(|l| !l.is_empty()).collect();
    let mut shared = 0;
    for l in la {
        if let Some(i) = lb.iter().position(|x| *x == l) {
            lb.swap_remove(i);
            shared += 1;
        }
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    (shared, prefix)
}

fn nearest<'a>(rec: &[u8], idx: usize, recs: &'a [(usize, &'a [u8])]) -> Option<(usize, &'a [u8])> {
    recs.iter()
        .enumerate()
        .max_by_key(|(i, (_, r))| {
            let (s, p) = likeness(rec, r);
            (s, p, usize::MAX - i.abs_diff(idx))
        })
        .map(|(i, (_, r))| (i + 1, *r))
}

fn quote(text: &[u8]) -> String {
    let mut s = String::new();
    let t = String::from_utf8_lossy(text);
    for (n, l) in t.trim_end_matches('\n').lines().enumerate() {
        if n == 20 {
            s.push_str("    | ...\n");
            break;
        }
        s.push_str("    | ");
        s.push_str(l);
        s.push('\n');
    }
    s
}

fn render_failure(
    cfg: &Config,
    p: &PointResult,
    candidates: u64,
    old_recs: &[(usize, &[u8])],
    new_recs: &[(usize, &[u8])],
) -> String {
    let mut s = String::new();
    let why = p.failure.as_deref().unwrap_or("");
    let at = p
        .run
        .begun
        .as_ref()
        .map(|b| format!(", virtual time {}", secs(b.clock_ms)))
        .unwrap_or_default();
    s.push_str(&format!(
        "FAIL point {} (safepoint {} of {candidates}{at}): {why}\n",
        p.point, p.point
    ));
    if let Some(b) = &p.run.begun {
        let mut stack: Vec<&str> = b.stack.iter().map(String::as_str).collect();
        stack.reverse();
        s.push_str(&format!("  stack: {}\n", stack.join(" > ")));
        let committed = if b.committed.is_empty() {
            "nothing".to_string()
        } else {
            b.committed.join(" ")
        };
        let waiting: Vec<String> = b
            .waiting
            .iter()
            .map(|m| format!("{{{}}}", m.join(" ")))
            .collect();
        s.push_str(&format!(
            "  safepoint {}: update begins; committed at once: {committed}; waiting: {}\n",
            b.point,
            if waiting.is_empty() {
                "nothing".to_string()
            } else {
                waiting.join(" ")
            }
        ));
        for (m, e) in &b.failed {
            s.push_str(&format!("  group {{{}}} failed: {e}\n", m.join(" ")));
        }
    }
    for c in &p.run.commits {
        s.push_str(&format!(
            "  after safepoint {} ({}): {} {{{}}}\n",
            c.point,
            secs(c.clock_ms),
            if c.applied {
                "committed"
            } else {
                "not applied"
            },
            c.members.join(" ")
        ));
    }
    if let Some((idx, line, text)) = &p.offending {
        s.push_str(&format!(
            "  first offending record (record {idx}, output line {line}), in neither reference run:\n"
        ));
        s.push_str(&quote(text.as_bytes()));
        for (what, recs, file) in [
            ("OLD", old_recs, &cfg.old.file),
            ("NEW", new_recs, &cfg.new.file),
        ] {
            if let Some((i, r)) = nearest(text.as_bytes(), *idx, recs) {
                s.push_str(&format!(
                    "  nearest record of the {what} run ({file}, record {i}):\n"
                ));
                s.push_str(&quote(r));
            }
        }
    }
    if let ExitStatus::Error(e) = &p.run.status {
        for l in e.to_string().lines() {
            s.push_str(&format!("  {l}\n"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_cut_at_matching_lines() {
        let out = b"pre\nA 1\nx\nA 2\ny\nA 3";
        let r = records(out, &|l: &str| l.starts_with("A "));
        let texts: Vec<&[u8]> = r.iter().map(|x| x.1).collect();
        assert_eq!(
            texts,
            vec![
                &b"pre\n"[..],
                &b"A 1\nx\n"[..],
                &b"A 2\ny\n"[..],
                &b"A 3"[..]
            ]
        );
        assert_eq!(r.iter().map(|x| x.0).collect::<Vec<_>>(), vec![1, 2, 4, 6]);
        assert!(records(b"", &|_: &str| true).is_empty());
    }

    #[test]
    fn points_are_spread_evenly() {
        assert_eq!(choose_points(3, 10), vec![1, 2, 3]);
        let c = choose_points(10, 5);
        assert_eq!(c.len(), 5);
        for (i, k) in c.iter().enumerate() {
            assert!((2 * i as u64 + 1..=2 * i as u64 + 2).contains(k), "{c:?}");
        }
        // A stride that is a multiple of a program's period still reaches
        // every phase of it.
        let phases: HashSet<u64> = choose_points(12_000, 100).iter().map(|k| k % 8).collect();
        assert_eq!(phases.len(), 8);
        let c = choose_points(12345, 1000);
        assert_eq!(c.len(), 1000);
        assert!(c.windows(2).all(|w| w[0] < w[1]));
        assert!(*c.last().unwrap() <= 12345);
    }

    #[test]
    fn nearest_prefers_shared_lines() {
        let recs: Vec<(usize, &[u8])> = vec![(1, b"a\nb\nc\n"), (4, b"a\nx\ny\n")];
        assert_eq!(nearest(b"a\nb\nz\n", 1, &recs).unwrap().0, 1);
        assert_eq!(nearest(b"q\nx\ny\n", 0, &recs).unwrap().0, 2);
    }
}
