//! Name resolution and type checking: syntax tree in, [`ir::Module`] out.
//!
//! The checker keeps going after an error: an expression that fails yields
//! `None`, the enclosing statement is dropped, and checking continues with
//! the next one, so one run reports every independent mistake without
//! cascades. The IR is only returned when no error was found, so it always
//! satisfies the invariants documented in [`crate::ir`].
//!
//! The checker's five jobs live in submodules: the top level (this
//! file: the shared name space, signatures, procedure/iproc/mproc
//! bodies), [`consts`] (constant folding with C's semantics, array
//! lengths, static initializers), [`stmt`] (statements and
//! declarations), [`expr`] (places and expressions with C's
//! conversions), [`call`] (calls, builtins and printf formats) and
//! [`ptr`] (pointers: `*`, `&`, pointer arithmetic, string literals,
//! the heap and the C library over the program's memory).

use crate::ast::{self, Init, Params, RetName, TypeName};
use crate::diag::{Diagnostic, line_col};
use crate::ir::{
    self, Arg, BinOp, Builtin, Const, Expr, ExprKind, FmtPiece, Global, IProc, Local, LocalId,
    LocalTy, MProc, Module, OldStatic, ParamTy, Place, PrintArg, Proc, PtrTy, RetTy, Scalar,
    Signature, Span, Static, Stmt, UnOp, VarTy,
};
use crate::limits::{DATA_SEGMENT_BYTES, MAX_NAMES};
use std::collections::{BTreeSet, HashMap};

/// The longest array UC accepts (elements). Large enough for real
/// programs, small enough that sizes stay far from `u32` overflow and a
/// stack frame stays sane.
pub const MAX_ARRAY_LEN: u32 = 1 << 16;

/// Names that the language reserves for builtins.
const BUILTINS: &[&str] = &["printf", "sleep_ms", "now_ms", "len", "exit"];

/// The C library functions UC provides (SPEC 2.2). A program may define
/// its own procedure of one of these names, which then wins, as a C
/// program's own definition would.
const LIBC: &[&str] = &[
    "sqrt", "floor", "ceil", "fabs", "sin", "cos", "tan", "atan", "atan2", "exp", "log", "log10",
    "pow", "fmod", "abs", "labs", "putchar", "puts", "rand", "srand",
];

/// C features UC leaves out that show up as calls, with what to say.
const LEFT_OUT_CALLS: &[(&str, &str)] = &[];

/// Checks a parsed program. `prev` is the module of the version being
/// replaced, when known: it gives `old.NAME` its type and is what `iproc`
/// signatures are checked against.
///
/// The program is taken by value so that each procedure's body is dropped
/// as soon as its IR exists: a large program never holds its whole syntax
/// tree and its whole IR at once (SPEC §7, memory linear in program size).
pub fn check(
    file: &str,
    src: &str,
    prog: ast::Program,
    prev: Option<&Module>,
) -> Result<Module, Vec<Diagnostic>> {
    check_with(file, src, prog, prev, None, &mut |_, _| {})
}

/// [`check`], handing each procedure to `on_proc` as soon as its IR is
/// complete (in module order, while no error has been found), before the
/// rest are checked, with the number of procedures the module will hold.
///
/// With `bodies`, procedure items in `prog` come without their bodies, and
/// `bodies(i)` gives item `i`'s body just before it is checked (a parse of
/// that item alone): the whole syntax tree never exists at once.
///
/// `on_proc` may take the body away (to encode it and drop it): the
/// returned module then holds what was left. When the result is an error,
/// what `on_proc` saw must be discarded.
pub fn check_with(
    file: &str,
    src: &str,
    mut prog: ast::Program,
    prev: Option<&Module>,
    bodies: Option<&mut dyn FnMut(usize) -> Vec<ast::Stmt>>,
    on_proc: &mut dyn FnMut(&mut Proc, usize),
) -> Result<Module, Vec<Diagnostic>> {
    let mut ck = Checker {
        src,
        prev,
        diags: Vec::new(),
        env: Env::default(),
    };
    let module = ck.module(file, &mut prog, bodies, on_proc);
    if ck.diags.is_empty() {
        Ok(module)
    } else {
        ck.diags.sort_by_key(|d| (d.span.start, d.span.end));
        Err(ck.diags)
    }
}

