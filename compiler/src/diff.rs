//! Which procedures and globals changed between two versions, and why.
//!
//! Both modules are normalized first — spans zeroed, local variable names
//! dropped — and the parts are compared as their postcard encodings, so
//! reformatting, comments and renaming a local never count as a change,
//! while anything the VM would run differently does (including `0.0` versus
//! `-0.0`, which `==` on floats would miss). Static names are kept: statics
//! are carried across versions by name, so renaming one changes meaning.

use crate::ir::{Arg, Expr, ExprKind, Local, Module, Place, PrintArg, Proc, Span, Stmt, VarTy};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::fmt;

/// Why a procedure counts as changed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// Its body, local types or callees differ.
    Code,
    /// Its parameter or return types differ.
    Signature,
    /// Its statics (names, types, initial values) differ.
    Statics,
    /// It reads or writes a different set of globals.
    GlobalsUsed,
    /// The new version has an iproc for it.
    IProc,
    /// The new version has an mproc for it.
    MProc,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Reason::Code => "code",
            Reason::Signature => "signature",
            Reason::Statics => "statics",
            Reason::GlobalsUsed => "globals used",
            Reason::IProc => "iproc",
            Reason::MProc => "mproc",
        })
    }
}

/// A changed procedure and every reason it counts as changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changed {
    /// The procedure's name.
    pub name: String,
    /// Why, in [`Reason`] order; never empty.
    pub reasons: Vec<Reason>,
}

impl fmt::Display for Changed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (", self.name)?;
        for (i, r) in self.reasons.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{r}")?;
        }
        f.write_str(")")
    }
}

/// The difference between two versions. Procedure lists are in the new
/// module's order (removed ones in the old module's order).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    /// Procedures in both versions that changed.
    pub changed: Vec<Changed>,
    /// Procedures in both versions that did not change.
    pub unchanged: Vec<String>,
    /// Procedures only in the new version.
    pub added: Vec<String>,
    /// Procedures only in the old version.
    pub removed: Vec<String>,
    /// Globals in both versions whose type or initializer differs, or that
    /// the new version gives an mproc.
    pub changed_globals: Vec<String>,
    /// Globals only in the new version.
    pub added_globals: Vec<String>,
    /// Globals only in the old version.
    pub removed_globals: Vec<String>,
}

impl Diff {
    /// Names of the changed procedures, in order.
    pub fn changed_names(&self) -> Vec<&str> {
        self.changed.iter().map(|c| c.name.as_str()).collect()
    }

    /// Is `name` a changed procedure?
    pub fn is_changed(&self, name: &str) -> bool {
        self.changed.iter().any(|c| c.name == name)
    }

    /// True if nothing at all differs.
    pub fn is_empty(&self) -> bool {
        self.changed.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.changed_globals.is_empty()
            && self.added_globals.is_empty()
            && self.removed_globals.is_empty()
    }
}

impl fmt::Display for Diff {
    /// The report `ucc diff` prints: one section per kind, `(none)` for an
    /// empty one, so scripts can grep for a name under a heading.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "changed procedures:")?;
        if self.changed.is_empty() {
            writeln!(f, "  (none)")?;
        }
        for c in &self.changed {
            writeln!(f, "  {c}")?;
        }
        let list = |f: &mut fmt::Formatter<'_>, title: &str, names: &[String]| {
            if names.is_empty() {
                writeln!(f, "{title}: (none)")
            } else {
                writeln!(f, "{title}: {}", names.join(" "))
            }
        };
        list(f, "unchanged procedures", &self.unchanged)?;
        list(f, "added procedures", &self.added)?;
        list(f, "removed procedures", &self.removed)?;
        list(f, "changed globals", &self.changed_globals)?;
        list(f, "added globals", &self.added_globals)?;
        list(f, "removed globals", &self.removed_globals)
    }
}

