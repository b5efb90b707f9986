//! Experiments at scale: the run set (arms × points × replications, seeds, shards), the
//! parallel runner, statistics over replications, and the frontier and recommendation.
//!
//! Architecture Invariant: nothing here does I/O, reads the clock or the environment. The
//! runner reports each finished run through a callback; `pipeline::run` persists it
//! through `report`.

pub mod fixture;
pub mod frontier;
pub mod plan;
pub mod runner;
pub mod sensitivity;
pub mod stats;

pub use frontier::{Choice, ResolvedObjectives, Setting, decide, non_dominated};
pub use plan::{RunSpec, Shard, ShardError, experiment_key, runs};
pub use runner::{RunRow, ordered, run_all, run_all_with};
pub use stats::{Describe, Paired, describe, paired};
