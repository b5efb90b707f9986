//! Dependency graph, topologies, cascades and blast radius (issue 3): theory checks with
//! stated tolerances, exact reachability, importer errors with locations, a golden incident,
//! presets and generator determinism.

use std::collections::BTreeSet;

use blastsim::engine::{Seed, SimDuration, SimTime};
use blastsim::model::blast::blast_radius;
use blastsim::model::cascade::{CascadeParams, CascadeWorkspace, HitCause};
use blastsim::model::graph::{EdgeKind, ServiceGraph, ServiceGraphBuilder, ServiceId, ServiceSpec};
use blastsim::model::topology::{
    FileFormat, TopologyError, TopologyOptions, TopologyPreset, TopologySpec, build,
};
use proptest::prelude::*;
use rand::RngExt;

fn spec(name: String, weight: f64) -> ServiceSpec {
    ServiceSpec {
        name,
        weight,
        tier: 0,
        cells: 1,
    }
}

fn soft(t: f64) -> CascadeParams {
    CascadeParams {
        soft_propagation: t,
        soft_as_hard: false,
        overload_alpha: None,
    }
}

fn opts(soft_share: f64, fallback_share: f64, seed: u64) -> TopologyOptions {
    TopologyOptions {
        soft_share,
        fallback_share,
        cells: 1,
        seed,
    }
}

/// A complete k-ary tree of depth d whose children depend (softly) on their parent, so a
/// fault at the root spreads down the tree.
fn kary_tree(k: u32, d: u32) -> ServiceGraph {
    let mut b = ServiceGraphBuilder::new();
    let root = b.add_service(spec("n0".into(), 1.0));
    let mut level = vec![root];
    for _ in 0..d {
        let mut next = Vec::new();
        for &parent in &level {
            for _ in 0..k {
                let c = b.add_service(spec(format!("n{}", b.len()), 1.0));
                b.add_edge(c, parent, EdgeKind::Soft, false);
                next.push(c);
            }
        }
        level = next;
    }
    b.build()
}

/// Mean cascade size on a soft k-ary tree against the branching-process expectation
/// E[size] = Σ_{i=0..d} (kT)^i. Tolerance: 4 standard errors of the sample mean, computed
/// from the sample (P(false failure) ≈ 6e-5 for a correct cascade); the test also requires
/// the standard error to be under 1% of the expectation, so the check has teeth: a bias of
/// one node in 25 would fail it.
#[test]
fn soft_tree_matches_branching_process() {
    for &(k, d, t) in &[(3u32, 4u32, 0.3f64), (2, 6, 0.45)] {
        let g = kary_tree(k, d);
        let expected: f64 = (0..=d).map(|i| (k as f64 * t).powi(i as i32)).sum();
        let mut ws = CascadeWorkspace::new(&g);
        let mut rng = Seed(2026).stream(1, k as u64);
        let runs = 20_000;
        let sizes: Vec<f64> = (0..runs)
            .map(|_| ws.spread(&g, ServiceId(0), &soft(t), &mut rng).len() as f64)
            .collect();
        let mean = sizes.iter().sum::<f64>() / runs as f64;
        let var = sizes.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / (runs - 1) as f64;
        let se = (var / runs as f64).sqrt();
        println!(
            "k={k} d={d} T={t}: mean {mean:.4} expected {expected:.4} se {se:.4} \
             tolerance ±{:.4} ({:.2}% of expected)",
            4.0 * se,
            400.0 * se / expected
        );
        assert!(
            se < 0.01 * expected,
            "standard error {se} too large to test anything"
        );
        assert!(
            (mean - expected).abs() < 4.0 * se,
            "mean {mean} vs Σ(kT)^i = {expected} (±{})",
            4.0 * se
        );
    }
}

