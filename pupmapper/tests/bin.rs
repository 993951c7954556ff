//! The `pupmapper` binary: ready line, answers, logs, clean exit on signals.

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver};
use std::thread;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use pupmapper::client::MapperClient;

#[path = "common/closed_port.rs"]
mod closed_port;

const PATIENCE: Duration = Duration::from_secs(10);

/// A running `pupmapper`, killed if a test fails before stopping it.
struct Daemon {
    child: Child,
    addr: SocketAddr,
    stderr: Receiver<String>,
}

/// Forwards each line of `r` into a channel, so tests can wait with a deadline.
fn lines(r: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

impl Daemon {
    fn start(args: &[&str], env: &[(&str, &str)]) -> Daemon {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pupmapper"))
            .args(args)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn pupmapper");
        let stdout = lines(child.stdout.take().unwrap());
        let stderr = lines(child.stderr.take().unwrap());
        let line = match stdout.recv_timeout(PATIENCE) {
            Ok(line) => line,
            Err(_) => {
                let _ = child.kill();
                let err: Vec<String> = stderr.try_iter().collect();
                panic!("no ready line from pupmapper within {PATIENCE:?}; stderr: {err:?}");
            }
        };
        let addr = line
            .strip_prefix("pupmapper listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .parse()
            .unwrap_or_else(|e| panic!("bad address in {line:?}: {e}"));
        Daemon {
            child,
            addr,
            stderr,
        }
    }

    fn signal(&self, signal: Signal) {
        kill(Pid::from_raw(self.child.id() as i32), signal).unwrap();
    }

    fn wait_exit(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "pupmapper did not exit within {PATIENCE:?}"
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Waits for a stderr line containing `needle`.
    fn expect_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.stderr.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return line,
                Ok(_) => {}
                Err(_) => panic!("no stderr line containing {needle:?} within {PATIENCE:?}"),
            }
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn prints_ready_line_answers_and_exits_on_sigterm() {
    let mut d = Daemon::start(&["--port", "0"], &[]);
    assert!(
        d.addr.ip().is_loopback(),
        "listens on {} by default",
        d.addr
    );
    let pup = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = pup.local_addr().unwrap().port();
    let mut c = MapperClient::connect(d.addr).unwrap();
    c.register("pizza", std::process::id(), port).unwrap();
    let line = d.expect_log("registered");
    assert!(
        line.contains("pizza") && line.contains(&port.to_string()),
        "log: {line}"
    );
    assert_eq!(c.list().unwrap().len(), 1);
    c.unregister("pizza", std::process::id()).unwrap();
    d.expect_log("unregistered pizza");

    d.signal(Signal::SIGTERM);
    let status = d.wait_exit();
    assert!(status.success(), "exit status after SIGTERM: {status}");
}

#[test]
fn exits_cleanly_on_sigint_with_a_client_connected() {
    let mut d = Daemon::start(&["--port", "0"], &[]);
    let mut c = MapperClient::connect(d.addr).unwrap();
    c.list().unwrap();
    d.signal(Signal::SIGINT);
    let status = d.wait_exit();
    assert!(status.success(), "exit status after SIGINT: {status}");
}

#[test]
fn port_comes_from_the_environment() {
    // A port held for this test (bound, not listening), which the daemon
    // may bind but no other test can be given meanwhile.
    let (_reserved, port) = closed_port::reserved_port();
    let port_text = port.to_string();
    let d = Daemon::start(&[], &[("PODUS_PUPMAPPER_PORT", &port_text)]);
    assert_eq!(d.addr.port(), port);
    MapperClient::connect(d.addr).unwrap().list().unwrap();
}

#[test]
fn bad_port_environment_is_an_error() {
    let out = Command::new(env!("CARGO_BIN_EXE_pupmapper"))
        .env("PODUS_PUPMAPPER_PORT", "pizza")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("PODUS_PUPMAPPER_PORT"), "stderr: {err}");
}

#[test]
fn listen_address_is_honoured() {
    let d = Daemon::start(&["--port", "0", "--listen", "127.0.0.2"], &[]);
    assert_eq!(d.addr.ip().to_string(), "127.0.0.2");
    MapperClient::connect(d.addr).unwrap().list().unwrap();
}
