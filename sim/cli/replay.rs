//! `blastsim replay SCENARIO --run ID [--from DIR] [--seed N] [--trace FILE]`: rerun one
//! run exactly, print its fingerprint, key metrics and violations, write its full event
//! trace as JSON lines, and print the causal story of its worst incident.
//!
//! Run ids and seeds are `blastsim run`'s (see `chaos::replay`), so the fingerprint matches
//! the original run's. The seed, replications and horizon `run` used come from the results
//! folder's manifest (`--from DIR`, else `results/<scenario name>/` when it has one), so a
//! run made with `--seed`, `--replications` or `--horizon` replays without repeating them;
//! an explicit `--seed` still wins. An out-of-range id is bad input (exit 2) and the
//! message gives the valid range.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use super::{EXIT_BAD_INPUT, EXIT_OK};
use crate::chaos::{locate, story};
use crate::engine::SimDuration;
use crate::metrics::simulate_traced;
use crate::model::trace::TraceRecord;
use crate::report::manifest::{Manifest, read_manifest};

/// Metrics printed by replay: enough to recognise the run.
const KEY_METRICS: [&str; 9] = [
    "deploys_per_day",
    "incidents",
    "change_failure_rate",
    "users_hit_max",
    "outage_h_max",
    "user_impact_min_total",
    "time_to_restore_h_p50",
    "invariant_violations",
    "events",
];

/// Runs the subcommand.
pub fn execute(args: super::ReplayArgs) -> anyhow::Result<u8> {
    // A bad scenario is an error: `dispatch` prints it and exits 2.
    let scenario = crate::scenario::load(&args.scenario)?;
    let folder = args
        .from
        .clone()
        .unwrap_or_else(|| Path::new("results").join(&scenario.name));
    let manifest = run_settings(&folder, args.from.is_some(), &scenario.name)?;
    let (seed, replications, horizon) = match &manifest {
        Some(m) => (
            Some(args.seed.unwrap_or(m.meta.seed)),
            Some(m.meta.replications),
            Some(SimDuration::parse(&m.meta.horizon).map_err(|e| {
                anyhow::anyhow!("{}: horizon: {e}", folder.join("manifest.json").display())
            })?),
        ),
        None => (args.seed, None, None),
    };
    let scenario = scenario.with_overrides(seed, replications, horizon)?;
    if let Some(m) = &manifest
        && args.seed.is_none_or(|s| s == m.meta.seed)
        && m.meta.hash != scenario.hash
    {
        eprintln!(
            "warning: {} was written from a different version of {} (hash {} there, {} \
             now): the replay may not match runs.csv",
            folder.display(),
            args.scenario.display(),
            m.meta.hash,
            scenario.hash
        );
    }
    let run = match locate(&scenario, args.run) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(EXIT_BAD_INPUT);
        }
    };
    let world = scenario.world(run.arm, run.point);
    let mut trace: Vec<TraceRecord> = Vec::new();
    let out = simulate_traced(world, run.seed, |r: &TraceRecord| trace.push(r.clone()));
    println!(
        "run {}: arm `{}`, point {} ({}), replication {}, scenario seed {}, run seed {}",
        run.run_id,
        scenario.arms[run.arm].name,
        run.point,
        scenario.points[run.point].label,
        run.replication,
        scenario.seed,
        run.seed.0
    );
    println!("fingerprint {:016x}", out.fingerprint);
    for m in KEY_METRICS {
        println!("  {m} = {}", out.summary.get(m).unwrap_or(f64::NAN));
    }
    for v in &out.violations {
        println!(
            "  violated {} at {}: {}{}",
            v.invariant,
            crate::chaos::story::when(v.at.as_ms()),
            v.detail,
            v.change_id
                .map_or_else(String::new, |c| format!(" (change {c})"))
        );
    }
    if let Some(path) = &args.trace {
        let mut buf = Vec::with_capacity(trace.len() * 128);
        for r in &trace {
            serde_json::to_writer(&mut buf, r).context("cannot write a trace record")?;
            buf.write_all(b"\n")?;
        }
        crate::report::atomic::write_atomic(path, &buf)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
        println!(
            "trace: {} events written to {}",
            trace.len(),
            path.display()
        );
    }
    println!();
    print!("{}", story(&trace, world));
    Ok(EXIT_OK)
}

/// The manifest of the results folder `dir` whose settings a replay takes, if any: `None`
/// when `dir` is the default folder and has no manifest (the scenario's own settings then
/// apply). A folder given with `--from` must have one, and it must be of this scenario.
fn run_settings(dir: &Path, explicit: bool, scenario: &str) -> anyhow::Result<Option<Manifest>> {
    let path: PathBuf = dir.join("manifest.json");
    if !explicit && !path.exists() {
        return Ok(None);
    }
    let manifest = read_manifest(dir)?;
    if manifest.meta.name != scenario {
        anyhow::bail!(
            "{} is of scenario `{}`, not `{scenario}`: pass the scenario it was run from, or \
             --from the folder of this one",
            path.display(),
            manifest.meta.name
        );
    }
    Ok(Some(manifest))
}
