//! The table of registered pups and the checks that keep it honest.
//!
//! Liveness is checked outside the table's lock (a probe may take up to the
//! probe timeout) and an entry is removed only if it is still the one that was
//! probed, so a pup that re-registers during a probe is never dropped.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::sync::Mutex;
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::kill;
use nix::unistd::Pid;

use crate::frame::write_frame;
use crate::proto::{self, MapperAlert, PupEntry, Response};

/// How many times a registration retries when the name changes hands while
/// the previous holder is being probed.
const REGISTER_ATTEMPTS: usize = 4;

/// The mapper's table: one entry per name.
#[derive(Debug)]
pub(crate) struct Registry {
    entries: Mutex<BTreeMap<String, PupEntry>>,
    probe_timeout: Duration,
    /// The host address pups are probed at first: the address the mapper
    /// listens on (a mapper on 127.0.0.2 stands for a "host" whose pups
    /// listen on 127.0.0.2), then 127.0.0.1.
    host_ip: IpAddr,
}

/// Whether process `pid` exists. `kill(pid, 0)` sends nothing; `ESRCH` means
/// no such process, while `EPERM` means it exists under another user.
fn process_exists(pid: u32) -> bool {
    // Registration guarantees 1..=i32::MAX; anything else would address a
    // process group, so treat it as dead rather than ask the kernel.
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    if raw <= 0 {
        return false;
    }
    !matches!(kill(Pid::from_raw(raw), None), Err(Errno::ESRCH))
}

/// Checks that `entry`'s process exists and its port accepts a connection
/// at `host` (the mapper's own address) or else on 127.0.0.1. On success,
/// optionally sends the alert over that connection. Returns why the pup is
/// considered dead.
fn probe(
    entry: &PupEntry,
    host: IpAddr,
    timeout: Duration,
    alert: bool,
) -> Result<(), &'static str> {
    // A killed but unreaped pup is a zombie and still passes the process
    // check; the port check catches it because its sockets are closed.
    if !process_exists(entry.pid) {
        return Err("process gone");
    }
    let loopback = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut tries = vec![host];
    if host != loopback {
        tries.push(loopback);
    }
    let Some(mut stream) = tries
        .into_iter()
        .find_map(|ip| TcpStream::connect_timeout(&SocketAddr::new(ip, entry.port), timeout).ok())
    else {
        return Err("port closed");
    };
    if alert {
        // Both frames in one write; failures are ignored because the pup has
        // just proved alive and the lookup must not fail on a lost alert.
        let mut buf = Vec::new();
        if write_frame(&mut buf, &proto::alert_hello()).is_ok()
            && write_frame(
                &mut buf,
                &MapperAlert {
                    name: entry.name.clone(),
                },
            )
            .is_ok()
        {
            let _ = stream.set_write_timeout(Some(timeout));
            let _ = stream.write_all(&buf);
        }
    }
    // Dropping closes with FIN: the pup sends nothing on an alert or a probe,
    // so there is no unread input that would turn the close into RST.
    Ok(())
}

impl Registry {
    /// An empty table whose probes wait at most `probe_timeout` to connect
    /// to pups on 127.0.0.1.
    #[cfg(test)]
    pub(crate) fn new(probe_timeout: Duration) -> Registry {
        Registry::on_host(probe_timeout, IpAddr::V4(Ipv4Addr::LOCALHOST))
    }

