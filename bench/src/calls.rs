//! Benchmark 1: the cost of a UC call and of a UC loop, next to C, Erlang
//! and LuaJIT measured in the same run (SPEC §7 "Calls" and "Readiness").
//!
//! Recursive fib is call-bound: every call is a binding-table load, an
//! indirect call, frame-pointer setup and (with safepoints) a poll after it
//! returns. The C variants bracket the design: plain gcc -O2 (which turns
//! one of the two recursions into a loop), plain calls kept, every call
//! through a `volatile` function-pointer table (the design's C equivalent)
//! and that table plus a return-flag check (a safepoint's C equivalent).
//! All alternatives are measured interleaved, round by round, so that the
//! noise of a shared machine hits them alike.

use crate::report::{Entry, Op, Results};
use crate::util::{self, median};
use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// Sizes and repetitions.
pub(crate) struct Opts {
    /// Rounds (each alternative once per round).
    pub runs: usize,
    /// fib(n) is timed.
    pub fib_n: u64,
    /// Iterations of the loop kernel.
    pub loop_n: u64,
}

/// fib(n) calls fib 2·fib(n+1) − 1 times.
pub(crate) fn fib_calls(n: u64) -> f64 {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n + 1 {
        (a, b) = (b, a + b);
    }
    (2 * a - 1) as f64
}

fn fib_uc(n: u64) -> String {
    format!(
        "long fib(long n) {{\n    if (n < 2) return n;\n    return fib(n - 1) + fib(n - 2);\n}}\n\
         main() {{ printf(\"%ld\\n\", fib({n})); }}\n"
    )
}

/// The loop kernel: a 64-bit LCG (so that neither compiler can find a
/// closed form or vectorize it) and a second recurrence, summed.
fn loop_uc(n: u64) -> String {
    format!(
        "long kernel(long n) {{\n    long i, x = 1, y = 2, s = 0;\n    for (i = 0; i < n; i++) {{\n        \
         x = x * 6364136223846793005 + 1442695040888963407;\n        y = y * 3 + i;\n        \
         s = s + (x - y);\n    }}\n    return s;\n}}\n\
         main() {{ printf(\"%ld\\n\", kernel({n})); }}\n"
    )
}

/// Run→exit overhead of the VM itself (thread start, entry trampoline,
/// one printf, exit), subtracted from the UC timings.
const EMPTY_UC: &str = "main() { printf(\"%d\\n\", 0); }\n";

/// One C source for every fib variant; the variant is chosen by -D.
const FIB_C: &str = r#"#include <stdio.h>
#include <stdlib.h>
#include <time.h>
typedef long (*fn_t)(long);
long fib(long n);
#if defined(TABLE) || defined(FLAG)
/* Every call loads its target from memory, as UC's binding table does. */
static fn_t volatile table[1] = { fib };
#define CALL(x) table[0](x)
#else
#define CALL(x) fib(x)
#endif
#ifdef FLAG
/* A return-flag check after every call: a safepoint poll. */
volatile int flag;
__attribute__((noinline)) void slow(void) { flag = 0; }
#define CHECK() do { if (__builtin_expect(flag, 0)) slow(); } while (0)
#else
#define CHECK() do {} while (0)
#endif
long fib(long n) {
    if (n < 2) return n;
    long a = CALL(n - 1); CHECK();
    long b = CALL(n - 2); CHECK();
    return a + b;
}
int main(int argc, char **argv) {
    long n = atol(argv[1]);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long r = fib(n);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%ld %ld\n", r, (long)((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec)));
    return 0;
}
"#;

const LOOP_C: &str = r#"#include <stdio.h>
#include <stdlib.h>
#include <time.h>
long kernel(long n) {
    unsigned long i, x = 1, y = 2, s = 0;
    for (i = 0; i < (unsigned long)n; i++) {
        x = x * 6364136223846793005UL + 1442695040888963407UL;
        y = y * 3 + i;
        s = s + (x - y);
    }
    return (long)s;
}
int main(int argc, char **argv) {
    long n = atol(argv[1]);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    long r = kernel(n);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("%ld %ld\n", r, (long)((t1.tv_sec - t0.tv_sec) * 1000000000L + (t1.tv_nsec - t0.tv_nsec)));
    return 0;
}
"#;

