//! Cascade bench: building a 10^6-service graph, one full cascade over it, and the cost of
//! one incident on graphs of 10^4 and 10^6 services with similar affected sets, which shows
//! per-incident cost follows the affected set, not the graph.
//!
//! Also the CSV importer: parsing a generated 10^6-line edge list (10^4 in smoke mode),
//! timed per line, which shows the reader is linear (10^7 lines take ten times as long).
//!
//! Run: `cargo bench --bench cascade -- --measurement-time 3`. One-shot timings (build,
//! full cascade, CSV import) and memory are printed before criterion's own measurements.

use std::hint::black_box;
use std::time::Instant;

use blastsim::engine::Seed;
use blastsim::model::cascade::{CascadeParams, CascadeWorkspace};
use blastsim::model::graph::{ServiceGraph, ServiceId};
use blastsim::model::topology::{FileFormat, TopologyOptions, TopologySpec, build};
use criterion::{Criterion, criterion_group, criterion_main};

const PARAMS: CascadeParams = CascadeParams {
    soft_propagation: 0.3,
    soft_as_hard: false,
    overload_alpha: None,
};

fn options() -> TopologyOptions {
    TopologyOptions {
        soft_share: 0.3,
        fallback_share: 0.1,
        cells: 1,
        seed: 7,
    }
}

fn alibaba(services: u32) -> ServiceGraph {
    build(&TopologySpec::AlibabaLike { services }, &options()).expect("valid spec")
}

/// Origins whose worst-case reach is 20 to 200 services, so both graph sizes run cascades
/// of similar size; at most 256 of them, in id order.
fn mid_sized_origins(g: &ServiceGraph, ws: &mut CascadeWorkspace) -> Vec<ServiceId> {
    g.services()
        .filter(|&s| (20..=200).contains(&ws.reach(g, s).len()))
        .take(256)
        .collect()
}

/// `cargo test --benches` / `cargo bench -- --test` run each bench once as a smoke test,
/// in whatever profile; use small graphs then so CI stays fast.
fn smoke() -> bool {
    // Criterion measures only when cargo passes `--bench` and `--test` is absent.
    let args: Vec<String> = std::env::args().collect();
    args.iter().any(|a| a == "--test") || !args.iter().any(|a| a == "--bench")
}

fn one_shot_report() {
    let n = if smoke() { 10_000 } else { 1_000_000 };
    for (label, spec) in [
        (
            "layered",
            TopologySpec::Layered {
                services: n,
                layers: 6,
                mean_dependencies: 3.0,
            },
        ),
        (
            "scale-free",
            TopologySpec::ScaleFree {
                services: n,
                edges_per_service: 3,
            },
        ),
        ("alibaba-like", TopologySpec::AlibabaLike { services: n }),
    ] {
        let t0 = Instant::now();
        let g = build(&spec, &options()).expect("valid spec");
        let built = t0.elapsed();
        let mut ws = CascadeWorkspace::new(&g);
        // The most depended-upon service: the largest cascade this graph offers.
        let hub = g
            .services()
            .max_by_key(|&s| g.in_degree(s))
            .expect("non-empty");
        let t1 = Instant::now();
        let reached = ws.reach(&g, hub).len();
        let full = t1.elapsed();
        let mut rng = Seed(1).stream(0, 0);
        let all_hard = CascadeParams {
            soft_as_hard: true,
            ..PARAMS
        };
        let t2 = Instant::now();
        let hit = ws.spread(&g, hub, &all_hard, &mut rng).len();
        let spread = t2.elapsed();
        println!(
            "{label}: {n} services, {} edges, built in {built:.2?}, {} heap bytes/service; \
             reach from hub {reached} services in {full:.2?}; all-hard cascade {hit} in {spread:.2?}",
            g.edge_count(),
            g.heap_bytes() / g.len(),
        );
    }
}

/// A CSV edge list of `lines` edges: service i calls ten services just above it, so
/// there are `lines / 10` services and no duplicate edges.
fn csv_edge_list(lines: usize) -> String {
    let mut out = String::with_capacity(lines * 28);
    out.push_str("caller,callee,kind,calls\n");
    for k in 0..lines {
        let (i, d) = (k / 10, [1, 2, 3, 5, 7, 11, 13, 17, 19, 23][k % 10]);
        let kind = if (i + d) % 4 == 0 { "soft" } else { "hard" };
        out.push_str(&format!(
            "svc{i},svc{},{kind},{}\n",
            i + d,
            (i * 7 + d) % 100
        ));
    }
    out
}

fn csv_import_report() {
    let lines = if smoke() { 10_000 } else { 1_000_000 };
    let text = csv_edge_list(lines);
    let spec = TopologySpec::File {
        path: "edges.csv".into(),
        format: FileFormat::Csv,
        text,
    };
    let t0 = Instant::now();
    let g = build(&spec, &options()).expect("a valid edge list");
    let took = t0.elapsed();
    assert_eq!(g.edge_count(), lines);
    println!(
        "csv import: {lines} lines, {} services, in {took:.2?} ({:.2} µs/line)",
        g.len(),
        took.as_secs_f64() * 1e6 / lines as f64
    );
}

fn bench(c: &mut Criterion) {
    one_shot_report();
    csv_import_report();
    let mut group = c.benchmark_group("incident");
    let sizes: [u32; 2] = if smoke() {
        [10_000, 100_000]
    } else {
        [10_000, 1_000_000]
    };
    for services in sizes {
        let g = alibaba(services);
        let mut ws = CascadeWorkspace::new(&g);
        let origins = mid_sized_origins(&g, &mut ws);
        assert!(!origins.is_empty(), "no mid-sized origins");
        let mut rng = Seed(2).stream(0, 0);
        let mean_hit: f64 = origins
            .iter()
            .map(|&o| ws.spread(&g, o, &PARAMS, &mut rng).len() as f64)
            .sum::<f64>()
            / origins.len() as f64;
        let mean_reach: f64 = origins
            .iter()
            .map(|&o| ws.reach(&g, o).len() as f64)
            .sum::<f64>()
            / origins.len() as f64;
        println!(
            "alibaba-like {services}: {} origins, mean reach {mean_reach:.1}, mean cascade {mean_hit:.1}",
            origins.len()
        );
        let mut i = 0;
        group.bench_function(format!("spread/{services}"), |b| {
            b.iter(|| {
                i = (i + 1) % origins.len();
                black_box(ws.spread(&g, origins[i], &PARAMS, &mut rng).len())
            })
        });
        group.bench_function(format!("reach/{services}"), |b| {
            b.iter(|| {
                i = (i + 1) % origins.len();
                black_box(ws.reach(&g, origins[i]).len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
