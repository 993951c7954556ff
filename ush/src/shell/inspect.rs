//! Looking at a program: `status`, `versions`, `procs`, `stack`, `addr`,
//! `delta` and `graph`.

use std::io::Write;
use std::path::Path;

use pup_client::proto::{Request, Response};

use super::{CmdResult, Shell};
use crate::format;
use crate::parse::{Command, GraphOut};

impl Shell {
    /// `delta`: a block of δ* from the pup, or one procedure's row.
    pub(super) fn delta_view(
        &mut self,
        version: Option<u64>,
        at: (u32, u32),
        of: Option<String>,
    ) -> CmdResult {
        let name = self.connected()?;
        let spec = pup_client::proto::DeltaViewSpec {
            version,
            row: at.0,
            col: at.1,
            size: crate::delta_view::SHOWN,
            of: of.clone(),
        };
        match self.call(Request::DeltaView(spec))? {
            Response::DeltaView(v) => {
                self.lines(crate::delta_view::lines(&name, &v, of.as_deref()));
                Ok(())
            }
            r => Err(Self::unexpected(r)),
        }
    }

    pub(super) fn graph(&mut self, version: Option<u64>, out: GraphOut) -> CmdResult {
        let dot = match self.call(Request::Graph { version })? {
            Response::Graph { dot } => dot,
            r => return Err(Self::unexpected(r)),
        };
        match out {
            GraphOut::Print => {
                self.print(&dot);
                if !dot.ends_with('\n') {
                    self.print("\n");
                }
            }
            GraphOut::Dot(f) => {
                let path = self.resolve(&f);
                std::fs::write(&path, dot)
                    .map_err(|e| format!("graph: cannot write {}: {e}", path.display()))?;
                self.line(&format!("call graph written to {f}"));
            }
            GraphOut::Svg(f) => {
                let path = self.resolve(&f);
                render_svg(&dot, &path)?;
                self.line(&format!("call graph rendered to {f}"));
            }
        }
        Ok(())
    }

    /// `status`, `versions` and `procs [NAME...]`: what the pup holds.
    pub(super) fn status(&mut self, cmd: &Command) -> CmdResult {
        let name = self.connected()?;
        let host = self.conn(&name).host.clone();
        match self.call(Request::Status)? {
            Response::Status(s) => {
                let c = self.conn(&name);
                c.learn_order(s.bindings.iter().map(|b| (b.id, b.name.clone())));
                c.versions.extend(s.versions.iter().map(|v| v.version));
                let lines = match cmd {
                    Command::Status => format::status_lines(&name, &host, &s),
                    Command::Versions => format::versions_lines(&s),
                    Command::Procs(only) => {
                        if let Some(n) = only
                            .iter()
                            .find(|n| !s.bindings.iter().any(|b| &b.name == *n))
                        {
                            return Err(format!("procs: program {name} has no procedure {n}"));
                        }
                        let mut s = s.clone();
                        if !only.is_empty() {
                            s.bindings.retain(|b| only.contains(&b.name));
                        }
                        format::procs_lines(&s)
                    }
                    _ => unreachable!("status is run for status, versions and procs"),
                };
                self.lines(lines);
                Ok(())
            }
            r => Err(Self::unexpected(r)),
        }
    }

    /// `stack`: the program's stack, innermost first.
    pub(super) fn stack(&mut self) -> CmdResult {
        let name = self.connected()?;
        match self.call(Request::Stack)? {
            Response::Stack(frames) => {
                self.lines(format::stack_lines(&name, &frames));
                Ok(())
            }
            r => Err(Self::unexpected(r)),
        }
    }

    /// `addr A`: what an address of the pup's space holds.
    pub(super) fn addr(&mut self, a: u64) -> CmdResult {
        let name = self.connected()?;
        match self.call(Request::Addr { addr: a })? {
            Response::Addr { decoded: Some(d) } => {
                self.line(&format!("{a:#x} = {d}"));
                Ok(())
            }
            Response::Addr { decoded: None } => Err(format!(
                "{a:#x} is not an address in pup {name}'s address space"
            )),
            r => Err(Self::unexpected(r)),
        }
    }
}

/// Renders DOT to SVG with Graphviz's `dot`.
fn render_svg(dot: &str, path: &Path) -> CmdResult {
    use std::process::{Command as Proc, Stdio};
    let mut child = Proc::new("dot")
        .arg("-Tsvg")
        .arg("-o")
        .arg(path)
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                "graph --svg needs Graphviz's `dot`, which is not installed (install graphviz, or write DOT with --dot FILE)".to_string()
            } else {
                format!("graph: cannot run dot: {e}")
            }
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(dot.as_bytes())
            .map_err(|e| format!("graph: writing to dot: {e}"))?;
    }
    let out = child
        .wait_with_output()
        .map_err(|e| format!("graph: dot: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "graph: dot failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}
