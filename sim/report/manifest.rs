//! `manifest.json`: what a results folder holds and how it was made, and the experiment
//! metadata that the journal keeps so `merge` can rebuild every table without the
//! scenario file.
//!
//! These types are the one schema of `manifest.json`: `blastsim run` and `merge` write them
//! and the report reads them back. Reading is lenient where a hand-made or older manifest
//! may leave a field out (it gets a neutral default; `baseline` is accepted for
//! `baseline_arm`, and sweep values may be JSON numbers); writing always writes every field.
//!
//! The manifest is the one place a wall-clock figure is written (`created`,
//! `wall_time_s`); the CSV tables hold none, so they stay byte-identical across machines.

use std::path::Path;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use crate::experiment::plan::run_count;
use crate::model::config::Seniority;
use crate::scenario::{Bound, Constraint, Cost, Objectives, Scenario, Worse};

/// An arm as recorded in the manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArmMeta {
    /// Arm name.
    pub name: String,
    /// One line on what it is.
    #[serde(default)]
    pub description: String,
    /// The arm's per-agent breaker, when it has one (for the report's explanation of why
    /// it does or does not trip).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_breaker: Option<AgentBreakerMeta>,
}

/// A per-agent breaker's settings as recorded in the manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AgentBreakerMeta {
    /// Actions in the count window (`None` for a time window).
    pub window_actions: Option<u32>,
    /// Span of a time window, e.g. "1d" (`None` for a count window).
    pub window_time: Option<String>,
    /// Actions in the window before it may trip.
    pub min_actions: u32,
    /// Trips at this failure share of the window or above.
    pub failure_rate: f64,
    /// Time open before half-open, e.g. "1h".
    pub open_for: String,
    /// What counts as a failure: some of "rejected", "refused", "incident", "classifier".
    pub failures: Vec<String>,
}

impl AgentBreakerMeta {
    /// The settings of `c`.
    pub fn new(c: &crate::model::config::AgentBreakerConfig) -> AgentBreakerMeta {
        use crate::model::config::BreakerWindow;
        let (window_actions, window_time) = match c.window {
            BreakerWindow::Count(n) => (Some(n), None),
            BreakerWindow::Time(d) => (None, Some(d.to_string())),
        };
        let f = &c.failures;
        let failures = [
            (f.rejected, "rejected"),
            (f.refused, "refused"),
            (f.incident, "incident"),
            (f.classifier.is_some(), "classifier"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, n)| n.to_string())
        .collect();
        AgentBreakerMeta {
            window_actions,
            window_time,
            min_actions: c.min_actions,
            failure_rate: c.failure_rate,
            open_for: c.open_for.to_string(),
            failures,
        }
    }
}

/// A sweep axis as recorded in the manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AxisMeta {
    /// Dotted scenario path.
    pub path: String,
    /// Values as written in the scenario.
    #[serde(default, deserialize_with = "scalars_as_text")]
    pub values: Vec<String>,
}

/// A list of JSON scalars as text: `"0.1"` and `0.1` both read as "0.1".
fn scalars_as_text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        Text(String),
        Number(serde_json::Number),
        Bool(bool),
    }
    Ok(Vec::<Scalar>::deserialize(d)?
        .into_iter()
        .map(|v| match v {
            Scalar::Text(s) => s,
            Scalar::Number(n) => n.to_string(),
            Scalar::Bool(b) => b.to_string(),
        })
        .collect())
}

/// A grid point as recorded in the manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PointMeta {
    /// Point index.
    pub index: usize,
    /// "path=value, …" or "base".
    pub label: String,
    /// One value per axis.
    pub values: Vec<String>,
}

/// A constraint on the recommended setting.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ConstraintMeta {
    /// Metric name.
    pub metric: String,
    /// Upper bound (`true`, the default) or lower bound (`false`).
    #[serde(default = "yes")]
    pub at_most: bool,
    /// The bound, on the mean over replications (unused when `arm` is set).
    #[serde(default)]
    pub value: f64,
    /// A relative bound: the mean of this arm at the same point (`"arm:NAME"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arm: Option<String>,
}

fn yes() -> bool {
    true
}

fn is_zero(v: &f64) -> bool {
    *v == 0.0
}

/// A cost metric and which way is worse.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostMeta {
    /// Metric name.
    pub metric: String,
    /// "higher" or "lower": the direction in which the cost rises.
    pub worse: String,
}

