//! Automated breakers at execution time, each a pure state machine the world consults.
//!
//! No breaker schedules events or owns a clock: each is a struct whose methods take
//! `now: SimTime`, and the World calls them and schedules what they answer (a retry at
//! the `until` of a denial, a re-check at the error budget's `next_check`). Each call is
//! cheap and allocation-free after warm-up, because the World makes one per agent action.
//!
//! # Order of checks
//!
//! When an agent is about to execute a change, the World consults the breakers in this
//! order and stops at the first that says no (`BreakerKind::ALL` lists them in this order):
//!
//! 1. **Kill switch** (`KillSwitch::halted`): an incident halts agents outright.
//! 2. **Error-budget freeze** (`ErrorBudget::frozen`): the service is over budget; nothing
//!    but incident fixes ships.
//! 3. **Agent breaker** (`AgentBreaker::permit`): this agent has been failing.
//! 4. **Rate limiter** (`TokenBucket::try_take`): this agent or target is going too fast.
//! 5. **Blast-radius guard** (`blast_guard::predict` then `decide`): this one action is
//!    too big.
//!
//! Why this order: the broadest and cheapest halts come first. The first two halt whole
//! classes of actions on state the World already holds, with no per-action work; the agent
//! breaker is per agent; the guard looks at the single action and needs a graph estimate
//! and a random draw. It also keeps the side effects honest: a half-open trial or a token
//! is only spent on an action that the broader halts let through, and an action stopped by
//! the kill switch is not also counted against the rate limit.
//!
//! # Accounting
//!
//! Every block is either a **true block** (the change was defective: safety bought) or a
//! **false block** (a good change lost or delayed: velocity paid). The World labels each
//! `TraceEvent::Blocked` with the truth; the metrics collector keeps the two counts per
//! breaker (indexed by `BreakerKind`), reports their totals (`blocks_true`,
//! `blocks_false`) and the blast-radius guard's and rate limiter's own columns, plus the
//! delay imposed on good changes. The breakers themselves keep their timelines:
//! `AgentBreaker::trips` / `open_time`, `ErrorBudget::freezes` / `frozen_time`,
//! `KillSwitch::halts` / `halt_time`.
//!
//! # The vocabulary
//!
//! `BreakerKind` names the breakers once (`ALL`, `name`, `words`, `from_name`,
//! `configured`); `BreakerState` and `Transition` are the per-agent breaker's states and
//! state changes, as the breaker reports them and the trace records them.

pub mod agent;
pub mod blast_guard;
pub mod classifier;
pub mod error_budget;
pub mod kill_switch;
pub mod rate_limit;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::engine::SimTime;
use crate::model::config::BreakerConfig;

pub use agent::{AgentBreaker, Permit};
pub use blast_guard::{GuardDecision, decide, predict};
pub use classifier::flags;
pub use error_budget::ErrorBudget;
pub use kill_switch::KillSwitch;
pub use rate_limit::TokenBucket;

/// The breakers: one name for scenarios, traces, metrics, accounting and stories.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerKind {
    /// The incident kill switch.
    KillSwitch,
    /// The error-budget freeze.
    ErrorBudget,
    /// The per-agent circuit breaker.
    Agent,
    /// The token-bucket rate limiter.
    RateLimit,
    /// The blast-radius guard.
    BlastGuard,
}

impl BreakerKind {
    /// Every breaker, in the order the World consults them (and in declaration order, so
    /// `index` is the position here).
    pub const ALL: [BreakerKind; 5] = [
        BreakerKind::KillSwitch,
        BreakerKind::ErrorBudget,
        BreakerKind::Agent,
        BreakerKind::RateLimit,
        BreakerKind::BlastGuard,
    ];

