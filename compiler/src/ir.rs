//! The typed, serializable IR that the checker produces and the VM lowers.
//!
//! Invariants the checker guarantees, so that the VM never re-checks:
//! - every name is resolved: locals to [`LocalId`], statics to [`StaticId`]
//!   of the enclosing procedure, globals and callees by name (the pup's name
//!   service turns names into procedure IDs at load time);
//! - every expression carries its scalar type, and every int→double
//!   conversion is an explicit [`ExprKind::Cast`];
//! - `printf` formats are split into [`FmtPiece`]s whose conversions match the
//!   argument types; string literals appear only there;
//! - statics and globals have constant initializers and a layout
//!   (byte offsets at C's sizes and alignments) computed here.
//!
//! The IR is structured (a tree, not a CFG): the VM's translator walks it the
//! way cranelift-jit-demo walks its AST. Source spans are kept only where the
//! VM reports something to the user (runtime errors name the procedure).

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Deepest nesting of statements, expressions or places a decoded module
/// may have (one home: [`crate::limits`]).
pub use crate::limits::MAX_DECODE_DEPTH;

thread_local! {
    static DECODE_DEPTH: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

/// One level of decoding nesting, released on drop.
struct DepthGuard;

impl DepthGuard {
    fn enter<E: serde::de::Error>() -> Result<DepthGuard, E> {
        DECODE_DEPTH.with(|d| {
            if d.get() >= MAX_DECODE_DEPTH {
                return Err(E::custom(format!(
                    "IR nested deeper than {MAX_DECODE_DEPTH} levels"
                )));
            }
            d.set(d.get() + 1);
            Ok(DepthGuard)
        })
    }
}

impl Drop for DepthGuard {
    fn drop(&mut self) {
        DECODE_DEPTH.with(|d| d.set(d.get() - 1));
    }
}

/// The recursive IR types serialize as derived, and deserialize as derived
/// under a [`DepthGuard`] (serde's `remote = "Self"` pattern).
macro_rules! bounded_serde {
    ($($t:ident),*) => {$(
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                $t::serialize(self, s)
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let _guard = DepthGuard::enter::<D::Error>()?;
                $t::deserialize(d)
            }
        }
    )*};
}

bounded_serde!(Stmt, Expr, Place);

/// A scalar value type: C's arithmetic types on LP64 (x86-64 Linux, as
/// gcc lays them out). Integers wrap (gcc `-fwrapv`); `float` is IEEE
/// binary32 and `double` binary64. `long long` is [`Scalar::I64`] (the
/// same representation as `long` on LP64).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Scalar {
    /// `char` / `signed char`: 8-bit signed.
    I8,
    /// `unsigned char`.
    U8,
    /// `short`: 16-bit signed.
    I16,
    /// `unsigned short`.
    U16,
    /// `int`: 32-bit signed.
    I32,
    /// `unsigned int`.
    U32,
    /// `long` / `long long`: 64-bit signed.
    I64,
    /// `unsigned long` / `unsigned long long`.
    U64,
    /// `_Bool`: 0 or 1 in one byte; converting to it tests against zero.
    Bool,
    /// `float`: IEEE 754 binary32.
    F32,
    /// `double`: IEEE 754 binary64.
    F64,
}

impl Scalar {
    /// Every scalar type, in rank order within integers then floats.
    pub const ALL: [Scalar; 11] = [
        Scalar::Bool,
        Scalar::I8,
        Scalar::U8,
        Scalar::I16,
        Scalar::U16,
        Scalar::I32,
        Scalar::U32,
        Scalar::I64,
        Scalar::U64,
        Scalar::F32,
        Scalar::F64,
    ];

