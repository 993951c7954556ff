//! The `ucc` binary: exit codes, and the output ush users and the pizza
//! check script rely on.

use std::path::PathBuf;
use std::process::{Command, Output};

fn ucc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ucc"))
        .args(args)
        .output()
        .expect("ucc runs")
}

fn sample(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../samples/pizza")
        .join(name)
        .display()
        .to_string()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn check_ok_is_exit_0() {
    let out = ucc(&["check", &sample("pizza1.uc")]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("ok (5 procedures"));
}

#[test]
fn compile_errors_are_exit_1_with_position_and_caret() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.uc");
    std::fs::write(&bad, "main() { int x; x = 1 +; }\nf() { y = 2; }\n").unwrap();
    let out = ucc(&["check", "--color", "never", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("bad.uc:1:24"), "{err}");
    assert!(err.contains("expected an expression"), "{err}");
    assert!(err.contains('^'), "{err}");
    assert!(!err.contains("\x1b["), "no color when asked not to: {err}");
    assert!(err.contains("1 error"), "{err}");
}

#[test]
fn usage_errors_and_unreadable_files_are_exit_2() {
    assert_eq!(ucc(&[]).status.code(), Some(2));
    assert_eq!(ucc(&["frobnicate"]).status.code(), Some(2));
    assert_eq!(ucc(&["check"]).status.code(), Some(2));
    let out = ucc(&["check", "/nonexistent/nothing.uc"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("cannot read /nonexistent/nothing.uc"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn delta_prints_the_table_and_the_papers_rows() {
    let out = ucc(&["delta", &sample("pizza1.uc")]);
    assert_eq!(out.status.code(), Some(0));
    let s = text(&out.stdout);
    assert!(
        s.contains("   0  main\n   1  do_pizza\n   2  set_oven_temp\n"),
        "{s}"
    );
    let after = s
        .split("delta* computed for 5 procedures:\n")
        .nth(1)
        .expect("heading");
    let rows: Vec<&str> = after.lines().collect();
    assert_eq!(
        rows,
        [
            "0 1 1 1 1",
            "0 0 1 1 1",
            "0 0 0 0 0",
            "0 0 0 0 0",
            "0 0 0 0 0"
        ]
    );
}

#[test]
fn diff_reports_the_four_changed_procedures_and_main_unchanged() {
    let out = ucc(&["diff", &sample("pizza1.uc"), &sample("pizza2.uc")]);
    // Regression (issue 29): `ucc diff` exited 0 whatever it found; like
    // diff(1) it exits 1 when the versions differ.
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    let changed = s
        .split("unchanged procedures:")
        .next()
        .expect("changed section");
    for p in ["do_pizza", "set_oven_temp", "mix_ingredients", "bake_pizza"] {
        assert!(changed.contains(p), "{p} missing from\n{s}");
    }
    assert!(!changed.contains("main"), "{s}");
    assert!(s.contains("unchanged procedures: main\n"), "{s}");
}

#[test]
fn build_writes_delta_and_object_that_agree() {
    let dir = tempfile::tempdir().unwrap();
    let out = ucc(&[
        "build",
        &sample("pizza2.uc"),
        "--prev",
        &sample("pizza1.uc"),
        "-o",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let delta = std::fs::read_to_string(dir.path().join("pizza2.delta")).unwrap();
    let obj = std::fs::read(dir.path().join("pizza2.o")).unwrap();
    let module = compiler::object::read_object(&obj).unwrap();
    assert_eq!(module.mprocs.len(), 1);
    let df = compiler::object::read_delta(&delta).unwrap();
    assert_eq!(df.procs.len(), 5);
    df.check_module(&module).unwrap();
    // main (0) calls do_pizza (1), which calls the three leaves.
    assert!(
        delta.contains("components, ") && delta.contains(": 0 -> "),
        "{delta}"
    );
    assert!(df.delta.reaches(0, 4) && df.delta.reaches(1, 2) && !df.delta.reaches(2, 3));

    // --prev also takes an object file.
    let out = ucc(&[
        "build",
        &sample("pizza1.uc"),
        "-o",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let prev_o = dir.path().join("pizza1.o");
    let out = ucc(&[
        "build",
        &sample("pizza2.uc"),
        "--prev",
        prev_o.to_str().unwrap(),
        "-o",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
}

#[test]
fn build_refuses_an_unwritable_directory_with_exit_2() {
    let out = ucc(&["build", &sample("pizza1.uc"), "-o", "/nonexistent/dir"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("cannot write"));
}

#[test]
fn ir_is_json() {
    let out = ucc(&["ir", &sample("pizza2.uc")]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["procs"].as_array().unwrap().len(), 5);
    assert_eq!(v["mprocs"][0]["name"], "do_pizza");
}

/// Regression (issue 29): `ucc diff` of identical versions exits 0, and a
/// compile error in either is trouble (2, as diff(1)), not "they differ".
#[test]
fn diff_exit_status_follows_diff_1() {
    let same = ucc(&["diff", &sample("pizza1.uc"), &sample("pizza1.uc")]);
    assert_eq!(same.status.code(), Some(0), "{}", text(&same.stderr));
    assert!(text(&same.stdout).contains("changed procedures:\n  (none)"));
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.uc");
    std::fs::write(&bad, "main() { x = ; }\n").unwrap();
    let out = ucc(&["diff", &sample("pizza1.uc"), bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
}

/// Regression (issue 29): a binary file given as source said "stream did
/// not contain valid UTF-8"; it says the file is not UC source, and where.
#[test]
fn a_binary_file_is_not_uc_source_and_says_where() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("prog.uc");
    std::fs::write(&bin, b"main() {}\n\x7fELF\xff\xfe").unwrap();
    let out = ucc(&["check", bin.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let err = text(&out.stderr);
    assert!(
        err.contains("is not UC source: byte 14 (line 2, column 5)"),
        "{err}"
    );
}

/// Regression (issue 29): `ucc diff` gave no type change; it lists each
/// global, static and signature whose type differs, old -> new.
#[test]
fn diff_names_each_type_change() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.uc");
    let b = dir.path().join("b.uc");
    std::fs::write(
        &a,
        "int total = 0;\nint f(int n) { static int c; c++; return n; }\nmain() { f(1); }\n",
    )
    .unwrap();
    std::fs::write(
        &b,
        "double total = 0.0;\nint f(double n) { static double c[2]; return 1; }\nmain() { f(1.0); }\n",
    )
    .unwrap();
    let out = ucc(&["diff", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let s = text(&out.stdout);
    assert!(
        s.contains(
            "type changes:\n  global total: int -> double\n  signature of f: (int) -> int -> (double) -> int\n  static f.c: int -> double[2]\n"
        ),
        "{s}"
    );
    assert!(s.contains("  f (code, signature, statics)"), "{s}");
    let same = ucc(&["diff", a.to_str().unwrap(), a.to_str().unwrap()]);
    assert!(text(&same.stdout).ends_with("type changes: (none)\n"));
}

/// A program of two files: `ucc check` follows `#include "lib.h"`, and an
/// error in lib.h is shown as lib.h's line (SPEC 2.3).
#[test]
fn check_follows_includes_and_names_the_included_file() {
    let dir = tempfile::tempdir().unwrap();
    let main = dir.path().join("main.uc");
    let lib = dir.path().join("lib.h");
    std::fs::write(
        &main,
        "#include \"lib.h\"\nmain() { printf(\"%d\\n\", twice(LEVEL)); }\n",
    )
    .unwrap();
    std::fs::write(
        &lib,
        "#define LEVEL 2\nint twice(int x) { return x * 2; }\n",
    )
    .unwrap();
    let out = ucc(&["check", main.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("ok (2 procedures"),
        "{}",
        text(&out.stdout)
    );
    std::fs::write(
        &lib,
        "#define LEVEL 2\nint twice(int x) {\n  return x * ;\n}\n",
    )
    .unwrap();
    let out = ucc(&["check", "--color", "never", main.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    let shown = format!("{}:3:14", lib.display());
    assert!(err.contains(&shown), "{err}");
    assert!(err.contains("return x * ;") && err.contains('^'), "{err}");
}
