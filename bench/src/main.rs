//! podus-bench: every performance target of SPEC §7, measured side by side
//! in one run, written to `bench/results.json` and rendered as
//! `BENCHMARKS.md` (with the load-time plot `bench/load-time.svg`).
//!
//! ```text
//! cargo run --release -p podus-bench -- [--quick] [--only NAME,...] [--out bench/results.json]
//! cargo run --release -p podus-bench -- --render-only
//! ```
//!
//! Modules:
//! - `calls.rs`: fib and a loop kernel in UC (with and without safepoints)
//!   next to gcc -O2 (plain, function-pointer table, table + flag check),
//!   Erlang and LuaJIT; instruction counts where a counter is available.
//! - `pause.rs`: how long the program is paused to commit an update of K
//!   inactive procedures (K = 4, 100, 1000).
//! - `waiting.rs`: throughput while an update is pending on an active
//!   procedure, from the program's own output timestamps.
//! - `load.rs`: compile, δ* and vm.load of generated 100 … 10,000-procedure
//!   programs, and δ* of a random 10,000-node, 50,000-edge graph.
//! - `e2e.rs`: `load` end to end through `ush --local` at 1,000 / 10,000 /
//!   50,000 procedures: wall time, ush and pup peak RSS, bytes on the wire.
//! - `remote.rs`: ush→pup round trips over loopback and one client
//!   updating a fleet of 10 and 100 pups (real pupmapper and pup processes).
//! - `report.rs`: the JSON schema, the live table, BENCHMARKS.md and the
//!   SVG plot.
//! - `util.rs`: statistics, captured VM output, running commands.
//!
//! Nothing here asserts a timing: a miss is reported (by how much, and why
//! we believe it happens), never hidden and never a failure.

mod calls;
mod e2e;
mod load;
mod pause;
mod remote;
mod report;
mod util;
mod waiting;

use anyhow::{Context, Result, bail};
use clap::Parser;
use report::Results;
use std::path::{Path, PathBuf};

/// The benchmark names `--only` accepts, in the order they run (remote last:
/// it needs the release binaries of pup and pupmapper).
const ALL: &[&str] = &["calls", "pause", "waiting", "load", "e2e", "remote"];

/// Command line.
#[derive(Parser, Debug)]
#[command(
    name = "podus-bench",
    about = "Measure every SPEC §7 performance target and write results.json and BENCHMARKS.md"
)]
struct Cli {
    /// Fewer repetitions and smaller sizes: a smoke run under a minute.
    #[arg(long)]
    quick: bool,
    /// Run only these benchmarks (comma-separated: calls, pause, waiting, load, remote, e2e).
    #[arg(long, value_delimiter = ',')]
    only: Option<Vec<String>>,
    /// Where to write the results JSON (relative paths are relative to the
    /// repository root, wherever the tool is started).
    #[arg(long, default_value = "bench/results.json")]
    out: PathBuf,
    /// Where to write the Markdown report.
    #[arg(long, default_value = "BENCHMARKS.md")]
    markdown: PathBuf,
    /// Where to write the load-time plot.
    #[arg(long, default_value = "bench/load-time.svg")]
    svg: PathBuf,
    /// Measure nothing: re-render the Markdown (and plot) from `--out`.
    #[arg(long)]
    render_only: bool,
    /// Program sizes for the load benchmark (default 100,300,1000,3000,10000;
    /// --quick 100,1000,3000), e.g. to profile one size.
    #[arg(long, value_delimiter = ',', hide = true)]
    load_sizes: Option<Vec<usize>>,
    /// Program sizes for the end-to-end load through ush (default
    /// 1000,10000,20000,50000; --quick 1000,10000).
    #[arg(long, value_delimiter = ',')]
    e2e_sizes: Option<Vec<usize>>,
    /// Where the end-to-end load finds ush, pup and pupmapper (default:
    /// target/release), e.g. a build of an older commit for "before".
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Internal: run UC fib(N) once and exit (what callgrind counts for the
    /// UC instruction counts).
    #[arg(long, hide = true)]
    child_fib: Option<u64>,
    /// Internal: with --child-fib, compile without safepoints.
    #[arg(long, hide = true)]
    child_nosp: bool,
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    // Default paths are relative to the repository root, wherever the tool
    // is started from (cargo run starts it in the invoking directory).
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .canonicalize()
        .context("finding the repository root")?;
    let at_root = |p: &Path| {
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            root.join(p)
        }
    };
    let out = at_root(&cli.out);
    let md = at_root(&cli.markdown);
    let svg = at_root(&cli.svg);

    if let Some(n) = cli.child_fib {
        return calls::child_fib(n, !cli.child_nosp);
    }
    if cli.render_only {
        let r = Results::load(&out)?;
        return write_report(&r, &md, &svg);
    }

    let only: Vec<String> = match &cli.only {
        Some(v) => {
            for n in v {
                if !ALL.contains(&n.as_str()) {
                    bail!("unknown benchmark {n:?}; known: {}", ALL.join(", "));
                }
            }
            v.clone()
        }
        None => ALL.iter().map(|s| s.to_string()).collect(),
    };
    let want = |n: &str| only.iter().any(|o| o == n);

