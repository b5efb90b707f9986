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
//! **false block** (a good change lost or delayed: velocity paid). the metrics collector keeps the
//! two counts per breaker, plus the delay imposed on good changes. The breakers themselves
//! keep their timelines: `AgentBreaker::trips` / `open_time`, `ErrorBudget::freezes` /
//! `frozen_time`, `KillSwitch::halts` / `halt_time`.

pub mod agent;
pub mod blast_guard;
pub mod classifier;
pub mod error_budget;
pub mod kill_switch;
pub mod rate_limit;

pub use agent::{AgentBreaker, BreakerState, Permit, Transition};
pub use blast_guard::{GuardDecision, decide, predict};
pub use classifier::flags;
pub use error_budget::ErrorBudget;
pub use kill_switch::KillSwitch;
pub use rate_limit::TokenBucket;

/// Which breaker stopped an action: one name for traces, metrics and accounting.
pub use crate::metrics::BreakerKind;
