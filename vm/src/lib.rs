//! The podus VM: hosts one UC program in a large partitioned address space
//! and updates it procedure by procedure while it runs.
//!
//! Modules, and the invariant each keeps:
//! - [`layout`]: the field widths of a large address; decode is
//!   `((addr - base) >> shift) & mask` and nothing else.
//! - [`space`]: the reservation; W^X on every page, always.
//! - [`names`]: procedure IDs are stable by name and never reused.
//! - [`codegen`]: every UC call goes through the caller version's binding
//!   table; generated code has no relocations.
//! - [`runtime`]: safepoints are one load and a never-taken branch; code is
//!   only entered and left through the trampolines.
//! - [`version`]: a load places all of a version at its exact addresses, or
//!   nothing.
//! - [`engine`]: a group's bindings change only while the program is paused
//!   at a safepoint, and only after its mprocedures succeeded.
//! - [`events`]: observers see what happened in order.
//!
//! Architecture invariant: the control thread touches the program's stack and
//! tables only while the program is paused (it holds the state lock then, and
//! the program thread waits for it); the program thread touches them only from
//! its own safepoints and return barriers.

pub mod binding;
pub mod codegen;
pub mod engine;
pub mod events;
pub mod floor;
pub mod layout;
pub mod names;
pub mod runtime;
pub mod space;
pub mod testrun;
pub mod version;

pub use engine::{Ending, UpdateBegun, UpdateEnded, UpdateError, UpdateRequest};
pub use events::{Event, Primitive};
pub use runtime::{ExitStatus, RuntimeError, TrapKind};
pub use version::{LoadError, Version};

use compiler::ir::Module;
use layout::{LargeAddr, SLOTS, SegType};
use runtime::{Ctx, Host, REQ_ABORT, REQ_PAUSE, REQ_STOP, RawFrame};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::mpsc::{Receiver, Sender, channel};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Frames a runtime error's backtrace shows at each end of the stack.
pub const BACKTRACE_ENDS: usize = 16;

/// Where program output goes.
pub type OutputSink = Arc<dyn Fn(&[u8]) + Send + Sync>;

/// How a VM is set up.
#[derive(Clone)]
pub struct VmConfig {
    /// Stack size of the program thread; exceeding it is the "stack
    /// overflow" runtime error.
    pub stack_size: usize,
    /// Program output.
    pub output: OutputSink,
    /// Emit safepoint polls (turning them off is for the readiness
    /// benchmark only: such a program cannot be paused, updated or stopped).
    pub safepoints: bool,
    /// Time limit of one mprocedure run.
    pub mproc_timeout: Duration,
    /// A test-only pause point. The first time the program prints output
    /// containing these bytes (within one `printf`), its thread is held
    /// right after that output until something asks the program to pause
    /// or stop (an update, a stack walk, `stop`; at most [`HOLD_LIMIT`]).
    /// A test that waits for that output and then begins an update finds
    /// the program at the first safepoint after that `printf`, not wherever
    /// a sleep happened to end when the update arrived. Default:
    /// `$PODUS_TEST_HOLD_AFTER_OUTPUT` (so that a test can give it to a pup
    /// it starts, or to one `ush --local` starts), else none.
    pub hold_after_output: Option<Vec<u8>>,
}

/// Longest a [`VmConfig::hold_after_output`] pause point holds the program.
pub const HOLD_LIMIT: Duration = Duration::from_secs(120);

/// The environment variable that sets [`VmConfig::hold_after_output`].
pub const HOLD_ENV: &str = "PODUS_TEST_HOLD_AFTER_OUTPUT";

impl Default for VmConfig {
    fn default() -> Self {
        VmConfig {
            stack_size: 64 << 20,
            output: Arc::new(|b: &[u8]| {
                use std::io::Write;
                let mut o = std::io::stdout().lock();
                let _ = o.write_all(b);
                let _ = o.flush();
            }),
            safepoints: true,
            mproc_timeout: Duration::from_secs(2),
            hold_after_output: std::env::var_os(HOLD_ENV)
                .filter(|v| !v.is_empty())
                .map(|v| std::os::unix::ffi::OsStrExt::as_bytes(v.as_os_str()).to_vec()),
        }
    }
}

/// Errors of VM operations other than load and update.
#[derive(Debug, thiserror::Error)]
pub enum VmError {
    /// Reservation failed.
    #[error(transparent)]
    Space(#[from] space::SpaceError),
    /// Code generator setup failed.
    #[error("code generator: {0}")]
    Codegen(String),
    /// The request does not fit the state.
    #[error("{0}")]
    State(String),
}

/// One decoded stack frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    /// Address in the frame's code.
    pub pc: u64,
    /// Its frame pointer.
    pub fp: u64,
    /// User-visible version of the code.
    pub version: u64,
    /// What kind of code (procedure, interprocedure, mprocedure).
    pub kind: SegType,
    /// Procedure ID.
    pub proc_id: u32,
    /// Procedure name.
    pub name: String,
    /// Displacement in the segment.
    pub disp: u32,
}

