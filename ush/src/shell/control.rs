//! Controlling the running program: `run`, `stop`, `output`, `debug`.

use std::time::{Duration, Instant};

use pup_client::proto::{Request, Response};

use super::{CmdResult, Shell};

impl Shell {
    /// `run [V]`: starts the program.
    pub(super) fn run_program(&mut self, v: Option<u64>) -> CmdResult {
        let name = self.connected()?;
        match self.call(Request::Run { version: v })? {
            Response::Running { .. } => {
                let c = self.conn(&name);
                c.exited = false;
                self.line(&format!("Program {name} is now running"));
                Ok(())
            }
            r => Err(Self::unexpected(r)),
        }
    }

    /// `stop`: stops the program and shows its end.
    pub(super) fn stop(&mut self) -> CmdResult {
        let name = self.connected()?;
        self.call(Request::Stop)?;
        // The pup announces the end itself; show it before going on.
        let end = Instant::now() + Duration::from_secs(3);
        while Instant::now() < end && self.conns.get(&name).is_some_and(|c| !c.exited) {
            self.pump_wait(end - Instant::now());
        }
        if self.conns.get(&name).is_some_and(|c| !c.exited) {
            self.line(&format!("Program {name} stopped"));
        }
        Ok(())
    }

    /// `output on|off`: whether program output streams here.
    pub(super) fn output(&mut self, on: bool) -> CmdResult {
        let name = self.connected()?;
        self.call(Request::Output { on })?;
        if !on {
            // Output the pup queued before its reply was still on: show it
            // before saying it is off (the reply is read before the
            // notices that preceded it are handled).
            let before = self.conn(&name).link.try_notices();
            for n in before {
                self.handle_notice(&name, n);
            }
            self.flush_partial(&name);
        }
        self.conn(&name).output = on;
        self.output_choice.insert(name.clone(), on);
        self.line(&format!(
            "Output of program {name} is {} streamed to this terminal",
            if on { "now" } else { "no longer" }
        ));
        Ok(())
    }

    /// `debug on|off`: the pup's debug trace, now and for later connections.
    pub(super) fn debug(&mut self, on: bool) -> CmdResult {
        self.settings.debug = on;
        match self.connected() {
            Ok(name) => {
                self.call(Request::Debug { on })?;
                self.line(&format!(
                    "Debug trace of program {name} is now {}",
                    if on { "on" } else { "off" }
                ));
            }
            Err(_) => self.line(&format!(
                "Debug trace is now {} for pups connected from now on",
                if on { "on" } else { "off" }
            )),
        }
        Ok(())
    }
}
