//! The CSV tables of a results folder: their exact columns, the rows of one run, and the
//! assembly of the final files from journal records in run-id order.
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

use std::path::{Path, PathBuf};

use crate::experiment::frontier::{self, Choice};
use crate::experiment::plan::RunSpec;
use crate::experiment::stats::{self, Describe, Paired};
use crate::metrics::{METRICS, RunOutput};
use crate::model::graph::{EdgeKind, ServiceGraph, ServiceId};
use crate::report::atomic::AtomicFile;
use crate::report::journal::{self, JournalRecord};
use crate::report::manifest::ExperimentMeta;
use crate::scenario::Scenario;

/// Graphs larger than this are not written out (a chart of them would be unreadable).
pub const GRAPH_SERVICES_MAX: usize = 2000;

/// Columns of `incidents.csv`.
pub const INCIDENT_COLUMNS: &[&str] = &[
    "run_id",
    "arm",
    "point",
    "replication",
    "incident",
    "change_id",
    "author_group",
    "author_kind",
    "class",
    "severity",
    "origin",
    "started_h",
    "detected_h",
    "restored_h",
    "duration_h",
    "services_hit",
    "users_hit_peak",
    "user_impact_min",
    "recovery",
];

/// Columns of `timeline.csv`.
pub const TIMELINE_COLUMNS: &[&str] = &[
    "run_id",
    "arm",
    "point",
    "replication",
    "day",
    "deploys",
    "incidents",
    "users_hit_max",
    "user_impact_min",
    "breaker_trips",
    "freeze_h",
    "kill_switch_h",
];

/// Columns of `summary.csv` after `arm,point,point_label,<axis paths>`.
pub const SUMMARY_COLUMNS: &[&str] = &[
    "metric",
    "n",
    "mean",
    "sd",
    "ci95_low",
    "ci95_high",
    "p50",
    "p95",
    "max",
    "paired_diff_mean",
    "paired_diff_ci95_low",
    "paired_diff_ci95_high",
    "pairing_variance_ratio",
    "on_frontier",
    "recommended",
];

/// Columns of `graph_nodes.csv`.
pub const NODE_COLUMNS: &[&str] = &["id", "name", "weight", "tier", "depth", "hit_in_worst"];

/// Columns of `graph_edges.csv`: `from` depends on `to`, both service ids (`graph_nodes.id`).
pub const EDGE_COLUMNS: &[&str] = &["from", "to", "kind", "fallback"];

