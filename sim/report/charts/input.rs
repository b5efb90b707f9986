//! Reading a results folder back: `manifest.json`, `summary.csv`, `incidents.csv`,
//! `timeline.csv` and the optional graph tables, into the plain types the charts and the
//! report draw from.
//!
//! Charts and the report are drawn from these files alone (never from in-memory run
//! results), so `blastsim plot DIR` and `blastsim run` give the same bytes. Columns are
//! found by header name, so extra columns are ignored and column order does not matter.
//! Every malformed value is an error naming the file, line and column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde_json::Value;

/// A results folder, read back.
#[derive(Clone, Debug)]
pub struct Results {
    /// The folder it was read from.
    pub dir: PathBuf,
    /// What `manifest.json` says about the experiment.
    pub manifest: Manifest,
    /// Arm names: the manifest's order, then any arm only `summary.csv` knows.
    pub arms: Vec<String>,
    /// Grid points, by index.
    pub points: Vec<PointInfo>,
    /// `summary.csv`.
    pub summary: Summary,
    /// `incidents.csv`, or `None` when the file is absent.
    pub incidents: Option<Vec<IncidentRow>>,
    /// `timeline.csv`, or `None` when the file is absent.
    pub timeline: Option<Vec<TimelineRow>>,
    /// `graph_nodes.csv` + `graph_edges.csv`, or `None` when either is absent.
    pub graph: Option<GraphData>,
}

/// The fields of `manifest.json` the report uses. Missing optional fields get neutral
/// defaults so an older or hand-made manifest still renders.
#[derive(Clone, Debug, Default)]
pub struct Manifest {
    /// Scenario name.
    pub name: String,
    /// The question the scenario answers.
    pub question: String,
    /// Scenario file path.
    pub path: String,
    /// Scenario hash.
    pub hash: String,
    /// Master seed, displayed.
    pub seed: String,
    /// Replications per arm and point.
    pub replications: Option<u64>,
    /// Horizon of each run, displayed (e.g. "90d").
    pub horizon: String,
    /// Arms in scenario order.
    pub arms: Vec<ArmInfo>,
    /// The baseline arm of paired differences.
    pub baseline: Option<String>,
    /// Sweep axes.
    pub axes: Vec<AxisInfo>,
    /// Velocity metric (higher is better).
    pub velocity: String,
    /// Risk metric (lower is better).
    pub risk: String,
    /// Constraints the recommendation must meet.
    pub constraints: Vec<ConstraintInfo>,
    /// Calibration sources, displayed.
    pub sources: Vec<String>,
    /// The command that produced the folder.
    pub command: String,
    /// blastsim version.
    pub version: String,
    /// Runs planned and finished.
    pub runs_total: Option<u64>,
    /// Runs finished.
    pub runs_done: Option<u64>,
    /// The recommended (arm, point label); `None` when nothing met the constraints.
    pub recommendation: Option<(String, String)>,
    /// `true` when the manifest has a `recommendation` key at all (even `null`).
    pub recommendation_known: bool,
}

/// One arm as the manifest describes it.
#[derive(Clone, Debug, Default)]
pub struct ArmInfo {
    /// Name.
    pub name: String,
    /// One line on what it is.
    pub description: String,
}

/// One sweep axis.
#[derive(Clone, Debug, Default)]
pub struct AxisInfo {
    /// Dotted scenario path.
    pub path: String,
    /// Values, displayed as written.
    pub values: Vec<String>,
}

/// A bound the recommendation must meet.
#[derive(Clone, Debug)]
pub struct ConstraintInfo {
    /// Metric name.
    pub metric: String,
    /// Upper bound (`true`) or lower bound (`false`).
    pub at_most: bool,
    /// The bound.
    pub value: f64,
}

impl ConstraintInfo {
    /// Whether `mean` meets the bound.
    pub fn met_by(&self, mean: f64) -> bool {
        if self.at_most {
            mean <= self.value
        } else {
            mean >= self.value
        }
    }

    /// How far `mean` is past the bound, relative to the bound (0 when met).
    pub fn relative_violation(&self, mean: f64) -> f64 {
        let past = if self.at_most {
            mean - self.value
        } else {
            self.value - mean
        };
        past.max(0.0) / self.value.abs().max(1e-9)
    }
}

