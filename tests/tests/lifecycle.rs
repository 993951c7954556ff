//! The update's life, told truthfully (SPEC §4.2.1, issue 10), end to end as
//! a user meets it: `ush --local -f SCRIPT` against the real pup.
//!
//! - an update abandoned by `within`, by `abort` or by a failed mproc can be
//!   retried to the same version, and `status`/`procs` say which version
//!   each procedure really runs meanwhile;
//! - every update ends complete, partial or with nothing applied, says
//!   which and why, and `wait` (so `ush -f` under errexit) fails unless it
//!   is complete;
//! - "old" is per procedure: a fixed mproc loaded after a failed update is
//!   checked against the version its procedure still runs, and a load while
//!   an update is pending says which version each `old.NAME` refers to;
//! - bad input changes nothing and says why;
//! - names are truthful: real offsets in backtraces, mprocs by name,
//!   statics as they are after the mproc ran, "1 procedure".
//!
//! The scripts' own `sleep`s are part of what a user types (let the program
//! get going); the tests wait on nothing but the ush process, bounded.

use std::time::Duration;

use podus_tests::{Env, Run, bin};

/// Each script ends by itself in a few seconds; this bound is for a loaded
/// machine.
const LIMIT: Duration = Duration::from_secs(120);

/// `work(r)` is active for 2 s per round (20 steps of 100 ms); `main` calls
/// it forever, so it is inactive only between rounds.
const SLOW1: &str = r#"
void work(int r)
{
    int i;
    for (i = 0; i < 20; i++) {
        printf("v1 work round %d step %d\n", r, i);
        sleep_ms(100);
    }
}
main() { int r = 0; while (1) { work(r); r++; } }
"#;

const SLOW2: &str = r#"
void work(int r)
{
    int i;
    for (i = 0; i < 20; i++) {
        printf("v2 work round %d step %d\n", r, i);
        sleep_ms(100);
    }
}
main() { int r = 0; while (1) { work(r); r++; } }
"#;

/// `main` never returns and changes: its group can never be applied.
const SPIN1: &str = r#"
void helper(int i) { printf("helper v1 %d\n", i); }
main() { int i = 0; while (1) { helper(i); i++; sleep_ms(50); } }
"#;

const SPIN2: &str = r#"
void helper(int i) { printf("helper v2 %d\n", i); }
main() { int i = 0; while (1) { helper(i); i++; sleep_ms(51); } }
"#;

const COUNTER1: &str = r#"
void tick(int n)
{
    static int count = 0;
    count++;
    printf("tick %d\n", count);
}
main() { int i; for (i = 0; i < 100000; i++) { tick(i); sleep_ms(50); } }
"#;

/// Version 2 of the counter whose mproc traps (the old count divided by 0).
const COUNTER_BAD: &str = r#"
void tick(int n)
{
    static int ticks = 0;
    ticks++;
    printf("[v2] #%d\n", ticks);
}
mproc tick { ticks = old.count / (old.count - old.count); }
main() { int i; for (i = 0; i < 100000; i++) { tick(i); sleep_ms(50); } }
"#;

/// The fixed version: the same program, its mproc carrying the renamed
/// static over (it reads `old.count`, which only version 1 has).
const COUNTER_FIXED: &str = r#"
void tick(int n)
{
    static int ticks = 0;
    ticks++;
    printf("[v2] #%d\n", ticks);
}
mproc tick { ticks = old.count + 1000; }
main() { int i; for (i = 0; i < 100000; i++) { tick(i); sleep_ms(50); } }
"#;

/// Writes the sources and `script` into a fresh env and runs it.
fn run_script(sources: &[(&str, &str)], script: &str) -> (Env, Run) {
    run_script_held(sources, script, None)
}

/// `run_script`, with the pup's program held right after its first output
/// containing `hold` until something asks it to pause
/// (`$PODUS_TEST_HOLD_AFTER_OUTPUT`), so that an update lands there.
fn run_script_held(sources: &[(&str, &str)], script: &str, hold: Option<&str>) -> (Env, Run) {
    let env = Env::new();
    for (name, text) in sources {
        env.write(name, text);
    }
    let path = env.write("script.ush", script);
    let mut c = env.command("ush");
    c.args(["--local", "--color", "never", "-f", path.to_str().unwrap()]);
    if let Some(h) = hold {
        c.env("PODUS_TEST_HOLD_AFTER_OUTPUT", h);
    }
    let run = podus_tests::run_bounded(c, LIMIT);
    (env, run)
}

