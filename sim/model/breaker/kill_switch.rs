//! The incident kill switch: halts every agent, or only the offending one, while an
//! incident is open or for a while after several incidents.
//!
//! The World reports agent-caused incidents as they open and close; the switch says
//! whether an agent is halted and until when. Triggers:
//!
//! - `WhileIncidentOpen`: halted while a relevant incident is open (any agent's incident
//!   for scope `AllAgents`, the agent's own for `Offender`). The halt has no known end, so
//!   `halted` answers `SimTime::NEVER`; the World re-asks when an incident closes.
//! - `AfterIncidents { count, window, halt_for }`: once `count` relevant incidents have
//!   opened within the last `window` (the interval `(now − window, now]`, the same
//!   convention as the agent breaker's time window), halted until `now + halt_for`. The
//!   trip consumes those incidents: another `count` are needed to trip again (extending a
//!   halt still running), so one bad streak halts once rather than on every incident after
//!   the `count`-th.
//!
//! Halt accounting is per halt target: the whole fleet for `AllAgents` (so the total is the
//! wall time agents were halted), each agent for `Offender` (so the total is agent-time).
//! Memory is bounded: per target at most `count − 1` incident times are kept.

use std::collections::VecDeque;

use crate::engine::{SimDuration, SimTime};
use crate::model::config::{KillScope, KillSwitchConfig, KillTrigger};

/// The halt state of one target (the fleet, or one agent).
#[derive(Clone, Debug, Default)]
struct Target {
    /// Relevant incidents open now (`WhileIncidentOpen`).
    open: u32,
    /// Opening times of incidents not yet consumed by a trip (`AfterIncidents`).
    recent: VecDeque<SimTime>,
    /// End of the current timed halt (`AfterIncidents`); `ZERO` when none has started.
    until: SimTime,
    /// Start of the current halt, when halted.
    since: SimTime,
    /// Halt time of halts that ended before the current one.
    done: SimDuration,
    /// Halts started.
    halts: u32,
}

/// The kill switch. See the module docs.
#[derive(Clone, Debug)]
pub struct KillSwitch {
    trigger: KillTrigger,
    scope: KillScope,
    /// One target for `AllAgents`; one per agent id for `Offender` (grown on first sight).
    targets: Vec<Target>,
}

impl KillSwitch {
    /// A switch with nothing halted.
    ///
    /// Panics if `AfterIncidents` has a zero count, which scenario validation rules out.
    pub fn new(cfg: &KillSwitchConfig) -> KillSwitch {
        if let KillTrigger::AfterIncidents { count, .. } = cfg.trigger {
            assert!(
                count >= 1,
                "kill switch needs at least one incident to trip"
            );
        }
        let targets = match cfg.scope {
            KillScope::AllAgents => vec![Target::default()],
            KillScope::Offender => Vec::new(),
        };
        KillSwitch {
            trigger: cfg.trigger,
            scope: cfg.scope,
            targets,
        }
    }

    /// An incident caused by `agent` opened at `now`.
    pub fn on_incident_open(&mut self, now: SimTime, agent: u32) {
        let trigger = self.trigger;
        let target = self.target_mut(agent);
        match trigger {
            KillTrigger::WhileIncidentOpen => {
                if target.open == 0 {
                    target.since = now;
                    target.halts += 1;
                }
                target.open += 1;
            }
            KillTrigger::AfterIncidents {
                count,
                window,
                halt_for,
            } => {
                while target.recent.front().is_some_and(|&at| at + window <= now) {
                    target.recent.pop_front();
                }
                target.recent.push_back(now);
                if target.recent.len() as u32 >= count {
                    target.recent.clear();
                    if now < target.until {
                        // Still halted: the new trip extends the same halt.
                        target.until = target.until.max(now + halt_for);
                    } else {
                        target.done = target.done + (target.until - target.since);
                        target.since = now;
                        target.until = now + halt_for;
                        target.halts += 1;
                    }
                }
            }
        }
    }

    /// An incident caused by `agent` closed at `now`.
    pub fn on_incident_closed(&mut self, now: SimTime, agent: u32) {
        if let KillTrigger::WhileIncidentOpen = self.trigger {
            let target = self.target_mut(agent);
            assert!(
                target.open > 0,
                "kill switch: agent {agent} closed an incident it never opened"
            );
            target.open -= 1;
            if target.open == 0 {
                target.done = target.done + now.saturating_since(target.since);
            }
        }
    }

    /// `None` if `agent` may act at `now`; `Some(until)` if it is halted, with
    /// `SimTime::NEVER` meaning "until the open incident closes".
    pub fn halted(&self, now: SimTime, agent: u32) -> Option<SimTime> {
        let target = self.target(agent)?;
        match self.trigger {
            KillTrigger::WhileIncidentOpen => (target.open > 0).then_some(SimTime::NEVER),
            KillTrigger::AfterIncidents { .. } => (now < target.until).then_some(target.until),
        }
    }

    /// Halts started so far (fleet halts for `AllAgents`, agent halts for `Offender`).
    pub fn halts(&self) -> u32 {
        self.targets.iter().map(|t| t.halts).sum()
    }

    /// Total halt time up to `now`: wall time for `AllAgents`, agent-time for `Offender`.
    pub fn halt_time(&self, now: SimTime) -> SimDuration {
        let mut total = SimDuration::ZERO;
        for t in &self.targets {
            total = total + t.done;
            total = total
                + match self.trigger {
                    KillTrigger::WhileIncidentOpen if t.open > 0 => now.saturating_since(t.since),
                    KillTrigger::WhileIncidentOpen => SimDuration::ZERO,
                    KillTrigger::AfterIncidents { .. } => {
                        now.min(t.until).saturating_since(t.since)
                    }
                };
        }
        total
    }

    fn target(&self, agent: u32) -> Option<&Target> {
        match self.scope {
            KillScope::AllAgents => self.targets.first(),
            KillScope::Offender => self.targets.get(agent as usize),
        }
    }

    fn target_mut(&mut self, agent: u32) -> &mut Target {
        match self.scope {
            KillScope::AllAgents => &mut self.targets[0],
            KillScope::Offender => {
                let index = agent as usize;
                if index >= self.targets.len() {
                    self.targets.resize_with(index + 1, Target::default);
                }
                &mut self.targets[index]
            }
        }
    }
}