    /// The type as C spells it (`int`, `unsigned long`, `double`).
    pub fn name(self) -> &'static str {
        match self {
            Scalar::I8 => "char",
            Scalar::U8 => "unsigned char",
            Scalar::I16 => "short",
            Scalar::U16 => "unsigned short",
            Scalar::I32 => "int",
            Scalar::U32 => "unsigned",
            Scalar::I64 => "long",
            Scalar::U64 => "unsigned long",
            Scalar::Bool => "_Bool",
            Scalar::F32 => "float",
            Scalar::F64 => "double",
        }
    }

    /// An integer type (`_Bool` included): held in an integer register.
    pub fn is_integer(self) -> bool {
        !self.is_float()
    }

    /// `float` or `double`.
    pub fn is_float(self) -> bool {
        matches!(self, Scalar::F32 | Scalar::F64)
    }

    /// A signed integer type.
    pub fn is_signed(self) -> bool {
        matches!(self, Scalar::I8 | Scalar::I16 | Scalar::I32 | Scalar::I64)
    }

    /// An unsigned integer type (`_Bool` included).
    pub fn is_unsigned(self) -> bool {
        self.is_integer() && !self.is_signed()
    }

    /// Size in bytes (also its alignment, as gcc lays scalars out).
    pub fn size(self) -> u32 {
        match self {
            Scalar::I8 | Scalar::U8 | Scalar::Bool => 1,
            Scalar::I16 | Scalar::U16 => 2,
            Scalar::I32 | Scalar::U32 | Scalar::F32 => 4,
            Scalar::I64 | Scalar::U64 | Scalar::F64 => 8,
        }
    }

    /// Width in bits.
    pub fn bits(self) -> u32 {
        self.size() * 8
    }

    /// C's integer promotion: types narrower than `int` become `int`
    /// (every value of them fits); others stay.
    pub fn promote(self) -> Scalar {
        match self {
            Scalar::I8 | Scalar::U8 | Scalar::I16 | Scalar::U16 | Scalar::Bool => Scalar::I32,
            s => s,
        }
    }

    /// C's usual arithmetic conversions: the common type of two operands.
    pub fn common(a: Scalar, b: Scalar) -> Scalar {
        if a == Scalar::F64 || b == Scalar::F64 {
            return Scalar::F64;
        }
        if a == Scalar::F32 || b == Scalar::F32 {
            return Scalar::F32;
        }
        let (a, b) = (a.promote(), b.promote());
        if a == b {
            return a;
        }
        // Both are int, unsigned, long or unsigned long now. On LP64 a
        // long holds every unsigned int, so long wins over unsigned int.
        let rank = |s: Scalar| s.size();
        match (a.is_signed(), b.is_signed()) {
            (true, true) | (false, false) => {
                if rank(a) >= rank(b) {
                    a
                } else {
                    b
                }
            }
            _ => {
                let (s, u) = if a.is_signed() { (a, b) } else { (b, a) };
                if rank(u) >= rank(s) { u } else { s }
            }
        }
    }

    /// `v`'s low bits as a value of this integer type, sign- or
    /// zero-extended back to 64 bits (`_Bool`: v != 0). How constants are
    /// kept: every integer [`Const::Int`] is normalized so.
    pub fn wrap(self, v: i64) -> i64 {
        match self {
            Scalar::I8 => v as i8 as i64,
            Scalar::U8 => v as u8 as i64,
            Scalar::I16 => v as i16 as i64,
            Scalar::U16 => v as u16 as i64,
            Scalar::I32 => v as i32 as i64,
            Scalar::U32 => v as u32 as i64,
            Scalar::Bool => (v != 0) as i64,
            _ => v,
        }
    }
}

impl std::fmt::Display for Scalar {
    /// As C spells it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What a pointer points to at its last level: `void`, or a scalar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Base {
    /// `void *`: converts to and from every other pointer type.
    Void,
    /// A scalar.
    Scalar(Scalar),
}

/// A pointer type: `depth` stars over `base` (`char **` is
/// `{ Scalar(I8), 2 }`). A pointer's value is a 64-bit address of the
/// program's memory (SPEC 2.3), held in the IR as an `unsigned long`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PtrTy {
    /// The type at the bottom.
    pub base: Base,
    /// How many `*` (at least 1).
    pub depth: u8,
}

impl PtrTy {
    /// The machine type of a pointer value.
    pub const MACHINE: Scalar = Scalar::U64;

    /// What `*p` is: a scalar, or a pointer one level down; `None` for
    /// `void *`, which cannot be dereferenced.
    pub fn pointee(self) -> Option<Pointee> {
        match (self.depth, self.base) {
            (1, Base::Void) => None,
            (1, Base::Scalar(s)) => Some(Pointee::Scalar(s)),
            _ => Some(Pointee::Ptr(PtrTy {
                base: self.base,
                depth: self.depth - 1,
            })),
        }
    }

    /// Bytes that `p + 1` steps over: the pointee's size (gcc's 1 for
    /// `void *`).
    pub fn stride(self) -> u64 {
        match self.pointee() {
            None => 1,
            Some(Pointee::Scalar(s)) => s.size() as u64,
            Some(Pointee::Ptr(_)) => 8,
        }
    }

