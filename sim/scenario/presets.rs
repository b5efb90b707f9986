//! Built-in presets: approval policies, per-agent breaker settings, and the few defaults a
//! scenario may leave out. Each value cites its source (docs/calibration.md section) or says
//! that it is an assumption and why.
//!
//! Each preset family is an enum (`PolicyPreset`, `AgentBreakerPreset`) whose `ALL` lists
//! the names and whose exhaustive match builds the value, so a name cannot be listed
//! without a definition.

use crate::engine::SimDuration;
use crate::kind_names;
use crate::model::config::{
    ActionClass, AgentBreakerConfig, AuthorKind, BreakerWindow, ClassSet, Condition, FailureKinds,
    Policy, Requirement, Rule, SeverityMix,
};
use crate::model::dist::{DurationDist, SizeDist};

/// The built-in approval policies (see `PolicyPreset::policy`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PolicyPreset {
    /// No review at all.
    Autonomous,
    /// One review by anyone.
    PeerReview,
    /// Agent changes need a senior, others a peer.
    SeniorSignoff,
    /// Two distinct reviewers for everything.
    TwoPerson,
    /// Review by risk: class, predicted reach, sampling.
    RiskTiered,
}

kind_names!(PolicyPreset, "policy preset", {
    Autonomous => "autonomous",
    PeerReview => "peer-review",
    SeniorSignoff => "senior-signoff",
    TwoPerson => "two-person",
    RiskTiered => "risk-tiered",
});

/// The built-in per-agent breaker settings (see `AgentBreakerPreset::config`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AgentBreakerPreset {
    /// resilience4j rescaled to agent time.
    Resilience4jRescaled,
    /// resilience4j's literal defaults.
    Resilience4jDefaults,
    /// Hystrix's shape, rescaled.
    HystrixLike,
    /// Envoy outlier detection, rescaled.
    EnvoyLike,
}

kind_names!(AgentBreakerPreset, "agent breaker preset", {
    Resilience4jRescaled => "resilience4j-rescaled",
    Resilience4jDefaults => "resilience4j-defaults",
    HystrixLike => "hystrix-like",
    EnvoyLike => "envoy-like",
});

/// Default safety limit on events per run: far above any shipped scenario (a simulated
/// year of `baseline.toml` is a few million events), low enough to stop a runaway run.
pub const EVENTS_MAX_DEFAULT: u64 = 1_000_000_000;

fn rule(when: Condition, require: Requirement) -> Rule {
    Rule { when, require }
}

fn agents() -> Condition {
    Condition {
        author: Some(AuthorKind::Agent),
        ..Condition::default()
    }
}

impl PolicyPreset {
    /// The policy, named after the preset.
    ///
    /// - `autonomous`: no review at all (the agent acts alone).
    /// - `peer-review`: one review by anyone, DORA's recommendation (docs/calibration.md §1.3).
    /// - `senior-signoff`: agent changes need a senior, others a peer; the Amazon March 2026
    ///   response (docs/calibration.md §6.4).
    /// - `two-person`: two distinct reviewers for everything (segregation of duties, §7).
    /// - `risk-tiered`: destructive and infra changes need two people; a predicted reach
    ///   above 5% of users needs a senior; otherwise agent changes are sampled at 10%
    ///   (DESIGN.md sketch; the thresholds are assumptions to sweep).
    pub fn policy(self) -> Policy {
        let rules = match self {
            PolicyPreset::Autonomous => vec![rule(Condition::default(), Requirement::None)],
            PolicyPreset::PeerReview => vec![rule(Condition::default(), Requirement::Peer)],
            PolicyPreset::SeniorSignoff => vec![
                rule(agents(), Requirement::Senior),
                rule(Condition::default(), Requirement::Peer),
            ],
            PolicyPreset::TwoPerson => vec![rule(Condition::default(), Requirement::TwoPerson)],
            PolicyPreset::RiskTiered => vec![
                rule(
                    Condition {
                        classes: Some(
                            ClassSet::EMPTY
                                .with(ActionClass::Destructive)
                                .with(ActionClass::Infra),
                        ),
                        ..Condition::default()
                    },
                    Requirement::TwoPerson,
                ),
                rule(
                    Condition {
                        predicted_users_above: Some(0.05),
                        ..Condition::default()
                    },
                    Requirement::Senior,
                ),
                rule(agents(), Requirement::Sample(0.1)),
            ],
        };
        Policy {
            name: self.name().to_string(),
            rules,
            auto_approve_after: None,
        }
    }
}

/// What counts as a failure unless the scenario says otherwise: every observable bad
/// outcome, and no classifier (docs/calibration.md §4.5 maps "failure" to an action that is
/// rejected, refused or causes an alarm).
pub const FAILURES_DEFAULT: FailureKinds = FailureKinds {
    rejected: true,
    refused: true,
    incident: true,
    classifier: None,
};