/// `int`, `double[]`, ... as a person would write the parameter type.
pub fn param_ty_name(p: ParamTy) -> String {
    match p {
        ParamTy::Scalar(s) => s.name().to_string(),
        ParamTy::ArrayRef(s) => format!("{}[]", s.name()),
        ParamTy::Ptr(p) => p.to_string(),
    }
}

fn ret_name(r: RetTy) -> String {
    match r {
        RetTy::Void => "void".into(),
        RetTy::Scalar(s) => s.name().into(),
        RetTy::Ptr(p) => p.to_string(),
    }
}

/// `(int, double[]) -> void`: a signature as messages and delta files show it.
pub fn sig_string(sig: &Signature) -> String {
    let params: Vec<String> = sig.params.iter().map(|p| param_ty_name(*p)).collect();
    format!("({}) -> {}", params.join(", "), ret_name(sig.ret))
}

/// `an int` / `a double`, for messages.
fn a_scalar(s: Scalar) -> String {
    let n = s.name();
    let vowel = n.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {n}", if vowel { "an" } else { "a" })
}

fn zero(s: Scalar) -> Const {
    if s.is_float() {
        Const::Double(0.0)
    } else {
        Const::Int(0)
    }
}

/// The literal 0 of type `s`.
fn zero_expr(s: Scalar, span: Span) -> Expr {
    let mut e = lit(zero(s), span);
    e.ty = Some(s);
    e
}

/// A folded constant of a C arithmetic type: an integer normalized to
/// its type ([`Scalar::wrap`]), or a floating value (a `float`'s already
/// rounded to binary32).
#[derive(Clone, Copy, Debug, PartialEq)]
enum FConst {
    I(i64, Scalar),
    D(f64, Scalar),
}

impl FConst {
    fn ty(self) -> Scalar {
        match self {
            FConst::I(_, t) | FConst::D(_, t) => t,
        }
    }

    /// An int-typed constant (comparisons, `!`, `&&`).
    fn int(v: bool) -> FConst {
        FConst::I(v as i64, Scalar::I32)
    }

    /// Converts as C does (floating → integer truncates, saturating, NaN
    /// → 0, the IR's `Cast`).
    fn to(self, s: Scalar) -> FConst {
        match self {
            FConst::I(v, from) if s.is_float() => {
                let x = if from == Scalar::U64 {
                    v as u64 as f64
                } else {
                    v as f64
                };
                FConst::D(round_to(x, v, from, s), s)
            }
            FConst::I(v, _) => FConst::I(s.wrap(v), s),
            FConst::D(x, _) if s.is_float() => {
                FConst::D(if s == Scalar::F32 { x as f32 as f64 } else { x }, s)
            }
            FConst::D(x, _) => FConst::I(
                match s {
                    Scalar::Bool => (x != 0.0) as i64,
                    Scalar::U64 => x as u64 as i64,
                    s if s.is_signed() => s.wrap((x as i64).clamp(min_of(s), max_of(s))),
                    s => s.wrap((x as u64).min(max_of(s) as u64) as i64),
                },
                s,
            ),
        }
    }

    fn truth(self) -> bool {
        match self {
            FConst::I(v, _) => v != 0,
            FConst::D(v, _) => v != 0.0,
        }
    }

    fn to_const(self) -> Const {
        match self {
            FConst::I(v, _) => Const::Int(v),
            FConst::D(v, _) => Const::Double(v),
        }
    }
}

/// An integer's value as a float of type `to`, rounded once (a `long`
/// to `float` is rounded from the integer, not through a double).
fn round_to(x: f64, v: i64, from: Scalar, to: Scalar) -> f64 {
    if to == Scalar::F32 {
        if from == Scalar::U64 {
            v as u64 as f32 as f64
        } else {
            v as f32 as f64
        }
    } else {
        x
    }
}

/// The smallest value of an integer type.
fn min_of(s: Scalar) -> i64 {
    if s.is_signed() {
        -(1i64 << (s.bits() - 1))
    } else {
        0
    }
}