    /// One level up: a pointer to this pointer.
    pub fn up(self) -> PtrTy {
        PtrTy {
            base: self.base,
            depth: self.depth.saturating_add(1),
        }
    }

    /// A pointer to `s`.
    pub fn to(s: Scalar) -> PtrTy {
        PtrTy {
            base: Base::Scalar(s),
            depth: 1,
        }
    }
}

/// What a pointer points to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Pointee {
    /// A scalar object.
    Scalar(Scalar),
    /// Another pointer.
    Ptr(PtrTy),
}

impl std::fmt::Display for PtrTy {
    /// As C spells it: `char **`, `void *`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.base {
            Base::Void => f.write_str("void ")?,
            Base::Scalar(s) => write!(f, "{} ", s.name())?,
        }
        for _ in 0..self.depth {
            f.write_str("*")?;
        }
        Ok(())
    }
}

/// The type of a variable (local, static, global): a scalar or a fixed array.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum VarTy {
    /// One scalar.
    Scalar(Scalar),
    /// `elem name[len]`: `len` elements laid out as C does.
    Array(Scalar, u32),
    /// A pointer (8 bytes).
    Ptr(PtrTy),
}

impl std::fmt::Display for VarTy {
    /// As C spells it: `int`, `double[4]`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            VarTy::Scalar(s) => f.write_str(s.name()),
            VarTy::Array(s, n) => write!(f, "{}[{n}]", s.name()),
            VarTy::Ptr(p) => write!(f, "{p}"),
        }
    }
}

impl VarTy {
    /// Size in bytes, as C lays it out.
    pub fn size(self) -> u64 {
        match self {
            VarTy::Scalar(s) => s.size() as u64,
            VarTy::Array(s, n) => s.size() as u64 * n as u64,
            VarTy::Ptr(_) => 8,
        }
    }

    /// Alignment in bytes.
    pub fn align(self) -> u32 {
        match self {
            VarTy::Scalar(s) | VarTy::Array(s, _) => s.size(),
            VarTy::Ptr(_) => 8,
        }
    }

    /// The element (or only) scalar; a pointer's is its machine type.
    pub fn elem(self) -> Scalar {
        match self {
            VarTy::Scalar(s) | VarTy::Array(s, _) => s,
            VarTy::Ptr(_) => PtrTy::MACHINE,
        }
    }
}

/// The type of a parameter: a scalar by value, or an array by reference
/// (passed as a pointer and a length, so `len(a)` works).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ParamTy {
    /// A scalar passed by value.
    Scalar(Scalar),
    /// `elem a[]`: passed by reference with its length.
    ArrayRef(Scalar),
    /// A pointer passed by value.
    Ptr(PtrTy),
}

/// A procedure's return type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RetTy {
    /// No value.
    Void,
    /// A scalar value. Falling off the end returns 0 / 0.0.
    Scalar(Scalar),
    /// A pointer. Falling off the end returns a null pointer.
    Ptr(PtrTy),
}

/// A procedure signature; compared across versions to decide whether old
/// callers can be bound straight to new code.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Signature {
    /// Parameter types in order.
    pub params: Vec<ParamTy>,
    /// Return type.
    pub ret: RetTy,
}

/// A constant used to initialize statics and globals.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub enum Const {
    /// An int constant.
    Int(i64),
    /// A double constant.
    Double(f64),
}

/// A byte range in the source file, for messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Span {
    /// Start byte offset.
    pub start: u32,
    /// End byte offset (exclusive).
    pub end: u32,
}

/// One compiled UC source file: a whole version of a program.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Module {
    /// The file name the module came from (for messages only).
    pub file: String,
    /// Procedures in source order.
    pub procs: Vec<Proc>,
    /// Top-level globals in source order.
    pub globals: Vec<Global>,
    /// Interprocedures (`iproc P(...)`): old signature of P → new P.
    pub iprocs: Vec<IProc>,
    /// Mprocedures (`mproc P { ... }`), for procedures and globals.
    pub mprocs: Vec<MProc>,
}

/// A top-level global variable. Its data lives in its own segment
/// `(v, 3, G, 0)`; globals and procedures share one name space.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Global {
    /// Its name.
    pub name: String,
    /// Its type.
    pub ty: VarTy,
    /// Initial value: one `Const` per element (arrays are fully listed,
    /// zero-filled by the checker).
    pub init: Vec<Const>,
    /// Where it was declared.
    pub span: Span,
}