/// What changed type between two versions, one line each, for `ucc diff`:
/// `global total: int -> double`, `static tick.count: int -> double[4]`,
/// `signature of f: (int) -> int -> (double) -> int`. Statics are matched
/// by name, as an update carries them; names in new-module order.
pub fn type_changes(old: &Module, new: &Module) -> Vec<String> {
    let mut out = Vec::new();
    let old_globals: HashMap<&str, VarTy> = old
        .globals
        .iter()
        .map(|g| (g.name.as_str(), g.ty))
        .collect();
    for g in &new.globals {
        if let Some(&t) = old_globals.get(g.name.as_str())
            && t != g.ty
        {
            out.push(format!("global {}: {t} -> {}", g.name, g.ty));
        }
    }
    let old_procs: HashMap<&str, &Proc> = old.procs.iter().map(|p| (p.name.as_str(), p)).collect();
    for p in &new.procs {
        let Some(o) = old_procs.get(p.name.as_str()) else {
            continue;
        };
        if o.sig != p.sig {
            out.push(format!(
                "signature of {}: {} -> {}",
                p.name,
                crate::check::sig_string(&o.sig),
                crate::check::sig_string(&p.sig)
            ));
        }
        for st in &p.statics {
            if let Some(os) = o.statics.iter().find(|s| s.name == st.name)
                && os.ty != st.ty
            {
                out.push(format!(
                    "static {}.{}: {} -> {}",
                    p.name, st.name, os.ty, st.ty
                ));
            }
        }
    }
    out
}

/// Compares two versions of a program.
pub fn diff(old: &Module, new: &Module) -> Diff {
    diff_summaries(&Summary::of(old), &Summary::of(new))
}

/// What [`diff`] compares of a module, without the procedure bodies: each
/// procedure's normalized code as bytes. A large program's loader keeps
/// this instead of the IR (a few hundred bytes per procedure, not a tree).
///
/// A summary made by [`Summary::digested`] keeps a 128-bit digest of each
/// procedure's code instead of the code's bytes (as large as the object):
/// what ush keeps of a loaded version. Summaries are compared only with
/// summaries made the same way.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    digest: bool,
    procs: Vec<(String, Normalized)>,
    globals: Vec<(String, Vec<u8>)>,
    iprocs: HashSet<String>,
    mprocs: HashSet<String>,
}

impl Summary {
    /// The summary of a whole module (bodies included).
    pub fn of(m: &Module) -> Summary {
        let mut s = Summary::default();
        m.procs.iter().for_each(|p| s.add_proc(p));
        s.add_rest(m);
        s
    }

    /// An empty summary that keeps digests of procedure code.
    pub fn digested() -> Summary {
        Summary {
            digest: true,
            ..Summary::default()
        }
    }

    /// [`Summary::of`], keeping digests of procedure code.
    pub fn of_digested(m: &Module) -> Summary {
        let mut s = Summary::digested();
        m.procs.iter().for_each(|p| s.add_proc(p));
        s.add_rest(m);
        s
    }

    /// Adds one procedure, while its body exists (in module order).
    pub fn add_proc(&mut self, p: &Proc) {
        self.push(p, Normalized::of(p));
    }

    /// [`Summary::add_proc`], taking the body out of `p` (the load path,
    /// which has encoded it and drops it next).
    pub fn take_proc(&mut self, p: &mut Proc) {
        let body = std::mem::take(&mut p.body);
        self.push(p, Normalized::of_body(p, body));
    }

    fn push(&mut self, p: &Proc, mut n: Normalized) {
        if self.digest {
            n.code = digest(&n.code);
        }
        self.procs.push((p.name.clone(), n));
    }

    /// Takes the entries of the procedures in `names` from `other` (the
    /// version those procedures will be running), where both have them:
    /// one pass over each summary.
    pub fn replace_procs_from(&mut self, names: &HashSet<&str>, other: &Summary) {
        let theirs: HashMap<&str, &Normalized> = other
            .procs
            .iter()
            .filter(|(n, _)| names.contains(n.as_str()))
            .map(|(n, p)| (n.as_str(), p))
            .collect();
        for (n, ours) in self.procs.iter_mut() {
            if let Some(t) = theirs.get(n.as_str()) {
                *ours = (*t).clone();
            }
        }
    }

