//! The sensitivity analysis of `run`: each `[sensitivity]` assumption set to its low and
//! its high value in turn (everything else at base), every arm and point simulated again
//! on the base runs' seeds (common random numbers: replication r uses the same seed as in
//! the base runs), each variation judged by the report's decision function
//! (`experiment::sensitivity`), and a flip inside a range located by bisection.
//!
//! The base runs are simulated again here rather than read back, so the comparison is
//! between runs made the same way; they are the same runs, so the base recommendation is
//! the one in `summary.csv`. Results go to `sensitivity.csv`, written atomically. Each
//! finished variation is journaled (`report::variations`), so an interrupted analysis
//! resumes at the variation it was in. Nothing depends on the thread count or on what was
//! resumed: every run is a pure function of its world and seed and every mean is summed
//! sequentially in run order, so a repeated or resumed run writes the same bytes.

use std::path::Path;

use super::Progress;
use crate::engine::Seed;
use crate::experiment::frontier::{self, ResolvedObjectives};
use crate::experiment::plan;
use crate::experiment::runner;
use crate::experiment::sensitivity::{self as judge, BISECT_STEPS, Judged, SettingRuns};
use crate::metrics::RunOutput;
use crate::model::config::WorldConfig;
use crate::report::schema::SensitivityRow;
use crate::report::variations::Variations;
use crate::scenario::sensitivity::{Scale, SensitivityEntry};
use crate::scenario::{Scenario, display_value};

/// The file the analysis writes.
pub const FILE: &str = "sensitivity.csv";

/// What the analysis did.
#[derive(Clone, Debug)]
pub struct SensitivityOutcome {
    /// Its rows, two per assumption (low, high), in `[sensitivity]` order.
    pub rows: Vec<SensitivityRow>,
    /// Runs simulated (the base runs again, both ends of every range, bisection steps),
    /// journaled variations read back included.
    pub runs: u64,
    /// Of those, the runs of variations read back from the journal instead of simulated.
    pub resumed: u64,
}

/// Runs the analysis of `scenario` and writes `out/sensitivity.csv`, journaling each
/// variation under `out/.journal/sensitivity/` (a damaged one is refused unless
/// `discard_damaged`); `None` (and no file) when the scenario has no `[sensitivity]`
/// section.
pub fn write_sensitivity<S>(
    scenario: &Scenario,
    out: &Path,
    threads: usize,
    simulate: &S,
    progress: &dyn Progress,
    discard_damaged: bool,
) -> anyhow::Result<Option<SensitivityOutcome>>
where
    S: Fn(&WorldConfig, Seed) -> RunOutput + Sync,
{
    if scenario.sensitivity.is_empty() {
        return Ok(None);
    }
    let journal = Variations::open(out, &plan::experiment_key(scenario), discard_damaged)?;
    let outcome = analyse_with(scenario, threads, simulate, progress, Some(&journal))?;
    let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
    for r in &outcome.rows {
        w.serialize(r)?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| anyhow::anyhow!("cannot format {FILE}: {}", e.error()))?;
    let path = out.join(FILE);
    crate::report::atomic::write_atomic(&path, &bytes)
        .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?;
    Ok(Some(outcome))
}

/// Runs the analysis without writing anything.
pub fn analyse<S>(
    scenario: &Scenario,
    threads: usize,
    simulate: &S,
    progress: &dyn Progress,
) -> anyhow::Result<SensitivityOutcome>
where
    S: Fn(&WorldConfig, Seed) -> RunOutput + Sync,
{
    analyse_with(scenario, threads, simulate, progress, None)
}

/// The analysis, reading finished variations from `journal` and journaling new ones.
fn analyse_with<S>(
    scenario: &Scenario,
    threads: usize,
    simulate: &S,
    progress: &dyn Progress,
    journal: Option<&Variations>,
) -> anyhow::Result<SensitivityOutcome>
where
    S: Fn(&WorldConfig, Seed) -> RunOutput + Sync,
{
    let arm_names: Vec<String> = scenario.arms.iter().map(|a| a.name.clone()).collect();
    let objectives = frontier::resolve(&scenario.objectives, &arm_names)?;
    let points = scenario.points.len();
    let per_set = scenario.run_count();
    let planned = per_set * (1 + 2 * scenario.sensitivity.len() as u64);
    let sim = Sim {
        threads,
        simulate,
        progress,
        planned: std::cell::Cell::new(planned),
        done: std::cell::Cell::new(0),
        resumed: std::cell::Cell::new(0),
        variations: std::cell::Cell::new(0),
        base_runs: per_set,
        journal,
    };
    progress.start(planned, 0);
    // The base, judged for its own recommendation (which judging does not change).
    let base_judged = sim.journaled(scenario, |runs| {
        let first = judge::judge(runs, points, &objectives, None);
        judge::judge(runs, points, &objectives, first.recommended)
    })?;
    let pick = base_judged.0.recommended;
    let base_judged = base_judged.0;
    let mut rows = Vec::new();
    for entry in &scenario.sensitivity {
        let scale = Scale::of(&entry.base).expect("validated: the base value has a scale");
        for (side, value) in [("low", &entry.low), ("high", &entry.high)] {
            let (judged, runs) = sim.variation(scenario, entry, value, &objectives, pick)?;
            let mut row = SensitivityRow {
                parameter: entry.path.clone(),
                label: entry.label.clone(),
                source: entry.source.clone(),
                base: display_value(&entry.base),
                side: side.to_string(),
                value: display_value(value),
                objective: scenario.objectives.velocity.clone(),
                base_recommended: setting_label(scenario, pick),
                base_advantage: base_judged.advantage,
                recommended: setting_label(scenario, judged.recommended),
                advantage: judged.advantage,
                pick_feasible: judged.pick_feasible,
                flips: judged.recommended != pick,
                holds_at: String::new(),
                flips_at: String::new(),
                flips_to: String::new(),
                runs,
            };
            if row.flips {
                // The pick holds at the base value and not at this end: halve the
                // interval between them a few times.
                let (mut holds, mut flips) = (entry.base.clone(), value.clone());
                let mut to = judged.recommended;
                for _ in 0..BISECT_STEPS {
                    let Some(mid) = judge::midpoint(scale, &holds, &flips) else {
                        break;
                    };
                    sim.extend(per_set);
                    let (j, n) = sim.variation(scenario, entry, &mid, &objectives, pick)?;
                    row.runs += n;
                    if j.recommended == pick {
                        holds = mid;
                    } else {
                        to = j.recommended;
                        flips = mid;
                    }
                }
                row.holds_at = display_value(&holds);
                row.flips_at = display_value(&flips);
                row.flips_to = setting_label(scenario, to);
            }
            rows.push(row);
        }
    }
    progress.finish();
    Ok(SensitivityOutcome {
        rows,
        runs: sim.done.get(),
        resumed: sim.resumed.get(),
    })
}

