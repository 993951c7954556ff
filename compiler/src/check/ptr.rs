//! Pointers (SPEC 2.3): `*p`, `&x`, `p[i]` on a pointer, pointer
//! arithmetic and differences, string literals as `char *` values, the
//! heap (`malloc calloc realloc free`) and the C library functions that
//! work on the program's memory.
//!
//! The IR stays machine-level: a pointer value is an `unsigned long`
//! [`Expr`], the arithmetic on it is explicit (`p + i` is `p + i * 4` for
//! an `int *`), and a dereference is a [`Place::Deref`] whose every access
//! the code generator checks. What the IR does not keep — which type a
//! pointer points to — the checker carries beside each expression while
//! it checks: [`FnCx::texpr`] gives it.

use super::*;

/// A checked expression and, when it is a pointer, its C type.
pub(super) type Typed = (Expr, Option<PtrTy>);

/// The C library functions over the program's memory, as the runtime's
/// `LibcFn` numbers them (vm/src/runtime/libc.rs, checked against this
/// list by a test there): name, number, parameters, result.
pub const LIBC_MEM: &[(&str, u32, &[LibcArg], LibcRet)] = {
    use LibcArg::{I, P, Z};
    &[
        ("strlen", 1, &[P], LibcRet::Int(Scalar::U64)),
        ("strcmp", 2, &[P, P], LibcRet::Int(Scalar::I32)),
        ("strncmp", 3, &[P, P, Z], LibcRet::Int(Scalar::I32)),
        ("strcpy", 4, &[P, P], LibcRet::Char),
        ("strncpy", 5, &[P, P, Z], LibcRet::Char),
        ("strcat", 6, &[P, P], LibcRet::Char),
        ("strncat", 7, &[P, P, Z], LibcRet::Char),
        ("strchr", 8, &[P, I], LibcRet::Char),
        ("strrchr", 9, &[P, I], LibcRet::Char),
        ("strstr", 10, &[P, P], LibcRet::Char),
        ("memcpy", 11, &[P, P, Z], LibcRet::Void),
        ("memmove", 12, &[P, P, Z], LibcRet::Void),
        ("memset", 13, &[P, I, Z], LibcRet::Void),
        ("memcmp", 14, &[P, P, Z], LibcRet::Int(Scalar::I32)),
        ("isalnum", 20, &[I], LibcRet::Int(Scalar::I32)),
        ("isalpha", 21, &[I], LibcRet::Int(Scalar::I32)),
        ("isdigit", 22, &[I], LibcRet::Int(Scalar::I32)),
        ("isxdigit", 23, &[I], LibcRet::Int(Scalar::I32)),
        ("islower", 24, &[I], LibcRet::Int(Scalar::I32)),
        ("isupper", 25, &[I], LibcRet::Int(Scalar::I32)),
        ("isspace", 26, &[I], LibcRet::Int(Scalar::I32)),
        ("ispunct", 27, &[I], LibcRet::Int(Scalar::I32)),
        ("isprint", 28, &[I], LibcRet::Int(Scalar::I32)),
        ("iscntrl", 29, &[I], LibcRet::Int(Scalar::I32)),
        ("isgraph", 30, &[I], LibcRet::Int(Scalar::I32)),
        ("toupper", 31, &[I], LibcRet::Int(Scalar::I32)),
        ("tolower", 32, &[I], LibcRet::Int(Scalar::I32)),
        ("atoi", 40, &[P], LibcRet::Int(Scalar::I32)),
        ("atol", 41, &[P], LibcRet::Int(Scalar::I64)),
        ("strtol", 42, &[P, P, I], LibcRet::Int(Scalar::I64)),
        ("strtoul", 43, &[P, P, I], LibcRet::Int(Scalar::U64)),
        ("strtod", 44, &[P, P], LibcRet::Double),
        ("strdup", 47, &[P], LibcRet::Char),
    ]
};

/// A parameter of a [`LIBC_MEM`] function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LibcArg {
    /// A pointer (any pointer type, or a null constant).
    P,
    /// An `int`.
    I,
    /// A `size_t`.
    Z,
}

