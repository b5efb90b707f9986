//! Reading a results folder back: `manifest.json`, `summary.csv`, `incidents.csv`,
//! `timeline.csv` and the optional graph tables, into the types the charts and the report
//! draw from. Those are the writer's own types (`report::manifest`, `report::schema`),
//! so the folder's schema is defined once.
//!
//! Charts and the report are drawn from these files alone (never from in-memory run
//! results), so `blastsim plot DIR` and `blastsim run` give the same bytes. Columns are
//! found by header name, so extra columns are ignored and column order does not matter.
//! Rows are streamed, and every malformed value is an error naming the file, line and
//! column.
//!
//! `plot` reads folders it did not write, so every value is checked against what a run can
//! write before any chart sees it (`Limits` below): numbers finite (or NaN where a
//! statistic is undefined) and within `VALUE_MAX`, intervals the right way round, graph
//! depths below the service count, counts of services and rows bounded. A folder outside
//! them is refused with the file, line and field, instead of hanging on an axis spanning
//! -1e308 to 1e308 or allocating a column per claimed depth.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::bail;

use crate::experiment::frontier;
pub use crate::report::manifest::{ArmMeta, AxisMeta, ConstraintMeta, Manifest};
pub use crate::report::schema::{EdgeRow, IncidentRow, NodeRow, SensitivityRow, Stat, TimelineRow};
use crate::report::schema::{SummaryKey, TableReader};

/// A results folder, read back.
#[derive(Clone, Debug)]
pub struct Results {
    /// The folder it was read from.
    pub dir: PathBuf,
    /// `manifest.json`.
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
    /// `sensitivity.csv`, or `None` when the analysis was not run.
    pub sensitivity: Option<Vec<SensitivityRow>>,
}

/// One grid point, as `summary.csv` names it.
#[derive(Clone, Debug)]
pub struct PointInfo {
    /// Index.
    pub index: usize,
    /// "path=value, ..." or "base".
    pub label: String,
    /// The value of each axis, displayed, in axis order.
    pub values: Vec<String>,
}

/// `summary.csv`, indexed by (arm, point, metric).
#[derive(Clone, Debug, Default)]
pub struct Summary {
    stats: BTreeMap<(usize, usize, String), Stat>,
    metrics: Vec<String>,
}

/// The largest magnitude a number in a results table may have. Real metrics stay far
/// below it (a century of events is about 10^9); beyond it, axis spans and tick steps stop
/// being meaningful in `f64`.
pub const VALUE_MAX: f64 = 1e15;

/// The most services `graph_nodes.csv` may list: what `run` writes graph tables for.
pub const GRAPH_NODES_MAX: usize = crate::report::tables::GRAPH_SERVICES_MAX;

/// The most edges `graph_edges.csv` may list: a complete graph on `GRAPH_NODES_MAX`
/// services has fewer than 2 million.
pub const GRAPH_EDGES_MAX: usize = GRAPH_NODES_MAX * GRAPH_NODES_MAX / 2;

/// The most rows `summary.csv` may have (arms x points x metrics of the largest sweep
/// `validate` allows, with room to spare).
pub const SUMMARY_ROWS_MAX: usize = 10_000_000;

/// The most rows `timeline.csv` may have: one per simulated day of replication 0 of every
/// arm and point.
pub const TIMELINE_ROWS_MAX: usize = 50_000_000;

/// The most rows `incidents.csv` may have.
pub const INCIDENT_ROWS_MAX: usize = 100_000_000;

/// `v` as read from `file:line`, column `name`: finite and within `VALUE_MAX`, or NaN
/// when `nan_ok` (an undefined statistic, such as the SD of one replication).
fn check_value(at: &str, name: &str, v: f64, nan_ok: bool) -> anyhow::Result<()> {
    if v.is_nan() {
        if nan_ok {
            return Ok(());
        }
        bail!("{at}: column `{name}`: NaN is not a value a run writes here");
    }
    if !v.is_finite() || v.abs() > VALUE_MAX {
        bail!("{at}: column `{name}`: {v:e} is outside -{VALUE_MAX:e} to {VALUE_MAX:e}");
    }
    Ok(())
}

/// Refuses a table with more than `max` rows, at the first row past it.
fn check_rows(file: &str, line: u64, rows: usize, max: usize) -> anyhow::Result<()> {
    if rows > max {
        bail!("{file}:{line}: more than {max} rows, the most a results folder holds");
    }
    Ok(())
}

