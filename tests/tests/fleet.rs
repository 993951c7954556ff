//! Fleets (SPEC §5.5) end to end: real pupmapper, pup and ush processes on
//! loopback. Several "hosts" are pupmappers on 127.0.0.2, 127.0.0.3, ….
//! Waits are on output lines (expect-style), each bounded.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use podus_tests::{Daemon, Env, READY, Run};

const LIMIT: Duration = Duration::from_secs(120);

/// The fleet programs (those of the acceptance floor): v2 prints `v2 step N` every 20 steps, v3 prints
/// nothing (its health line never comes).
fn programs(env: &Env) {
    env.write(
        "fleet1.uc",
        "int step(int n) { return n + 1; }\nmain() { int i = 0; while (1) { i = step(i); sleep_ms(5); } }\n",
    );
    env.write(
        "fleet2.uc",
        "int step(int n) { static int c; c++; if (c % 20 == 0) printf(\"v2 step %d\\n\", c); return n + 2; }\nmain() { int i = 0; while (1) { i = step(i); sleep_ms(5); } }\n",
    );
    env.write(
        "fleet3.uc",
        "int step(int n) { return n + 3; }\nmain() { int i = 0; while (1) { i = step(i); sleep_ms(5); } }\n",
    );
}

/// A pupmapper listening on `ip` (a loopback "host"); its `IP:PORT`.
fn mapper_on(env: &Env, ip: &str) -> (Daemon, String) {
    let mut c = env.command("pupmapper");
    c.args(["--port", "0", "--listen", ip]);
    let d = Daemon::spawn(&format!("pupmapper on {ip}"), c);
    let line = d.wait_line(|l| l.starts_with("pupmapper listening on "), READY);
    let addr = line.rsplit(' ').next().unwrap().to_string();
    (d, addr)
}

/// `pup NAME` registered with the pupmapper at `mapper`.
fn pup_at(env: &Env, name: &str, mapper: &str) -> Daemon {
    let mut c = env.command("pup");
    c.args([name, "--mapper", mapper, "--quiet-output"]);
    let d = Daemon::spawn(&format!("pup {name}@{mapper}"), c);
    d.wait_line(
        |l| l.starts_with(&format!("pup {name} listening on ")),
        READY,
    );
    d
}

/// A ush running a script, whose output is read while it runs.
struct Live {
    child: Option<Child>,
    lines: Arc<(Mutex<Vec<String>>, Condvar)>,
}

impl Live {
    fn start(env: &Env, args: &[&str]) -> Live {
        let mut c: Command = env.command("ush");
        c.args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = c.spawn().expect("start ush");
        let lines: Arc<(Mutex<Vec<String>>, Condvar)> = Arc::default();
        for s in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for l in BufReader::new(s).lines().map_while(Result::ok) {
                    lines.0.lock().unwrap().push(l);
                    lines.1.notify_all();
                }
            });
        }
        Live {
            child: Some(child),
            lines,
        }
    }

    fn text(&self) -> String {
        self.lines.0.lock().unwrap().join("\n")
    }

    /// Waits for a line containing `what`.
    #[track_caller]
    fn expect(&self, what: &str, limit: Duration) {
        let end = Instant::now() + limit;
        let (m, cv) = &*self.lines;
        let mut g = m.lock().unwrap();
        while !g.iter().any(|l| l.contains(what)) {
            let now = Instant::now();
            assert!(
                now < end,
                "ush did not print {what:?} within {limit:?}; it printed:\n{}",
                g.join("\n")
            );
            g = cv.wait_timeout(g, end - now).unwrap().0;
        }
    }

    fn signal(&self, sig: i32) {
        // SAFETY: kill(2) on our own child, not yet reaped.
        unsafe {
            libc::kill(self.child.as_ref().unwrap().id() as i32, sig);
        }
    }

    /// Waits for ush to exit; its exit code (None: killed) and output.
    #[track_caller]
    fn finish(mut self, limit: Duration) -> (Option<i32>, String) {
        let mut child = self.child.take().unwrap();
        let end = Instant::now() + limit;
        loop {
            if let Some(s) = child.try_wait().unwrap() {
                // Let the readers drain what is left.
                let t = Instant::now();
                while t.elapsed() < Duration::from_secs(2) && Arc::strong_count(&self.lines) > 1 {
                    std::thread::sleep(Duration::from_millis(10));
                }
                return (s.code(), self.text());
            }
            if Instant::now() >= end {
                let _ = child.kill();
                let _ = child.wait();
                panic!("ush did not finish within {limit:?}:\n{}", self.text());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// `ush ARGS -f SCRIPT` to the end.
fn script(env: &Env, local: bool, text: &str) -> Run {
    env.write("s.ush", text);
    let mut args = vec!["--color", "never", "-f", "s.ush"];
    if local {
        args.insert(0, "--local");
    }
    env.ush(&args, LIMIT)
}

/// The `rollout: N pups: …` summary lines.
fn summaries(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| l.starts_with("rollout: ") && l.contains(" pups: "))
        .map(|l| l.split(" (").next().unwrap().to_string())
        .collect()
}

/// The table row of `pup` after the `n`th (0-based) table header.
fn row<'a>(out: &'a str, n: usize, pup: &str) -> &'a str {
    let mut tables = out.split("pup  ").skip(1 + n);
    let t = tables
        .next()
        .unwrap_or_else(|| panic!("no table {n} in:\n{out}"));
    t.lines()
        .find(|l| l.split_whitespace().next() == Some(pup))
        .unwrap_or_else(|| panic!("no row for {pup} in table {n}:\n{out}"))
}