/// Reverse reachability by brute force: repeat over all edges until nothing changes.
fn naive_reach(g: &ServiceGraph, origin: ServiceId) -> BTreeSet<ServiceId> {
    let mut set = BTreeSet::from([origin]);
    loop {
        let before = set.len();
        for s in g.services() {
            if g.dependencies(s).iter().any(|e| set.contains(&e.other)) {
                set.insert(s);
            }
        }
        if set.len() == before {
            return set;
        }
    }
}

fn check_hard_equals_reach(g: &ServiceGraph, origins: impl Iterator<Item = ServiceId>) {
    let mut ws = CascadeWorkspace::new(g);
    let mut rng = Seed(1).stream(2, 0);
    for origin in origins {
        let hit: BTreeSet<ServiceId> = ws
            .spread(g, origin, &soft(0.5), &mut rng)
            .iter()
            .map(|h| h.service)
            .collect();
        let reach: BTreeSet<ServiceId> = ws.reach(g, origin).iter().copied().collect();
        let naive = naive_reach(g, origin);
        assert_eq!(hit, naive, "cascade from {origin:?}");
        assert_eq!(reach, naive, "reach from {origin:?}");
        let w: f64 = naive.iter().map(|&s| g.weight(s)).sum();
        assert!((ws.reach_weight(g, origin) - w).abs() < 1e-12);
    }
}

#[test]
fn hard_cascade_equals_reverse_reachability_on_generated_graphs() {
    for spec in [
        TopologySpec::Layered {
            services: 300,
            layers: 5,
            mean_dependencies: 3.0,
        },
        TopologySpec::ScaleFree {
            services: 300,
            edges_per_service: 2,
        },
        TopologySpec::AlibabaLike { services: 300 },
        TopologySpec::Preset {
            name: "deathstarbench-social-network".into(),
        },
    ] {
        let mut g = build(&spec, &opts(0.0, 0.0, 9)).unwrap();
        if matches!(spec, TopologySpec::Preset { .. }) {
            // The preset has soft edges; make the same structure all hard.
            let mut b = ServiceGraphBuilder::new();
            for s in g.services() {
                b.add_service(spec_of(&g, s));
            }
            for s in g.services() {
                for e in g.dependencies(s) {
                    b.add_edge(s, e.other, EdgeKind::Hard, false);
                }
            }
            g = b.build();
        }
        check_hard_equals_reach(&g, g.services().step_by(7));
    }
}

