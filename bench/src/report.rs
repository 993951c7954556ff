//! Results: the JSON schema, the live table printed while benchmarks run,
//! and BENCHMARKS.md rendered from the JSON (so `--render-only` can redo it
//! without measuring anything).

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::path::Path;

/// How a measured value must compare with its target.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum Op {
    /// At most the target (times, overhead ratios).
    #[serde(rename = "<=")]
    Le,
    /// At least the target (throughput ratios, speed-ups).
    #[serde(rename = ">=")]
    Ge,
}

/// A SPEC §7 target for one result.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Target {
    /// The comparison.
    pub op: Op,
    /// The bound, in the result's unit.
    pub value: f64,
    /// The SPEC's wording, shortened.
    pub spec: String,
}

/// One measured result.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Entry {
    /// Stable identifier, `group.name`.
    pub id: String,
    /// Benchmark group (calls, pause, waiting, load, remote).
    pub group: String,
    /// What was measured, for people.
    pub title: String,
    /// The reported value (a median unless the notes say otherwise).
    pub value: f64,
    /// Its unit.
    pub unit: String,
    /// The SPEC target, when there is one.
    pub target: Option<Target>,
    /// Whether the target was met (absent without a target).
    pub met: Option<bool>,
    /// value / target: how far from the bound (1.0 = exactly on it).
    pub ratio: Option<f64>,
    /// The individual runs the value summarizes.
    pub runs: Vec<f64>,
    /// How it was measured.
    pub notes: String,
    /// For a missed target: what we believe the reason is.
    #[serde(default)]
    pub why: String,
}

impl Entry {
    /// A result without a target.
    pub(crate) fn info(id: &str, title: &str, value: f64, unit: &str, runs: Vec<f64>) -> Entry {
        Entry {
            id: id.to_string(),
            group: id.split('.').next().unwrap_or(id).to_string(),
            title: title.to_string(),
            value,
            unit: unit.to_string(),
            target: None,
            met: None,
            ratio: None,
            runs,
            notes: String::new(),
            why: String::new(),
        }
    }

    /// Attach a target and work out `met` and `ratio`.
    pub(crate) fn target(mut self, op: Op, value: f64, spec: &str) -> Entry {
        self.met = Some(match op {
            Op::Le => self.value <= value,
            Op::Ge => self.value >= value,
        });
        self.ratio = Some(self.value / value);
        self.target = Some(Target {
            op,
            value,
            spec: spec.to_string(),
        });
        self
    }

    /// Append a note (sentences accumulate).
    pub(crate) fn note(mut self, text: impl AsRef<str>) -> Entry {
        if !self.notes.is_empty() {
            self.notes.push(' ');
        }
        self.notes.push_str(text.as_ref());
        self
    }

    /// Say why a missed target was missed (kept only when it was).
    pub(crate) fn why(mut self, text: impl AsRef<str>) -> Entry {
        if self.missed() {
            if !self.why.is_empty() {
                self.why.push(' ');
            }
            self.why.push_str(text.as_ref());
        }
        self
    }

    /// Has a target and missed it.
    pub(crate) fn missed(&self) -> bool {
        self.met == Some(false)
    }
}

/// The machine the run was made on.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Machine {
    /// CPU model from /proc/cpuinfo.
    pub cpu: String,
    /// Logical CPUs available.
    pub cores: usize,
    /// UTC date and time of the run.
    pub date: String,
    /// Kernel (uname -sr).
    pub os: String,
    /// rustc version.
    pub rustc: String,
    /// gcc version.
    pub gcc: String,
    /// Erlang/OTP release, when installed.
    pub erlang: Option<String>,
    /// LuaJIT version, when installed.
    pub luajit: Option<String>,
    /// The exact commands of this run (build and benchmark).
    pub commands: Vec<String>,
    /// /proc/loadavg when the run started and when it ended: how busy the
    /// shared machine was.
    #[serde(default)]
    pub load_avg: Vec<String>,
}

/// One size of the load benchmark (for the table and the plot).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct LoadPoint {
    /// Procedures in the program.
    pub procs: usize,
    /// Call edges between them.
    pub edges: usize,
    /// Source size in bytes.
    pub source_bytes: usize,
    /// compiler::compile (parse + check), median ms.
    pub compile_ms: f64,
    /// DeltaStar::of_module, median ms.
    pub delta_ms: f64,
    /// Vm::load (JIT + placement), median ms.
    pub load_ms: f64,
    /// The three together, median of per-run sums, ms.
    pub total_ms: f64,
}

