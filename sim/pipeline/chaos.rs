//! The `chaos` pipeline: random fault campaigns against the scenario's invariants,
//! shrinking of every failing schedule, and a results folder.
//!
//! Writes `results/<name>/chaos/` (or the folder given): `campaigns.csv` (a row per run),
//! `violations.csv` (a row per violation), `repro-<n>.toml` per shrunk finding (the
//! scenario with `[[faults]]` set to the shrunk schedule, `replications = 1` and the run's
//! seed, so `blastsim replay repro-<n>.toml --run ID` reruns it), and `chaos.md`. Every
//! file goes through `report::atomic`, so a reader never sees half a file and a killed
//! writer's temporaries are recognised. Nothing is printed: `ChaosOutcome` holds what the
//! command prints.

use std::path::{Component, Path, PathBuf};

use anyhow::Context;
use rayon::prelude::*;

use super::Progress;
use crate::chaos::campaign::run_seed;
use crate::chaos::replay::locate;
use crate::chaos::report::{ShrunkFinding, chaos_md};
use crate::chaos::{
    CampaignRun, Plan, Target, describe_fault, fault_toml, findings, run_campaigns,
};
use crate::chaos::{shrink, story, world_with};
use crate::experiment::plan::run_id;
use crate::metrics::{simulate, simulate_traced};
use crate::model::config::InvariantKind;
use crate::model::trace::TraceRecord;
use crate::report::atomic;
use crate::scenario::{Scenario, chaos as chaos_spec};

/// Runs per shrink, at most.
const SHRINK_STEPS: u32 = 100;

/// What a chaos campaign found and wrote.
#[derive(Clone, Debug)]
pub struct ChaosOutcome {
    /// Every campaign run.
    pub runs: Vec<CampaignRun>,
    /// Each finding (invariant × target), shrunk, with its repro file.
    pub shrunk: Vec<ShrunkFinding>,
    /// The worst finding (index into `shrunk`) and the story of its shrunk run.
    pub worst: Option<(usize, String)>,
    /// The results folder.
    pub out_dir: PathBuf,
}

impl ChaosOutcome {
    /// The command that replays finding `f`.
    pub fn reproduce(&self, f: &ShrunkFinding) -> String {
        reproduce(&self.out_dir, f)
    }

    /// The targets (by name) that broke no invariant.
    pub fn survivors<'a>(&self, plan: &'a Plan) -> Vec<&'a str> {
        (0..plan.targets.len())
            .filter(|t| !self.shrunk.iter().any(|f| f.finding.target == *t))
            .map(|t| plan.targets[t].name.as_str())
            .collect()
    }
}

fn reproduce(out_dir: &Path, f: &ShrunkFinding) -> String {
    format!(
        "blastsim replay {} --run {}",
        out_dir.join(&f.repro).display(),
        f.run_id
    )
}

/// Refuses a scenario without any `[invariants]`: chaos would have nothing to check.
pub fn require_invariants(scenario: &Scenario) -> anyhow::Result<()> {
    if scenario.worlds.iter().all(|w| {
        let i = &w.invariants;
        i.max_users_hit_by_one_change.is_none()
            && i.max_outage.is_none()
            && i.max_user_impact_minutes.is_none()
            && i.min_deploys_per_day.is_none()
    }) {
        anyhow::bail!(
            "{}: the scenario declares no [invariants]; chaos has nothing to check",
            scenario.path.display()
        );
    }
    Ok(())
}

/// The targets and templates of a scenario's `[chaos]`, with `campaigns` campaigns.
pub fn plan(scenario: &Scenario, spec: &chaos_spec::ChaosSpec, campaigns: u32) -> Plan {
    let mut targets = Vec::new();
    for &arm in &spec.arms {
        for point in 0..scenario.points.len() {
            let name = if scenario.points.len() == 1 {
                scenario.arms[arm].name.clone()
            } else {
                format!(
                    "{} @ {}",
                    scenario.arms[arm].name, scenario.points[point].label
                )
            };
            targets.push(Target {
                arm,
                point,
                name,
                world: scenario.world(arm, point).clone(),
            });
        }
    }
    Plan {
        targets,
        templates: spec.templates.clone(),
        campaigns,
        replications: spec.replications,
        seed: scenario.seed,
    }
}

