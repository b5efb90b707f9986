//! The `run` pipeline: every arm × point × replication of a scenario (or one shard) in
//! parallel, each run journaled as it finishes, the tables and the manifest assembled from
//! the journal, then the charts and the report.
//!
//! Rerunning in the same folder resumes: journaled runs are checked (checksum, run id,
//! experiment key) and skipped, and the final files come out byte-identical to an
//! uninterrupted run. A damaged record is refused with its file named, or, with
//! `discard_damaged`, removed and its run simulated again. One process at a time writes a
//! folder (`journal::lock`).

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::Progress;
use crate::engine::Seed;
use crate::experiment::plan::{self, RunSpec, Shard};
use crate::experiment::runner;
use crate::metrics::{METRICS, RunOutput};
use crate::model::config::WorldConfig;
use crate::report::manifest::{self, ExperimentMeta, Manifest, Recommendation};
use crate::report::tables::{self, Assembled, GRAPH_SERVICES_MAX, IncidentsKept, RunChunk};
use crate::report::{HEADLINE_METRICS, journal};
use crate::scenario::Scenario;

/// How to run an experiment.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Results folder.
    pub out: PathBuf,
    /// Worker threads (0 = one per core; at most `THREADS_MAX`).
    pub threads: usize,
    /// Only this shard of the run set.
    pub shard: Option<Shard>,
    /// The command line, for the manifest.
    pub command: String,
    /// Draw the charts and the report after the tables.
    pub charts: bool,
    /// Remove damaged journal records and simulate their runs again, instead of refusing.
    pub discard_damaged: bool,
    /// Which replications' incidents `incidents.csv` lists.
    pub incidents: IncidentsKept,
    /// Run the `[sensitivity]` analysis after the tables (never for a shard).
    pub sensitivity: bool,
}

impl RunOptions {
    /// Options for `out` with `threads` workers: no shard, no charts, no sensitivity
    /// analysis, damaged records refused.
    pub fn new(out: &Path, threads: usize, command: &str) -> RunOptions {
        RunOptions {
            out: out.to_path_buf(),
            threads,
            shard: None,
            command: command.to_string(),
            charts: false,
            discard_damaged: false,
            incidents: IncidentsKept::All,
            sensitivity: false,
        }
    }
}

