//! The delta and the call graph of a version, as the pup reports them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write as _;

use compiler::callgraph::DeltaStar;
use vm::layout::SegType;
use vm::{ProgramState, VersionNo};

use crate::proto::{DeltaViewInfo, DeltaViewSpec, Response};

use super::{DELTA_REACH_SHOWN, DELTA_SHOWN, DELTA_VIEW_MAX, Program};

/// Escapes a string for a double-quoted Graphviz ID or label.
pub(super) fn dot_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A procedure's state in the call graph, in order of precedence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum NodeState {
    OnStack,
    Pending,
    Updated,
    Unchanged,
}

impl NodeState {
    fn words(self) -> &'static str {
        match self {
            NodeState::OnStack => "on stack",
            NodeState::Pending => "pending",
            NodeState::Updated => "updated",
            NodeState::Unchanged => "unchanged",
        }
    }
    fn color(self) -> &'static str {
        match self {
            NodeState::OnStack => "#f4a6a6",
            NodeState::Pending => "#ffd27f",
            NodeState::Updated => "#a8dba8",
            NodeState::Unchanged => "#e8e8e8",
        }
    }
}

impl Program {
    /// The version asked for, or the newest loaded; an error if it is not
    /// loaded.
    fn version_or_newest(&self, version: Option<u64>) -> Result<VersionNo, String> {
        let st = self.vm.status();
        match version.map(VersionNo) {
            Some(v) if st.versions.iter().any(|x| x.number == v) => Ok(v),
            Some(v) if st.retired.contains(&v) => Err(format!("version {v} has been retired")),
            Some(v) => Err(format!("version {v} is not loaded")),
            None => st
                .versions
                .last()
                .map(|x| x.number)
                .ok_or_else(|| "no version is loaded".to_string()),
        }
    }

    /// δ* of a version: procedure names in ID order and the matrix's first
    /// [`DELTA_SHOWN`] rows and columns (the rest is one `DeltaView` away;
    /// the whole matrix has n² cells).
    pub fn delta(&self, version: Option<u64>) -> Response {
        let spec = DeltaViewSpec {
            version,
            size: DELTA_SHOWN,
            ..Default::default()
        };
        let (v, names, view) = match self.delta_parts(&spec) {
            Ok(x) => x,
            Err(e) => return Response::Error(e),
        };
        let mut matrix = String::new();
        let cut = view.cols.len() < names.len();
        for row in &view.cells {
            matrix.push_str(row);
            matrix.push_str(if cut { " ...\n" } else { "\n" });
        }
        if view.rows.len() < names.len() {
            matrix.push_str(":\n");
        }
        Response::Delta {
            version: v.0,
            names,
            matrix,
        }
    }

    /// A block of δ* in procedure-ID order, or one procedure's row.
    /// What a version loaded now is checked against ([`Request::Interface`]).
    ///
    /// [`Request::Interface`]: pup_client::proto::Request::Interface
    pub fn interface(&self) -> Response {
        match self.vm.interface() {
            Some((version, m)) => Response::Interface {
                version: version.0,
                object: compiler::object::write_object(&m),
            },
            None => Response::NoInterface,
        }
    }

    /// A window of δ* (rows and columns by name or range) for `delta ... at`.
    pub fn delta_view(&self, spec: &DeltaViewSpec) -> Response {
        match self.delta_parts(spec) {
            Ok((_, _, view)) => Response::DeltaView(view),
            Err(e) => Response::Error(e),
        }
    }