    let mut r = Results {
        machine: machine(&cli),
        quick: cli.quick,
        ..Default::default()
    };
    report::header();
    let q = cli.quick;
    if want("calls") {
        section("calls");
        let o = calls::Opts {
            // SPEC §7: fib(35), ten interleaved rounds with the C variants.
            runs: if q { 3 } else { 10 },
            fib_n: if q { 30 } else { 35 },
            loop_n: if q { 30_000_000 } else { 100_000_000 },
        };
        if let Err(e) = calls::run(&o, &mut r) {
            r.skip("calls", format!("failed: {e:#}"));
        }
    }
    if want("pause") {
        section("pause");
        let o = pause::Opts {
            runs: if q { 3 } else { 9 },
            sizes: vec![4, 100, 1000],
        };
        if let Err(e) = pause::run(&o, &mut r) {
            r.skip("pause", format!("failed: {e:#}"));
        }
    }
    if want("waiting") {
        section("waiting");
        let o = waiting::Opts {
            runs: if q { 1 } else { 3 },
            cycles: if q { 3 } else { 4 },
            window: std::time::Duration::from_millis(if q { 300 } else { 600 }),
        };
        if let Err(e) = waiting::run(&o, &mut r) {
            r.skip("waiting", format!("failed: {e:#}"));
        }
    }
    if want("load") {
        section("load");
        let o = load::Opts {
            runs: if q { 1 } else { 5 },
            sizes: if let Some(s) = &cli.load_sizes {
                s.clone()
            } else if q {
                vec![100, 1000, 3000]
            } else {
                vec![100, 300, 1000, 3000, 10_000]
            },
        };
        if let Err(e) = load::run(&o, &mut r) {
            r.skip("load", format!("failed: {e:#}"));
        }
    }
    if want("e2e") {
        section("e2e");
        let o = e2e::Opts {
            runs: if q { 1 } else { 3 },
            sizes: cli.e2e_sizes.clone().unwrap_or_else(|| {
                if q {
                    vec![1000, 10_000]
                } else {
                    vec![1000, 10_000, 20_000, 50_000]
                }
            }),
            bin_dir: cli
                .bin_dir
                .clone()
                .map(|d| at_root(&d))
                .unwrap_or_else(|| root.join("target/release")),
        };
        if let Err(e) = e2e::run(&o, &mut r) {
            r.skip("e2e", format!("failed: {e:#}"));
        }
    }
    if want("remote") {
        section("remote");
        let o = remote::Opts {
            runs: if q { 3 } else { 7 },
            fleets: if q { vec![10] } else { vec![10, 100] },
            root: root.clone(),
        };
        if let Err(e) = remote::run(&o, &mut r) {
            r.skip("remote", format!("failed: {e:#}"));
        }
    }

    r.machine.load_avg.push(load_avg());
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).ok();
    }
    r.save(&out)?;
    println!("\nwrote {}", out.display());
    write_report(&r, &md, &svg)
}

fn section(name: &str) {
    println!("[{name}]");
}

/// BENCHMARKS.md (and the plot, when there is load data).
fn write_report(r: &Results, md: &Path, svg: &Path) -> Result<()> {
    if !r.load_series.is_empty() {
        report::plot(&r.load_series, svg).context("drawing the load-time plot")?;
        println!("wrote {}", svg.display());
    }
    let e2e = report::e2e_points(r);
    if !e2e.is_empty() {
        let e2e_svg = svg.with_file_name("load-e2e.svg");
        report::plot_e2e(&e2e, &e2e_svg).context("drawing the end-to-end load plot")?;
        println!("wrote {}", e2e_svg.display());
    }
    let rel = pathdiff(svg, md.parent().unwrap_or(Path::new(".")));
    let mut text = report::render(r, &rel);
    // Hand-kept before/after measurements of past changes, which one run
    // cannot produce, follow the generated part.
    let history = Path::new(env!("CARGO_MANIFEST_DIR")).join("history.md");
    if let Ok(h) = std::fs::read_to_string(&history) {
        text.push('\n');
        text.push_str(&h);
    }
    std::fs::write(md, text).with_context(|| format!("writing {}", md.display()))?;
    println!("wrote {}", md.display());
    Ok(())
}

/// `svg` relative to `base` when it lies under it (for the Markdown link).
fn pathdiff(svg: &Path, base: &Path) -> String {
    let (Ok(s), Ok(b)) = (svg.canonicalize(), base.canonicalize()) else {
        return svg.display().to_string();
    };
    s.strip_prefix(&b)
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| s.display().to_string())
}

/// The first three fields of /proc/loadavg.
fn load_avg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// What machine, tools and command this run is.
fn machine(cli: &Cli) -> report::Machine {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let date = util::version_line("date", &["-u", "+%Y-%m-%d %H:%M:%S UTC"]).unwrap_or_default();
    let os = util::version_line("uname", &["-sr"]).unwrap_or_default();
    let rustc = util::version_line("rustc", &["--version"]).unwrap_or_else(|| "unknown".into());
    let gcc = util::version_line("gcc", &["--version"]).unwrap_or_else(|| "not installed".into());
    let erlang = util::have("erl")
        .then(|| {
            util::version_line(
                "erl",
                &[
                    "-noshell",
                    "-eval",
                    "io:format(\"OTP ~s, ERTS ~s~n\", [erlang:system_info(otp_release), erlang:system_info(version)]), halt().",
                ],
            )
        })
        .flatten();
    let luajit = util::have("luajit")
        .then(|| util::version_line("luajit", &["-v"]))
        .flatten();
    let mut args: Vec<String> = Vec::new();
    if cli.quick {
        args.push("--quick".into());
    }
    if let Some(o) = &cli.only {
        args.push(format!("--only {}", o.join(",")));
    }
    if cli.out != Path::new("bench/results.json") {
        args.push(format!("--out {}", cli.out.display()));
    }
    let run = if args.is_empty() {
        "cargo run --release -p podus-bench".to_string()
    } else {
        format!("cargo run --release -p podus-bench -- {}", args.join(" "))
    };
    report::Machine {
        cpu,
        cores,
        date,
        os,
        rustc,
        gcc,
        erlang,
        luajit,
        commands: vec![
            "cargo build --release -p pup -p pupmapper -p podus-bench".into(),
            run,
        ],
        load_avg: vec![load_avg()],
    }
}
