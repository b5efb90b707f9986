//! Reading a results folder back: `manifest.json`, `summary.csv`, `tail.csv`,
//! `impact_over_time.csv`, `worst_incident.csv`, `timeline.csv` and the optional graph
//! tables, into the types the charts and the report draw from. Those are the writer's own types (`report::manifest`, `report::schema`),
//! so the folder's schema is defined once.
//!
//! Charts and the report are drawn from these files alone (never from in-memory run
//! results), so `blastsim plot DIR` and `blastsim run` give the same bytes. Columns are
//! found by header name, so extra columns are ignored and column order does not matter.
//! Rows are streamed, and every malformed value is an error naming the file, line and
//! column. What is kept is bounded whatever the folder holds: the rows of the focus point
//! (the tail, the cumulative impact), one run's timeline, one worst incident.
//! `incidents.csv` (which may be gigabytes, or cut by `run --incidents`) is read only when
//! `tail.csv` or `worst_incident.csv` is absent (a hand-made folder), row by row, keeping
//! counts and one row; every line of every table is bounded
//! (`schema::TABLE_LINE_BYTES_MAX`).
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
pub use crate::report::schema::{
    EdgeRow, ImpactRow, IncidentRow, NodeRow, SensitivityRow, Stat, TailRow, TimelineRow,
};
use crate::report::schema::{SummaryKey, TableReader};
use crate::report::tables::{
    HIT_THRESHOLDS, IMPACT_BUCKETS, IMPACT_THRESHOLDS, TIMELINE_ROWS_PER_RUN,
};

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
    /// Incidents at least this bad at the focus point (`tail.csv`, else counted from
    /// `incidents.csv`), or `None` when neither file is present.
    pub tail: Option<TailData>,
    /// The worst incident over every run (`worst_incident.csv`, else the largest row of
    /// `incidents.csv`); `None` when there is none or neither file is present.
    pub worst: Option<IncidentRow>,
    /// The cumulative user impact at the focus point (`impact_over_time.csv`), in file
    /// order, or `None` when the file is absent.
    pub impact: Option<Vec<ImpactRow>>,
    /// One run's timeline (replication 0 of `timeline_arm()` at the focus point), or
    /// `None` when `timeline.csv` is absent.
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

