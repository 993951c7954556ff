//! `pup --exec FILE.uc`: compile and run one program standalone, without a
//! mapper or network, and exit with the program's exit code.
//!
//! Invariant: whatever happens to the program (compile error, runtime error,
//! exit), the process reports it on stderr and exits 1 or the program's code.

use std::time::Duration;
use vm::{ExitStatus, Vm, VmConfig};

/// Run `path` to completion; the process exit code to use.
pub fn exec_file(path: &str, stack_size: Option<usize>) -> i32 {
    // The main file and every file it includes (`#include "FILE"`).
    let src = match compiler::read_program(std::path::Path::new(path)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("pup: {e}");
            return 1;
        }
    };
    let module = match compiler::compile(path, &src) {
        Ok(m) => m,
        Err(d) => {
            eprint!("{}", d.render(path, &src, false));
            return 1;
        }
    };
    let mut config = VmConfig::default();
    if let Some(s) = stack_size {
        config.stack_size = s;
    }
    let vm = match Vm::new(config) {
        Ok(vm) => vm,
        Err(e) => {
            eprintln!("pup: {e}");
            return 1;
        }
    };
    if let Err(e) = vm.load(vm::VersionNo(1), module, Some(&src)) {
        eprintln!("pup: load failed: {e}");
        return 1;
    }
    if let Err(e) = vm.run(None) {
        eprintln!("pup: {e}");
        return 1;
    }
    let status = loop {
        if let Some(st) = vm.wait_exit(Duration::from_secs(3600)) {
            break st;
        }
    };
    if let ExitStatus::Error(e) = &status {
        eprint!("{e}");
    }
    status.code() as i32
}
