//! `[deployment]`: direct deploys or staged waves with bake times, and the delivery
//! pipeline's build/test and deploy durations.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::model::config::{DeployConfig, Pipeline, Wave};
use crate::scenario::error::{Ctx, Loc, R};
use crate::scenario::values::{RawDist, RawDuration, SUM_TOLERANCE, dist, duration, prob};

/// `[deployment]`: without `waves` (or with an empty list) changes deploy directly.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawDeployment {
    /// Staged waves; cumulative shares increase and the last is 1.
    #[serde(default)]
    pub waves: Option<Loc<Vec<RawWave>>>,
    /// Build and test time after approval (default: instant).
    #[serde(default)]
    pub build: Option<Loc<RawDist>>,
    /// Time from passing the breakers to the start of the rollout (default: instant).
    #[serde(default)]
    pub deploy: Option<Loc<RawDist>>,
}

/// `{ share = 0.1, bake = "1h" }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWave {
    /// Cumulative share of traffic on the change after this wave.
    pub share: Loc<f64>,
    /// Bake time after it.
    pub bake: RawDuration,
}

// ---------------------------------------------------------------------------------------
// Deployment, faults, invariants.

/// Validates `[deployment]`.
pub(crate) fn deployment(cx: Ctx<'_>, d: Option<&RawDeployment>) -> R<DeployConfig> {
    let Some(waves) = d.and_then(|d| d.waves.as_ref()) else {
        return Ok(DeployConfig::Direct);
    };
    if waves.get().is_empty() {
        return Ok(DeployConfig::Direct);
    }
    let mut out = Vec::new();
    let mut last = 0.0;
    for w in waves.get() {
        let share = prob(cx, &w.share, "wave share")?;
        if share <= last {
            return Err(cx.err_at(
                &w.share,
                format!("wave shares are cumulative and must increase: {share} follows {last}"),
            ));
        }
        last = share;
        out.push(Wave {
            share,
            bake: duration(cx, &w.bake)?,
        });
    }
    if (last - 1.0).abs() > SUM_TOLERANCE {
        let w = waves.get().last().expect("non-empty");
        return Err(cx.err_at(
            &w.share,
            format!("the last wave must reach share 1 (all traffic), got {last}"),
        ));
    }
    Ok(DeployConfig::Waves(out))
}

/// Validates the pipeline durations of `[deployment]`.
pub(crate) fn pipeline(cx: Ctx<'_>, d: Option<&RawDeployment>) -> R<Pipeline> {
    let Some(d) = d else {
        return Ok(Pipeline::default());
    };
    Ok(Pipeline {
        build: d.build.as_ref().map(|b| dist(cx, b)).transpose()?,
        deploy: d.deploy.as_ref().map(|b| dist(cx, b)).transpose()?,
    })
}
