//! Name resolution and type checking: syntax tree in, [`ir::Module`] out.
//!
//! The checker keeps going after an error: an expression that fails yields
//! `None`, the enclosing statement is dropped, and checking continues with
//! the next one, so one run reports every independent mistake without
//! cascades. The IR is only returned when no error was found, so it always
//! satisfies the invariants documented in [`crate::ir`].

use crate::ast::{self, Init, Params, RetName, TypeName};
use crate::diag::{Diagnostic, line_col};
use crate::ir::{
    self, Arg, BinOp, Builtin, Const, Expr, ExprKind, FmtPiece, Global, IProc, Local, LocalId,
    LocalTy, MProc, Module, OldStatic, ParamTy, Place, PrintArg, Proc, RetTy, Scalar, Signature,
    Span, Static, Stmt, UnOp, VarTy,
};
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
const LEFT_OUT_CALLS: &[(&str, &str)] = &[
    ("malloc", "UC has no dynamic memory (`malloc`): use a fixed-size array"),
    ("calloc", "UC has no dynamic memory (`calloc`): use a fixed-size array"),
    ("realloc", "UC has no dynamic memory (`realloc`): use a fixed-size array"),
    ("free", "UC has no dynamic memory (`free`): arrays are fixed-size"),
];

/// Checks a parsed program. `prev` is the module of the version being
/// replaced, when known: it gives `old.NAME` its type and is what `iproc`
/// signatures are checked against.
pub fn check(
    file: &str,
    src: &str,
    prog: &ast::Program,
    prev: Option<&Module>,
) -> Result<Module, Vec<Diagnostic>> {
    let mut ck = Checker {
        src,
        prev,
        diags: Vec::new(),
        env: Env::default(),
    };
    let module = ck.module(file, prog);
    if ck.diags.is_empty() {
        Ok(module)
    } else {
        ck.diags.sort_by_key(|d| (d.span.start, d.span.end));
        Err(ck.diags)
    }
}

fn scalar(t: TypeName) -> Scalar {
    match t {
        TypeName::Int => Scalar::Int,
        TypeName::UInt => Scalar::UInt,
        TypeName::Double => Scalar::Double,
    }
}

fn scalar_name(s: Scalar) -> &'static str {
    s.name()
}

/// `int`, `double[]`, ... as a person would write the parameter type.
pub fn param_ty_name(p: ParamTy) -> String {
    match p {
        ParamTy::Scalar(s) => scalar_name(s).to_string(),
        ParamTy::ArrayRef(s) => format!("{}[]", scalar_name(s)),
    }
}

fn ret_name(r: RetTy) -> &'static str {
    match r {
        RetTy::Void => "void",
        RetTy::Scalar(s) => scalar_name(s),
    }
}

/// `(int, double[]) -> void`: a signature as messages and delta files show it.
pub fn sig_string(sig: &Signature) -> String {
    let params: Vec<String> = sig.params.iter().map(|p| param_ty_name(*p)).collect();
    format!("({}) -> {}", params.join(", "), ret_name(sig.ret))
}

/// `an int` / `a double`, for messages.
fn a_scalar(s: Scalar) -> &'static str {
    match s {
        Scalar::Int => "an int",
        Scalar::UInt => "an unsigned",
        Scalar::Double => "a double",
    }
}

fn zero(s: Scalar) -> Const {
    match s {
        Scalar::Int | Scalar::UInt => Const::Int(0),
        Scalar::Double => Const::Double(0.0),
    }
}

/// The literal 0 of type `s`.
fn zero_expr(s: Scalar, span: Span) -> Expr {
    let mut e = lit(zero(s), span);
    e.ty = Some(s);
    e
}

/// A folded constant, with C's three arithmetic types.
#[derive(Clone, Copy, Debug, PartialEq)]
enum FConst {
    I(i64),
    U(u64),
    D(f64),
}

impl FConst {
    fn ty(self) -> Scalar {
        match self {
            FConst::I(_) => Scalar::Int,
            FConst::U(_) => Scalar::UInt,
            FConst::D(_) => Scalar::Double,
        }
    }

    /// Converts as C does (double → integer truncates, saturating).
    fn to(self, s: Scalar) -> FConst {
        match (self, s) {
            (FConst::I(v), Scalar::Int) => FConst::I(v),
            (FConst::I(v), Scalar::UInt) => FConst::U(v as u64),
            (FConst::I(v), Scalar::Double) => FConst::D(v as f64),
            (FConst::U(v), Scalar::Int) => FConst::I(v as i64),
            (FConst::U(v), Scalar::UInt) => FConst::U(v),
            (FConst::U(v), Scalar::Double) => FConst::D(v as f64),
            (FConst::D(v), Scalar::Int) => FConst::I(v as i64),
            (FConst::D(v), Scalar::UInt) => FConst::U(v as u64),
            (FConst::D(v), Scalar::Double) => FConst::D(v),
        }
    }

    fn truth(self) -> bool {
        match self {
            FConst::I(v) => v != 0,
            FConst::U(v) => v != 0,
            FConst::D(v) => v != 0.0,
        }
    }

    fn to_const(self) -> Const {
        match self {
            FConst::I(v) => Const::Int(v),
            FConst::U(v) => Const::Int(v as i64),
            FConst::D(v) => Const::Double(v),
        }
    }
}

/// C's usual arithmetic conversions: the common type of two operands.
fn common(a: Scalar, b: Scalar) -> Scalar {
    if a == Scalar::Double || b == Scalar::Double {
        Scalar::Double
    } else if a == Scalar::UInt || b == Scalar::UInt {
        Scalar::UInt
    } else {
        Scalar::Int
    }
}

