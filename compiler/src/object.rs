//! The two files `ucc build` writes, as the paper's `load 1 pizza1.delta
//! pizza1.o` reads them.
//!
//! - `FILE.o`: the checked module, postcard-encoded behind a magic number
//!   and a format version ([`write_object`], [`read_object`]).
//! - `FILE.delta`: a text file a person can read — the procedure table
//!   (ID, name, signature, callees) and δ* as its strongly connected
//!   components and the calls between them ([`write_delta`],
//!   [`read_delta`]): it grows with procedures plus edges, never with the
//!   n × n matrix. [`DeltaFile::check_module`] cross-checks it against an
//!   object file, so `load V FILE.delta FILE.o` refuses a mismatched pair.

use crate::callgraph::{Component, DeltaStar};
use crate::check::sig_string;
use crate::ir::{Module, ParamTy, RetTy, Scalar, Signature};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The first four bytes of every object file.
pub const MAGIC: [u8; 4] = *b"UCO1";
/// The object format this build writes and reads; bumped whenever the IR
/// changes shape, so an old `.o` is refused rather than misread.
pub const FORMAT: u32 = 3;

/// The serialized contents of a `.o` file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectFile {
    /// Always [`MAGIC`].
    pub magic: [u8; 4],
    /// Always [`FORMAT`] when written by this build.
    pub format: u32,
    /// The compiled version.
    pub module: Module,
}

/// Why an object file was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ObjectError {
    /// Shorter than the magic number.
    #[error("not a UC object file: only {0} bytes")]
    TooShort(usize),
    /// The first bytes are not [`MAGIC`].
    #[error(
        "not a UC object file: starts with {0:02x?}, expected \"UCO1\" (was it built by ucc build?)"
    )]
    BadMagic([u8; 4]),
    /// Written by a different version of the compiler.
    #[error(
        "object format {found} is not supported (this build reads format {expected}); rebuild it with this ucc"
    )]
    UnsupportedFormat {
        /// The format in the file.
        found: u32,
        /// The format this build reads.
        expected: u32,
    },
    /// The body does not decode.
    #[error("corrupt UC object file: {0}")]
    Corrupt(String),
    /// Bytes after the module.
    #[error("corrupt UC object file: {0} unexpected bytes after the module")]
    TrailingBytes(usize),
}

/// [`ObjectFile`] by reference: the same bytes, without a deep copy of
/// the module (at 50,000 procedures the copy was a third of ush's peak).
#[derive(Serialize)]
struct ObjectFileRef<'a> {
    magic: [u8; 4],
    format: u32,
    module: &'a Module,
}

/// Encodes a module as a `.o` file.
pub fn write_object(module: &Module) -> Vec<u8> {
    let obj = ObjectFileRef {
        magic: MAGIC,
        format: FORMAT,
        module,
    };
    // Sized first, then written once: a doubling Vec would hold the old and
    // the new buffer at once (1.5-3x the object) at a large program's peak.
    let len = postcard::serialize_with_flavor(&obj, postcard::ser_flavors::Size::default())
        .expect("IR values always serialize");
    let out =
        postcard::to_extend(&obj, Vec::with_capacity(len)).expect("IR values always serialize");
    debug_assert_eq!(out.len(), len);
    out
}

/// Writes a `.o` file procedure by procedure, so that a large program's
/// bodies can be encoded and dropped as they are checked (see
/// [`crate::compile_for_load`]). The bytes are exactly [`write_object`]'s.
#[derive(Debug, Default)]
pub struct ObjectWriter {
    out: Vec<u8>,
    count: usize,
    pushed: usize,
}

impl ObjectWriter {
    /// A writer with no procedures yet.
    pub fn new() -> ObjectWriter {
        ObjectWriter::default()
    }

