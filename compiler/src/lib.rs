//! The UC compiler front end.
//!
//! Text goes in, checked IR comes out; nothing here knows about sockets or
//! memory maps.
//!
//! - [`lexer`]: logos tokens for LALRPOP. Invariant: never fails; a lexical
//!   error is a [`lexer::Tok::Error`] token so that parsing can recover.
//! - [`ast`]: the syntax tree. Invariant: exactly what was written, with
//!   spans; nothing resolved.
//! - [`parse`]: LALRPOP grammar (`grammar.lalrpop`) driver. Invariant:
//!   parsing never fails outright; it returns a tree and every syntax error
//!   it recovered from.
//! - [`check`]: names and types, AST → IR. Invariant: IR is returned only
//!   when no error was found, so it always satisfies [`ir`]'s invariants.
//! - [`ir`]: the typed, serializable IR the VM lowers (the contract with `vm`).
//!   Invariant: every name resolved, every conversion explicit.
//! - [`diag`]: diagnostics and their rendering. Invariant: every message
//!   carries a byte span; only `render` turns spans into `file:line:col`.
//! - [`callgraph`]: δ* (transitive callees) of a module. Invariant: `P ∈
//!   δ*(P)` only if P is on a call cycle.
//! - [`diff`]: which procedures and globals changed between two modules and
//!   why. Invariant: compares normalized IR, so spans, comments, layout and
//!   local names never count as a change.
//! - [`changes`]: the changes file of SPEC §4.3. Invariant: every error names
//!   its line and column.
//! - [`object`]: the `.o` (postcard IR) and `.delta` (text) files `ucc
//!   build` writes. Invariant: a file is checked (magic, format, cross-check)
//!   before anything in it is trusted.
//! - [`pp`]: the preprocessor between the lexer and the parser
//!   (`#include "FILE"`, macros, conditionals). Invariant: never fails; a
//!   problem is an error token at the place the text was written.
//! - [`source`]: a program of several files as one combined text.
//!   Invariant: a text without a NUL byte is exactly one file; every span
//!   is an offset into the combined text, mapped back by [`source::locate`].
//! - [`loops`]: loop identity, matching between versions and local mapping
//!   for moving a running loop's frame (SPEC §4.6). Invariant: pure, reads the IR only.
//! - [`synth`]: generated programs for scale tests and benchmarks.
//!
//! Public entry points (the contract the VM, pup and ush rely on):
//! - [`read_program`]: a main file and every file it includes, as the one
//!   text the compile functions take (a single file's text works as well).
//! - [`compile`]: source → [`ir::Module`] or diagnostics.
//! - [`compile_update`]: the same, checking `iproc`/`mproc` against the
//!   previous version's module.
//! - [`compile_for_load`]: the same, encoded for a pup procedure by
//!   procedure, keeping no bodies (what ush's `load` uses).
//! - [`callgraph::DeltaStar`]: δ* of a module.
//! - [`diff::diff`]: which procedures changed between two modules and why.
//! - [`changes::parse`]: the changes file of SPEC §4.3, and
//!   [`changes::check_against`] a computed diff.
//! - [`object::write_object`] / [`object::read_object`] and
//!   [`object::write_delta`] / [`object::read_delta`]: `ucc build` output;
//!   [`object::DeltaFile::check_module`] cross-checks a `.delta` with its `.o`.

#![warn(missing_docs)]

pub mod ast;
pub mod callgraph;
pub mod changes;
pub mod check;
pub mod diag;
pub mod diff;
pub mod ir;
pub mod lexer;
pub mod limits;
pub mod loops;
pub mod object;
pub mod parse;
pub mod pp;
pub mod source;
pub mod synth;
mod typedefs;

pub use diag::{Diagnostic, Diagnostics};

