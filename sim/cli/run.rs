//! `blastsim run`: parse the flags, load the scenario, hand over to `pipeline::run`, and
//! print the summary table and where the results are.

use std::path::Path;

use super::progress::Bar;
use crate::engine::SimDuration;
use crate::pipeline::{self, RunOptions, count, run::summary_table};

/// Runs the subcommand.
pub fn execute(args: super::RunArgs) -> anyhow::Result<u8> {
    let shard = args
        .shard
        .as_deref()
        .map(super::shard_env::resolve)
        .transpose()?;
    let horizon = args
        .horizon
        .as_deref()
        .map(|h| SimDuration::parse(h).map_err(|e| anyhow::anyhow!("--horizon: {e}")))
        .transpose()?;
    if args.replications == Some(0) {
        anyhow::bail!("--replications must be at least 1");
    }
    let threads = pipeline::worker_threads(args.threads)?;
    let scenario = crate::scenario::load(&args.scenario)?.with_overrides(
        args.seed,
        args.replications,
        horizon,
    )?;
    let out = args
        .out
        .unwrap_or_else(|| Path::new("results").join(&scenario.name));
    let opts = RunOptions {
        out: out.clone(),
        threads,
        shard,
        command: super::command_line(),
        charts: !args.no_charts,
        discard_damaged: args.discard_damaged,
        incidents: args.incidents,
        sensitivity: !args.no_sensitivity,
    };
    let bar = Bar::new(!args.quiet);
    super::progress::catch_interrupt();
    let outcome = match pipeline::run_experiment(&scenario, &opts, crate::metrics::simulate, &bar) {
        Ok(outcome) => outcome,
        Err(e) => match e.downcast::<pipeline::Interrupted>() {
            Ok(stopped) => {
                eprintln!("{stopped}");
                return Ok(super::EXIT_INTERRUPTED);
            }
            Err(e) => return Err(e),
        },
    };
    if std::env::var_os(pipeline::TIMINGS_ENV).is_some() {
        for (phase, s) in &outcome.phases {
            eprintln!("timing {phase}: {s:.3} s");
        }
    }
    if !outcome.discarded.is_empty() {
        eprintln!(
            "discarded {} and simulated {} again: {}",
            count(outcome.discarded.len() as u64, "damaged journal record"),
            if outcome.discarded.len() == 1 {
                "its run"
            } else {
                "their runs"
            },
            pipeline::merge::id_ranges(&outcome.discarded)
        );
    }
    if !args.quiet {
        print!("{}", summary_table(&outcome.meta, &outcome.assembled));
        println!(
            "{} of {} done ({} new); results in {}",
            outcome.assembled.runs_done,
            count(outcome.runs_total, "run"),
            outcome.runs_new,
            out.display()
        );
    }
    Ok(super::EXIT_OK)
}
