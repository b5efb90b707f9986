//! Simulated time: integer milliseconds since the start of a run.
//!
//! Time is never a float, so event order is total and runs reproduce bit for bit. Human
//! strings ("90s", "30m", "13h", "5d", "2w", "1h 30m") are parsed with `humantime` and printed
//! back in the largest whole units, so `parse(print(d)) == d` for every duration.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// A point in simulated time, in milliseconds since the start of the run.
///
/// Time zero is Monday 00:00 UTC of week one; calendars (working hours) count from there.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of simulated time, in milliseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

/// Milliseconds in one second, minute, hour, day and week.
pub const MS_PER_SECOND: u64 = 1_000;
/// Milliseconds in one minute.
pub const MS_PER_MINUTE: u64 = 60 * MS_PER_SECOND;
/// Milliseconds in one hour.
pub const MS_PER_HOUR: u64 = 60 * MS_PER_MINUTE;
/// Milliseconds in one day.
pub const MS_PER_DAY: u64 = 24 * MS_PER_HOUR;
/// Milliseconds in one week.
pub const MS_PER_WEEK: u64 = 7 * MS_PER_DAY;

impl SimTime {
    /// The start of every run.
    pub const ZERO: SimTime = SimTime(0);
    /// Later than any reachable time; used as "never".
    pub const NEVER: SimTime = SimTime(u64::MAX);

    /// Milliseconds since the start.
    pub fn as_ms(self) -> u64 {
        self.0
    }

    /// Time since the start as a duration.
    pub fn since_start(self) -> SimDuration {
        SimDuration(self.0)
    }

    /// The duration from `earlier` to `self`, or zero if `earlier` is later.
    pub fn saturating_since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }

    /// Hours since the start, for reporting only.
    pub fn as_hours_f64(self) -> f64 {
        self.0 as f64 / MS_PER_HOUR as f64
    }

    /// Days since the start, for reporting only.
    pub fn as_days_f64(self) -> f64 {
        self.0 as f64 / MS_PER_DAY as f64
    }
}

impl SimDuration {
    /// No time at all.
    pub const ZERO: SimDuration = SimDuration(0);

    /// A duration of `n` milliseconds.
    pub const fn from_ms(n: u64) -> Self {
        SimDuration(n)
    }
    /// A duration of `n` seconds.
    pub const fn from_secs(n: u64) -> Self {
        SimDuration(n * MS_PER_SECOND)
    }
    /// A duration of `n` minutes.
    pub const fn from_mins(n: u64) -> Self {
        SimDuration(n * MS_PER_MINUTE)
    }
    /// A duration of `n` hours.
    pub const fn from_hours(n: u64) -> Self {
        SimDuration(n * MS_PER_HOUR)
    }
    /// A duration of `n` days.
    pub const fn from_days(n: u64) -> Self {
        SimDuration(n * MS_PER_DAY)
    }

    /// Converts a non-negative number of milliseconds, rounding to the nearest millisecond.
    ///
    /// Sampled durations come from float distributions; rounding happens here, once, so the
    /// rest of the model only ever sees integers. Non-finite or negative input is clamped.
    pub fn from_ms_f64(ms: f64) -> Self {
        if ms.is_nan() || ms <= 0.0 {
            SimDuration(0)
        } else if ms >= u64::MAX as f64 {
            SimDuration(u64::MAX / 4)
        } else {
            SimDuration(ms.round() as u64)
        }
    }

    /// Milliseconds.
    pub fn as_ms(self) -> u64 {
        self.0
    }
    /// Minutes as a float, for reporting only.
    pub fn as_mins_f64(self) -> f64 {
        self.0 as f64 / MS_PER_MINUTE as f64
    }
    /// Hours as a float, for reporting only.
    pub fn as_hours_f64(self) -> f64 {
        self.0 as f64 / MS_PER_HOUR as f64
    }
    /// Days as a float, for reporting only.
    pub fn as_days_f64(self) -> f64 {
        self.0 as f64 / MS_PER_DAY as f64
    }

    /// Parses a human duration such as "90s", "30m", "13h", "5d", "2w" or "1h 30m".
    ///
    /// The error says what was expected, ready to be shown next to the offending text.
    pub fn parse(text: &str) -> Result<SimDuration, DurationError> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Err(DurationError {
                text: text.to_string(),
                reason: "it is empty".into(),
            });
        }
        if trimmed.chars().all(|c| c.is_ascii_digit()) && trimmed != "0" {
            return Err(DurationError {
                text: text.to_string(),
                reason: "a number needs a unit".into(),
            });
        }
        if trimmed == "0" {
            return Ok(SimDuration::ZERO);
        }
        match humantime::parse_duration(trimmed) {
            Ok(d) => {
                let ms = d.as_millis();
                if d.subsec_nanos() % 1_000_000 != 0 {
                    return Err(DurationError {
                        text: text.to_string(),
                        reason: "the smallest unit is one millisecond".into(),
                    });
                }
                u64::try_from(ms)
                    .map(SimDuration)
                    .map_err(|_| DurationError {
                        text: text.to_string(),
                        reason: "it is too long".into(),
                    })
            }
            Err(e) => Err(DurationError {
                text: text.to_string(),
                reason: e.to_string(),
            }),
        }
    }
}

/// A duration string that could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid duration {text:?}: {reason}; expected a number and a unit such as \"90s\", \"30m\", \"13h\", \"5d\" or \"2w\""
)]
pub struct DurationError {
    /// The text as given.
    pub text: String,
    /// Why it was rejected.
    pub reason: String,
}

impl fmt::Display for SimDuration {
    /// Prints in whole units, largest first: "1d 6h", "90s" prints as "1m 30s", "250ms".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("0s");
        }
        let units: [(u64, &str); 6] = [
            (MS_PER_WEEK, "w"),
            (MS_PER_DAY, "d"),
            (MS_PER_HOUR, "h"),
            (MS_PER_MINUTE, "m"),
            (MS_PER_SECOND, "s"),
            (1, "ms"),
        ];
        let mut rest = self.0;
        let mut first = true;
        for (size, unit) in units {
            if rest >= size {
                let n = rest / size;
                rest %= size;
                if !first {
                    f.write_str(" ")?;
                }
                write!(f, "{n}{unit}")?;
                first = false;
            }
        }
        Ok(())
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t+{}", SimDuration(self.0))
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

impl Sub<SimTime> for SimTime {
    type Output = SimDuration;
    /// The span from `rhs` to `self`; panics in debug builds if `rhs` is later.
    fn sub(self, rhs: SimTime) -> SimDuration {
        debug_assert!(self.0 >= rhs.0, "time went backwards: {} - {}", self, rhs);
        SimDuration(self.0.saturating_sub(rhs.0))
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}
