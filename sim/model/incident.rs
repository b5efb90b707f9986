//! Incidents: what a defective change breaks, how long until it is noticed, who repairs
//! it, and its blast radius.
//!
//! The blast radius itself is `blast::blast_radius` over the incident's cascade hits,
//! computed once the origin is repaired (the hits are kept until the incident closes).

use std::collections::VecDeque;

use crate::engine::{SimDuration, SimTime};
use crate::model::blast::{BlastRadius, blast_radius};
use crate::model::cascade::{CascadeParams, CascadeWorkspace, Hit, HitCause};
use crate::model::config::{ActionClass, AuthorKind, Severity};
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
    /// Repair time of the origin once work starts.
    pub(crate) repair: SimDuration,
    pub(crate) rebuild: bool,
    /// Rolled back automatically (a wave's alarm), needing no responder.
    pub(crate) automatic: bool,
    pub(crate) detected: bool,
    pub(crate) restored: bool,
    pub(crate) user_impact_min: f64,
    /// The cascade's hits, kept until the incident closes.
    pub(crate) hits: Vec<Hit>,
}

impl Incident {
    /// Peak share of users hit.
    pub(crate) fn users_hit_peak(&self) -> f64 {
        self.share * self.weight_sum
    }

    /// The blast radius if the origin is back at `origin_back`.
    pub(crate) fn blast(
        &self,
        graph: &ServiceGraph,
        origin_back: SimTime,
        step: SimDuration,
    ) -> BlastRadius {
        blast_radius(
            graph,
            &self.hits,
            self.share,
            self.started_at,
            origin_back,
            step,
        )
    }
}

/// Incidents of a run, the on-call responders and the cascade workspace.
pub(crate) struct IncidentBook {
    pub(crate) incidents: Vec<Incident>,
    pub(crate) responders_busy: u32,
    pub(crate) responders_away: u32,
    pub(crate) waiting: VecDeque<u32>,
    cascade: CascadeWorkspace,
    reach_cache: Vec<f64>,
    /// Soft edges act as hard ones (dependency-degradation fault).
    pub(crate) soft_as_hard: bool,
    /// Services with id below this are in a monitoring blind spot, with this multiplier.
    pub(crate) blind_spot: Option<(u32, f64)>,
    /// The worst incident so far: user-impact minutes and services hit.
    pub(crate) worst: (f64, Vec<Hit>),
}

impl IncidentBook {
    pub(crate) fn new(graph: &ServiceGraph) -> IncidentBook {
        let services = graph.len();
        IncidentBook {
            incidents: Vec::new(),
            responders_busy: 0,
            responders_away: 0,
            waiting: VecDeque::new(),
            cascade: CascadeWorkspace::new(graph),
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

    /// Spreads a fault from the incident's origin and keeps the hits.
    pub(crate) fn spread(
        &mut self,
        graph: &ServiceGraph,
        incident: &mut Incident,
        params: &CascadeParams,
        rng: &mut impl rand::Rng,
    ) {
        incident.hits.clear();
        match incident.severity {
            Severity::Local => incident.hits.push(Hit {
                service: incident.origin,
                depth: 0,
                parent: incident.origin,
                cause: HitCause::Origin,
            }),
            Severity::Cascading | Severity::EnvironmentDeletion => {
                let hits = self.cascade.spread(graph, incident.origin, params, rng);
                incident.hits.extend_from_slice(hits);
            }
        }
        incident.weight_sum = incident
            .hits
            .iter()
            .map(|h| graph.weight(h.service))
            .sum::<f64>()
            .min(1.0);
        incident.services_hit = incident.hits.len() as u32;
    }

    /// Responders free to take an incident.
    pub(crate) fn responders_free(&self, total: u32) -> bool {
        self.responders_busy + self.responders_away < total
    }
}