/// The result of a [`LIBC_MEM`] function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LibcRet {
    /// An integer of this type.
    Int(Scalar),
    /// `char *`.
    Char,
    /// `void *`.
    Void,
    /// `double` (its bits come back in the 64-bit result).
    Double,
}

/// The heap functions, by C name.
pub(super) const HEAP: &[&str] = &["malloc", "calloc", "realloc", "free"];

const CHAR_PTR: PtrTy = PtrTy {
    base: ir::Base::Scalar(Scalar::I8),
    depth: 1,
};
const VOID_PTR: PtrTy = PtrTy {
    base: ir::Base::Void,
    depth: 1,
};

/// A `long` constant.
fn long_lit(v: i64, span: Span) -> Expr {
    Expr {
        ty: Some(Scalar::I64),
        kind: ExprKind::Int(v),
        span,
    }
}

fn u64_expr(kind: ExprKind, span: Span) -> Expr {
    Expr {
        ty: Some(PtrTy::MACHINE),
        kind,
        span,
    }
}

impl FnCx<'_, '_> {
    /// Checks `e` and gives its pointer type too, where it has one. Every
    /// form that can yield a pointer is handled here; the rest are
    /// [`FnCx::expr`]'s.
    pub(super) fn texpr(&mut self, e: &ast::Expr) -> Option<Typed> {
        use ast::ExprKind as K;
        let span = e.span;
        match &e.kind {
            K::Var(name) if let Some(v) = self.enum_const(name) => Some((
                Expr {
                    ty: Some(Scalar::I32),
                    kind: ExprKind::Int(v),
                    span,
                },
                None,
            )),
            K::Var(_) | K::Old(_) | K::Index(..) | K::Deref(_) => {
                let r = self.try_place(e).expect("a place expression")?;
                Some(match r.ty {
                    PlaceTy::Scalar(s) => (
                        Expr {
                            ty: Some(s),
                            kind: ExprKind::Load(r.place),
                            span,
                        },
                        None,
                    ),
                    PlaceTy::Ptr(p) => (u64_expr(ExprKind::Load(r.place), span), Some(p)),
                    // An array in a value context is the address of its
                    // first element (C 6.3.2.1).
                    PlaceTy::Array(s) => self.decay(r, s, span)?,
                })
            }
            K::Str(text) => {
                let place = self.string_literal(text, span)?;
                Some((
                    u64_expr(ExprKind::AddrOf(index(place, 0, span)), span),
                    Some(CHAR_PTR),
                ))
            }
            K::AddrOf(x) => self.addr_of(x, span),
            K::CastPtr(p, x) => {
                let (v, _) = self.texpr(x)?;
                match v.ty {
                    Some(t) if t.is_integer() => Some((
                        Expr {
                            span,
                            ..cast_if(v, PtrTy::MACHINE)
                        },
                        Some(*p),
                    )),
                    Some(t) => {
                        self.err(
                            format!("cannot cast {} to a pointer", a_scalar(t)),
                            x.span,
                            "only integers and pointers convert to pointers",
                        );
                        None
                    }
                    None => {
                        self.err("this call returns no value", x.span, "nothing to cast");
                        None
                    }
                }
            }
            K::Binary(op @ (ast::BinOp::Add | ast::BinOp::Sub), a, b) => {
                let (l, r) = (self.texpr(a), self.texpr(b));
                let ((l, lp), (r, rp)) = (l?, r?);
                self.additive(*op, (l, lp), (r, rp), span, a.span, b.span)
            }
            K::Assign { target, op, value } => self.assign_t(target, *op, value, span),
            K::IncDec {
                target,
                delta,
                prefix,
            } => self.incdec(target, *delta, *prefix, span),
            K::Call(c) if self.is_heap_call(&c.name.name) => self.heap_call(&c.name, &c.args, span),
            K::Call(c) if self.libc_mem(&c.name.name).is_some() => {
                self.libc_call(&c.name, &c.args, span)
            }
            K::Call(c) => {
                let v = self.call(&c.name, &c.args, span)?;
                let p = match self.ck.env.procs.get(&c.name.name) {
                    Some((sig, _)) => match sig.ret {
                        RetTy::Ptr(p) => Some(p),
                        _ => None,
                    },
                    None => None,
                };
                Some((v, p))
            }
            K::Cond(c, a, b) => {
                let c = self.cond(c);
                let (a, b) = (self.texpr(a), self.texpr(b));
                let (c, (a, ap), (b, bp)) = (c?, a?, b?);
                if ap.is_none() && bp.is_none() {
                    return Some((self.cond_values(c, a, b, span)?, None));
                }
                let p = ap.or(bp);
                let a = self.as_pointer((a, ap), bp, "the `?:` operand")?;
                let b = self.as_pointer((b, bp), ap, "the `?:` operand")?;
                Some((
                    u64_expr(
                        ExprKind::Cond {
                            cond: Box::new(c),
                            then: Box::new(a),
                            els: Box::new(b),
                        },
                        span,
                    ),
                    p,
                ))
            }
            K::Comma(a, b) => {
                let a = self.expr_stmt(a);
                let b = self.texpr(b);
                let (a, (b, p)) = (a?, b?);
                Some((
                    Expr {
                        ty: b.ty,
                        kind: ExprKind::Comma {
                            first: Box::new(a),
                            then: Box::new(b),
                        },
                        span,
                    },
                    p,
                ))
            }
            _ => Some((self.expr(e)?, None)),
        }
    }