/// Erlang with hot-swappable (fully qualified) calls: what a code reload
/// would redirect.
const FIB_ERL: &str = r#"-module(fibe).
-export([fib/1, main/1]).
fib(N) when N < 2 -> N;
fib(N) -> ?MODULE:fib(N - 1) + ?MODULE:fib(N - 2).
main([A]) ->
    N = list_to_integer(A),
    T0 = erlang:monotonic_time(nanosecond),
    R = fib(N),
    T1 = erlang:monotonic_time(nanosecond),
    io:format("~b ~b~n", [R, T1 - T0]),
    halt(0).
"#;

/// LuaJIT with a global fib: every call looks the global up, so replacing
/// it swaps the code (LuaJIT's hot-swappable call). os.clock is CPU time.
const FIB_LUA: &str = r#"function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
local n = tonumber(arg[1])
fib(24) -- let the tracer compile it first
local t0 = os.clock()
local r = fib(n)
local t1 = os.clock()
print(string.format("%d %d", r, math.floor((t1 - t0) * 1e9)))
"#;

/// Why UC fib is slower than the C table variant: read off the machine
/// code (`PODUS_DUMP_CODE`, objdump) of the VM at the time of writing.
const FIB_MISS: &str = "From the machine code (PODUS_DUMP_CODE + objdump, at the time of writing): a UC \
fib call executes about 26 instructions with safepoints (32 on the n ≥ 2 path, 20 on the n < 2 \
path, each half of the calls) and about 21 without, against 15 for the C table variant \
(callgrind). Where it goes: (1) no shrink-wrapping — the whole prologue and epilogue run even on \
the n < 2 path: the frame pointer kept for stack walking (push rbp; mov rbp,rsp … mov rsp,rbp; \
pop rbp), rbx and r12 saved and restored through stack slots with sub/add rsp; gcc's flag variant \
returns from n < 2 in 4 instructions; (2) the binding-table address is a 64-bit constant \
rematerialized with movabs at every call site, where gcc loads rip-relative in one instruction; \
(3) with safepoints, the prologue's check of the stack-limit word (movabs ctx; load; mov rdx,rsp; \
cmp; jb) — 5 instructions on every call, the safepoint and the stack-overflow check in one; \
(4) a register move before the final add that gcc folds into lea.";

/// Why the safepoint costs what it costs on fib.
const SAFEPOINT_FIB_MISS: &str = "A UC safepoint on calls is the prologue's compare of rsp with \
the stack-limit word, which the runtime raises to ask for a pause: a movabs of the context \
address, a load, a move, a compare and a never-taken branch on every call of a body of about 20 \
instructions. Safepoints off also removes the stack-overflow check that the same compare does, \
so part of this overhead is a check C does not make either.";

/// What the loop kernel's machine code shows.
const LOOP_NOTE: &str = "From the machine code (PODUS_DUMP_CODE + objdump): the back-edge poll \
is mov rax,r15; mov rax,[rax]; cmp rax,-1; je — the context is in Cranelift's pinned register \
and a failed poll calls an argument-free PreserveAll stub, so the poll no longer forces the \
accumulator into a callee-saved register or onto the stack (an earlier version did: 1.21-1.40). \
What is left is those four instructions per iteration of a body of about 14, and a register \
shuffle Cranelift's allocator adds around the loop (a value live across the loop moved out and \
back each iteration); the loop is also not rotated (cmp/jl at the top, jmp at the bottom).";

/// The gcc variants: (name, flags, what).
const C_VARIANTS: &[(&str, &[&str], &str)] = &[
    (
        "c_plain",
        &["-O2"],
        "C gcc -O2 (turns one recursion into a loop)",
    ),
    (
        "c_kept",
        &["-O2", "-fno-optimize-sibling-calls", "-fno-inline"],
        "C gcc -O2, plain calls kept",
    ),
    (
        "c_table",
        &["-O2", "-DTABLE"],
        "C gcc -O2, every call through a volatile function-pointer table",
    ),
    (
        "c_table_flag",
        &["-O2", "-DFLAG"],
        "C gcc -O2, table + return-flag check",
    ),
];

