//! What the engine reports: `status`, `versions`, `procs`.

use crate::binding::ProcId;
use crate::ids::VersionNo;
use crate::{ProgramState, Shared, State};
use std::collections::BTreeSet;

/// A live version in a [`Status`].
#[derive(Clone, Debug, PartialEq)]
pub struct StatusVersion {
    /// Its number.
    pub number: VersionNo,
    /// The version-space slot it occupies.
    pub slot: u32,
    /// How many procedures it has.
    pub procs: usize,
    /// Bytes of machine code it placed.
    pub code_bytes: u64,
}

/// A pending update in a [`Status`].
#[derive(Clone, Debug, PartialEq)]
pub struct StatusPending {
    /// The update's ID.
    pub id: u64,
    /// The version it moves from.
    pub from: VersionNo,
    /// The version it moves to.
    pub to: VersionNo,
    /// Its groups not yet committed, each by member names.
    pub groups: Vec<Vec<String>>,
}

/// One procedure in a [`Status`]: its committed version and what each
/// live version's binding table holds for it.
#[derive(Clone, Debug, PartialEq)]
pub struct ProcBindings {
    /// Its procedure ID.
    pub id: u32,
    /// Its name.
    pub name: String,
    /// The version it is committed to (0: none yet).
    pub committed: VersionNo,
    /// Per live version that has it: that table's entry.
    pub tables: Vec<TableBinding>,
}

/// One binding table's entry for a procedure.
#[derive(Clone, Debug, PartialEq)]
pub struct TableBinding {
    /// Whose table.
    pub table: VersionNo,
    /// Where the entry leads, decoded (`v2:proc:P`), or the raw address.
    pub target: String,
}

/// A snapshot for `status`, `versions`, `procs`.
#[derive(Clone, Debug, PartialEq)]
pub struct Status {
    /// Live versions, oldest first.
    pub versions: Vec<StatusVersion>,
    /// The most recently retired versions.
    pub retired: Vec<VersionNo>,
    /// How many versions were retired in all.
    pub retired_count: u64,
    /// Highest running version number.
    pub hrvn: VersionNo,
    /// The program.
    pub program: ProgramState,
    /// Pending updates.
    pub pending: Vec<StatusPending>,
    /// Per procedure, by ID.
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
                per.push(TableBinding {
                    table: v.number,
                    target: d,
                });
            }
        }
        let cur = st
            .engine
            .cur
            .get(&ProcId(id))
            .copied()
            .unwrap_or(VersionNo(0));
        bindings.push(ProcBindings {
            id,
            name,
            committed: cur,
            tables: per,
        });
    }
    Status {
        versions: st
            .versions
            .values()
            .map(|v| StatusVersion {
                number: v.number,
                slot: v.slot.0,
                procs: v.procs.len(),
                code_bytes: v.code_bytes,
            })
            .collect(),
        retired: st.engine.retired.iter().copied().collect(),
        retired_count: st.engine.retired_count,
        hrvn: st.engine.hrvn(),
        program: st.ctl.program.clone(),
        pending: st
            .engine
            .pending
            .iter()
            .map(|u| StatusPending {
                id: u.id,
                from: u.from,
                to: u.to,
                groups: u.groups.iter().map(|g| g.names.clone()).collect(),
            })
            .collect(),
        bindings,
        return_interrupts: st.engine.return_interrupts,
        pauses: st.engine.pauses.iter().copied().collect(),
    }
}
