//! Helpers shared by the VM's integration tests: compiling UC text, a VM
//! whose output is captured, and bounded waits on that output.
#![allow(dead_code)]

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use vm::{Vm, VmConfig};

/// Program output captured for assertions, with a condition variable so
/// tests can wait for a line instead of sleeping.
#[derive(Default)]
pub(crate) struct Capture {
    buf: Mutex<Vec<u8>>,
    cv: Condvar,
}

impl Capture {
    /// Everything printed so far.
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.buf.lock().unwrap()).into_owned()
    }

    /// Wait until `pred` holds for the output, failing the test with the
    /// output so far after `timeout`.
    pub(crate) fn wait_for(
        &self,
        what: &str,
        timeout: Duration,
        pred: impl Fn(&str) -> bool,
    ) -> String {
        let deadline = Instant::now() + timeout;
        let mut g = self.buf.lock().unwrap();
        loop {
            let s = String::from_utf8_lossy(&g).into_owned();
            if pred(&s) {
                return s;
            }
            let now = Instant::now();
            assert!(
                now < deadline,
                "timed out after {timeout:?} waiting for {what}; output so far:\n{s}"
            );
            g = self.cv.wait_timeout(g, deadline - now).unwrap().0;
        }
    }

    /// Wait until the output contains `needle` (`count` times).
    pub(crate) fn wait_contains(&self, needle: &str, count: usize, timeout: Duration) -> String {
        self.wait_for(&format!("{count}× {needle:?}"), timeout, |s| {
            s.matches(needle).count() >= count
        })
    }
}

/// Compile UC source or panic with the rendered diagnostics.
pub(crate) fn compile(name: &str, src: &str) -> compiler::ir::Module {
    match compiler::compile(name, src) {
        Ok(m) => m,
        Err(d) => panic!("{name} does not compile:\n{}", d.render(name, src, false)),
    }
}

/// A VM whose program output goes into a [`Capture`].
pub(crate) fn vm_with(config: impl FnOnce(&mut VmConfig)) -> (Vm, Arc<Capture>) {
    let cap = Arc::new(Capture::default());
    let c2 = cap.clone();
    let mut cfg = VmConfig {
        output: Arc::new(move |b: &[u8]| {
            c2.buf.lock().unwrap().extend_from_slice(b);
            c2.cv.notify_all();
        }),
        ..VmConfig::default()
    };
    config(&mut cfg);
    (Vm::new(cfg).expect("VM"), cap)
}

/// A VM with default settings and captured output.
pub(crate) fn vm() -> (Vm, Arc<Capture>) {
    vm_with(|_| {})
}

/// Path of a file in the repository.
pub(crate) fn repo(rel: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(rel)
}

/// Loads `src` as version 1, runs it to its end (30 s at most) and gives
/// how it ended and what it printed.
pub(crate) fn run(name: &str, src: &str) -> (vm::ExitStatus, String) {
    let (vm, cap) = vm();
    vm.load(vm::VersionNo(1), compile(name, src), Some(src))
        .unwrap_or_else(|e| panic!("{name}: load failed: {e}"));
    vm.run(None).unwrap();
    let st = vm
        .wait_exit(Duration::from_secs(30))
        .expect("the program finishes");
    (st, cap.text())
}
