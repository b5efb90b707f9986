//! The terminal progress bar of `run` and `chaos`: a `pipeline::Progress` drawn on stderr
//! when it is a terminal (and not `--quiet`), with the rate rounded for reading, and a
//! line while the charts are drawn. It also carries Ctrl-C to the pipeline: the handler
//! (`catch_interrupt`) only sets a flag, which the pipeline reads between runs.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::pipeline::Progress;

/// Set by the Ctrl-C handler; read by `Bar::interrupted`.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// Makes Ctrl-C (SIGINT, and SIGTERM) set the flag a `Bar` reports instead of killing the
/// process, so the pipeline stops between runs with every journaled run whole. A second
/// installation in the same process (tests) keeps the first handler.
pub fn catch_interrupt() {
    let _ = ctrlc::set_handler(|| INTERRUPTED.store(true, Ordering::SeqCst));
}

/// A progress bar of runs.
#[derive(Debug)]
pub struct Bar {
    bar: ProgressBar,
    /// Whether anything is shown (stderr is a terminal and not `--quiet`).
    shown: bool,
}

impl Bar {
    /// A bar drawn only when `wanted` and stderr is a terminal.
    pub fn new(wanted: bool) -> Bar {
        let shown = wanted && std::io::stderr().is_terminal();
        let bar = if shown {
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr())
        } else {
            ProgressBar::hidden()
        };
        bar.set_style(
            ProgressStyle::with_template(
                "{bar:40} {pos}/{len} runs  {rate}  elapsed {elapsed}  eta {eta}",
            )
            .expect("the template is valid")
            .with_key("rate", |s: &ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = w.write_str(&rate(s.per_sec()));
            }),
        );
        Bar { bar, shown }
    }
}

impl Progress for Bar {
    fn start(&self, total: u64, done: u64) {
        self.bar.set_length(total);
        self.bar.set_position(done);
    }
    fn advance(&self) {
        self.bar.inc(1);
    }
    fn finish(&self) {
        self.bar.finish_and_clear();
    }
    fn interrupted(&self) -> bool {
        INTERRUPTED.load(Ordering::SeqCst)
    }
    fn drawing(&self) {
        if self.shown {
            eprintln!("drawing charts…");
        }
    }
}

/// Runs per second, to three significant figures at most ("147 runs/s", "3.2 runs/s").
pub fn rate(per_sec: f64) -> String {
    if !per_sec.is_finite() {
        return "- runs/s".to_string();
    }
    if per_sec >= 100.0 {
        format!("{per_sec:.0} runs/s")
    } else if per_sec >= 10.0 {
        format!("{per_sec:.1} runs/s")
    } else {
        format!("{per_sec:.2} runs/s")
    }
}

#[cfg(test)]
mod tests {
    use super::rate;

    #[test]
    fn rates_are_rounded_for_reading() {
        assert_eq!(rate(146.7928), "147 runs/s");
        assert_eq!(rate(14.67928), "14.7 runs/s");
        assert_eq!(rate(1.467928), "1.47 runs/s");
        assert_eq!(rate(f64::INFINITY), "- runs/s");
    }
}
