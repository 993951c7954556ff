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
