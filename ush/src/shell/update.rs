//! `update`, `wait`, `expect` and `abort`: starting updates, waiting for
//! them (and for program output), and abandoning them.

use std::time::{Duration, Instant};

use pup_client::proto::{Request, Response, UpdateSpec};

use super::{CmdResult, Shell};
use crate::format;
use crate::parse::UpdateTarget;

/// How long `wait` keeps listening for a completion notice after the pup
/// said nothing is pending (the notice travels separately from the reply).
const COMPLETION_GRACE: Duration = Duration::from_secs(3);
/// How often `wait` asks the pup directly while it listens for notices.
const SAFETY_CHECK: Duration = Duration::from_secs(5);
/// Default bound of `expect`.
const EXPECT_TIMEOUT: Duration = Duration::from_secs(60);

impl Shell {
    pub(super) fn update(
        &mut self,
        target: Option<UpdateTarget>,
        within: Option<Duration>,
        atomic: bool,
        strict: bool,
    ) -> CmdResult {
        let name = self.connected()?;
        let mut spec = UpdateSpec::default();
        match target {
            Some(UpdateTarget::Version(v)) => spec.to = Some(v),
            Some(UpdateTarget::Changes(f)) if f.ends_with(".uc") => {
                return Err(format!(
                    "update: {f} is a UC source file, not a changes file; nothing was updated \
                     (load it first: `load V {f}`, then `update V`)"
                ));
            }
            Some(UpdateTarget::Changes(f)) => {
                let path = self.resolve(&f);
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| format!("update: cannot read {}: {e}", path.display()))?;
                let cf = match compiler::changes::parse(&f, &text) {
                    Ok(cf) => cf,
                    Err(d) => {
                        let rendered = d.render(&f, &text, self.settings.color);
                        self.sink.err(&rendered);
                        return Err(format!(
                            "update: {f} is not a valid changes file; nothing was updated"
                        ));
                    }
                };
                apply_changes(&mut spec, cf);
            }
            None => {}
        }
        if let Some(w) = within {
            spec.within_ms = Some(w.as_millis() as u64);
        }
        spec.atomic |= atomic;
        spec.strict |= strict;
        let info = match self.call(Request::Update(spec))? {
            Response::UpdateBegun(info) => info,
            Response::WouldReset(rows) => return Err(format::would_reset(&rows)),
            r => return Err(Self::unexpected(r)),
        };
        self.update_begun(&name, info, "update")
    }

    /// What `update` (and `revert`) print once an update has begun, and
    /// its completion when it completed at once.
    pub(super) fn update_begun(
        &mut self,
        name: &str,
        info: pup_client::proto::UpdateInfo,
        cmd: &str,
    ) -> CmdResult {
        let name = name.to_string();
        self.observe_update(&name, &info, cmd == "revert");
        let c = self.conn(&name);
        // The pup announces completion (even an immediate one) with a
        // notice; `wait` listens for it.
        c.pending.insert(info.to);
        let lines = format::update_lines(&name, &info, &c.order);
        self.lines(lines);
        if info.complete {
            // Nothing is left pending: the completion notice is on its way.
            // Print its summary here, as `wait` would, and fail as `wait`
            // would when the update applied only part or nothing.
            let deadline = Instant::now() + COMPLETION_GRACE;
            let to = info.to;
            while self
                .conns
                .get(&name)
                .is_some_and(|c| c.pending.contains(&to))
                && Instant::now() < deadline
            {
                self.pump_wait(deadline - Instant::now());
            }
            return self.take_unsuccessful(&name, cmd);
        }
        Ok(())
    }

    /// Fails (once) for every update that ended partial or with nothing
    /// applied since the last `update` or `wait` said so.
    pub(super) fn take_unsuccessful(&mut self, name: &str, cmd: &str) -> CmdResult {
        let Some(c) = self.conns.get_mut(name) else {
            return Ok(());
        };
        if c.unsuccessful.is_empty() {
            return Ok(());
        }
        let ended = std::mem::take(&mut c.unsuccessful);
        c.judged.extend(ended.iter().map(|e| e.id));
        let what: Vec<String> = ended
            .iter()
            .map(|e| {
                let line = format::ended_summary(name, e, &c.order);
                match e.ending {
                    pup_client::proto::Ending::Partial => {
                        format!("{line}; ({})", format::PARTIAL_HINT)
                    }
                    _ => line,
                }
            })
            .collect();
        Err(format!("{cmd}: {}", what.join("; ")))
    }

    /// `wait`: until no update is pending.
    ///
    /// Updates this ush knows of (begun here, or pending when it connected)
    /// end with a completion notice, so those are awaited by listening —
    /// which keeps program output flowing and sends the pup nothing (each
    /// request would add an `INTERRUPT!` line to its trace). A rare
    /// `Wait { 0 }` guards against a notice that never comes. With none
    /// known, the pup is asked directly, one second at a time so that
    /// Ctrl-C can end the wait.
    pub(super) fn wait(&mut self, timeout: Option<Duration>) -> CmdResult {
        let name = self.connected()?;
        let deadline = timeout.map(|t| Instant::now() + t);
        let timed_out = |what: &str| {
            format!(
                "wait: {what} of program {name} is still pending after {:?}",
                timeout.unwrap_or_default()
            )
        };
        let known = |sh: &Shell| sh.conns.get(&name).is_some_and(|c| !c.pending.is_empty());
        if known(self) {
            let mut last_check = Instant::now();
            while known(self) {
                if self.interrupted() {
                    return Err("wait: interrupted".into());
                }
                let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
                if left == Some(Duration::ZERO) {
                    return Err(timed_out("an update"));
                }
                self.pump_wait(
                    left.unwrap_or(Duration::MAX)
                        .min(Duration::from_millis(100)),
                );
                if known(self) && last_check.elapsed() >= SAFETY_CHECK {
                    last_check = Instant::now();
                    if let Response::Waited { done: true, .. } =
                        self.call(Request::Wait { timeout_ms: 0 })?
                    {
                        // Done, but its notice is late: give it a moment.
                        let grace = Instant::now() + COMPLETION_GRACE;
                        while known(self) && Instant::now() < grace {
                            self.pump_wait(grace - Instant::now());
                        }
                        if let Some(c) = self.conns.get_mut(&name) {
                            c.pending.clear();
                        }
                    }
                }
            }
            return self.take_unsuccessful(&name, "wait");
        }
        // The pup says how each update that ended meanwhile ended, whoever
        // began it; its completion notice may come later or not at all.
        let mut ended = Vec::new();
        loop {
            if self.interrupted() {
                return Err("wait: interrupted".into());
            }
            let slice = deadline
                .map(|d| d.saturating_duration_since(Instant::now()))
                .unwrap_or(Duration::MAX)
                .min(Duration::from_secs(1));
            let done = match self.call(Request::Wait {
                timeout_ms: slice.as_millis() as u64,
            })? {
                Response::Waited { done, ended: e } => {
                    ended.extend(e);
                    done
                }
                r => return Err(Self::unexpected(r)),
            };
            if done {
                break;
            }
            self.pump();
            if deadline.is_some_and(|d| Instant::now() >= d) {
                return Err(timed_out("an update begun elsewhere"));
            }
        }
        // Show the completion notice before the script goes on.
        self.pump_wait(Duration::from_millis(200));
        if let Some(c) = self.conns.get_mut(&name) {
            for e in &ended {
                if format::ending_fails(e)
                    && !c.judged.contains(&e.id)
                    && !c.unsuccessful.iter().any(|u| u.id == e.id)
                {
                    c.unsuccessful.push(e.clone());
                }
                c.judged.insert(e.id);
            }
        }
        self.take_unsuccessful(&name, "wait")
    }

    pub(super) fn expect(&mut self, pattern: &str, timeout: Option<Duration>) -> CmdResult {
        let name = self.connected()?;
        if !self.conn(&name).output {
            return Err(format!(
                "expect: output of program {name} is not streamed here (use `output on` first)"
            ));
        }
        let limit = timeout.unwrap_or(EXPECT_TIMEOUT);
        let end = Instant::now() + limit;
        loop {
            if let Some(c) = self.conns.get_mut(&name) {
                if let Some(pos) = c.expect_buf.find(pattern) {
                    c.expect_buf.drain(..pos + pattern.len());
                    return Ok(());
                }
                if c.exited {
                    return Err(format!(
                        "expect: program {name} ended without printing {pattern:?}"
                    ));
                }
            } else {
                return Err(format!("expect: the connection to program {name} was lost"));
            }
            let now = Instant::now();
            if now >= end {
                return Err(format!(
                    "expect: program {name} did not print {pattern:?} within {limit:?}"
                ));
            }
            if self.interrupted() {
                return Err("expect: interrupted".into());
            }
            self.pump_wait(end - now);
        }
    }

    /// `abort`: abandons every pending group of the current program.
    pub(super) fn abort(&mut self) -> CmdResult {
        let name = self.connected()?;
        match self.call(Request::Abort)? {
            Response::Aborted { groups } => {
                self.line(&format!(
                    "Abandoned {groups} pending group{} of program {name}",
                    if groups == 1 { "" } else { "s" }
                ));
                Ok(())
            }
            r => Err(Self::unexpected(r)),
        }
    }
}

/// What a changes file asks of an update, as the pup's `UpdateSpec` says it
/// (`update CHANGES` and `rollout update CHANGES` alike).
pub(crate) fn apply_changes(spec: &mut UpdateSpec, cf: compiler::changes::ChangesFile) {
    if let Some((a, b)) = cf.update {
        spec.from = Some(a);
        spec.to = Some(b);
    }
    spec.changed = cf.changed;
    spec.together = cf.together;
    spec.within_ms = cf.within.map(|d| d.as_millis() as u64);
    spec.atomic = cf.atomic;
    spec.strict = cf.strict;
}
