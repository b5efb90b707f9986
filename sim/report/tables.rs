//! The CSV tables of a results folder: the rows of one run, and the assembly of the final
//! files from journal records in run-id order. The row types and columns are defined once,
//! in `report::schema`, and read back by `report::charts::input` through the same types.
//!
//! Formats (read by the charts and the report; do not rename columns):
//! - `runs.csv`: `run_id,arm,point,replication,seed,<axis paths>,<METRICS>,stop_reason,fingerprint`
//! - `summary.csv`: one row per arm × point × metric, see `SUMMARY_COLUMNS`
//! - `incidents.csv`: see `INCIDENT_COLUMNS`
//! - `incidents.csv`: see `INCIDENT_COLUMNS`; the incidents of the replications `run
//!   --incidents` keeps (`IncidentsKept`), every replication by default
//! - `timeline.csv`: replication 0 of every arm × point, see `TIMELINE_COLUMNS`, in at most
//!   `TIMELINE_ROWS_PER_RUN` buckets of whole days
//! - `tail.csv`: incidents at least this bad per arm × point × threshold, see `TAIL_COLUMNS`
//! - `impact_over_time.csv`: cumulative user impact per arm × point × time bucket, see
//!   `IMPACT_COLUMNS`
//! - `worst_incident.csv`: the worst incident over every run (`INCIDENT_COLUMNS`, one row)
//! - `graph_nodes.csv` / `graph_edges.csv`: the world of (baseline arm, point 0)
//!
//! `tail.csv`, `impact_over_time.csv` and `worst_incident.csv` come from a per-run summary
//! (`RunTails`, the journal's `S` and `X` lines) that every run carries whatever
//! `--incidents` says, so no summary number, chart or report sentence depends on it.
//!
//! Floats are printed with Rust's shortest round-trip `{}` formatting, so the bytes are a
//! pure function of the values, and reading a value back gives the same bits. Every table
//! is assembled from the journal, whether the runs were done now, in an earlier
//! interrupted run, or on other machines: that is what makes resumed and merged folders
//! byte-identical to an uninterrupted one.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::experiment::frontier::{self, Choice};
use crate::experiment::plan::RunSpec;
use crate::experiment::stats::{self, Describe, Paired};
use crate::metrics::run_output::DayStats;
use crate::metrics::{IncidentRecord, METRICS, RunOutput};
use crate::model::config::WorldConfig;
use crate::model::graph::{EdgeKind, ServiceGraph, ServiceId};
use crate::report::atomic::AtomicFile;
use crate::report::journal::{self, JournalRecord};
use crate::report::manifest::ExperimentMeta;
use crate::report::schema::{
    EdgeRow, ImpactRow, IncidentRow, Named, NodeRow, Row, RunKey, RunRow, RunTail, Stat,
    SummaryKey, SummaryRow, TailRow, TimelineRow, to_fields,
};
use crate::scenario::Scenario;

/// Graphs larger than this are not written out (a chart of them would be unreadable).
pub const GRAPH_SERVICES_MAX: usize = 2000;

pub use crate::report::schema::{
    EDGE_COLUMNS, IMPACT_COLUMNS, INCIDENT_COLUMNS, NODE_COLUMNS, SUMMARY_COLUMNS, TAIL_COLUMNS,
    TIMELINE_COLUMNS, fmt_f64,
};

/// The most `timeline.csv` rows one run writes: horizons longer than this many days are
/// written in buckets of several whole days, so a run's timeline (and the memory that
/// formats it) does not grow with the horizon.
pub const TIMELINE_ROWS_PER_RUN: usize = 400;

/// Thresholds of user-impact minutes (per incident) at which `tail.csv` counts incidents at
/// least this bad: 0 (every incident), then 1-2-5 steps from 0.01 to 10^7. Counts are exact
/// at each threshold.
pub const IMPACT_THRESHOLDS: [f64; 29] = [
    0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0,
    1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 2e6, 5e6, 1e7,
];

/// Thresholds of services hit at which `tail.csv` counts incidents: 1-2-5 steps up to
/// `SERVICES_MAX`.
pub const HIT_THRESHOLDS: [u32; 19] = [
    1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000,
    200_000, 500_000, 1_000_000,
];

/// Equal time buckets of the horizon over which each run's user impact is summed for
/// `impact_over_time.csv`.
pub const IMPACT_BUCKETS: usize = 60;

/// Which replications' incidents `incidents.csv` lists (`run --incidents`). Every
/// statistic, chart and report sentence comes from the per-run summaries instead
/// (`RunTails`), so this changes nothing but `incidents.csv` and the journal's size.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum IncidentsKept {
    /// Every replication (the default).
    #[default]
    All,
    /// Replications 0 to K-1 of every arm and point.
    First(u32),
    /// None: `incidents.csv` has its header only.
    None,
}

