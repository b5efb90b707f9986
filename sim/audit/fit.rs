//! From log to scenario: fit an agent author group to the logged actions and write it as
//! an `[[authors]]` block, so the simulator can project the log's agents forward and under
//! other policies.
//!
//! What is fitted, and how (every step an ASSUMPTION the block's comments repeat):
//!
//! - `count`: the mean number of distinct agents active on a day with any activity,
//!   rounded up (a Claude Code "agent" is a session unless the logger names agents).
//! - `tasks_per_day`: actions per active agent-day; each logged tool call stands for one
//!   task attempt of the simulator.
//! - `mix`: the share of each class among the actions.
//! - `defect_probability`: per class, the share of calls with a known outcome that failed
//!   (PostToolUse outcome); a failed call stands for a defective change. Classes without
//!   a known outcome get 0.
//! - `permissions`: the classes seen.
//! - `size`: median and log-spread of the lines written by file writes, when there are any.
//! - burstiness: the coefficient of variation of the gaps between consecutive actions is
//!   reported in a comment; the simulator draws Poisson arrivals (CV 1), so a bursty log's
//!   bursts are not reproduced.
//!
//! Memory: counters, plus the set of agents of the current day.

use std::collections::BTreeSet;
use std::fmt::Write as _;

use crate::audit::log::{Action, Outcome};
use crate::engine::time::MS_PER_DAY;
use crate::model::config::ActionClass;

/// Running sums for the fit.
#[derive(Default)]
pub struct Fitter {
    actions: u64,
    timed: u64,
    class: [u64; 5],
    known: [u64; 5],
    failed: [u64; 5],
    day: Option<u64>,
    day_agents: BTreeSet<String>,
    active_days: u64,
    agent_days: u64,
    all_agents: BTreeSet<String>,
    agents_capped: bool,
    first_ms: Option<u64>,
    last_ms: u64,
    prev_ms: Option<u64>,
    gaps: u64,
    gap_mean: f64,
    gap_m2: f64,
    sizes: Vec<u32>,
    size_n: u64,
}

/// Most distinct sizes and agents kept (sizes are subsampled past it, deterministically).
const KEEP: usize = 100_000;

/// The fitted group.
#[derive(Clone, Debug, PartialEq)]
pub struct Fit {
    /// Actions fitted.
    pub actions: u64,
    /// Distinct agents (capped at `KEEP`).
    pub agents: u64,
    /// Days spanned by the log.
    pub days: f64,
    /// Active days.
    pub active_days: u64,
    /// Agents per active day, rounded up.
    pub count: u32,
    /// Actions per agent per active day.
    pub tasks_per_day: f64,
    /// Class shares (sum 1 when there are actions).
    pub mix: [f64; 5],
    /// Failure share per class.
    pub defect: [f64; 5],
    /// Known outcomes per class.
    pub known: [u64; 5],
    /// Classes seen.
    pub seen: [bool; 5],
    /// Coefficient of variation of inter-action gaps.
    pub gap_cv: Option<f64>,
    /// (median lines, sigma of ln lines) of writes.
    pub size: Option<(f64, f64)>,
    /// Whether any action lacked a logged time.
    pub untimed: bool,
}

impl Fitter {
    /// Adds one action (in time order).
    pub fn add(&mut self, a: &Action, class: ActionClass) {
        self.actions += 1;
        let c = class.index();
        self.class[c] += 1;
        if a.outcome != Outcome::Unknown {
            self.known[c] += 1;
            if a.outcome == Outcome::Error {
                self.failed[c] += 1;
            }
        }
        if a.timed {
            self.timed += 1;
        }
        let t = a.time_ms;
        self.first_ms.get_or_insert(t);
        self.last_ms = self.last_ms.max(t);
        if let Some(p) = self.prev_ms {
            let gap = t.saturating_sub(p) as f64;
            self.gaps += 1;
            let d = gap - self.gap_mean;
            self.gap_mean += d / self.gaps as f64;
            self.gap_m2 += d * (gap - self.gap_mean);
        }
        self.prev_ms = Some(t);
        let day = t / MS_PER_DAY;
        if self.day != Some(day) {
            self.close_day();
            self.day = Some(day);
        }
        if !self.day_agents.contains(&a.agent) && self.day_agents.len() < KEEP {
            self.day_agents.insert(a.agent.clone());
        }
        if self.all_agents.len() < KEEP {
            if !self.all_agents.contains(&a.agent) {
                self.all_agents.insert(a.agent.clone());
            }
        } else {
            self.agents_capped = true;
        }
        if a.size > 0 {
            self.size_n += 1;
            // Keep every k-th size once full: a fixed, input-only subsample.
            let k = (self.size_n as usize).div_ceil(KEEP).max(1) as u64;
            if self.size_n.is_multiple_of(k) && self.sizes.len() < KEEP {
                self.sizes.push(a.size);
            }
        }
    }

    fn close_day(&mut self) {
        if !self.day_agents.is_empty() {
            self.active_days += 1;
            self.agent_days += self.day_agents.len() as u64;
            self.day_agents.clear();
        }
    }

