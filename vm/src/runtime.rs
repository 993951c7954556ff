//! What generated code calls and jumps through: the context block it polls,
//! the entry/unwind/return-barrier trampolines, and the builtins.
//!
//! Invariants:
//! - Generated code touches only [`Ctx::limit`] (offset 0), through r15,
//!   which holds the context while code runs. A safepoint is
//!   `sp < ctx.limit` — one load and a never-taken branch. Stack overflow and
//!   every request (pause, stop, abort) share that one word, as Go's stack
//!   guard does: a request stores `u64::MAX` into it.
//! - Code is entered only through [`podus_enter`], which records the stack
//!   pointer that [`podus_unwind`] returns to; runtime errors, `exit` and
//!   `stop` leave through it. No Rust value with a destructor is live in a
//!   frame that is unwound over.
//! - At most one return barrier is installed at a time; its slot and the
//!   original return address live in the context, so stack walks see through it.

use std::ffi::CString;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering::SeqCst};
use std::time::{Duration, Instant};

/// Request bit: pause at the next safepoint (the controller wants the stack).
pub const REQ_PAUSE: u32 = 1;
/// Request bit: stop the program at the next safepoint.
pub const REQ_STOP: u32 = 2;
/// Request bit: abort an mprocedure (time limit passed).
pub const REQ_ABORT: u32 = 4;
/// Request bit held for the whole of a test run (`test-update`): every poll
/// fails, so the host sees (and counts) every safepoint.
pub const REQ_TEST: u32 = 8;

/// Why code running in a context stopped.
#[derive(Clone, Debug, PartialEq)]
pub enum ExitStatus {
    /// The entry procedure returned.
    Returned,
    /// `exit(code)` was called.
    Exit(i64),
    /// A runtime error (already rendered with its backtrace).
    Error(RuntimeError),
    /// A `stop` request ended it.
    Stopped,
    /// An mprocedure ran out of time.
    TimedOut,
}

impl ExitStatus {
    /// The process-style exit code: 0 on return or stop, the code of `exit`,
    /// 1 on a runtime error or timeout.
    pub fn code(&self) -> i64 {
        match self {
            ExitStatus::Returned | ExitStatus::Stopped => 0,
            ExitStatus::Exit(c) => *c,
            ExitStatus::Error(_) | ExitStatus::TimedOut => 1,
        }
    }
}

/// What went wrong at run time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum TrapKind {
    /// Integer division by zero.
    DivByZero = 1,
    /// Integer remainder by zero.
    RemByZero = 2,
    /// Array index out of bounds.
    OutOfBounds = 3,
    /// The stack limit was reached.
    StackOverflow = 4,
    /// A shift count outside 0..63.
    BadShift = 5,
    /// The runtime itself failed (a panic in a host function called by
    /// generated code, contained there).
    Internal = 6,
}

impl TrapKind {
    fn from_u32(v: u32) -> TrapKind {
        match v {
            1 => TrapKind::DivByZero,
            2 => TrapKind::RemByZero,
            3 => TrapKind::OutOfBounds,
            5 => TrapKind::BadShift,
            6 => TrapKind::Internal,
            _ => TrapKind::StackOverflow,
        }
    }

    /// The message's first words.
    pub fn describe(self) -> &'static str {
        match self {
            TrapKind::DivByZero => "division by zero",
            TrapKind::RemByZero => "division by zero (remainder)",
            TrapKind::OutOfBounds => "array index out of bounds",
            TrapKind::StackOverflow => "stack overflow",
            TrapKind::BadShift => "shift count outside 0..63",
            TrapKind::Internal => "internal error in the runtime",
        }
    }
}

/// A runtime error with its decoded backtrace.
#[derive(Clone, Debug, PartialEq)]
pub struct RuntimeError {
    /// What happened.
    pub kind: TrapKind,
    /// One line: what, where (procedure, version, source line when known).
    pub message: String,
    /// Decoded frames, innermost first (`v1:proc:f+0x40`).
    pub backtrace: Vec<String>,
}

impl std::fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "runtime error: {}", self.message)?;
        writeln!(f, "backtrace:")?;
        // Frames are numbered by their depth; the count of frames left out
        // between the innermost and outermost ones is not a frame.
        let mut i = 0u64;
        for fr in &self.backtrace {
            let skipped = fr
                .strip_prefix("... ")
                .and_then(|r| r.strip_suffix(" more frames ..."))
                .and_then(|n| n.parse::<u64>().ok());
            match skipped {
                Some(n) => {
                    writeln!(f, "  {fr}")?;
                    i += n;
                }
                None => {
                    writeln!(f, "  #{i} {fr}")?;
                    i += 1;
                }
            }
        }
        Ok(())
    }
}

/// The VM side of the runtime: what builtins and safepoints call into.
pub trait Host: Send + Sync {
    /// Program output (printf).
    fn output(&self, bytes: &[u8]);
    /// A request is pending and code is at a safepoint: handle it (pause
    /// until resumed, or decide to stop). `fp`/`pc` locate the safepoint.
    fn handle_requests(&self, ctx: &Ctx, fp: u64, pc: u64) -> Result<(), ExitStatus>;
    /// Block until `deadline` or until a request arrives; true if a request
    /// is pending.
    fn sleep_until(&self, ctx: &Ctx, deadline: Instant) -> bool;
    /// The frame whose return slot held the barrier has returned; `fp` is
    /// the frame pointer of the frame now on top (the caller) and `pc` the
    /// address it is about to continue at.
    fn barrier_hit(&self, ctx: &Ctx, fp: u64, pc: u64);
    /// Build the runtime error for a trap at `pc` (segment start of the
    /// running code) with source offset `span`.
    fn runtime_error(&self, ctx: &Ctx, kind: TrapKind, fp: u64, pc: u64, span: u32)
    -> RuntimeError;
    /// Under virtual time (test runs): `sleep_ms(ms)` as a safepoint that
    /// advances the virtual clock at once; `None` means real time.
    fn virtual_sleep(
        &self,
        _ctx: &Ctx,
        _ms: i64,
        _fp: u64,
        _pc: u64,
    ) -> Option<Result<(), ExitStatus>> {
        None
    }
    /// Under virtual time: what `now_ms()` reads; `None` means real time.
    fn virtual_now(&self) -> Option<i64> {
        None
    }
}

