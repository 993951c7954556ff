//! The machine itself: placement at the spec's addresses, binding-table
//! calls, stack walking at safepoints, runtime errors, W^X.

mod common;

use std::time::Duration;
use vm::layout::{LargeAddr, SegType};
use vm::{ExitStatus, LoadError, VersionNo};

const SECS: Duration = Duration::from_secs(20);

#[test]
fn binding_table_entries_decode_to_their_procedure_and_version() {
    let src =
        "f(x) int x; { return x + 1; }\ng() { return f(2); }\nmain() { printf(\"%d\\n\", g()); }\n";
    let (vm, cap) = common::vm();
    let report = vm
        .load(VersionNo(1), common::compile("t.uc", src), Some(src))
        .unwrap();
    assert_eq!(report.procs.len(), 3);
    for (id, name, code, _) in &report.procs {
        let bound = vm.binding(VersionNo(1), name).expect("binding");
        assert_eq!(bound, *code, "table_1[{name}] holds its code address");
        let la = LargeAddr::decode(vm.region_base(), bound).unwrap();
        assert_eq!((la.ty, la.proc_id, la.disp), (SegType::Proc, *id, 0));
        assert_eq!(vm.decode(bound).unwrap(), format!("v1:proc:{name}+0x0"));
    }
    // The table itself is at (slot, 4, 0, 0).
    let t = LargeAddr::decode(vm.region_base(), report.table).unwrap();
    assert_eq!((t.ty, t.proc_id, t.disp), (SegType::Table, 0, 0));
    vm.run(None).unwrap();
    assert_eq!(vm.wait_exit(SECS), Some(ExitStatus::Returned));
    assert_eq!(cap.text(), "3\n");
}

#[test]
fn a_paused_deep_recursion_walks_back_to_main() {
    let src = r#"
depth(n) int n; {
    if (n == 0) { printf("bottom\n"); while (1) { sleep_ms(5); } }
    return depth(n - 1) + 1;
}
main() { depth(40); }
"#;
    let (vm, cap) = common::vm();
    vm.load(VersionNo(1), common::compile("deep.uc", src), Some(src))
        .unwrap();
    vm.run(None).unwrap();
    cap.wait_contains("bottom", 1, SECS);
    let stack = vm.stack();
    let names: Vec<&str> = stack.iter().map(|f| f.name.as_str()).collect();
    let mut want = vec!["depth"; 41];
    want.push("main");
    assert_eq!(names, want, "frames innermost first");
    assert!(
        stack
            .iter()
            .all(|f| f.version == VersionNo(1) && f.kind == SegType::Proc)
    );
    // Return addresses are inside the caller's code, past its start.
    assert!(stack[1..].iter().all(|f| f.disp > 0));
    // The program goes on after the walk, and stops when asked.
    vm.stop();
    assert_eq!(vm.wait_exit(SECS), Some(ExitStatus::Stopped));
}

#[test]
fn a_runtime_error_stops_the_program_not_the_vm() {
    let src = "f(a) int a; { return 10 / a; }\nmain() { printf(\"before\\n\"); f(0); printf(\"after\\n\"); }\n";
    let (vm, cap) = common::vm();
    vm.load(VersionNo(1), common::compile("div.uc", src), Some(src))
        .unwrap();
    vm.run(None).unwrap();
    let st = vm.wait_exit(SECS).unwrap();
    let ExitStatus::Error(e) = st else {
        panic!("want an error, got {st:?}")
    };
    assert!(
        e.message
            .starts_with("division by zero in f (version 1) at div.uc:1:"),
        "{}",
        e.message
    );
    assert_eq!(e.backtrace.len(), 2);
    assert!(
        e.backtrace[0].starts_with("v1:proc:f+"),
        "{:?}",
        e.backtrace
    );
    assert!(
        e.backtrace[1].starts_with("v1:proc:main+"),
        "{:?}",
        e.backtrace
    );
    assert_eq!(cap.text(), "before\n");
    // The same VM runs the program again.
    vm.run(None).unwrap();
    assert!(matches!(vm.wait_exit(SECS), Some(ExitStatus::Error(_))));
    assert_eq!(cap.text(), "before\nbefore\n");
}

#[test]
fn stack_overflow_is_reported_with_its_depth() {
    let src = "r(n) int n; { return r(n + 1) + 1; }\nmain() { r(0); }\n";
    let (vm, _cap) = common::vm_with(|c| c.stack_size = 2 << 20);
    vm.load(VersionNo(1), common::compile("so.uc", src), Some(src))
        .unwrap();
    vm.run(None).unwrap();
    let ExitStatus::Error(e) = vm.wait_exit(SECS).unwrap() else {
        panic!()
    };
    assert!(e.message.contains("stack overflow"), "{}", e.message);
    assert!(e.message.contains("depth"), "{}", e.message);
    assert!(e.backtrace.last().unwrap().contains("main"));
}

#[test]
fn a_procedure_too_large_for_its_segment_loads_nothing() {
    // 4,000 statements of straight-line code is far more than 64 KiB.
    let mut body = String::new();
    for i in 0..4000 {
        body.push_str(&format!(
            "  x = x * {i} + {};\n  printf(\"%d\", x);\n",
            i + 1
        ));
    }
    let src = format!("huge() {{ int x; x = 1;\n{body} return x; }}\nmain() {{ huge(); }}\n");
    let (vm, _cap) = common::vm();
    let err = vm
        .load(VersionNo(1), common::compile("huge.uc", &src), None)
        .unwrap_err();
    match &err {
        LoadError::TooLarge { name, size, .. } => assert!(name == "huge" && *size > 65536),
        other => panic!("want TooLarge, got {other}"),
    }
    assert!(err.to_string().contains("huge"));
    assert!(
        vm.status().versions.is_empty(),
        "nothing of the version stays loaded"
    );
    // The same number loads fine afterwards with a program that fits.
    let ok = "main() { printf(\"ok\\n\"); }\n";
    vm.load(VersionNo(1), common::compile("ok.uc", ok), None)
        .unwrap();
}

#[test]
fn no_page_of_the_region_is_writable_and_executable() {
    let src = "g; f() { static int s = 1; s++; return s; }\nmain() { int i; for (i = 0; i < 3; i++) f(); }\n";
    let src = src.replace("g; ", "");
    let (vm, _cap) = common::vm();
    vm.load(VersionNo(1), common::compile("wx.uc", &src), None)
        .unwrap();
    vm.run(None).unwrap();
    vm.wait_exit(SECS).unwrap();
    let base = vm.region_base();
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
    let mut seen_x = false;
    for line in maps.lines() {
        let (range, rest) = line.split_once(' ').unwrap();
        let (lo, _) = range.split_once('-').unwrap();
        let lo = u64::from_str_radix(lo, 16).unwrap();
        if lo >= base && lo < base + vm::layout::REGION_SIZE {
            let perms = &rest[..4];
            assert!(
                !(perms.contains('w') && perms.contains('x')),
                "W^X violated: {line}"
            );
            seen_x |= perms.contains('x');
        }
    }
    assert!(seen_x, "code pages are executable");
}