impl fmt::Display for FrameInfo {
    /// `v2:proc:do_pizza+0x40`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "v{}:{}:{}+{:#x}",
            self.version,
            self.kind.short(),
            self.name,
            self.disp
        )
    }
}

/// Program state as observers see it.
#[derive(Clone, Debug, PartialEq)]
pub enum ProgramState {
    /// Never started.
    Idle,
    /// Running (possibly paused for a moment).
    Running {
        /// The version whose `main` was started.
        version: u64,
    },
    /// Stopped, with why.
    Exited(ExitStatus),
}

pub(crate) struct Ctl {
    running: bool,
    /// How long the program thread was last held at a safepoint, measured
    /// by the program thread itself (what the program experiences).
    last_pause_ns: u64,
    pause_waiters: u32,
    paused_at: Option<(u64, u64)>,
    program: ProgramState,
}

/// Everything guarded by the state lock.
pub(crate) struct State {
    /// Shared with a load in progress, which interns into a copy and swaps
    /// it in when it commits (loads are serialized by `Shared::loader`).
    pub names: Arc<names::NameService>,
    /// Shared so a load can read the version it builds on without the lock.
    pub versions: BTreeMap<u64, Arc<Version>>,
    pub slots: [bool; SLOTS as usize],
    pub engine: engine::Engine,
    pub ctl: Ctl,
}

pub(crate) struct Shared {
    ctx: Ctx,
    mctx: Ctx,
    pub space: space::AddressSpace,
    st: Mutex<State>,
    /// Serializes loads and holds their code generator: a load compiles
    /// with this lock, not the program's (`st`), held.
    loader: Mutex<codegen::Codegen>,
    cv: Condvar,
    wake: (Mutex<u64>, Condvar),
    pub bus: events::Bus,
    config: VmConfig,
    mproc_tx: Mutex<Option<Sender<(u64, u64)>>>,
    mproc_rx: Mutex<Option<Receiver<ExitStatus>>>,
    /// Set for a test run (`test-update`): virtual time, counted safepoints.
    test: std::sync::OnceLock<Arc<testrun::TestMode>>,
    /// The [`VmConfig::hold_after_output`] pause point was used.
    held: std::sync::atomic::AtomicBool,
    /// The mprocedure running on the helper thread, by its name
    /// (`v2:mproc:tick`) and entry: a trap in it is reported by name without
    /// the state lock, which the controller holds meanwhile.
    mproc_label: Mutex<Option<(String, u64)>>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.st.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn wake_sleepers(&self) {
        let (m, c) = &self.wake;
        *m.lock().unwrap() += 1;
        c.notify_all();
    }

    fn request(&self, ctx: &Ctx, bit: u32) {
        ctx.request(bit);
        self.wake_sleepers();
    }

    /// Decode a code address into a frame description.
    pub(crate) fn frame_info(&self, st: &State, f: RawFrame) -> FrameInfo {
        let la = self.space.decode(f.pc);
        let (version, kind, proc_id, disp) = match la {
            Some(a) => {
                let v = st
                    .versions
                    .values()
                    .find(|v| v.slot == a.slot)
                    .map(|v| v.number)
                    .unwrap_or(0);
                (v, a.ty, a.proc_id, a.disp)
            }
            None => (0, SegType::Proc, 0, 0),
        };
        let name = st.names.name(proc_id).unwrap_or("?").to_string();
        FrameInfo {
            pc: f.pc,
            fp: f.fp,
            version,
            kind,
            proc_id,
            name,
            disp,
        }
    }

    fn is_code(&self, addr: u64) -> bool {
        self.space.decode(addr).is_some_and(|a| a.ty.is_code())
    }

    /// Walk and decode the stack of a paused (or the current) program.
    ///
    /// # Safety
    /// The program thread must be paused at `(fp, pc)` or be the caller.
    pub(crate) unsafe fn walk(&self, st: &State, fp: u64, pc: u64) -> Vec<FrameInfo> {
        // SAFETY: per the contract.
        let raw = unsafe { runtime::walk_stack(&self.ctx, pc, fp, |a| self.is_code(a)) };
        raw.into_iter().map(|f| self.frame_info(st, f)).collect()
    }

    /// Name the mprocedure about to run (or none) for its trap reports.
    pub(crate) fn set_mproc_label(&self, label: Option<(String, u64)>) {
        *self.mproc_label.lock().unwrap_or_else(|p| p.into_inner()) = label;
    }