/// The per-thread context block whose address is baked into generated code.
#[repr(C)]
pub struct Ctx {
    /// Offset 0, read by generated code: safepoint taken when `sp < limit`.
    pub limit: AtomicU64,
    /// The real stack limit (lowest usable stack address plus a margin).
    pub real_limit: AtomicU64,
    /// Offset 16: the stack pointer saved by `podus_enter`.
    pub entry_sp: AtomicU64,
    /// Address of the return slot holding the barrier, or 0.
    pub barrier_slot: AtomicU64,
    /// The return address the barrier replaced.
    pub barrier_orig: AtomicU64,
    /// Pending request bits.
    pub requests: AtomicU32,
    /// Base of the address space (for decoding return addresses).
    pub region_base: u64,
    /// Why the code stopped, set before unwinding.
    pub status: Mutex<Option<ExitStatus>>,
    /// Which of the VM's code threads runs with this context.
    pub role: Role,
    host: *const dyn Host,
}

/// The two threads generated code runs on, each with its own [`Ctx`]: the
/// host tells them apart by this, not by which context it was handed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The program's thread: pauses, updates and stops are served at its
    /// safepoints, under the VM's state lock.
    Program,
    /// The mprocedure helper: it runs while the controller holds the state
    /// lock, so its safepoints only check for an abort.
    MProc,
}

// SAFETY: all mutable state is atomic or behind a mutex; the host pointer is
// to a Sync object that outlives the context.
unsafe impl Send for Ctx {}
unsafe impl Sync for Ctx {}

impl Ctx {
    /// A context for code of the region at `region_base`.
    ///
    /// # Safety
    /// `host` must outlive the context and every thread running code with it.
    pub unsafe fn new(region_base: u64, role: Role, host: *const dyn Host) -> Ctx {
        Ctx {
            limit: AtomicU64::new(u64::MAX),
            real_limit: AtomicU64::new(u64::MAX),
            entry_sp: AtomicU64::new(0),
            barrier_slot: AtomicU64::new(0),
            barrier_orig: AtomicU64::new(0),
            requests: AtomicU32::new(0),
            region_base,
            status: Mutex::new(None),
            role,
            host,
        }
    }

    fn host(&self) -> &dyn Host {
        // SAFETY: guaranteed by `Ctx::new`'s contract.
        unsafe { &*self.host }
    }

    /// Ask the code running in this context to stop at its next safepoint
    /// for `bit`.
    pub fn request(&self, bit: u32) {
        self.requests.fetch_or(bit, SeqCst);
        self.limit.store(u64::MAX, SeqCst);
    }

    /// Clear request bits; re-arm the real limit unless others remain.
    pub fn clear(&self, bits: u32) {
        self.requests.fetch_and(!bits, SeqCst);
        self.rearm();
    }

    /// Restore the real limit, keeping a pending request visible. The order
    /// (store, then re-check) pairs with [`Ctx::request`]'s (set, then store)
    /// so that no request is lost.
    pub fn rearm(&self) {
        self.limit.store(self.real_limit.load(SeqCst), SeqCst);
        if self.requests.load(SeqCst) != 0 {
            self.limit.store(u64::MAX, SeqCst);
        }
    }

    /// Set the real stack limit for the thread about to run code here.
    pub fn set_stack_limit(&self, lowest_usable: u64) {
        self.real_limit.store(lowest_usable, SeqCst);
        self.rearm();
    }

    /// Take the status recorded before an unwind.
    pub fn take_status(&self) -> Option<ExitStatus> {
        self.status.lock().unwrap().take()
    }

    fn set_status(&self, st: ExitStatus) {
        *self.status.lock().unwrap() = Some(st);
    }

    /// Install the return barrier on the return slot at `slot` (the word at
    /// `fp + 8` of the frame that should trigger a recheck when it returns),
    /// replacing any previous one. Only while the code is paused or from
    /// the code's own thread.
    ///
    /// # Safety
    /// `slot` must be the return-address slot of a live frame of this
    /// context's thread, and that thread must not be running generated code.
    pub unsafe fn install_barrier(&self, slot: u64) {
        // SAFETY: per the contract.
        unsafe {
            self.remove_barrier();
            let orig = *(slot as *const u64);
            self.barrier_orig.store(orig, SeqCst);
            self.barrier_slot.store(slot, SeqCst);
            *(slot as *mut u64) = podus_return_barrier as *const () as u64;
        }
    }

    /// Put the original return address back, if a barrier is installed.
    ///
    /// # Safety
    /// As for [`Ctx::install_barrier`].
    pub unsafe fn remove_barrier(&self) {
        let slot = self.barrier_slot.swap(0, SeqCst);
        if slot != 0 {
            // SAFETY: the slot is still a live return slot (the barrier
            // would have fired and cleared it otherwise).
            unsafe { *(slot as *mut u64) = self.barrier_orig.load(SeqCst) };
        }
    }

    /// Forget the barrier without touching memory (its frame is gone).
    pub fn drop_barrier(&self) {
        self.barrier_slot.store(0, SeqCst);
    }

    /// Is a barrier installed?
    pub fn has_barrier(&self) -> bool {
        self.barrier_slot.load(SeqCst) != 0
    }
}

/// One frame found by [`walk_stack`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RawFrame {
    /// An address inside the frame's code (its segment start for the
    /// innermost frame, a return address for the others).
    pub pc: u64,
    /// The frame pointer of that frame.
    pub fp: u64,
}

/// Walk the frame-pointer chain from the innermost frame (`pc`, `fp`) to
/// the entry frame, innermost first. `is_code` says whether an address is
/// generated code; the walk stops at the first return address that is not
/// (the entry trampoline).
///
/// # Safety
/// `fp` must be the frame pointer of a live frame of generated code on a
/// thread that is not running (paused, or the calling thread itself).
pub unsafe fn walk_stack(
    ctx: &Ctx,
    pc: u64,
    fp: u64,
    is_code: impl Fn(u64) -> bool,
) -> Vec<RawFrame> {
    let mut frames = Vec::new();
    // SAFETY: per the contract.
    unsafe { for_each_frame(ctx, pc, fp, is_code, 50_000_000, |f| frames.push(f)) };
    frames
}

