//! Where service graphs come from: generators, importers and shipped presets.
//!
//! `build` is the one entry point the scenario layer calls. File text is read by the
//! caller and passed in, so this module does no I/O; presets are compiled in with
//! `include_str!`, so they work from any working directory.
//!
//! Every source first produces a `RawGraph` (names, edges, what the source said), and
//! `finish` turns it into a `ServiceGraph` with the rules shared by all sources:
//!
//! - **Edge kinds**: generated edges are soft with probability `soft_share`; file edges are
//!   hard unless the file says soft. A hard edge gets a fallback with probability
//!   `fallback_share` unless the file says. Two draws per edge, in edge order, from stream
//!   `STREAM_EDGES` of `TopologyOptions::seed`, whatever the shares, so changing a share
//!   flips the fewest edges (common random numbers across sweep points).
//! - **User-traffic weights** (unless a DOT file gives `weight`s, which are then used as they
//!   are, unset ones 0): entry services, those nothing depends on, carry
//!   `ENTRY_TRAFFIC_SHARE` (90%) of user traffic, divided in proportion to a base weight:
//!   a Pareto(1, 1.16) draw for generators (the "80/20" shape: a few entry points carry
//!   most traffic), the calls an entry makes for Jaeger and CSV files with call counts, and
//!   equal shares otherwise. Every other service gets an equal part of the remaining 10%
//!   (direct internal traffic: jobs, admin calls). If every service is an entry, entries
//!   carry all of it; if none is (everything on a cycle), shares are equal.
//! - **Tiers** (unless a DOT file gives `tier`): from traffic reach, the upper bound of
//!   `ServiceGraph::reach_weight_bound` over hard edges without fallback, i.e. the user
//!   traffic that fails for certain when the service fails: tier 0 at ≥ 10%, tier 1 at
//!   ≥ 1%, tier 2 below.
//! - **Cells**: `TopologyOptions::cells` unless a DOT file gives `cells`.

mod csv_edges;
mod dot;
mod generate;
mod jaeger;

use std::fmt;

use rand::RngExt;

use crate::engine::Seed;
use crate::model::graph::{EdgeKind, ServiceGraph, ServiceGraphBuilder, ServiceSpec};

pub use generate::{ALIBABA_ENTRY_SHARE, ALIBABA_LEAF_SHARE, LAYERED_NEXT_LAYER_P};

/// Which graph to build.
#[derive(Clone, Debug, PartialEq)]
pub enum TopologySpec {
    /// Layered microservices: entry, middle and leaf layers.
    Layered {
        /// Number of services.
        services: u32,
        /// Number of layers (at least 2).
        layers: u32,
        /// Mean dependencies per non-leaf service.
        mean_dependencies: f64,
    },
    /// Preferential attachment (Barabási–Albert).
    ScaleFree {
        /// Number of services.
        services: u32,
        /// Dependencies each new service takes.
        edges_per_service: u32,
    },
    /// Tree-like call graphs with heavy-tailed fan-out and the Alibaba 2022 shares
    /// (13% entry, 39% leaf, 48% middle).
    AlibabaLike {
        /// Number of services.
        services: u32,
    },
    /// A file the caller has read.
    File {
        /// The path as shown in errors.
        path: String,
        /// Its format.
        format: FileFormat,
        /// Its contents.
        text: String,
    },
    /// A shipped preset, by name (see `PRESETS`).
    Preset {
        /// The preset name.
        name: String,
    },
}

/// Formats a topology file can have.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    /// `caller,callee[,kind]` lines.
    Csv,
    /// A Graphviz DOT subset.
    Dot,
    /// Jaeger's dependencies JSON.
    Jaeger,
}

crate::kind_names!(FileFormat, "topology format", { Csv => "csv", Dot => "dot", Jaeger => "jaeger" });

impl FileFormat {
    /// The file extensions (lowercase, without the dot) that imply this format.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            FileFormat::Csv => &["csv"],
            FileFormat::Dot => &["dot", "gv"],
            FileFormat::Jaeger => &["json"],
        }
    }

    /// The format a file extension implies (case-insensitive), if any.
    pub fn from_extension(ext: &str) -> Option<FileFormat> {
        let ext = ext.to_ascii_lowercase();
        FileFormat::ALL
            .into_iter()
            .find(|f| f.extensions().contains(&ext.as_str()))
    }
}