/// The largest value of an integer type (`u64::MAX` reads as -1).
fn max_of(s: Scalar) -> i64 {
    match s {
        Scalar::Bool => 1,
        Scalar::U64 => -1,
        s if s.is_signed() => (1i64 << (s.bits() - 1)) - 1,
        s => (1i64 << s.bits()) - 1,
    }
}

fn lit(c: Const, span: Span) -> Expr {
    match c {
        Const::Int(v) => Expr {
            ty: Some(if i32::try_from(v).is_ok() {
                Scalar::I32
            } else {
                Scalar::I64
            }),
            kind: ExprKind::Int(v),
            span,
        },
        Const::Double(v) => Expr {
            ty: Some(Scalar::F64),
            kind: ExprKind::Double(v),
            span,
        },
    }
}

/// What the top level declares; read-only while bodies are checked.
#[derive(Default)]
struct Env {
    /// Procedures by name: signature, definition span, index in `procs`.
    procs: HashMap<String, (Signature, Span)>,
    /// Globals by name: type and definition span.
    globals: HashMap<String, (VarTy, Span)>,
    /// Statics of each checked procedure (for its mproc).
    statics: HashMap<String, Vec<Static>>,
    /// Globals declared `const`.
    const_globals: BTreeSet<String>,
    /// Enumerators of file-scope enums (and, while a block-scope enum is
    /// being defined, its own): their `int` values.
    enum_consts: HashMap<String, (i64, Span)>,
}

struct Checker<'a> {
    src: &'a str,
    prev: Option<&'a Module>,
    diags: Vec<Diagnostic>,
    env: Env,
}

mod call;
mod consts;
mod expr;
mod ptr;
mod stmt;

pub use call::parse_format;
pub use ptr::{LIBC_MEM, LibcArg, LibcRet};

