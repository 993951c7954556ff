//! δ*: for each procedure, the procedures reachable from it by one or more
//! call edges (SPEC §4.1). P is in δ*(P) only if P is on a call cycle
//! (recursion, mutual recursion or a self-loop).
//!
//! Kept as what it is, a sparse relation: the strongly connected components
//! of the call graph and the edges of its condensation (a DAG). Memory and
//! everything written or sent grow with procedures plus edges; the n × n
//! matrix is never built. Questions are answered from that structure:
//!
//! - `reaches(p, q)`: one pass over the components that can lie between
//!   them, computing every component that reaches q's, memoized per q (an
//!   update asks about the same few procedures on the stack many times);
//! - `corner(rows, cols)`: the cells a person is shown, by one pass over the
//!   condensation carrying a bitset as wide as the columns asked for;
//! - `row(p)`: δ*(p) as a bitset, by one search from p.
//!
//! Tarjan's algorithm numbers the components callees first (reverse
//! topological order), so every condensation edge goes from a higher
//! component number to a lower one; passes in increasing order see each
//! component's callees before it.

use crate::ir::Module;
use fixedbitset::FixedBitSet;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// Memoized "which components reach component c" sets kept at most.
const MEMO_MAX: usize = 256;

/// The δ* relation of one call graph (indices as given to
/// [`DeltaStar::compute`]), as SCCs plus condensation edges.
pub struct DeltaStar {
    /// Component of each procedure.
    comp_of: Vec<u32>,
    /// Members of component c: `members[member_start[c]..member_start[c+1]]`,
    /// ascending.
    member_start: Vec<u32>,
    members: Vec<u32>,
    /// Direct callee components of c, ascending, deduplicated:
    /// `succ[succ_start[c]..succ_start[c+1]]`; all smaller than c.
    succ_start: Vec<u32>,
    succ: Vec<u32>,
    /// Components on a cycle (more than one member, or a self-loop).
    cyclic: FixedBitSet,
    /// For a component c: the components that reach it by one or more
    /// condensation edges (filled on demand by [`DeltaStar::reaches`]).
    memo: Mutex<HashMap<u32, Arc<FixedBitSet>>>,
}

/// One component as [`DeltaStar::from_components`] takes it and
/// [`DeltaStar::component`] gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Component {
    /// Procedure indices, ascending.
    pub members: Vec<u32>,
    /// On a call cycle: every member reaches every member.
    pub cyclic: bool,
    /// Components it calls directly, ascending, each smaller than its own
    /// number.
    pub calls: Vec<u32>,
}

impl Clone for DeltaStar {
    fn clone(&self) -> Self {
        DeltaStar {
            comp_of: self.comp_of.clone(),
            member_start: self.member_start.clone(),
            members: self.members.clone(),
            succ_start: self.succ_start.clone(),
            succ: self.succ.clone(),
            cyclic: self.cyclic.clone(),
            memo: Mutex::default(),
        }
    }
}

impl PartialEq for DeltaStar {
    fn eq(&self, other: &Self) -> bool {
        self.comp_of == other.comp_of
            && self.member_start == other.member_start
            && self.members == other.members
            && self.succ_start == other.succ_start
            && self.succ == other.succ
            && self.cyclic == other.cyclic
    }
}

impl Eq for DeltaStar {}