/// One grid point.
#[derive(Clone, Debug)]
pub struct PointInfo {
    /// Index.
    pub index: usize,
    /// "path=value, ..." or "base".
    pub label: String,
    /// The value of each axis, displayed, in axis order.
    pub values: Vec<String>,
}

/// The statistics of one metric of one arm at one point: a row of `summary.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct Stat {
    /// Replications.
    pub n: f64,
    /// Mean over replications.
    pub mean: f64,
    /// Standard deviation over replications.
    pub sd: f64,
    /// 95% CI of the mean, lower end.
    pub ci_low: f64,
    /// 95% CI of the mean, upper end.
    pub ci_high: f64,
    /// Median over replications.
    pub p50: f64,
    /// 95th percentile over replications.
    pub p95: f64,
    /// Largest value over replications.
    pub max: f64,
    /// Mean paired difference against the baseline arm (`None` for the baseline).
    pub diff_mean: Option<f64>,
    /// 95% CI of the paired difference, lower end.
    pub diff_low: Option<f64>,
    /// 95% CI of the paired difference, upper end.
    pub diff_high: Option<f64>,
    /// Variance of the paired difference over the variance with independent seeds.
    pub pairing_variance_ratio: Option<f64>,
    /// On the Pareto frontier.
    pub on_frontier: bool,
    /// The recommended setting.
    pub recommended: bool,
}

/// `summary.csv`, indexed by (arm, point, metric).
#[derive(Clone, Debug, Default)]
pub struct Summary {
    stats: BTreeMap<(usize, usize, String), Stat>,
    metrics: Vec<String>,
}

impl Summary {
    /// The statistics of `metric` for arm index `arm` at point `point`.
    pub fn get(&self, arm: usize, point: usize, metric: &str) -> Option<&Stat> {
        self.stats.get(&(arm, point, metric.to_string()))
    }

    /// The mean of `metric` for `arm` at `point`, if present.
    pub fn mean(&self, arm: usize, point: usize, metric: &str) -> Option<f64> {
        self.get(arm, point, metric).map(|s| s.mean)
    }

    /// Whether any row carries `metric`.
    pub fn has_metric(&self, metric: &str) -> bool {
        self.metrics.iter().any(|m| m == metric)
    }

    /// Every row, in (arm, point, metric) order.
    pub fn iter(&self) -> impl Iterator<Item = (&(usize, usize, String), &Stat)> {
        self.stats.iter()
    }
}

/// One row of `incidents.csv`.
#[derive(Clone, Debug, PartialEq)]
pub struct IncidentRow {
    /// Run id.
    pub run_id: String,
    /// Arm name.
    pub arm: String,
    /// Point index.
    pub point: usize,
    /// Replication.
    pub replication: String,
    /// Incident number within the run.
    pub incident: String,
    /// The change that caused it.
    pub change_id: String,
    /// Author group name.
    pub author_group: String,
    /// "agent" or "human".
    pub author_kind: String,
    /// Action class of the change.
    pub class: String,
    /// How bad the latent defect was.
    pub severity: String,
    /// Service the fault started at.
    pub origin: String,
    /// Hours from the start of the run to the fault.
    pub started_h: f64,
    /// Hours to detection.
    pub detected_h: f64,
    /// Hours to full recovery.
    pub restored_h: f64,
    /// Hours from fault to recovery.
    pub duration_h: f64,
    /// Services down.
    pub services_hit: f64,
    /// Peak share of users affected (0..1).
    pub users_hit_peak: f64,
    /// User-impact minutes.
    pub user_impact_min: f64,
    /// How it recovered (rollback, rebuild, ...).
    pub recovery: String,
}

/// One row of `timeline.csv`: one simulated day of replication 0.
#[derive(Clone, Debug, PartialEq)]
pub struct TimelineRow {
    /// Arm name.
    pub arm: String,
    /// Point index.
    pub point: usize,
    /// Day index (0-based).
    pub day: f64,
    /// Changes deployed that day.
    pub deploys: f64,
    /// Incidents started that day.
    pub incidents: f64,
    /// Largest peak share of users hit by an incident that day.
    pub users_hit_max: f64,
    /// User-impact minutes of incidents started that day.
    pub user_impact_min: f64,
    /// Per-agent breaker trips that day.
    pub breaker_trips: f64,
    /// Hours under error-budget freeze that day.
    pub freeze_h: f64,
    /// Hours agents were halted by the kill switch that day.
    pub kill_switch_h: f64,
}

