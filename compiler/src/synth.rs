//! Generated programs for scale tests and benchmarks: the shape of the
//! acceptance generator (`gen-procs.py`), so that every size-dependent path
//! (front end, δ*, wire, load) is tried on the same program.

/// A UC program of `n` procedures `p0 … p(n-1)`, each with a static and up
/// to five calls to later procedures (a DAG, so δ* has no cycles), plus a
/// `main` that prints `tick K MS` every 5 ms and never calls them. The
/// calls are pseudo-random but the same for the same `n`.
pub fn program(n: usize) -> String {
    let mut seed: u64 = 7;
    let mut next = |bound: usize| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize % bound
    };
    let mut out = String::with_capacity(n * 300);
    for i in 0..n {
        out.push_str(&format!(
            "int p{i}(int d) {{\n    static int calls;\n    int s = {};\n    calls++;\n",
            i % 7
        ));
        if i + 1 < n {
            for _ in 0..5 {
                let c = i + 1 + next(n - i - 1);
                out.push_str(&format!("    if (d > 0) s = s + p{c}(d - 1);\n"));
            }
        }
        out.push_str("    return s + calls;\n}\n");
    }
    out.push_str(
        "int tick(int k) { printf(\"tick %d %d\\n\", k, now_ms()); sleep_ms(5); return k + 1; }\n\
         main() { int k = 0; while (1) { k = tick(k); if (k < 0) printf(\"%d\\n\", p0(2)); } }\n",
    );
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn compiles_with_n_plus_two_procedures() {
        let m =
            crate::compile("g.uc", &super::program(50)).expect("the generated program compiles");
        assert_eq!(m.procs.len(), 52);
        assert!(m.procs[0].callees.len() <= 5 && !m.procs[0].callees.is_empty());
    }
}
