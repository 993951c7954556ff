//! Panics in the runtime are contained (SPEC §5.4, issue 11): a host
//! function called by generated code that panics ends the program with a
//! runtime error instead of aborting the process, and the VM runs on.
//! Also: a runtime error deep in the stack is reported with a bounded
//! backtrace, and source positions are safe for any offset into UTF-8.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::compile;
use vm::{ExitStatus, TrapKind, VersionNo, Vm, VmConfig};

const PRINTS: &str = "main() { printf(\"hello\\n\"); printf(\"again\\n\"); }\n";

#[test]
fn a_panic_in_a_host_function_becomes_a_runtime_error_and_the_vm_runs_on() {
    let broken = Arc::new(AtomicBool::new(true));
    let config = VmConfig {
        output: {
            let broken = broken.clone();
            Arc::new(move |_: &[u8]| {
                if broken.load(Ordering::SeqCst) {
                    panic!("the output sink broke");
                }
            })
        },
        ..VmConfig::default()
    };
    let vm = Vm::new(config).unwrap();
    vm.load(VersionNo(1), compile("p.uc", PRINTS), None)
        .unwrap();
    vm.run(Some(VersionNo(1))).unwrap();
    let status = vm
        .wait_exit(Duration::from_secs(30))
        .expect("the program ends");
    let ExitStatus::Error(e) = status else {
        panic!("a runtime error, not {status:?}")
    };
    assert_eq!(e.kind, TrapKind::Internal);
    assert!(e.message.contains("the output sink broke"), "{}", e.message);
    // The same VM runs the program again once the sink works.
    broken.store(false, Ordering::SeqCst);
    vm.run(Some(VersionNo(1))).unwrap();
    assert_eq!(
        vm.wait_exit(Duration::from_secs(30)),
        Some(ExitStatus::Returned)
    );
}

#[test]
fn a_deep_runtime_error_keeps_both_ends_of_the_stack_and_counts_the_rest() {
    let src = "int down(int n) { if (n == 0) { return 1 / n; } return down(n - 1) + 1; }\nmain() { printf(\"%d\\n\", down(100000)); }\n";
    let (vm, _out) = common::vm();
    vm.load(VersionNo(1), compile("deep.uc", src), Some(src))
        .unwrap();
    vm.run(Some(VersionNo(1))).unwrap();
    let Some(ExitStatus::Error(e)) = vm.wait_exit(Duration::from_secs(30)) else {
        panic!("a runtime error")
    };
    assert_eq!(e.kind, TrapKind::DivByZero);
    let n = vm::BACKTRACE_ENDS;
    assert_eq!(e.backtrace.len(), 2 * n + 1, "{:?}", e.backtrace);
    // 100,001 frames of down and main's.
    assert_eq!(
        e.backtrace[n],
        format!("... {} more frames ...", 100_002 - 2 * n)
    );
    assert!(e.backtrace[0].contains("proc:down+"));
    assert!(
        e.backtrace[2 * n].contains("proc:main+"),
        "{:?}",
        e.backtrace
    );
    let text = e.to_string();
    assert!(text.contains(&format!("  #{} ", 100_001)), "{text}");
    assert!(text.contains("at deep.uc:1:"), "{text}");
}

#[test]
fn line_col_is_safe_inside_multibyte_characters() {
    let s = "a€b\n€€";
    for off in 0..=s.len() + 3 {
        let (l, c) = vm::line_col(s, off);
        assert!(l >= 1 && c >= 1);
    }
    assert_eq!(vm::line_col(s, 2), (1, 2), "inside € counts as before it");
}