/// A timed external program: prints "result ns".
fn run_timed(cmd: &mut Command, expect: &str) -> Result<f64> {
    let out = util::output(cmd)?;
    let mut it = out.split_whitespace();
    let (Some(r), Some(ns)) = (it.next(), it.next()) else {
        bail!("unexpected output of {cmd:?}: {out:?}");
    };
    if r != expect {
        bail!("{cmd:?} computed {r}, expected {expect}");
    }
    ns.parse::<f64>()
        .with_context(|| format!("bad time in {out:?}"))
}

fn fib_value(n: u64) -> u64 {
    let (mut a, mut b) = (0u64, 1u64);
    for _ in 0..n {
        (a, b) = (b, a + b);
    }
    a
}

fn loop_value(n: u64) -> i64 {
    let (mut x, mut y, mut s) = (1u64, 2u64, 0u64);
    for i in 0..n {
        x = x
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        y = y.wrapping_mul(3).wrapping_add(i);
        s = s.wrapping_add(x.wrapping_sub(y));
    }
    s as i64
}

fn gcc(dir: &Path, src: &Path, out: &str, flags: &[&str]) -> Result<PathBuf> {
    let exe = dir.join(out);
    util::output(Command::new("gcc").args(flags).arg("-o").arg(&exe).arg(src))?;
    Ok(exe)
}

/// How instructions are counted on this machine.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Counter {
    /// `perf stat -e instructions` (hardware counter).
    Perf,
    /// `valgrind --tool=callgrind` (simulated; cannot host the VM's 8 TiB
    /// reservation, so C only).
    Callgrind,
}

impl Counter {
    fn detect() -> Option<Counter> {
        let perf_ok = Command::new("perf")
            .args(["stat", "-x,", "-e", "instructions", "true"])
            .output()
            .map(|o| {
                let e = String::from_utf8_lossy(&o.stderr);
                o.status.success() && !e.contains("not supported") && !e.contains("<not")
            })
            .unwrap_or(false);
        if perf_ok {
            Some(Counter::Perf)
        } else if util::have("valgrind") {
            Some(Counter::Callgrind)
        } else {
            None
        }
    }

    /// Instructions retired by the whole command.
    fn count(self, exe: &Path, args: &[String]) -> Result<f64> {
        let mut cmd = match self {
            Counter::Perf => {
                let mut c = Command::new("perf");
                c.args(["stat", "-x,", "-e", "instructions:u"]);
                c
            }
            Counter::Callgrind => {
                let mut c = Command::new("valgrind");
                c.args(["--tool=callgrind", "--callgrind-out-file=/dev/null"]);
                c
            }
        };
        let o = cmd
            .arg(exe)
            .args(args)
            .output()
            .with_context(|| format!("running {cmd:?}"))?;
        let err = String::from_utf8_lossy(&o.stderr);
        if !o.status.success() {
            bail!("{cmd:?} failed: {err}");
        }
        let n = match self {
            Counter::Perf => err
                .lines()
                .find(|l| l.contains("instructions"))
                .and_then(|l| l.split(',').next())
                .and_then(|v| v.trim().parse::<f64>().ok()),
            Counter::Callgrind => err
                .lines()
                .find_map(|l| l.split("Collected :").nth(1))
                .and_then(|v| v.trim().parse::<f64>().ok()),
        };
        n.with_context(|| format!("no instruction count from {cmd:?}: {err}"))
    }
}

/// A UC program, loaded once into its own VM and run to exit once per round.
struct UcProg {
    vm: vm::Vm,
    cap: std::sync::Arc<util::Capture>,
    expect: String,
}

impl UcProg {
    fn new(name: &str, src: &str, safepoints: bool, expect: String) -> Result<UcProg> {
        let (vm, cap) = util::vm_loaded(name, src, safepoints)?;
        Ok(UcProg { vm, cap, expect })
    }

    /// Wall time of one run, ns (overhead not yet subtracted).
    fn time(&self) -> Result<f64> {
        self.cap.clear();
        let ns = util::run_to_exit(&self.vm, Duration::from_secs(120))?;
        let out = self.cap.text();
        if out.trim() != self.expect {
            bail!("UC printed {out:?}, expected {}", self.expect);
        }
        Ok(ns)
    }
}

