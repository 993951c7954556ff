//! The syntax tree the parser builds: exactly what was written, with spans,
//! before names and types are resolved (that is [`crate::check`]'s job).

use crate::ir::{Base, PtrTy, Scalar, Span};

/// An identifier with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where.
    pub span: Span,
}

/// A scalar type, after its spelling is resolved (`long int` is `long`,
/// `signed char` is `char`): the IR's scalar types are C's.
pub type TypeName = crate::ir::Scalar;

/// One word of a declaration's specifiers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SpecWord {
    /// `int`
    Int,
    /// `double`
    Double,
    /// `float`
    Float,
    /// `void`
    Void,
    /// `long`
    Long,
    /// `short`
    Short,
    /// `char`
    Char,
    /// `signed`
    Signed,
    /// `unsigned`
    Unsigned,
    /// `static`
    Static,
    /// `const`
    Const,
    /// `_Bool`
    Bool,
    /// `typedef`: the declaration declares type names, not variables.
    Typedef,
    /// `extern`, `register`, `volatile`, `inline`, `auto`: accepted, and
    /// meaning nothing more in one translation unit.
    Ignored,
}

/// One item of a declaration's specifiers as the parser reads them.
#[derive(Clone, Debug, PartialEq)]
pub enum SpecItem {
    /// A keyword (`unsigned`, `static`, ...).
    Word(SpecWord),
    /// A name a `typedef` declared.
    Named(Ident),
    /// `enum TAG { ... }` or `enum TAG`.
    Enum(EnumDef),
}

/// `enum TAG { A, B = 5 }` (a definition: `body` is `Some`) or `enum TAG`.
#[derive(Clone, Debug, PartialEq)]
pub struct EnumDef {
    /// The tag, if written.
    pub tag: Option<Ident>,
    /// The enumerators with their written values.
    pub body: Option<Vec<(Ident, Option<Expr>)>>,
    /// From `enum` to the closing brace (or the tag).
    pub span: Span,
}

/// The types the `typedef`s read so far declare, by name: the parser
/// resolves a [`SpecItem::Named`] through it.
pub type TypeTable = std::collections::HashMap<String, TypeName>;

/// Resolved declaration specifiers: `static const unsigned long`.
#[derive(Clone, Debug, PartialEq)]
pub struct Specs {
    /// `static` was written.
    pub is_static: bool,
    /// `const` was written.
    pub is_const: bool,
    /// `typedef` was written.
    pub is_typedef: bool,
    /// The type; `None` for `void`.
    pub ty: Option<TypeName>,
    /// The enums these specifiers define (`enum E { ... }`).
    pub enums: Vec<EnumDef>,
}

impl Specs {
    /// Plain `int`, what a bad combination is read as.
    pub fn int() -> Specs {
        Specs {
            is_static: false,
            is_const: false,
            is_typedef: false,
            ty: Some(Scalar::I32),
            enums: Vec::new(),
        }
    }
}

