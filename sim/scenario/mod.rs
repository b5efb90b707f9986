//! Scenario files: TOML parsed into raw serde types, then validated into a `Scenario`.
//!
//! Every user mistake becomes a `ScenarioError` with file, line and column; nothing here
//! panics on input. A `Scenario` holds one validated `WorldConfig` per arm and sweep point.

use std::path::PathBuf;

use crate::engine::SimDuration;
use crate::model::config::WorldConfig;

/// One arm: a policy with a breaker set (and any overrides), compared on common seeds.
#[derive(Clone, Debug)]
pub struct Arm {
    /// Name, unique among arms.
    pub name: String,
    /// One line on what the arm is.
    pub description: String,
}

/// One sweep axis: a dotted scenario path and the values it takes.
#[derive(Clone, Debug)]
pub struct Axis {
    /// The dotted path, e.g. "breakers.blast_guard.max_predicted_users".
    pub path: String,
    /// The values as written in the file, displayed.
    pub values: Vec<String>,
}

/// One grid point: a value for every axis.
#[derive(Clone, Debug)]
pub struct Point {
    /// Index in `Scenario::points`.
    pub index: usize,
    /// "path=value, path=value", or "base" when there are no axes.
    pub label: String,
    /// The value of each axis, in axis order.
    pub values: Vec<String>,
}

/// A bound on a summary metric that a recommended setting must meet.
#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    /// Metric name from `metrics::METRICS`.
    pub metric: String,
    /// Upper (`true`) or lower (`false`) bound.
    pub at_most: bool,
    /// The bound, on the mean over replications.
    pub value: f64,
}

/// How the frontier and the recommendation are chosen.
#[derive(Clone, Debug, PartialEq)]
pub struct Objectives {
    /// The velocity metric, higher is better (default `deploys_per_day`).
    pub velocity: String,
    /// The blast-radius metric, lower is better (default `user_impact_min_total`).
    pub risk: String,
    /// Constraints on the recommended setting.
    pub constraints: Vec<Constraint>,
}

/// A validated scenario.
#[derive(Clone, Debug)]
pub struct Scenario {
    /// Name, used for the default results folder.
    pub name: String,
    /// The question the scenario answers, shown at the top of the report.
    pub question: String,
    /// The file it came from.
    pub path: PathBuf,
    /// Hex digest of the scenario text and every file it references.
    pub hash: String,
    /// Master seed.
    pub seed: u64,
    /// Replications per arm and point.
    pub replications: u32,
    /// Simulated horizon of each run.
    pub horizon: SimDuration,
    /// Arms, in file order.
    pub arms: Vec<Arm>,
    /// Index of the baseline arm for paired differences.
    pub baseline_arm: usize,
    /// Sweep axes, in file order.
    pub axes: Vec<Axis>,
    /// Grid points (at least one).
    pub points: Vec<Point>,
    /// Frontier metrics and recommendation constraints.
    pub objectives: Objectives,
    /// Calibration sources the scenario cites, for the report.
    pub sources: Vec<String>,
    /// One world per (arm, point), arm-major: `worlds[arm * points.len() + point]`.
    pub worlds: Vec<WorldConfig>,
}

impl Scenario {
    /// The world of one arm at one point.
    pub fn world(&self, arm: usize, point: usize) -> &WorldConfig {
        &self.worlds[arm * self.points.len() + point]
    }
}

/// Loads and validates a scenario file.
///
/// PLACEHOLDER until the scenario loader lands (the scenario engineer owns the real one,
/// expected with this name and a `Result` whose error implements `std::error::Error`).
pub fn load(path: &std::path::Path) -> anyhow::Result<Scenario> {
    anyhow::bail!(
        "{}: cannot load scenarios yet: the scenario loader has not landed",
        path.display()
    )
}
