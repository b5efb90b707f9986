//! Incidents: starting a fault, detection, responders, repair and restoration.

use crate::engine::{Scheduler, SimDuration};
use crate::model::cascade::CascadeParams;
use crate::model::change::{Phase, purpose};
use crate::model::config::Severity;
use crate::model::gate::Outcome;
use crate::model::graph::ServiceId;
use crate::model::incident::Incident;
use crate::model::trace::{CascadeHit, TraceEvent, TraceSink};

use super::{Event, Failure, World};

impl<S: TraceSink> World<'_, S> {
    pub(super) fn start_incident(&mut self, slot: u32, share: f64, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let c = &self.changes[slot as usize];
        let mut rng = c.rng(purpose::INCIDENT);
        let ic = &self.cfg.incidents;
        let mut detection = ic.detection.sample(&mut rng);
        let rebuild = c.severity == Severity::EnvironmentDeletion;
        let repair = if rebuild {
            ic.rebuild.sample(&mut rng)
        } else {
            ic.rollback.sample(&mut rng)
        };
        if let Some((below, mult)) = self.incidents.blind_spot
            && c.target < below
        {
            detection = SimDuration::from_ms_f64(detection.as_ms() as f64 * mult);
        }
        let mut incident = Incident {
            change_id: c.id,
            change_slot: slot,
            group: c.task.group,
            kind: c.kind,
            class: c.task.class,
            severity: c.severity,
            agent: self.authors[c.task.author as usize].agent_index,
            origin: ServiceId(c.target),
            started_at: now,
            share,
            services_hit: 0,
            weight_sum: 0.0,
            repair,
            rebuild,
            automatic: false,
            detected: false,
            restored: false,
            user_impact_min: 0.0,
            hits: Vec::new(),
        };
        let params = CascadeParams {
            soft_propagation: self.cfg.infra.soft_propagation,
            // A deleted environment takes down soft dependents too: their fallbacks point
            // into the same environment.
            soft_as_hard: self.incidents.soft_as_hard || rebuild,
            overload_alpha: self.cfg.infra.overload_alpha,
        };
        let mut cascade_rng = c.rng(purpose::CASCADE);
        self.incidents
            .spread(self.graph, &mut incident, &params, &mut cascade_rng);
        let n = self.incidents.incidents.len() as u32;
        self.incidents.incidents.push(incident);
        self.changes[slot as usize].incident = Some(n);
        sched.after(detection, Event::Detect { incident: n });
    }

    pub(super) fn on_detect(&mut self, n: u32, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let inc = &mut self.incidents.incidents[n as usize];
        inc.detected = true;
        let slot = inc.change_slot;
        // A fault caught while the rollout is still baking is rolled back automatically, and
        // the rollout stops at the share it had reached.
        let c = &mut self.changes[slot as usize];
        let rolling = c.phase == Phase::Deploying && c.incident == Some(n);
        if rolling {
            inc.automatic = true;
        }
        let inc = &self.incidents.incidents[n as usize];
        let event = TraceEvent::IncidentStarted {
            incident: n,
            started_ms: inc.started_at.as_ms(),
            change: inc.change_id,
            group: inc.group,
            kind: inc.kind,
            class: inc.class,
            severity: inc.severity,
            origin: inc.origin.0,
            share: inc.share,
            services_hit: inc.services_hit,
            users_hit_peak: inc.users_hit_peak(),
        };
        let (agent, users) = (inc.agent, inc.users_hit_peak());
        self.emit(now, event);
        if self.sink.enabled() {
            let hits = self.incidents.incidents[n as usize]
                .hits
                .iter()
                .map(|h| CascadeHit {
                    service: h.service.0,
                    parent: h.parent.0,
                    depth: h.depth,
                    cause: h.cause,
                })
                .collect();
            self.emit(now, TraceEvent::CascadeSpread { incident: n, hits });
        }
        self.emit(now, TraceEvent::IncidentDetected { incident: n });
        self.gate.incident_opened(now, n, agent, users);
        self.tick_breakers(sched);
        if let Some(a) = agent {
            let t = self.gate.record(now, a, Outcome::Incident);
            self.emit_transition(t, sched);
        }
        // The author learns the attempt failed.
        self.attempt_failed(slot, Failure::Incident, sched);
        if rolling {
            self.release(slot);
            self.start_repair(n, sched);
        } else {
            if self.changes[slot as usize].phase == Phase::Done {
                self.release(slot);
            }
            if self
                .incidents
                .responders_free(self.cfg.incidents.responders)
            {
                self.start_repair(n, sched);
            } else {
                self.incidents.waiting.push_back(n);
            }
        }
    }

    pub(super) fn start_repair(&mut self, n: u32, sched: &mut Scheduler<Event>) {
        let inc = &mut self.incidents.incidents[n as usize];
        let (automatic, rebuild, repair) = (inc.automatic, inc.rebuild, inc.repair);
        if !automatic {
            self.incidents.responders_busy += 1;
        }
        self.emit(
            sched.now(),
            TraceEvent::RecoveryStarted {
                incident: n,
                rebuild,
            },
        );
        sched.after(repair, Event::OriginRepaired { incident: n });
    }

    pub(super) fn on_origin_repaired(&mut self, n: u32, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let step = self.cfg.incidents.restart_step;
        let inc = &mut self.incidents.incidents[n as usize];
        let blast = inc.blast(self.graph, now, step);
        inc.user_impact_min = blast.user_impact_min;
        let restored = blast.restored_at;
        if !inc.automatic {
            self.incidents.responders_busy -= 1;
            self.next_waiting_incident(sched);
        }
        sched.at(restored, Event::Restored { incident: n });
    }

    pub(super) fn next_waiting_incident(&mut self, sched: &mut Scheduler<Event>) {
        while self
            .incidents
            .responders_free(self.cfg.incidents.responders)
        {
            let Some(next) = self.incidents.waiting.pop_front() else {
                break;
            };
            self.start_repair(next, sched);
        }
    }

    pub(super) fn on_restored(&mut self, n: u32, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let inc = &mut self.incidents.incidents[n as usize];
        inc.restored = true;
        let (impact, agent) = (inc.user_impact_min, inc.agent);
        if impact > self.incidents.worst.0 {
            self.incidents.worst = (impact, std::mem::take(&mut inc.hits));
        } else {
            inc.hits = Vec::new();
        }
        self.emit(
            now,
            TraceEvent::IncidentRestored {
                incident: n,
                user_impact_min: impact,
            },
        );
        self.gate.incident_closed(now, n, agent);
        self.tick_breakers(sched);
    }
}
