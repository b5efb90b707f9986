//! `blastsim run`: load a scenario, run every arm × point × replication (or one shard) in
//! parallel, journal each run as it finishes, assemble the tables and the manifest, draw
//! the charts, and print a summary table with the recommendation.
//!
//! Rerunning the same command in the same folder resumes: journaled runs are skipped and
//! the final files come out byte-identical to an uninterrupted run.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::engine::{Seed, SimDuration};
use crate::experiment::plan::{self, Overrides, Shard};
use crate::experiment::runner;
use crate::metrics::{METRICS, RunOutput};
use crate::model::config::WorldConfig;
use crate::report::journal;
use crate::report::manifest::{self, ExperimentMeta, Manifest, Recommendation};
use crate::report::tables::{self, Assembled, GRAPH_SERVICES_MAX};
use crate::scenario::Scenario;

/// How to run an experiment.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// Results folder.
    pub out: PathBuf,
    /// Worker threads (0 = one per core).
    pub threads: usize,
    /// Only this shard of the run set.
    pub shard: Option<Shard>,
    /// Show a progress bar (when stderr is a terminal).
    pub progress: bool,
    /// The command line, for the manifest.
    pub command: String,
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
}

/// Runs the subcommand.
pub fn execute(args: super::RunArgs) -> anyhow::Result<u8> {
    let shard = args
        .shard
        .as_deref()
        .map(super::shard_env::resolve)
        .transpose()?;
    let horizon = args
        .horizon
        .as_deref()
        .map(|h| SimDuration::parse(h).map_err(|e| anyhow::anyhow!("--horizon: {e}")))
        .transpose()?;
    if args.replications == Some(0) {
        anyhow::bail!("--replications must be at least 1");
    }
    let mut scenario = crate::scenario::load(&args.scenario)?;
    plan::apply_overrides(
        &mut scenario,
        &Overrides {
            seed: args.seed,
            replications: args.replications,
            horizon,
        },
    );
    let out = args
        .out
        .unwrap_or_else(|| Path::new("results").join(&scenario.name));
    let opts = RunOptions {
        out: out.clone(),
        threads: args.threads.unwrap_or(0),
        shard,
        progress: !args.quiet,
        command: command_line(),
    };
    let outcome = run_experiment(&scenario, &opts, crate::model::simulate)?;
    if !args.no_charts {
        crate::report::render(&out)?;
    }
    if !args.quiet {
        print!("{}", summary_table(&outcome.meta, &outcome.assembled));
        println!(
            "{} of {} runs done ({} new); results in {}",
            outcome.assembled.runs_done,
            outcome.runs_total,
            outcome.runs_new,
            out.display()
        );
    }
    Ok(super::EXIT_OK)
}

/// The process's command line, for the manifest.
///
/// The program is named `blastsim` whatever path it was started by (`cargo run`,
/// `./target/release/blastsim`), so the report's reproduce line does not change with how
/// the binary was invoked.
pub fn command_line() -> String {
    std::iter::once("blastsim".to_string())
        .chain(std::env::args().skip(1))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Runs (or resumes) an experiment into `opts.out` with the given simulator, and writes
/// every table and the manifest. The real command passes `model::simulate`.
pub fn run_experiment<S>(
    scenario: &Scenario,
    opts: &RunOptions,
    simulate: S,
) -> anyhow::Result<RunOutcome>
where
    S: Fn(&WorldConfig, Seed) -> RunOutput + Sync,
{
    let started = Instant::now();
    let key = plan::experiment_key(scenario);
    let meta = ExperimentMeta::from_scenario(scenario, &key);
    let jdir = prepare(scenario, &opts.out, &meta)?;

    let all = plan::runs(scenario, opts.shard);
    let done = journal::done(&jdir)?;
    let todo: Vec<_> = all
        .iter()
        .filter(|r| !done.contains_key(&r.run_id))
        .copied()
        .collect();
    let bar = progress_bar(
        opts.progress,
        all.len() as u64,
        (all.len() - todo.len()) as u64,
    );
    runner::run_all_with(scenario, &todo, opts.threads, simulate, |spec, output| {
        let rec = tables::run_record(&key, scenario, spec, output);
        journal::write_record(&jdir, &rec)?;
        bar.inc(1);
        Ok(())
    })?;
    bar.finish_and_clear();

    let done = journal::done(&jdir)?;
    let records: Vec<PathBuf> = all
        .iter()
        .filter_map(|r| done.get(&r.run_id).cloned())
        .collect();
    let assembled = tables::assemble(&opts.out, &meta, &records, &jdir)?;
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
    Ok(RunOutcome {
        assembled,
        meta,
        runs_total: all.len() as u64,
        runs_new: todo.len() as u64,
    })
}

/// Opens the journal of `out` for `meta` and stores the graph of (baseline arm, point 0)
/// there once. Public so tests can drive the runner against a prepared journal.
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

fn progress_bar(wanted: bool, len: u64, done: u64) -> ProgressBar {
    if !wanted || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} runs  {per_sec}  elapsed {elapsed}  eta {eta}",
        )
        .expect("the template is valid"),
    );
    bar.set_position(done);
    bar
}

/// The metrics of the printed table: (column title, metric name).
const TABLE: &[(&str, &str)] = &[
    ("deploys/day", "deploys_per_day"),
    ("lead p50 h", "lead_time_h_p50"),
    ("incidents", "incidents"),
    ("impact min", "user_impact_min_total"),
    ("senior h/wk", "senior_review_h_per_week"),
    ("false blocks", "blocks_false"),
];

/// A readable table of the main metrics per arm × point (mean ± 95% CI half-width, and
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
    header.extend(TABLE.iter().map(|(t, _)| t.to_string()));
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
        for (_, m) in TABLE {
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
