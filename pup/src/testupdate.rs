//! `pup --test-update OLD.uc NEW.uc [CHANGES] --records RE ...`: the private
//! test pup that ush's `test-update` starts (SPEC §4.2.2). It needs no
//! mapper, network or cookie: it compiles both versions, runs the reference
//! runs and one updated run per update point under virtual time
//! ([`vm::testrun`]), prints the report on standard output and exits 0 when
//! every point passed, 1 when some failed, 2 on bad input (the message, on
//! standard error, names what to change).

use std::io::Write;
use std::path::PathBuf;

use clap::Parser;
use vm::UpdateRequest;
use vm::testrun::{self, Config, Program};

/// Test an update at every update point of a program under virtual time.
#[derive(Debug, Parser)]
#[command(name = "pup --test-update")]
pub struct TestUpdateCli {
    /// The running version
    #[arg(value_name = "OLD.uc")]
    pub old: PathBuf,
    /// The version to update to
    #[arg(value_name = "NEW.uc")]
    pub new: PathBuf,
    /// The changes file (default: computed changes, no groups)
    #[arg(value_name = "CHANGES")]
    pub changes: Option<PathBuf>,
    /// A line matching REGEX starts an output record
    #[arg(long, value_name = "REGEX")]
    pub records: String,
    /// Virtual time of each updated run (reference runs: twice as long)
    #[arg(long = "for", value_name = "D", default_value = "60s")]
    pub run_for: String,
    /// At most N update points, spread evenly over the first half of --for
    #[arg(long, value_name = "N", default_value_t = 1000)]
    pub points: usize,
    /// An update still pending at the end of a run is reported, not failed
    #[arg(long)]
    pub allow_pending: bool,
    /// Runs at once [default: the cores]
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Stack size of the program, in MiB
    #[arg(long, value_name = "SIZE_MB", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub stack: Option<u32>,
}

/// Compiles OLD (`prev = None`) or NEW against OLD's module, exactly as a
/// live load types a new version against the running one (an mproc's
/// `old.NAME` takes OLD's type, an iproc's old signature must be OLD's).
fn compile(
    what: &str,
    path: &std::path::Path,
    prev: Option<&compiler::ir::Module>,
) -> Result<Program, String> {
    let file = path.to_string_lossy().into_owned();
    let source = compiler::read_program(path).map_err(|e| match e {
        compiler::SourceError::Read { err, .. } => format!("cannot read {what} {file}: {err}"),
        e => format!("{what}: {e}"),
    })?;
    let module = compiler::compile_update(&file, &source, prev).map_err(|d| {
        format!(
            "{what} {file} does not compile:\n{}",
            d.render(&file, &source, false)
        )
    })?;
    Ok(Program {
        file,
        source,
        module,
    })
}

/// Everything but the runs: the configuration the arguments describe.
pub fn config(cli: &TestUpdateCli) -> Result<Config, String> {
    let re = regex::Regex::new(&cli.records).map_err(|e| {
        format!(
            "--records: the regular expression {:?} does not compile: {e}",
            cli.records
        )
    })?;
    let run_for = compiler::changes::parse_duration(&cli.run_for)
        .map_err(|e| format!("--for {}: {e} (write e.g. --for 60s)", cli.run_for))?;
    let run_for_ms = run_for.as_millis() as u64;
    if run_for_ms < 2 {
        return Err(format!("--for {}: give at least 2ms", cli.run_for));
    }
    if cli.points == 0 {
        return Err("--points: give at least 1".into());
    }
    let old = compile("OLD", &cli.old, None)?;
    let new = compile("NEW", &cli.new, Some(&old.module))?;
    let (request, changes_file) = match &cli.changes {
        Some(p) => {
            let file = p.to_string_lossy().into_owned();
            let src = std::fs::read_to_string(p)
                .map_err(|e| format!("cannot read the changes file {file}: {e}"))?;
            if file.ends_with(".uc") {
                return Err(format!(
                    "{file} is a source file, not a changes file: give OLD.uc NEW.uc [CHANGES]"
                ));
            }
            let c = compiler::changes::parse(&file, &src)
                .map_err(|d| format!("changes file {file}:\n{}", d.render(&file, &src, false)))?;
            let mut r = UpdateRequest::from_changes(&c);
            // A test always runs OLD as version 1 and NEW as version 2.
            r.from = None;
            r.to = None;
            (r, Some(file))
        }
        None => (UpdateRequest::default(), None),
    };
    let threads = cli.threads.unwrap_or_else(|| {
        std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1)
    });
    Ok(Config {
        old,
        new,
        changes_file,
        request,
        run_for_ms,
        points: cli.points,
        allow_pending: cli.allow_pending,
        record_start: std::sync::Arc::new(move |l: &str| re.is_match(l)),
        records_text: cli.records.clone(),
        threads: threads.max(1),
        max_safepoints: testrun::MAX_SAFEPOINTS,
        stack_size: cli
            .stack
            .map(|mb| (mb as usize) << 20)
            .unwrap_or(vm::VmConfig::default().stack_size),
    })
}