fn lit(c: Const, span: Span) -> Expr {
    match c {
        Const::Int(v) => Expr {
            ty: Some(Scalar::Int),
            kind: ExprKind::Int(v),
            span,
        },
        Const::Double(v) => Expr {
            ty: Some(Scalar::Double),
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
}

struct Checker<'a> {
    src: &'a str,
    prev: Option<&'a Module>,
    diags: Vec<Diagnostic>,
    env: Env,
}

impl Checker<'_> {
    fn err(&mut self, message: impl Into<String>, span: Span, label: impl Into<String>) {
        self.diags.push(Diagnostic::error(message, span, label));
    }

    fn at_line(&self, span: Span) -> String {
        let (line, col) = line_col(self.src, span.start as usize);
        format!("line {line}, column {col}")
    }

    fn module(&mut self, file: &str, prog: &ast::Program) -> Module {
        // Pass 1: the shared name space of procedures and globals, so that
        // calls may precede definitions (as in the pizza listing).
        let mut globals = Vec::new();
        let mut proc_defs = Vec::new();
        for item in &prog.items {
            match item {
                ast::Item::Global(decl) => {
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
                    proc_defs.push((def, sig, params, claimed));
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
        let mut procs = Vec::new();
        for (def, sig, params, claimed) in proc_defs {
            let p = self.proc(def, sig, &params);
            // A duplicate's body is still checked, for its own errors.
            if !claimed {
                continue;
            }
            self.env.statics.insert(p.name.clone(), p.statics.clone());
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
        true
    }

    /// Resolves a parameter list (ANSI or K&R) and return type.
    fn signature(&mut self, def: &ast::ProcDef) -> (Signature, Vec<(ast::Ident, ParamTy)>) {
        let mut params: Vec<(ast::Ident, ParamTy)> = Vec::new();
        let pty = |ty: TypeName, is_array: bool| {
            if is_array {
                ParamTy::ArrayRef(scalar(ty))
            } else {
                ParamTy::Scalar(scalar(ty))
            }
        };
        match &def.params {
            Params::Ansi(ps) => {
                for p in ps {
                    if params.iter().any(|(n, _)| n.name == p.name.name) {
                        self.err(
                            format!("parameter `{}` is declared twice", p.name.name),
                            p.name.span,
                            "parameter names must be distinct",
                        );
                    }
                    params.push((p.name.clone(), pty(p.ty, p.is_array)));
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
                        .map_or(ParamTy::Scalar(Scalar::Int), |d| pty(d.ty, d.is_array));
                    params.push((n.clone(), ty));
                }
            }
        }
        let ret = match def.ret {
            None => RetTy::Scalar(Scalar::Int),
            Some((RetName::Void, _)) => RetTy::Void,
            Some((RetName::Scalar(t), _)) => RetTy::Scalar(scalar(t)),
        };
        let sig = Signature {
            params: params.iter().map(|p| p.1).collect(),
            ret,
        };
        (sig, params)
    }

    /// The length of `name[dim]`.
    fn array_len(&mut self, name: &ast::Ident, dim: &ast::Expr) -> Option<u32> {
        let n = match self.fold(dim) {
            Some(FConst::U(n)) => Some(Const::Int(n.min(i64::MAX as u64) as i64)),
            other => other.map(FConst::to_const),
        };
        match n {
            Some(Const::Int(n)) if n >= 1 && n <= MAX_ARRAY_LEN as i64 => Some(n as u32),
            Some(Const::Int(n)) => {
                self.err(
                    format!("array `{}` has length {n}", name.name),
                    dim.span,
                    format!("the length must be between 1 and {MAX_ARRAY_LEN}"),
                );
                None
            }
            Some(Const::Double(_)) => {
                self.err(
                    format!("array `{}` has a length that is not an int", name.name),
                    dim.span,
                    "expected an int constant",
                );
                None
            }
            None => None,
        }
    }

    /// The type of a declarator of element type `ty`.
    fn var_ty(&mut self, ty: TypeName, d: &ast::Declarator) -> Option<VarTy> {
        if d.open_len {
            return match &d.init {
                Some(Init::List(items, span)) if !items.is_empty() => {
                    if items.len() > MAX_ARRAY_LEN as usize {
                        self.err(
                            format!("array `{}` has length {}", d.name.name, items.len()),
                            *span,
                            format!("the length must be between 1 and {MAX_ARRAY_LEN}"),
                        );
                        return None;
                    }
                    Some(VarTy::Array(scalar(ty), items.len() as u32))
                }
                _ => {
                    self.err(
                        format!("array `{}` has no length", d.name.name),
                        d.name.span,
                        "write the length in the brackets, or give a nonempty brace list",
                    );
                    None
                }
            };
        }
        match &d.dim {
            None => Some(VarTy::Scalar(scalar(ty))),
            Some(dim) => Some(VarTy::Array(scalar(ty), self.array_len(&d.name, dim)?)),
        }
    }

    /// The constant initial value (one per element) of a static or global.
    fn const_init(&mut self, ty: VarTy, d: &ast::Declarator) -> Option<Vec<Const>> {
        match (ty, &d.init) {
            (VarTy::Scalar(s), None) => Some(vec![zero(s)]),
            (VarTy::Array(s, n), None) => Some(vec![zero(s); n as usize]),
            (VarTy::Scalar(s), Some(Init::Expr(e))) => Some(vec![self.const_of(s, e)?]),
            (VarTy::Scalar(_), Some(Init::List(_, span))) => {
                self.err(
                    format!("`{}` is not an array", d.name.name),
                    *span,
                    "a scalar takes a single value, not a brace list",
                );
                None
            }
            (VarTy::Array(..), Some(Init::Expr(e))) => {
                self.err(
                    format!("array `{}` needs a brace list", d.name.name),
                    e.span,
                    "write `{a, b, ...}`",
                );
                None
            }
            (VarTy::Array(s, n), Some(Init::List(items, span))) => {
                if items.len() > n as usize {
                    self.too_many(&d.name.name, n, items.len(), *span);
                    return None;
                }
                let mut out = Vec::with_capacity(n as usize);
                let mut ok = true;
                for e in items {
                    match self.const_of(s, e) {
                        Some(c) => out.push(c),
                        None => ok = false,
                    }
                }
                out.resize(n as usize, zero(s));
                ok.then_some(out)
            }
        }
    }

    fn too_many(&mut self, name: &str, n: u32, given: usize, span: Span) {
        self.err(
            format!("too many initializers for `{name}`"),
            span,
            format!("`{name}` has {n} elements but {given} values are given"),
        );
    }

    /// Folds `e` and converts it to `s` as an assignment would.
    fn const_of(&mut self, s: Scalar, e: &ast::Expr) -> Option<Const> {
        Some(self.fold(e)?.to(s).to_const())
    }

    /// Constant folding with UC's run-time semantics (wrapping ints, C's
    /// usual arithmetic conversions, truncating casts), for static and
    /// global initializers, array lengths and case labels.
    fn fold(&mut self, e: &ast::Expr) -> Option<FConst> {
        use FConst::{D, I, U};
        use ast::ExprKind as K;
        Some(match &e.kind {
            K::Int(v) => I(*v),
            K::UInt(v) => U(*v as u64),
            K::Double(v) => D(*v),
            K::Unary(op, x) => {
                let x = self.fold(x)?;
                match (op, x) {
                    (ast::UnOp::Plus, x) => x,
                    (ast::UnOp::Neg, I(v)) => I(v.wrapping_neg()),
                    (ast::UnOp::Neg, U(v)) => U(v.wrapping_neg()),
                    (ast::UnOp::Neg, D(v)) => D(-v),
                    (ast::UnOp::Not, x) => I(!x.truth() as i64),
                    (ast::UnOp::BitNot, I(v)) => I(!v),
                    (ast::UnOp::BitNot, U(v)) => U(!v),
                    (ast::UnOp::BitNot, D(_)) => {
                        self.err("`~` needs an integer operand", e.span, "this is a double");
                        return None;
                    }
                }
            }
            K::Cast(t, x) => self.fold(x)?.to(scalar(*t)),
            K::Cond(c, a, b) => {
                let (c, a, b) = (self.fold(c)?, self.fold(a)?, self.fold(b)?);
                let t = common(a.ty(), b.ty());
                if c.truth() { a.to(t) } else { b.to(t) }
            }
            K::Binary(op, a, b) => {
                let (a, b) = (self.fold(a)?, self.fold(b)?);
                use ast::BinOp as B;
                match op {
                    B::And => return Some(I((a.truth() && b.truth()) as i64)),
                    B::Or => return Some(I((a.truth() || b.truth()) as i64)),
                    B::Shl | B::Shr => {
                        let n = match b {
                            I(n) => n,
                            U(n) => n as i64,
                            D(_) => -1,
                        };
                        if !(0..64).contains(&n) || matches!(a, D(_)) {
                            self.err(
                                "bad shift in a constant expression",
                                e.span,
                                "shifts need integer operands and a count in 0..63",
                            );
                            return None;
                        }
                        return Some(match (op, a) {
                            (B::Shl, I(x)) => I(x.wrapping_shl(n as u32)),
                            (B::Shl, U(x)) => U(x.wrapping_shl(n as u32)),
                            (_, I(x)) => I(x >> n),
                            (_, U(x)) => U(x >> n),
                            _ => unreachable!("checked above"),
                        });
                    }
                    _ => {}
                }
                let t = common(a.ty(), b.ty());
                let cmp = |o: std::cmp::Ordering| -> FConst {
                    use std::cmp::Ordering::*;
                    I(match op {
                        B::Eq => o == Equal,
                        B::Ne => o != Equal,
                        B::Lt => o == Less,
                        B::Le => o != Greater,
                        B::Gt => o == Greater,
                        _ => o != Less,
                    } as i64)
                };
                let is_cmp = matches!(op, B::Eq | B::Ne | B::Lt | B::Le | B::Gt | B::Ge);
                match (a.to(t), b.to(t)) {
                    (I(x), I(y)) => match op {
                        _ if is_cmp => cmp(x.cmp(&y)),
                        B::Add => I(x.wrapping_add(y)),
                        B::Sub => I(x.wrapping_sub(y)),
                        B::Mul => I(x.wrapping_mul(y)),
                        B::Div | B::Rem if y == 0 => {
                            self.err(
                                "division by zero in a constant expression",
                                e.span,
                                "the divisor is 0",
                            );
                            return None;
                        }
                        B::Div => I(x.wrapping_div(y)),
                        B::Rem => I(x.wrapping_rem(y)),
                        B::BitAnd => I(x & y),
                        B::BitOr => I(x | y),
                        _ => I(x ^ y),
                    },
                    (U(x), U(y)) => match op {
                        _ if is_cmp => cmp(x.cmp(&y)),
                        B::Add => U(x.wrapping_add(y)),
                        B::Sub => U(x.wrapping_sub(y)),
                        B::Mul => U(x.wrapping_mul(y)),
                        B::Div | B::Rem if y == 0 => {
                            self.err(
                                "division by zero in a constant expression",
                                e.span,
                                "the divisor is 0",
                            );
                            return None;
                        }
                        B::Div => U(x / y),
                        B::Rem => U(x % y),
                        B::BitAnd => U(x & y),
                        B::BitOr => U(x | y),
                        _ => U(x ^ y),
                    },
                    (D(x), D(y)) => match op {
                        _ if is_cmp => match x.partial_cmp(&y) {
                            Some(o) => cmp(o),
                            // NaN: only `!=` holds.
                            None => I((*op == B::Ne) as i64),
                        },
                        B::Add => D(x + y),
                        B::Sub => D(x - y),
                        B::Mul => D(x * y),
                        B::Div => D(x / y),
                        _ => {
                            self.err(
                                format!("`{}` needs integer operands", op.symbol()),
                                e.span,
                                "an operand is a double",
                            );
                            return None;
                        }
                    },
                    _ => unreachable!("both converted to the common type"),
                }
            }
            _ => {
                self.err(
                    "not a constant expression",
                    e.span,
                    "static and global initializers, array lengths and case labels must be constants",
                );
                return None;
            }
        })
    }

    fn global(&mut self, ty: TypeName, d: &ast::Declarator) -> Option<Global> {
        let vty = self.var_ty(ty, d)?;
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
        let FnCx {
            locals,
            statics,
            data_size,
            callees,
            globals_used,
            ..
        } = fx;
        Proc {
            name: def.name.name.clone(),
            sig,
            locals,
            statics,
            data_size,
            body,
            callees: callees.into_iter().collect(),
            globals_used: globals_used.into_iter().collect(),
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
}

/// The type of a resolved place.
#[derive(Clone, Copy, PartialEq)]
enum PlaceTy {
    Scalar(Scalar),
    Array(Scalar),
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
}

impl<'c, 'a> FnCx<'c, 'a> {
    fn new(ck: &'c mut Checker<'a>, ctx: Ctx, ret: RetTy, name: &str) -> Self {
        FnCx {
            ck,
            ctx,
            ret,
            name: name.to_string(),
            locals: Vec::new(),
            statics: Vec::new(),
            data_size: 0,
            old_statics: Vec::new(),
            scopes: vec![HashMap::new()],
            loops: 0,
            breakables: 0,
            const_locals: BTreeSet::new(),
            const_statics: BTreeSet::new(),
            callees: BTreeSet::new(),
            globals_used: BTreeSet::new(),
        }
    }

    fn err(&mut self, message: impl Into<String>, span: Span, label: impl Into<String>) {
        self.ck.err(message, span, label);
    }

    fn new_local(&mut self, name: &str, ty: LocalTy) -> LocalId {
        self.locals.push(Local {
            name: name.to_string(),
            ty,
        });
        (self.locals.len() - 1) as LocalId
    }

    /// Parameters are locals `0..n`, in the outermost scope (the body's
    /// top-level declarations share it, as in C).
    fn bind_params(&mut self, params: &[(ast::Ident, ParamTy)]) {
        for (name, ty) in params {
            let lty = match *ty {
                ParamTy::Scalar(s) => LocalTy::Scalar(s),
                ParamTy::ArrayRef(s) => LocalTy::ArrayRef(s),
            };
            let id = self.new_local(&name.name, lty);
            self.scopes[0].insert(name.name.clone(), Binding::Local(id, lty, name.span));
        }
    }

    /// Checks a block's statements; `new_scope` is false for a body whose
    /// scope is the parameters' one.
    fn stmts_in_scope(&mut self, stmts: &[ast::Stmt], new_scope: bool) -> Vec<Stmt> {
        if new_scope {
            self.scopes.push(HashMap::new());
        }
        let mut out = Vec::new();
        for s in stmts {
            self.stmt(s, &mut out);
        }
        if new_scope {
            self.scopes.pop();
        }
        out
    }

    /// A branch or loop body: its own scope even without braces.
    fn sub_body(&mut self, s: &ast::Stmt) -> Vec<Stmt> {
        match s {
            ast::Stmt::Block(b) => self.stmts_in_scope(b, true),
            other => self.stmts_in_scope(std::slice::from_ref(other), true),
        }
    }

    fn stmt(&mut self, s: &ast::Stmt, out: &mut Vec<Stmt>) {
        match s {
            ast::Stmt::Decl(d) => self.decl(d, out),
            ast::Stmt::Expr(e) => {
                if let Some(e) = self.expr_stmt(e) {
                    out.push(Stmt::Expr(e));
                }
            }
            ast::Stmt::If { cond, then, els } => {
                let c = self.cond(cond);
                let then = self.sub_body(then);
                let els = els.as_ref().map(|e| self.sub_body(e)).unwrap_or_default();
                if let Some(cond) = c {
                    out.push(Stmt::If { cond, then, els });
                }
            }
            ast::Stmt::While { cond, body } => {
                let c = self.cond(cond);
                let body = self.loop_body(body);
                if let Some(cond) = c {
                    out.push(Stmt::Loop {
                        cond: Some(cond),
                        body,
                        step: Vec::new(),
                    });
                }
            }
            ast::Stmt::For {
                init,
                cond,
                step,
                body,
            } => {
                // The init clause's declarations are scoped to the loop.
                self.scopes.push(HashMap::new());
                let mut block = Vec::new();
                if let Some(init) = init {
                    self.stmt(init, &mut block);
                }
                // `None` inside means "absent", `None` outside "failed".
                let c = match cond {
                    None => Some(None),
                    Some(c) => self.cond(c).map(Some),
                };
                let st = match step {
                    None => Some(None),
                    Some(s) => self.expr_stmt(s).map(Some),
                };
                let body = self.loop_body(body);
                self.scopes.pop();
                let (Some(cond), Some(step)) = (c, st) else {
                    return;
                };
                block.push(Stmt::Loop {
                    cond,
                    body,
                    step: step.map(Stmt::Expr).into_iter().collect(),
                });
                if block.len() == 1 {
                    out.append(&mut block);
                } else {
                    out.push(Stmt::Block(block));
                }
            }
            ast::Stmt::DoWhile { body, cond } => {
                let body = self.loop_body(body);
                if let Some(cond) = self.cond(cond) {
                    out.push(Stmt::DoWhile { body, cond });
                }
            }
            ast::Stmt::Switch { value, body, span } => self.switch(value, body, *span, out),
            ast::Stmt::Case(_, span) | ast::Stmt::Default(span) => {
                let word = if matches!(s, ast::Stmt::Case(..)) {
                    "case"
                } else {
                    "default"
                };
                self.err(
                    format!("`{word}` label not directly inside a switch body"),
                    *span,
                    "UC takes `case` and `default` labels only at the top level of a switch's braces",
                );
            }
            ast::Stmt::Break(span) | ast::Stmt::Continue(span) => {
                let is_break = matches!(s, ast::Stmt::Break(_));
                let word = if is_break { "break" } else { "continue" };
                let inside = if is_break {
                    self.breakables
                } else {
                    self.loops
                };
                if inside == 0 {
                    self.err(
                        format!("`{word}` outside of a loop"),
                        *span,
                        if is_break {
                            "only allowed inside `while`, `for`, `do` or `switch`"
                        } else {
                            "only allowed inside `while`, `for` or `do`"
                        },
                    );
                } else {
                    out.push(if is_break {
                        Stmt::Break
                    } else {
                        Stmt::Continue
                    });
                }
            }
            ast::Stmt::Return(value, span) => self.ret_stmt(value.as_ref(), *span, out),
            ast::Stmt::Block(b) => {
                let b = self.stmts_in_scope(b, true);
                out.push(Stmt::Block(b));
            }
            ast::Stmt::Empty | ast::Stmt::Error => {}
        }
    }

    /// A loop body: `break` and `continue` are allowed in it.
    fn loop_body(&mut self, body: &ast::Stmt) -> Vec<Stmt> {
        self.loops += 1;
        self.breakables += 1;
        let body = self.sub_body(body);
        self.loops -= 1;
        self.breakables -= 1;
        body
    }

    /// `switch (value) { case ...: ... }`: the labels at the top level of
    /// the body split it into arms (one scope for the whole body, as in C).
    fn switch(&mut self, value: &ast::Expr, body: &ast::Stmt, span: Span, out: &mut Vec<Stmt>) {
        let v = self.value(value);
        let v = match v {
            Some(v) if v.ty == Some(Scalar::Double) => {
                self.err(
                    "a switch value must be an integer",
                    value.span,
                    "this is a double",
                );
                None
            }
            other => other,
        };
        let switch_ty = v.as_ref().and_then(|v| v.ty).unwrap_or(Scalar::Int);
        let items: &[ast::Stmt] = match body {
            ast::Stmt::Block(b) => b,
            other => std::slice::from_ref(other),
        };
        self.scopes.push(HashMap::new());
        self.breakables += 1;
        let mut arms: Vec<ir::SwitchArm> = Vec::new();
        let mut seen: HashMap<i64, Span> = HashMap::new();
        let mut default_at: Option<Span> = None;
        let mut ok = true;
        for item in items {
            match item {
                ast::Stmt::Case(e, lspan) => {
                    let c = self.ck.fold(e);
                    let label = match c {
                        Some(FConst::D(_)) => {
                            self.err(
                                "a case label must be an integer constant",
                                e.span,
                                "this is a double",
                            );
                            ok = false;
                            continue;
                        }
                        Some(c) => match c.to(switch_ty).to_const() {
                            Const::Int(v) => v,
                            Const::Double(_) => unreachable!("converted to an integer"),
                        },
                        None => {
                            ok = false;
                            continue;
                        }
                    };
                    if let Some(first) = seen.get(&label).copied() {
                        let note = format!("the first one is at {}", self.ck.at_line(first));
                        self.ck.diags.push(
                            Diagnostic::error(
                                format!("duplicate case label {label}"),
                                *lspan,
                                "each case value may appear once",
                            )
                            .with_note(note),
                        );
                        ok = false;
                        continue;
                    }
                    seen.insert(label, *lspan);
                    arms.push(ir::SwitchArm {
                        labels: vec![label],
                        default: false,
                        body: Vec::new(),
                    });
                }
                ast::Stmt::Default(lspan) => {
                    if let Some(first) = default_at {
                        let note = format!("the first one is at {}", self.ck.at_line(first));
                        self.ck.diags.push(
                            Diagnostic::error(
                                "a second `default` label",
                                *lspan,
                                "a switch has at most one default",
                            )
                            .with_note(note),
                        );
                        ok = false;
                        continue;
                    }
                    default_at = Some(*lspan);
                    arms.push(ir::SwitchArm {
                        labels: Vec::new(),
                        default: true,
                        body: Vec::new(),
                    });
                }
                other => match arms.last_mut() {
                    Some(arm) => {
                        let mut body = std::mem::take(&mut arm.body);
                        self.stmt(other, &mut body);
                        arms.last_mut().expect("an arm").body = body;
                    }
                    None => {
                        // C never runs these; a declaration here would be
                        // legal but is almost always a mistake.
                        let mut dropped = Vec::new();
                        self.stmt(other, &mut dropped);
                        if !matches!(other, ast::Stmt::Empty) {
                            self.err(
                                "a statement before the first `case` label of a switch never runs",
                                span,
                                "move it before the switch, or after a label",
                            );
                            ok = false;
                        }
                    }
                },
            }
        }
        self.breakables -= 1;
        self.scopes.pop();
        let Some(v) = v else { return };
        if !ok {
            return;
        }
        let value = if v.ty == Some(Scalar::UInt) {
            cast(v, Scalar::Int)
        } else {
            v
        };
        out.push(Stmt::Switch { value, arms });
    }

    fn ret_stmt(&mut self, value: Option<&ast::Expr>, span: Span, out: &mut Vec<Stmt>) {
        if let Ctx::MProc { .. } = self.ctx
            && value.is_some()
        {
            self.err("an mproc returns no value", span, "write `return;`");
            return;
        }
        match (self.ret, value) {
            (RetTy::Void, None) => out.push(Stmt::Return(None)),
            (RetTy::Void, Some(v)) => {
                let name = self.name.clone();
                self.err(
                    format!("`{name}` returns void, so `return` cannot have a value"),
                    v.span,
                    "remove this value, or declare a return type",
                );
            }
            // C allows a bare `return;` in an int procedure (K&R code does
            // it); the caller then sees 0.
            (RetTy::Scalar(s), None) => out.push(Stmt::Return(Some(zero_expr(s, span)))),
            (RetTy::Scalar(s), Some(v)) => {
                let Some(e) = self.value(v) else { return };
                let what = format!("the return value of `{}`", self.name);
                if let Some(e) = self.coerce(e, s, &what) {
                    out.push(Stmt::Return(Some(e)));
                }
            }
        }
    }

    fn lookup_scope(&self, name: &str) -> Option<Binding> {
        self.scopes.iter().rev().find_map(|s| s.get(name).copied())
    }

    fn decl(&mut self, d: &ast::Decl, out: &mut Vec<Stmt>) {
        for dc in &d.declarators {
            if let Some(first) = self.scopes.last().and_then(|s| s.get(&dc.name.name)) {
                let first = match first {
                    Binding::Local(_, _, sp) | Binding::Static(_, _, sp) => *sp,
                };
                let note = format!("the first declaration is at {}", self.ck.at_line(first));
                self.ck.diags.push(
                    Diagnostic::error(
                        format!("`{}` is declared twice in the same block", dc.name.name),
                        dc.name.span,
                        "choose another name",
                    )
                    .with_note(note),
                );
                continue;
            }
            if let Ctx::MProc { target } = &self.ctx {
                let clash = match target {
                    MTarget::Proc(statics) => statics.iter().any(|s| s.name == dc.name.name),
                    MTarget::Global(_) => false,
                } || self.ck.env.globals.contains_key(&dc.name.name);
                if clash {
                    let name = self.name.clone();
                    self.err(
                        format!(
                            "`{}` already names a static of `{name}` or a global",
                            dc.name.name
                        ),
                        dc.name.span,
                        "in an mproc, plain names are the new statics and globals; choose another name",
                    );
                    continue;
                }
            }
            if d.is_static {
                self.static_decl(d.ty, dc);
            } else {
                self.local_decl(d.ty, dc, out);
            }
            if d.is_const {
                match self.scopes.last().and_then(|s| s.get(&dc.name.name)) {
                    Some(Binding::Local(id, ..)) => {
                        self.const_locals.insert(*id);
                    }
                    Some(Binding::Static(id, ..)) => {
                        self.const_statics.insert(*id);
                    }
                    None => {}
                }
            }
        }
    }

    fn static_decl(&mut self, ty: TypeName, dc: &ast::Declarator) {
        if !matches!(self.ctx, Ctx::Proc) {
            let what = self.ctx.what();
            self.err(
                format!("{what} cannot have static variables"),
                dc.name.span,
                "declare it without `static`",
            );
            return;
        }
        let Some(vty) = self.ck.var_ty(ty, dc) else {
            return;
        };
        let Some(init) = self.ck.const_init(vty, dc) else {
            return;
        };
        // Statics are carried across versions by name, so each needs a
        // distinct one even when the source shadows: `x`, `x#2`, ...
        let mut name = dc.name.name.clone();
        let mut k = 1;
        while self.statics.iter().any(|s| s.name == name) {
            k += 1;
            name = format!("{}#{k}", dc.name.name);
        }
        let Some(end) = self.data_size.checked_add(vty.size() as u32) else {
            self.err(
                "the statics of this procedure are too large",
                dc.name.span,
                "more than 4 GiB of static data",
            );
            return;
        };
        let id = self.statics.len() as ir::StaticId;
        self.statics.push(Static {
            name,
            ty: vty,
            offset: self.data_size,
            init,
        });
        self.data_size = end;
        self.scopes
            .last_mut()
            .expect("a scope is always open")
            .insert(dc.name.name.clone(), Binding::Static(id, vty, dc.name.span));
    }

    fn local_decl(&mut self, ty: TypeName, dc: &ast::Declarator, out: &mut Vec<Stmt>) {
        let s = scalar(ty);
        let Some(vty) = self.ck.var_ty(ty, dc) else {
            return;
        };
        let span = dc.span;
        // The initializer is checked before the name is bound, so
        // `int x = x;` reads an outer `x` rather than itself.
        let init: Option<Vec<Expr>> = match (vty, &dc.init) {
            (VarTy::Scalar(_), None) => Some(Vec::new()),
            (VarTy::Scalar(_), Some(Init::Expr(e))) => {
                let what = format!("`{}`", dc.name.name);
                self.value(e)
                    .and_then(|v| self.coerce(v, s, &what))
                    .map(|v| vec![v])
            }
            (VarTy::Scalar(_), Some(Init::List(_, lspan))) => {
                self.err(
                    format!("`{}` is not an array", dc.name.name),
                    *lspan,
                    "a scalar takes a single value, not a brace list",
                );
                None
            }
            (VarTy::Array(..), None) => Some(Vec::new()),
            (VarTy::Array(..), Some(Init::Expr(e))) => {
                self.err(
                    format!("array `{}` needs a brace list", dc.name.name),
                    e.span,
                    "write `{a, b, ...}`",
                );
                None
            }
            (VarTy::Array(_, n), Some(Init::List(items, lspan))) => {
                if items.len() > n as usize {
                    self.ck.too_many(&dc.name.name, n, items.len(), *lspan);
                    None
                } else {
                    let what = format!("an element of `{}`", dc.name.name);
                    let vals: Vec<Option<Expr>> = items
                        .iter()
                        .map(|e| self.value(e).and_then(|v| self.coerce(v, s, &what)))
                        .collect();
                    vals.into_iter().collect::<Option<Vec<_>>>()
                }
            }
        };
        let lty = match vty {
            VarTy::Scalar(s) => LocalTy::Scalar(s),
            VarTy::Array(s, n) => LocalTy::Array(s, n),
        };
        let id = self.new_local(&dc.name.name, lty);
        self.scopes
            .last_mut()
            .expect("a scope is always open")
            .insert(dc.name.name.clone(), Binding::Local(id, lty, dc.name.span));
        let Some(init) = init else { return };
        match vty {
            VarTy::Scalar(_) => {
                // An explicit store even without an initializer: every
                // execution of the declaration starts the variable at
                // 0, so the VM never has to reason about definedness.
                let value = init
                    .into_iter()
                    .next()
                    .unwrap_or_else(|| zero_expr(s, span));
                out.push(Stmt::Expr(assign(Place::Local(id), value, span)));
            }
            VarTy::Array(_, n) => {
                if dc.init.is_none() {
                    // The VM zeroes arrays when the frame is created, which
                    // covers a declaration that runs once per call. Inside
                    // a loop it runs again, and should again start at 0.
                    if self.loops > 0 {
                        out.push(self.zero_fill(id, s, 0, n as i64, span));
                    }
                    return;
                }
                let k = init.len();
                for (i, v) in init.into_iter().enumerate() {
                    let place = index(Place::Local(id), i as i64, span);
                    out.push(Stmt::Expr(assign(place, v, span)));
                }
                if (k as u32) < n {
                    out.push(self.zero_fill(id, s, k as i64, n as i64, span));
                }
            }
        }
    }

    /// `for (#fill = from; #fill < to; #fill++) a[#fill] = 0;`: C zeroes
    /// the rest of a partly initialized array, and a loop keeps that
    /// compact for long arrays.
    fn zero_fill(&mut self, arr: LocalId, s: Scalar, from: i64, to: i64, span: Span) -> Stmt {
        let i = self.new_local("#fill", LocalTy::Scalar(Scalar::Int));
        let load_i = || Expr {
            ty: Some(Scalar::Int),
            kind: ExprKind::Load(Place::Local(i)),
            span,
        };
        let elem = Place::Index {
            base: Box::new(Place::Local(arr)),
            index: Box::new(load_i()),
        };
        Stmt::Block(vec![
            Stmt::Expr(assign(Place::Local(i), lit(Const::Int(from), span), span)),
            Stmt::Loop {
                cond: Some(Expr {
                    ty: Some(Scalar::Int),
                    kind: ExprKind::Binary {
                        op: BinOp::Lt,
                        lhs: Box::new(load_i()),
                        rhs: Box::new(lit(Const::Int(to), span)),
                    },
                    span,
                }),
                body: vec![Stmt::Expr(assign(elem, zero_expr(s, span), span))],
                step: vec![Stmt::Expr(Expr {
                    ty: Some(Scalar::Int),
                    kind: ExprKind::IncDec {
                        place: Place::Local(i),
                        delta: 1,
                        prefix: true,
                    },
                    span,
                })],
            },
        ])
    }

    // ------------------------------------------------------------ places

    /// Resolves a name to a place.
    fn name_place(&mut self, name: &str, span: Span) -> Option<Resolved> {
        let var = |place: Place, ty: VarTy| {
            let ty = match ty {
                VarTy::Scalar(s) => PlaceTy::Scalar(s),
                VarTy::Array(s, _) => PlaceTy::Array(s),
            };
            Some(Resolved {
                place,
                ty,
                read_only: false,
                what: format!("`{name}`"),
            })
        };
        if let Some(b) = self.lookup_scope(name) {
            return match b {
                Binding::Local(id, lty, _) => {
                    let ty = match lty {
                        LocalTy::Scalar(s) => PlaceTy::Scalar(s),
                        LocalTy::Array(s, _) | LocalTy::ArrayRef(s) => PlaceTy::Array(s),
                    };
                    Some(Resolved {
                        place: Place::Local(id),
                        ty,
                        read_only: false,
                        what: format!("`{name}`"),
                    })
                }
                Binding::Static(id, ty, _) => var(Place::Static(id), ty),
            };
        }
        if let Ctx::MProc {
            target: MTarget::Proc(statics),
        } = &self.ctx
            && let Some(i) = statics.iter().position(|s| s.name == name)
        {
            return var(Place::Static(i as ir::StaticId), statics[i].ty);
        }
        if let Some((ty, _)) = self.ck.env.globals.get(name).copied() {
            if let Ctx::Proc = self.ctx {
                self.globals_used.insert(name.to_string());
            }
            return var(Place::Global(name.to_string()), ty);
        }
        if self.ck.env.procs.contains_key(name) || BUILTINS.contains(&name) {
            self.err(
                format!("`{name}` is a procedure, not a variable"),
                span,
                format!("call it: `{name}(...)` (UC has no function pointers)"),
            );
        } else {
            let mut d = Diagnostic::error(
                format!("undeclared variable `{name}`"),
                span,
                "not declared in this scope",
            );
            if let Ctx::MProc { .. } = self.ctx {
                d = d.with_note(format!(
                    "in an mproc, plain names are the new statics of `{}`, globals and the mproc's own locals",
                    self.name
                ));
            }
            self.ck.diags.push(d);
        }
        None
    }

    /// `old.NAME` in an mproc.
    fn old_place(&mut self, name: &ast::Ident, span: Span) -> Option<Resolved> {
        let Ctx::MProc { target } = &self.ctx else {
            self.err(
                format!("`old.{}` outside of an mproc", name.name),
                span,
                "old statics can only be read in `mproc P { ... }`",
            );
            return None;
        };
        let n = &name.name;
        let p = self.name.clone();
        let ty: Result<VarTy, (String, String)> = match target {
            MTarget::Global(gty) => {
                if n != &p {
                    Err((
                        format!("`old.{n}` in the mproc of global `{p}`"),
                        format!("only `old.{p}` can be read here"),
                    ))
                } else {
                    match self.ck.prev {
                        None => Ok(*gty),
                        Some(prev) => match prev.globals.iter().find(|g| &g.name == n) {
                            Some(g) => Ok(g.ty),
                            None => Err((
                                format!("`old.{n}`: the previous version has no global `{n}`"),
                                "nothing to read".to_string(),
                            )),
                        },
                    }
                }
            }
            MTarget::Proc(new_statics) => match self.ck.prev {
                Some(prev) => match prev.procs.iter().find(|q| q.name == p) {
                    None => Err((
                        format!("`old.{n}`: the previous version has no procedure `{p}`"),
                        "nothing to read".to_string(),
                    )),
                    Some(q) => match q.statics.iter().find(|s| &s.name == n) {
                        Some(s) => Ok(s.ty),
                        None => Err((
                            format!("`old.{n}`: `{p}` has no static `{n}` in the previous version"),
                            "no such old static".to_string(),
                        )),
                    },
                },
                None => match new_statics.iter().find(|s| &s.name == n) {
                    Some(s) => Ok(s.ty),
                    None => Err((
                        format!("old.{n}: unknown type; give the previous version"),
                        format!(
                            "`{p}` has no static `{n}` in this version to take the type from (ucc build --prev OLD.uc)"
                        ),
                    )),
                },
            },
        };
        let ty = match ty {
            Ok(t) => t,
            Err((msg, label)) => {
                self.err(msg, span, label);
                return None;
            }
        };
        let idx = match self.old_statics.iter().position(|o| &o.name == n) {
            Some(i) => i,
            None => {
                self.old_statics.push(OldStatic {
                    name: n.clone(),
                    ty,
                });
                self.old_statics.len() - 1
            }
        };
        Some(Resolved {
            place: Place::OldStatic(idx as ir::StaticId),
            ty: match ty {
                VarTy::Scalar(s) => PlaceTy::Scalar(s),
                VarTy::Array(s, _) => PlaceTy::Array(s),
            },
            read_only: true,
            what: format!("`old.{n}`"),
        })
    }

    /// Resolves an expression that names a place: a variable, `old.X`, or
    /// an element. `None` for other expressions (no error reported).
    fn try_place(&mut self, e: &ast::Expr) -> Option<Option<Resolved>> {
        use ast::ExprKind as K;
        Some(match &e.kind {
            K::Var(name) => self.name_place(name, e.span),
            K::Old(name) => self.old_place(name, e.span),
            K::Index(base, idx) => self.index_place(base, idx),
            _ => return None,
        })
    }

    /// `base[idx]`: the base must be an array place, the index an int.
    fn index_place(&mut self, base: &ast::Expr, idx: &ast::Expr) -> Option<Resolved> {
        let b = self.try_place(base);
        let i = self.value(idx);
        let b = match b {
            Some(b) => b,
            None => {
                self.err(
                    "only arrays can be indexed",
                    base.span,
                    "this is not an array variable",
                );
                None
            }
        };
        let b = b?;
        let elem = match b.ty {
            PlaceTy::Array(s) => s,
            PlaceTy::Scalar(s) => {
                self.err(
                    format!("{} is not an array", b.what),
                    base.span,
                    format!("this is {}; only arrays can be indexed", a_scalar(s)),
                );
                return None;
            }
        };
        let mut i = i?;
        if i.ty == Some(Scalar::UInt) {
            i = cast(i, Scalar::Int);
        }
        if i.ty != Some(Scalar::Int) {
            self.err(
                "an array index must be an int (a double needs a cast)",
                idx.span,
                "this is a double; write `(int)` to convert it",
            );
            return None;
        }
        Some(Resolved {
            place: Place::Index {
                base: Box::new(b.place),
                index: Box::new(i),
            },
            ty: PlaceTy::Scalar(elem),
            read_only: b.read_only,
            what: format!("an element of {}", b.what),
        })
    }

    /// A place that is to be written (`=`, `op=`, `++`, `--`).
    fn target(&mut self, e: &ast::Expr, op: &str) -> Option<(Place, Scalar, String)> {
        let Some(r) = self.try_place(e) else {
            self.err(
                format!("cannot assign to this expression with `{op}`"),
                e.span,
                "expected a variable or an array element",
            );
            return None;
        };
        let r = r?;
        if r.read_only {
            self.err(
                format!("{} is read-only", r.what),
                e.span,
                "old statics can be read, not written; assign to the new static instead",
            );
            return None;
        }
        if self.is_const_place(&r.place) {
            self.err(
                format!("{} is const", r.what),
                e.span,
                format!("a `const` variable cannot be changed with `{op}`"),
            );
            return None;
        }
        match r.ty {
            PlaceTy::Scalar(s) => Some((r.place, s, r.what)),
            PlaceTy::Array(_) => {
                self.err(
                    format!("cannot assign to array {}", r.what),
                    e.span,
                    "assign to its elements one by one",
                );
                None
            }
        }
    }

    /// Whether a place is (an element of) a `const` variable.
    fn is_const_place(&self, p: &Place) -> bool {
        match p {
            Place::Local(id) => self.const_locals.contains(id),
            Place::Static(id) => matches!(self.ctx, Ctx::Proc) && self.const_statics.contains(id),
            Place::Global(name) => self.ck.env.const_globals.contains(name),
            Place::OldStatic(_) => false,
            Place::Index { base, .. } => self.is_const_place(base),
        }
    }

    // ------------------------------------------------------------ expressions

    /// An expression or a whole array.
    fn operand(&mut self, e: &ast::Expr) -> Option<Operand> {
        use ast::ExprKind as K;
        if let K::Var(_) | K::Old(_) | K::Index(..) = e.kind {
            let r = self.try_place(e).expect("a place expression")?;
            return Some(match r.ty {
                PlaceTy::Scalar(s) => Operand::Value(Expr {
                    ty: Some(s),
                    kind: ExprKind::Load(r.place),
                    span: e.span,
                }),
                PlaceTy::Array(_) => Operand::Array(r, e.span),
            });
        }
        self.expr(e).map(Operand::Value)
    }

    /// A scalar value: not an array, not a void call.
    fn value(&mut self, e: &ast::Expr) -> Option<Expr> {
        match self.operand(e)? {
            Operand::Value(v) if v.ty.is_some() => Some(v),
            Operand::Value(_) => {
                self.err(
                    "this call returns no value",
                    e.span,
                    "a void procedure or builtin cannot be used in an expression",
                );
                None
            }
            Operand::Array(r, span) => {
                self.err(
                    format!("{} is an array, not a value", r.what),
                    span,
                    "index it, or pass it to a procedure that takes an array",
                );
                None
            }
        }
    }

    /// An expression statement: any scalar or a void call.
    fn expr_stmt(&mut self, e: &ast::Expr) -> Option<Expr> {
        match self.operand(e)? {
            Operand::Value(v) => Some(v),
            Operand::Array(r, span) => {
                self.err(
                    format!("{} is an array; this statement does nothing", r.what),
                    span,
                    "expected an assignment or a call",
                );
                None
            }
        }
    }

    /// A condition: an int, or a double compared with 0.0 (C truth).
    fn cond(&mut self, e: &ast::Expr) -> Option<Expr> {
        let v = self.value(e)?;
        Some(truthy(v))
    }

    /// Converts `e` to `to` as C's assignment does: any scalar to any
    /// other, each conversion an explicit cast (double → integer
    /// truncates toward zero).
    fn coerce(&mut self, e: Expr, to: Scalar, what: &str) -> Option<Expr> {
        match e.ty {
            Some(from) if from == to => Some(e),
            Some(_) => Some(cast(e, to)),
            None => {
                self.err(
                    format!("{what} needs a value, but this call returns none"),
                    e.span,
                    "a void procedure or builtin cannot be used in an expression",
                );
                None
            }
        }
    }

    fn expr(&mut self, e: &ast::Expr) -> Option<Expr> {
        use ast::ExprKind as K;
        let span = e.span;
        match &e.kind {
            K::Int(v) => Some(lit(Const::Int(*v), span)),
            K::UInt(v) => Some(zero_expr(Scalar::UInt, span)).map(|mut e| {
                e.kind = ExprKind::Int(*v);
                e
            }),
            K::Double(v) => Some(lit(Const::Double(*v), span)),
            K::Str(_) => {
                self.err(
                    "a string literal can only be a printf format or argument",
                    span,
                    "UC has no string values",
                );
                None
            }
            K::Var(_) | K::Old(_) | K::Index(..) => self.value(e),
            K::Call(name, args) => self.call(name, args, span),
            K::NewCall(name, args) => self.new_call(name, args, span),
            K::Assign { target, op, value } => {
                let opname = match op {
                    None => "=".to_string(),
                    Some(o) => format!("{}=", o.symbol()),
                };
                let t = self.target(target, &opname);
                let v = self.value(value);
                let ((place, ty, what), v) = (t?, v?);
                let Some(op) = *op else {
                    let v = self.coerce(v, ty, &what)?;
                    return Some(assign(place, v, span));
                };
                // `x op= v` is `x = (T) (x op v)` with C's conversions. When
                // `x op v` is computed in x's own type with v converted to
                // it, the IR's compound form (the place evaluated once)
                // says exactly that.
                let load = Expr {
                    ty: Some(ty),
                    kind: ExprKind::Load(place.clone()),
                    span: target.span,
                };
                let vt = v.ty.expect("a value");
                let shift = matches!(op, ast::BinOp::Shl | ast::BinOp::Shr);
                let full = self.arith(op, load, v.clone(), span, target.span, value.span)?;
                let ExprKind::Binary { op: irop, .. } = full.kind else {
                    unreachable!("arith builds a binary")
                };
                if shift || full.ty == Some(ty) && (common(ty, vt) == ty) {
                    let v = if shift {
                        self.shift_count(v, ty)
                    } else {
                        self.coerce(v, ty, &what)?
                    };
                    return Some(Expr {
                        ty: Some(ty),
                        kind: ExprKind::Assign {
                            place,
                            op: Some(irop),
                            value: Box::new(v),
                        },
                        span,
                    });
                }
                // Computed in another type (`i += 0.5`, `i /= u`): load,
                // compute and store, which evaluates the place twice, so
                // only for places without side effects.
                if !pure_place(&place) {
                    self.err(
                        format!("`{opname}` here mixes types and its target has side effects"),
                        target.span,
                        "UC evaluates such a target twice; compute the index into a variable first",
                    );
                    return None;
                }
                let v = self.coerce(full, ty, &what)?;
                Some(assign(place, v, span))
            }
            K::IncDec {
                target,
                delta,
                prefix,
            } => {
                let op = if *delta > 0 { "++" } else { "--" };
                let (place, ty, _) = self.target(target, op)?;
                Some(Expr {
                    ty: Some(ty),
                    kind: ExprKind::IncDec {
                        place,
                        delta: *delta,
                        prefix: *prefix,
                    },
                    span,
                })
            }
            K::Binary(op, a, b) => self.binary(*op, a, b, span),
            K::Unary(op, x) => {
                let v = self.value(x)?;
                Some(match op {
                    ast::UnOp::Plus => Expr { span, ..v },
                    ast::UnOp::BitNot => {
                        if v.ty == Some(Scalar::Double) {
                            self.err("`~` needs an integer operand", x.span, "this is a double");
                            return None;
                        }
                        Expr {
                            ty: v.ty,
                            kind: ExprKind::Unary {
                                op: UnOp::BitNot,
                                operand: Box::new(v),
                            },
                            span,
                        }
                    }
                    ast::UnOp::Neg => Expr {
                        ty: v.ty,
                        kind: ExprKind::Unary {
                            op: UnOp::Neg,
                            operand: Box::new(v),
                        },
                        span,
                    },
                    ast::UnOp::Not => {
                        // The IR's Not is on ints; a double is first
                        // turned into its C truth value (d != 0.0).
                        let v = truthy(v);
                        Expr {
                            ty: Some(Scalar::Int),
                            kind: ExprKind::Unary {
                                op: UnOp::Not,
                                operand: Box::new(v),
                            },
                            span,
                        }
                    }
                })
            }
            K::Cast(t, x) => {
                let v = self.value(x)?;
                let to = scalar(*t);
                Some(if v.ty == Some(to) {
                    Expr { span, ..v }
                } else {
                    Expr {
                        span,
                        ..cast(v, to)
                    }
                })
            }
            K::Cond(c, a, b) => {
                let c = self.cond(c);
                let (a, b) = (self.expr_stmt(a), self.expr_stmt(b));
                let (c, a, b) = (c?, a?, b?);
                let (a, b, ty) = match (a.ty, b.ty) {
                    (None, None) => (a, b, None),
                    (Some(x), Some(y)) => {
                        let t = common(x, y);
                        let a = self.coerce(a, t, "the `?:` operand")?;
                        let b = self.coerce(b, t, "the `?:` operand")?;
                        (a, b, Some(t))
                    }
                    _ => {
                        self.err(
                            "one operand of `?:` has a value and the other does not",
                            span,
                            "both must be values, or both void calls",
                        );
                        return None;
                    }
                };
                Some(Expr {
                    ty,
                    kind: ExprKind::Cond {
                        cond: Box::new(c),
                        then: Box::new(a),
                        els: Box::new(b),
                    },
                    span,
                })
            }
            K::Comma(a, b) => {
                let (a, b) = (self.expr_stmt(a), self.expr_stmt(b));
                let (a, b) = (a?, b?);
                Some(Expr {
                    ty: b.ty,
                    kind: ExprKind::Comma {
                        first: Box::new(a),
                        then: Box::new(b),
                    },
                    span,
                })
            }
        }
    }

    fn binary(&mut self, op: ast::BinOp, a: &ast::Expr, b: &ast::Expr, span: Span) -> Option<Expr> {
        use ast::BinOp as B;
        if let B::And | B::Or = op {
            let (l, r) = (self.cond(a), self.cond(b));
            return Some(Expr {
                ty: Some(Scalar::Int),
                kind: ExprKind::Logic {
                    and: op == B::And,
                    lhs: Box::new(l?),
                    rhs: Box::new(r?),
                },
                span,
            });
        }
        let (l, r) = (self.value(a), self.value(b));
        self.arith(op, l?, r?, span, a.span, b.span)
    }

    /// A shift count, converted to the shifted value's type (the IR's
    /// operands have equal types; the count's 64 bits are what is checked).
    fn shift_count(&mut self, n: Expr, to: Scalar) -> Expr {
        if n.ty == Some(to) { n } else { cast(n, to) }
    }

    /// `l op r` on checked operands, with C's usual arithmetic conversions
    /// and the unsigned operators where signedness matters.
    fn arith(
        &mut self,
        op: ast::BinOp,
        l: Expr,
        r: Expr,
        span: Span,
        lspan: Span,
        rspan: Span,
    ) -> Option<Expr> {
        use ast::BinOp as B;
        let (lt, rt) = (l.ty.expect("a value"), r.ty.expect("a value"));
        let integer_only = matches!(
            op,
            B::Rem | B::BitAnd | B::BitOr | B::BitXor | B::Shl | B::Shr
        );
        if integer_only && (lt == Scalar::Double || rt == Scalar::Double) {
            let bad = if lt == Scalar::Double { lspan } else { rspan };
            self.err(
                format!("`{}` needs integer operands", op.symbol()),
                bad,
                "this is a double",
            );
            return None;
        }
        if let B::Shl | B::Shr = op {
            // The result has the left operand's type; the count's type
            // does not matter.
            let r = self.shift_count(r, lt);
            let irop = match (op, lt) {
                (B::Shl, _) => BinOp::Shl,
                (_, Scalar::UInt) => BinOp::UShr,
                _ => BinOp::Shr,
            };
            return Some(Expr {
                ty: Some(lt),
                kind: ExprKind::Binary {
                    op: irop,
                    lhs: Box::new(l),
                    rhs: Box::new(r),
                },
                span,
            });
        }
        let t = common(lt, rt);
        let l = if lt == t { l } else { cast(l, t) };
        let r = if rt == t { r } else { cast(r, t) };
        let u = t == Scalar::UInt;
        let irop = match op {
            B::Add => BinOp::Add,
            B::Sub => BinOp::Sub,
            B::Mul => BinOp::Mul,
            B::Div if u => BinOp::UDiv,
            B::Div => BinOp::Div,
            B::Rem if u => BinOp::URem,
            B::Rem => BinOp::Rem,
            B::Eq => BinOp::Eq,
            B::Ne => BinOp::Ne,
            B::Lt if u => BinOp::ULt,
            B::Lt => BinOp::Lt,
            B::Le if u => BinOp::ULe,
            B::Le => BinOp::Le,
            B::Gt if u => BinOp::UGt,
            B::Gt => BinOp::Gt,
            B::Ge if u => BinOp::UGe,
            B::Ge => BinOp::Ge,
            B::BitAnd => BinOp::BitAnd,
            B::BitOr => BinOp::BitOr,
            B::BitXor => BinOp::BitXor,
            B::And | B::Or | B::Shl | B::Shr => unreachable!("handled by the callers"),
        };
        let ty = if irop.is_comparison() { Scalar::Int } else { t };
        Some(Expr {
            ty: Some(ty),
            kind: ExprKind::Binary {
                op: irop,
                lhs: Box::new(l),
                rhs: Box::new(r),
            },
            span,
        })
    }

    // ------------------------------------------------------------ calls

    fn call(&mut self, name: &ast::Ident, args: &[ast::Expr], span: Span) -> Option<Expr> {
        let n = name.name.as_str();
        if BUILTINS.contains(&n) {
            return self.builtin(name, args, span);
        }
        if LIBC.contains(&n) && !self.ck.env.procs.contains_key(n) {
            return self.libc(name, args, span);
        }
        let Some((sig, def_span)) = self.ck.env.procs.get(n).cloned() else {
            if let Some((_, why)) = LEFT_OUT_CALLS.iter().find(|(f, _)| *f == n) {
                self.err(
                    format!("`{n}` is not available in UC"),
                    name.span,
                    *why,
                );
                return None;
            }
            if self.ck.env.globals.contains_key(n) || self.lookup_scope(n).is_some() {
                self.err(
                    format!("`{n}` is a variable, not a procedure"),
                    name.span,
                    "only procedures can be called",
                );
            } else {
                self.err(
                    format!("call to undeclared procedure `{n}`"),
                    name.span,
                    "no procedure of this name in this file",
                );
            }
            return None;
        };
        match &self.ctx {
            Ctx::Proc => {}
            Ctx::IProc { .. } => {
                let msg = if n == self.name {
                    format!("an iproc calls the new version as `new.{n}(...)`")
                } else {
                    format!("an iproc may call only `new.{}` and builtins", self.name)
                };
                self.err(msg, name.span, "UC procedures are not reachable from here");
                return None;
            }
            Ctx::MProc { .. } => {
                self.err(
                    "an mproc may call only builtins",
                    name.span,
                    "it runs before the new version is bound, on a helper thread",
                );
                return None;
            }
        }
        let args = self.args(n, &sig, def_span, args, span)?;
        self.callees.insert(n.to_string());
        Some(call_expr(n, &sig, args, span))
    }

    fn new_call(&mut self, name: &ast::Ident, args: &[ast::Expr], span: Span) -> Option<Expr> {
        let n = name.name.as_str();
        let Ctx::IProc { new_sig } = &self.ctx else {
            self.err(
                format!("`new.{n}(...)` outside of an iproc"),
                span,
                "only an iproc calls the new version of its procedure",
            );
            return None;
        };
        if n != self.name {
            let own = self.name.clone();
            self.err(
                format!("the iproc of `{own}` may call only `new.{own}`"),
                name.span,
                format!("expected `new.{own}`"),
            );
            return None;
        }
        let sig = new_sig.clone();
        let def_span = self.ck.env.procs.get(n).map(|p| p.1).unwrap_or_default();
        let args = self.args(&format!("new.{n}"), &sig, def_span, args, span)?;
        Some(call_expr(n, &sig, args, span))
    }

    /// Checks call arguments against a signature.
    fn args(
        &mut self,
        callee: &str,
        sig: &Signature,
        def_span: Span,
        args: &[ast::Expr],
        span: Span,
    ) -> Option<Vec<Arg>> {
        if args.len() != sig.params.len() {
            let note = format!(
                "`{callee}` is {} (defined at {})",
                sig_string(sig),
                self.ck.at_line(def_span)
            );
            let plural = |n: usize| if n == 1 { "" } else { "s" };
            self.ck.diags.push(
                Diagnostic::error(
                    format!(
                        "`{callee}` takes {} argument{} but {} {} given",
                        sig.params.len(),
                        plural(sig.params.len()),
                        args.len(),
                        if args.len() == 1 { "was" } else { "were" }
                    ),
                    span,
                    format!(
                        "expected {} argument{}",
                        sig.params.len(),
                        plural(sig.params.len())
                    ),
                )
                .with_note(note),
            );
            return None;
        }
        let mut out = Vec::with_capacity(args.len());
        let mut ok = true;
        for (i, (a, p)) in args.iter().zip(&sig.params).enumerate() {
            let arg = match *p {
                ParamTy::Scalar(s) => {
                    let what = format!("parameter {} of `{callee}`", i + 1);
                    self.value(a)
                        .and_then(|v| self.coerce(v, s, &what))
                        .map(Arg::Value)
                }
                ParamTy::ArrayRef(s) => match self.operand(a) {
                    None => None,
                    Some(Operand::Array(r, _)) => match r.ty {
                        PlaceTy::Array(have) if have == s => Some(Arg::Array(r.place)),
                        _ => {
                            self.err(
                                format!(
                                    "argument {} of `{callee}` must be {} array, but {} is {} array",
                                    i + 1,
                                    a_scalar(s),
                                    r.what,
                                    match r.ty {
                                        PlaceTy::Array(x) | PlaceTy::Scalar(x) => a_scalar(x),
                                    }
                                ),
                                a.span,
                                format!("expected a {}[] array", scalar_name(s)),
                            );
                            None
                        }
                    },
                    Some(Operand::Value(_)) => {
                        self.err(
                            format!(
                                "argument {} of `{callee}` must be {} array",
                                i + 1,
                                a_scalar(s)
                            ),
                            a.span,
                            "expected the name of an array",
                        );
                        None
                    }
                },
            };
            match arg {
                Some(a) => out.push(a),
                None => ok = false,
            }
        }
        ok.then_some(out)
    }

    fn builtin(&mut self, name: &ast::Ident, args: &[ast::Expr], span: Span) -> Option<Expr> {
        let n = name.name.as_str();
        if n == "printf" {
            return self.printf(args, span);
        }
        let want = match n {
            "now_ms" => 0,
            _ => 1,
        };
        if args.len() != want {
            self.err(
                format!(
                    "`{n}` takes {want} argument{} but {} {} given",
                    if want == 1 { "" } else { "s" },
                    args.len(),
                    if args.len() == 1 { "was" } else { "were" }
                ),
                span,
                match n {
                    "sleep_ms" => "expected `sleep_ms(milliseconds)`",
                    "exit" => "expected `exit(code)`",
                    "len" => "expected `len(array)`",
                    _ => "expected `now_ms()`",
                },
            );
            return None;
        }
        match n {
            "len" => match self.operand(&args[0])? {
                Operand::Array(r, _) => Some(Expr {
                    ty: Some(Scalar::Int),
                    kind: ExprKind::Len(r.place),
                    span,
                }),
                Operand::Value(_) => {
                    self.err(
                        "`len` takes an array",
                        args[0].span,
                        "expected the name of an array",
                    );
                    None
                }
            },
            "now_ms" => Some(Expr {
                ty: Some(Scalar::Int),
                kind: ExprKind::Builtin {
                    which: Builtin::NowMs,
                    args: Vec::new(),
                },
                span,
            }),
            _ => {
                let which = if n == "exit" {
                    Builtin::Exit
                } else {
                    Builtin::SleepMs
                };
                let what = format!("the argument of `{n}`");
                let v = self.value(&args[0])?;
                let v = self.coerce(v, Scalar::Int, &what)?;
                Some(Expr {
                    ty: None,
                    kind: ExprKind::Builtin {
                        which,
                        args: vec![v],
                    },
                    span,
                })
            }
        }
    }

    /// A call of one of the C library functions of SPEC 2.2.
    fn libc(&mut self, name: &ast::Ident, args: &[ast::Expr], span: Span) -> Option<Expr> {
        let n = name.name.as_str();
        let math1 = Builtin::MATH1.iter().find(|(f, _)| *f == n).map(|x| x.1);
        let math2 = Builtin::MATH2.iter().find(|(f, _)| *f == n).map(|x| x.1);
        let (params, ret, usage): (&[Scalar], Option<Scalar>, String) = if math1.is_some() {
            (&[Scalar::Double], Some(Scalar::Double), format!("{n}(x)"))
        } else if math2.is_some() {
            (
                &[Scalar::Double, Scalar::Double],
                Some(Scalar::Double),
                format!("{n}(x, y)"),
            )
        } else {
            match n {
                "abs" | "labs" => (&[Scalar::Int], Some(Scalar::Int), format!("{n}(n)")),
                "rand" => (&[], Some(Scalar::Int), "rand()".into()),
                "srand" => (&[Scalar::UInt], None, "srand(seed)".into()),
                "putchar" => (&[Scalar::Int], None, "putchar(c)".into()),
                _ => (&[], None, "puts(\"text\")".into()),
            }
        };
        if n == "puts" {
            // puts("text") prints the text and a newline: a printf.
            return match args {
                [ast::Expr {
                    kind: ast::ExprKind::Str(text),
                    ..
                }] => Some(Expr {
                    ty: None,
                    kind: ExprKind::Printf {
                        pieces: vec![FmtPiece::Lit(format!("{text}\n"))],
                        args: Vec::new(),
                    },
                    span,
                }),
                _ => {
                    self.err(
                        "`puts` takes one string literal",
                        span,
                        "expected `puts(\"text\")` (UC has no string values)",
                    );
                    None
                }
            };
        }
        if args.len() != params.len() {
            self.err(
                format!(
                    "`{n}` takes {} argument{} but {} {} given",
                    params.len(),
                    if params.len() == 1 { "" } else { "s" },
                    args.len(),
                    if args.len() == 1 { "was" } else { "were" }
                ),
                span,
                format!("expected `{usage}`"),
            );
            return None;
        }
        let mut vals = Vec::new();
        for (i, (a, p)) in args.iter().zip(params).enumerate() {
            let what = format!("argument {} of `{n}`", i + 1);
            let v = self.value(a).and_then(|v| self.coerce(v, *p, &what));
            vals.push(v);
        }
        let vals: Vec<Expr> = vals.into_iter().collect::<Option<_>>()?;
        if n == "putchar" {
            // putchar(c) prints one byte: a printf of `%c`.
            return Some(Expr {
                ty: None,
                kind: ExprKind::Printf {
                    pieces: vec![FmtPiece::Conv {
                        spec: "%c".into(),
                        conv: 'c',
                    }],
                    args: vals.into_iter().map(PrintArg::Value).collect(),
                },
                span,
            });
        }
        let which = math1.or(math2).unwrap_or(match n {
            "abs" | "labs" => Builtin::Abs,
            "rand" => Builtin::Rand,
            _ => Builtin::Srand,
        });
        Some(Expr {
            ty: ret,
            kind: ExprKind::Builtin { which, args: vals },
            span,
        })
    }

    fn printf(&mut self, args: &[ast::Expr], span: Span) -> Option<Expr> {
        let Some(fmt) = args.first() else {
            self.err(
                "`printf` needs a format",
                span,
                "expected `printf(\"...\", ...)`",
            );
            return None;
        };
        let ast::ExprKind::Str(text) = &fmt.kind else {
            self.err(
                "the format of `printf` must be a string literal",
                fmt.span,
                "expected \"...\"",
            );
            return None;
        };
        let pieces = match parse_format(text) {
            Ok(p) => p,
            Err(msg) => {
                self.err(
                    format!("bad printf format: {msg}"),
                    fmt.span,
                    "supported: %d %i %u %x %X %o %c %s %f %F %e %E %g %G %a %A %% with flags, width, precision and h hh l ll z j t",
                );
                return None;
            }
        };
        let convs: Vec<(&str, char)> = pieces
            .iter()
            .filter_map(|p| match p {
                FmtPiece::Conv { spec, conv } => Some((spec.as_str(), *conv)),
                FmtPiece::Lit(_) => None,
            })
            .collect();
        let rest = &args[1..];
        let wanted: usize = convs.iter().map(|(spec, _)| 1 + spec.matches('*').count()).sum();
        if wanted != rest.len() {
            self.err(
                format!(
                    "the format takes {} argument{} but {} {} given",
                    wanted,
                    if wanted == 1 { "" } else { "s" },
                    rest.len(),
                    if rest.len() == 1 { "is" } else { "are" }
                ),
                span,
                format!(
                    "expected {} argument{} after the format",
                    wanted,
                    if wanted == 1 { "" } else { "s" }
                ),
            );
            return None;
        }
        let mut out = Vec::new();
        let mut ok = true;
        let mut next = rest.iter().enumerate();
        for (spec, conv) in &convs {
            for _ in 0..spec.matches('*').count() {
                let (i, a) = next.next().expect("counted above");
                let argno = i + 2;
                let arg = match self.value(a) {
                    Some(v) if v.ty == Some(Scalar::Double) => {
                        self.err(
                            format!("the `*` of `{spec}` takes an int, but argument {argno} is a double"),
                            a.span,
                            "a width or precision is an int",
                        );
                        None
                    }
                    Some(v) => Some(PrintArg::Value(self.shift_count(v, Scalar::Int))),
                    None => None,
                };
                match arg {
                    Some(a) => out.push(a),
                    None => ok = false,
                }
            }
            let (i, a) = next.next().expect("counted above");
            let argno = i + 2;
            let arg = if *conv == 's' {
                match &a.kind {
                    ast::ExprKind::Str(s) => Some(PrintArg::Str(s.clone())),
                    _ => {
                        self.err(
                            format!(
                                "`{spec}` expects a string literal, but argument {argno} is not one"
                            ),
                            a.span,
                            "expected \"...\"",
                        );
                        None
                    }
                }
            } else {
                let double = "fFeEgGaA".contains(*conv);
                let want = if double { "a double" } else { "an integer" };
                if let ast::ExprKind::Str(_) = a.kind {
                    self.err(
                        format!("`{spec}` expects {want}, but argument {argno} is a string literal"),
                        a.span,
                        "use `%s` for strings",
                    );
                    None
                } else {
                    match self.value(a) {
                        None => None,
                        Some(v) if double == (v.ty == Some(Scalar::Double)) => {
                            Some(PrintArg::Value(if double {
                                v
                            } else {
                                // The runtime formats the 64 bits as the
                                // conversion says; the IR passes an int.
                                self.shift_count(v, Scalar::Int)
                            }))
                        }
                        Some(v) => {
                            let have = scalar_name(v.ty.expect("a value"));
                            let fix = if double {
                                "write `(double)` to convert, or use `%d`"
                            } else {
                                "write `(int)` to convert, or use `%f`"
                            };
                            self.err(
                                format!("`{spec}` expects {want}, but argument {argno} has type {have}"),
                                a.span,
                                fix,
                            );
                            None
                        }
                    }
                }
            };
            match arg {
                Some(a) => out.push(a),
                None => ok = false,
            }
        }
        ok.then_some(Expr {
            ty: None,
            kind: ExprKind::Printf { pieces, args: out },
            span,
        })
    }
}

/// A place whose evaluation has no side effects (its indexes are pure),
/// so evaluating it twice is the same as once.
fn pure_place(p: &Place) -> bool {
    match p {
        Place::Index { base, index } => pure_place(base) && pure_expr(index),
        _ => true,
    }
}

fn pure_expr(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Int(_) | ExprKind::Double(_) => true,
        ExprKind::Load(p) | ExprKind::Len(p) => pure_place(p),
        ExprKind::Binary { lhs, rhs, .. } | ExprKind::Logic { lhs, rhs, .. } => {
            pure_expr(lhs) && pure_expr(rhs)
        }
        ExprKind::Unary { operand, .. } | ExprKind::Cast { operand, .. } => pure_expr(operand),
        _ => false,
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

/// An int condition from a value: doubles become `d != 0.0`, unsigned
/// values are cast (same bits).
fn truthy(v: Expr) -> Expr {
    if v.ty == Some(Scalar::UInt) {
        return cast(v, Scalar::Int);
    }
    if v.ty == Some(Scalar::Double) {
        let span = v.span;
        Expr {
            ty: Some(Scalar::Int),
            kind: ExprKind::Binary {
                op: BinOp::Ne,
                lhs: Box::new(v),
                rhs: Box::new(lit(Const::Double(0.0), span)),
            },
            span,
        }
    } else {
        v
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
        },
        kind: ExprKind::Call {
            callee: callee.to_string(),
            args,
        },
        span,
    }
}

/// Splits a printf format into literal text and conversions, checking each
/// conversion is one UC supports:
/// `%[flags][width|*][.prec|.*][hh|h|l|ll|z|j|t]conv`.
pub fn parse_format(text: &str) -> Result<Vec<FmtPiece>, String> {
    let mut pieces = Vec::new();
    let mut lit_text = String::new();
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '%' {
            lit_text.push(c);
            continue;
        }
        if let Some('%') = chars.peek() {
            chars.next();
            lit_text.push('%');
            continue;
        }
        let mut spec = String::from("%");
        let take = |spec: &mut String, chars: &mut std::iter::Peekable<std::str::Chars>, f: &dyn Fn(char) -> bool| {
            while let Some(&d) = chars.peek() {
                if f(d) {
                    spec.push(d);
                    chars.next();
                } else {
                    break;
                }
            }
        };
        take(&mut spec, &mut chars, &|f| "-+ #0".contains(f));
        if let Some('*') = chars.peek() {
            spec.push('*');
            chars.next();
        } else {
            take(&mut spec, &mut chars, &|d| d.is_ascii_digit());
        }
        if let Some('.') = chars.peek() {
            spec.push('.');
            chars.next();
            if let Some('*') = chars.peek() {
                spec.push('*');
                chars.next();
            } else {
                take(&mut spec, &mut chars, &|d| d.is_ascii_digit());
            }
        }
        let len_start = spec.len();
        take(&mut spec, &mut chars, &|d| "hlzjtL".contains(d));
        let length = spec[len_start..].to_string();
        let Some(conv) = chars.next() else {
            return Err(format!(
                "`{spec}` at the end of the format has no conversion letter"
            ));
        };
        spec.push(conv);
        let ok_len = match conv {
            'd' | 'i' | 'u' | 'x' | 'X' | 'o' => {
                matches!(length.as_str(), "" | "h" | "hh" | "l" | "ll" | "z" | "j" | "t")
            }
            'f' | 'F' | 'e' | 'E' | 'g' | 'G' | 'a' | 'A' => matches!(length.as_str(), "" | "l"),
            'c' | 's' => length.is_empty(),
            'p' => return Err(format!("`{spec}`: UC has no pointers")),
            'n' => return Err(format!("`{spec}` is not supported")),
            _ => return Err(format!("`{spec}` is not a supported conversion")),
        };
        if !ok_len {
            return Err(format!(
                "`{spec}` has a length modifier UC does not support"
            ));
        }
        if !lit_text.is_empty() {
            pieces.push(FmtPiece::Lit(std::mem::take(&mut lit_text)));
        }
        pieces.push(FmtPiece::Conv { spec, conv });
    }
    if !lit_text.is_empty() {
        pieces.push(FmtPiece::Lit(lit_text));
    }
    Ok(pieces)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_pieces() {
        let p = parse_format("a %5d%% %-8.3lf %s\n").unwrap();
        assert_eq!(
            p,
            vec![
                FmtPiece::Lit("a ".into()),
                FmtPiece::Conv {
                    spec: "%5d".into(),
                    conv: 'd'
                },
                FmtPiece::Lit("% ".into()),
                FmtPiece::Conv {
                    spec: "%-8.3lf".into(),
                    conv: 'f'
                },
                FmtPiece::Lit(" ".into()),
                FmtPiece::Conv {
                    spec: "%s".into(),
                    conv: 's'
                },
                FmtPiece::Lit("\n".into()),
            ]
        );
        assert!(parse_format("%lld %lli %1000d %*d %.*f %hhx %zu %#o %+e %G").is_ok());
        assert!(parse_format("%y").is_err());
        assert!(parse_format("%p").is_err());
        assert!(parse_format("%Lf").is_err());
        assert!(parse_format("%").is_err());
        assert!(parse_format("%ls").is_err());
    }
}