/// The frame loop of [`walk_stack`] and [`walk_stack_ends`]: gives `visit`
/// the innermost frame, then each caller's frame outward (at most
/// `max_callers` of them), reading a return address the barrier replaced
/// from the context.
///
/// # Safety
/// As for [`walk_stack`].
unsafe fn for_each_frame(
    ctx: &Ctx,
    pc: u64,
    mut fp: u64,
    is_code: impl Fn(u64) -> bool,
    max_callers: u64,
    mut visit: impl FnMut(RawFrame),
) {
    visit(RawFrame { pc, fp });
    let barrier = podus_return_barrier as *const () as u64;
    let slot = ctx.barrier_slot.load(SeqCst);
    for _ in 0..max_callers {
        if fp == 0 || !fp.is_multiple_of(8) {
            break;
        }
        // SAFETY: generated code keeps frame pointers, so fp points at
        // [saved fp, return address] of a live frame; the chain strictly
        // rises (checked below), so the walk ends at the stack's top.
        let (saved_fp, mut ret) = unsafe { (*(fp as *const u64), *((fp + 8) as *const u64)) };
        if ret == barrier && slot == fp + 8 {
            ret = ctx.barrier_orig.load(SeqCst);
        }
        if !is_code(ret) || saved_fp <= fp {
            break;
        }
        visit(RawFrame {
            pc: ret,
            fp: saved_fp,
        });
        fp = saved_fp;
    }
}

/// What [`walk_stack_ends`] keeps of a stack: its innermost and outermost
/// frames, and how many there are in all.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct StackEnds {
    /// Up to `keep` innermost frames, innermost first.
    pub inner: Vec<RawFrame>,
    /// Up to `keep` outermost frames not in `inner`, innermost first.
    pub outer: Vec<RawFrame>,
    /// Frames on the stack in all.
    pub total: u64,
}

/// [`walk_stack`] in bounded memory however deep the stack: keeps the
/// `keep` innermost and the `keep` outermost frames and counts the rest.
///
/// # Safety
/// As for [`walk_stack`].
pub unsafe fn walk_stack_ends(
    ctx: &Ctx,
    pc: u64,
    fp: u64,
    is_code: impl Fn(u64) -> bool,
    keep: usize,
) -> StackEnds {
    let keep = keep.max(1);
    let mut inner = Vec::with_capacity(keep);
    let mut outer = std::collections::VecDeque::with_capacity(keep);
    let mut total = 0u64;
    let visit = |f: RawFrame| {
        total += 1;
        if inner.len() < keep {
            inner.push(f);
        } else {
            if outer.len() == keep {
                outer.pop_front();
            }
            outer.push_back(f);
        }
    };
    // SAFETY: per the contract.
    unsafe { for_each_frame(ctx, pc, fp, is_code, u64::MAX, visit) };
    StackEnds {
        inner,
        outer: outer.into(),
        total,
    }
}

thread_local! {
    /// The context of the generated code running on this thread (for the
    /// return barrier, which gets no arguments).
    static CURRENT: std::cell::Cell<*const Ctx> = const { std::cell::Cell::new(std::ptr::null()) };
}

/// Run `entry(arg)` (generated code) in `ctx` on this thread until it
/// returns or unwinds; the stack limit is set from this thread's stack.
///
/// # Safety
/// `entry` must be generated code taking at most one i64 argument whose
/// safepoints and builtins use `ctx`, and this thread's stack must be larger
/// than `stack_size` (its lowest `stack_size` bytes below here are given
/// back to the system when the code ends).
pub unsafe fn run_code(ctx: &Ctx, entry: u64, arg: u64, stack_size: usize) -> ExitStatus {
    // SAFETY: the same contract.
    unsafe { run_code_value(ctx, entry, arg, stack_size).0 }
}

/// [`run_code`], also giving what the code left in the integer return
/// register: an int-returning entry's return value when the status is
/// [`ExitStatus::Returned`] (meaningless otherwise).
///
/// # Safety
/// As for [`run_code`].
pub unsafe fn run_code_value(
    ctx: &Ctx,
    entry: u64,
    arg: u64,
    stack_size: usize,
) -> (ExitStatus, u64) {
    let here = &arg as *const u64 as u64;
    // Leave room for the runtime's own frames (printf, the host) below the
    // last generated frame, and for the largest frame generated code makes.
    let margin = 1 << 20;
    let lowest = here
        .saturating_sub(stack_size as u64)
        .saturating_add(margin);
    ctx.set_stack_limit(lowest);
    ctx.drop_barrier();
    *ctx.status.lock().unwrap() = None;
    let prev = CURRENT.with(|c| c.replace(ctx));
    // SAFETY: per the contract; podus_enter returns here either normally or
    // through podus_unwind.
    let value = unsafe { podus_enter(entry, ctx as *const Ctx as u64, arg) };
    CURRENT.with(|c| c.set(prev));
    ctx.drop_barrier();
    release_stack_below(here, stack_size);
    (ctx.take_status().unwrap_or(ExitStatus::Returned), value)
}

/// Gives the pages of the stack the code used back to the system: after a
/// deep recursion they would otherwise stay resident as long as the thread
/// lives. `here` is an address in the frame of [`run_code`], which is back
/// from the code: nothing below it but the frames this call makes is live,
/// and those lie within the 64 KiB left alone.
fn release_stack_below(here: u64, stack_size: usize) {
    const PAGE: u64 = 4096;
    let top = here.saturating_sub(64 << 10) & !(PAGE - 1);
    let bottom = (here.saturating_sub(stack_size as u64) + PAGE - 1) & !(PAGE - 1);
    if top > bottom {
        // SAFETY: [bottom, top) lies inside this thread's stack mapping
        // (run_code's callers give it a stack larger than `stack_size`) and
        // below every live frame; MADV_DONTNEED on private anonymous memory
        // only makes the pages read back as zeros when next touched.
        unsafe {
            libc::madvise(
                bottom as *mut libc::c_void,
                (top - bottom) as usize,
                libc::MADV_DONTNEED,
            );
        }
    }
}