impl AgentBreakerPreset {
    /// The breaker settings of the preset.
    pub fn config(self) -> AgentBreakerConfig {
        match self {
            // resilience4j CircuitBreakerConfig.java defaults (docs/calibration.md §4.1): COUNT_BASED
            // window 100, minimumNumberOfCalls 100, failureRateThreshold 50%,
            // waitDurationInOpenState 60 s, permittedNumberOfCallsInHalfOpenState 10. Kept
            // literal for comparison: for an agent at ~10 actions a day it almost never trips
            // (docs/calibration.md §4.5).
            AgentBreakerPreset::Resilience4jDefaults => AgentBreakerConfig {
                window: BreakerWindow::Count(100),
                min_actions: 100,
                failure_rate: 0.5,
                open_for: SimDuration::from_secs(60),
                half_open_trials: 10,
                failures: FAILURES_DEFAULT,
            },
            // ASSUMPTION (docs/calibration.md §4.5 and calibration table): resilience4j semantics
            // rescaled to agent action rates — window 20, minimum 5 actions, open 1 h; the 50%
            // threshold is kept; 2 half-open trials instead of 10 because an agent makes a
            // handful of actions an hour, not thousands of calls. Sweep these.
            AgentBreakerPreset::Resilience4jRescaled => AgentBreakerConfig {
                window: BreakerWindow::Count(20),
                min_actions: 5,
                failure_rate: 0.5,
                open_for: SimDuration::from_hours(1),
                half_open_trials: 2,
                failures: FAILURES_DEFAULT,
            },
            // Hystrix shape (HystrixCommandProperties.java, docs/calibration.md §4.2): a rolling time
            // window, a volume threshold, 50% errors, one trial request after the sleep window.
            // ASSUMPTION: the RPC time scale (10 s window, 5 s sleep, 20 requests) is rescaled
            // to agent time (§4.5) as a 1-day window, 1 h sleep and a volume of 5 actions, so
            // an agent at ~10 actions a day can trip it.
            AgentBreakerPreset::HystrixLike => AgentBreakerConfig {
                window: BreakerWindow::Time(SimDuration::from_days(1)),
                min_actions: 5,
                failure_rate: 0.5,
                open_for: SimDuration::from_hours(1),
                half_open_trials: 1,
                failures: FAILURES_DEFAULT,
            },
            // Envoy outlier detection (outlier_detection.proto, docs/calibration.md §4.3): eject after
            // 5 consecutive failures, modelled as "the last 5 actions all failed". ASSUMPTION:
            // base_ejection_time 30 s rescaled to 30 min (the ×60 of resilience4j-rescaled);
            // one trial on return.
            AgentBreakerPreset::EnvoyLike => AgentBreakerConfig {
                window: BreakerWindow::Count(5),
                min_actions: 5,
                failure_rate: 1.0,
                open_for: SimDuration::from_mins(30),
                half_open_trials: 1,
                failures: FAILURES_DEFAULT,
            },
        }
    }
}

/// The severity mix of a defect of `class` when the scenario gives none.
///
/// ASSUMPTION (no published split found; docs/calibration.md §6 has outage anecdotes only):
/// ordinary defects stay local 70% of the time and cascade 30%; a defective destructive
/// action deletes its environment (the 13-hour case, §6.4); read-only actions can only
/// break locally.
pub fn default_severity(class: ActionClass) -> SeverityMix {
    match class {
        ActionClass::ReadOnly => SeverityMix {
            local: 1.0,
            cascading: 0.0,
            environment_deletion: 0.0,
        },
        ActionClass::Destructive => SeverityMix {
            local: 0.0,
            cascading: 0.0,
            environment_deletion: 1.0,
        },
        ActionClass::Code | ActionClass::Config | ActionClass::Infra => SeverityMix {
            local: 0.7,
            cascading: 0.3,
            environment_deletion: 0.0,
        },
    }
}

/// Change size when the scenario gives none: median 24 lines (Sadowski 2018,
/// docs/calibration.md §2.1); σ = 1.0 is an assumption (the calibration table says to sweep it).
pub fn default_size() -> SizeDist {
    SizeDist {
        median_loc: 24.0,
        sigma: 1.0,
    }
}

/// Rework when the scenario gives none: every rejected task is retried after an
/// exponential delay with mean 2 h. ASSUMPTION: > 80% of Google changes need at most one
/// review iteration (docs/calibration.md §2.1), so a retry is the norm; the delay is unsourced.
pub fn default_rework_delay() -> DurationDist {
    DurationDist::Exponential {
        mean: SimDuration::from_hours(2),
    }
}

/// Attempts per task when the scenario gives none (assumption: a task is retried at most
/// twice, enough for the escalation ladder code → config → infra).
pub const MAX_ATTEMPTS_DEFAULT: u32 = 3;