/// One service of the dependency graph.
#[derive(Clone, Debug, PartialEq)]
pub struct NodeRow {
    /// Id (dense, 0-based).
    pub id: usize,
    /// Name.
    pub name: String,
    /// User-traffic weight.
    pub weight: f64,
    /// Criticality tier.
    pub tier: String,
    /// Layer in the layered layout.
    pub depth: usize,
    /// Whether the worst incident took it down.
    pub hit_in_worst: bool,
}

/// One dependency edge: `from` depends on `to`.
#[derive(Clone, Debug, PartialEq)]
pub struct EdgeRow {
    /// Dependent service id.
    pub from: usize,
    /// Dependency service id.
    pub to: usize,
    /// "hard" or "soft".
    pub kind: String,
}

/// The dependency graph tables.
#[derive(Clone, Debug, Default)]
pub struct GraphData {
    /// Services.
    pub nodes: Vec<NodeRow>,
    /// Dependencies.
    pub edges: Vec<EdgeRow>,
}

impl Results {
    /// Reads a results folder. `manifest.json` and `summary.csv` are required; the other
    /// tables are optional and their charts are skipped when absent.
    pub fn load(dir: &Path) -> anyhow::Result<Results> {
        if !dir.is_dir() {
            bail!("{} is not a folder", dir.display());
        }
        let missing: Vec<&str> = ["manifest.json", "summary.csv"]
            .into_iter()
            .filter(|f| !dir.join(f).is_file())
            .collect();
        if !missing.is_empty() {
            bail!(
                "{} is not a results folder: missing {} (write one with `blastsim run`)",
                dir.display(),
                missing.join(" and ")
            );
        }
        let manifest = read_manifest(&dir.join("manifest.json"))?;
        let mut arms: Vec<String> = manifest.arms.iter().map(|a| a.name.clone()).collect();
        let (summary, points) = read_summary(&dir.join("summary.csv"), &manifest, &mut arms)?;
        let incidents = optional(dir, "incidents.csv", read_incidents)?;
        let timeline = optional(dir, "timeline.csv", read_timeline)?;
        let graph =
            if dir.join("graph_nodes.csv").is_file() && dir.join("graph_edges.csv").is_file() {
                Some(read_graph(dir)?)
            } else {
                None
            };
        Ok(Results {
            dir: dir.to_path_buf(),
            manifest,
            arms,
            points,
            summary,
            incidents,
            timeline,
            graph,
        })
    }

    /// Index of the arm called `name`.
    pub fn arm_index(&self, name: &str) -> Option<usize> {
        self.arms.iter().position(|a| a == name)
    }

    /// Index of the point labelled `label`.
    pub fn point_index(&self, label: &str) -> Option<usize> {
        self.points.iter().position(|p| p.label == label)
    }

    /// The baseline arm's index (the manifest's, else the first arm).
    pub fn baseline(&self) -> usize {
        self.manifest
            .baseline
            .as_deref()
            .and_then(|b| self.arm_index(b))
            .unwrap_or(0)
    }

    /// The recommended (arm index, point index), if any.
    pub fn recommended(&self) -> Option<(usize, usize)> {
        if self.manifest.recommendation_known {
            let (arm, label) = self.manifest.recommendation.as_ref()?;
            return Some((self.arm_index(arm)?, self.point_index(label)?));
        }
        // An older manifest without the key: fall back to summary.csv's column.
        self.summary
            .iter()
            .find(|(_, s)| s.recommended)
            .map(|((a, p, _), _)| (*a, *p))
    }

    /// The point the per-point views (CCDF, timeline, arm table) show: the recommended
    /// one, else the one closest to meeting the constraints, else point 0.
    pub fn focus_point(&self) -> usize {
        self.recommended()
            .or_else(|| self.closest())
            .map(|(_, p)| p)
            .unwrap_or(0)
    }

