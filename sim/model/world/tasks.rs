//! Tasks and faults: breaker outcomes, failed attempts (retry, escalation, abandonment),
//! injected faults and the end-of-run bookkeeping.

use crate::engine::{Scheduler, SimDuration, SimTime};
use crate::model::breaker::Transition;
use crate::model::change::{Phase, draw, purpose};
use crate::model::config::{AuthorKind, ClassSet, FaultKind};
use crate::model::gate::Outcome;
use crate::model::trace::{TraceEvent, TraceSink};

use super::{Event, Failure, World};

impl<S: TraceSink> World<'_, S> {
    /// Reports a per-agent breaker transition, and lets that agent's parked changes try
    /// again: all of them when the breaker closes, otherwise at the end of the new open
    /// period.
    pub(super) fn emit_transition(
        &mut self,
        transition: Option<(u32, Transition)>,
        sched: &mut Scheduler<Event>,
    ) {
        let Some((agent, transition)) = transition else {
            return;
        };
        let now = sched.now();
        self.emit(
            now,
            TraceEvent::AgentBreaker {
                agent,
                state: transition.state(),
                open_until_ms: transition.open_until().map(SimTime::as_ms),
            },
        );
        match transition {
            Transition::Closed => self.wake_agent(agent, usize::MAX, sched),
            Transition::Tripped { until } => {
                sched.at(until, Event::AgentRecheck { agent });
            }
            Transition::HalfOpened => {}
        }
    }

    /// Parks a change of `agent` behind its open breaker until `until`.
    pub(super) fn park_for_agent(
        &mut self,
        agent: u32,
        slot: u32,
        until: SimTime,
        sched: &mut Scheduler<Event>,
    ) {
        let generation = self.changes[slot as usize].generation;
        let parked = &mut self.agent_parked[agent as usize];
        parked.push_back((slot, generation));
        if parked.len() == 1 && until != SimTime::NEVER {
            sched.at(
                until.max(sched.now() + SimDuration(1)),
                Event::AgentRecheck { agent },
            );
        }
    }

    /// Lets up to `count` of an agent's parked changes (oldest first) pass the gate again.
    pub(super) fn wake_agent(&mut self, agent: u32, count: usize, sched: &mut Scheduler<Event>) {
        let parked = &mut self.agent_parked[agent as usize];
        let n = count.min(parked.len());
        for (slot, generation) in parked.drain(..n).collect::<Vec<_>>() {
            let c = &self.changes[slot as usize];
            if c.generation == generation && c.phase == Phase::Executing {
                sched.at(sched.now(), Event::Execute { slot });
            }
        }
    }

    /// Reports an agent action's outcome to its breaker, once per action.
    pub(super) fn report_outcome(
        &mut self,
        slot: u32,
        outcome: Outcome,
        sched: &mut Scheduler<Event>,
    ) {
        let now = sched.now();
        let c = &mut self.changes[slot as usize];
        if c.outcome_recorded {
            return;
        }
        c.outcome_recorded = true;
        if let Some(agent) = self.authors[c.task.author as usize].agent_index {
            let t = self.gate.record(now, agent, outcome);
            self.emit_transition(t, sched);
        }
    }

    /// Re-evaluates the time-based breakers; when one lifts, parked changes try again.
    pub(super) fn tick_breakers(&mut self, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let (freeze, kill) = self.gate.tick(now);
        if let Some(on) = freeze {
            self.emit(now, TraceEvent::Freeze { on });
        }
        if let Some(on) = kill {
            self.emit(now, TraceEvent::KillSwitch { on });
        }
        if freeze == Some(false) || kill == Some(false) {
            self.unpark(sched);
        }
    }

    /// Makes sure the breakers are re-evaluated at `at` (one event per distinct time).
    pub(super) fn recheck_at(&mut self, at: SimTime, sched: &mut Scheduler<Event>) {
        if self.rechecks.insert(at.as_ms()) {
            sched.at(at, Event::Recheck);
        }
    }

    /// Schedules every parked change to pass the gate again now.
    pub(super) fn unpark(&mut self, sched: &mut Scheduler<Event>) {
        for (slot, generation) in std::mem::take(&mut self.parked) {
            let c = &self.changes[slot as usize];
            if c.generation == generation && c.phase == Phase::Executing {
                sched.at(sched.now(), Event::Execute { slot });
            }
        }
    }

    /// An attempt failed: retry (possibly with a more drastic class) or abandon the task.
    pub(super) fn attempt_failed(&mut self, slot: u32, why: Failure, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let c = &self.changes[slot as usize];
        let g = c.task.group as usize;
        let group = &self.cfg.authors[g];
        let mut task = c.task;
        task.failures += 1;
        let rework_u = c.u[draw::REWORK];
        let escalate_u = c.u[draw::ESCALATE];
        let mut delay = group.rework.delay.sample(&mut c.rng(purpose::REWORK));
        // Rework after a long wait costs more: the author has moved on and must reload
        // the change's context.
        if let Some(cs) = group.flow.context_switch
            && now.saturating_since(c.proposed_at) > cs.after
        {
            delay = SimDuration::from_ms_f64(delay.as_ms() as f64 * cs.factor);
        }
        if task.attempt >= group.max_attempts
            || (why == Failure::Rejected && rework_u >= group.rework.probability)
        {
            self.emit(
                now,
                TraceEvent::Abandoned {
                    task: task.id,
                    tasks: task.tasks,
                },
            );
            self.task_closed(task.author, sched);
            return;
        }
        let mut class = task.class;
        if let Some(e) = group.escalation {
            let p = (e.probability * self.escalation_multiplier[g]).min(1.0);
            if task.failures >= e.after_failures
                && escalate_u < p
                && let Some(next) = class.escalated()
            {
                self.emit(
                    now,
                    TraceEvent::Escalated {
                        task: task.id,
                        from: class,
                        to: next,
                    },
                );
                class = next;
            }
        }
        sched.after(
            delay,
            Event::Attempt {
                task: task.id,
                seed: task.seed,
                author: task.author,
                attempt: task.attempt + 1,
                failures: task.failures,
                class: class as u8,
                started_ms: task.started_at.as_ms(),
                tasks: task.tasks,
            },
        );
    }

    pub(super) fn on_fault(&mut self, index: u32, on: bool, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let fault = &self.cfg.faults[index as usize];
        self.emit(now, TraceEvent::Fault { fault: index, on });
        let agent_groups = |group: Option<usize>| -> Vec<usize> {
            match group {
                Some(g) => vec![g],
                None => (0..self.cfg.authors.len())
                    .filter(|&g| self.cfg.authors[g].kind == AuthorKind::Agent)
                    .collect(),
            }
        };
        match fault.kind {
            FaultKind::ReviewerOutage { group, fraction } => {
                let groups: Vec<usize> = match group {
                    Some(g) => vec![g],
                    None => (0..self.cfg.reviewers.groups.len()).collect(),
                };
                for g in groups {
                    let members = self.reviewers.members(g);
                    let away = (fraction * members.len() as f64).round() as u32;
                    for r in members.start..members.start + away {
                        self.reviewers.reviewers[r as usize].away = on;
                        if on {
                            self.reviewers.make_unavailable(r);
                        } else {
                            self.reviewers.make_idle_if_free(r);
                        }
                    }
                }
                if !on {
                    self.dispatch_reviews(sched);
                }
            }
            FaultKind::PermissionMisconfiguration { group, class } => {
                for g in agent_groups(group) {
                    let p = &mut self.extra_permissions[g];
                    *p = if on {
                        p.with(class)
                    } else {
                        ClassSet(p.0 & !(1 << class.index()))
                    };
                }
            }
            FaultKind::RogueAgentBurst {
                group,
                defect_multiplier,
                escalation_multiplier,
            } => {
                for g in agent_groups(group) {
                    self.defect_multiplier[g] = if on { defect_multiplier } else { 1.0 };
                    self.escalation_multiplier[g] = if on { escalation_multiplier } else { 1.0 };
                }
            }
            FaultKind::MonitoringBlindSpot {
                service_share,
                detection_multiplier,
            } => {
                let below = (service_share * self.graph.len() as f64).round() as u32;
                self.incidents.blind_spot = on.then_some((below, detection_multiplier));
            }
            FaultKind::DependencyDegradation => self.incidents.soft_as_hard = on,
            FaultKind::ResponderShortage { fraction } => {
                let total = self.cfg.incidents.responders;
                self.incidents.responders_away = if on {
                    (fraction * total as f64).round() as u32
                } else {
                    0
                };
                if !on {
                    self.next_waiting_incident(sched);
                }
            }
        }
    }

    /// Closes the books: incidents still open at the horizon count with their impact so
    /// far, cut at the horizon; changes still in flight and review tasks still waiting
    /// are reported with their age, as censored observations.
    pub(super) fn finish(&mut self, sched: &mut Scheduler<Event>) {
        let now = self.horizon;
        for slot in 0..self.changes.len() {
            let c = &self.changes[slot];
            if c.phase == Phase::Done {
                continue;
            }
            let (change, age_ms) = (c.id, now.saturating_since(c.task.started_at).as_ms());
            self.emit(now, TraceEvent::InFlight { change, age_ms });
        }
        let waiting: Vec<(u64, u64)> = self
            .reviewers
            .queued()
            .filter(|t| !self.is_stale(t))
            .map(|t| {
                let c = &self.changes[t.slot as usize];
                (c.id, now.saturating_since(t.queued_at).as_ms())
            })
            .collect();
        for (change, waited_ms) in waiting {
            self.emit(now, TraceEvent::ReviewCensored { change, waited_ms });
        }
        let step = self.cfg.incidents.restart_step;
        for n in 0..self.incidents.incidents.len() {
            let inc = &self.incidents.incidents[n];
            if !inc.detected || inc.restored {
                continue;
            }
            // Repaired but dependents still restarting: the impact is already known.
            // Otherwise count the impact so far, as if everything were back at the horizon.
            let impact = if inc.user_impact_min > 0.0 {
                inc.user_impact_min
            } else {
                inc.blast(self.graph, now, step).user_impact_min
            };
            self.incidents.incidents[n].user_impact_min = impact;
            self.on_restored(n as u32, sched);
        }
    }
}