/// Address of the safepoint stub generated code calls, without arguments
/// and with Cranelift's PreserveAll convention, when a poll fails: at
/// procedure entry (`entry`) or at a loop back-edge. The stub saves every
/// caller-saved register (the general ones and xmm0–15) and calls
/// [`rt_safepoint`] with what it finds: the context in r15, the frame in rbp,
/// the caller's stack pointer, and its own return address — an address in
/// the polling procedure's code, which identifies it. A back-edge passes
/// `u64::MAX` as the stack pointer: a loop cannot overflow the stack.
pub fn safepoint_stub_addr(entry: bool) -> u64 {
    if entry {
        podus_safepoint_entry as *const () as u64
    } else {
        podus_safepoint_loop as *const () as u64
    }
}

unsafe extern "C" {
    fn podus_safepoint_entry();
    fn podus_safepoint_loop();
    // The context travels as an integer: the assembly only reads and writes
    // its `entry_sp` word at offset 16.
    fn podus_enter(entry: u64, ctx: u64, arg: u64) -> u64;
    fn podus_unwind(ctx: u64) -> !;
    fn podus_return_barrier();
}

// The trampolines. podus_enter saves the callee-saved registers and its
// stack pointer (Ctx offset 16) and calls the code; podus_unwind restores
// that stack pointer and returns from podus_enter. podus_return_barrier is
// "returned to" by the frame whose slot held the barrier: it keeps the
// return values (rax, xmm0), asks the runtime for the original return address
// (running the update recheck meanwhile) and jumps there.
std::arch::global_asm!(
    ".text",
    ".globl podus_enter",
    ".p2align 4",
    "podus_enter:",
    "push rbp",
    "mov rbp, rsp",
    "push rbx",
    "push r12",
    "push r13",
    "push r14",
    "push r15",
    "sub rsp, 8",
    "mov [rsi + 16], rsp",
    // r15 is Cranelift's pinned register: generated code finds its context
    // there. Callee-saved, so the runtime's Rust code preserves it.
    "mov r15, rsi",
    "mov rax, rdi",
    "mov rdi, rdx",
    "call rax",
    "add rsp, 8",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    "",
    ".globl podus_unwind",
    ".p2align 4",
    "podus_unwind:",
    "mov rsp, [rdi + 16]",
    "xor eax, eax",
    "add rsp, 8",
    "pop r15",
    "pop r14",
    "pop r13",
    "pop r12",
    "pop rbx",
    "pop rbp",
    "ret",
    "",
    ".globl podus_return_barrier",
    ".p2align 4",
    "podus_return_barrier:",
    "sub rsp, 32",
    "mov [rsp], rax",
    "movsd [rsp + 8], xmm0",
    "mov rdi, rbp",
    "call {hit}",
    "mov r11, rax",
    "mov rax, [rsp]",
    "movsd xmm0, [rsp + 8]",
    "add rsp, 32",
    "jmp r11",
    "",
    ".globl podus_safepoint_entry",
    ".p2align 4",
    "podus_safepoint_entry:",
    "push rax",
    "xor eax, eax",
    "jmp 2f",
    "",
    ".globl podus_safepoint_loop",
    ".p2align 4",
    "podus_safepoint_loop:",
    "push rax",
    "mov rax, -1",
    // Shared body: rax is 0 (entry) or -1 (back-edge, no stack check).
    "2:",
    "push rcx",
    "push rdx",
    "push rsi",
    "push rdi",
    "push r8",
    "push r9",
    "push r10",
    "push r11",
    "sub rsp, 256",
    "movdqu [rsp + 0], xmm0",
    "movdqu [rsp + 16], xmm1",
    "movdqu [rsp + 32], xmm2",
    "movdqu [rsp + 48], xmm3",
    "movdqu [rsp + 64], xmm4",
    "movdqu [rsp + 80], xmm5",
    "movdqu [rsp + 96], xmm6",
    "movdqu [rsp + 112], xmm7",
    "movdqu [rsp + 128], xmm8",
    "movdqu [rsp + 144], xmm9",
    "movdqu [rsp + 160], xmm10",
    "movdqu [rsp + 176], xmm11",
    "movdqu [rsp + 192], xmm12",
    "movdqu [rsp + 208], xmm13",
    "movdqu [rsp + 224], xmm14",
    "movdqu [rsp + 240], xmm15",
    "mov rdi, r15",
    "mov rsi, rbp",
    "lea rdx, [rsp + 336]",
    "test rax, rax",
    "cmovnz rdx, rax",
    "mov rcx, [rsp + 328]",
    "call {safepoint}",
    "movdqu xmm0, [rsp + 0]",
    "movdqu xmm1, [rsp + 16]",
    "movdqu xmm2, [rsp + 32]",
    "movdqu xmm3, [rsp + 48]",
    "movdqu xmm4, [rsp + 64]",
    "movdqu xmm5, [rsp + 80]",
    "movdqu xmm6, [rsp + 96]",
    "movdqu xmm7, [rsp + 112]",
    "movdqu xmm8, [rsp + 128]",
    "movdqu xmm9, [rsp + 144]",
    "movdqu xmm10, [rsp + 160]",
    "movdqu xmm11, [rsp + 176]",
    "movdqu xmm12, [rsp + 192]",
    "movdqu xmm13, [rsp + 208]",
    "movdqu xmm14, [rsp + 224]",
    "movdqu xmm15, [rsp + 240]",
    "add rsp, 256",
    "pop r11",
    "pop r10",
    "pop r9",
    "pop r8",
    "pop rdi",
    "pop rsi",
    "pop rdx",
    "pop rcx",
    "pop rax",
    "ret",
    hit = sym rt_barrier_hit,
    safepoint = sym rt_safepoint,
);

