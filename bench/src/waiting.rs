//! Benchmark 3: throughput while an update waits (SPEC §7 "Waiting").
//!
//! `work` never returns: it loops calling a small leaf and prints a line
//! every N iterations. Version 2 changes both. When the update begins, the
//! leaf commits at once (it is never on the stack at a safepoint) while
//! `work` stays pending for as long as the program runs, with return
//! interrupts enabled. Throughput is read off the program's own output:
//! iterations per second between the first and last line of a window.
//! Windows alternate between no update pending and an update pending (a
//! new version each time, aborted after its window), so that the drift of
//! a shared machine cancels out.

use crate::report::{Entry, Op, Results};
use crate::util::{self, median};
use anyhow::{Result, bail};
use std::time::{Duration, Instant};
use vm::UpdateRequest;

/// Iterations between two output lines.
const N: u64 = 1_000_000;

/// Sizes and repetitions.
pub(crate) struct Opts {
    /// Runs (each one program).
    pub runs: usize,
    /// Update/abort cycles per run.
    pub cycles: usize,
    /// Length of one measuring window.
    pub window: Duration,
}

/// Version `v`: the leaf adds `v`, and `work` prints `v`, so both change.
fn program(v: u64) -> String {
    format!(
        "int leaf(int x) {{ return x + {v}; }}\n\
         void work() {{\n    int i = 0, c = {N}, s = 0;\n    while (1) {{\n        \
         s = leaf(s);\n        c = c - 1;\n        if (c == 0) {{\n            c = {N};\n            \
         i = i + 1;\n            printf(\"v{v} tick %d %d\\n\", i, s);\n        }}\n    }}\n}}\n\
         main() {{ work(); }}\n"
    )
}

/// Iterations per second over the output lines that arrived in [from, to].
fn throughput(cap: &util::Capture, from: Instant, to: Instant) -> Result<f64> {
    let ts: Vec<Instant> = cap
        .chunks()
        .into_iter()
        .filter(|(t, c)| *t >= from && *t <= to && c.contains(" tick "))
        .map(|(t, _)| t)
        .collect();
    if ts.len() < 3 {
        bail!("only {} output lines in a {:?} window", ts.len(), to - from);
    }
    let span = (*ts.last().unwrap() - ts[0]).as_secs_f64();
    Ok((ts.len() - 1) as f64 * N as f64 / span)
}

/// Let the program run for one window and measure it.
fn window(cap: &util::Capture, w: Duration) -> Result<f64> {
    let from = Instant::now();
    std::thread::sleep(w);
    let to = Instant::now();
    let r = throughput(cap, from, to);
    cap.clear();
    r
}

/// Run benchmark 3.
///
/// The machine is shared, so its speed drifts from one second to the next.
/// Each run therefore alternates: an undisturbed window, then per cycle a
/// new version loaded and an update begun (pending on `work`), a window,
/// the pending group aborted, and another undisturbed window. Each pending
/// window is compared with the mean of the undisturbed windows on either
/// side of it.
pub(crate) fn run(o: &Opts, r: &mut Results) -> Result<()> {
    let mut free = Vec::new();
    let mut pending = Vec::new();
    let mut ratios = Vec::new();
    for _ in 0..o.runs {
        let (vm, cap) = util::vm_captured(true)?;
        vm.load(
            vm::VersionNo(1),
            util::compile("work1.uc", &program(1))?,
            None,
        )
        .map_err(|e| anyhow::anyhow!("load: {e}"))?;
        vm.run(Some(vm::VersionNo(1)))
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        cap.wait_contains("v1 tick 2 ", Duration::from_secs(30))?;
        std::thread::sleep(o.window / 4);
        cap.clear();
        let mut last_free = window(&cap, o.window)?;
        free.push(last_free);
        for c in 0..o.cycles as u64 {
            let v = 2 + c;
            vm.load(
                vm::VersionNo(v),
                util::compile("work.uc", &program(v))?,
                None,
            )
            .map_err(|e| anyhow::anyhow!("load: {e}"))?;
            let begun = vm
                .begin_update(UpdateRequest::default())
                .map_err(|e| anyhow::anyhow!("begin_update: {e}"))?;
            // The program may have been paused in leaf's prologue (a
            // safepoint); then leaf commits when it returns, a moment later.
            if !begun.pending.contains(&vec!["work".to_string()]) {
                bail!("expected work to stay pending, got {:?}", begun.pending);
            }
            let deadline = Instant::now() + Duration::from_secs(5);
            while vm
                .status()
                .pending
                .iter()
                .map(|p| p.groups.len())
                .sum::<usize>()
                != 1
            {
                if Instant::now() > deadline {
                    bail!("leaf did not commit: {:?}", vm.status().pending);
                }
                std::thread::sleep(Duration::from_millis(1));
            }
            cap.clear();
            let p = window(&cap, o.window)?;
            if vm.status().pending.is_empty() {
                bail!("the update on work stopped being pending during the window");
            }
            let n = vm.abort_updates();
            if n != 1 {
                bail!("abort abandoned {n} groups, expected 1");
            }
            cap.clear();
            let f = window(&cap, o.window)?;
            ratios.push(p / ((last_free + f) / 2.0));
            pending.push(p);
            free.push(f);
            last_free = f;
        }
        vm.stop();
        vm.wait_exit(Duration::from_secs(10));
    }
    let m = |v: &[f64]| v.iter().map(|x| x / 1e6).collect::<Vec<f64>>();
    r.add(
        Entry::info(
            "waiting.free",
            "iterations/s with no update pending",
            median(&free) / 1e6,
            "M iter/s",
            m(&free),
        )
        .note(format!(
            "One iteration is a call of the leaf plus a countdown; a line every {N} iterations, \
             timestamped as it arrives; {:?} windows, {} runs of {} update/abort cycles.",
            o.window, o.runs, o.cycles
        )),
    );
    r.add(Entry::info(
        "waiting.pending",
        "iterations/s while an update waits on work (leaf already new)",
        median(&pending) / 1e6,
        "M iter/s",
        m(&pending),
    ));
    let e = Entry::info(
        "waiting.ratio",
        "throughput while pending / without a pending update",
        median(&ratios),
        "ratio",
        ratios,
    )
    .target(
        Op::Ge,
        0.8,
        "keeps ≥ 80% of its throughput while an update is pending on an active procedure",
    )
    .note(
        "Median over cycles of each pending window against the mean of the undisturbed \
         windows just before and after it.",
    );
    let e = e.why(
        "While the update is pending the return barrier sits on work's frame, which never \
         returns, so no poll or call should cost more than before; a miss here means the \
         pending state adds work to the loop, or that the machine's drift was not cancelled \
         (see the per-window values).",
    );
    r.add(e);
    Ok(())
}
