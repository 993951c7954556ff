//! The interactive shell on a real pseudo-terminal: banner and prompt,
//! `help`, history recall with the up arrow, tab completion of a command
//! and of a procedure name, Ctrl-C at the prompt, and the history file.

use podus_tests::Env;
use rexpect::reader::Options;
use rexpect::session::spawn_with_options;

const PROG: &str = "main() { while (1) do_pizza(); }
do_pizza() { sleep_ms(50); }
";

/// Types `keys` as a terminal sends them, at once (rexpect buffers up to
/// a newline, and the line editor wants CR for Enter, not LF).
fn keys(s: &mut rexpect::session::PtySession, keys: &str) {
    s.send(keys).unwrap();
    s.flush().unwrap();
}

/// Types a line and Enter.
fn enter(s: &mut rexpect::session::PtySession, line: &str) -> Result<(), rexpect::error::Error> {
    keys(s, &format!("{line}\r"));
    Ok(())
}

#[test]
fn line_editing_history_and_completion() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let _pup = env.start_pup("p", &[]);
    env.write("prog.uc", PROG);
    let mut cmd = env.command("ush");
    cmd.env("TERM", "xterm").args(["--color", "never"]);
    let mut s = spawn_with_options(
        cmd,
        Options::new()
            .timeout_ms(Some(20_000))
            .strip_ansi_escape_codes(true),
    )
    .expect("start ush on a pty");

    s.exp_string("Updating Shell version").unwrap();
    s.exp_string(" running under ").unwrap();
    s.exp_string("> ").unwrap();

    enter(&mut s, "help").unwrap();
    s.exp_string("Commands (help CMD for more):").unwrap();
    s.exp_string("begin an update").unwrap();

    for (line, answer) in [
        ("program p", "The current program is now p"),
        ("connect", "Pup for program p on host"),
        (
            "load 1 prog.uc",
            "Version 1 of program p loaded successfully",
        ),
    ] {
        enter(&mut s, line).unwrap();
        s.exp_string(answer).unwrap();
    }

    // Up three times recalls `program p`.
    keys(&mut s, "\x1b[A\x1b[A\x1b[A");
    keys(&mut s, "\r");
    s.exp_string("The current program is now p").unwrap();

    // Tab completes a command name...
    keys(&mut s, "hel\t");
    s.exp_string("help ").unwrap();
    keys(&mut s, "\r");
    s.exp_string("Commands (help CMD for more):").unwrap();

    // ... and a procedure name of the loaded program.
    keys(&mut s, "procs do_pi\t");
    s.exp_string("do_pizza ").unwrap();
    keys(&mut s, "\r");
    s.exp_string("table 1 -> v1:proc:do_pizza").unwrap();

    // Ctrl-C abandons the line being typed, not the shell.
    keys(&mut s, "stat");
    s.exp_string("stat").unwrap();
    s.send_control('c').unwrap();
    s.exp_string("> ").unwrap();
    enter(&mut s, "program q").unwrap();
    s.exp_string("The current program is now q").unwrap();

    enter(&mut s, "quit").unwrap();
    s.exp_eof().unwrap();
    let status = s.process().wait().unwrap();
    assert!(
        matches!(status, rexpect::process::WaitStatus::Exited(_, 0)),
        "{status:?}"
    );

    let history =
        std::fs::read_to_string(env.path().join("home/.podus/ush_history")).expect("history file");
    for line in ["help", "load 1 prog.uc", "procs do_pizza", "program q"] {
        assert!(
            history.lines().any(|l| l.trim() == line),
            "{line:?} missing from the history:\n{history}"
        );
    }
}