fn barrier_hit_impl(fp: u64) -> u64 {
    let ctx = CURRENT.with(|c| c.get());
    // SAFETY: the barrier is only ever installed on a thread running code
    // under podus_enter, which set CURRENT.
    let ctx = unsafe { &*ctx };
    let orig = ctx.barrier_orig.load(SeqCst);
    ctx.drop_barrier();
    ctx.host().barrier_hit(ctx, fp, orig);
    orig
}

/// Leave the running code with `status` (never returns).
///
/// # Safety
/// Must be called on the thread running code in `ctx`, from a frame that
/// holds no value with a destructor.
unsafe fn leave(ctx: &Ctx, status: ExitStatus) -> ! {
    ctx.set_status(status);
    // SAFETY: per the contract; the status (with its destructor) now lives in
    // the context, not in any frame being discarded.
    unsafe { podus_unwind(ctx as *const Ctx as u64) }
}

/// Safepoint slow path: the limit check failed. Either the stack really is
/// exhausted, or a request is pending.
///
/// # Safety
/// Called only by generated code, which passes the context it was compiled
/// for.
unsafe fn safepoint_impl(ctx: *const Ctx, fp: u64, sp: u64, pc: u64) {
    // SAFETY: generated code passes its own context.
    let ctx = unsafe { &*ctx };
    if sp < ctx.real_limit.load(SeqCst) {
        let err = ctx
            .host()
            .runtime_error(ctx, TrapKind::StackOverflow, fp, pc, u32::MAX);
        // SAFETY: this frame holds nothing with a destructor.
        unsafe { leave(ctx, ExitStatus::Error(err)) }
    }
    if let Err(st) = ctx.host().handle_requests(ctx, fp, pc) {
        // SAFETY: as above.
        unsafe { leave(ctx, st) }
    }
}

/// A runtime error detected by generated code (never returns).
///
/// # Safety
/// Called only by generated code, which passes the context it was compiled
/// for.
unsafe fn trap_impl(ctx: *const Ctx, kind: u32, fp: u64, pc: u64, span: u32) {
    // SAFETY: generated code passes its own context.
    let ctx = unsafe { &*ctx };
    let err = ctx
        .host()
        .runtime_error(ctx, TrapKind::from_u32(kind), fp, pc, span);
    // SAFETY: this frame holds nothing with a destructor once `err` is moved.
    unsafe { leave(ctx, ExitStatus::Error(err)) }
}

/// `exit(code)` (never returns).
///
/// # Safety
/// Called only by generated code, which passes the context it was compiled
/// for.
unsafe fn exit_impl(ctx: *const Ctx, code: i64) {
    // SAFETY: generated code passes its own context.
    let ctx = unsafe { &*ctx };
    // SAFETY: nothing with a destructor is live here.
    unsafe { leave(ctx, ExitStatus::Exit(code)) }
}

/// `sleep_ms(ms)`: a safepoint that waits; an update can happen meanwhile,
/// after which the remaining time is slept.
///
/// # Safety
/// Called only by generated code, which passes the context it was compiled
/// for.
unsafe fn sleep_impl(ctx: *const Ctx, ms: i64, fp: u64, pc: u64) {
    // SAFETY: generated code passes its own context.
    let ctx = unsafe { &*ctx };
    if let Some(r) = ctx.host().virtual_sleep(ctx, ms, fp, pc) {
        if let Err(st) = r {
            // SAFETY: nothing with a destructor is live here.
            unsafe { leave(ctx, st) }
        }
        return;
    }
    let deadline = Instant::now() + Duration::from_millis(ms.max(0) as u64);
    loop {
        let requested = ctx.host().sleep_until(ctx, deadline);
        if requested && let Err(st) = ctx.host().handle_requests(ctx, fp, pc) {
            // SAFETY: nothing with a destructor is live here.
            unsafe { leave(ctx, st) }
        }
        if Instant::now() >= deadline {
            return;
        }
    }
}

/// `now_ms()`: milliseconds since the Unix epoch (or the virtual clock of
/// a test run).
fn now_ms_impl() -> i64 {
    let ctx = CURRENT.with(|c| c.get());
    if !ctx.is_null() {
        // SAFETY: CURRENT is set only while code runs in that context.
        if let Some(t) = unsafe { &*ctx }.host().virtual_now() {
            return t;
        }
    }
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

/// `printf`: `desc` is a [`Printf`] owned by the code's version; `args`
/// holds one 8-byte slot per conversion (int, double bits, or a pointer to
/// a NUL-terminated literal for `%s`).
///
/// # Safety
/// Called only by generated code, which passes the context it was compiled
/// for, a descriptor that lives as long as its version, and one argument slot per conversion.
unsafe fn printf_impl(ctx: *const Ctx, desc: *const Printf, args: *const u64) {
    // SAFETY: generated code passes its own context and a descriptor that
    // lives as long as its version; `args` has one slot per conversion.
    let (ctx, desc) = unsafe { (&*ctx, &*desc) };
    let mut out = Vec::with_capacity(64);
    let mut i = 0;
    for piece in &desc.pieces {
        match piece {
            PrintPiece::Lit(b) => out.extend_from_slice(b),
            PrintPiece::Conv { cfmt, kind, stars } => {
                // SAFETY: one slot per `*` and one per conversion, per the
                // contract.
                let mut star = [0i64; 2];
                for s in star.iter_mut().take(*stars as usize) {
                    *s = unsafe { *args.add(i) } as i64;
                    i += 1;
                }
                // SAFETY: as above.
                let raw = unsafe { *args.add(i) };
                i += 1;
                c_format(&mut out, cfmt, *kind, &star[..*stars as usize], raw);
            }
        }
    }
    ctx.host().output(&out);
}

// The host entry points generated code calls (and the trampolines call
// for it). A panic must not unwind into generated code, which has no unwind
// information (the process would abort): each entry point runs its body
// under `guarded`, which turns a panic into a runtime error of the program,
// as wasmtime's `catch_unwind_and_record_trap` turns one into a trap.
// Every `extern "C"` function of the runtime is one of these.

/// Runs the body of a host entry point called by code running in `ctx` on
/// this thread; a panic in it ends that code with an
/// [`TrapKind::Internal`] runtime error naming the panic.
fn guarded<R>(ctx: *const Ctx, body: impl FnOnce() -> R) -> R {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(body)) {
        Ok(r) => r,
        // Not called by generated code (no context on this thread): an
        // ordinary Rust caller, which may unwind.
        Err(payload) if ctx.is_null() => std::panic::resume_unwind(payload),
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic without a message".to_string());
            drop(payload);
            let err = RuntimeError {
                kind: TrapKind::Internal,
                message: format!("{}: {what}", TrapKind::Internal.describe()),
                backtrace: vec![],
            };
            // SAFETY: `ctx` is the context of the code that called the entry
            // point on this thread (its callers' contract); once `err` is
            // moved nothing with a destructor is live in this frame, and
            // the entry point's own frame holds only the moved body.
            unsafe { leave(&*ctx, ExitStatus::Error(err)) }
        }
    }
}