impl IncidentsKept {
    /// Parses `all`, `first:K` (K at least 1) or `none`.
    pub fn parse(s: &str) -> Result<IncidentsKept, String> {
        match s.trim() {
            "all" => Ok(IncidentsKept::All),
            "none" => Ok(IncidentsKept::None),
            other => match other.strip_prefix("first:").map(str::parse::<u32>) {
                Some(Ok(k)) if k >= 1 => Ok(IncidentsKept::First(k)),
                _ => Err(format!(
                    "`{other}` is not `all`, `first:K` (K a whole number, at least 1) or `none`"
                )),
            },
        }
    }

    /// Whether the incidents of `replication` are listed.
    pub fn keeps(self, replication: u32) -> bool {
        match self {
            IncidentsKept::All => true,
            IncidentsKept::First(k) => replication < k,
            IncidentsKept::None => false,
        }
    }
}

impl std::fmt::Display for IncidentsKept {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            IncidentsKept::All => write!(f, "all"),
            IncidentsKept::First(k) => write!(f, "first:{k}"),
            IncidentsKept::None => write!(f, "none"),
        }
    }
}

impl serde::Serialize for IncidentsKept {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for IncidentsKept {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        IncidentsKept::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// One run's summary of its incidents, kept whatever `--incidents` says: how many were at
/// least each threshold bad, and its user impact per time bucket. Bounded: a fixed number
/// of counts, whatever the horizon or the number of incidents.
#[derive(Clone, Debug, PartialEq)]
pub struct RunTails {
    /// Incidents with at least `IMPACT_THRESHOLDS[k]` user-impact minutes.
    pub impact_ge: [u64; IMPACT_THRESHOLDS.len()],
    /// Incidents that hit at least `HIT_THRESHOLDS[k]` services.
    pub hit_ge: [u64; HIT_THRESHOLDS.len()],
    /// User-impact minutes of the incidents that started in each bucket of the horizon.
    pub impact_by_bucket: [f64; IMPACT_BUCKETS],
}

impl RunTails {
    /// The summary of a run of `horizon_ms`.
    pub fn of(out: &RunOutput, horizon_ms: u64) -> RunTails {
        let mut t = RunTails {
            impact_ge: [0; IMPACT_THRESHOLDS.len()],
            hit_ge: [0; HIT_THRESHOLDS.len()],
            impact_by_bucket: [0.0; IMPACT_BUCKETS],
        };
        for inc in &out.incidents {
            for (k, th) in IMPACT_THRESHOLDS.iter().enumerate() {
                t.impact_ge[k] += u64::from(inc.user_impact_min >= *th);
            }
            for (k, th) in HIT_THRESHOLDS.iter().enumerate() {
                t.hit_ge[k] += u64::from(inc.services_hit >= *th);
            }
            t.impact_by_bucket[bucket_of(inc.started_at.as_ms(), horizon_ms)] +=
                inc.user_impact_min;
        }
        t
    }

    /// The journal's `S` line fields (without the tag).
    pub fn fields(&self) -> Vec<String> {
        let mut f: Vec<String> = self.impact_ge.iter().map(u64::to_string).collect();
        f.extend(self.hit_ge.iter().map(u64::to_string));
        f.extend(self.impact_by_bucket.iter().copied().map(fmt_f64));
        f
    }