    /// Run an mprocedure on the helper thread with the time limit.
    pub(crate) fn run_mproc(&self, entry: u64, old_base: u64) -> ExitStatus {
        let tx = self.mproc_tx.lock().unwrap();
        let rx = self.mproc_rx.lock().unwrap();
        let (Some(tx), Some(rx)) = (tx.as_ref(), rx.as_ref()) else {
            return ExitStatus::Error(RuntimeError {
                kind: TrapKind::StackOverflow,
                message: "mprocedure runner is gone".into(),
                backtrace: vec![],
            });
        };
        self.mctx.clear(REQ_ABORT);
        if tx.send((entry, old_base)).is_err() {
            return ExitStatus::TimedOut;
        }
        match rx.recv_timeout(self.config.mproc_timeout) {
            Ok(st) => st,
            Err(_) => {
                // Ask it to stop at its next safepoint (every loop back-edge
                // is one) and wait for it to do so.
                self.request(&self.mctx, REQ_ABORT);
                let st = rx.recv().unwrap_or(ExitStatus::TimedOut);
                self.mctx.clear(REQ_ABORT);
                match st {
                    ExitStatus::Stopped => ExitStatus::TimedOut,
                    other => other,
                }
            }
        }
    }

    fn source_pos(&self, st: &State, pc: u64, span: u32) -> String {
        let Some(a) = self.space.decode(pc) else {
            return String::new();
        };
        let Some(v) = st.versions.values().find(|v| v.slot == a.slot) else {
            return String::new();
        };
        let name = st.names.name(a.proc_id).unwrap_or("?");
        let kind = match a.ty {
            SegType::IProc => "iproc ",
            SegType::MProc => "mproc ",
            _ => "",
        };
        let mut s = format!(" in {kind}{name} (version {})", v.number);
        if let (Some(src), true) = (&v.source, span != u32::MAX) {
            let (line, col) = line_col(src, span as usize);
            s.push_str(&format!(" at {}:{line}:{col}", v.module.file));
        }
        s
    }
}

/// A duration as a user writes it: `500ms`, `2s`, `1.5s`.
pub fn fmt_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms < 1000 || !ms.is_multiple_of(100) {
        format!("{ms}ms")
    } else if ms.is_multiple_of(1000) {
        format!("{}s", ms / 1000)
    } else {
        format!("{}.{}s", ms / 1000, (ms % 1000) / 100)
    }
}

/// 1-based line and column (in characters) of a byte offset: the
/// compiler's, which is safe for any offset into any UTF-8 text (a span
/// from the wire may point inside a character or past the end).
pub use compiler::diag::line_col;

impl Host for Shared {
    fn output(&self, bytes: &[u8]) {
        (self.config.output)(bytes);
        if self.bus.has_subscribers() {
            self.bus.emit(Event::Output(bytes.to_vec()));
        }
        if let Some(needle) = &self.config.hold_after_output
            && !needle.is_empty()
            && bytes.windows(needle.len()).any(|w| w == needle.as_slice())
            && !self.held.swap(true, std::sync::atomic::Ordering::SeqCst)
        {
            // The test pause point: wait for any request (it is served at
            // the program's next safepoint).
            self.sleep_until(&self.ctx, Instant::now() + HOLD_LIMIT);
        }
    }

    fn handle_requests(&self, ctx: &Ctx, fp: u64, pc: u64) -> Result<(), ExitStatus> {
        if std::ptr::eq(ctx, &self.mctx) {
            if ctx.requests.load(std::sync::atomic::Ordering::SeqCst) & REQ_ABORT != 0 {
                return Err(ExitStatus::Stopped);
            }
            ctx.rearm();
            return Ok(());
        }
        let mut st = self.lock();
        if let Some(t) = self.test.get() {
            t.at_safepoint(self, &mut st, fp, pc)?;
        }
        loop {
            let req = ctx.requests.load(std::sync::atomic::Ordering::SeqCst);
            if req & REQ_STOP != 0 {
                ctx.clear(REQ_STOP);
                return Err(ExitStatus::Stopped);
            }
            if req & REQ_PAUSE == 0 {
                break;
            }
            if st.ctl.pause_waiters == 0 {
                ctx.clear(REQ_PAUSE);
                continue;
            }
            st.ctl.paused_at = Some((fp, pc));
            let paused = Instant::now();
            self.cv.notify_all();
            while st.ctl.pause_waiters > 0
                && ctx.requests.load(std::sync::atomic::Ordering::SeqCst) & REQ_STOP == 0
            {
                st = self.cv.wait(st).unwrap_or_else(|p| p.into_inner());
            }
            st.ctl.paused_at = None;
            st.ctl.last_pause_ns = paused.elapsed().as_nanos() as u64;
            if st.ctl.pause_waiters == 0 {
                ctx.clear(REQ_PAUSE);
            }
        }
        ctx.rearm();
        Ok(())
    }