/// The tail of the incidents at the focus point.
#[derive(Clone, Debug, Default)]
pub struct TailData {
    /// The focus point's rows, of the arms `summary.csv` knows.
    pub rows: Vec<TailRow>,
    /// Incidents over every run of every setting.
    pub incidents_total: u64,
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
        let sensitivity_file = dir.join("sensitivity.csv");
        let sensitivity = if sensitivity_file.is_file() {
            Some(read_sensitivity(&sensitivity_file)?)
        } else {
            None
        };
        let graph =
            if dir.join("graph_nodes.csv").is_file() && dir.join("graph_edges.csv").is_file() {
                Some(read_graph(dir)?)
            } else {
                None
            };
        let mut r = Results {
            dir: dir.to_path_buf(),
            manifest,
            arms,
            points,
            summary,
            tail: None,
            worst: None,
            impact: None,
            timeline: None,
            graph,
            sensitivity,
        };
        // What is read next keeps only the focus point's rows, so it needs the summary.
        let (tail_file, worst_file) = (dir.join("tail.csv"), dir.join("worst_incident.csv"));
        if tail_file.is_file() {
            r.tail = Some(read_tail(&tail_file, &r)?);
        }
        if worst_file.is_file() {
            r.worst = read_worst(&worst_file)?;
        }
        let incidents = dir.join("incidents.csv");
        if (!tail_file.is_file() || !worst_file.is_file()) && incidents.is_file() {
            let (tail, worst) = scan_incidents(&incidents, &r)?;
            if !tail_file.is_file() {
                r.tail = Some(tail);
            }
            if !worst_file.is_file() {
                r.worst = worst;
            }
        }
        let impact = dir.join("impact_over_time.csv");
        if impact.is_file() {
            r.impact = Some(read_impact(&impact, &r)?);
        }
        let timeline = dir.join("timeline.csv");
        if timeline.is_file() {
            r.timeline = Some(read_timeline(&timeline, &r)?);
        }
        Ok(r)
    }

    /// The arm whose single run the appendix timeline shows: the recommended one, else the
    /// baseline.
    pub fn timeline_arm(&self) -> usize {
        self.recommended()
            .map(|(a, _)| a)
            .unwrap_or_else(|| self.baseline())
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

/// Checks the values of an incident row.
fn check_incident(at: &str, i: &IncidentRow) -> anyhow::Result<()> {
    for (name, v) in [
        ("started_h", i.started_h),
        ("detected_h", i.detected_h),
        ("restored_h", i.restored_h),
        ("duration_h", i.duration_h),
        ("users_hit_peak", i.users_hit_peak),
        ("user_impact_min", i.user_impact_min),
    ] {
        check_value(at, name, v, false)?;
    }
    Ok(())
}

/// Simulated years of one run, from the manifest's horizon (1 when it has none).
fn years(r: &Results) -> f64 {
    crate::engine::SimDuration::parse(&r.manifest.meta.horizon)
        .map(|h| h.as_ms() as f64 / crate::engine::time::MS_PER_DAY as f64 / 365.0)
        .ok()
        .filter(|y| *y > 0.0)
        .unwrap_or(1.0)
}

/// `tail.csv`: the focus point's rows of known arms; the incidents of every setting summed.
fn read_tail(path: &Path, r: &Results) -> anyhow::Result<TailData> {
    let mut t = TableReader::open(path)?;
    let file = t.file().to_string();
    let focus = r.focus_point();
    let per_arm = IMPACT_THRESHOLDS.len() + HIT_THRESHOLDS.len();
    let mut out = TailData::default();
    for row in t.rows() {
        let row = row?;
        let at = format!("{file}:{}", row.line());
        let tail: TailRow = row.get()?;
        check_value(&at, "threshold", tail.threshold, false)?;
        check_value(&at, "per_year", tail.per_year, false)?;
        if tail.measure == "user_impact_min" && tail.threshold == 0.0 {
            out.incidents_total = out.incidents_total.saturating_add(tail.incidents);
        }
        if tail.point == focus && r.arm_index(&tail.arm).is_some() {
            check_rows(
                &file,
                row.line(),
                out.rows.len() + 1,
                r.arms.len() * per_arm,
            )?;
            out.rows.push(tail);
        }
    }
    Ok(out)
}

/// Most rows of `sensitivity.csv`: two per `[sensitivity]` entry.
const SENSITIVITY_ROWS_MAX: usize = 2 * crate::scenario::limits::SENSITIVITY_ENTRIES_MAX;

/// Both ends of one assumption's range in `sensitivity.csv`.
pub struct RangeEnds<'a> {
    /// The row of the low end.
    pub low: &'a SensitivityRow,
    /// The row of the high end.
    pub high: &'a SensitivityRow,
}

/// The assumptions of `rows` with both ends, in the file's order.
pub fn range_ends(rows: &[SensitivityRow]) -> Vec<RangeEnds<'_>> {
    rows.iter()
        .filter(|r| r.side == "low")
        .filter_map(|low| {
            let high = rows
                .iter()
                .find(|h| h.side == "high" && h.parameter == low.parameter)?;
            Some(RangeEnds { low, high })
        })
        .collect()
}

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

/// `worst_incident.csv`: its one row, if any.
fn read_worst(path: &Path) -> anyhow::Result<Option<IncidentRow>> {
    let mut t = TableReader::open(path)?;
    let file = t.file().to_string();
    let mut worst = None;
    for row in t.rows() {
        let row = row?;
        let i: IncidentRow = row.get()?;
        check_incident(&format!("{file}:{}", row.line()), &i)?;
        if worst.is_some() {
            bail!(
                "{file}:{}: more than one row (it holds the one worst incident)",
                row.line()
            );
        }
        worst = Some(i);
    }
    Ok(worst)
}

