//! Seeded topology generators: layered microservices, scale-free (Barabási–Albert) and
//! Alibaba-like call graphs.
//!
//! Each generator draws structure from stream `STREAM_STRUCTURE` and entry base weights
//! from `STREAM_WEIGHTS` of the topology seed, so the same seed gives the same graph, and
//! changing `soft_share` (drawn later, in `finish`) never changes the structure. All run in
//! O(services + edges) with no hashing.

use rand::RngExt;
use rand_distr::{Distribution, Pareto, Poisson};

use super::{RawEdge, RawGraph, TopologyError};
use crate::engine::{Seed, StreamRng};

const STREAM_STRUCTURE: u64 = 0x746f_706f_7374_7275; // "topostru"
const STREAM_WEIGHTS: u64 = 0x746f_706f_7765_6967; // "topoweig"

/// Share of Alibaba-like services that are entries (docs/calibration.md §5.4, 2022 trace).
pub const ALIBABA_ENTRY_SHARE: f64 = 0.13;
/// Share of Alibaba-like services that are leaves (docs/calibration.md §5.4, 2022 trace).
pub const ALIBABA_LEAF_SHARE: f64 = 0.39;
/// In the layered generator, the chance that an edge goes to the next layer down rather
/// than to any deeper one (most calls go one level down; some skip levels).
pub const LAYERED_NEXT_LAYER_P: f64 = 0.75;
/// Pareto shape of entry base weights: 1.16 is the "80/20" shape.
const ENTRY_WEIGHT_SHAPE: f64 = 1.16;

fn invalid(generator: &str, message: String) -> TopologyError {
    TopologyError {
        file: format!("{generator} generator"),
        line: 0,
        column: 0,
        message,
    }
}

/// A raw graph of `n` unnamed-yet services with Pareto base weights.
fn start(n: u32, seed: u64, name: impl Fn(u32) -> String) -> RawGraph {
    let mut raw = RawGraph {
        generated: true,
        ..RawGraph::default()
    };
    let mut rng = Seed(seed).stream(STREAM_WEIGHTS, 0);
    let pareto = Pareto::new(1.0, ENTRY_WEIGHT_SHAPE).expect("valid pareto parameters");
    raw.names.reserve(n as usize);
    for i in 0..n {
        let id = raw.add(name(i));
        raw.base_weight[id as usize] = pareto.sample(&mut rng);
    }
    raw
}

fn edge(from: u32, to: u32) -> RawEdge {
    RawEdge {
        from,
        to,
        kind: None,
        fallback: None,
    }
}

