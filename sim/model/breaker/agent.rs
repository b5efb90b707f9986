//! The per-agent circuit breaker: a resilience4j-style closed / open / half-open state
//! machine over a sliding window of action outcomes.
//!
//! Semantics (resilience4j `CircuitBreakerConfig`, docs/calibration.md §4.1, rescaled per §4.5):
//!
//! - **Closed**: every action is permitted. Each recorded outcome enters the sliding
//!   window, either the last `n` outcomes (`BreakerWindow::Count`) or the outcomes recorded
//!   in the last `d` (`BreakerWindow::Time`, the half-open interval `(now − d, now]`). Once
//!   the window holds at least `min_actions` outcomes, a failure rate at or above
//!   `failure_rate` trips the breaker. As in resilience4j, the threshold is only evaluated
//!   when an outcome is recorded, never merely because time passed.
//! - **Open** for `open_for`: every action is denied until `open_until`. There is no
//!   automatic move to half-open (resilience4j's default
//!   `automaticTransitionFromOpenToHalfOpenEnabled = false`): the first `permit` at or after
//!   `open_until` moves the breaker to half-open.
//! - **HalfOpen**: `half_open_trials` actions are permitted. Once that many outcomes have
//!   been recorded, a failure rate at or above the threshold trips the breaker again;
//!   otherwise it closes with a fresh, empty window.
//!
//! Like resilience4j, outcomes are not matched to the permits that produced them: an
//! outcome recorded while half-open counts as a trial outcome even if the action was
//! permitted before the trip, and outcomes recorded while open are dropped (resilience4j
//! records them into metrics that are discarded on the move to half-open). Agents' outcomes
//! can arrive hours after the action (an incident's detection), so this matters; it is the
//! reference behaviour, stated here rather than improved upon silently.
//!
//! The breaker is a pure state machine: it never schedules anything. The World asks
//! `permit` before an action and reports each outcome with `record`. Memory is bounded: the
//! count window is a fixed ring allocated once; the time window is a `VecDeque` from which
//! outcomes older than the window are dropped on every call, so after warm-up no call
//! allocates.

use std::collections::VecDeque;

use crate::engine::{SimDuration, SimTime};
use crate::model::breaker::{BreakerState, Transition};
use crate::model::config::{AgentBreakerConfig, BreakerWindow};

/// The answer to "may this agent act now?".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Permit {
    /// The action may go ahead.
    Allowed,
    /// The action is denied; asking again before `until` is pointless.
    Denied {
        /// When it is worth asking again. While open this is exactly the end of the open
        /// period. While half-open with every trial already permitted, the trial outcomes
        /// decide and their arrival time is unknown: the breaker answers `now + open_for`
        /// (at least one millisecond later), the same wait a fresh trip would impose, and
        /// the World should also retry as soon as `record` reports `Transition::Closed`.
        until: SimTime,
    },
}

/// The sliding window of outcomes while closed.
#[derive(Clone, Debug)]
enum Window {
    /// The last `slots.len()` outcomes, in a ring; `true` is a failure.
    Count {
        slots: Vec<bool>,
        /// Index of the oldest outcome.
        head: usize,
        /// Number of outcomes held (at most `slots.len()`).
        len: usize,
    },
    /// The outcomes recorded in `(now − span, now]`, oldest first.
    Time {
        span: SimDuration,
        outcomes: VecDeque<(SimTime, bool)>,
    },
}

/// A per-agent circuit breaker. See the module docs for the semantics.
#[derive(Clone, Debug)]
pub struct AgentBreaker {
    min_actions: u32,
    failure_rate: f64,
    open_for: SimDuration,
    half_open_trials: u32,
    state: BreakerState,
    /// The end of the open period, while open.
    open_until: SimTime,
    window: Window,
    /// Failures currently in the window (closed) or among trial outcomes (half-open).
    failures: u32,
    /// Trial actions permitted since half-opening.
    trials_permitted: u32,
    /// Trial outcomes recorded since half-opening.
    trials_recorded: u32,
    trips: u32,
    /// Open time of the open periods that ended before the current one.
    open_time_done: SimDuration,
    /// Start of the current open period, when open.
    opened_at: SimTime,
}

impl AgentBreaker {
    /// A closed breaker with an empty window.
    ///
    /// Panics if the configuration breaks what the scenario validator guarantees: a count
    /// window of at least one action, a time window longer than zero, at least one
    /// half-open trial.
    pub fn new(cfg: &AgentBreakerConfig) -> AgentBreaker {
        assert!(
            cfg.half_open_trials >= 1,
            "agent breaker needs at least one half-open trial (scenario validation)"
        );
        let window = match cfg.window {
            BreakerWindow::Count(n) => {
                assert!(
                    n >= 1,
                    "agent breaker count window must hold at least one action"
                );
                Window::Count {
                    slots: vec![false; n as usize],
                    head: 0,
                    len: 0,
                }
            }
            BreakerWindow::Time(span) => {
                assert!(
                    span > SimDuration::ZERO,
                    "agent breaker time window must be positive"
                );
                Window::Time {
                    span,
                    outcomes: VecDeque::new(),
                }
            }
        };
        AgentBreaker {
            min_actions: cfg.min_actions,
            failure_rate: cfg.failure_rate,
            open_for: cfg.open_for,
            half_open_trials: cfg.half_open_trials,
            state: BreakerState::Closed,
            open_until: SimTime::ZERO,
            window,
            failures: 0,
            trials_permitted: 0,
            trials_recorded: 0,
            trips: 0,
            open_time_done: SimDuration::ZERO,
            opened_at: SimTime::ZERO,
        }
    }