    fn delta_parts(
        &self,
        spec: &DeltaViewSpec,
    ) -> Result<(VersionNo, Vec<String>, DeltaViewInfo), String> {
        let v = self.version_or_newest(spec.version)?;
        let module = self
            .vm
            .module(v)
            .ok_or_else(|| format!("version {v} is not loaded"))?;
        let names: Vec<String> = self.vm.procs(v).into_iter().map(|(_, n)| n).collect();
        let ds = DeltaStar::of_module(&module);
        // δ* is indexed in module order; the pup shows procedure-ID order.
        let index: HashMap<&str, usize> = module
            .procs
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.as_str(), i))
            .collect();
        let idx = |pos: usize| index.get(names[pos].as_str()).copied();
        let mut view = DeltaViewInfo {
            version: v.0,
            total: names.len() as u32,
            components: ds.components() as u32,
            ..Default::default()
        };
        if let Some(of) = &spec.of {
            let p = index
                .get(of.as_str())
                .ok_or_else(|| format!("version {v} has no procedure {of}"))?;
            let row = ds.row(*p);
            for (pos, n) in names.iter().enumerate() {
                if idx(pos).is_some_and(|q| row.contains(q)) {
                    view.reach_count += 1;
                    if view.reach.len() < DELTA_REACH_SHOWN {
                        view.reach.push(n.clone());
                    }
                }
            }
            return Ok((v, names, view));
        }
        let size = spec.size.clamp(1, DELTA_VIEW_MAX) as usize;
        let span = |from: u32| {
            let from = (from as usize).min(names.len());
            (from..(from + size).min(names.len())).filter(|&pos| idx(pos).is_some())
        };
        let rows: Vec<usize> = span(spec.row).collect();
        let cols: Vec<usize> = span(spec.col).collect();
        let ri: Vec<usize> = rows.iter().filter_map(|&p| idx(p)).collect();
        let ci: Vec<usize> = cols.iter().filter_map(|&p| idx(p)).collect();
        for bits in ds.corner(&ri, &ci) {
            let cells: Vec<&str> = (0..ci.len())
                .map(|j| if bits.contains(j) { "1" } else { "0" })
                .collect();
            view.cells.push(cells.join(" "));
        }
        view.rows = rows.iter().map(|&p| (p as u32, names[p].clone())).collect();
        view.cols = cols.iter().map(|&p| (p as u32, names[p].clone())).collect();
        Ok((v, names, view))
    }

    /// The call graph of a version as Graphviz DOT, each procedure coloured
    /// by its state: on stack, pending, updated or unchanged.
    pub fn graph(&self, version: Option<u64>) -> Response {
        let v = match self.version_or_newest(version) {
            Ok(v) => v,
            Err(e) => return Response::Error(e),
        };
        let Some(module) = self.vm.module(v) else {
            return Response::Error(format!("version {v} is not loaded"));
        };
        let on_stack: BTreeSet<String> = self
            .vm
            .stack()
            .into_iter()
            .filter(|f| f.kind == SegType::Proc)
            .map(|f| f.name)
            .collect();
        let status = self.vm.status();
        let pending: BTreeSet<&String> = status
            .pending
            .iter()
            .flat_map(|u| u.groups.iter().flatten())
            .collect();
        // "Updated" is read from the engine's one record of committed
        // versions: a procedure committed past the version the program
        // started as (or, once it ended, the oldest version loaded).
        let started = match status.program {
            ProgramState::Running { version } => version,
            _ => status.versions.first().map_or(VersionNo(0), |v| v.number),
        };
        let updated: BTreeMap<String, VersionNo> = status
            .bindings
            .iter()
            .filter(|b| b.committed > started)
            .map(|b| (b.name.clone(), b.committed))
            .collect();
        let state_of = |name: &String| {
            if on_stack.contains(name) {
                NodeState::OnStack
            } else if pending.contains(name) {
                NodeState::Pending
            } else if updated.contains_key(name) {
                NodeState::Updated
            } else {
                NodeState::Unchanged
            }
        };

        let mut dot = String::new();
        let title = format!("program {} version {v}", self.name);
        let _ = writeln!(dot, "digraph {} {{", dot_quote(&title));
        let _ = writeln!(
            dot,
            "  label={}; labelloc=t;",
            dot_quote(&format!("{title}: call graph"))
        );
        let _ = writeln!(
            dot,
            "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\"];"
        );
        let names: Vec<String> = self.vm.procs(v).into_iter().map(|(_, n)| n).collect();
        for name in &names {
            let state = state_of(name);
            let words = match (state, updated.get(name)) {
                (NodeState::Updated, Some(to)) => format!("updated to v{to}"),
                _ => state.words().to_string(),
            };
            let _ = writeln!(
                dot,
                "  {} [label={}, fillcolor={}];",
                dot_quote(name),
                dot_quote(&format!("{name}\n{words}")),
                dot_quote(state.color())
            );
        }
        for p in &module.procs {
            let callees: BTreeSet<&String> =
                p.callees.iter().filter(|c| names.contains(c)).collect();
            for c in callees {
                let _ = writeln!(dot, "  {} -> {};", dot_quote(&p.name), dot_quote(c));
            }
        }
        // A legend, so the colours explain themselves.
        let _ = writeln!(dot, "  subgraph cluster_legend {{");
        let _ = writeln!(dot, "    label=\"states\"; style=dashed;");
        for s in [
            NodeState::OnStack,
            NodeState::Pending,
            NodeState::Updated,
            NodeState::Unchanged,
        ] {
            let _ = writeln!(
                dot,
                "    {} [label={}, fillcolor={}, shape=note];",
                dot_quote(&format!("legend: {}", s.words())),
                dot_quote(s.words()),
                dot_quote(s.color())
            );
        }
        let _ = writeln!(dot, "  }}");
        dot.push_str("}\n");
        Response::Graph { dot }
    }
}
