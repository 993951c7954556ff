//! Helpers for the pup's end-to-end tests: an in-process pupmapper, the real
//! `pup` binary with its output captured line by line, cookies in private
//! temporary directories, and the pizza samples compiled with short pauses.
//!
//! Every wait is bounded and waits on something observable (an output line,
//! a notice, a status answer, the mapper's list), never on a sleep.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::net::{SocketAddr, TcpListener};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use pup::auth::Cookie;
use pup::client::PupClient;
use pup::proto::{Notice, Request, Response, UpdateSpec};
use pupmapper::client::MapperClient;
use pupmapper::proto::PupEntry;
use pupmapper::server::{self, Config, Shutdown};

/// Upper bound of every wait in these tests.
pub(crate) const PATIENCE: Duration = Duration::from_secs(30);

/// Path of a file in the repository.
pub(crate) fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// A pupmapper running in this process on a free loopback port.
pub(crate) struct Mapper {
    pub addr: SocketAddr,
    stop: Shutdown,
    thread: Option<JoinHandle<std::io::Result<()>>>,
}

impl Mapper {
    /// Starts one.
    pub(crate) fn start() -> Mapper {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the mapper");
        let addr = listener.local_addr().unwrap();
        let stop = Shutdown::new();
        let thread = {
            let stop = stop.clone();
            thread::spawn(move || server::run_with(listener, stop, Config::default()))
        };
        Mapper {
            addr,
            stop,
            thread: Some(thread),
        }
    }

    /// The mapper's current list.
    pub(crate) fn list(&self) -> Vec<PupEntry> {
        MapperClient::connect(self.addr)
            .and_then(|mut c| c.list())
            .expect("list the mapper")
    }