    fn sleep_until(&self, ctx: &Ctx, deadline: Instant) -> bool {
        let (m, c) = &self.wake;
        let mut g = m.lock().unwrap();
        loop {
            if ctx.requests.load(std::sync::atomic::Ordering::SeqCst) != 0 {
                return true;
            }
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            g = c.wait_timeout(g, deadline - now).unwrap().0;
        }
    }

    fn barrier_hit(&self, _ctx: &Ctx, fp: u64, pc: u64) {
        let mut st = self.lock();
        self.bus.emit(Event::ProcedureReturned);
        // SAFETY: we are the program thread, at the barrier.
        let frames = unsafe { self.walk(&st, fp, pc) };
        engine::recheck(self, &mut st, &frames);
        if let Some(t) = self.test.get() {
            t.observe(&st);
        }
    }

    fn virtual_sleep(
        &self,
        ctx: &Ctx,
        ms: i64,
        fp: u64,
        pc: u64,
    ) -> Option<Result<(), ExitStatus>> {
        let t = self.test.get()?;
        if std::ptr::eq(ctx, &self.mctx) {
            // An mproc runs while the program waits: its sleeps take no time.
            return Some(Ok(()));
        }
        // A sleep is a safepoint (counted), then the time passes at once.
        Some(
            self.handle_requests(ctx, fp, pc)
                .and_then(|()| t.advance(ms)),
        )
    }

    fn virtual_now(&self) -> Option<i64> {
        self.test.get().map(|t| t.now())
    }

    fn runtime_error(
        &self,
        ctx: &Ctx,
        kind: TrapKind,
        fp: u64,
        pc: u64,
        span: u32,
    ) -> RuntimeError {
        if std::ptr::eq(ctx, &self.mctx) {
            // The controller holds the state lock while an mproc runs; the
            // name comes from the label it set before running it.
            let label = self
                .mproc_label
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .clone();
            let at = match (self.space.decode(pc), label) {
                (Some(a), Some((name, entry)))
                    if self.space.decode(entry).is_some_and(|e| {
                        e.slot == a.slot && e.proc_id == a.proc_id && e.ty == a.ty
                    }) =>
                {
                    format!("{name}+{:#x}", a.disp)
                }
                (Some(a), _) => a.to_string(),
                (None, _) => String::new(),
            };
            return RuntimeError {
                kind,
                message: format!("{} in mprocedure {at}", kind.describe()),
                backtrace: vec![at],
            };
        }
        let st = self.lock();
        // However deep the stack (a stack overflow of a 4 GiB stack holds
        // tens of millions of frames), only its ends are kept and decoded.
        // SAFETY: we are the program thread; the frames are live.
        let ends = unsafe {
            runtime::walk_stack_ends(&self.ctx, pc, fp, |a| self.is_code(a), BACKTRACE_ENDS)
        };
        let mut message = format!("{}{}", kind.describe(), self.source_pos(&st, pc, span));
        if kind == TrapKind::StackOverflow {
            message.push_str(&format!(
                " (depth {} frames, stack limit {} KiB)",
                ends.total,
                self.config.stack_size >> 10
            ));
        }
        let shown = (ends.inner.len() + ends.outer.len()) as u64;
        let mut backtrace: Vec<String> = ends
            .inner
            .iter()
            .map(|&f| self.frame_info(&st, f).to_string())
            .collect();
        if ends.total > shown {
            backtrace.push(format!("... {} more frames ...", ends.total - shown));
        }
        backtrace.extend(
            ends.outer
                .iter()
                .map(|&f| self.frame_info(&st, f).to_string()),
        );
        RuntimeError {
            kind,
            message,
            backtrace,
        }
    }
}

/// Run `f` with the program paused at a safepoint, given where it is
/// paused (`None` when it is not running). The state lock is held throughout,
/// so the program thread cannot move until `f` returns.
pub(crate) fn pause<T>(
    sh: &Shared,
    f: impl FnOnce(&Shared, &mut State, Option<(u64, u64)>) -> T,
) -> T {
    let r: Result<T, std::convert::Infallible> =
        pause_with(sh, |_| Ok(()), |sh, st, at, ()| f(sh, st, at));
    match r {
        Ok(t) => t,
    }
}