#[test]
fn twelve_pups_roll_in_batches_of_four_and_a_failing_health_gate_halts() {
    let env = Env::new();
    programs(&env);
    let r = script(
        &env,
        true,
        "fleet f1 f2 f3 f4 f5 f6 f7 f8 f9 f10 f11 f12\n\
         rollout load 1 fleet1.uc\nrollout load 2 fleet2.uc\nrollout load 3 fleet3.uc\n\
         rollout run 1\n\
         rollout update 2 --strategy rolling 4 --health 'v2 step' --health-within 5s\n\
         set errexit off\n\
         rollout update 3 --strategy rolling 4 --health 'v3 step' --health-within 1s\n\
         rollout status\n\
         set errexit on\n\
         rollout update 3 --strategy rolling 4 --health 'v3 step' --health-within 500ms --max-failures 20\n\
         quit\n",
    );
    let out = r.all();
    let s = summaries(&out);
    assert_eq!(
        s[0], "rollout: 12 pups: 12 updated, 0 failed, 0 not touched",
        "{out}"
    );
    assert_eq!(
        s[1], "rollout: 12 pups: 0 updated, 4 failed, 8 not touched",
        "{out}"
    );
    // Batches of four, one after another: never more than four in flight.
    assert!(out.contains("rollout: batch 3/3: f9 f10 f11 f12"), "{out}");
    for l in out.lines().filter(|l| l.starts_with("rollout progress: ")) {
        let in_flight: usize = l
            .split(", ")
            .nth(2)
            .unwrap()
            .split(' ')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(in_flight <= 4, "{l}");
    }
    // The halted rollout says which pups are at which version.
    // Nothing was in flight when the batch's health gates failed, so the
    // halt aborted nothing, and it does not say it did (issue 29).
    assert!(
        out.contains(
            "rollout: halted: 4 pups failed (more than --max-failures 0); no further pup was touched\n"
        ),
        "{out}"
    );
    assert!(row(&out, 1, "f1").contains("failed"), "{out}");
    // A failed health gate leaves the pup on the new version, and says so.
    assert!(
        row(&out, 1, "f1").contains(
            "no output line matched \"v3 step\" within 1s after the update; the update applied, \
             so the pup stays on version 3 (nothing moves it back)"
        ),
        "{out}"
    );
    assert!(row(&out, 1, "f1").starts_with("f1   3 "), "{out}");
    assert!(
        row(&out, 1, "f9").starts_with("f9   2        not touched"),
        "{out}"
    );
    assert!(
        out.contains("fleet: 12 pups, 8 at version 2, 4 at version 3"),
        "{out}"
    );
    // With room for failures the rollout goes on over every pup (the four
    // already at 3 are not touched again), and the script fails.
    assert_eq!(
        s[2], "rollout: 12 pups: 4 updated, 8 failed, 0 not touched",
        "{out}"
    );
    assert!(row(&out, 3, "f1").contains("already at version 3"), "{out}");
    assert_eq!(r.code, Some(1), "{out}");
    assert!(
        out.contains("error: s.ush:11: rollout update: 8 pups of 12 not updated"),
        "{out}"
    );
}