    /// Reads `fields` back; `None` when they are not of that shape.
    pub fn parse(fields: &[String]) -> Option<RunTails> {
        let (ni, nh) = (IMPACT_THRESHOLDS.len(), HIT_THRESHOLDS.len());
        if fields.len() != ni + nh + IMPACT_BUCKETS {
            return None;
        }
        let mut t = RunTails {
            impact_ge: [0; IMPACT_THRESHOLDS.len()],
            hit_ge: [0; HIT_THRESHOLDS.len()],
            impact_by_bucket: [0.0; IMPACT_BUCKETS],
        };
        for (k, v) in fields[..ni].iter().enumerate() {
            t.impact_ge[k] = v.parse().ok()?;
        }
        for (k, v) in fields[ni..ni + nh].iter().enumerate() {
            t.hit_ge[k] = v.parse().ok()?;
        }
        for (k, v) in fields[ni + nh..].iter().enumerate() {
            let v: f64 = v.parse().ok()?;
            if !v.is_finite() || v < 0.0 {
                return None;
            }
            t.impact_by_bucket[k] = v;
        }
        Some(t)
    }
}

/// The impact bucket of simulated time `t_ms` in a horizon of `horizon_ms` (integer
/// arithmetic, so the same on every machine).
fn bucket_of(t_ms: u64, horizon_ms: u64) -> usize {
    let b = u128::from(t_ms) * IMPACT_BUCKETS as u128 / u128::from(horizon_ms.max(1));
    (b as usize).min(IMPACT_BUCKETS - 1)
}

/// The header of `runs.csv` for these axis paths.
pub fn runs_header(axes: &[String]) -> Vec<String> {
    RunRow::header(axes)
}

/// The header of `summary.csv` for these axis paths.
pub fn summary_header(axes: &[String]) -> Vec<String> {
    SummaryRow::header(axes)
}

/// The journal record of one finished run: its `runs.csv` row, its incident rows (when
/// `kept` keeps its replication), its timeline rows (replication 0 only, in at most
/// `TIMELINE_ROWS_PER_RUN` buckets), its per-run summary (`RunTails`) and its worst
/// incident (row and services).
pub fn run_record(
    key: &str,
    scenario: &Scenario,
    spec: &RunSpec,
    out: &RunOutput,
    kept: IncidentsKept,
) -> JournalRecord {
    let world = scenario.world(spec.arm, spec.point);
    let arm = &scenario.arms[spec.arm].name;
    let row = RunRow {
        key: RunKey {
            run_id: spec.run_id,
            arm: arm.clone(),
            point: spec.point,
            replication: spec.replication,
            seed: spec.seed.0,
        },
        axes: scenario.points[spec.point].values.clone(),
        metrics: out.summary.values(),
        tail: RunTail {
            stop_reason: out.stop.name().to_string(),
            fingerprint: format!("{:016x}", out.fingerprint),
        },
    };

    let incidents = if kept.keeps(spec.replication) {
        out.incidents
            .iter()
            .enumerate()
            .map(|(k, inc)| to_fields(&incident_row(world, arm, spec, k, inc)))
            .collect()
    } else {
        Vec::new()
    };

    let timeline = if spec.replication == 0 {
        timeline_rows(arm, spec, &out.days)
    } else {
        Vec::new()
    };

    // The run's worst incident: the first with the most user-impact minutes.
    let mut worst_k: Option<usize> = None;
    for (k, inc) in out.incidents.iter().enumerate() {
        if worst_k.is_none_or(|w| inc.user_impact_min > out.incidents[w].user_impact_min) {
            worst_k = Some(k);
        }
    }
    let worst = worst_k.filter(|_| !out.worst_hit.is_empty()).map(|k| {
        (
            out.incidents[k].user_impact_min,
            out.worst_hit.iter().map(|s| s.0).collect(),
        )
    });
    let worst_row =
        worst_k.map(|k| to_fields(&incident_row(world, arm, spec, k, &out.incidents[k])));

    JournalRecord {
        key: key.to_string(),
        run_id: spec.run_id,
        arm: spec.arm,
        point: spec.point,
        replication: spec.replication,
        run_row: row.fields(),
        incidents,
        timeline,
        tails: Some(RunTails::of(out, world.horizon.as_ms())),
        worst_row,
        worst,
    }
}

/// The `timeline.csv` rows of a run's days: one per day, or, past `TIMELINE_ROWS_PER_RUN`
/// days, one per bucket of the fewest whole days that keeps within it.
fn timeline_rows(arm: &str, spec: &RunSpec, days: &[DayStats]) -> Vec<Vec<String>> {
    let width = days.len().div_ceil(TIMELINE_ROWS_PER_RUN).max(1);
    days.chunks(width)
        .enumerate()
        .map(|(b, chunk)| {
            let mut row = TimelineRow {
                run_id: spec.run_id,
                arm: arm.to_string(),
                point: spec.point,
                replication: spec.replication,
                day: (b * width) as u32,
                days: chunk.len() as u32,
                ..TimelineRow::default()
            };
            for d in chunk {
                row.deploys += d.deploys;
                row.incidents += d.incidents;
                row.users_hit_max = row.users_hit_max.max(d.users_hit_max);
                row.user_impact_min += d.user_impact_min;
                row.breaker_trips += d.breaker_trips;
                row.freeze_h += d.freeze_h;
                row.kill_switch_h += d.kill_switch_h;
            }
            to_fields(&row)
        })
        .collect()
}

/// The `incidents.csv` row of incident `k` of run `spec` in `world`.
fn incident_row(
    world: &WorldConfig,
    arm: &str,
    spec: &RunSpec,
    k: usize,
    inc: &IncidentRecord,
) -> IncidentRow {
    let graph = &world.infra.graph;
    IncidentRow {
        run_id: spec.run_id,
        arm: arm.to_string(),
        point: spec.point,
        replication: spec.replication,
        incident: k,
        change_id: inc.change_id.to_string(),
        author_group: world
            .authors
            .get(inc.author_group)
            .map_or_else(|| inc.author_group.to_string(), |g| g.name.clone()),
        author_kind: inc.author_kind.name().to_string(),
        class: inc.class.name().to_string(),
        severity: inc.severity.name().to_string(),
        origin: if inc.origin.index() < graph.len() {
            graph.name(inc.origin).to_string()
        } else {
            inc.origin.0.to_string()
        },
        started_h: inc.started_at.as_hours_f64(),
        detected_h: inc.detected_at.as_hours_f64(),
        restored_h: inc.restored_at.as_hours_f64(),
        duration_h: inc.duration().as_hours_f64(),
        services_hit: inc.services_hit,
        users_hit_peak: inc.users_hit_peak,
        user_impact_min: inc.user_impact_min,
        recovery: if inc.rebuilt { "rebuild" } else { "rollback" }.to_string(),
    }
}

/// `graph_nodes.csv` rows without the `hit_in_worst` column (the journal's form of the
/// nodes, see `NodeRow`), and `graph_edges.csv` rows.
pub fn graph_rows(graph: &ServiceGraph) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let depth = depths(graph);
    let nodes = graph
        .services()
        .map(|s| {
            let mut f = to_fields(&NodeRow {
                id: s.index(),
                name: graph.name(s).to_string(),
                weight: graph.weight(s),
                tier: graph.tier(s),
                depth: depth[s.index()] as usize,
                hit_in_worst: false,
            });
            f.truncate(NODE_COLUMNS.len() - 1);
            f
        })
        .collect();
    let mut edges = Vec::new();
    for s in graph.services() {
        for e in graph.dependencies(s) {
            edges.push(to_fields(&EdgeRow {
                from: s.index(),
                to: e.other.index(),
                kind: match e.kind {
                    EdgeKind::Hard => "hard",
                    EdgeKind::Soft => "soft",
                }
                .to_string(),
                fallback: e.fallback,
            }));
        }
    }
    (nodes, edges)
}

/// Longest dependency chain below each service (0 for a service with no dependencies),
/// for a layered layout. Imported graphs may have cycles: an edge back into the current
/// search path is ignored, so depths are those of the graph without its back edges
/// (searched from the lowest id first, a fixed choice).
pub fn depths(graph: &ServiceGraph) -> Vec<u32> {
    const NEW: u8 = 0;
    const OPEN: u8 = 1;
    const DONE: u8 = 2;
    let n = graph.len();
    let mut state = vec![NEW; n];
    let mut depth = vec![0u32; n];
    // Iterative DFS (a deep chain would overflow a recursive one): (service, next edge).
    let mut stack: Vec<(usize, usize)> = Vec::new();
    for root in 0..n {
        if state[root] != NEW {
            continue;
        }
        state[root] = OPEN;
        stack.push((root, 0));
        while let Some(&mut (s, ref mut next)) = stack.last_mut() {
            let deps = graph.dependencies(ServiceId(s as u32));
            if let Some(e) = deps.get(*next) {
                *next += 1;
                let d = e.other.index();
                match state[d] {
                    NEW => {
                        state[d] = OPEN;
                        stack.push((d, 0));
                    }
                    DONE => depth[s] = depth[s].max(depth[d] + 1),
                    _ => {} // A back edge: part of a cycle, ignored.
                }
            } else {
                state[s] = DONE;
                stack.pop();
                if let Some(&(parent, _)) = stack.last() {
                    depth[parent] = depth[parent].max(depth[s] + 1);
                }
            }
        }
    }
    depth
}

/// Statistics of one arm × point.
#[derive(Clone, Debug, PartialEq)]
pub struct SettingSummary {
    /// Arm index.
    pub arm: usize,
    /// Point index.
    pub point: usize,
    /// One `Describe` per metric, in `METRICS` order.
    pub stats: Vec<Describe>,
    /// Paired difference against the baseline per metric; `None` for the baseline arm.
    pub paired: Option<Vec<Paired>>,
}

/// What assembling a folder produced.
#[derive(Clone, Debug, PartialEq)]
pub struct Assembled {
    /// One entry per arm × point, arm-major.
    pub settings: Vec<SettingSummary>,
    /// Frontier and recommendation over the settings (index into `settings`).
    pub choice: Choice,
    /// Runs found in the journal and written.
    pub runs_done: u64,
}

fn csv_writer(path: &Path) -> anyhow::Result<csv::Writer<AtomicFile>> {
    let f = AtomicFile::create(path)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    Ok(csv::WriterBuilder::new().flexible(false).from_writer(f))
}

fn commit(w: csv::Writer<AtomicFile>, path: &Path) -> anyhow::Result<()> {
    let f = w
        .into_inner()
        .map_err(|e| anyhow::anyhow!("cannot write {}: {}", path.display(), e.error()))?;
    f.commit()
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}

/// CSV bytes of `rows`, exactly as a `csv::Writer` writes them into a table: each record
/// is quoted and terminated on its own, so the bytes of a run's rows are the same whether
/// they are formatted alone or as part of the whole file.
fn csv_bytes<R: AsRef<[u8]>>(
    rows: impl IntoIterator<Item = impl IntoIterator<Item = R>>,
) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    for r in rows {
        w.write_record(r)?;
    }
    w.into_inner()
        .map_err(|e| anyhow::anyhow!("cannot format CSV rows: {}", e.error()))
}

