//! Shared helpers for the end-to-end tests: locating the built binaries, temp dirs, bounded waits.
//!
//! - [`bin`]: a binary of this workspace, from the target directory the
//!   test itself was built into (`target/<profile>/`). Invariant: a missing
//!   binary fails the test with the command that builds it.
//! - [`Env`]: one temp dir per test holding `HOME`, the cookie and any
//!   files; every command started through it gets that environment, so
//!   tests never touch the user's `~/.podus` and never share state.
//! - [`Daemon`]: a pupmapper or pup started by a test. Its output is
//!   collected by a thread; [`Daemon::wait_line`] waits for a line with a
//!   deadline. Invariant: dropped means stopped (SIGTERM, then SIGKILL).
//! - [`Env::ush`]: one `ush` run with a deadline; a hang fails the test with
//!   everything ush printed so far.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The directory holding the workspace's binaries for the profile the
/// tests were built with.
pub fn bin_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary knows its path");
    // target/<profile>/deps/<test>-<hash>
    let deps = exe.parent().expect("deps dir");
    deps.parent().expect("profile dir").to_path_buf()
}

/// The path of workspace binary `name`; panics with how to build it if it
/// is missing.
pub fn bin(name: &str) -> PathBuf {
    let p = bin_dir().join(name);
    assert!(
        p.is_file(),
        "{} is missing: build the workspace's binaries first (`cargo build --workspace`, \
         or run the tests with `cargo test --workspace`)",
        p.display()
    );
    p
}

/// The repository root (for the samples).
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ is inside the repository")
        .to_path_buf()
}

/// Output of a finished command.
#[derive(Debug)]
pub struct Run {
    /// Exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Run {
    /// Both streams, for assertions and failure messages.
    pub fn all(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }

    /// Panics (showing the output) unless the command exited 0.
    #[track_caller]
    pub fn assert_ok(&self) -> &Run {
        assert_eq!(self.code, Some(0), "command failed:\n{}", self.all());
        self
    }

    /// Panics (showing the output) unless `text` was printed.
    #[track_caller]
    pub fn assert_has(&self, text: &str) -> &Run {
        assert!(
            self.all().contains(text),
            "expected {text:?} in the output:\n{}",
            self.all()
        );
        self
    }
}

/// A test's private environment.
pub struct Env {
    dir: tempfile::TempDir,
    mapper_port: Option<u16>,
}

impl Default for Env {
    fn default() -> Self {
        Self::new()
    }
}

impl Env {
    /// A fresh temp dir with `home/` and a cookie.
    pub fn new() -> Env {
        let dir = tempfile::Builder::new()
            .prefix("podus-test-")
            .tempdir()
            .expect("temp dir");
        std::fs::create_dir(dir.path().join("home")).expect("home dir");
        Env {
            dir,
            mapper_port: None,
        }
    }

    /// The temp dir.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The cookie file every command gets (created by the first daemon).
    pub fn cookie(&self) -> PathBuf {
        self.path().join("cookie")
    }

    /// Writes `text` to `name` in the temp dir; returns the path.
    pub fn write(&self, name: &str, text: &str) -> PathBuf {
        let p = self.path().join(name);
        std::fs::write(&p, text).expect("write test file");
        p
    }

    /// A command for workspace binary `name` with this environment: HOME,
    /// the cookie, the pupmapper port once one was started, cwd the temp dir.
    pub fn command(&self, name: &str) -> Command {
        let mut c = Command::new(bin(name));
        c.current_dir(self.path())
            .env("HOME", self.path().join("home"))
            .env("PODUS_COOKIE", self.cookie())
            .env_remove("PODUS_PUPMAPPER_PORT");
        if let Some(p) = self.mapper_port {
            c.env("PODUS_PUPMAPPER_PORT", p.to_string());
        }
        c
    }

    /// Starts a pupmapper on a free port; later commands use it by default.
    pub fn start_mapper(&mut self) -> Daemon {
        self.start_mapper_on(0)
    }