/// Layered microservices: `layers` layers of (nearly) equal size, layer 0 the entry layer
/// and the last the leaf layer. Each service above the leaf layer takes
/// `1 + Poisson(mean − 1)` distinct dependencies (mean `mean_dependencies`), each in the next
/// layer with probability `LAYERED_NEXT_LAYER_P`, otherwise in a uniformly chosen deeper
/// layer, uniformly within the layer. Names are `L{layer}-{index}`.
pub(super) fn layered(
    services: u32,
    layers: u32,
    mean_dependencies: f64,
    seed: u64,
) -> Result<RawGraph, TopologyError> {
    if layers < 2 {
        return Err(invalid(
            "layered",
            format!("layers is {layers}; expected at least 2"),
        ));
    }
    if services < layers {
        return Err(invalid(
            "layered",
            format!("services is {services}; expected at least one per layer ({layers})"),
        ));
    }
    if !(1.0..=1000.0).contains(&mean_dependencies) {
        return Err(invalid(
            "layered",
            format!("mean_dependencies is {mean_dependencies}; expected between 1 and 1000"),
        ));
    }
    // Layer l holds ids starts[l]..starts[l + 1]; the first `extra` layers get one more.
    let base = services / layers;
    let extra = services % layers;
    let mut starts = Vec::with_capacity(layers as usize + 1);
    let mut at = 0u32;
    for l in 0..layers {
        starts.push(at);
        at += base + u32::from(l < extra);
    }
    starts.push(at);
    let layer_of = |i: u32| starts.partition_point(|&s| s <= i) as u32 - 1;
    let mut raw = start(services, seed, |i| {
        let l = layer_of(i);
        format!("L{l}-{}", i - starts[l as usize])
    });
    let mut rng = Seed(seed).stream(STREAM_STRUCTURE, 0);
    let extra_deps = (mean_dependencies > 1.0)
        .then(|| Poisson::new(mean_dependencies - 1.0).expect("valid poisson mean"));
    raw.edges
        .reserve((services as f64 * mean_dependencies) as usize);
    let mut chosen: Vec<u32> = Vec::new();
    for l in 0..layers - 1 {
        let deeper = services - starts[l as usize + 1];
        for from in starts[l as usize]..starts[l as usize + 1] {
            let want = 1 + extra_deps.as_ref().map_or(0, |p| p.sample(&mut rng) as u32);
            let want = want.min(deeper);
            chosen.clear();
            // Rejection of duplicates; bounded so a dense request cannot loop for long.
            let mut attempts = 0;
            while (chosen.len() as u32) < want && attempts < 16 * want + 16 {
                attempts += 1;
                let target_layer = if l + 2 >= layers || rng.random_bool(LAYERED_NEXT_LAYER_P) {
                    l + 1
                } else {
                    rng.random_range(l + 2..layers)
                };
                let lo = starts[target_layer as usize];
                let hi = starts[target_layer as usize + 1];
                let to = rng.random_range(lo..hi);
                if !chosen.contains(&to) {
                    chosen.push(to);
                    raw.edges.push(edge(from, to));
                }
            }
        }
    }
    Ok(raw)
}

/// Barabási–Albert preferential attachment. Service i depends on `min(m, i)` distinct
/// older services, each chosen with probability proportional to (its degree + 1), so early
/// services become hubs that much of the graph depends on. Names are `svc-{i}`.
pub(super) fn scale_free(
    services: u32,
    edges_per_service: u32,
    seed: u64,
) -> Result<RawGraph, TopologyError> {
    if services == 0 {
        return Err(invalid(
            "scale-free",
            "services is 0; expected at least 1".to_string(),
        ));
    }
    if !(1..=1000).contains(&edges_per_service) {
        return Err(invalid(
            "scale-free",
            format!("edges_per_service is {edges_per_service}; expected between 1 and 1000"),
        ));
    }
    let m = edges_per_service;
    let mut raw = start(services, seed, |i| format!("svc-{i}"));
    let mut rng = Seed(seed).stream(STREAM_STRUCTURE, 1);
    // Every service appears once, plus once per edge end: sampling uniformly from this list
    // is sampling proportionally to degree + 1.
    let mut pool: Vec<u32> = Vec::with_capacity(services as usize * (2 * m as usize + 1));
    raw.edges.reserve(services as usize * m as usize);
    let mut chosen: Vec<u32> = Vec::new();
    for i in 0..services {
        chosen.clear();
        if i <= m {
            chosen.extend(0..i);
        } else {
            let mut attempts = 0;
            while (chosen.len() as u32) < m && attempts < 64 * m {
                attempts += 1;
                let to = pool[rng.random_range(0..pool.len())];
                if !chosen.contains(&to) {
                    chosen.push(to);
                }
            }
        }
        for &to in &chosen {
            raw.edges.push(edge(i, to));
            pool.push(to);
            pool.push(i);
        }
        pool.push(i);
    }
    Ok(raw)
}

