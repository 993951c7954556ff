//! Faults during updates, end to end with the real binaries (issue 7;
//! RELIABILITY.md lists every fault and where it is tested):
//!
//! - a ush killed mid-update: the update completes in the pup;
//! - the pupmapper killed and restarted: pups register again by themselves;
//! - a pup killed: the mapper drops it and ush says so;
//! - mprocedures that trap, loop forever or write out of bounds, over the
//!   wire: the group fails, the program goes on unchanged, and a later
//!   version can finish the job;
//! - a version whose code does not fit a segment: nothing of it is loaded;
//! - the `object_load` fuzz target's saved crashes, sent to a pup in a
//!   `Load` (every saved input goes through the targets' own checks in
//!   `fuzz_replay.rs`).
//!
//! Ushes are played by the real `ush` where its behaviour is the point (it
//! is killed, or it must report something) and by `pup_client::client`
//! where the test needs the pup's exact answers. Waits are bounded and on output
//! lines or status answers, never on sleeps.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

#[path = "../../pupmapper/tests/common/closed_port.rs"]
mod closed_port;

use podus_tests::{Daemon, Env, READY, eventually};
use pup_client::auth::Cookie;
use pup_client::client::{ClientError, PupClient, connect_by_name};
use pup_client::proto::{Notice, Request, Response, StatusInfo, UpdateSpec};

/// Upper bound of every wait in these tests.
const PATIENCE: Duration = Duration::from_secs(30);

/// Starts `pup NAME` with its program output on its stdout (so the test
/// can read it from the daemon's lines); returns it and its address.
fn start_pup(env: &Env, name: &str) -> (Daemon, SocketAddr) {
    let mut c = env.command("pup");
    c.args([name, "--mapper", &env.mapper_addr()]);
    let pup = Daemon::spawn(&format!("pup {name}"), c);
    let ready = format!("pup {name} listening on ");
    let line = pup.wait_line(|l| l.starts_with(&ready), READY);
    let addr = line[ready.len()..]
        .trim()
        .parse()
        .unwrap_or_else(|_| panic!("no address in {line:?}"));
    (pup, addr)
}

/// An authenticated client with the test's cookie.
fn client(env: &Env, addr: SocketAddr) -> PupClient {
    let cookie = Cookie::load(&env.cookie()).expect("the pup made the cookie");
    PupClient::connect(addr, &cookie).expect("connect to the pup")
}

/// Compiles `src` and loads it as `version`, failing the test on an error.
fn load(c: &mut PupClient, version: u64, src: &str) {
    match c.call(load_request(version, src)).expect("load call") {
        Response::Loaded(i) => assert_eq!(i.version, version),
        other => panic!("load {version}: {other:?}"),
    }
}

fn load_request(version: u64, src: &str) -> Request {
    let m = compiler::compile("t.uc", src).unwrap_or_else(|d| {
        panic!("does not compile:\n{}", d.render("t.uc", src, false));
    });
    Request::Load {
        version,
        object: compiler::object::write_object(&m),
        source: Some(src.to_string()),
    }
}

fn status(c: &mut PupClient) -> StatusInfo {
    match c.call(Request::Status).expect("status call") {
        Response::Status(s) => s,
        other => panic!("status: {other:?}"),
    }
}

/// The pizza sample `v` with its mixing step lengthened, so that an update
/// waiting for `do_pizza` to return stays pending for seconds.
fn pizza(v: u32) -> String {
    std::fs::read_to_string(podus_tests::repo().join(format!("samples/pizza/pizza{v}.uc")))
        .unwrap()
        .replace("sleep_ms(1200)", "sleep_ms(3000)")
}

