//! δ* agrees with the definition: q ∈ δ*(p) iff q is reachable from p by
//! one or more edges. Checked against a naive DFS per node on random graphs
//! with cycles and self-loops.

use compiler::callgraph::DeltaStar;
use proptest::prelude::*;

/// The naive closure: a DFS from each node's successors (so p reaches
/// itself only through a cycle).
fn naive(n: usize, edges: &[(usize, usize)]) -> Vec<Vec<bool>> {
    let mut adj = vec![Vec::new(); n];
    for &(a, b) in edges {
        adj[a].push(b);
    }
    (0..n)
        .map(|p| {
            let mut seen = vec![false; n];
            let mut stack: Vec<usize> = adj[p].clone();
            while let Some(v) = stack.pop() {
                if !seen[v] {
                    seen[v] = true;
                    stack.extend(&adj[v]);
                }
            }
            seen
        })
        .collect()
}

fn graph() -> impl Strategy<Value = (usize, Vec<(usize, usize)>)> {
    (1usize..=60).prop_flat_map(|n| {
        let edge = (0..n, 0..n);
        (Just(n), prop::collection::vec(edge, 0..=3 * n))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn matches_naive_reachability((n, edges) in graph()) {
        let d = DeltaStar::compute(n, &edges);
        let want = naive(n, &edges);
        prop_assert_eq!(d.len(), n);
        for (p, want_row) in want.iter().enumerate() {
            for (q, &w) in want_row.iter().enumerate() {
                prop_assert_eq!(d.reaches(p, q), w, "p={} q={}", p, q);
            }
            prop_assert_eq!(d.row(p).count_ones(..), want_row.iter().filter(|&&b| b).count());
        }
    }
}

#[test]
fn pizza1_rows_are_the_papers() {
    let src = std::fs::read_to_string(format!(
        "{}/../samples/pizza/pizza1.uc",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let m = compiler::compile("pizza1.uc", &src).unwrap();
    let d = DeltaStar::of_module(&m);
    assert_eq!(
        d.matrix_string(),
        "0 1 1 1 1\n0 0 1 1 1\n0 0 0 0 0\n0 0 0 0 0\n0 0 0 0 0\n"
    );
}

#[test]
fn recursion_puts_a_procedure_in_its_own_row() {
    let m = compiler::compile(
        "r.uc",
        "main() { f(3); } f(n) { if (n) f(n - 1); } g() { h(); } h() { g(); }",
    )
    .unwrap();
    let d = DeltaStar::of_module(&m);
    assert!(d.reaches(1, 1), "f is self-recursive");
    assert!(d.reaches(2, 2) && d.reaches(2, 3) && d.reaches(3, 2));
    assert!(!d.reaches(0, 0), "main is not recursive");
}