    /// Adds `m`'s globals, iprocs and mprocs (its procedures are added one
    /// at a time with [`Summary::add_proc`]).
    pub fn add_rest(&mut self, m: &Module) {
        self.globals = m
            .globals
            .iter()
            .map(|g| (g.name.clone(), bytes(&(g.ty, &g.init))))
            .collect();
        self.iprocs = m.iprocs.iter().map(|i| i.name.clone()).collect();
        self.mprocs = m.mprocs.iter().map(|m| m.name.clone()).collect();
    }
}

/// [`diff`] over summaries (made the same way: both digested or neither).
pub fn diff_summaries(old: &Summary, new: &Summary) -> Diff {
    assert_eq!(
        old.digest, new.digest,
        "summaries compared are made the same way"
    );
    let old_procs: HashMap<&str, &Normalized> =
        old.procs.iter().map(|(n, p)| (n.as_str(), p)).collect();
    let new_names: HashSet<&str> = new.procs.iter().map(|(n, _)| n.as_str()).collect();

    let mut d = Diff::default();
    for (name, n) in &new.procs {
        let Some(o) = old_procs.get(name.as_str()) else {
            d.added.push(name.clone());
            continue;
        };
        let mut reasons = Vec::new();
        if o.code != n.code {
            reasons.push(Reason::Code);
        }
        if o.sig != n.sig {
            reasons.push(Reason::Signature);
        }
        if o.statics != n.statics {
            reasons.push(Reason::Statics);
        }
        if o.globals_used != n.globals_used {
            reasons.push(Reason::GlobalsUsed);
        }
        if new.iprocs.contains(name) {
            reasons.push(Reason::IProc);
        }
        if new.mprocs.contains(name) {
            reasons.push(Reason::MProc);
        }
        if reasons.is_empty() {
            d.unchanged.push(name.clone());
        } else {
            d.changed.push(Changed {
                name: name.clone(),
                reasons,
            });
        }
    }
    d.removed = old
        .procs
        .iter()
        .filter(|(n, _)| !new_names.contains(n.as_str()))
        .map(|(n, _)| n.clone())
        .collect();

    let old_globals: HashMap<&str, &Vec<u8>> =
        old.globals.iter().map(|(n, b)| (n.as_str(), b)).collect();
    let new_globals: HashSet<&str> = new.globals.iter().map(|(n, _)| n.as_str()).collect();
    for (name, b) in &new.globals {
        match old_globals.get(name.as_str()) {
            None => d.added_globals.push(name.clone()),
            Some(o) => {
                if *o != b || new.mprocs.contains(name) {
                    d.changed_globals.push(name.clone());
                }
            }
        }
    }
    d.removed_globals = old
        .globals
        .iter()
        .filter(|(n, _)| !new_globals.contains(n.as_str()))
        .map(|(n, _)| n.clone())
        .collect();
    d
}

/// The comparable parts of a procedure, each as canonical bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct Normalized {
    code: Vec<u8>,
    sig: Vec<u8>,
    statics: Vec<u8>,
    globals_used: Vec<u8>,
}

impl Normalized {
    fn of(p: &Proc) -> Normalized {
        Normalized::of_body(p, p.body.clone())
    }

    /// [`Normalized::of`] with `p`'s body given (owned, so that a caller
    /// done with the body does not pay for a copy).
    fn of_body(p: &Proc, mut body: Vec<Stmt>) -> Normalized {
        body.iter_mut().for_each(zero_stmt);
        // Local names are for debugging only; their kinds and order (the
        // LocalIds the body uses) are what the code means.
        let locals: Vec<_> = p.locals.iter().map(|l: &Local| l.ty).collect();
        let statics: Vec<(&str, VarTy, u32, &[crate::ir::Const])> = p
            .statics
            .iter()
            .map(|s| (s.name.as_str(), s.ty, s.offset, s.init.as_slice()))
            .collect();
        Normalized {
            code: bytes(&(&body, &locals, &p.callees)),
            sig: bytes(&p.sig),
            statics: bytes(&statics),
            globals_used: bytes(&p.globals_used),
        }
    }
}

