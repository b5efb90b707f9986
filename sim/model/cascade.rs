//! How one fault spreads through the dependency graph, and what a fault could reach.
//!
//! A `CascadeWorkspace` is allocated once per run (a few bytes per service) and reused for
//! every incident. Visited marks carry a generation stamp instead of being cleared, so one
//! cascade costs O(edges it touches) and allocates nothing proportional to the graph.
//!
//! Rules (docs/calibration.md §5.1): a failed service takes down each dependent
//! - along a hard edge, always, unless the dependent has a fallback on that edge;
//! - along a soft edge, with probability T (`soft_propagation`), one draw per edge examined,
//!   which is bond percolation: global cascades appear above T_c = ⟨k⟩/(⟨k²⟩−⟨k⟩);
//! - never along an edge with a fallback (the dependent's breaker serves a degraded answer).
//!
//! Every service fails at most once per cascade, so cycles end.
//!
//! Overload mode (`overload_alpha = Some(α)`), a Motter–Lai cascade (capacity
//! `(1+α) × initial load`) simplified to be cheap on big graphs. Load is the routed traffic
//! of `ServiceGraph::load`: a caller divides its traffic evenly among its dependencies.
//! When a dependency fails and the caller survives (soft edge not crossed, or fallback),
//! the caller re-divides its traffic among its surviving dependencies; each of them takes
//! `L/(o−k) − L/(o−k+1)` more (o dependencies, k failed). A service whose load exceeds its
//! capacity fails with cause `Overload` and spreads like any other failure. Simplifications,
//! stated because they bias results: load shifts only one hop (to the caller's other
//! dependencies), the relief downstream of a failed service is ignored (so overload is
//! slightly overstated), and Motter–Lai's global shortest-path recomputation is not done.

use rand::{Rng, RngExt};

use crate::model::graph::{EdgeKind, ServiceGraph, ServiceId};

/// How faults travel in one cascade.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CascadeParams {
    /// P(a fault crosses a soft edge), T in percolation terms, in `[0, 1]`.
    pub soft_propagation: f64,
    /// Soft edges behave as hard ones (the dependency-degradation fault).
    pub soft_as_hard: bool,
    /// Motter–Lai tolerance α ≥ 0; `None` turns overload off.
    pub overload_alpha: Option<f64>,
}

/// Why a service went down. Trace files name it in lower case ("hard").
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum HitCause {
    /// The fault started here.
    Origin,
    /// A hard dependency failed.
    Hard,
    /// A soft dependency failed and the fault crossed (probability T).
    Soft,
    /// Traffic shifted onto it exceeded its capacity.
    Overload,
}

/// One service taken down by a cascade.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Hit {
    /// The service.
    pub service: ServiceId,
    /// Hops from the origin in the order of failure (origin 0); recovery follows it.
    pub depth: u32,
    /// The failed service that took this one down (the origin names itself).
    pub parent: ServiceId,
    /// How it was taken down.
    pub cause: HitCause,
}

/// Per-service state of the overload mode, valid when `stamp` equals the generation.
#[derive(Clone, Copy, Debug, Default)]
struct LoadSlot {
    stamp: u32,
    failed_deps: u32,
    extra: f64,
}

/// Reusable scratch space for cascades on one graph.
#[derive(Clone, Debug)]
pub struct CascadeWorkspace {
    /// `mark[i] == generation` means service i is down (spread) or reached (reach).
    mark: Vec<u32>,
    generation: u32,
    /// Allocated on first use of overload mode only.
    load: Vec<LoadSlot>,
    hits: Vec<Hit>,
    reached: Vec<ServiceId>,
}

impl CascadeWorkspace {
    /// Scratch space sized for `graph`: 4 bytes per service (16 more once overload is used).
    pub fn new(graph: &ServiceGraph) -> Self {
        CascadeWorkspace {
            mark: vec![0; graph.len()],
            generation: 0,
            load: Vec::new(),
            hits: Vec::new(),
            reached: Vec::new(),
        }
    }