impl fmt::Debug for DeltaStar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeltaStar")
            .field("procedures", &self.len())
            .field("components", &self.components())
            .field("condensation_edges", &self.succ.len())
            .finish()
    }
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
        // Petgraph's Tarjan recursed once per node of a call chain: a
        // 50,000-procedure chain overflowed the pup's connection thread.
        let sccs = tarjan_iterative(&g);
        let mut comp_of = vec![0u32; n];
        for (c, ms) in sccs.iter().enumerate() {
            for v in ms {
                comp_of[v.index()] = c as u32;
            }
        }
        let mut member_start = Vec::with_capacity(sccs.len() + 1);
        let mut members = Vec::with_capacity(n);
        let mut succ_start = Vec::with_capacity(sccs.len() + 1);
        let mut succ = Vec::new();
        let mut cyclic = FixedBitSet::with_capacity(sccs.len());
        // The component whose successors are being collected, per successor,
        // so each condensation edge is kept once.
        let mut seen_by = vec![u32::MAX; sccs.len()];
        for (c, ms) in sccs.iter().enumerate() {
            let c32 = c as u32;
            member_start.push(members.len() as u32);
            succ_start.push(succ.len() as u32);
            let from = members.len();
            members.extend(ms.iter().map(|v| v.index() as u32));
            members[from..].sort_unstable();
            if ms.len() > 1 {
                cyclic.insert(c);
            }
            let s_from = succ.len();
            for &u in ms {
                for v in g.neighbors(u) {
                    let cv = comp_of[v.index()];
                    if cv == c32 {
                        // Only a self-loop can make a one-member component
                        // cyclic.
                        cyclic.insert(c);
                    } else if seen_by[cv as usize] != c32 {
                        seen_by[cv as usize] = c32;
                        succ.push(cv);
                    }
                }
            }
            succ[s_from..].sort_unstable();
        }
        member_start.push(members.len() as u32);
        succ_start.push(succ.len() as u32);
        DeltaStar {
            comp_of,
            member_start,
            members,
            succ_start,
            succ,
            cyclic,
            memo: Mutex::default(),
        }
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

    /// Rebuilds δ* from its components as written (a `.delta` file):
    /// components numbered in order, callees first. Checks that they
    /// partition `0..n` and that every edge goes to a smaller component.
    pub fn from_components(n: usize, comps: &[Component]) -> Result<DeltaStar, String> {
        let mut comp_of = vec![u32::MAX; n];
        let mut member_start = Vec::with_capacity(comps.len() + 1);
        let mut members = Vec::with_capacity(n);
        let mut succ_start = Vec::with_capacity(comps.len() + 1);
        let mut succ = Vec::new();
        let mut cyclic = FixedBitSet::with_capacity(comps.len());
        for (c, comp) in comps.iter().enumerate() {
            if comp.members.is_empty() {
                return Err(format!("component {c} has no members"));
            }
            if comp.members.len() > 1 && !comp.cyclic {
                return Err(format!(
                    "component {c} has {} members but is not marked as a cycle",
                    comp.members.len()
                ));
            }
            member_start.push(members.len() as u32);
            succ_start.push(succ.len() as u32);
            let mut last = None;
            for &m in &comp.members {
                let slot = comp_of
                    .get_mut(m as usize)
                    .ok_or_else(|| format!("component {c} names procedure {m} of {n}"))?;
                if *slot != u32::MAX || last.is_some_and(|l| l >= m) {
                    return Err(format!(
                        "procedure {m} is listed twice or out of order (component {c})"
                    ));
                }
                *slot = c as u32;
                last = Some(m);
            }
            members.extend_from_slice(&comp.members);
            let mut last = None;
            for &s in &comp.calls {
                if s as usize >= c || last.is_some_and(|l| l >= s) {
                    return Err(format!(
                        "component {c} calls component {s}: calls must name smaller components, ascending"
                    ));
                }
                last = Some(s);
            }
            succ.extend_from_slice(&comp.calls);
            if comp.cyclic {
                cyclic.insert(c);
            }
        }
        if let Some(p) = comp_of.iter().position(|&c| c == u32::MAX) {
            return Err(format!("procedure {p} is in no component"));
        }
        member_start.push(members.len() as u32);
        succ_start.push(succ.len() as u32);
        Ok(DeltaStar {
            comp_of,
            member_start,
            members,
            succ_start,
            succ,
            cyclic,
            memo: Mutex::default(),
        })
    }

    /// Number of procedures.
    pub fn len(&self) -> usize {
        self.comp_of.len()
    }

    /// True for the graph of no procedures.
    pub fn is_empty(&self) -> bool {
        self.comp_of.is_empty()
    }

    /// Number of strongly connected components.
    pub fn components(&self) -> usize {
        self.member_start.len().saturating_sub(1)
    }

    /// Number of edges of the condensation.
    pub fn condensation_edges(&self) -> usize {
        self.succ.len()
    }

    /// The component of procedure `p`.
    pub fn component_of(&self, p: usize) -> usize {
        self.comp_of[p] as usize
    }

    fn members_of(&self, c: usize) -> &[u32] {
        &self.members[self.member_start[c] as usize..self.member_start[c + 1] as usize]
    }

    fn succ_of(&self, c: usize) -> &[u32] {
        &self.succ[self.succ_start[c] as usize..self.succ_start[c + 1] as usize]
    }

    /// Component `c` as written to a `.delta` file.
    pub fn component(&self, c: usize) -> Component {
        Component {
            members: self.members_of(c).to_vec(),
            cyclic: self.cyclic.contains(c),
            calls: self.succ_of(c).to_vec(),
        }
    }

    /// The components that reach component `c` by one or more edges.
    fn reaching(&self, c: u32) -> Arc<FixedBitSet> {
        let mut memo = self.memo.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(s) = memo.get(&c) {
            return s.clone();
        }
        let nc = self.components();
        let mut set = FixedBitSet::with_capacity(nc);
        // Only components numbered above c can reach it.
        for k in c as usize + 1..nc {
            if self
                .succ_of(k)
                .iter()
                .any(|&s| s == c || (s > c && set.contains(s as usize)))
            {
                set.insert(k);
            }
        }
        let set = Arc::new(set);
        if memo.len() >= MEMO_MAX {
            memo.clear();
        }
        memo.insert(c, set.clone());
        set
    }

    /// Is `q` in δ*(`p`)?
    pub fn reaches(&self, p: usize, q: usize) -> bool {
        let (cp, cq) = (self.comp_of[p], self.comp_of[q]);
        if cp == cq {
            return self.cyclic.contains(cp as usize);
        }
        cp > cq && self.reaching(cq).contains(cp as usize)
    }

    /// δ*(`p`) as a bitset over procedure indices.
    pub fn row(&self, p: usize) -> FixedBitSet {
        let cp = self.comp_of[p] as usize;
        let mut row = FixedBitSet::with_capacity(self.len());
        let mut seen = FixedBitSet::with_capacity(self.components());
        let mut stack: Vec<u32> = self.succ_of(cp).to_vec();
        if self.cyclic.contains(cp) {
            stack.push(cp as u32);
        }
        while let Some(c) = stack.pop() {
            if seen.put(c as usize) {
                continue;
            }
            for &m in self.members_of(c as usize) {
                row.insert(m as usize);
            }
            stack.extend(
                self.succ_of(c as usize)
                    .iter()
                    .filter(|&&s| !seen.contains(s as usize)),
            );
        }
        row
    }

    /// The cells of δ* at the given rows and columns: `out[i]` has bit `j`
    /// set if `cols[j]` is in δ*(`rows[i]`). One pass over the condensation
    /// with a bitset as wide as `cols` per component: what a person is
    /// shown costs procedures plus edges, times the columns shown / 64.
    pub fn corner(&self, rows: &[usize], cols: &[usize]) -> Vec<FixedBitSet> {
        let nc = self.components();
        let k = cols.len();
        let words = k.div_ceil(64).max(1);
        // Columns in each component, and what each component reaches.
        let mut own = vec![0u64; nc * words];
        for (j, &q) in cols.iter().enumerate() {
            own[self.comp_of[q] as usize * words + j / 64] |= 1 << (j % 64);
        }
        let lowest = cols
            .iter()
            .map(|&q| self.comp_of[q] as usize)
            .min()
            .unwrap_or(nc);
        let mut reach = vec![0u64; nc * words];
        let mut acc = vec![0u64; words];
        for c in lowest..nc {
            acc.iter_mut().for_each(|w| *w = 0);
            for &s in self.succ_of(c) {
                let s = s as usize;
                for w in 0..words {
                    acc[w] |= reach[s * words + w] | own[s * words + w];
                }
            }
            reach[c * words..(c + 1) * words].copy_from_slice(&acc);
        }
        rows.iter()
            .map(|&p| {
                let cp = self.comp_of[p] as usize;
                let mut bits = FixedBitSet::with_capacity(k);
                for (j, &q) in cols.iter().enumerate() {
                    let hit = if self.comp_of[q] as usize == cp {
                        self.cyclic.contains(cp)
                    } else {
                        reach[cp * words + j / 64] >> (j % 64) & 1 == 1
                    };
                    bits.set(j, hit);
                }
                bits
            })
            .collect()
    }

    /// The rows `rows` restricted to the columns `cols`, as text: one line
    /// per row, entries `0`/`1` separated by spaces (the paper's `0 1 1 1 1`
    /// rows).
    pub fn corner_string(&self, rows: &[usize], cols: &[usize]) -> String {
        let cells = self.corner(rows, cols);
        let mut out = String::with_capacity(rows.len() * (2 * cols.len() + 1));
        for bits in cells {
            for j in 0..cols.len() {
                if j > 0 {
                    out.push(' ');
                }
                out.push(if bits.contains(j) { '1' } else { '0' });
            }
            out.push('\n');
        }
        out
    }

    /// The whole matrix as text, one line per procedure in index order. It
    /// has n² cells: for small programs and tests; a person is shown a
    /// corner ([`DeltaStar::corner_string`]).
    pub fn matrix_string(&self) -> String {
        let all: Vec<usize> = (0..self.len()).collect();
        self.corner_string(&all, &all)
    }
}

