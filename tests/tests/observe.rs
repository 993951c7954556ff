//! `ush observe` (SPEC §5.6) end to end: a real `ush --local` and its pup,
//! read over HTTP as the page reads it (`/state`, `/events`) while the
//! pizza demo's `.sd` update runs; and the bad inputs: a busy port, a page
//! that goes away, a program that prints a million lines.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::ChildStdin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use podus_tests::{Daemon, Env, eventually, repo};
use serde_json::Value;

const LIMIT: Duration = Duration::from_secs(60);

/// `GET path` on 127.0.0.1:`port`: status code and body.
fn get(port: u16, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the observer");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read the answer");
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let code = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    (code, body.to_string())
}

fn state(port: u16) -> Value {
    let (code, body) = get(port, "/state");
    assert_eq!(code, 200, "{body}");
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("/state is not JSON ({e}): {body}"))
}

fn node<'a>(s: &'a Value, name: &str) -> Option<&'a Value> {
    s["pups"][0]["graph"]["nodes"]
        .as_array()?
        .iter()
        .find(|n| n["name"] == name)
}

/// A `ush --local` reading its commands from the test, line by line.
fn ush(env: &Env, hold: Option<&str>) -> (Daemon, ChildStdin) {
    let mut c = env.command("ush");
    c.args(["--local", "--color", "never"])
        .current_dir(repo().join("samples/pizza"));
    if let Some(h) = hold {
        c.env(vm::HOLD_ENV, h);
    }
    Daemon::spawn_with_stdin("ush", c)
}

fn say(stdin: &mut ChildStdin, lines: &str) {
    stdin
        .write_all(lines.as_bytes())
        .expect("ush reads its stdin");
    stdin.flush().unwrap();
}

/// Starts serving on a free port; returns it.
fn observe(ush: &Daemon, stdin: &mut ChildStdin) -> u16 {
    say(stdin, "observe --port 0\n");
    let line = ush.wait_line(|l| l.starts_with("Observer: "), LIMIT);
    line.split("http://127.0.0.1:")
        .nth(1)
        .and_then(|r| r.split('/').next())
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"))
}

/// What an `/events` reader saw: each event's arrival, and when a fetch of
/// `/state` made on an event first showed do_pizza at version 2.
#[derive(Default)]
struct Seen {
    events: Vec<(Instant, u64)>,
    at_two: Option<Instant>,
}

/// An `/events` stream read by a thread that, like the page, fetches
/// `/state` on every event.
fn events(port: u16) -> Arc<Mutex<Seen>> {
    let seen = Arc::new(Mutex::new(Seen::default()));
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(s, "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").unwrap();
    let out = seen.clone();
    std::thread::spawn(move || {
        for l in BufReader::new(s).lines().map_while(Result::ok) {
            let Some(seq) = l.strip_prefix("data: ").and_then(|d| d.parse().ok()) else {
                continue;
            };
            let t = Instant::now();
            let two = node(&state(port), "do_pizza").is_some_and(|n| n["committed"] == 2);
            let mut g = out.lock().unwrap();
            g.events.push((t, seq));
            if two && g.at_two.is_none() {
                g.at_two = Some(Instant::now());
            }
        }
    });
    seen
}

