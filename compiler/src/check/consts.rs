//! Constant folding with C's semantics: static and global initializers,
//! array lengths and case labels.

use super::*;

impl Checker<'_> {
    /// The length of `name[dim]`.
    pub(super) fn array_len(&mut self, name: &ast::Ident, dim: &ast::Expr) -> Option<u32> {
        let n = match self.fold(dim) {
            Some(FConst::I(n, Scalar::U64)) if n < 0 => Some(Const::Int(i64::MAX)),
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

    /// `char s[] = "text"` as C reads it: the brace list of the string's
    /// bytes and its terminating NUL (dropped when the array's written
    /// length leaves no room for it, as C allows). `None` for every other
    /// declarator.
    pub(super) fn string_init(
        &mut self,
        ty: TypeName,
        d: &ast::Declarator,
    ) -> Option<ast::Declarator> {
        let Some(Init::Expr(ast::Expr {
            kind: ast::ExprKind::Str(text),
            span,
        })) = &d.init
        else {
            return None;
        };
        if !matches!(ty, Scalar::I8 | Scalar::U8) || !(d.open_len || d.dim.is_some()) {
            return None;
        }
        let mut bytes: Vec<u8> = text.as_bytes().to_vec();
        let room = match &d.dim {
            Some(dim) => match self.fold(dim) {
                Some(FConst::I(n, _)) => Some(n),
                _ => None,
            },
            None => None,
        };
        if room != Some(bytes.len() as i64) {
            bytes.push(0);
        }
        let items = bytes
            .into_iter()
            .map(|b| ast::Expr {
                kind: ast::ExprKind::Int(ty.wrap(b as i64), Scalar::I32),
                span: *span,
            })
            .collect();
        Some(ast::Declarator {
            init: Some(Init::List(items, *span)),
            ..d.clone()
        })
    }

    /// The type of a declarator of element type `ty`.
    pub(super) fn var_ty(&mut self, ty: TypeName, d: &ast::Declarator) -> Option<VarTy> {
        if let Some(p) = d.ptr {
            if d.open_len || d.dim.is_some() {
                self.err(
                    format!(
                        "`{}`: arrays of pointers are not supported yet",
                        d.name.name
                    ),
                    d.span,
                    "declare the pointers one by one, or allocate them on the heap",
                );
                return None;
            }
            return Some(VarTy::Ptr(p));
        }
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
                    Some(VarTy::Array(ty, items.len() as u32))
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
            None => Some(VarTy::Scalar(ty)),
            Some(dim) => Some(VarTy::Array(ty, self.array_len(&d.name, dim)?)),
        }
    }

    /// The constant initial value (one per element) of a static or global.
    pub(super) fn const_init(&mut self, ty: VarTy, d: &ast::Declarator) -> Option<Vec<Const>> {
        match (ty, &d.init) {
            (VarTy::Scalar(s), None) => Some(vec![zero(s)]),
            (VarTy::Array(s, n), None) => Some(vec![zero(s); n as usize]),
            (VarTy::Scalar(s), Some(Init::Expr(e))) => Some(vec![self.const_of(s, e)?]),
            (VarTy::Ptr(_), None) => Some(vec![Const::Int(0)]),
            (VarTy::Ptr(_), Some(Init::Expr(e))) => match self.fold(e) {
                Some(FConst::I(0, _)) => Some(vec![Const::Int(0)]),
                _ => {
                    self.err(
                        format!(
                            "pointer `{}` can only start as a null pointer here",
                            d.name.name
                        ),
                        e.span,
                        "initialize it in code (a static or global pointer to data is not supported yet)",
                    );
                    None
                }
            },
            (VarTy::Ptr(_), Some(Init::List(_, span))) => {
                self.err(
                    format!("`{}` is a pointer", d.name.name),
                    *span,
                    "a pointer takes a single value, not a brace list",
                );
                None
            }
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

    pub(super) fn too_many(&mut self, name: &str, n: u32, given: usize, span: Span) {
        self.err(
            format!("too many initializers for `{name}`"),
            span,
            format!("`{name}` has {n} elements but {given} values are given"),
        );
    }

    /// Folds `e` and converts it to `s` as an assignment would.
    pub(super) fn const_of(&mut self, s: Scalar, e: &ast::Expr) -> Option<Const> {
        Some(self.fold(e)?.to(s).to_const())
    }

    /// Constant folding with UC's run-time semantics (wrapping integers
    /// of C's widths, C's promotions and usual arithmetic conversions,
    /// truncating casts), for static and global initializers, array
    /// lengths and case labels.
    pub(super) fn fold(&mut self, e: &ast::Expr) -> Option<FConst> {
        use FConst::{D, I};
        use ast::ExprKind as K;
        Some(match &e.kind {
            K::Int(v, t) => I(*v, *t),
            K::Double(v, t) => D(*v, *t),
            K::SizeofType(t) => I(t.size() as i64, Scalar::U64),
            K::Var(name) if self.env.enum_consts.contains_key(name) => {
                I(self.env.enum_consts[name].0, Scalar::I32)
            }
            K::Unary(op, x) => {
                let x = self.fold(x)?;
                let p = x.ty().promote();
                match (op, x.to(p)) {
                    (ast::UnOp::Plus, x) => x,
                    (ast::UnOp::Neg, I(v, t)) => I(t.wrap(v.wrapping_neg()), t),
                    (ast::UnOp::Neg, D(v, t)) => D(-v, t),
                    (ast::UnOp::Not, x) => FConst::int(!x.truth()),
                    (ast::UnOp::BitNot, I(v, t)) => I(t.wrap(!v), t),
                    (ast::UnOp::BitNot, D(..)) => {
                        self.err(
                            "`~` needs an integer operand",
                            e.span,
                            format!("this is {}", a_scalar(p)),
                        );
                        return None;
                    }
                }
            }
            K::Cast(t, x) => self.fold(x)?.to(*t),
            K::Cond(c, a, b) => {
                let (c, a, b) = (self.fold(c)?, self.fold(a)?, self.fold(b)?);
                let t = Scalar::common(a.ty(), b.ty());
                if c.truth() { a.to(t) } else { b.to(t) }
            }
            K::Binary(op, a, b) => {
                let (a, b) = (self.fold(a)?, self.fold(b)?);
                use ast::BinOp as B;
                match op {
                    B::And => return Some(FConst::int(a.truth() && b.truth())),
                    B::Or => return Some(FConst::int(a.truth() || b.truth())),
                    B::Shl | B::Shr => {
                        let t = a.ty().promote();
                        let n = match b {
                            I(n, bt) if bt == Scalar::U64 && n < 0 => -1,
                            I(n, _) => n,
                            D(..) => -1,
                        };
                        let a = a.to(t);
                        if !(0..t.bits() as i64).contains(&n) || matches!(a, D(..)) {
                            self.err(
                                "bad shift in a constant expression",
                                e.span,
                                format!(
                                    "shifts need integer operands and a count in 0..{}",
                                    t.bits() - 1
                                ),
                            );
                            return None;
                        }
                        let I(x, _) = a else {
                            unreachable!("checked above")
                        };
                        let unsigned_bits = if t.bits() == 64 {
                            x as u64
                        } else {
                            (x as u64) & ((1u64 << t.bits()) - 1)
                        };
                        return Some(I(
                            t.wrap(match op {
                                B::Shl => x.wrapping_shl(n as u32),
                                _ if t.is_signed() => x >> n,
                                _ => (unsigned_bits >> n) as i64,
                            }),
                            t,
                        ));
                    }
                    _ => {}
                }
                let t = Scalar::common(a.ty(), b.ty());
                let cmp = |o: std::cmp::Ordering| -> FConst {
                    use std::cmp::Ordering::*;
                    FConst::int(match op {
                        B::Eq => o == Equal,
                        B::Ne => o != Equal,
                        B::Lt => o == Less,
                        B::Le => o != Greater,
                        B::Gt => o == Greater,
                        _ => o != Less,
                    })
                };
                let is_cmp = matches!(op, B::Eq | B::Ne | B::Lt | B::Le | B::Gt | B::Ge);
                let (a, b) = (a.to(t), b.to(t));
                // Integer division by zero, signed or not (a double's is inf/NaN).
                if matches!(op, B::Div | B::Rem) && matches!(b, I(0, _)) {
                    self.err(
                        "division by zero in a constant expression",
                        e.span,
                        "the divisor is 0",
                    );
                    return None;
                }
                match (a, b) {
                    (I(x, _), I(y, _)) if t.is_signed() => match op {
                        _ if is_cmp => cmp(x.cmp(&y)),
                        B::Add => I(t.wrap(x.wrapping_add(y)), t),
                        B::Sub => I(t.wrap(x.wrapping_sub(y)), t),
                        B::Mul => I(t.wrap(x.wrapping_mul(y)), t),
                        B::Div => I(t.wrap(x.wrapping_div(y)), t),
                        B::Rem => I(t.wrap(x.wrapping_rem(y)), t),
                        B::BitAnd => I(x & y, t),
                        B::BitOr => I(x | y, t),
                        _ => I(x ^ y, t),
                    },
                    (I(x, _), I(y, _)) => {
                        let (x, y) = (x as u64, y as u64);
                        let u = |v: u64| I(t.wrap(v as i64), t);
                        match op {
                            _ if is_cmp => cmp(x.cmp(&y)),
                            B::Add => u(x.wrapping_add(y)),
                            B::Sub => u(x.wrapping_sub(y)),
                            B::Mul => u(x.wrapping_mul(y)),
                            B::Div => u(x / y),
                            B::Rem => u(x % y),
                            B::BitAnd => u(x & y),
                            B::BitOr => u(x | y),
                            _ => u(x ^ y),
                        }
                    }
                    (D(x, _), D(y, _)) => {
                        let f = |v: f64| FConst::D(v, t).to(t);
                        match op {
                            _ if is_cmp => match x.partial_cmp(&y) {
                                Some(o) => cmp(o),
                                // NaN: only `!=` holds.
                                None => FConst::int(*op == B::Ne),
                            },
                            B::Add => f(x + y),
                            B::Sub => f(x - y),
                            B::Mul => f(x * y),
                            B::Div => f(x / y),
                            _ => {
                                self.err(
                                    format!("`{}` needs integer operands", op.symbol()),
                                    e.span,
                                    format!("an operand is {}", a_scalar(t)),
                                );
                                return None;
                            }
                        }
                    }
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
}
