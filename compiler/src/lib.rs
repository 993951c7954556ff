//! The UC compiler front end.
//!
//! Text goes in, checked IR comes out; nothing here knows about sockets or
//! memory maps.
//!
//! - [`ir`]: the typed, serializable IR the VM lowers (the contract with `vm`).
//!   Invariant: every name resolved, every conversion explicit.
//!
//! Public entry points (the contract the VM, pup and ush rely on):
//! - [`compile`]: source → [`ir::Module`] or diagnostics.
//! - [`compile_update`]: the same, checking `iproc`/`mproc` against the
//!   previous version's module.
//! - [`callgraph::DeltaStar`]: δ* of a module.
//! - [`diff::diff`]: which procedures changed between two modules and why.
//! - [`changes::parse`]: the changes file of SPEC §4.3.

pub mod ir;
