//! Why a unit does not compile.

use super::MAX_IR_DEPTH;
use compiler::ir::{Builtin, Scalar};

/// Why a unit could not be compiled: the code generator could not be set
/// up, the IR does not add up (the pup validates what it is sent, and a
/// module that decodes but is inconsistent is refused here, before
/// Cranelift sees it), or Cranelift refused what it was given.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CodegenError {
    /// Cranelift refused one of our settings.
    #[error("{setting}: {err}")]
    Setting {
        /// The setting.
        setting: &'static str,
        /// Cranelift's reason.
        err: String,
    },
    /// No Cranelift backend for this machine.
    #[error("{0}")]
    Isa(String),
    /// Cranelift panicked on the function (the generator was rebuilt).
    #[error("code generation failed on malformed IR: {0}")]
    Panicked(String),
    /// Cranelift refused the function.
    #[error("code generation failed: {0}")]
    Cranelift(String),
    /// The code would need relocations, so could not be copied as it is.
    #[error("code generation produced relocations")]
    Relocations,
    /// Statements or expressions nested deeper than [`MAX_IR_DEPTH`].
    #[error("{0} nested deeper than {MAX_IR_DEPTH} levels")]
    TooDeep(Nesting),
    /// The machine signature has another number of parameters.
    #[error("parameter count mismatch")]
    ParamCount,
    /// A scalar parameter's local has another type than the signature says.
    #[error("parameter {0} has the wrong type")]
    ParamType(String),
    /// An array-reference local that is not a parameter.
    #[error("array reference {0} is not a parameter")]
    ArrayRefNotParam(String),
    /// The locals do not use up the parameters.
    #[error("parameters and locals disagree")]
    ParamsAndLocals,
    /// A local array of no or too many elements.
    #[error("local array {name} has {len} elements (1..=65536 allowed)")]
    LocalArraySize {
        /// The array.
        name: String,
        /// Its element count.
        len: u32,
    },
    /// A `switch` with the same label twice.
    #[error("duplicate case label {0}")]
    DuplicateCase(i64),
    /// A `goto` label placed twice in one procedure.
    #[error("goto label {0} is placed twice")]
    DuplicateLabel(u32),
    /// A `goto` to a label the procedure never places.
    #[error("goto to label {0}, which the procedure does not have")]
    UndefinedLabel(u32),
    /// `break` with no loop or switch around it.
    #[error("break or continue outside a loop")]
    BreakOutsideLoop,
    /// `continue` with no loop around it.
    #[error("continue outside a loop")]
    ContinueOutsideLoop,
    /// An expression of another type than its position needs.
    #[error("expected a {expected:?} expression, found {found:?}")]
    Expected {
        /// The type the position needs.
        expected: Scalar,
        /// The type the IR gives the expression.
        found: Option<Scalar>,
    },
    /// A value is needed where the IR gives none (`what` says where).
    #[error("{what} has no value")]
    NoValue {
        /// "expression", "operand", "returned expression", "cast operand".
        what: &'static str,
    },
    /// An expression's IR type is not the type of the code it lowers to.
    #[error("malformed IR: an expression claims to be {0:?} but is not")]
    ClaimsType(Scalar),
    /// An expression typed in the IR lowers to no value.
    #[error("malformed IR: a {0:?} expression has no value")]
    TypedNoValue(Scalar),
    /// A scalar place names an array (or nothing scalar).
    #[error("{0} is not a scalar")]
    NotScalar(PlaceName),
    /// An array place names a scalar.
    #[error("{0} is not an array")]
    NotArray(PlaceName),
    /// A place that does not exist.
    #[error("no {0}")]
    NoSuchPlace(PlaceName),
    /// `old.NAME` in code that is not an mprocedure.
    #[error("old.NAME outside an mproc")]
    OldOutsideMproc,
    /// An indexed place used as an array.
    #[error("arrays of arrays are not supported")]
    ArrayOfArrays,
    /// `&x` of a place that has no address (a scalar local the checker
    /// did not mark as addressed).
    #[error("the address of a local held in a register was taken")]
    NotAddressable,
    /// An integer-only operator on doubles (`op` as the IR names it).
    #[error("{0} on doubles")]
    DoubleOperator(String),
    /// `!` typed as anything but int.
    #[error("! must yield an int")]
    NotYieldsInt,
    /// `?:` arms of another type than the whole.
    #[error("?: operands do not have its type")]
    CondOperands,
    /// A call of a procedure the version does not have.
    #[error("call of unknown procedure {0}")]
    UnknownCallee(String),
    /// A call with the wrong number of arguments.
    #[error("call of {callee} with {given} arguments, it takes {takes}")]
    CallArity {
        /// The procedure called.
        callee: String,
        /// Arguments given.
        given: usize,
        /// Parameters it has.
        takes: usize,
    },
    /// An array argument of the wrong element type.
    #[error("array argument of {0} has the wrong element type")]
    ArrayArgElement(String),
    /// A scalar for an array parameter, or the other way round.
    #[error("argument of {0} does not fit its parameter")]
    ArgumentKind(String),
    /// A printf conversion the runtime refuses.
    #[error("{0}")]
    Conversion(String),
    /// A printf with more or fewer arguments than conversions.
    #[error("printf has {conversions} conversions and {args} arguments")]
    PrintfArity {
        /// Argument slots the conversions take.
        conversions: usize,
        /// Arguments given.
        args: usize,
    },
    /// A `%s` literal holding a NUL byte.
    #[error("string literal with a NUL byte")]
    NulInString,
    /// A printf argument of another kind than its conversion.
    #[error("printf argument does not fit its conversion")]
    PrintfArgument,
    /// A builtin with the wrong number of arguments.
    #[error("{} takes {}", builtin_name(*.builtin), count_words(*.takes))]
    BuiltinArity {
        /// The builtin.
        builtin: Builtin,
        /// Arguments it takes.
        takes: usize,
    },
    /// A math builtin the runtime does not have.
    #[error("no math function {}", builtin_name(*.0))]
    NoMathFunction(Builtin),
}

