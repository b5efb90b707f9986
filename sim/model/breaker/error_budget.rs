//! The error-budget freeze: multiwindow burn-rate alerting turned into a change freeze
//! (Google SRE workbook, docs/calibration.md §3.3).
//!
//! The World reports bad periods: `open(id, now, users_share)` when an incident starts
//! costing a share of user traffic, `close(id, now)` when it stops. The bad user-time in a
//! window is `Σ share × overlap(period, window)`, and
//!
//! ```text
//! burn_rate(now, W) = bad user-time in [now − W, now] / (W × (1 − slo))
//! ```
//!
//! so a burn rate of 1 spends the budget exactly as fast as the SLO allows. A `BurnWindow`
//! fires when its long-window burn rate, and its short-window one if it has a short window,
//! are both at least its `burn_rate`; the budget is frozen while any window fires. Early in
//! a run the part of a window before time zero counts as good time, as it would for a
//! service that was healthy before the run began.
//!
//! Overlapping incidents add up, even if they hit the same users; the World decides what
//! share to report. Memory is bounded: a closed period that ended more than the longest
//! window ago can no longer count and is dropped on every mutating call.
//!
//! Freeze accounting (freezes started, total frozen time) is driven by the World's calls
//! to `update` (and `open` / `close`, which update too). It is exact to the millisecond
//! when the World re-checks at every `next_check` hint, since the frozen state cannot change
//! between hints.

use std::collections::VecDeque;

use crate::engine::{SimDuration, SimTime};
use crate::model::config::{BurnWindow, ErrorBudgetConfig};

/// Relative slack on the burn-rate threshold. Thresholds and SLOs are decimals from
/// files (14.4, 0.999), so a burn that hits the threshold exactly in decimal arithmetic
/// (2% of a 30-day budget in one hour is a burn of exactly 14.4) can come out a few ulps
/// short in binary; it must still fire. One part in 10⁹ is far below any meaningful burn.
pub const BURN_TOLERANCE: f64 = 1e-9;

/// One incident's bad period.
#[derive(Clone, Copy, Debug)]
struct BadPeriod {
    id: u64,
    start: SimTime,
    /// `SimTime::NEVER` while the incident is open.
    end: SimTime,
    share: f64,
}

/// The error-budget tracker and freeze. See the module docs.
#[derive(Clone, Debug)]
pub struct ErrorBudget {
    /// `1 − slo`: the tolerated share of bad user-time.
    budget: f64,
    windows: Vec<BurnWindow>,
    /// The longest window (long or short) of any pair: periods older than this are dropped.
    longest: SimDuration,
    /// Bad periods in the order they opened.
    periods: VecDeque<BadPeriod>,
    frozen: bool,
    frozen_since: SimTime,
    frozen_done: SimDuration,
    freezes: u32,
}

impl ErrorBudget {
    /// A tracker with no bad periods.
    ///
    /// Panics if the configuration breaks what scenario validation guarantees: an SLO
    /// strictly between 0 and 1, and windows longer than zero.
    pub fn new(cfg: &ErrorBudgetConfig) -> ErrorBudget {
        assert!(
            cfg.slo > 0.0 && cfg.slo < 1.0,
            "slo must be in (0, 1) (scenario validation)"
        );
        let mut longest = SimDuration::ZERO;
        for w in &cfg.windows {
            assert!(w.long > SimDuration::ZERO, "burn window must be positive");
            longest = longest.max(w.long);
            if let Some(short) = w.short {
                assert!(
                    short > SimDuration::ZERO,
                    "short burn window must be positive"
                );
                longest = longest.max(short);
            }
        }
        ErrorBudget {
            budget: 1.0 - cfg.slo,
            windows: cfg.windows.clone(),
            longest,
            periods: VecDeque::new(),
            frozen: false,
            frozen_since: SimTime::ZERO,
            frozen_done: SimDuration::ZERO,
            freezes: 0,
        }
    }

    /// Incident `id` starts costing `users_share` (in [0, 1]) of user traffic at `now`.
    pub fn open(&mut self, id: u64, now: SimTime, users_share: f64) {
        assert!(
            !self
                .periods
                .iter()
                .any(|p| p.id == id && p.end == SimTime::NEVER),
            "incident {id} opened twice in the error budget"
        );
        self.periods.push_back(BadPeriod {
            id,
            start: now,
            end: SimTime::NEVER,
            share: users_share,
        });
        self.update(now);
    }

    /// Incident `id` stops costing user traffic at `now`.
    pub fn close(&mut self, id: u64, now: SimTime) {
        let period = self
            .periods
            .iter_mut()
            .find(|p| p.id == id && p.end == SimTime::NEVER)
            .unwrap_or_else(|| panic!("incident {id} closed in the error budget but not open"));
        period.end = now.max(period.start);
        self.update(now);
    }

