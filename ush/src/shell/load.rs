//! `load`: compiling here (or reading an object file) and sending the
//! module to the pup, with what the load reports.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::sync::Arc;

use compiler::callgraph::DeltaStar;
use compiler::diff::Summary;
use compiler::ir::Module;
use pup_client::proto::{Request, Response};

use super::{CmdResult, Shell};
use crate::format::{self, LoadHow};
use crate::parse::LoadSource;

impl Shell {
    pub(super) fn load(&mut self, version: u64, source: LoadSource) -> CmdResult {
        let name = self.connected()?;
        let old = self.old_module(&name, version);
        // The pup's record of what runs is the truth a new version is
        // typed against (an mproc's `old.NAME`, an iproc's old signature),
        // whichever ush loaded the old versions.
        let iface = self.pup_interface()?;
        // A built object was typed when it was built; the interface still
        // tells what this version will reset.
        let typed = matches!(source, LoadSource::Source(_));
        let mut progress = Progress::start(self, &source);
        let resolve = |f: &str| self.resolve(f);
        let Prepared {
            module,
            object,
            summary,
            source: src,
            how,
        } = match prepare("load", &source, &resolve, iface.as_ref().filter(|_| typed)) {
            Ok(p) => p,
            Err(PrepareError::Compile { file, src }) => {
                self.sink.err(&src.render(&file, self.settings.color));
                return Err(format!("load: {file} does not compile; nothing was loaded"));
            }
            Err(PrepareError::Other(e)) => return Err(e),
        };
        // The corner the report shows, one row and column past it so the
        // rows say they go on: δ* has n² cells.
        let procs = module.procs.len();
        let shown: Vec<usize> = (0..procs.min(format::MATRIX_SHOWN + 1)).collect();
        let matrix = DeltaStar::of_module(&module).corner_string(&shown, &shown);
        progress.phase(
            self,
            &format!(
                "compiled {} procedure{}; pup {name} is generating and placing their machine code",
                procs,
                if procs == 1 { "" } else { "s" }
            ),
        );
        let sent = self.send_load(version, object, src);
        progress.finish();
        let info = match sent? {
            Response::Loaded(info) => info,
            r => return Err(Self::unexpected(r)),
        };
        let c = self.conn(&name);
        let prev = c.versions.range(..version).next_back().copied();
        // What an update from the previous version will carry, when this
        // ush loaded that version too.
        let statics = match (prev, &old) {
            (Some(p), Some((m, s))) if c.modules.contains_key(&p) => {
                format::statics_lines(p, m, s, &module, &summary)
            }
            _ => Vec::new(),
        };
        let statics: Vec<String> = statics
            .into_iter()
            .chain(
                iface
                    .iter()
                    .flat_map(|i| format::reset_warnings(version, i, &module)),
            )
            .collect();
        c.versions.insert(version);
        c.modules.insert(version, Arc::new(module));
        c.summaries.insert(version, Arc::new(summary));
        c.learn_order(info.procs.iter().map(|p| (p.id, p.name.clone())));
        let host = c.host.clone();
        let mut lines = format::load_lines(&name, &host, &how, procs, &matrix, &info, prev);
        // Before the closing "... loaded successfully" lines.
        let tail = lines
            .iter()
            .rev()
            .take_while(|l| l.starts_with("Version "))
            .count();
        let at = lines.len() - tail;
        lines.splice(at..at, statics);
        self.lines(lines);
        self.observe_load(&name, version);
        Ok(())
    }

    /// Sends a load: in one frame when it is small, else in chunks
    /// (`LoadBegin`, `LoadChunk`s, `LoadEnd`), each well under the frame
    /// limit; a pup that cannot take it says so before the bytes are sent.
    pub(super) fn send_load(
        &mut self,
        version: u64,
        object: Vec<u8>,
        source: Option<String>,
    ) -> Result<Response, String> {
        use pup_client::proto::LOAD_CHUNK;
        let total = object.len() + source.as_ref().map_or(0, String::len);
        if total <= LOAD_CHUNK {
            return self.call(Request::Load {
                version,
                object,
                source,
            });
        }
        self.call(Request::LoadBegin {
            version,
            object_len: object.len() as u64,
            source_len: source.as_ref().map(|s| s.len() as u64),
        })
        .map_err(|e| format!("load: {e}"))?;
        let src = source.map(String::into_bytes).unwrap_or_default();
        for part in [object, src] {
            for chunk in part.chunks(LOAD_CHUNK) {
                self.call(Request::LoadChunk {
                    data: chunk.to_vec(),
                })?;
            }
        }
        self.call(Request::LoadEnd)
    }

