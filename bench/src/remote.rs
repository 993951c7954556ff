//! Benchmark 5: updates over the network (SPEC §7 "Fleet").
//!
//! Real processes on loopback: a private `pupmapper --port 0` and `pup`
//! daemons started from target/release, a cookie in a temporary directory,
//! and this process as the ush (through `pup_client::client`, the library ush
//! uses). Measured: the round trip of a request, connecting by name, a load
//! and an update of one pup; then one client updating a fleet of 10 and 100
//! pups one after the other, as one ush would (lookup, connect and
//! authenticate, send version 2, update, wait until it completes). The
//! processes are killed at the end, also when something fails.

use crate::report::{Entry, Op, Results};
use crate::util::median;
use anyhow::{Context, Result, bail};
use pup_client::auth::Cookie;
use pup_client::client::{PupClient, connect_by_name};
use pup_client::proto::{Request, Response, UpdateSpec};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Sizes and repetitions.
pub(crate) struct Opts {
    /// Round trips and single updates measured.
    pub runs: usize,
    /// Fleet sizes.
    pub fleets: Vec<usize>,
    /// Repository root (binaries are in target/release).
    pub root: PathBuf,
}

/// Version `v` of the fleet's program: `step` changes with every version,
/// `main` never does, so each update commits as soon as `step` is not on
/// the stack (at once, or when it returns a moment later).
fn program(v: u64) -> String {
    format!(
        "int step(int n) {{ return n + {v}; }}\n\
         main() {{\n    int i = 0;\n    while (1) {{ i = step(i); sleep_ms(5); }}\n}}\n"
    )
}

/// A child process killed when dropped.
struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Start `cmd` and wait for a line on its standard output that starts
/// with `prefix`; returns the process and that line. The rest of its
/// output is drained on a thread so that it never blocks on a full pipe.
fn start(mut cmd: Command, prefix: &str, timeout: Duration) -> Result<(Proc, String)> {
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .stdin(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {cmd:?}"))?;
    let out = child.stdout.take().expect("piped");
    let proc = Proc(child);
    let (tx, rx) = mpsc::channel();
    let prefix = prefix.to_string();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(out).lines() {
            let Ok(line) = line else { break };
            if !sent && line.starts_with(&prefix) {
                let _ = tx.send(line);
                sent = true;
            }
        }
    });
    let line = rx
        .recv_timeout(timeout)
        .with_context(|| format!("{cmd:?} did not print its ready line in {timeout:?}"))?;
    Ok((proc, line))
}

/// The ADDR:PORT at the end of a ready line.
fn addr_of(line: &str) -> Result<String> {
    line.rsplit(' ')
        .next()
        .map(str::to_string)
        .with_context(|| format!("no address in {line:?}"))
}

fn expect_ok(what: &str, r: Response) -> Result<Response> {
    if let Response::Error(e) = &r {
        bail!("{what}: the pup answered: {e}");
    }
    Ok(r)
}

fn load(c: &mut PupClient, version: u64, object: &[u8], src: &str) -> Result<()> {
    let r = c
        .call(Request::Load {
            version,
            object: object.to_vec(),
            source: Some(src.to_string()),
        })
        .context("load")?;
    expect_ok("load", r)?;
    Ok(())
}

/// Begin an update to `to` and wait until it completes.
fn update(c: &mut PupClient, to: u64) -> Result<()> {
    let r = c
        .call(Request::Update(UpdateSpec {
            to: Some(to),
            ..Default::default()
        }))
        .context("update")?;
    match expect_ok("update", r)? {
        Response::UpdateBegun(info) if info.complete => return Ok(()),
        Response::UpdateBegun(_) => {}
        other => bail!("update: unexpected reply {other:?}"),
    }
    match c
        .call(Request::Wait { timeout_ms: 10_000 })
        .context("wait")?
    {
        Response::Waited { done: true, .. } => Ok(()),
        other => bail!("wait: update to {to} did not complete: {other:?}"),
    }
}

/// The fixture: a mapper, pups, a cookie.
struct Fleet {
    dir: tempfile::TempDir,
    mapper: String,
    cookie: Cookie,
    pups: Vec<(String, Proc)>,
    _mapper: Proc,
    bin: PathBuf,
}

impl Fleet {
    fn new(bin: &Path) -> Result<Fleet> {
        let dir = tempfile::tempdir()?;
        let cookie_path = dir.path().join("cookie");
        let cookie =
            Cookie::load_or_create(&cookie_path).map_err(|e| anyhow::anyhow!("cookie: {e}"))?;
        let mut cmd = Command::new(bin.join("pupmapper"));
        cmd.args(["--port", "0", "--listen", "127.0.0.1"]);
        let (mp, line) = start(cmd, "pupmapper listening on", Duration::from_secs(20))?;
        Ok(Fleet {
            mapper: addr_of(&line)?,
            cookie,
            pups: Vec::new(),
            _mapper: mp,
            dir,
            bin: bin.to_path_buf(),
        })
    }

    /// Start `n` more pups (all at once, then wait for each ready line).
    fn grow(&mut self, n: usize) -> Result<Vec<String>> {
        let first = self.pups.len();
        let mut names = Vec::new();
        // Spawn all, then collect the ready lines: the start-ups overlap.
        let mut waiting = Vec::new();
        for i in first..first + n {
            let name = format!("bench{i}");
            let mut cmd = Command::new(self.bin.join("pup"));
            cmd.arg(&name)
                .arg("--mapper")
                .arg(&self.mapper)
                .arg("--cookie")
                .arg(self.dir.path().join("cookie"))
                .arg("--quiet-output");
            let prefix = format!("pup {name} listening on");
            let h = std::thread::spawn(move || start(cmd, &prefix, Duration::from_secs(60)));
            waiting.push((name, h));
        }
        for (name, h) in waiting {
            let (p, _line) = h
                .join()
                .map_err(|_| anyhow::anyhow!("pup start thread panicked"))??;
            self.pups.push((name.clone(), p));
            names.push(name);
        }
        Ok(names)
    }