    /// Starts a pupmapper on `port` (0: a free one); later commands use it
    /// by default.
    pub fn start_mapper_on(&mut self, port: u16) -> Daemon {
        let mut c = self.command("pupmapper");
        c.args(["--port", &port.to_string()]);
        let d = Daemon::spawn("pupmapper", c);
        let line = d.wait_line(|l| l.starts_with("pupmapper listening on "), READY);
        let port = line
            .rsplit(':')
            .next()
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or_else(|| panic!("no port in {line:?}"));
        self.mapper_port = Some(port);
        d
    }

    /// The pupmapper address (`127.0.0.1:PORT`).
    pub fn mapper_addr(&self) -> String {
        format!(
            "127.0.0.1:{}",
            self.mapper_port.expect("start_mapper first")
        )
    }

    /// Starts `pup NAME` registered with this test's pupmapper.
    pub fn start_pup(&self, name: &str, extra: &[&str]) -> Daemon {
        self.start_pup_env(name, extra, &[])
    }

    /// [`Env::start_pup`] with extra environment variables (such as the
    /// VM's test pause point, `vm::HOLD_ENV`).
    pub fn start_pup_env(&self, name: &str, extra: &[&str], env: &[(&str, &str)]) -> Daemon {
        let mut c = self.command("pup");
        c.envs(env.iter().copied());
        c.arg(name)
            .args(["--mapper", &self.mapper_addr(), "--quiet-output"])
            .args(extra);
        let d = Daemon::spawn(&format!("pup {name}"), c);
        d.wait_line(
            |l| l.starts_with(&format!("pup {name} listening on ")),
            READY,
        );
        d
    }

    /// Runs `ush ARGS` to completion (bounded by `limit`).
    pub fn ush(&self, args: &[&str], limit: Duration) -> Run {
        let mut c = self.command("ush");
        c.args(args);
        run_bounded(c, limit)
    }

    /// `ush -c COMMANDS` with a 30 s bound.
    pub fn ush_c(&self, commands: &str) -> Run {
        self.ush(
            &["--color", "never", "-c", commands],
            Duration::from_secs(30),
        )
    }
}

/// How long a daemon may take to print its ready line.
pub const READY: Duration = Duration::from_secs(20);

/// Output of a command run with a deadline, as bytes (for byte-exact
/// comparisons such as the public corpus against gcc).
#[derive(Debug)]
pub struct RawRun {
    /// Exit code (`None`: killed by a signal or at the deadline).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error.
    pub stderr: Vec<u8>,
    /// True if the command was still running at the deadline and was killed.
    pub timed_out: bool,
}

/// Runs a command with a deadline, collecting its output; a command still
/// running at the deadline is killed and reported as `timed_out`.
pub fn run_until(mut c: Command, limit: Duration) -> RawRun {
    c.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {c:?}: {e}"));
    let out = reader(child.stdout.take().expect("piped"));
    let err = reader(child.stderr.take().expect("piped"));
    let end = Instant::now() + limit;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break Some(s);
        }
        if Instant::now() >= end {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    RawRun {
        code: status.and_then(|s| s.code()),
        stdout: out.join().expect("stdout reader"),
        stderr: err.join().expect("stderr reader"),
        timed_out: status.is_none(),
    }
}

/// Runs a command with a deadline, collecting its output; a command still
/// running at the deadline is killed and the test fails showing its output.
pub fn run_bounded(c: Command, limit: Duration) -> Run {
    let what = format!("{c:?}");
    let raw = run_until(c, limit);
    let stdout = String::from_utf8_lossy(&raw.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&raw.stderr).into_owned();
    if raw.timed_out {
        panic!("{what} did not finish within {limit:?}; it printed:\n{stdout}{stderr}");
    }
    Run {
        code: raw.code,
        stdout,
        stderr,
    }
}

fn reader(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = r.read_to_end(&mut v);
        v
    })
}

/// True when the environment says this is CI (`CI=true` or `CI=1`), where
/// a missing tool is a failure rather than a skipped part.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true" || v == "1")
}