/// "arm", or "arm at point label" when the scenario sweeps; "none".
fn setting_label(scenario: &Scenario, setting: Option<usize>) -> String {
    let Some(s) = setting else {
        return "none".to_string();
    };
    let n = scenario.points.len();
    let arm = &scenario.arms[s / n].name;
    if scenario.axes.is_empty() {
        arm.clone()
    } else {
        format!("{arm} at {}", scenario.points[s % n].label)
    }
}

/// The simulator with its progress counters (used from the calling thread only).
struct Sim<'a, S> {
    threads: usize,
    simulate: &'a S,
    progress: &'a dyn Progress,
    planned: std::cell::Cell<u64>,
    done: std::cell::Cell<u64>,
    resumed: std::cell::Cell<u64>,
    /// Variations finished (read back or simulated), for an interruption's message.
    variations: std::cell::Cell<u64>,
    /// Runs of the scenario's own run set (journaled before the analysis starts).
    base_runs: u64,
    journal: Option<&'a Variations>,
}

impl<S> Sim<'_, S>
where
    S: Fn(&WorldConfig, Seed) -> RunOutput + Sync,
{
    /// Plans `runs` more runs (a bisection step).
    fn extend(&self, runs: u64) {
        self.planned.set(self.planned.get() + runs);
        self.progress.start(self.planned.get(), self.done.get());
    }

    /// What `judge` makes of every run of `scenario`, with the run count: read back from
    /// the journal when it holds this variation, else simulated and then journaled.
    fn journaled(
        &self,
        scenario: &Scenario,
        judge: impl FnOnce(&SettingRuns) -> Judged,
    ) -> anyhow::Result<(Judged, u64)> {
        let key = plan::experiment_key(scenario);
        if let Some(j) = self.journal
            && let Some((judged, runs)) = j.get(&key)?
        {
            self.done.set(self.done.get() + runs);
            self.resumed.set(self.resumed.get() + runs);
            self.progress.start(self.planned.get(), self.done.get());
            self.variations.set(self.variations.get() + 1);
            return Ok((judged, runs));
        }
        let judged = judge(&self.settings(scenario)?);
        let runs = scenario.run_count();
        if let Some(j) = self.journal {
            j.put(&key, &judged, runs)?;
        }
        self.variations.set(self.variations.get() + 1);
        Ok((judged, runs))
    }

    /// Every run of `scenario` on its seeds, grouped by setting.
    fn settings(&self, scenario: &Scenario) -> anyhow::Result<SettingRuns> {
        if self.progress.interrupted() {
            return Err(super::Interrupted {
                done: self.base_runs,
                total: self.base_runs,
                dir: self
                    .journal
                    .map(|j| j.dir().to_path_buf())
                    .unwrap_or_default(),
                variations: Some(self.variations.get()),
            }
            .into());
        }
        let runs = plan::runs(scenario, None);
        let rows = runner::run_all_with(scenario, &runs, self.threads, self.simulate, |_, _| {
            self.progress.advance();
            Ok(())
        })?;
        self.done.set(self.done.get() + rows.len() as u64);
        let n_settings = scenario.arms.len() * scenario.points.len();
        let mut out: SettingRuns = vec![Vec::new(); n_settings];
        // Rows come back in run-id order: arm-major, then point, then replication.
        for r in rows {
            out[r.spec.arm * scenario.points.len() + r.spec.point].push(r.summary.values());
        }
        Ok(out)
    }

    /// One variation: `value` at `entry`'s path, judged for `pick`; with its run count.
    fn variation(
        &self,
        scenario: &Scenario,
        entry: &SensitivityEntry,
        value: &toml::Value,
        objectives: &ResolvedObjectives,
        pick: Option<usize>,
    ) -> anyhow::Result<(Judged, u64)> {
        let varied = scenario.varied(&entry.path, value.clone()).map_err(|e| {
            anyhow::anyhow!(
                "[sensitivity] `{}` = {}: {e}",
                entry.path,
                display_value(value)
            )
        })?;
        let points = varied.points.len();
        self.journaled(&varied, |runs| judge::judge(runs, points, objectives, pick))
    }
}
