//! Incidents: what a defective change breaks, how long until it is noticed, who repairs
//! it, and its blast radius.
//!
//! Blast radius in closed form: every hit service goes down when the fault starts; the
//! origin is repaired at `T0`; a service at depth d (dependency hops from the origin)
//! comes back at `T0 + d × restart_step` — services recover in dependency order. So
//! user-impact minutes = share × (W × (T0 − start) + step × Σ wᵢdᵢ) with W = Σ wᵢ, and an
//! incident keeps three sums, not its list of services.

use std::collections::VecDeque;

use crate::engine::time::MS_PER_MINUTE;
use crate::engine::{SimDuration, SimTime};
use crate::model::cascade::{Cascade, CascadeParams};
use crate::model::config::{ActionClass, AuthorKind, Severity, WorldConfig};
use crate::model::graph::{ServiceGraph, ServiceId};

/// One incident.
#[derive(Clone, Debug)]
pub(crate) struct Incident {
    pub(crate) change_id: u64,
    pub(crate) change_slot: u32,
    pub(crate) group: u32,
    pub(crate) kind: AuthorKind,
    pub(crate) class: ActionClass,
    pub(crate) severity: Severity,
    pub(crate) agent: Option<u32>,
    pub(crate) origin: ServiceId,
    pub(crate) started_at: SimTime,
    /// Share of the origin's traffic running the change (cells, waves).
    pub(crate) share: f64,
    pub(crate) services_hit: u32,
    /// Σ traffic weight of hit services.
    pub(crate) weight_sum: f64,
    /// Σ weight × depth of hit services.
    pub(crate) weight_depth_sum: f64,
    pub(crate) max_depth: u32,
    /// Repair time of the origin once work starts.
    pub(crate) repair: SimDuration,
    pub(crate) rebuild: bool,
    /// Rolled back automatically (a wave's alarm), needing no responder.
    pub(crate) automatic: bool,
    pub(crate) detected: bool,
    pub(crate) repair_started: bool,
    pub(crate) restored: bool,
    pub(crate) user_impact_min: f64,
    /// The hit services, kept until the incident closes (for the worst-incident chart).
    pub(crate) hits: Vec<ServiceId>,
}

impl Incident {
    /// Peak share of users hit.
    pub(crate) fn users_hit_peak(&self) -> f64 {
        self.share * self.weight_sum
    }

    /// User-impact minutes if the origin is repaired at `origin_back`, cut at `until`.
    pub(crate) fn impact_min(
        &self,
        origin_back: SimTime,
        step: SimDuration,
        until: SimTime,
    ) -> f64 {
        let t0 = origin_back
            .min(until)
            .saturating_since(self.started_at)
            .as_ms() as f64;
        let full = self.weight_sum * t0 + step.as_ms() as f64 * self.weight_depth_sum;
        let mut ms = full;
        if origin_back + SimDuration(step.as_ms() * self.max_depth as u64) > until {
            // Cut at the horizon: count each depth level only until `until`. Rare (only open
            // incidents at the end of a run), so the exact form is not worth keeping sums for.
            ms = self.weight_sum * t0;
        }
        self.share * ms / MS_PER_MINUTE as f64
    }

    /// When the last service is back, given the origin's repair time.
    pub(crate) fn restored_at(&self, origin_back: SimTime, step: SimDuration) -> SimTime {
        origin_back + SimDuration(step.as_ms() * self.max_depth as u64)
    }
}

/// Incidents of a run, the on-call responders and the cascade workspace.
pub(crate) struct IncidentBook {
    pub(crate) incidents: Vec<Incident>,
    pub(crate) responders_busy: u32,
    pub(crate) responders_away: u32,
    pub(crate) waiting: VecDeque<u32>,
    cascade: Cascade,
    reach_cache: Vec<f64>,
    /// Soft edges act as hard ones (dependency-degradation fault).
    pub(crate) soft_as_hard: bool,
    /// Services with id below this are in a monitoring blind spot, with this multiplier.
    pub(crate) blind_spot: Option<(u32, f64)>,
    /// The worst incident so far: user-impact minutes and services hit.
    pub(crate) worst: (f64, Vec<ServiceId>),
}

impl IncidentBook {
    pub(crate) fn new(_cfg: &WorldConfig, services: usize) -> IncidentBook {
        IncidentBook {
            incidents: Vec::new(),
            responders_busy: 0,
            responders_away: 0,
            waiting: VecDeque::new(),
            cascade: Cascade::new(services),
            reach_cache: vec![f64::NAN; services],
            soft_as_hard: false,
            blind_spot: None,
            worst: (-1.0, Vec::new()),
        }
    }

    /// Traffic-weighted share of users that depend on `s`, directly or not (cached).
    pub(crate) fn reach_weight(&mut self, graph: &ServiceGraph, s: ServiceId) -> f64 {
        let cached = self.reach_cache[s.index()];
        if !cached.is_nan() {
            return cached;
        }
        let w: f64 = self
            .cascade
            .reach(graph, s)
            .iter()
            .map(|&x| graph.weight(x))
            .sum();
        let w = w.min(1.0);
        self.reach_cache[s.index()] = w;
        w
    }

    /// Spreads a fault from `origin` and fills the incident's blast-radius sums.
    pub(crate) fn spread(
        &mut self,
        graph: &ServiceGraph,
        incident: &mut Incident,
        params: &CascadeParams,
        rng: &mut impl rand::Rng,
    ) {
        let hits: &[_] = match incident.severity {
            Severity::Local => &[],
            Severity::Cascading | Severity::EnvironmentDeletion => {
                self.cascade.spread(graph, incident.origin, params, rng)
            }
        };
        incident.hits.clear();
        incident.weight_sum = 0.0;
        incident.weight_depth_sum = 0.0;
        incident.max_depth = 0;
        if hits.is_empty() {
            incident.hits.push(incident.origin);
            incident.weight_sum = graph.weight(incident.origin);
        }
        for h in hits {
            let w = graph.weight(h.service);
            incident.hits.push(h.service);
            incident.weight_sum += w;
            incident.weight_depth_sum += w * h.depth as f64;
            incident.max_depth = incident.max_depth.max(h.depth);
        }
        incident.weight_sum = incident.weight_sum.min(1.0);
        incident.services_hit = incident.hits.len() as u32;
    }

    /// Responders free to take an incident.
    pub(crate) fn responders_free(&self, total: u32) -> bool {
        self.responders_busy + self.responders_away < total
    }
}
