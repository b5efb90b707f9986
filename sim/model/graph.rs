//! The service dependency graph: services and "A depends on B" edges, hard or soft.
//!
//! Stored as two compressed sparse rows (dependencies and dependents) over dense `u32`
//! ids, so a million services with a few million edges fit in tens of megabytes and every
//! iteration has a fixed order (by id, then by insertion). Names share one string buffer
//! (no `String` per service), and the per-service `load` that the overload cascade needs is
//! computed once, when the graph is frozen.
//!
//! Memory (measured by `ServiceGraph::heap_bytes` in the cascade bench): about
//! 8 + 8 + 1 + 4 + 4 + 4 + 4 + len(name) bytes per service and 16 bytes per edge (each edge
//! is stored once per direction, 8 bytes each).

/// Dense id of a service: its index in the graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ServiceId(pub u32);

impl ServiceId {
    /// The index into per-service vectors.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Whether a dependency failing takes its dependent down.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EdgeKind {
    /// The dependent fails when the dependency fails (unless it has a fallback).
    Hard,
    /// The dependent fails with probability T (percolation).
    Soft,
}

/// One edge as seen from one end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge {
    /// The service at the other end.
    pub other: ServiceId,
    /// Hard or soft.
    pub kind: EdgeKind,
    /// The dependent has a fallback (a service-level breaker) on this edge.
    pub fallback: bool,
}

/// A service as given to the builder.
#[derive(Clone, Debug, PartialEq)]
pub struct ServiceSpec {
    /// Unique name.
    pub name: String,
    /// Unnormalised user-traffic weight (non-negative); the graph normalises to sum 1.
    pub weight: f64,
    /// Criticality tier (0 = most critical).
    pub tier: u8,
    /// Number of independent cells (at least 1).
    pub cells: u32,
}

/// The dependency graph. Build with `ServiceGraphBuilder`.
#[derive(Clone, Debug)]
pub struct ServiceGraph {
    /// All names, concatenated; service `i` is `name_bytes[name_ends[i-1]..name_ends[i]]`.
    name_bytes: String,
    name_ends: Vec<u32>,
    weights: Vec<f64>,
    loads: Vec<f64>,
    tiers: Vec<u8>,
    cells: Vec<u32>,
    dep_offsets: Vec<u32>,
    deps: Vec<Edge>,
    rev_offsets: Vec<u32>,
    revs: Vec<Edge>,
}

