//! Orchestration: the pipelines the subcommands run, as library functions that tests,
//! benches and other tools call directly.
//!
//! - `run`: a scenario's runs (or one shard of them) in parallel, journaled as they finish,
//!   resumed after a kill, assembled into the tables, the manifest and the charts.
//! - `merge`: shard folders joined into what one unsharded run writes.
//! - `sensitivity`: the `[sensitivity]` analysis `run` does after the tables.
//! - `chaos`: fault campaigns, shrinking, repro files and the chaos folder.
//!
//! This layer sits between `cli` and the rest: `cli → pipeline → experiment / report /
//! chaos → model / metrics / scenario → engine`. It writes files (through `report`), but
//! never prints, reads the command line or exits: progress goes to a `Progress` the caller
//! supplies, and every outcome is returned for `cli` to print.

pub mod chaos;
pub mod merge;
pub mod run;
pub mod sensitivity;

pub use merge::merge_dirs;
pub use run::{RunOptions, RunOutcome, run_experiment};

/// The most worker threads a command accepts. Runs are independent and CPU-bound, so
/// threads beyond the cores only add memory (one world per thread) and scheduling; a
/// thousand covers the largest machines while refusing a typo such as `--threads 10000`.
pub const THREADS_MAX: usize = 1024;

/// The worker-thread count of `--threads` for every command: absent means one per core
/// (returned as 0, rayon's default); 0 and counts above `THREADS_MAX` are refused.
pub fn worker_threads(requested: Option<usize>) -> anyhow::Result<usize> {
    match requested {
        None => Ok(0),
        Some(n) if (1..=THREADS_MAX).contains(&n) => Ok(n),
        Some(n) => anyhow::bail!(
            "--threads {n}: must be between 1 and {THREADS_MAX} (omit it for one thread per core)"
        ),
    }
}

/// Where a pipeline reports how far it is. Called from worker threads.
pub trait Progress: Sync {
    /// `total` steps to go through, `done` of them already done (resumed).
    fn start(&self, total: u64, done: u64);
    /// One more step done.
    fn advance(&self);
    /// Every step done (or the pipeline gave up).
    fn finish(&self);
    /// Whether the user asked to stop (Ctrl-C): checked between runs, so every journaled
    /// run stays whole and the same command resumes.
    fn interrupted(&self) -> bool {
        false
    }
    /// The runs are done and the charts and the report are being drawn.
    fn drawing(&self) {}
}

/// The error of a pipeline stopped by `Progress::interrupted`: the runs (and sensitivity
/// variations) journaled so far are valid, and the same command resumes from them.
#[derive(Debug)]
pub struct Interrupted {
    /// Runs journaled (whole records) when the pipeline stopped.
    pub done: u64,
    /// Runs of the run set.
    pub total: u64,
    /// The journal folder.
    pub dir: std::path::PathBuf,
    /// `Some(finished variations)` when the stop came during the sensitivity analysis,
    /// after every run of the run set.
    pub variations: Option<u64>,
}

impl std::error::Error for Interrupted {}

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.variations {
            None => write!(
                f,
                "interrupted: {} of {} are journaled in {}; run the same command again to resume",
                self.done,
                count(self.total, "run"),
                self.dir.display()
            ),
            Some(v) => write!(
                f,
                "interrupted during the sensitivity analysis: all {} and {} of the analysis \
                 are journaled in {}; run the same command again to resume (or pass \
                 --no-sensitivity)",
                count(self.total, "run"),
                count(v, "finished variation"),
                self.dir.display()
            ),
        }
    }
}

/// A `Progress` that shows nothing.
#[derive(Clone, Copy, Debug, Default)]
pub struct Silent;

impl Progress for Silent {
    fn start(&self, _total: u64, _done: u64) {}
    fn advance(&self) {}
    fn finish(&self) {}
}

/// "1 run", "2 runs": a count with its noun, singular or plural (nouns with a plain -s
/// plural only).
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// Runs `f` on a rayon pool of `threads` workers (0 = one per core), so that the parallel
/// parts of a pipeline (chart drawing, journal read-back) use the thread count the user
/// asked for rather than the global pool's.
pub fn in_pool<T: Send>(threads: usize, f: impl FnOnce() -> T + Send) -> anyhow::Result<T> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start {threads} worker threads: {e}"))?;
    Ok(pool.install(f))
}

/// The environment variable that makes `run` print how long each of its phases took (to
/// standard error, from `cli`; never into a results file, whose bytes must not depend on
/// time).
pub const TIMINGS_ENV: &str = "BLASTSIM_TIMINGS";

/// Wall-clock time per pipeline phase, for finding the serial phases of a run; nothing in
/// a results folder depends on it.
#[derive(Debug)]
pub struct Phases {
    last: std::time::Instant,
    /// (phase, seconds), in order.
    pub phases: Vec<(&'static str, f64)>,
}

impl Phases {
    /// Starts the clock.
    pub fn start() -> Phases {
        Phases {
            last: std::time::Instant::now(),
            phases: Vec::new(),
        }
    }

    /// The phase `name` ended now.
    pub fn mark(&mut self, name: &'static str) {
        let now = std::time::Instant::now();
        self.phases
            .push((name, now.duration_since(self.last).as_secs_f64()));
        self.last = now;
    }
}