/// Everything a run produced: what `--out` holds.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub(crate) struct Results {
    /// Where and how it ran.
    pub machine: Machine,
    /// `--quick` mode (fewer runs, smaller sizes).
    pub quick: bool,
    /// Results in the order they were measured.
    pub results: Vec<Entry>,
    /// Load benchmark sizes.
    pub load_series: Vec<LoadPoint>,
    /// Benchmarks that could not run, with why.
    pub skipped: Vec<(String, String)>,
}

impl Results {
    /// Record a result and print it as a table row at once.
    pub(crate) fn add(&mut self, e: Entry) {
        println!("{}", row(&e));
        self.results.push(e);
    }

    /// Record that a benchmark (or part of one) could not run.
    pub(crate) fn skip(&mut self, what: &str, why: impl std::fmt::Display) {
        println!("  -- skipped {what}: {why}");
        self.skipped.push((what.to_string(), why.to_string()));
    }

    /// Read a results file.
    pub(crate) fn load(path: &Path) -> Result<Results> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        serde_json::from_str(&text).with_context(|| format!("parsing {}", path.display()))
    }

    /// Write it as pretty JSON.
    pub(crate) fn save(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self)? + "\n";
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
    }
}

/// Print the live table's header.
pub(crate) fn header() {
    println!(
        "{:<44} {:>14} {:<10} {:<14} met",
        "benchmark", "value", "unit", "target"
    );
    println!("{}", "-".repeat(92));
}

fn row(e: &Entry) -> String {
    let target = e
        .target
        .as_ref()
        .map(|t| format!("{} {}", op_str(t.op), num(t.value)))
        .unwrap_or_default();
    let met = match e.met {
        Some(true) => "met",
        Some(false) => "MISSED",
        None => "",
    };
    format!(
        "{:<44} {:>14} {:<10} {:<14} {}",
        e.id,
        num(e.value),
        e.unit,
        target,
        met
    )
}

fn op_str(op: Op) -> &'static str {
    match op {
        Op::Le => "≤",
        Op::Ge => "≥",
    }
}

/// A number with about four significant digits, no exponent.
pub(crate) fn num(x: f64) -> String {
    if !x.is_finite() {
        return "n/a".into();
    }
    let a = x.abs();
    if a >= 1000.0 {
        format!("{x:.0}")
    } else if a >= 100.0 {
        format!("{x:.1}")
    } else if a >= 10.0 {
        format!("{x:.2}")
    } else {
        format!("{x:.3}")
    }
}

/// How the result stands against its target, in words: "met, 20% to
/// spare" or "missed by 35%".
pub(crate) fn verdict(e: &Entry) -> String {
    let (Some(t), Some(met)) = (&e.target, e.met) else {
        return String::new();
    };
    let r = e.value / t.value;
    // For an upper bound, the distance is how far above (or below) it the
    // value lies; for a lower bound, how far below (or above).
    let pct = match t.op {
        Op::Le => (r - 1.0) * 100.0,
        Op::Ge => (1.0 - r) * 100.0,
    };
    if met {
        format!("**met** ({:.0}% to spare)", -pct)
    } else {
        format!("**MISSED** by {pct:.0}%")
    }
}

const GROUPS: &[(&str, &str)] = &[
    ("calls", "1. Calls, loops and safepoints"),
    ("pause", "2. Update pause"),
    ("waiting", "3. Throughput while an update waits"),
    ("load", "4. Load: compile, δ*, JIT and placement"),
    ("remote", "5. Remote updates: ush → pup over loopback"),
    (
        "e2e",
        "6. Load end to end through ush (SPEC §7, as users meet it)",
    ),
];