/// A `static` local of a procedure: lives in the procedure's data segment
/// `(v, 3, P, offset)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Static {
    /// Its name (unique within the procedure after the checker's renaming of
    /// shadowed names: `x`, `x#2`, …).
    pub name: String,
    /// Its type.
    pub ty: VarTy,
    /// Byte offset in the procedure's data segment (aligned to its type).
    pub offset: u32,
    /// Initial value, one `Const` per element.
    pub init: Vec<Const>,
}

/// An `old.NAME` reference of an mproc: resolved by the VM at load time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OldStatic {
    /// The static's name in the old version.
    pub name: String,
    /// The type the mproc body was checked against.
    pub ty: VarTy,
}

/// A non-static local variable or parameter slot of a procedure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Local {
    /// Source name (for debugging output only).
    pub name: String,
    /// Its kind and type.
    pub ty: LocalTy,
}

/// What a local slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum LocalTy {
    /// A scalar (a Cranelift variable).
    Scalar(Scalar),
    /// A fixed array on the stack.
    Array(Scalar, u32),
    /// An array parameter: a reference (pointer + length).
    ArrayRef(Scalar),
    /// A pointer (a Cranelift variable holding the address).
    Ptr(PtrTy),
    /// A scalar whose address is taken (`&x`): it lives in the data-stack
    /// frame, so a pointer to it is a pointer into the program's memory.
    Addressed(Scalar),
}

/// Index into [`Proc::locals`]. Parameters are locals `0..params.len()`.
pub type LocalId = u32;
/// Index into [`Proc::statics`] (or, in an mproc, of the served procedure).
pub type StaticId = u32;

/// A procedure.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Proc {
    /// Its name.
    pub name: String,
    /// Its signature; `sig.params.len()` first locals are the parameters.
    pub sig: Signature,
    /// Local slots, parameters first.
    pub locals: Vec<Local>,
    /// Static locals with their layout.
    pub statics: Vec<Static>,
    /// Size in bytes of the data segment (its statics laid out in order).
    pub data_size: u32,
    /// The body.
    pub body: Vec<Stmt>,
    /// Names of procedures it calls (deduplicated, sorted): the call-graph edges.
    pub callees: Vec<String>,
    /// Names of globals it reads or writes (deduplicated, sorted).
    pub globals_used: Vec<String>,
    /// The name of each `goto` label, by [`LabelId`]: a loop's label is how
    /// an update matches it in the new version (SPEC 4.6). Like local
    /// names, label names are not part of what makes a procedure changed.
    pub labels: Vec<String>,
    /// Where it was defined.
    pub span: Span,
}

/// An interprocedure: `iproc P(old params) { ... new.P(...) ... }`, compiled
/// into the new version at `(v, 1, P, 0)`. Its `body` may call `new.P`
/// (lowered as [`ExprKind::Call`] of `P`, which in version v's code reaches
/// v's binding table) and builtins.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IProc {
    /// The procedure it serves.
    pub name: String,
    /// P's old signature (what old callers pass and expect back).
    pub old_sig: Signature,
    /// Locals, parameters first.
    pub locals: Vec<Local>,
    /// The body.
    pub body: Vec<Stmt>,
    /// Where it was defined.
    pub span: Span,
}

/// An mprocedure: `mproc P { ... }`, run once when P (a procedure or a
/// global) is updated, at `(v, 2, P, 0)`. Plain names are P's new statics
/// ([`Place::Static`], or [`Place::Global`] for a global's mproc); `old.NAME`
/// reads the old version's statics ([`Place::OldStatic`]).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MProc {
    /// The procedure or global it serves.
    pub name: String,
    /// Locals of the mproc body.
    pub locals: Vec<Local>,
    /// The old statics it reads (`old.NAME`), by name and the type the
    /// checker assumed. The VM resolves them against the version actually
    /// being replaced when the mproc is loaded and refuses a mismatch, so
    /// `ucc build` works without the old source. For a global's mproc, the
    /// one entry is named like the global.
    pub old_statics: Vec<OldStatic>,
    /// The body.
    pub body: Vec<Stmt>,
    /// Where it was defined.
    pub span: Span,
}