#[test]
fn canaries_soak_before_the_rest_and_a_missing_version_is_refused() {
    let env = Env::new();
    programs(&env);
    let r = script(
        &env,
        true,
        "fleet c1 c2 c3 c4 c5 c6\n\
         rollout load 1 fleet1.uc\nrollout load 2 fleet2.uc\nrollout run\n\
         fleet c1 c2 c3 c4 c5\nrollout load 3 fleet3.uc\nfleet c1 c2 c3 c4 c5 c6\n\
         set errexit off\n\
         rollout update 3\n\
         rollout status\n\
         set errexit on\n\
         rollout update 2 --strategy canary 2 --soak 1s --health 'v2 step' --health-within 5s\n\
         quit\n",
    );
    let out = r.all();
    assert!(
        out.contains("rollout update: version 3 is not loaded on 1 pup (c6); nothing was touched"),
        "{out}"
    );
    assert!(out.contains("fleet: 6 pups, 6 at version 1"), "{out}");
    let canary = out.find("rollout: canaries 1/3: c1 c2").expect(&out);
    let soak = out
        .find("rollout: soaking for 1s: 2 canaries must keep running")
        .expect(&out);
    let rest = out.find("rollout: batch 2/3: c3 c4").expect(&out);
    assert!(canary < soak && soak < rest, "{out}");
    assert_eq!(
        summaries(&out),
        ["rollout: 6 pups: 6 updated, 0 failed, 0 not touched"],
        "{out}"
    );
    assert_eq!(r.code, Some(0), "{out}");
}

#[test]
fn pups_on_three_loopback_hosts_and_unknown_ones_fail_alone() {
    let env = Env::new();
    programs(&env);
    let mut keep = Vec::new();
    let mut good = String::from("# three hosts, three pups each\n");
    let mut hosts = Vec::new();
    for ip in ["127.0.0.2", "127.0.0.3", "127.0.0.4"] {
        let (m, addr) = mapper_on(&env, ip);
        keep.push(m);
        for w in ["w1", "w2", "w3"] {
            keep.push(pup_at(&env, w, &addr));
            good.push_str(&format!("{w}@{addr} "));
        }
        good.push('\n');
        hosts.push(addr);
    }
    env.write("good.txt", &good);
    env.write(
        "all.txt",
        &format!(
            "{good}ghost@{}   # no such pup\nw1@127.0.0.5:1  # no such host\n",
            hosts[0]
        ),
    );
    let r = script(
        &env,
        false,
        &format!(
            "pups {}\nfleet --file good.txt\nrollout load 1 fleet1.uc\nrollout load 2 fleet2.uc\n\
             rollout run 1\nfleet --file all.txt\nset errexit off\n\
             rollout update 2 --strategy rolling 50% --max-failures 2 --health 'v2 step'\n\
             set errexit on\nfleet --file good.txt\nrollout status\nrollout stop\n",
            hosts[1]
        ),
    );
    let out = r.all();
    // Each host's pupmapper knows only its own pups.
    let listed: Vec<&str> = out
        .lines()
        .skip_while(|l| !l.starts_with("pups registered"))
        .skip(1)
        .take_while(|l| l.starts_with("  "))
        .collect();
    assert_eq!(listed.len(), 3, "{out}");
    assert!(
        out.contains("The current fleet is now 9 pups on 3 hosts"),
        "{out}"
    );
    assert!(
        out.contains("rollout load: version 2 loaded on 9 of 9 pups"),
        "{out}"
    );
    assert_eq!(
        summaries(&out),
        ["rollout: 11 pups: 9 updated, 2 failed, 0 not touched"],
        "{out}"
    );
    let ghost = row(&out, 0, &format!("ghost@{}", hosts[0]));
    assert!(
        ghost.contains("failed") && ghost.contains("no pup for program ghost"),
        "{ghost}"
    );
    let nowhere = row(&out, 0, "w1@127.0.0.5:1");
    assert!(nowhere.contains("cannot reach the pupmapper"), "{nowhere}");
    assert!(out.contains("fleet: 9 pups, 9 at version 2"), "{out}");
    assert_eq!(r.code, Some(0), "{out}");
}

