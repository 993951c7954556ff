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
//! - [`version`]: each unit of a version is at its exact address.
//! - [`load`]: a load places all of a version, or nothing.
//! - [`engine`]: a group's bindings change only while the program is paused
//!   at a safepoint, and only after its mprocedures succeeded.
//! - [`events`]: observers see what happened in order.
//!
//! Inside the crate, this file is the facade ([`Vm`]); `shared` holds what
//! the threads share (the state lock's `State` and `Shared`), `pause`
//! the pause protocol (both sides), and `host` the runtime's callbacks
//! ([`runtime::Host`]), which tell the program thread from the mprocedure
//! helper by their context's [`runtime::Role`].
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
mod host;
pub mod ids;
pub mod layout;
pub mod load;
pub mod memory;
pub mod names;
mod pause;
pub mod runtime;
mod shared;
pub mod space;
pub mod testrun;
pub mod version;

pub use engine::{
    Abandoned, Ending, NotApplied, Reset, UpdateBegun, UpdateEnded, UpdateError, UpdateRequest,
};
pub use events::{Event, Primitive};
pub use ids::VersionNo;
pub use load::LoadError;
pub use runtime::{ExitStatus, RuntimeError, TrapKind};
pub use version::Version;

pub(crate) use pause::{pause, pause_with};
pub(crate) use shared::{Ctl, Shared, State};

use compiler::ir::Module;
use layout::{LargeAddr, SLOTS, SegType};
use runtime::{Ctx, Host, REQ_STOP};
use std::collections::BTreeMap;
use std::fmt;
use std::sync::mpsc::{Receiver, channel};
use std::sync::{Arc, Condvar, Mutex};
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
    Codegen(#[from] codegen::CodegenError),
    /// `run` while the program runs.
    #[error("the program is already running")]
    AlreadyRunning,
    /// `run` with no version loaded.
    #[error("no version is loaded")]
    NoVersion,
    /// `run` of a version that is not loaded.
    #[error("version {0} is not loaded")]
    NotLoaded(VersionNo),
    /// `run` of a version without `main`.
    #[error("version {0} has no main procedure")]
    NoMain(VersionNo),
    /// [`Vm::set_test_mode`] after the program started, or twice.
    #[error("test mode is set once, before the program runs")]
    TestModeLate,
    /// The OS refused a thread.
    #[error("cannot start the {what} thread: {err}")]
    Thread {
        /// Which thread.
        what: &'static str,
        /// The OS's reason.
        #[source]
        err: std::io::Error,
    },
}

/// One decoded stack frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    /// Address in the frame's code.
    pub pc: u64,
    /// Its frame pointer.
    pub fp: u64,
    /// User-visible version of the code.
    pub version: VersionNo,
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
        version: VersionNo,
    },
    /// Stopped, with why.
    Exited(ExitStatus),
}

/// 1-based line and column (in characters) of a byte offset: the
/// compiler's, which is safe for any offset into any UTF-8 text (a span
/// from the wire may point inside a character or past the end).
pub use compiler::diag::line_col;

/// Rows and columns of δ* a load report shows (the whole matrix is one
/// `delta` request away).
pub const LOAD_REPORT_MATRIX: usize = 32;