/// The graph generators (`topology = { generator = "..." }`), one per generated
/// `TopologySpec` variant.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Generator {
    /// `TopologySpec::Layered`.
    Layered,
    /// `TopologySpec::ScaleFree`.
    ScaleFree,
    /// `TopologySpec::AlibabaLike`.
    AlibabaLike,
}

crate::kind_names!(Generator, "topology generator", {
    Layered => "layered",
    ScaleFree => "scale_free",
    AlibabaLike => "alibaba_like",
});

/// The shipped topology presets (`topology = { preset = "..." }`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopologyPreset {
    /// DeathStarBench socialNetwork.
    DeathStarBenchSocialNetwork,
    /// TrainTicket.
    TrainTicket,
}

crate::kind_names!(TopologyPreset, "topology preset", {
    DeathStarBenchSocialNetwork => "deathstarbench-social-network",
    TrainTicket => "train-ticket",
});

impl TopologyPreset {
    /// The preset's DOT text, compiled into the binary.
    pub fn text(self) -> &'static str {
        match self {
            TopologyPreset::DeathStarBenchSocialNetwork => {
                include_str!("../../../scenarios/topologies/deathstarbench-social-network.dot")
            }
            TopologyPreset::TrainTicket => {
                include_str!("../../../scenarios/topologies/train-ticket.dot")
            }
        }
    }
}

/// Settings that apply to every topology source.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TopologyOptions {
    /// Share of generated edges that are soft (files say per edge; unsaid means hard).
    pub soft_share: f64,
    /// Share of hard edges on which the dependent has a fallback.
    pub fallback_share: f64,
    /// Cells per service when the source does not say.
    pub cells: u32,
    /// Seed for generators and for the soft/fallback draws.
    pub seed: u64,
}

/// A topology that could not be built, located in its file where it came from one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopologyError {
    /// The file, or the preset or generator name.
    pub file: String,
    /// 1-based line, 0 when not from a file.
    pub line: usize,
    /// 1-based column, 0 when unknown.
    pub column: usize,
    /// What was wrong and what was expected.
    pub message: String,
}

impl fmt::Display for TopologyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.column, self.message
            )
        } else {
            write!(f, "{}: {}", self.file, self.message)
        }
    }
}

impl std::error::Error for TopologyError {}

/// Builds the graph a spec describes.
///
/// Generator sizes over `SERVICES_MAX` (or edges they would make over `EDGES_MAX`) are
/// refused before anything is allocated; a file over either limit after it is read.
pub fn build(spec: &TopologySpec, opts: &TopologyOptions) -> Result<ServiceGraph, TopologyError> {
    check_options(opts)?;
    if let Some(message) = size_error(spec) {
        return Err(TopologyError {
            file: "topology".to_string(),
            line: 0,
            column: 0,
            message,
        });
    }
    let raw = match spec {
        TopologySpec::Layered {
            services,
            layers,
            mean_dependencies,
        } => generate::layered(*services, *layers, *mean_dependencies, opts.seed)?,
        TopologySpec::ScaleFree {
            services,
            edges_per_service,
        } => generate::scale_free(*services, *edges_per_service, opts.seed)?,
        TopologySpec::AlibabaLike { services } => generate::alibaba_like(*services, opts.seed)?,
        TopologySpec::File { path, format, text } => {
            let raw = parse_file(path, *format, text)?;
            let too_many = |n: usize, limit: &str, max: u64, what: &str| TopologyError {
                file: path.clone(),
                line: 0,
                column: 0,
                message: format!(
                    "the file has {n} {what}, over the limit {limit} = {max} (the tested \
                     maximum is 10^6 services)"
                ),
            };
            if raw.names.len() as u64 > SERVICES_MAX {
                return Err(too_many(
                    raw.names.len(),
                    "SERVICES_MAX",
                    SERVICES_MAX,
                    "services",
                ));
            }
            if raw.edges.len() as u64 > EDGES_MAX {
                return Err(too_many(raw.edges.len(), "EDGES_MAX", EDGES_MAX, "edges"));
            }
            raw
        }
        TopologySpec::Preset { name } => {
            let Some(text) = preset_text(name) else {
                return Err(TopologyError {
                    file: "topology".to_string(),
                    line: 0,
                    column: 0,
                    message: format!(
                        "unknown preset `{name}`; expected one of: {}",
                        TopologyPreset::ALL.map(TopologyPreset::name).join(", ")
                    ),
                });
            };
            dot::parse(&format!("scenarios/topologies/{name}.dot"), text)?
        }
    };
    Ok(finish(raw, opts))
}