    /// Encodes the next procedure (in module order), body included, of a
    /// module of `count` procedures from `file`.
    pub fn push_proc(&mut self, p: &crate::ir::Proc, file: &str, count: usize) {
        if self.pushed == 0 {
            // postcard writes a struct as its fields in order and a
            // sequence as a varint length and its elements: the header and
            // the procedures' count, then each procedure as it comes.
            self.count = count;
            self.out = postcard::to_extend(&(MAGIC, FORMAT, file, count), Vec::new())
                .expect("IR values always serialize");
        }
        assert_eq!(count, self.count, "one module's procedures");
        let out = std::mem::take(&mut self.out);
        self.out = postcard::to_extend(p, out).expect("IR values always serialize");
        self.pushed += 1;
    }

    /// The object of `m`, whose procedures (bodies possibly taken) are the
    /// ones pushed, in the same order.
    pub fn finish(self, m: &Module) -> Vec<u8> {
        assert_eq!(
            m.procs.len(),
            self.pushed,
            "every procedure of the module is pushed once"
        );
        let mut out = self.out;
        if self.pushed == 0 {
            out = postcard::to_extend(&(MAGIC, FORMAT, &m.file, 0usize), out)
                .expect("IR values always serialize");
        }
        let tail = (&m.globals, &m.iprocs, &m.mprocs);
        let mut out = postcard::to_extend(&tail, out).expect("IR values always serialize");
        out.shrink_to_fit();
        out
    }
}

/// Decodes a `.o` file, checking the magic number and format first so
/// that a wrong file gets a message rather than a decoding error.
pub fn read_object(bytes: &[u8]) -> Result<Module, ObjectError> {
    if bytes.len() < 4 {
        return Err(ObjectError::TooShort(bytes.len()));
    }
    let magic: [u8; 4] = bytes[..4].try_into().expect("four bytes");
    if magic != MAGIC {
        return Err(ObjectError::BadMagic(magic));
    }
    // The format follows the magic as a postcard varint.
    let (format, _) = postcard::take_from_bytes::<u32>(&bytes[4..])
        .map_err(|e| ObjectError::Corrupt(e.to_string()))?;
    if format != FORMAT {
        return Err(ObjectError::UnsupportedFormat {
            found: format,
            expected: FORMAT,
        });
    }
    let (obj, rest) = postcard::take_from_bytes::<ObjectFile>(bytes)
        .map_err(|e| ObjectError::Corrupt(e.to_string()))?;
    if !rest.is_empty() {
        return Err(ObjectError::TrailingBytes(rest.len()));
    }
    Ok(obj.module)
}

/// One row of a delta file's procedure table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeltaProc {
    /// Its index in the module (source order).
    pub id: usize,
    /// Its name.
    pub name: String,
    /// Its signature.
    pub sig: Signature,
    /// The procedures it calls, sorted.
    pub callees: Vec<String>,
}

/// A parsed `.delta` file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeltaFile {
    /// The source file it was built from.
    pub file: String,
    /// The procedure table, in ID order.
    pub procs: Vec<DeltaProc>,
    /// δ* as written (components and the calls between them).
    pub delta: DeltaStar,
}

