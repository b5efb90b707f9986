//! The text of `chaos.md`: which arms survived every campaign, which broke which
//! invariant how often, the shrunk schedules with their reproduce commands, and the
//! causal story of the worst violation. Pure: the CLI writes it.

use std::fmt::Write;

use super::campaign::{CampaignRun, Finding, Plan};
use super::schedule::describe_fault;
use super::shrink::Shrunk;
use crate::model::config::InvariantKind;

/// A finding with its shrunk schedule and how to reproduce it.
#[derive(Clone, Debug)]
pub struct ShrunkFinding {
    /// What broke where.
    pub finding: Finding,
    /// The campaign of its first failing run.
    pub campaign: u32,
    /// The master seed of that run (the repro file's `seed`).
    pub seed: u64,
    /// The first violation's words, from the original run.
    pub detail: String,
    /// The minimal schedule.
    pub shrunk: Shrunk,
    /// The repro file's name, e.g. "repro-1.toml".
    pub repro: String,
    /// The run id to replay in the repro file.
    pub run_id: u64,
    /// The worst incident's user-impact minutes in the shrunk run (ranks the findings).
    pub impact_min: f64,
}

/// Campaigns of `target` that broke `invariant` (any replication).
fn campaigns_broken(runs: &[CampaignRun], target: usize, invariant: InvariantKind) -> usize {
    let mut ks: Vec<u32> = runs
        .iter()
        .filter(|r| r.target == target && r.count(invariant) > 0)
        .map(|r| r.campaign)
        .collect();
    ks.dedup();
    ks.len()
}

/// The whole `chaos.md`.
///
/// `reproduce` turns a finding into its command line; `worst` is the index (into `found`)
/// of the worst violation and its causal story.
pub fn chaos_md(
    name: &str,
    plan: &Plan,
    runs: &[CampaignRun],
    found: &[ShrunkFinding],
    reproduce: &dyn Fn(&ShrunkFinding) -> String,
    worst: Option<(usize, &str)>,
) -> String {
    let mut s = String::new();
    let w = &mut s;
    let _ = writeln!(w, "# Chaos campaigns: {name}\n");
    let _ = writeln!(
        w,
        "{} campaigns x {} arm(s) x {} replication(s) = {} runs, master seed {}. Each campaign \
         switched a random subset of the {} fault templates on and drew their parameters in \
         their ranges.\n",
        plan.campaigns,
        plan.targets.len(),
        plan.replications,
        runs.len(),
        plan.seed,
        plan.templates.len()
    );
    let survivors: Vec<&str> = (0..plan.targets.len())
        .filter(|t| !found.iter().any(|f| f.finding.target == *t))
        .map(|t| plan.targets[t].name.as_str())
        .collect();
    let _ = writeln!(w, "## Which arms survived\n");
    if survivors.is_empty() {
        let _ = writeln!(w, "No arm survived every campaign.\n");
    } else if survivors.len() == plan.targets.len() {
        let _ = writeln!(
            w,
            "Every arm survived every campaign: no invariant was violated.\n"
        );
    } else {
        let _ = writeln!(
            w,
            "Survived every campaign: {}.\n",
            survivors
                .iter()
                .map(|n| format!("**{n}**"))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let _ = writeln!(
        w,
        "Campaigns (out of {}) in which each invariant was violated:\n",
        plan.campaigns
    );
    let names = InvariantKind::ALL.map(InvariantKind::name);
    let _ = writeln!(w, "| arm | {} |", names.join(" | "));
    let _ = writeln!(w, "|---|{}", "---:|".repeat(names.len()));
    for (t, target) in plan.targets.iter().enumerate() {
        let cells: Vec<String> = InvariantKind::ALL
            .iter()
            .map(|inv| campaigns_broken(runs, t, *inv).to_string())
            .collect();
        let _ = writeln!(w, "| {} | {} |", target.name, cells.join(" | "));
    }
    if !found.is_empty() {
        let _ = writeln!(w, "\n## Violations, shrunk to minimal fault schedules\n");
        for f in found {
            let target = &plan.targets[f.finding.target];
            let _ = writeln!(
                w,
                "### {} broke `{}` ({} of {} campaigns)\n",
                target.name, f.finding.invariant, f.finding.campaigns, plan.campaigns
            );
            let _ = writeln!(
                w,
                "First in campaign {} (seed {}): {}. Shrunk in {} runs{} to:\n",
                f.campaign,
                f.seed,
                f.detail,
                f.shrunk.steps,
                if f.shrunk.exhausted {
                    " (step budget spent; maybe not minimal)"
                } else {
                    ""
                }
            );
            if f.shrunk.schedule.is_empty() {
                let _ = writeln!(
                    w,
                    "- no injected fault at all: the arm breaks it on its own"
                );
            }
            for d in &f.shrunk.schedule {
                let _ = writeln!(w, "- {}", describe_fault(&d.fault, &target.world));
            }
            let _ = writeln!(w, "\nReproduce: `{}`\n", reproduce(f));
        }
    }
    if let Some((i, story)) = worst {
        let f = &found[i];
        let _ = writeln!(
            w,
            "## The worst violation's story\n\n{} under the shrunk schedule of `{}` (`{}`):\n",
            plan.targets[f.finding.target].name,
            f.finding.invariant,
            reproduce(f)
        );
        let _ = writeln!(w, "```text\n{}```", story);
    }
    s
}
