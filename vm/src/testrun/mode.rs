//! The test mode of one VM: virtual time, every safepoint counted, and
//! the update begun at the chosen safepoint.

use super::MAX_SAFEPOINTS;
use crate::engine::{self, UpdateRequest};
use crate::ids::VersionNo;
use crate::layout::SegType;
use crate::runtime::ExitStatus;
use crate::{FrameInfo, Shared, State};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

/// The test-mode state of one VM (one run).
pub struct TestMode {
    pub(super) clock: AtomicU64,
    horizon: u64,
    half: u64,
    pub(super) count: AtomicU64,
    inner: Mutex<Inner>,
}

#[derive(Default)]
pub(super) struct Inner {
    pub(super) before_half: u64,
    max_safepoints: u64,
    update_at: Option<u64>,
    request: Option<UpdateRequest>,
    dry_run: Option<UpdateRequest>,
    pub(super) plan_error: Option<String>,
    pub(super) capped: bool,
    pub(super) at_horizon: bool,
    pub(super) begun: Option<Begun>,
    deadline: Option<u64>,
    waiting: Vec<(VersionNo, Vec<String>)>,
    pub(super) commits: Vec<Commit>,
    pub(super) end: Option<End>,
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
pub(super) struct End {
    pub(super) waiting: Vec<Vec<String>>,
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

    pub(super) fn inner(&self) -> std::sync::MutexGuard<'_, Inner> {
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
