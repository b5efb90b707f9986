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

/// Does `work(i)` for every `i` in `0..n` on `threads` worker threads (0 = one per core)
/// and hands each result to `ready` in index order, while the other workers go on.
///
/// Workers take indices in increasing order from a shared counter, so a result waits in
/// the reorder buffer only for the few indices still in flight before it: the buffer holds
/// about one result per worker (more only while one item runs much longer than the next
/// ones). `ready` runs on whichever worker completes the ready prefix, one call at a time,
/// so it may write files without further locking.
///
/// The first error (from `work` or `ready`) stops the hand-out of new indices; items in
/// flight finish, and that error is returned.
pub fn ordered<T, W, R>(n: usize, threads: usize, work: W, ready: R) -> anyhow::Result<()>
where
    T: Send,
    W: Fn(usize) -> anyhow::Result<T> + Sync,
    R: FnMut(usize, T) -> anyhow::Result<()> + Send,
{
    use std::collections::BTreeMap;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

    struct Reorder<T, R> {
        next: usize,
        waiting: BTreeMap<usize, T>,
        ready: R,
        error: Option<anyhow::Error>,
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start {threads} worker threads: {e}"))?;
    let workers = pool.current_num_threads().min(n.max(1));
    let counter = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let state = Mutex::new(Reorder {
        next: 0,
        waiting: BTreeMap::new(),
        ready,
        error: None,
    });
    let fail = |e: anyhow::Error, st: &mut Reorder<T, R>| {
        stop.store(true, Ordering::SeqCst);
        st.error.get_or_insert(e);
    };
    pool.scope(|s| {
        for _ in 0..workers {
            s.spawn(|_| {
                loop {
                    if stop.load(Ordering::SeqCst) {
                        return;
                    }
                    let i = counter.fetch_add(1, Ordering::SeqCst);
                    if i >= n {
                        return;
                    }
                    let result = work(i);
                    let mut st = state.lock().unwrap_or_else(|p| p.into_inner());
                    match result {
                        Err(e) => fail(e, &mut st),
                        Ok(t) => {
                            st.waiting.insert(i, t);
                            while st.error.is_none() {
                                let next = st.next;
                                let Some(t) = st.waiting.remove(&next) else {
                                    break;
                                };
                                st.next += 1;
                                if let Err(e) = (st.ready)(next, t) {
                                    fail(e, &mut st);
                                }
                            }
                        }
                    }
                }
            });
        }
    });
    let st = state.into_inner().unwrap_or_else(|p| p.into_inner());
    match st.error {
        Some(e) => Err(e),
        None => {
            debug_assert_eq!(st.next, n, "every result handed over");
            Ok(())
        }
    }
}
