//! The soak: a real pupmapper and pup, a program running in the pup, and
//! successive updates of it for a set time while the program's output, the
//! pup's memory, file descriptors and threads are watched (issue 7).
//!
//! `cargo test` runs it for one minute (CI runs the suite in release, so
//! against the release binaries); `scripts/soak.sh [DURATION]` runs the
//! same test for 30 minutes or as long as asked, through the environment:
//!
//! - `PODUS_SOAK_DURATION`: how long (`90s`, `30m`, `2h`); default `60s`.
//! - `PODUS_SOAK_RSS_SLACK_MIB`: how far the pup's resident set may grow
//!   past its level after warm-up; default 16.
//!
//! It fails on the first violation: an output line out of order (the
//! program's counter must run on by one across every update, and versions
//! never go backwards), the program stopping, an update that does not
//! complete, or the pup's RSS, open file descriptors or threads growing
//! past their warm-up level plus a slack.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use podus_tests::Env;
use pup_client::auth::Cookie;
use pup_client::client::PupClient;
use pup_client::proto::{Notice, Request, Response};

/// Version `v` of the soaked program: `step` prints `v{v} N` with a
/// counter carried across every update in a static. Odd versions sleep
/// inside `step`, so updates from them wait for `step` to return; even
/// versions sleep in `tick`, which never changes, so updates from them
/// complete at once. Both update paths run all the time.
fn source(v: u64) -> String {
    let nap = if v % 2 == 1 { "sleep_ms(1);" } else { "" };
    format!(
        "step() {{ static int pd = 1; printf(\"v{v} %d\\n\", pd); pd++; {nap} }}\n\
         tick() {{ sleep_ms(1); }}\n\
         main() {{ while (1) {{ step(); tick(); }} }}\n"
    )
}

/// The program's output, checked line by line as it streams in, keeping
/// only what the check needs.
#[derive(Default)]
struct Tally {
    partial: String,
    last: i64,
    version: u64,
    lines: u64,
}

impl Tally {
    /// Takes streamed output; `Err` names the first line out of order.
    fn take(&mut self, bytes: &[u8]) -> Result<(), String> {
        self.partial.push_str(&String::from_utf8_lossy(bytes));
        while let Some(nl) = self.partial.find('\n') {
            let line: String = self.partial.drain(..=nl).collect();
            let line = line.trim_end();
            let parsed = line
                .strip_prefix('v')
                .and_then(|r| r.split_once(' '))
                .and_then(|(v, n)| Some((v.parse::<u64>().ok()?, n.parse::<i64>().ok()?)));
            match parsed {
                Some((v, n)) if n == self.last + 1 && v >= self.version => {
                    self.last = n;
                    self.version = v;
                    self.lines += 1;
                }
                _ => {
                    return Err(format!(
                        "output line {line:?} after {} of version {}",
                        self.last, self.version
                    ));
                }
            }
        }
        Ok(())
    }
}

/// What is watched of the pup process.
#[derive(Clone, Copy, Debug)]
struct Usage {
    rss: u64,
    fds: usize,
    threads: usize,
}

/// Reads VmRSS and Threads from /proc/PID/status and counts /proc/PID/fd.
fn usage(pid: u32) -> Usage {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_else(|e| panic!("the pup (pid {pid}) is gone: {e}"));
    let field = |name: &str| -> u64 {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in /proc/{pid}/status"))
    };
    Usage {
        rss: field("VmRSS:") << 10,
        threads: field("Threads:") as usize,
        fds: std::fs::read_dir(format!("/proc/{pid}/fd"))
            .map(|d| d.count())
            .unwrap_or(0),
    }
}

fn env_duration(name: &str, default: Duration) -> Duration {
    match std::env::var(name) {
        Ok(s) => compiler::changes::parse_duration(&s)
            .unwrap_or_else(|e| panic!("{name}={s:?} is not a duration: {e}")),
        Err(_) => default,
    }
}

fn load(c: &mut PupClient, v: u64) {
    let src = source(v);
    let m = compiler::compile("soak.uc", &src).expect("the soaked program compiles");
    let req = Request::Load {
        version: v,
        object: compiler::object::write_object(&m),
        source: None,
    };
    match c.call(req) {
        Ok(Response::Loaded(_)) => {}
        other => panic!("load {v}: {other:?}"),
    }
}

/// Takes every notice queued on `c` into `tally`, failing on a violation
/// or on a group that failed.
fn drain(c: &mut PupClient, tally: &mut Tally) {
    for n in c.try_notices() {
        match n {
            Notice::Output(b) => {
                if let Err(e) = tally.take(&b) {
                    panic!("soak violation: {e}");
                }
            }
            Notice::GroupFailed { to, error, .. } => {
                panic!("soak violation: the update to {to} failed: {error}")
            }
            Notice::Exited { code, message } => {
                panic!("soak violation: the program exited ({code}): {message}")
            }
            _ => {}
        }
    }
}

