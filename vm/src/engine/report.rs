//! What the engine reports: `status`, `versions`, `procs`.

use crate::binding::ProcId;
use crate::ids::VersionNo;
use crate::{ProgramState, Shared, State};
use std::collections::BTreeSet;

/// One procedure in a [`Status`]: (ID, name, committed version, bindings:
/// (table version, decoded target)).
pub type ProcBindings = (u32, String, VersionNo, Vec<(VersionNo, String)>);

/// A snapshot for `status`, `versions`, `procs`.
#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    /// Live versions: (number, slot, procedures, code bytes).
    pub versions: Vec<(VersionNo, u32, usize, u64)>,
    /// The most recently retired versions.
    pub retired: Vec<VersionNo>,
    /// How many versions were retired in all.
    pub retired_count: u64,
    /// Highest running version number.
    pub hrvn: VersionNo,
    /// The program.
    pub program: ProgramState,
    /// Pending updates: (id, from, to, groups).
    pub pending: Vec<(u64, VersionNo, VersionNo, Vec<Vec<String>>)>,
    /// Per procedure: (ID, name, committed version, bindings: (table
    /// version, decoded target)).
    pub bindings: Vec<ProcBindings>,
    /// Return interrupts enabled.
    pub return_interrupts: bool,
    /// Recent commit pause times, ns.
    pub pauses: Vec<u64>,
}

pub(crate) fn status(sh: &Shared, st: &State) -> Status {
    let mut bindings = Vec::new();
    let mut names: BTreeSet<(u32, String)> = BTreeSet::new();
    for v in st.versions.values() {
        for (n, p) in &v.procs {
            names.insert((p.id, n.clone()));
        }
    }
    for (id, name) in names {
        let mut per = Vec::new();
        for v in st.versions.values() {
            if let (true, Some(t)) = (v.procs.contains_key(&name), v.bindings().get(ProcId(id))) {
                let d = sh
                    .space
                    .decode(t)
                    .map(|a| {
                        let ver = st
                            .versions
                            .values()
                            .find(|x| x.slot == a.slot)
                            .map(|x| x.number)
                            .unwrap_or(VersionNo(0));
                        format!("v{ver}:{}:{}", a.ty.short(), name)
                    })
                    .unwrap_or_else(|| format!("{t:#x}"));
                per.push((v.number, d));
            }
        }
        let cur = st
            .engine
            .cur
            .get(&ProcId(id))
            .copied()
            .unwrap_or(VersionNo(0));
        bindings.push((id, name, cur, per));
    }
    Status {
        versions: st
            .versions
            .values()
            .map(|v| (v.number, v.slot.0, v.procs.len(), v.code_bytes))
            .collect(),
        retired: st.engine.retired.iter().copied().collect(),
        retired_count: st.engine.retired_count,
        hrvn: st.engine.hrvn(),
        program: st.ctl.program.clone(),
        pending: st
            .engine
            .pending
            .iter()
            .map(|u| {
                (
                    u.id,
                    u.from,
                    u.to,
                    u.groups.iter().map(|g| g.names.clone()).collect(),
                )
            })
            .collect(),
        bindings,
        return_interrupts: st.engine.return_interrupts,
        pauses: st.engine.pauses.iter().copied().collect(),
    }
}