#[test]
fn a_canary_killed_during_the_soak_fails_and_the_rollout_goes_on() {
    let mut env = Env::new();
    programs(&env);
    let _mapper = env.start_mapper();
    let mapper = env.mapper_addr();
    let mut pups: Vec<Daemon> = (1..=6)
        .map(|i| pup_at(&env, &format!("k{i}"), &mapper))
        .collect();
    env.write(
        "k.ush",
        "fleet k1 k2 k3 k4 k5 k6\nrollout load 1 fleet1.uc\nrollout load 2 fleet2.uc\nrollout run\n\
         rollout update 2 --strategy canary 2 --soak 3s --max-failures 1 --health 'v2 step'\n",
    );
    let ush = Live::start(&env, &["--color", "never", "-f", "k.ush"]);
    ush.expect("rollout: soaking for 3s", LIMIT);
    pups[1].kill9();
    let (code, out) = ush.finish(LIMIT);
    assert_eq!(
        summaries(&out),
        ["rollout: 6 pups: 5 updated, 1 failed, 0 not touched"],
        "{out}"
    );
    let k2 = row(&out, 0, "k2");
    assert!(
        k2.contains("failed") && k2.contains("during the soak"),
        "{k2}"
    );
    assert_eq!(code, Some(1), "{out}");
}

/// v1's `work` never returns, so an update that changes it stays pending.
const SPIN1: &str =
    "int work(int n) { while (1) { sleep_ms(5); } return n; }\nmain() { work(0); }\n";
const SPIN2: &str =
    "int work(int n) { while (1) { sleep_ms(7); } return n + 1; }\nmain() { work(0); }\n";