/// The frontier metrics, costs and constraints.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectivesMeta {
    /// Velocity metric (higher is better).
    #[serde(default = "default_velocity")]
    pub velocity: String,
    /// Risk metric (lower is better).
    #[serde(default = "default_risk")]
    pub risk: String,
    /// Costs the recommendation prices besides velocity (which is always one); a manifest
    /// without them prices velocity alone. Left out when empty, as older manifests have it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub costs: Vec<CostMeta>,
    /// Constraints on the recommendation.
    #[serde(default)]
    pub constraints: Vec<ConstraintMeta>,
}

fn default_velocity() -> String {
    "deploys_per_day".to_string()
}

fn default_risk() -> String {
    "user_impact_min_total".to_string()
}

impl Default for ObjectivesMeta {
    fn default() -> Self {
        ObjectivesMeta {
            velocity: default_velocity(),
            risk: default_risk(),
            costs: Vec::new(),
            constraints: Vec::new(),
        }
    }
}

/// Everything about an experiment that does not depend on how or when it was run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExperimentMeta {
    /// Identity of the run set (scenario hash, seed, replications, horizon, shape).
    #[serde(default)]
    pub experiment_key: String,
    /// Scenario name.
    #[serde(default)]
    pub name: String,
    /// The question the scenario answers.
    #[serde(default)]
    pub question: String,
    /// Scenario file path as given.
    #[serde(default)]
    pub path: String,
    /// Scenario hash.
    #[serde(default)]
    pub hash: String,
    /// Master seed.
    #[serde(default)]
    pub seed: u64,
    /// Replications per arm and point.
    #[serde(default)]
    pub replications: u32,
    /// Simulated horizon, e.g. "90d".
    #[serde(default)]
    pub horizon: String,
    /// Arms in scenario order.
    pub arms: Vec<ArmMeta>,
    /// Name of the baseline arm.
    #[serde(default, alias = "baseline")]
    pub baseline_arm: String,
    /// Sweep axes.
    #[serde(default)]
    pub axes: Vec<AxisMeta>,
    /// Grid points.
    #[serde(default)]
    pub points: Vec<PointMeta>,
    /// Frontier metrics and constraints.
    #[serde(default)]
    pub objectives: ObjectivesMeta,
    /// Calibration sources cited.
    #[serde(default)]
    pub sources: Vec<String>,
    /// Runs in the whole experiment (every shard).
    #[serde(default)]
    pub runs_in_experiment: u64,
    /// Scheduled working hours per week of one senior reviewer (the baseline arm's senior
    /// groups, weighted by head count), to turn senior review hours into FTEs; 0 when the
    /// scenario has no senior reviewers (then left out, as older manifests have it).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub senior_hours_per_week: f64,
    /// Which replications' incidents `incidents.csv` lists (`run --incidents`).
    #[serde(default)]
    pub incidents: crate::report::tables::IncidentsKept,
}

/// Scheduled hours per week of one senior reviewer in the baseline arm's first world: the
/// head-count-weighted mean over senior groups (around-the-clock groups count 168 h).
fn senior_hours_per_week(s: &Scenario) -> f64 {
    let world = s.world(s.baseline_arm, 0);
    let (mut hours, mut heads) = (0.0, 0.0);
    for g in &world.reviewers.groups {
        if g.seniority != Seniority::Senior || g.count == 0 {
            continue;
        }
        let week = match &g.hours {
            Some(h) => {
                f64::from(h.end_min.saturating_sub(h.start_min)) / 60.0
                    * f64::from(h.days.count_ones())
            }
            None => 168.0,
        };
        hours += week * f64::from(g.count);
        heads += f64::from(g.count);
    }
    if heads > 0.0 { hours / heads } else { 0.0 }
}

impl ExperimentMeta {
    /// The metadata of a scenario under the given experiment key.
    pub fn from_scenario(s: &Scenario, experiment_key: &str) -> ExperimentMeta {
        ExperimentMeta {
            experiment_key: experiment_key.to_string(),
            name: s.name.clone(),
            question: s.question.clone(),
            path: s.path.display().to_string(),
            hash: s.hash.clone(),
            seed: s.seed,
            replications: s.replications,
            horizon: s.horizon.to_string(),
            arms: s
                .arms
                .iter()
                .enumerate()
                .map(|(i, a)| ArmMeta {
                    name: a.name.clone(),
                    description: a.description.clone(),
                    agent_breaker: s
                        .world(i, 0)
                        .breakers
                        .agent
                        .as_ref()
                        .map(AgentBreakerMeta::new),
                })
                .collect(),
            baseline_arm: s.arms[s.baseline_arm].name.clone(),
            axes: s
                .axes
                .iter()
                .map(|a| AxisMeta {
                    path: a.path.clone(),
                    values: a.values.clone(),
                })
                .collect(),
            points: s
                .points
                .iter()
                .map(|p| PointMeta {
                    index: p.index,
                    label: p.label.clone(),
                    values: p.values.clone(),
                })
                .collect(),
            objectives: ObjectivesMeta {
                velocity: s.objectives.velocity.clone(),
                risk: s.objectives.risk.clone(),
                costs: s
                    .objectives
                    .costs
                    .iter()
                    .map(|c| CostMeta {
                        metric: c.metric.clone(),
                        worse: c.worse.name().to_string(),
                    })
                    .collect(),
                constraints: s
                    .objectives
                    .constraints
                    .iter()
                    .map(|c| match &c.bound {
                        Bound::Value(v) => ConstraintMeta {
                            metric: c.metric.clone(),
                            at_most: c.at_most,
                            value: *v,
                            arm: None,
                        },
                        Bound::Arm(a) => ConstraintMeta {
                            metric: c.metric.clone(),
                            at_most: c.at_most,
                            value: 0.0,
                            arm: Some(a.clone()),
                        },
                    })
                    .collect(),
            },
            senior_hours_per_week: senior_hours_per_week(s),
            sources: s.sources.clone(),
            runs_in_experiment: run_count(s),
            incidents: crate::report::tables::IncidentsKept::All,
        }
    }