/// The text between the echo of command `cmd` (`> cmd`) and the next
/// command's echo.
fn after<'a>(out: &'a str, cmd: &str) -> &'a str {
    let echo = format!("> {cmd}\n");
    let start = out
        .find(&echo)
        .unwrap_or_else(|| panic!("no `{cmd}` in:\n{out}"))
        + echo.len();
    let rest = &out[start..];
    let end = if rest.starts_with("> ") {
        0
    } else {
        rest.find("\n> ").map_or(rest.len(), |i| i + 1)
    };
    &rest[..end]
}

/// The error ush printed for line `line` of the script.
fn err_at(run: &Run, line: usize) -> String {
    let marker = format!("script.ush:{line}: ");
    run.stderr
        .lines()
        .filter(|l| l.starts_with("error: "))
        .find_map(|l| l.split_once(&marker).map(|(_, rest)| rest))
        .unwrap_or_else(|| panic!("no error for line {line}:\n{}", run.all()))
        .to_string()
}

/// The nth (0-based) occurrence of what `after` finds.
fn after_nth<'a>(out: &'a str, cmd: &str, n: usize) -> &'a str {
    let echo = format!("> {cmd}\n");
    let mut at = 0;
    for _ in 0..n {
        at += out[at..]
            .find(&echo)
            .unwrap_or_else(|| panic!("fewer than {n} `{cmd}` in:\n{out}"))
            + echo.len();
    }
    after(&out[at..], cmd)
}

#[test]
fn an_update_abandoned_by_within_is_retried_to_the_same_version() {
    let (_env, run) = run_script_held(
        &[("slow1.uc", SLOW1), ("slow2.uc", SLOW2)],
        "set errexit off
program retry
connect
load 1 slow1.uc
load 2 slow2.uc
run
expect \"v1 work round 0 step 2\" --timeout 20s
update 2 --within 300ms
wait --timeout 10s
status
procs
set errexit on
update 2
wait --timeout 20s
expect \"v2 work round\" --timeout 20s
status
procs
stop
quit
",
        Some("v1 work round 0 step 2"),
    );
    let out = run.all();
    let stdout = &run.stdout;
    assert_eq!(run.code, Some(0), "the retried update must succeed:\n{out}");
    assert!(out.contains("v2 work round"), "v2 never ran:\n{out}");
    // The first try applied nothing, and said why.
    assert!(
        out.contains(
            "*** Program retry update to version 2 applied nothing: not applied {work} (still active when within 300ms ran out) ***"
        ),
        "{out}"
    );
    // Meanwhile status and procs agree: the program runs version 1 as
    // before the update (issue 22: the warped, unchanged main is back at 1).
    let status = after_nth(stdout, "status", 0);
    assert!(
        status.contains(": running version 1; highest running version 1\n"),
        "status must read as before the update:\n{status}"
    );
    let procs = after_nth(stdout, "procs", 0);
    assert!(
        procs
            .lines()
            .any(|l| l.split_whitespace().take(3).eq(["0", "work", "1"])),
        "{procs}"
    );
    // The retry began an update of work only, and completed.
    let retry = after_nth(stdout, "update 2", 0);
    assert!(retry.contains("from version 1 to version 2"), "{retry}");
    assert!(
        out.contains("*** Program retry updated to version 2 successfully ***"),
        "{out}"
    );
    let procs = after_nth(stdout, "procs", 1);
    assert!(
        procs
            .lines()
            .any(|l| l.split_whitespace().take(3).eq(["0", "work", "2"])),
        "{procs}"
    );
    let status = after_nth(stdout, "status", 1);
    assert!(!status.contains("not yet at version"), "{status}");
}

