//! Loop identity for moving a running loop's frame to a new version (issue
//! 24, SPEC §4.6).
//!
//! A frame paused at a loop's back edge can only move to version b if b has
//! "the same" loop and we know what each of b's locals starts as. This module
//! answers both questions as pure functions over the IR, so the update engine
//! (and its tests) can decide without running anything:
//!
//! - [`loops_of`]: every `while`/`for`/`do` of a procedure, numbered in
//!   source (pre-)order, with its kind, its label, its position in the nest
//!   and the frame's locals at its back edge.
//! - [`match_loop`]: a's loop → b's loop (by label when both carry one, else
//!   by position in the nest and kind).
//! - [`map_locals`]: per local of b, where its value comes from (copy from a,
//!   convert as C converts, a new local's constant initializer or zero); the
//!   locals of a that b lacks are reported as dropped.
//!
//! Invariant: nothing here changes the IR, so the object format is unchanged.
//! Choices where the IR is silent:
//! - The IR resolves scopes into a flat slot list, so "the locals in scope at
//!   the back edge" are all of the frame's slots: a slot of a sibling block
//!   is carried too (copying it is harmless; the new code reinitializes it
//!   when it enters that block).
//! - `for` and `while` are one IR loop; a loop with a non-empty step is a
//!   `for`, any other a `while` (a `for (;c;)` is a `while`, which it is).
//! - A label is a number in the body; its name comes from
//!   [`Proc::labels`]. A loop without a label is matched by position and
//!   kind.

use crate::ir::{Const, ExprKind, LabelId, LocalTy, Place, Proc, Scalar, Stmt};

/// A loop's number within its procedure: its index in [`loops_of`]'s
/// source pre-order (the outermost first loop is 0). ush shows it plus one.
pub type LoopId = u32;

/// Which statement wrote the loop (matching requires the same kind).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LoopKind {
    /// `for (...; ...; step)` with a step.
    For,
    /// `while (c)` (or `for` without a step).
    While,
    /// `do ... while (c);`.
    Do,
}

/// One loop of a procedure, as [`loops_of`] finds it.
#[derive(Clone, Debug, PartialEq)]
pub struct LoopInfo {
    /// Its number (source pre-order).
    pub id: LoopId,
    /// How it was written.
    pub kind: LoopKind,
    /// The label written right before it (`serve: while (1)`), if named.
    pub label: Option<String>,
    /// Its position in the nest: per enclosing level, the index among the
    /// loops of that level (the first top-level loop is `[0]`, the second
    /// loop nested in it `[0, 1]`).
    pub path: Vec<u32>,
    /// The frame's locals at the back edge: (slot, name, type).
    pub locals: Vec<(u32, String, LocalTy)>,
}

/// Every loop of `proc` in source pre-order; a loop's label is the name
/// [`Proc::labels`] gives the label written right before it.
pub fn loops_of(proc: &Proc) -> Vec<LoopInfo> {
    let label_names = &proc.labels[..];
    let locals: Vec<(u32, String, LocalTy)> = proc
        .locals
        .iter()
        .enumerate()
        .map(|(i, l)| (i as u32, l.name.clone(), l.ty))
        .collect();
    let mut out = Vec::new();
    let mut path = Vec::new();
    walk(
        &proc.body,
        label_names,
        &locals,
        &mut path,
        &mut out,
        &mut 0,
    );
    out
}

/// Records the loops of `stmts` at nest level `path.len()`. `index` numbers
/// the siblings of this level: the statements inside an if, a block or a
/// switch share it with the list around them, a loop's body starts its own.
fn walk(
    stmts: &[Stmt],
    names: &[String],
    locals: &[(u32, String, LocalTy)],
    path: &mut Vec<u32>,
    out: &mut Vec<LoopInfo>,
    index: &mut u32,
) {
    let mut pending: Option<LabelId> = None;
    for s in stmts {
        let label = pending.take();
        let (kind, inner): (LoopKind, Vec<&[Stmt]>) = match s {
            Stmt::Label(l) => {
                pending = Some(*l);
                continue;
            }
            Stmt::Loop { body, step, .. } => {
                let kind = if step.is_empty() {
                    LoopKind::While
                } else {
                    LoopKind::For
                };
                (kind, vec![body.as_slice(), step.as_slice()])
            }
            Stmt::DoWhile { body, .. } => (LoopKind::Do, vec![body.as_slice()]),
            Stmt::If { then, els, .. } => {
                walk(then, names, locals, path, out, index);
                walk(els, names, locals, path, out, index);
                continue;
            }
            Stmt::Block(b) => {
                walk(b, names, locals, path, out, index);
                continue;
            }
            Stmt::Switch { arms, .. } => {
                for a in arms {
                    walk(&a.body, names, locals, path, out, index);
                }
                continue;
            }
            _ => continue,
        };
        path.push(*index);
        out.push(LoopInfo {
            id: out.len() as LoopId,
            kind,
            label: label.and_then(|l| names.get(l as usize).cloned()),
            path: path.clone(),
            locals: locals.to_vec(),
        });
        let mut nested = 0;
        for part in inner {
            walk(part, names, locals, path, out, &mut nested);
        }
        path.pop();
        *index += 1;
    }
}