fn spec_of(g: &ServiceGraph, s: ServiceId) -> ServiceSpec {
    ServiceSpec {
        name: g.name(s).to_string(),
        weight: g.weight(s),
        tier: g.tier(s),
        cells: g.cells(s),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    /// Hard edges only, any small graph (cycles included): cascade = reverse reachability.
    #[test]
    fn hard_cascade_equals_reach_on_random_graphs(
        n in 1usize..12,
        edges in prop::collection::vec((0usize..12, 0usize..12), 0..40),
    ) {
        let mut b = ServiceGraphBuilder::new();
        for i in 0..n {
            b.add_service(spec(format!("s{i}"), 1.0));
        }
        let mut seen = BTreeSet::new();
        for (a, c) in edges {
            let (a, c) = (a % n, c % n);
            if a != c && seen.insert((a, c)) {
                b.add_edge(ServiceId(a as u32), ServiceId(c as u32), EdgeKind::Hard, false);
            }
        }
        let g = b.build();
        check_hard_equals_reach(&g, g.services());
    }
}

/// An Erdős–Rényi graph with mean degree c, each undirected edge {u, v} stored as two soft
/// edges (u depends on v and v on u). A fault reaching v through u can go on to v's other
/// k − 1 neighbours, exactly the excess degree of undirected percolation, so Newman's
/// T_c = ⟨k⟩/(⟨k²⟩−⟨k⟩) applies with k the number of dependents. The two directions get
/// independent draws (directed percolation): above T_c a cascade is giant with
/// probability S and then covers a share S of the graph, S = 1 − exp(−⟨k⟩ T S).
fn er_graph(n: u32, c: f64, seed: u64) -> ServiceGraph {
    let mut rng = Seed(seed).stream(3, 0);
    let mut b = ServiceGraphBuilder::new();
    for i in 0..n {
        b.add_service(spec(format!("s{i}"), 1.0));
    }
    let m = (c * n as f64 / 2.0) as usize;
    let mut pairs = BTreeSet::new();
    while pairs.len() < m {
        let u = rng.random_range(0..n);
        let v = rng.random_range(0..n);
        if u != v {
            pairs.insert((u.min(v), u.max(v)));
        }
    }
    for (u, v) in pairs {
        b.add_edge(ServiceId(u), ServiceId(v), EdgeKind::Soft, false);
        b.add_edge(ServiceId(v), ServiceId(u), EdgeKind::Soft, false);
    }
    b.build()
}

#[test]
fn random_graph_has_a_cascade_threshold() {
    let n = 2000u32;
    let g = er_graph(n, 4.0, 5);
    let k: Vec<f64> = g.services().map(|s| g.in_degree(s) as f64).collect();
    let k1 = k.iter().sum::<f64>() / n as f64;
    let k2 = k.iter().map(|x| x * x).sum::<f64>() / n as f64;
    let t_c = k1 / (k2 - k1);
    assert!(
        (t_c - 0.25).abs() < 0.03,
        "T_c {t_c} should be near 1/⟨k⟩ = 1/4"
    );
    let mut ws = CascadeWorkspace::new(&g);
    let mut rng = Seed(6).stream(4, 0);
    let mut sizes = |t: f64, runs: u32| -> Vec<usize> {
        (0..runs)
            .map(|i| {
                let origin = ServiceId(i % n);
                ws.spread(&g, origin, &soft(t), &mut rng).len()
            })
            .collect()
    };
    // Below: at T = T_c/2 the expected size is 1 + ⟨k⟩T/(1 − ⟨k⟩T) ≈ 2; allow 2×.
    let below = sizes(t_c / 2.0, 2000);
    let mean_below = below.iter().sum::<usize>() as f64 / below.len() as f64;
    let max_below = *below.iter().max().unwrap();
    println!("below T_c: mean {mean_below:.2}, max {max_below}");
    assert!(mean_below < 4.0, "subcritical mean {mean_below}");
    assert!(max_below < (n / 20) as usize, "subcritical max {max_below}");
    // Above: at T = 2 T_c, ⟨k⟩T ≈ 2 and S = 1 − e^{−2S} ≈ 0.797.
    let above = sizes(2.0 * t_c, 400);
    let giant: Vec<usize> = above
        .iter()
        .copied()
        .filter(|&s| s > (n / 10) as usize)
        .collect();
    let p_giant = giant.len() as f64 / above.len() as f64;
    let share = giant.iter().sum::<usize>() as f64 / giant.len() as f64 / n as f64;
    println!("above T_c: P(giant) {p_giant:.3}, giant share {share:.3} (theory 0.797 both)");
    assert!((p_giant - 0.797).abs() < 0.08, "P(giant) {p_giant}");
    assert!((share - 0.797).abs() < 0.05, "giant share {share}");
}

// ---------------------------------------------------------------------------------------
// Importers

fn file(format: FileFormat, text: &str) -> Result<ServiceGraph, TopologyError> {
    let path = match format {
        FileFormat::Csv => "deps.csv",
        FileFormat::Dot => "deps.dot",
        FileFormat::Jaeger => "deps.json",
    };
    build(
        &TopologySpec::File {
            path: path.into(),
            format,
            text: text.into(),
        },
        &opts(0.0, 0.0, 1),
    )
}

/// Asserts an import fails at `line:column` with a message containing `needle`.
fn fails_at(format: FileFormat, text: &str, line: usize, column: usize, needle: &str) {
    let e = file(format, text).expect_err("should fail");
    assert_eq!((e.line, e.column), (line, column), "{e}");
    assert!(e.message.contains(needle), "`{e}` lacks `{needle}`");
    assert!(
        e.to_string()
            .starts_with(&format!("{}:{line}:{column}: ", e.file))
    );
}

fn edge_kind(g: &ServiceGraph, from: &str, to: &str) -> Option<EdgeKind> {
    let to = g.find(to)?;
    g.dependencies(g.find(from)?)
        .iter()
        .find(|e| e.other == to)
        .map(|e| e.kind)
}

#[test]
fn csv_good_file() {
    let text = "caller,callee,kind,calls\n# the front end\nweb,api,hard,30\nweb,cdn,soft,10\n\
                api,db\nadmin,api,,10\n";
    let g = file(FileFormat::Csv, text).unwrap();
    assert_eq!((g.len(), g.edge_count()), (5, 4));
    assert_eq!(edge_kind(&g, "web", "cdn"), Some(EdgeKind::Soft));
    assert_eq!(edge_kind(&g, "api", "db"), Some(EdgeKind::Hard));
    // Entries web (40 calls) and admin (10) share 90%: 0.72 and 0.18; api, cdn, db 0.1/3.
    let w = |n: &str| g.weight(g.find(n).unwrap());
    assert!((w("web") - 0.72).abs() < 1e-12 && (w("admin") - 0.18).abs() < 1e-12);
    assert!((w("db") - 0.1 / 3.0).abs() < 1e-12);
}

#[test]
fn csv_malformed_files_are_located() {
    fails_at(FileFormat::Csv, "a,b\nlonely\n", 2, 1, "found 1 fields");
    fails_at(
        FileFormat::Csv,
        "a,b\nb,c,sometimes\n",
        2,
        5,
        "unknown edge kind `sometimes`",
    );
    fails_at(
        FileFormat::Csv,
        "a,b\n# again\n\na,b\n",
        4,
        1,
        "duplicate edge a -> b (first on line 1)",
    );
    fails_at(
        FileFormat::Csv,
        "x,y\na,b,hard,-3\n",
        2,
        10,
        "negative call count -3",
    );
    // Before the first edge the file may not be an edge list at all: no value is quoted.
    fails_at(
        FileFormat::Csv,
        "a,b,hard,-3\n",
        1,
        1,
        "does not look like a CSV edge list: line 1 has a fourth field",
    );
    fails_at(
        FileFormat::Csv,
        "user,hunter2,secret\n",
        1,
        1,
        "has a third field that is not an edge kind",
    );
    let e = file(FileFormat::Csv, "user,hunter2,secret\n").unwrap_err();
    assert!(!e.message.contains("secret"), "{e}");
    // Quoted fields still go through the csv crate.
    let g = file(FileFormat::Csv, "\"a,1\",b\nb,\"c\"\"d\"\n").unwrap();
    assert!(g.find("a,1").is_some() && g.find("c\"d").is_some());
    fails_at(FileFormat::Csv, "# nothing\n\n", 1, 1, "no edges found");
    fails_at(FileFormat::Csv, "a,b\nc,c\n", 2, 3, "depends on itself");
    // Unknown node: CSV declares services by use, so there is no such error to give.
}

const GOOD_DOT: &str = r#"
/* A shop. */
strict digraph shop {
  rankdir = LR;
  node [cells=2];
  web [weight=3, tier=0, cells=4, label="Web"];
  "api-gw" [weight=1];
  api; db; cache; search;
  web -> "api-gw" -> api -> db;   // a chain
  api -> cache [kind=soft];
  # a preprocessor-style comment line
  edge [kind=soft];
  web -> search [fallback=false];
  search -> db [kind=hard, fallback=true];
}
"#;

#[test]
fn dot_good_file() {
    let g = file(FileFormat::Dot, GOOD_DOT).unwrap();
    assert_eq!((g.len(), g.edge_count()), (6, 6));
    let id = |n: &str| g.find(n).unwrap();
    assert_eq!(g.name(id("api-gw")), "api-gw");
    assert_eq!((g.cells(id("web")), g.cells(id("db"))), (4, 2));
    assert_eq!(
        (
            g.weight(id("web")),
            g.weight(id("api-gw")),
            g.weight(id("db"))
        ),
        (0.75, 0.25, 0.0)
    );
    assert_eq!(edge_kind(&g, "api", "cache"), Some(EdgeKind::Soft));
    assert_eq!(edge_kind(&g, "web", "search"), Some(EdgeKind::Soft));
    assert_eq!(edge_kind(&g, "api", "db"), Some(EdgeKind::Hard));
    let search_db = g.dependencies(id("search"))[0];
    assert!(search_db.fallback && search_db.kind == EdgeKind::Hard);
    // Tiers: web given 0; db's hard reach is web + api-gw + api = 100% of traffic → 0;
    // cache and search are reached only softly or through a fallback → 2.
    assert_eq!(
        (g.tier(id("db")), g.tier(id("cache")), g.tier(id("search"))),
        (0, 2, 2)
    );
}

#[test]
fn dot_malformed_files_are_located() {
    fails_at(
        FileFormat::Dot,
        "digraph {\n  a -> ;\n}\n",
        2,
        8,
        "expected a node id after `->`",
    );
    fails_at(
        FileFormat::Dot,
        "digraph {\n  a [weight=1\n}\n",
        3,
        1,
        "unexpected `}`; expected an attribute name or `]`",
    );
    fails_at(
        FileFormat::Dot,
        "graph g { a -- b }",
        1,
        1,
        "expected `digraph`",
    );
    fails_at(
        FileFormat::Dot,
        "digraph {\n  a; b;\n  a -> bb;\n}\n",
        3,
        8,
        "unknown service `bb`",
    );
    fails_at(
        FileFormat::Dot,
        "digraph {\n a -> b;\n\n a -> b [kind=soft];\n}",
        4,
        7,
        "duplicate edge a -> b (first on line 2)",
    );
    fails_at(
        FileFormat::Dot,
        "digraph {\n  a [weight=-2];\n}",
        2,
        13,
        "negative weight -2",
    );
    fails_at(
        FileFormat::Dot,
        "// nothing\ndigraph empty {\n}\n",
        3,
        1,
        "declares no services",
    );
    fails_at(
        FileFormat::Dot,
        "digraph { a -> a }",
        1,
        16,
        "depends on itself",
    );
    fails_at(
        FileFormat::Dot,
        "digraph { a -> b [kind=maybe] }",
        1,
        24,
        "expected hard or soft",
    );
    fails_at(
        FileFormat::Dot,
        "digraph { subgraph x { a } }",
        1,
        11,
        "subgraphs are not supported",
    );
    fails_at(
        FileFormat::Dot,
        "digraph { a -> \"b }",
        1,
        16,
        "unterminated quoted id",
    );
}

#[test]
fn jaeger_good_files() {
    let text = r#"[
  {"parent": "frontend", "child": "cart", "callCount": 60},
  {"parent": "frontend", "child": "catalog", "callCount": 20},
  {"parent": "batch", "child": "catalog", "callCount": 20},
  {"parent": "cart", "child": "cart", "callCount": 5},
  {"parent": "cart", "child": "redis", "callCount": 70}
]"#;
    let g = file(FileFormat::Jaeger, text).unwrap();
    assert_eq!(
        (g.len(), g.edge_count()),
        (5, 4),
        "the self-call is skipped"
    );
    let w = |n: &str| g.weight(g.find(n).unwrap());
    // Entries frontend (80 calls) and batch (20) share 90%; the three others 0.1/3 each.
    assert!((w("frontend") - 0.72).abs() < 1e-12 && (w("batch") - 0.18).abs() < 1e-12);
    assert!((w("redis") - 0.1 / 3.0).abs() < 1e-12);
    let wrapped = format!("{{\"data\": {text}, \"total\": 5}}");
    let g2 = file(FileFormat::Jaeger, &wrapped).unwrap();
    assert_eq!(g2.edge_count(), 4);
}

