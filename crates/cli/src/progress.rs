//! Progress bars for long runs (fuzzing, long scripts): drawn on stderr with rate and ETA
//! (`indicatif`) only when stderr is a terminal and `--quiet` is not given, so pipes, files,
//! CI logs and snapshot tests never see progress bytes.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// `--quiet`: no progress bars (set once from the command line).
static QUIET: AtomicBool = AtomicBool::new(false);

/// Turns progress bars off for the rest of the process (`--quiet`).
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether progress may be drawn: stderr is a terminal, `TERM` is not `dumb` and no `--quiet`.
pub fn enabled() -> bool {
    !QUIET.load(Ordering::Relaxed)
        && std::io::stderr().is_terminal()
        && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// A progress bar on stderr, or nothing when [`enabled`] is false.
pub struct Bar(Option<ProgressBar>);

impl Bar {
    /// A bar over `total` units (`what`: "cases", "commands"), with rate and ETA.
    pub fn new(total: u64, what: &str) -> Self {
        if !enabled() {
            return Bar(None);
        }
        let pb = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template(&format!(
            "{{bar:30}} {{pos}}/{{len}} {what}  {{per_sec}}  ETA {{eta}}  {{msg}}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        pb.set_style(style);
        pb.enable_steady_tick(Duration::from_millis(200));
        Bar(Some(pb))
    }

    /// No bar at all.
    pub fn new_off() -> Self {
        Bar(None)
    }

    /// A bar over a time budget: the position is the elapsed seconds, the message the count.
    pub fn timed(total: Duration, what: &str) -> Self {
        if !enabled() {
            return Bar(None);
        }
        let pb = ProgressBar::with_draw_target(
            Some(total.as_secs().max(1)),
            ProgressDrawTarget::stderr(),
        );
        let style = ProgressStyle::with_template(&format!(
            "{{bar:30}} {{elapsed}}/{{duration}}  {{msg}} {what}"
        ))
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        pb.set_style(style);
        pb.enable_steady_tick(Duration::from_millis(200));
        Bar(Some(pb))
    }

    /// Whether anything is drawn.
    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }

    /// Sets the position.
    pub fn set_position(&self, pos: u64) {
        if let Some(pb) = &self.0 {
            pb.set_position(pos);
        }
    }

    /// Sets the message shown after the counters.
    pub fn set_message(&self, msg: String) {
        if let Some(pb) = &self.0 {
            pb.set_message(msg);
        }
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        if let Some(pb) = &self.0 {
            pb.finish_and_clear();
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.finish();
    }
}