/// b's loop that a's loop `a` continues as, if any: the loop with the same
/// label when both are labelled, else the unlabelled one of b at the same
/// nest position and of the same kind. A label on only one side is no
/// match by label, so it falls back to position and kind.
pub fn match_loop<'b>(a: &LoopInfo, b: &'b [LoopInfo]) -> Option<&'b LoopInfo> {
    if let Some(name) = &a.label
        && let Some(hit) = b.iter().find(|l| l.label.as_ref() == Some(name))
    {
        return (hit.kind == a.kind).then_some(hit);
    }
    b.iter()
        .find(|l| l.path == a.path && l.kind == a.kind && (l.label.is_none() || a.label.is_none()))
}

/// Where one of b's locals gets its value when a frame moves.
#[derive(Clone, Debug, PartialEq)]
pub enum LocalSource {
    /// a's slot of the same name and type, copied.
    Copy(u32),
    /// a's slot of the same name, converted as C converts `from` to `to`.
    Convert {
        /// a's slot.
        slot: u32,
        /// Its type in a.
        from: Scalar,
        /// Its type in b.
        to: Scalar,
    },
    /// New in b: its constant initializer.
    Init(Const),
    /// New in b without a constant initializer (or one of a's slots of an
    /// array type that changed): zero.
    Zero,
}

/// The local mapping of a move: per slot of b, its source; and a's slots
/// that b has no local for.
#[derive(Clone, Debug, PartialEq)]
pub struct LocalMap {
    /// Indexed by b's slot.
    pub sources: Vec<LocalSource>,
    /// a's slots whose names b lacks (their values are dropped).
    pub dropped: Vec<u32>,
}

/// Map a's locals at a back edge onto b's. Locals pair by name (the n-th
/// slot named x in a with the n-th named x in b, as shadowing makes names
/// repeat). `init(slot)` is b's constant initializer of a new slot.
pub fn map_locals(
    a: &[(u32, String, LocalTy)],
    b: &[(u32, String, LocalTy)],
    init: impl Fn(u32) -> Option<Const>,
) -> LocalMap {
    let mut used = vec![false; a.len()];
    let mut sources = Vec::with_capacity(b.len());
    for (slot_b, name, ty_b) in b {
        let hit = a
            .iter()
            .enumerate()
            .find(|(i, (_, n, _))| !used[*i] && n == name);
        let src = match hit {
            Some((i, (slot_a, _, ty_a))) => {
                used[i] = true;
                match (ty_a, ty_b) {
                    (x, y) if x == y => LocalSource::Copy(*slot_a),
                    (LocalTy::Scalar(from), LocalTy::Scalar(to)) => LocalSource::Convert {
                        slot: *slot_a,
                        from: *from,
                        to: *to,
                    },
                    _ => LocalSource::Zero,
                }
            }
            None => init(*slot_b).map_or(LocalSource::Zero, LocalSource::Init),
        };
        sources.push(src);
    }
    let dropped = a
        .iter()
        .zip(&used)
        .filter(|(_, u)| !**u)
        .map(|((s, _, _), _)| *s)
        .collect();
    LocalMap { sources, dropped }
}