    /// An empty table whose probes try `host` (the mapper's own address)
    /// before 127.0.0.1.
    pub(crate) fn on_host(probe_timeout: Duration, host: IpAddr) -> Registry {
        Registry {
            entries: Mutex::new(BTreeMap::new()),
            probe_timeout,
            host_ip: host,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, PupEntry>> {
        // A handler that panicked mid-update leaves a map that is still a
        // valid map; keep serving rather than poisoning the whole daemon.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Removes `entry` if it is still registered unchanged; logs the drop.
    fn drop_dead(&self, entry: &PupEntry, reason: &str) {
        let mut map = self.lock();
        if map.get(&entry.name) == Some(entry) {
            map.remove(&entry.name);
            crate::log!("pupmapper: dropped {entry}: {reason}");
        }
    }

    /// Registers `entry`: one name, one live pup.
    pub(crate) fn register(&self, entry: PupEntry) -> Response {
        if let Err(e) = proto::validate_name(&entry.name) {
            return Response::Error(e);
        }
        if entry.pid == 0 || entry.pid > i32::MAX as u32 {
            return Response::Error(format!("invalid process ID {}", entry.pid));
        }
        if entry.port == 0 {
            return Response::Error("invalid port 0".to_string());
        }
        for _ in 0..REGISTER_ATTEMPTS {
            let existing = {
                let mut map = self.lock();
                match map.get(&entry.name) {
                    None => {
                        crate::log!("pupmapper: registered {entry}");
                        map.insert(entry.name.clone(), entry);
                        return Response::Registered;
                    }
                    // The keep-alive of a pup that is already known.
                    Some(old) if *old == entry => return Response::Registered,
                    // Same process, new port: it moved; nobody else is involved.
                    Some(old) if old.pid == entry.pid => {
                        crate::log!("pupmapper: re-registered {entry} (was port {})", old.port);
                        map.insert(entry.name.clone(), entry);
                        return Response::Registered;
                    }
                    Some(old) => old.clone(),
                }
            };
            if probe(&existing, self.host_ip, self.probe_timeout, false).is_ok() {
                return Response::Error(format!(
                    "program {} is already held by the live pup with pid {} on port {}",
                    existing.name, existing.pid, existing.port
                ));
            }
            let mut map = self.lock();
            match map.get(&entry.name) {
                Some(old) if *old == existing => {
                    crate::log!(
                        "pupmapper: registered {entry}, replacing dead pid {}",
                        old.pid
                    );
                    map.insert(entry.name.clone(), entry);
                    return Response::Registered;
                }
                None => {
                    crate::log!("pupmapper: registered {entry}");
                    map.insert(entry.name.clone(), entry);
                    return Response::Registered;
                }
                // Someone else registered meanwhile: look again.
                Some(_) => {}
            }
        }
        Response::Error(format!(
            "program {} is changing hands too fast; try again",
            entry.name
        ))
    }

    /// Removes `name` if `pid` holds it.
    pub(crate) fn unregister(&self, name: &str, pid: u32) -> Response {
        let mut map = self.lock();
        match map.get(name) {
            None => Response::NotFound {
                name: name.to_string(),
            },
            Some(old) if old.pid == pid => {
                crate::log!("pupmapper: unregistered {old}");
                map.remove(name);
                Response::Ok
            }
            Some(old) => Response::Error(format!(
                "program {name} is held by pid {}, not {pid}",
                old.pid
            )),
        }
    }

    /// Finds the live pup holding `name` and alerts it; drops it if dead.
    pub(crate) fn lookup(&self, name: &str) -> Response {
        let entry = self.lock().get(name).cloned();
        let not_found = || Response::NotFound {
            name: name.to_string(),
        };
        let Some(entry) = entry else {
            return not_found();
        };
        match probe(&entry, self.host_ip, self.probe_timeout, true) {
            Ok(()) => Response::Found(entry),
            Err(reason) => {
                self.drop_dead(&entry, reason);
                not_found()
            }
        }
    }

    /// Every live pup, sorted by name; dead ones are dropped on the way.
    pub(crate) fn list(&self) -> Vec<PupEntry> {
        let snapshot: Vec<PupEntry> = self.lock().values().cloned().collect();
        snapshot
            .into_iter()
            .filter(
                |entry| match probe(entry, self.host_ip, self.probe_timeout, false) {
                    Ok(()) => true,
                    Err(reason) => {
                        self.drop_dead(entry, reason);
                        false
                    }
                },
            )
            .collect()
    }

    /// Probes every entry and drops the dead ones (the periodic sweep).
    pub(crate) fn sweep(&self) {
        let _ = self.list();
    }
}

#[cfg(test)]
mod tests {
    // Shared with the integration tests (tests/common).
    mod closed_port {
        include!(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/common/closed_port.rs"
        ));
    }
    use super::*;
    use std::net::TcpListener;

    fn me(name: &str, port: u16) -> PupEntry {
        PupEntry {
            name: name.to_string(),
            pid: std::process::id(),
            port,
        }
    }

    #[test]
    fn pid_zero_and_negative_pids_are_never_alive() {
        // kill(0, 0) and kill(-1, 0) would address groups and always succeed.
        assert!(!process_exists(0));
        assert!(!process_exists(u32::MAX));
        assert!(process_exists(std::process::id()));
    }

    #[test]
    fn register_validates() {
        let r = Registry::new(Duration::from_millis(500));
        let bad = PupEntry {
            pid: 0,
            ..me("x", 1)
        };
        assert!(matches!(r.register(bad), Response::Error(_)));
        assert!(matches!(r.register(me("x", 0)), Response::Error(_)));
        assert!(matches!(r.register(me("a b", 1)), Response::Error(_)));
    }

    #[test]
    fn live_holder_keeps_its_name_and_dead_one_is_replaced() {
        let r = Registry::new(Duration::from_millis(500));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let live = me("pizza", listener.local_addr().unwrap().port());
        assert_eq!(r.register(live.clone()), Response::Registered);
        // Identical re-registration is the keep-alive: accepted silently.
        assert_eq!(r.register(live.clone()), Response::Registered);
        // Another process (pid 1 always exists) cannot take a live name.
        let other = PupEntry {
            pid: 1,
            ..live.clone()
        };
        assert!(matches!(r.register(other.clone()), Response::Error(_)));
        drop(listener);
        // A holder whose port is closed is dead and gets replaced. The port
        // stays bound (not listening) so that no other test's listener can
        // take it in the meantime and make the dead holder look alive.
        let (_reserved, closed) = closed_port::bound_but_closed_port();
        let dead = me("oven", closed);
        assert_eq!(r.register(dead), Response::Registered);
        let heir = PupEntry {
            pid: 1,
            ..me("oven", closed)
        };
        assert_eq!(r.register(heir.clone()), Response::Registered);
        assert_eq!(r.lock().get("oven"), Some(&heir));
    }

    #[test]
    fn sweep_drops_a_killed_pup_whose_port_is_still_open() {
        let r = Registry::new(Duration::from_millis(500));
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let entry = PupEntry {
            pid: child.id(),
            ..me("pizza", listener.local_addr().unwrap().port())
        };
        r.register(entry);
        r.sweep();
        assert!(r.lock().contains_key("pizza"), "live pup swept away");
        child.kill().unwrap();
        child.wait().unwrap();
        r.sweep();
        assert!(!r.lock().contains_key("pizza"), "dead pup kept");
    }

    #[test]
    fn unregister_checks_pid() {
        let r = Registry::new(Duration::from_millis(500));
        let e = me("pizza", 9);
        r.register(e.clone());
        assert!(matches!(r.unregister("pizza", 1), Response::Error(_)));
        assert_eq!(r.unregister("pizza", e.pid), Response::Ok);
        assert!(matches!(
            r.unregister("pizza", e.pid),
            Response::NotFound { .. }
        ));
    }
}
