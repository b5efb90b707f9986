//! Where service graphs come from: generators, importers and shipped presets.
//!
//! `build` is the one entry point the scenario layer calls. File text is read by the
//! caller and passed in, so this module does no I/O.

use std::fmt;

use crate::model::graph::{ServiceGraph, ServiceGraphBuilder, ServiceSpec};

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

/// Names of the shipped presets.
pub const PRESETS: &[&str] = &["deathstarbench-social-network", "train-ticket"];

/// Builds the graph a spec describes.
///
/// PLACEHOLDER until the topology work lands: every spec yields a chain of services.
pub fn build(spec: &TopologySpec, _opts: &TopologyOptions) -> Result<ServiceGraph, TopologyError> {
    let n = match spec {
        TopologySpec::Layered { services, .. }
        | TopologySpec::ScaleFree { services, .. }
        | TopologySpec::AlibabaLike { services } => *services,
        _ => 10,
    };
    let mut b = ServiceGraphBuilder::new();
    for i in 0..n {
        b.add_service(ServiceSpec {
            name: format!("svc-{i}"),
            weight: 1.0,
            tier: 1,
            cells: 1,
        });
    }
    Ok(b.build())
}
