//! The terminal progress bar of `run` and `chaos`: a `pipeline::Progress` drawn on stderr
//! when it is a terminal (and not `--quiet`), with the rate rounded for reading.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use crate::pipeline::Progress;

/// A progress bar of runs.
#[derive(Debug)]
pub struct Bar {
    bar: ProgressBar,
}

impl Bar {
    /// A bar drawn only when `wanted` and stderr is a terminal.
    pub fn new(wanted: bool) -> Bar {
        let bar = if wanted && std::io::stderr().is_terminal() {
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
        Bar { bar }
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
