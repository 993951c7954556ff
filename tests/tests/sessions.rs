//! ush against a real pupmapper and real pups started by the test: leaving
//! and rejoining a pending update, two pups from one ush, a killed pup, a
//! wrong cookie, loading from `ucc build` output, and scripts that fail.
//!
//! Each test has its own temp dir, cookie and pupmapper on an OS-assigned
//! port; ush finds it through `PODUS_PUPMAPPER_PORT`.

use std::time::Duration;

use podus_tests::{Env, eventually, run_with_stdin};

/// `work` runs for about 4 s, so an update of it stays pending that long
/// after it was asked for in the middle of a call.
const SLOW_V1: &str = "main() { while (1) work(); }
work() {
    int i;
    for (i = 0; i < 40; i++) { printf(\"round %d\\n\", i); sleep_ms(100); }
}
";
const SLOW_V2: &str = "main() { while (1) work(); }
work() {
    int i;
    for (i = 0; i < 40; i++) { printf(\"ROUND %d\\n\", i); sleep_ms(100); }
}
";

fn talker(word: &str) -> String {
    format!(
        "main() {{ int i; i = 0; while (1) {{ say(i); i++; sleep_ms(30); }} }}
say(n) int n; {{ printf(\"{word} says %d\\n\", n); }}
"
    )
}

#[test]
fn disconnect_while_an_update_is_pending_then_see_it_complete() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    // The VM's test pause point holds the program right after it prints
    // "round 1" until the update asks it to pause: the update lands inside
    // that call of `work`, however long the ush took to send it.
    let _pup = env.start_pup_env("r", &[], &[(vm::HOLD_ENV, "round 1\n")]);
    env.write("slow1.uc", SLOW_V1);
    env.write("slow2.uc", SLOW_V2);
    let first = env.ush_c(
        "program r; connect; load 1 slow1.uc; load 2 slow2.uc; output on; run; \
         expect \"round 1\\n\"; update 2; disconnect",
    );
    first
        .assert_ok()
        .assert_has("Update of program r from version 1 to version 2 begins...")
        .assert_has("1 procedure has changed between versions:\nwork\n")
        .assert_has("program r runtime stack backtrace:\nwork\nmain\n")
        .assert_has("enabled procedure return interrupts")
        .assert_has("Disconnected from pup for program r on host ");
    assert!(
        !first.all().contains("updated to version 2"),
        "the update must still be pending when the first ush leaves:\n{}",
        first.all()
    );
    let second = env.ush_c("program r; connect; wait --timeout 30s; status");
    second
        .assert_ok()
        .assert_has("holds versions 1, 2; program running version ")
        .assert_has("; 1 update pending\n")
        .assert_has("*** Program r updated to version 2 successfully ***")
        .assert_has("no update pending");
    // And the program now runs version 2.
    let third = env.ush_c("program r; connect; output on; expect ROUND; stop");
    third.assert_ok();
}

#[test]
fn one_ush_controls_two_pups() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let _a = env.start_pup("a", &[]);
    let _b = env.start_pup("b", &[]);
    env.write("a.uc", &talker("A"));
    env.write("b.uc", &talker("B"));
    let run = env.ush_c(
        "program a; connect; load 1 a.uc; run; output on; \
         program b; connect; load 1 b.uc; run; output on; expect \"B says 3\"; \
         program a; expect \"A says 3\"; status; \
         program b; status; stop; program a; stop; pups",
    );
    run.assert_ok()
        .assert_has("The current program is now b")
        .assert_has("Connected to pup for program a on host ")
        .assert_has("Connected to pup for program b on host ")
        .assert_has("Program a is now running")
        .assert_has("Program b is now running")
        .assert_has("program a on host ")
        .assert_has("program b on host ")
        // Output of two pups is told apart by program name.
        .assert_has("[a] A says")
        .assert_has("[b] B says")
        .assert_has("Program a ended (exit code 0): stopped")
        .assert_has("Program b ended (exit code 0): stopped");
    let out = run.all();
    assert!(
        !out.lines()
            .any(|l| l.starts_with("[a] B") || l.starts_with("[b] A")),
        "output attributed to the wrong program:\n{out}"
    );
}

fn pups_listed(env: &Env) -> Vec<String> {
    let r = env.ush_c("pups");
    r.assert_ok();
    r.stdout
        .lines()
        .filter(|l| l.starts_with("  "))
        .filter_map(|l| l.split_whitespace().next().map(str::to_string))
        .collect()
}

#[test]
fn a_killed_pup_disappears_from_pups() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let _live = env.start_pup("live", &[]);
    let mut doomed = env.start_pup("doomed", &[]);
    assert_eq!(pups_listed(&env), ["doomed", "live"]);
    doomed.kill9();
    eventually(
        "the killed pup to leave the pupmapper's list",
        Duration::from_secs(15),
        || (pups_listed(&env) == ["live"]).then_some(()),
    );
    let r = env.ush_c("program doomed; connect");
    assert_eq!(r.code, Some(1), "{}", r.all());
    r.assert_has("no pup for program doomed on host ");
}

#[test]
fn a_wrong_cookie_gets_a_clear_refusal_and_nothing_else() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let _pup = env.start_pup("w", &[]);
    env.write("w.uc", &talker("W"));
    let other = env.write("other-cookie", "0123456789abcdef0123456789abcdef\n");
    std::fs::set_permissions(&other, std::os::unix::fs::PermissionsExt::from_mode(0o600)).unwrap();
    let r = env.ush(
        &[
            "--cookie",
            other.to_str().unwrap(),
            "-c",
            "program w; connect; load 1 w.uc; run",
        ],
        Duration::from_secs(30),
    );
    assert_eq!(r.code, Some(1), "{}", r.all());
    r.assert_has("refused this ush").assert_has("other-cookie");
    assert!(!r.all().contains("Load sequence begins"), "{}", r.all());
    // The pup was left untouched: with the right cookie it is still new.
    env.ush_c("program w; connect")
        .assert_ok()
        .assert_has("Pup for program w on host ")
        .assert_has(" is new");
}

#[test]
fn loads_ucc_build_output_and_reports_bad_input() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let _pup = env.start_pup("l", &[]);
    env.write("t1.uc", &talker("T"));
    // t2 has one procedure more: its .o does not fit t1's .delta.
    env.write("t2.uc", &format!("{}extra() {{ }}\n", talker("U")));
    env.write("bad.uc", "main() {\n  int x = ;\n}\n");
    for f in ["t1.uc", "t2.uc"] {
        let mut c = env.command("ucc");
        c.args(["build", f]);
        podus_tests::run_bounded(c, Duration::from_secs(30)).assert_ok();
    }
    env.ush_c("program l; connect; load 1 t1.delta t1.o; delta")
        .assert_ok()
        .assert_has("extracted updatable procedures from delta file t1.delta")
        .assert_has("program l has 2 updatable procedures")
        .assert_has("Version 1 of program l loaded successfully")
        .assert_has("delta* of version 1 of program l (2 procedures):");
    let r = env.ush_c("program l; connect; load 2 t1.delta t2.o");
    assert_eq!(r.code, Some(1), "{}", r.all());
    r.assert_has("t1.delta and t2.o do not describe the same program");
    let r = env.ush_c("program l; connect; load 2 t1.delta missing.o");
    assert_eq!(r.code, Some(1), "{}", r.all());
    r.assert_has("cannot read");
    // A compile error shows where, and nothing is loaded.
    let r = env.ush_c("program l; connect; load 2 bad.uc");
    assert_eq!(r.code, Some(1), "{}", r.all());
    r.assert_has("bad.uc:2:11")
        .assert_has("^ expected")
        .assert_has("bad.uc does not compile; nothing was loaded");
    let r = env.ush_c("program l; connect; versions");
    r.assert_ok().assert_has("version 1:");
    assert!(!r.stdout.contains("version 2:"), "{}", r.all());
}

#[test]
fn scripts_stop_at_the_first_failure_unless_errexit_is_off() {
    let env = Env::new();
    let script = "# a failing script\nprogram e1\nload 1 nothing.uc\nprogram e2\n";
    env.write("fail.ush", script);
    let r = env.ush(
        &["--color", "never", "-f", "fail.ush"],
        Duration::from_secs(30),
    );
    assert_eq!(r.code, Some(1), "{}", r.all());
    r.assert_has("> program e1")
        .assert_has("# a failing script")
        .assert_has("fail.ush:3: not connected to a pup for program e1");
    assert!(!r.all().contains("program is now e2"), "{}", r.all());

    env.write("go-on.ush", &format!("set errexit off\n{script}"));
    let r = env.ush(&["-f", "go-on.ush"], Duration::from_secs(30));
    r.assert_ok()
        .assert_has("go-on.ush:4: not connected to a pup for program e1")
        .assert_has("The current program is now e2");

    // From standard input: no prompt echo, same rules.
    let mut c = env.command("ush");
    c.arg("--color=never");
    let r = run_with_stdin(c, script, Duration::from_secs(30));
    assert_eq!(r.code, Some(1), "{}", r.all());
    r.assert_has("The current program is now e1")
        .assert_has("<stdin>:3: not connected");
    assert!(!r.stdout.contains("> program"), "{}", r.all());

    // -c: the same, on one line.
    let r = env.ush_c("program e1; bogus; program e2");
    assert_eq!(r.code, Some(1), "{}", r.all());
    r.assert_has("unknown command `bogus`");
    let r = env.ush_c("set errexit off; bogus; program e2");
    r.assert_ok().assert_has("The current program is now e2");
}

/// v1 and v2 of a counter whose static changes type: v2's mproc reads
/// `old.total`, an int in v1 and a double in v2.
const BANK1: &str = "int total = 0;
void tick(int n) { total += n; printf(\"tick %d total=%d\\n\", n, total); }
main() { int i; for (i = 1; i < 100000; i++) { tick(i); sleep_ms(20); } }
";
const BANK2: &str = "double total = 0.0;
mproc total { total = old.total * 1.0; }
void tick(int n) { total += n; printf(\"tick %d total=%.1f\\n\", n, total); }
main() { int i; for (i = 1; i < 100000; i++) { tick(i); sleep_ms(20); } }
";

/// Every `tick N total=T` line of `out` keeps the running sum
/// (T = N(N+1)/2): the total was carried, never reset.
fn assert_sums_carried(out: &str) -> usize {
    let mut seen = 0;
    for l in out.lines() {
        let Some(rest) = l.strip_prefix("tick ") else {
            continue;
        };
        let (n, t) = rest.split_once(" total=").expect(l);
        let n: u64 = n.parse().expect(l);
        let t: f64 = t.parse().expect(l);
        assert_eq!(t, (n * (n + 1) / 2) as f64, "total lost at {l:?}:\n{out}");
        seen += 1;
    }
    seen
}

/// Regression (issue 29): a ush that had not loaded v1 typed `old.total`
/// by v2's own declaration and the pup refused ("old.total is int in
/// version 1, not double"). Every ush now types a new version against the
/// pup's record of what runs, so a second ush gets the first one's answer.
#[test]
fn a_second_ush_types_a_new_version_against_what_the_pup_runs() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let _pup = env.start_pup("bank", &[]);
    env.write("bank1.uc", BANK1);
    env.write("bank2.uc", BANK2);
    env.ush_c("program bank; connect; load 1 bank1.uc; output on; run; expect \"tick 3 \"")
        .assert_ok();
    let r = env.ush_c(
        "program bank; connect; load 2 bank2.uc; output on; update 2; wait --timeout 30s; \
         expect \".0\\n\"; stop",
    );
    r.assert_ok()
        .assert_has("Version 2 of program bank loaded successfully")
        .assert_has("*** Program bank updated to version 2 successfully ***");
    assert!(
        r.stdout.contains(".0\n"),
        "v2's output was not seen:\n{}",
        r.all()
    );
    assert!(assert_sums_carried(&r.stdout) > 0, "{}", r.all());
}

/// Regression (issue 22): `update 2` warped the unchanged `main` to version
/// 2 while `work` waited; `abort` said "applied nothing" yet `status` read
/// "running version 2 in part" and `procs` put `main` at 2. After nothing
/// applied, every procedure is where it was, and a later `update 2` warps
/// again and tells the same story as the first.
#[test]
fn abort_with_nothing_applied_leaves_every_procedure_where_it_was() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let _pup = env.start_pup_env("r", &[], &[(vm::HOLD_ENV, "round 1\n")]);
    env.write("slow1.uc", SLOW_V1);
    env.write("slow2.uc", SLOW_V2);
    let r = env.ush_c(
        "program r; connect; load 1 slow1.uc; load 2 slow2.uc; output on; run; \
         expect \"round 1\\n\"; status; update 2; abort; status; procs; output off; update 2; \
         abort; stop",
    );
    r.assert_ok().assert_has(
        "*** Program r update to version 2 applied nothing: not applied {work} (abandoned by abort while still active) ***",
    );
    let out = &r.stdout;
    let statuses: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("program r on host "))
        .collect();
    assert_eq!(statuses.len(), 2, "{out}");
    assert_eq!(
        statuses[0], statuses[1],
        "status after nothing applied:\n{out}"
    );
    assert!(
        statuses[1].ends_with(": running version 1; highest running version 1"),
        "{out}"
    );
    let main_row = out
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("main"))
        .expect(out);
    assert_eq!(main_row.split_whitespace().nth(2), Some("1"), "{out}");
    assert_eq!(
        out.matches("warped 1 unchanged procedure into version space 2")
            .count(),
        2,
        "{out}"
    );
}

/// Regression (issue 29): an update pending on `main` (active for life)
/// that applied only because `stop` ended the program was reported as a
/// plain "updated successfully". The pup says the program's end let it
/// apply, and ush says no new code ran and where the next run starts.
#[test]
fn an_update_that_applies_because_the_program_ended_says_so() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let _pup = env.start_pup("m", &[]);
    env.write(
        "m1.uc",
        "main() { while (1) { printf(\"one\\n\"); sleep_ms(20); } }\n",
    );
    env.write(
        "m2.uc",
        "main() { while (1) { printf(\"two\\n\"); sleep_ms(20); } }\n",
    );
    let r = env.ush_c(
        "program m; connect; load 1 m1.uc; load 2 m2.uc; output on; run; expect one; \
         update 2; stop; status",
    );
    r.assert_ok().assert_has(
        "*** Program m updated to version 2 successfully when the program ended \
         (no version-2 code ran; the next run starts at version 2) ***",
    );
    assert!(!r.stdout.contains("two\n"), "{}", r.all());
}
