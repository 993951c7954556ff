//! Benchmark 3: throughput while an update waits (SPEC §7 "Waiting").
//!
//! `work` never returns: it loops calling a small leaf and prints a line
//! every N iterations. Version 2 changes both. When the update begins, the
//! leaf commits at once (it is never on the stack at a safepoint) while
//! `work` stays pending for as long as the program runs, with return
//! interrupts enabled. Throughput is read off the program's own output:
//! iterations per second between the first and last line of a window.
//! Three windows per run: before the update, while it is pending, and after
//! it was aborted (to see that the program gets its speed back).

use crate::report::{Entry, Op, Results};
use crate::util::{self, median};
use anyhow::{Result, bail};
use std::time::{Duration, Instant};
use vm::UpdateRequest;

/// Iterations between two output lines.
const N: u64 = 1_000_000;

/// Sizes and repetitions.
pub struct Opts {
    /// Runs (each one program with three windows).
    pub runs: usize,
    /// Length of one measuring window.
    pub window: Duration,
}

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
pub fn run(o: &Opts, r: &mut Results) -> Result<()> {
    let (v1, v2) = (program(1), program(2));
    let mut before = Vec::new();
    let mut pending = Vec::new();
    let mut after = Vec::new();
    for _ in 0..o.runs {
        let (vm, cap) = util::vm_captured(true)?;
        vm.load(1, util::compile("work1.uc", &v1)?, None)
            .map_err(|e| anyhow::anyhow!("load: {e}"))?;
        vm.load(2, util::compile("work2.uc", &v2)?, None)
            .map_err(|e| anyhow::anyhow!("load: {e}"))?;
        vm.run(Some(1)).map_err(|e| anyhow::anyhow!("{e}"))?;
        cap.wait_contains("v1 tick 2 ", Duration::from_secs(30))?;
        // A short settling period, then the undisturbed window.
        std::thread::sleep(o.window / 4);
        cap.clear();
        before.push(window(&cap, o.window)?);

        let begun = vm
            .begin_update(UpdateRequest::default())
            .map_err(|e| anyhow::anyhow!("begin_update: {e}"))?;
        // The program may have been paused in leaf's prologue (a safepoint),
        // in which case leaf commits when it returns, a moment later.
        if !begun.pending.contains(&vec!["work".to_string()]) {
            bail!("expected work to stay pending, got {:?}", begun.pending);
        }
        let deadline = Instant::now() + Duration::from_secs(5);
        while vm.status().pending.iter().map(|p| p.3.len()).sum::<usize>() != 1 {
            if Instant::now() > deadline {
                bail!("leaf did not commit: {:?}", vm.status().pending);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        cap.clear();
        pending.push(window(&cap, o.window)?);
        if vm.status().pending.is_empty() {
            bail!("the update on work stopped being pending during the window");
        }

        let n = vm.abort_updates();
        if n != 1 {
            bail!("abort abandoned {n} groups, expected 1");
        }
        cap.clear();
        after.push(window(&cap, o.window)?);
        vm.stop();
        vm.wait_exit(Duration::from_secs(10));
    }
    let m = |v: &[f64]| v.iter().map(|x| x / 1e6).collect::<Vec<f64>>();
    r.add(
        Entry::info(
            "waiting.before",
            "iterations/s with no update",
            median(&before) / 1e6,
            "M iter/s",
            m(&before),
        )
        .note(format!(
            "One iteration is a call of the leaf plus a countdown; a line every {N} iterations, timestamped as it arrives; {:?} windows.",
            o.window
        )),
    );
    r.add(Entry::info(
        "waiting.pending",
        "iterations/s while the update waits on work (leaf already new)",
        median(&pending) / 1e6,
        "M iter/s",
        m(&pending),
    ));
    r.add(Entry::info(
        "waiting.after_abort",
        "iterations/s after the pending group was aborted",
        median(&after) / 1e6,
        "M iter/s",
        m(&after),
    ));
    let per: Vec<f64> = pending.iter().zip(&before).map(|(p, b)| p / b).collect();
    let e = Entry::info(
        "waiting.ratio",
        "throughput while pending / without update",
        median(&per),
        "ratio",
        per,
    )
    .target(
        Op::Ge,
        0.8,
        "keeps ≥ 80% of its throughput while an update is pending on an active procedure",
    )
    .note("Median of the per-run ratios (each run measures both windows back to back).");
    let e = if e.missed() {
        e.note(
            "While the update is pending the return barrier sits on work's frame, which never \
             returns; the loss comes from what the pending state adds to every call or poll.",
        )
    } else {
        e
    };
    r.add(e);
    Ok(())
}