/// `args` are the words after `--test-update`; the process exit code.
pub fn main(args: Vec<String>) -> i32 {
    let cli = match TestUpdateCli::try_parse_from(
        std::iter::once("pup --test-update".to_string()).chain(args),
    ) {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let cfg = match config(&cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("test-update: {e}");
            return 2;
        }
    };
    let mut out = std::io::stdout();
    match testrun::test_update(&cfg, &mut out) {
        Ok(s) => {
            let _ = out.flush();
            if s.failed > 0 { 1 } else { 0 }
        }
        Err(e) => {
            let _ = out.flush();
            eprintln!("test-update: {e}");
            2
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cli(args: &[&str]) -> TestUpdateCli {
        TestUpdateCli::try_parse_from(
            std::iter::once("pup --test-update").chain(args.iter().copied()),
        )
        .unwrap()
    }

    fn pizza(f: &str) -> String {
        format!("{}/../samples/pizza/{f}", env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn arguments_and_defaults() {
        let (a, b, c) = (
            pizza("pizza1.uc"),
            pizza("pizza2.uc"),
            pizza("pizza2.changes.sd"),
        );
        let cfg = config(&cli(&[&a, &b, &c, "--records", "pizza number"])).unwrap();
        assert_eq!((cfg.run_for_ms, cfg.points), (60_000, 1000));
        assert!(cfg.request.together.len() == 1 && cfg.request.from.is_none());
        assert!((cfg.record_start)(
            "TC pizza number 3 preparation begins..."
        ));
        assert!(!(cfg.record_start)("pizza 3 baked for 10 minutes"));
        let cfg = config(&cli(&[
            &a,
            &b,
            "--records",
            "x",
            "--for",
            "2s",
            "--points",
            "7",
        ]))
        .unwrap();
        assert_eq!(
            (cfg.run_for_ms, cfg.points, cfg.changes_file),
            (2000, 7, None)
        );
        assert!(TestUpdateCli::try_parse_from(["pup --test-update", &a, &b]).is_err());
    }

    #[test]
    fn bad_input_says_what_to_change() {
        let (a, b) = (pizza("pizza1.uc"), pizza("pizza2.uc"));
        let e = |args: &[&str]| config(&cli(args)).err().unwrap();
        assert!(
            e(&[&a, &b, "--records", "a(b"])
                .contains("--records: the regular expression \"a(b\" does not compile")
        );
        assert!(e(&[&a, &b, "--records", "x", "--for", "soon"]).contains("--for soon"));
        assert!(e(&[&a, &b, "--records", "x", "--points", "0"]).contains("--points"));
        assert!(
            e(&[&a, &b, &b, "--records", "x"]).contains("is a source file, not a changes file")
        );
        assert!(e(&[&a, "nosuch.uc", "--records", "x"]).contains("cannot read NEW nosuch.uc"));
    }
}