/// [`pause`] with a preparation step that runs under the state lock but
/// before the program is asked to pause, so that its cost is not pause
/// time; when it fails the program is not paused at all.
pub(crate) fn pause_with<P, T, E>(
    sh: &Shared,
    prep: impl FnOnce(&State) -> Result<P, E>,
    f: impl FnOnce(&Shared, &mut State, Option<(u64, u64)>, P) -> T,
) -> Result<T, E> {
    let mut st = sh.lock();
    let p = prep(&st)?;
    if !st.ctl.running {
        return Ok(f(sh, &mut st, None, p));
    }
    st.ctl.pause_waiters += 1;
    sh.request(&sh.ctx, REQ_PAUSE);
    while st.ctl.paused_at.is_none() && st.ctl.running {
        st = sh.cv.wait(st).unwrap_or_else(|p| p.into_inner());
    }
    let at = if st.ctl.running {
        st.ctl.paused_at
    } else {
        None
    };
    if at.is_some() {
        sh.bus.defer();
    }
    let r = f(sh, &mut st, at, p);
    // Let the program go first, then send what `f` had to say (see
    // `events::Bus`): observers are not the program's business.
    sh.bus.flush(move || {
        st.ctl.pause_waiters -= 1;
        sh.cv.notify_all();
        drop(st);
    });
    Ok(r)
}

/// Rows and columns of δ* a load report shows (the whole matrix is one
/// `delta` request away).
pub const LOAD_REPORT_MATRIX: usize = 32;

/// What a load reports (SPEC §5.3 `load`).
#[derive(Clone, Debug)]
pub struct LoadReport {
    /// Version number.
    pub version: u64,
    /// Its slot.
    pub slot: u32,
    /// Procedures in ID order: (ID, name, code address, code size).
    pub procs: Vec<(u32, String, u64, u32)>,
    /// The δ* matrix in ID order.
    pub delta_matrix: String,
    /// Total procedure code bytes.
    pub code_bytes: u64,
    /// Start of the version space.
    pub space_base: u64,
    /// Interprocedures: (name, address, size).
    pub iprocs: Vec<(String, u64, u32)>,
    /// Mprocedures: (name, address, size).
    pub mprocs: Vec<(String, u64, u32)>,
    /// For each iproc and mproc (by the procedure it serves): the version
    /// its old signature or `old.NAME` reads were checked against.
    pub old_versions: Vec<(String, u64)>,
    /// Address of the binding table.
    pub table: u64,
    /// How long placing took (compile + place), ns.
    pub load_ns: u64,
}

/// A running VM: one program, its versions, its update engine.
pub struct Vm {
    shared: Arc<Shared>,
    program: Mutex<Option<JoinHandle<()>>>,
    mproc_thread: Option<JoinHandle<()>>,
}

struct SendPtr(*const Shared);
// SAFETY: the helper thread is joined before the Shared it points to drops.
unsafe impl Send for SendPtr {}

impl Vm {
    /// Reserve the address space and set up the runtime.
    pub fn new(config: VmConfig) -> Result<Vm, VmError> {
        let space = space::AddressSpace::reserve()?;
        let cg = codegen::Codegen::new().map_err(VmError::Codegen)?;
        let base = space.base();
        let shared = Arc::new_cyclic(|weak: &std::sync::Weak<Shared>| {
            let host: *const dyn Host = weak.as_ptr();
            Shared {
                // SAFETY: the host is the Shared that owns the contexts.
                ctx: unsafe { Ctx::new(base, host) },
                // SAFETY: as above.
                mctx: unsafe { Ctx::new(base, host) },
                space,
                st: Mutex::new(State {
                    names: Default::default(),
                    versions: BTreeMap::new(),
                    slots: [false; SLOTS as usize],
                    engine: engine::Engine::default(),
                    ctl: Ctl {
                        running: false,
                        last_pause_ns: 0,
                        pause_waiters: 0,
                        paused_at: None,
                        program: ProgramState::Idle,
                    },
                }),
                loader: Mutex::new(cg),
                cv: Condvar::new(),
                wake: (Mutex::new(0), Condvar::new()),
                bus: events::Bus::default(),
                config,
                mproc_tx: Mutex::new(None),
                mproc_rx: Mutex::new(None),
                test: std::sync::OnceLock::new(),
                held: std::sync::atomic::AtomicBool::new(false),
                mproc_label: Mutex::new(None),
            }
        });
        let (jtx, jrx) = channel::<(u64, u64)>();
        let (rtx, rrx) = channel::<ExitStatus>();
        *shared.mproc_tx.lock().unwrap() = Some(jtx);
        *shared.mproc_rx.lock().unwrap() = Some(rrx);
        let ptr = SendPtr(Arc::as_ptr(&shared));
        let mproc_thread = std::thread::Builder::new()
            .name("uc-mproc".into())
            .stack_size(8 << 20)
            .spawn(move || {
                let ptr = ptr;
                // SAFETY: joined in Vm::drop before Shared is freed.
                let sh = unsafe { &*ptr.0 };
                while let Ok((entry, arg)) = jrx.recv() {
                    // SAFETY: entry is mproc code compiled for mctx.
                    let st = unsafe { runtime::run_code(&sh.mctx, entry, arg, 4 << 20) };
                    if rtx.send(st).is_err() {
                        break;
                    }
                }
            })
            .map_err(|e| VmError::State(e.to_string()))?;
        Ok(Vm {
            shared,
            program: Mutex::new(None),
            mproc_thread: Some(mproc_thread),
        })
    }

