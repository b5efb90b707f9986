//! The blast radius of one incident: a pure function of the cascade's hits and the timing.
//!
//! Model (deliberately simple, so the golden numbers can be checked by hand): every hit
//! service goes down when the fault starts, all at once; the origin comes back at
//! `origin_restored_at`, and a service at depth d comes back `d × restart_step` later, since
//! services restart in dependency order (a caller cannot come back before what it calls).
//! Only `share` of each service's traffic is affected: 1/N when the change reached one
//! cell of N, the wave's share when it was rolled out in waves, 1.0 when it went everywhere.

use crate::engine::{SimDuration, SimTime};
use crate::model::cascade::Hit;
use crate::model::graph::ServiceGraph;

/// Size of one incident.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BlastRadius {
    /// Services down at any point.
    pub services_hit: u32,
    /// Peak share of user traffic lost: `share × Σ weight` (all are down at the start).
    pub users_hit_peak: f64,
    /// `share × Σ weight_i × minutes down_i`.
    pub user_impact_min: f64,
    /// When the last service is back.
    pub restored_at: SimTime,
}

/// Computes the blast radius of one incident (see the module docs for the model).
///
/// `hits` come from `CascadeWorkspace::spread`; `share` is in `[0, 1]`.
pub fn blast_radius(
    graph: &ServiceGraph,
    hits: &[Hit],
    share: f64,
    started_at: SimTime,
    origin_restored_at: SimTime,
    restart_step: SimDuration,
) -> BlastRadius {
    assert!(
        (0.0..=1.0).contains(&share),
        "affected share {share} outside [0, 1]"
    );
    assert!(
        origin_restored_at >= started_at,
        "restored before the fault started"
    );
    let mut weight_sum = 0.0;
    let mut impact_min = 0.0;
    let mut restored_at = origin_restored_at;
    for hit in hits {
        let back =
            origin_restored_at + SimDuration::from_ms(restart_step.as_ms() * hit.depth as u64);
        let w = graph.weight(hit.service);
        weight_sum += w;
        impact_min += w * back.saturating_since(started_at).as_mins_f64();
        restored_at = restored_at.max(back);
    }
    BlastRadius {
        services_hit: hits.len() as u32,
        users_hit_peak: share * weight_sum,
        user_impact_min: share * impact_min,
        restored_at,
    }
}