    /// The objectives in the scenario's own type. A cost direction other than "lower"
    /// reads as "higher" (more of a cost is worse unless it says otherwise).
    pub fn objectives(&self) -> Objectives {
        let mut o = Objectives::new(&self.objectives.velocity, &self.objectives.risk);
        for c in &self.objectives.costs {
            if o.costs.iter().any(|k| k.metric == c.metric) {
                continue;
            }
            o.costs.push(Cost {
                metric: c.metric.clone(),
                worse: if c.worse == Worse::Lower.name() {
                    Worse::Lower
                } else {
                    Worse::Higher
                },
            });
        }
        o.constraints = self
            .objectives
            .constraints
            .iter()
            .map(|c| Constraint {
                metric: c.metric.clone(),
                at_most: c.at_most,
                bound: match &c.arm {
                    Some(a) => Bound::Arm(a.clone()),
                    None => Bound::Value(c.value),
                },
            })
            .collect();
        o
    }

    /// The arm names, in experiment order.
    pub fn arm_names(&self) -> Vec<String> {
        self.arms.iter().map(|a| a.name.clone()).collect()
    }

    /// Index of the baseline arm (0 if the name is somehow absent).
    pub fn baseline_index(&self) -> usize {
        self.arms
            .iter()
            .position(|a| a.name == self.baseline_arm)
            .unwrap_or(0)
    }

    /// Index of the arm called `name`.
    pub fn arm_index(&self, name: &str) -> Option<usize> {
        self.arms.iter().position(|a| a.name == name)
    }
}

/// The recommended setting, by name.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Recommendation {
    /// Arm name.
    pub arm: String,
    /// Point index.
    #[serde(default)]
    pub point: usize,
    /// Point label.
    pub point_label: String,
}

/// `manifest.json`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// The experiment.
    #[serde(flatten)]
    pub meta: ExperimentMeta,
    /// The command line that wrote this folder.
    #[serde(default)]
    pub command: String,
    /// blastsim version.
    #[serde(default)]
    pub version: String,
    /// Worker threads used.
    #[serde(default)]
    pub threads: usize,
    /// Runs this folder should hold (the shard's share, or every run).
    #[serde(default)]
    pub runs_total: u64,
    /// Runs it holds.
    #[serde(default)]
    pub runs_done: u64,
    /// "I/N" when the folder holds one shard.
    #[serde(default)]
    pub shard: Option<String>,
    /// Shard folders joined into this one by `blastsim merge`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub merged_from: Vec<String>,
    /// The recommended setting, or null when none meets the constraints.
    #[serde(default)]
    pub recommendation: Option<Recommendation>,
    /// Wall-clock seconds the command took.
    #[serde(default)]
    pub wall_time_s: f64,
    /// When the folder was written (RFC 3339, UTC).
    #[serde(default)]
    pub created: String,
}

/// The current wall-clock time in RFC 3339, UTC, to the second.
pub fn created_now() -> String {
    humantime::format_rfc3339_seconds(SystemTime::now()).to_string()
}

/// Writes `manifest.json` into `dir` atomically.
pub fn write_manifest(dir: &Path, manifest: &Manifest) -> anyhow::Result<()> {
    let mut text = serde_json::to_string_pretty(manifest)?;
    text.push('\n');
    let path = dir.join("manifest.json");
    crate::report::atomic::write_atomic(&path, text.as_bytes())
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}

/// Reads `manifest.json` from `dir`.
pub fn read_manifest(dir: &Path) -> anyhow::Result<Manifest> {
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}
