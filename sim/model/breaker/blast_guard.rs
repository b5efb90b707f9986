//! The blast-radius guard: before an action executes, predict the share of users it could
//! hit and stop it (block, or escalate to a human review) above a threshold.
//!
//! The true share comes from the World (reverse reachability from the target over the
//! dependency graph, traffic-weighted). The guard sees it through a noisy estimator:
//! multiplicative lognormal noise with median equal to the truth, `truth × exp(σ z)` with
//! `z` standard normal, clamped to [0, 1]. Multiplicative noise keeps a tiny change tiny
//! and a huge one huge, which is how a dependency-graph estimate errs (a missed or extra
//! edge scales the estimate), and it never predicts a negative share.

use crate::model::config::{BlastGuardConfig, GuardAction};

/// What the guard does with one action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuardDecision {
    /// The predicted share is within the threshold.
    Allow,
    /// Refused outright.
    Block,
    /// Sent to a senior reviewer before it may run.
    Escalate,
}

/// A noisy prediction of the share of users an action could hit.
///
/// `z` is a standard normal draw the change carries from its proposal, so an action gets
/// the same estimate error in every arm (common random numbers), whatever the noise level.
/// With `noise_sigma = 0` the result is `true_share` exactly (`exp(0) = 1`).
pub fn predict(true_share: f64, noise_sigma: f64, z: f64) -> f64 {
    (true_share * (noise_sigma * z).exp()).clamp(0.0, 1.0)
}

/// The guard's decision for a predicted share: the threshold itself is still allowed
/// ("the largest share an action may touch unchecked"), anything above is stopped.
pub fn decide(cfg: &BlastGuardConfig, predicted: f64) -> GuardDecision {
    if predicted <= cfg.max_predicted_users {
        GuardDecision::Allow
    } else {
        match cfg.action {
            GuardAction::Block => GuardDecision::Block,
            GuardAction::Escalate => GuardDecision::Escalate,
        }
    }
}
