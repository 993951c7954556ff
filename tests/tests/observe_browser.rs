//! The observer's page in a real browser (SPEC §5.6): headless Chromium,
//! driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`:
//! JSON messages ended by NUL on fds 3 and 4, so no WebSocket client is
//! needed), opens the page of a `ush --local` running the pizza program,
//! ush runs the `.sd` update, and the DOM must show the procedures reach
//! version 2 and the update's pause, without a reload and with no console
//! error. Screenshots are saved as `target/observe-pizza-waiting.png` (the
//! group waiting) and `target/observe-pizza.png` (version 2).
//!
//! Without `chromium` the test is skipped, except under CI=true, where it
//! fails (`.ci/run` installs Debian's `chromium`).

use std::io::{BufRead, BufReader, Write};
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use podus_tests::{Daemon, Env, bin_dir, eventually, have_tool, in_ci, repo};
use serde_json::{Value, json};

const LIMIT: Duration = Duration::from_secs(60);

/// Messages from the browser, and a condition variable for waiters.
type Inbox = Arc<(Mutex<Vec<Value>>, Condvar)>;

/// A headless Chromium and one page of it, on the DevTools pipe.
struct Browser {
    child: Child,
    to: std::io::PipeWriter,
    inbox: Inbox,
    next: u64,
    session: Option<String>,
    _profile: tempfile::TempDir,
}