    fn connect(&self, name: &str) -> Result<PupClient> {
        let (c, _) = connect_by_name(&self.mapper, name, &self.cookie)
            .map_err(|e| anyhow::anyhow!("connecting to {name}: {e}"))?;
        Ok(c)
    }
}

fn us(t: Instant) -> f64 {
    t.elapsed().as_secs_f64() * 1e6
}

fn object(v: u64) -> Result<(Vec<u8>, String)> {
    let src = program(v);
    let m = crate::util::compile(&format!("fleet{v}.uc"), &src)?;
    Ok((compiler::object::write_object(&m), src))
}

/// Run benchmark 5.
pub(crate) fn run(o: &Opts, r: &mut Results) -> Result<()> {
    let bin = o.root.join("target/release");
    for b in ["pup", "pupmapper"] {
        if !bin.join(b).is_file() {
            bail!(
                "{} is missing: build it first with `cargo build --release`",
                bin.join(b).display()
            );
        }
    }
    let mut fleet = Fleet::new(&bin)?;

    // One pup: connect, round trips, load, update.
    let names = fleet.grow(1)?;
    let (mut t_connect, mut t_rtt, mut t_load, mut t_update) = (vec![], vec![], vec![], vec![]);
    let (obj1, src1) = object(1)?;
    {
        let mut c = fleet.connect(&names[0])?;
        load(&mut c, 1, &obj1, &src1)?;
        expect_ok("run", c.call(Request::Run { version: None })?)?;
    }
    for _ in 0..o.runs {
        let t = Instant::now();
        let c = fleet.connect(&names[0])?;
        t_connect.push(us(t));
        c.close();
    }
    let mut c = fleet.connect(&names[0])?;
    for _ in 0..o.runs * 10 {
        let t = Instant::now();
        expect_ok("status", c.call(Request::Status)?)?;
        t_rtt.push(us(t));
    }
    for k in 0..o.runs as u64 {
        let v = 2 + k;
        let (obj, src) = object(v)?;
        let t = Instant::now();
        load(&mut c, v, &obj, &src)?;
        t_load.push(us(t));
        let t = Instant::now();
        update(&mut c, v)?;
        t_update.push(us(t));
    }
    c.close();
    r.add(
        Entry::info(
            "remote.rtt",
            "request round trip (Status) to a pup over loopback",
            median(&t_rtt),
            "µs",
            t_rtt,
        )
        .note("pup_client::client, the library ush uses, on an authenticated connection."),
    );
    r.add(Entry::info(
        "remote.connect",
        "connect by name: pupmapper lookup, TCP, Hello, challenge-response",
        median(&t_connect),
        "µs",
        t_connect,
    ));
    r.add(Entry::info(
        "remote.load",
        "load a new version into a running pup (object bytes sent, JIT, placement)",
        median(&t_load),
        "µs",
        t_load,
    ));
    r.add(
        Entry::info(
            "remote.update",
            "ush→pup update round trip: Update until the update is complete",
            median(&t_update),
            "µs",
            t_update,
        )
        .note("step changed, main unchanged; Wait is sent only when step happened to be on the stack."),
    );

    // Fleets: one client updates every pup, one after the other.
    let mut have = 1;
    for &n in &o.fleets {
        if have < n {
            let t = Instant::now();
            fleet.grow(n - have)?;
            println!(
                "  started {} more pups in {:.1} s",
                n - have,
                t.elapsed().as_secs_f64()
            );
            have = n;
        }
        let names: Vec<String> = fleet.pups.iter().take(n).map(|p| p.0.clone()).collect();
        // Bring every pup of this fleet to a running version 1 of its own
        // (the first pup already runs a later version: restart it fresh).
        // Setup, not timed.
        let base = 100 * (n as u64); // version numbers above anything loaded before
        let (obj_a, src_a) = object(base)?;
        for name in &names {
            let mut c = fleet.connect(name)?;
            let st = c.call(Request::Info)?;
            let running = matches!(&st, Response::Info(i) if i.program.starts_with("running"));
            load(&mut c, base, &obj_a, &src_a)?;
            if running {
                update(&mut c, base)?;
            } else {
                expect_ok("run", c.call(Request::Run { version: None })?)?;
            }
            c.close();
        }
        let mut totals = Vec::new();
        let reps = if n >= 100 { 3 } else { o.runs.min(5) };
        for k in 1..=reps as u64 {
            let to = base + k;
            let t = Instant::now();
            // What one ush does: compile once, then per pup connect, load,
            // update, wait.
            let (obj, src) = object(to)?;
            for name in &names {
                let mut c = fleet.connect(name)?;
                load(&mut c, to, &obj, &src)?;
                update(&mut c, to)?;
                c.close();
            }
            totals.push(t.elapsed().as_secs_f64());
        }
        let mut e = Entry::info(
            &format!("remote.fleet.n{n}"),
            &format!("one client updates {n} pups, one after the other"),
            median(&totals),
            "s",
            totals.clone(),
        )
        .note(format!(
            "Per pup: mapper lookup, connect and authenticate, send the new version, update, \
             wait until complete, disconnect; the version is compiled once. {:.1} ms per pup.",
            median(&totals) * 1e3 / n as f64
        ));
        if n == 100 {
            e = e.target(Op::Le, 5.0, "one ush updates 100 local pups in < 5 s");
        }
        r.add(e);
    }
    Ok(())
}
