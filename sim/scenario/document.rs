//! The document: top-level settings, `[[arms]]`, and the validation of a whole document
//! into its organisation and arms (each section validated by its own module).
//!
//! `validate_doc` checks one parsed document. The scenario layer calls it once for the
//! file as written, and again for every sweep point and arm override (on the document
//! with the overrides applied), so a swept value gets exactly the checks a written value
//! gets.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::engine::SimDuration;
use crate::model::config::{BreakerConfig, Kind, Policy, ReviewerConfig, WorldConfig};
use crate::model::graph::ServiceGraph;
use crate::model::topology::{TopologyOptions, TopologySpec};
use crate::scenario::breakers::{BreakersOut, RawBreakers, breakers};
use crate::scenario::chaos::RawChaos;
use crate::scenario::deployment::{RawDeployment, deployment, pipeline};
use crate::scenario::error::{Ctx, Loc, R, unknown_name};
use crate::scenario::faults::{RawFault, faults};
use crate::scenario::infrastructure::{RawInfrastructure, infrastructure};
use crate::scenario::invariants::{RawInvariants, invariants};
use crate::scenario::limits;
use crate::scenario::objectives::RawObjectives;
use crate::scenario::people::{
    RawAuthorGroup, RawReviewSettings, RawReviewerGroup, authors, reviewers,
};
use crate::scenario::policies::{PolicyOut, RawPolicy, check_reviewers, policies};
use crate::scenario::presets::{self, PolicyPreset};
use crate::scenario::sweep::{Entries, RawAxis};
use crate::scenario::values::{RawDuration, duration, unique_names};

/// The whole scenario file.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "blastsim scenario")]
pub struct RawScenario {
    /// Scenario name: letters, digits, '-', '_' and '.'; names the results folder.
    pub name: Loc<String>,
    /// The question this scenario answers (top of the report).
    pub question: String,
    /// Simulated time per run, e.g. "90d".
    pub horizon: RawDuration,
    /// Replications per arm and sweep point (at least 1).
    pub replications: Loc<u32>,
    /// Master seed; replication r uses the same derived seed in every arm and point.
    pub seed: u64,
    /// Safety limit on events per run (default 1,000,000,000).
    #[serde(default)]
    pub events_max: Option<Loc<u64>>,
    /// Calibration sources the defaults cite (e.g. "docs/calibration.md §2.1 Sadowski 2018").
    #[serde(default)]
    pub sources: Vec<String>,
    /// Name of the baseline arm for paired differences (default: the first arm).
    #[serde(default)]
    pub baseline: Option<Loc<String>>,
    /// The dependency graph, incident detection and recovery.
    pub infrastructure: RawInfrastructure,
    /// Change authors, agents and humans.
    #[serde(default)]
    pub authors: Vec<RawAuthorGroup>,
    /// Reviewer groups.
    #[serde(default)]
    pub reviewers: Vec<RawReviewerGroup>,
    /// Settings of the whole reviewer pool (load and size effects, false rejections).
    #[serde(default)]
    pub review: Option<RawReviewSettings>,
    /// Approval policies; without `[[arms]]` each becomes an arm.
    #[serde(default)]
    pub policies: Vec<RawPolicy>,
    /// Breaker configurations, switched on per arm by name.
    #[serde(default)]
    pub breakers: Option<RawBreakers>,
    /// How approved changes reach production (default: direct).
    #[serde(default)]
    pub deployment: Option<RawDeployment>,
    /// The compared arms: a policy, a set of breakers and overrides.
    #[serde(default)]
    pub arms: Vec<RawArm>,
    /// Sweep axes: "dotted.path" = [values] | { from, to, step } | { values = [...] }.
    #[serde(default)]
    pub sweep: Option<Loc<Entries<RawAxis>>>,
    /// Ranges of assumptions to test the recommendation against:
    /// "dotted.path" = { low, high } (see `scenario::sensitivity`).
    #[serde(default)]
    pub sensitivity: Option<Loc<Entries<crate::scenario::sensitivity::RawRange>>>,
    /// Frontier metrics and recommendation constraints.
    #[serde(default)]
    pub objectives: Option<RawObjectives>,
    /// Faults injected at fixed times.
    #[serde(default)]
    pub faults: Vec<RawFault>,
    /// Properties every run should keep.
    #[serde(default)]
    pub invariants: Option<RawInvariants>,
    /// Fault templates with ranges for random chaos campaigns (`blastsim chaos`).
    #[serde(default)]
    pub chaos: Option<Loc<RawChaos>>,
    /// Log-audit settings (`blastsim audit`): classification and service rules. The audit
    /// layer owns their meaning and validates them from the scenario text
    /// (`audit::spec::parse`, which `blastsim validate` runs too), so this layer only
    /// accepts the table.
    #[serde(default)]
    #[schemars(with = "Option<serde_json::Value>")]
    pub audit: Option<toml::Value>,
}