#[test]
fn jaeger_malformed_files_are_located() {
    fails_at(
        FileFormat::Jaeger,
        "[\n {\"parent\": \"a\", \"child\": \"b\" \"callCount\": 1}\n]",
        2,
        31,
        "expected `,` or `}`",
    );
    fails_at(
        FileFormat::Jaeger,
        "[\n {\"parent\": \"a\", \"child\": \"b\", \"callCount\": -4}\n]",
        2,
        46, // serde_json points at the end of the offending token
        "invalid value: integer `-4`",
    );
    fails_at(
        FileFormat::Jaeger,
        "[\n {\"parent\": \"a\", \"child\": \"b\", \"callCount\": 4},\n  {\"parent\": \"a\", \"child\": \"b\", \"callCount\": 1}\n]",
        3,
        3,
        "duplicate edge a -> b (first on line 2)",
    );
    fails_at(FileFormat::Jaeger, "\n  []", 2, 3, "no dependencies found");
    fails_at(
        FileFormat::Jaeger,
        "[{\"parent\": \"a\", \"callCount\": 1}]",
        1,
        32,
        "missing field `child`",
    );
    // Unknown node: Jaeger declares services by use, so there is no such error to give.
}

// ---------------------------------------------------------------------------------------
// Blast radius

/// Five services, weights 4:3:1:1:1 → 0.4, 0.3, 0.1, 0.1, 0.1:
///
/// ```text
///   a ──hard──▶ c ──hard──▶ d ◀──hard+fallback── e
///   b ──soft──▶ c
/// ```
///
/// A fault at d, T = 0: d (depth 0) → c (hard, depth 1) → a (hard, depth 2); b's soft edge
/// is not crossed and e has a fallback. The change reached one cell of two (share 0.5).
/// It starts at 10:00, the origin is restored at 11:00, restart_step 5 min:
/// d is down 60 min, c 65 min, a 70 min.
/// users_hit_peak = 0.5 × (0.1 + 0.1 + 0.4) = 0.3
/// user_impact_min = 0.5 × (0.1×60 + 0.1×65 + 0.4×70) = 0.5 × 40.5 = 20.25
/// restored_at = 11:10. With soft edges as hard, b joins at depth 2:
/// peak 0.5 × 0.9 = 0.45, impact 0.5 × (40.5 + 0.3×70) = 30.75.
#[test]
fn golden_five_service_incident() {
    let mut bld = ServiceGraphBuilder::new();
    let [a, b, c, d, e] = [("a", 4.0), ("b", 3.0), ("c", 1.0), ("d", 1.0), ("e", 1.0)]
        .map(|(n, w)| bld.add_service(spec(n.into(), w)));
    bld.add_edge(a, c, EdgeKind::Hard, false);
    bld.add_edge(b, c, EdgeKind::Soft, false);
    bld.add_edge(c, d, EdgeKind::Hard, false);
    bld.add_edge(e, d, EdgeKind::Hard, true);
    let g = bld.build();
    let mut ws = CascadeWorkspace::new(&g);
    let mut rng = Seed(3).stream(5, 0);
    let start = SimTime(0) + SimDuration::from_hours(10);
    let restored = start + SimDuration::from_mins(60);
    let step = SimDuration::from_mins(5);

    let hits = ws.spread(&g, d, &soft(0.0), &mut rng).to_vec();
    let order: Vec<(ServiceId, u32, HitCause)> =
        hits.iter().map(|h| (h.service, h.depth, h.cause)).collect();
    assert_eq!(
        order,
        vec![
            (d, 0, HitCause::Origin),
            (c, 1, HitCause::Hard),
            (a, 2, HitCause::Hard)
        ]
    );
    let r = blast_radius(&g, &hits, 0.5, start, restored, step);
    assert_eq!(r.services_hit, 3);
    assert!((r.users_hit_peak - 0.3).abs() < 1e-12, "{r:?}");
    assert!((r.user_impact_min - 20.25).abs() < 1e-9, "{r:?}");
    assert_eq!(r.restored_at, start + SimDuration::from_mins(70));

    let all_hard = CascadeParams {
        soft_as_hard: true,
        ..soft(0.0)
    };
    let hits = ws.spread(&g, d, &all_hard, &mut rng).to_vec();
    assert_eq!(hits.len(), 4);
    let r = blast_radius(&g, &hits, 0.5, start, restored, step);
    assert!((r.users_hit_peak - 0.45).abs() < 1e-12, "{r:?}");
    assert!((r.user_impact_min - 30.75).abs() < 1e-9, "{r:?}");
    assert!(!hits.iter().any(|h| h.service == e), "fallback holds");
}