/// Ratio of medians, with the per-round ratios as its runs.
fn ratio(id: &str, title: &str, num: &[f64], den: &[f64]) -> Entry {
    let per: Vec<f64> = num.iter().zip(den).map(|(a, b)| a / b).collect();
    Entry::info(id, title, median(num) / median(den), "ratio", per)
}

/// Run benchmark 1.
pub(crate) fn run(o: &Opts, r: &mut Results) -> Result<()> {
    let dir = tempfile::tempdir()?;
    let d = dir.path();
    let calls = fib_calls(o.fib_n);
    let fib_expect = fib_value(o.fib_n).to_string();
    let loop_expect = loop_value(o.loop_n).to_string();

    // C binaries.
    let have_gcc = util::have("gcc");
    let mut c_fib: Vec<(&str, &str, PathBuf)> = Vec::new();
    let mut c_loop = None;
    if have_gcc {
        let src = util::write(d, "fib.c", FIB_C)?;
        for (name, flags, what) in C_VARIANTS {
            c_fib.push((name, what, gcc(d, &src, name, flags)?));
        }
        let lsrc = util::write(d, "loop.c", LOOP_C)?;
        c_loop = Some(gcc(d, &lsrc, "loop_c", &["-O2"])?);
    } else {
        r.skip("calls.c", "gcc is not installed");
    }
    // Erlang.
    let erl = if util::have("erlc") && util::have("erl") {
        let src = util::write(d, "fibe.erl", FIB_ERL)?;
        util::output(Command::new("erlc").arg("-o").arg(d).arg(&src))?;
        true
    } else {
        r.skip(
            "calls.fib.erlang",
            "erl/erlc are not installed (Debian: apt-get install erlang-nox)",
        );
        false
    };
    let lua = if util::have("luajit") {
        Some(util::write(d, "fib.lua", FIB_LUA)?)
    } else {
        r.skip(
            "calls.fib.luajit",
            "luajit is not installed (Debian: apt-get install luajit)",
        );
        None
    };

    // UC programs, each in its own VM, loaded once.
    let fib_src = fib_uc(o.fib_n);
    let loop_src = loop_uc(o.loop_n);
    let uc_fib = UcProg::new("fib.uc", &fib_src, true, fib_expect.clone())?;
    let uc_fib_nosp = UcProg::new("fib.uc", &fib_src, false, fib_expect.clone())?;
    let uc_loop = UcProg::new("loop.uc", &loop_src, true, loop_expect.clone())?;
    let uc_loop_nosp = UcProg::new("loop.uc", &loop_src, false, loop_expect.clone())?;
    let uc_empty = UcProg::new("empty.uc", EMPTY_UC, true, "0".into())?;

    let n = o.fib_n.to_string();
    let ln = o.loop_n.to_string();
    let mut t_uc = Vec::new();
    let mut t_uc_nosp = Vec::new();
    let mut t_empty = Vec::new();
    let mut t_c: Vec<Vec<f64>> = vec![Vec::new(); c_fib.len()];
    let mut t_erl = Vec::new();
    let mut t_lua = Vec::new();
    let mut t_loop = Vec::new();
    let mut t_loop_nosp = Vec::new();
    let mut t_loop_c = Vec::new();
    let floor = vm::floor::FloorFib::new()
        .map_err(|e| anyhow::anyhow!("Cranelift's own fib does not compile: {e}"))?;
    let mut t_floor = Vec::new();
    println!(
        "  calls: fib({}) = {} calls, loop of {} iterations, {} interleaved rounds",
        o.fib_n, calls, o.loop_n, o.runs
    );
    for _round in 0..o.runs {
        t_empty.push(uc_empty.time()?);
        t_uc.push(uc_fib.time()?);
        t_uc_nosp.push(uc_fib_nosp.time()?);
        {
            let t = std::time::Instant::now();
            let v = floor.call(std::hint::black_box(o.fib_n as i64));
            t_floor.push(t.elapsed().as_nanos() as f64);
            if v.to_string() != fib_expect {
                bail!("Cranelift's own fib gave {v}, expected {fib_expect}");
            }
        }
        for (i, (_, _, exe)) in c_fib.iter().enumerate() {
            t_c[i].push(run_timed(Command::new(exe).arg(&n), &fib_expect)?);
        }
        if erl {
            let mut cmd = Command::new("erl");
            cmd.args(["-noshell", "-noinput", "-pa"])
                .arg(d)
                .args(["-run", "fibe", "main", &n]);
            t_erl.push(run_timed(&mut cmd, &fib_expect)?);
        }
        if let Some(l) = &lua {
            t_lua.push(run_timed(
                Command::new("luajit").arg(l).arg(&n),
                &fib_expect,
            )?);
        }
        t_loop.push(uc_loop.time()?);
        t_loop_nosp.push(uc_loop_nosp.time()?);
        if let Some(exe) = &c_loop {
            t_loop_c.push(run_timed(Command::new(exe).arg(&ln), &loop_expect)?);
        }
    }

    // UC times are run→exit; take off the VM's own run→exit overhead.
    let overhead = median(&t_empty);
    let per = |ts: &[f64], k: f64, sub: f64| -> Vec<f64> {
        ts.iter().map(|t| (t - sub).max(0.0) / k).collect()
    };
    let uc = per(&t_uc, calls, overhead);
    let uc_nosp = per(&t_uc_nosp, calls, overhead);
    let c: Vec<Vec<f64>> = t_c.iter().map(|t| per(t, calls, 0.0)).collect();
    let erl_pc = per(&t_erl, calls, 0.0);
    let lua_pc = per(&t_lua, calls, 0.0);
    let lp = per(&t_loop, o.loop_n as f64, overhead);
    let lp_nosp = per(&t_loop_nosp, o.loop_n as f64, overhead);
    let lp_c = per(&t_loop_c, o.loop_n as f64, 0.0);

    r.add(
        Entry::info(
            "calls.vm_run_overhead",
            "VM run→exit of an empty main (subtracted from UC times)",
            overhead / 1e3,
            "µs",
            t_empty.iter().map(|t| t / 1e3).collect(),
        )
        .note("Thread start with its stack, entry trampoline, one printf and the exit handshake."),
    );
    r.add(
        Entry::info(
            "calls.fib.uc",
            "UC fib, safepoints on (the shipping code)",
            median(&uc),
            "ns/call",
            uc.clone(),
        )
        .note(format!(
            "fib({}) through the vm library, wall time from run to exit minus the empty-main overhead, divided by {} calls. \
             From the disassembly (PODUS_DUMP_CODE) at the time of writing: about 26 instructions per call with \
             safepoints, 21 without (UC cannot run under callgrind; see calls.instr.*).",
            o.fib_n, calls
        )),
    );
    r.add(Entry::info(
        "calls.fib.uc_nosp",
        "UC fib, safepoints off (benchmark-only switch; binding-table calls stay)",
        median(&uc_nosp),
        "ns/call",
        uc_nosp.clone(),
    ));
    for (i, (name, what, _)) in c_fib.iter().enumerate() {
        r.add(Entry::info(
            &format!("calls.fib.{name}"),
            what,
            median(&c[i]),
            "ns/call",
            c[i].clone(),
        ));
    }
    if erl {
        r.add(
            Entry::info(
                "calls.fib.erlang",
                "Erlang, fully qualified ?MODULE:fib calls (hot-swappable)",
                median(&erl_pc),
                "ns/call",
                erl_pc.clone(),
            )
            .note("Timed inside the BEAM with erlang:monotonic_time around fib(n); erlc-compiled, BEAM JIT."),
        );
    }
    if lua.is_some() {
        r.add(
            Entry::info(
                "calls.fib.luajit",
                "LuaJIT, global fib (hot-swappable)",
                median(&lua_pc),
                "ns/call",
                lua_pc.clone(),
            )
            .note("Timed with os.clock (CPU time) after a warm-up fib(24)."),
        );
    }

    let floor_pc = per(&t_floor, calls, 0.0);
    r.add(
        Entry::info(
            "calls.fib.cranelift_floor",
            "Cranelift's own fib: direct calls, no binding table, no safepoints",
            median(&floor_pc),
            "ns/call",
            floor_pc.clone(),
        )
        .note(
            "vm::floor::FloorFib: the same Cranelift settings as UC code (opt_level=speed, frame \
             pointers, pinned r15), calls patched to the function itself, timed in-process.",
        ),
    );
    r.add(
        ratio(
            "calls.fib.uc_vs_floor",
            "UC fib / Cranelift's own direct-call fib",
            &uc,
            &floor_pc,
        )
        .target(
            Op::Le,
            1.05,
            "SPEC §7: recursive fib in UC within 1.05× of Cranelift's own direct-call fib",
        ),
    );
    let idx = |n: &str| c_fib.iter().position(|c| c.0 == n);
    if let Some(t) = idx("c_table") {
        r.add(
            ratio(
                "calls.fib.floor_vs_c_table",
                "Cranelift's own fib / C through a function-pointer table",
                &floor_pc,
                &c[t],
            )
            .note(
                "The engine's code quality, not the design's: UC / C table is this times \
                 UC / Cranelift floor.",
            ),
        );
    }
    if let Some(t) = idx("c_table") {
        let e = ratio(
            "calls.fib.uc_vs_c_table",
            "UC fib / C through a function-pointer table",
            &uc,
            &c[t],
        )
        .target(
            Op::Le,
            1.2,
            "recursive fib within 1.2× of gcc -O2 with a function-pointer table",
        );
        let e = e.why(FIB_MISS);
        r.add(e);
    }
    if let Some(t) = idx("c_table_flag") {
        r.add(ratio(
            "calls.fib.uc_vs_c_table_flag",
            "UC fib / C through the table with a return-flag check",
            &uc,
            &c[t],
        ));
    }
    if let Some(t) = idx("c_plain") {
        r.add(ratio(
            "calls.fib.uc_vs_c_plain",
            "UC fib / plain gcc -O2 (SPEC: the table variant is ≈3.1× of this)",
            &uc,
            &c[t],
        ));
    }
    if let (Some(t), Some(p)) = (idx("c_table"), idx("c_plain")) {
        r.add(ratio(
            "calls.fib.c_table_vs_c_plain",
            "C table / plain gcc -O2 (SPEC's reference: ≈3.1×)",
            &c[t],
            &c[p],
        ));
    }
    if erl {
        let e = ratio(
            "calls.fib.erlang_vs_uc",
            "Erlang hot-swappable calls / UC (how far UC is ahead)",
            &erl_pc,
            &uc,
        )
        .target(
            Op::Ge,
            2.0,
            "at least 2× ahead of Erlang's hot-swappable calls",
        );
        let e = match idx("c_table") {
            Some(t) => {
                let (u, er, ct) = (median(&uc), median(&erl_pc), median(&c[t]));
                e.why(format!(
                    "Erlang's hot-swappable call measured {er:.2} ns here (SPEC's reference \
                     machine: 3.2 ns) against {u:.2} ns for UC. UC's own per-call overhead \
                     beyond the C table variant ({ct:.2} ns here; see calls.fib.uc_vs_c_table) \
                     narrows the gap: at the C table's speed UC would be {:.2}× ahead. On this \
                     machine the gcc table variant itself is slower relative to Erlang than on \
                     the SPEC's reference machine (1.31 vs 3.2 ns there).",
                    er / ct
                ))
            }
            None => e,
        };
        r.add(e);
    }
    if lua.is_some() {
        r.add(ratio("calls.fib.luajit_vs_uc", "LuaJIT / UC", &lua_pc, &uc));
    }
    let e = ratio(
        "calls.safepoints.fib",
        "Safepoint overhead on fib: UC with / without safepoints",
        &uc,
        &uc_nosp,
    )
    .target(
        Op::Le,
        1.05,
        "safepoints cost at most 5% over the same UC code without them (fib)",
    );
    let e = e.why(SAFEPOINT_FIB_MISS);
    r.add(e);

    r.add(
        Entry::info(
            "calls.loop.uc",
            "UC loop kernel, safepoints on",
            median(&lp),
            "ns/iter",
            lp.clone(),
        )
        .note(format!(
            "{} iterations of a 64-bit LCG plus a second recurrence, summed (no closed form, no vectorization); bound by the multiply's latency.",
            o.loop_n
        )),
    );
    r.add(Entry::info(
        "calls.loop.uc_nosp",
        "UC loop kernel, safepoints off",
        median(&lp_nosp),
        "ns/iter",
        lp_nosp.clone(),
    ));
    if c_loop.is_some() {
        r.add(Entry::info(
            "calls.loop.c",
            "C loop kernel, gcc -O2",
            median(&lp_c),
            "ns/iter",
            lp_c.clone(),
        ));
        let e = ratio("calls.loop.uc_vs_c", "UC loop kernel / gcc -O2", &lp, &lp_c).target(
            Op::Le,
            1.3,
            "a tight loop kernel within 1.3× of gcc -O2",
        );
        let e = e.why(LOOP_NOTE);
        r.add(e);
    }
    let e = ratio(
        "calls.safepoints.loop",
        "Safepoint overhead on the loop: UC with / without safepoints",
        &lp,
        &lp_nosp,
    )
    .target(
        Op::Le,
        1.05,
        "safepoints cost at most 5% over the same UC code without them (loop)",
    )
    .why(LOOP_NOTE);
    r.add(e);

    instruction_counts(r, &c_fib, c_loop.as_deref())?;
    Ok(())
}