    /// Starts a new generation; clears the stamps only when the counter wraps (every 2^32
    /// cascades), which keeps the amortised cost per cascade independent of graph size.
    fn next_generation(&mut self, graph: &ServiceGraph) {
        assert_eq!(
            self.mark.len(),
            graph.len(),
            "workspace built for another graph"
        );
        if self.generation == u32::MAX {
            self.mark.fill(0);
            self.load.fill(LoadSlot::default());
            self.generation = 0;
        }
        self.generation += 1;
    }

    fn is_marked(&self, s: ServiceId) -> bool {
        self.mark[s.index()] == self.generation
    }

    fn mark(&mut self, s: ServiceId) {
        self.mark[s.index()] = self.generation;
    }

    fn load_slot(&mut self, s: ServiceId) -> &mut LoadSlot {
        let generation = self.generation;
        let slot = &mut self.load[s.index()];
        if slot.stamp != generation {
            *slot = LoadSlot {
                stamp: generation,
                failed_deps: 0,
                extra: 0.0,
            };
        }
        slot
    }

    /// Spreads a fault from `origin`; returns every service down, in BFS order (depth
    /// non-decreasing, origin first). Soft-edge draws come from `rng`.
    pub fn spread<R: Rng + ?Sized>(
        &mut self,
        graph: &ServiceGraph,
        origin: ServiceId,
        params: &CascadeParams,
        rng: &mut R,
    ) -> &[Hit] {
        let t = params.soft_propagation;
        assert!(
            (0.0..=1.0).contains(&t),
            "soft_propagation {t} outside [0, 1]"
        );
        if let Some(alpha) = params.overload_alpha {
            assert!(alpha >= 0.0, "overload alpha {alpha} is negative");
            if self.load.len() != graph.len() {
                self.load = vec![LoadSlot::default(); graph.len()];
            }
        }
        self.next_generation(graph);
        self.hits.clear();
        self.mark(origin);
        self.hits.push(Hit {
            service: origin,
            depth: 0,
            parent: origin,
            cause: HitCause::Origin,
        });
        let mut head = 0;
        while head < self.hits.len() {
            let failed = self.hits[head];
            head += 1;
            for e in graph.dependents(failed.service) {
                let caller = e.other;
                if self.is_marked(caller) {
                    continue;
                }
                let crossed = match (e.fallback, e.kind) {
                    (true, _) => None,
                    (false, EdgeKind::Hard) => Some(HitCause::Hard),
                    (false, EdgeKind::Soft) if params.soft_as_hard => Some(HitCause::Hard),
                    // One draw per soft edge examined, whatever T is, so cascades under
                    // different T use the same numbers (common random numbers).
                    (false, EdgeKind::Soft) => (rng.random::<f64>() < t).then_some(HitCause::Soft),
                };
                match crossed {
                    Some(cause) => {
                        self.mark(caller);
                        self.hits.push(Hit {
                            service: caller,
                            depth: failed.depth + 1,
                            parent: failed.service,
                            cause,
                        });
                    }
                    None => {
                        if let Some(alpha) = params.overload_alpha {
                            self.reroute(graph, caller, failed, alpha);
                        }
                    }
                }
            }
        }
        &self.hits
    }

    /// `caller` survived the failure of one of its dependencies: it re-divides its traffic
    /// among the dependencies still up, and any of them pushed past capacity fails.
    fn reroute(&mut self, graph: &ServiceGraph, caller: ServiceId, failed: Hit, alpha: f64) {
        let outs = graph.out_degree(caller);
        let slot = self.load_slot(caller);
        slot.failed_deps += 1;
        let k = slot.failed_deps as usize;
        if k >= outs {
            return; // nowhere left to send the traffic
        }
        let l = graph.load(caller);
        let delta = l / (outs - k) as f64 - l / (outs - k + 1) as f64;
        for e in graph.dependencies(caller) {
            let d = e.other;
            if self.is_marked(d) {
                continue;
            }
            let slot = self.load_slot(d);
            slot.extra += delta;
            // L + extra > (1 + α) L, written so that α = 0 and L = 0 compare exactly.
            if slot.extra > alpha * graph.load(d) {
                self.mark(d);
                self.hits.push(Hit {
                    service: d,
                    depth: failed.depth + 1,
                    parent: failed.service,
                    cause: HitCause::Overload,
                });
            }
        }
    }

