//! Checking what comes off the wire before it reaches the VM.

use std::time::Duration;

use vm::{UpdateRequest, VersionNo};

use crate::proto::UpdateSpec;

use super::{MAX_NAME_LEN, MAX_UPDATE_NAMES, MAX_WITHIN_MS};

/// Checks an update request's numbers and names before the VM sees it.
pub(super) fn check_spec(spec: &UpdateSpec) -> Result<UpdateRequest, String> {
    for v in [spec.from, spec.to].into_iter().flatten() {
        check_version(v)?;
    }
    if let Some(ms) = spec.within_ms {
        if ms == 0 {
            return Err("within must be longer than 0".to_string());
        }
        if ms > MAX_WITHIN_MS {
            return Err(format!(
                "within {ms} ms is longer than the limit of {MAX_WITHIN_MS} ms (7 days)"
            ));
        }
    }
    let names = spec
        .changed
        .iter()
        .flatten()
        .chain(spec.together.iter().flatten());
    let mut count = 0usize;
    for n in names {
        count += 1;
        if n.is_empty() || n.len() > MAX_NAME_LEN {
            return Err(format!(
                "procedure name of {} bytes is not a procedure name",
                n.len()
            ));
        }
    }
    if count > MAX_UPDATE_NAMES {
        return Err(format!(
            "the update lists {count} names; at most {MAX_UPDATE_NAMES} are accepted"
        ));
    }
    if spec.together.iter().any(|t| t.is_empty()) {
        return Err("an empty together list".to_string());
    }
    Ok(UpdateRequest {
        from: spec.from.map(VersionNo),
        to: spec.to.map(VersionNo),
        changed: spec.changed.clone(),
        together: spec.together.clone(),
        within: spec.within_ms.map(Duration::from_millis),
        atomic: spec.atomic,
        strict: spec.strict,
    })
}

/// Version numbers start at 1.
pub(super) fn check_version(v: u64) -> Result<(), String> {
    if v == 0 {
        Err("version numbers start at 1".to_string())
    } else {
        Ok(())
    }
}