/// Alibaba-like call graphs (docs/calibration.md §5.4): exactly `round(13%)` entry, `round(39%)`
/// leaf and the rest (≈48%) middle services, by structure (entries have no callers, leaves
/// no dependencies, middles both).
///
/// Tree phase: each middle service (in id order), then each leaf, is attached as a child of
/// an entry or an earlier middle chosen with probability proportional to (children + 1),
/// which gives the heavy-tailed fan-out and heavy-tailed call-tree sizes of the traces.
/// Hot-spot phase: an entry or middle left without children calls a leaf chosen with
/// probability proportional to (callers + 1), so popular leaves (stores, caches) become
/// shared hot spots and the graph is tree-like rather than a tree. Names are `entry-{i}`,
/// `mid-{i}`, `leaf-{i}`.
pub(super) fn alibaba_like(services: u32, seed: u64) -> Result<RawGraph, TopologyError> {
    if services < 3 {
        return Err(invalid(
            "alibaba-like",
            format!("services is {services}; expected at least 3 (entry, middle, leaf)"),
        ));
    }
    let n = services as f64;
    let entries = ((n * ALIBABA_ENTRY_SHARE).round() as u32).max(1);
    let leaves = ((n * ALIBABA_LEAF_SHARE).round() as u32).max(1);
    let middles = services - entries - leaves;
    let (mid0, leaf0) = (entries, entries + middles);
    let mut raw = start(services, seed, |i| {
        if i < mid0 {
            format!("entry-{i}")
        } else if i < leaf0 {
            format!("mid-{}", i - mid0)
        } else {
            format!("leaf-{}", i - leaf0)
        }
    });
    let mut rng = Seed(seed).stream(STREAM_STRUCTURE, 2);
    let mut has_child = vec![false; leaf0 as usize];
    let mut parents: Vec<u32> = (0..entries).collect();
    parents.reserve(2 * services as usize);
    raw.edges.reserve(services as usize + services as usize / 2);
    let attach = |child: u32, parents: &mut Vec<u32>, rng: &mut StreamRng, raw: &mut RawGraph| {
        let p = parents[rng.random_range(0..parents.len())];
        raw.edges.push(edge(p, child));
        parents.push(p);
        p
    };
    for v in mid0..leaf0 {
        let p = attach(v, &mut parents, &mut rng, &mut raw);
        has_child[p as usize] = true;
        parents.push(v);
    }
    for v in leaf0..services {
        let p = attach(v, &mut parents, &mut rng, &mut raw);
        has_child[p as usize] = true;
    }
    let mut hot: Vec<u32> = (leaf0..services).collect();
    for v in 0..leaf0 {
        if !has_child[v as usize] {
            let leaf = hot[rng.random_range(0..hot.len())];
            raw.edges.push(edge(v, leaf));
            hot.push(leaf);
        }
    }
    Ok(raw)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(raw: &RawGraph) -> (usize, usize, usize) {
        let n = raw.names.len();
        let mut callers = vec![0; n];
        let mut deps = vec![0; n];
        for e in &raw.edges {
            callers[e.to as usize] += 1;
            deps[e.from as usize] += 1;
        }
        let entry = (0..n).filter(|&i| callers[i] == 0 && deps[i] > 0).count();
        let leaf = (0..n).filter(|&i| deps[i] == 0 && callers[i] > 0).count();
        let mid = (0..n).filter(|&i| deps[i] > 0 && callers[i] > 0).count();
        (entry, mid, leaf)
    }

    #[test]
    fn alibaba_roles_are_exact_by_structure() {
        let raw = alibaba_like(1000, 7).unwrap();
        assert_eq!(roles(&raw), (130, 480, 390));
    }

    #[test]
    fn scale_free_has_m_edges_per_service() {
        let raw = scale_free(200, 3, 1).unwrap();
        // Services 0..=3 take 0, 1, 2, 3 edges; the others 3 each (rejection never gives up
        // at this size).
        assert_eq!(raw.edges.len(), 6 + 196 * 3);
        assert!(
            raw.edges.iter().all(|e| e.to < e.from),
            "edges point to older services"
        );
    }
}