// ---------------------------------------------------------------------------------------
// Presets and generators

#[test]
fn presets_load_with_expected_counts() {
    let load = |name: &str| {
        build(
            &TopologySpec::Preset { name: name.into() },
            &opts(0.0, 0.0, 1),
        )
    };
    let dsb = load("deathstarbench-social-network").unwrap();
    assert_eq!((dsb.len(), dsb.edge_count()), (27, 46));
    let id = |n: &str| dsb.find(n).unwrap();
    // The user ↔ social-graph cycle.
    assert_eq!(
        edge_kind(&dsb, "user-service", "social-graph-service"),
        Some(EdgeKind::Hard)
    );
    assert_eq!(
        edge_kind(&dsb, "social-graph-service", "user-service"),
        Some(EdgeKind::Hard)
    );
    assert_eq!(
        edge_kind(&dsb, "text-service", "jaeger-agent"),
        Some(EdgeKind::Soft)
    );
    assert_eq!(dsb.tier(id("post-storage-mongodb")), 0);
    assert_eq!(dsb.tier(id("jaeger-agent")), 2, "only soft callers");
    let tt = load("train-ticket").unwrap();
    assert_eq!(tt.len(), 41);
    assert_eq!(TopologyPreset::ALL.len(), 2);
    let e = load("no-such-preset").unwrap_err();
    assert!(
        e.message
            .contains("deathstarbench-social-network, train-ticket"),
        "{e}"
    );
}