impl Browser {
    fn start() -> Browser {
        let profile = tempfile::tempdir().unwrap();
        let (their_in, to) = std::io::pipe().unwrap();
        let (from, their_out) = std::io::pipe().unwrap();
        let (a, b) = (their_in.as_raw_fd(), their_out.as_raw_fd());
        let mut c = Command::new("chromium");
        c.args([
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--remote-debugging-pipe",
            "--window-size=1280,1600",
            "about:blank",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
        // SAFETY: between fork and exec only async-signal-safe calls
        // (fcntl, dup2) on descriptors this process owns: the pipe ends
        // are moved above 9 first so that placing one at 3 or 4 cannot
        // overwrite the other.
        unsafe {
            c.pre_exec(move || {
                let a2 = libc::fcntl(a, libc::F_DUPFD, 10);
                let b2 = libc::fcntl(b, libc::F_DUPFD, 10);
                if a2 < 0 || b2 < 0 || libc::dup2(a2, 3) < 0 || libc::dup2(b2, 4) < 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
        let child = c.spawn().expect("start chromium");
        drop(their_in);
        drop(their_out);
        let inbox: Inbox = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        let sink = inbox.clone();
        std::thread::spawn(move || {
            let mut r = BufReader::new(from);
            let mut buf = Vec::new();
            while r.read_until(0, &mut buf).is_ok_and(|n| n > 0) {
                if buf.last() == Some(&0) {
                    buf.pop();
                }
                if let Ok(v) = serde_json::from_slice::<Value>(&buf) {
                    let (m, cv) = &*sink;
                    m.lock().unwrap().push(v);
                    cv.notify_all();
                }
                buf.clear();
            }
        });
        let mut b = Browser {
            child,
            to,
            inbox,
            next: 0,
            session: None,
            _profile: profile,
        };
        let target = b.call("Target.createTarget", json!({"url": "about:blank"}));
        let id = target["targetId"]
            .as_str()
            .expect("a target id")
            .to_string();
        let attached = b.call(
            "Target.attachToTarget",
            json!({"targetId": id, "flatten": true}),
        );
        b.session = Some(
            attached["sessionId"]
                .as_str()
                .expect("a session")
                .to_string(),
        );
        for m in ["Runtime.enable", "Log.enable", "Page.enable"] {
            b.call(m, json!({}));
        }
        b
    }

    /// Sends a command (to the page once attached) and waits for its answer.
    fn call(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let id = self.next;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = &self.session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.to.write_all(&bytes).expect("write to chromium");
        let end = Instant::now() + LIMIT;
        let (m, cv) = &*self.inbox;
        let mut g = m.lock().unwrap();
        loop {
            if let Some(v) = g.iter().find(|v| v["id"] == id) {
                assert!(v.get("error").is_none(), "{method}: {v}");
                return v["result"].clone();
            }
            let now = Instant::now();
            assert!(now < end, "chromium did not answer {method}");
            g = cv.wait_timeout(g, end - now).unwrap().0;
        }
    }

    /// The value of a JavaScript expression in the page.
    fn eval(&mut self, expr: &str) -> Value {
        let r = self.call(
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true}),
        );
        assert!(r.get("exceptionDetails").is_none(), "{expr}: {r}");
        r["result"]["value"].clone()
    }

    /// Console errors, uncaught exceptions and error log entries so far.
    fn errors(&self) -> Vec<String> {
        let g = self.inbox.0.lock().unwrap();
        g.iter()
            .filter(|v| {
                let m = v["method"].as_str().unwrap_or("");
                (m == "Runtime.consoleAPICalled" && v["params"]["type"] == "error")
                    || m == "Runtime.exceptionThrown"
                    || (m == "Log.entryAdded" && v["params"]["entry"]["level"] == "error")
            })
            .map(Value::to_string)
            .collect()
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Standard base64, as CDP sends screenshots.
fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0);
    for v in s.bytes().filter_map(val) {
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

/// Saves a screenshot of the whole page as `target/NAME`.
fn shoot(b: &mut Browser, name: &str) {
    let shot = b.call(
        "Page.captureScreenshot",
        json!({"format": "png", "captureBeyondViewport": true}),
    );
    let png = base64_decode(shot["data"].as_str().expect("screenshot data"));
    assert!(png.starts_with(b"\x89PNG"), "not a PNG");
    let path = bin_dir().parent().expect("target dir").join(name);
    std::fs::write(&path, &png).expect("save the screenshot");
    eprintln!("observe_browser: screenshot in {}", path.display());
}

fn say(stdin: &mut ChildStdin, lines: &str) {
    stdin
        .write_all(lines.as_bytes())
        .expect("ush reads its stdin");
    stdin.flush().unwrap();
}

#[test]
fn the_page_shows_version_2_and_the_pause_in_chromium() {
    if !have_tool("chromium", "--version") {
        assert!(
            !in_ci(),
            "chromium is not installed: .ci/run installs it (apt-get install chromium)"
        );
        eprintln!("skipped: chromium is not installed");
        return;
    }
    let env = Env::new();
    let mut c = env.command("ush");
    c.args(["--local", "--color", "never"])
        .current_dir(repo().join("samples/pizza"))
        .env(vm::HOLD_ENV, "Fahrenheit for pizza 2");
    let (mut ush, mut stdin) = Daemon::spawn_with_stdin("ush", c);
    say(
        &mut stdin,
        "program pizza\nconnect --fresh\nobserve --port 0\nload 1 pizza1.uc\nload 2 pizza2.uc\nrun\nexpect \"Fahrenheit for pizza 2\"\n",
    );
    let line = ush.wait_line(|l| l.starts_with("Observer: "), LIMIT);
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .expect("a URL")
        .to_string();

    let mut b = Browser::start();
    b.call("Page.navigate", json!({"url": url}));
    // The page fills itself in: version 1 running, pizza 2 held.
    eventually("the page to show version 1", LIMIT, || {
        let v = b.eval(
            "document.querySelector('#graph .node[data-name=\"do_pizza\"]')?.dataset.version ?? null",
        );
        (v == "1").then_some(())
    });
    ush.wait_line(
        |l| l.contains("oven pre-heated to 400 degrees Fahrenheit for pizza 2"),
        LIMIT,
    );
    b.eval("window.__notReloaded = true");
    say(
        &mut stdin,
        "update pizza2.changes.sd\nwait --timeout 30s\nsleep 2s\n",
    );
    // First the group waits for do_pizza, then all four reach version 2.
    eventually(
        "the page to show the group waiting for do_pizza",
        LIMIT,
        || {
            let t = b.eval("document.getElementById('pending').textContent");
            t.as_str()
                .is_some_and(|t| t.contains("waits for do_pizza"))
                .then_some(())
        },
    );
    shoot(&mut b, "observe-pizza-waiting.png");
    let shown = eventually("the page to show version 2 and the pause", LIMIT, || {
        let v = b.eval(
            "(() => {
                const names = ['do_pizza', 'set_oven_temp', 'mix_ingredients', 'bake_pizza'];
                const two = names.every(n => document.querySelector(`#graph .node[data-name=\"${n}\"]`)?.dataset.version === '2');
                const u = document.querySelector('#timeline .ev.Update .pause');
                return two && u ? u.textContent : null;
            })()",
        );
        v.as_str().map(str::to_string)
    });
    assert!(shown.starts_with("program paused "), "{shown}");
    // The finished update reads as finished, not as the journal's first
    // (`pending`) row of it.
    let row = eventually("the update's row to say complete", LIMIT, || {
        let v = b.eval("document.querySelector('#timeline .ev.Update')?.textContent ?? ''");
        v.as_str()
            .filter(|t| t.contains("complete"))
            .map(str::to_string)
    });
    assert!(!row.contains("pending"), "{row}");
    assert_eq!(
        b.eval("window.__notReloaded === true"),
        true,
        "the page reloaded"
    );
    assert_eq!(
        b.eval("document.getElementById('live').textContent"),
        "live"
    );
    let out = b.eval("document.getElementById('output').textContent");
    assert!(
        out.as_str().is_some_and(|o| o.contains("pizza number 2")),
        "{out}"
    );

    shoot(&mut b, "observe-pizza.png");

    // The search box marks the procedures whose names match.
    b.eval(
        "(() => { const s = document.getElementById('search'); s.value = 'bake'; \
         s.dispatchEvent(new Event('input')); })()",
    );
    eventually("the search to mark bake_pizza", LIMIT, || {
        let v = b.eval(
            "[...document.querySelectorAll('#graph .node.match')].map(n => n.dataset.name).join(' ')",
        );
        (v == "bake_pizza").then_some(())
    });

    let errors = b.errors();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    drop(b);
    say(&mut stdin, "stop\nquit\n");
    drop(stdin);
    assert_eq!(ush.wait_exit(LIMIT), Some(0), "{}", ush.output());
}