/// Resolves a declaration's specifiers the way C does, or says what is
/// wrong with them. A typedef name resolves through `types`; an enum is
/// an `int`.
pub fn resolve_specs(items: Vec<SpecItem>, types: &TypeTable) -> Result<Specs, String> {
    let mut words = Vec::new();
    let mut named = Vec::new();
    let mut enums = Vec::new();
    let mut enum_refs = 0;
    for it in items {
        match it {
            SpecItem::Word(SpecWord::Ignored) => {}
            SpecItem::Word(w) => words.push(w),
            SpecItem::Named(n) => named.push(n),
            SpecItem::Enum(e) => {
                enum_refs += 1;
                if e.body.is_some() {
                    enums.push(e);
                }
            }
        }
    }
    let words = &words[..];
    use SpecWord as W;
    let count = |w: W| words.iter().filter(|x| **x == w).count();
    for w in [W::Static, W::Const, W::Typedef] {
        if count(w) > 1 {
            return Err(format!("`{}` is written twice", spec_word(w)));
        }
    }
    let is_typedef = count(W::Typedef) == 1;
    let others = words
        .iter()
        .filter(|w| !matches!(w, W::Static | W::Const | W::Typedef))
        .count();
    if named.len() + enum_refs > 0 {
        if named.len() + enum_refs > 1 || others > 0 {
            return Err("this combination of type words is not a C type".into());
        }
        let ty = match named.first() {
            Some(n) => *types
                .get(&n.name)
                .ok_or_else(|| format!("`{}` is not a type this compiler knows", n.name))?,
            None => Scalar::I32,
        };
        return Ok(Specs {
            is_static: count(W::Static) == 1,
            is_const: count(W::Const) == 1,
            is_typedef,
            ty: Some(ty),
            enums,
        });
    }
    let is_static = count(W::Static) == 1;
    let is_const = count(W::Const) == 1;
    let types: Vec<W> = words
        .iter()
        .copied()
        .filter(|w| !matches!(w, W::Static | W::Const | W::Typedef))
        .collect();
    let n = |w: W| types.iter().filter(|x| **x == w).count();
    let (ints, longs, shorts, chars) = (n(W::Int), n(W::Long), n(W::Short), n(W::Char));
    let (signed, unsigned) = (n(W::Signed), n(W::Unsigned));
    let (doubles, floats, voids) = (n(W::Double), n(W::Float), n(W::Void));
    let bools = n(W::Bool);
    let bad = || Err("this combination of type words is not a C type".to_string());
    let ty = if types.is_empty() {
        return Err("a declaration needs a type (`int`, `double`, ...)".into());
    } else if voids > 0 {
        if types.len() > 1 {
            return Err("`void` cannot be combined with another type".into());
        }
        None
    } else if bools > 0 {
        if types.len() > 1 {
            return bad();
        }
        Some(Scalar::Bool)
    } else if doubles + floats > 0 {
        // `long double` is accepted as a double (UC has no 80-bit type).
        if doubles + floats > 1 || types.len() - doubles - floats > longs.min(1) {
            return bad();
        }
        if floats == 1 && longs > 0 {
            return bad();
        }
        Some(if floats == 1 {
            Scalar::F32
        } else {
            Scalar::F64
        })
    } else {
        if ints > 1 || shorts > 1 || chars > 1 || longs > 2 || signed + unsigned > 1 {
            return bad();
        }
        if shorts + chars + (longs > 0) as usize > 1 {
            return bad();
        }
        if chars == 1 && ints == 1 {
            return Err("`char int` is not a C type".into());
        }
        let u = unsigned == 1;
        Some(match (chars, shorts, longs) {
            (1, _, _) if u => Scalar::U8,
            (1, _, _) => Scalar::I8,
            (_, 1, _) if u => Scalar::U16,
            (_, 1, _) => Scalar::I16,
            (_, _, 0) if u => Scalar::U32,
            (_, _, 0) => Scalar::I32,
            _ if u => Scalar::U64,
            _ => Scalar::I64,
        })
    };
    Ok(Specs {
        is_static,
        is_const,
        is_typedef,
        ty,
        enums,
    })
}

/// The keyword of a specifier word.
pub fn spec_word(w: SpecWord) -> &'static str {
    match w {
        SpecWord::Int => "int",
        SpecWord::Double => "double",
        SpecWord::Float => "float",
        SpecWord::Void => "void",
        SpecWord::Long => "long",
        SpecWord::Short => "short",
        SpecWord::Char => "char",
        SpecWord::Signed => "signed",
        SpecWord::Unsigned => "unsigned",
        SpecWord::Static => "static",
        SpecWord::Const => "const",
        SpecWord::Bool => "_Bool",
        SpecWord::Typedef => "typedef",
        SpecWord::Ignored => "extern",
    }
}

