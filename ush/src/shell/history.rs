//! `history` and `revert` (SPEC §4.7): the pup's journal, and the way back.

use std::time::Duration;

use pup_client::proto::{
    EntryKind, EntryOutcome, HistoryRow, JournalState, Request, Response, ReverseModule, RevertSpec,
};

use super::load::{PrepareError, decode_interface, prepare};
use super::{CmdResult, Shell};
use crate::parse::LoadSource;

impl Shell {
    /// `history [--json]`.
    pub(super) fn history(&mut self, json: bool) -> CmdResult {
        let name = self.connected()?;
        let (journal, rows) = match self.call(Request::History)? {
            Response::History { journal, rows } => (journal, rows),
            r => return Err(Self::unexpected(r)),
        };
        if json {
            let text = serde_json::to_string_pretty(&rows)
                .map_err(|e| format!("history: cannot write JSON: {e}"))?;
            self.line(&text);
            return Ok(());
        }
        let mut lines = Vec::new();
        match &journal {
            JournalState::On(path) => lines.push(format!(
                "Journal of program {name}: {path} ({} entr{})",
                rows.len(),
                if rows.len() == 1 { "y" } else { "ies" }
            )),
            JournalState::Off(why) => {
                lines.push(format!("Journal of program {name} is off: {why}"))
            }
        }
        lines.extend(history_lines(&rows));
        self.lines(lines);
        Ok(())
    }

    /// `revert [V] [--changes FILE.uc | --lossy] [--within D] [--atomic]`.
    pub(super) fn revert(
        &mut self,
        to: Option<u64>,
        changes: Option<String>,
        lossy: bool,
        within: Option<Duration>,
        atomic: bool,
    ) -> CmdResult {
        let name = self.connected()?;
        let reverse = match &changes {
            Some(f) => {
                let iface = decode_interface(self.call(Request::Interface)?)?;
                let resolve = |p: &str| self.resolve(p);
                let source = LoadSource::Source(f.clone());
                match prepare("revert", &source, &resolve, iface.as_ref()) {
                    Ok(p) => Some(ReverseModule {
                        object: p.object,
                        source: p.source,
                    }),
                    Err(PrepareError::Compile { file, src }) => {
                        self.sink.err(&src.render(&file, self.settings.color));
                        return Err(format!("revert: {file} does not compile; nothing changed"));
                    }
                    Err(PrepareError::Other(e)) => return Err(e),
                }
            }
            None => None,
        };
        let spec = RevertSpec {
            to,
            lossy,
            reverse,
            within_ms: within.map(|w| w.as_millis() as u64),
            atomic,
        };
        let (to, info, lost) = match self.call(Request::Revert(spec))? {
            Response::Reverted { to, info, lost } => (to, info, lost),
            Response::RevertRefused(why) => return Err(format!("revert: {why}")),
            r => return Err(Self::unexpected(r)),
        };
        let how = if changes.is_some() {
            " with the reverse mprocs of the changes"
        } else {
            ""
        };
        self.line(&format!(
            "Reverting program {name} to version {to}'s code{how}: loaded again as version {}, updating from version {}",
            info.to, info.from
        ));
        if !lost.is_empty() {
            self.line(&format!(
                "revert --lossy: cannot restore what the forward mprocs computed: {} (they start from their initializers or carry over by name)",
                lost.join(", ")
            ));
        }
        self.conn(&name).versions.insert(info.to);
        self.update_begun(&name, info, "revert")
    }
}

/// `2026-12-07 11:02:03` (UTC) of ms since the epoch.
pub(crate) fn when(ms: u64) -> String {
    let secs = (ms / 1000) as i64;
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    // Days to civil date (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}",
        tod / 3600,
        (tod / 60) % 60,
        tod % 60
    )
}

/// The rows of `history` as a table: when, what, versions, outcome, pause.
pub(crate) fn history_lines(rows: &[HistoryRow]) -> Vec<String> {
    let mut table: Vec<[String; 6]> = vec![[
        "#".into(),
        "when (UTC)".into(),
        "what".into(),
        "versions".into(),
        "outcome".into(),
        "pause".into(),
    ]];
    for r in rows {
        let what = match r.kind {
            EntryKind::Load => "load",
            EntryKind::Update => "update",
            EntryKind::Revert => "revert",
            EntryKind::Run => "run",
            EntryKind::Stop => "stop",
            EntryKind::Restore => "restore",
        };
        let of = |v: u64| match r.code_of {
            Some(c) if c != v => format!("{v} (= {c})"),
            _ => v.to_string(),
        };
        let versions = match (r.from, r.version) {
            (Some(f), Some(t)) => format!("{f} -> {}", of(t)),
            (None, Some(0)) => "-".to_string(),
            (None, Some(v)) => of(v),
            _ => "-".to_string(),
        };
        let outcome = match &r.outcome {
            EntryOutcome::Done => match r.kind {
                EntryKind::Load => "loaded".to_string(),
                EntryKind::Run => "started".to_string(),
                EntryKind::Restore => "restored from the journal".to_string(),
                _ => "done".to_string(),
            },
            EntryOutcome::Pending => "pending".to_string(),
            EntryOutcome::Ended {
                ending,
                applied,
                not_applied,
            } => {
                let word = match ending {
                    pup_client::proto::Ending::Complete => "complete",
                    pup_client::proto::Ending::Partial => "partial",
                    pup_client::proto::Ending::NothingApplied => "nothing applied",
                };
                let mut s = format!(
                    "{word} ({applied} group{} applied",
                    if *applied == 1 { "" } else { "s" }
                );
                for g in not_applied {
                    s.push_str(&format!("; {} not applied: {}", g.members.join(" "), g.why));
                }
                s.push(')');
                s
            }
            EntryOutcome::Interrupted => "interrupted: the pup stopped before it ended".into(),
            EntryOutcome::Exited(c) => format!("exited ({c})"),
            EntryOutcome::Stopped => "stopped".into(),
            EntryOutcome::Trapped(m) => {
                format!("runtime error: {}", m.lines().next().unwrap_or_default())
            }
        };
        let who = if r.who.user.is_empty() {
            String::new()
        } else {
            format!(" by {}@{}", r.who.user, r.who.host)
        };
        let pause = r
            .pause_ns
            .map_or_else(String::new, |ns| format!("{:.1} us", ns as f64 / 1000.0));
        table.push([
            r.seq.to_string(),
            when(r.at_ms),
            format!("{what}{who}"),
            versions,
            outcome,
            pause,
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|i| {
            table
                .iter()
                .map(|row| row[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    table
        .iter()
        .map(|row| {
            let cells: Vec<String> = row
                .iter()
                .enumerate()
                .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
                .collect();
            cells.join("  ").trim_end().to_string()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_civil_utc() {
        assert_eq!(when(0), "1970-01-01 00:00:00");
        assert_eq!(when(1_796_727_723_000), "2026-12-08 11:02:03");
    }
}
