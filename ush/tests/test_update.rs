//! `test-update` end to end through the real binaries: ush starts the
//! private test pup (`pup --test-update`, next to ush), streams its report
//! and passes its verdict on as the command's (and the script's) status.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn ush(args: &[&str], dir: &Path) -> Output {
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_ush"));
    let pup = bin.parent().unwrap().join("pup");
    assert!(
        pup.is_file(),
        "test-update needs the pup binary next to ush ({}): cargo build --release -p pup",
        pup.display()
    );
    let home = tempfile::tempdir().expect("temp dir");
    Command::new(bin)
        .args(args)
        .current_dir(dir)
        .env("HOME", home.path())
        .output()
        .expect("run ush")
}

fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

const RE: &str = "'pizza number [0-9]+ preparation begins'";

#[test]
fn the_plain_pizza_update_fails_and_the_sd_update_passes() {
    let dir = repo().join("samples/pizza");
    let plain = ush(
        &[
            "-c",
            &format!("test-update pizza1.uc pizza2.uc pizza2.changes --records {RE}"),
        ],
        &dir,
    );
    let (out, err) = text(&plain);
    assert!(!plain.status.success(), "{out}{err}");
    assert!(
        out.contains("OLD pizza1.uc reaches"),
        "names as written: {out}"
    );
    assert!(
        out.contains("0.75 lb dough") && out.contains("TC pizza"),
        "{out}"
    );
    assert!(out.contains("baked for 15 minutes"), "{out}");
    let last = out.lines().last().unwrap_or("");
    assert!(
        last.starts_with("test-update: ")
            && last.contains("update points tested")
            && !last.ends_with(": 0 failed"),
        "{out}"
    );
    assert!(err.contains("the update fails at some points"), "{err}");

    let sd = ush(
        &[
            "-c",
            &format!("test-update pizza1.uc pizza2.uc pizza2.changes.sd --records {RE}"),
        ],
        &dir,
    );
    let (out, err) = text(&sd);
    assert!(sd.status.success(), "{out}{err}");
    assert!(
        out.trim_end().ends_with(" distinct states): 0 failed"),
        "{out}"
    );
}

#[test]
fn the_sample_script_tests_both_updates() {
    let o = ush(&["-f", "samples/pizza/test-updates.ush"], &repo());
    let (out, err) = text(&o);
    assert!(
        o.status.success(),
        "the .sd test is last and passes:\n{out}{err}"
    );
    let summaries: Vec<&str> = out
        .lines()
        .filter(|l| l.contains("update points tested"))
        .collect();
    assert_eq!(summaries.len(), 2, "{out}");
    assert!(
        !summaries[0].ends_with(": 0 failed") && summaries[1].ends_with(": 0 failed"),
        "{out}"
    );
}

#[test]
fn bad_input_is_refused_with_what_to_change() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(
        d.join("a.uc"),
        "main() { int i; for (i = 0; ; i++) { printf(\"tick %d\\n\", i); sleep_ms(10); } }\n",
    )
    .unwrap();
    std::fs::write(d.join("b.uc"), "main() { int i; for (i = 0; ; i++) { printf(\"tock %d\\n\", i); sleep_ms(10); } }\nmproc main { x = old.nosuch; }\n").unwrap();
    std::fs::write(d.join("c.changes"), "changed main nosuch\n").unwrap();

    let o = ush(&["-c", "test-update a.uc a.uc --records '(tick'"], d);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(
        err.contains("--records") && err.contains("does not compile"),
        "{err}"
    );

    let o = ush(&["-c", "test-update a.uc a.uc c.changes --records tick"], d);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("nosuch") && err.contains("c.changes"), "{err}");

    let o = ush(&["-c", "test-update a.uc a.uc"], d);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("--records REGEX is required"), "{err}");

    let o = ush(&["-c", "test-update a.uc b.uc --records tick"], d);
    let (_, err) = text(&o);
    assert!(!o.status.success());
    assert!(err.contains("b.uc"), "{err}");
}

/// Regression (issue 29): NEW was typed on its own, so an mproc reading
/// `old.total` after `total` changed int -> double was refused ("NEW does
/// not fit OLD") although the live update succeeds. NEW is now typed
/// against OLD as a live load types it against the running version.
#[test]
fn an_mproc_over_a_changed_type_is_tested_not_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("bank1.uc"),
        "int total = 0;\nvoid tick(int n) { total += n; printf(\"tick %d total=%d\\n\", n, total); }\nmain() { int i; for (i = 1; i < 100000; i++) { tick(i); sleep_ms(100); } }\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("bank2.uc"),
        "double total = 0.0;\nmproc total { total = old.total * 1.0; }\nvoid tick(int n) { total += n; printf(\"tick %d total=%.1f\\n\", n, total); }\nmain() { int i; for (i = 1; i < 100000; i++) { tick(i); sleep_ms(100); } }\n",
    )
    .unwrap();
    let o = ush(
        &[
            "-c",
            "test-update bank1.uc bank2.uc --records tick --for 5s --points 20",
        ],
        dir.path(),
    );
    let (out, err) = text(&o);
    assert!(o.status.success(), "{out}{err}");
    assert!(
        !out.contains("does not fit") && !err.contains("does not fit"),
        "{out}{err}"
    );
    assert!(
        out.contains("test-update: 20 update points tested") && out.ends_with(": 0 failed\n"),
        "{out}"
    );
}
