//! `test-update`: the sweep over update points, judging each run against
//! the versions' own runs and rendering what failed.

use super::mode::Commit;
use super::{Config, MAX_OUTPUT, Run, Which, run_one};
use crate::runtime::ExitStatus;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

/// Output cut into records: (first line number, 1-based; bytes).
pub fn records<'a>(out: &'a [u8], start: &dyn Fn(&str) -> bool) -> Vec<(usize, &'a [u8])> {
    let mut recs = Vec::new();
    let mut begin = 0;
    let mut begin_line = 1;
    let mut pos = 0;
    let mut line = 1;
    while pos < out.len() {
        let end = out[pos..]
            .iter()
            .position(|&b| b == b'\n')
            .map_or(out.len(), |e| pos + e + 1);
        let text = String::from_utf8_lossy(&out[pos..end]);
        if pos > begin && start(text.trim_end_matches(['\n', '\r'])) {
            recs.push((begin_line, &out[begin..pos]));
            begin = pos;
            begin_line = line;
        }
        pos = end;
        line += 1;
    }
    if begin < out.len() {
        recs.push((begin_line, &out[begin..]));
    }
    recs
}

/// The verdict on one update point.
#[derive(Clone, Debug)]
pub struct PointResult {
    /// The safepoint number.
    pub point: u64,
    /// Stack and waiting groups at the point (the distinct-state key).
    pub state: (Vec<String>, Vec<Vec<String>>),
    /// Why it failed (`None`: passed).
    pub failure: Option<String>,
    /// Only noted (`--allow-pending`).
    pub note: Option<String>,
    /// The first offending record, with its index and line.
    pub offending: Option<(usize, usize, String)>,
    /// The run (without its output, which was judged and dropped).
    pub run: Run,
}

/// What `test-update` found.
#[derive(Clone, Debug)]
pub struct Summary {
    /// Points tested.
    pub tested: usize,
    /// Distinct states among them.
    pub distinct: usize,
    /// Points that failed.
    pub failed: usize,
    /// Every point, in order.
    pub points: Vec<PointResult>,
    /// Safepoints the OLD run reaches in the first half of `--for`.
    pub candidates: u64,
}

impl Summary {
    /// The summary line.
    pub fn line(&self) -> String {
        format!(
            "test-update: {} update points tested ({} distinct states): {} failed",
            self.tested, self.distinct, self.failed
        )
    }
}

fn secs(ms: u64) -> String {
    format!("{}.{:03}s", ms / 1000, ms % 1000)
}

fn describe_trap(what: &str, cfg: &Config, st: &ExitStatus) -> Option<String> {
    match st {
        ExitStatus::Error(e) => Some(format!(
            "the {what} reference run traps: {e}fix {} or give a shorter --for",
            if what == "OLD" {
                &cfg.old.file
            } else {
                &cfg.new.file
            }
        )),
        ExitStatus::TimedOut => Some(format!("the {what} reference run timed out")),
        _ => None,
    }
}

/// Choose at most `n` of the points `1..=p`, spread evenly: one in each
/// of `n` equal strata, at an offset within the stratum that varies from
/// one stratum to the next (the golden-ratio sequence). A fixed offset
/// would alias with a program's period: pizza's 8 safepoints per pizza and
/// a stride that is a multiple of 8 would try one state only.
pub fn choose_points(p: u64, n: usize) -> Vec<u64> {
    let n = n as u64;
    if p <= n {
        return (1..=p).collect();
    }
    const PHI_FRAC: f64 = 0.618_033_988_749_895;
    (0..n)
        .map(|i| {
            let (lo, hi) = (i * p / n, (i + 1) * p / n);
            let off = ((i as f64 * PHI_FRAC).fract() * (hi - lo) as f64) as u64;
            1 + lo + off.min(hi - lo - 1)
        })
        .collect()
}

