//! Benchmarks δ* and the front end at the scale of a large program.
//!
//! ```text
//! cargo run --release -p compiler --example bench_delta
//! ```
//!
//! 1. δ* of a random call graph of 10,000 procedures and 50,000 edges
//!    (target: under 100 ms).
//! 2. Parse + check of a generated 10,000-procedure UC file, and δ* of the
//!    resulting module.

use compiler::callgraph::DeltaStar;
use std::fmt::Write;
use std::time::{Duration, Instant};

const PROCS: usize = 10_000;
const EDGES: usize = 50_000;
const RUNS: usize = 5;

/// xorshift64*: deterministic, so every run measures the same graph.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Runs `f` RUNS times; returns (min, median) and the last result.
fn time<T>(mut f: impl FnMut() -> T) -> (Duration, Duration, T) {
    let mut times = Vec::with_capacity(RUNS);
    let mut last = None;
    for _ in 0..RUNS {
        let t = Instant::now();
        let r = f();
        times.push(t.elapsed());
        last = Some(r);
    }
    times.sort();
    (times[0], times[RUNS / 2], last.expect("RUNS > 0"))
}

/// A UC program of `n` procedures (plus main), each with a static, a few
/// locals, a loop, arithmetic in both types, printf, and calls to random
/// other procedures.
fn generate_source(n: usize, rng: &mut Rng) -> String {
    let mut src = String::with_capacity(n * 400);
    src.push_str("int total = 0;\ndouble scale[4] = {1.0, 2.0, 0.5};\n\n");
    for i in 0..n {
        let calls = 1 + rng.below(9); // 5 on average
        writeln!(src, "p{i}(n)\nint n;\n{{").unwrap();
        writeln!(src, "    static int seen = {i};").unwrap();
        writeln!(src, "    int k, acc = n * {} + 1;", i % 7).unwrap();
        writeln!(src, "    double w = acc / 3.0 * scale[{}];", i % 4).unwrap();
        writeln!(src, "    seen++;").unwrap();
        writeln!(src, "    if (n <= 0) return acc;").unwrap();
        writeln!(src, "    for (k = 0; k < 3; k++) acc += k % 2;").unwrap();
        for _ in 0..calls {
            writeln!(src, "    acc += p{}(n - 1);", rng.below(n)).unwrap();
        }
        writeln!(src, "    total += acc;").unwrap();
        writeln!(src, "    printf(\"p{i} %d %.2f\\n\", acc, w);").unwrap();
        writeln!(src, "    return acc + (int) w;\n}}\n").unwrap();
    }
    src.push_str("main()\n{\n    p0(3);\n}\n");
    src
}

fn main() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);

    // 1. δ* on a random graph.
    let edges: Vec<(usize, usize)> = (0..EDGES)
        .map(|_| (rng.below(PROCS), rng.below(PROCS)))
        .collect();
    let (min, median, d) = time(|| DeltaStar::compute(PROCS, &edges));
    let reach: usize = (0..PROCS).map(|p| d.row(p).count_ones(..)).sum();
    println!(
        "delta*: {PROCS} procedures, {EDGES} random edges: min {:.1} ms, median {:.1} ms over {RUNS} runs (target < 100 ms); {:.1}% of pairs reachable",
        ms(min),
        ms(median),
        100.0 * reach as f64 / (PROCS * PROCS) as f64
    );

    // A sparser, mostly acyclic graph (calls go to higher-numbered
    // procedures), closer to real programs: many small components.
    let dag: Vec<(usize, usize)> = (0..EDGES)
        .map(|_| {
            let a = rng.below(PROCS - 1);
            (a, a + 1 + rng.below((PROCS - a - 1).min(50)))
        })
        .collect();
    let (min, median, _) = time(|| DeltaStar::compute(PROCS, &dag));
    println!(
        "delta*: {PROCS} procedures, {EDGES} forward edges (acyclic): min {:.1} ms, median {:.1} ms",
        ms(min),
        ms(median)
    );

    // 2. The front end on a generated program.
    let src = generate_source(PROCS, &mut rng);
    let (min, median, _) = time(|| compiler::parse::parse(&src));
    println!(
        "parse only: min {:.1} ms, median {:.1} ms",
        ms(min),
        ms(median)
    );
    let (min, median, module) = time(|| compiler::compile("gen.uc", &src));
    let module = module.unwrap_or_else(|d| panic!("{}", d.render("gen.uc", &src, false)));
    println!(
        "parse+check: {} procedures, {} lines, {:.1} MB: min {:.1} ms, median {:.1} ms",
        module.procs.len(),
        src.lines().count(),
        src.len() as f64 / 1e6,
        ms(min),
        ms(median)
    );
    let (min, median, _) = time(|| DeltaStar::of_module(&module));
    println!(
        "delta* of that module (names to indices, then compute): min {:.1} ms, median {:.1} ms",
        ms(min),
        ms(median)
    );
}