impl Checker<'_> {
    fn err(&mut self, message: impl Into<String>, span: Span, label: impl Into<String>) {
        self.diags.push(Diagnostic::error(message, span, label));
    }

    fn at_line(&self, span: Span) -> String {
        // A program of several files names the file too (`lib.h:3:5`).
        if self.src.contains('\0') {
            let l = crate::source::locate(self.src, "", span.start as usize);
            if !l.file.is_empty() {
                return format!("{}:{}:{}", l.file, l.line, l.column);
            }
        }
        let (line, col) = line_col(self.src, span.start as usize);
        format!("line {line}, column {col}")
    }

    fn module(
        &mut self,
        file: &str,
        prog: &mut ast::Program,
        mut bodies: Option<&mut dyn FnMut(usize) -> Vec<ast::Stmt>>,
        on_proc: &mut dyn FnMut(&mut Proc, usize),
    ) -> Module {
        // Pass 1: the shared name space of procedures and globals, so that
        // calls may precede definitions (as in the pizza listing).
        let mut globals = Vec::new();
        let mut proc_defs = Vec::new();
        for (i, item) in prog.items.iter().enumerate() {
            match item {
                ast::Item::Global(decl) => {
                    for (name, v, span) in self.enum_values(&decl.enums) {
                        if self.env.procs.contains_key(&name)
                            || self.env.globals.contains_key(&name)
                        {
                            self.err(
                                format!("enumerator `{name}` is defined twice"),
                                span,
                                "procedures, globals and enumerators share one name space",
                            );
                            continue;
                        }
                        self.env.enum_consts.insert(name, (v, span));
                    }
                    if decl.is_typedef {
                        // The parser has recorded the type names.
                        continue;
                    }
                    self.declares_something(decl);
                    // `static` on a global changes nothing: a UC program is
                    // one translation unit.
                    for d in &decl.declarators {
                        if self.claim_top_name(&d.name)
                            && let Some(g) = self.global(decl.ty, d)
                        {
                            if decl.is_const {
                                self.env.const_globals.insert(g.name.clone());
                            }
                            self.env.globals.insert(g.name.clone(), (g.ty, g.span));
                            globals.push(g);
                        }
                    }
                }
                ast::Item::Proc(def) => {
                    let (sig, params) = self.signature(def);
                    let claimed = self.claim_top_name(&def.name);
                    if claimed {
                        self.env
                            .procs
                            .insert(def.name.name.clone(), (sig.clone(), def.name.span));
                    }
                    proc_defs.push((i, sig, params, claimed));
                }
                ast::Item::IProc(_) | ast::Item::MProc(_) | ast::Item::Prototype(_) => {}
            }
        }
        for item in &prog.items {
            if let ast::Item::Prototype(decl) = item {
                self.prototype(decl);
            }
        }
        match self.env.procs.get("main") {
            None => self.err(
                "no `main` procedure",
                Span::default(),
                "a UC program starts at `main()`; define it in this file",
            ),
            Some((sig, span)) if !sig.params.is_empty() => {
                let span = *span;
                self.err(
                    "`main` must take no parameters",
                    span,
                    "declare it as `main()`",
                );
            }
            Some(_) => {}
        }

        // Pass 2: bodies. Procedures first, so that an mproc can see the
        // statics of the procedure it serves.
        let count = proc_defs.iter().filter(|d| d.3).count();
        let mut procs = Vec::with_capacity(count);
        for (i, sig, params, claimed) in proc_defs {
            let ast::Item::Proc(def) = &mut prog.items[i] else {
                unreachable!("proc_defs holds the indices of procedure items");
            };
            if let Some(bodies) = bodies.as_mut() {
                def.body = bodies(i);
            }
            let mut p = self.proc(def, sig, &params);
            // Its IR exists now; the syntax is not needed again.
            def.body = Vec::new();
            // A duplicate's body is still checked, for its own errors.
            if !claimed {
                continue;
            }
            self.env.statics.insert(p.name.clone(), p.statics.clone());
            if self.diags.is_empty() {
                on_proc(&mut p, count);
            }
            procs.push(p);
        }
        let mut iprocs: Vec<IProc> = Vec::new();
        let mut mprocs: Vec<MProc> = Vec::new();
        let mut iproc_spans: HashMap<String, Span> = HashMap::new();
        let mut mproc_spans: HashMap<String, Span> = HashMap::new();
        for item in &prog.items {
            match item {
                ast::Item::IProc(def) => {
                    if let Some(first) = iproc_spans.get(&def.name.name).copied() {
                        let note = format!("the first one is at {}", self.at_line(first));
                        self.diags.push(
                            Diagnostic::error(
                                format!("a second iproc for `{}`", def.name.name),
                                def.name.span,
                                "one iproc per procedure and version",
                            )
                            .with_note(note),
                        );
                        continue;
                    }
                    iproc_spans.insert(def.name.name.clone(), def.name.span);
                    if let Some(ip) = self.iproc(def) {
                        iprocs.push(ip);
                    }
                }
                ast::Item::MProc(def) => {
                    if let Some(first) = mproc_spans.get(&def.name.name).copied() {
                        let note = format!("the first one is at {}", self.at_line(first));
                        self.diags.push(
                            Diagnostic::error(
                                format!("a second mproc for `{}`", def.name.name),
                                def.name.span,
                                "one mproc per procedure or global and version",
                            )
                            .with_note(note),
                        );
                        continue;
                    }
                    mproc_spans.insert(def.name.name.clone(), def.name.span);
                    if let Some(mp) = self.mproc(def) {
                        mprocs.push(mp);
                    }
                }
                _ => {}
            }
        }
        Module {
            file: file.to_string(),
            procs,
            globals,
            iprocs,
            mprocs,
        }
    }

    /// Checks a forward declaration against the definition.
    fn prototype(&mut self, decl: &ast::Prototype) {
        let name = &decl.name.name;
        let Some((def_sig, def_span)) = self.env.procs.get(name).cloned() else {
            let label = if self.env.globals.contains_key(name) {
                "this name is a global variable"
            } else {
                "define it in this file (UC programs are one file)"
            };
            self.err(
                format!("`{name}` is declared but never defined"),
                decl.name.span,
                label,
            );
            return;
        };
        let as_def = ast::ProcDef {
            ret: decl.ret,
            name: decl.name.clone(),
            params: Params::Ansi(decl.params.clone()),
            body: Vec::new(),
            span: decl.span,
        };
        let (sig, _) = self.signature(&as_def);
        let matches = if decl.unspecified {
            sig.ret == def_sig.ret
        } else {
            sig == def_sig
        };
        if !matches {
            let note = format!(
                "the definition at {} is {}",
                self.at_line(def_span),
                sig_string(&def_sig)
            );
            self.diags.push(
                Diagnostic::error(
                    format!("this declaration of `{name}` does not match its definition"),
                    decl.span,
                    if decl.unspecified {
                        format!("declared to return {}", ret_name(sig.ret))
                    } else {
                        format!("declared as {}", sig_string(&sig))
                    },
                )
                .with_note(note),
            );
        }
    }

    /// Reserves a top-level name; false (with an error) if it is taken.
    /// The values of the enumerators these enums define, in order: a
    /// written value is a constant expression (which may name the
    /// enumerators before it), else one more than the previous, from 0.
    /// C gives enumerators type `int`.
    fn enum_values(&mut self, enums: &[ast::EnumDef]) -> Vec<(String, i64, Span)> {
        let mut out = Vec::new();
        let mut shadowed = Vec::new();
        for e in enums {
            let mut next = 0i64;
            for (name, value) in e.body.iter().flatten() {
                let v = match value {
                    None => next,
                    Some(x) => match self.fold(x) {
                        Some(c) if c.ty().is_integer() => match c.to(Scalar::I64) {
                            FConst::I(v, _) => v,
                            FConst::D(..) => unreachable!("converted to an integer"),
                        },
                        Some(_) => {
                            self.err(
                                format!(
                                    "the value of enumerator `{}` is not an integer",
                                    name.name
                                ),
                                x.span,
                                "expected an integer constant",
                            );
                            next
                        }
                        None => next,
                    },
                };
                let v = Scalar::I32.wrap(v);
                next = v.wrapping_add(1);
                // Visible to the enumerators after it while they fold.
                let old = self
                    .env
                    .enum_consts
                    .insert(name.name.clone(), (v, name.span));
                shadowed.push((name.name.clone(), old));
                out.push((name.name.clone(), v, name.span));
            }
        }
        for (name, old) in shadowed.into_iter().rev() {
            match old {
                Some(o) => self.env.enum_consts.insert(name, o),
                None => self.env.enum_consts.remove(&name),
            };
        }
        out
    }

    /// `int;` declares nothing (C warns; UC refuses, as it refuses what
    /// cannot have been meant). `enum E { ... };` defines its enumerators.
    fn declares_something(&mut self, decl: &ast::Decl) {
        if decl.declarators.is_empty() && decl.enums.is_empty() {
            self.err(
                "this declaration declares nothing",
                decl.span,
                "name a variable after the type",
            );
        }
    }

    fn claim_top_name(&mut self, name: &ast::Ident) -> bool {
        if BUILTINS.contains(&name.name.as_str()) {
            self.err(
                format!("`{}` is a builtin and cannot be redefined", name.name),
                name.span,
                "choose another name",
            );
            return false;
        }
        let first = self
            .env
            .procs
            .get(&name.name)
            .map(|p| p.1)
            .or_else(|| self.env.globals.get(&name.name).map(|g| g.1));
        if let Some(first) = first {
            let note = format!("first defined at {}", self.at_line(first));
            self.diags.push(
                Diagnostic::error(
                    format!("`{}` is defined twice", name.name),
                    name.span,
                    "procedures and globals share one name space",
                )
                .with_note(note),
            );
            return false;
        }
        // The pup gives each name one of MAX_NAMES IDs. The parser's token
        // count refuses most programs past it before they are parsed; this
        // is the exact count (said once: the count only grows).
        if (self.env.procs.len() + self.env.globals.len()) as u64 == MAX_NAMES {
            self.err(
                format!(
                    "more than {MAX_NAMES} procedures and globals: a pup gives each name one of {MAX_NAMES} IDs"
                ),
                name.span,
                format!("name number {}", MAX_NAMES + 1),
            );
        }
        true
    }

    /// Resolves a parameter list (ANSI or K&R) and return type.
    fn signature(&mut self, def: &ast::ProcDef) -> (Signature, Vec<(ast::Ident, ParamTy)>) {
        let mut params: Vec<(ast::Ident, ParamTy)> = Vec::new();
        let pty = |ty: TypeName, is_array: bool, ptr: Option<PtrTy>| {
            if let Some(p) = ptr {
                ParamTy::Ptr(p)
            } else if is_array {
                ParamTy::ArrayRef(ty)
            } else {
                ParamTy::Scalar(ty)
            }
        };
        match &def.params {
            Params::Ansi(ps) => {
                for p in ps {
                    // Unnamed parameters (in a prototype) never clash.
                    if !p.name.name.is_empty() && params.iter().any(|(n, _)| n.name == p.name.name)
                    {
                        self.err(
                            format!("parameter `{}` is declared twice", p.name.name),
                            p.name.span,
                            "parameter names must be distinct",
                        );
                    }
                    params.push((p.name.clone(), pty(p.ty, p.is_array, p.ptr)));
                }
            }
            Params::KnR { names, decls } => {
                let mut declared: HashMap<&str, &ast::ParamDecl> = HashMap::new();
                for d in decls {
                    if !names.iter().any(|n| n.name == d.name.name) {
                        self.err(
                            format!(
                                "`{}` is declared but is not a parameter of `{}`",
                                d.name.name, def.name.name
                            ),
                            d.name.span,
                            "not in the parameter list",
                        );
                    } else if declared.insert(&d.name.name, d).is_some() {
                        self.err(
                            format!("parameter `{}` is declared twice", d.name.name),
                            d.name.span,
                            "already declared above",
                        );
                    }
                }
                for n in names {
                    // A repeated name is still a parameter slot, so that
                    // calls are not also reported for a wrong arity.
                    if params.iter().any(|(p, _)| p.name == n.name) {
                        self.err(
                            format!("parameter `{}` is listed twice", n.name),
                            n.span,
                            "parameter names must be distinct",
                        );
                    }
                    // K&R: a parameter nobody declared is an int.
                    let ty = declared
                        .get(n.name.as_str())
                        .map_or(ParamTy::Scalar(Scalar::I32), |d| {
                            pty(d.ty, d.is_array, d.ptr)
                        });
                    params.push((n.clone(), ty));
                }
            }
        }
        let ret = match def.ret {
            None => RetTy::Scalar(Scalar::I32),
            Some((RetName::Void, _)) => RetTy::Void,
            Some((RetName::Scalar(t), _)) => RetTy::Scalar(t),
            Some((RetName::Ptr(p), _)) => RetTy::Ptr(p),
        };
        let sig = Signature {
            params: params.iter().map(|p| p.1).collect(),
            ret,
        };
        (sig, params)
    }

    fn global(&mut self, ty: TypeName, d: &ast::Declarator) -> Option<Global> {
        let string = self.string_init(ty, d);
        let d = string.as_ref().unwrap_or(d);
        let vty = self.var_ty(ty, d)?;
        if vty.size() > DATA_SEGMENT_BYTES {
            self.err(
                format!(
                    "global `{}` needs {} bytes, more than its {DATA_SEGMENT_BYTES}-byte data segment",
                    d.name.name,
                    vty.size()
                ),
                d.name.span,
                format!(
                    "at most {} elements",
                    DATA_SEGMENT_BYTES / vty.elem().size() as u64
                ),
            );
            // Declared all the same (the module is refused anyway), so
            // that its uses do not each say it is undeclared.
            self.env
                .globals
                .insert(d.name.name.clone(), (vty, d.name.span));
            return None;
        }
        let init = self.const_init(vty, d)?;
        Some(Global {
            name: d.name.name.clone(),
            ty: vty,
            init,
            span: d.name.span,
        })
    }

    fn proc(
        &mut self,
        def: &ast::ProcDef,
        sig: Signature,
        params: &[(ast::Ident, ParamTy)],
    ) -> Proc {
        let mut fx = FnCx::new(self, Ctx::Proc, sig.ret, &def.name.name);
        fx.bind_params(params);
        let body = fx.stmts_in_scope(&def.body, false);
        fx.finish_labels();
        let FnCx {
            mut locals,
            mut statics,
            data_size,
            callees,
            globals_used,
            labels,
            ..
        } = fx;
        let mut label_names = vec![String::new(); labels.len()];
        for (name, (id, _, _)) in labels {
            label_names[id as usize] = name;
        }
        locals.shrink_to_fit();
        statics.shrink_to_fit();
        Proc {
            name: def.name.name.clone(),
            sig,
            locals,
            statics,
            data_size,
            body,
            callees: callees.into_iter().collect(),
            globals_used: globals_used.into_iter().collect(),
            labels: label_names,
            span: def.span,
        }
    }

    fn iproc(&mut self, def: &ast::ProcDef) -> Option<IProc> {
        let name = &def.name.name;
        let Some((new_sig, _)) = self.env.procs.get(name).cloned() else {
            self.err(
                format!("iproc `{name}`: there is no procedure `{name}` in this version"),
                def.name.span,
                "an iproc maps old calls of a procedure of the new version",
            );
            return None;
        };
        let (declared, params) = self.signature(def);
        let prev_sig = match self.prev {
            None => None,
            Some(prev) => match prev.procs.iter().find(|p| &p.name == name) {
                Some(p) => Some(p.sig.clone()),
                None => {
                    self.err(
                        format!("iproc `{name}`: the previous version has no procedure `{name}`"),
                        def.name.span,
                        "no old callers to map",
                    );
                    return None;
                }
            },
        };
        // The old return type: as written, else the previous version's,
        // else (no previous version at hand) the new one's, since an iproc
        // usually exists because the parameters changed.
        let ret = match (def.ret, &prev_sig) {
            (Some(_), _) => declared.ret,
            (None, Some(p)) => p.ret,
            (None, None) => new_sig.ret,
        };
        let old_sig = Signature {
            params: declared.params,
            ret,
        };
        if let Some(p) = &prev_sig
            && p != &old_sig
        {
            self.diags.push(
                    Diagnostic::error(
                        format!(
                            "iproc `{name}` declares the old signature {} but the previous version's `{name}` is {}",
                            sig_string(&old_sig),
                            sig_string(p)
                        ),
                        def.name.span,
                        "the iproc must take exactly what old callers pass",
                    )
                    .with_note(format!(
                        "the new `{name}` is {}; call it with new.{name}(...)",
                        sig_string(&new_sig)
                    )),
                );
        }
        let mut fx = FnCx::new(self, Ctx::IProc { new_sig }, old_sig.ret, name);
        fx.bind_params(&params);
        let body = fx.stmts_in_scope(&def.body, false);
        fx.finish_labels();
        let locals = fx.locals;
        Some(IProc {
            name: name.clone(),
            old_sig,
            locals,
            body,
            span: def.span,
        })
    }

    fn mproc(&mut self, def: &ast::MProcDef) -> Option<MProc> {
        let name = &def.name.name;
        let target = if let Some(statics) = self.env.statics.get(name) {
            MTarget::Proc(statics.clone())
        } else if self.env.procs.contains_key(name) {
            // A procedure whose body failed to check: its error is reported.
            return None;
        } else if let Some((ty, _)) = self.env.globals.get(name) {
            MTarget::Global(*ty)
        } else {
            self.err(
                format!("mproc `{name}`: there is no procedure or global `{name}` in this version"),
                def.name.span,
                "an mproc serves a procedure or a global of this file",
            );
            return None;
        };
        let mut fx = FnCx::new(self, Ctx::MProc { target }, RetTy::Void, name);
        let body = fx.stmts_in_scope(&def.body, true);
        fx.finish_labels();
        let (locals, old_statics) = (fx.locals, fx.old_statics);
        Some(MProc {
            name: name.clone(),
            locals,
            old_statics,
            body,
            span: def.span,
        })
    }
}

