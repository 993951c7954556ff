//! The syntax tree the parser builds: exactly what was written, with spans,
//! before names and types are resolved (that is [`crate::check`]'s job).

use crate::ir::Span;

/// An identifier with where it was written.
#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where.
    pub span: Span,
}

/// A scalar type keyword.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TypeName {
    /// `int`
    Int,
    /// `double`
    Double,
}

/// A written return type; `None` in [`ProcDef::ret`] means omitted (int).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RetName {
    /// `void`
    Void,
    /// `int` / `double`
    Scalar(TypeName),
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
    /// Its name.
    pub name: Ident,
    /// `[]` was written: an array passed by reference.
    pub is_array: bool,
    /// The whole parameter declaration.
    pub span: Span,
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
    /// `for (init; cond; step) body`.
    For {
        /// The init clause: a declaration or an expression statement.
        init: Option<Box<Stmt>>,
        /// The condition; `None` loops forever.
        cond: Option<Expr>,
        /// The step expression.
        step: Option<Expr>,
        /// The body.
        body: Box<Stmt>,
    },
    /// `break;`
    Break(Span),
    /// `continue;`
    Continue(Span),
    /// `return [value];`
    Return(Option<Expr>, Span),
    /// `{ ... }`
    Block(Vec<Stmt>),
    /// `;`
    Empty,
    /// A statement the parser skipped after a syntax error.
    Error,
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
}

impl BinOp {
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
    /// An integer (or character) literal.
    Int(i64),
    /// A floating-point literal.
    Double(f64),
    /// A string literal.
    Str(String),
    /// A name.
    Var(String),
    /// `old.NAME` (mprocs only).
    Old(Ident),
    /// `name(args)`.
    Call(Ident, Vec<Expr>),
    /// `new.P(args)` (iprocs only).
    NewCall(Ident, Vec<Expr>),
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
}

/// The [`Span`] of byte range `l..r` (the parser's locations).
pub fn span(l: usize, r: usize) -> Span {
    Span {
        start: l as u32,
        end: r as u32,
    }
}
