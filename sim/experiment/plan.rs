//! The run set of a scenario: arms × points × replications, each run with a stable id and
//! its seed, and the deterministic shard partition `--shard I/N` takes from it.
//!
//! Run ids are a pure function of (arm, point, replication) and the scenario's shape, so a
//! run keeps its id across machines, thread counts, shards and resumes:
//! `run_id = ((arm * points) + point) * replications + replication`.
//!
//! Common random numbers: replication r gets `Seed(scenario.seed).derive(r)` in EVERY arm
//! and point, so arms are compared on the same proposed changes and the paired difference
//! between two arms carries far less noise than two independent runs.

use std::fmt;

use crate::engine::{Fingerprint, Seed};
use crate::scenario::Scenario;

/// One run: which arm, point and replication, and the seed it simulates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunSpec {
    /// Stable id: `((arm * points) + point) * replications + replication`.
    pub run_id: u64,
    /// Arm index into `Scenario::arms`.
    pub arm: usize,
    /// Point index into `Scenario::points`.
    pub point: usize,
    /// Replication index, `0..replications`.
    pub replication: u32,
    /// The run's master seed (the same for this replication in every arm and point).
    pub seed: Seed,
}

/// The seed of replication `replication`, shared by every arm and point.
pub fn replication_seed(master: u64, replication: u32) -> Seed {
    Seed(master).derive(u64::from(replication))
}

/// Number of runs in the whole scenario.
pub fn run_count(scenario: &Scenario) -> u64 {
    scenario.run_count()
}

/// The run id of (arm, point, replication) with `points` grid points and `replications`
/// replications: arm-major, then point, then replication. `run_spec` is its inverse.
pub fn run_id(arm: usize, point: usize, replication: u32, points: usize, replications: u32) -> u64 {
    (arm as u64 * points as u64 + point as u64) * u64::from(replications) + u64::from(replication)
}

/// The run with id `run_id`, or `None` when the id is out of range.
pub fn run_spec(scenario: &Scenario, run_id: u64) -> Option<RunSpec> {
    if run_id >= run_count(scenario) {
        return None;
    }
    let (arm, point, replication) = decompose(run_id, scenario.points.len(), scenario.replications);
    Some(RunSpec {
        run_id,
        arm,
        point,
        replication,
        seed: replication_seed(scenario.seed, replication),
    })
}

/// (arm, point, replication) of `run_id` with `points` grid points and `replications`
/// replications (both at least 1): the inverse of `run_id`.
pub fn decompose(run_id: u64, points: usize, replications: u32) -> (usize, usize, u32) {
    let reps = u64::from(replications);
    let points = points as u64;
    let setting = run_id / reps;
    (
        (setting / points) as usize,
        (setting % points) as usize,
        (run_id % reps) as u32,
    )
}

/// Every run of the scenario (or of one shard of it), in run-id order.
pub fn runs(scenario: &Scenario, shard: Option<Shard>) -> Vec<RunSpec> {
    (0..run_count(scenario))
        .filter(|&id| shard.is_none_or(|s| s.contains(id)))
        .filter_map(|id| run_spec(scenario, id))
        .collect()
}

/// One part of a deterministic partition of the run ids: shard `index` of `count` holds
/// the runs with `run_id % count == index - 1`. Round-robin rather than contiguous blocks,
/// so every shard gets a similar mix of arms and points and they finish at similar times.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Shard {
    /// 1-based shard number.
    pub index: u32,
    /// Number of shards (at least 1).
    pub count: u32,
}

impl Shard {
    /// Parses "I/N" with 1 ≤ I ≤ N.
    pub fn parse(text: &str) -> Result<Shard, ShardError> {
        let bad = |reason: &str| ShardError {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        let (i, n) = text
            .split_once('/')
            .ok_or_else(|| bad("expected I/N, e.g. 2/4"))?;
        let index: u32 = i
            .trim()
            .parse()
            .map_err(|_| bad("I must be a whole number"))?;
        let count: u32 = n
            .trim()
            .parse()
            .map_err(|_| bad("N must be a whole number"))?;
        if count == 0 {
            return Err(bad("N must be at least 1"));
        }
        if index == 0 || index > count {
            return Err(bad(
                "I must be between 1 and N (shards are numbered from 1)",
            ));
        }
        Ok(Shard { index, count })
    }

    /// Whether this shard holds the run `run_id`.
    pub fn contains(self, run_id: u64) -> bool {
        run_id % u64::from(self.count) == u64::from(self.index - 1)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// A `--shard` value that is not "I/N" with 1 ≤ I ≤ N.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid shard '{text}': {reason}")]
pub struct ShardError {
    /// The text as given.
    pub text: String,
    /// What was wrong.
    pub reason: String,
}

/// The version of the model's results: bump it in any change that alters what a run
/// produces for the same scenario and seed (a new draw, a metric computed differently), so
/// that results folders left by an older build are refused instead of silently resumed.
/// Version 2: closed-loop authors, batching and the delivery pipeline. Version 3: the
/// per-invariant violation counts (`violations_*`; the simulation itself is unchanged).
pub const MODEL_VERSION: u32 = 3;

/// The identity of a run set: 16 hex digits over the build (crate version and
/// `MODEL_VERSION`), the scenario hash and every setting that changes which runs exist or
/// what they produce (seed, replications, horizon, the shape of arms and points). Results
/// journaled under one key are never mixed with another's.
pub fn experiment_key(scenario: &Scenario) -> String {
    use std::hash::Hasher;
    let mut h = Fingerprint::default();
    // A version tag, so a change to the journal format or run-id scheme invalidates old
    // folders instead of silently mixing them.
    h.write(b"blastsim-experiment-v2");
    h.write(env!("CARGO_PKG_VERSION").as_bytes());
    h.write_u32(MODEL_VERSION);
    h.write(scenario.hash.as_bytes());
    h.write_u64(scenario.seed);
    h.write_u32(scenario.replications);
    h.write_u64(scenario.horizon.as_ms());
    h.write_u64(scenario.arms.len() as u64);
    h.write_u64(scenario.points.len() as u64);
    format!("{:016x}", h.finish())
}