/// Per service: name, weight bits, tier, and (dependency, soft, fallback) per edge.
type Fingerprint = Vec<(String, u64, u8, Vec<(u32, bool, bool)>)>;

fn fingerprint(g: &ServiceGraph) -> Fingerprint {
    g.services()
        .map(|s| {
            let deps = g
                .dependencies(s)
                .iter()
                .map(|e| (e.other.0, e.kind == EdgeKind::Soft, e.fallback))
                .collect();
            (
                g.name(s).to_string(),
                g.weight(s).to_bits(),
                g.tier(s),
                deps,
            )
        })
        .collect()
}

#[test]
fn generators_are_deterministic_per_seed() {
    for spec in [
        TopologySpec::Layered {
            services: 500,
            layers: 4,
            mean_dependencies: 2.5,
        },
        TopologySpec::ScaleFree {
            services: 500,
            edges_per_service: 3,
        },
        TopologySpec::AlibabaLike { services: 500 },
    ] {
        let a = build(&spec, &opts(0.3, 0.2, 11)).unwrap();
        let b = build(&spec, &opts(0.3, 0.2, 11)).unwrap();
        let c = build(&spec, &opts(0.3, 0.2, 12)).unwrap();
        assert_eq!(fingerprint(&a), fingerprint(&b), "{spec:?}");
        assert_ne!(fingerprint(&a), fingerprint(&c), "{spec:?}");
        let total: f64 = a.services().map(|s| a.weight(s)).sum();
        assert!((total - 1.0).abs() < 1e-9);
        // soft_share 0.3 of edges soft, within 5 binomial standard errors.
        let edges: Vec<_> = a
            .services()
            .flat_map(|s| a.dependencies(s).to_vec())
            .collect();
        let soft_n = edges.iter().filter(|e| e.kind == EdgeKind::Soft).count() as f64;
        let m = edges.len() as f64;
        assert!(
            (soft_n / m - 0.3).abs() < 5.0 * (0.3f64 * 0.7 / m).sqrt(),
            "{spec:?}"
        );
    }
}