/// A written return type; `None` in [`ProcDef::ret`] means omitted (int).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetName {
    /// `void`
    Void,
    /// `int` / `double`
    Scalar(TypeName),
    /// `char *`, `void *`
    Ptr(PtrTy),
}

/// The pointer type `depth` stars over the written specifiers' type
/// (`None`: `void`); `None` when no star was written.
pub fn ptr_over(ty: Option<TypeName>, depth: u8) -> Option<PtrTy> {
    (depth > 0).then(|| PtrTy {
        base: ty.map_or(Base::Void, Base::Scalar),
        depth,
    })
}

/// A whole source file.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Program {
    /// Top-level items in source order.
    pub items: Vec<Item>,
}

/// A top-level item.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `int g = 1, h[4];`
    Global(Decl),
    /// A procedure definition.
    Proc(ProcDef),
    /// `iproc P(old params) { ... }` (uses [`ProcDef`]'s shape).
    IProc(ProcDef),
    /// `mproc P { ... }`
    MProc(MProcDef),
    /// `int f(int a);`: a forward declaration, checked against the
    /// definition (UC needs none: calls may precede definitions).
    Prototype(Prototype),
}

/// A procedure declaration without a body.
#[derive(Clone, Debug, PartialEq)]
pub struct Prototype {
    /// The written return type; `None` if omitted (int).
    pub ret: Option<(RetName, Span)>,
    /// The declared name.
    pub name: Ident,
    /// The parameters, ANSI style.
    pub params: Vec<ParamDecl>,
    /// `()`: the parameters are unspecified (K&R), so only the return
    /// type is checked.
    pub unspecified: bool,
    /// The whole declaration.
    pub span: Span,
}

/// A declaration: `static int i, a[4] = {1, 2};`.
#[derive(Clone, Debug, PartialEq)]
pub struct Decl {
    /// `static` was written.
    pub is_static: bool,
    /// `const` was written: the variables may not be assigned.
    pub is_const: bool,
    /// `typedef` was written: the declarators are type names (the parser
    /// has recorded them), not variables.
    pub is_typedef: bool,
    /// The enums its specifiers define.
    pub enums: Vec<EnumDef>,
    /// The element type.
    pub ty: TypeName,
    /// One or more declarators.
    pub declarators: Vec<Declarator>,
    /// The whole declaration.
    pub span: Span,
}

/// One declarator of a [`Decl`].
#[derive(Clone, Debug, PartialEq)]
pub struct Declarator {
    /// The declared name.
    pub name: Ident,
    /// `[N]`: the array length expression (must fold to a constant).
    pub dim: Option<Expr>,
    /// `[]`: an array whose length is its initializer list's.
    pub open_len: bool,
    /// `*name`: the declared variable (or each element) is this pointer
    /// type over the declaration's specifiers.
    pub ptr: Option<PtrTy>,
    /// `= init`.
    pub init: Option<Init>,
    /// The declarator with its initializer.
    pub span: Span,
}

/// An initializer.
#[derive(Clone, Debug, PartialEq)]
pub enum Init {
    /// `= expr`
    Expr(Expr),
    /// `= {a, b, c}`
    List(Vec<Expr>, Span),
}

/// A parameter: ANSI `int a[]` or a K&R declaration of a named parameter.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamDecl {
    /// Its element type.
    pub ty: TypeName,
    /// Its name (empty when a prototype leaves it out).
    pub name: Ident,
    /// `[]` was written: an array passed by reference.
    pub is_array: bool,
    /// `*name` (or `*name[]`, a pointer one level up): a pointer passed
    /// by value.
    pub ptr: Option<PtrTy>,
    /// The whole parameter declaration.
    pub span: Span,
}

/// A parameter as the parser reads it: `ty` is `None` for `void`, which
/// only `(void)` may use.
#[derive(Clone, Debug, PartialEq)]
pub struct ParamItem {
    /// The parameter (typed `int` when `ty` is `None`).
    pub param: ParamDecl,
    /// The written type.
    pub ty: Option<TypeName>,
}

