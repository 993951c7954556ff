//! The mapper's protocol over real loopback sockets: register, lookup, list,
//! unregister, one live pup per name, dead pups dropped.

mod common;

use std::net::TcpListener;
use std::process::{Child, Command};

use common::{TestMapper, accept_alert};
use pupmapper::client::ClientError;
use pupmapper::proto::{MapperAlert, PupEntry};

/// A stand-in pup process that can be killed: `sleep 30`, reaped on drop.
struct Sleeper(Child);

impl Sleeper {
    fn spawn() -> Sleeper {
        Sleeper(
            Command::new("sleep")
                .arg("30")
                .spawn()
                .expect("spawn sleep"),
        )
    }
    fn pid(&self) -> u32 {
        self.0.id()
    }
    fn kill(&mut self) {
        self.0.kill().unwrap();
        self.0.wait().unwrap();
    }
}

impl Drop for Sleeper {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn listener() -> (TcpListener, u16) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    (l, port)
}

#[test]
fn register_lookup_list_unregister() {
    let mapper = TestMapper::start();
    let (pup, port) = listener();
    let pid = std::process::id();
    let mut c = mapper.client();

    assert_eq!(c.list().unwrap(), vec![]);
    c.register("pizza", pid, port).unwrap();
    let entry = PupEntry {
        name: "pizza".into(),
        pid,
        port,
    };
    assert_eq!(c.lookup("pizza").unwrap(), Some(entry.clone()));
    // The lookup told the pup that a ush is coming.
    assert_eq!(
        accept_alert(&pup),
        MapperAlert {
            name: "pizza".into()
        }
    );
    assert_eq!(c.list().unwrap(), vec![entry]);
    assert_eq!(c.lookup("pasta").unwrap(), None);

    assert!(c.unregister("pizza", pid).unwrap());
    assert!(!c.unregister("pizza", pid).unwrap(), "second unregister");
    assert_eq!(c.lookup("pizza").unwrap(), None);
    assert_eq!(c.list().unwrap(), vec![]);
    mapper.stop();
}

#[test]
fn list_is_sorted_and_state_outlives_connections() {
    let mapper = TestMapper::start();
    let (_a, pa) = listener();
    let (_b, pb) = listener();
    let pid = std::process::id();
    // Separate connections for registering and listing: state is the daemon's.
    mapper.client().register("zeta", pid, pa).unwrap();
    mapper.client().register("alpha", pid, pb).unwrap();
    let names: Vec<String> = mapper
        .client()
        .list()
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect();
    assert_eq!(names, ["alpha", "zeta"]);
}

#[test]
fn duplicate_live_name_is_refused() {
    let mapper = TestMapper::start();
    let (_pup, port) = listener();
    let mut c = mapper.client();
    c.register("pizza", std::process::id(), port).unwrap();

    let other = Sleeper::spawn();
    let (_other_pup, other_port) = listener();
    match c.register("pizza", other.pid(), other_port) {
        Err(ClientError::Server(m)) => assert!(m.contains("already held"), "message: {m}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    // The first holder is untouched.
    assert_eq!(c.lookup("pizza").unwrap().unwrap().port, port);
}

#[test]
fn killed_pup_is_dropped_and_its_name_freed() {
    let mapper = TestMapper::start();
    let mut c = mapper.client();
    let mut pup = Sleeper::spawn();
    // The port stays open, so only the process check can notice the death.
    let (_port_holder, port) = listener();
    c.register("pizza", pup.pid(), port).unwrap();
    assert!(c.lookup("pizza").unwrap().is_some(), "live pup not found");

    pup.kill();
    assert_eq!(c.lookup("pizza").unwrap(), None, "killed pup still found");
    assert_eq!(c.list().unwrap(), vec![]);

    // The name is free for a new pup.
    let (_new, new_port) = listener();
    c.register("pizza", std::process::id(), new_port).unwrap();
}

#[test]
fn pup_with_closed_port_is_dropped() {
    let mapper = TestMapper::start();
    let mut c = mapper.client();
    let mut pup = Sleeper::spawn();
    let (_reserved, closed) = common::bound_but_closed_port();
    c.register("pizza", pup.pid(), closed).unwrap();
    pup.kill();
    assert_eq!(c.lookup("pizza").unwrap(), None);

    // A live process whose port is closed is just as unreachable.
    let alive = Sleeper::spawn();
    let (_reserved2, closed2) = common::bound_but_closed_port();
    c.register("pasta", alive.pid(), closed2).unwrap();
    assert_eq!(c.list().unwrap(), vec![]);
    assert_eq!(c.lookup("pasta").unwrap(), None);
}

#[test]
fn dead_holder_is_replaced_by_a_new_registration() {
    let mapper = TestMapper::start();
    let mut c = mapper.client();
    let mut old = Sleeper::spawn();
    let (_old_port, port) = listener();
    c.register("pizza", old.pid(), port).unwrap();
    old.kill();
    let (_new_port, new_port) = listener();
    c.register("pizza", std::process::id(), new_port).unwrap();
    assert_eq!(c.lookup("pizza").unwrap().unwrap().port, new_port);
}

#[test]
fn unregister_by_another_pid_is_refused() {
    let mapper = TestMapper::start();
    let (_pup, port) = listener();
    let mut c = mapper.client();
    c.register("pizza", std::process::id(), port).unwrap();
    assert!(matches!(
        c.unregister("pizza", 1),
        Err(ClientError::Server(_))
    ));
    assert!(c.lookup("pizza").unwrap().is_some());
}

#[test]
fn bad_registrations_are_refused() {
    let mapper = TestMapper::start();
    let mut c = mapper.client();
    for (name, pid, port) in [
        ("", 1, 1),
        ("two words", 1, 1),
        ("x", 0, 1),
        ("x", u32::MAX, 1),
        ("x", 1, 0),
    ] {
        assert!(
            matches!(c.register(name, pid, port), Err(ClientError::Server(_))),
            "register({name:?}, {pid}, {port}) accepted"
        );
    }
    // The connection survives refusals.
    assert_eq!(c.list().unwrap(), vec![]);
}

#[test]
fn shutdown_closes_open_connections() {
    let mapper = TestMapper::start();
    let mut c = mapper.client();
    c.list().unwrap();
    mapper.stop();
    assert!(c.list().is_err(), "connection survived shutdown");
}