    /// Whether sweep axis `axis` changes anything for arm `arm`: some two points that differ
    /// only on that axis give the arm a different mean on some metric. An arm that does not
    /// use the swept breaker runs the very same simulation at every value (common random
    /// numbers), so its means are equal to the last bit and this is exact, not a tolerance.
    pub fn arm_depends_on_axis(&self, arm: usize, axis: usize) -> bool {
        let mut by_rest: BTreeMap<Vec<&str>, Vec<usize>> = BTreeMap::new();
        for p in &self.points {
            let rest: Vec<&str> = p
                .values
                .iter()
                .enumerate()
                .filter(|(k, _)| *k != axis)
                .map(|(_, v)| v.as_str())
                .collect();
            by_rest.entry(rest).or_default().push(p.index);
        }
        let metrics = &self.summary.metrics;
        by_rest.values().any(|pts| {
            metrics.iter().any(|m| {
                let mut means = pts.iter().filter_map(|&p| self.summary.mean(arm, p, m));
                match means.next() {
                    Some(first) => means.any(|v| v.to_bits() != first.to_bits()),
                    None => false,
                }
            })
        })
    }

    /// The axes (indices) that change anything for `arm`.
    pub fn axes_of_arm(&self, arm: usize) -> Vec<usize> {
        (0..self.manifest.axes.len())
            .filter(|&k| self.arm_depends_on_axis(arm, k))
            .collect()
    }
}

fn optional<T>(
    dir: &Path,
    file: &str,
    read: fn(&Path) -> anyhow::Result<T>,
) -> anyhow::Result<Option<T>> {
    let path = dir.join(file);
    if path.is_file() {
        read(&path).map(Some)
    } else {
        Ok(None)
    }
}

// ---------------------------------------------------------------------------------------
// manifest.json

fn read_manifest(path: &Path) -> anyhow::Result<Manifest> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let v: Value = serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}:{}:{}: {}", path.display(), e.line(), e.column(), e))?;
    let file = path.display();
    let Some(obj) = v.as_object() else {
        bail!("{file}: expected a JSON object")
    };
    let text_of = |key: &str| obj.get(key).map(display).unwrap_or_default();
    let arms = match obj.get("arms") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|a| match a {
                Value::String(s) => Ok(ArmInfo {
                    name: s.clone(),
                    description: String::new(),
                }),
                Value::Object(o) => Ok(ArmInfo {
                    name: o
                        .get("name")
                        .map(display)
                        .filter(|s| !s.is_empty())
                        .ok_or_else(|| {
                            anyhow::anyhow!("{file}: an entry of `arms` has no `name`")
                        })?,
                    description: o.get("description").map(display).unwrap_or_default(),
                }),
                _ => bail!("{file}: `arms` entries must be objects with a `name`"),
            })
            .collect::<anyhow::Result<Vec<_>>>()?,
        _ => bail!("{file}: missing field `arms` (a list of {{name, description}})"),
    };
    let axes = match obj.get("axes") {
        Some(Value::Array(items)) => items
            .iter()
            .map(|a| AxisInfo {
                path: a.get("path").map(display).unwrap_or_default(),
                values: match a.get("values") {
                    Some(Value::Array(vs)) => vs.iter().map(display).collect(),
                    _ => Vec::new(),
                },
            })
            .collect(),
        _ => Vec::new(),
    };
    let objectives = obj.get("objectives");
    let objective = |key: &str, default: &str| {
        objectives
            .and_then(|o| o.get(key))
            .map(display)
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| default.to_string())
    };
    let constraints = match objectives.and_then(|o| o.get("constraints")) {
        Some(Value::Array(cs)) => cs
            .iter()
            .map(|c| {
                let metric = c.get("metric").map(display).unwrap_or_default();
                let at_most = match c.get("at_most") {
                    Some(Value::Bool(b)) => *b,
                    None | Some(Value::Null) => true,
                    Some(other) => bail!("{file}: constraint on `{metric}`: `at_most` must be true or false, not {other}"),
                };
                let value = c.get("value").and_then(Value::as_f64).ok_or_else(|| {
                    anyhow::anyhow!("{file}: constraint on `{metric}` has no numeric `value`")
                })?;
                Ok(ConstraintInfo { metric, at_most, value })
            })
            .collect::<anyhow::Result<Vec<_>>>()?,
        _ => Vec::new(),
    };
    let sources = match obj.get("sources") {
        Some(Value::Array(s)) => s.iter().map(source_text).collect(),
        _ => Vec::new(),
    };
    let recommendation = match obj.get("recommendation") {
        Some(Value::Object(r)) => Some((
            r.get("arm").map(display).unwrap_or_default(),
            r.get("point_label").map(display).unwrap_or_default(),
        )),
        _ => None,
    };
    Ok(Manifest {
        name: text_of("name"),
        question: text_of("question"),
        path: text_of("path"),
        hash: text_of("hash"),
        seed: text_of("seed"),
        replications: obj.get("replications").and_then(Value::as_u64),
        horizon: text_of("horizon"),
        arms,
        // `manifest.json` names it `baseline_arm`; `baseline` is the older spelling.
        baseline: ["baseline_arm", "baseline"]
            .iter()
            .find_map(|k| obj.get(*k).map(display).filter(|s| !s.is_empty())),
        axes,
        velocity: objective("velocity", "deploys_per_day"),
        risk: objective("risk", "user_impact_min_total"),
        constraints,
        sources,
        command: text_of("command"),
        version: text_of("version"),
        runs_total: obj.get("runs_total").and_then(Value::as_u64),
        runs_done: obj.get("runs_done").and_then(Value::as_u64),
        recommendation,
        recommendation_known: obj.contains_key("recommendation"),
    })
}