/// Petgraph's `tarjan_scc` (Pearce's variant, as petgraph 0.8 writes it)
/// without recursion: the same visit order and the same output order
/// (reverse topological, members as petgraph lists them), so component
/// numbers, and the `.delta` files that record them, are unchanged; the
/// call stack is a vector, so a call chain of any length fits.
fn tarjan_iterative(g: &DiGraph<(), ()>) -> Vec<Vec<NodeIndex>> {
    struct Frame {
        v: usize,
        nbrs: Vec<usize>,
        next: usize,
        local_root: bool,
    }
    let n = g.node_count();
    // 0: not visited (petgraph's `None`, which orders below every index).
    let mut root = vec![0usize; n];
    let mut index = 1usize;
    let mut components = usize::MAX;
    let mut stack: Vec<usize> = Vec::new();
    let mut sccs: Vec<Vec<NodeIndex>> = Vec::new();
    let enter = |v: usize, root: &mut Vec<usize>, index: &mut usize| {
        root[v] = *index;
        *index += 1;
        Frame {
            v,
            nbrs: g.neighbors(NodeIndex::new(v)).map(|w| w.index()).collect(),
            next: 0,
            local_root: true,
        }
    };
    for s in 0..n {
        if root[s] != 0 {
            continue;
        }
        let mut calls = vec![enter(s, &mut root, &mut index)];
        while let Some(top) = calls.last_mut() {
            if let Some(&w) = top.nbrs.get(top.next) {
                if root[w] == 0 {
                    // Visit w; this neighbour is compared when it returns.
                    let f = enter(w, &mut root, &mut index);
                    calls.push(f);
                    continue;
                }
                if root[w] < root[top.v] {
                    root[top.v] = root[w];
                    top.local_root = false;
                }
                top.next += 1;
                continue;
            }
            let Frame { v, local_root, .. } = calls.pop().expect("a frame");
            if local_root {
                let rv = root[v];
                let mut adjustment = 1;
                let start = stack
                    .iter()
                    .rposition(|&w| {
                        if rv > root[w] {
                            true
                        } else {
                            root[w] = components;
                            adjustment += 1;
                            false
                        }
                    })
                    .map_or(0, |x| x + 1);
                root[v] = components;
                stack.push(v);
                sccs.push(stack[start..].iter().map(|&w| NodeIndex::new(w)).collect());
                stack.truncate(start);
                index -= adjustment;
                components -= 1;
            } else {
                stack.push(v);
            }
        }
    }
    sccs
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
        assert_eq!(d.row(0).ones().collect::<Vec<_>>(), [1, 2]);
        assert_eq!(d.corner_string(&[0, 4], &[2, 0]), "1 0\n0 0\n");
        assert_eq!(d.components(), 4);
    }

    #[test]
    fn components_round_trip() {
        let d = DeltaStar::compute(6, &[(0, 1), (1, 2), (2, 1), (3, 3), (5, 0), (5, 1)]);
        let comps: Vec<Component> = (0..d.components()).map(|c| d.component(c)).collect();
        let back = DeltaStar::from_components(6, &comps).unwrap();
        assert_eq!(back, d);
        assert_eq!(back.matrix_string(), d.matrix_string());
        let mut bad = comps.clone();
        bad[0].members.clear();
        assert!(DeltaStar::from_components(6, &bad).is_err());
        assert!(DeltaStar::from_components(7, &comps).is_err());
    }

    /// The iterative Tarjan gives petgraph's output exactly, order
    /// included, on random graphs with cycles and self-loops.
    #[test]
    fn iterative_tarjan_is_petgraphs() {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for round in 0..300 {
            let n = 1 + (round % 40);
            let mut g: DiGraph<(), ()> = DiGraph::new();
            for _ in 0..n {
                g.add_node(());
            }
            for _ in 0..(next() as usize % (3 * n + 1)) {
                let (a, b) = (next() as usize % n, next() as usize % n);
                g.add_edge(NodeIndex::new(a), NodeIndex::new(b), ());
            }
            assert_eq!(
                tarjan_iterative(&g),
                petgraph::algo::tarjan_scc(&g),
                "round {round}"
            );
        }
    }

    /// Regression: a call chain of 200,000 procedures (p0 calls p1 calls
    /// ...) overflowed the stack of whoever computed δ*.
    #[test]
    fn a_long_call_chain_does_not_recurse() {
        let n = 200_000;
        let edges: Vec<(usize, usize)> = (0..n - 1).map(|i| (i, i + 1)).collect();
        let ds = std::thread::Builder::new()
            .stack_size(256 << 10)
            .spawn(move || DeltaStar::compute(n, &edges))
            .unwrap()
            .join()
            .expect("δ* of a long chain on a 256 KiB stack");
        assert_eq!(ds.components(), n);
        assert!(ds.reaches(0, n - 1) && !ds.reaches(n - 1, 0));
    }

    #[test]
    fn empty_graph() {
        let d = DeltaStar::compute(0, &[]);
        assert!(d.is_empty());
        assert_eq!(d.matrix_string(), "");
    }
}