/// What a load reports (SPEC §5.3 `load`).
#[derive(Clone, Debug)]
pub struct LoadReport {
    /// Version number.
    pub version: VersionNo,
    /// Its slot.
    pub slot: ids::Slot,
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
    pub old_versions: Vec<(String, VersionNo)>,
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
        let cg = codegen::Codegen::new()?;
        let base = space.base();
        let memory =
            memory::ProgramMemory::new(memory::MemConfig::default(), base).map_err(|err| {
                space::SpaceError::Reserve {
                    size: memory::MemConfig::default().heap_len,
                    err,
                }
            })?;
        let shared = Arc::new_cyclic(|weak: &std::sync::Weak<Shared>| {
            let host: *const dyn Host = weak.as_ptr();
            Shared {
                // SAFETY: the host is the Shared that owns the contexts.
                ctx: unsafe { Ctx::new(base, runtime::Role::Program, host) },
                // SAFETY: as above.
                mctx: unsafe { Ctx::new(base, runtime::Role::MProc, host) },
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
                memory,
            }
        });
        for (ctx, role) in [
            (&shared.ctx, runtime::Role::Program),
            (&shared.mctx, runtime::Role::MProc),
        ] {
            let (lo, hi) = shared.memory.data_stack(role);
            ctx.set_data_stack(lo, hi);
        }
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
            .map_err(|err| VmError::Thread {
                what: "mprocedure",
                err,
            })?;
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
            return Err(VmError::TestModeLate);
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
        number: VersionNo,
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
                .map(|i| ids::Slot(i as u32))
                .ok_or(LoadError::NoSlot(SLOTS))?;
            // Reserved: retiring never frees it, other loads wait above.
            st.slots[slot.index()] = true;
            let (prev, olds) = update_sources(&st);
            (slot, prev, st.names.clone(), olds)
        };
        let ctxs = load::Ctxs {
            program: &sh.ctx as *const Ctx as u64,
            mproc: &sh.mctx as *const Ctx as u64,
            safepoints: sh.config.safepoints,
            mem: sh.memory.layout(),
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
        let v = load::load(
            load::LoadInput {
                space: &sh.space,
                prev: prev.as_deref(),
                old_of: &old_of,
                number,
                slot,
                module: Arc::new(module),
                source: source.map(Arc::from),
                ctxs: &ctxs,
            },
            &mut new_names,
            &mut cg,
        );
        let v = match v {
            Ok(v) => v,
            Err(e) => {
                sh.lock().slots[slot.index()] = false;
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
    pub fn run(&self, version: Option<VersionNo>) -> Result<VersionNo, VmError> {
        let sh = self.shared.clone();
        let mut st = sh.lock();
        if st.ctl.running {
            return Err(VmError::AlreadyRunning);
        }
        let v = match version {
            Some(v) => v,
            None => *st.versions.keys().next().ok_or(VmError::NoVersion)?,
        };
        let st_ref = &mut *st;
        let ver = st_ref.versions.get(&v).ok_or(VmError::NotLoaded(v))?;
        let main = ver.procs.get("main").ok_or(VmError::NoMain(v))?;
        let entry = main.code;
        // C: main's return value is the program's exit code.
        let returns_int = main.sig.ret == compiler::ir::RetTy::Scalar(compiler::ir::Scalar::I32);
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
            .map_err(|err| VmError::Thread {
                what: "program",
                err,
            })?;
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

    /// The program's data stacks and heap: their layout (for the code
    /// generator), their live objects (for data transformation), `reset`
    /// when the program restarts.
    pub fn memory(&self) -> &memory::ProgramMemory {
        &self.shared.memory
    }

    /// Bytes of the region resident in memory.
    pub fn resident_bytes(&self) -> u64 {
        self.shared.space.resident_bytes()
    }

    /// Read one binding: the address `table_version[name]` holds.
    pub fn binding(&self, version: VersionNo, name: &str) -> Option<u64> {
        let sh = &*self.shared;
        let st = sh.lock();
        let v = st.versions.get(&version)?;
        let id = st.names.id(name)?;
        v.bindings().get(binding::ProcId(id))
    }

    /// Procedure names in ID order of a loaded version, with their IDs.
    pub fn procs(&self, version: VersionNo) -> Vec<(u32, String)> {
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
    pub fn module(&self, version: VersionNo) -> Option<Arc<Module>> {
        self.shared
            .lock()
            .versions
            .get(&version)
            .map(|v| v.module.clone())
    }

    /// The interface a new version is checked against when it loads now
    /// (SPEC §4.2.1): per procedure of the newest version, the signature
    /// and statics of the version it will be running when the new version
    /// applies, and the newest version's globals, as a module without code.
    /// `None` before the first load; else the newest version's number and
    /// the module. Built by the same rule as the load's
    /// own check, so that a ush that asks gets the answer the load gives.
    pub fn interface(&self) -> Option<(VersionNo, Module)> {
        let st = self.shared.lock();
        let (prev, olds) = update_sources(&st);
        let prev = prev?;
        let procs = prev
            .module
            .procs
            .iter()
            .filter_map(|mp| {
                let from = olds
                    .get(&mp.name)
                    .filter(|v| v.procs.contains_key(&mp.name))
                    .unwrap_or(&prev);
                let p = from.procs.get(&mp.name)?;
                Some(compiler::ir::Proc {
                    name: mp.name.clone(),
                    sig: p.sig.clone(),
                    locals: Vec::new(),
                    statics: p.statics.clone(),
                    data_size: 0,
                    body: Vec::new(),
                    callees: Vec::new(),
                    globals_used: Vec::new(),
                    labels: Vec::new(),
                    span: compiler::ir::Span::default(),
                })
            })
            .collect();
        let mut globals: Vec<compiler::ir::Global> = prev
            .globals
            .iter()
            .map(|(n, g)| compiler::ir::Global {
                name: n.clone(),
                ty: g.ty,
                init: Vec::new(),
                span: compiler::ir::Span::default(),
            })
            .collect();
        globals.sort_by(|a, b| a.name.cmp(&b.name));
        let module = Module {
            file: prev.module.file.clone(),
            procs,
            globals,
            iprocs: Vec::new(),
            mprocs: Vec::new(),
        };
        Some((prev.number, module))
    }
}

/// What a version loaded now is updated from: the newest version (never
/// retired, so it stays loaded) and, per procedure of it, the version that
/// procedure will be running when the new version applies (its committed
/// version, or the target of a pending update that moves it).
#[allow(clippy::type_complexity)]
fn update_sources(
    st: &State,
) -> (
    Option<Arc<Version>>,
    std::collections::HashMap<String, Arc<Version>>,
) {
    let prev = st.versions.values().next_back().cloned();
    let olds = prev
        .iter()
        .flat_map(|p| p.procs.iter())
        .filter_map(|(n, pi)| {
            let v = st.engine.old_version(binding::ProcId(pi.id))?;
            Some((n.clone(), st.versions.get(&v)?.clone()))
        })
        .collect();
    (prev, olds)
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