/// Why a generator spec is too large (see `SERVICES_MAX`, `EDGES_MAX`), if it is.
pub fn size_error(spec: &TopologySpec) -> Option<String> {
    let (services, edges) = match spec {
        TopologySpec::Layered {
            services,
            mean_dependencies,
            ..
        } => (*services, f64::from(*services) * mean_dependencies),
        TopologySpec::ScaleFree {
            services,
            edges_per_service,
        } => (
            *services,
            f64::from(*services) * f64::from(*edges_per_service),
        ),
        // Tree edges plus at most half as many cross edges (see `generate::alibaba_like`).
        TopologySpec::AlibabaLike { services } => (*services, f64::from(*services) * 1.5),
        TopologySpec::File { .. } | TopologySpec::Preset { .. } => return None,
    };
    if u64::from(services) > SERVICES_MAX {
        return Some(format!(
            "{services} services is over the limit SERVICES_MAX = {SERVICES_MAX} (the tested \
             maximum is 10^6, which the cascade bench builds)"
        ));
    }
    if edges > EDGES_MAX as f64 {
        return Some(format!(
            "{services} services would make about {edges:.0} edges, over the limit EDGES_MAX = \
             {EDGES_MAX}; use fewer services or fewer dependencies per service"
        ));
    }
    None
}

/// Parses topology file text in the given format.
fn parse_file(path: &str, format: FileFormat, text: &str) -> Result<RawGraph, TopologyError> {
    match format {
        FileFormat::Csv => csv_edges::parse(path, text),
        FileFormat::Dot => dot::parse(path, text),
        FileFormat::Jaeger => jaeger::parse(path, text),
    }
}

/// The DOT text of a shipped preset.
pub fn preset_text(name: &str) -> Option<&'static str> {
    use crate::model::config::Kind;
    TopologyPreset::parse(name).ok().map(TopologyPreset::text)
}

/// Most services a graph may have (2 × 10^6): the cascade bench builds and tests 10^6, and
/// per-service state of a run stays under a few hundred MB at this size.
pub const SERVICES_MAX: u64 = 2_000_000;

/// Most dependency edges a graph may have (2 × 10^7): a 10^7-line edge list imports in
/// seconds, and the adjacency lists stay under 1 GB.
pub const EDGES_MAX: u64 = 20_000_000;

/// Longest line of a scenario or CSV edge-list file, in bytes (64 KiB): no real line is
/// near it, and it keeps a line that is a whole file from reaching the line-wise readers.
/// DOT and Jaeger JSON may legitimately be one long line; they are bounded by file size.
pub const LINE_BYTES_MAX: usize = 64 << 10;

/// Share of user traffic that enters at entry services (see the module docs).
pub const ENTRY_TRAFFIC_SHARE: f64 = 0.9;
/// Traffic reach at or above which a service is tier 0.
pub const TIER0_REACH: f64 = 0.10;
/// Traffic reach at or above which a service is tier 1 (below: tier 2).
pub const TIER1_REACH: f64 = 0.01;

/// Stream kind of the per-edge soft and fallback draws.
const STREAM_EDGES: u64 = 0x746f_706f_6564_6765; // "topoedge"

/// One edge as a source gave it; `None` means the source did not say.
#[derive(Clone, Copy, Debug)]
struct RawEdge {
    from: u32,
    to: u32,
    kind: Option<EdgeKind>,
    fallback: Option<bool>,
}

/// A graph as a source described it, before the shared rules fill the gaps.
#[derive(Clone, Debug, Default)]
struct RawGraph {
    names: Vec<String>,
    /// Base weight for the entry-traffic rule (see the module docs).
    base_weight: Vec<f64>,
    /// Weights the file gave explicitly (then used as they are, unset ones 0).
    explicit_weight: Option<Vec<f64>>,
    tier: Vec<Option<u8>>,
    cells: Vec<Option<u32>>,
    edges: Vec<RawEdge>,
    /// Edges whose kind is unsaid are drawn soft with `soft_share` (generators) rather
    /// than hard (files).
    generated: bool,
}

