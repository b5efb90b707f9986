//! `[invariants]`: properties every run should keep.
//!
//! The keys are `InvariantKind` names; `invariants_schema_matches_the_kinds` checks that the
//! struct's fields and `InvariantKind::ALL` list the same invariants.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::model::config::Invariants;
use crate::scenario::error::{Ctx, Loc, R};
use crate::scenario::values::{RawDuration, nonneg, positive_duration, prob};

/// `[invariants]`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawInvariants {
    /// No change may hit more than this share of users.
    #[serde(default)]
    pub max_users_hit_by_one_change: Option<Loc<f64>>,
    /// No incident may last longer than this.
    #[serde(default)]
    pub max_outage: Option<RawDuration>,
    /// `{ minutes = 600, window = "7d" }`.
    #[serde(default)]
    pub max_user_impact_minutes: Option<RawImpactBound>,
    /// Deploys per day over the run at least this.
    #[serde(default)]
    pub min_deploys_per_day: Option<Loc<f64>>,
}

/// `{ minutes = 600, window = "7d" }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawImpactBound {
    /// User-impact minutes.
    pub minutes: Loc<f64>,
    /// Window length.
    pub window: RawDuration,
}

/// Validates `[invariants]`.
pub(crate) fn invariants(cx: Ctx<'_>, raw: Option<&RawInvariants>) -> R<Invariants> {
    let Some(r) = raw else {
        return Ok(Invariants::default());
    };
    Ok(Invariants {
        max_users_hit_by_one_change: r
            .max_users_hit_by_one_change
            .as_ref()
            .map(|v| prob(cx, v, "max_users_hit_by_one_change"))
            .transpose()?,
        max_outage: r
            .max_outage
            .as_ref()
            .map(|d| positive_duration(cx, d, "max_outage"))
            .transpose()?,
        max_user_impact_minutes: match &r.max_user_impact_minutes {
            Some(b) => Some((
                nonneg(cx, &b.minutes, "minutes")?,
                positive_duration(cx, &b.window, "window")?,
            )),
            None => None,
        },
        min_deploys_per_day: r
            .min_deploys_per_day
            .as_ref()
            .map(|v| nonneg(cx, v, "min_deploys_per_day"))
            .transpose()?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::config::{InvariantKind, Kind};

    #[test]
    fn invariants_schema_matches_the_kinds() {
        let schema = serde_json::Value::from(schemars::schema_for!(RawInvariants));
        let mut keys: Vec<&str> = schema["properties"]
            .as_object()
            .expect("a struct has properties")
            .keys()
            .map(String::as_str)
            .collect();
        keys.sort_unstable();
        let mut names = InvariantKind::names();
        names.sort_unstable();
        assert_eq!(keys, names);
    }
}