/// One run, ready to be appended to the tables: its rows already formatted as CSV bytes
/// and its metric values parsed back from its `runs.csv` row (so a run done now and a run
/// read from the journal give the same values, bit for bit). Built on a worker thread, in
/// parallel; appending it (`Assembler::push`) is a copy of bytes.
#[derive(Clone, Debug)]
pub struct RunChunk {
    arm: usize,
    point: usize,
    replication: u32,
    metrics: Vec<f64>,
    runs: Vec<u8>,
    incidents: Vec<u8>,
    timeline: Vec<u8>,
    tails: RunTails,
    /// The run's worst incident: its user-impact minutes and its `incidents.csv` row.
    worst_row: Option<(f64, Vec<u8>)>,
    worst: Option<(f64, Vec<u32>)>,
}

impl RunChunk {
    /// The chunk of journal record `rec` (read from `file`, for errors) of experiment
    /// `meta`; a record of another experiment or outside its shape is refused.
    pub fn from_record(
        meta: &ExperimentMeta,
        rec: JournalRecord,
        file: &str,
    ) -> anyhow::Result<RunChunk> {
        anyhow::ensure!(
            rec.key == meta.experiment_key,
            "{file}: journal record of another experiment (key {}, expected {})",
            rec.key,
            meta.experiment_key
        );
        anyhow::ensure!(
            rec.arm < meta.arms.len()
                && rec.point < meta.points.len()
                && rec.replication < meta.replications,
            "{file}: run outside the experiment's arms, points or replications"
        );
        let axes: Vec<String> = meta.axes.iter().map(|a| a.path.clone()).collect();
        let runs_head = csv::StringRecord::from(RunRow::header(&axes));
        let metric_names: Vec<&str> = METRICS.iter().map(|m| m.name).collect();
        let metric_cols = Named::find("runs.csv", &runs_head, &metric_names)?;
        let metrics = Row::from_fields(file, &runs_head, &rec.run_row).numbers(&metric_cols)?;
        anyhow::ensure!(
            rec.run_row.len() == runs_head.len(),
            "{file}: the runs.csv row has {} fields, the header {}",
            rec.run_row.len(),
            runs_head.len()
        );
        let Some(tails) = rec.tails else {
            anyhow::bail!(
                "{file}: journal record without the per-run summary (S line) of this build's \
                 format; rerun with --discard-damaged to simulate it again, or delete the \
                 folder to start over"
            );
        };
        let incident_head = csv::StringRecord::from(INCIDENT_COLUMNS);
        let worst_row = match &rec.worst_row {
            Some(fields) => {
                let row: IncidentRow = Row::from_fields(file, &incident_head, fields).get()?;
                Some((row.user_impact_min, csv_bytes([fields])?))
            }
            None => None,
        };
        // A record of a replication the folder does not list incidents of holds none;
        // one that does (written before the option changed the key) is not listed either.
        let incidents = if meta.incidents.keeps(rec.replication) {
            csv_bytes(&rec.incidents)?
        } else {
            Vec::new()
        };
        Ok(RunChunk {
            arm: rec.arm,
            point: rec.point,
            replication: rec.replication,
            metrics,
            runs: csv_bytes([&rec.run_row])?,
            incidents,
            timeline: csv_bytes(&rec.timeline)?,
            tails,
            worst_row,
            worst: rec.worst,
        })
    }
}

