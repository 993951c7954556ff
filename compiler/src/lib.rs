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
//! - [`synth`]: generated programs for scale tests and benchmarks.
//!
//! Public entry points (the contract the VM, pup and ush rely on):
//! - [`compile`]: source → [`ir::Module`] or diagnostics.
//! - [`compile_update`]: the same, checking `iproc`/`mproc` against the
//!   previous version's module.
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
pub mod object;
pub mod parse;
pub mod synth;

pub use diag::{Diagnostic, Diagnostics};

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
    let (program, mut syntax) = parse::parse(src);
    if !syntax.is_empty() {
        // Recovered errors come in the order the parser met them, and the
        // final one last; a reader wants them in source order.
        syntax.sort_by_key(|d| (d.span.start, d.span.end));
        return Err(Diagnostics(syntax));
    }
    check::check(file, src, program, prev).map_err(Diagnostics)
}
