//! Campaigns: run every (campaign, target, replication) with its drawn fault schedule, in
//! parallel, and collect the results in index order.
//!
//! A target is one (arm, grid point) world. Campaign k's schedule comes from
//! `Seed(seed).stream(SCHEDULE_STREAM, k)`; its replication r runs on the master seed
//! `campaign_seed(seed, k, r)` as replication 0 would (`Seed(s).derive(0)`), so a repro file
//! with `seed = s` and `replications = 1` reruns it exactly. Every target of a campaign
//! shares its seeds: arms are compared on common random numbers under the same faults.

use rayon::prelude::*;

use crate::engine::Seed;
use crate::metrics::{RunSummary, Violation, simulate};
use crate::model::config::{InvariantKind, WorldConfig};
use crate::scenario::chaos::FaultTemplate;

use super::schedule::{DrawnFault, draw_schedule, world_with};

/// One world under attack.
#[derive(Clone, Debug)]
pub struct Target {
    /// Arm index in the scenario.
    pub arm: usize,
    /// Grid point index in the scenario.
    pub point: usize,
    /// "arm" or "arm @ point label" when the scenario has several points.
    pub name: String,
    /// The world, with the scenario's fixed `[[faults]]` and `[invariants]`.
    pub world: WorldConfig,
}

/// Everything a set of campaigns needs.
#[derive(Clone, Debug)]
pub struct Plan {
    /// The worlds to attack.
    pub targets: Vec<Target>,
    /// The fault templates.
    pub templates: Vec<FaultTemplate>,
    /// Number of campaigns.
    pub campaigns: u32,
    /// Runs per (campaign, target).
    pub replications: u32,
    /// Master seed.
    pub seed: u64,
}

/// The master seed of replication `r` of campaign `k`: what a repro file's `seed` is.
///
/// Kept below 2^63 because TOML integers are signed 64-bit.
pub fn campaign_seed(seed: u64, campaign: u32, replication: u32) -> u64 {
    Seed(seed)
        .derive(u64::from(campaign))
        .derive(u64::from(replication))
        .0
        >> 1
}

/// The seed a run with master seed `s` simulates on (replication 0 of `blastsim run`).
pub fn run_seed(master: u64) -> Seed {
    Seed(master).derive(0)
}

/// One run of a campaign.
#[derive(Clone, Debug)]
pub struct CampaignRun {
    /// Campaign number.
    pub campaign: u32,
    /// Index into `Plan::targets`.
    pub target: usize,
    /// Replication within the campaign.
    pub replication: u32,
    /// Master seed (see `campaign_seed`).
    pub seed: u64,
    /// The drawn faults (the target's fixed faults come first in the world).
    pub schedule: Vec<DrawnFault>,
    /// The run's metrics.
    pub summary: RunSummary,
    /// Violated invariants, in time order.
    pub violations: Vec<Violation>,
    /// The run's fingerprint.
    pub fingerprint: u64,
}

impl CampaignRun {
    /// Violations of `invariant` in this run.
    pub fn count(&self, invariant: InvariantKind) -> usize {
        self.violations
            .iter()
            .filter(|v| v.invariant == invariant)
            .count()
    }
}

/// Runs every (campaign, target, replication) of `plan`, calling `done` after each run.
///
/// Order of the result: campaign, then target, then replication, whatever the number of
/// threads (rayon's indexed `collect` keeps input order).
pub fn run_campaigns(plan: &Plan, done: &(dyn Fn() + Sync)) -> Vec<CampaignRun> {
    let schedules: Vec<Vec<DrawnFault>> = (0..plan.campaigns)
        .map(|k| draw_schedule(&plan.templates, Seed(plan.seed), k))
        .collect();
    let per_campaign = plan.targets.len() * plan.replications as usize;
    let total = plan.campaigns as usize * per_campaign;
    (0..total)
        .into_par_iter()
        .map(|i| {
            let k = (i / per_campaign) as u32;
            let rest = i % per_campaign;
            let target = rest / plan.replications as usize;
            let r = (rest % plan.replications as usize) as u32;
            let schedule = schedules[k as usize].clone();
            let world = world_with(&plan.targets[target].world, &schedule);
            let seed = campaign_seed(plan.seed, k, r);
            let out = simulate(&world, run_seed(seed));
            done();
            CampaignRun {
                campaign: k,
                target,
                replication: r,
                seed,
                schedule,
                summary: out.summary,
                violations: out.violations,
                fingerprint: out.fingerprint,
            }
        })
        .collect()
}

/// One invariant broken on one target: how often, and the first run that broke it.
#[derive(Clone, Debug)]
pub struct Finding {
    /// Index into `Plan::targets`.
    pub target: usize,
    /// The invariant broken.
    pub invariant: InvariantKind,
    /// Campaigns in which some replication broke it.
    pub campaigns: u32,
    /// Index into the runs of the first run that broke it.
    pub first: usize,
}

/// Every (target, invariant) broken by some run, by target then `InvariantKind::ALL` order.
pub fn findings(plan: &Plan, runs: &[CampaignRun]) -> Vec<Finding> {
    let mut out = Vec::new();
    for target in 0..plan.targets.len() {
        for invariant in InvariantKind::ALL {
            let mut first = None;
            let mut campaigns: Vec<u32> = Vec::new();
            for (i, run) in runs.iter().enumerate() {
                if run.target == target && run.count(invariant) > 0 {
                    first.get_or_insert(i);
                    if campaigns.last() != Some(&run.campaign) {
                        campaigns.push(run.campaign);
                    }
                }
            }
            if let Some(first) = first {
                out.push(Finding {
                    target,
                    invariant,
                    campaigns: campaigns.len() as u32,
                    first,
                });
            }
        }
    }
    out
}
