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
}

impl TrapKind {
    fn from_u32(v: u32) -> TrapKind {
        match v {
            1 => TrapKind::DivByZero,
            2 => TrapKind::RemByZero,
            3 => TrapKind::OutOfBounds,
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
        for (i, fr) in self.backtrace.iter().enumerate() {
            writeln!(f, "  #{i} {fr}")?;
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
    host: *const dyn Host,
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
    pub unsafe fn new(region_base: u64, host: *const dyn Host) -> Ctx {
        Ctx {
            limit: AtomicU64::new(u64::MAX),
            real_limit: AtomicU64::new(u64::MAX),
            entry_sp: AtomicU64::new(0),
            barrier_slot: AtomicU64::new(0),
            barrier_orig: AtomicU64::new(0),
            requests: AtomicU32::new(0),
            region_base,
            status: Mutex::new(None),
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
    mut fp: u64,
    is_code: impl Fn(u64) -> bool,
) -> Vec<RawFrame> {
    let mut frames = vec![RawFrame { pc, fp }];
    let barrier = podus_return_barrier as *const () as u64;
    let slot = ctx.barrier_slot.load(SeqCst);
    for _ in 0..50_000_000u64 {
        if fp == 0 || fp % 8 != 0 {
            break;
        }
        // SAFETY: generated code keeps frame pointers, so fp points at
        // [saved fp, return address] of a live frame.
        let (saved_fp, mut ret) = unsafe { (*(fp as *const u64), *((fp + 8) as *const u64)) };
        if ret == barrier && slot == fp + 8 {
            ret = ctx.barrier_orig.load(SeqCst);
        }
        if !is_code(ret) || saved_fp <= fp {
            break;
        }
        frames.push(RawFrame {
            pc: ret,
            fp: saved_fp,
        });
        fp = saved_fp;
    }
    frames
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
/// safepoints and builtins use `ctx`.
pub unsafe fn run_code(ctx: &Ctx, entry: u64, arg: u64, stack_size: usize) -> ExitStatus {
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
    unsafe { podus_enter(entry, ctx as *const Ctx as u64, arg) };
    CURRENT.with(|c| c.set(prev));
    ctx.drop_barrier();
    ctx.take_status().unwrap_or(ExitStatus::Returned)
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

extern "C" fn rt_barrier_hit(fp: u64) -> u64 {
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
pub unsafe extern "C" fn rt_safepoint(ctx: *const Ctx, fp: u64, sp: u64, pc: u64) {
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
pub unsafe extern "C" fn rt_trap(ctx: *const Ctx, kind: u32, fp: u64, pc: u64, span: u32) {
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
pub unsafe extern "C" fn rt_exit(ctx: *const Ctx, code: i64) {
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
pub unsafe extern "C" fn rt_sleep(ctx: *const Ctx, ms: i64, fp: u64, pc: u64) {
    // SAFETY: generated code passes its own context.
    let ctx = unsafe { &*ctx };
    let deadline = Instant::now() + Duration::from_millis(ms.max(0) as u64);
    loop {
        let requested = ctx.host().sleep_until(ctx, deadline);
        if requested {
            if let Err(st) = ctx.host().handle_requests(ctx, fp, pc) {
                // SAFETY: nothing with a destructor is live here.
                unsafe { leave(ctx, st) }
            }
        }
        if Instant::now() >= deadline {
            return;
        }
    }
}

/// `now_ms()`: milliseconds since the Unix epoch.
pub extern "C" fn rt_now_ms() -> i64 {
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
pub unsafe extern "C" fn rt_printf(ctx: *const Ctx, desc: *const Printf, args: *const u64) {
    // SAFETY: generated code passes its own context and a descriptor that
    // lives as long as its version; `args` has one slot per conversion.
    let (ctx, desc) = unsafe { (&*ctx, &*desc) };
    let mut out = Vec::with_capacity(64);
    let mut i = 0;
    for piece in &desc.pieces {
        match piece {
            PrintPiece::Lit(b) => out.extend_from_slice(b),
            PrintPiece::Conv { cfmt, kind } => {
                // SAFETY: one slot per conversion, per the contract.
                let raw = unsafe { *args.add(i) };
                i += 1;
                c_format(&mut out, cfmt, *kind, raw);
            }
        }
    }
    ctx.host().output(&out);
}

/// The argument kind of a printf conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConvKind {
    /// `%d %i` (as C `long long`).
    Int,
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
    },
}

/// A prepared printf format plus the string literals its `%s` arguments
/// point to; owned by the version whose code refers to it.
#[derive(Debug, Default)]
pub struct Printf {
    /// The pieces in order.
    pub pieces: Vec<PrintPiece>,
}

/// Check a conversion as the compiler wrote it and turn it into the C
/// format that prints it. The pup re-validates everything it is sent, so a
/// forged format cannot reach libc's printf with `%n` or `*`.
pub fn prepare_conv(spec: &str, conv: char) -> Result<PrintPiece, String> {
    let body = spec
        .strip_prefix('%')
        .ok_or_else(|| format!("bad conversion {spec:?}"))?;
    let mut flags = String::new();
    let mut chars = body.chars().peekable();
    while let Some(&c) = chars.peek() {
        if "-+ #0".contains(c) && flags.len() < 5 {
            flags.push(c);
            chars.next();
        } else {
            break;
        }
    }
    let mut width = String::new();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_digit() && width.len() < 3 {
            width.push(c);
            chars.next();
        } else {
            break;
        }
    }
    let mut prec = String::new();
    if chars.peek() == Some(&'.') {
        chars.next();
        prec.push('.');
        while let Some(&c) = chars.peek() {
            if c.is_ascii_digit() && prec.len() < 4 {
                prec.push(c);
                chars.next();
            } else {
                break;
            }
        }
    }
    if chars.peek() == Some(&'l') {
        chars.next();
    }
    let last: String = chars.collect();
    if last.len() != 1 || last.chars().next() != Some(conv) {
        return Err(format!("bad conversion {spec:?}"));
    }
    let (kind, c_conv) = match conv {
        'd' => (ConvKind::Int, "lld"),
        'i' => (ConvKind::Int, "lli"),
        'c' => (ConvKind::Char, "c"),
        'f' => (ConvKind::Double, "f"),
        'e' => (ConvKind::Double, "e"),
        'g' => (ConvKind::Double, "g"),
        's' => (ConvKind::Str, "s"),
        _ => return Err(format!("unsupported conversion {spec:?}")),
    };
    let cfmt = CString::new(format!("%{flags}{width}{prec}{c_conv}")).map_err(|e| e.to_string())?;
    Ok(PrintPiece::Conv { cfmt, kind })
}

/// Format one conversion exactly as C's printf does, by asking libc.
fn c_format(out: &mut Vec<u8>, cfmt: &CString, kind: ConvKind, raw: u64) {
    let mut buf = [0u8; 512];
    let call = |buf: &mut [u8]| -> i32 {
        let p = buf.as_mut_ptr() as *mut libc::c_char;
        let n = buf.len();
        // SAFETY: cfmt holds exactly one validated conversion matching the
        // argument passed; snprintf never writes past n bytes.
        unsafe {
            match kind {
                ConvKind::Int => {
                    libc::snprintf(p, n, cfmt.as_ptr(), raw as i64 as libc::c_longlong)
                }
                ConvKind::Char => libc::snprintf(p, n, cfmt.as_ptr(), raw as i64 as libc::c_int),
                ConvKind::Double => libc::snprintf(p, n, cfmt.as_ptr(), f64::from_bits(raw)),
                ConvKind::Str => libc::snprintf(p, n, cfmt.as_ptr(), raw as *const libc::c_char),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt1(spec: &str, conv: char, raw: u64) -> String {
        let PrintPiece::Conv { cfmt, kind } = prepare_conv(spec, conv).unwrap() else {
            panic!()
        };
        let mut out = Vec::new();
        c_format(&mut out, &cfmt, kind, raw);
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
        assert!(prepare_conv("%*d", 'd').is_err());
        assert!(prepare_conv("%d%n", 'd').is_err());
        assert!(prepare_conv("%99999d", 'd').is_err());
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