#[test]
fn an_update_abandoned_by_abort_is_retried_to_the_same_version() {
    let (_env, run) = run_script_held(
        &[("slow1.uc", SLOW1), ("slow2.uc", SLOW2)],
        "program retry
connect
load 1 slow1.uc
load 2 slow2.uc
run
expect \"v1 work round 0 step 2\" --timeout 20s
update 2
abort
update 2
wait --timeout 20s
expect \"v2 work round\" --timeout 20s
stop
quit
",
        Some("v1 work round 0 step 2"),
    );
    let out = run.all();
    assert_eq!(run.code, Some(0), "{out}");
    assert!(
        out.contains("applied nothing: not applied {work} (abandoned by abort while still active)"),
        "{out}"
    );
    assert!(out.contains("v2 work round"), "{out}");
    assert!(
        out.contains("*** Program retry updated to version 2 successfully ***"),
        "{out}"
    );
}

#[test]
fn wait_fails_when_an_update_applied_nothing_so_scripts_stop() {
    let (_env, run) = run_script(
        &[("spin1.uc", SPIN1), ("spin2.uc", SPIN2)],
        "program spin
connect
load 1 spin1.uc
load 2 spin2.uc
run
sleep 200ms
update 2 --within 1s --atomic
wait --timeout 20s
echo not reached
quit
",
    );
    let out = run.all();
    assert_ne!(run.code, Some(0), "ush -f must fail:\n{out}");
    assert!(
        out.contains("*** Program spin update to version 2 applied nothing: not applied {helper, main} (still active when within 1s ran out) ***"),
        "{out}"
    );
    assert!(err_at(&run, 8).starts_with("wait: "), "{out}");
    assert!(
        !out.contains("not reached"),
        "errexit must stop the script:\n{out}"
    );
}

#[test]
fn a_partial_update_says_what_applied_and_wait_fails() {
    let (_env, run) = run_script(
        &[("spin1.uc", SPIN1), ("spin2.uc", SPIN2)],
        "program spin
connect
load 1 spin1.uc
load 2 spin2.uc
run
sleep 200ms
set errexit off
update 2 --within 1s
wait --timeout 20s
expect \"helper v2\" --timeout 20s
quit
",
    );
    let out = run.all();
    assert!(
        err_at(&run, 9).starts_with("wait: "),
        "wait must fail:\n{out}"
    );
    assert!(
        out.contains("*** Program spin update to version 2 partial: applied {helper}; not applied {main} (still active when within 1s ran out) ***"),
        "{out}"
    );
    assert!(out.contains("helper v2"), "the applied group runs:\n{out}");
}

#[test]
fn a_fixed_mproc_after_a_failed_one_reads_the_version_its_procedure_runs() {
    let (_env, run) = run_script(
        &[
            ("counter1.uc", COUNTER1),
            ("counter2.uc", COUNTER_BAD),
            ("counter3.uc", COUNTER_FIXED),
        ],
        "set errexit off
program ctr
connect
load 1 counter1.uc
load 2 counter2.uc
run
sleep 300ms
update 2
set errexit on
stack
load 3 counter3.uc
update 3
wait --timeout 20s
procs
expect \"[v2] #\" --timeout 20s
stop
quit
",
    );
    let out = run.all();
    let stdout = &run.stdout;
    assert_eq!(run.code, Some(0), "{out}");
    // The trapping mproc is named as the user wrote it, with its offset.
    let failed = after(stdout, "update 2");
    assert!(
        failed.contains("mproc tick trapped: division by zero in mprocedure v2:mproc:tick+0x"),
        "{failed}"
    );
    assert!(!failed.contains("+0x0 "), "{failed}");
    assert!(
        failed.contains(
            "update to version 2 applied nothing: not applied {tick} (mproc tick trapped"
        ),
        "{failed}"
    );
    // The top frame shows its real offset (sleep_ms inside main).
    let stack = after(stdout, "stack");
    let top = stack.lines().nth(1).unwrap_or_default();
    assert!(top.contains("v1:proc:main+0x"), "{stack}");
    assert!(
        !top.contains("main+0x0 "),
        "the top frame's offset: {stack}"
    );
    // Version 3's mproc is checked against tick's version 1, and says so.
    let load = after(stdout, "load 3 counter3.uc");
    assert!(
        load.contains("mproc tick: old.NAME refers to tick in version 1"),
        "{load}"
    );
    assert!(
        load.contains("Version 3 mprocedures (from version 1) loaded successfully"),
        "{load}"
    );
    // The commit reports the statics as the mproc left them.
    let update = after(stdout, "update 3");
    assert!(
        update.contains("1 procedure has changed between versions:"),
        "{update}"
    );
    assert!(
        update.contains("warped 1 unchanged procedure into"),
        "{update}"
    );
    assert!(
        out.contains("statics of tick: carried none; set by mproc tick: ticks; reset none"),
        "{out}"
    );
    assert!(
        out.contains("*** Program ctr updated to version 3 successfully ***"),
        "{out}"
    );
    // The mproc carried the old count: the first v2 tick is past 1000.
    let first: u64 = out
        .lines()
        .find_map(|l| l.strip_prefix("[v2] #"))
        .unwrap_or_else(|| panic!("no v2 tick:\n{out}"))
        .trim()
        .parse()
        .unwrap();
    assert!(first > 1000, "{out}");
    let procs = after(stdout, "procs");
    assert!(
        procs
            .lines()
            .any(|l| l.split_whitespace().take(3).eq(["0", "tick", "3"])),
        "{procs}"
    );
}