/// Why a delta file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("delta file, line {line}: {message}")]
pub struct DeltaError {
    /// 1-based line number (0: the file as a whole).
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

const DELTA_HEADER: &str = "# podus delta file";

/// The `.delta` format this build writes and reads (format 1 held the n × n
/// matrix; format 2 meant 64-bit by `int`, before C's integer types).
pub const DELTA_FORMAT: u32 = 3;

/// Writes the `.delta` text of a module.
///
/// After the procedure table, δ* as components numbered callees first, one
/// line each: `cK: IDs -> components it calls`, `cK*:` for a cycle (every
/// member reaches every member, itself included). δ*(P) is every member of
/// every component reachable from P's by one or more arrows, plus P's own
/// component's members if it is starred.
pub fn write_delta(module: &Module) -> String {
    use std::fmt::Write as _;
    let delta = DeltaStar::of_module(module);
    let mut out = String::new();
    out.push_str(DELTA_HEADER);
    out.push_str(" (ucc build): procedure table and delta*\n");
    let _ = writeln!(out, "format {DELTA_FORMAT}");
    let _ = writeln!(out, "file {}", module.file);
    let _ = writeln!(out, "procedures {}", module.procs.len());
    for (i, p) in module.procs.iter().enumerate() {
        let _ = write!(out, "{i} {} {} |", p.name, sig_string(&p.sig));
        for c in &p.callees {
            out.push(' ');
            out.push_str(c);
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "delta* computed for {} procedures: {} components, {} calls between them",
        module.procs.len(),
        delta.components(),
        delta.condensation_edges()
    );
    out.push_str("# cK: procedure IDs -> components called; * marks a cycle; callees come first\n");
    for c in 0..delta.components() {
        let comp = delta.component(c);
        let _ = write!(out, "c{c}{}:", if comp.cyclic { "*" } else { "" });
        for m in &comp.members {
            let _ = write!(out, " {m}");
        }
        out.push_str(" ->");
        for s in &comp.calls {
            let _ = write!(out, " {s}");
        }
        out.push('\n');
    }
    out
}

fn parse_scalar(s: &str) -> Option<Scalar> {
    Scalar::ALL.into_iter().find(|t| t.name() == s)
}

/// Parses `(int, double[]) -> void`.
fn parse_sig(s: &str) -> Option<Signature> {
    let (params, ret) = s.split_once(" -> ")?;
    let params = params.strip_prefix('(')?.strip_suffix(')')?;
    let params = if params.trim().is_empty() {
        Vec::new()
    } else {
        params
            .split(',')
            .map(|p| {
                let p = p.trim();
                match p.strip_suffix("[]") {
                    Some(e) => parse_scalar(e).map(ParamTy::ArrayRef),
                    None => parse_scalar(p).map(ParamTy::Scalar),
                }
            })
            .collect::<Option<Vec<_>>>()?
    };
    let ret = match ret.trim() {
        "void" => RetTy::Void,
        r => RetTy::Scalar(parse_scalar(r)?),
    };
    Some(Signature { params, ret })
}

/// Parses a `.delta` file written by [`write_delta`].
pub fn read_delta(text: &str) -> Result<DeltaFile, DeltaError> {
    let err = |line: usize, message: String| DeltaError { line, message };
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    let mut next = |what: &str| {
        lines
            .next()
            .ok_or_else(|| err(0, format!("ends early: expected {what}")))
    };

    let (n, l) = next("the header")?;
    if !l.starts_with(DELTA_HEADER) {
        return Err(err(n, "not a podus delta file (bad header)".into()));
    }
    let (n, l) = next("the format line")?;
    match l.strip_prefix("format ").map(str::parse::<u32>) {
        Some(Ok(DELTA_FORMAT)) => {}
        Some(Ok(f)) => {
            return Err(err(
                n,
                format!(
                    "format {f} is not supported (this build reads format {DELTA_FORMAT}); rebuild it with this ucc"
                ),
            ));
        }
        _ => return Err(err(n, "expected `format N`".into())),
    }
    let (n, l) = next("the file line")?;
    let file = l
        .strip_prefix("file ")
        .ok_or_else(|| err(n, "expected `file NAME`".into()))?
        .to_string();
    let (n, l) = next("the procedure count")?;
    let count: usize = l
        .strip_prefix("procedures ")
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| err(n, "expected `procedures N`".into()))?;

    let mut procs = Vec::with_capacity(count);
    for id in 0..count {
        let (n, l) = next("a procedure line")?;
        let bad = |why: &str| err(n, format!("bad procedure line ({why}): `{l}`"));
        let (left, callees) = l.split_once(" |").ok_or_else(|| bad("no `|`"))?;
        let mut parts = left.splitn(3, ' ');
        let got_id: usize = parts
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("no ID"))?;
        if got_id != id {
            return Err(bad(&format!("expected ID {id}")));
        }
        let name = parts.next().ok_or_else(|| bad("no name"))?.to_string();
        let sig = parts
            .next()
            .and_then(parse_sig)
            .ok_or_else(|| bad("bad signature"))?;
        let callees = callees.split_whitespace().map(str::to_string).collect();
        procs.push(DeltaProc {
            id,
            name,
            sig,
            callees,
        });
    }
    let (n, l) = next("the delta* heading")?;
    let heading = format!("delta* computed for {count} procedures: ");
    let ncomps: usize = l
        .strip_prefix(&heading)
        .and_then(|r| r.split_once(" components"))
        .and_then(|(k, _)| k.parse().ok())
        .ok_or_else(|| err(n, format!("expected `{heading}K components, ...`")))?;
    if ncomps > count {
        return Err(err(
            n,
            format!("{ncomps} components for {count} procedures"),
        ));
    }
    let mut comps = Vec::with_capacity(ncomps);
    let mut last = n;
    while comps.len() < ncomps {
        let (n, l) = next("a delta* component line")?;
        last = n;
        if l.starts_with('#') {
            continue;
        }
        let c = comps.len();
        let bad = |why: &str| err(n, format!("bad component line ({why}): `{l}`"));
        let (head, rest) = l.split_once(':').ok_or_else(|| bad("no `:`"))?;
        let (num, cyclic) = match head.strip_suffix('*') {
            Some(h) => (h, true),
            None => (head, false),
        };
        if num != format!("c{c}") {
            return Err(bad(&format!("expected component c{c}")));
        }
        let (ms, calls) = rest.split_once(" ->").ok_or_else(|| bad("no `->`"))?;
        let nums = |s: &str| {
            s.split_whitespace()
                .map(|x| x.parse::<u32>().ok())
                .collect::<Option<Vec<u32>>>()
        };
        comps.push(Component {
            members: nums(ms).ok_or_else(|| bad("bad procedure ID"))?,
            cyclic,
            calls: nums(calls).ok_or_else(|| bad("bad component number"))?,
        });
    }
    let delta = DeltaStar::from_components(count, &comps).map_err(|e| err(last, e))?;
    if let Some((n, l)) = lines.find(|(_, l)| !l.trim().is_empty()) {
        return Err(err(
            n,
            format!("unexpected text after the components: `{l}`"),
        ));
    }
    Ok(DeltaFile { file, procs, delta })
}