extern "C" fn rt_barrier_hit(fp: u64) -> u64 {
    guarded(CURRENT.with(|c| c.get()), || barrier_hit_impl(fp))
}

/// Safepoint slow path (see [`safepoint_impl`]).
///
/// # Safety
/// Called only by generated code, which passes the context it was compiled
/// for.
pub unsafe extern "C" fn rt_safepoint(ctx: *const Ctx, fp: u64, sp: u64, pc: u64) {
    // SAFETY: forwarded under the same contract.
    guarded(ctx, || unsafe { safepoint_impl(ctx, fp, sp, pc) })
}

/// A runtime error detected by generated code (see [`trap_impl`]).
///
/// # Safety
/// As for [`rt_safepoint`].
pub unsafe extern "C" fn rt_trap(ctx: *const Ctx, kind: u32, fp: u64, pc: u64, span: u32) {
    // SAFETY: forwarded under the same contract.
    guarded(ctx, || unsafe { trap_impl(ctx, kind, fp, pc, span) })
}

/// `exit(code)` (see [`exit_impl`]).
///
/// # Safety
/// As for [`rt_safepoint`].
pub unsafe extern "C" fn rt_exit(ctx: *const Ctx, code: i64) {
    // SAFETY: forwarded under the same contract.
    guarded(ctx, || unsafe { exit_impl(ctx, code) })
}

/// `sleep_ms(ms)` (see [`sleep_impl`]).
///
/// # Safety
/// As for [`rt_safepoint`].
pub unsafe extern "C" fn rt_sleep(ctx: *const Ctx, ms: i64, fp: u64, pc: u64) {
    // SAFETY: forwarded under the same contract.
    guarded(ctx, || unsafe { sleep_impl(ctx, ms, fp, pc) })
}

/// `now_ms()` (see [`now_ms_impl`]).
pub extern "C" fn rt_now_ms() -> i64 {
    guarded(CURRENT.with(|c| c.get()), now_ms_impl)
}

/// `printf` (see [`printf_impl`]).
///
/// # Safety
/// As for [`printf_impl`].
pub unsafe extern "C" fn rt_printf(ctx: *const Ctx, desc: *const Printf, args: *const u64) {
    // SAFETY: forwarded under the same contract.
    guarded(ctx, || unsafe { printf_impl(ctx, desc, args) })
}

/// The argument kind of a printf conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvKind {
    /// `%d %i %u %x %X %o` (as C `long long`).
    Int,
    /// `%hd %hhx ...`: passed as a C `int`, which the conversion narrows.
    ShortInt,
    /// `%c`.
    Char,
    /// `%f %e %g`.
    Double,
    /// `%s` of a literal.
    Str,
}

/// One piece of a prepared printf format.
#[derive(Debug)]
pub enum PrintPiece {
    /// Literal bytes.
    Lit(Vec<u8>),
    /// A conversion, rewritten into the C format that formats it.
    Conv {
        /// The C format for exactly one conversion (e.g. `%5lld`).
        cfmt: CString,
        /// What the argument slot holds.
        kind: ConvKind,
        /// How many `*` (width, precision) int slots come before it.
        stars: u8,
    },
}

/// A prepared printf format plus the string literals its `%s` arguments
/// point to; owned by the version whose code refers to it.
#[derive(Debug, Default)]
pub struct Printf {
    /// The pieces in order.
    pub pieces: Vec<PrintPiece>,
}

/// Widths and precisions beyond this are refused at load (and a `*`
/// argument is clamped to it), so that one conversion cannot ask for
/// gigabytes of output.
pub const MAX_FIELD: i64 = 1_000_000;

/// Check a conversion as the compiler wrote it and turn it into the C
/// format that prints it. The pup re-validates everything it is sent, so a
/// forged format cannot reach libc's printf with `%n` or a bad `*`.
pub fn prepare_conv(spec: &str, conv: char) -> Result<PrintPiece, String> {
    let bad = || format!("bad conversion {spec:?}");
    let body = spec.strip_prefix('%').ok_or_else(bad)?;
    let mut chars = body.chars().peekable();
    let mut cf = String::from("%");
    let mut stars = 0u8;
    let mut flags = 0;
    while let Some(&c) = chars.peek() {
        if "-+ #0".contains(c) && flags < 5 {
            cf.push(c);
            flags += 1;
            chars.next();
        } else {
            break;
        }
    }
    // Width, then precision: digits (bounded) or one `*`.
    for part in 0..2 {
        if part == 1 {
            if chars.peek() != Some(&'.') {
                break;
            }
            cf.push('.');
            chars.next();
        }
        if chars.peek() == Some(&'*') {
            cf.push('*');
            stars += 1;
            chars.next();
            continue;
        }
        let mut digits = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_ascii_digit() {
                digits.push(c);
                chars.next();
            } else {
                break;
            }
        }
        if !digits.is_empty() {
            let v: i64 = digits.parse().unwrap_or(i64::MAX);
            if v > MAX_FIELD {
                return Err(format!("{spec:?}: a width or precision above {MAX_FIELD}"));
            }
            cf.push_str(&v.to_string());
        }
    }
    let mut length = String::new();
    while let Some(&c) = chars.peek() {
        if "hlzjt".contains(c) && length.len() < 2 {
            length.push(c);
            chars.next();
        } else {
            break;
        }
    }
    let last: String = chars.collect();
    if last.len() != 1 || !last.starts_with(conv) {
        return Err(bad());
    }
    let int_len_ok = matches!(
        length.as_str(),
        "" | "h" | "hh" | "l" | "ll" | "z" | "j" | "t"
    );
    let kind = match conv {
        'd' | 'i' | 'u' | 'x' | 'X' | 'o' if int_len_ok => {
            if length.starts_with('h') {
                cf.push_str(&length);
                ConvKind::ShortInt
            } else {
                cf.push_str("ll");
                ConvKind::Int
            }
        }
        'c' if length.is_empty() => ConvKind::Char,
        'f' | 'F' | 'e' | 'E' | 'g' | 'G' | 'a' | 'A' if length.is_empty() || length == "l" => {
            ConvKind::Double
        }
        's' if length.is_empty() => ConvKind::Str,
        _ => return Err(format!("unsupported conversion {spec:?}")),
    };
    cf.push(conv);
    let cfmt = CString::new(cf).map_err(|e| e.to_string())?;
    Ok(PrintPiece::Conv { cfmt, kind, stars })
}