    /// Waits until `pred` holds for the mapper's list.
    pub(crate) fn wait_list(
        &self,
        what: &str,
        pred: impl Fn(&[PupEntry]) -> bool,
    ) -> Vec<PupEntry> {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let list = self.list();
            if pred(&list) {
                return list;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for the mapper to list {what}; it lists {list:?}"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Mapper {
    fn drop(&mut self) {
        self.stop.trigger();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Lines a child printed on one stream, with a condition variable so a
/// test can wait for a line.
#[derive(Default)]
pub(crate) struct Lines {
    lines: Mutex<(Vec<String>, bool)>,
    cv: Condvar,
}

impl Lines {
    fn collect(self: &Arc<Self>, stream: impl std::io::Read + Send + 'static) {
        let me = self.clone();
        thread::spawn(move || {
            for line in BufReader::new(stream).lines() {
                let Ok(line) = line else { break };
                me.lines.lock().unwrap().0.push(line);
                me.cv.notify_all();
            }
            me.lines.lock().unwrap().1 = true;
            me.cv.notify_all();
        });
    }

    /// Everything so far, one string.
    pub(crate) fn text(&self) -> String {
        self.lines.lock().unwrap().0.join("\n")
    }

    /// Waits until `pred` holds for the lines so far (and returns them),
    /// failing with what arrived.
    pub(crate) fn wait_for(&self, what: &str, pred: impl Fn(&[String]) -> bool) -> Vec<String> {
        let deadline = Instant::now() + PATIENCE;
        let mut g = self.lines.lock().unwrap();
        loop {
            if pred(&g.0) {
                return g.0.clone();
            }
            let now = Instant::now();
            assert!(
                now < deadline && !g.1,
                "{} waiting for {what}; got:\n{}",
                if g.1 { "stream ended" } else { "timed out" },
                g.0.join("\n")
            );
            g = self.cv.wait_timeout(g, deadline - now).unwrap().0;
        }
    }

    /// Waits for a line containing `needle`, `count` times; returns the
    /// first such line.
    pub(crate) fn wait_contains(&self, needle: &str, count: usize) -> String {
        let lines = self.wait_for(&format!("{count}× {needle:?}"), |l| {
            l.iter().filter(|x| x.contains(needle)).count() >= count
        });
        lines.into_iter().find(|x| x.contains(needle)).unwrap()
    }

    /// Waits for the stream to end (the child closed it or exited).
    pub(crate) fn wait_end(&self) -> Vec<String> {
        let deadline = Instant::now() + PATIENCE;
        let mut g = self.lines.lock().unwrap();
        while !g.1 {
            let now = Instant::now();
            assert!(
                now < deadline,
                "stream did not end; got:\n{}",
                g.0.join("\n")
            );
            g = self.cv.wait_timeout(g, deadline - now).unwrap().0;
        }
        g.0.clone()
    }
}

/// A private directory with a cookie file in it.
pub(crate) struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    /// A new directory; the cookie is created by the pup on first use.
    pub(crate) fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    /// Path of the cookie file.
    pub(crate) fn cookie_path(&self) -> PathBuf {
        self.dir.path().join("cookie")
    }

    /// The cookie, once the pup made it (or making it now).
    pub(crate) fn cookie(&self) -> Cookie {
        Cookie::load_or_create(&self.cookie_path()).expect("cookie")
    }

    /// Writes a cookie file with `mode`.
    pub(crate) fn write_cookie(&self, secret: &str, mode: u32) {
        let p = self.cookie_path();
        std::fs::write(&p, secret).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(mode)).unwrap();
    }
}

/// A running `pup` binary.
pub(crate) struct Pup {
    pub child: Child,
    pub stdout: Arc<Lines>,
    pub stderr: Arc<Lines>,
    /// Where it listens (from its ready line).
    pub addr: SocketAddr,
    pub name: String,
}

/// The `pup` binary built with these tests.
pub(crate) fn pup_bin() -> &'static str {
    env!("CARGO_BIN_EXE_pup")
}

/// Starts `pup` with `args`, the cookie of `home`, and captured output.
pub(crate) fn spawn_pup(home: &Home, args: &[&str]) -> (Child, Arc<Lines>, Arc<Lines>) {
    spawn_pup_env(home, args, &[])
}

/// [`spawn_pup`] with extra environment variables.
pub(crate) fn spawn_pup_env(
    home: &Home,
    args: &[&str],
    env: &[(&str, &str)],
) -> (Child, Arc<Lines>, Arc<Lines>) {
    let mut child = Command::new(pup_bin())
        .args(args)
        .envs(env.iter().copied())
        .env("PODUS_COOKIE", home.cookie_path())
        // The journal's default state directory is under HOME: the test's own.
        .env("HOME", home.dir.path())
        .env_remove("PODUS_PUPMAPPER_PORT")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start pup");
    let stdout = Arc::new(Lines::default());
    let stderr = Arc::new(Lines::default());
    stdout.collect(child.stdout.take().unwrap());
    stderr.collect(child.stderr.take().unwrap());
    (child, stdout, stderr)
}

impl Pup {
    /// Starts `pup NAME --mapper MAPPER extra...` and waits for its ready line.
    pub(crate) fn start(home: &Home, mapper: &Mapper, name: &str, extra: &[&str]) -> Pup {
        Pup::start_env(home, mapper, name, extra, &[])
    }

    /// [`Pup::start`] with extra environment variables.
    pub(crate) fn start_env(
        home: &Home,
        mapper: &Mapper,
        name: &str,
        extra: &[&str],
        env: &[(&str, &str)],
    ) -> Pup {
        let m = mapper.addr.to_string();
        let mut args = vec![name, "--mapper", m.as_str()];
        args.extend_from_slice(extra);
        let (child, stdout, stderr) = spawn_pup_env(home, &args, env);
        let ready = format!("pup {name} listening on ");
        let lines = stdout.wait_for(&format!("the ready line {ready:?}"), |l| {
            l.iter().any(|x| x.starts_with(&ready))
        });
        let line = lines.iter().find(|x| x.starts_with(&ready)).unwrap();
        let addr = line[ready.len()..]
            .trim()
            .parse()
            .expect("address in the ready line");
        Pup {
            child,
            stdout,
            stderr,
            addr,
            name: name.to_string(),
        }
    }

    /// An authenticated client.
    pub(crate) fn client(&self, home: &Home) -> PupClient {
        PupClient::connect(self.addr, &home.cookie()).expect("connect to the pup")
    }