#[test]
fn a_load_while_an_update_is_pending_names_the_version_old_refers_to() {
    let w1 = r#"
void work(int r)
{
    static int a = 7;
    int i;
    for (i = 0; i < 10; i++) { printf("w1 %d %d\n", r, a); sleep_ms(100); }
}
main() { int r = 0; while (1) { work(r); r++; } }
"#;
    let w2 = r#"
void work(int r)
{
    static int b = 0;
    int i;
    for (i = 0; i < 10; i++) { printf("w2 %d %d\n", r, b); sleep_ms(100); }
}
mproc work { b = old.a + 100; }
main() { int r = 0; while (1) { work(r); r++; } }
"#;
    let w3 = r#"
void work(int r)
{
    static int c = 0;
    int i;
    for (i = 0; i < 10; i++) { printf("w3 %d %d\n", r, c); sleep_ms(100); }
}
mproc work { c = old.b + 1000; }
main() { int r = 0; while (1) { work(r); r++; } }
"#;
    let (_env, run) = run_script_held(
        &[("w1.uc", w1), ("w2.uc", w2), ("w3.uc", w3)],
        "program w
connect
load 1 w1.uc
load 2 w2.uc
run
expect \"w1 0 7\" --timeout 20s
update 2
load 3 w3.uc
update 3
wait --timeout 30s
expect \"w3 \" --timeout 20s
stop
quit
",
        Some("w1 0 7"),
    );
    let out = run.all();
    let stdout = &run.stdout;
    assert_eq!(run.code, Some(0), "{out}");
    let load = after(stdout, "load 3 w3.uc");
    assert!(
        load.contains("mproc work: old.NAME refers to work in version 2"),
        "work will be at version 2 when version 3 applies:\n{load}"
    );
    assert!(out.contains("w3 "), "{out}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("w3 ") && l.ends_with(" 1107")),
        "c = old.b + 1000 where b = old.a + 100:\n{out}"
    );
}

#[test]
fn bad_update_requests_change_nothing_and_say_why() {
    // The update of line 10 must find work on the stack (regression: under
    // load it once landed between two calls of work and completed at once),
    // so the program is held inside work until that update pauses it.
    let (_env, run) = run_script_held(
        &[("slow1.uc", SLOW1), ("slow2.uc", SLOW2)],
        "set errexit off
program bad
connect; output on
load 1 slow1.uc
update 2
run
update 5
update slow2.uc
load 2 slow2.uc; expect \"v1 work round 0 step 2\" --timeout 20s
update 2 --within 5s
update 1
update 2
abort
procs
stop
update 2
quit
",
        Some("v1 work round 0 step 2"),
    );
    let out = run.all();
    let stdout = &run.stdout;
    assert!(
        err_at(&run, 5).contains("no program is running (use run first)"),
        "{out}"
    );
    assert_eq!(err_at(&run, 7), "version 5 is not loaded");
    let uc = err_at(&run, 8);
    assert!(
        uc.contains(
            "slow2.uc is a UC source file, not a changes file; nothing was updated (load it first"
        ),
        "{uc}"
    );
    assert!(
        !run.stderr.contains("slow2.uc:"),
        "no diagnostics from parsing C as a changes file:\n{}",
        run.stderr
    );
    // main is at version 2 now (warped): version 1 is behind it.
    assert!(
        err_at(&run, 11).contains("cannot update to version 1: main is already at version 2"),
        "{out}"
    );
    assert!(
        err_at(&run, 12).contains("an update to version 2 is already pending"),
        "{out}"
    );
    let procs = after(stdout, "procs");
    assert!(
        procs
            .lines()
            .any(|l| l.split_whitespace().take(3).eq(["0", "work", "1"])),
        "{procs}"
    );
    assert!(
        err_at(&run, 16).contains("the program is not running (it has stopped)"),
        "{out}"
    );
    assert!(
        after_nth(stdout, "update 2", 2).trim().is_empty(),
        "an update after stop begins nothing:\n{out}"
    );
}