impl ServiceGraph {
    /// Number of services.
    pub fn len(&self) -> usize {
        self.name_ends.len()
    }
    /// Whether there are no services.
    pub fn is_empty(&self) -> bool {
        self.name_ends.is_empty()
    }
    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.deps.len()
    }
    /// Every service id, in order.
    pub fn services(&self) -> impl Iterator<Item = ServiceId> + '_ {
        (0..self.len() as u32).map(ServiceId)
    }
    /// The service's name.
    pub fn name(&self, s: ServiceId) -> &str {
        let i = s.index();
        let start = if i == 0 { 0 } else { self.name_ends[i - 1] };
        &self.name_bytes[start as usize..self.name_ends[i] as usize]
    }
    /// The service's share of user traffic; all shares sum to 1.
    pub fn weight(&self, s: ServiceId) -> f64 {
        self.weights[s.index()]
    }
    /// The service's criticality tier.
    pub fn tier(&self, s: ServiceId) -> u8 {
        self.tiers[s.index()]
    }
    /// The service's number of cells.
    pub fn cells(&self, s: ServiceId) -> u32 {
        self.cells[s.index()]
    }
    /// The services `s` depends on (out-edges A→B for A = s).
    pub fn dependencies(&self, s: ServiceId) -> &[Edge] {
        let i = s.index();
        &self.deps[self.dep_offsets[i] as usize..self.dep_offsets[i + 1] as usize]
    }
    /// The services that depend on `s` (where a fault at `s` spreads to).
    pub fn dependents(&self, s: ServiceId) -> &[Edge] {
        let i = s.index();
        &self.revs[self.rev_offsets[i] as usize..self.rev_offsets[i + 1] as usize]
    }
    /// The id of the service with this name (linear scan; for import and tests).
    pub fn find(&self, name: &str) -> Option<ServiceId> {
        self.services().find(|&s| self.name(s) == name)
    }

    /// User traffic routed through the service, as a share of all user traffic.
    ///
    /// A cheap stand-in for Motter–Lai's load (betweenness; docs/calibration.md §5.1): traffic
    /// enters each service in proportion to its weight and is divided evenly among its
    /// dependencies, so load is a conserved flow and `load(s) <= 1` on acyclic graphs. On a
    /// cycle, the flow along the edge that closes it is dropped (see `caller_order`).
    pub fn load(&self, s: ServiceId) -> f64 {
        self.loads[s.index()]
    }

    /// Number of services `s` depends on.
    pub fn out_degree(&self, s: ServiceId) -> usize {
        let i = s.index();
        (self.dep_offsets[i + 1] - self.dep_offsets[i]) as usize
    }

    /// Number of services that depend on `s`.
    pub fn in_degree(&self, s: ServiceId) -> usize {
        let i = s.index();
        (self.rev_offsets[i + 1] - self.rev_offsets[i]) as usize
    }

    /// Bytes this graph holds on the heap (capacity, not length), for memory reports.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        self.name_bytes.capacity()
            + self.name_ends.capacity() * size_of::<u32>()
            + self.weights.capacity() * size_of::<f64>()
            + self.loads.capacity() * size_of::<f64>()
            + self.tiers.capacity() * size_of::<u8>()
            + self.cells.capacity() * size_of::<u32>()
            + (self.dep_offsets.capacity() + self.rev_offsets.capacity()) * size_of::<u32>()
            + (self.deps.capacity() + self.revs.capacity()) * size_of::<Edge>()
    }

    /// Every service once, callers before the services they call (Kahn's algorithm).
    ///
    /// Ties go to the lower id, so the order is fixed. When only cycles remain, the
    /// lowest-id waiting service is taken next, as if the edges closing its cycles were
    /// absent. O(services + edges).
    pub fn caller_order(&self) -> Vec<ServiceId> {
        let n = self.len();
        let mut waiting: Vec<u32> = (0..n)
            .map(|i| self.in_degree(ServiceId(i as u32)) as u32)
            .collect();
        let mut done = vec![false; n];
        let mut order = Vec::with_capacity(n);
        let mut next_scan = 0usize;
        let mut head = 0usize;
        for i in 0..n {
            if waiting[i] == 0 {
                done[i] = true;
                order.push(ServiceId(i as u32));
            }
        }
        while order.len() < n {
            if head == order.len() {
                // Only cycles are left: break one at the lowest id still waiting.
                while done[next_scan] {
                    next_scan += 1;
                }
                done[next_scan] = true;
                order.push(ServiceId(next_scan as u32));
            }
            let s = order[head];
            head += 1;
            for e in self.dependencies(s) {
                let d = e.other.index();
                if done[d] {
                    continue;
                }
                waiting[d] -= 1;
                if waiting[d] == 0 {
                    done[d] = true;
                    order.push(e.other);
                }
            }
        }
        order
    }

    /// Upper bound on the user traffic that depends on each service through the edges
    /// `follow` accepts: `min(1, weight + Σ over accepted callers of their bound)`.
    ///
    /// Exact on trees; on graphs with diamonds a caller reached by two paths is counted
    /// twice, hence the cap at 1. O(services + edges), unlike exact reverse reachability
    /// from every service (O(services × edges)).
    pub fn reach_weight_bound(&self, follow: impl Fn(&Edge) -> bool) -> Vec<f64> {
        let mut bound = self.weights.clone();
        let mut rank = vec![0u32; self.len()];
        let order = self.caller_order();
        for (r, s) in order.iter().enumerate() {
            rank[s.index()] = r as u32;
        }
        for &s in &order {
            let from = bound[s.index()];
            for e in self.dependencies(s) {
                let d = e.other.index();
                if rank[d] > rank[s.index()] && follow(e) {
                    bound[d] = (bound[d] + from).min(1.0);
                }
            }
        }
        bound
    }

    /// Sets every service's tier (the topology layer derives them after building).
    pub(crate) fn set_tiers(&mut self, tiers: Vec<u8>) {
        assert_eq!(tiers.len(), self.len(), "one tier per service");
        self.tiers = tiers;
    }

    /// Computes `loads` (see `load`).
    fn compute_loads(&mut self) {
        let mut loads = self.weights.clone();
        let mut rank = vec![0u32; self.len()];
        let order = self.caller_order();
        for (r, s) in order.iter().enumerate() {
            rank[s.index()] = r as u32;
        }
        for &s in &order {
            let deps = self.dependencies(s);
            if deps.is_empty() {
                continue;
            }
            let share = loads[s.index()] / deps.len() as f64;
            for e in deps {
                let d = e.other.index();
                if rank[d] > rank[s.index()] {
                    loads[d] += share;
                }
            }
        }
        self.loads = loads;
    }
}

