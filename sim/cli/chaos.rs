//! `blastsim chaos SCENARIO [--campaigns N]`: load the scenario and its `[chaos]`, hand
//! over to `pipeline::chaos`, and print each violation, how to reproduce it, the arms that
//! survived and the worst violation's story.
//!
//! Exit 1 when any invariant was violated, 0 when none was, 2 on bad input.

use std::path::Path;

use super::progress::Bar;
use super::{EXIT_BAD_INPUT, EXIT_OK, EXIT_VIOLATIONS};
use crate::chaos::describe_fault;
use crate::pipeline::{self, chaos};
use crate::scenario::chaos as chaos_spec;

/// Runs the subcommand.
pub fn execute(args: super::ChaosArgs) -> anyhow::Result<u8> {
    // A bad scenario is an error: `dispatch` prints it and exits 2.
    let scenario = crate::scenario::load(&args.scenario)?.with_overrides(args.seed, None, None)?;
    let spec = match chaos_spec::load(&scenario) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(EXIT_BAD_INPUT);
        }
    };
    if args.campaigns == Some(0) {
        anyhow::bail!("--campaigns must be at least 1");
    }
    let threads = pipeline::worker_threads(args.threads)?;
    let campaigns = args.campaigns.unwrap_or(spec.campaigns);
    chaos_spec::runs_check(campaigns, spec.arms.len(), spec.replications)
        .map_err(|m| anyhow::anyhow!("--campaigns {campaigns}: {m}"))?;
    let plan = chaos::plan(&scenario, &spec, campaigns);
    let out_dir = args
        .out
        .clone()
        .unwrap_or_else(|| Path::new("results").join(&scenario.name).join("chaos"));
    let outcome = chaos::run_chaos(&scenario, &plan, &out_dir, threads, &Bar::new(!args.quiet))?;

    for f in &outcome.shrunk {
        let target = &plan.targets[f.finding.target];
        println!(
            "VIOLATION {} on arm `{}` in {} of {} campaigns",
            f.finding.invariant, target.name, f.finding.campaigns, plan.campaigns
        );
        println!(
            "  first: campaign {}, seed {}: {}",
            f.campaign, f.seed, f.detail
        );
        println!("  shrunk schedule ({} runs):", f.shrunk.steps);
        if f.shrunk.schedule.is_empty() {
            println!("    (no injected fault: the arm breaks it on its own)");
        }
        for d in &f.shrunk.schedule {
            println!("    - {}", describe_fault(&d.fault, &target.world));
        }
        println!("  reproduce: {}", outcome.reproduce(f));
    }
    let survivors = outcome.survivors(&plan);
    println!(
        "{}; arms that survived every campaign: {}",
        pipeline::count(outcome.runs.len() as u64, "run"),
        if survivors.is_empty() {
            "none".to_string()
        } else {
            survivors.join(", ")
        }
    );
    if let Some((i, s)) = &outcome.worst {
        let f = &outcome.shrunk[*i];
        println!(
            "\nThe worst violation ({} on `{}`):\n{s}",
            f.finding.invariant, plan.targets[f.finding.target].name
        );
    }
    println!("wrote {}", out_dir.display());
    Ok(if outcome.shrunk.is_empty() {
        EXIT_OK
    } else {
        EXIT_VIOLATIONS
    })
}
