//! The World: the simulated organisation of one run, and the event handler that drives it.
//!
//! PLACEHOLDER until the change pipeline lands: `simulate` returns an empty run.

use crate::engine::{Seed, StopReason};
use crate::metrics::{RunOutput, RunSummary};
use crate::model::config::WorldConfig;

/// Simulates one run of `world` from `seed`: a pure function of its arguments.
pub fn simulate(world: &WorldConfig, seed: Seed) -> RunOutput {
    let _ = (world, seed);
    RunOutput {
        summary: RunSummary::default(),
        incidents: Vec::new(),
        violations: Vec::new(),
        days: Vec::new(),
        worst_hit: Vec::new(),
        fingerprint: 0,
        stop: StopReason::Horizon,
    }
}