/// BENCHMARKS.md from a results file. `svg` is the plot's path relative to
/// the Markdown file.
pub(crate) fn render(r: &Results, svg: &str) -> String {
    let mut s = String::new();
    let m = &r.machine;
    let _ = writeln!(s, "# podus benchmarks\n");
    let _ = writeln!(
        s,
        "Every performance target of SPEC §7, measured side by side in one run by \
         `podus-bench` (bench/). This file is generated from `bench/results.json`; \
         do not edit it by hand.\n"
    );
    let _ = writeln!(
        s,
        "**How to run:** `cargo run --release -p podus-bench` (a few minutes on 2 cores; \
         `-- --quick` for a smoke run under a minute, `-- --only calls,load` for some \
         benchmarks, `-- --render-only` to redo this file from the JSON). The remote \
         benchmark starts `target/release/pup` and `pupmapper`, so build them first with \
         `cargo build --release -p pup -p pupmapper`. Optional comparisons need `gcc`, `erl`/`erlc` \
         (Debian: erlang-nox) and `luajit`; `valgrind` gives instruction counts where \
         `perf` cannot.\n"
    );
    let _ = writeln!(s, "## Machine\n");
    let _ = writeln!(s, "| | |\n| --- | --- |");
    let _ = writeln!(s, "| CPU | {} ({} logical cores) |", m.cpu, m.cores);
    let _ = writeln!(s, "| date | {} |", m.date);
    let _ = writeln!(s, "| OS | {} |", m.os);
    let _ = writeln!(s, "| rustc | {} |", m.rustc);
    let _ = writeln!(s, "| gcc | {} |", m.gcc);
    let _ = writeln!(
        s,
        "| Erlang | {} |",
        m.erlang.as_deref().unwrap_or("not installed")
    );
    let _ = writeln!(
        s,
        "| LuaJIT | {} |",
        m.luajit.as_deref().unwrap_or("not installed")
    );
    if !m.load_avg.is_empty() {
        let _ = writeln!(
            s,
            "| load average (1, 5, 15 min) | {} |",
            m.load_avg.join(" at the start; ") + " at the end"
        );
    }
    let _ = writeln!(
        s,
        "| mode | {} |\n",
        if r.quick {
            "--quick (fewer runs, smaller sizes: a smoke run, not the reference numbers)"
        } else {
            "full"
        }
    );
    let _ = writeln!(s, "Commands of this run:\n\n```sh");
    for c in &m.commands {
        let _ = writeln!(s, "{c}");
    }
    let _ = writeln!(s, "```\n");
    let _ = writeln!(
        s,
        "The machine is shared and noisy: values are medians of several runs, \
         alternatives are measured interleaved in the same run, and the targets that \
         compare two things are judged on ratios. Even so, a ratio within a few percent of \
         its bound can land on either side from one run to the next here: read the per-round \
         values in the tables below, not only the verdict.\n"
    );

    let _ = writeln!(s, "## Summary against SPEC §7\n");
    let _ = writeln!(
        s,
        "| target (SPEC §7) | result | measured | bound | verdict |"
    );
    let _ = writeln!(s, "| --- | --- | --- | --- | --- |");
    for e in r.results.iter().filter(|e| e.target.is_some()) {
        let t = e.target.as_ref().unwrap();
        let _ = writeln!(
            s,
            "| {} | `{}` | {} {} | {} {} | {} |",
            t.spec,
            e.id,
            num(e.value),
            e.unit,
            op_str(t.op),
            num(t.value),
            verdict(e)
        );
    }
    let met = r.results.iter().filter(|e| e.met == Some(true)).count();
    let missed: Vec<&Entry> = r.results.iter().filter(|e| e.missed()).collect();
    let _ = writeln!(
        s,
        "\n{met} targets met, {} missed{}.\n",
        missed.len(),
        if r.skipped.is_empty() {
            String::new()
        } else {
            format!(", {} part(s) skipped (see below)", r.skipped.len())
        }
    );
    if !missed.is_empty() {
        let _ = writeln!(s, "### Misses, by how much and why\n");
        for e in &missed {
            let why = if e.why.is_empty() {
                "(no explanation recorded)"
            } else {
                e.why.as_str()
            };
            let _ = writeln!(s, "- `{}` — {}. {}", e.id, verdict(e), why);
        }
        let _ = writeln!(s);
    }

    for (g, title) in GROUPS {
        let es: Vec<&Entry> = r.results.iter().filter(|e| e.group == *g).collect();
        let sk: Vec<&(String, String)> = r.skipped.iter().filter(|k| k.0.starts_with(g)).collect();
        if es.is_empty() && sk.is_empty() {
            continue;
        }
        let _ = writeln!(s, "## {title}\n");
        let _ = writeln!(s, "| result | what | value | target | verdict | runs |");
        let _ = writeln!(s, "| --- | --- | --- | --- | --- | --- |");
        for e in &es {
            let target = e
                .target
                .as_ref()
                .map(|t| format!("{} {}", op_str(t.op), num(t.value)))
                .unwrap_or_else(|| "—".into());
            // Many runs (round trips) would swamp the table: show the first 15.
            let mut runs: Vec<String> = e.runs.iter().take(15).map(|x| num(*x)).collect();
            if e.runs.len() > 15 {
                runs.push(format!("… ({} runs)", e.runs.len()));
            }
            let _ = writeln!(
                s,
                "| `{}` | {} | {} {} | {} | {} | {} |",
                e.id,
                e.title,
                num(e.value),
                e.unit,
                target,
                verdict(e),
                if runs.is_empty() {
                    "—".to_string()
                } else {
                    runs.join(" ")
                }
            );
        }
        let _ = writeln!(s);
        for e in es
            .iter()
            .filter(|e| !e.notes.is_empty() || !e.why.is_empty())
        {
            let mut text = e.notes.clone();
            if !e.why.is_empty() {
                text.push_str(&format!(" **Why missed:** {}", e.why));
            }
            let _ = writeln!(s, "- `{}`: {}", e.id, text.trim());
        }
        for (what, why) in &sk {
            let _ = writeln!(s, "- skipped `{what}`: {why}");
        }
        let _ = writeln!(s);
        if *g == "load" && !r.load_series.is_empty() {
            let _ = writeln!(
                s,
                "| procedures | call edges | source | compile (parse+check) | δ* | vm.load (JIT+placement) | total |"
            );
            let _ = writeln!(s, "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
            for p in &r.load_series {
                let _ = writeln!(
                    s,
                    "| {} | {} | {} KiB | {} ms | {} ms | {} ms | {} ms |",
                    p.procs,
                    p.edges,
                    p.source_bytes / 1024,
                    num(p.compile_ms),
                    num(p.delta_ms),
                    num(p.load_ms),
                    num(p.total_ms)
                );
            }
            let _ = writeln!(s);
            if let Some(g) = growth(&r.load_series) {
                let _ = writeln!(s, "{g}\n");
            }
            let _ = writeln!(s, "![load time vs program size, log-log]({svg})\n");
        }
        if *g == "e2e" {
            let pts = e2e_points(r);
            if !pts.is_empty() {
                let _ = writeln!(
                    s,
                    "| procedures | wall (ush load, start to exit) | ush peak RSS | pup peak RSS | object + source on the wire |"
                );
                let _ = writeln!(s, "| ---: | ---: | ---: | ---: | ---: |");
                for p in &pts {
                    let _ = writeln!(
                        s,
                        "| {} | {} s | {} MiB | {} MiB | {} MB |",
                        p.procs,
                        num(p.wall_s),
                        num(p.ush_mib),
                        num(p.pup_mib),
                        num(p.wire_mb)
                    );
                }
                let e2e_svg = e2e_svg_path(svg);
                let _ = writeln!(
                    s,
                    "\n![end-to-end load through ush: wall time and peak memory vs program size, log-log]({e2e_svg})\n"
                );
            }
        }
    }
    s
}

/// How each load phase grows with size: the log-log slope between the
/// smallest and largest sizes (1 = linear, 2 = quadratic).
fn growth(ps: &[LoadPoint]) -> Option<String> {
    let (a, b) = (ps.first()?, ps.last()?);
    if b.procs <= a.procs {
        return None;
    }
    let k = (b.procs as f64 / a.procs as f64).ln();
    let slope = |x: f64, y: f64| (y / x).ln() / k;
    Some(format!(
        "Growth from {} to {} procedures (log-log slope; 1 = linear, 2 = quadratic): \
         compile {:.2}, δ* {:.2}, vm.load {:.2}, total {:.2}.",
        a.procs,
        b.procs,
        slope(a.compile_ms, b.compile_ms),
        slope(a.delta_ms, b.delta_ms),
        slope(a.load_ms, b.load_ms),
        slope(a.total_ms, b.total_ms)
    ))
}

/// A log-log chart of the SVG plots.
type LogChart<'a, 'b> = plotters::chart::ChartContext<
    'a,
    plotters::prelude::SVGBackend<'b>,
    plotters::coord::cartesian::Cartesian2d<
        plotters::coord::combinators::LogCoord<f64>,
        plotters::coord::combinators::LogCoord<f64>,
    >,
>;

/// Draws one labelled series as a line with a dot at each point.
fn line_with_points(
    chart: &mut LogChart<'_, '_>,
    pts: Vec<(f64, f64)>,
    label: &str,
    color: plotters::style::RGBColor,
) -> Result<()> {
    use plotters::prelude::*;
    chart
        .draw_series(LineSeries::new(pts.clone(), color.stroke_width(2)))
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .label(label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color));
    chart
        .draw_series(pts.into_iter().map(|p| Circle::new(p, 3, color.filled())))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}