/// Runs the campaigns of `plan` on `threads` workers (0 = one per core), shrinks every
/// finding, and writes the chaos folder `out_dir`.
pub fn run_chaos(
    scenario: &Scenario,
    plan: &Plan,
    out_dir: &Path,
    threads: usize,
    progress: &dyn Progress,
) -> anyhow::Result<ChaosOutcome> {
    require_invariants(scenario)?;
    anyhow::ensure!(plan.campaigns >= 1, "--campaigns must be at least 1");
    // One process at a time writes a folder, as for `run`: a second one fails at once.
    let _lock = crate::report::journal::lock(out_dir)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start {threads} worker threads: {e}"))?;
    pool.install(|| campaign(scenario, plan, out_dir, progress))
}

fn campaign(
    scenario: &Scenario,
    plan: &Plan,
    out_dir: &Path,
    progress: &dyn Progress,
) -> anyhow::Result<ChaosOutcome> {
    let total = plan.campaigns as u64 * plan.targets.len() as u64 * u64::from(plan.replications);
    progress.start(total, 0);
    let runs = run_campaigns(plan, &|| progress.advance());
    progress.finish();
    let found = findings(plan, &runs);
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let shrunk: Vec<ShrunkFinding> = found
        .par_iter()
        .enumerate()
        .map(|(i, f)| {
            let run = &runs[f.first];
            let target = &plan.targets[f.target];
            let s = shrink(
                &target.world,
                &plan.templates,
                &run.schedule,
                run_seed(run.seed),
                f.invariant,
                SHRINK_STEPS,
            );
            let out = simulate(&world_with(&target.world, &s.schedule), run_seed(run.seed));
            let detail = run
                .violations
                .iter()
                .find(|v| v.invariant == f.invariant)
                .map_or_else(String::new, |v| v.detail.clone());
            ShrunkFinding {
                finding: f.clone(),
                campaign: run.campaign,
                seed: run.seed,
                detail,
                shrunk: s,
                repro: format!("repro-{}.toml", i + 1),
                run_id: run_id(target.arm, target.point, 0, scenario.points.len(), 1),
                impact_min: out.summary.user_impact_min_max,
            }
        })
        .collect();

    for f in &shrunk {
        let doc = repro_doc(scenario, plan, f, out_dir)?;
        write(
            &out_dir.join(&f.repro),
            toml::to_string(&doc)
                .context("cannot write the repro scenario as toml")?
                .as_bytes(),
        )?;
    }

    // The worst violation's story: its shrunk run, traced.
    let worst = shrunk
        .iter()
        .enumerate()
        .fold(None::<(usize, f64)>, |best, (i, f)| match best {
            Some((_, m)) if m >= f.impact_min => best,
            _ => Some((i, f.impact_min)),
        })
        .map(|(i, _)| i);
    let worst_story = worst.map(|i| {
        let f = &shrunk[i];
        let target = &plan.targets[f.finding.target];
        let world = world_with(&target.world, &f.shrunk.schedule);
        let mut trace: Vec<TraceRecord> = Vec::new();
        simulate_traced(&world, run_seed(f.seed), |r: &TraceRecord| {
            trace.push(r.clone())
        });
        (i, story(&trace, &world))
    });

    write(&out_dir.join("campaigns.csv"), &campaigns_csv(plan, &runs)?)?;
    write(
        &out_dir.join("violations.csv"),
        &violations_csv(plan, &runs)?,
    )?;
    let md = chaos_md(
        &scenario.name,
        plan,
        &runs,
        &shrunk,
        &|f: &ShrunkFinding| reproduce(out_dir, f),
        worst_story.as_ref().map(|(i, s)| (*i, s.as_str())),
    );
    write(&out_dir.join("chaos.md"), md.as_bytes())?;

    Ok(ChaosOutcome {
        runs,
        shrunk,
        worst: worst_story,
        out_dir: out_dir.to_path_buf(),
    })
}