    /// The module a new version `version` is checked against (its iprocs'
    /// old signatures, its mprocs' `old.NAME`): per procedure, the version it
    /// will be running when `version` applies (its committed version, or
    /// the target of a pending update that moves it; SPEC §4.2.1), taken
    /// from the modules this ush loaded; the newest older module otherwise.
    pub(super) fn old_module(
        &mut self,
        name: &str,
        version: u64,
    ) -> Option<(Arc<Module>, Arc<Summary>)> {
        let c = self.conn(name);
        let (&newest, newest_m) = c.modules.range(..version).next_back()?;
        let newest_m = newest_m.clone();
        let newest_s = c.summaries.get(&newest)?.clone();
        if c.modules.range(..version).count() < 2 {
            return Some((newest_m, newest_s));
        }
        let Ok(Response::Status(s)) = self.call(Request::Status) else {
            return Some((newest_m, newest_s));
        };
        let c = self.conn(name);
        // Each procedure's version, looked up by name once (a program can
        // have 50,000 procedures: no search per procedure).
        let mut running: HashMap<&str, u64> = s
            .bindings
            .iter()
            .map(|b| (b.name.as_str(), b.committed))
            .collect();
        for p in &s.pending {
            let (to, groups) = (&p.to, &p.groups);
            for name in groups.iter().flatten() {
                if let Some(v) = running.get_mut(name.as_str()) {
                    *v = (*v).max(*to);
                }
            }
        }
        let mut composite = (*newest_m).clone();
        let mut moved: BTreeMap<u64, HashSet<&str>> = BTreeMap::new();
        let mut by_version: HashMap<u64, HashMap<&str, &compiler::ir::Proc>> = HashMap::new();
        for p in composite.procs.iter_mut() {
            let ov = running.get(p.name.as_str()).copied().unwrap_or(0);
            if ov == 0 || ov == newest {
                continue;
            }
            let Some(m) = c.modules.get(&ov) else {
                continue;
            };
            let procs = by_version
                .entry(ov)
                .or_insert_with(|| m.procs.iter().map(|q| (q.name.as_str(), q)).collect());
            if let Some(q) = procs.get(p.name.as_str()) {
                *p = (*q).clone();
                moved.entry(ov).or_default().insert(q.name.as_str());
            }
        }
        let changed = !moved.is_empty();
        let mut composite_s = (*newest_s).clone();
        for (ov, names) in &moved {
            if let Some(os) = c.summaries.get(ov) {
                composite_s.replace_procs_from(names, os);
            }
        }
        Some(if changed {
            (Arc::new(composite), Arc::new(composite_s))
        } else {
            (newest_m, newest_s)
        })
    }
}

/// A version ready to send: what `load` and `rollout load` build from the
/// files they are given.
pub(crate) struct Prepared {
    /// The module, procedure bodies taken out.
    pub(crate) module: Module,
    /// The object bytes the pup decodes.
    pub(crate) object: Vec<u8>,
    /// What `diff` compares.
    pub(crate) summary: Summary,
    /// The source text, when known.
    pub(crate) source: Option<String>,
    /// How it was made (for the report).
    pub(crate) how: LoadHow,
}

/// A source that does not compile, kept for rendering where the caller
/// prints (diagnostics go to standard error, in colour when asked).
pub(crate) struct Uncompiled {
    text: String,
    diags: compiler::Diagnostics,
}

impl Uncompiled {
    /// The diagnostics as the user reads them.
    pub(crate) fn render(&self, file: &str, color: bool) -> String {
        self.diags.render(file, &self.text, color)
    }
}

/// Why [`prepare`] made nothing.
pub(crate) enum PrepareError {
    /// The source does not compile.
    Compile {
        /// The file as the user named it.
        file: String,
        /// Its text and diagnostics.
        src: Uncompiled,
    },
    /// A file cannot be read or the pair does not fit together.
    Other(String),
}