    /// The name used in scenario files, traces and CSV columns.
    pub fn name(self) -> &'static str {
        match self {
            BreakerKind::KillSwitch => "kill_switch",
            BreakerKind::ErrorBudget => "error_budget",
            BreakerKind::Agent => "agent",
            BreakerKind::RateLimit => "rate_limit",
            BreakerKind::BlastGuard => "blast_guard",
        }
    }

    /// The name in prose ("the {words} held it").
    pub fn words(self) -> &'static str {
        match self {
            BreakerKind::KillSwitch => "kill switch",
            BreakerKind::ErrorBudget => "error-budget freeze",
            BreakerKind::Agent => "per-agent breaker",
            BreakerKind::RateLimit => "rate limiter",
            BreakerKind::BlastGuard => "blast-radius guard",
        }
    }

    /// The breaker called `name` (as `name` spells it).
    pub fn from_name(name: &str) -> Result<BreakerKind, UnknownBreaker> {
        BreakerKind::ALL
            .into_iter()
            .find(|k| k.name() == name)
            .ok_or_else(|| UnknownBreaker {
                name: name.to_string(),
            })
    }

    /// Position in `ALL`, for per-breaker arrays.
    pub fn index(self) -> usize {
        self as usize
    }

    /// Whether `cfg` turns this breaker on.
    pub fn configured(self, cfg: &BreakerConfig) -> bool {
        match self {
            BreakerKind::KillSwitch => cfg.kill_switch.is_some(),
            BreakerKind::ErrorBudget => cfg.error_budget.is_some(),
            BreakerKind::Agent => cfg.agent.is_some(),
            BreakerKind::RateLimit => cfg.rate_limit.is_some(),
            BreakerKind::BlastGuard => cfg.blast_guard.is_some(),
        }
    }
}

/// A breaker name that `BreakerKind::from_name` does not know.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownBreaker {
    /// The name given.
    pub name: String,
}

impl fmt::Display for UnknownBreaker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let valid: Vec<&str> = BreakerKind::ALL.iter().map(|k| k.name()).collect();
        write!(
            f,
            "unknown breaker `{}`; valid: {}",
            self.name,
            valid.join(", ")
        )
    }
}

impl std::error::Error for UnknownBreaker {}

/// The state of a per-agent breaker (the end of an open period is kept beside it, by
/// `AgentBreaker::open_until` and in the trace's `open_until_ms`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BreakerState {
    /// Actions flow; outcomes fill the sliding window.
    Closed,
    /// Actions are denied until the open period ends; the first `permit` at or after its
    /// end half-opens.
    Open,
    /// A limited number of trial actions decide whether to close or open again.
    HalfOpen,
}

/// A state change of a per-agent breaker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transition {
    /// The breaker tripped (from closed, or from half-open after failed trials).
    Tripped {
        /// The end of the new open period.
        until: SimTime,
    },
    /// The open period was over and a permit half-opened the breaker.
    HalfOpened,
    /// The half-open trials succeeded and the breaker closed with a fresh window.
    Closed,
}

impl Transition {
    /// The state the breaker is in after the change.
    pub fn state(self) -> BreakerState {
        match self {
            Transition::Tripped { .. } => BreakerState::Open,
            Transition::HalfOpened => BreakerState::HalfOpen,
            Transition::Closed => BreakerState::Closed,
        }
    }

    /// The end of the open period, for a trip.
    pub fn open_until(self) -> Option<SimTime> {
        match self {
            Transition::Tripped { until } => Some(until),
            Transition::HalfOpened | Transition::Closed => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_in_declaration_order_and_names_parse_back() {
        for (i, k) in BreakerKind::ALL.into_iter().enumerate() {
            assert_eq!(k.index(), i);
            assert_eq!(BreakerKind::from_name(k.name()), Ok(k));
        }
    }

    #[test]
    fn an_unknown_name_lists_the_valid_ones() {
        let err = BreakerKind::from_name("fuse").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown breaker `fuse`; valid: kill_switch, error_budget, agent, rate_limit, blast_guard"
        );
    }
}