    /// The burn rate over the window `[now − window, now]` (see the module docs).
    pub fn burn_rate(&self, now: SimTime, window: SimDuration) -> f64 {
        if window == SimDuration::ZERO {
            return 0.0;
        }
        let lo = SimTime(now.as_ms().saturating_sub(window.as_ms()));
        let mut bad_ms = 0.0;
        for p in &self.periods {
            let overlap = p.end.min(now).saturating_since(p.start.max(lo));
            bad_ms += p.share * overlap.as_ms() as f64;
        }
        bad_ms / (window.as_ms() as f64 * self.budget)
    }

    /// Whether any burn window fires at `now`.
    pub fn frozen(&self, now: SimTime) -> bool {
        self.windows.iter().any(|w| self.fires(w, now))
    }

    /// Re-evaluates the freeze at `now`, counts a freeze that starts or ends, drops
    /// periods that can no longer count, and returns whether changes are frozen.
    pub fn update(&mut self, now: SimTime) -> bool {
        let frozen = self.frozen(now);
        if frozen && !self.frozen {
            self.freezes += 1;
            self.frozen_since = now;
        } else if !frozen && self.frozen {
            self.frozen_done = self.frozen_done + now.saturating_since(self.frozen_since);
        }
        self.frozen = frozen;
        let longest = self.longest;
        self.periods
            .retain(|p| p.end == SimTime::NEVER || p.end + longest > now);
        frozen
    }

    /// Freezes started so far (as seen by `update`).
    pub fn freezes(&self) -> u32 {
        self.freezes
    }

    /// Total time frozen up to `now` (as seen by `update`).
    pub fn frozen_time(&self, now: SimTime) -> SimDuration {
        if self.frozen {
            self.frozen_done + now.saturating_since(self.frozen_since)
        } else {
            self.frozen_done
        }
    }

    /// Bad periods currently held (open ones plus closed ones still inside a window).
    pub fn periods_held(&self) -> usize {
        self.periods.len()
    }

    /// The earliest time after `now` at which `frozen` may differ from `frozen(now)` if no
    /// incident opens or closes in between; `SimTime::NEVER` if it cannot change.
    ///
    /// Between the moments where a period's start or end enters or leaves a window, every
    /// burn rate is linear in time, so it crosses its threshold at most once; the hint is
    /// the earliest of those moments and of those crossings, rounded down to the
    /// millisecond (early is safe: the World re-checks and asks again), and always at
    /// least one millisecond after `now`.
    pub fn next_check(&self, now: SimTime) -> SimTime {
        let mut next = SimTime::NEVER;
        for w in &self.windows {
            next = next.min(self.next_change(now, w.long, w.burn_rate));
            if let Some(short) = w.short {
                next = next.min(self.next_change(now, short, w.burn_rate));
            }
        }
        next.max(now + SimDuration::from_ms(1))
    }

    fn fires(&self, w: &BurnWindow, now: SimTime) -> bool {
        let threshold = w.burn_rate * (1.0 - BURN_TOLERANCE);
        self.burn_rate(now, w.long) >= threshold
            && w.short
                .is_none_or(|short| self.burn_rate(now, short) >= threshold)
    }

    /// The earliest time after `now` at which the burn over `window` bends or crosses
    /// `burn_rate`.
    fn next_change(&self, now: SimTime, window: SimDuration, burn_rate: f64) -> SimTime {
        let threshold = burn_rate * (1.0 - BURN_TOLERANCE);
        let w = window.as_ms();
        // `lo` is the window's trailing edge; before time zero nothing can leave it.
        let lo = now.as_ms().checked_sub(w);
        let mut bend = SimTime::NEVER;
        let mut slope_share = 0.0;
        for p in &self.periods {
            for edge in [p.start, p.end] {
                if edge == SimTime::NEVER {
                    continue;
                }
                for t in [edge, edge + window] {
                    if t > now {
                        bend = bend.min(t);
                    }
                }
            }
            if p.start <= now && p.end > now {
                slope_share += p.share;
            }
            if let Some(lo) = lo.map(SimTime)
                && p.start <= lo
                && p.end > lo
            {
                slope_share -= p.share;
            }
        }
        // Burn-rate units gained per millisecond until `bend`.
        let slope = slope_share / (w as f64 * self.budget);
        let burn = self.burn_rate(now, window);
        let crossing_ms = if slope > 0.0 && burn < threshold {
            (threshold - burn) / slope
        } else if slope < 0.0 && burn >= threshold {
            (burn - threshold) / -slope
        } else {
            f64::INFINITY
        };
        if crossing_ms.is_finite() {
            bend.min(now + SimDuration::from_ms(crossing_ms.floor() as u64))
        } else {
            bend
        }
    }
}
