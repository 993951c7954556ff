//! The golden corpus's independent oracle, run by the test suite: every
//! program in `tests/corpus` is translated to C by
//! `tests/corpus/verify_with_gcc.py`, built by gcc, run, and its stdout, exit
//! code and error message compared with the program's `.out`/`.expect`
//! files, the same files `vm/tests/corpus.rs` and `pup/tests/corpus_exec.rs`
//! hold the VM to. So a wrong golden file (one blessed from a wrong VM run)
//! fails here, and the VM's output is, transitively, gcc's.
//!
//! What gcc does not decide: the run-time errors of UC (division by zero,
//! an index out of bounds, a stack overflow) are checks the script inserts
//! into the C code (`uc_div`, `uc_ix`, a call-depth counter), so for the
//! programs whose `.expect` has an `error:` line the error itself has the
//! script's own reference, not gcc's; the output they print before the
//! error is still gcc's. The test prints which programs those are.
//!
//! The corpus folder is read, not listed here: a program added to
//! `tests/corpus` is checked without touching this file, and the script
//! must report every `.uc` file in the folder as matched.
//!
//! Needs `python3` and `gcc`. Outside CI the test says so and passes when
//! either is missing; with `CI=true` (`.ci/run`, which installs both) a
//! missing one fails it, so the oracle cannot silently stop running there.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use podus_tests::{have_tool, in_ci, repo, run_bounded};

/// The `.uc` programs of the corpus folder, sorted.
fn programs(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|n| n.ends_with(".uc"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_golden_program_matches_gcc() {
    let missing: Vec<&str> = ["python3", "gcc"]
        .into_iter()
        .filter(|t| !have_tool(t, "--version"))
        .collect();
    if !missing.is_empty() {
        assert!(
            !in_ci(),
            "CI=true but {missing:?} is missing: the gcc oracle must run in CI \
             (.ci/run installs python3 and gcc)"
        );
        eprintln!(
            "SKIPPED: the gcc oracle needs {missing:?}; install them to check the golden corpus"
        );
        return;
    }
    let dir = repo().join("tests/corpus");
    let script = dir.join("verify_with_gcc.py");
    let names = programs(&dir);
    assert!(
        names.len() >= 64,
        "the corpus lost programs: {} left",
        names.len()
    );
    // Runtime-error programs: their error has the script's reference.
    let errors: Vec<String> = names
        .iter()
        .filter(|n| {
            let expect = dir.join(n.replace(".uc", ".expect"));
            std::fs::read_to_string(expect)
                .is_ok_and(|t| t.lines().any(|l| l.starts_with("error:")))
        })
        .cloned()
        .collect();
    let mut c = Command::new("python3");
    c.arg(&script).arg("-v");
    // Every program builds and runs in well under a second; the bound is
    // for a loaded 2-core machine building other things.
    let run = run_bounded(c, Duration::from_secs(600));
    let out = run.all();
    eprintln!("{out}");
    assert_eq!(
        run.code,
        Some(0),
        "the gcc oracle found programs whose golden files are not what gcc's \
         build prints (FAIL lines above):\n{out}"
    );
    let want = format!("{n}/{n} programs match gcc", n = names.len());
    assert!(
        out.contains(&want),
        "expected {want:?}: the script must check every .uc file in {}:\n{out}",
        dir.display()
    );
    // Each program is reported by name, so none was skipped.
    for n in &names {
        let stem = n.trim_end_matches(".uc");
        assert!(
            out.lines().any(|l| l.starts_with(&format!("{stem}: ok"))),
            "{stem} was not reported as matching gcc:\n{out}"
        );
    }
    eprintln!(
        "{} programs match gcc; of these, {} stop with a run-time error whose \
         reference is the translator's inserted check, not gcc: {}",
        names.len(),
        errors.len(),
        errors.join(", ")
    );
}

/// The oracle can fail: a golden file that is wrong by one character is
/// caught. (Runs the script on a copy of one program with a corrupted
/// `.out`, so a script that always said "ok" would fail this test.)
#[test]
fn the_gcc_oracle_catches_a_wrong_golden_file() {
    if !have_tool("python3", "--version") || !have_tool("gcc", "--version") {
        assert!(!in_ci(), "CI=true but python3 or gcc is missing");
        eprintln!("SKIPPED: needs python3 and gcc");
        return;
    }
    let src = repo().join("tests/corpus");
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(
        src.join("verify_with_gcc.py"),
        tmp.path().join("verify_with_gcc.py"),
    )
    .unwrap();
    std::fs::copy(
        src.join("02_int_arith.uc"),
        tmp.path().join("02_int_arith.uc"),
    )
    .unwrap();
    let good = std::fs::read_to_string(src.join("02_int_arith.out")).unwrap();
    // One digit changed.
    let pos = good
        .find(|c: char| c.is_ascii_digit())
        .expect("02_int_arith prints a number");
    let mut bad = good.clone().into_bytes();
    bad[pos] = if bad[pos] == b'9' { b'8' } else { bad[pos] + 1 };
    std::fs::write(tmp.path().join("02_int_arith.out"), &bad).unwrap();
    let mut c = Command::new("python3");
    c.arg(tmp.path().join("verify_with_gcc.py"));
    let run = run_bounded(c, Duration::from_secs(120));
    assert_eq!(run.code, Some(1), "a wrong .out passed:\n{}", run.all());
    run.assert_has("FAIL 02_int_arith: stdout differs")
        .assert_has("0/1 programs match gcc");
}
