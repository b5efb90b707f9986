//! Run ids for replay: which arm, grid point and replication a `runs.csv` run id names, and
//! its seed — exactly `blastsim run`'s numbering (`experiment::plan`), with an error that
//! gives the valid range.

use crate::experiment::plan::{RunSpec, run_spec};
use crate::scenario::Scenario;

/// The run with id `id`, or an error giving the valid range.
pub fn locate(scenario: &Scenario, id: u64) -> Result<RunSpec, String> {
    run_spec(scenario, id).ok_or_else(|| {
        format!(
            "run id {id} is out of range: {} has runs 0 to {} ({} x {} x {})",
            scenario.path.display(),
            scenario.run_count().saturating_sub(1),
            plural(scenario.arms.len(), "arm"),
            plural(scenario.points.len(), "point"),
            plural(scenario.replications as usize, "replication")
        )
    })
}

/// "1 point", "3 points".
fn plural(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}