    /// The fitted group.
    pub fn finish(mut self) -> Fit {
        self.close_day();
        let n = self.actions.max(1) as f64;
        let mut mix = [0.0; 5];
        for (i, m) in mix.iter_mut().enumerate() {
            *m = self.class[i] as f64 / n;
        }
        // The last class present takes the rounding, so the mix sums to 1 in class order.
        if let Some(last) = (0..5).rev().find(|&i| self.class[i] > 0) {
            let rest: f64 = mix[..last].iter().sum();
            mix[last] = 1.0 - rest;
        }
        let mut defect = [0.0; 5];
        for (i, d) in defect.iter_mut().enumerate() {
            if self.known[i] > 0 {
                *d = self.failed[i] as f64 / self.known[i] as f64;
            }
        }
        let per_day = self.agent_days as f64 / self.active_days.max(1) as f64;
        let count = per_day.ceil().max(1.0) as u32;
        let tasks_per_day = self.actions as f64 / self.agent_days.max(1) as f64;
        let gap_cv = (self.gaps >= 2 && self.gap_mean > 0.0)
            .then(|| (self.gap_m2 / (self.gaps - 1) as f64).sqrt() / self.gap_mean);
        self.sizes.sort_unstable();
        let size = (!self.sizes.is_empty()).then(|| {
            let median = f64::from(self.sizes[self.sizes.len() / 2]);
            let logs: Vec<f64> = self.sizes.iter().map(|&s| f64::from(s).ln()).collect();
            let mean = logs.iter().sum::<f64>() / logs.len() as f64;
            let var = logs.iter().map(|l| (l - mean).powi(2)).sum::<f64>() / logs.len() as f64;
            (median, var.sqrt())
        });
        Fit {
            actions: self.actions,
            agents: self.all_agents.len() as u64,
            days: self.last_ms.saturating_sub(self.first_ms.unwrap_or(0)) as f64
                / MS_PER_DAY as f64,
            active_days: self.active_days,
            count,
            tasks_per_day,
            mix,
            defect,
            known: self.known,
            seen: std::array::from_fn(|i| self.class[i] > 0),
            gap_cv,
            size,
            untimed: self.timed < self.actions,
        }
    }
}

impl Fit {
    /// The `[[authors]]` block, with comments saying where each number comes from.
    pub fn to_toml(&self, group: &str, sources: &[String]) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "# Fitted by `blastsim audit` from {} actions of {} agents over {:.2} days ({} active).",
            self.actions, self.agents, self.days, self.active_days
        );
        for src in sources {
            let _ = writeln!(s, "# Log: {src}");
        }
        if self.untimed {
            let _ = writeln!(
                s,
                "# WARNING: some actions had no logged time; their times (and so tasks_per_day \
                 and burstiness) come from order alone."
            );
        }
        let _ = writeln!(s, "[[authors]]");
        let _ = writeln!(s, "name = {}", toml_str(group));
        let _ = writeln!(s, "kind = \"agent\"");
        let _ = writeln!(
            s,
            "# ASSUMPTION: one agent per distinct `agent` of the log (the session for Claude Code); \
             mean agents active per active day, rounded up."
        );
        let _ = writeln!(s, "count = {}", self.count);
        let _ = writeln!(
            s,
            "# ASSUMPTION: one logged tool call = one task attempt; actions per active agent-day."
        );
        let _ = writeln!(s, "tasks_per_day = {}", fmt(self.tasks_per_day));
        match self.gap_cv {
            Some(cv) => {
                let _ = writeln!(
                    s,
                    "# Burstiness: gaps between actions have a coefficient of variation of {cv:.2} \
                     (Poisson arrivals, which the simulator draws, have 1{}).",
                    if cv > 1.5 {
                        "; this log is burstier than the simulation will be"
                    } else {
                        ""
                    }
                );
            }
            None => {
                let _ = writeln!(s, "# Burstiness: too few actions to measure.");
            }
        }
        let _ = writeln!(
            s,
            "# Share of actions of each class (the classification rules decide)."
        );
        let _ = writeln!(s, "mix = {}", table(&self.mix, |_| true));
        let _ = writeln!(
            s,
            "# ASSUMPTION: share of calls with a known outcome that failed (PostToolUse), standing \
             for defective changes; known outcomes per class: {}.",
            ActionClass::ALL
                .iter()
                .map(|c| format!("{} {}", c.name(), self.known[c.index()]))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let _ = writeln!(s, "defect_probability = {}", table(&self.defect, |_| true));
        let _ = writeln!(s, "# The classes the log's agents used.");
        let seen: Vec<String> = ActionClass::ALL
            .iter()
            .filter(|c| self.seen[c.index()])
            .map(|c| toml_str(c.name()))
            .collect();
        let _ = writeln!(s, "permissions = [{}]", seen.join(", "));
        if let Some((median, sigma)) = self.size {
            let _ = writeln!(
                s,
                "# Lines written by file writes: median and σ of ln(lines)."
            );
            let _ = writeln!(
                s,
                "size = {{ median_loc = {}, sigma = {} }}",
                fmt(median.max(1.0)),
                fmt(sigma)
            );
        }
        s
    }
}

/// A float as TOML, always with a decimal point.
fn fmt(v: f64) -> String {
    let s = format!("{v}");
    if s.contains('.') || s.contains('e') || s.contains("inf") || s.contains("NaN") {
        s
    } else {
        format!("{s}.0")
    }
}

fn table(v: &[f64; 5], keep: impl Fn(usize) -> bool) -> String {
    let parts: Vec<String> = ActionClass::ALL
        .iter()
        .filter(|c| keep(c.index()))
        .map(|c| format!("{} = {}", c.name(), fmt(v[c.index()])))
        .collect();
    format!("{{ {} }}", parts.join(", "))
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}