    /// `a` decayed: the address of its first element.
    fn decay(&mut self, r: Resolved, elem: Scalar, span: Span) -> Option<Typed> {
        if matches!(r.place, Place::OldStatic(_)) {
            self.err(
                format!("{} cannot be used as a pointer", r.what),
                span,
                "an old static can be read element by element",
            );
            return None;
        }
        let first = index(r.place, 0, span);
        Some((
            u64_expr(ExprKind::AddrOf(first), span),
            Some(PtrTy::to(elem)),
        ))
    }

    /// A value converted to a pointer's machine type, as C converts by
    /// assignment: a pointer to a compatible type (or to or from `void *`)
    /// as is, a null pointer constant (`0`, `NULL`) converted; any other
    /// integer needs a cast, as in gcc 14 (`-Wint-conversion` is an error).
    /// `want` is the target's pointer type, `None` where any pointer goes.
    pub(super) fn as_pointer(
        &mut self,
        (v, vp): Typed,
        want: Option<PtrTy>,
        what: &str,
    ) -> Option<Expr> {
        match (vp, v.ty) {
            (Some(p), _) => {
                if let Some(w) = want
                    && !compatible(p, w)
                {
                    self.err(
                        format!("{what} is {w}, but this is {p}"),
                        v.span,
                        "incompatible pointer types: cast it if you mean it",
                    );
                    return None;
                }
                Some(v)
            }
            (None, Some(t)) if t.is_integer() && is_null_constant(&v) => {
                Some(cast_if(v, PtrTy::MACHINE))
            }
            (None, Some(t)) => {
                let hint = if t.is_integer() {
                    "only the constant 0 (NULL) converts silently; cast an integer that is an address"
                } else {
                    "expected a pointer"
                };
                self.err(
                    format!("{what} must be a pointer, but this is {}", a_scalar(t)),
                    v.span,
                    hint,
                );
                None
            }
            (None, None) => {
                self.err(
                    format!("{what} needs a value, but this call returns none"),
                    v.span,
                    "a void procedure or builtin cannot be used in an expression",
                );
                None
            }
        }
    }

    /// `*p` or `p[i]` as a place: the object at the address.
    pub(super) fn deref_place(
        &mut self,
        addr: Expr,
        p: PtrTy,
        span: Span,
        what: String,
    ) -> Option<Resolved> {
        let Some(pointee) = p.pointee() else {
            self.err(
                "cannot dereference a `void *`",
                span,
                "cast it to a pointer to the type that is there first",
            );
            return None;
        };
        let (ty, pty) = match pointee {
            ir::Pointee::Scalar(s) => (s, PlaceTy::Scalar(s)),
            ir::Pointee::Ptr(q) => (PtrTy::MACHINE, PlaceTy::Ptr(q)),
        };
        Some(Resolved {
            place: Place::Deref {
                addr: Box::new(addr),
                ty,
            },
            ty: pty,
            read_only: false,
            what,
        })
    }

