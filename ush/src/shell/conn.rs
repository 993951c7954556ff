//! Connections: one per program name, the current one, and what ush knows
//! about each program (its versions, modules, procedure order, pending
//! updates). A connection that breaks is dropped with a message.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Instant;

use compiler::diff::Summary;
use compiler::ir::Module;
use pup_client::proto::{Request, Response};

use super::{CmdResult, Shell};
use crate::format;
use crate::link::Link;

/// One connection to a pup, and what ush knows about its program.
pub(super) struct Conn {
    pub(super) link: Box<dyn Link>,
    pub(super) host: String,
    pub(super) output: bool,
    /// Program output after the last newline.
    pub(super) partial: Vec<u8>,
    pub(super) partial_since: Option<Instant>,
    /// Program output since the last `expect` matched.
    pub(super) expect_buf: String,
    /// Modules loaded through this ush, for `compile_update` of later
    /// versions: without procedure bodies (the pup has them), which a large
    /// program cannot afford to keep twice.
    pub(super) modules: BTreeMap<u64, Arc<Module>>,
    /// What `diff` compares of each module in `modules` (the bodies'
    /// normalized code among it).
    pub(super) summaries: BTreeMap<u64, Arc<Summary>>,
    /// Versions the pup holds.
    pub(super) versions: BTreeSet<u64>,
    /// Procedure names by ID (stable across versions).
    pub(super) order: Vec<String>,
    /// Update targets whose completion has not been announced yet.
    pub(super) pending: BTreeSet<u64>,
    /// The program ended since it was last started.
    pub(super) exited: bool,
    /// Summaries of updates that ended partial or with nothing applied and
    /// that no `update` or `wait` has reported as a failure yet, by
    /// update id.
    pub(super) unsuccessful: Vec<pup_client::proto::UpdateEnded>,
    /// Updates whose ending an `update` or `wait` has already taken into
    /// account (their late notices only print).
    pub(super) judged: BTreeSet<u64>,
}

impl Conn {
    pub(super) fn learn_order(&mut self, procs: impl IntoIterator<Item = (u32, String)>) {
        for (id, name) in procs {
            let id = id as usize;
            if id < 1 << 20 {
                if self.order.len() <= id {
                    self.order.resize(id + 1, String::new());
                }
                self.order[id] = name;
            }
        }
    }
}

impl Shell {
    pub(super) fn program(&self) -> Result<String, String> {
        self.current
            .clone()
            .ok_or_else(|| "no current program (choose one with `program NAME`)".to_string())
    }

    /// The current program's name, if it is connected.
    pub(super) fn connected(&self) -> Result<String, String> {
        let p = self.program()?;
        if self.conns.contains_key(&p) {
            Ok(p)
        } else {
            Err(format!(
                "not connected to a pup for program {p} (use `connect [HOST]`)"
            ))
        }
    }

    pub(super) fn conn(&mut self, name: &str) -> &mut Conn {
        self.conns.get_mut(name).expect("checked by connected()")
    }

    /// Sends `req` to the current program's pup; a refusal becomes an error.
    pub(super) fn call(&mut self, req: Request) -> Result<Response, String> {
        let name = self.connected()?;
        let c = self.conn(&name);
        let r = c.link.call(req);
        let closed = c.link.is_closed();
        match r {
            Ok(Response::Error(e)) => Err(e),
            Ok(r) => Ok(r),
            Err(e) if closed => {
                self.drop_conn(&name, &e);
                Err(format!(
                    "lost the connection to the pup for program {name}: {e}"
                ))
            }
            Err(e) => Err(e),
        }
    }

    pub(super) fn drop_conn(&mut self, name: &str, why: &str) {
        // Whatever the pup said before it went away is still worth showing.
        if let Some(c) = self.conns.get_mut(name) {
            let ns = c.link.try_notices();
            for n in ns {
                self.handle_notice(name, n);
            }
        }
        self.flush_partial(name);
        if let Some(c) = self.conns.remove(name) {
            let msg = format!(
                "Connection to pup for program {name} on host {} lost ({why}); its pup keeps its state if it still runs",
                c.host
            );
            self.sink.err(&format!("{msg}\n"));
        }
    }

    pub(super) fn unexpected(r: Response) -> String {
        format!("unexpected answer from the pup: {r:?}")
    }

    pub(super) fn many(&self) -> bool {
        self.conns.len() > 1
    }

    pub(super) fn connect(&mut self, host: Option<&str>, fresh: bool) -> CmdResult {
        let name = self.program()?;
        if let Some(c) = self.conns.get(&name) {
            if !c.link.is_closed() {
                let h = c.host.clone();
                self.line(&format!(
                    "Already connected to pup for program {name} on host {h}"
                ));
                return Ok(());
            }
            self.drop_conn(&name, "the pup closed the connection");
        }
        let debug = self.settings.debug;
        let connected = self.connector.connect(&name, host, debug, fresh)?;
        let mut link = connected.link;
        let info = match link.call(Request::Info)? {
            Response::Info(i) => i,
            Response::Error(e) => return Err(e),
            r => return Err(Self::unexpected(r)),
        };
        let mut conn = Conn {
            link,
            host: info.host.clone(),
            output: false,
            partial: Vec::new(),
            partial_since: None,
            expect_buf: String::new(),
            modules: BTreeMap::new(),
            summaries: BTreeMap::new(),
            versions: info.versions.iter().copied().collect(),
            order: Vec::new(),
            pending: BTreeSet::new(),
            exited: false,
            unsuccessful: Vec::new(),
            judged: BTreeSet::new(),
        };
        if connected.started {
            self.line(&format!(
                "Started a pup for program {name} on this host (ush --local)"
            ));
        }
        self.lines(format::connect_lines(&info));
        if !info.fresh {
            // What the pup holds: procedure IDs (so lists come out in the
            // program's order) and pending updates (so `wait` knows to
            // expect their completion).
            if let Ok(Response::Status(s)) = conn.link.call(Request::Status) {
                conn.learn_order(s.bindings.iter().map(|b| (b.id, b.name.clone())));
                conn.pending.extend(s.pending.iter().map(|p| p.to));
            }
        }
        // Under --local the program's output is this terminal's by default,
        // until the user turns it off: a reconnect keeps their choice.
        let on = self
            .output_choice
            .get(&name)
            .copied()
            .unwrap_or(connected.local);
        if on {
            conn.link.call(Request::Output { on: true })?;
            conn.output = true;
        }
        if debug {
            conn.link.call(Request::Debug { on: true })?;
        }
        self.conns.insert(name, conn);
        Ok(())
    }

    /// `disconnect`: closes the current program's connection; its pup
    /// keeps its state.
    pub(super) fn disconnect(&mut self) -> CmdResult {
        let name = self.connected()?;
        self.pump();
        self.flush_partial(&name);
        let c = self.conns.remove(&name).expect("connected");
        let host = c.host.clone();
        c.link.close();
        self.line(&format!(
            "Disconnected from pup for program {name} on host {host}; it keeps its state"
        ));
        Ok(())
    }
}
