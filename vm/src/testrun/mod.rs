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

mod mode;
mod sweep;
#[cfg(test)]
mod tests;

pub use mode::{Begun, Commit, TestMode};
pub use sweep::{PointResult, Summary, choose_points, records, test_update};

use crate::engine::UpdateRequest;
use crate::ids::VersionNo;
use crate::runtime::ExitStatus;
use crate::{Vm, VmConfig};
use compiler::ir::Module;
use std::sync::atomic::Ordering::SeqCst;
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