    /// `*x` as a place.
    pub(super) fn star_place(&mut self, x: &ast::Expr, span: Span) -> Option<Resolved> {
        let (v, p) = self.texpr(x)?;
        let Some(p) = p else {
            self.err(
                "only a pointer can be dereferenced with `*`",
                x.span,
                match v.ty {
                    Some(t) => format!("this is {}", a_scalar(t)),
                    None => "this is a void call".into(),
                },
            );
            return None;
        };
        self.deref_place(v, p, span, "`*...`".into())
    }

    /// `p[i]` for a pointer `p`: `*(p + i)`.
    pub(super) fn pointer_index(
        &mut self,
        base: Typed,
        i: Expr,
        span: Span,
        what: String,
    ) -> Option<Resolved> {
        let (b, p) = base;
        let p = p.expect("a pointer");
        let addr = self.offset(b, p, i, false, span);
        self.deref_place(addr, p, span, what)
    }

    /// `p + i` / `p - i` with `i` scaled by the pointee's size.
    fn offset(&mut self, p: Expr, pt: PtrTy, i: Expr, minus: bool, span: Span) -> Expr {
        let i = cast_if(i, Scalar::I64);
        let stride = pt.stride();
        let scaled = if stride == 1 {
            i
        } else {
            Expr {
                ty: Some(Scalar::I64),
                kind: ExprKind::Binary {
                    op: BinOp::Mul,
                    lhs: Box::new(i),
                    rhs: Box::new(long_lit(stride as i64, span)),
                },
                span,
            }
        };
        u64_expr(
            ExprKind::Binary {
                op: if minus { BinOp::Sub } else { BinOp::Add },
                lhs: Box::new(p),
                rhs: Box::new(cast(scaled, PtrTy::MACHINE)),
            },
            span,
        )
    }

    /// `+` and `-` where either side may be a pointer.
    fn additive(
        &mut self,
        op: ast::BinOp,
        (l, lp): Typed,
        (r, rp): Typed,
        span: Span,
        lspan: Span,
        rspan: Span,
    ) -> Option<Typed> {
        let minus = op == ast::BinOp::Sub;
        let int = |e: &Expr| e.ty.is_some_and(Scalar::is_integer);
        match (lp, rp) {
            (None, None) => {
                let (l, r) = (self.need_value(l)?, self.need_value(r)?);
                Some((self.arith(op, l, r, span, lspan, rspan)?, None))
            }
            (Some(p), None) if int(&r) => Some((self.offset(l, p, r, minus, span), Some(p))),
            (None, Some(p)) if !minus && int(&l) => {
                Some((self.offset(r, p, l, false, span), Some(p)))
            }
            (Some(a), Some(b)) if minus => {
                if a.stride() != b.stride() {
                    self.err(
                        format!("cannot subtract a `{b}` from a `{a}`"),
                        span,
                        "a difference needs pointers to the same type",
                    );
                    return None;
                }
                // (l - r) / stride, a signed `long` (ptrdiff_t).
                let diff = Expr {
                    ty: Some(Scalar::I64),
                    kind: ExprKind::Binary {
                        op: BinOp::Sub,
                        lhs: Box::new(cast(l, Scalar::I64)),
                        rhs: Box::new(cast(r, Scalar::I64)),
                    },
                    span,
                };
                let stride = a.stride() as i64;
                Some((
                    if stride == 1 {
                        diff
                    } else {
                        Expr {
                            ty: Some(Scalar::I64),
                            kind: ExprKind::Binary {
                                op: BinOp::Div,
                                lhs: Box::new(diff),
                                rhs: Box::new(long_lit(stride, span)),
                            },
                            span,
                        }
                    },
                    None,
                ))
            }
            _ => {
                self.err(
                    format!("invalid operands to `{}`", op.symbol()),
                    span,
                    "a pointer can be offset by an integer, or subtracted from a pointer of its type",
                );
                None
            }
        }
    }