/// `[[arms]]`: a policy with breakers and overrides.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawArm {
    /// Unique arm name.
    pub name: Loc<String>,
    /// A `[[policies]]` name or a preset.
    pub policy: Loc<String>,
    /// Names of configured `[breakers]` entries to switch on (default none).
    #[serde(default)]
    pub breakers: Vec<Loc<String>>,
    /// One line on the arm.
    #[serde(default)]
    pub description: Option<String>,
    /// Overrides for this arm: "dotted.path" = value.
    #[serde(default)]
    #[schemars(with = "Option<std::collections::BTreeMap<String, serde_json::Value>>")]
    pub set: Option<Loc<Entries<toml::Value>>>,
    /// A Claude Code `settings.json` whose `permissions` block this arm applies first
    /// (used by `blastsim audit` only; `run` has no commands to match it against).
    #[serde(default)]
    pub claude_code_settings: Option<Loc<String>>,
}

/// What validation reads and builds beyond the document: referenced files and graphs.
pub(crate) struct Env<'r> {
    pub(crate) read_file: &'r dyn Fn(&Path) -> io::Result<String>,
    /// Directory of the scenario file; relative paths are resolved against it.
    pub(crate) base_dir: PathBuf,
    /// Every referenced file read so far, in order of first reference.
    pub(crate) files: Vec<(PathBuf, String)>,
    /// Graphs built so far, one per distinct (spec, options).
    pub(crate) graphs: Vec<(TopologySpec, TopologyOptions, Arc<ServiceGraph>)>,
    /// The horizon given on the command line, which replaces the file's.
    pub(crate) horizon: Option<SimDuration>,
}

impl<'r> Env<'r> {
    pub(crate) fn new(
        read_file: &'r dyn Fn(&Path) -> io::Result<String>,
        base_dir: PathBuf,
    ) -> Self {
        Env {
            read_file,
            base_dir,
            files: Vec::new(),
            graphs: Vec::new(),
            horizon: None,
        }
    }

    /// Reads a referenced file once; later references reuse the text.
    pub(crate) fn read(&mut self, path: &Path) -> io::Result<String> {
        if let Some((_, text)) = self.files.iter().find(|(p, _)| p == path) {
            return Ok(text.clone());
        }
        let text = (self.read_file)(path)?;
        self.files.push((path.to_path_buf(), text.clone()));
        Ok(text)
    }
}

/// One arm resolved against a document.
#[derive(Clone, Debug)]
pub(crate) struct ArmOut {
    pub(crate) name: String,
    pub(crate) description: String,
    pub(crate) policy: Policy,
    pub(crate) breakers: BreakerConfig,
}

/// Everything one document yields: the shared organisation and the arms over it.
#[derive(Clone, Debug)]
pub(crate) struct DocOut {
    pub(crate) common: WorldConfig,
    pub(crate) arms: Vec<ArmOut>,
}

impl DocOut {
    /// The world of arm `arm`.
    pub(crate) fn world(&self, arm: usize) -> WorldConfig {
        let mut w = self.common.clone();
        w.policy = self.arms[arm].policy.clone();
        w.breakers = self.arms[arm].breakers.clone();
        w
    }
}

/// Validates a whole document into its organisation and arms.
pub(crate) fn validate_doc(raw: &RawScenario, cx: Ctx<'_>, env: &mut Env<'_>) -> R<DocOut> {
    let written = duration(cx, &raw.horizon)?;
    if written == SimDuration::ZERO {
        return Err(cx.err_at(&raw.horizon, "the horizon must be longer than zero"));
    }
    if written > limits::HORIZON_MAX {
        return Err(cx.err_at(&raw.horizon, limits::horizon_message(written)));
    }
    // A command-line horizon replaces the file's for every check below.
    let horizon = env.horizon.unwrap_or(written);
    let events_max = match &raw.events_max {
        Some(e) if *e.get() == 0 => return Err(cx.err_at(e, "events_max must be at least 1")),
        Some(e) => *e.get(),
        None => presets::EVENTS_MAX_DEFAULT,
    };
    let (infra, incidents) = infrastructure(cx, env, &raw.infrastructure)?;
    let authors = authors(cx, &raw.authors)?;
    let reviewers = reviewers(cx, &raw.reviewers, raw.review.as_ref(), &authors)?;
    let policies = policies(cx, &raw.policies, &raw.authors)?;
    let breakers = breakers(cx, raw.breakers.as_ref())?;
    let deploy = deployment(cx, raw.deployment.as_ref())?;
    let pipeline = pipeline(cx, raw.deployment.as_ref())?;
    let faults = faults(
        cx,
        &raw.faults,
        &raw.authors,
        &raw.reviewers,
        horizon,
        env.horizon.is_some(),
    )?;
    let invariants = invariants(cx, raw.invariants.as_ref())?;
    let arms = arms(cx, raw, &policies, &breakers, &reviewers)?;
    let common = WorldConfig {
        horizon,
        events_max,
        infra,
        authors,
        reviewers,
        // Replaced by each arm's policy in `DocOut::world`.
        policy: PolicyPreset::Autonomous.policy(),
        breakers: BreakerConfig::default(),
        deploy,
        pipeline,
        incidents,
        faults,
        invariants,
    };
    Ok(DocOut { common, arms })
}