/// A local's constant initializer in `proc`: the first statement of the body
/// (in order, not entering loops) that assigns to `slot`, if it stores a
/// literal. This is how `int total = 0;` reads in the IR.
pub fn constant_init(proc: &Proc, slot: u32) -> Option<Const> {
    fn find(stmts: &[Stmt], slot: u32) -> Option<Option<Const>> {
        for s in stmts {
            match s {
                Stmt::Expr(e) => {
                    if let ExprKind::Assign {
                        place: Place::Local(l),
                        op: None,
                        value,
                    } = &e.kind
                        && *l == slot
                    {
                        return Some(match value.kind {
                            ExprKind::Int(v) => Some(Const::Int(v)),
                            ExprKind::Double(v) => Some(Const::Double(v)),
                            _ => None,
                        });
                    }
                }
                Stmt::Block(b) => {
                    if let Some(r) = find(b, slot) {
                        return Some(r);
                    }
                }
                _ => {}
            }
        }
        None
    }
    find(&proc.body, slot).flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proc_of(src: &str, name: &str) -> Proc {
        let m = crate::compile("t.uc", src).expect("compiles");
        m.procs.into_iter().find(|p| p.name == name).expect("proc")
    }

    #[test]
    fn numbers_kinds_and_nest_positions() {
        let p = proc_of(
            "int main() { int i; int j; for (i = 0; i < 3; i++) { while (j) { j--; } \
             do { j++; } while (j < 2); } if (i) { while (1) { break; } } return 0; }",
            "main",
        );
        let ls = loops_of(&p);
        let got: Vec<(LoopId, LoopKind, Vec<u32>)> =
            ls.iter().map(|l| (l.id, l.kind, l.path.clone())).collect();
        assert_eq!(
            got,
            vec![
                (0, LoopKind::For, vec![0]),
                (1, LoopKind::While, vec![0, 0]),
                (2, LoopKind::Do, vec![0, 1]),
                (3, LoopKind::While, vec![1]),
            ]
        );
        let names: Vec<&str> = ls[0].locals.iter().map(|(_, n, _)| n.as_str()).collect();
        assert_eq!(names, ["i", "j"]);
    }

    #[test]
    fn a_label_names_the_loop_after_it() {
        let p = proc_of(
            "int main() { int n; serve: while (1) { n++; } return 0; }",
            "main",
        );
        let ls = loops_of(&p);
        assert_eq!(ls[0].label.as_deref(), Some("serve"));
        // A label on a statement that is not a loop names no loop.
        let q = proc_of(
            "int main() { int n; here: n = 1; while (n) { n--; } return 0; }",
            "main",
        );
        assert_eq!(loops_of(&q)[0].label, None);
    }

    #[test]
    fn a_renamed_label_is_kept_but_is_no_change() {
        let a = crate::compile("a.uc", "int main() { int n; serve: while (1) { n++; } }").unwrap();
        let b = crate::compile("b.uc", "int main() { int n; accept: while (1) { n++; } }").unwrap();
        assert_eq!(loops_of(&b.procs[0])[0].label.as_deref(), Some("accept"));
        assert!(!crate::diff::diff(&a, &b).is_changed("main"));
    }

    fn info(kind: LoopKind, label: Option<&str>, path: &[u32]) -> LoopInfo {
        LoopInfo {
            id: 0,
            kind,
            label: label.map(str::to_string),
            path: path.to_vec(),
            locals: vec![],
        }
    }

    #[test]
    fn matches_by_label_first_then_position_and_kind() {
        let a = info(LoopKind::While, Some("serve"), &[0]);
        // b moved the labelled loop to second place.
        let b = [
            info(LoopKind::For, None, &[0]),
            info(LoopKind::While, Some("serve"), &[1]),
        ];
        assert_eq!(match_loop(&a, &b).map(|l| &l.path), Some(&vec![1]));
        // Unlabelled: same position and kind.
        let a = info(LoopKind::For, None, &[0, 1]);
        let b = [info(LoopKind::For, None, &[0, 1])];
        assert!(match_loop(&a, &b).is_some());
        // Another kind at the same place is no match.
        let b = [info(LoopKind::Do, None, &[0, 1])];
        assert!(match_loop(&a, &b).is_none());
        // A label of another kind is no match (no fallback past a label hit).
        let a = info(LoopKind::While, Some("serve"), &[0]);
        let b = [info(LoopKind::Do, Some("serve"), &[0])];
        assert!(match_loop(&a, &b).is_none());
        // Two different labels at the same place are different loops.
        let b = [info(LoopKind::While, Some("other"), &[0])];
        assert!(match_loop(&a, &b).is_none());
    }

    fn l(slot: u32, name: &str, s: Scalar) -> (u32, String, LocalTy) {
        (slot, name.to_string(), LocalTy::Scalar(s))
    }

    #[test]
    fn maps_copy_convert_new_and_dropped() {
        let a = [
            l(0, "i", Scalar::I32),
            l(1, "n", Scalar::I32),
            l(2, "old", Scalar::I32),
        ];
        let b = [
            l(0, "n", Scalar::F64),
            l(1, "i", Scalar::I32),
            l(2, "total", Scalar::I32),
            l(3, "fresh", Scalar::I32),
        ];
        let m = map_locals(&a, &b, |s| (s == 2).then_some(Const::Int(7)));
        assert_eq!(
            m.sources,
            vec![
                LocalSource::Convert {
                    slot: 1,
                    from: Scalar::I32,
                    to: Scalar::F64
                },
                LocalSource::Copy(0),
                LocalSource::Init(Const::Int(7)),
                LocalSource::Zero,
            ]
        );
        assert_eq!(m.dropped, vec![2]);
    }

    #[test]
    fn shadowed_names_pair_in_order() {
        let a = [l(0, "x", Scalar::I32), l(1, "x", Scalar::I64)];
        let b = [l(0, "x", Scalar::I32), l(1, "x", Scalar::I64)];
        let m = map_locals(&a, &b, |_| None);
        assert_eq!(m.sources, vec![LocalSource::Copy(0), LocalSource::Copy(1)]);
        assert!(m.dropped.is_empty());
    }

    #[test]
    fn reads_a_constant_initializer() {
        let p = proc_of(
            "int main() { int total = 5; int k = total + 1; int z; while (1) { k++; } return 0; }",
            "main",
        );
        let slot = |n: &str| p.locals.iter().position(|l| l.name == n).unwrap() as u32;
        assert_eq!(constant_init(&p, slot("total")), Some(Const::Int(5)));
        assert_eq!(constant_init(&p, slot("k")), None);
        // The checker zero-fills a declaration without initializer.
        assert_eq!(constant_init(&p, slot("z")), Some(Const::Int(0)));
    }
}