    /// A value (not a void call), reported otherwise.
    fn need_value(&mut self, e: Expr) -> Option<Expr> {
        if e.ty.is_none() {
            self.err(
                "this call returns no value",
                e.span,
                "a void procedure or builtin cannot be used in an expression",
            );
            return None;
        }
        Some(e)
    }

    /// `&x`.
    fn addr_of(&mut self, x: &ast::Expr, span: Span) -> Option<Typed> {
        use ast::ExprKind as K;
        if let K::Var(n) = &x.kind
            && self.lookup_scope(n).is_none()
            && !self.ck.env.globals.contains_key(n)
            && self.ck.env.procs.contains_key(n)
        {
            self.err(
                format!("`&{n}`: function pointers are not supported yet"),
                span,
                "call the procedure by name",
            );
            return None;
        }
        let Some(r) = self.try_place(x) else {
            self.err(
                "`&` needs an object",
                x.span,
                "expected a variable, an element or `*p`",
            );
            return None;
        };
        let r = r?;
        if matches!(r.place, Place::OldStatic(_)) {
            self.err(
                format!("cannot take the address of {}", r.what),
                x.span,
                "old statics can be read, not pointed to",
            );
            return None;
        }
        if let Place::Local(id) = r.place {
            let slot = &mut self.locals[id as usize].ty;
            match *slot {
                LocalTy::Scalar(s) => *slot = LocalTy::Addressed(s),
                LocalTy::Ptr(_) => *slot = LocalTy::Addressed(PtrTy::MACHINE),
                _ => {}
            }
        }
        let p = match r.ty {
            PlaceTy::Scalar(s) | PlaceTy::Array(s) => PtrTy::to(s),
            PlaceTy::Ptr(p) => p.up(),
        };
        let place = match (r.ty, &r.place) {
            (PlaceTy::Array(_), _) => index(r.place, 0, span),
            _ => r.place,
        };
        Some((u64_expr(ExprKind::AddrOf(place), span), Some(p)))
    }

    /// The hidden static that holds a string literal's bytes. Its name
    /// starts with `"`, which no UC name does, so carry-over never pairs
    /// it with a static of another version.
    fn string_literal(&mut self, text: &str, span: Span) -> Option<Place> {
        if !matches!(self.ctx, Ctx::Proc) {
            self.err(
                "a string literal here is not supported",
                span,
                "string values can be used in procedures (an iproc or mproc has no data of its own)",
            );
            return None;
        }
        let mut bytes: Vec<Const> = text.bytes().map(|b| Const::Int(b as i8 as i64)).collect();
        bytes.push(Const::Int(0));
        let n = bytes.len() as u32;
        if let Some(i) = self
            .statics
            .iter()
            .position(|s| s.name.starts_with('"') && s.init == bytes)
        {
            return Some(Place::Static(i as ir::StaticId));
        }
        let offset = self.data_size;
        if offset as u64 + n as u64 > DATA_SEGMENT_BYTES {
            self.err(
                format!(
                    "the statics and string literals of `{}` need more than its {DATA_SEGMENT_BYTES}-byte data segment",
                    self.name
                ),
                span,
                "this literal does not fit",
            );
            return None;
        }
        let id = self.statics.len() as ir::StaticId;
        self.statics.push(Static {
            name: format!("\"{id}"),
            ty: VarTy::Array(Scalar::I8, n),
            offset,
            init: bytes,
        });
        self.data_size = offset + n;
        Some(Place::Static(id))
    }