    /// Make this VM a test run (`test-update`, SPEC §4.2.2) before it runs:
    /// virtual time, and every safepoint counted by `mode`.
    pub fn set_test_mode(&self, mode: Arc<testrun::TestMode>) -> Result<(), VmError> {
        let sh = &*self.shared;
        if sh.lock().ctl.running || sh.test.set(mode).is_err() {
            return Err(VmError::State(
                "test mode is set once, before the program runs".into(),
            ));
        }
        sh.ctx.request(runtime::REQ_TEST);
        Ok(())
    }

    /// Region base (the `other` field).
    pub fn region_base(&self) -> u64 {
        self.shared.space.base()
    }

    /// Receive every later event.
    pub fn subscribe(&self) -> Receiver<Event> {
        self.shared.bus.subscribe()
    }

    /// Compile and place `module` as version `number` while whatever runs
    /// keeps running. `source` lets runtime errors show line:column.
    pub fn load(
        &self,
        number: u64,
        module: Module,
        source: Option<&str>,
    ) -> Result<LoadReport, LoadError> {
        let sh = &*self.shared;
        let t0 = Instant::now();
        // Loads run one at a time; the program's lock is held only to read
        // what the load builds on and to publish it (SPEC §7: a load never
        // pauses the running program for more than 1 ms).
        let mut cg = sh.loader.lock().unwrap_or_else(|p| p.into_inner());
        let (slot, prev, names, olds) = {
            let mut st = sh.lock();
            if st.versions.keys().next_back().is_some_and(|&n| n >= number) {
                return Err(LoadError::BadNumber(number));
            }
            let slot = st
                .slots
                .iter()
                .position(|u| !u)
                .ok_or(LoadError::NoSlot(SLOTS))? as u32;
            // Reserved: retiring never frees it, other loads wait above.
            st.slots[slot as usize] = true;
            // The newest version is never retired, so `prev` stays loaded.
            let prev = st.versions.values().next_back().cloned();
            let olds: std::collections::HashMap<String, Arc<Version>> = prev
                .iter()
                .flat_map(|p| p.procs.iter())
                .filter_map(|(n, pi)| {
                    let v = st.engine.old_version(binding::ProcId(pi.id))?;
                    Some((n.clone(), st.versions.get(&v)?.clone()))
                })
                .collect();
            (slot, prev, st.names.clone(), olds)
        };
        let ctxs = version::Ctxs {
            program: &sh.ctx as *const Ctx as u64,
            mproc: &sh.mctx as *const Ctx as u64,
            safepoints: sh.config.safepoints,
        };
        // Old code and data are per procedure (SPEC §4.2.1): an iproc's old
        // signature and an mproc's old.NAME are checked against the version
        // the procedure will be running when this version applies.
        let mut new_names = (*names).clone();
        let old_of = |name: &str| -> Option<&Version> {
            olds.get(name)
                .map(|v| &**v)
                .filter(|v| v.procs.contains_key(name))
        };
        let v = version::load(
            &sh.space,
            &mut new_names,
            &mut cg,
            prev.as_deref(),
            &old_of,
            number,
            slot,
            Arc::new(module),
            source.map(Arc::from),
            &ctxs,
        );
        let v = match v {
            Ok(v) => v,
            Err(e) => {
                sh.lock().slots[slot as usize] = false;
                return Err(e);
            }
        };
        let mut report = LoadReport {
            version: number,
            slot,
            procs: {
                let mut p: Vec<_> = v
                    .procs
                    .iter()
                    .map(|(n, p)| (p.id, n.clone(), p.code, p.size))
                    .collect();
                p.sort();
                p
            },
            delta_matrix: v.delta_matrix(LOAD_REPORT_MATRIX),
            code_bytes: v.code_bytes,
            space_base: v.space_base(&sh.space),
            iprocs: v
                .iprocs
                .iter()
                .map(|(n, a)| (n.clone(), a.addr, a.size))
                .collect(),
            mprocs: v
                .mprocs
                .iter()
                .map(|(n, a)| (n.clone(), a.addr, a.size))
                .collect(),
            old_versions: v
                .iprocs
                .iter()
                .chain(v.mprocs.iter())
                .filter_map(|(n, a)| a.old_version.map(|o| (n.clone(), o)))
                .collect(),
            table: v.table,
            load_ns: 0,
        };
        let new_names = Arc::new(new_names);
        let v = Arc::new(v);
        {
            let mut st = sh.lock();
            // The old name service and `prev` are still held here, so
            // nothing is freed under the lock.
            st.names = new_names;
            st.versions.insert(number, v);
            st.engine.versions_gen += 1;
        }
        drop((names, prev));
        report.load_ns = t0.elapsed().as_nanos() as u64;
        sh.bus.emit(Event::Loaded { version: number });
        Ok(report)
    }