/// What an mproc serves.
enum MTarget {
    /// A procedure, with its new statics.
    Proc(Vec<Static>),
    /// A global, with its new type.
    Global(VarTy),
}

/// What kind of body is being checked.
enum Ctx {
    Proc,
    IProc { new_sig: Signature },
    MProc { target: MTarget },
}

impl Ctx {
    fn what(&self) -> &'static str {
        match self {
            Ctx::Proc => "a procedure",
            Ctx::IProc { .. } => "an iproc",
            Ctx::MProc { .. } => "an mproc",
        }
    }
}

/// A name bound in a block scope.
#[derive(Clone, Copy)]
enum Binding {
    Local(LocalId, LocalTy, Span),
    Static(ir::StaticId, VarTy, Span),
    /// An enumerator of a block-scope enum: an `int` constant.
    Const(i64, Span),
}

/// The type of a resolved place.
#[derive(Clone, Copy, PartialEq)]
enum PlaceTy {
    Scalar(Scalar),
    Array(Scalar),
    /// A pointer variable (or `*pp`): holds an address.
    Ptr(PtrTy),
}

impl PlaceTy {
    /// The machine type of a scalar or pointer place; `None` for an array.
    fn machine(self) -> Option<Scalar> {
        match self {
            PlaceTy::Scalar(s) => Some(s),
            PlaceTy::Ptr(_) => Some(PtrTy::MACHINE),
            PlaceTy::Array(_) => None,
        }
    }
}