/// What is nested too deeply ([`CodegenError::TooDeep`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Nesting {
    /// Statements.
    Statements,
    /// An expression.
    Expression,
}

impl std::fmt::Display for Nesting {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Nesting::Statements => "statements",
            Nesting::Expression => "expression",
        })
    }
}

/// A place of the IR as an error names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlaceName {
    /// A local, by index.
    Local(u32),
    /// A static, by name.
    Static(String),
    /// A static, by index (when there is no such static).
    StaticId(u32),
    /// A global, by name.
    Global(String),
    /// An `old.NAME` static, by index.
    OldStatic(u32),
}

impl std::fmt::Display for PlaceName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlaceName::Local(id) => write!(f, "local {id}"),
            PlaceName::Static(name) => write!(f, "static {name}"),
            PlaceName::StaticId(id) => write!(f, "static #{id}"),
            PlaceName::Global(name) => write!(f, "global {name}"),
            PlaceName::OldStatic(id) => write!(f, "old static #{id}"),
        }
    }
}

/// A builtin's UC name.
fn builtin_name(b: Builtin) -> &'static str {
    match b {
        Builtin::SleepMs => "sleep_ms",
        Builtin::NowMs => "now_ms",
        Builtin::Exit => "exit",
        Builtin::Abs => "abs",
        Builtin::Rand => "rand",
        Builtin::Srand => "srand",
        _ => Builtin::MATH1
            .iter()
            .chain(Builtin::MATH2)
            .find(|(_, m)| *m == b)
            .map_or("a math builtin", |(n, _)| n),
    }
}

/// "no arguments", "one argument", "two arguments".
fn count_words(n: usize) -> &'static str {
    match n {
        0 => "no arguments",
        1 => "one argument",
        2 => "two arguments",
        _ => "more arguments",
    }
}