/// Format one conversion exactly as C's printf does, by asking libc.
/// `star` holds the `*` width and precision the format asks for.
fn c_format(out: &mut Vec<u8>, cfmt: &CString, kind: ConvKind, star: &[i64], raw: u64) {
    let mut buf = [0u8; 512];
    let st: Vec<libc::c_int> = star
        .iter()
        .map(|v| (*v).clamp(-MAX_FIELD, MAX_FIELD) as libc::c_int)
        .collect();
    let call = |buf: &mut [u8]| -> i32 {
        let p = buf.as_mut_ptr() as *mut libc::c_char;
        let n = buf.len();
        let f = cfmt.as_ptr();
        macro_rules! fmt {
            ($arg:expr) => {
                match st.as_slice() {
                    [] => libc::snprintf(p, n, f, $arg),
                    [a] => libc::snprintf(p, n, f, *a, $arg),
                    [a, b, ..] => libc::snprintf(p, n, f, *a, *b, $arg),
                }
            };
        }
        // SAFETY: cfmt holds exactly one validated conversion matching the
        // argument passed, preceded by one int per `*`; snprintf never
        // writes past n bytes.
        unsafe {
            match kind {
                ConvKind::Int => fmt!(raw as i64 as libc::c_longlong),
                ConvKind::ShortInt | ConvKind::Char => fmt!(raw as i64 as libc::c_int),
                ConvKind::Double => fmt!(f64::from_bits(raw)),
                ConvKind::Str => fmt!(raw as *const libc::c_char),
            }
        }
    };
    let n = call(&mut buf);
    if n < 0 {
        return;
    }
    let n = n as usize;
    if n < buf.len() {
        out.extend_from_slice(&buf[..n]);
    } else {
        let mut big = vec![0u8; n + 1];
        call(&mut big);
        out.extend_from_slice(&big[..n]);
    }
}

/// The C library's math functions of one argument, for generated code
/// (indexed by [`math1_addr`]); Rust's `f64` methods call the system libm,
/// which is what gcc's build of a C program calls too. (Pure float
/// operations that cannot panic: the one kind of `extern "C"` entry point
/// not run under `guarded`.)
extern "C" fn rt_sin(x: f64) -> f64 {
    x.sin()
}
extern "C" fn rt_cos(x: f64) -> f64 {
    x.cos()
}
extern "C" fn rt_tan(x: f64) -> f64 {
    x.tan()
}
extern "C" fn rt_atan(x: f64) -> f64 {
    x.atan()
}
extern "C" fn rt_exp(x: f64) -> f64 {
    x.exp()
}
extern "C" fn rt_log(x: f64) -> f64 {
    x.ln()
}
extern "C" fn rt_log10(x: f64) -> f64 {
    x.log10()
}
extern "C" fn rt_atan2(y: f64, x: f64) -> f64 {
    y.atan2(x)
}
extern "C" fn rt_pow(x: f64, y: f64) -> f64 {
    x.powf(y)
}
extern "C" fn rt_fmod(x: f64, y: f64) -> f64 {
    x % y
}

/// Address of the runtime function computing a math builtin that is not a
/// machine instruction, or `None` (sqrt, floor, ceil, fabs are inline).
pub fn math_addr(b: compiler::ir::Builtin) -> Option<u64> {
    use compiler::ir::Builtin as B;
    let one = |f: extern "C" fn(f64) -> f64| Some(f as *const () as u64);
    let two = |f: extern "C" fn(f64, f64) -> f64| Some(f as *const () as u64);
    match b {
        B::Sin => one(rt_sin),
        B::Cos => one(rt_cos),
        B::Tan => one(rt_tan),
        B::Atan => one(rt_atan),
        B::Exp => one(rt_exp),
        B::Log => one(rt_log),
        B::Log10 => one(rt_log10),
        B::Atan2 => two(rt_atan2),
        B::Pow => two(rt_pow),
        B::Fmod => two(rt_fmod),
        _ => None,
    }
}

/// glibc's `random()` (TYPE_3: an additive feedback generator over 31
/// words, r[i] = r[i-31] + r[i-3]), so that `rand()` gives the numbers a
/// C program built with gcc prints for the same seed.
pub struct GlibcRand {
    r: [i32; 34],
    /// Index of the newest word in the ring buffer of the last 34.
    i: usize,
}

impl GlibcRand {
    /// The state after `srand(seed)` (seed 0 acts as 1, as in glibc).
    pub fn new(seed: u32) -> GlibcRand {
        let mut r = [0i32; 34];
        let seed = if seed == 0 { 1 } else { seed };
        r[0] = seed as i32;
        let mut word = seed as i64;
        for slot in r.iter_mut().take(31).skip(1) {
            // glibc: word = 16807 * word % 2147483647, by Schrage's method.
            let hi = word / 127_773;
            let lo = word % 127_773;
            word = 16_807 * lo - 2_836 * hi;
            if word < 0 {
                word += 2_147_483_647;
            }
            *slot = word as i32;
        }
        for k in 31..34 {
            r[k] = r[k - 31];
        }
        let mut g = GlibcRand { r, i: 33 };
        // glibc discards the first 310 outputs.
        for _ in 0..310 {
            g.step();
        }
        g
    }