/// A resolved place: where, what type, and whether it may be written.
struct Resolved {
    place: Place,
    ty: PlaceTy,
    read_only: bool,
    /// What to call it in messages (`a`, `old.pd`, `a[...]`).
    what: String,
}

/// An expression that may also be a whole array (only call arguments and
/// `len` accept those).
enum Operand {
    Value(Expr),
    Array(Resolved, Span),
}

/// Checks one body (procedure, iproc or mproc).
struct FnCx<'c, 'a> {
    ck: &'c mut Checker<'a>,
    ctx: Ctx,
    ret: RetTy,
    name: String,
    locals: Vec<Local>,
    statics: Vec<Static>,
    data_size: u32,
    old_statics: Vec<OldStatic>,
    scopes: Vec<HashMap<String, Binding>>,
    loops: u32,
    /// Enclosing loops and switches (what `break` may leave).
    breakables: u32,
    /// Locals and statics declared `const`.
    const_locals: BTreeSet<LocalId>,
    const_statics: BTreeSet<ir::StaticId>,
    callees: BTreeSet<String>,
    globals_used: BTreeSet<String>,
    /// Labels by name: number, where defined, where first named.
    labels: HashMap<String, (ir::LabelId, Option<Span>, Span)>,
}

/// `sizeof`'s value: a `size_t` (unsigned long) constant.
fn size_lit(n: u64, span: Span) -> Expr {
    Expr {
        ty: Some(Scalar::U64),
        kind: ExprKind::Int(n as i64),
        span,
    }
}