/// Arm names become file names (`scenario::file_stem`): each must be at most
/// `ARM_NAME_CHARS_MAX` characters, and no two may give the same file name.
fn arm_file_names<'a>(cx: Ctx<'_>, names: impl Iterator<Item = &'a Loc<String>>) -> R<()> {
    let mut stems: Vec<(String, &Loc<String>)> = Vec::new();
    for n in names {
        let chars = n.get().chars().count();
        if chars > limits::ARM_NAME_CHARS_MAX {
            return Err(cx.err_at(
                n,
                format!(
                    "the arm name is {chars} characters long, over {}: arm names become \
                     file names (timeline_<arm>.svg)",
                    limits::named("ARM_NAME_CHARS_MAX", limits::ARM_NAME_CHARS_MAX)
                ),
            ));
        }
        let stem = limits::file_stem(n.get());
        if let Some((_, first)) = stems.iter().find(|(s, _)| *s == stem) {
            let (line, _) = crate::scenario::error::line_of(cx.text, first.span().start);
            return Err(cx.err_at(
                n,
                format!(
                    "arms `{}` and `{}` (line {line}) would write the same files \
                     (timeline_{stem}.svg); rename one: file names keep only letters, \
                     digits, `-` and `_`, lowercased",
                    n.get(),
                    first.get()
                ),
            ));
        }
        stems.push((stem, n));
    }
    Ok(())
}

/// Validates the arms: `[[arms]]`, or one arm per `[[policies]]` entry without them.
fn arms(
    cx: Ctx<'_>,
    raw: &RawScenario,
    policies: &[PolicyOut],
    breakers: &BreakersOut,
    reviewers: &ReviewerConfig,
) -> R<Vec<ArmOut>> {
    let mut out = Vec::new();
    if raw.arms.is_empty() {
        if policies.is_empty() {
            return Err(cx.err(
                0..0,
                "no arms to compare: add [[policies]] (each becomes an arm) or [[arms]]",
            ));
        }
        arm_file_names(cx, raw.policies.iter().map(|p| &p.name))?;
        for (p, r) in policies.iter().zip(&raw.policies) {
            check_reviewers(cx, &p.policy, &p.require_spans, r.name.span(), reviewers)?;
            out.push(ArmOut {
                name: p.policy.name.clone(),
                description: format!("policy `{}`, no breakers", p.policy.name),
                policy: p.policy.clone(),
                breakers: BreakerConfig::default(),
            });
        }
        return Ok(out);
    }
    unique_names(cx, raw.arms.iter().map(|a| &a.name), "arm")?;
    arm_file_names(cx, raw.arms.iter().map(|a| &a.name))?;
    for a in &raw.arms {
        let name = a.policy.get();
        let (policy, spans) = match policies.iter().find(|p| &p.policy.name == name) {
            Some(p) => (p.policy.clone(), p.require_spans.clone()),
            None => match PolicyPreset::parse(name) {
                Ok(preset) => {
                    let p = preset.policy();
                    let n = p.rules.len();
                    (p, vec![a.policy.span(); n])
                }
                Err(e) => {
                    let mut valid: Vec<&str> =
                        policies.iter().map(|p| p.policy.name.as_str()).collect();
                    valid.extend(e.valid);
                    return Err(cx.err_at(
                        &a.policy,
                        unknown_name("policy (a [[policies]] name or a preset)", name, &valid),
                    ));
                }
            },
        };
        check_reviewers(cx, &policy, &spans, a.policy.span(), reviewers)?;
        let (set, seen) = breakers.arm_set(cx, &a.breakers, reviewers)?;
        out.push(ArmOut {
            name: a.name.get().clone(),
            description: a
                .description
                .clone()
                .unwrap_or_else(|| format!("policy `{name}`, breakers [{}]", seen.join(", "))),
            policy,
            breakers: set,
        });
    }
    Ok(out)
}
