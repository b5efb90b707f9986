//! TEMPORARY cascade until the graph work lands (same API).

use rand::RngExt;

use crate::model::graph::{EdgeKind, ServiceGraph, ServiceId};

/// Cascade parameters.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CascadeParams {
    /// P(cross a soft edge).
    pub soft_propagation: f64,
    /// Soft edges act as hard.
    pub soft_as_hard: bool,
    /// Overload tolerance.
    pub overload_alpha: Option<f64>,
}

/// A hit service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The service.
    pub service: ServiceId,
    /// Hops from the origin.
    pub depth: u32,
}

/// Reusable workspace.
pub struct Cascade {
    stamp: Vec<u32>,
    generation: u32,
    hits: Vec<Hit>,
    reach: Vec<ServiceId>,
}

impl Cascade {
    /// A workspace for `n` services.
    pub fn new(n: usize) -> Cascade {
        Cascade {
            stamp: vec![0; n],
            generation: 0,
            hits: Vec::new(),
            reach: Vec::new(),
        }
    }

    /// Spreads a fault.
    pub fn spread<R: rand::Rng + ?Sized>(
        &mut self,
        g: &ServiceGraph,
        origin: ServiceId,
        p: &CascadeParams,
        rng: &mut R,
    ) -> &[Hit] {
        self.generation += 1;
        self.hits.clear();
        self.stamp[origin.index()] = self.generation;
        self.hits.push(Hit {
            service: origin,
            depth: 0,
        });
        let mut i = 0;
        while i < self.hits.len() {
            let h = self.hits[i];
            i += 1;
            for e in g.dependents(h.service) {
                if self.stamp[e.other.index()] == self.generation {
                    continue;
                }
                let crosses = match e.kind {
                    EdgeKind::Hard => !e.fallback,
                    EdgeKind::Soft if p.soft_as_hard => true,
                    EdgeKind::Soft => rng.random::<f64>() < p.soft_propagation,
                };
                if crosses {
                    self.stamp[e.other.index()] = self.generation;
                    self.hits.push(Hit {
                        service: e.other,
                        depth: h.depth + 1,
                    });
                }
            }
        }
        &self.hits
    }

    /// All transitive dependents of `origin`, including itself.
    pub fn reach(&mut self, g: &ServiceGraph, origin: ServiceId) -> &[ServiceId] {
        self.generation += 1;
        self.reach.clear();
        self.stamp[origin.index()] = self.generation;
        self.reach.push(origin);
        let mut i = 0;
        while i < self.reach.len() {
            let s = self.reach[i];
            i += 1;
            for e in g.dependents(s) {
                if self.stamp[e.other.index()] != self.generation {
                    self.stamp[e.other.index()] = self.generation;
                    self.reach.push(e.other);
                }
            }
        }
        &self.reach
    }
}
