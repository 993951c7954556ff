//! Small helpers shared by the benchmarks: statistics, a VM whose output is
//! captured with timestamps, compiling UC, running external commands.

use anyhow::{Context, Result, bail};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use vm::{Vm, VmConfig};

/// Median of a sample (mean of the two middle values for an even count).
/// NaN for an empty sample, so that a missing measurement shows as such
/// rather than as a plausible zero.
pub(crate) fn median(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// Program output of a VM: every chunk with the instant it arrived, so
/// throughput can be read off the output itself, plus a condition variable
/// to wait on it instead of sleeping.
#[derive(Default)]
pub(crate) struct Capture {
    chunks: Mutex<Vec<(Instant, Vec<u8>)>>,
    cv: Condvar,
}

impl Capture {
    fn push(&self, b: &[u8]) {
        self.chunks
            .lock()
            .unwrap()
            .push((Instant::now(), b.to_vec()));
        self.cv.notify_all();
    }

    /// Everything printed so far, as text.
    pub(crate) fn text(&self) -> String {
        let g = self.chunks.lock().unwrap();
        let mut all = Vec::new();
        for (_, c) in g.iter() {
            all.extend_from_slice(c);
        }
        String::from_utf8_lossy(&all).into_owned()
    }

    /// The chunks printed so far with their arrival times (each `printf`
    /// is one chunk).
    pub(crate) fn chunks(&self) -> Vec<(Instant, String)> {
        self.chunks
            .lock()
            .unwrap()
            .iter()
            .map(|(t, c)| (*t, String::from_utf8_lossy(c).into_owned()))
            .collect()
    }

    /// Forget what was printed (keeps memory bounded in long runs).
    pub(crate) fn clear(&self) {
        self.chunks.lock().unwrap().clear();
    }

    /// Wait until the output contains `needle`; an error after `timeout`.
    pub(crate) fn wait_contains(&self, needle: &str, timeout: Duration) -> Result<()> {
        let deadline = Instant::now() + timeout;
        let mut g = self.chunks.lock().unwrap();
        loop {
            if g.iter()
                .any(|(_, c)| String::from_utf8_lossy(c).contains(needle))
            {
                return Ok(());
            }
            let now = Instant::now();
            if now >= deadline {
                bail!("timed out after {timeout:?} waiting for {needle:?} in the program output");
            }
            g = self.cv.wait_timeout(g, deadline - now).unwrap().0;
        }
    }
}

/// A VM whose output goes to a [`Capture`].
pub(crate) fn vm_captured(safepoints: bool) -> Result<(Vm, Arc<Capture>)> {
    let cap = Arc::new(Capture::default());
    let c2 = cap.clone();
    let cfg = VmConfig {
        output: Arc::new(move |b: &[u8]| c2.push(b)),
        safepoints,
        ..VmConfig::default()
    };
    Ok((Vm::new(cfg).context("creating a VM")?, cap))
}

/// Compile UC source, turning diagnostics into an error with their text.
pub(crate) fn compile(name: &str, src: &str) -> Result<compiler::ir::Module> {
    compiler::compile(name, src).map_err(|d| {
        anyhow::anyhow!(
            "benchmark program {name} does not compile:\n{}",
            d.render(name, src, false)
        )
    })
}

/// A VM (captured output) with `src` loaded as version 1.
pub(crate) fn vm_loaded(name: &str, src: &str, safepoints: bool) -> Result<(Vm, Arc<Capture>)> {
    let (vm, cap) = vm_captured(safepoints)?;
    vm.load(vm::VersionNo(1), compile(name, src)?, Some(src))
        .map_err(|e| anyhow::anyhow!("loading {name}: {e}"))?;
    Ok((vm, cap))
}

/// Run `main` of the loaded program to its end; wall time from `run` to
/// the exit being observed, in ns.
pub(crate) fn run_to_exit(vm: &Vm, timeout: Duration) -> Result<f64> {
    let t = Instant::now();
    vm.run(None).map_err(|e| anyhow::anyhow!("run: {e}"))?;
    let st = vm
        .wait_exit(timeout)
        .context("the program did not finish in time")?;
    let ns = t.elapsed().as_nanos() as f64;
    if !matches!(st, vm::ExitStatus::Returned | vm::ExitStatus::Exit(0)) {
        bail!("the program ended with {st:?}");
    }
    Ok(ns)
}

/// Run a command and return its standard output; an error (with stderr)
/// when it fails.
pub(crate) fn output(cmd: &mut Command) -> Result<String> {
    let o = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !o.status.success() {
        bail!(
            "{cmd:?} failed ({}): {}",
            o.status,
            String::from_utf8_lossy(&o.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&o.stdout).into_owned())
}

/// First line of `prog args` (stdout, else stderr), or None when the
/// program is missing. For version strings.
pub(crate) fn version_line(prog: &str, args: &[&str]) -> Option<String> {
    let o = Command::new(prog).args(args).output().ok()?;
    let s = if o.stdout.is_empty() {
        o.stderr
    } else {
        o.stdout
    };
    String::from_utf8_lossy(&s)
        .lines()
        .next()
        .map(|l| l.trim().to_string())
}

/// Is `prog` on the PATH?
pub(crate) fn have(prog: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(prog).is_file()))
}

/// Write `text` to `dir/name` and return the path.
pub(crate) fn write(dir: &Path, name: &str, text: &str) -> Result<std::path::PathBuf> {
    let p = dir.join(name);
    std::fs::write(&p, text).with_context(|| format!("writing {}", p.display()))?;
    Ok(p)
}