/// A JSON value as a person reads it: strings without quotes, null as empty.
fn display(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// A source as one line: a string as is, an object as "title — url".
fn source_text(v: &Value) -> String {
    match v {
        Value::Object(o) => {
            let parts: Vec<String> = ["title", "name", "url"]
                .iter()
                .filter_map(|k| o.get(*k).map(display))
                .filter(|s| !s.is_empty())
                .collect();
            if parts.is_empty() {
                v.to_string()
            } else {
                parts.join(" — ")
            }
        }
        other => display(other),
    }
}

// ---------------------------------------------------------------------------------------
// CSV tables

/// A CSV file read whole, with columns found by header name.
struct Table {
    file: String,
    headers: Vec<String>,
    rows: Vec<(u64, csv::StringRecord)>,
}

impl Table {
    fn read(path: &Path) -> anyhow::Result<Table> {
        let file = path.display().to_string();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .from_path(path)
            .with_context(|| format!("cannot read {file}"))?;
        let headers = reader
            .headers()
            .map_err(|e| anyhow::anyhow!("{file}:1:1: {e}"))?
            .iter()
            .map(str::to_string)
            .collect();
        let mut rows = Vec::new();
        for record in reader.records() {
            let record = record.map_err(|e| {
                let line = e.position().map(|p| p.line()).unwrap_or(0);
                anyhow::anyhow!("{file}:{line}:1: {e}")
            })?;
            let line = record.position().map(|p| p.line()).unwrap_or(0);
            rows.push((line, record));
        }
        Ok(Table {
            file,
            headers,
            rows,
        })
    }

    /// The index of column `name`, or an error listing the columns there are.
    fn col(&self, name: &str) -> anyhow::Result<usize> {
        self.headers.iter().position(|h| h == name).ok_or_else(|| {
            anyhow::anyhow!(
                "{}:1:1: missing column `{name}` (columns: {})",
                self.file,
                self.headers.join(", ")
            )
        })
    }

    fn opt_col(&self, name: &str) -> Option<usize> {
        self.headers.iter().position(|h| h == name)
    }

    fn str(&self, row: &(u64, csv::StringRecord), col: usize) -> String {
        row.1.get(col).unwrap_or("").to_string()
    }

    /// A number; a blank cell is an error.
    fn f64(&self, row: &(u64, csv::StringRecord), col: usize) -> anyhow::Result<f64> {
        self.opt_f64(row, col)?.ok_or_else(|| {
            anyhow::anyhow!(
                "{}:{}:{}: column `{}` is empty",
                self.file,
                row.0,
                col + 1,
                self.headers[col]
            )
        })
    }

    /// A number, or `None` for a blank cell.
    fn opt_f64(&self, row: &(u64, csv::StringRecord), col: usize) -> anyhow::Result<Option<f64>> {
        let raw = row.1.get(col).unwrap_or("").trim();
        if raw.is_empty() || raw.eq_ignore_ascii_case("nan") {
            return Ok(None);
        }
        raw.parse::<f64>().map(Some).map_err(|_| {
            anyhow::anyhow!(
                "{}:{}:{}: column `{}`: `{raw}` is not a number",
                self.file,
                row.0,
                col + 1,
                self.headers[col]
            )
        })
    }

    fn usize(&self, row: &(u64, csv::StringRecord), col: usize) -> anyhow::Result<usize> {
        let raw = row.1.get(col).unwrap_or("").trim();
        raw.parse::<usize>().map_err(|_| {
            anyhow::anyhow!(
                "{}:{}:{}: column `{}`: `{raw}` is not a whole number",
                self.file,
                row.0,
                col + 1,
                self.headers[col]
            )
        })
    }

    fn bool(&self, row: &(u64, csv::StringRecord), col: usize) -> anyhow::Result<bool> {
        match row.1.get(col).unwrap_or("").trim() {
            "true" | "1" | "yes" => Ok(true),
            "false" | "0" | "no" | "" => Ok(false),
            raw => bail!(
                "{}:{}:{}: column `{}`: `{raw}` is not true or false",
                self.file,
                row.0,
                col + 1,
                self.headers[col]
            ),
        }
    }
}

fn read_summary(
    path: &Path,
    manifest: &Manifest,
    arms: &mut Vec<String>,
) -> anyhow::Result<(Summary, Vec<PointInfo>)> {
    let t = Table::read(path)?;
    let [
        arm,
        point,
        label,
        metric,
        n,
        mean,
        sd,
        lo,
        hi,
        p50,
        p95,
        max,
    ] = [
        "arm",
        "point",
        "point_label",
        "metric",
        "n",
        "mean",
        "sd",
        "ci95_low",
        "ci95_high",
        "p50",
        "p95",
        "max",
    ]
    .map(|c| t.col(c));
    let (arm, point, label, metric, n, mean) = (arm?, point?, label?, metric?, n?, mean?);
    let (sd, lo, hi, p50, p95, max) = (sd?, lo?, hi?, p50?, p95?, max?);
    let axis_cols: Vec<usize> = manifest
        .axes
        .iter()
        .map(|a| t.col(&a.path))
        .collect::<anyhow::Result<_>>()?;
    let [dm, dl, dh, pvr, front, rec] = [
        "paired_diff_mean",
        "paired_diff_ci95_low",
        "paired_diff_ci95_high",
        "pairing_variance_ratio",
        "on_frontier",
        "recommended",
    ]
    .map(|c| t.opt_col(c));

    let mut summary = Summary::default();
    let mut points: BTreeMap<usize, PointInfo> = BTreeMap::new();
    for row in &t.rows {
        let arm_name = t.str(row, arm);
        let a = match arms.iter().position(|x| *x == arm_name) {
            Some(a) => a,
            None => {
                arms.push(arm_name);
                arms.len() - 1
            }
        };
        let p = t.usize(row, point)?;
        points.entry(p).or_insert_with(|| PointInfo {
            index: p,
            label: t.str(row, label),
            values: axis_cols.iter().map(|c| t.str(row, *c)).collect(),
        });
        let opt = |c: Option<usize>| -> anyhow::Result<Option<f64>> {
            match c {
                Some(c) => t.opt_f64(row, c),
                None => Ok(None),
            }
        };
        let stat = Stat {
            n: t.f64(row, n)?,
            mean: t.f64(row, mean)?,
            sd: t.opt_f64(row, sd)?.unwrap_or(0.0),
            ci_low: t.opt_f64(row, lo)?.unwrap_or(f64::NAN),
            ci_high: t.opt_f64(row, hi)?.unwrap_or(f64::NAN),
            p50: t.opt_f64(row, p50)?.unwrap_or(f64::NAN),
            p95: t.opt_f64(row, p95)?.unwrap_or(f64::NAN),
            max: t.opt_f64(row, max)?.unwrap_or(f64::NAN),
            diff_mean: opt(dm)?,
            diff_low: opt(dl)?,
            diff_high: opt(dh)?,
            pairing_variance_ratio: opt(pvr)?,
            on_frontier: match front {
                Some(c) => t.bool(row, c)?,
                None => false,
            },
            recommended: match rec {
                Some(c) => t.bool(row, c)?,
                None => false,
            },
        };
        let m = t.str(row, metric);
        if !summary.metrics.contains(&m) {
            summary.metrics.push(m.clone());
        }
        summary.stats.insert((a, p, m), stat);
    }
    if summary.stats.is_empty() {
        bail!("{}: no rows (did the run finish?)", t.file);
    }
    Ok((summary, points.into_values().collect()))
}

fn read_incidents(path: &Path) -> anyhow::Result<Vec<IncidentRow>> {
    let t = Table::read(path)?;
    let c = |name: &str| t.col(name);
    let cols: [&str; 19] = crate::report::tables::INCIDENT_COLUMNS
        .try_into()
        .expect("incidents.csv has 19 columns");
    let cols = cols.map(c);
    let mut k = [0usize; 19];
    for (i, col) in cols.into_iter().enumerate() {
        k[i] = col?;
    }
    t.rows
        .iter()
        .map(|r| {
            Ok(IncidentRow {
                run_id: t.str(r, k[0]),
                arm: t.str(r, k[1]),
                point: t.usize(r, k[2])?,
                replication: t.str(r, k[3]),
                incident: t.str(r, k[4]),
                change_id: t.str(r, k[5]),
                author_group: t.str(r, k[6]),
                author_kind: t.str(r, k[7]),
                class: t.str(r, k[8]),
                severity: t.str(r, k[9]),
                origin: t.str(r, k[10]),
                started_h: t.f64(r, k[11])?,
                detected_h: t.opt_f64(r, k[12])?.unwrap_or(f64::NAN),
                restored_h: t.opt_f64(r, k[13])?.unwrap_or(f64::NAN),
                duration_h: t.opt_f64(r, k[14])?.unwrap_or(f64::NAN),
                services_hit: t.f64(r, k[15])?,
                users_hit_peak: t.f64(r, k[16])?,
                user_impact_min: t.f64(r, k[17])?,
                recovery: t.str(r, k[18]),
            })
        })
        .collect()
}

fn read_timeline(path: &Path) -> anyhow::Result<Vec<TimelineRow>> {
    let t = Table::read(path)?;
    let names = [
        "arm",
        "point",
        "day",
        "deploys",
        "incidents",
        "users_hit_max",
        "user_impact_min",
        "breaker_trips",
        "freeze_h",
        "kill_switch_h",
    ];
    let mut k = [0usize; 10];
    for (i, name) in names.into_iter().enumerate() {
        k[i] = t.col(name)?;
    }
    t.rows
        .iter()
        .map(|r| {
            Ok(TimelineRow {
                arm: t.str(r, k[0]),
                point: t.usize(r, k[1])?,
                day: t.f64(r, k[2])?,
                deploys: t.f64(r, k[3])?,
                incidents: t.f64(r, k[4])?,
                users_hit_max: t.opt_f64(r, k[5])?.unwrap_or(0.0),
                user_impact_min: t.opt_f64(r, k[6])?.unwrap_or(0.0),
                breaker_trips: t.opt_f64(r, k[7])?.unwrap_or(0.0),
                freeze_h: t.opt_f64(r, k[8])?.unwrap_or(0.0),
                kill_switch_h: t.opt_f64(r, k[9])?.unwrap_or(0.0),
            })
        })
        .collect()
}

fn read_graph(dir: &Path) -> anyhow::Result<GraphData> {
    let t = Table::read(&dir.join("graph_nodes.csv"))?;
    let (id, name, weight, tier, depth, hit) = (
        t.col("id")?,
        t.col("name")?,
        t.col("weight")?,
        t.col("tier")?,
        t.col("depth")?,
        t.col("hit_in_worst")?,
    );
    let mut nodes = Vec::with_capacity(t.rows.len());
    for r in &t.rows {
        nodes.push(NodeRow {
            id: t.usize(r, id)?,
            name: t.str(r, name),
            weight: t.f64(r, weight)?,
            tier: t.str(r, tier),
            depth: t.usize(r, depth)?,
            hit_in_worst: t.bool(r, hit)?,
        });
    }
    let e = Table::read(&dir.join("graph_edges.csv"))?;
    let (from, to, kind) = (e.col("from")?, e.col("to")?, e.col("kind")?);
    let known: std::collections::BTreeSet<usize> = nodes.iter().map(|n| n.id).collect();
    let mut edges = Vec::with_capacity(e.rows.len());
    for r in &e.rows {
        let edge = EdgeRow {
            from: e.usize(r, from)?,
            to: e.usize(r, to)?,
            kind: e.str(r, kind),
        };
        if !known.contains(&edge.from) || !known.contains(&edge.to) {
            bail!(
                "{}:{}:1: edge {} -> {} names a service graph_nodes.csv does not have",
                e.file,
                r.0,
                edge.from,
                edge.to
            );
        }
        edges.push(edge);
    }
    Ok(GraphData { nodes, edges })
}

impl Results {
    /// Every (arm, point) with both objective metrics: (arm, point, velocity, risk).
    pub fn objective_points(&self) -> Vec<(usize, usize, &Stat, &Stat)> {
        let (v, k) = (&self.manifest.velocity, &self.manifest.risk);
        let mut out = Vec::new();
        for a in 0..self.arms.len() {
            for p in &self.points {
                if let (Some(sv), Some(sk)) = (
                    self.summary.get(a, p.index, v),
                    self.summary.get(a, p.index, k),
                ) {
                    out.push((a, p.index, sv, sk));
                }
            }
        }
        out
    }

    /// The Pareto frontier as (arm, point): `summary.csv`'s `on_frontier` flags, or, when
    /// no row is flagged, the settings no other setting beats on both objectives.
    pub fn frontier(&self) -> Vec<(usize, usize)> {
        let pts = self.objective_points();
        let flagged: Vec<(usize, usize)> = pts
            .iter()
            .filter(|(_, _, v, k)| v.on_frontier || k.on_frontier)
            .map(|(a, p, ..)| (*a, *p))
            .collect();
        if !flagged.is_empty() {
            return flagged;
        }
        pts.iter()
            .filter(|(_, _, v, k)| {
                !pts.iter().any(|(_, _, v2, k2)| {
                    v2.mean >= v.mean && k2.mean <= k.mean && (v2.mean > v.mean || k2.mean < k.mean)
                })
            })
            .map(|(a, p, ..)| (*a, *p))
            .collect()
    }

    /// When nothing met the constraints: the setting that misses them by the least (sum of
    /// relative shortfalls), ties to the higher velocity. `None` without constraints.
    pub fn closest(&self) -> Option<(usize, usize)> {
        if self.manifest.constraints.is_empty() {
            return None;
        }
        let mut best: Option<(f64, f64, usize, usize)> = None;
        for (a, p, v, _) in self.objective_points() {
            let mut miss = 0.0;
            for c in &self.manifest.constraints {
                match self.summary.mean(a, p, &c.metric) {
                    Some(m) => miss += c.relative_violation(m),
                    None => miss += f64::INFINITY,
                }
            }
            let better = match best {
                None => true,
                Some((bm, bv, ..)) => miss < bm || (miss == bm && v.mean > bv),
            };
            if better {
                best = Some((miss, v.mean, a, p));
            }
        }
        best.map(|(_, _, a, p)| (a, p))
    }

    /// How the focus point is described: its label and why it was chosen.
    pub fn focus_description(&self) -> String {
        let p = self.focus_point();
        let label = self.point_label_short(p);
        if self.points.len() < 2 {
            String::new()
        } else if self.recommended().is_some() {
            format!("at the recommended setting {label}")
        } else if self.closest().is_some() {
            format!("at the setting closest to the constraints, {label}")
        } else {
            format!("at sweep point 0 ({label})")
        }
    }

    /// A point's label with shortened paths.
    pub fn point_label_short(&self, point: usize) -> String {
        match self.points.iter().find(|p| p.index == point) {
            Some(p) => crate::report::charts::style::short_point_label(
                &self.manifest.axes,
                &p.values,
                &p.label,
            ),
            None => format!("point {point}"),
        }
    }

    /// Replications, from the manifest or else from summary.csv's `n`.
    pub fn replications(&self) -> u64 {
        self.manifest
            .replications
            .or_else(|| self.summary.iter().next().map(|(_, s)| s.n as u64))
            .unwrap_or(0)
    }
}

impl Results {
    /// The incident with the most user-impact minutes across every run (the first such
    /// row on a tie), if incidents.csv is present and not empty.
    pub fn worst_incident(&self) -> Option<&IncidentRow> {
        let incidents = self.incidents.as_ref()?;
        let mut best: Option<&IncidentRow> = None;
        for i in incidents {
            if best.is_none_or(|b| i.user_impact_min > b.user_impact_min) {
                best = Some(i);
            }
        }
        best
    }
}