#[test]
fn the_page_follows_the_sd_update_live() {
    let env = Env::new();
    // The program is held right after pizza 2's oven line until the update
    // asks it to pause (as in pizza_demo.rs), so the update lands while
    // do_pizza is on the stack and its group has to wait.
    let (ush, mut stdin) = ush(&env, Some("Fahrenheit for pizza 2"));
    say(&mut stdin, "program x\nconnect --fresh\n");
    let port = observe(&ush, &mut stdin);

    let (code, page) = get(port, "/");
    assert_eq!(code, 200);
    assert!(page.contains("<html") && page.contains("program <span id=\"program\">x</span>"));
    for asset in ["/app.js", "/style.css"] {
        assert_eq!(get(port, asset).0, 200, "{asset}");
    }
    assert_eq!(get(port, "/nothing").0, 404);
    // A page of another site (DNS rebinding) is refused.
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        s,
        "GET /state HTTP/1.1\r\nHost: evil.example:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    let _ = s.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 403"), "{answer}");
    assert_eq!(state(port)["program"], "x");

    let seen = events(port);
    say(
        &mut stdin,
        // The shell reads its next line only when the last command is
        // done: `wait` and `sleep` keep it listening to the pup meanwhile.
        "load 1 pizza1.uc\nload 2 pizza2.uc\nrun\nexpect \"Fahrenheit for pizza 2\"\nupdate pizza2.changes.sd\nwait --timeout 30s\nsleep 2s\n",
    );
    // While do_pizza is on the stack the group waits for it.
    let waiting = eventually("the page to show the group waiting", LIMIT, || {
        let s = state(port);
        let g = &s["pups"][0]["pending"][0];
        let waits: Vec<&str> = g["waits_for"]
            .as_array()?
            .iter()
            .filter_map(Value::as_str)
            .collect();
        waits.contains(&"do_pizza").then_some(s)
    });
    assert_eq!(node(&waiting, "do_pizza").unwrap()["committed"], 1);
    assert_eq!(node(&waiting, "do_pizza").unwrap()["on_stack"], true);
    assert_eq!(node(&waiting, "bake_pizza").unwrap()["pending"], true);
    let seq_waiting = waiting["seq"].as_u64().unwrap();

    let done_line = ush.wait_line(
        |l| l.contains("*** Program x updated to version 2 successfully ***"),
        LIMIT,
    );
    let printed = Instant::now();
    let done = eventually("the page to show version 2 committed", LIMIT, || {
        let s = state(port);
        let all_two = ["do_pizza", "mix_ingredients", "bake_pizza", "set_oven_temp"]
            .iter()
            .all(|n| node(&s, n).is_some_and(|x| x["committed"] == 2));
        // The journal's row of the update's end comes with the completion
        // notice, which may follow a poll that already saw version 2.
        let ended = s["pups"][0]["timeline"].as_array().is_some_and(|t| {
            t.iter()
                .any(|r| r["kind"] == "Update" && r["outcome"] == "complete")
        });
        (all_two && ended).then_some(s)
    });
    let p = &done["pups"][0];
    assert!(p["pending"].as_array().unwrap().is_empty(), "{done_line}");
    assert_eq!(p["hrvn"], 2);
    assert_eq!(p["timeline_from"], "journal");
    let update = p["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "Update")
        .unwrap_or_else(|| panic!("no update row: {}", p["timeline"]));
    assert_eq!(
        (update["from"].as_u64(), update["to"].as_u64()),
        (Some(1), Some(2))
    );
    assert_eq!(update["outcome"], "complete");
    assert!(
        update["pause_ns"].as_u64().is_some_and(|ns| ns > 0),
        "{update}"
    );
    let loads = p["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "Load")
        .count();
    assert_eq!(loads, 2);
    assert!(
        p["output"]["lines"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l.as_str().is_some_and(|l| l.contains("pizza number 2")))
    );

    // /events told the page about the end without being asked: a fetch
    // made on an event showed version 2, soon after ush printed the news.
    let (count, at_two) = eventually("an event that shows version 2", LIMIT, || {
        let g = seen.lock().unwrap();
        let late = g.events.iter().any(|(_, s)| *s > seq_waiting);
        (late && g.at_two.is_some()).then(|| (g.events.len(), g.at_two.unwrap()))
    });
    let lag = at_two.saturating_duration_since(printed);
    eprintln!(
        "observe: {count} events; the page's fetch showed version 2 {lag:?} after the test read ush's completion line"
    );
    // SPEC 5.6 asks for 200 ms; the bound here leaves room for a loaded machine.
    assert!(lag < Duration::from_secs(1), "{lag:?}");

    // A page that goes away costs nothing: open a stream, drop it, go on.
    drop(TcpStream::connect(("127.0.0.1", port)).map(|mut s| {
        let _ = write!(s, "GET /events HTTP/1.1\r\n\r\n");
    }));
    // A second observe in the same ush is refused; the shell goes on.
    say(&mut stdin, "set errexit off\nobserve\nversions\nsleep 1s\n");
    ush.wait_line(|l| l.contains("already serves the observer at"), LIMIT);
    assert_eq!(state(port)["pups"][0]["name"], "x");
    say(&mut stdin, "stop\nquit\n");
    drop(stdin);
    let mut ush = ush;
    assert_eq!(ush.wait_exit(LIMIT), Some(0), "{}", ush.output());
}

#[test]
fn a_busy_port_is_refused_in_words_and_ush_goes_on() {
    let env = Env::new();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let run = env.ush_c(&format!(
        "set errexit off; observe --port {port}; program y"
    ));
    run.assert_has(&format!(
        "observe: port {port} on 127.0.0.1 is in use by another program"
    ))
    .assert_has("The current program is now y");
    assert_eq!(run.code, Some(0), "{}", run.all());
}

#[test]
fn a_million_lines_keep_the_last_lines_and_say_how_many_went() {
    let env = Env::new();
    env.write(
        "loud.uc",
        "main() { int i; for (i = 0; i < 1000000; i++) printf(\"line %d\\n\", i); printf(\"done\\n\"); }\n",
    );
    let (ush, mut stdin) = {
        let mut c = env.command("ush");
        c.args(["--local", "--color", "never"]);
        Daemon::spawn_with_stdin("ush", c)
    };
    say(&mut stdin, "program loud\nconnect --fresh\n");
    let port = observe(&ush, &mut stdin);
    let _stream = events(port);
    say(&mut stdin, "load 1 loud.uc\nrun\nexpect done\n");
    let s = eventually("the last line on the page", LIMIT, || {
        let s = state(port);
        let lines = s["pups"][0]["output"]["lines"].as_array()?.clone();
        lines.iter().any(|l| l == "done").then_some(s)
    });
    let out = &s["pups"][0]["output"];
    let lines = out["lines"].as_array().unwrap();
    assert!(lines.len() <= 500, "{}", lines.len());
    assert!(lines.iter().any(|l| l == "line 999999"));
    let dropped = out["dropped"].as_u64().unwrap();
    assert!(
        dropped + lines.len() as u64 >= 1_000_001,
        "dropped {dropped} + kept {} lines of 1000001 (+ the exit line)",
        lines.len()
    );
    // The page's file is still served, at once.
    let t = Instant::now();
    assert_eq!(get(port, "/").0, 200);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    say(&mut stdin, "quit\n");
    drop(stdin);
    let mut ush = ush;
    assert_eq!(ush.wait_exit(LIMIT), Some(0), "{}", ush.output());
}

#[test]
fn a_fleet_rollout_shows_one_row_and_lane_per_pup() {
    let env = Env::new();
    env.write(
        "f1.uc",
        "int step(int n) { return n + 1; }\nmain() { int i = 0; while (1) { i = step(i); sleep_ms(5); } }\n",
    );
    env.write(
        "f2.uc",
        "int step(int n) { return n + 2; }\nmain() { int i = 0; while (1) { i = step(i); sleep_ms(5); } }\n",
    );
    let mut c = env.command("ush");
    c.args(["--local", "--color", "never"]);
    let (ush, mut stdin) = Daemon::spawn_with_stdin("ush", c);
    say(&mut stdin, "fleet fa fb fc\n");
    let port = observe(&ush, &mut stdin);
    say(
        &mut stdin,
        "rollout load 1 f1.uc\nrollout load 2 f2.uc\nrollout run\nrollout update 2 --strategy rolling 2\nsleep 30s\n",
    );
    ush.wait_line(|l| l.starts_with("rollout: 3 pups: 3 updated"), LIMIT);
    let s = eventually("three pups at version 2 on the page", LIMIT, || {
        let s = state(port);
        let pups = s["pups"].as_array()?;
        let at_two = pups
            .iter()
            .filter(|p| {
                p["hrvn"] == 2
                    && p["timeline"].as_array().is_some_and(|t| {
                        t.iter()
                            .any(|r| r["kind"] == "Update" && r["outcome"] == "complete")
                    })
            })
            .count();
        (at_two == 3).then_some(s)
    });
    let mut names: Vec<&str> = s["pups"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    names.sort();
    assert_eq!(names, ["fa", "fb", "fc"]);
    for p in s["pups"].as_array().unwrap() {
        assert_eq!(p["timeline_from"], "journal", "{p}");
        let u = p["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["kind"] == "Update")
            .unwrap();
        assert!(u["pause_ns"].as_u64().is_some(), "{u}");
    }
}

/// The page follows a rollout while it runs: while the canary soaks,
/// it shows the fleet half-updated, before the rollout ends.
#[test]
fn a_rollout_is_shown_pup_by_pup_while_it_runs() {
    let env = Env::new();
    env.write(
        "g1.uc",
        "int step(int n) { return n + 1; }\nmain() { int i = 0; while (1) { i = step(i); sleep_ms(5); } }\n",
    );
    env.write(
        "g2.uc",
        "int step(int n) { return n + 2; }\nmain() { int i = 0; while (1) { i = step(i); sleep_ms(5); } }\n",
    );
    let mut c = env.command("ush");
    c.args(["--local", "--color", "never"]);
    let (ush, mut stdin) = Daemon::spawn_with_stdin("ush", c);
    say(&mut stdin, "fleet ga gb\n");
    let port = observe(&ush, &mut stdin);
    say(
        &mut stdin,
        "rollout load 1 g1.uc\nrollout load 2 g2.uc\nrollout run\nrollout update 2 --strategy canary 1 --soak 4s\nsleep 30s\n",
    );
    // One pup at version 2 and one still at 1, seen while the soak holds
    // the second batch back.
    eventually(
        "the page to show one pup updated and one not",
        LIMIT,
        || {
            let s = state(port);
            let pups = s["pups"].as_array()?;
            let at = |v: u64| pups.iter().filter(|p| p["hrvn"] == v).count();
            (pups.len() == 2 && at(2) == 1 && at(1) == 1).then_some(())
        },
    );
    assert!(
        !ush.output().contains("rollout: 2 pups: 2 updated"),
        "the half-updated fleet was only seen after the rollout ended:\n{}",
        ush.output()
    );
    ush.wait_line(|l| l.starts_with("rollout: 2 pups: 2 updated"), LIMIT);
}
