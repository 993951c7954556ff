//! `ush --local`: a private pupmapper and the pups it needs, on loopback.
//!
//! Invariants:
//! - Everything lives in one temp dir (the cookie, one log per daemon) that
//!   is removed when the session ends.
//! - Every child is registered in [`Children`] from spawn to reaping, so a
//!   signal handler on another thread can stop them all; children run in
//!   their own process group (a Ctrl-C at the terminal reaches only ush,
//!   which then stops them in order: pups first, so they unregister, then
//!   the pupmapper) and get SIGTERM from the kernel if ush itself dies.
//! - Waiting for a daemon is bounded: its ready line, or a clear error with
//!   the tail of its log.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::SocketAddr;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, WaitStatus, waitpid};
use nix::unistd::Pid;

/// How long a daemon may take to print its ready line.
pub(crate) const READY_TIMEOUT: Duration = Duration::from_secs(15);
/// How long a daemon may take to exit after SIGTERM before it gets SIGKILL.
pub(crate) const STOP_TIMEOUT: Duration = Duration::from_secs(3);

/// The process IDs of the children this ush started, shared with the
/// signal thread so that it can stop them whatever the main thread is doing.
#[derive(Clone, Debug, Default)]
pub(crate) struct Children(Arc<Mutex<Vec<i32>>>, Arc<Mutex<Option<PathBuf>>>);

impl Children {
    /// Records the session's temp dir, which [`Children::stop_all`] removes
    /// (a signal ends ush without running destructors).
    fn set_dir(&self, dir: &Path) {
        *self.1.lock().unwrap_or_else(|e| e.into_inner()) = Some(dir.to_path_buf());
        crate::supervise::announce_dir(dir);
    }

    /// True if any child is registered.
    pub(crate) fn any(&self) -> bool {
        !self.0.lock().unwrap_or_else(|e| e.into_inner()).is_empty()
    }

    fn add(&self, pid: u32) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(pid as i32);
    }
    fn remove(&self, pid: u32) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .retain(|p| *p != pid as i32);
    }

    /// Stops every registered child: SIGTERM, then SIGKILL after
    /// [`STOP_TIMEOUT`]. Later children (pups) go first: the pupmapper is
    /// always the first registered, and pups unregister from it on exit.
    pub(crate) fn stop_all(&self) {
        let pids: Vec<i32> = std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()));
        terminate(&pids[pids.len().min(1)..]);
        terminate(&pids[..pids.len().min(1)]);
        if let Some(dir) = self.1.lock().unwrap_or_else(|e| e.into_inner()).take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// Stops and reaps child processes `pids` together: SIGTERM, then SIGKILL
