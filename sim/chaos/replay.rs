//! Run ids: which arm, grid point and replication a `runs.csv` run id names, and its seed.
//!
//! The numbering is `blastsim run`'s: `run_id = ((arm * points) + point) * replications +
//! replication`, and replication r simulates on `Seed(scenario.seed).derive(r)`.

use crate::engine::Seed;
use crate::scenario::Scenario;

/// One run of a scenario.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RunRef {
    /// The run id.
    pub id: u64,
    /// Arm index.
    pub arm: usize,
    /// Grid point index.
    pub point: usize,
    /// Replication.
    pub replication: u32,
    /// The seed the run simulates on.
    pub seed: Seed,
}

/// The run with id `id`, or an error giving the valid range.
pub fn locate(scenario: &Scenario, id: u64) -> Result<RunRef, String> {
    let total = scenario.run_count();
    if id >= total {
        return Err(format!(
            "run id {id} is out of range: {} has runs 0 to {} ({} arms x {} points x {} replications)",
            scenario.path.display(),
            total - 1,
            scenario.arms.len(),
            scenario.points.len(),
            scenario.replications
        ));
    }
    let reps = u64::from(scenario.replications);
    let points = scenario.points.len() as u64;
    let replication = (id % reps) as u32;
    let cell = id / reps;
    Ok(RunRef {
        id,
        arm: (cell / points) as usize,
        point: (cell % points) as usize,
        replication,
        seed: Seed(scenario.seed).derive(u64::from(replication)),
    })
}

/// The run id of (arm, point, replication) in a scenario with `points` points and
/// `replications` replications.
pub fn run_id(arm: usize, point: usize, replication: u32, points: usize, replications: u32) -> u64 {
    ((arm as u64 * points as u64) + point as u64) * u64::from(replications) + u64::from(replication)
}