/// What a loader needs of a compiled version, without its procedure
/// bodies: the encoded object (bodies included), the module with the
/// bodies taken out, and the summary [`diff`] compares.
#[derive(Debug)]
pub struct Compiled {
    /// The module; every `Proc::body` is empty (the object holds them).
    pub module: ir::Module,
    /// The `.o` bytes, exactly [`object::write_object`] of the whole module.
    pub object: Vec<u8>,
    /// What [`diff::diff_summaries`] needs to compare this version (with
    /// digests of procedure code: [`diff::Summary::digested`]).
    pub summary: diff::Summary,
}

/// Compiles one UC source file into a checked module. `file` is only used
/// in the module (for messages); `src` is the text. Syntax errors stop
/// before checking (a broken tree would only produce follow-on errors);
/// otherwise every independent type error is reported.
pub fn compile(file: &str, src: &str) -> Result<ir::Module, Diagnostics> {
    compile_update(file, src, None)
}

/// Like [`compile`], for a new version of a program whose previous version
/// is `prev`: `old.NAME` in an mproc takes its type from `prev`, and an
/// iproc's declared old signature must equal `prev`'s. With `prev = None`
/// this is [`compile`] (old statics are assumed to have their new types).
pub fn compile_update(
    file: &str,
    src: &str,
    prev: Option<&ir::Module>,
) -> Result<ir::Module, Diagnostics> {
    check::check(file, src, parse_clean(file, src)?, prev).map_err(Diagnostics)
}

/// The whole text's syntax tree, or its syntax errors in source order.
/// Syntax errors stop before checking: a broken tree would only produce
/// follow-on errors.
fn parse_clean(file: &str, src: &str) -> Result<ast::Program, Diagnostics> {
    let (program, mut syntax) = parse::parse_file(file, src);
    if !syntax.is_empty() {
        // Recovered errors come in the order the parser met them, and the
        // final one last; a reader wants them in source order.
        syntax.sort_by_key(|d| (d.span.start, d.span.end));
        return Err(Diagnostics(syntax));
    }
    Ok(program)
}

/// [`compile_update`] for loading: each procedure is encoded into the
/// object and summarized as soon as it is checked, and its body dropped,
/// so that a large program never holds all of its IR (SPEC §7: 50,000
/// procedures through ush under 300 MiB).
pub fn compile_for_load(
    file: &str,
    src: &str,
    prev: Option<&ir::Module>,
) -> Result<Compiled, Diagnostics> {
    compile_for_load_with(file, src, prev, src.len() >= ITEMWISE_MIN_BYTES)
}

/// Sources at least this large are parsed item by item by
/// [`compile_for_load`] (about 15,000 generated procedures). Each procedure
/// is then parsed twice (once for its signature, once for its body, right
/// before it is checked): at 50,000 generated procedures the front end
/// takes 3.6-4.3 s instead of 2.7-2.8 s, and holds the syntax tree of one
/// procedure at a time instead of all of them (about 4 KB per procedure,
/// 200 MB at 50,000).
pub const ITEMWISE_MIN_BYTES: usize = 4 << 20;

/// [`compile_for_load`], choosing whether to parse item by item (when the
/// source allows it: [`parse::item_ranges`]). Both ways give the same
/// result; tests compare them.
pub fn compile_for_load_with(
    file: &str,
    src: &str,
    prev: Option<&ir::Module>,
    itemwise: bool,
) -> Result<Compiled, Diagnostics> {
    let mut writer = object::ObjectWriter::new();
    let mut summary = diff::Summary::digested();
    let mut on_proc = |p: &mut ir::Proc, count: usize| {
        writer.push_proc(p, file, count);
        summary.take_proc(p);
    };
    let module = match itemwise.then(|| headers(src)).flatten() {
        Some((program, ranges)) => {
            let mut bodies = |i: usize| -> Vec<ast::Stmt> {
                let range = ranges[i].clone().expect("a procedure item has its range");
                let items = parse::parse_range(src, range).expect("parsed once already");
                match items.into_iter().next() {
                    Some(ast::Item::Proc(def)) => def.body,
                    _ => unreachable!("the same text parses to the same procedure"),
                }
            };
            check::check_with(file, src, program, prev, Some(&mut bodies), &mut on_proc)
        }
        None => check::check_with(file, src, parse_clean(file, src)?, prev, None, &mut on_proc),
    }
    .map_err(Diagnostics)?;
    summary.add_rest(&module);
    let object = writer.finish(&module);
    Ok(Compiled {
        module,
        object,
        summary,
    })
}