/// The pizza numbers whose preparation began, in order, from the lines
/// `pizza number N preparation begins` (thin) and `TC pizza number N ...`.
fn pizzas_begun(out: &str) -> Vec<(u64, bool)> {
    out.lines()
        .filter(|l| l.contains("preparation begins"))
        .map(|l| {
            let n = l
                .split("pizza number ")
                .nth(1)
                .and_then(|r| r.split(' ').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no number in {l:?}"));
            (n, l.starts_with("TC "))
        })
        .collect()
}

#[test]
fn a_ush_killed_mid_update_leaves_the_update_to_complete_in_the_pup() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let (pup, addr) = start_pup(&env, "pizza");
    env.write("pizza1.uc", &pizza(1));
    env.write("pizza2.uc", &pizza(2));
    let sd = std::fs::read_to_string(podus_tests::repo().join("samples/pizza/pizza2.changes.sd"))
        .unwrap();
    env.write("pizza2.changes.sd", &sd);
    env.ush_c("program pizza; connect; load 1 pizza1.uc; run; load 2 pizza2.uc")
        .assert_ok();
    pup.wait_line(
        |l| l.contains("pizza number 1 preparation begins"),
        PATIENCE,
    );

    // This ush begins the update, then would linger; it is killed while
    // the update waits for do_pizza to return.
    let mut c = env.command("ush");
    c.args([
        "--color",
        "never",
        "-c",
        "program pizza; connect; update pizza2.changes.sd; sleep 60s",
    ]);
    let mut ush = Daemon::spawn("ush", c);
    let mut watcher = client(&env, addr);
    let pending = eventually("the update to be pending in the pup", PATIENCE, || {
        let st = status(&mut watcher);
        (!st.pending.is_empty()).then_some(st.pending)
    });
    ush.kill9();
    let killed_at = Instant::now();
    assert!(pending.iter().any(|p| p.to == 2), "pending: {pending:?}");

    // The update goes on without its ush and completes in the pup.
    match watcher
        .call(Request::Wait {
            timeout_ms: PATIENCE.as_millis() as u64,
        })
        .expect("wait call")
    {
        Response::Waited { done: true, .. } => {}
        other => panic!("the update did not complete after its ush died: {other:?}"),
    }
    let st = status(&mut watcher);
    for b in &st.bindings {
        if b.name != "main" {
            assert_eq!(
                b.committed, 2,
                "{} is still at version {}",
                b.name, b.committed
            );
        }
    }
    assert!(
        killed_at.elapsed() < PATIENCE,
        "completion took {:?}",
        killed_at.elapsed()
    );
    // Thick-crust pizzas follow; numbers run on and no pizza mixes crusts.
    pup.wait_line(|l| l.starts_with("TC pizza number"), PATIENCE);
    let begun = pizzas_begun(&pup.output());
    let nums: Vec<u64> = begun.iter().map(|b| b.0).collect();
    assert_eq!(nums, (1..=nums.len() as u64).collect::<Vec<_>>());
    let first_tc = begun.iter().position(|b| b.1).unwrap();
    assert!(begun[first_tc..].iter().all(|b| b.1), "{begun:?}");
    let out = pup.output();
    for (n, thick) in &begun {
        if *thick {
            assert!(
                !out.contains(&format!("pizza {n} baked for 10 minutes")),
                "pizza {n} mixed thin and thick crust:\n{out}"
            );
        }
    }
}

#[test]
fn a_restarted_pupmapper_gets_its_pups_back() {
    let mut env = Env::new();
    // The port stays reserved for this test while no mapper listens on it
    // (bound, not listening), so the restarted mapper gets it back: a port
    // merely freed by the killed mapper could be taken by another test.
    let (_reserved, port) = closed_port::reserved_port();
    let mut mapper = env.start_mapper_on(port);
    let (_pup_a, addr_a) = start_pup(&env, "alpha");
    let (_pup_b, _) = start_pup(&env, "beta");
    let mut c = client(&env, addr_a);
    load(
        &mut c,
        1,
        "main() { int i; for (i = 1; ; i++) { printf(\"tick %d\\n\", i); sleep_ms(20); } }\n",
    );
    assert!(matches!(
        c.call(Request::Run { version: None }).unwrap(),
        Response::Running { .. }
    ));

    // The mapper dies without a word, and a new one takes its port.
    mapper.kill9();
    let mut m = env.command("pupmapper");
    m.args(["--port", &port.to_string()]);
    let new_mapper = Daemon::spawn("pupmapper (restarted)", m);
    new_mapper.wait_line(|l| l.starts_with("pupmapper listening on "), READY);

    // Both pups register again on their own.
    let mapper_addr = env.mapper_addr();
    let list = eventually("both pups to re-register", PATIENCE, || {
        let mut mc = pupmapper_client::client::MapperClient::connect(mapper_addr.as_str()).ok()?;
        let list = mc.list().ok()?;
        (list.len() == 2).then_some(list)
    });
    let names: Vec<&str> = list.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["alpha", "beta"]);

    // A ush finds alpha through the new mapper; its program never stopped.
    let run = env.ush_c("program alpha; connect; status");
    run.assert_ok().assert_has("running version 1");
    let st = status(&mut c);
    assert!(st.program.contains("running"), "{}", st.program);
}