/// Run the reference runs, then one updated run per chosen point (on
/// `cfg.threads` threads), check the records and write the report to `out`.
pub fn test_update(cfg: &Config, out: &mut dyn Write) -> Result<Summary, String> {
    let (old, new) = std::thread::scope(|s| {
        let o = s.spawn(|| run_one(cfg, Which::Old));
        let n = s.spawn(|| run_one(cfg, Which::New));
        (
            o.join()
                .unwrap_or_else(|_| Err("the OLD run panicked".into())),
            n.join()
                .unwrap_or_else(|_| Err("the NEW run panicked".into())),
        )
    });
    let (old, new) = (old?, new?);
    if let Some(e) = &old.plan_error {
        return Err(match &cfg.changes_file {
            Some(c) => format!(
                "the update {c} does not fit {} -> {}: {e}; fix {c}",
                cfg.old.file, cfg.new.file
            ),
            None => format!(
                "NEW {} does not fit OLD {}: {e}",
                cfg.new.file, cfg.old.file
            ),
        });
    }
    for (what, r) in [("OLD", &old), ("NEW", &new)] {
        if let Some(e) = describe_trap(what, cfg, &r.status) {
            return Err(e);
        }
        if r.capped {
            return Err(format!(
                "the {what} reference run reached {} safepoints at virtual time {} without reaching its horizon ({}): virtual time advances only in sleep_ms; give a shorter --for or a program that sleeps",
                cfg.max_safepoints,
                secs(r.clock_ms),
                secs(cfg.run_for_ms * 2)
            ));
        }
        if r.output_capped {
            return Err(format!(
                "the {what} reference run printed more than {} MiB; give a shorter --for",
                MAX_OUTPUT >> 20
            ));
        }
    }
    if !old
        .output
        .split(|&b| b == b'\n')
        .any(|l| (cfg.record_start)(&String::from_utf8_lossy(l)))
    {
        return Err(format!(
            "--records {:?} matches no line of what OLD {} prints in {}, so there would be no records to check; give a regular expression that matches the first line of each record",
            cfg.records_text,
            cfg.old.file,
            secs(cfg.run_for_ms * 2)
        ));
    }
    let candidates = old.before_half;
    if candidates == 0 {
        return Err(format!(
            "OLD {} reaches no safepoint before {} of virtual time, so there is nowhere to begin the update; give a longer --for",
            cfg.old.file,
            secs(cfg.run_for_ms / 2)
        ));
    }
    let chosen = choose_points(candidates, cfg.points.max(1));
    let ended = if old.ended() {
        format!(" (it ends at {})", secs(old.clock_ms))
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "test-update: OLD {} reaches {candidates} safepoints in the first {} of --for {}{ended}; testing {} of them on {}",
        cfg.old.file,
        secs(cfg.run_for_ms / 2),
        secs(cfg.run_for_ms),
        chosen.len(),
        match cfg.threads.max(1).min(chosen.len()) {
            1 => "1 thread".to_string(),
            n => format!("{n} threads"),
        }
    );
    let _ = out.flush();

    let start = &*cfg.record_start;
    let mut known: HashSet<&[u8]> = HashSet::new();
    let old_recs = records(&old.output, start);
    let new_recs = records(&new.output, start);
    for r in old_recs.iter().chain(new_recs.iter()) {
        known.insert(r.1);
    }

    // The updated runs, in parallel: each thread takes the next point.
    let next = AtomicUsize::new(0);
    // Each run is judged as soon as it ends and its output dropped, so
    // memory does not grow with the number of points.
    let results: Mutex<Vec<Option<Result<PointResult, String>>>> =
        Mutex::new((0..chosen.len()).map(|_| None).collect());
    std::thread::scope(|s| {
        for _ in 0..cfg.threads.max(1).min(chosen.len()) {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, SeqCst);
                    if i >= chosen.len() {
                        break;
                    }
                    let r = run_one(cfg, Which::Update(chosen[i]))
                        .map(|run| judge(cfg, chosen[i], run, &known));
                    let stop = r.is_err();
                    results.lock().unwrap()[i] = Some(r);
                    if stop {
                        next.store(chosen.len(), SeqCst);
                    }
                }
            });
        }
    });
    let mut points = Vec::with_capacity(chosen.len());
    for r in results.into_inner().unwrap() {
        let Some(r) = r else { continue };
        points.push(r?);
    }

    // Distinct states, and the report: each failing state once in full
    // (its first failing point), then the other points that fail in it.
    let mut first_of: HashMap<&(Vec<String>, Vec<Vec<String>>), usize> = HashMap::new();
    let mut also: HashMap<usize, Vec<String>> = HashMap::new();
    let mut order = Vec::new();
    let mut failed = 0;
    let mut notes = Vec::new();
    for (i, p) in points.iter().enumerate() {
        if let Some(n) = &p.note {
            notes.push(format!("{} ({n})", p.point));
        }
        let Some(why) = &p.failure else { continue };
        failed += 1;
        match first_of.get(&p.state) {
            Some(&f) if points[f].failure.is_some() => {
                let what = match &p.offending {
                    Some((idx, _, _)) => format!("point {} (record {idx})", p.point),
                    None => format!("point {} ({why})", p.point),
                };
                also.entry(f).or_default().push(what);
            }
            _ => {
                first_of.insert(&p.state, i);
                order.push(i);
            }
        }
    }
    for &i in &order {
        let _ = write!(
            out,
            "{}",
            render_failure(cfg, &points[i], candidates, &old_recs, &new_recs)
        );
        if let Some(a) = also.get(&i) {
            let _ = writeln!(
                out,
                "  the same state fails at {}:{}",
                more_points(a.len()),
                point_list(a)
            );
        }
    }
    let distinct: HashSet<&(Vec<String>, Vec<Vec<String>>)> =
        points.iter().map(|p| &p.state).collect();
    let distinct = distinct.len();
    if !notes.is_empty() {
        let _ = writeln!(
            out,
            "note: the update was still pending at the end of the run at {} (allowed by --allow-pending):{}",
            points_n(notes.len()),
            point_list(&notes)
        );
    }
    let summary = Summary {
        tested: points.len(),
        distinct,
        failed,
        points,
        candidates,
    };
    let _ = writeln!(out, "{}", summary.line());
    let _ = out.flush();
    Ok(summary)
}

