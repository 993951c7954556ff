//! One pup's part of a rollout, on its own connection: begin the update,
//! wait for its end (aborting it if the rollout halts), then for the
//! health line; and the canaries' soak.

use super::*;

/// The update of one pup, on its own connection.
pub(super) fn update_one(job: &Job<'_>, m: &Member) -> (End, String) {
    let mut link = match job.dial.dial(&m.name, m.host.as_deref()) {
        Ok(l) => l,
        Err(e) => return (End::Failed(format!("unreachable: {e}")), "?".into()),
    };
    let end = drive(job, &mut *link);
    let version = match link.call(Request::Status) {
        Ok(Response::Status(s)) => version_words(&s),
        _ => "?".into(),
    };
    if job.health.is_some() && !link.is_closed() {
        let _ = link.call(Request::Output { on: false });
    }
    link.close();
    (end, version)
}

fn lost(e: &str) -> End {
    End::Failed(format!("lost the pup: {e}"))
}

/// Begins the update, waits for its end, then for the health line.
fn drive(job: &Job<'_>, link: &mut dyn Link) -> End {
    if job.health.is_some() {
        match link.call(Request::Output { on: true }) {
            Ok(Response::Error(e)) => return End::Failed(e),
            Ok(_) => {}
            Err(e) => return lost(&e),
        }
    }
    let info = match link.call(Request::Update(job.spec.clone())) {
        Ok(Response::UpdateBegun(i)) => i,
        Ok(Response::WouldReset(r)) => return End::Failed(crate::format::would_reset(&r)),
        Ok(Response::Error(e)) => return End::Failed(e),
        Ok(r) => return End::Failed(format!("unexpected answer: {r:?}")),
        Err(e) => return lost(&e),
    };
    let to = info.to;
    let mut errors: Vec<String> = info
        .failed
        .iter()
        .map(|f| format!("{}: {}", f.members.join(" "), f.error))
        .collect();
    let deadline = job.within.map(|w| Instant::now() + w + WITHIN_SLACK);
    let mut abort_deadline: Option<Instant> = None;
    let (applied, not_applied) = loop {
        if job.interrupted() {
            return End::Interrupted;
        }
        if job.halted() && abort_deadline.is_none() {
            abort_deadline = Some(Instant::now() + ABORT_WAIT);
            if let Err(e) = link.call(Request::Abort) {
                return lost(&e);
            }
        }
        let now = Instant::now();
        if abort_deadline.is_some_and(|d| now >= d) {
            return End::Aborted(
                "aborted (the rollout halted); the pup did not say what it applied".into(),
            );
        }
        if deadline.is_some_and(|d| now >= d) {
            return End::Failed(format!(
                "the update did not end within {}",
                human(job.within.unwrap_or_default())
            ));
        }
        match link.recv_notice(TICK) {
            Some(Notice::UpdateComplete(e)) if e.to == to => {
                // The pup's reason for each abandoned group comes first.
                errors.splice(0..0, e.not_applied.iter().map(|g| g.why.to_string()));
                let not_applied: Vec<Vec<String>> =
                    e.not_applied.into_iter().map(|g| g.members).collect();
                break (e.applied, not_applied);
            }
            Some(Notice::GroupFailed { members, error, .. }) => {
                errors.push(format!("{}: {error}", members.join(" ")))
            }
            Some(Notice::Exited { message, .. }) => {
                return End::Failed(format!("the program ended during the update: {message}"));
            }
            Some(_) => {}
            None if link.is_closed() => return lost("the connection closed during the update"),
            None => {}
        }
    };
    let groups = |g: &[Vec<String>]| g.iter().map(|m| m.join(" ")).collect::<Vec<_>>().join("; ");
    if abort_deadline.is_some() {
        return End::Aborted(format!(
            "aborted (the rollout halted): {} of {} applied",
            plural(applied.len(), "group"),
            applied.len() + not_applied.len()
        ));
    }
    if !not_applied.is_empty() {
        let how = if applied.is_empty() {
            "nothing applied".to_string()
        } else {
            format!("partial: applied {}", groups(&applied))
        };
        let why = if errors.is_empty() {
            String::new()
        } else {
            format!(" ({})", errors.join("; "))
        };
        return End::Failed(format!("{how}; not applied: {}{why}", groups(&not_applied)));
    }
    let Some(re) = &job.health else {
        return End::Done;
    };
    let end = Instant::now() + job.health_within;
    let mut partial: Vec<u8> = Vec::new();
    loop {
        if job.interrupted() {
            return End::Interrupted;
        }
        let now = Instant::now();
        if now >= end {
            return End::Failed(format!(
                "no output line matched {:?} within {} after the update; the update applied, \
                 so the pup stays on version {to} (nothing moves it back)",
                re.as_str(),
                human(job.health_within)
            ));
        }
        match link.recv_notice((end - now).min(TICK)) {
            Some(Notice::Output(bytes)) => {
                partial.extend_from_slice(&bytes);
                while let Some(pos) = partial.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = partial.drain(..=pos).collect();
                    if re.is_match(&String::from_utf8_lossy(&line)) {
                        return End::Done;
                    }
                }
                if partial.len() > MAX_LINE {
                    partial.clear();
                }
            }
            Some(Notice::Exited { message, .. }) => {
                return End::Failed(format!(
                    "the program ended after the update (to version {to}): {message}"
                ));
            }
            Some(_) => {}
            None if link.is_closed() => return lost("the connection closed after the update"),
            None => {}
        }
    }
}

/// The soak: each canary must keep its program running for `d`.
pub(super) fn soak_one(job: &Job<'_>, m: &Member, d: Duration) -> Option<String> {
    let mut link = match job.dial.dial(&m.name, m.host.as_deref()) {
        Ok(l) => l,
        Err(e) => return Some(format!("unreachable during the soak: {e}")),
    };
    let end = Instant::now() + d;
    let mut failed = None;
    while failed.is_none() && !job.interrupted() {
        let now = Instant::now();
        if now >= end {
            break;
        }
        match link.recv_notice((end - now).min(TICK)) {
            Some(Notice::Exited { message, .. }) => {
                failed = Some(format!("the program ended during the soak: {message}"))
            }
            Some(_) => {}
            None if link.is_closed() => failed = Some("lost the pup during the soak".into()),
            None => {}
        }
    }
    if failed.is_none() && !job.interrupted() {
        failed = match link.call(Request::Status) {
            Ok(Response::Status(s)) if s.program.starts_with("running") => None,
            Ok(Response::Status(s)) => Some(format!("after the soak its program is {}", s.program)),
            Ok(r) => Some(format!("unexpected answer after the soak: {r:?}")),
            Err(e) => Some(format!("lost the pup during the soak: {e}")),
        };
    }
    link.close();
    failed
}