    /// Assignment (`=` and `op=`), where the target may be a pointer.
    pub(super) fn assign_t(
        &mut self,
        target: &ast::Expr,
        op: Option<ast::BinOp>,
        value: &ast::Expr,
        span: Span,
    ) -> Option<Typed> {
        let opname = match op {
            None => "=".to_string(),
            Some(o) => format!("{}=", o.symbol()),
        };
        let t = self.target_t(target, &opname);
        let v = self.texpr(value);
        let ((place, pty, what), (v, vp)) = (t?, v?);
        match (pty, op) {
            (PlaceTy::Ptr(p), None) => {
                let v = self.as_pointer((v, vp), Some(p), &what)?;
                Some((assign(place, v, span), Some(p)))
            }
            (PlaceTy::Ptr(p), Some(o @ (ast::BinOp::Add | ast::BinOp::Sub))) => {
                if !v.ty.is_some_and(Scalar::is_integer) {
                    self.err(
                        format!("`{opname}` on a pointer needs an integer"),
                        value.span,
                        "a pointer moves by a whole number of elements",
                    );
                    return None;
                }
                let v = cast_if(v, Scalar::I64);
                let stride = p.stride() as i64;
                let scaled = Expr {
                    ty: Some(Scalar::I64),
                    kind: ExprKind::Binary {
                        op: BinOp::Mul,
                        lhs: Box::new(v),
                        rhs: Box::new(long_lit(stride, span)),
                    },
                    span,
                };
                Some((
                    u64_expr(
                        ExprKind::Assign {
                            place,
                            op: Some(if o == ast::BinOp::Add {
                                BinOp::Add
                            } else {
                                BinOp::Sub
                            }),
                            value: Box::new(cast(scaled, PtrTy::MACHINE)),
                        },
                        span,
                    ),
                    Some(p),
                ))
            }
            (PlaceTy::Ptr(_), Some(_)) => {
                self.err(
                    format!("`{opname}` is not defined on a pointer"),
                    span,
                    "only `=`, `+=` and `-=` change a pointer",
                );
                None
            }
            (_, _) => {
                let ty = pty.machine().expect("target gives no arrays");
                let v = self.need_value(v)?;
                let Some(op) = op else {
                    let v = self.coerce(v, ty, &what)?;
                    return Some((assign(place, v, span), None));
                };
                // `x op= v` is `x = (T) (x op v)` with C's conversions:
                // the IR's compound form computes `op` in its value's type
                // (the common type) and converts back, the place
                // evaluated once.
                let load = Expr {
                    ty: Some(ty),
                    kind: ExprKind::Load(place.clone()),
                    span: target.span,
                };
                let full = self.arith(op, load, v, span, target.span, value.span)?;
                let ExprKind::Binary { op: irop, rhs, .. } = full.kind else {
                    unreachable!("arith builds a binary")
                };
                Some((
                    Expr {
                        ty: Some(ty),
                        kind: ExprKind::Assign {
                            place,
                            op: Some(irop),
                            value: rhs,
                        },
                        span,
                    },
                    None,
                ))
            }
        }
    }

    /// `malloc`, `calloc` and `realloc` of the program's heap, unless the
    /// program defines a procedure of that name.
    fn is_heap_call(&self, n: &str) -> bool {
        HEAP.contains(&n) && !self.ck.env.procs.contains_key(n)
    }