/// The tables being written, one run at a time in run-id order (`push`), then the summary
/// and the graph (`finish`).
///
/// Memory: only the metric values of each run are kept, for the statistics; the rows go
/// straight to the files.
pub struct Assembler {
    meta: ExperimentMeta,
    out: PathBuf,
    runs: AtomicFile,
    incidents: AtomicFile,
    timeline: AtomicFile,
    // values[setting][replication] = metric values of that run, if present.
    values: Vec<Vec<Option<Vec<f64>>>>,
    /// Per setting: the per-run summaries, summed.
    tails: Vec<TailSums>,
    worst: Option<(f64, Vec<u32>)>,
    worst_row: Option<(f64, Vec<u8>)>,
    pushed: u64,
}

/// The per-run summaries of one setting's runs, summed (run-id order, so the same sums on
/// every machine and thread count).
#[derive(Clone, Debug)]
struct TailSums {
    runs: u64,
    impact_ge: [u64; IMPACT_THRESHOLDS.len()],
    hit_ge: [u64; HIT_THRESHOLDS.len()],
    /// Sum and sum of squares over runs of the cumulative impact at each bucket's end.
    cum: [f64; IMPACT_BUCKETS],
    cum_sq: [f64; IMPACT_BUCKETS],
}

impl TailSums {
    fn new() -> TailSums {
        TailSums {
            runs: 0,
            impact_ge: [0; IMPACT_THRESHOLDS.len()],
            hit_ge: [0; HIT_THRESHOLDS.len()],
            cum: [0.0; IMPACT_BUCKETS],
            cum_sq: [0.0; IMPACT_BUCKETS],
        }
    }