fn check_stat(at: &str, s: &Stat) -> anyhow::Result<()> {
    for (name, v) in [
        ("mean", s.mean),
        ("sd", s.sd),
        ("ci95_low", s.ci_low),
        ("ci95_high", s.ci_high),
        ("p50", s.p50),
        ("p95", s.p95),
        ("max", s.max),
    ] {
        check_value(at, name, v, true)?;
    }
    for (name, v) in [
        ("paired_diff_mean", s.diff_mean),
        ("paired_diff_ci95_low", s.diff_low),
        ("paired_diff_ci95_high", s.diff_high),
    ] {
        if let Some(v) = v {
            check_value(at, name, v, true)?;
        }
    }
    if s.ci_low > s.ci_high {
        bail!(
            "{at}: column `ci95_low`: {} is above ci95_high {}",
            s.ci_low,
            s.ci_high
        );
    }
    if let (Some(lo), Some(hi)) = (s.diff_low, s.diff_high)
        && lo > hi
    {
        bail!("{at}: column `paired_diff_ci95_low`: {lo} is above paired_diff_ci95_high {hi}");
    }
    Ok(())
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
        let mut arms: Vec<String> = manifest.meta.arms.iter().map(|a| a.name.clone()).collect();
        let (summary, points) =
            read_summary(&dir.join("summary.csv"), &manifest.meta.axes, &mut arms)?;
        let incidents = optional(dir, "incidents.csv", read_incidents)?;
        let timeline = optional(dir, "timeline.csv", read_timeline)?;
        let sensitivity = optional(dir, "sensitivity.csv", read_sensitivity)?;
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
            sensitivity,
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

    /// The velocity metric (higher is better).
    pub fn velocity(&self) -> &str {
        &self.manifest.meta.objectives.velocity
    }

    /// The risk metric (lower is better).
    pub fn risk(&self) -> &str {
        &self.manifest.meta.objectives.risk
    }

    /// The constraints the recommendation must meet.
    pub fn constraints(&self) -> &[ConstraintMeta] {
        &self.manifest.meta.objectives.constraints
    }

    /// The sweep axes.
    pub fn axes(&self) -> &[AxisMeta] {
        &self.manifest.meta.axes
    }

    /// The baseline arm's index (the manifest's, else the first arm).
    pub fn baseline(&self) -> usize {
        self.arm_index(&self.manifest.meta.baseline_arm)
            .unwrap_or(0)
    }

    /// The recommended (arm index, point index), if any: the manifest's, else (a
    /// hand-made manifest without one) the setting `summary.csv` flags.
    pub fn recommended(&self) -> Option<(usize, usize)> {
        if let Some(rec) = &self.manifest.recommendation {
            return Some((
                self.arm_index(&rec.arm)?,
                self.point_index(&rec.point_label)?,
            ));
        }
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
        (0..self.axes().len())
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
// Reading the files

fn read_manifest(path: &Path) -> anyhow::Result<Manifest> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
    serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{}:{}:{}: {}", path.display(), e.line(), e.column(), e))
}

fn read_summary(
    path: &Path,
    axes: &[AxisMeta],
    arms: &mut Vec<String>,
) -> anyhow::Result<(Summary, Vec<PointInfo>)> {
    let mut t = TableReader::open(path)?;
    let paths: Vec<&str> = axes.iter().map(|a| a.path.as_str()).collect();
    let axis_cols = t.named(&paths)?;
    let file = t.file().to_string();
    let mut summary = Summary::default();
    let mut points: BTreeMap<usize, PointInfo> = BTreeMap::new();
    for row in t.rows() {
        let row = row?;
        let at = format!("{file}:{}", row.line());
        check_rows(&file, row.line(), summary.stats.len() + 1, SUMMARY_ROWS_MAX)?;
        let key: SummaryKey = row.get()?;
        let stat: Stat = row.get()?;
        check_stat(&at, &stat)?;
        let a = match arms.iter().position(|x| *x == key.arm) {
            Some(a) => a,
            None => {
                arms.push(key.arm);
                arms.len() - 1
            }
        };
        points.entry(key.point).or_insert_with(|| PointInfo {
            index: key.point,
            label: key.point_label,
            values: row.strings(&axis_cols),
        });
        if !summary.metrics.contains(&stat.metric) {
            summary.metrics.push(stat.metric.clone());
        }
        summary
            .stats
            .insert((a, key.point, stat.metric.clone()), stat);
    }
    if summary.stats.is_empty() {
        bail!("{file}: no rows (did the run finish?)");
    }
    Ok((summary, points.into_values().collect()))
}

fn read_incidents(path: &Path) -> anyhow::Result<Vec<IncidentRow>> {
    let mut t = TableReader::open(path)?;
    let file = t.file().to_string();
    let mut out: Vec<IncidentRow> = Vec::new();
    for row in t.rows() {
        let row = row?;
        check_rows(&file, row.line(), out.len() + 1, INCIDENT_ROWS_MAX)?;
        let i: IncidentRow = row.get()?;
        let at = format!("{file}:{}", row.line());
        for (name, v) in [
            ("started_h", i.started_h),
            ("detected_h", i.detected_h),
            ("restored_h", i.restored_h),
            ("duration_h", i.duration_h),
            ("users_hit_peak", i.users_hit_peak),
            ("user_impact_min", i.user_impact_min),
        ] {
            check_value(&at, name, v, false)?;
        }
        out.push(i);
    }
    Ok(out)
}

/// Most rows of `sensitivity.csv`: two per `[sensitivity]` entry.
const SENSITIVITY_ROWS_MAX: usize = 2 * crate::scenario::limits::SENSITIVITY_ENTRIES_MAX;

fn read_sensitivity(path: &Path) -> anyhow::Result<Vec<SensitivityRow>> {
    let mut t = TableReader::open(path)?;
    let file = t.file().to_string();
    let mut out: Vec<SensitivityRow> = Vec::new();
    for row in t.rows() {
        let row = row?;
        check_rows(&file, row.line(), out.len() + 1, SENSITIVITY_ROWS_MAX)?;
        let r: SensitivityRow = row.get()?;
        let at = format!("{file}:{}", row.line());
        for (name, v) in [
            ("base_advantage", r.base_advantage),
            ("advantage", r.advantage),
        ] {
            if let Some(v) = v {
                check_value(&at, name, v, false)?;
            }
        }
        out.push(r);
    }
    Ok(out)
}

fn read_timeline(path: &Path) -> anyhow::Result<Vec<TimelineRow>> {
    let mut t = TableReader::open(path)?;
    let file = t.file().to_string();
    let mut out: Vec<TimelineRow> = Vec::new();
    for row in t.rows() {
        let row = row?;
        check_rows(&file, row.line(), out.len() + 1, TIMELINE_ROWS_MAX)?;
        let d: TimelineRow = row.get()?;
        let at = format!("{file}:{}", row.line());
        if d.day as usize > TIMELINE_ROWS_MAX {
            bail!(
                "{at}: column `day`: {} is past any horizon a run simulates",
                d.day
            );
        }
        for (name, v) in [
            ("users_hit_max", d.users_hit_max),
            ("user_impact_min", d.user_impact_min),
            ("freeze_h", d.freeze_h),
            ("kill_switch_h", d.kill_switch_h),
        ] {
            check_value(&at, name, v, false)?;
        }
        out.push(d);
    }
    Ok(out)
}

fn read_graph(dir: &Path) -> anyhow::Result<GraphData> {
    let mut n = TableReader::open(&dir.join("graph_nodes.csv"))?;
    let nodes_file = n.file().to_string();
    let mut nodes: Vec<NodeRow> = Vec::new();
    let mut lines: Vec<u64> = Vec::new();
    for row in n.rows() {
        let row = row?;
        check_rows(&nodes_file, row.line(), nodes.len() + 1, GRAPH_NODES_MAX)?;
        let node: NodeRow = row.get()?;
        check_value(
            &format!("{nodes_file}:{}", row.line()),
            "weight",
            node.weight,
            false,
        )?;
        lines.push(row.line());
        nodes.push(node);
    }
    // A layer per depth: a depth is at most the longest dependency chain, so below the
    // service count.
    for (node, line) in nodes.iter().zip(&lines) {
        if node.depth >= nodes.len() {
            bail!(
                "{nodes_file}:{line}: column `depth`: {} is not below the {} services listed",
                node.depth,
                nodes.len()
            );
        }
    }
    let known: std::collections::BTreeSet<usize> = nodes.iter().map(|n| n.id).collect();
    let mut e = TableReader::open(&dir.join("graph_edges.csv"))?;
    let file = e.file().to_string();
    let mut edges = Vec::new();
    for row in e.rows() {
        let row = row?;
        check_rows(&file, row.line(), edges.len() + 1, GRAPH_EDGES_MAX)?;
        let edge: EdgeRow = row.get()?;
        if !known.contains(&edge.from) || !known.contains(&edge.to) {
            bail!(
                "{file}:{}:1: edge {} -> {} names a service graph_nodes.csv does not have",
                row.line(),
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
        let (v, k) = (self.velocity(), self.risk());
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
        let means: Vec<(f64, f64)> = pts.iter().map(|(_, _, v, k)| (v.mean, k.mean)).collect();
        let front = frontier::non_dominated(&means);
        pts.iter()
            .zip(front)
            .filter(|(_, on)| *on)
            .map(|((a, p, ..), _)| (*a, *p))
            .collect()
    }

    /// When nothing met the constraints: the setting that misses them by the least (sum of
    /// relative shortfalls), ties to the higher velocity. `None` without constraints.
    pub fn closest(&self) -> Option<(usize, usize)> {
        let constraints = self.constraints();
        if constraints.is_empty() {
            return None;
        }
        let pts = self.objective_points();
        let misses: Vec<(f64, f64)> = pts
            .iter()
            .map(|&(a, p, v, _)| {
                let miss = constraints
                    .iter()
                    .map(|c| match self.summary.mean(a, p, &c.metric) {
                        Some(m) => c.relative_violation(m),
                        None => f64::INFINITY,
                    })
                    .sum();
                (v.mean, miss)
            })
            .collect();
        frontier::closest(&misses).map(|i| (pts[i].0, pts[i].1))
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
            Some(p) => {
                crate::report::charts::style::short_point_label(self.axes(), &p.values, &p.label)
            }
            None => format!("point {point}"),
        }
    }

    /// Replications, from the manifest or else (a manifest without them) summary.csv's `n`.
    pub fn replications(&self) -> u64 {
        match self.manifest.meta.replications {
            0 => self.summary.iter().next().map_or(0, |(_, s)| s.n as u64),
            n => u64::from(n),
        }
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