/// The scenario document with `[[faults]]` = its fixed faults + the shrunk schedule,
/// `replications = 1`, the run's seed and a name of its own; checked to reproduce the
/// shrunk run exactly before it is written.
fn repro_doc(
    scenario: &Scenario,
    plan: &Plan,
    f: &ShrunkFinding,
    out_dir: &Path,
) -> anyhow::Result<toml::Table> {
    let target = &plan.targets[f.finding.target];
    let mut doc = scenario.document();
    let mut faults = match doc.get("faults") {
        Some(toml::Value::Array(a)) => a.clone(),
        _ => Vec::new(),
    };
    faults.extend(
        f.shrunk
            .schedule
            .iter()
            .map(|d| toml::Value::Table(fault_toml(&d.fault, &target.world))),
    );
    let n = f.repro.trim_end_matches(".toml");
    doc.insert("name".into(), format!("{}-{n}", scenario.name).into());
    doc.insert("seed".into(), toml::Value::Integer(f.seed as i64));
    doc.insert("replications".into(), toml::Value::Integer(1));
    doc.insert("faults".into(), toml::Value::Array(faults));
    // Check: the repro file's run is the shrunk run.
    let repro = scenario
        .reparse(&doc)
        .map_err(|e| anyhow::anyhow!("the repro scenario does not validate: {e}"))?;
    let at = locate(&repro, f.run_id).map_err(|e| anyhow::anyhow!(e))?;
    let expected = simulate(
        &world_with(&target.world, &f.shrunk.schedule),
        run_seed(f.seed),
    );
    let got = simulate(repro.world(at.arm, at.point), at.seed);
    assert_eq!(
        got.fingerprint, expected.fingerprint,
        "the repro scenario must rerun the shrunk run exactly"
    );
    // Relative topology files must still resolve from the results folder.
    let base = scenario.path.parent().unwrap_or(Path::new(""));
    if let Some(toml::Value::Table(infra)) = doc.get_mut("infrastructure")
        && let Some(toml::Value::Table(topo)) = infra.get_mut("topology")
        && let Some(toml::Value::String(file)) = topo.get_mut("file")
        && Path::new(file.as_str()).is_relative()
    {
        let target_file = base.join(file.as_str());
        *file = relative_path(&target_file, out_dir)
            .to_string_lossy()
            .into_owned();
    }
    Ok(doc)
}

/// `path` relative to directory `from` (both made absolute against the working directory).
fn relative_path(path: &Path, from: &Path) -> PathBuf {
    let abs = |p: &Path| {
        std::path::absolute(p)
            .unwrap_or_else(|_| p.to_path_buf())
            .components()
            .filter(|c| *c != Component::CurDir)
            .map(|c| c.as_os_str().to_os_string())
            .collect::<Vec<_>>()
    };
    let (p, f) = (abs(path), abs(from));
    let common = p.iter().zip(&f).take_while(|(a, b)| a == b).count();
    let mut out = PathBuf::new();
    for _ in common..f.len() {
        out.push("..");
    }
    for c in &p[common..] {
        out.push(c);
    }
    out
}

fn campaigns_csv(plan: &Plan, runs: &[CampaignRun]) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["campaign", "arm", "replication", "seed", "faults"];
    header.extend(InvariantKind::ALL.map(InvariantKind::name));
    header.extend([
        "users_hit_max",
        "outage_h_max",
        "user_impact_min_total",
        "deploys_per_day",
        "events",
        "fingerprint",
    ]);
    w.write_record(&header)?;
    for r in runs {
        let target = &plan.targets[r.target];
        let faults: Vec<String> = r
            .schedule
            .iter()
            .map(|d| describe_fault(&d.fault, &target.world))
            .collect();
        let mut row = vec![
            r.campaign.to_string(),
            target.name.clone(),
            r.replication.to_string(),
            r.seed.to_string(),
            faults.join("; "),
        ];
        row.extend(InvariantKind::ALL.iter().map(|i| r.count(*i).to_string()));
        row.extend([
            r.summary.users_hit_max.to_string(),
            r.summary.outage_h_max.to_string(),
            r.summary.user_impact_min_total.to_string(),
            r.summary.deploys_per_day.to_string(),
            r.summary.events.to_string(),
            format!("{:016x}", r.fingerprint),
        ]);
        w.write_record(&row)?;
    }
    Ok(w.into_inner()?)
}

fn violations_csv(plan: &Plan, runs: &[CampaignRun]) -> anyhow::Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "campaign",
        "arm",
        "replication",
        "seed",
        "invariant",
        "at_h",
        "change_id",
        "detail",
    ])?;
    for r in runs {
        for v in &r.violations {
            w.write_record([
                r.campaign.to_string(),
                plan.targets[r.target].name.clone(),
                r.replication.to_string(),
                r.seed.to_string(),
                v.invariant.to_string(),
                format!("{:.3}", v.at.as_hours_f64()),
                v.change_id.map_or_else(String::new, |c| c.to_string()),
                v.detail.clone(),
            ])?;
        }
    }
    Ok(w.into_inner()?)
}

/// Writes one file of the chaos folder atomically (`report::atomic`).
fn write(path: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    atomic::write_atomic(path, bytes)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_path_climbs_to_the_common_folder() {
        let p = relative_path(
            Path::new("/a/scenarios/topologies/x.dot"),
            Path::new("/a/results/s/chaos"),
        );
        assert_eq!(p, PathBuf::from("../../../scenarios/topologies/x.dot"));
    }
}
