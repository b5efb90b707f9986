//! The risk classifier: a change flagged risky counts as a failure for the agent breaker
//! (`FailureKinds::classifier`).
//!
//! The classifier is characterised only by its true-positive rate (share of defective
//! changes it flags) and false-positive rate (share of good changes it flags). The World
//! draws the uniform `u` from the change's own stream, so whether a given change is
//! flagged is the same under every arm that uses the same classifier.

/// Whether a change is flagged risky: `u < tpr` for a defective change, `u < fpr` for a
/// good one, with `u` uniform in [0, 1). So `tpr = 1` flags every defective change and
/// `fpr = 0` never flags a good one.
pub fn flags(defective: bool, (tpr, fpr): (f64, f64), u: f64) -> bool {
    if defective { u < tpr } else { u < fpr }
}