#[test]
fn a_killed_pup_is_dropped_by_the_mapper_and_reported_by_ush() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let (mut pup, addr) = start_pup(&env, "doomed");
    let mut c = client(&env, addr);
    assert!(matches!(c.call(Request::Info).unwrap(), Response::Info(_)));

    // A ush connected when the pup dies reports the lost connection.
    let mut u = env.command("ush");
    u.args([
        "--color",
        "never",
        "-c",
        "program doomed; connect; sleep 20s; status",
    ]);
    let ush = Daemon::spawn("ush", u);
    ush.wait_line(
        |l| l.contains("Connected to pup for program doomed"),
        PATIENCE,
    );
    pup.kill9();

    ush.wait_line(|l| l.contains("lost"), PATIENCE);
    // A client of the library sees the close too.
    eventually("the client to see the close", PATIENCE, || {
        c.is_closed().then_some(())
    });
    assert!(matches!(
        c.call(Request::Info),
        Err(ClientError::Closed | ClientError::Frame(_))
    ));

    // The mapper drops it: a lookup says there is no such pup.
    let cookie = Cookie::load(&env.cookie()).unwrap();
    let mapper = env.mapper_addr();
    let err = eventually(
        "the mapper to drop the killed pup",
        PATIENCE,
        || match connect_by_name(&mapper, "doomed", &cookie) {
            Err(e @ ClientError::NoSuchPup { .. }) => Some(e),
            _ => None,
        },
    );
    assert!(
        err.to_string().contains("no pup for program doomed"),
        "{err}"
    );
    // And so does ush.
    let run = env.ush_c("program doomed; connect");
    assert_ne!(run.code, Some(0), "{}", run.all());
    run.assert_has("no pup for program doomed");
}

/// A counter in a static with an array beside it; version `v` prints
/// `v{v} step N`. `mproc` is appended to the source.
fn stepper(v: u64, mproc: &str) -> String {
    format!(
        "step() {{ static int buf[4]; static int pd = 1; printf(\"v{v} step %d\\n\", pd); \
         buf[pd % 4] = pd; pd++; sleep_ms(5); }}\n\
         main() {{ while (1) step(); }}\n{mproc}"
    )
}

/// Begins an update to `to` and returns the error of its failed group,
/// whether it failed at once or later (a `GroupFailed` notice). Program
/// output that streams in meanwhile is appended to `text`.
fn failed_update(c: &mut PupClient, to: u64, text: &mut String) -> String {
    let spec = UpdateSpec {
        to: Some(to),
        ..UpdateSpec::default()
    };
    let begun = match c.call(Request::Update(spec)).expect("update call") {
        Response::UpdateBegun(b) => b,
        other => panic!("update to {to}: {other:?}"),
    };
    if let Some(f) = begun.failed.first() {
        return f.error.clone();
    }
    let deadline = Instant::now() + PATIENCE;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match c.recv_notice(left) {
            Some(Notice::GroupFailed { to: t, error, .. }) if t == to => return error,
            Some(Notice::Output(b)) => text.push_str(&String::from_utf8_lossy(&b)),
            Some(_) => {}
            None => panic!("no GroupFailed for the update to {to}"),
        }
    }
}

/// Appends the program output already streamed to `c` to `text`.
fn drain_output(c: &mut PupClient, text: &mut String) {
    for n in c.try_notices() {
        if let Notice::Output(b) = n {
            text.push_str(&String::from_utf8_lossy(&b));
        }
    }
}