fn judge(cfg: &Config, point: u64, run: Run, known: &HashSet<&[u8]>) -> PointResult {
    let state = match &run.begun {
        Some(b) => (b.stack.clone(), b.waiting.clone()),
        None => (vec![], vec![]),
    };
    let mut failure = None;
    let mut note = None;
    let mut offending = None;
    let recs = records(&run.output, &*cfg.record_start);
    let upto = if run.ended() {
        recs.len()
    } else {
        recs.len().saturating_sub(1)
    };
    if let Some((i, (line, r))) = recs[..upto]
        .iter()
        .enumerate()
        .find(|(_, (_, r))| !known.contains(r))
    {
        offending = Some((i + 1, *line, String::from_utf8_lossy(r).into_owned()));
        failure = Some(format!(
            "record {} (output line {line}) is in neither reference run",
            i + 1
        ));
    }
    if let Some(e) = &run.plan_error {
        failure = Some(format!("the update could not begin: {e}"));
    } else if run.begun.is_none() {
        failure = Some(format!(
            "the run ended at safepoint {} before reaching the update point",
            run.safepoints
        ));
    }
    if let ExitStatus::Error(e) = &run.status {
        failure = Some(format!("the run traps: {}", e.message));
    }
    let abandoned: Vec<&Commit> = run.commits.iter().filter(|c| !c.applied).collect();
    let failed_at_begin = run.begun.as_ref().map_or(0, |b| b.failed.len());
    if failure.is_none() && (failed_at_begin > 0 || !abandoned.is_empty()) {
        let mut what: Vec<String> = run
            .begun
            .iter()
            .flat_map(|b| b.failed.iter())
            .map(|(m, e)| format!("{{{}}}: {e}", m.join(" ")))
            .collect();
        what.extend(
            abandoned
                .iter()
                .map(|c| format!("{{{}}} at safepoint {}", c.members.join(" "), c.point)),
        );
        let msg = format!("the update was not applied in full: {}", what.join("; "));
        if abandoned.len() == what.len() && cfg.allow_pending {
            note = Some(msg);
        } else {
            failure = Some(msg);
        }
    }
    if failure.is_none() && !run.waiting_at_end.is_empty() && !run.ended() {
        let w: Vec<String> = run
            .waiting_at_end
            .iter()
            .map(|m| format!("{{{}}}", m.join(" ")))
            .collect();
        let msg = format!(
            "the update is still pending at the end of the run ({}): {} waiting",
            secs(run.clock_ms),
            w.join(" ")
        );
        if cfg.allow_pending {
            note = Some(msg);
        } else {
            failure = Some(msg);
        }
    }
    let mut run = run;
    run.output = Vec::new();
    PointResult {
        point,
        state,
        failure,
        note,
        offending,
        run,
    }
}

