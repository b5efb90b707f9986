//! Execution and deployment: the breaker gate, direct deployment and staged waves.

use crate::engine::{Scheduler, SimDuration, SimTime};
use crate::model::breaker::BreakerKind;
use crate::model::change::{Phase, draw, purpose};
use crate::model::config::{ActionClass, DeployConfig};
use crate::model::gate::{Action, Outcome, Verdict};
use crate::model::graph::ServiceId;
use crate::model::trace::{TraceEvent, TraceSink};

use super::{Event, Failure, World};

impl<S: TraceSink> World<'_, S> {
    /// A change needs no more review: build and test it (once), then the breakers.
    pub(super) fn approved(&mut self, slot: u32, sched: &mut Scheduler<Event>) {
        let c = &mut self.changes[slot as usize];
        c.queued_at = None;
        match &self.cfg.pipeline.build {
            Some(build) if !c.built => {
                c.built = true;
                c.phase = Phase::Building;
                let d = build.sample(&mut c.rng(purpose::PIPELINE));
                let generation = c.generation;
                sched.after(d, Event::Built { slot, generation });
            }
            _ => {
                c.phase = Phase::Executing;
                self.execute(slot, sched);
            }
        }
    }

    pub(super) fn on_built(&mut self, slot: u32, generation: u32, sched: &mut Scheduler<Event>) {
        let c = &mut self.changes[slot as usize];
        if c.generation != generation || c.phase != Phase::Building {
            return;
        }
        c.phase = Phase::Executing;
        self.execute(slot, sched);
    }

    pub(super) fn on_shipped(&mut self, slot: u32, generation: u32, sched: &mut Scheduler<Event>) {
        let c = &self.changes[slot as usize];
        if c.generation != generation || c.phase != Phase::Deploying {
            return;
        }
        self.deploy(slot, sched);
    }

    /// Runs the breakers; on a pass, deploys.
    pub(super) fn execute(&mut self, slot: u32, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let c = &self.changes[slot as usize];
        if c.phase != Phase::Executing {
            return;
        }
        let author = &self.authors[c.task.author as usize];
        let reach = self.incidents.reach_weight(self.graph, ServiceId(c.target));
        let c = &self.changes[slot as usize];
        let action = Action {
            agent: author.agent_index,
            target: c.target,
            class: c.task.class,
            defective: c.defective,
            predicted_users: self.gate.predicted_users(reach, c.noise_z),
            guard_cleared: c.guard_cleared,
            classifier_u: c.u[draw::CLASSIFIER],
        };
        let (id, defective) = (c.id, c.defective);
        let (verdict, transition) = self.gate.check(now, &action);
        self.emit_transition(transition, sched);
        match verdict {
            Verdict::Pass { flagged } => {
                let c = &mut self.changes[slot as usize];
                if let Some(since) = c.held_since.take() {
                    let held_ms = now.saturating_since(since).as_ms();
                    self.emit(
                        now,
                        TraceEvent::Released {
                            change: id,
                            held_ms,
                            defective,
                        },
                    );
                }
                if flagged {
                    self.report_outcome(slot, Outcome::Flagged, sched);
                }
                match &self.cfg.pipeline.deploy {
                    Some(d) => {
                        let c = &mut self.changes[slot as usize];
                        c.phase = Phase::Deploying;
                        // Its own generator after the build's (the second draw of one
                        // stream would shift if a build time were added or removed).
                        let mut rng = c.rng(purpose::PIPELINE + 16);
                        let d = d.sample(&mut rng);
                        let generation = c.generation;
                        sched.after(d, Event::Shipped { slot, generation });
                    }
                    None => self.deploy(slot, sched),
                }
            }
            Verdict::Hold { breaker, until } => {
                // A hold is counted once per change, when it first stops it: the block is
                // a fact about the change, however many breakers it then waits behind.
                let c = &mut self.changes[slot as usize];
                let first = c.held_since.is_none();
                c.held_since.get_or_insert(now);
                let generation = c.generation;
                // Halts that cover every agent at once (kill switch, freeze) park the change
                // and re-check once for all of them; per-agent holds retry per change.
                let fleet_wide =
                    matches!(breaker, BreakerKind::KillSwitch | BreakerKind::ErrorBudget);
                if fleet_wide && until != SimTime::NEVER {
                    self.recheck_at(until.max(now + SimDuration(1)), sched);
                }
                let retry = (!fleet_wide && until != SimTime::NEVER)
                    .then(|| until.max(now + SimDuration(1)));
                if first {
                    self.emit(
                        now,
                        TraceEvent::Blocked {
                            change: id,
                            breaker,
                            defective,
                            retry_at_ms: retry.map(SimTime::as_ms),
                            escalated: false,
                        },
                    );
                }
                let agent =
                    self.authors[self.changes[slot as usize].task.author as usize].agent_index;
                match (retry, agent) {
                    (Some(_), Some(agent)) if breaker == BreakerKind::Agent => {
                        self.park_for_agent(agent, slot, until, sched);
                    }
                    (Some(at), _) => {
                        sched.at(at, Event::Execute { slot });
                    }
                    // Released when the halt lifts (an incident closes, a freeze ends):
                    // parked instead of polled.
                    (None, _) => self.parked.push((slot, generation)),
                }
            }
            Verdict::Drop | Verdict::Escalate => {
                let escalated = verdict == Verdict::Escalate;
                self.emit(
                    now,
                    TraceEvent::Blocked {
                        change: id,
                        breaker: BreakerKind::BlastGuard,
                        defective,
                        retry_at_ms: None,
                        escalated,
                    },
                );
                if escalated {
                    self.request_reviews(slot, 1, true, sched);
                } else {
                    self.attempt_failed(slot, Failure::Blocked, sched);
                    self.release(slot);
                }
            }
        }
    }

    /// Deploys an approved change, directly or in waves.
    pub(super) fn deploy(&mut self, slot: u32, sched: &mut Scheduler<Event>) {
        let c = &mut self.changes[slot as usize];
        c.phase = Phase::Deploying;
        let staged = matches!(self.cfg.deploy, DeployConfig::Waves(_))
            && c.task.class != ActionClass::Destructive;
        if !staged {
            if c.defective {
                self.start_incident(slot, 1.0, sched);
            }
            self.finish_deploy(slot, sched);
            return;
        }
        self.run_wave(slot, 0, sched);
    }

    /// Share of the target's traffic after wave `w`, rounded up to whole cells.
    pub(super) fn wave_share(&self, slot: u32, w: usize) -> f64 {
        let DeployConfig::Waves(waves) = &self.cfg.deploy else {
            return 1.0;
        };
        let cells = self
            .graph
            .cells(ServiceId(self.changes[slot as usize].target))
            .max(1) as f64;
        ((waves[w].share * cells).ceil() / cells).min(1.0)
    }

    pub(super) fn run_wave(&mut self, slot: u32, w: u32, sched: &mut Scheduler<Event>) {
        let DeployConfig::Waves(waves) = &self.cfg.deploy else {
            return;
        };
        let bake = waves[w as usize].bake;
        let share = self.wave_share(slot, w as usize);
        let c = &self.changes[slot as usize];
        if c.defective {
            match c.incident {
                None => self.start_incident(slot, share, sched),
                Some(i) => self.incidents.incidents[i as usize].share = share,
            }
        }
        sched.after(bake, Event::WaveDone { slot, wave: w });
    }

    pub(super) fn on_wave_done(&mut self, slot: u32, wave: u32, sched: &mut Scheduler<Event>) {
        let DeployConfig::Waves(waves) = &self.cfg.deploy else {
            return;
        };
        let c = &self.changes[slot as usize];
        if c.phase != Phase::Deploying {
            return; // Halted by an alarm during the bake.
        }
        if wave as usize + 1 < waves.len() {
            self.run_wave(slot, wave + 1, sched);
        } else {
            self.finish_deploy(slot, sched);
        }
    }

    /// The change is everywhere it was going: count it, and settle the task if it is good.
    pub(super) fn finish_deploy(&mut self, slot: u32, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let c = &self.changes[slot as usize];
        let lead_time_ms = now.saturating_since(c.task.started_at).as_ms();
        let (id, kind, defective) = (c.id, c.kind, c.defective);
        let incident = c.incident.is_some();
        self.emit(
            now,
            TraceEvent::Deployed {
                change: id,
                kind,
                lead_time_ms,
                incident,
            },
        );
        if defective {
            // The task's fate is settled when the incident is detected.
            self.changes[slot as usize].phase = Phase::Done;
            return;
        }
        self.report_outcome(slot, Outcome::Success, sched);
        let c = &self.changes[slot as usize];
        let success = c.u[draw::SUCCESS] < self.cfg.authors[c.task.group as usize].task_success;
        if success {
            let (task, tasks, author) = (c.task.id, c.task.tasks, c.task.author);
            self.emit(now, TraceEvent::TaskDone { task, tasks });
            self.task_closed(author, sched);
        } else {
            self.attempt_failed(slot, Failure::Ineffective, sched);
        }
        self.release(slot);
    }
}