impl ParamItem {
    /// A parameter from its specifiers (`const` and `static` are ignored:
    /// the checker has nothing to enforce on a by-value copy).
    pub fn new(
        specs: (Specs, Span),
        stars: u8,
        name: Ident,
        is_array: bool,
        span: Span,
    ) -> ParamItem {
        // `T *a[]` is `T **a`: an array parameter is a pointer (C 6.7.6.3).
        let (ptr, is_array) = match ptr_over(specs.0.ty, stars) {
            Some(p) if is_array => (Some(p.up()), false),
            p => (p, is_array),
        };
        ParamItem {
            param: ParamDecl {
                ty: specs.0.ty.unwrap_or(Scalar::I32),
                name,
                is_array,
                ptr,
                span,
            },
            ty: if ptr.is_some() {
                Some(PtrTy::MACHINE)
            } else {
                specs.0.ty
            },
        }
    }
}

/// A parameter list as written.
#[derive(Clone, Debug, PartialEq)]
pub enum Params {
    /// `(int a, double b)`, `()` and `(void)`.
    Ansi(Vec<ParamDecl>),
    /// `(a, b) int a; double b;`: names, then declarations (which may
    /// be missing: an undeclared parameter is an int).
    KnR {
        /// The identifier list.
        names: Vec<Ident>,
        /// The declarations between `)` and `{`.
        decls: Vec<ParamDecl>,
    },
}

/// A procedure (or interprocedure) definition.
#[derive(Clone, Debug, PartialEq)]
pub struct ProcDef {
    /// The written return type; `None` if omitted.
    pub ret: Option<(RetName, Span)>,
    /// Its name.
    pub name: Ident,
    /// Its parameters.
    pub params: Params,
    /// The body.
    pub body: Vec<Stmt>,
    /// From the first token to the closing brace.
    pub span: Span,
}

/// `mproc P { ... }`.
#[derive(Clone, Debug, PartialEq)]
pub struct MProcDef {
    /// The procedure or global it serves.
    pub name: Ident,
    /// The body.
    pub body: Vec<Stmt>,
    /// The whole definition.
    pub span: Span,
}

/// A statement.
#[derive(Clone, Debug, PartialEq)]
pub enum Stmt {
    /// A declaration.
    Decl(Decl),
    /// An expression statement.
    Expr(Expr),
    /// `if (cond) then [else els]`.
    If {
        /// The condition.
        cond: Expr,
        /// Then branch.
        then: Box<Stmt>,
        /// Else branch.
        els: Option<Box<Stmt>>,
    },
    /// `while (cond) body`.
    While {
        /// The condition.
        cond: Expr,
        /// The body.
        body: Box<Stmt>,
    },
    /// `for (init; cond; step) body`, boxed: it is the largest statement
    /// and the rarest, and every statement is as large as the largest.
    For(Box<ForLoop>),
    /// `break;`
    Break(Span),
    /// `continue;`
    Continue(Span),
    /// `goto label;`
    Goto(Ident),
    /// `label: statement`
    Label(Ident, Box<Stmt>),
    /// `return [value];`
    Return(Option<Expr>, Span),
    /// `do body while (cond);`
    DoWhile {
        /// The body.
        body: Box<Stmt>,
        /// The condition, tested after each pass.
        cond: Expr,
    },
    /// `switch (value) body`: the body's `case`/`default` labels are
    /// [`Stmt::Case`] and [`Stmt::Default`] statements.
    Switch {
        /// The switched-on value.
        value: Expr,
        /// The body (a block in practice).
        body: Box<Stmt>,
        /// The `switch` keyword.
        span: Span,
    },
    /// `case value:` (a label; only directly inside a switch body).
    Case(Expr, Span),
    /// `default:`
    Default(Span),
    /// `{ ... }`
    Block(Vec<Stmt>),
    /// `;`
    Empty,
    /// A statement the parser skipped after a syntax error.
    Error,
}