/// A statement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub enum Stmt {
    /// Evaluate for side effects.
    Expr(Expr),
    /// `if (cond) then else els`; `cond` is an int (nonzero = true).
    If {
        /// Int-typed condition.
        cond: Expr,
        /// Taken when nonzero.
        then: Vec<Stmt>,
        /// Taken when zero (may be empty).
        els: Vec<Stmt>,
    },
    /// `while`/`for`: `loop { if (!cond) break; body; step }`. `continue`
    /// jumps to `step`. The back-edge is a safepoint.
    Loop {
        /// Int-typed condition; `None` means forever.
        cond: Option<Expr>,
        /// The body.
        body: Vec<Stmt>,
        /// The `for` step (empty for `while`).
        step: Vec<Stmt>,
    },
    /// Leave the innermost loop.
    Break,
    /// Go to the innermost loop's step.
    Continue,
    /// Return, with a value of the procedure's return type (already
    /// converted) or none for void.
    Return(Option<Expr>),
    /// `do body while (cond);`: the body runs, then `cond` (int) decides
    /// whether to go again. `continue` jumps to the test; the back-edge is
    /// a safepoint.
    DoWhile {
        /// The body.
        body: Vec<Stmt>,
        /// Int-typed condition.
        cond: Expr,
    },
    /// `switch`: the arm whose label equals `value` runs, else the
    /// `default` arm, else nothing; an arm falls through into the next one
    /// unless it breaks. `break` leaves the switch; `continue` belongs to
    /// the enclosing loop.
    Switch {
        /// Int-typed value (an unsigned one is cast: labels compare bits).
        value: Expr,
        /// The arms in source order (distinct labels, at most one default).
        arms: Vec<SwitchArm>,
    },
    /// A nested block (scoping is already resolved; kept for structure).
    Block(Vec<Stmt>),
    /// A `goto` target, numbered within its procedure (each defined once).
    Label(LabelId),
    /// `goto`: jump to the label of this number in the same procedure. A
    /// safepoint, like a loop's back edge (a backward `goto` is a loop).
    Goto(LabelId),
}

/// A label's number within its procedure (see [`Stmt::Label`]).
pub type LabelId = u32;

/// One `case`/`default` label and the statements after it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SwitchArm {
    /// The case values (64 bits, already converted to the switch's type).
    pub labels: Vec<i64>,
    /// This arm is (also) the `default`.
    pub default: bool,
    /// The statements up to the next label.
    pub body: Vec<Stmt>,
}

/// A typed expression.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub struct Expr {
    /// The value's type; `None` only for calls of void procedures and of
    /// void builtins, which appear only as expression statements.
    pub ty: Option<Scalar>,
    /// What it computes.
    pub kind: ExprKind,
    /// Where it is (runtime errors point here).
    pub span: Span,
}