/// Checks `v{V} step N` lines: `N` runs on by one across versions.
/// Returns the versions that printed, in order.
fn check_steps(text: &str) -> Vec<u64> {
    let mut versions = Vec::new();
    let mut last = None;
    for line in text.lines() {
        let (v, n) = line
            .strip_prefix('v')
            .and_then(|r| r.split_once(" step "))
            .and_then(|(v, n)| Some((v.parse::<u64>().ok()?, n.parse::<i64>().ok()?)))
            .unwrap_or_else(|| panic!("unexpected output line {line:?}"));
        if let Some(prev) = last {
            assert_eq!(n, prev + 1, "the counter skipped or repeated:\n{text}");
        }
        last = Some(n);
        if versions.last() != Some(&v) {
            versions.push(v);
        }
    }
    versions
}

#[test]
fn failing_mprocs_over_the_wire_leave_the_program_unchanged() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let (_pup, addr) = start_pup(&env, "steps");
    let mut c = client(&env, addr);
    assert_eq!(c.call(Request::Output { on: true }).unwrap(), Response::Ok);
    load(&mut c, 1, &stepper(1, ""));
    assert!(matches!(
        c.call(Request::Run { version: None }).unwrap(),
        Response::Running { version: 1 }
    ));
    let mut text = String::new();

    // Each bad version: the group fails naming the mproc and the fault, the
    // program keeps printing version 1's lines with its counter intact.
    let bad = [
        (
            2,
            "mproc step { int z; z = 0; pd = old.pd / z; }\n",
            "division by zero",
        ),
        (
            3,
            "mproc step { while (1) { pd = pd + 1; } }\n",
            "out of time",
        ),
        (
            4,
            "mproc step { pd = old.pd; buf[old.pd + 100] = 1; }\n",
            "out of bounds",
        ),
    ];
    for (v, mproc, fault) in bad {
        load(&mut c, v, &stepper(v, mproc));
        let err = failed_update(&mut c, v, &mut text);
        assert!(
            err.contains("mproc step") && err.contains(fault),
            "version {v}: {err}"
        );
        // Nothing is left pending, and the program goes on.
        let st = status(&mut c);
        assert!(st.pending.is_empty(), "version {v}: {:?}", st.pending);
        assert!(st.program.contains("running"), "{}", st.program);
        let lines = text.lines().count();
        let deadline = Instant::now() + PATIENCE;
        while text.lines().count() < lines + 3 {
            assert!(Instant::now() < deadline, "the program stopped printing");
            if let Some(Notice::Output(b)) = c.recv_notice(PATIENCE) {
                text.push_str(&String::from_utf8_lossy(&b));
            }
        }
        assert_eq!(
            check_steps(&text),
            [1],
            "version {v} became visible:\n{text}"
        );
    }

    // A fixed version finishes the job: counter carried by its mproc.
    load(&mut c, 5, &stepper(5, "mproc step { pd = old.pd; }\n"));
    let spec = UpdateSpec {
        to: Some(5),
        ..UpdateSpec::default()
    };
    assert!(matches!(
        c.call(Request::Update(spec)).unwrap(),
        Response::UpdateBegun(_)
    ));
    assert!(matches!(
        c.call(Request::Wait { timeout_ms: 20_000 }).unwrap(),
        Response::Waited { done: true, .. }
    ));
    let deadline = Instant::now() + PATIENCE;
    while !text.contains("v5 step") || !text.ends_with('\n') {
        assert!(Instant::now() < deadline, "version 5 never printed");
        if let Some(Notice::Output(b)) = c.recv_notice(PATIENCE) {
            text.push_str(&String::from_utf8_lossy(&b));
        }
    }
    drain_output(&mut c, &mut text);
    let complete = &text[..text.rfind('\n').unwrap() + 1];
    assert_eq!(check_steps(complete), [1, 5]);
}