/// Roles by structure: entry = nothing depends on it; leaf = depends on nothing.
fn roles(g: &ServiceGraph) -> (usize, usize, usize) {
    let entry = g.services().filter(|&s| g.in_degree(s) == 0).count();
    let leaf = g.services().filter(|&s| g.out_degree(s) == 0).count();
    (entry, g.len() - entry - leaf, leaf)
}

#[test]
fn generators_give_the_stated_shares() {
    let ali = build(
        &TopologySpec::AlibabaLike { services: 10_000 },
        &opts(0.0, 0.0, 4),
    )
    .unwrap();
    assert_eq!(
        roles(&ali),
        (1300, 4800, 3900),
        "13% entry, 48% middle, 39% leaf"
    );
    // Entries carry 90% of user traffic; fan-out is heavy-tailed (max ≫ mean).
    let entry_w: f64 = ali
        .services()
        .filter(|&s| ali.in_degree(s) == 0)
        .map(|s| ali.weight(s))
        .sum();
    assert!((entry_w - 0.9).abs() < 1e-9);
    let max_out = ali.services().map(|s| ali.out_degree(s)).max().unwrap();
    let mean_out = ali.edge_count() as f64 / ali.len() as f64;
    assert!(
        max_out as f64 > 20.0 * mean_out,
        "max fan-out {max_out}, mean {mean_out}"
    );

    let lay = build(
        &TopologySpec::Layered {
            services: 1000,
            layers: 4,
            mean_dependencies: 3.0,
        },
        &opts(0.0, 0.0, 4),
    )
    .unwrap();
    // Four layers of 250; layer 0 has no callers, the last layer no dependencies, and
    // edges only point down.
    let layer = |s: ServiceId| lay.name(s)[1..2].parse::<u32>().unwrap();
    for l in 0..4 {
        assert_eq!(lay.services().filter(|&s| layer(s) == l).count(), 250);
    }
    for s in lay.services() {
        assert!(
            lay.dependencies(s)
                .iter()
                .all(|e| layer(e.other) > layer(s))
        );
        assert_eq!(layer(s) == 3, lay.out_degree(s) == 0);
        if layer(s) == 0 {
            assert_eq!(lay.in_degree(s), 0);
        }
    }
    let mean_deps = lay.edge_count() as f64 / 750.0;
    assert!(
        (mean_deps - 3.0).abs() < 0.15,
        "mean dependencies {mean_deps}"
    );

    let sf = build(
        &TopologySpec::ScaleFree {
            services: 5000,
            edges_per_service: 2,
        },
        &opts(0.0, 0.0, 4),
    )
    .unwrap();
    let max_in = sf.services().map(|s| sf.in_degree(s)).max().unwrap();
    assert!(
        max_in > 50,
        "preferential attachment makes hubs (max in-degree {max_in})"
    );
}

#[test]
fn bad_generator_and_option_values_are_errors() {
    let e = build(
        &TopologySpec::Layered {
            services: 10,
            layers: 1,
            mean_dependencies: 2.0,
        },
        &opts(0.0, 0.0, 1),
    )
    .unwrap_err();
    assert!(e.message.contains("expected at least 2"), "{e}");
    let e = build(
        &TopologySpec::AlibabaLike { services: 10 },
        &opts(1.5, 0.0, 1),
    )
    .unwrap_err();
    assert!(e.message.contains("soft_share 1.5"), "{e}");
}