/// Binary operators. Operands have equal types (the checker inserts casts,
/// after C's usual arithmetic conversions); `%`, the bitwise operators and
/// shifts are on `int`/`unsigned` only; comparisons yield int 0/1. Where
/// signedness changes the result, unsigned operands have their own
/// operators (`UDiv`, `URem`, `UShr`, `ULt`, ...); `Add Sub Mul Eq Ne`
/// and the bitwise ones are the same bits for both.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BinOp {
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/` (int: traps on zero divisor; `MIN / -1` wraps)
    Div,
    /// `%` (int only: traps on zero divisor)
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
    /// `&`
    BitAnd,
    /// `|`
    BitOr,
    /// `^`
    BitXor,
    /// `<<` (a count outside 0..width-1 is a runtime error)
    Shl,
    /// `>>` on int: arithmetic (sign-filling), count checked as for `Shl`
    Shr,
    /// `>>` on unsigned: logical (zero-filling)
    UShr,
    /// `/` on unsigned (traps on zero divisor)
    UDiv,
    /// `%` on unsigned (traps on zero divisor)
    URem,
    /// `<` on unsigned
    ULt,
    /// `<=` on unsigned
    ULe,
    /// `>` on unsigned
    UGt,
    /// `>=` on unsigned
    UGe,
}

impl BinOp {
    /// A comparison: its result is an int 0/1 whatever the operands.
    pub fn is_comparison(self) -> bool {
        use BinOp::*;
        matches!(self, Eq | Ne | Lt | Le | Gt | Ge | ULt | ULe | UGt | UGe)
    }
}

/// Unary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum UnOp {
    /// `-x` (wrapping for int)
    Neg,
    /// `!x` on int: 1 if zero else 0 (on double: 1 if == 0.0)
    Not,
    /// `~x` on int or unsigned
    BitNot,
}

/// An lvalue or array: where a value lives.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(remote = "Self")]
pub enum Place {
    /// A local scalar slot (or parameter).
    Local(LocalId),
    /// A static of the enclosing procedure (in an mproc: of the served
    /// procedure's NEW version).
    Static(StaticId),
    /// A global, by name.
    Global(String),
    /// In an mproc: the old version's static (read-only), index into
    /// [`MProc::old_statics`].
    OldStatic(StaticId),
    /// `base[index]`; `base` names an array (a local array, an array
    /// parameter, an array static or global, or an old array static).
    /// Bounds are checked at run time.
    Index {
        /// The array.
        base: Box<Place>,
        /// Int-typed index.
        index: Box<Expr>,
    },
    /// `*addr`: the `ty`-sized object at a program address. Every access
    /// is checked (SPEC 2.3): a null, freed or wild address stops the
    /// program with a runtime error, never the pup.
    Deref {
        /// The address (an `unsigned long`-typed pointer value).
        addr: Box<Expr>,
        /// The type of the object there (a pointer's is its machine type).
        ty: Scalar,
    },
}

/// A builtin procedure.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Builtin {
    /// `sleep_ms(int)`: void; a safepoint, interruptible by an update.
    SleepMs,
    /// `now_ms()`: int milliseconds since the Unix epoch.
    NowMs,
    /// `exit(int)`: stops the program with that exit code.
    Exit,
    /// `sqrt(double)`: double.
    Sqrt,
    /// `floor(double)`: double.
    Floor,
    /// `ceil(double)`: double.
    Ceil,
    /// `fabs(double)`: double.
    Fabs,
    /// `sin(double)`: double (the C library's).
    Sin,
    /// `cos(double)`: double.
    Cos,
    /// `tan(double)`: double.
    Tan,
    /// `atan(double)`: double.
    Atan,
    /// `atan2(double, double)`: double.
    Atan2,
    /// `exp(double)`: double.
    Exp,
    /// `log(double)`: double.
    Log,
    /// `log10(double)`: double.
    Log10,
    /// `pow(double, double)`: double.
    Pow,
    /// `fmod(double, double)`: double.
    Fmod,
    /// `abs(int)` / `labs(int)`: int (wrapping: `abs(INT_MIN)` is INT_MIN).
    Abs,
    /// `rand()`: int in 0..2^31, glibc's sequence.
    Rand,
    /// `srand(unsigned)`: void; seeds `rand` as glibc does.
    Srand,
    /// `malloc(size)`: a new heap object (the pointer), or null. Its
    /// second argument is the object's type tag (0: raw bytes).
    Malloc,
    /// `calloc(n, size)`: a zeroed heap object; third argument the tag.
    Calloc,
    /// `realloc(p, size)`: third argument the tag.
    Realloc,
    /// `free(p)`: void.
    Free,
}

impl Builtin {
    /// The math functions of one double argument, by C name.
    pub const MATH1: &'static [(&'static str, Builtin)] = &[
        ("sqrt", Builtin::Sqrt),
        ("floor", Builtin::Floor),
        ("ceil", Builtin::Ceil),
        ("fabs", Builtin::Fabs),
        ("sin", Builtin::Sin),
        ("cos", Builtin::Cos),
        ("tan", Builtin::Tan),
        ("atan", Builtin::Atan),
        ("exp", Builtin::Exp),
        ("log", Builtin::Log),
        ("log10", Builtin::Log10),
    ];
    /// The math functions of two double arguments.
    pub const MATH2: &'static [(&'static str, Builtin)] = &[
        ("atan2", Builtin::Atan2),
        ("pow", Builtin::Pow),
        ("fmod", Builtin::Fmod),
    ];
}

/// One piece of a checked `printf` format.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum FmtPiece {
    /// Text printed as is (`%%` already turned into `%`).
    Lit(String),
    /// A conversion consuming the next argument (and, before it, one int
    /// argument per `*` in the width and precision). `spec` is the whole C
    /// conversion as written, e.g. `%d`, `%.2lf`, `%-8.3e`, `%5s`, `%*lu`;
    /// the runtime formats it as C's printf would.
    Conv {
        /// The conversion text, starting with `%`.
        spec: String,
        /// The conversion letter: one of `d i u x X o c s f F e E g G a A`.
        conv: char,
    },
}

/// A `printf` argument.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum PrintArg {
    /// A scalar value (for `%d %i %c`: int; `%f %e %g`: double).
    Value(Expr),
    /// A string literal (for `%s`).
    Str(String),
    /// A `char` array (for `%s`): printed up to its first 0 byte, never
    /// past its end.
    CharArray(Place),
    /// A `char *` value (for `%s`): read with the pointer checks, up to
    /// its NUL (or the precision's bytes).
    CStr(Expr),
}

/// A call argument.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum Arg {
    /// A scalar passed by value (already converted to the parameter type).
    Value(Expr),
    /// An array passed by reference (with its length).
    Array(Place),
}

/// What an expression computes.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum ExprKind {
    /// An int literal.
    Int(i64),
    /// A double literal.
    Double(f64),
    /// Read a scalar place.
    Load(Place),
    /// `place = value` or `place op= value`; yields the stored value.
    /// With `op`, the place is evaluated once (`a[i++] += 1` increments once).
    Assign {
        /// The target (a scalar place).
        place: Place,
        /// `Some(op)` for compound assignment.
        op: Option<BinOp>,
        /// The right-hand side, already of the place's type (for compound
        /// assignment on an int place with a double rhs the checker
        /// reports an error unless cast, as the rhs is converted first).
        value: Box<Expr>,
    },
    /// `++x`, `x++`, `--x`, `x--` on an int or double place.
    IncDec {
        /// The target.
        place: Place,
        /// +1 or -1.
        delta: i8,
        /// `true` for prefix (yields the new value), `false` for postfix.
        prefix: bool,
    },
    /// A binary operator on operands of equal type.
    Binary {
        /// The operator.
        op: BinOp,
        /// Left operand.
        lhs: Box<Expr>,
        /// Right operand.
        rhs: Box<Expr>,
    },
    /// A unary operator.
    Unary {
        /// The operator.
        op: UnOp,
        /// Operand.
        operand: Box<Expr>,
    },
    /// `a && b`, `a || b`: short-circuit; int operands, int 0/1 result.
    Logic {
        /// `true` for `&&`, `false` for `||`.
        and: bool,
        /// Left operand (int).
        lhs: Box<Expr>,
        /// Right operand (int).
        rhs: Box<Expr>,
    },
    /// `cond ? then : els`: only the chosen operand is evaluated. Both
    /// have the expression's type (`None`: both are void calls).
    Cond {
        /// Int-typed condition.
        cond: Box<Expr>,
        /// Value when nonzero.
        then: Box<Expr>,
        /// Value when zero.
        els: Box<Expr>,
    },
    /// `first, then`: `first` is evaluated for its effects (it may be a
    /// void call), then `then` gives the value.
    Comma {
        /// Evaluated and dropped.
        first: Box<Expr>,
        /// The value.
        then: Box<Expr>,
    },
    /// Conversion between scalar types: int/unsigned → double rounds;
    /// double → int/unsigned truncates toward zero, saturating (NaN → 0);
    /// int ↔ unsigned keeps the 64 bits.
    Cast {
        /// The target type.
        to: Scalar,
        /// The operand.
        operand: Box<Expr>,
    },
    /// A call of a UC procedure by name, through the binding table.
    Call {
        /// The callee's name.
        callee: String,
        /// Arguments matching the callee's signature.
        args: Vec<Arg>,
    },
    /// `len(a)`: the length of an array place.
    Len(Place),
    /// `printf(fmt, args...)`: void.
    Printf {
        /// The checked format.
        pieces: Vec<FmtPiece>,
        /// Arguments, one per conversion.
        args: Vec<PrintArg>,
    },
    /// Another builtin.
    Builtin {
        /// Which one.
        which: Builtin,
        /// Its (int) arguments.
        args: Vec<Expr>,
    },
    /// `&place`: the address of an object in the program's memory (a
    /// static, a global, an addressed local, an element, a `*p`).
    AddrOf(Place),
    /// A C library function on the program's memory (`<string.h>`,
    /// `<ctype.h>`, `<stdlib.h>`): `which` is the runtime's `LibcFn`
    /// number; arguments are 64-bit (pointers, or integers widened as
    /// their type says; a double's bits for none of them today), the
    /// result has the expression's type.
    Libc {
        /// The runtime's `LibcFn` number.
        which: u32,
        /// The C name, for messages.
        name: String,
        /// The arguments, each already of the parameter's type.
        args: Vec<Expr>,
    },
}