/// The header of `runs.csv` for these axis paths.
pub fn runs_header(axes: &[String]) -> Vec<String> {
    let mut h: Vec<String> = ["run_id", "arm", "point", "replication", "seed"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    h.extend(axes.iter().cloned());
    h.extend(METRICS.iter().map(|m| m.name.to_string()));
    h.push("stop_reason".to_string());
    h.push("fingerprint".to_string());
    h
}

/// The header of `summary.csv` for these axis paths.
pub fn summary_header(axes: &[String]) -> Vec<String> {
    let mut h: Vec<String> = ["arm", "point", "point_label"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    h.extend(axes.iter().cloned());
    h.extend(SUMMARY_COLUMNS.iter().map(|s| s.to_string()));
    h
}

/// A float as written to every table: shortest round-trip formatting.
pub fn fmt_f64(v: f64) -> String {
    format!("{v}")
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
    let graph = &world.infra.graph;
    let arm = &scenario.arms[spec.arm].name;
    let prefix = vec![
        spec.run_id.to_string(),
        arm.clone(),
        spec.point.to_string(),
        spec.replication.to_string(),
    ];

    let mut row = prefix.clone();
    row.push(spec.seed.0.to_string());
    row.extend(scenario.points[spec.point].values.iter().cloned());
    row.extend(out.summary.values().into_iter().map(fmt_f64));
    row.push(out.stop.name().to_string());
    row.push(format!("{:016x}", out.fingerprint));

    let incidents = out
        .incidents
        .iter()
        .enumerate()
        .map(|(k, inc)| {
            let mut r = prefix.clone();
            r.push(k.to_string());
            r.push(inc.change_id.to_string());
            r.push(
                world
                    .authors
                    .get(inc.author_group)
                    .map_or_else(|| inc.author_group.to_string(), |g| g.name.clone()),
            );
            r.push(inc.author_kind.name().to_string());
            r.push(inc.class.name().to_string());
            r.push(inc.severity.name().to_string());
            r.push(if inc.origin.index() < graph.len() {
                graph.name(inc.origin).to_string()
            } else {
                inc.origin.0.to_string()
            });
            r.push(fmt_f64(inc.started_at.as_hours_f64()));
            r.push(fmt_f64(inc.detected_at.as_hours_f64()));
            r.push(fmt_f64(inc.restored_at.as_hours_f64()));
            r.push(fmt_f64(inc.duration().as_hours_f64()));
            r.push(inc.services_hit.to_string());
            r.push(fmt_f64(inc.users_hit_peak));
            r.push(fmt_f64(inc.user_impact_min));
            r.push(if inc.rebuilt { "rebuild" } else { "rollback" }.to_string());
            r
        })
        .collect();

    let timeline = if spec.replication == 0 {
        out.days
            .iter()
            .enumerate()
            .map(|(d, day)| {
                let mut r = prefix.clone();
                r.push(d.to_string());
                r.push(day.deploys.to_string());
                r.push(day.incidents.to_string());
                r.push(fmt_f64(day.users_hit_max));
                r.push(fmt_f64(day.user_impact_min));
                r.push(day.breaker_trips.to_string());
                r.push(fmt_f64(day.freeze_h));
                r.push(fmt_f64(day.kill_switch_h));
                r
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
        run_row: row,
        incidents,
        timeline,
        worst,
    }
}

/// `graph_nodes.csv` rows without the `hit_in_worst` column, and `graph_edges.csv` rows.
pub fn graph_rows(graph: &ServiceGraph) -> (Vec<Vec<String>>, Vec<Vec<String>>) {
    let depth = depths(graph);
    let nodes = graph
        .services()
        .map(|s| {
            vec![
                s.0.to_string(),
                graph.name(s).to_string(),
                fmt_f64(graph.weight(s)),
                graph.tier(s).to_string(),
                depth[s.index()].to_string(),
            ]
        })
        .collect();
    let mut edges = Vec::new();
    for s in graph.services() {
        for e in graph.dependencies(s) {
            edges.push(vec![
                s.0.to_string(),
                e.other.0.to_string(),
                match e.kind {
                    EdgeKind::Hard => "hard",
                    EdgeKind::Soft => "soft",
                }
                .to_string(),
                e.fallback.to_string(),
            ]);
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

/// Writes runs/incidents/timeline/summary CSVs (and the graph files when the journal holds
/// a graph) into `out` from the journal records `records` (paths, in run-id order).
///
/// Memory: one record at a time is read; only the metric values of each run are kept, for
/// the statistics.
pub fn assemble(
    out: &Path,
    meta: &ExperimentMeta,
    records: &[PathBuf],
    graph_dir: &Path,
) -> anyhow::Result<Assembled> {
    let axes: Vec<String> = meta.axes.iter().map(|a| a.path.clone()).collect();
    let n_arms = meta.arms.len();
    let n_points = meta.points.len();
    let reps = meta.replications as usize;
    let metric_offset = 5 + axes.len();

    let runs_path = out.join("runs.csv");
    let inc_path = out.join("incidents.csv");
    let tl_path = out.join("timeline.csv");
    let mut runs_w = csv_writer(&runs_path)?;
    let mut inc_w = csv_writer(&inc_path)?;
    let mut tl_w = csv_writer(&tl_path)?;
    runs_w.write_record(runs_header(&axes))?;
    inc_w.write_record(INCIDENT_COLUMNS)?;
    tl_w.write_record(TIMELINE_COLUMNS)?;

    // values[setting][replication] = metric values of that run, if present.
    let mut values: Vec<Vec<Option<Vec<f64>>>> = vec![vec![None; reps]; n_arms * n_points];
    let mut worst: Option<(f64, Vec<u32>)> = None;
    for path in records {
        let rec = journal::read_record(path)?;
        anyhow::ensure!(
            rec.key == meta.experiment_key,
            "{}: journal record of another experiment (key {}, expected {})",
            path.display(),
            rec.key,
            meta.experiment_key
        );
        anyhow::ensure!(
            rec.arm < n_arms && rec.point < n_points && (rec.replication as usize) < reps,
            "{}: run outside the experiment's arms, points or replications",
            path.display()
        );
        let metrics: Vec<f64> = rec
            .run_row
            .get(metric_offset..metric_offset + METRICS.len())
            .ok_or_else(|| anyhow::anyhow!("{}: runs row too short", path.display()))?
            .iter()
            .map(|v| v.parse::<f64>())
            .collect::<Result<_, _>>()
            .map_err(|e| anyhow::anyhow!("{}: bad metric value: {e}", path.display()))?;
        values[rec.arm * n_points + rec.point][rec.replication as usize] = Some(metrics);
        runs_w.write_record(&rec.run_row)?;
        for r in &rec.incidents {
            inc_w.write_record(r)?;
        }
        for r in &rec.timeline {
            tl_w.write_record(r)?;
        }
        // The worst incident over all runs; the earliest run wins a tie.
        if let Some((impact, hit)) = rec.worst
            && worst.as_ref().is_none_or(|(w, _)| impact > *w)
        {
            worst = Some((impact, hit));
        }
    }
    commit(runs_w, &runs_path)?;
    commit(inc_w, &inc_path)?;
    commit(tl_w, &tl_path)?;

    let assembled = summarize(meta, &values)?;
    write_summary(out, meta, &assembled)?;
    write_graph(out, graph_dir, worst.as_ref().map(|(_, h)| h.as_slice()))?;
    Ok(Assembled {
        runs_done: records.len() as u64,
        ..assembled
    })
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
    // Settings without any run (possible in a shard) take no part in the choice.
    let objectives = frontier::resolve(&meta.objectives())?;
    let with_runs: Vec<usize> = (0..settings.len())
        .filter(|&i| settings[i].stats[0].n > 0)
        .collect();
    let means: Vec<Vec<f64>> = with_runs
        .iter()
        .map(|&i| settings[i].stats.iter().map(|d| d.mean).collect())
        .collect();
    let sub = frontier::choose(&means, &objectives);
    let mut choice = Choice {
        on_frontier: vec![false; settings.len()],
        feasible: vec![false; settings.len()],
        recommended: sub.recommended.map(|r| with_runs[r]),
    };
    for (k, &i) in with_runs.iter().enumerate() {
        choice.on_frontier[i] = sub.on_frontier[k];
        choice.feasible[i] = sub.feasible[k];
    }
    Ok(Assembled {
        settings,
        choice,
        runs_done: 0,
    })
}

fn write_summary(out: &Path, meta: &ExperimentMeta, a: &Assembled) -> anyhow::Result<()> {
    let axes: Vec<String> = meta.axes.iter().map(|x| x.path.clone()).collect();
    let path = out.join("summary.csv");
    let mut w = csv_writer(&path)?;
    w.write_record(summary_header(&axes))?;
    for (i, s) in a.settings.iter().enumerate() {
        let point = &meta.points[s.point];
        for (m, def) in METRICS.iter().enumerate() {
            let d = &s.stats[m];
            let mut r = vec![
                meta.arms[s.arm].name.clone(),
                s.point.to_string(),
                point.label.clone(),
            ];
            r.extend(point.values.iter().cloned());
            r.push(def.name.to_string());
            r.push(d.n.to_string());
            for v in [d.mean, d.sd, d.ci95_low, d.ci95_high, d.p50, d.p95, d.max] {
                r.push(fmt_f64(v));
            }
            match &s.paired {
                Some(p) => {
                    let p = &p[m];
                    r.push(fmt_f64(p.mean));
                    r.push(fmt_f64(p.ci95_low));
                    r.push(fmt_f64(p.ci95_high));
                    r.push(p.variance_ratio.map(fmt_f64).unwrap_or_default());
                }
                None => r.extend(std::iter::repeat_n(String::new(), 4)),
            }
            r.push(a.choice.on_frontier[i].to_string());
            r.push((a.choice.recommended == Some(i)).to_string());
            w.write_record(&r)?;
        }
    }
    commit(w, &path)
}

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
    let path = out.join("graph_nodes.csv");
    let mut w = csv_writer(&path)?;
    w.write_record(NODE_COLUMNS)?;
    for (i, mut r) in nodes.into_iter().enumerate() {
        r.push(if hit[i] { "1" } else { "0" }.to_string());
        w.write_record(&r)?;
    }
    commit(w, &path)?;
    let path = out.join("graph_edges.csv");
    let mut w = csv_writer(&path)?;
    w.write_record(EDGE_COLUMNS)?;
    for r in edges {
        w.write_record(&r)?;
    }
    commit(w, &path)?;
    Ok(())
}
