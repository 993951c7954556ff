//! The `ush` command line as a user meets it: flags, exit codes, and how a
//! script stops at its first failing command.
//!
//! These tests also make `cargo test` build the `ush` binary itself (cargo
//! builds a package's binaries only for that package's integration tests),
//! which the end-to-end tests in `podus-tests` start.

use std::io::Write;
use std::process::{Command, Output, Stdio};

fn ush(args: &[&str], stdin: &str) -> Output {
    // A private HOME: ush keeps its history and cookie under ~/.podus.
    let home = tempfile::tempdir().expect("temp dir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_ush"))
        .args(args)
        .env("HOME", home.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ush");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(stdin.as_bytes())
        .expect("write stdin");
    child.wait_with_output().expect("ush exits")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn version_prints_the_crate_version() {
    let out = ush(&["--version"], "");
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout).trim(),
        format!("ush {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn an_unknown_flag_is_a_usage_error_with_exit_code_2() {
    let out = ush(&["--bogus"], "");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("unexpected argument '--bogus'"));
}

#[test]
fn an_unknown_command_fails_the_script_and_stops_it() {
    let out = ush(&["-c", "frobnicate; help"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("unknown command `frobnicate` (try `help`)"));
    // errexit: `help` after the failing command never ran.
    assert!(
        !text(&out.stdout).contains("Commands"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn help_lists_the_commands_and_help_cmd_shows_usage() {
    let out = ush(&["-c", "help; help load"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    for cmd in ["program NAME", "connect [HOST]", "pups [HOST]"] {
        assert!(stdout.contains(cmd), "help lacks {cmd}:\n{stdout}");
    }
    assert!(
        stdout.contains("usage: load V FILE.uc | V FILE.delta FILE.o"),
        "{stdout}"
    );
}

#[test]
fn a_script_on_standard_input_runs_like_one_given_with_f() {
    let out = ush(&["--no-banner"], "help load\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("usage: load"));
}

#[test]
fn load_without_a_program_says_what_to_do_first() {
    let out = ush(&["-c", "load 1 nothing.uc"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("no current program (choose one with `program NAME`)"),
        "{}",
        text(&out.stderr)
    );
}