impl RawGraph {
    /// Adds a service with nothing said about it; returns its id.
    fn add(&mut self, name: String) -> u32 {
        self.names.push(name);
        self.base_weight.push(0.0);
        self.tier.push(None);
        self.cells.push(None);
        self.names.len() as u32 - 1
    }
}

fn check_options(opts: &TopologyOptions) -> Result<(), TopologyError> {
    let bad = |message: String| TopologyError {
        file: "topology".to_string(),
        line: 0,
        column: 0,
        message,
    };
    if !(0.0..=1.0).contains(&opts.soft_share) {
        return Err(bad(format!(
            "soft_share {} must be between 0 and 1",
            opts.soft_share
        )));
    }
    if !(0.0..=1.0).contains(&opts.fallback_share) {
        return Err(bad(format!(
            "fallback_share {} must be between 0 and 1",
            opts.fallback_share
        )));
    }
    if opts.cells == 0 {
        return Err(bad("cells must be at least 1".to_string()));
    }
    Ok(())
}

/// Applies the shared rules (module docs) and freezes the graph.
fn finish(raw: RawGraph, opts: &TopologyOptions) -> ServiceGraph {
    let n = raw.names.len();
    assert!(n > 0, "sources reject empty graphs before finishing");
    let mut callers = vec![0u32; n];
    for e in &raw.edges {
        callers[e.to as usize] += 1;
    }
    let weights = match raw.explicit_weight {
        Some(w) => w,
        None => rule_weights(&callers, &raw.base_weight),
    };
    let mut rng = Seed(opts.seed).stream(STREAM_EDGES, 0);
    let mut b = ServiceGraphBuilder::new();
    let RawGraph {
        names,
        tier,
        cells,
        edges,
        generated,
        ..
    } = raw;
    for (i, name) in names.into_iter().enumerate() {
        b.add_service(ServiceSpec {
            name,
            weight: weights[i],
            tier: 0,
            cells: cells[i].unwrap_or(opts.cells),
        });
    }
    for e in &edges {
        let soft_draw: f64 = rng.random();
        let fallback_draw: f64 = rng.random();
        let kind = e
            .kind
            .unwrap_or(if generated && soft_draw < opts.soft_share {
                EdgeKind::Soft
            } else {
                EdgeKind::Hard
            });
        let fallback = e
            .fallback
            .unwrap_or(kind == EdgeKind::Hard && fallback_draw < opts.fallback_share);
        b.add_edge(
            crate::model::graph::ServiceId(e.from),
            crate::model::graph::ServiceId(e.to),
            kind,
            fallback,
        );
    }
    let mut graph = b.build();
    let reach = graph.reach_weight_bound(|e| e.kind == EdgeKind::Hard && !e.fallback);
    let tiers = reach
        .iter()
        .zip(&tier)
        .map(|(&r, &given)| {
            given.unwrap_or(if r >= TIER0_REACH {
                0
            } else if r >= TIER1_REACH {
                1
            } else {
                2
            })
        })
        .collect();
    graph.set_tiers(tiers);
    graph
}

/// The entry-traffic rule of the module docs. `callers[i]` counts services calling i.
fn rule_weights(callers: &[u32], base: &[f64]) -> Vec<f64> {
    let n = callers.len();
    let entries = callers.iter().filter(|&&c| c == 0).count();
    if entries == 0 {
        return vec![1.0 / n as f64; n];
    }
    let entry_share = if entries == n {
        1.0
    } else {
        ENTRY_TRAFFIC_SHARE
    };
    let base_sum: f64 = (0..n).filter(|&i| callers[i] == 0).map(|i| base[i]).sum();
    let inner_each = (1.0 - entry_share) / (n - entries).max(1) as f64;
    (0..n)
        .map(|i| {
            if callers[i] > 0 {
                inner_each
            } else if base_sum > 0.0 {
                entry_share * base[i] / base_sum
            } else {
                entry_share / entries as f64
            }
        })
        .collect()
}

/// 1-based line and column of byte `offset` in `text` (columns count characters).
fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}