    /// Sends `signal` and waits (bounded) for the exit.
    pub(crate) fn signal_and_wait(&mut self, signal: nix::sys::signal::Signal) -> ExitStatus {
        nix::sys::signal::kill(nix::unistd::Pid::from_raw(self.child.id() as i32), signal).unwrap();
        wait_exit(&mut self.child)
    }
}

impl Drop for Pup {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits (bounded) for a child to exit.
pub(crate) fn wait_exit(child: &mut Child) -> ExitStatus {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        assert!(Instant::now() < deadline, "the process did not exit");
        thread::sleep(Duration::from_millis(10));
    }
}

/// A pizza sample with its pauses shortened by string replacement (as the
/// VM's tests do): pre-heat and baking are quick unless `bake_ms` says
/// otherwise, mixing keeps a window where an update lands. Returns the
/// object bytes and the source.
pub(crate) fn pizza(v: u32, mix_ms: u32, bake_ms: u32) -> (Vec<u8>, String) {
    let src = std::fs::read_to_string(repo(&format!("samples/pizza/pizza{v}.uc")))
        .unwrap()
        .replace("sleep_ms(200)", "sleep_ms(10)")
        .replace("sleep_ms(1200)", &format!("sleep_ms({mix_ms})"))
        .replace("sleep_ms(600)", &format!("sleep_ms({bake_ms})"));
    (object(&format!("pizza{v}.uc"), &src), src)
}

/// Compiles UC text to `ucc build` object bytes, or panics with the
/// diagnostics.
pub(crate) fn object(name: &str, src: &str) -> Vec<u8> {
    match compiler::compile(name, src) {
        Ok(m) => compiler::object::write_object(&m),
        Err(d) => panic!("{name} does not compile:\n{}", d.render(name, src, false)),
    }
}

/// The update a changes file of the pizza sample asks for.
pub(crate) fn changes(name: &str) -> UpdateSpec {
    let text = std::fs::read_to_string(repo(&format!("samples/pizza/{name}"))).unwrap();
    let c = compiler::changes::parse(name, &text).expect("changes file");
    UpdateSpec {
        from: c.update.map(|u| u.0),
        to: c.update.map(|u| u.1),
        changed: c.changed,
        together: c.together,
        within_ms: c.within.map(|d| d.as_millis() as u64),
        atomic: c.atomic,
        strict: c.strict,
    }
}

/// Loads a version over the wire, failing the test on an error.
pub(crate) fn load(client: &mut PupClient, version: u64, (object, source): (Vec<u8>, String)) {
    match client
        .call(Request::Load {
            version,
            object,
            source: Some(source),
        })
        .unwrap()
    {
        Response::Loaded(info) => assert_eq!(info.version, version),
        other => panic!("load {version}: {other:?}"),
    }
}

/// Waits for a notice matching `pred`, failing with the notices seen.
pub(crate) fn wait_notice(
    client: &mut PupClient,
    what: &str,
    pred: impl Fn(&Notice) -> bool,
) -> Notice {
    let deadline = Instant::now() + PATIENCE;
    let mut seen = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match client.recv_notice(left) {
            Some(n) if pred(&n) => return n,
            Some(n) => seen.push(n),
            None => panic!(
                "no notice {what} within {PATIENCE:?} (closed: {}); saw {seen:?}",
                client.is_closed()
            ),
        }
    }
}

/// Runs `c` to completion like `Command::output`, but bounded: a command
/// still running after `limit` is killed and the test fails with what it
/// printed (a program that hangs must fail the test, not hang it).
pub(crate) fn output_bounded(mut c: Command, limit: Duration) -> std::process::Output {
    use std::io::Read;
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {c:?}: {e}"));
    let read = |mut r: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out = read(Box::new(child.stdout.take().expect("piped")));
    let err = read(Box::new(child.stderr.take().expect("piped")));
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break Some(s);
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        thread::sleep(Duration::from_millis(10));
    };
    let stdout = out.join().expect("stdout reader");
    let stderr = err.join().expect("stderr reader");
    match status {
        Some(status) => std::process::Output {
            status,
            stdout,
            stderr,
        },
        None => panic!(
            "{c:?} did not finish within {limit:?}; it printed:\n{}{}",
            String::from_utf8_lossy(&stdout),
            String::from_utf8_lossy(&stderr)
        ),
    }
}
