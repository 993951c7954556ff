//! The golden corpus (tests/corpus) through `pup --exec`: the standalone way
//! to run UC code must print each program's verified output, exit with its
//! code, and report runtime errors on stderr with a decoded backtrace.

mod common;

use std::process::Command;

#[test]
fn every_corpus_program_runs_under_pup_exec() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "uc"));
    files.sort();
    assert!(files.len() >= 40);
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let mut c = Command::new(env!("CARGO_BIN_EXE_pup"));
        c.arg("--exec").arg(path);
        // Bounded: a program that hangs fails the test with its name.
        let out = common::output_bounded(c, common::PATIENCE);
        let want = std::fs::read_to_string(path.with_extension("out")).unwrap();
        let expect = std::fs::read_to_string(path.with_extension("expect")).unwrap_or_default();
        let want_exit: i32 = expect
            .lines()
            .find_map(|l| l.strip_prefix("exit:"))
            .map(|s| s.trim().parse().unwrap())
            .unwrap_or(0);
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if stdout != want {
            failures.push(format!(
                "{name}: stdout differs\n--- want\n{want}--- got\n{stdout}"
            ));
        }
        if out.status.code() != Some(want_exit) {
            failures.push(format!(
                "{name}: exit {:?}, want {want_exit}; stderr: {stderr}",
                out.status.code()
            ));
        }
        if let Some(err) = expect.lines().find_map(|l| l.strip_prefix("error:"))
            && (!stderr.contains(err.trim()) || !stderr.contains("v1:proc:"))
        {
            failures.push(format!(
                "{name}: stderr lacks {err:?} or a backtrace: {stderr}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
