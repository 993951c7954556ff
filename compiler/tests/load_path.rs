//! `compile_for_load` (what ush's `load` runs) is `compile_update` plus
//! `write_object` and the diff summary, procedure by procedure: the same
//! object bytes, the same module without bodies, the same diffs.

use compiler::diff::{Summary, diff, diff_summaries};
use compiler::ir::Module;
use std::path::{Path, PathBuf};

fn programs() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut v = Vec::new();
    for dir in ["tests/corpus", "samples/pizza", "compiler/tests/valid"] {
        for e in std::fs::read_dir(root.join(dir)).expect("the corpus exists") {
            let p = e.expect("readable").path();
            if p.extension().is_some_and(|x| x == "uc") {
                v.push(p);
            }
        }
    }
    v.sort();
    assert!(v.len() > 50, "the corpus was found ({} programs)", v.len());
    v
}

fn without_bodies(m: &Module) -> Module {
    let mut m = m.clone();
    m.procs.iter_mut().for_each(|p| p.body = Vec::new());
    m
}

#[test]
fn the_load_path_encodes_what_compile_and_write_object_do() {
    let mut checked = 0;
    for path in programs() {
        let src = std::fs::read_to_string(&path).expect("readable");
        let name = path.file_name().unwrap().to_str().unwrap();
        let whole = compiler::compile(name, &src);
        let load = compiler::compile_for_load(name, &src, None);
        match (whole, load) {
            (Ok(m), Ok(c)) => {
                assert_eq!(
                    c.object,
                    compiler::object::write_object(&m),
                    "{name}: object bytes"
                );
                assert_eq!(
                    c.module,
                    without_bodies(&m),
                    "{name}: module without bodies"
                );
                assert_eq!(c.summary, Summary::of_digested(&m), "{name}: summary");
                checked += 1;
            }
            (Err(a), Err(b)) => assert_eq!(a.0, b.0, "{name}: the same diagnostics"),
            (a, b) => panic!(
                "{name}: compile is_ok={} but compile_for_load is_ok={}",
                a.is_ok(),
                b.is_ok()
            ),
        }
    }
    assert!(
        checked > 100,
        "most corpus programs compile, both ways ({checked})"
    );
}

#[test]
fn summaries_diff_like_modules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../samples/pizza");
    let read = |f: &str| std::fs::read_to_string(root.join(f)).expect("pizza sample");
    let (s1, s2) = (read("pizza1.uc"), read("pizza2.uc"));
    let m1 = compiler::compile("pizza1.uc", &s1).expect("compiles");
    let m2 = compiler::compile_update("pizza2.uc", &s2, Some(&m1)).expect("compiles");
    let c1 = compiler::compile_for_load("pizza1.uc", &s1, None).expect("compiles");
    let c2 = compiler::compile_for_load("pizza2.uc", &s2, Some(&c1.module)).expect("compiles");
    let d = diff(&m1, &m2);
    assert!(!d.changed.is_empty(), "pizza2 changes procedures");
    assert_eq!(diff_summaries(&c1.summary, &c2.summary), d);
    // A body-only change is seen without the bodies.
    let s3 = s1.replacen("printf(", "printf(\"\"); printf(", 1);
    let c3 = compiler::compile_for_load("p3.uc", &s3, None).expect("compiles");
    let d13 = diff_summaries(&c1.summary, &c3.summary);
    assert_eq!(d13.changed.len(), 1, "one procedure's code changed: {d13}");
}

/// Which corpus programs the item-by-item parse takes (the rest fall back
/// to the whole-text parse): most of them, so the comparison above is not
/// vacuous.
#[test]
fn most_programs_split_into_items() {
    let all = programs();
    let split = all
        .iter()
        .filter(|p| compiler::parse::item_ranges(&std::fs::read_to_string(p).unwrap()).is_some())
        .count();
    assert!(
        split * 2 > all.len(),
        "{split} of {} programs split into items",
        all.len()
    );
    let big = compiler::synth::program(2_000);
    let ranges = compiler::parse::item_ranges(&big).expect("the generated program splits");
    assert_eq!(ranges.len(), 2_002);
}

/// Sources the splitter must refuse: each would be cut wrongly.
#[test]
fn unsafe_splits_are_refused() {
    for src in [
        "#define N 3\nint a[N];\nmain() {}\n",
        "f(a, b) int a; int b; { return a + b; }\nmain() { f(1, 2); }\n",
        "main() { int x; \n",
        "main() { } }\n",
        "int a = @;\n",
    ] {
        assert_eq!(compiler::parse::item_ranges(src), None, "{src:?}");
    }
    let ok = "int a[2] = {1, 2}, b;\nint g = 1;\nint f(int x);\nmproc f { }\nint f(int x) { return x; }\nmain() { f(1); }\n";
    let r = compiler::parse::item_ranges(ok).expect("splits");
    let texts: Vec<&str> = r.iter().map(|r| &ok[r.clone()]).collect();
    assert_eq!(
        texts,
        [
            "int a[2] = {1, 2}, b;",
            "int g = 1;",
            "int f(int x);",
            "mproc f { }",
            "int f(int x) { return x; }",
            "main() { f(1); }",
        ]
    );
}
