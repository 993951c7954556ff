//! Notices: program output, trace lines and update news that pups send
//! between replies. They are printed in the order they arrived, program
//! output by whole lines, between commands and while a command blocks.

use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use pup_client::proto::Notice;

use super::{CmdResult, Shell};
use crate::format;

/// Longest stretch of program output kept for `expect` (older text is dropped).
const EXPECT_KEEP: usize = 1 << 20;
/// How long a partial line of program output waits for its end before it
/// is shown anyway.
const PARTIAL_LINE_WAIT: Duration = Duration::from_secs(1);

impl Shell {
    /// Prints every notice that has arrived, from every connection, and
    /// notices connections that closed.
    pub(crate) fn pump(&mut self) {
        let names: Vec<String> = self.conns.keys().cloned().collect();
        for n in names {
            let Some(c) = self.conns.get_mut(&n) else {
                continue;
            };
            let notices = c.link.try_notices();
            let closed = c.link.is_closed();
            for x in notices {
                self.handle_notice(&n, x);
            }
            if closed {
                self.drop_conn(&n, "the pup closed the connection");
                continue;
            }
            if let Some(c) = self.conns.get(&n)
                && c.partial_since
                    .is_some_and(|t| t.elapsed() >= PARTIAL_LINE_WAIT)
            {
                self.flush_partial(&n);
            }
        }
        self.observe_tick();
    }

    /// Waits up to `max` for notices, printing them.
    pub(super) fn pump_wait(&mut self, max: Duration) {
        self.pump();
        let slice = if self.conns.len() > 1 {
            max.min(Duration::from_millis(20))
        } else {
            max.min(Duration::from_millis(100))
        };
        let key = self
            .current
            .clone()
            .filter(|c| self.conns.contains_key(c))
            .or_else(|| self.conns.keys().next().cloned());
        match key {
            Some(k) => {
                let n = self.conn(&k).link.recv_notice(slice);
                if let Some(n) = n {
                    self.handle_notice(&k, n);
                }
            }
            None => std::thread::sleep(slice),
        }
        self.pump();
    }

    pub(super) fn interrupted(&self) -> bool {
        self.interrupt.swap(false, Ordering::SeqCst)
    }

    /// Waits for `d`, printing notices meanwhile.
    pub(super) fn sleep(&mut self, d: Duration) -> CmdResult {
        let end = Instant::now() + d;
        loop {
            let now = Instant::now();
            if now >= end {
                return Ok(());
            }
            if self.interrupted() {
                return Err("sleep: interrupted".into());
            }
            self.pump_wait(end - now);
        }
    }

    pub(super) fn handle_notice(&mut self, name: &str, n: Notice) {
        self.observe_notice(name, &n);
        let many = self.many();
        let tag = format::tag(name, many);
        let Some(c) = self.conns.get_mut(name) else {
            return;
        };
        match n {
            Notice::Output(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                c.expect_buf.push_str(&text);
                if c.expect_buf.len() > EXPECT_KEEP {
                    let cut = c.expect_buf.len() - EXPECT_KEEP / 2;
                    let cut = (cut..c.expect_buf.len())
                        .find(|&i| c.expect_buf.is_char_boundary(i))
                        .unwrap_or(c.expect_buf.len());
                    c.expect_buf.drain(..cut);
                }
                // Whole lines go out at once (a notice may hold thousands);
                // the tail after the last newline waits for its end.
                let Some(last_nl) = bytes.iter().rposition(|&b| b == b'\n') else {
                    c.partial.extend_from_slice(&bytes);
                    c.partial_since = c.partial_since.or(Some(Instant::now()));
                    return;
                };
                let mut whole = std::mem::take(&mut c.partial);
                whole.extend_from_slice(&bytes[..=last_nl]);
                c.partial.extend_from_slice(&bytes[last_nl + 1..]);
                c.partial_since = if c.partial.is_empty() {
                    None
                } else {
                    Some(Instant::now())
                };
                let text = String::from_utf8_lossy(&whole);
                if tag.is_empty() {
                    self.sink.out(&text);
                } else {
                    let mut out = String::with_capacity(text.len() + 64);
                    for line in text.split_inclusive('\n') {
                        out.push_str(&tag);
                        out.push_str(line);
                    }
                    self.sink.out(&out);
                }
            }
            Notice::OutputSkipped { .. } => {
                let lines = format::notice_lines(name, &n, &c.order).unwrap_or_default();
                // The notice stands on its own line, after what came before.
                self.flush_partial(name);
                let lines = lines.into_iter().map(|l| format!("{tag}{l}")).collect();
                self.lines(lines);
            }
            Notice::UpdateComplete(ref e) => {
                c.pending.remove(&e.to);
                let lines = format::notice_lines(name, &n, &c.order).unwrap_or_default();
                // What `abort` abandoned is what the user asked for: only
                // the other ways an update falls short make `wait` fail.
                if format::ending_fails(e)
                    && !c.judged.contains(&e.id)
                    && !c.unsuccessful.iter().any(|u| u.id == e.id)
                {
                    c.unsuccessful.push(e.clone());
                }
                self.lines(lines);
            }
            Notice::Exited { .. } => {
                c.exited = true;
                let lines = format::notice_lines(name, &n, &c.order).unwrap_or_default();
                self.flush_partial(name);
                self.lines(lines);
            }
            Notice::Trace(_) | Notice::GroupFailed { .. } | Notice::Carried { .. } => {
                let lines = format::notice_lines(name, &n, &c.order).unwrap_or_default();
                let lines = lines.into_iter().map(|l| format!("{tag}{l}")).collect();
                self.lines(lines);
            }
        }
    }

    pub(super) fn flush_partial(&mut self, name: &str) {
        let tag = format::tag(name, self.many());
        if let Some(c) = self.conns.get_mut(name)
            && !c.partial.is_empty()
        {
            let text = format!("{tag}{}\n", String::from_utf8_lossy(&c.partial));
            c.partial.clear();
            c.partial_since = None;
            self.sink.out(&text);
        }
    }

    pub(super) fn refresh_names(&mut self) {
        let mut names: Vec<String> = match self.current.as_ref().and_then(|c| self.conns.get(c)) {
            Some(c) => {
                let mut v: Vec<String> =
                    c.order.iter().filter(|n| !n.is_empty()).cloned().collect();
                for m in c.modules.values() {
                    v.extend(m.procs.iter().map(|p| p.name.clone()));
                }
                v
            }
            None => Vec::new(),
        };
        names.sort();
        names.dedup();
        *self.names.lock().unwrap_or_else(|e| e.into_inner()) = names;
    }
}
