//! The golden corpus (tests/corpus, outputs verified against gcc) run through
//! the VM library: every construct and builtin of SPEC §2 and each runtime
//! error, compiled by Cranelift and placed in the partitioned address space.

mod common;

use std::time::Duration;
use vm::ExitStatus;
use vm::VersionNo;

#[test]
fn every_corpus_program_prints_its_golden_output() {
    let dir = common::repo("tests/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.retain(|p| p.extension().is_some_and(|e| e == "uc"));
    files.sort();
    assert!(files.len() >= 40, "corpus too small: {}", files.len());
    let mut failures = Vec::new();
    for path in &files {
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        let src = std::fs::read_to_string(path).unwrap();
        let want = std::fs::read_to_string(path.with_extension("out")).unwrap();
        let expect = std::fs::read_to_string(path.with_extension("expect")).unwrap_or_default();
        let want_exit: i64 = expect
            .lines()
            .find_map(|l| l.strip_prefix("exit:"))
            .map(|s| s.trim().parse().unwrap())
            .unwrap_or(0);
        let want_error = expect
            .lines()
            .find_map(|l| l.strip_prefix("error:"))
            .map(|s| s.trim().to_string());

        let module = common::compile(&name, &src);
        let (vm, cap) = common::vm_with(|c| c.stack_size = 8 << 20);
        vm.load(VersionNo(1), module, Some(&src))
            .unwrap_or_else(|e| panic!("{name}: load failed: {e}"));
        vm.run(None).unwrap();
        let status = vm
            .wait_exit(Duration::from_secs(60))
            .unwrap_or_else(|| panic!("{name}: did not finish"));
        let got = cap.text();
        if got != want {
            failures.push(format!(
                "{name}: output differs\n--- want\n{want}\n--- got\n{got}"
            ));
        }
        if status.code() != want_exit {
            failures.push(format!(
                "{name}: exit {} ({status:?}), want {want_exit}",
                status.code()
            ));
        }
        match (&want_error, &status) {
            (Some(w), ExitStatus::Error(e)) => {
                if !e.message.contains(w.as_str()) {
                    failures.push(format!("{name}: error {:?} lacks {w:?}", e.message));
                }
                if e.backtrace.is_empty() || !e.backtrace[0].starts_with("v1:proc:") {
                    failures.push(format!("{name}: backtrace not decoded: {:?}", e.backtrace));
                }
            }
            (Some(w), other) => failures.push(format!("{name}: want error {w:?}, got {other:?}")),
            (None, ExitStatus::Error(e)) => failures.push(format!("{name}: unexpected error {e}")),
            _ => {}
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} programs failed:\n{}",
        failures.len(),
        files.len(),
        failures.join("\n\n")
    );
}
