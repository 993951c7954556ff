//! What a rollout shows while it runs: a bar on a terminal, plain lines
//! in scripts.

use super::*;

/// Progress: a bar on a terminal, plain lines in scripts.
pub(super) struct Progress {
    bar: Option<ProgressBar>,
    last: Option<Instant>,
    shown: String,
}

impl Progress {
    pub(super) fn new(on_terminal: bool, n: usize) -> Progress {
        let bar = on_terminal.then(|| {
            let b = ProgressBar::new(n as u64);
            if let Ok(style) =
                ProgressStyle::with_template("rollout [{bar:30}] {pos}/{len} {msg} ({elapsed})")
            {
                b.set_style(style.progress_chars("=> "));
            }
            b.enable_steady_tick(Duration::from_millis(200));
            b
        });
        Progress {
            bar,
            last: None,
            shown: String::new(),
        }
    }

    /// Shows the counts; a plain line at most every [`PROGRESS_EVERY`]
    /// unless `force`, and only when they changed.
    pub(super) fn show(&mut self, ctx: &mut Ctx<'_>, rows: &[Row], in_flight: usize, force: bool) {
        let done = rows
            .iter()
            .filter(|r| matches!(r.end, Some(End::Done) | Some(End::Already(_))))
            .count();
        let failed = rows
            .iter()
            .filter(|r| matches!(&r.end, Some(e) if e.failed() || *e == End::Interrupted))
            .count();
        let waiting = rows.len() - done - failed - in_flight;
        let text =
            format!("{done} done, {failed} failed, {in_flight} in flight, {waiting} waiting");
        if let Some(b) = &self.bar {
            b.set_position((done + failed) as u64);
            b.set_message(text);
            return;
        }
        if text == self.shown {
            return;
        }
        if !force && self.last.is_some_and(|t| t.elapsed() < PROGRESS_EVERY) {
            return;
        }
        ctx.line(&format!("rollout progress: {text}"));
        self.shown = text;
        self.last = Some(Instant::now());
    }

    /// A line of news, above the bar.
    pub(super) fn note(&mut self, ctx: &mut Ctx<'_>, text: &str) {
        match &self.bar {
            Some(b) => b.println(text),
            None => ctx.line(text),
        }
    }

    pub(super) fn finish(&mut self) {
        if let Some(b) = self.bar.take() {
            b.finish_and_clear();
        }
    }
}