impl DeltaFile {
    /// Checks that this delta file describes `module` (the `.o` loaded with
    /// it): the same procedures in the same order with the same signatures
    /// and callees, and the δ* the module's call graph gives.
    pub fn check_module(&self, module: &Module) -> Result<(), String> {
        if self.procs.len() != module.procs.len() {
            return Err(format!(
                "the delta file lists {} procedures but the object file has {}",
                self.procs.len(),
                module.procs.len()
            ));
        }
        for (d, p) in self.procs.iter().zip(&module.procs) {
            if d.name != p.name {
                return Err(format!(
                    "procedure {}: the delta file says `{}`, the object file `{}`",
                    d.id, d.name, p.name
                ));
            }
            if d.sig != p.sig {
                return Err(format!(
                    "`{}`: the delta file says {}, the object file {}",
                    d.name,
                    sig_string(&d.sig),
                    sig_string(&p.sig)
                ));
            }
            if d.callees != p.callees {
                return Err(format!(
                    "`{}`: the delta file and the object file disagree on its callees",
                    d.name
                ));
            }
        }
        if self.delta != DeltaStar::of_module(module) {
            return Err(
                "the delta* components disagree with the call graph of the object file".into(),
            );
        }
        Ok(())
    }
}

impl fmt::Display for DeltaProc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} {}", self.id, self.name, sig_string(&self.sig))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Encoding by reference writes the bytes the owned `ObjectFile` does,
    /// so objects written before and after read the same.
    #[test]
    fn by_reference_encoding_is_the_owned_encoding() {
        let m = crate::compile("g.uc", &crate::synth::program(30)).expect("compiles");
        let owned = ObjectFile {
            magic: MAGIC,
            format: FORMAT,
            module: m.clone(),
        };
        let bytes = write_object(&m);
        assert_eq!(bytes, postcard::to_stdvec(&owned).expect("serializes"));
        assert_eq!(read_object(&bytes).expect("reads back"), m);
    }
}
