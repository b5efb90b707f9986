//! The execution gate: the automated breakers in the order the World consults them.
//!
//! Order: kill switch → error-budget freeze → per-agent breaker → rate limiter →
//! blast-radius guard. The broadest, cheapest halts come first, so a halted agent does not
//! spend a rate-limit token or a half-open trial. Every block is labelled with the truth
//! (true block: the change was defective; false block: a good change lost or delayed).
//!
//! PLACEHOLDER: no breaker is wired yet; every change passes.

use crate::engine::SimTime;
use crate::metrics::{BreakerKind, BreakerState};
use crate::model::config::BreakerConfig;
use crate::model::graph::ServiceGraph;

/// What the gate says about one action.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Verdict {
    /// Go ahead; `flagged` when a risk classifier flagged it (a failure for the breaker).
    Pass {
        /// Flagged risky.
        flagged: bool,
    },
    /// Wait and try again at `until`.
    Hold {
        /// Which breaker holds it.
        breaker: BreakerKind,
        /// When to try again.
        until: SimTime,
    },
    /// Refused for good (the blast-radius guard in block mode).
    Drop,
    /// Sent to a senior reviewer first (the blast-radius guard in escalate mode).
    Escalate,
}

/// What the gate needs to know about an action.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Action {
    /// Index of the agent among the run's agents; `None` for a human.
    pub(crate) agent: Option<u32>,
    /// Target service.
    pub(crate) target: u32,
    /// Latently defective (for the classifier only; the gate never peeks otherwise).
    pub(crate) defective: bool,
    /// Predicted share of users the action could hit.
    pub(crate) predicted_users: f64,
    /// Already cleared by a senior (the guard lets it through).
    pub(crate) guard_cleared: bool,
    /// Uniform draw for the classifier.
    pub(crate) classifier_u: f64,
}

/// How an agent's action ended, as the per-agent breaker sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Deployed without incident.
    Success,
    /// Refused by access control.
    Refused,
    /// Rejected in review.
    Rejected,
    /// Caused an incident.
    Incident,
    /// Flagged risky by the classifier.
    Flagged,
}

/// A per-agent breaker state change to report.
pub(crate) type Transition = Option<(u32, BreakerState)>;

/// Breaker state of one run.
pub(crate) struct Gate {
    noise_sigma: f64,
}

impl Gate {
    pub(crate) fn new(cfg: &BreakerConfig, _agents: u32, _graph: &ServiceGraph) -> Gate {
        Gate {
            noise_sigma: cfg.blast_guard.map_or(0.0, |g| g.estimate_noise),
        }
    }

    /// Whether time-based breakers need an hourly tick.
    pub(crate) fn needs_tick(&self) -> bool {
        false
    }

    /// The noisy estimate of the share of users an action on a target could hit: the true
    /// reverse reach times lognormal noise with median 1 (the guard's σ, 0 without a guard).
    pub(crate) fn predicted_users(&self, reach: f64, z: f64) -> f64 {
        (reach * (self.noise_sigma * z).exp()).clamp(0.0, 1.0)
    }

    /// Consults every breaker about `action` at `now`.
    pub(crate) fn check(&mut self, _now: SimTime, _action: &Action) -> (Verdict, Transition) {
        (Verdict::Pass { flagged: false }, None)
    }

    /// Reports the outcome of an agent's action to its breaker; the breaker's
    /// `FailureKinds` decide whether it counts as a failure.
    pub(crate) fn record(&mut self, _now: SimTime, _agent: u32, _outcome: Outcome) -> Transition {
        None
    }

    /// An incident was detected.
    pub(crate) fn incident_opened(
        &mut self,
        _now: SimTime,
        _incident: u32,
        _agent: Option<u32>,
        _started: SimTime,
        _users: f64,
    ) {
    }

    /// An incident is over.
    pub(crate) fn incident_closed(&mut self, _now: SimTime, _incident: u32, _agent: Option<u32>) {}

    /// Re-evaluates time-based breakers: returns (freeze now on?, kill switch now on?) when
    /// either changed.
    pub(crate) fn tick(&mut self, _now: SimTime) -> (Option<bool>, Option<bool>) {
        (None, None)
    }
}