#[test]
fn ucc_checks_a_new_version_against_the_one_it_replaces() {
    let env = Env::new();
    let c1 = env.write("counter1.uc", COUNTER1);
    let c3 = env.write("counter3.uc", COUNTER_FIXED);
    let bad = env.write(
        "counterx.uc",
        &COUNTER_FIXED.replace("old.count", "old.nope"),
    );
    let ucc = |args: &[&std::path::Path], prev: Option<&std::path::Path>, cmd: &str| {
        let mut c = std::process::Command::new(bin("ucc"));
        c.args(["--color", "never", cmd]);
        c.args(args);
        if let Some(p) = prev {
            c.arg("--prev").arg(p);
        }
        podus_tests::run_bounded(c, Duration::from_secs(30))
    };
    for cmd in ["check", "delta"] {
        let ok = ucc(&[&c3], Some(&c1), cmd);
        assert_eq!(ok.code, Some(0), "ucc {cmd} --prev: {}", ok.all());
        let wrong = ucc(&[&bad], Some(&c1), cmd);
        assert_eq!(wrong.code, Some(1), "{}", wrong.all());
        assert!(wrong.all().contains("nope"), "{}", wrong.all());
    }
    let out = env.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let mut c = std::process::Command::new(bin("ucc"));
    c.arg("build")
        .arg(&c3)
        .arg("--prev")
        .arg(&c1)
        .arg("-o")
        .arg(&out);
    let built = podus_tests::run_bounded(c, Duration::from_secs(30));
    assert_eq!(built.code, Some(0), "{}", built.all());
}

