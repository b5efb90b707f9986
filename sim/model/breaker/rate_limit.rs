//! The rate limiter: a token bucket per agent or per target service (docs/calibration.md §4.4).
//!
//! A bucket holds at most `burst` tokens, starts full, and gains `tokens` tokens every
//! `per`, continuously. An action takes one token or is refused, and the refusal says
//! exactly when the next token will be there.
//!
//! Arithmetic is exact: the level is kept in integer "token-milliseconds", where one token
//! is worth `per` (in ms) units and every elapsed millisecond adds `tokens` units. A float
//! level would drift over a 90-day horizon and make refusal times depend on rounding.

use crate::engine::{SimDuration, SimTime};
use crate::model::config::TokenRate;

/// A token bucket. See the module docs.
#[derive(Clone, Debug)]
pub struct TokenBucket {
    /// Units one token is worth: the refill period in ms.
    unit: u128,
    /// Units added per elapsed millisecond: tokens per period.
    refill: u128,
    /// Bucket capacity in units: `burst × unit`.
    capacity: u128,
    /// Level in units as of `updated`.
    level: u128,
    updated: SimTime,
    taken: u64,
    refused: u64,
}

impl TokenBucket {
    /// A full bucket at time zero.
    ///
    /// Panics on a zero refill period, which scenario validation rules out.
    pub fn new(rate: &TokenRate) -> TokenBucket {
        assert!(
            rate.per > SimDuration::ZERO,
            "token bucket refill period must be positive"
        );
        let unit = u128::from(rate.per.as_ms());
        let capacity = u128::from(rate.burst) * unit;
        TokenBucket {
            unit,
            refill: u128::from(rate.tokens),
            capacity,
            level: capacity,
            updated: SimTime::ZERO,
            taken: 0,
            refused: 0,
        }
    }

    /// Takes one token, or says when the next one is available (the exact millisecond at
    /// which `try_take` would succeed, if nothing else takes it first). A bucket that can
    /// never hold a token (zero burst, or zero refill and empty) answers `SimTime::NEVER`.
    pub fn try_take(&mut self, now: SimTime) -> Result<(), SimTime> {
        self.refill_to(now);
        if self.level >= self.unit {
            self.level -= self.unit;
            self.taken += 1;
            return Ok(());
        }
        self.refused += 1;
        if self.capacity < self.unit || self.refill == 0 {
            return Err(SimTime::NEVER);
        }
        let wait_ms = (self.unit - self.level).div_ceil(self.refill);
        Err(now + SimDuration::from_ms(u64::try_from(wait_ms).unwrap_or(u64::MAX)))
    }

    /// Whole tokens in the bucket at `now` (does not take any).
    pub fn available(&self, now: SimTime) -> u64 {
        let level = self.level_at(now);
        u64::try_from(level / self.unit).unwrap_or(u64::MAX)
    }

    /// Tokens taken so far.
    pub fn taken(&self) -> u64 {
        self.taken
    }

    /// Refusals so far.
    pub fn refused(&self) -> u64 {
        self.refused
    }

    fn level_at(&self, now: SimTime) -> u128 {
        // Time never runs backwards in a run; an earlier `now` simply adds nothing.
        let elapsed = u128::from(now.saturating_since(self.updated).as_ms());
        (self.level + elapsed * self.refill).min(self.capacity)
    }

    fn refill_to(&mut self, now: SimTime) {
        self.level = self.level_at(now);
        self.updated = self.updated.max(now);
    }
}
