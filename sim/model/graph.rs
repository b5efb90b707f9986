//! The service dependency graph: services and "A depends on B" edges, hard or soft.
//!
//! Stored as two compressed sparse rows (dependencies and dependents) over dense `u32`
//! ids, so a million services with a few million edges fit in tens of megabytes and every
//! iteration has a fixed order (by id, then by insertion).

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
    names: Vec<String>,
    weights: Vec<f64>,
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
        self.names.len()
    }
    /// Whether there are no services.
    pub fn is_empty(&self) -> bool {
        self.names.is_empty()
    }
    /// Number of edges.
    pub fn edge_count(&self) -> usize {
        self.deps.len()
    }
    /// Every service id, in order.
    pub fn services(&self) -> impl Iterator<Item = ServiceId> + '_ {
        (0..self.names.len() as u32).map(ServiceId)
    }
    /// The service's name.
    pub fn name(&self, s: ServiceId) -> &str {
        &self.names[s.index()]
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
        self.names
            .iter()
            .position(|n| n == name)
            .map(|i| ServiceId(i as u32))
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
        let mut names = Vec::with_capacity(n);
        let mut weights = Vec::with_capacity(n);
        let mut tiers = Vec::with_capacity(n);
        let mut cells = Vec::with_capacity(n);
        for s in self.services {
            let w = if total > 0.0 {
                s.weight / total
            } else {
                1.0 / n as f64
            };
            names.push(s.name);
            weights.push(w);
            tiers.push(s.tier);
            cells.push(s.cells.max(1));
        }
        let (dep_offsets, deps) = csr(n, self.edges.iter().map(|&(a, b, k, f)| (a, b, k, f)));
        let (rev_offsets, revs) = csr(n, self.edges.iter().map(|&(a, b, k, f)| (b, a, k, f)));
        ServiceGraph {
            names,
            weights,
            tiers,
            cells,
            dep_offsets,
            deps,
            rev_offsets,
            revs,
        }
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