/// Draws a SPEC bound: an orange horizontal line across `xs` at `y`.
fn bound_line(chart: &mut LogChart<'_, '_>, xs: (f64, f64), y: f64, label: &str) -> Result<()> {
    use plotters::prelude::*;
    let orange = RGBColor(230, 120, 0);
    chart
        .draw_series(LineSeries::new(
            vec![(xs.0, y), (xs.1, y)],
            orange.stroke_width(2),
        ))
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .label(label)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], orange.stroke_width(2)));
    Ok(())
}

/// One size of the end-to-end load (`e2e.load.N.*` entries).
#[derive(Clone, Copy, Debug)]
pub(crate) struct E2ePoint {
    /// Procedures in the program.
    pub procs: usize,
    /// Median wall seconds.
    pub wall_s: f64,
    /// Median ush peak RSS.
    pub ush_mib: f64,
    /// Median pup peak RSS.
    pub pup_mib: f64,
    /// Object plus source, MB.
    pub wire_mb: f64,
}

/// The end-to-end load points of a run, by size.
pub(crate) fn e2e_points(r: &Results) -> Vec<E2ePoint> {
    let get = |n: usize, what: &str| {
        r.results
            .iter()
            .find(|e| e.id == format!("e2e.load.{n}.{what}"))
            .map(|e| e.value)
    };
    let mut sizes: Vec<usize> = r
        .results
        .iter()
        .filter_map(|e| {
            e.id.strip_prefix("e2e.load.")?
                .split('.')
                .next()?
                .parse()
                .ok()
        })
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    sizes
        .into_iter()
        .filter_map(|n| {
            Some(E2ePoint {
                procs: n,
                wall_s: get(n, "wall")?,
                ush_mib: get(n, "ush_rss")?,
                pup_mib: get(n, "pup_rss")?,
                wire_mb: get(n, "wire").unwrap_or(0.0),
            })
        })
        .collect()
}