/// Every item of `src` parsed on its own, procedures without their bodies,
/// and for each item the range of its procedure's text (`None` for other
/// items). `None` if the source cannot be split or an item does not parse
/// cleanly alone (the whole-text parse then gives the usual messages).
#[allow(clippy::type_complexity)]
fn headers(src: &str) -> Option<(ast::Program, Vec<Option<std::ops::Range<usize>>>)> {
    let mut items = Vec::new();
    let mut ranges = Vec::new();
    for r in parse::item_ranges(src)? {
        let parsed = parse::parse_range(src, r.clone())?;
        // A range holding a procedure must hold only it, so that its
        // re-parse finds it first.
        if parsed.len() > 1 && parsed.iter().any(|i| matches!(i, ast::Item::Proc(_))) {
            return None;
        }
        for mut item in parsed {
            let of_proc = match &mut item {
                ast::Item::Proc(def) => {
                    def.body = Vec::new();
                    Some(r.clone())
                }
                _ => None,
            };
            items.push(item);
            ranges.push(of_proc);
        }
    }
    Some((ast::Program { items }, ranges))
}

/// Why a file could not be taken as UC source text.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The file could not be read at all.
    #[error("cannot read {path}: {err}")]
    Read {
        /// The file as named.
        path: String,
        /// What the system said.
        err: std::io::Error,
    },
    /// The file is not text: UC source is UTF-8 (a binary, an object file).
    #[error(
        "{path} is not UC source: byte {offset} (line {line}, column {column}) is not UTF-8 text"
    )]
    NotText {
        /// The file as named.
        path: String,
        /// The first byte that is not UTF-8.
        offset: usize,
        /// Its line, from 1.
        line: usize,
        /// Its column in bytes, from 1.
        column: usize,
    },
}

/// Reads a UC source file, saying where a file that is not text stops
/// being text (a user who gives `load` a binary or a `.o` by mistake learns
/// what it is, not that "stream did not contain valid UTF-8").
pub fn read_source(path: &std::path::Path) -> Result<String, SourceError> {
    let shown = || path.display().to_string();
    let bytes = std::fs::read(path).map_err(|err| SourceError::Read { path: shown(), err })?;
    String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let before = &e.as_bytes()[..offset];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = offset
            - before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
            + 1;
        SourceError::NotText {
            path: shown(),
            offset,
            line,
            column,
        }
    })
}

/// Reads a UC program: the file at `path` and every file reachable from it
/// by `#include "FILE"` lines (relative to the including file), as one
/// text ([`source`]) for [`compile`] and the other entry points, with
/// `path` as their `file`. Only the main file must be readable: an
/// included file that cannot be read is an error only where the
/// preprocessor really includes it (not inside a false `#if`).
pub fn read_program(path: &std::path::Path) -> Result<String, SourceError> {
    let main = read_source_text(path)?;
    let dir = path.parent().unwrap_or(std::path::Path::new(""));
    Ok(source::combine(main, &mut |rel| {
        read_source_text(&dir.join(rel)).map_err(|e| match e {
            SourceError::Read { path, err } => format!("cannot read {path}: {err}"),
            e => e.to_string(),
        })
    }))
}

/// [`read_source`], refusing a NUL byte too (C source has none, and it
/// would read as a file marker of a combined text).
fn read_source_text(path: &std::path::Path) -> Result<String, SourceError> {
    let text = read_source(path)?;
    match text.find('\0') {
        None => Ok(text),
        Some(offset) => {
            let (line, column) = diag::line_col(&text, offset);
            Err(SourceError::NotText {
                path: path.display().to_string(),
                offset,
                line,
                column,
            })
        }
    }
}
