//! The documented depth limits of UC. The front end refuses input past
//! them with a positioned diagnostic, and the VM's code generator
//! enforces the same numbers (it imports these consts), so `ucc check`
//! refuses everything the pup would refuse for depth, and no input can
//! make a recursive walk overflow the stack.

/// How deeply statements and expressions may nest: brackets, braces and
/// parentheses, and the operators and `if`/`else`/`while`/`for` chained in
/// one statement (a left-leaning `1 + 1 + ...` is a tree this deep).
/// 500 keeps every recursive walk (parser actions, checker, IR, Drop,
/// Cranelift lowering) far inside an 8 MiB main-thread stack.
pub const MAX_NESTING: u32 = 500;

/// How deeply the IR of one procedure may nest, counting every statement
/// and every expression on the way down (what the pup's code generator
/// recurses through). Source within [`MAX_NESTING`] (brackets, statements
/// and operators each) is at most `4 * MAX_NESTING` deep as a syntax tree,
/// and the checker's implicit conversions add at most one level per
/// operator; the rest is slack. The pup refuses a module past it (a forged object: `ucc` never
/// writes one), and the checker checks it too, so the two never disagree.
pub const MAX_IR_DEPTH: u32 = 6 * MAX_NESTING;

/// Deepest nesting of statements, expressions and places a decoded module
/// may have: decoding recurses once per level, so without a bound a forged
/// object could exhaust the decoding thread's stack (about half a KiB a
/// level: 4,000 levels fit a 2 MiB thread). Places add at most one level
/// per bracket of the source, so [`MAX_IR_DEPTH`] and [`MAX_NESTING`]
/// more is enough for everything `ucc` writes.
pub const MAX_DECODE_DEPTH: u32 = MAX_IR_DEPTH + 2 * MAX_NESTING;

/// Bytes of one data segment: the statics of one procedure, or one global,
/// must fit (SPEC §3: the displacement is 16 bits).
pub const DATA_SEGMENT_BYTES: u64 = 1 << 16;

/// Bytes of one code segment: a procedure's machine code must fit. Only
/// the pup knows the code's size (after Cranelift), so only it checks.
pub const CODE_SEGMENT_BYTES: u64 = 1 << 16;

/// Procedure and global names a pup can give IDs to (SPEC §3: the
/// procedure ID is 16 bits). Names are never reused, so a program's
/// versions share them: one version holds at most this many.
pub const MAX_NAMES: u64 = 1 << 16;