/// 128 bits of `code`: two SipHash-1-3 runs with different keys. Used
/// only within one process (ush's summaries), never stored or sent, so the
/// hasher's stability across Rust releases does not matter.
fn digest(code: &[u8]) -> Vec<u8> {
    use std::hash::Hasher;
    let run = |key: u8| {
        let mut h = std::hash::DefaultHasher::new();
        h.write_u8(key);
        h.write(code);
        h.finish()
    };
    let mut out = run(0).to_le_bytes().to_vec();
    out.extend_from_slice(&run(1).to_le_bytes());
    out
}

fn bytes<T: Serialize>(v: &T) -> Vec<u8> {
    postcard::to_stdvec(v).expect("IR values always serialize")
}

fn zero_stmt(s: &mut Stmt) {
    match s {
        Stmt::Expr(e) => zero_expr(e),
        Stmt::If { cond, then, els } => {
            zero_expr(cond);
            then.iter_mut().chain(els.iter_mut()).for_each(zero_stmt);
        }
        Stmt::Loop { cond, body, step } => {
            if let Some(c) = cond {
                zero_expr(c);
            }
            body.iter_mut().chain(step.iter_mut()).for_each(zero_stmt);
        }
        Stmt::Return(Some(e)) => zero_expr(e),
        Stmt::DoWhile { body, cond } => {
            body.iter_mut().for_each(zero_stmt);
            zero_expr(cond);
        }
        Stmt::Switch { value, arms } => {
            zero_expr(value);
            arms.iter_mut()
                .flat_map(|a| a.body.iter_mut())
                .for_each(zero_stmt);
        }
        Stmt::Block(b) => b.iter_mut().for_each(zero_stmt),
        Stmt::Break | Stmt::Continue | Stmt::Return(None) | Stmt::Label(_) | Stmt::Goto(_) => {}
    }
}

fn zero_place(p: &mut Place) {
    match p {
        Place::Index { base, index } => {
            zero_place(base);
            zero_expr(index);
        }
        Place::Deref { addr, .. } => zero_expr(addr),
        _ => {}
    }
}

fn zero_expr(e: &mut Expr) {
    e.span = Span::default();
    match &mut e.kind {
        ExprKind::Int(_) | ExprKind::Double(_) => {}
        ExprKind::Load(p)
        | ExprKind::Len(p)
        | ExprKind::AddrOf(p)
        | ExprKind::IncDec { place: p, .. } => zero_place(p),
        ExprKind::Assign { place, value, .. } => {
            zero_place(place);
            zero_expr(value);
        }
        ExprKind::Binary { lhs, rhs, .. }
        | ExprKind::Logic { lhs, rhs, .. }
        | ExprKind::Comma {
            first: lhs,
            then: rhs,
        } => {
            zero_expr(lhs);
            zero_expr(rhs);
        }
        ExprKind::Cond { cond, then, els } => {
            zero_expr(cond);
            zero_expr(then);
            zero_expr(els);
        }
        ExprKind::Unary { operand, .. } | ExprKind::Cast { operand, .. } => zero_expr(operand),
        ExprKind::Call { args, .. } => {
            for a in args {
                match a {
                    Arg::Value(e) => zero_expr(e),
                    Arg::Array(p) => zero_place(p),
                }
            }
        }
        ExprKind::Printf { args, .. } => {
            for a in args {
                match a {
                    PrintArg::Value(e) | PrintArg::CStr(e) => zero_expr(e),
                    PrintArg::CharArray(p) => zero_place(p),
                    PrintArg::Str(_) => {}
                }
            }
        }
        ExprKind::Builtin { args, .. } | ExprKind::Libc { args, .. } => {
            args.iter_mut().for_each(zero_expr)
        }
    }
}
