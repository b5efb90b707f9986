//! The execution gate: the automated breakers in the order the World consults them.
//!
//! Order: kill switch → error-budget freeze → per-agent breaker → rate limiter →
//! blast-radius guard, as `BreakerKind::ALL` lists them (see `breaker`'s module docs for
//! why); `check` walks that list with an exhaustive match, so a new kind cannot be left
//! out of the consultation. Every block is labelled
//! with the truth by the World's trace (true block: the change was defective; false
//! block: a good change lost or delayed). The gate itself never looks at the truth, except
//! through the risk classifier, whose error rates are configured.

use std::collections::BTreeMap;

use crate::engine::time::MS_PER_HOUR;
use crate::engine::{SimDuration, SimTime};
use crate::model::breaker::{
    self, AgentBreaker, BreakerKind, BreakerState, ErrorBudget, GuardDecision, KillSwitch, Permit,
    TokenBucket, Transition,
};
use crate::model::config::{ActionClass, BreakerConfig, FailureKinds};

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
        /// When to try again (`SimTime::NEVER` when only an event can release it).
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
    /// Action class.
    pub(crate) class: ActionClass,
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

/// Breaker state of one run.
pub(crate) struct Gate {
    cfg: BreakerConfig,
    agent_breakers: Vec<AgentBreaker>,
    agent_buckets: Vec<TokenBucket>,
    service_buckets: BTreeMap<u32, TokenBucket>,
    error_budget: Option<ErrorBudget>,
    kill_switch: Option<KillSwitch>,
    agents: u32,
    frozen: bool,
    halted: bool,
}

impl Gate {
    pub(crate) fn new(cfg: &BreakerConfig, agents: u32) -> Gate {
        Gate {
            cfg: cfg.clone(),
            agent_breakers: cfg
                .agent
                .map(|a| (0..agents).map(|_| AgentBreaker::new(&a)).collect())
                .unwrap_or_default(),
            agent_buckets: cfg
                .rate_limit
                .and_then(|r| r.per_agent)
                .map(|r| (0..agents).map(|_| TokenBucket::new(&r)).collect())
                .unwrap_or_default(),
            service_buckets: BTreeMap::new(),
            error_budget: cfg.error_budget.as_ref().map(ErrorBudget::new),
            kill_switch: cfg.kill_switch.as_ref().map(KillSwitch::new),
            agents,
            frozen: false,
            halted: false,
        }
    }

    /// Adds one more agent (index `agents`): for callers that learn their agents as they
    /// go, like `audit` reading a log.
    pub(crate) fn add_agent(&mut self) -> u32 {
        if let Some(a) = self.cfg.agent {
            self.agent_breakers.push(AgentBreaker::new(&a));
        }
        if let Some(r) = self.cfg.rate_limit.and_then(|r| r.per_agent) {
            self.agent_buckets.push(TokenBucket::new(&r));
        }
        self.agents += 1;
        self.agents - 1
    }

    /// Whether time-based breakers need an hourly tick.
    pub(crate) fn needs_tick(&self) -> bool {
        self.error_budget.is_some() || self.kill_switch.is_some()
    }

    /// The noisy estimate of the share of users an action on a target could hit: the true
    /// reverse reach times lognormal noise with median 1 (the guard's σ; exact without a
    /// guard).
    pub(crate) fn predicted_users(&self, reach: f64, z: f64) -> f64 {
        let sigma = self.cfg.blast_guard.map_or(0.0, |g| g.estimate_noise);
        breaker::predict(reach, sigma, z)
    }

    /// Consults every breaker about `action` at `now`, in `BreakerKind::ALL` order, and
    /// stops at the first that says no. Also returns the per-agent breaker's transition
    /// (agent, change) if consulting it half-opened it. Inlined with its helpers so the walk
    /// over the constant `ALL` unrolls into the straight sequence of checks (one per agent
    /// action: the hot path).
    #[inline]
    pub(crate) fn check(
        &mut self,
        now: SimTime,
        action: &Action,
    ) -> (Verdict, Option<(u32, Transition)>) {
        let mut transition = None;
        for kind in BreakerKind::ALL {
            let stop = match kind {
                BreakerKind::KillSwitch => self.kill_switch_holds(now, action),
                BreakerKind::ErrorBudget => self.error_budget_holds(now, action),
                BreakerKind::Agent => self.agent_holds(now, action, &mut transition),
                BreakerKind::RateLimit => self.rate_limit_holds(now, action),
                BreakerKind::BlastGuard => self.blast_guard_stops(action),
            };
            if let Some(verdict) = stop {
                return (verdict, transition);
            }
        }
        let flagged = match (
            action.agent,
            self.cfg.agent.and_then(|a| a.failures.classifier),
        ) {
            (Some(_), Some(rates)) => breaker::flags(action.defective, rates, action.classifier_u),
            _ => false,
        };
        (Verdict::Pass { flagged }, transition)
    }

    /// The kill switch holds an agent it halts.
    #[inline(always)]
    fn kill_switch_holds(&self, now: SimTime, action: &Action) -> Option<Verdict> {
        let (ks, agent) = (self.kill_switch.as_ref()?, action.agent?);
        let until = ks.halted(now, agent)?;
        Some(Verdict::Hold {
            breaker: BreakerKind::KillSwitch,
            until,
        })
    }