/// for those still running after [`STOP_TIMEOUT`].
pub(crate) fn terminate(pids: &[i32]) {
    for &p in pids {
        let _ = kill(Pid::from_raw(p), Signal::SIGTERM);
    }
    let deadline = Instant::now() + STOP_TIMEOUT;
    let mut left: Vec<i32> = pids.to_vec();
    while !left.is_empty() && Instant::now() < deadline {
        left.retain(|&p| {
            matches!(
                waitpid(Pid::from_raw(p), Some(WaitPidFlag::WNOHANG)),
                Ok(WaitStatus::StillAlive)
            )
        });
        if !left.is_empty() {
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    for p in left {
        let _ = kill(Pid::from_raw(p), Signal::SIGKILL);
        let _ = waitpid(Pid::from_raw(p), None);
    }
}

/// A private pupmapper, its pups, and their cookie.
pub(crate) struct Local {
    dir: tempfile::TempDir,
    cookie_path: PathBuf,
    mapper: Option<Child>,
    mapper_addr: SocketAddr,
    pups: Vec<(String, Child)>,
    children: Children,
}

/// Where a sibling binary of this ush is: next to the executable, else
/// whatever `PATH` finds.
pub(crate) fn find_bin(name: &str) -> PathBuf {
    if let Ok(exe) = std::env::current_exe()
        && let Some(dir) = exe.parent()
    {
        let p = dir.join(name);
        if p.is_file() {
            return p;
        }
    }
    PathBuf::from(name)
}

impl Local {
    /// Creates the temp dir and cookie and starts the private pupmapper on
    /// a free loopback port.
    pub(crate) fn start(children: Children) -> Result<Local, String> {
        let dir = tempfile::Builder::new()
            .prefix("ush-local-")
            .tempdir()
            .map_err(|e| format!("--local: cannot create a temp dir: {e}"))?;
        let cookie_path = dir.path().join("cookie");
        pup_client::auth::Cookie::load_or_create(&cookie_path)
            .map_err(|e| format!("--local: {e}"))?;
        children.set_dir(dir.path());
        let mut cmd = Command::new(find_bin("pupmapper"));
        cmd.args(["--port", "0", "--listen", "127.0.0.1"]);
        let log = dir.path().join("pupmapper.log");
        let (child, line) =
            spawn_until_ready(cmd, &cookie_path, &log, "pupmapper", &children, |l| {
                l.starts_with("pupmapper listening on ")
            })?;
        let addr = line
            .rsplit(' ')
            .next()
            .and_then(|a| a.parse::<SocketAddr>().ok())
            .ok_or_else(|| {
                format!(
                    "--local: pupmapper said {line:?}, expected `pupmapper listening on ADDR:PORT`"
                )
            })?;
        Ok(Local {
            dir,
            cookie_path,
            mapper: Some(child),
            mapper_addr: addr,
            pups: Vec::new(),
            children,
        })
    }

    /// The private cookie file.
    pub(crate) fn cookie_path(&self) -> &Path {
        &self.cookie_path
    }

    /// The private pupmapper's address.
    pub(crate) fn mapper_addr(&self) -> SocketAddr {
        self.mapper_addr
    }

    /// The session's temp dir (logs live there).
    pub(crate) fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Makes sure a pup for `name` runs: `Ok(true)` if it was started now.
    pub(crate) fn ensure_pup(
        &mut self,
        name: &str,
        debug: bool,
        fresh: bool,
    ) -> Result<bool, String> {
        // Forget pups that have ended (stopped by hand, or crashed).
        let children = self.children.clone();
        self.pups.retain_mut(|(_, c)| match c.try_wait() {
            Ok(None) => true,
            _ => {
                children.remove(c.id());
                false
            }
        });
        if self.pups.iter().any(|(n, _)| n == name) {
            return Ok(false);
        }
        let mut cmd = Command::new(find_bin("pup"));
        cmd.arg(name)
            .arg("--mapper")
            .arg(self.mapper_addr.to_string())
            .arg("--cookie")
            .arg(&self.cookie_path)
            .arg("--quiet-output");
        if debug {
            cmd.arg("--debug");
        }
        // A program that ran before under this user has a journal: its pup
        // comes back at what was last committed (SPEC §4.7), unless the
        // user asked to start anew (`connect --fresh`: the old journal is
        // kept aside, readable, and a new one begins).
        if fresh {
            cmd.arg("--fresh");
        } else if has_journal(name) {
            cmd.arg("--restore");
        }
        let log = self.dir.path().join(format!("pup-{}.log", sanitize(name)));
        let (child, _) =
            spawn_until_ready(cmd, &self.cookie_path, &log, "pup", &self.children, |l| {
                l.starts_with("pup ") && l.contains(" listening on ")
            })?;
        self.pups.push((name.to_string(), child));
        Ok(true)
    }

    /// Stops the pups, then the pupmapper (SIGTERM, then SIGKILL after
    /// [`STOP_TIMEOUT`]). Idempotent.
    pub(crate) fn shutdown(&mut self) {
        let mut all: Vec<Child> = self.pups.drain(..).map(|(_, c)| c).collect();
        stop_children(&mut all, &self.children);
        if let Some(m) = self.mapper.take() {
            stop_children(&mut [m], &self.children);
        }
    }
}

impl Drop for Local {
    fn drop(&mut self) {
        self.shutdown();
    }
}

/// Whether program `name` has a journal in its default state directory
/// (`~/.podus/pups/NAME/journal.db`, where `pup` keeps it).
fn has_journal(name: &str) -> bool {
    std::env::var_os("HOME").is_some_and(|h| {
        std::path::Path::new(&h)
            .join(".podus/pups")
            .join(name)
            .join("journal.db")
            .is_file()
    })
}

fn stop_children(children: &mut [Child], registry: &Children) {
    for c in children.iter() {
        let _ = kill(Pid::from_raw(c.id() as i32), Signal::SIGTERM);
    }
    let deadline = Instant::now() + STOP_TIMEOUT;
    for c in children.iter_mut() {
        loop {
            match c.try_wait() {
                Ok(None) if Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(20))
                }
                Ok(None) => {
                    let _ = c.kill();
                    let _ = c.wait();
                    break;
                }
                _ => break,
            }
        }
        registry.remove(c.id());
    }
}