fn cast(e: Expr, to: Scalar) -> Expr {
    let span = e.span;
    Expr {
        ty: Some(to),
        kind: ExprKind::Cast {
            to,
            operand: Box::new(e),
        },
        span,
    }
}

/// `e` converted to `to` unless it already has that type.
fn cast_if(e: Expr, to: Scalar) -> Expr {
    if e.ty == Some(to) { e } else { cast(e, to) }
}

/// A condition from a value: an integer of any type as it is (the IR
/// tests it against zero), a floating value as `x != 0.0`.
fn truthy(v: Expr) -> Expr {
    match v.ty {
        Some(t) if t.is_float() => {
            let span = v.span;
            Expr {
                ty: Some(Scalar::I32),
                kind: ExprKind::Binary {
                    op: BinOp::Ne,
                    lhs: Box::new(v),
                    rhs: Box::new(zero_expr(t, span)),
                },
                span,
            }
        }
        _ => v,
    }
}

fn assign(place: Place, value: Expr, span: Span) -> Expr {
    Expr {
        ty: value.ty,
        kind: ExprKind::Assign {
            place,
            op: None,
            value: Box::new(value),
        },
        span,
    }
}

fn index(base: Place, i: i64, span: Span) -> Place {
    Place::Index {
        base: Box::new(base),
        index: Box::new(lit(Const::Int(i), span)),
    }
}

fn call_expr(callee: &str, sig: &Signature, args: Vec<Arg>, span: Span) -> Expr {
    Expr {
        ty: match sig.ret {
            RetTy::Void => None,
            RetTy::Scalar(s) => Some(s),
            RetTy::Ptr(_) => Some(PtrTy::MACHINE),
        },
        kind: ExprKind::Call {
            callee: callee.to_string(),
            args,
        },
        span,
    }
}