    fn step(&mut self) -> u32 {
        let n = (self.i + 1) % 34;
        let v = self.r[(n + 34 - 31) % 34].wrapping_add(self.r[(n + 34 - 3) % 34]);
        self.r[n] = v;
        self.i = n;
        v as u32
    }

    /// The next `rand()` value, in 0..2^31.
    pub fn next_value(&mut self) -> i64 {
        (self.step() >> 1) as i64
    }
}

thread_local! {
    /// The program's `rand` state. A program runs on one thread, so this is
    /// per program, like a C process's; it starts as `srand(1)`.
    static RAND: std::cell::RefCell<Option<GlibcRand>> = const { std::cell::RefCell::new(None) };
}

/// `rand()`.
pub extern "C" fn rt_rand() -> i64 {
    guarded(CURRENT.with(|c| c.get()), || {
        RAND.with(|r| {
            r.borrow_mut()
                .get_or_insert_with(|| GlibcRand::new(1))
                .next_value()
        })
    })
}

/// `srand(seed)`: C's seed is an `unsigned int`, so the low 32 bits count.
pub extern "C" fn rt_srand(seed: i64) {
    guarded(CURRENT.with(|c| c.get()), || {
        RAND.with(|r| *r.borrow_mut() = Some(GlibcRand::new(seed as u32)))
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt1(spec: &str, conv: char, raw: u64) -> String {
        let PrintPiece::Conv { cfmt, kind, .. } = prepare_conv(spec, conv).unwrap() else {
            panic!()
        };
        let mut out = Vec::new();
        c_format(&mut out, &cfmt, kind, &[], raw);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn formats_like_c() {
        assert_eq!(fmt1("%d", 'd', (-5i64) as u64), "-5");
        assert_eq!(fmt1("%5d", 'd', 42), "   42");
        assert_eq!(fmt1("%.2lf", 'f', 0.75f64.to_bits()), "0.75");
        assert_eq!(fmt1("%e", 'e', 123456.0f64.to_bits()), "1.234560e+05");
        assert_eq!(fmt1("%g", 'g', 0.0001f64.to_bits()), "0.0001");
        assert_eq!(fmt1("%c", 'c', 65), "A");
        assert_eq!(fmt1("%d", 'd', i64::MIN as u64), "-9223372036854775808");
    }

    #[test]
    fn refuses_dangerous_conversions() {
        assert!(prepare_conv("%n", 'n').is_err());
        assert!(prepare_conv("%**d", 'd').is_err());
        assert!(prepare_conv("%d%n", 'd').is_err());
        assert!(prepare_conv("%9999999d", 'd').is_err());
        assert!(prepare_conv("%Lf", 'f').is_err());
    }

    #[test]
    fn long_modifiers_and_wide_fields_format_like_c() {
        // The bugs of issue 12: `%lld`, `%lli` and 4+-digit widths.
        assert_eq!(fmt1("%lld", 'd', 1234567890123), "1234567890123");
        assert_eq!(fmt1("%lli", 'i', (-5i64) as u64), "-5");
        assert_eq!(fmt1("%1000d", 'd', 7).len(), 1000);
        assert_eq!(fmt1("%.1000f", 'f', 1.0f64.to_bits()).len(), 1002);
        assert_eq!(fmt1("%lu", 'u', u64::MAX), "18446744073709551615");
        assert_eq!(fmt1("%lx", 'x', 255), "ff");
        assert_eq!(fmt1("%#o", 'o', 8), "010");
        assert_eq!(fmt1("%hd", 'd', 70000), "4464");
        assert_eq!(fmt1("%hhu", 'u', 300), "44");
        assert_eq!(fmt1("%08.3f", 'f', 1.23456f64.to_bits()), "0001.235");
    }

    #[test]
    fn stars_take_their_ints() {
        let PrintPiece::Conv { cfmt, kind, stars } = prepare_conv("%*.*f", 'f').unwrap() else {
            panic!()
        };
        assert_eq!(stars, 2);
        let mut out = Vec::new();
        c_format(&mut out, &cfmt, kind, &[8, 2], 1.23456f64.to_bits());
        assert_eq!(String::from_utf8(out).unwrap(), "    1.23");
    }

    #[test]
    fn rand_is_glibcs_sequence() {
        // glibc's first values after srand(1), the default seed.
        let mut g = GlibcRand::new(1);
        let first: Vec<i64> = (0..3).map(|_| g.next_value()).collect();
        assert_eq!(first, vec![1804289383, 846930886, 1681692777]);
    }
}

// Thunks that give `rt_sleep` and `rt_trap` the real return address in the
// calling procedure as their `pc` (the fourth argument, rcx), so that the
// top frame of a backtrace taken in a builtin or at a trap shows its real
// offset instead of the segment's start. At entry [rsp] is that return
// address; the jump keeps the stack as the call left it.
std::arch::global_asm!(
    ".text",
    ".globl podus_rt_sleep_pc",
    ".p2align 4",
    "podus_rt_sleep_pc:",
    "mov rcx, [rsp]",
    "jmp {sleep}",
    "",
    ".globl podus_rt_trap_pc",
    ".p2align 4",
    "podus_rt_trap_pc:",
    "mov rcx, [rsp]",
    "jmp {trap}",
    sleep = sym rt_sleep,
    trap = sym rt_trap,
);

unsafe extern "C" {
    fn podus_rt_sleep_pc();
    fn podus_rt_trap_pc();
}

/// Address generated code calls for `sleep_ms`: [`rt_sleep`] with the
/// caller's real return address as `pc`.
pub fn sleep_addr() -> u64 {
    podus_rt_sleep_pc as *const () as u64
}

/// Address generated code calls to report a trap: [`rt_trap`] with the
/// caller's real return address as `pc`.
pub fn trap_addr() -> u64 {
    podus_rt_trap_pc as *const () as u64
}
