//! The CSV tables of a results folder: the rows of one run, and the assembly of the final
//! files from journal records in run-id order. The row types and columns are defined once,
//! in `report::schema`, and read back by `report::charts::input` through the same types.
//!
//! Formats (read by the charts and the report; do not rename columns):
//! - `runs.csv`: `run_id,arm,point,replication,seed,<axis paths>,<METRICS>,stop_reason,fingerprint`
//! - `summary.csv`: one row per arm × point × metric, see `SUMMARY_COLUMNS`
//! - `incidents.csv`: see `INCIDENT_COLUMNS`
//! - `timeline.csv`: replication 0 of every arm × point, see `TIMELINE_COLUMNS`
//! - `graph_nodes.csv` / `graph_edges.csv`: the world of (baseline arm, point 0)
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
use crate::metrics::{IncidentRecord, METRICS, RunOutput};
use crate::model::config::WorldConfig;
use crate::model::graph::{EdgeKind, ServiceGraph, ServiceId};
use crate::report::atomic::AtomicFile;
use crate::report::journal::{self, JournalRecord};
use crate::report::manifest::ExperimentMeta;
use crate::report::schema::{
    EdgeRow, IncidentRow, Named, NodeRow, Row, RunKey, RunRow, RunTail, Stat, SummaryKey,
    SummaryRow, TimelineRow, to_fields,
};
use crate::scenario::Scenario;

/// Graphs larger than this are not written out (a chart of them would be unreadable).
pub const GRAPH_SERVICES_MAX: usize = 2000;

pub use crate::report::schema::{
    EDGE_COLUMNS, INCIDENT_COLUMNS, NODE_COLUMNS, SUMMARY_COLUMNS, TIMELINE_COLUMNS, fmt_f64,
};

/// The header of `runs.csv` for these axis paths.
pub fn runs_header(axes: &[String]) -> Vec<String> {
    RunRow::header(axes)
}

/// The header of `summary.csv` for these axis paths.
pub fn summary_header(axes: &[String]) -> Vec<String> {
    SummaryRow::header(axes)
}

/// The journal record of one finished run: its `runs.csv` row, its incident rows, its
/// timeline rows (replication 0 only) and its worst incident's services.
pub fn run_record(
    key: &str,
    scenario: &Scenario,
    spec: &RunSpec,
    out: &RunOutput,
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

    let incidents = out
        .incidents
        .iter()
        .enumerate()
        .map(|(k, inc)| to_fields(&incident_row(world, arm, spec, k, inc)))
        .collect();

    let timeline = if spec.replication == 0 {
        out.days
            .iter()
            .enumerate()
            .map(|(d, day)| {
                to_fields(&TimelineRow {
                    run_id: spec.run_id,
                    arm: arm.clone(),
                    point: spec.point,
                    replication: spec.replication,
                    day: d as u32,
                    deploys: day.deploys,
                    incidents: day.incidents,
                    users_hit_max: day.users_hit_max,
                    user_impact_min: day.user_impact_min,
                    breaker_trips: day.breaker_trips,
                    freeze_h: day.freeze_h,
                    kill_switch_h: day.kill_switch_h,
                })
            })
            .collect()
    } else {
        Vec::new()
    };

    let worst = out
        .incidents
        .iter()
        .map(|i| i.user_impact_min)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))
        .filter(|_| !out.worst_hit.is_empty())
        .map(|impact| (impact, out.worst_hit.iter().map(|s| s.0).collect()));

    JournalRecord {
        key: key.to_string(),
        run_id: spec.run_id,
        arm: spec.arm,
        point: spec.point,
        replication: spec.replication,
        run_row: row.fields(),
        incidents,
        timeline,
        worst,
    }
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
        Ok(RunChunk {
            arm: rec.arm,
            point: rec.point,
            replication: rec.replication,
            metrics,
            runs: csv_bytes([&rec.run_row])?,
            incidents: csv_bytes(&rec.incidents)?,
            timeline: csv_bytes(&rec.timeline)?,
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
    worst: Option<(f64, Vec<u32>)>,
    pushed: u64,
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
            meta: meta.clone(),
            out: out.to_path_buf(),
            worst: None,
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