    /// Start `main` of `version` (default: the oldest loaded) on the
    /// program thread.
    pub fn run(&self, version: Option<u64>) -> Result<u64, VmError> {
        let sh = self.shared.clone();
        let mut st = sh.lock();
        if st.ctl.running {
            return Err(VmError::State("the program is already running".into()));
        }
        let v = match version {
            Some(v) => v,
            None => *st
                .versions
                .keys()
                .next()
                .ok_or_else(|| VmError::State("no version is loaded".into()))?,
        };
        let st_ref = &mut *st;
        let ver = st_ref
            .versions
            .get(&v)
            .ok_or_else(|| VmError::State(format!("version {v} is not loaded")))?;
        let main = ver
            .procs
            .get("main")
            .ok_or_else(|| VmError::State("no main".into()))?;
        let entry = main.code;
        // C: main's return value is the program's exit code.
        let returns_int = main.sig.ret == compiler::ir::RetTy::Scalar(compiler::ir::Scalar::Int);
        st_ref.engine.on_run(v, ver);
        st.ctl.running = true;
        st.ctl.program = ProgramState::Running { version: v };
        if let Some(h) = self.program.lock().unwrap().take() {
            drop(st);
            let _ = h.join();
            st = sh.lock();
        }
        drop(st);
        let stack = sh.config.stack_size;
        let sh2 = sh.clone();
        let h = std::thread::Builder::new()
            .name("uc-program".into())
            .stack_size(stack + (4 << 20))
            .spawn(move || {
                // SAFETY: entry is the main procedure compiled for this ctx.
                let (status, value) = unsafe { runtime::run_code_value(&sh2.ctx, entry, 0, stack) };
                let status = match status {
                    ExitStatus::Returned if returns_int && value != 0 => {
                        ExitStatus::Exit(value as i64)
                    }
                    st => st,
                };
                let mut st = sh2.lock();
                st.ctl.running = false;
                st.ctl.program = ProgramState::Exited(status.clone());
                if let Some(t) = sh2.test.get() {
                    t.at_end(&st);
                }
                engine::on_exit(&sh2, &mut st);
                sh2.cv.notify_all();
                drop(st);
                sh2.bus.emit(Event::Exited(status));
            })
            .map_err(|e| VmError::State(e.to_string()))?;
        *self.program.lock().unwrap() = Some(h);
        sh.bus.emit(Event::Started { version: v });
        Ok(v)
    }

    /// Ask the program to stop at its next safepoint.
    pub fn stop(&self) {
        let sh = &*self.shared;
        if sh.lock().ctl.running {
            sh.request(&sh.ctx, REQ_STOP);
        }
    }

    /// Wait until the program is not running (or the timeout passes).
    pub fn wait_exit(&self, timeout: Duration) -> Option<ExitStatus> {
        let sh = &*self.shared;
        let deadline = Instant::now() + timeout;
        let mut st = sh.lock();
        while st.ctl.running {
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            st = sh.cv.wait_timeout(st, deadline - now).unwrap().0;
        }
        match &st.ctl.program {
            ProgramState::Exited(s) => Some(s.clone()),
            _ => None,
        }
    }

    /// The program's state.
    pub fn program_state(&self) -> ProgramState {
        self.shared.lock().ctl.program.clone()
    }

    /// The program's stack, innermost first (pauses it for the walk).
    pub fn stack(&self) -> Vec<FrameInfo> {
        pause(&self.shared, |sh, st, at| match at {
            // SAFETY: paused at (fp, pc).
            Some((fp, pc)) => unsafe { sh.walk(st, fp, pc) },
            None => vec![],
        })
    }

