//! δ*: for each procedure, the procedures reachable from it by one or more
//! call edges (SPEC §4.1). P is in δ*(P) only if P is on a call cycle
//! (recursion, mutual recursion or a self-loop).
//!
//! Computed once per loaded version, on the condensation of the call graph:
//! Tarjan's SCCs come out in reverse topological order, so when a component
//! is reached every component it calls already has its row, and its own row
//! is the union of those rows and of the callees themselves. That is one
//! bitset union per distinct edge between components, instead of a graph
//! search per procedure.

use crate::ir::Module;
use fixedbitset::FixedBitSet;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::HashMap;

/// The δ* relation of one call graph, as one reachability row per
/// procedure (indices as given to [`DeltaStar::compute`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeltaStar {
    rows: Vec<FixedBitSet>,
}

impl DeltaStar {
    /// δ* of the graph with nodes `0..n` and the given call edges
    /// `(caller, callee)`. Duplicate edges are harmless.
    ///
    /// # Panics
    /// If an edge names a node `>= n`.
    pub fn compute(n: usize, edges: &[(usize, usize)]) -> DeltaStar {
        let mut g: DiGraph<(), ()> = DiGraph::with_capacity(n, edges.len());
        for _ in 0..n {
            g.add_node(());
        }
        for &(a, b) in edges {
            assert!(a < n && b < n, "call edge ({a}, {b}) outside 0..{n}");
            g.add_edge(NodeIndex::new(a), NodeIndex::new(b), ());
        }

        // Reverse topological order: callees' components come first.
        let sccs = tarjan_scc(&g);
        let mut comp_of = vec![0usize; n];
        for (c, members) in sccs.iter().enumerate() {
            for v in members {
                comp_of[v.index()] = c;
            }
        }

        let mut comp_rows: Vec<FixedBitSet> = Vec::with_capacity(sccs.len());
        // Marks the successor components already merged into the current
        // row, so a component called by many edges is merged once.
        let mut seen_by = vec![usize::MAX; sccs.len()];
        for (c, members) in sccs.iter().enumerate() {
            let mut row = FixedBitSet::with_capacity(n);
            let mut cyclic = members.len() > 1;
            for &u in members {
                for v in g.neighbors(u) {
                    let cv = comp_of[v.index()];
                    if cv == c {
                        // Only a self-loop can make a one-member
                        // component cyclic.
                        cyclic = true;
                        continue;
                    }
                    row.insert(v.index());
                    if seen_by[cv] != c {
                        seen_by[cv] = c;
                        row.union_with(&comp_rows[cv]);
                    }
                }
            }
            if cyclic {
                for &u in members {
                    row.insert(u.index());
                }
            }
            comp_rows.push(row);
        }

        let rows = (0..n).map(|p| comp_rows[comp_of[p]].clone()).collect();
        DeltaStar { rows }
    }

    /// δ* of a module's procedures, indexed in `module.procs` order; edges
    /// come from [`crate::ir::Proc::callees`], and callee names that are not
    /// procedures of the module are ignored.
    pub fn of_module(module: &Module) -> DeltaStar {
        let index: HashMap<&str, usize> = module
            .procs
            .iter()
            .enumerate()
            .map(|(i, p)| (p.name.as_str(), i))
            .collect();
        let edges: Vec<(usize, usize)> = module
            .procs
            .iter()
            .enumerate()
            .flat_map(|(i, p)| {
                let index = &index;
                p.callees
                    .iter()
                    .filter_map(move |c| index.get(c.as_str()).map(|&j| (i, j)))
            })
            .collect();
        DeltaStar::compute(module.procs.len(), &edges)
    }

    /// Number of procedures.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// True for the graph of no procedures.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Is `q` in δ*(`p`)?
    pub fn reaches(&self, p: usize, q: usize) -> bool {
        self.rows[p].contains(q)
    }

    /// δ*(`p`) as a bitset over procedure indices.
    pub fn row(&self, p: usize) -> &FixedBitSet {
        &self.rows[p]
    }

    /// The matrix as text: one line per procedure in index order, entries
    /// `0`/`1` separated by spaces (the paper's `0 1 1 1 1` rows).
    pub fn matrix_string(&self) -> String {
        let n = self.rows.len();
        let mut out = String::with_capacity(n * (2 * n + 1));
        for row in &self.rows {
            for q in 0..n {
                if q > 0 {
                    out.push(' ');
                }
                out.push(if row.contains(q) { '1' } else { '0' });
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_cycle_and_self_loop() {
        // 0 -> 1 -> 2 -> 1 (cycle {1,2}), 3 -> 3 (self-loop), 4 alone.
        let d = DeltaStar::compute(5, &[(0, 1), (1, 2), (2, 1), (3, 3)]);
        assert_eq!(
            d.matrix_string(),
            "0 1 1 0 0\n0 1 1 0 0\n0 1 1 0 0\n0 0 0 1 0\n0 0 0 0 0\n"
        );
        assert!(!d.reaches(0, 0));
        assert!(d.reaches(3, 3));
        assert!(!d.reaches(4, 4));
    }

    #[test]
    fn empty_graph() {
        let d = DeltaStar::compute(0, &[]);
        assert!(d.is_empty());
        assert_eq!(d.matrix_string(), "");
    }
}