/// File-name-safe form of a program name.
fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "-_.".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Spawns a daemon with stdout and stderr going to `log`, and waits for the
/// stdout line `ready` accepts (returned). Fails with the log's tail if the
/// daemon exits first or stays silent for [`READY_TIMEOUT`].
fn spawn_until_ready(
    mut cmd: Command,
    cookie: &Path,
    log: &Path,
    what: &str,
    children: &Children,
    ready: impl Fn(&str) -> bool,
) -> Result<(Child, String), String> {
    let log_file =
        File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let err_file = log_file.try_clone().map_err(|e| e.to_string())?;
    cmd.env(pup_client::auth::COOKIE_ENV, cookie)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(err_file)
        .process_group(0);
    // SAFETY: prctl is async-signal-safe and touches no memory of ours.
    unsafe {
        cmd.pre_exec(|| {
            // The daemon ends if this ush dies without stopping it.
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM);
            Ok(())
        });
    }
    let program = cmd.get_program().to_string_lossy().into_owned();
    let mut child = cmd.spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            format!("--local: cannot start {what}: `{program}` is neither next to ush nor in PATH")
        } else {
            format!("--local: cannot start {what} ({program}): {e}")
        }
    })?;
    children.add(child.id());
    let stdout = child.stdout.take().expect("stdout is piped");
    let (tx, rx) = mpsc::channel::<String>();
    let mut copy = log_file;
    std::thread::Builder::new()
        .name(format!("{what}-stdout"))
        .spawn(move || {
            // Copy everything to the log; report lines until the ready one
            // (after that nobody listens and sends just fail).
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = writeln!(copy, "{line}");
                let _ = tx.send(line);
            }
        })
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + READY_TIMEOUT;
    loop {
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(line) if ready(&line) => return Ok((child, line)),
            Ok(_) => continue,
            Err(mpsc::RecvTimeoutError::Timeout) | Err(mpsc::RecvTimeoutError::Disconnected) => {}
        }
        let failed = match child.try_wait() {
            Ok(Some(status)) => Some(format!("{what} exited ({status}) before it was ready")),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                Some(format!(
                    "{what} did not say it was ready within {READY_TIMEOUT:?}"
                ))
            }
            Ok(None) => None,
            Err(e) => Some(format!("{what}: {e}")),
        };
        if let Some(msg) = failed {
            children.remove(child.id());
            return Err(format!(
                "--local: {msg}; its log {} ends:\n{}",
                log.display(),
                tail(log, 10)
            ));
        }
    }
}

/// The last `n` lines of a file, indented.
fn tail(path: &Path, n: usize) -> String {
    let mut s = String::new();
    if let Ok(mut f) = OpenOptions::new().read(true).open(path) {
        let _ = f.read_to_string(&mut s);
    }
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}
