//! `pup --exec FILE.uc`: one program standalone, its output and exit code.

mod common;

use std::process::Command;

fn exec(path: &std::path::Path) -> std::process::Output {
    let mut c = Command::new(common::pup_bin());
    c.arg("--exec").arg(path);
    common::output_bounded(c, common::PATIENCE)
}

#[test]
fn hello_prints_its_golden_output() {
    let out = exec(&common::repo("tests/corpus/01_hello.uc"));
    let want = std::fs::read_to_string(common::repo("tests/corpus/01_hello.out")).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn exit_code_comes_from_deep_inside() {
    let out = exec(&common::repo("tests/corpus/35_exit_deep.uc"));
    let want = std::fs::read_to_string(common::repo("tests/corpus/35_exit_deep.out")).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), want);
    assert_eq!(out.status.code(), Some(3));
}

#[test]
fn a_runtime_error_exits_1_with_a_backtrace() {
    let out = exec(&common::repo("tests/corpus/40_err_div_zero.uc"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("division by zero"), "{err}");
    assert!(err.contains("backtrace:"), "{err}");
    assert!(err.contains("v1:proc:main+0x"), "{err}");
}

#[test]
fn a_compile_error_exits_1_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.uc");
    std::fs::write(&path, "main() {\n  int x = ;\n}\n").unwrap();
    let out = exec(&path);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains(&format!("{}:2:11", path.display())), "{err}");
    assert!(out.stdout.is_empty());
}

#[test]
fn a_missing_file_exits_1() {
    let out = exec(std::path::Path::new("/nonexistent/x.uc"));
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}