    /// The current state. An open breaker whose period has ended still reports `Open`
    /// until the next `permit` half-opens it (resilience4j's lazy transition).
    pub fn state(&self) -> BreakerState {
        self.state
    }

    /// The end of the open period while `state` is `Open`.
    pub fn open_until(&self) -> Option<SimTime> {
        (self.state == BreakerState::Open).then_some(self.open_until)
    }

    /// Times the breaker tripped so far.
    pub fn trips(&self) -> u32 {
        self.trips
    }

    /// Total time spent open up to `now`: each open period counts from its trip to its
    /// scheduled end (`open_for`), cut at `now`. It does not depend on when the lazy move to
    /// half-open happens, so two Worlds that ask at different moments account the same.
    pub fn open_time(&self, now: SimTime) -> SimDuration {
        match self.state {
            BreakerState::Open => {
                self.open_time_done + now.min(self.open_until).saturating_since(self.opened_at)
            }
            BreakerState::Closed | BreakerState::HalfOpen => self.open_time_done,
        }
    }

    /// Outcomes in the window as of the last call (closed), or trial outcomes recorded so
    /// far (half-open); zero while open.
    pub fn window_len(&self) -> u32 {
        match self.state {
            BreakerState::Closed => self.window_count(),
            BreakerState::HalfOpen => self.trials_recorded,
            BreakerState::Open => 0,
        }
    }

    /// May the agent act now? While half-open, an `Allowed` answer uses up one trial.
    pub fn permit(&mut self, now: SimTime) -> Permit {
        if self.state == BreakerState::Open {
            let until = self.open_until;
            if now < until {
                return Permit::Denied { until };
            }
            self.half_open();
        }
        match self.state {
            BreakerState::Closed => Permit::Allowed,
            BreakerState::HalfOpen => {
                if self.trials_permitted < self.half_open_trials {
                    self.trials_permitted += 1;
                    Permit::Allowed
                } else {
                    Permit::Denied {
                        until: now + self.retry_wait(),
                    }
                }
            }
            BreakerState::Open => unreachable!("an ended open period was half-opened"),
        }
    }

    /// Records the outcome of an action (`failure` as defined by the breaker's
    /// `FailureKinds`) and reports a trip or a close.
    pub fn record(&mut self, now: SimTime, failure: bool) -> Option<Transition> {
        match self.state {
            // Dropped, as resilience4j discards the open state's metrics.
            BreakerState::Open => None,
            BreakerState::Closed => {
                self.push(now, failure);
                let calls = self.window_count();
                if calls >= self.min_actions && self.rate_reached(self.failures, calls) {
                    Some(self.trip(now))
                } else {
                    None
                }
            }
            BreakerState::HalfOpen => {
                self.trials_recorded += 1;
                self.failures += u32::from(failure);
                if self.trials_recorded < self.half_open_trials {
                    None
                } else if self.rate_reached(self.failures, self.trials_recorded) {
                    Some(self.trip(now))
                } else {
                    self.close();
                    Some(Transition::Closed)
                }
            }
        }
    }

    /// `failures / calls ≥ failure_rate`, computed as resilience4j does (a ratio compared
    /// with the threshold). Dividing two integers gives the double nearest the true ratio,
    /// so a ratio that equals a decimal threshold exactly (3/10 against 0.3) compares
    /// equal; multiplying the threshold instead (0.3 × 10 = 3.0000000000000004) would not.
    fn rate_reached(&self, failures: u32, calls: u32) -> bool {
        calls > 0 && f64::from(failures) / f64::from(calls) >= self.failure_rate
    }

    /// How long a denied half-open action should wait before asking again (never zero, so
    /// a World that retries at `until` cannot spin at one instant).
    fn retry_wait(&self) -> SimDuration {
        self.open_for.max(SimDuration::from_ms(1))
    }

    fn trip(&mut self, now: SimTime) -> Transition {
        let until = now + self.open_for;
        self.state = BreakerState::Open;
        self.open_until = until;
        self.opened_at = now;
        self.trips += 1;
        Transition::Tripped { until }
    }

    fn half_open(&mut self) {
        if self.state == BreakerState::Open {
            self.open_time_done = self.open_time_done + (self.open_until - self.opened_at);
        }
        self.state = BreakerState::HalfOpen;
        self.failures = 0;
        self.trials_permitted = 0;
        self.trials_recorded = 0;
    }

    fn close(&mut self) {
        self.state = BreakerState::Closed;
        self.failures = 0;
        match &mut self.window {
            Window::Count { head, len, .. } => {
                *head = 0;
                *len = 0;
            }
            Window::Time { outcomes, .. } => outcomes.clear(),
        }
    }

    /// Adds an outcome to the closed window, evicting what falls out of it.
    fn push(&mut self, now: SimTime, failure: bool) {
        match &mut self.window {
            Window::Count { slots, head, len } => {
                let cap = slots.len();
                if *len == cap {
                    self.failures -= u32::from(slots[*head]);
                    slots[*head] = failure;
                    *head = (*head + 1) % cap;
                } else {
                    slots[(*head + *len) % cap] = failure;
                    *len += 1;
                }
            }
            Window::Time { span, outcomes } => {
                // Outcomes at or before `now − span` have left `(now − span, now]`.
                while let Some(&(at, old_failure)) = outcomes.front() {
                    if at + *span > now {
                        break;
                    }
                    outcomes.pop_front();
                    self.failures -= u32::from(old_failure);
                }
                outcomes.push_back((now, failure));
            }
        }
        self.failures += u32::from(failure);
    }

    fn window_count(&self) -> u32 {
        match &self.window {
            Window::Count { len, .. } => *len as u32,
            Window::Time { outcomes, .. } => outcomes.len() as u32,
        }
    }
}