/// How alike two records are: shared lines, then common prefix length.
fn likeness(a: &[u8], b: &[u8]) -> (usize, usize) {
    let la: Vec<&[u8]> = a.split(|&c| c == b'\n').filter(|l| !l.is_empty()).collect();
    let mut lb: Vec<&[u8]> = b.split(|&c| c == b'\n').filter(|l| !l.is_empty()).collect();
    let mut shared = 0;
    for l in la {
        if let Some(i) = lb.iter().position(|x| *x == l) {
            lb.swap_remove(i);
            shared += 1;
        }
    }
    let prefix = a.iter().zip(b).take_while(|(x, y)| x == y).count();
    (shared, prefix)
}

pub(super) fn nearest<'a>(
    rec: &[u8],
    idx: usize,
    recs: &'a [(usize, &'a [u8])],
) -> Option<(usize, &'a [u8])> {
    recs.iter()
        .enumerate()
        .max_by_key(|(i, (_, r))| {
            let (s, p) = likeness(rec, r);
            (s, p, usize::MAX - i.abs_diff(idx))
        })
        .map(|(i, (_, r))| (i + 1, *r))
}

fn quote(text: &[u8]) -> String {
    let mut s = String::new();
    let t = String::from_utf8_lossy(text);
    for (n, l) in t.trim_end_matches('\n').lines().enumerate() {
        if n == 20 {
            s.push_str("    | ...\n");
            break;
        }
        s.push_str("    | ");
        s.push_str(l);
        s.push('\n');
    }
    s
}