/// A folder without `tail.csv` or `worst_incident.csv` (hand-made): both counted from
/// `incidents.csv`, row by row, keeping only counts and the worst row.
fn scan_incidents(path: &Path, r: &Results) -> anyhow::Result<(TailData, Option<IncidentRow>)> {
    let mut t = TableReader::open(path)?;
    let file = t.file().to_string();
    let focus = r.focus_point();
    let mut impact_ge = vec![[0u64; IMPACT_THRESHOLDS.len()]; r.arms.len()];
    let mut hit_ge = vec![[0u64; HIT_THRESHOLDS.len()]; r.arms.len()];
    let mut total = 0u64;
    let mut worst: Option<IncidentRow> = None;
    for row in t.rows() {
        let row = row?;
        let i: IncidentRow = row.get()?;
        check_incident(&format!("{file}:{}", row.line()), &i)?;
        total += 1;
        if i.point == focus
            && let Some(a) = r.arm_index(&i.arm)
        {
            for (k, th) in IMPACT_THRESHOLDS.iter().enumerate() {
                impact_ge[a][k] += u64::from(i.user_impact_min >= *th);
            }
            for (k, th) in HIT_THRESHOLDS.iter().enumerate() {
                hit_ge[a][k] += u64::from(i.services_hit >= *th);
            }
        }
        if worst
            .as_ref()
            .is_none_or(|w| i.user_impact_min > w.user_impact_min)
        {
            worst = Some(i);
        }
    }
    let runs = r.replications().max(1);
    let years = years(r);
    let mut rows = Vec::new();
    for (a, arm) in r.arms.iter().enumerate() {
        let row = |measure: &str, threshold: f64, n: u64| TailRow {
            arm: arm.clone(),
            point: focus,
            measure: measure.to_string(),
            threshold,
            runs,
            incidents: n,
            per_year: n as f64 / runs as f64 / years,
        };
        for (k, th) in IMPACT_THRESHOLDS.iter().enumerate() {
            rows.push(row("user_impact_min", *th, impact_ge[a][k]));
        }
        for (k, th) in HIT_THRESHOLDS.iter().enumerate() {
            rows.push(row("services_hit", f64::from(*th), hit_ge[a][k]));
        }
    }
    Ok((
        TailData {
            rows,
            incidents_total: total,
        },
        worst,
    ))
}

/// `impact_over_time.csv`: the focus point's rows of known arms.
fn read_impact(path: &Path, r: &Results) -> anyhow::Result<Vec<ImpactRow>> {
    let mut t = TableReader::open(path)?;
    let file = t.file().to_string();
    let focus = r.focus_point();
    let mut out = Vec::new();
    for row in t.rows() {
        let row = row?;
        let i: ImpactRow = row.get()?;
        let at = format!("{file}:{}", row.line());
        for (name, v) in [
            ("day_end", i.day_end),
            ("mean", i.mean),
            ("ci95_low", i.ci_low),
            ("ci95_high", i.ci_high),
        ] {
            check_value(&at, name, v, false)?;
        }
        if i.ci_low > i.ci_high {
            bail!(
                "{at}: column `ci95_low`: {} is above ci95_high {}",
                i.ci_low,
                i.ci_high
            );
        }
        if i.point == focus && r.arm_index(&i.arm).is_some() {
            check_rows(
                &file,
                row.line(),
                out.len() + 1,
                r.arms.len() * IMPACT_BUCKETS,
            )?;
            out.push(i);
        }
    }
    Ok(out)
}