/// `work` runs for about 4 s, so an update of it stays pending that long
/// after it was asked for in the middle of a call.
const ROUNDS1: &str = "main() { while (1) work(); }
work() {
    int i;
    for (i = 0; i < 40; i++) { printf(\"round %d\\n\", i); sleep_ms(100); }
}
";

/// One pup, two ushes: the second is connected before the first begins an
/// update that then applies nothing (`within` runs out while `work` is
/// active). The second ush's `wait` learns that from the pup and fails, as
/// it would for an update it had begun itself (SPEC §4.2.1).
#[test]
fn wait_fails_for_an_update_another_ush_began_that_applied_nothing() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    // The program is held after "round 1" until the update pauses it, so
    // "round 3" comes only after the update has begun.
    let pup = env.start_pup_env("r", &["--debug"], &[(vm::HOLD_ENV, "round 1\n")]);
    env.write("r1.uc", ROUNDS1);
    env.write("r2.uc", &ROUNDS1.replace("round %d", "ROUND %d"));
    env.ush_c("program r; connect; load 1 r1.uc; load 2 r2.uc; run")
        .assert_ok();
    let mut waiter = env.command("ush");
    waiter.args([
        "--color",
        "never",
        "-c",
        "program r; connect; output on; expect \"round 3\\n\"; wait --timeout 60s; echo not reached",
    ]);
    let waiter = std::thread::spawn(move || podus_tests::run_bounded(waiter, LIMIT));
    // The waiting ush is connected (its `output on` reached the pup) before
    // the update begins.
    pup.wait_line(|l| l.ends_with("received command OUTPUT"), LIMIT);
    env.ush_c("program r; connect; update 2 --within 1s")
        .assert_ok()
        .assert_has("Program r update initiated successfully");
    let run = waiter.join().expect("the waiting ush's thread");
    let all = run.all();
    assert_ne!(run.code, Some(0), "wait must fail:\n{all}");
    assert!(
        all.contains(
            "wait: Program r update to version 2 applied nothing: not applied {work} (still active when within 1s ran out)"
        ),
        "{all}"
    );
    assert!(!all.contains("not reached"), "{all}");
}

/// Regression (issue 29): `ush --local` turned output on again at every
/// `connect`, after the user had turned it off. A reconnect keeps the
/// user's choice; a first connect still streams by default.
#[test]
fn a_reconnect_keeps_output_off() {
    let (_env, run) = run_script(
        &[("s1.uc", SPIN1)],
        "set echo on\nprogram a\nconnect\nload 1 s1.uc\nrun\nexpect \"helper v1 1\\n\"\n\
         output off\ndisconnect\nconnect\nsleep 300ms\noutput on\nexpect \"helper v1\"\nstop\nquit\n",
    );
    let out = run.all();
    assert_eq!(run.code, Some(0), "{out}");
    let first = &out[..out.find("> output off").expect(&out)];
    assert!(
        first.contains("helper v1 0"),
        "a first connect streams under --local:\n{out}"
    );
    let quiet = after(&out, "sleep 300ms");
    assert!(
        !quiet.contains("helper v1"),
        "streamed after the reconnect:\n{out}"
    );
    assert!(
        after_nth(&out, "connect", 1).contains("holds version 1"),
        "{out}"
    );
}

/// v1 keeps a running total in an `int` static and an `int` global.
const BANK1: &str = r#"int seen;
int tick(int n) { static int total; total += n; seen++; return total; }
main() { int i; for (i = 1; i < 100000; i++) { printf("%d\n", tick(i)); sleep_ms(20); } }
"#;
/// v2 makes both `double`, with no mproc: an update would start them at 0.
const BANK2: &str = r#"double seen;
int tick(int n) { static double total; total += n; seen += 1.0; return (int) total; }
main() { int i; for (i = 1; i < 100000; i++) { printf("%d\n", tick(i)); sleep_ms(20); } }
"#;

#[test]
fn an_update_that_resets_data_warns_by_name_and_strict_refuses_it() {
    let (_env, run) = run_script(
        &[
            ("bank1.uc", BANK1),
            ("bank2.uc", BANK2),
            ("strict.changes", "update 1 -> 2\nstrict\n"),
        ],
        "program bank
connect
load 1 bank1.uc
run
expect 3
load 2 bank2.uc
set errexit off
update 2 --strict
update strict.changes
status
set errexit on
update 2
wait --timeout 20s
quit
",
    );
    let out = run.all();
    assert_eq!(run.code, Some(0), "{out}");
    // The load names each value that an update to 2 would drop, with both
    // types, and how to refuse such an update.
    let load = after(&out, "load 2 bank2.uc");
    // A small load shows no progress lines: the paper's report only.
    assert!(!load.contains("load: "), "{out}");
    for what in [
        "warning: update to version 2 resets tick.total to its initializer: it holds int now, version 2 declares it double, and no mproc carries it (`update 2 --strict` refuses)",
        "warning: update to version 2 resets seen to its initializer: it holds int now, version 2 declares it double",
    ] {
        assert!(load.contains(what), "missing {what:?} in:\n{out}");
    }
    // Strict (flag or changes file) refuses and changes nothing.
    for line in [8, 9] {
        let e = err_at(&run, line);
        assert!(
            e.starts_with("update: refused (strict): it would reset tick.total (int in version 1, double now), seen (int in version 1, double now)"),
            "line {line}: {e}\n{out}"
        );
    }
    assert!(after(&out, "status").contains("running version 1"), "{out}");
    // Without strict the update goes ahead, and says what it reset.
    let up = after(&out, "update 2");
    assert!(
        up.contains("warning: tick.total starts afresh from its initializer: it was int in version 1, it is double now, and no mproc carried it"),
        "{out}"
    );
    assert!(up.contains("warning: seen starts afresh"), "{out}");
}