/// What a finished `run` did.
#[derive(Clone, Debug)]
pub struct RunOutcome {
    /// Tables' statistics, frontier and recommendation.
    pub assembled: Assembled,
    /// The experiment metadata.
    pub meta: ExperimentMeta,
    /// Runs in this run set (the shard's share, or all).
    pub runs_total: u64,
    /// Runs simulated by this invocation (the rest came from the journal).
    pub runs_new: u64,
    /// Runs whose damaged journal records were removed and simulated again.
    pub discarded: Vec<u64>,
    /// Wall-clock seconds per phase, in order (for `BLASTSIM_TIMINGS`; never written to a
    /// results file).
    pub phases: Vec<(&'static str, f64)>,
}

/// Runs (or resumes) an experiment into `opts.out` with the given simulator, and writes
/// every table, the manifest and (with `opts.charts`) the charts and the report. The real
/// command passes `model::simulate`.
pub fn run_experiment<S>(
    scenario: &Scenario,
    opts: &RunOptions,
    simulate: S,
    progress: &dyn Progress,
) -> anyhow::Result<RunOutcome>
where
    S: Fn(&WorldConfig, Seed) -> RunOutput + Sync,
{
    let started = Instant::now();
    let mut phases = super::Phases::start();
    super::worker_threads((opts.threads != 0).then_some(opts.threads))?;
    let all = plan::runs(scenario, opts.shard);
    if let Some(shard) = opts.shard
        && all.is_empty()
    {
        let n = scenario.run_count();
        anyhow::bail!(
            "shard {shard} holds no runs: the experiment has {}, so only shards 1 to {n} of \
             {} hold any; use at most {n} shards",
            super::count(n, "run"),
            shard.count
        );
    }
    let _lock = journal::lock(&opts.out)?;
    let key = experiment_key(scenario, opts.incidents);
    let mut meta = ExperimentMeta::from_scenario(scenario, &key);
    meta.incidents = opts.incidents;
    let jdir = prepare(scenario, &opts.out, &meta)?;

    let discarded = check_journal(&jdir, &key, &all, opts.discard_damaged)?;
    let done = journal::done(&jdir)?;
    let todo = all.iter().filter(|r| !done.contains_key(&r.run_id)).count();
    phases.mark("journal check");
    progress.start(all.len() as u64, (all.len() - todo) as u64);
    // One pass over the run set in run-id order: a run journaled earlier is read back, a
    // new one is simulated and journaled, each on a worker thread; the finished runs are
    // appended to the tables in run-id order while the workers go on (a reorder buffer of
    // about one run per worker). The tables come out the same whatever the thread count
    // and whichever runs were resumed.
    let mut asm = tables::Assembler::create(&opts.out, &meta)?;
    let ran = runner::ordered(
        all.len(),
        opts.threads,
        |i| {
            let spec = &all[i];
            match done.get(&spec.run_id) {
                Some(path) => {
                    let rec = journal::read_record(path)?;
                    RunChunk::from_record(&meta, rec, &path.display().to_string())
                }
                None => {
                    let output = simulate(scenario.world(spec.arm, spec.point), spec.seed);
                    let rec = tables::run_record(&key, scenario, spec, &output, opts.incidents);
                    drop(output);
                    journal::write_record(&jdir, &rec)?;
                    progress.advance();
                    if progress.interrupted() {
                        anyhow::bail!("interrupted");
                    }
                    let file = journal::record_path(&jdir, spec.run_id);
                    RunChunk::from_record(&meta, rec, &file.display().to_string())
                }
            }
        },
        |_, chunk| asm.push(chunk),
    );
    progress.finish();
    if progress.interrupted() {
        let journaled = journal::done(&jdir)?;
        return Err(super::Interrupted {
            done: all
                .iter()
                .filter(|r| journaled.contains_key(&r.run_id))
                .count() as u64,
            total: all.len() as u64,
            dir: jdir,
            variations: None,
        }
        .into());
    }
    ran?;
    phases.mark("simulate, journal and tables");
    let assembled = asm.finish(&jdir)?;
    phases.mark("summary and graph");
    let threads = if opts.threads == 0 {
        rayon::current_num_threads()
    } else {
        opts.threads
    };
    write_manifest(
        &opts.out,
        &meta,
        &assembled,
        ManifestRun {
            command: opts.command.clone(),
            threads,
            runs_total: all.len() as u64,
            shard: opts.shard.map(|s| s.to_string()),
            merged_from: Vec::new(),
            wall_time_s: started.elapsed().as_secs_f64(),
        },
    )?;
    phases.mark("manifest");
    // The analysis needs every arm's runs, so a shard leaves it to an unsharded run.
    if opts.sensitivity && opts.shard.is_none() {
        super::sensitivity::write_sensitivity(
            scenario,
            &opts.out,
            opts.threads,
            &simulate,
            progress,
            opts.discard_damaged,
        )?;
        phases.mark("sensitivity");
    }
    if opts.charts {
        progress.drawing();
        super::in_pool(opts.threads, || crate::report::render(&opts.out))??;
        phases.mark("charts and report");
    }
    Ok(RunOutcome {
        assembled,
        meta,
        runs_total: all.len() as u64,
        runs_new: todo as u64,
        discarded,
        phases: phases.phases,
    })
}

/// The experiment key of `scenario` run with `--incidents kept`: the scenario's key, mixed
/// with the option unless it is `all` (so a folder's journal holds one option's records,
/// and a resume or merge with another is refused as another experiment).
pub fn experiment_key(scenario: &Scenario, kept: IncidentsKept) -> String {
    use std::hash::Hasher;
    let key = plan::experiment_key(scenario);
    if kept == IncidentsKept::All {
        return key;
    }
    let mut h = crate::engine::Fingerprint::default();
    h.write(key.as_bytes());
    h.write(kept.to_string().as_bytes());
    format!("{:016x}", h.finish())
}

/// Checks every journaled record of the runs `all`; a damaged one is refused (an error
/// naming each file and what to do) or, with `discard`, removed. Returns the removed runs.
fn check_journal(
    jdir: &Path,
    key: &str,
    all: &[RunSpec],
    discard: bool,
) -> anyhow::Result<Vec<u64>> {
    let done = journal::done(jdir)?;
    let damaged: Vec<(u64, &PathBuf, String)> = all
        .iter()
        .filter_map(|r| {
            let path = done.get(&r.run_id)?;
            let shape = (r.arm, r.point, r.replication);
            journal::check_record(path, key, r.run_id, shape)
                .err()
                .map(|why| (r.run_id, path, why))
        })
        .collect();
    if damaged.is_empty() {
        return Ok(Vec::new());
    }
    if !discard {
        let shown: Vec<&str> = damaged
            .iter()
            .take(10)
            .map(|(_, _, w)| w.as_str())
            .collect();
        let more = if damaged.len() > shown.len() {
            format!("\n  … and {} more", damaged.len() - shown.len())
        } else {
            String::new()
        };
        anyhow::bail!(
            "{} in {} cannot be trusted:\n  {}{more}\nrerun the same command with \
             --discard-damaged to drop them and simulate those runs again, or delete the \
             folder to start over",
            super::count(damaged.len() as u64, "journal record"),
            jdir.display(),
            shown.join("\n  ")
        );
    }
    for (_, path, _) in &damaged {
        std::fs::remove_file(path)
            .map_err(|e| anyhow::anyhow!("cannot remove {}: {e}", path.display()))?;
    }
    Ok(damaged.iter().map(|(id, _, _)| *id).collect())
}

/// Opens the journal of `out` for `meta` and stores the graph of (baseline arm, point 0)
/// there once. Public so tests can drive the runner against a prepared journal; the caller
/// holds the folder's lock (`journal::lock`) when another process may write it.
pub fn prepare(scenario: &Scenario, out: &Path, meta: &ExperimentMeta) -> anyhow::Result<PathBuf> {
    let jdir = journal::open(out, meta)?;
    let graph = &scenario.world(scenario.baseline_arm, 0).infra.graph;
    if graph.len() <= GRAPH_SERVICES_MAX && !jdir.join("graph_nodes.csv").exists() {
        let (nodes, edges) = tables::graph_rows(graph);
        journal::write_graph(&jdir, &nodes, &edges)?;
    }
    Ok(jdir)
}

/// The run-time part of a manifest.
#[derive(Clone, Debug)]
pub struct ManifestRun {
    /// Command line.
    pub command: String,
    /// Threads used.
    pub threads: usize,
    /// Runs the folder should hold.
    pub runs_total: u64,
    /// "I/N" for a shard.
    pub shard: Option<String>,
    /// Folders merged into this one.
    pub merged_from: Vec<String>,
    /// Wall-clock seconds.
    pub wall_time_s: f64,
}

/// Writes `manifest.json` for an assembled folder.
pub fn write_manifest(
    out: &Path,
    meta: &ExperimentMeta,
    a: &Assembled,
    run: ManifestRun,
) -> anyhow::Result<()> {
    let recommendation = a.choice.recommended.map(|i| {
        let s = &a.settings[i];
        Recommendation {
            arm: meta.arms[s.arm].name.clone(),
            point: s.point,
            point_label: meta.points[s.point].label.clone(),
        }
    });
    manifest::write_manifest(
        out,
        &Manifest {
            meta: meta.clone(),
            command: run.command,
            version: env!("CARGO_PKG_VERSION").to_string(),
            threads: run.threads,
            runs_total: run.runs_total,
            runs_done: a.runs_done,
            shard: run.shard,
            merged_from: run.merged_from,
            recommendation,
            wall_time_s: run.wall_time_s,
            created: manifest::created_now(),
        },
    )
}
/// A readable table of the headline metrics per arm × point (mean ± 95% CI half-width, and
/// the p95 over runs of user-impact minutes), and the recommendation.
pub fn summary_table(meta: &ExperimentMeta, a: &Assembled) -> String {
    let idx = |name: &str| {
        METRICS
            .iter()
            .position(|m| m.name == name)
            .expect("table metrics exist")
    };
    let impact = idx("user_impact_min_total");
    let mut header = vec!["arm".to_string(), "point".to_string()];
    header.extend(HEADLINE_METRICS.iter().map(|m| m.to_string()));
    header.push("impact p95".to_string());
    header.push("n".to_string());
    let mut rows = vec![header];
    for (i, s) in a.settings.iter().enumerate() {
        let mut mark = String::new();
        if a.choice.recommended == Some(i) {
            mark.push_str(" *");
        } else if a.choice.on_frontier[i] {
            mark.push_str(" +");
        }
        let mut r = vec![
            format!("{}{mark}", meta.arms[s.arm].name),
            meta.points[s.point].label.clone(),
        ];
        for m in HEADLINE_METRICS {
            let d = &s.stats[idx(m)];
            r.push(format!("{:.2} ±{:.2}", d.mean, d.ci95_half_width()));
        }
        r.push(format!("{:.1}", s.stats[impact].p95));
        r.push(s.stats[0].n.to_string());
        rows.push(r);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut text = String::new();
    for r in &rows {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .enumerate()
            .map(|(c, (v, w))| {
                if c < 2 {
                    format!("{v:<w$}")
                } else {
                    format!("{v:>w$}")
                }
            })
            .collect();
        text.push_str(cells.join("  ").trim_end());
        text.push('\n');
    }
    text.push_str(
        "(mean ±95% CI half-width over replications; + on the frontier, * recommended)\n",
    );
    match a.choice.recommended {
        Some(i) => {
            let s = &a.settings[i];
            text.push_str(&format!(
                "recommendation: arm {} at {} (highest {} meeting every constraint)\n",
                meta.arms[s.arm].name, meta.points[s.point].label, meta.objectives.velocity
            ));
        }
        None => text.push_str("recommendation: none: no setting meets every constraint\n"),
    }
    text
}