    /// Begin an update (SPEC §4.2 step 1) at the program's next safepoint.
    pub fn begin_update(&self, req: UpdateRequest) -> Result<UpdateBegun, UpdateError> {
        let deadline = req.within.map(|d| Instant::now() + d);
        let r = pause_with(
            &self.shared,
            |st| engine::plan(st, &req),
            |sh, st, at, plan| engine::begin(sh, st, at, plan, req.within),
        )?;
        if let (Some(deadline), false) = (deadline, r.complete) {
            // The deadline is enforced by a timer: the update may be waiting
            // on a frame that never returns, so no return will check it.
            let weak = Arc::downgrade(&self.shared);
            let id = r.id;
            std::thread::spawn(move || {
                let now = Instant::now();
                if deadline > now {
                    std::thread::sleep(deadline - now);
                }
                if let Some(sh) = weak.upgrade() {
                    // Pause only if the update is still waiting.
                    let _ = pause_with(
                        &sh,
                        |st| {
                            if st.engine.pending.iter().any(|u| u.id == id) {
                                Ok(())
                            } else {
                                Err(())
                            }
                        },
                        |sh, st, _, ()| {
                            engine::abandon(sh, st, Some(id), engine::AbandonReason::Within)
                        },
                    );
                }
            });
        }
        Ok(r)
    }

    /// Abandon every pending group (SPEC §5.3 `abort`). Returns how many
    /// groups were abandoned.
    pub fn abort_updates(&self) -> usize {
        pause(&self.shared, |sh, st, _| {
            engine::abandon(sh, st, None, engine::AbandonReason::Abort)
        })
    }

    /// Block until no update is pending (or the timeout passes); true if none is.
    pub fn wait_updates(&self, timeout: Duration) -> bool {
        let sh = &*self.shared;
        let deadline = Instant::now() + timeout;
        let mut st = sh.lock();
        while !st.engine.pending.is_empty() {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            st = sh.cv.wait_timeout(st, deadline - now).unwrap().0;
        }
        true
    }

    /// A mark for [`Vm::ended_since`]: how many updates have ended so far.
    pub fn ended_mark(&self) -> u64 {
        self.shared.lock().engine.ended_mark()
    }

    /// How the updates that ended after `mark` was taken ended, oldest
    /// first (of the most recent [`engine::RECENT_ENDED`]).
    pub fn ended_since(&self, mark: u64) -> Vec<UpdateEnded> {
        self.shared.lock().engine.ended_since(mark)
    }

    /// How many updates have groups still waiting (cheap, unlike [`Vm::status`]).
    pub fn pending_updates(&self) -> usize {
        self.shared.lock().engine.pending.len()
    }

    /// A snapshot of what the VM holds.
    pub fn status(&self) -> engine::Status {
        let sh = &*self.shared;
        let st = sh.lock();
        engine::status(sh, &st)
    }

    /// Decode an absolute address: `v2:proc:do_pizza+0x40`, or `None` if it
    /// is not in this VM's region.
    pub fn decode(&self, addr: u64) -> Option<String> {
        let sh = &*self.shared;
        let a = LargeAddr::decode(sh.space.base(), addr)?;
        let st = sh.lock();
        let version = st
            .versions
            .values()
            .find(|v| v.slot == a.slot)
            .map(|v| format!("v{}", v.number));
        let name = if a.ty == SegType::Table {
            format!("#{}", a.proc_id)
        } else {
            st.names
                .name(a.proc_id)
                .map(str::to_string)
                .unwrap_or_else(|| format!("#{}", a.proc_id))
        };
        Some(format!(
            "{}:{}:{}+{:#x}",
            version.unwrap_or_else(|| format!("s{}", a.slot)),
            a.ty.short(),
            name,
            a.disp
        ))
    }

    /// How long the program was last held paused at a safepoint (ns), as the
    /// program thread measured it.
    pub fn last_pause_ns(&self) -> u64 {
        self.shared.lock().ctl.last_pause_ns
    }

    /// Bytes of the region resident in memory.
    pub fn resident_bytes(&self) -> u64 {
        self.shared.space.resident_bytes()
    }

    /// Read one binding: the address `table_version[name]` holds.
    pub fn binding(&self, version: u64, name: &str) -> Option<u64> {
        let sh = &*self.shared;
        let st = sh.lock();
        let v = st.versions.get(&version)?;
        let id = st.names.id(name)?;
        v.bindings().get(binding::ProcId(id))
    }

    /// Procedure names in ID order of a loaded version, with their IDs.
    pub fn procs(&self, version: u64) -> Vec<(u32, String)> {
        let st = self.shared.lock();
        st.versions
            .get(&version)
            .map(|v| {
                let mut p: Vec<_> = v.procs.iter().map(|(n, p)| (p.id, n.clone())).collect();
                p.sort();
                p
            })
            .unwrap_or_default()
    }

    /// The module of a loaded version.
    pub fn module(&self, version: u64) -> Option<Arc<Module>> {
        self.shared
            .lock()
            .versions
            .get(&version)
            .map(|v| v.module.clone())
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        self.stop();
        if let Some(h) = self.program.lock().unwrap().take() {
            let _ = h.join();
        }
        *self.shared.mproc_tx.lock().unwrap() = None;
        if let Some(h) = self.mproc_thread.take() {
            let _ = h.join();
        }
    }
}