    fn add(&mut self, t: &RunTails) {
        self.runs += 1;
        for (s, v) in self.impact_ge.iter_mut().zip(&t.impact_ge) {
            *s += v;
        }
        for (s, v) in self.hit_ge.iter_mut().zip(&t.hit_ge) {
            *s += v;
        }
        let mut cum = 0.0;
        for (b, v) in t.impact_by_bucket.iter().enumerate() {
            cum += v;
            self.cum[b] += cum;
            self.cum_sq[b] += cum * cum;
        }
    }
}

impl Assembler {
    /// Starts `runs.csv`, `incidents.csv` and `timeline.csv` in `out` (written under
    /// temporary names until `finish`).
    pub fn create(out: &Path, meta: &ExperimentMeta) -> anyhow::Result<Assembler> {
        let axes: Vec<String> = meta.axes.iter().map(|a| a.path.clone()).collect();
        let open = |name: &str, header: Vec<u8>| -> anyhow::Result<AtomicFile> {
            let path = out.join(name);
            let mut f = AtomicFile::create(&path)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            f.write_all(&header)
                .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
            Ok(f)
        };
        Ok(Assembler {
            runs: open("runs.csv", csv_bytes([RunRow::header(&axes)])?)?,
            incidents: open("incidents.csv", csv_bytes([INCIDENT_COLUMNS])?)?,
            timeline: open("timeline.csv", csv_bytes([TIMELINE_COLUMNS])?)?,
            values: vec![
                vec![None; meta.replications as usize];
                meta.arms.len() * meta.points.len()
            ],
            tails: vec![TailSums::new(); meta.arms.len() * meta.points.len()],
            meta: meta.clone(),
            out: out.to_path_buf(),
            worst: None,
            worst_row: None,
            pushed: 0,
        })
    }

    /// Appends the next run (runs must come in increasing run-id order).
    pub fn push(&mut self, c: RunChunk) -> anyhow::Result<()> {
        let n_points = self.meta.points.len();
        for (f, bytes, name) in [
            (&mut self.runs, &c.runs, "runs.csv"),
            (&mut self.incidents, &c.incidents, "incidents.csv"),
            (&mut self.timeline, &c.timeline, "timeline.csv"),
        ] {
            f.write_all(bytes).map_err(|e| {
                anyhow::anyhow!("cannot write {}: {e}", self.out.join(name).display())
            })?;
        }
        self.values[c.arm * n_points + c.point][c.replication as usize] = Some(c.metrics);
        self.tails[c.arm * n_points + c.point].add(&c.tails);
        if let Some((impact, row)) = c.worst_row
            && self.worst_row.as_ref().is_none_or(|(w, _)| impact > *w)
        {
            self.worst_row = Some((impact, row));
        }
        // The worst incident over all runs; the earliest run wins a tie.
        if let Some((impact, hit)) = c.worst
            && self.worst.as_ref().is_none_or(|(w, _)| impact > *w)
        {
            self.worst = Some((impact, hit));
        }
        self.pushed += 1;
        Ok(())
    }

    /// Commits the tables, computes the statistics and writes `summary.csv` and (when the
    /// journal `graph_dir` holds a graph) the graph files.
    pub fn finish(self, graph_dir: &Path) -> anyhow::Result<Assembled> {
        for (f, name) in [
            (self.runs, "runs.csv"),
            (self.incidents, "incidents.csv"),
            (self.timeline, "timeline.csv"),
        ] {
            f.commit().map_err(|e| {
                anyhow::anyhow!("cannot write {}: {e}", self.out.join(name).display())
            })?;
        }
        let assembled = summarize(&self.meta, &self.values)?;
        write_summary(&self.out, &self.meta, &assembled)?;
        write_tails(&self.out, &self.meta, &self.tails)?;
        let path = self.out.join("worst_incident.csv");
        let mut bytes = csv_bytes([INCIDENT_COLUMNS])?;
        if let Some((_, row)) = &self.worst_row {
            bytes.extend_from_slice(row);
        }
        crate::report::atomic::write_unsynced(&path, &bytes)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        write_graph(
            &self.out,
            graph_dir,
            self.worst.as_ref().map(|(_, h)| h.as_slice()),
        )?;
        Ok(Assembled {
            runs_done: self.pushed,
            ..assembled
        })
    }
}

