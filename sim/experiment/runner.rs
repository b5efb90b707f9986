//! The parallel runner: every run of a run set on a local rayon pool, results collected in
//! run-id order.
//!
//! Parallelism runs across runs, never inside one: each run is the pure, single-threaded
//! `simulate(world, seed)`. rayon's indexed `collect` keeps input order, so the rows come
//! back in run-id order whatever the thread count, and every float aggregation happens
//! afterwards, sequentially (a parallel float sum is not deterministic).
//!
//! This module does no I/O. The caller passes `on_done`, called on a worker thread as soon
//! as a run finishes, with the full `RunOutput`; `pipeline::run` uses it to journal the run
//! and tick the progress bar. Only the small per-run row is kept, so memory grows with the
//! number of runs by one `RunSummary` each, never by incidents or days.

use rayon::prelude::*;

use crate::engine::{Seed, StopReason};
use crate::experiment::plan::RunSpec;
use crate::metrics::{RunOutput, RunSummary};
use crate::model::config::WorldConfig;
use crate::scenario::Scenario;

/// What the runner keeps of one run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunRow {
    /// Which run.
    pub spec: RunSpec,
    /// Its metrics.
    pub summary: RunSummary,
    /// Its determinism fingerprint.
    pub fingerprint: u64,
    /// Which limit ended it.
    pub stop: StopReason,
}

/// Runs every run in `runs` (which must be in increasing run-id order) with the model's
/// `simulate`, on `threads` worker threads (0 = one per core).
pub fn run_all<F>(
    scenario: &Scenario,
    runs: &[RunSpec],
    threads: usize,
    on_done: F,
) -> anyhow::Result<Vec<RunRow>>
where
    F: Fn(&RunSpec, &RunOutput) -> anyhow::Result<()> + Sync,
{
    run_all_with(scenario, runs, threads, crate::metrics::simulate, on_done)
}

/// As `run_all`, with the simulator passed in (tests and benches use synthetic ones).
///
/// If `on_done` fails, no new run starts, runs in flight finish, and the first error is
/// returned: the runs already handed to `on_done` stay done.
pub fn run_all_with<S, F>(
    scenario: &Scenario,
    runs: &[RunSpec],
    threads: usize,
    simulate: S,
    on_done: F,
) -> anyhow::Result<Vec<RunRow>>
where
    S: Fn(&WorldConfig, Seed) -> RunOutput + Sync,
    F: Fn(&RunSpec, &RunOutput) -> anyhow::Result<()> + Sync,
{
    assert!(
        runs.windows(2).all(|w| w[0].run_id < w[1].run_id),
        "runs must be in increasing run-id order"
    );
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start {threads} worker threads: {e}"))?;
    pool.install(|| {
        runs.par_iter()
            .map(|spec| {
                let output = simulate(scenario.world(spec.arm, spec.point), spec.seed);
                on_done(spec, &output)?;
                Ok(RunRow {
                    spec: *spec,
                    summary: output.summary,
                    fingerprint: output.fingerprint,
                    stop: output.stop,
                })
            })
            .collect()
    })
}
