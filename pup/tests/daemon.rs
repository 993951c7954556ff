//! The `pup` daemon end to end: the real binary, an in-process pupmapper,
//! and ushes played by `pup::client` (or by raw frames, for the hostile
//! ones).

mod common;

#[path = "../../pupmapper/tests/common/closed_port.rs"]
mod closed_port;

use common::{
    Home, Mapper, PATIENCE, Pup, changes, load, pizza, spawn_pup, wait_exit, wait_notice,
};
use nix::sys::signal::Signal;
use pup::auth::{self, Cookie};
use pup::client::{ClientError, PupClient, connect_by_name};
use pup::frame::{self, Connection, Limits};
use pup::proto::{Notice, Request, Response, ServerMsg};

#[test]
fn banner_ready_line_and_registration() {
    let home = Home::new();
    let mapper = Mapper::start();
    let pup = Pup::start(&home, &mapper, "x", &[]);
    let out = pup.stdout.text();
    let banner = out.lines().next().unwrap();
    assert!(
        banner.starts_with("program update processor version ")
            && banner.contains(" (compiled on ")
            && banner.contains(" running under ")
            && banner.ends_with(" for program x"),
        "banner: {banner}"
    );
    let list = mapper.wait_list("pup x", |l| l.iter().any(|e| e.name == "x"));
    let entry = list.iter().find(|e| e.name == "x").unwrap();
    assert_eq!(entry.pid, pup.child.id());
    assert_eq!(entry.port, pup.addr.port());
    // The cookie was created private on first use.
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(home.cookie_path())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);

    // A ush finds it by name, and it is new.
    let (mut c, found) = connect_by_name(&mapper.addr.to_string(), "x", &home.cookie()).unwrap();
    assert_eq!(&found, entry);
    match c.call(Request::Info).unwrap() {
        Response::Info(info) => {
            assert_eq!(info.name, "x");
            assert_eq!(info.pid, pup.child.id());
            assert!(info.fresh && info.versions.is_empty());
            assert_eq!(info.program, "not started");
        }
        other => panic!("{other:?}"),
    }
    match connect_by_name(&mapper.addr.to_string(), "nope", &home.cookie()) {
        Err(e @ ClientError::NoSuchPup { .. }) => {
            assert_eq!(e.to_string(), "no pup for program nope on host 127.0.0.1")
        }
        other => panic!("{:?}", other.map(|_| ())),
    }
}