/// Writes runs/incidents/timeline/summary CSVs (and the graph files when the journal holds
/// a graph) into `out` from the journal records `records` (paths, in run-id order).
///
/// Records are read and formatted in parallel (on the current rayon pool), a bounded
/// batch at a time, and appended in order: memory holds one batch of records plus the
/// metric values of each run.
pub fn assemble(
    out: &Path,
    meta: &ExperimentMeta,
    records: &[PathBuf],
    graph_dir: &Path,
) -> anyhow::Result<Assembled> {
    use rayon::prelude::*;
    /// Records per batch: enough to keep every worker busy, few enough to bound memory.
    const BATCH: usize = 256;
    let mut asm = Assembler::create(out, meta)?;
    for batch in records.chunks(BATCH) {
        let chunks: Vec<RunChunk> = batch
            .par_iter()
            .map(|path| {
                let rec = journal::read_record(path)?;
                RunChunk::from_record(meta, rec, &path.display().to_string())
            })
            .collect::<anyhow::Result<_>>()?;
        for c in chunks {
            asm.push(c)?;
        }
    }
    asm.finish(graph_dir)
}

/// Statistics, frontier and recommendation from the per-run metric values.
fn summarize(meta: &ExperimentMeta, values: &[Vec<Option<Vec<f64>>>]) -> anyhow::Result<Assembled> {
    let n_points = meta.points.len();
    let baseline = meta.baseline_index();
    let column = |setting: usize, metric: usize| -> Vec<Option<f64>> {
        values[setting]
            .iter()
            .map(|v| v.as_ref().map(|m| m[metric]))
            .collect()
    };
    let mut settings = Vec::new();
    for arm in 0..meta.arms.len() {
        for point in 0..n_points {
            let s = arm * n_points + point;
            let stats: Vec<Describe> = (0..METRICS.len())
                .map(|m| {
                    let present: Vec<f64> = column(s, m).into_iter().flatten().collect();
                    stats::describe(&present)
                })
                .collect();
            let paired = (arm != baseline).then(|| {
                (0..METRICS.len())
                    .map(|m| stats::paired(&column(s, m), &column(baseline * n_points + point, m)))
                    .collect()
            });
            settings.push(SettingSummary {
                arm,
                point,
                stats,
                paired,
            });
        }
    }
    let choice = recommend(meta, &settings)?;
    Ok(Assembled {
        settings,
        choice,
        runs_done: 0,
    })
}

/// The frontier and the recommendation over `settings` (one per arm × point, arm-major,
/// as `Assembled::settings` holds them) under `meta`'s objectives: `frontier::decide` on
/// the settings that have at least one run (a shard may lack some). This is what a run
/// records, and what a caller re-deciding under a varied assumption should call.
pub fn recommend(meta: &ExperimentMeta, settings: &[SettingSummary]) -> anyhow::Result<Choice> {
    let objectives = frontier::resolve(&meta.objectives(), &meta.arm_names())?;
    let with_runs: Vec<usize> = (0..settings.len())
        .filter(|&i| settings[i].stats.first().is_some_and(|d| d.n > 0))
        .collect();
    Ok(frontier::decide_subset(
        &decision_settings(settings),
        &with_runs,
        &objectives,
    ))
}

/// The settings as `frontier::decide` takes them.
pub fn decision_settings(settings: &[SettingSummary]) -> Vec<frontier::Setting> {
    settings
        .iter()
        .map(|s| frontier::Setting::from_stats(s.arm, s.point, &s.stats, s.paired.as_deref()))
        .collect()
}

fn write_summary(out: &Path, meta: &ExperimentMeta, a: &Assembled) -> anyhow::Result<()> {
    let axes: Vec<String> = meta.axes.iter().map(|x| x.path.clone()).collect();
    let path = out.join("summary.csv");
    let mut w = csv_writer(&path)?;
    w.write_record(SummaryRow::header(&axes))?;
    for (i, s) in a.settings.iter().enumerate() {
        let point = &meta.points[s.point];
        for (m, def) in METRICS.iter().enumerate() {
            let d = &s.stats[m];
            let p = s.paired.as_ref().map(|p| &p[m]);
            let row = SummaryRow {
                key: SummaryKey {
                    arm: meta.arms[s.arm].name.clone(),
                    point: s.point,
                    point_label: point.label.clone(),
                },
                axes: point.values.clone(),
                stat: Stat {
                    metric: def.name.to_string(),
                    n: d.n,
                    mean: d.mean,
                    sd: d.sd,
                    ci_low: d.ci95_low,
                    ci_high: d.ci95_high,
                    p50: d.p50,
                    p95: d.p95,
                    max: d.max,
                    diff_mean: p.map(|p| p.mean),
                    diff_low: p.map(|p| p.ci95_low),
                    diff_high: p.map(|p| p.ci95_high),
                    pairing_variance_ratio: p.and_then(|p| p.variance_ratio),
                    on_frontier: a.choice.on_frontier[i],
                    recommended: a.choice.recommended == Some(i),
                },
            };
            w.write_record(row.fields())?;
        }
    }
    commit(w, &path)
}

