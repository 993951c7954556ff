//! Activeness (SPEC §4.1): which groups old frames on the stack hold back.

use super::Group;
use crate::FrameInfo;
use crate::ids::VersionNo;
use crate::layout::SegType;
use crate::version::Version;

/// The procedures on the stack in frames older than `to`, as indices of
/// the target's module (a procedure the target lacks cannot be reached by
/// its code, so it does not count), deduplicated.
pub(super) fn old_frames(frames: &[FrameInfo], target: &Version, to: VersionNo) -> Vec<usize> {
    let mut old: Vec<usize> = frames
        .iter()
        .filter(|f| f.kind == SegType::Proc && f.version < to)
        .filter_map(|f| target.index.get(&f.name).copied())
        .collect();
    old.sort_unstable();
    old.dedup();
    old
}

/// SPEC §4.1: a group is active if a member is on the stack in an old
/// frame or its new version can reach (δ*) a procedure that is.
pub(super) fn is_active(g: &Group, target: &Version, old: &[usize]) -> bool {
    let hit = |i: usize| old.iter().any(|&q| i == q || target.delta.reaches(i, q));
    if g.pre.idx.len() == g.names.len() {
        return g.pre.idx.iter().any(|&i| hit(i));
    }
    // Not precomputed against this target: look the names up.
    g.names
        .iter()
        .any(|m| target.index.get(m).is_some_and(|&i| hit(i)))
}