#[test]
fn soak_updates_under_a_running_program() {
    let duration = env_duration("PODUS_SOAK_DURATION", Duration::from_secs(60));
    let slack_mib: u64 = std::env::var("PODUS_SOAK_RSS_SLACK_MIB")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(16);
    // Warm-up: allocator pools, code buffers and the connection's threads
    // settle in the first seconds; usage is measured against that level.
    let warm_up = (duration / 6).clamp(Duration::from_secs(5), Duration::from_secs(60));

    let mut env = Env::new();
    let _mapper = env.start_mapper();
    let pup = env.start_pup("soak", &[]);
    let ready = pup.wait_line(
        |l| l.starts_with("pup soak listening on "),
        podus_tests::READY,
    );
    let addr: SocketAddr = ready.rsplit(' ').next().unwrap().parse().unwrap();
    let cookie = Cookie::load(&env.cookie()).expect("cookie");
    let mut c = PupClient::connect(addr, &cookie).expect("connect");
    assert_eq!(c.call(Request::Output { on: true }).unwrap(), Response::Ok);
    load(&mut c, 1);
    assert!(matches!(
        c.call(Request::Run { version: None }).unwrap(),
        Response::Running { version: 1 }
    ));

    let started = Instant::now();
    let mut tally = Tally::default();
    let mut v = 1u64;
    let mut baseline: Option<(Usage, u64)> = None;
    let mut peak = usage(pup.pid());
    let mut last_report = Instant::now();
    let mut lines_at_report = 0;
    while started.elapsed() < duration {
        v += 1;
        load(&mut c, v);
        match c.call(Request::Update(Default::default())) {
            Ok(Response::UpdateBegun(b)) => {
                assert!(b.failed.is_empty(), "update to {v}: {:?}", b.failed)
            }
            other => panic!("update to {v}: {other:?}"),
        }
        match c.call(Request::Wait { timeout_ms: 30_000 }) {
            Ok(Response::Waited { done: true, .. }) => {}
            other => panic!("soak violation: the update to {v} did not complete: {other:?}"),
        }
        drain(&mut c, &mut tally);

        // Connection churn: another ush comes and goes now and then.
        if v.is_multiple_of(200) {
            let mut other = PupClient::connect(addr, &cookie).expect("a second ush connects");
            assert!(matches!(
                other.call(Request::Status),
                Ok(Response::Status(_))
            ));
            other.close();
        }

        if last_report.elapsed() >= Duration::from_secs(5) {
            let u = usage(pup.pid());
            let t = started.elapsed();
            eprintln!(
                "soak: {:>5}s {v:>7} updates, {} lines, rss {} KiB, {} fds, {} threads",
                t.as_secs(),
                tally.lines,
                u.rss >> 10,
                u.fds,
                u.threads
            );
            // The program must keep printing between reports. Not judged
            // by the clock (a loaded machine may starve it for a while):
            // with nothing new, wait (bounded) for its next line.
            let quiet_since = Instant::now();
            while tally.lines <= lines_at_report {
                assert!(
                    quiet_since.elapsed() < Duration::from_secs(60),
                    "soak violation: the program printed nothing since the last report \
                     and for 60 s after it"
                );
                std::thread::sleep(Duration::from_millis(20));
                drain(&mut c, &mut tally);
            }
            lines_at_report = tally.lines;
            last_report = Instant::now();
            peak.rss = peak.rss.max(u.rss);
            peak.fds = peak.fds.max(u.fds);
            peak.threads = peak.threads.max(u.threads);
            match baseline {
                None if t >= warm_up => baseline = Some((u, v)),
                None => {}
                Some((b, bv)) => {
                    assert!(
                        u.rss <= b.rss + (slack_mib << 20),
                        "soak violation: the pup's RSS grew from {} KiB to {} KiB over {} updates",
                        b.rss >> 10,
                        u.rss >> 10,
                        v - bv
                    );
                    assert!(
                        u.fds <= b.fds + 8,
                        "soak violation: open fds grew from {} to {}",
                        b.fds,
                        u.fds
                    );
                    assert!(
                        u.threads <= b.threads + 4,
                        "soak violation: threads grew from {} to {}",
                        b.threads,
                        u.threads
                    );
                }
            }
        }
    }

    // The program still runs the newest version, with its counter intact.
    let deadline = Instant::now() + Duration::from_secs(30);
    while tally.version < v {
        assert!(Instant::now() < deadline, "version {v} never printed");
        if let Some(n) = c.recv_notice(Duration::from_secs(1))
            && let Notice::Output(b) = n
            && let Err(e) = tally.take(&b)
        {
            panic!("soak violation: {e}");
        }
    }
    let st = match c.call(Request::Status).unwrap() {
        Response::Status(s) => s,
        other => panic!("{other:?}"),
    };
    assert!(st.program.contains("running"), "{}", st.program);
    assert!(st.versions.len() <= 3, "live versions: {:?}", st.versions);
    let growth = baseline.map(|(b, bv)| {
        let now = usage(pup.pid());
        (
            (now.rss as i64 - b.rss as i64) / 1024,
            v - bv,
            now.fds as i64 - b.fds as i64,
            now.threads as i64 - b.threads as i64,
        )
    });
    eprintln!(
        "soak: done: {} updates in {:?}, {} output lines; peak {peak:?}; \
         since warm-up (RSS KiB, updates, fds, threads): {growth:?}",
        v - 1,
        started.elapsed(),
        tally.lines
    );
}
