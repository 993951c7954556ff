//! `ucc`: the UC compiler driver.
//!
//! Exit status: 0 success, 1 compile errors (diagnostics on stderr), 2
//! usage errors and unreadable or unwritable files. `ucc diff` follows
//! diff(1) instead, so that scripts can branch on it: 0 the versions are the
//! same, 1 they differ, 2 trouble (compile errors included).

use anyhow::{Context, Result, anyhow};
use clap::{Parser, Subcommand, ValueEnum};
use compiler::callgraph::DeltaStar;
use compiler::{diff, ir, object};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The UC compiler: checks UC programs, shows their call graphs and
/// differences, and builds the `.delta` and `.o` files a pup loads.
#[derive(Parser)]
#[command(name = "ucc", version)]
struct Cli {
    /// Color diagnostics.
    #[arg(long, value_enum, default_value_t = Color::Auto, global = true)]
    color: Color,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum Color {
    /// Color when stderr is a terminal.
    Auto,
    /// Always color.
    Always,
    /// Never color.
    Never,
}

#[derive(Subcommand)]
enum Command {
    /// Check a UC file and report every error.
    Check {
        /// The UC source file.
        file: PathBuf,
        /// The version it will replace (`.uc` source or `.o` object): its
        /// mprocs' `old.NAME` and its iprocs' old signatures are checked
        /// against it, as the pup checks them at load time.
        #[arg(long)]
        prev: Option<PathBuf>,
    },
    /// Print the procedure table and the delta* matrix of a UC file.
    Delta {
        /// The UC source file.
        file: PathBuf,
        /// The version it will replace (`.uc` or `.o`), as for `check`.
        #[arg(long)]
        prev: Option<PathBuf>,
    },
    /// Show which procedures changed between two versions, and why.
    Diff {
        /// The old version's source.
        old: PathBuf,
        /// The new version's source.
        new: PathBuf,
    },
    /// Write FILE.delta and FILE.o for `ush load`.
    Build {
        /// The UC source file.
        file: PathBuf,
        /// The previous version (`.uc` source or `.o` object), to type its
        /// `old.NAME` reads and check its iprocs' old signatures.
        #[arg(long)]
        prev: Option<PathBuf>,
        /// Directory for the outputs (default: next to FILE).
        #[arg(short = 'o', long = "out-dir")]
        out_dir: Option<PathBuf>,
    },
    /// Print the checked IR as JSON (for debugging).
    Ir {
        /// The UC source file.
        file: PathBuf,
    },
}

/// How a command failed.
enum Failure {
    /// Compile errors, already printed.
    Compile,
    /// `ucc diff` found differences (already printed): exit 1, as diff(1).
    Differ,
    /// Anything else: a usage problem or an I/O error.
    Other(anyhow::Error),
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::Other(e)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Compile) if cli.is_diff() => ExitCode::from(2),
        Err(Failure::Compile | Failure::Differ) => ExitCode::from(1),
        Err(Failure::Other(e)) => {
            eprintln!("ucc: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// The program at `path` with every file it includes (one text).
fn read(path: &Path) -> Result<String> {
    Ok(compiler::read_program(path)?)
}

impl Cli {
    /// Is this `ucc diff`, whose exit status follows diff(1)?
    fn is_diff(&self) -> bool {
        matches!(self.command, Command::Diff { .. })
    }

    fn color(&self) -> bool {
        match self.color {
            Color::Always => true,
            Color::Never => false,
            Color::Auto => std::io::stderr().is_terminal(),
        }
    }

    /// Compiles `path`, printing diagnostics on failure.
    fn compile(&self, path: &Path, prev: Option<&ir::Module>) -> Result<ir::Module, Failure> {
        let src = read(path)?;
        let name = path.display().to_string();
        compiler::compile_update(&name, &src, prev).map_err(|d| {
            eprint!("{}", d.render(&name, &src, self.color()));
            let n = d.0.len();
            eprintln!("ucc: {name}: {n} error{}", if n == 1 { "" } else { "s" });
            Failure::Compile
        })
    }

    /// Compiles `path` the way a load does ([`compiler::compile_for_load`]):
    /// a large source item by item, each procedure encoded into the object
    /// and its body dropped once checked, so that `check` and `build` of a
    /// large program never hold its whole syntax tree or IR (SPEC §7).
    fn compile_streaming(
        &self,
        path: &Path,
        prev: Option<&ir::Module>,
    ) -> Result<compiler::Compiled, Failure> {
        let src = read(path)?;
        let name = path.display().to_string();
        compiler::compile_for_load(&name, &src, prev).map_err(|d| {
            eprint!("{}", d.render(&name, &src, self.color()));
            let n = d.0.len();
            eprintln!("ucc: {name}: {n} error{}", if n == 1 { "" } else { "s" });
            Failure::Compile
        })
    }

    fn run(&self) -> Result<(), Failure> {
        match &self.command {
            Command::Check { file, prev } => {
                let prev = self.load_prev(prev.as_deref())?;
                let m = self.compile_against(file, prev.as_ref())?.module;
                println!(
                    "{}: ok ({} procedures, {} globals, {} iprocs, {} mprocs)",
                    file.display(),
                    m.procs.len(),
                    m.globals.len(),
                    m.iprocs.len(),
                    m.mprocs.len()
                );
            }
            Command::Delta { file, prev } => {
                let prev = self.load_prev(prev.as_deref())?;
                let m = self.compile_against(file, prev.as_ref())?.module;
                print!("{}", delta_report(&m));
            }
            Command::Diff { old, new } => {
                let o = self.compile(old, None)?;
                let n = self.compile(new, Some(&o))?;
                let d = diff::diff(&o, &n);
                print!("{d}");
                let types = diff::type_changes(&o, &n);
                if types.is_empty() {
                    println!("type changes: (none)");
                } else {
                    println!("type changes:");
                    for t in types {
                        println!("  {t}");
                    }
                }
                if !d.is_empty() {
                    return Err(Failure::Differ);
                }
            }
            Command::Build {
                file,
                prev,
                out_dir,
            } => self.build(file, prev.as_deref(), out_dir.as_deref())?,
            Command::Ir { file } => {
                let m = self.compile(file, None)?;
                let json = serde_json::to_string_pretty(&m).map_err(anyhow::Error::from)?;
                println!("{json}");
            }
        }
        Ok(())
    }

    /// The previous version given with `--prev`: compiled from `.uc`, or
    /// read from a `.o` object.
    fn load_prev(&self, prev: Option<&Path>) -> Result<Option<ir::Module>, Failure> {
        Ok(match prev {
            None => None,
            Some(p) if p.extension().is_some_and(|e| e == "o") => {
                let bytes =
                    std::fs::read(p).with_context(|| format!("cannot read {}", p.display()))?;
                Some(object::read_object(&bytes).map_err(|e| anyhow!("{}: {e}", p.display()))?)
            }
            Some(p) => Some(self.compile(p, None)?),
        })
    }

    /// Compiles `file` as the version after `prev` and applies the checks
    /// the pup makes at load time against the version being replaced.
    fn compile_against(
        &self,
        file: &Path,
        prev: Option<&ir::Module>,
    ) -> Result<compiler::Compiled, Failure> {
        let c = self.compile_streaming(file, prev)?;
        if let Some(p) = prev {
            let errs = check_against_prev(&c.module, p);
            if !errs.is_empty() {
                for e in &errs {
                    eprintln!("error: {}: {e}", file.display());
                }
                let n = errs.len();
                eprintln!(
                    "ucc: {}: {n} error{}",
                    file.display(),
                    if n == 1 { "" } else { "s" }
                );
                return Err(Failure::Compile);
            }
        }
        Ok(c)
    }

    fn build(
        &self,
        file: &Path,
        prev: Option<&Path>,
        out_dir: Option<&Path>,
    ) -> Result<(), Failure> {
        let prev = self.load_prev(prev)?;
        let compiler::Compiled {
            module: m, object, ..
        } = self.compile_against(file, prev.as_ref())?;
        let stem = file
            .file_stem()
            .ok_or_else(|| anyhow!("{} has no file name", file.display()))?;
        let dir = match out_dir {
            Some(d) => d.to_path_buf(),
            None => file.parent().map(Path::to_path_buf).unwrap_or_default(),
        };
        let delta_path = dir.join(stem).with_extension("delta");
        let obj_path = dir.join(stem).with_extension("o");
        std::fs::write(&delta_path, object::write_delta(&m))
            .with_context(|| format!("cannot write {}", delta_path.display()))?;
        std::fs::write(&obj_path, &object)
            .with_context(|| format!("cannot write {}", obj_path.display()))?;
        println!(
            "wrote {} and {} ({} procedures)",
            delta_path.display(),
            obj_path.display(),
            m.procs.len()
        );
        Ok(())
    }
}

/// The checks the pup makes when it loads `new` over the version it
/// replaces (`prev`): every iproc serves a procedure of `new` that `prev`
/// has, with exactly `prev`'s parameters; every mproc serves a procedure
/// or global of `new`, and each `old.NAME` it reads is a static of that
/// procedure in `prev` (or the global itself) with the type the mproc uses.
fn check_against_prev(new: &ir::Module, prev: &ir::Module) -> Vec<String> {
    let mut errs = Vec::new();
    let sig = |s: &ir::Signature| format!("{s:?}");
    for ip in &new.iprocs {
        if !new.procs.iter().any(|p| p.name == ip.name) {
            errs.push(format!(
                "iproc {} serves no procedure of this version",
                ip.name
            ));
            continue;
        }
        match prev.procs.iter().find(|p| p.name == ip.name) {
            None => errs.push(format!(
                "iproc {}: the previous version has no procedure {}",
                ip.name, ip.name
            )),
            Some(old) if old.sig.params != ip.old_sig.params => errs.push(format!(
                "iproc {} declares the old signature {}, but the previous version's {} is {}",
                ip.name,
                sig(&ip.old_sig),
                ip.name,
                sig(&old.sig)
            )),
            Some(_) => {}
        }
    }
    for mp in &new.mprocs {
        let is_proc = new.procs.iter().any(|p| p.name == mp.name);
        let is_global = new.globals.iter().any(|g| g.name == mp.name);
        if !is_proc && !is_global {
            errs.push(format!("mproc {} serves nothing of this version", mp.name));
            continue;
        }
        for os in &mp.old_statics {
            let found = match (
                prev.procs.iter().find(|p| p.name == mp.name),
                prev.globals.iter().find(|g| g.name == mp.name),
            ) {
                (Some(pp), _) => pp.statics.iter().find(|s| s.name == os.name).map(|s| s.ty),
                (None, Some(g)) if os.name == mp.name => Some(g.ty),
                _ => None,
            };
            match found {
                Some(ty) if ty == os.ty => {}
                Some(ty) => errs.push(format!(
                    "mproc {}: old.{} is {:?} in the previous version, not {:?}",
                    mp.name, os.name, ty, os.ty
                )),
                None => errs.push(format!(
                    "mproc {}: the previous version has no old.{}",
                    mp.name, os.name
                )),
            }
        }
    }
    errs
}

/// The procedure table (IDs in source order) and the δ* matrix, as the
/// paper's ush prints them on load.
fn delta_report(m: &ir::Module) -> String {
    let mut out = format!("procedure table of {}:\n", m.file);
    out.push_str("  ID  name\n");
    for (i, p) in m.procs.iter().enumerate() {
        out.push_str(&format!("{i:>4}  {}\n", p.name));
    }
    out.push_str(&format!(
        "delta* computed for {} procedures:\n",
        m.procs.len()
    ));
    // A person reads a corner: the whole matrix has n² cells.
    let shown: Vec<usize> = (0..m.procs.len().min(DELTA_SHOWN)).collect();
    out.push_str(&DeltaStar::of_module(m).corner_string(&shown, &shown));
    if shown.len() < m.procs.len() {
        out.push_str(&format!(
            "(the first {} rows and columns of {n} x {n}; `ucc build` writes all of delta* to the .delta file)\n",
            shown.len(),
            n = m.procs.len()
        ));
    }
    out
}

/// Rows and columns of δ* that `ucc delta` prints.
const DELTA_SHOWN: usize = 64;