#[test]
fn a_version_too_large_for_a_segment_loads_nothing_over_the_wire() {
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let (_pup, addr) = start_pup(&env, "big");
    let mut c = client(&env, addr);
    let small = "main() { while (1) { sleep_ms(10); } }\n";
    load(&mut c, 1, small);
    assert!(matches!(
        c.call(Request::Run { version: None }).unwrap(),
        Response::Running { .. }
    ));
    // 4,000 statements of straight-line code: far over a 64 KiB segment.
    let mut body = String::new();
    for i in 0..4000 {
        body.push_str(&format!(
            "  x = x * {i} + {};\n  printf(\"%d\", x);\n",
            i + 1
        ));
    }
    let huge = format!(
        "huge() {{ int x; x = 1;\n{body} return x; }}\nmain() {{ while (1) {{ sleep_ms(10); }} huge(); }}\n"
    );
    match c.call(load_request(2, &huge)).unwrap() {
        Response::Error(e) => assert!(e.contains("huge"), "the error names it: {e}"),
        other => panic!("a too-large version loaded: {other:?}"),
    }
    let st = status(&mut c);
    let versions: Vec<u64> = st.versions.iter().map(|v| v.version).collect();
    assert_eq!(versions, [1], "nothing of version 2 stays");
    assert!(st.program.contains("running version 1"), "{}", st.program);
    // The number is still free for a version that fits.
    load(&mut c, 2, small);
}

/// Object bytes that decode into a module the compiler could never have
/// produced (the `object_load` fuzz target's crashes, kept in
/// `fuzz/regressions/object_load/`; the first was a double-typed operation
/// on an int operand) are refused with an error, and the pup and its
/// program go on. They used to panic Cranelift inside the connection
/// thread in release builds, where its verifier is off (fixed in 0fe6054:
/// codegen checks machine types and a panic becomes a load error).
#[test]
fn a_malformed_module_is_refused_and_the_pup_goes_on() {
    let dir = podus_tests::repo().join("fuzz/regressions/object_load");
    // The crashes, not the `seed-*` inputs (well-formed objects that load).
    let mut inputs: Vec<_> = std::fs::read_dir(&dir)
        .expect("fuzz/regressions/object_load")
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.starts_with("seed-") && n != "README.md")
        })
        .collect();
    inputs.sort();
    assert!(!inputs.is_empty());
    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let (pup, addr) = start_pup(&env, "victim");
    let mut c = client(&env, addr);
    load(
        &mut c,
        1,
        "main() { int i; for (i = 1; ; i++) { printf(\"tick %d\\n\", i); sleep_ms(10); } }\n",
    );
    assert!(matches!(
        c.call(Request::Run { version: None }).unwrap(),
        Response::Running { .. }
    ));
    c.set_timeout(Duration::from_secs(20));
    for (i, path) in inputs.iter().enumerate() {
        let object = std::fs::read(path).unwrap();
        let r = c.call(Request::Load {
            version: 2 + i as u64,
            object,
            source: None,
        });
        match r {
            Ok(Response::Error(_)) => {}
            other => panic!(
                "{}: expected an error reply, got {other:?}; the pup printed:\n{}",
                path.display(),
                pup.output()
            ),
        }
    }
    // The program and the pup go on.
    let n = pup.output().matches("tick").count();
    pup.wait_line(|l| l == format!("tick {}", n + 5), PATIENCE);
    assert!(matches!(c.call(Request::Info), Ok(Response::Info(_))));
}