/// Compiles a source against `prev` (the interface of what runs, from the
/// pup: [`decode_interface`]) or reads `ucc build`'s pair (already typed
/// against its `--prev`). `cmd` names the command in messages.
pub(crate) fn prepare(
    cmd: &str,
    source: &LoadSource,
    resolve: &dyn Fn(&str) -> std::path::PathBuf,
    prev: Option<&Module>,
) -> Result<Prepared, PrepareError> {
    let other = PrepareError::Other;
    Ok(match source {
        LoadSource::Source(f) => {
            let path = resolve(f);
            // The main file and every file it includes, as one text.
            let src = compiler::read_program(&path).map_err(|e| other(format!("{cmd}: {e}")))?;
            let c = match compiler::compile_for_load(f, &src, prev) {
                Ok(c) => c,
                Err(diags) => {
                    return Err(PrepareError::Compile {
                        file: f.clone(),
                        src: Uncompiled { text: src, diags },
                    });
                }
            };
            Prepared {
                module: c.module,
                object: c.object,
                summary: c.summary,
                source: Some(src),
                how: LoadHow::Compiled(f.clone()),
            }
        }
        LoadSource::Built { delta, object } => {
            let dpath = resolve(delta);
            let opath = resolve(object);
            let dtext = std::fs::read_to_string(&dpath)
                .map_err(|e| other(format!("{cmd}: cannot read {}: {e}", dpath.display())))?;
            let dfile = compiler::object::read_delta(&dtext)
                .map_err(|e| other(format!("{cmd}: {delta}: {e}")))?;
            let bytes = std::fs::read(&opath)
                .map_err(|e| other(format!("{cmd}: cannot read {}: {e}", opath.display())))?;
            let mut module = compiler::object::read_object(&bytes)
                .map_err(|e| other(format!("{cmd}: {object}: {e}")))?;
            dfile.check_module(&module).map_err(|e| {
                other(format!(
                    "{cmd}: {delta} and {object} do not describe the same program: {e}"
                ))
            })?;
            let src = source_beside(&opath, &module);
            let summary = Summary::of_digested(&module);
            module.procs.iter_mut().for_each(|p| p.body = Vec::new());
            Prepared {
                module,
                object: bytes,
                summary,
                source: src,
                how: LoadHow::Delta(delta.clone()),
            }
        }
    })
}

/// Sources at least this large show what a load is doing while it works
/// (50,000 procedures take 10-15 s between the command and its report).
const PROGRESS_MIN_BYTES: u64 = 1 << 20;

/// What a long load shows while it works: a spinner with the phase and the
/// time so far on a terminal, else one plain line per phase. Small loads
/// show nothing, so the paper's load report stays as it is.
struct Progress {
    bar: Option<indicatif::ProgressBar>,
    plain: bool,
    t0: std::time::Instant,
}

impl Progress {
    fn start(sh: &mut Shell, source: &LoadSource) -> Progress {
        let (file, bytes) = match source {
            LoadSource::Source(f) => (f, std::fs::metadata(sh.resolve(f)).map_or(0, |m| m.len())),
            LoadSource::Built { object, .. } => (
                object,
                std::fs::metadata(sh.resolve(object)).map_or(0, |m| m.len()),
            ),
        };
        let on = bytes >= PROGRESS_MIN_BYTES;
        let bar = (on && sh.settings.progress_bar).then(|| {
            let b = indicatif::ProgressBar::new_spinner();
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("load {spinner} {msg} ({elapsed})")
            {
                b.set_style(style);
            }
            b.enable_steady_tick(std::time::Duration::from_millis(200));
            b
        });
        let p = Progress {
            plain: on && bar.is_none(),
            bar,
            t0: std::time::Instant::now(),
        };
        let mb = bytes as f64 / (1 << 20) as f64;
        p.show(sh, &format!("reading and compiling {file} ({mb:.1} MiB)"));
        p
    }

    fn show(&self, sh: &mut Shell, text: &str) {
        if let Some(b) = &self.bar {
            b.set_message(text.to_string());
        } else if self.plain {
            sh.line(&format!("load: {text}"));
        }
    }

    /// The next phase, with the time the previous ones took.
    fn phase(&self, sh: &mut Shell, text: &str) {
        let took = self.t0.elapsed().as_secs_f64();
        self.show(sh, &format!("{text} (after {took:.1} s)"));
    }

    fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    /// A load that fails early leaves no spinner behind its error.
    fn drop(&mut self) {
        self.finish();
    }
}

/// The interface a pup answered [`Request::Interface`] with, as the module
/// the checker takes for the previous version (`None`: nothing loaded).
pub(crate) fn decode_interface(r: Response) -> Result<Option<Module>, String> {
    match r {
        Response::Interface { object, .. } => interface_module(&object).map(Some),
        Response::NoInterface => Ok(None),
        Response::Error(e) => Err(e),
        r => Err(format!("unexpected answer to an interface request: {r:?}")),
    }
}

/// The module of an interface's object bytes.
pub(crate) fn interface_module(object: &[u8]) -> Result<Module, String> {
    compiler::object::read_object(object)
        .map_err(|e| format!("the pup's interface does not decode: {e}"))
}

impl Shell {
    /// What the connected pup says a version loaded now is checked against.
    fn pup_interface(&mut self) -> Result<Option<Module>, String> {
        let r = self.call(Request::Interface)?;
        decode_interface(r).map_err(|e| format!("load: {e}"))
    }
}

/// The source of an object file, when it sits beside it and is not newer
/// (so that runtime errors can show source lines).
fn source_beside(object: &Path, module: &Module) -> Option<String> {
    let dir = object.parent()?;
    let name = Path::new(&module.file).file_name()?;
    let src = dir.join(name);
    let (s, o) = (src.metadata().ok()?, object.metadata().ok()?);
    if s.modified().ok()? <= o.modified().ok()? {
        compiler::read_program(&src).ok()
    } else {
        None
    }
}