/// Where the end-to-end plot goes: beside the load-time plot.
pub(crate) fn e2e_svg_path(load_svg: &str) -> String {
    match load_svg.rsplit_once('/') {
        Some((dir, _)) => format!("{dir}/load-e2e.svg"),
        None => "load-e2e.svg".to_string(),
    }
}

/// The end-to-end plot: wall seconds (left) and peak RSS of ush and the
/// pup (right) against procedures, log-log, with SPEC §7's bounds.
pub(crate) fn plot_e2e(ps: &[E2ePoint], path: &Path) -> Result<()> {
    use plotters::prelude::*;
    if ps.is_empty() {
        return Ok(());
    }
    let err = |e: &dyn std::fmt::Display| anyhow::anyhow!("{e}");
    let xmin = ps.iter().map(|p| p.procs).min().unwrap() as f64;
    let xmax = ps.iter().map(|p| p.procs).max().unwrap() as f64;
    let root = SVGBackend::new(path, (960, 420)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| err(&e))?;
    let root = root
        .titled("podus: load end to end through ush", ("sans-serif", 20))
        .map_err(|e| err(&e))?;
    let (left, right) = root.split_horizontally(480);
    type Series = (&'static str, RGBColor, fn(&E2ePoint) -> f64);
    /// One panel: its area, y label, series, and SPEC bound with its label.
    type Panel<'a, 'b> = (
        &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
        &'static str,
        Vec<Series>,
        f64,
        &'static str,
    );
    let panels: [Panel<'_, '_>; 2] = [
        (
            &left,
            "seconds (median wall)",
            vec![("ush load, start to exit", BLACK, |p: &E2ePoint| p.wall_s)],
            2.0,
            "2 s target (10,000 procedures)",
        ),
        (
            &right,
            "MiB (median peak RSS)",
            vec![
                ("ush", BLUE, |p: &E2ePoint| p.ush_mib),
                ("pup", RED, |p: &E2ePoint| p.pup_mib),
            ],
            300.0,
            "ush 300 MiB target (50,000 procedures)",
        ),
    ];
    for (area, ydesc, series, bound, bound_label) in panels {
        let ys = ps
            .iter()
            .flat_map(|p| series.iter().map(move |(_, _, f)| f(p)))
            .chain([bound]);
        let ymin = ys.clone().fold(f64::INFINITY, f64::min).max(1e-3);
        let ymax = ys.fold(0.0, f64::max);
        let mut chart = ChartBuilder::on(area)
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(60)
            .build_cartesian_2d(
                (xmin * 0.8..xmax * 1.25).log_scale(),
                (ymin * 0.5..ymax * 2.0).log_scale(),
            )
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_desc("procedures (≈5 call edges each)")
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_label_formatter(&|y| format!("{y:.1}"))
            .y_desc(ydesc)
            .draw()
            .map_err(|e| err(&e))?;
        for (label, color, f) in series {
            let pts = ps
                .iter()
                .map(|p| (p.procs as f64, f(p).max(1e-3)))
                .collect();
            line_with_points(&mut chart, pts, label, color)?;
        }
        bound_line(&mut chart, (xmin * 0.8, xmax * 1.25), bound, bound_label)?;
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| err(&e))?;
    }
    root.present().map_err(|e| err(&e))?;
    Ok(())
}