    /// The error-budget freeze holds agents (and humans, if so configured) while frozen,
    /// until its next check (at most an hour).
    #[inline(always)]
    fn error_budget_holds(&self, now: SimTime, action: &Action) -> Option<Verdict> {
        let (eb, cfg) = (self.error_budget.as_ref()?, self.cfg.error_budget.as_ref()?);
        if !((action.agent.is_some() || cfg.humans_too) && eb.frozen(now)) {
            return None;
        }
        let until = eb
            .next_check(now)
            .min(now + SimDuration::from_ms(MS_PER_HOUR));
        Some(Verdict::Hold {
            breaker: BreakerKind::ErrorBudget,
            until,
        })
    }

    /// The per-agent breaker holds an agent it denies; a permit that half-opens it is
    /// reported in `transition`.
    #[inline(always)]
    fn agent_holds(
        &mut self,
        now: SimTime,
        action: &Action,
        transition: &mut Option<(u32, Transition)>,
    ) -> Option<Verdict> {
        let agent = action.agent?;
        let b = self.agent_breakers.get_mut(agent as usize)?;
        let was_open = b.state() == BreakerState::Open;
        match b.permit(now) {
            Permit::Denied { until } => Some(Verdict::Hold {
                breaker: BreakerKind::Agent,
                until,
            }),
            Permit::Allowed => {
                if was_open {
                    *transition = Some((agent, Transition::HalfOpened));
                }
                None
            }
        }
    }

    /// The rate limiter holds an agent out of tokens, per agent first, then per target.
    #[inline(always)]
    fn rate_limit_holds(&mut self, now: SimTime, action: &Action) -> Option<Verdict> {
        let agent = action.agent?;
        let hold = |until| {
            Some(Verdict::Hold {
                breaker: BreakerKind::RateLimit,
                until,
            })
        };
        if let Some(bucket) = self.agent_buckets.get_mut(agent as usize)
            && let Err(next) = bucket.try_take(now)
        {
            return hold(next);
        }
        if let Some(rate) = self.cfg.rate_limit.and_then(|r| r.per_service) {
            let bucket = self
                .service_buckets
                .entry(action.target)
                .or_insert_with(|| TokenBucket::new(&rate));
            if let Err(next) = bucket.try_take(now) {
                return hold(next);
            }
        }
        None
    }

    /// The blast-radius guard drops or escalates a guarded action predicted too big.
    #[inline(always)]
    fn blast_guard_stops(&self, action: &Action) -> Option<Verdict> {
        let guard = self.cfg.blast_guard?;
        if !((action.agent.is_some() || guard.humans_too)
            && guard.classes.contains(action.class)
            && !action.guard_cleared)
        {
            return None;
        }
        match breaker::decide(&guard, action.predicted_users) {
            GuardDecision::Allow => None,
            GuardDecision::Block => Some(Verdict::Drop),
            GuardDecision::Escalate => Some(Verdict::Escalate),
        }
    }

    /// Reports the outcome of an agent's action to its breaker; the breaker's
    /// `FailureKinds` decide whether (and how) it counts.
    pub(crate) fn record(
        &mut self,
        now: SimTime,
        agent: u32,
        outcome: Outcome,
    ) -> Option<(u32, Transition)> {
        let kinds: FailureKinds = self.cfg.agent?.failures;
        let failure = match outcome {
            Outcome::Success => false,
            Outcome::Refused if kinds.refused => true,
            Outcome::Rejected if kinds.rejected => true,
            Outcome::Incident if kinds.incident => true,
            Outcome::Flagged => true,
            Outcome::Refused | Outcome::Rejected | Outcome::Incident => return None,
        };
        let b = self.agent_breakers.get_mut(agent as usize)?;
        Some((agent, b.record(now, failure)?))
    }

    /// An incident was detected.
    pub(crate) fn incident_opened(
        &mut self,
        now: SimTime,
        incident: u32,
        agent: Option<u32>,
        users: f64,
    ) {
        if let Some(eb) = &mut self.error_budget {
            eb.open(incident as u64, now, users);
        }
        if let (Some(ks), Some(a)) = (&mut self.kill_switch, agent) {
            ks.on_incident_open(now, a);
        }
    }

    /// An incident is over.
    pub(crate) fn incident_closed(&mut self, now: SimTime, incident: u32, agent: Option<u32>) {
        if let Some(eb) = &mut self.error_budget {
            eb.close(incident as u64, now);
        }
        if let (Some(ks), Some(a)) = (&mut self.kill_switch, agent) {
            ks.on_incident_closed(now, a);
        }
    }

    /// Re-evaluates time-based breakers: returns (freeze now on?, kill switch now on?) for
    /// whichever changed since the last call.
    pub(crate) fn tick(&mut self, now: SimTime) -> (Option<bool>, Option<bool>) {
        let mut freeze = None;
        if let Some(eb) = &mut self.error_budget {
            eb.update(now);
            let on = eb.frozen(now);
            if on != self.frozen {
                self.frozen = on;
                freeze = Some(on);
            }
        }
        let mut kill = None;
        if let Some(ks) = &self.kill_switch {
            let on = (0..self.agents).any(|a| ks.halted(now, a).is_some());
            if on != self.halted {
                self.halted = on;
                kill = Some(on);
            }
        }
        (freeze, kill)
    }
}