fn render_failure(
    cfg: &Config,
    p: &PointResult,
    candidates: u64,
    old_recs: &[(usize, &[u8])],
    new_recs: &[(usize, &[u8])],
) -> String {
    let mut s = String::new();
    let why = p.failure.as_deref().unwrap_or("");
    let at = p
        .run
        .begun
        .as_ref()
        .map(|b| format!(", virtual time {}", secs(b.clock_ms)))
        .unwrap_or_default();
    s.push_str(&format!(
        "FAIL point {} (safepoint {} of {candidates}{at}): {why}\n",
        p.point, p.point
    ));
    if let Some(b) = &p.run.begun {
        let mut stack: Vec<&str> = b.stack.iter().map(String::as_str).collect();
        stack.reverse();
        s.push_str(&format!("  stack: {}\n", stack.join(" > ")));
        let committed = if b.committed.is_empty() {
            "nothing".to_string()
        } else {
            b.committed.join(" ")
        };
        let waiting: Vec<String> = b
            .waiting
            .iter()
            .map(|m| format!("{{{}}}", m.join(" ")))
            .collect();
        s.push_str(&format!(
            "  safepoint {}: update begins; committed at once: {committed}; waiting: {}\n",
            b.point,
            if waiting.is_empty() {
                "nothing".to_string()
            } else {
                waiting.join(" ")
            }
        ));
        for (m, e) in &b.failed {
            s.push_str(&format!("  group {{{}}} failed: {e}\n", m.join(" ")));
        }
    }
    for c in &p.run.commits {
        s.push_str(&format!(
            "  after safepoint {} ({}): {} {{{}}}\n",
            c.point,
            secs(c.clock_ms),
            if c.applied {
                "committed"
            } else {
                "not applied"
            },
            c.members.join(" ")
        ));
    }
    if let Some((idx, line, text)) = &p.offending {
        s.push_str(&format!(
            "  first offending record (record {idx}, output line {line}), in neither reference run:\n"
        ));
        s.push_str(&quote(text.as_bytes()));
        for (what, recs, file) in [
            ("OLD", old_recs, &cfg.old.file),
            ("NEW", new_recs, &cfg.new.file),
        ] {
            if let Some((i, r)) = nearest(text.as_bytes(), *idx, recs) {
                s.push_str(&format!(
                    "  nearest record of the {what} run ({file}, record {i}):\n"
                ));
                s.push_str(&quote(r));
            }
        }
    }
    if let ExitStatus::Error(e) = &p.run.status {
        for l in e.to_string().lines() {
            s.push_str(&format!("  {l}\n"));
        }
    }
    s
}

/// Points listed per line in a report, and lines shown at most before the
/// rest is summarised: 199 points on one line could not be read.
const POINTS_PER_LINE: usize = 8;
const POINT_LINES: usize = 4;

/// "1 point" / "N points".
fn points_n(n: usize) -> String {
    if n == 1 {
        "1 point".into()
    } else {
        format!("{n} points")
    }
}

/// "1 more point" / "N more points".
fn more_points(n: usize) -> String {
    if n == 1 {
        "1 more point".into()
    } else {
        format!("{n} more points")
    }
}

/// The points, wrapped at [`POINTS_PER_LINE`] a line (each line starts on a
/// new line, indented), at most [`POINT_LINES`] lines, then "... and N more".
fn point_list(items: &[String]) -> String {
    let mut s = String::new();
    let shown = items.len().min(POINTS_PER_LINE * POINT_LINES);
    for line in items[..shown].chunks(POINTS_PER_LINE) {
        s.push_str("\n    ");
        s.push_str(&line.join(", "));
    }
    if items.len() > shown {
        s.push_str(&format!(
            "\n    ... and {}",
            more_points(items.len() - shown)
        ));
    }
    s
}

#[cfg(test)]
mod listing_tests {
    use super::*;

    #[test]
    fn one_point_is_singular() {
        assert_eq!(more_points(1), "1 more point");
        assert_eq!(more_points(2), "2 more points");
        assert_eq!(points_n(1), "1 point");
        assert_eq!(point_list(&["point 3".to_string()]), "\n    point 3");
    }

    #[test]
    fn many_points_wrap_and_are_summarised() {
        let items: Vec<String> = (0..199).map(|i| format!("point {i}")).collect();
        let s = point_list(&items);
        let lines: Vec<&str> = s.lines().skip(1).collect();
        assert_eq!(lines.len(), POINT_LINES + 1, "{s}");
        assert!(
            lines
                .iter()
                .all(|l| l.matches("point").count() <= POINTS_PER_LINE)
        );
        assert_eq!(
            lines[0],
            "    point 0, point 1, point 2, point 3, point 4, point 5, point 6, point 7"
        );
        assert_eq!(lines[POINT_LINES], "    ... and 167 more points");
        let s = point_list(&items[..33]);
        assert!(s.ends_with("... and 1 more point"), "{s}");
    }
}