/// `timeline.csv`: the rows of one run (replication 0 of `timeline_arm` at the focus
/// point), at most `TIMELINE_ROWS_PER_RUN` of them.
fn read_timeline(path: &Path, r: &Results) -> anyhow::Result<Vec<TimelineRow>> {
    let mut t = TableReader::open(path)?;
    let file = t.file().to_string();
    let (focus, arm) = (r.focus_point(), &r.arms[r.timeline_arm()]);
    let mut out: Vec<TimelineRow> = Vec::new();
    for row in t.rows() {
        let row = row?;
        let d: TimelineRow = row.get()?;
        let at = format!("{file}:{}", row.line());
        // Twenty years of days: the longest horizon a run simulates.
        let horizon_days =
            crate::scenario::limits::HORIZON_MAX.as_ms() / crate::engine::time::MS_PER_DAY;
        if u64::from(d.day) + u64::from(d.days) > horizon_days + 1 || d.days == 0 {
            bail!(
                "{at}: columns `day`, `days`: days {} to {} are not within a horizon a run simulates",
                d.day,
                u64::from(d.day) + u64::from(d.days)
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
        if d.point == focus && d.arm == *arm {
            check_rows(&file, row.line(), out.len() + 1, TIMELINE_ROWS_PER_RUN)?;
            out.push(d);
        }
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
        let d = self.decision();
        d.choice.closest.map(|i| d.keys[i])
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

    /// `focus_description` framed for a sentence: `before` + it + `after`, or "" when there
    /// is nothing to say (one setting only).
    pub fn focus_phrase(&self, before: &str, after: &str) -> String {
        let at = self.focus_description();
        if at.is_empty() {
            at
        } else {
            format!("{before}{at}{after}")
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
    /// The incident with the most user-impact minutes across every run (the earliest on a
    /// tie), if any.
    pub fn worst_incident(&self) -> Option<&IncidentRow> {
        self.worst.as_ref()
    }
}

/// The decision `experiment::frontier::decide` makes on this folder's `summary.csv`, with
/// what the report needs to explain it.
#[derive(Clone, Debug)]
pub struct Decided {
    /// (arm, point) of each setting, arm-major.
    pub keys: Vec<(usize, usize)>,
    /// The settings as the decision saw them.
    pub settings: Vec<frontier::Setting>,
    /// The objectives, resolved (`None` when a name in them is unknown to this folder).
    pub objectives: Option<frontier::ResolvedObjectives>,
    /// The decision.
    pub choice: frontier::Choice,
}

impl Decided {
    /// The setting index of (arm, point).
    pub fn index(&self, arm: usize, point: usize) -> Option<usize> {
        self.keys.iter().position(|&k| k == (arm, point))
    }
}

/// Invariants the chaos campaigns of `chaos/` found broken, per arm.
#[derive(Clone, Debug, Default)]
pub struct ChaosFindings {
    /// Campaigns run (distinct `campaign` values of `campaigns.csv`).
    pub campaigns: usize,
    /// (arm, invariant) -> campaigns in which it was broken.
    pub broken: BTreeMap<(String, String), usize>,
}

impl ChaosFindings {
    /// The invariants arm `arm` broke, with the campaigns in which it did.
    pub fn of_arm(&self, arm: &str) -> Vec<(&str, usize)> {
        self.broken
            .iter()
            .filter(|((a, _), _)| a == arm)
            .map(|((_, inv), n)| (inv.as_str(), *n))
            .collect()
    }
}

impl Results {
    /// The decision on this folder, recomputed from `summary.csv` with the same function
    /// the run used, so it agrees with the recorded recommendation on a folder `run` wrote.
    pub fn decision(&self) -> Decided {
        use crate::metrics::METRICS;
        let base = self.baseline();
        let mut keys = Vec::new();
        let mut settings = Vec::new();
        for (a, p, ..) in self.objective_points() {
            let metrics = METRICS
                .iter()
                .map(|m| match self.summary.get(a, p, m.name) {
                    Some(s) => frontier::Estimate {
                        value: frontier::Interval {
                            mean: s.mean,
                            low: s.ci_low,
                            high: s.ci_high,
                        },
                        diff: match (a != base, s.diff_mean, s.diff_low, s.diff_high) {
                            (true, Some(mean), Some(low), Some(high)) => {
                                Some(frontier::Interval { mean, low, high })
                            }
                            _ => None,
                        },
                    },
                    None => frontier::Estimate {
                        value: frontier::Interval::exact(f64::NAN),
                        diff: None,
                    },
                })
                .collect();
            keys.push((a, p));
            settings.push(frontier::Setting {
                arm: a,
                point: p,
                metrics,
                flagged: false,
            });
        }
        let objectives = frontier::resolve(&self.manifest.meta.objectives(), &self.arms).ok();
        let choice = match &objectives {
            Some(o) => frontier::decide(&settings, o),
            None => frontier::Choice {
                on_frontier: vec![false; settings.len()],
                feasible: vec![false; settings.len()],
                recommended: None,
                ties: Vec::new(),
                closest: None,
                bindings: Vec::new(),
                broken: vec![false; settings.len()],
            },
        };
        Decided {
            keys,
            settings,
            objectives,
            choice,
        }
    }

    /// What `chaos/violations.csv` and `chaos/campaigns.csv` say, when the folder has them
    /// (`blastsim chaos` writes them); `None` otherwise or when they cannot be read.
    pub fn chaos_findings(&self) -> Option<ChaosFindings> {
        #[derive(serde::Deserialize)]
        struct Violation {
            campaign: u64,
            arm: String,
            invariant: String,
        }
        #[derive(serde::Deserialize)]
        struct Campaign {
            campaign: u64,
        }
        let dir = self.dir.join("chaos");
        let (v, c) = (dir.join("violations.csv"), dir.join("campaigns.csv"));
        if !v.is_file() || !c.is_file() {
            return None;
        }
        let mut campaigns = std::collections::BTreeSet::new();
        let mut t = TableReader::open(&c).ok()?;
        for row in t.typed::<Campaign>() {
            campaigns.insert(row.ok()?.campaign);
        }
        let mut seen: std::collections::BTreeSet<(String, String, u64)> = Default::default();
        let mut t = TableReader::open(&v).ok()?;
        for row in t.typed::<Violation>() {
            let row = row.ok()?;
            seen.insert((row.arm, row.invariant, row.campaign));
        }
        let mut broken = BTreeMap::new();
        for (arm, inv, _) in seen {
            *broken.entry((arm, inv)).or_insert(0) += 1;
        }
        Some(ChaosFindings {
            campaigns: campaigns.len(),
            broken,
        })
    }
}