    /// Every service that transitively depends on `origin`, whatever the edge kind or
    /// fallback, origin first, in BFS order: the worst case a fault at `origin` could reach.
    pub fn reach(&mut self, graph: &ServiceGraph, origin: ServiceId) -> &[ServiceId] {
        self.next_generation(graph);
        self.reached.clear();
        self.mark(origin);
        self.reached.push(origin);
        let mut head = 0;
        while head < self.reached.len() {
            let s = self.reached[head];
            head += 1;
            for e in graph.dependents(s) {
                if !self.is_marked(e.other) {
                    self.mark(e.other);
                    self.reached.push(e.other);
                }
            }
        }
        &self.reached
    }

    /// Σ user-traffic weight over `reach(origin)`: the share of users a fault at `origin`
    /// could hit at worst. Summed in BFS order, so the result is deterministic.
    pub fn reach_weight(&mut self, graph: &ServiceGraph, origin: ServiceId) -> f64 {
        self.reach(graph, origin);
        self.reached.iter().map(|&s| graph.weight(s)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Seed;
    use crate::model::graph::{ServiceGraphBuilder, ServiceSpec};

    fn spec(name: &str, weight: f64) -> ServiceSpec {
        ServiceSpec {
            name: name.to_string(),
            weight,
            tier: 0,
            cells: 1,
        }
    }

    /// front → {a, b} (hard, with fallback on both), a and b are leaves. Loads: front 1,
    /// a 1/2, b 1/2 (weights 1, 0, 0). When a fails, front survives through its fallback
    /// and sends all its traffic to b: b's load becomes 1, i.e. +1/2 = 100% of its load.
    fn fan() -> ServiceGraph {
        let mut b = ServiceGraphBuilder::new();
        let front = b.add_service(spec("front", 1.0));
        let a = b.add_service(spec("a", 0.0));
        let c = b.add_service(spec("b", 0.0));
        b.add_edge(front, a, EdgeKind::Hard, true);
        b.add_edge(front, c, EdgeKind::Hard, true);
        b.build()
    }

    #[test]
    fn overload_shifts_traffic_to_siblings() {
        let g = fan();
        assert_eq!(g.load(ServiceId(1)), 0.5);
        let mut ws = CascadeWorkspace::new(&g);
        let mut rng = Seed(1).stream(0, 0);
        let mut params = CascadeParams {
            soft_propagation: 0.0,
            soft_as_hard: false,
            overload_alpha: None,
        };
        assert_eq!(ws.spread(&g, ServiceId(1), &params, &mut rng).len(), 1);
        // α = 0.99 < 1: the +100% is too much; b fails by overload.
        params.overload_alpha = Some(0.99);
        let hits = ws.spread(&g, ServiceId(1), &params, &mut rng).to_vec();
        assert_eq!(hits.len(), 2);
        assert_eq!(hits[1].service, ServiceId(2));
        assert_eq!(hits[1].cause, HitCause::Overload);
        // α = 1: exactly at capacity is not over it.
        params.overload_alpha = Some(1.0);
        assert_eq!(ws.spread(&g, ServiceId(1), &params, &mut rng).len(), 1);
    }

    #[test]
    fn generation_wrap_clears_marks() {
        let g = fan();
        let mut ws = CascadeWorkspace::new(&g);
        ws.generation = u32::MAX - 1;
        assert_eq!(ws.reach(&g, ServiceId(1)).len(), 2);
        assert_eq!(ws.reach(&g, ServiceId(2)).len(), 2);
        assert_eq!(ws.generation, 1, "wrapped");
        assert_eq!(ws.reach(&g, ServiceId(0)), &[ServiceId(0)]);
    }
}