/// Collects services and edges, then freezes them into a `ServiceGraph`.
#[derive(Clone, Debug, Default)]
pub struct ServiceGraphBuilder {
    services: Vec<ServiceSpec>,
    edges: Vec<(u32, u32, EdgeKind, bool)>,
}

impl ServiceGraphBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a service and returns its id. Names are not checked here; importers check them.
    pub fn add_service(&mut self, spec: ServiceSpec) -> ServiceId {
        self.services.push(spec);
        ServiceId(self.services.len() as u32 - 1)
    }

    /// Adds the edge `from` depends on `to`.
    pub fn add_edge(&mut self, from: ServiceId, to: ServiceId, kind: EdgeKind, fallback: bool) {
        self.edges.push((from.0, to.0, kind, fallback));
    }

    /// Number of services added so far.
    pub fn len(&self) -> usize {
        self.services.len()
    }

    /// Whether no service was added.
    pub fn is_empty(&self) -> bool {
        self.services.is_empty()
    }

    /// Freezes the graph. Weights are normalised to sum to 1 (equal shares if all are zero).
    pub fn build(self) -> ServiceGraph {
        let n = self.services.len();
        let total: f64 = self.services.iter().map(|s| s.weight).sum();
        let name_len: usize = self.services.iter().map(|s| s.name.len()).sum();
        assert!(name_len <= u32::MAX as usize, "service names exceed 4 GiB");
        let mut name_bytes = String::with_capacity(name_len);
        let mut name_ends = Vec::with_capacity(n);
        let mut weights = Vec::with_capacity(n);
        let mut tiers = Vec::with_capacity(n);
        let mut cells = Vec::with_capacity(n);
        for s in self.services {
            let w = if total > 0.0 {
                s.weight / total
            } else {
                1.0 / n as f64
            };
            name_bytes.push_str(&s.name);
            name_ends.push(name_bytes.len() as u32);
            weights.push(w);
            tiers.push(s.tier);
            cells.push(s.cells.max(1));
        }
        let (dep_offsets, deps) = csr(n, self.edges.iter().map(|&(a, b, k, f)| (a, b, k, f)));
        let (rev_offsets, revs) = csr(n, self.edges.iter().map(|&(a, b, k, f)| (b, a, k, f)));
        let mut graph = ServiceGraph {
            name_bytes,
            name_ends,
            weights,
            loads: Vec::new(),
            tiers,
            cells,
            dep_offsets,
            deps,
            rev_offsets,
            revs,
        };
        graph.compute_loads();
        graph
    }
}

/// Counting-sort edges by source into CSR form; keeps insertion order within a row.
fn csr(
    n: usize,
    edges: impl Iterator<Item = (u32, u32, EdgeKind, bool)> + Clone,
) -> (Vec<u32>, Vec<Edge>) {
    let mut offsets = vec![0u32; n + 1];
    for (src, _, _, _) in edges.clone() {
        offsets[src as usize + 1] += 1;
    }
    for i in 0..n {
        offsets[i + 1] += offsets[i];
    }
    let mut fill = offsets.clone();
    let placeholder = Edge {
        other: ServiceId(0),
        kind: EdgeKind::Hard,
        fallback: false,
    };
    let mut out = vec![placeholder; offsets[n] as usize];
    for (src, dst, kind, fallback) in edges {
        let slot = &mut fill[src as usize];
        out[*slot as usize] = Edge {
            other: ServiceId(dst),
            kind,
            fallback,
        };
        *slot += 1;
    }
    (offsets, out)
}