/// True if `tool ARG` runs and succeeds (e.g. `have_tool("gcc", "--version")`).
pub fn have_tool(tool: &str, arg: &str) -> bool {
    Command::new(tool)
        .arg(arg)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Lines a daemon printed, with a condition variable for waiters.
type Lines = Arc<(Mutex<Vec<String>>, Condvar)>;

/// A daemon started by a test; stopped when dropped.
pub struct Daemon {
    name: String,
    child: Option<Child>,
    lines: Lines,
}

impl Daemon {
    /// Starts `c`, collecting stdout and stderr lines.
    pub fn spawn(name: &str, mut c: Command) -> Daemon {
        c.stdin(Stdio::null());
        Daemon::spawn_piped(name, c)
    }

    /// As [`Daemon::spawn`], with a pipe to its standard input (a `ush`
    /// reads a script from it line by line, as the test writes them).
    pub fn spawn_with_stdin(name: &str, mut c: Command) -> (Daemon, std::process::ChildStdin) {
        c.stdin(Stdio::piped());
        let mut d = Daemon::spawn_piped(name, c);
        let stdin = d
            .child
            .as_mut()
            .and_then(|c| c.stdin.take())
            .expect("piped");
        (d, stdin)
    }

    fn spawn_piped(name: &str, mut c: Command) -> Daemon {
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = c
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {name}: {e}"));
        let lines: Lines = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        for stream in [
            Box::new(child.stdout.take().expect("piped")) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().expect("piped")),
        ] {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for l in BufReader::new(stream).lines().map_while(Result::ok) {
                    let (m, cv) = &*lines;
                    m.lock().unwrap().push(l);
                    cv.notify_all();
                }
            });
        }
        Daemon {
            name: name.to_string(),
            child: Some(child),
            lines,
        }
    }

    /// The process ID.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Everything printed so far.
    pub fn output(&self) -> String {
        self.lines.0.lock().unwrap().join("\n")
    }

    /// Waits for a line matching `pred`; panics with the output after `limit`.
    #[track_caller]
    pub fn wait_line(&self, pred: impl Fn(&str) -> bool, limit: Duration) -> String {
        let end = Instant::now() + limit;
        let (m, cv) = &*self.lines;
        let mut g = m.lock().unwrap();
        loop {
            if let Some(l) = g.iter().find(|l| pred(l)) {
                return l.clone();
            }
            let now = Instant::now();
            if now >= end {
                panic!(
                    "{} did not print the expected line within {limit:?}; it printed:\n{}",
                    self.name,
                    g.join("\n")
                );
            }
            g = cv.wait_timeout(g, end - now).unwrap().0;
        }
    }

    /// Waits for it to exit by itself, at most `limit`; its exit code
    /// (`None`: killed by a signal). Panics with its output on a timeout.
    #[track_caller]
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let mut c = self.child.take().expect("running");
        let end = Instant::now() + limit;
        loop {
            if let Some(s) = c.try_wait().expect("wait") {
                return s.code();
            }
            if Instant::now() >= end {
                let _ = c.kill();
                let _ = c.wait();
                panic!(
                    "{} did not exit within {limit:?}; it printed:\n{}",
                    self.name,
                    self.output()
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Kills it with SIGKILL (no chance to unregister) and reaps it.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            // SIGTERM first so a pup unregisters; then make sure.
            // SAFETY: kill(2) on our own child's pid, which is not reaped yet.
            unsafe {
                libc::kill(c.id() as i32, libc::SIGTERM);
            }
            let end = Instant::now() + Duration::from_secs(3);
            while Instant::now() < end {
                if let Ok(Some(_)) = c.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Polls `f` until it returns `Some`, at most `limit`; panics with `what`.
#[track_caller]
pub fn eventually<T>(what: &str, limit: Duration, mut f: impl FnMut() -> Option<T>) -> T {
    let end = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(
            Instant::now() < end,
            "timed out after {limit:?} waiting for {what}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Writes to a child's stdin (for `ush < SCRIPT` tests).
pub fn run_with_stdin(mut c: Command, input: &str, limit: Duration) -> Run {
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn");
    let mut stdin = child.stdin.take().expect("piped");
    stdin.write_all(input.as_bytes()).expect("write stdin");
    drop(stdin);
    let out = reader(child.stdout.take().expect("piped"));
    let err = reader(child.stderr.take().expect("piped"));
    let end = Instant::now() + limit;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() >= end {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{c:?} did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        code: status.code(),
        stdout: String::from_utf8_lossy(&out.join().expect("stdout")).into_owned(),
        stderr: String::from_utf8_lossy(&err.join().expect("stderr")).into_owned(),
    }
}