    /// A C library function over memory, unless the program defines one.
    fn libc_mem(
        &self,
        n: &str,
    ) -> Option<&'static (&'static str, u32, &'static [LibcArg], LibcRet)> {
        if self.ck.env.procs.contains_key(n) {
            return None;
        }
        LIBC_MEM.iter().find(|f| f.0 == n)
    }

    fn arity(
        &mut self,
        name: &ast::Ident,
        args: &[ast::Expr],
        n: usize,
        usage: &str,
        span: Span,
    ) -> bool {
        if args.len() == n {
            return true;
        }
        self.err(
            format!(
                "`{}` takes {n} argument{} but {} {} given",
                name.name,
                if n == 1 { "" } else { "s" },
                args.len(),
                if args.len() == 1 { "was" } else { "were" }
            ),
            span,
            format!("expected {usage}"),
        );
        false
    }

    /// An argument of a C library or heap function, converted to its
    /// parameter's type.
    fn lib_arg(&mut self, a: &ast::Expr, kind: LibcArg, what: &str) -> Option<Expr> {
        let (v, vp) = self.texpr(a)?;
        match kind {
            LibcArg::P => self.as_pointer((v, vp), None, what),
            LibcArg::I => {
                let v = self.need_value(v)?;
                self.coerce(v, Scalar::I32, what)
                    .map(|v| cast(v, Scalar::I64))
            }
            LibcArg::Z => {
                let v = self.need_value(v)?;
                self.coerce(v, Scalar::U64, what)
            }
        }
    }

    fn heap_call(&mut self, name: &ast::Ident, args: &[ast::Expr], span: Span) -> Option<Typed> {
        let n = name.name.as_str();
        let (which, params, usage): (Builtin, &[LibcArg], &str) = match n {
            "malloc" => (Builtin::Malloc, &[LibcArg::Z], "malloc(size)"),
            "calloc" => (
                Builtin::Calloc,
                &[LibcArg::Z, LibcArg::Z],
                "calloc(n, size)",
            ),
            "realloc" => (
                Builtin::Realloc,
                &[LibcArg::P, LibcArg::Z],
                "realloc(p, size)",
            ),
            _ => (Builtin::Free, &[LibcArg::P], "free(p)"),
        };
        if !self.arity(name, args, params.len(), usage, span) {
            return None;
        }
        let mut out = Vec::new();
        for (i, (a, k)) in args.iter().zip(params).enumerate() {
            out.push(self.lib_arg(a, *k, &format!("argument {} of `{n}`", i + 1)));
        }
        let mut out: Vec<Expr> = out.into_iter().collect::<Option<_>>()?;
        let ret = if which == Builtin::Free {
            None
        } else {
            // The object's type tag: 0 (raw bytes) until structs give heap
            // objects a type the update can transform (SPEC 4.5).
            out.push(Expr {
                ty: Some(Scalar::U32),
                kind: ExprKind::Int(0),
                span,
            });
            Some(PtrTy::MACHINE)
        };
        Some((
            Expr {
                ty: ret,
                kind: ExprKind::Builtin { which, args: out },
                span,
            },
            ret.map(|_| VOID_PTR),
        ))
    }

    fn libc_call(&mut self, name: &ast::Ident, args: &[ast::Expr], span: Span) -> Option<Typed> {
        let &(n, which, params, ret) = self.libc_mem(&name.name).expect("a C library function");
        let usage = format!(
            "{n}({})",
            params
                .iter()
                .map(|p| match p {
                    LibcArg::P => "ptr",
                    LibcArg::I => "int",
                    LibcArg::Z => "size",
                })
                .collect::<Vec<_>>()
                .join(", ")
        );
        if !self.arity(name, args, params.len(), &usage, span) {
            return None;
        }
        let mut out = Vec::new();
        for (i, (a, k)) in args.iter().zip(params).enumerate() {
            out.push(self.lib_arg(a, *k, &format!("argument {} of `{n}`", i + 1)));
        }
        let out: Vec<Expr> = out.into_iter().collect::<Option<_>>()?;
        let (ty, p) = match ret {
            LibcRet::Int(s) => (s, None),
            LibcRet::Char => (PtrTy::MACHINE, Some(CHAR_PTR)),
            LibcRet::Void => (PtrTy::MACHINE, Some(VOID_PTR)),
            LibcRet::Double => (Scalar::F64, None),
        };
        Some((
            Expr {
                ty: Some(ty),
                kind: ExprKind::Libc {
                    which,
                    name: n.to_string(),
                    args: out,
                },
                span,
            },
            p,
        ))
    }
}

/// Whether pointers to `a` and to `b` convert into each other by
/// assignment: the same type, either is `void *`, or both point to a
/// character type (gcc only warns about the sign).
fn compatible(a: PtrTy, b: PtrTy) -> bool {
    let void = |p: PtrTy| p.depth == 1 && p.base == crate::ir::Base::Void;
    let chr = |p: PtrTy| {
        p.depth == 1 && matches!(p.base, crate::ir::Base::Scalar(Scalar::I8 | Scalar::U8))
    };
    a == b || void(a) || void(b) || (chr(a) && chr(b))
}

/// A null pointer constant: the integer 0, through any casts.
fn is_null_constant(e: &Expr) -> bool {
    match &e.kind {
        ExprKind::Int(0) => true,
        ExprKind::Cast { operand, .. } => is_null_constant(operand),
        _ => false,
    }
}