/// The load-time plot (SVG, log-log): time of each phase vs procedures.
pub(crate) fn plot(ps: &[LoadPoint], path: &Path) -> Result<()> {
    use plotters::prelude::*;
    if ps.is_empty() {
        return Ok(());
    }
    let xmin = ps.iter().map(|p| p.procs).min().unwrap() as f64;
    let xmax = ps.iter().map(|p| p.procs).max().unwrap() as f64;
    let ys = ps
        .iter()
        .flat_map(|p| [p.compile_ms, p.delta_ms, p.load_ms, p.total_ms]);
    let ymin = ys.clone().fold(f64::INFINITY, f64::min).max(1e-3);
    let ymax = ys.fold(0.0, f64::max).max(ymin * 10.0);
    let root = SVGBackend::new(path, (720, 480)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut chart = ChartBuilder::on(&root)
        .caption("podus load time vs program size", ("sans-serif", 20))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(
            (xmin * 0.8..xmax * 1.25).log_scale(),
            (ymin * 0.5..ymax * 2.0).log_scale(),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    chart
        .configure_mesh()
        .x_desc("procedures (≈5 call edges each)")
        .x_label_formatter(&|x| format!("{x:.0}"))
        .y_label_formatter(&|y| {
            if *y >= 1.0 {
                format!("{y:.0}")
            } else {
                format!("{y}")
            }
        })
        .y_desc("milliseconds (median)")
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    /// A plotted phase: label, colour, and which field of a point it is.
    type Series = (&'static str, RGBColor, fn(&LoadPoint) -> f64);
    let series: [Series; 4] = [
        ("compile (parse+check)", BLUE, |p| p.compile_ms),
        ("δ* (of_module)", GREEN, |p| p.delta_ms),
        ("vm.load (JIT+placement)", RED, |p| p.load_ms),
        ("total", BLACK, |p| p.total_ms),
    ];
    for (label, color, f) in series {
        let pts = ps
            .iter()
            .map(|p| (p.procs as f64, f(p).max(1e-3)))
            .collect();
        line_with_points(&mut chart, pts, label, color)?;
    }
    // The SPEC bound for the whole 10,000-procedure load.
    bound_line(
        &mut chart,
        (xmin * 0.8, xmax * 1.25),
        2000.0,
        "2 s target (10,000 procedures)",
    )?;
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    root.present().map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(())
}