#[test]
fn pizza_loads_runs_and_updates_over_the_wire_with_the_debug_trace() {
    let home = Home::new();
    let mapper = Mapper::start();
    // The pup holds the program right after it prints the oven line of
    // pizza 2 until the update asks it to pause (vm's test pause point),
    // so the update lands in mix_ingredients whatever the machine's load.
    let pup = Pup::start_env(
        &home,
        &mapper,
        "pizza",
        &["--debug"],
        &[(vm::HOLD_ENV, "Fahrenheit for pizza 2")],
    );
    let mut c = pup.client(&home);
    let mut watcher = pup.client(&home);
    assert_eq!(
        watcher.call(Request::Debug { on: true }).unwrap(),
        Response::Ok
    );
    assert_eq!(
        watcher.call(Request::Output { on: true }).unwrap(),
        Response::Ok
    );

    load(&mut c, 1, pizza(1, 1500, 10));
    match c.call(Request::Run { version: None }).unwrap() {
        Response::Running { version } => assert_eq!(version, 1),
        other => panic!("{other:?}"),
    }
    load(&mut c, 2, pizza(2, 1500, 10)); // loaded while version 1 runs
    // Right after the oven line of pizza 2 the program is held; the update
    // finds it at mix_ingredients' entry, the next safepoint.
    pup.stdout.wait_contains("Fahrenheit for pizza 2", 1);
    let info = match c
        .call(Request::Update(changes("pizza2.changes.sd")))
        .unwrap()
    {
        Response::UpdateBegun(info) => info,
        other => panic!("{other:?}"),
    };
    assert_eq!((info.from, info.to), (1, 2));
    assert_eq!(
        info.changed,
        ["bake_pizza", "do_pizza", "mix_ingredients", "set_oven_temp"]
    );
    assert_eq!(info.backtrace, ["mix_ingredients", "do_pizza", "main"]);
    assert!(
        info.frames[0].starts_with("v1:proc:mix_ingredients+0x"),
        "{:?}",
        info.frames
    );
    assert_eq!(info.warped_unchanged, ["main"]);
    assert!(info.committed.is_empty(), "the group is active");
    assert_eq!(info.pending.len(), 1);
    assert!(info.return_interrupts && !info.complete);

    match wait_notice(&mut c, "UpdateComplete", |n| {
        matches!(n, Notice::UpdateComplete(_))
    }) {
        Notice::UpdateComplete(e) => {
            assert_eq!(e.to, 2);
            assert_eq!(e.applied.len(), 1);
            assert!(e.not_applied.is_empty());
            assert!(!e.at_exit);
        }
        _ => unreachable!(),
    }
    pup.stdout
        .wait_contains("TC pizza number 3 preparation complete", 1);
    let out = pup.stdout.text();
    assert!(out.contains("pizza 2 baked for 10 minutes"), "{out}");

    // The paper's trace, in the paper's order, on the pup's stderr.
    pup.stderr.wait_contains("DI POP", 1);
    let trace: Vec<String> = pup
        .stderr
        .text()
        .lines()
        .filter(|l| l.starts_with("pup: ") || l.starts_with("Execution begins"))
        .map(str::to_string)
        .collect();
    let pos = |needle: &str| {
        trace
            .iter()
            .position(|l| l == needle || l.starts_with(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in the trace:\n{}", trace.join("\n")))
    };
    let run = pos("pup: INTERRUPT! (pup state: 0) received command RUN");
    assert!(trace[run + 1].starts_with("Execution begins at address 0x"));
    let update = pos("pup: INTERRUPT! (pup state: 2) received command UPDATE");
    let after: Vec<&str> = trace[update + 1..].iter().map(String::as_str).collect();
    let want_begin = [
        "pup: UPDATE dispatcher received command GET RTS",
        "pup: UPDATE dispatcher received command SET HRVN",
        "pup: UPDATE dispatcher received command EI POP",
        "pup: UPDATE dispatcher received command EOF",
        "pup: PROCEDURE INVOCATION TERMINATED!",
        "pup: UPDATE dispatcher received command GET RTS",
    ];
    assert_eq!(
        &after[..want_begin.len()],
        want_begin,
        "{}",
        trace.join("\n")
    );
    let tail: Vec<&str> = after
        .iter()
        .copied()
        .filter(|l| !l.contains("INTERRUPT!"))
        .collect();
    let last = [
        "pup: UPDATE dispatcher received command SET SDTE",
        "pup: UPDATE dispatcher received command DI POP",
        "pup: UPDATE dispatcher received command EOF",
    ];
    let di = tail.iter().position(|l| l.ends_with("DI POP")).unwrap();
    assert_eq!(&tail[di - 1..=di + 1], last, "{}", trace.join("\n"));
    assert!(
        tail.iter().filter(|l| l.ends_with("SET SDTE")).count() >= 4,
        "one SET SDTE per procedure of the group:\n{}",
        trace.join("\n")
    );

    // The watcher got the same trace and the program output as notices.
    wait_notice(
        &mut watcher,
        "the DI POP trace",
        |n| matches!(n, Notice::Trace(l) if l.ends_with("DI POP")),
    );
    wait_notice(
        &mut watcher,
        "program output",
        |n| matches!(n, Notice::Output(b) if String::from_utf8_lossy(b).contains("TC pizza")),
    );

    // The ush that asked for neither got no output and no trace.
    assert!(
        c.try_notices()
            .iter()
            .all(|n| !matches!(n, Notice::Output(_) | Notice::Trace(_))),
        "output and trace go only to ushes that ask for them"
    );

    // Status after the update; δ*, graph, stack and addresses.
    match c.call(Request::Status).unwrap() {
        Response::Status(st) => {
            assert_eq!(st.hrvn, 2);
            assert!(st.pending.is_empty() && !st.return_interrupts);
            let b = st.bindings.iter().find(|b| b.name == "do_pizza").unwrap();
            assert_eq!(b.committed, 2);
            assert_eq!(
                (b.tables[0].table, b.tables[0].target.as_str()),
                (1, "v2:proc:do_pizza")
            );
            assert!(
                st.program.starts_with("running version 2"),
                "{}",
                st.program
            );
        }
        other => panic!("{other:?}"),
    }
    match c.call(Request::Delta { version: Some(1) }).unwrap() {
        Response::Delta {
            version,
            names,
            matrix,
        } => {
            assert_eq!(version, 1);
            assert_eq!(names[0], "main");
            assert_eq!(matrix.lines().count(), names.len());
            let main_row = matrix.lines().next().unwrap();
            assert_eq!(main_row, "0 1 1 1 1", "main reaches every other procedure");
        }
        other => panic!("{other:?}"),
    }
    match c.call(Request::Graph { version: None }).unwrap() {
        Response::Graph { dot } => {
            assert!(dot.starts_with("digraph "), "{dot}");
            assert!(dot.contains("\"main\" -> \"do_pizza\";"), "{dot}");
            assert!(dot.contains("on stack"), "{dot}");
            assert!(dot.contains("updated to v2"), "{dot}");
        }
        other => panic!("{other:?}"),
    }
    let frames = match c.call(Request::Stack).unwrap() {
        Response::Stack(f) => f,
        other => panic!("{other:?}"),
    };
    assert_eq!(frames.last().unwrap().name, "main");
    match c.call(Request::Addr { addr: frames[0].pc }).unwrap() {
        Response::Addr { decoded } => assert_eq!(decoded.as_deref(), Some(&*frames[0].decoded)),
        other => panic!("{other:?}"),
    }

    // Stop: every ush hears that the program ended, and the pup stays.
    assert_eq!(c.call(Request::Stop).unwrap(), Response::Ok);
    match wait_notice(&mut watcher, "Exited", |n| {
        matches!(n, Notice::Exited { .. })
    }) {
        Notice::Exited { code, message } => assert_eq!((code, message.as_str()), (0, "stopped")),
        _ => unreachable!(),
    }
    match c.call(Request::Info).unwrap() {
        Response::Info(info) => {
            assert!(!info.fresh);
            // Version 1 retired once nothing ran its code any more.
            assert_eq!(info.versions, [2]);
            assert_eq!(info.program, "stopped");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_ush_can_leave_mid_update_and_come_back() {
    let home = Home::new();
    let mapper = Mapper::start();
    let pup = Pup::start(&home, &mapper, "pizza", &[]);
    let mut c = pup.client(&home);
    // A long bake keeps do_pizza active for a while after the update begins.
    load(&mut c, 1, pizza(1, 300, 3000));
    load(&mut c, 2, pizza(2, 300, 3000));
    c.call(Request::Run { version: Some(1) }).unwrap();
    pup.stdout.wait_contains("Fahrenheit for pizza 1", 1);
    match c
        .call(Request::Update(changes("pizza2.changes.sd")))
        .unwrap()
    {
        Response::UpdateBegun(info) => assert!(!info.complete, "{info:?}"),
        other => panic!("{other:?}"),
    }
    drop(c);

    let mut c = pup.client(&home);
    match c.call(Request::Status).unwrap() {
        Response::Status(st) => {
            assert_eq!(st.pending.len(), 1, "{st:?}");
            assert_eq!((st.pending[0].from, st.pending[0].to), (1, 2));
            assert!(st.return_interrupts);
        }
        other => panic!("{other:?}"),
    }
    match c.call(Request::Info).unwrap() {
        Response::Info(info) => assert_eq!(info.pending, 1),
        other => panic!("{other:?}"),
    }
    let ms = PATIENCE.as_millis() as u64;
    assert!(matches!(
        c.call(Request::Wait { timeout_ms: ms }).unwrap(),
        Response::Waited { done: true, .. }
    ));
    // The reconnected ush hears the completion too.
    wait_notice(
        &mut c,
        "UpdateComplete",
        |n| matches!(n, Notice::UpdateComplete(e) if e.to == 2),
    );
    pup.stdout
        .wait_contains("TC pizza number 2 preparation begins", 1);
    let out = pup.stdout.text();
    assert!(out.contains("pizza 1 baked for 10 minutes"), "{out}");
}

#[test]
fn a_wrong_cookie_gets_nothing_but_a_refusal() {
    let home = Home::new();
    let mapper = Mapper::start();
    let pup = Pup::start(&home, &mapper, "x", &[]);
    let wrong = Cookie::from_secret(b"0123456789abcdef0123456789abcdef");
    match PupClient::connect(pup.addr, &wrong) {
        Err(e @ ClientError::Auth(_)) => {
            assert!(e.to_string().starts_with("pup refused the cookie: "), "{e}")
        }
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    }
    pup.stderr.wait_contains("refused a ush", 1);

    // Requests without authentication are not answered: after the Hello
    // the pup only ever sends its challenge, then closes.
    let mut raw = Connection::connect(&pup.addr, PATIENCE, Limits::default()).unwrap();
    raw.offer_hello(&frame::hello()).unwrap();
    raw.write_frame(&Request::Info).unwrap();
    let challenge: Option<auth::Challenge> = raw.read_frame().unwrap();
    assert!(challenge.is_some());
    match raw.read_frame::<ServerMsg>() {
        Ok(None) | Err(_) => {}
        Ok(Some(m)) => panic!("an unauthenticated request was answered: {m:?}"),
    }
    // The pup still serves the right cookie.
    let mut c = pup.client(&home);
    assert!(matches!(c.call(Request::Info).unwrap(), Response::Info(_)));
}

#[test]
fn a_garbage_frame_closes_only_its_connection() {
    let home = Home::new();
    let mapper = Mapper::start();
    let pup = Pup::start(&home, &mapper, "x", &[]);
    let mut good = pup.client(&home);
    assert!(matches!(
        good.call(Request::Info).unwrap(),
        Response::Info(_)
    ));

    let mut raw = Connection::connect(&pup.addr, PATIENCE, Limits::default()).unwrap();
    raw.offer_hello(&frame::hello()).unwrap();
    auth::client_authenticate(&mut raw, &home.cookie()).unwrap();
    {
        use std::io::Write;
        // A whole frame whose payload is no request (variant 200).
        let mut s = raw.stream();
        s.write_all(&[0, 0, 0, 3, 200, 1, 2]).unwrap();
    }
    match raw.read_frame::<ServerMsg>().unwrap() {
        Some(ServerMsg::Reply(Response::Error(e))) => assert!(e.starts_with("bad request"), "{e}"),
        other => panic!("expected an error reply, got {other:?}"),
    }
    assert!(
        matches!(raw.read_frame::<ServerMsg>(), Ok(None) | Err(_)),
        "the connection is closed after a bad frame"
    );

    // An oversized frame announcement too.
    let mut raw = Connection::connect(&pup.addr, PATIENCE, Limits::default()).unwrap();
    raw.offer_hello(&frame::hello()).unwrap();
    auth::client_authenticate(&mut raw, &home.cookie()).unwrap();
    {
        use std::io::Write;
        let mut s = raw.stream();
        s.write_all(&[0xff, 0xff, 0xff, 0xff]).unwrap();
    }
    assert!(matches!(
        raw.read_frame::<ServerMsg>(),
        Ok(Some(ServerMsg::Reply(Response::Error(_))))
    ));

    // The other client never noticed.
    assert!(matches!(
        good.call(Request::Info).unwrap(),
        Response::Info(_)
    ));
    assert!(!good.is_closed());
    let mut again = pup.client(&home);
    assert!(matches!(
        again.call(Request::Status).unwrap(),
        Response::Status(_)
    ));
}

#[test]
fn bad_requests_get_errors_not_crashes() {
    let home = Home::new();
    let mapper = Mapper::start();
    let pup = Pup::start(&home, &mapper, "x", &[]);
    let mut c = pup.client(&home);
    let err = |r: Response| match r {
        Response::Error(e) => e,
        other => panic!("expected an error, got {other:?}"),
    };
    let e = err(c
        .call(Request::Load {
            version: 1,
            object: b"not an object".to_vec(),
            source: None,
        })
        .unwrap());
    assert!(e.contains("not a UC object file"), "{e}");
    let obj = common::object("a.uc", "main() { printf(\"hi\\n\"); }");
    let e = err(c
        .call(Request::Load {
            version: 0,
            object: obj.clone(),
            source: None,
        })
        .unwrap());
    assert!(e.contains("start at 1"), "{e}");
    assert!(err(c.call(Request::Run { version: None }).unwrap()).contains("no version"));
    let e = err(c.call(Request::Update(Default::default())).unwrap());
    assert!(e.contains("no program is running"), "{e}");
    assert!(err(c.call(Request::Delta { version: Some(7) }).unwrap()).contains("not loaded"));
    assert!(err(c.call(Request::Stop).unwrap()).contains("not running"));
    // Still fresh: nothing was loaded.
    match c.call(Request::Info).unwrap() {
        Response::Info(info) => assert!(info.fresh),
        other => panic!("{other:?}"),
    }
    c.call(Request::Load {
        version: 3,
        object: obj.clone(),
        source: None,
    })
    .unwrap();
    let e = err(c
        .call(Request::Load {
            version: 2,
            object: obj,
            source: None,
        })
        .unwrap());
    assert!(e.contains('2'), "{e}");
    let e = err(c
        .call(Request::Update(pup::proto::UpdateSpec {
            within_ms: Some(u64::MAX),
            ..Default::default()
        }))
        .unwrap());
    assert!(e.contains("within"), "{e}");

    // A program that fails: every ush hears the runtime error and its
    // backtrace; the pup lives on.
    let bad = common::object(
        "bad.uc",
        "int d(int x) { return 10 / x; }\nmain() { printf(\"%d\\n\", d(0)); }\n",
    );
    c.call(Request::Load {
        version: 4,
        object: bad,
        source: None,
    })
    .unwrap();
    c.call(Request::Run { version: Some(4) }).unwrap();
    match wait_notice(&mut c, "Exited", |n| matches!(n, Notice::Exited { .. })) {
        Notice::Exited { code, message } => {
            assert_eq!(code, 1);
            assert!(message.contains("division by zero"), "{message}");
            assert!(message.contains("backtrace"), "{message}");
        }
        _ => unreachable!(),
    }
    assert!(matches!(c.call(Request::Info).unwrap(), Response::Info(_)));
}

#[test]
fn sigterm_unregisters_and_exits_0() {
    let home = Home::new();
    let mapper = Mapper::start();
    let mut pup = Pup::start(&home, &mapper, "x", &[]);
    mapper.wait_list("pup x", |l| l.iter().any(|e| e.name == "x"));
    let mut c = pup.client(&home);
    let st = pup.signal_and_wait(Signal::SIGTERM);
    assert_eq!(st.code(), Some(0), "stderr:\n{}", pup.stderr.text());
    assert!(
        mapper.list().iter().all(|e| e.name != "x"),
        "the mapper still lists the pup"
    );
    // Its ushes see the connection closed.
    assert!(matches!(
        c.call(Request::Info),
        Err(ClientError::Closed) | Err(ClientError::Frame(_))
    ));
}

#[test]
fn sigint_unregisters_too() {
    let home = Home::new();
    let mapper = Mapper::start();
    let mut pup = Pup::start(&home, &mapper, "y", &[]);
    mapper.wait_list("pup y", |l| l.iter().any(|e| e.name == "y"));
    assert_eq!(pup.signal_and_wait(Signal::SIGINT).code(), Some(0));
    assert!(mapper.list().iter().all(|e| e.name != "y"));
}

#[test]
fn an_unreachable_mapper_is_a_clear_error() {
    let home = Home::new();
    // A port bound but not listening, for as long as the test runs: a
    // connection is refused, and no other test can take the port.
    let (_reserved, port) = closed_port::bound_but_closed_port();
    let (mut child, _out, err) = spawn_pup(&home, &["x", "--mapper", &format!("127.0.0.1:{port}")]);
    let st = wait_exit(&mut child);
    assert_eq!(st.code(), Some(1));
    let text = err.wait_end().join("\n");
    assert!(
        text.contains("cannot register program x with the pupmapper at 127.0.0.1:"),
        "{text}"
    );
}

#[test]
fn a_world_readable_cookie_is_refused() {
    let home = Home::new();
    home.write_cookie("0123456789abcdef0123456789abcdef\n", 0o644);
    let mapper = Mapper::start();
    let (mut child, _out, err) = spawn_pup(&home, &["x", "--mapper", &mapper.addr.to_string()]);
    assert_eq!(wait_exit(&mut child).code(), Some(1));
    let text = err.wait_end().join("\n");
    assert!(
        text.contains("is readable by others (mode 0644); chmod 600 it"),
        "{text}"
    );
    assert!(mapper.list().is_empty());
}