/// `tail.csv` and `impact_over_time.csv` from the summed per-run summaries.
fn write_tails(out: &Path, meta: &ExperimentMeta, sums: &[TailSums]) -> anyhow::Result<()> {
    let horizon = crate::engine::SimDuration::parse(&meta.horizon)
        .map_err(|e| anyhow::anyhow!("the experiment's horizon `{}`: {e}", meta.horizon))?;
    let days = horizon.as_ms() as f64 / crate::engine::time::MS_PER_DAY as f64;
    let years = days / 365.0;
    let n_points = meta.points.len();
    let path = out.join("tail.csv");
    let mut w = csv_writer(&path)?;
    w.write_record(TAIL_COLUMNS)?;
    for (s, t) in sums.iter().enumerate() {
        let (arm, point) = (&meta.arms[s / n_points].name, s % n_points);
        let per_year = |n: u64| {
            if t.runs == 0 {
                0.0
            } else {
                n as f64 / t.runs as f64 / years
            }
        };
        let rows = IMPACT_THRESHOLDS
            .iter()
            .zip(&t.impact_ge)
            .map(|(th, n)| ("user_impact_min", *th, *n))
            .chain(
                HIT_THRESHOLDS
                    .iter()
                    .zip(&t.hit_ge)
                    .map(|(th, n)| ("services_hit", f64::from(*th), *n)),
            );
        for (measure, threshold, n) in rows {
            w.write_record(to_fields(&TailRow {
                arm: arm.clone(),
                point,
                measure: measure.to_string(),
                threshold,
                runs: t.runs,
                incidents: n,
                per_year: per_year(n),
            }))?;
        }
    }
    commit(w, &path)?;
    let path = out.join("impact_over_time.csv");
    let mut w = csv_writer(&path)?;
    w.write_record(IMPACT_COLUMNS)?;
    for (s, t) in sums.iter().enumerate() {
        let (arm, point) = (&meta.arms[s / n_points].name, s % n_points);
        for b in 0..IMPACT_BUCKETS {
            let n = t.runs as f64;
            let (mean, half) = if t.runs == 0 {
                (0.0, 0.0)
            } else {
                let mean = t.cum[b] / n;
                let half = if t.runs < 2 {
                    0.0
                } else {
                    let var = ((t.cum_sq[b] - n * mean * mean) / (n - 1.0)).max(0.0);
                    stats::t_975(t.runs as usize - 1) * (var / n).sqrt()
                };
                (mean, half)
            };
            w.write_record(to_fields(&ImpactRow {
                arm: arm.clone(),
                point,
                bucket: b,
                day_end: days * (b + 1) as f64 / IMPACT_BUCKETS as f64,
                runs: t.runs,
                mean,
                ci_low: (mean - half).max(0.0),
                ci_high: mean + half,
            }))?;
        }
    }
    commit(w, &path)
}

/// `graph_nodes.csv` and `graph_edges.csv` from the journal's graph, with the worst
/// incident's services marked. The journal's rows are read back as typed rows, so a
/// damaged journal is an error here rather than a bad table.
fn write_graph(out: &Path, graph_dir: &Path, worst_hit: Option<&[u32]>) -> anyhow::Result<()> {
    let Some((nodes, edges)) = journal::read_graph(graph_dir)? else {
        return Ok(());
    };
    let mut hit = vec![false; nodes.len()];
    for &s in worst_hit.unwrap_or_default() {
        if let Some(h) = hit.get_mut(s as usize) {
            *h = true;
        }
    }
    let file = graph_dir.display().to_string();
    let node_head = csv::StringRecord::from(&NODE_COLUMNS[..NODE_COLUMNS.len() - 1]);
    let path = out.join("graph_nodes.csv");
    let mut w = csv_writer(&path)?;
    w.write_record(NODE_COLUMNS)?;
    for (i, r) in nodes.iter().enumerate() {
        let mut node: NodeRow = Row::from_fields(&file, &node_head, r).get()?;
        node.hit_in_worst = hit[i];
        w.write_record(to_fields(&node))?;
    }
    commit(w, &path)?;
    let edge_head = csv::StringRecord::from(EDGE_COLUMNS);
    let path = out.join("graph_edges.csv");
    let mut w = csv_writer(&path)?;
    w.write_record(EDGE_COLUMNS)?;
    for r in &edges {
        let edge: EdgeRow = Row::from_fields(&file, &edge_head, r).get()?;
        w.write_record(to_fields(&edge))?;
    }
    commit(w, &path)?;
    Ok(())
}