/// The parts of a `for` statement.
#[derive(Clone, Debug, PartialEq)]
pub struct ForLoop {
    /// The init clause: a declaration or an expression statement.
    pub init: Option<Box<Stmt>>,
    /// The condition; `None` loops forever.
    pub cond: Option<Expr>,
    /// The step expression.
    pub step: Option<Expr>,
    /// The body.
    pub body: Box<Stmt>,
}

/// A call as written: `name(args)`.
#[derive(Clone, Debug, PartialEq)]
pub struct CallExpr {
    /// The called procedure.
    pub name: Ident,
    /// The arguments.
    pub args: Vec<Expr>,
}

/// Binary operators as written (assignment operators are separate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `&&`
    And,
    /// `||`
    Or,
    /// `&`
    BitAnd,
    /// `|`
    BitOr,
    /// `^`
    BitXor,
    /// `<<`
    Shl,
    /// `>>`
    Shr,
}

impl BinOp {
    /// `== != < <= > >=`, which also compare pointers.
    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
        )
    }

    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Rem => "%",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::And => "&&",
            BinOp::Or => "||",
            BinOp::BitAnd => "&",
            BinOp::BitOr => "|",
            BinOp::BitXor => "^",
            BinOp::Shl => "<<",
            BinOp::Shr => ">>",
        }
    }
}

/// Unary operators as written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnOp {
    /// `-x`
    Neg,
    /// `+x`
    Plus,
    /// `!x`
    Not,
    /// `~x`
    BitNot,
}

/// An expression with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What was written.
    pub kind: ExprKind,
    /// Where.
    pub span: Span,
}

/// Expression forms.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// An integer (or character) literal with its C type (`5` int,
    /// `5u` unsigned, `5L` long, `0xffffffff` unsigned, ...).
    Int(i64, Scalar),
    /// A floating-point literal: `double`, or `float` with an `f` suffix.
    Double(f64, Scalar),
    /// `sizeof(type)`.
    SizeofType(TypeName),
    /// `(T *) x`: a cast to a pointer type.
    CastPtr(PtrTy, Box<Expr>),
    /// `*p`.
    Deref(Box<Expr>),
    /// `&x`.
    AddrOf(Box<Expr>),
    /// `sizeof expr` (the operand is not evaluated).
    SizeofExpr(Box<Expr>),
    /// A string literal.
    Str(String),
    /// A name.
    Var(String),
    /// `old.NAME` (mprocs only).
    Old(Box<Ident>),
    /// `name(args)`. Calls and `old.NAME` are boxed so that every other
    /// expression node (most of a program's syntax tree) stays small.
    Call(Box<CallExpr>),
    /// `new.P(args)` (iprocs only).
    NewCall(Box<CallExpr>),
    /// `base[index]`.
    Index(Box<Expr>, Box<Expr>),
    /// `target = value` / `target op= value`.
    Assign {
        /// The assigned place.
        target: Box<Expr>,
        /// `Some` for compound assignment.
        op: Option<BinOp>,
        /// The value.
        value: Box<Expr>,
    },
    /// `++x`, `x--`, ...
    IncDec {
        /// The place.
        target: Box<Expr>,
        /// +1 / -1.
        delta: i8,
        /// Prefix form.
        prefix: bool,
    },
    /// A binary operator (including `&&`, `||`).
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// A unary operator.
    Unary(UnOp, Box<Expr>),
    /// `(int) x`, `(double) x`.
    Cast(TypeName, Box<Expr>),
    /// `cond ? a : b`.
    Cond(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `a, b`: evaluates `a`, then yields `b`.
    Comma(Box<Expr>, Box<Expr>),
}

/// The [`Span`] of byte range `l..r` (the parser's locations).
pub fn span(l: usize, r: usize) -> Span {
    Span {
        start: l as u32,
        end: r as u32,
    }
}
