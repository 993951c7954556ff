//! Benchmark 2: the update pause (SPEC §7 "Update pause").
//!
//! A program of K leaf procedures, all changed in version 2 and all
//! inactive when the update begins: `main` sleeps in a loop and only rarely
//! calls a driver that calls them. Every group is inactive, so the whole
//! update commits in the one pause `begin_update` causes. The pause is what
//! the program thread itself measured (`Vm::last_pause_ns`): from the moment
//! it stopped at its safepoint until it was let go, including the wake-ups
//! of both threads.

use crate::report::{Entry, Op, Results};
use crate::util::{self, median};
use anyhow::{Context, Result, bail};
use std::fmt::Write as _;
use std::time::{Duration, Instant};
use vm::{Event, UpdateRequest};

/// Sizes and repetitions.
pub(crate) struct Opts {
    /// Runs per size and configuration.
    pub runs: usize,
    /// Numbers of changed procedures.
    pub sizes: Vec<usize>,
}

/// Version `v` of the K-procedure program: p_i returns x + i + v, so every
/// p_i changes between versions while `driver` and `main` do not.
fn program(k: usize, v: usize) -> String {
    let mut s = String::with_capacity(k * 64);
    for i in 0..k {
        let _ = writeln!(s, "int p{i}(int x) {{ return x + {}; }}", i + v);
    }
    s.push_str("int driver() {\n    int s = 0;\n");
    for i in 0..k {
        let _ = writeln!(s, "    s = s + p{i}(1);");
    }
    s.push_str("    return s;\n}\n");
    // driver runs once at start (so every procedure has run) and then about
    // every second: the update almost never finds it on the stack, and a
    // run where it does is retried.
    s.push_str(
        "main() {\n    int n = 0;\n    driver();\n    printf(\"ready\\n\");\n    \
         while (1) {\n        n = n + 1;\n        if (n % 500 == 0) driver();\n        \
         sleep_ms(2);\n    }\n}\n",
    );
    s
}

/// One measured update.
struct Sample {
    /// Pause the program thread measured, ns.
    pause_ns: f64,
    /// Sum of the GroupCommitted events' pause_ns (with a subscriber).
    groups_ns: Option<f64>,
    /// Wall time of begin_update on the control thread, ns.
    begin_ns: f64,
}

fn once(k: usize, v1: &str, v2: &str, subscribe: bool) -> Result<Option<Sample>> {
    let (vm, cap) = util::vm_captured(true)?;
    vm.load(vm::VersionNo(1), util::compile("pause1.uc", v1)?, None)
        .map_err(|e| anyhow::anyhow!("load v1: {e}"))?;
    vm.run(None).map_err(|e| anyhow::anyhow!("{e}"))?;
    cap.wait_contains("ready", Duration::from_secs(30))?;
    vm.load(vm::VersionNo(2), util::compile("pause2.uc", v2)?, None)
        .map_err(|e| anyhow::anyhow!("load v2: {e}"))?;
    let events = subscribe.then(|| vm.subscribe());
    // Let the program settle into its sleep.
    std::thread::sleep(Duration::from_millis(20));
    let before = vm.last_pause_ns();
    let t = Instant::now();
    let begun = vm
        .begin_update(UpdateRequest::default())
        .map_err(|e| anyhow::anyhow!("begin_update: {e}"))?;
    let begin_ns = t.elapsed().as_nanos() as f64;
    if !begun.complete || begun.committed.len() != k {
        // The rare driver call was on the stack: not the case measured.
        vm.stop();
        return Ok(None);
    }
    // The program thread records its pause after it takes the state lock
    // back, which can be a moment after begin_update returns: wait for the
    // value to change rather than read a stale one.
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut pause = vm.last_pause_ns();
    while pause == before {
        if Instant::now() > deadline {
            bail!("last_pause_ns did not change after the update");
        }
        std::thread::sleep(Duration::from_micros(100));
        pause = vm.last_pause_ns();
    }
    let groups_ns = events.map(|rx| {
        rx.try_iter()
            .filter_map(|e| match e {
                Event::GroupCommitted { pause_ns, .. } => Some(pause_ns as f64),
                _ => None,
            })
            .sum::<f64>()
    });
    vm.stop();
    vm.wait_exit(Duration::from_secs(10))
        .context("the program did not stop")?;
    Ok(Some(Sample {
        pause_ns: pause as f64,
        groups_ns,
        begin_ns,
    }))
}

