//! `observe`: starting the observer (SPEC §5.6) and feeding it what the
//! shell sees. The state is refreshed from the pup (`status`, `stack`,
//! `history`) after every command and every notice that changes it; and,
//! while a page is open, every [`PENDING_EVERY`] while an update is
//! pending (`status`, `stack`) and every [`RUNNING_EVERY`] while the
//! program runs (`stack`). Nothing is asked unless an observer serves.

use std::time::{Duration, Instant};

use pup_client::proto::{Notice, Request, Response};

use super::{CmdResult, Shell};
use crate::observe::{DEFAULT_PORT, ObserveError, Observer};

/// How often the page's stack and pending groups are refreshed while an
/// update is pending.
const PENDING_EVERY: Duration = Duration::from_millis(150);
/// How often they are refreshed while the program runs.
const RUNNING_EVERY: Duration = Duration::from_secs(1);

/// The shell's side of a running observer.
pub(super) struct Watch {
    observer: Observer,
    /// Programs whose state changed since the page last learned it.
    dirty: std::collections::BTreeSet<String>,
    /// When each program was last refreshed.
    last: std::collections::HashMap<String, Instant>,
}

impl Watch {
    /// The state the page shows.
    pub(super) fn hub(&self) -> &crate::observe::Hub {
        &self.observer.hub
    }
}

impl Shell {
    /// `observe [--port N]`.
    pub(super) fn observe(&mut self, port: Option<u16>) -> CmdResult {
        if let Some(w) = &self.watch {
            return Err(ObserveError::AlreadyServing(w.observer.url.clone()).to_string());
        }
        let observer = Observer::start(port.unwrap_or(DEFAULT_PORT)).map_err(|e| e.to_string())?;
        let url = observer.url.clone();
        let hub = observer.hub.clone();
        let names: Vec<String> = self.conns.keys().cloned().collect();
        self.watch = Some(Watch {
            observer,
            dirty: names.iter().cloned().collect(),
            last: Default::default(),
        });
        hub.update(|o| o.on_current(self.current.as_deref()));
        for n in &names {
            if let Some(v) = self.conns[n].modules.keys().next_back().copied() {
                self.observe_load(n, v);
            }
        }
        let what = match &self.current {
            Some(p) => format!("program {p}"),
            None => "the programs this ush connects to".into(),
        };
        self.line(&format!(
            "Observer: a live page of {what} at {url} (for as long as this ush runs)"
        ));
        self.observe_tick();
        self.observe_fleet();
        Ok(())
    }

    /// After a command: the current program's state may have changed.
    pub(super) fn observe_command_done(&mut self) {
        let Some(w) = &mut self.watch else {
            return;
        };
        w.observer
            .hub
            .update(|o| o.on_current(self.current.as_deref()));
        if let Some(c) = &self.current
            && self.conns.contains_key(c)
        {
            w.dirty.insert(c.clone());
        }
    }

    /// Version `version` of `name` was loaded through this ush.
    pub(super) fn observe_load(&mut self, name: &str, version: u64) {
        let Some(w) = &mut self.watch else {
            return;
        };
        let Some(m) = self.conns.get(name).and_then(|c| c.modules.get(&version)) else {
            return;
        };
        let procs: Vec<(String, Vec<String>)> = m
            .procs
            .iter()
            .map(|p| (p.name.clone(), p.callees.clone()))
            .collect();
        w.observer
            .hub
            .update(|o| o.on_load(name, version, now_ms(), &procs));
        w.dirty.insert(name.to_string());
    }

    /// An update (or revert) of `name` began.
    pub(super) fn observe_update(
        &mut self,
        name: &str,
        info: &pup_client::proto::UpdateInfo,
        revert: bool,
    ) {
        if let Some(w) = &mut self.watch {
            w.observer
                .hub
                .update(|o| o.on_update_begun(name, now_ms(), info, revert));
            w.dirty.insert(name.to_string());
        }
    }

    /// A notice from `name`'s pup.
    pub(super) fn observe_notice(&mut self, name: &str, n: &Notice) {
        let Some(w) = &mut self.watch else {
            return;
        };
        let hub = &w.observer.hub;
        match n {
            Notice::Output(bytes) => {
                hub.update(|o| o.on_output(name, bytes));
                return;
            }
            Notice::OutputSkipped { bytes } => hub.update(|o| {
                o.on_output_note(
                    name,
                    &format!("[{bytes} bytes of program output skipped: this ush fell behind]"),
                )
            }),
            Notice::Exited { message, .. } => hub.update(|o| {
                o.on_output_note(name, &format!("[{}]", message.lines().next().unwrap_or("")))
            }),
            Notice::UpdateComplete(e) => hub.update(|o| o.on_update_ended(name, e)),
            Notice::GroupFailed { .. } | Notice::Carried { .. } => {}
            Notice::Trace(_) => return,
        }
        w.dirty.insert(name.to_string());
    }

    /// After a `fleet` or `rollout` command: every pup of the fleet, one
    /// row (and one timeline lane) each, named `NAME@HOST`.
    pub(super) fn observe_fleet(&mut self) {
        if self.watch.is_none() {
            return;
        }
        let rows = crate::fleet::observe(&mut self.fleet_ctx());
        if let Some(w) = &self.watch {
            crate::fleet::publish(&w.observer.hub, &rows);
        }
    }

    /// Refreshes what changed, and what runs, from the pups (called by
    /// `pump`).
    pub(super) fn observe_tick(&mut self) {
        let Some(w) = &mut self.watch else {
            return;
        };
        let names: Vec<String> = self.conns.keys().cloned().collect();
        for n in names {
            let c = &self.conns[&n];
            let since = w.last.get(&n).map(Instant::elapsed);
            let due = |every| since.is_none_or(|s| s >= every);
            let dirty = w.dirty.remove(&n);
            // Between events only a page that is open needs news, and
            // only a pending update changes committed versions.
            let watched = w.observer.hub.watched();
            let pending = watched && !c.pending.is_empty() && due(PENDING_EVERY);
            let running = watched && !c.exited && due(RUNNING_EVERY);
            if !dirty && !pending && !running {
                continue;
            }
            w.last.insert(n.clone(), Instant::now());
            let Some(c) = self.conns.get_mut(&n) else {
                continue;
            };
            let status = if dirty || pending {
                match c.link.call(Request::Status) {
                    Ok(Response::Status(s)) => Some(s),
                    _ => None,
                }
            } else {
                None
            };
            let stack = match c.link.call(Request::Stack) {
                Ok(Response::Stack(f)) => Some(f),
                _ => None,
            };
            // The journal only changes with what marks a program dirty.
            let history = if dirty {
                match c.link.call(Request::History) {
                    Ok(Response::History {
                        journal: pup_client::proto::JournalState::On(_),
                        rows,
                    }) => Some(rows),
                    _ => None,
                }
            } else {
                None
            };
            let host = c.host.clone();
            w.observer.hub.update(|o| {
                o.on_connect(&n, &host);
                if let Some(s) = &status {
                    o.on_status(&n, s);
                }
                if let Some(f) = &stack {
                    o.on_stack(&n, f);
                }
                if let Some(r) = &history {
                    o.on_history(&n, r);
                }
            });
        }
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}
