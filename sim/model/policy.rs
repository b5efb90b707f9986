//! Approval policy: ordered rules, first match wins, no match means no review.
//!
//! A pure decision function; the World applies what it returns.

use serde::{Deserialize, Serialize};

use crate::model::config::{ActionClass, AuthorKind, Policy, Requirement};

/// What review a change needs, as the policy decided.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReviewNeed {
    /// No review.
    None,
    /// One review by anyone.
    Peer,
    /// One review by a senior.
    Senior,
    /// Two reviews by distinct reviewers.
    TwoPerson,
}

/// What the policy sees of a change.
#[derive(Clone, Copy, Debug)]
pub struct ChangeView {
    /// Agent or human.
    pub author: AuthorKind,
    /// Author group index.
    pub group: usize,
    /// Action class.
    pub class: ActionClass,
    /// Tier of the target service.
    pub tier: u8,
    /// Predicted share of users the change could hit.
    pub predicted_users: f64,
    /// Size in lines.
    pub size: u32,
}

/// The matching rule (if any) and the review it needs; `sample_u` resolves `Sample(p)`.
pub fn decide(policy: &Policy, view: &ChangeView, sample_u: f64) -> (Option<u32>, ReviewNeed) {
    for (i, rule) in policy.rules.iter().enumerate() {
        let w = &rule.when;
        let matches = w.author.is_none_or(|a| a == view.author)
            && w.groups.as_ref().is_none_or(|g| g.contains(&view.group))
            && w.classes.is_none_or(|c| c.contains(view.class))
            && w.tiers.as_ref().is_none_or(|t| t.contains(&view.tier))
            && w.predicted_users_above
                .is_none_or(|p| view.predicted_users > p)
            && w.size_above.is_none_or(|s| view.size > s);
        if matches {
            let need = match rule.require {
                Requirement::None => ReviewNeed::None,
                Requirement::Peer => ReviewNeed::Peer,
                Requirement::Senior => ReviewNeed::Senior,
                Requirement::TwoPerson => ReviewNeed::TwoPerson,
                Requirement::Sample(p) if sample_u < p => ReviewNeed::Peer,
                Requirement::Sample(_) => ReviewNeed::None,
            };
            return (Some(i as u32), need);
        }
    }
    (None, ReviewNeed::None)
}