/// Instructions per call (and per loop iteration): perf where the machine
/// exposes the counter (then UC too, through a child process), else
/// callgrind on the C binaries only. Two sizes each, so that start-up
/// cancels out in the difference.
fn instruction_counts(
    r: &mut Results,
    c_fib: &[(&str, &str, PathBuf)],
    c_loop: Option<&Path>,
) -> Result<()> {
    let Some(counter) = Counter::detect() else {
        r.skip(
            "calls.instructions",
            "`perf stat -e instructions` is not supported on this machine and valgrind is not installed",
        );
        return Ok(());
    };
    let how = match counter {
        Counter::Perf => "perf stat -e instructions:u",
        Counter::Callgrind => {
            "callgrind Ir (perf's instruction counter is not supported on this machine)"
        }
    };
    let (a, b) = (18u64, 22u64);
    let dcalls = fib_calls(b) - fib_calls(a);
    let per_call = |exe: &Path, pre: &[String]| -> Result<f64> {
        let args = |n: u64| {
            let mut v = pre.to_vec();
            v.push(n.to_string());
            v
        };
        Ok((counter.count(exe, &args(b))? - counter.count(exe, &args(a))?) / dcalls)
    };
    for (name, what, exe) in c_fib {
        r.add(
            Entry::info(
                &format!("calls.instr.fib.{name}"),
                &format!("instructions per call: {what}"),
                per_call(exe, &[])?,
                "instr/call",
                vec![],
            )
            .note(format!(
                "{how}: fib({b}) minus fib({a}), over the difference in calls."
            )),
        );
    }
    if counter == Counter::Perf {
        let me = std::env::current_exe()?;
        for (sp, name) in [(true, "uc"), (false, "uc_nosp")] {
            let mut pre = vec![];
            if !sp {
                pre.push("--child-nosp".to_string());
            }
            pre.push("--child-fib".to_string());
            r.add(Entry::info(
                &format!("calls.instr.fib.{name}"),
                &format!(
                    "instructions per call: UC fib, safepoints {}",
                    if sp { "on" } else { "off" }
                ),
                per_call(&me, &pre)?,
                "instr/call",
                vec![],
            ));
        }
    } else {
        r.skip(
            "calls.instr.fib.uc",
            "UC cannot run under valgrind (its 8 TiB address-space reservation is refused) \
             and perf's counter is unavailable; see the notes of calls.fib.uc_vs_c_table for \
             a count from the disassembly",
        );
    }
    if let Some(exe) = c_loop {
        let (la, lb) = (1_000_000u64, 3_000_000u64);
        let ia = counter.count(exe, &[la.to_string()])?;
        let ib = counter.count(exe, &[lb.to_string()])?;
        r.add(Entry::info(
            "calls.instr.loop.c",
            "instructions per iteration: C loop kernel",
            (ib - ia) / (lb - la) as f64,
            "instr/iter",
            vec![],
        ));
    }
    Ok(())
}

/// Run UC fib(n) once in this process (the child whose instructions perf
/// counts).
pub(crate) fn child_fib(n: u64, safepoints: bool) -> Result<()> {
    let p = UcProg::new("fib.uc", &fib_uc(n), safepoints, fib_value(n).to_string())?;
    p.time()?;
    Ok(())
}