/// Run benchmark 2.
pub(crate) fn run(o: &Opts, r: &mut Results) -> Result<()> {
    for &k in &o.sizes {
        let v1 = program(k, 1);
        let v2 = program(k, 2);
        let mut with_sub = Vec::new();
        let mut without = Vec::new();
        let mut retries = 0;
        // Interleave the two configurations so that noise hits both alike.
        while with_sub.len() < o.runs || without.len() < o.runs {
            for (sub, into) in [(true, &mut with_sub), (false, &mut without)] {
                if into.len() >= o.runs {
                    continue;
                }
                match once(k, &v1, &v2, sub)? {
                    Some(s) => into.push(s),
                    None => {
                        retries += 1;
                        if retries > 3 * o.runs {
                            bail!("the update kept finding procedures active");
                        }
                    }
                }
            }
        }
        let us = |v: &[Sample], f: fn(&Sample) -> f64| -> Vec<f64> {
            v.iter().map(|s| f(s) / 1e3).collect()
        };
        let pauses = us(&with_sub, |s| s.pause_ns);
        let fastest = pauses.iter().copied().fold(f64::INFINITY, f64::min);
        let slowest = pauses.iter().copied().fold(0.0, f64::max);
        let mut e = Entry::info(
            &format!("pause.k{k}"),
            &format!("pause to commit {k} changed procedures (program-measured)"),
            median(&pauses),
            "µs",
            pauses,
        )
        .note(
            "Vm::last_pause_ns after begin_update, with an event subscriber attached as a pup \
             has one; all groups inactive, so the whole update commits in this one pause. \
             In the pause: the stack walk, one δ* bit test per member and old frame, and the \
             binding stores worked out when the update was planned; the events the pause \
             produces are sent to observers after the program is let go.",
        )
        .note(format!(
            "Runs spread from {fastest:.0} to {slowest:.0} µs: on a shared 2-core machine a \
             thread descheduled inside the pause stretches it."
        ));
        if retries > 0 {
            e = e.note(format!(
                "{retries} runs found the driver on the stack and were repeated."
            ));
        }
        let e = match k {
            4 => e.target(
                Op::Le,
                50.0,
                "pause ≤ 50 µs to commit an update of 4 procedures",
            ),
            1000 => e.target(
                Op::Le,
                2000.0,
                "pause ≤ 2 ms to commit an update of 1,000 procedures",
            ),
            _ => e,
        };
        let e = e.why(miss_note(k, &with_sub, &without));
        r.add(e);
        let nosub = us(&without, |s| s.pause_ns);
        r.add(Entry::info(
            &format!("pause.k{k}_nosub"),
            &format!("same, no event subscriber ({k} procedures)"),
            median(&nosub),
            "µs",
            nosub,
        ));
        let groups = us(&with_sub, |s| s.groups_ns.unwrap_or(f64::NAN));
        r.add(
            Entry::info(
                &format!("pause.k{k}_groups"),
                &format!("sum of GroupCommitted pause_ns ({k} groups)"),
                median(&groups),
                "µs",
                groups,
            )
            .note("The engine's own timing of prepare + store per group, summed: the commit work inside the pause."),
        );
        let begin = us(&with_sub, |s| s.begin_ns);
        r.add(
            Entry::info(
                &format!("pause.k{k}_begin"),
                &format!("begin_update wall time on the control thread ({k} procedures)"),
                median(&begin),
                "µs",
                begin,
            )
            .note("Includes planning (diff, groups) before the pause; not pause time."),
        );
    }
    Ok(())
}

/// Where the pause of a missed size went, from the measured parts.
fn miss_note(k: usize, with_sub: &[Sample], without: &[Sample]) -> String {
    let p = median(&with_sub.iter().map(|s| s.pause_ns).collect::<Vec<_>>());
    let g = median(
        &with_sub
            .iter()
            .map(|s| s.groups_ns.unwrap_or(0.0))
            .collect::<Vec<_>>(),
    );
    let n = median(&without.iter().map(|s| s.pause_ns).collect::<Vec<_>>());
    let mut s = format!(
        "Of the {:.0} µs pause for {k} procedures, {:.0} µs is the engine's own commit work \
         (the GroupCommitted pause_ns, summed); in the runs without an event subscriber the \
         median pause was {:.0} µs (events are built and sent inside the pause).",
        p / 1e3,
        g / 1e3,
        n / 1e3
    );
    s.push(' ');
    s.push_str(if k < 100 { HANDOVER } else { PAUSE_PROFILE });
    s
}

/// Where a small update's pause goes.
const HANDOVER: &str = "The rest is the hand-over between two threads through the VM's \
state Mutex and Condvar: the program thread records where it stopped, notifies and sleeps; \
the control thread wakes (a futex wake-up), walks the stack and commits, notifies; the program \
thread wakes and takes the state lock back before it measures the end of its pause. Two \
wake-ups cost tens of microseconds on this shared 2-core machine; a pause with less hand-over \
(the control thread spinning on the paused flag while it waits, or the program thread doing \
the commit itself at its safepoint) would fit 50 µs.";

/// What a profile of the pause at 1,000 procedures showed.
const PAUSE_PROFILE: &str = "A cpu-clock profile with call graphs (perf --call-graph dwarf) of \
vm::engine::begin, which runs inside the pause, attributes about 78% of it to engine::check: \
there commit_group takes about 60% (per procedure: engine::resolve's BTreeMap<String, _> \
lookups by name, where memcmp is the hottest leaf; a Bus::emit of SetSdte and GroupCommitted \
with cloned member lists; engine.cur.insert with a String clone and SipHash), Vec::remove(i) \
of each committed group from the front of up.groups about 11% (quadratic in the number of \
groups), and is_active about 11%; cloning every group into the pending Update about 7% and \
retire's scan of every procedure of every version about 5%. All of this is per-name work that \
could be resolved into (table slot, new address) pairs while planning, before the pause, \
leaving 8-byte stores and no allocation for the pause itself.";