/// A pupmapper whose standard error has gone away (started from a
/// terminal that closed, or by a supervisor that died) still maps names.
/// Its log lines used to be `eprintln!`s, which panic on the broken pipe:
/// registration logged before it inserted, so no pup could register, and
/// the panicking thread kept its connection slot (fixed in 9a351ed). The
/// pup's side is `pup/tests/hostile.rs`,
/// `a_pup_whose_stderr_is_gone_keeps_serving`.
#[test]
fn a_pupmapper_whose_stderr_is_gone_still_registers_pups() {
    let env = Env::new();
    let mut c = env.command("pupmapper");
    c.args(["--port", "0"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut mapper = c.spawn().expect("start pupmapper");
    // Close our end of its stderr before it logs anything.
    drop(mapper.stderr.take());
    let mut out = std::io::BufReader::new(mapper.stdout.take().unwrap());
    // Read on a thread so that a mapper which never says it is ready fails
    // the test after READY instead of hanging it.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = std::io::BufRead::read_line(&mut out, &mut line);
        // The reader goes back too: its end of the pipe stays open.
        let _ = tx.send((line, out));
    });
    let (line, _out) = rx.recv_timeout(READY).unwrap_or_else(|_| {
        let _ = mapper.kill();
        panic!("the pupmapper printed no ready line within {READY:?}")
    });
    let port: u16 = line
        .trim()
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("no port in {line:?}"));
    let mapper_addr = format!("127.0.0.1:{port}");
    let mut p = env.command("pup");
    p.args(["logless", "--quiet-output", "--mapper", &mapper_addr]);
    let pup = Daemon::spawn("pup logless", p);
    let registered = Instant::now() + PATIENCE;
    let listed = loop {
        let list = pupmapper_client::client::MapperClient::connect(mapper_addr.as_str())
            .and_then(|mut m| m.list())
            .unwrap_or_default();
        if !list.is_empty() || Instant::now() >= registered {
            break list;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    drop(pup);
    let _ = mapper.kill();
    let _ = mapper.wait();
    assert_eq!(
        listed.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        ["logless"],
        "the pup could not register with a mapper whose stderr is closed"
    );
}

/// The processes whose parent is `pid` (from `/proc`), and whether `pid`
/// still runs (a zombie does not).
fn children_of(pid: i32) -> Vec<i32> {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| {
            let p: i32 = e.ok()?.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).ok()?;
            let rest = &stat[stat.rfind(')')? + 1..];
            let ppid: i32 = rest.split_whitespace().nth(1)?.parse().ok()?;
            (ppid == pid).then_some(p)
        })
        .collect()
}

fn alive(pid: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|s| {
            let rest = s[s.rfind(')')? + 1..].to_string();
            rest.split_whitespace().next().map(|st| st != "Z")
        })
        .unwrap_or(false)
}

/// Regression (issue 29): a `ush --local` that died without running its
/// own cleanup (the abort of a stack overflow, SIGKILL) left its pup, its
/// pupmapper and its private folder, cookie included. Its supervisor stops
/// them and removes the folder; and a killed supervisor takes the shell
/// down cleanly.
#[test]
fn a_local_ush_killed_outright_leaves_no_pup_and_no_folder() {
    let env = Env::new();
    env.write(
        "m.uc",
        "main() { while (1) { printf(\"m\\n\"); sleep_ms(20); } }\n",
    );
    for victim in ["shell", "supervisor"] {
        let mut c = env.command("ush");
        c.args([
            "--local",
            "-c",
            // A program of its own per round: a second `connect` of one
            // name under this HOME would restore it from its journal.
            &format!("program {victim}; connect; output off; load 1 m.uc; run; sleep 120s"),
        ]);
        let mut ush = Daemon::spawn("ush --local", c);
        let line = ush.wait_line(|l| l.contains("cookie and logs in "), READY);
        let dir = std::path::PathBuf::from(line.rsplit(' ').next().unwrap());
        let running = format!("Program {victim} is now running");
        ush.wait_line(|l| l == running, READY);
        assert!(dir.join("cookie").exists(), "{}", dir.display());
        let supervisor = ush.pid() as i32;
        let shell = children_of(supervisor);
        assert_eq!(shell.len(), 1, "one shell under the supervisor: {shell:?}");
        let daemons = children_of(shell[0]);
        assert_eq!(daemons.len(), 2, "a pupmapper and a pup: {daemons:?}");
        let target = if victim == "shell" {
            shell[0]
        } else {
            supervisor
        };
        // SAFETY: kill(2) on a process this test started (or its child).
        unsafe {
            libc::kill(target, libc::SIGKILL);
        }
        eventually(
            &format!("the {victim}'s death to stop the pups and remove the folder"),
            Duration::from_secs(15),
            || {
                (daemons.iter().all(|&p| !alive(p)) && !alive(shell[0]) && !dir.exists())
                    .then_some(())
            },
        );
        if victim == "shell" {
            ush.wait_line(
                |l| l.starts_with("ush: stopped 2 process(es) the shell left running and removed "),
                READY,
            );
        }
        ush.kill9();
    }
}