#[test]
fn a_halt_aborts_pending_updates_and_ctrl_c_leaves_them_in_the_pups() {
    let mut env = Env::new();
    programs(&env);
    env.write("spin1.uc", SPIN1);
    env.write("spin2.uc", SPIN2);
    let _mapper = env.start_mapper();
    let mapper = env.mapper_addr();
    let _pups: Vec<Daemon> = ["s1", "s2", "h", "c1", "c2", "w1", "w2"]
        .iter()
        .map(|n| pup_at(&env, n, &mapper))
        .collect();

    // s1 and s2 never finish their update; h fails its health gate, which
    // halts the rollout and aborts the pending updates of s1 and s2.
    let r = script(
        &env,
        false,
        "fleet s1 s2\nrollout load 1 spin1.uc\nrollout load 2 spin2.uc\nrollout run\n\
         fleet h\nrollout load 1 fleet1.uc\nrollout load 2 fleet3.uc\nrollout run\n\
         fleet s1 s2 h\nset errexit off\n\
         rollout update 2 --health 'never printed' --health-within 500ms\n\
         rollout status\n",
    );
    let out = r.all();
    assert_eq!(
        summaries(&out),
        ["rollout: 3 pups: 0 updated, 3 failed, 0 not touched"],
        "{out}"
    );
    assert!(
        row(&out, 0, "s1").split_whitespace().nth(2) == Some("aborted")
            && row(&out, 0, "s1").contains("aborted (the rollout halted)"),
        "{out}"
    );
    assert!(
        out.contains("no further pup was touched and 2 updates in flight were aborted"),
        "{out}"
    );
    assert!(
        row(&out, 0, "h").contains("no output line matched"),
        "{out}"
    );
    // s1 and s2 run version 1 as before (issue 22: their aborted update
    // applied nothing, so main's warp to 2 was undone).
    assert!(
        out.contains("fleet: 3 pups, 2 at version 1, 1 at version 2"),
        "{out}"
    );
    assert!(!row(&out, 1, "s1").contains("pending"), "{out}");

    // --within bounds each pup's update: the pup abandons the groups it
    // could not apply, and that pup has failed.
    let r = script(
        &env,
        false,
        "fleet w1 w2\nrollout load 1 spin1.uc\nrollout load 2 spin2.uc\nrollout run\n\
         rollout update 2 --within 300ms --max-failures 5\n",
    );
    let out = r.all();
    assert_eq!(
        summaries(&out),
        ["rollout: 2 pups: 0 updated, 2 failed, 0 not touched"],
        "{out}"
    );
    assert!(
        row(&out, 0, "w2").contains("nothing applied; not applied: work"),
        "{out}"
    );
    assert_eq!(r.code, Some(1), "{out}");

    // Ctrl-C while updates are in flight: ush ends, the pups keep them.
    env.write(
        "c.ush",
        "fleet c1 c2\nrollout load 1 spin1.uc\nrollout load 2 spin2.uc\nrollout run\n\
         rollout update 2 --strategy all\n",
    );
    let ush = Live::start(&env, &["--color", "never", "-f", "c.ush"]);
    ush.expect("2 in flight", Duration::from_secs(30));
    ush.signal(libc::SIGINT);
    let (code, out) = ush.finish(LIMIT);
    assert_eq!(code, Some(130), "{out}");
    let r = env.ush_c("fleet c1 c2; rollout status");
    let out = r.all();
    assert_eq!(out.matches("(update to 2 pending)").count(), 2 + 1, "{out}");
    r.assert_ok();
}

/// Regression (issue 29): `rollout load` typed a new version against the
/// versions that ush's own `rollout load` had compiled, so pups loaded
/// another way refused v2's `old.total` (int in v1, double in v2); and it
/// took no `ucc build` pair. Now each pup's own interface types the
/// version, and `FILE.delta FILE.o` loads as it does with `load`.
#[test]
fn rollout_load_types_against_each_pup_and_takes_ucc_build_output() {
    let env = Env::new();
    env.write(
        "bank1.uc",
        "int total = 0;\nvoid tick(int n) { total += n; }\nmain() { int i; for (i = 1; i < 100000; i++) { tick(i); sleep_ms(5); } }\n",
    );
    env.write(
        "bank2.uc",
        "double total = 0.0;\nmproc total { total = old.total * 1.0; }\nvoid tick(int n) { total += n; }\nmain() { int i; for (i = 1; i < 100000; i++) { tick(i); sleep_ms(5); } }\n",
    );
    env.write(
        "bank3.uc",
        "double total = 0.0;\nvoid tick(int n) { total += 2 * n; }\nmain() { int i; for (i = 1; i < 100000; i++) { tick(i); sleep_ms(5); } }\n",
    );
    let mut c = env.command("ucc");
    c.args(["build", "bank3.uc", "--prev", "bank2.uc"]);
    podus_tests::run_bounded(c, Duration::from_secs(30)).assert_ok();
    let r = script(
        &env,
        true,
        "program b1\nconnect\nload 1 bank1.uc\nrun\nprogram b2\nconnect\nload 1 bank1.uc\nrun\n\
         fleet b1 b2\nrollout load 2 bank2.uc\nrollout update 2\n\
         rollout load 3 bank3.delta bank3.o\nrollout update 3\nrollout status\nquit\n",
    );
    let out = r.all();
    assert!(
        out.contains("rollout load: version 2 loaded on 2 of 2 pups"),
        "{out}"
    );
    assert!(out.contains("read bank3.delta: 2 procedures"), "{out}");
    assert!(
        out.contains("rollout load: version 3 loaded on 2 of 2 pups"),
        "{out}"
    );
    assert!(out.contains("fleet: 2 pups, 2 at version 3"), "{out}");
    assert_eq!(r.code, Some(0), "{out}");
}
