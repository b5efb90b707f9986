//! The streaming metrics collector: it sees every trace event once and keeps only
//! counters, fixed-size histograms, per-incident records and per-day rows.
//!
//! It is the only place `RunSummary` is computed, and it sees nothing but trace events
//! (it is a `TraceSink`; `metrics::run` hands it to the World), so a run and a replay of
//! its trace give the same row.

use std::collections::BTreeMap;

use hdrhistogram::Histogram;

use crate::engine::time::{MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE, MS_PER_WEEK};
use crate::engine::{SimTime, StopReason};
use crate::metrics::run_output::{DayStats, IncidentRecord, RunOutput, Violation};
use crate::metrics::summary::RunSummary;
use crate::model::breaker::{BreakerKind, BreakerState};
use crate::model::config::{AuthorKind, InvariantKind, Invariants, Severity};
use crate::model::graph::ServiceId;
use crate::model::trace::{TraceEvent, TraceRecord, TraceSink};

/// Records a value in an auto-resizing histogram. (`saturating_record` would clamp to
/// the histogram's current range, which starts tiny: a wrong-quantile bug.)
fn record(h: &mut Histogram<u64>, value: u64) {
    h.record(value)
        .expect("an auto-resizing histogram records any u64");
}

/// The `q` quantile of sorted values, interpolating linearly between order statistics
/// (Hyndman–Fan type 7, the default of R and NumPy); 0 for no data. The one quantile
/// definition of the crate: per-run metrics and cross-run summaries both use it.
pub fn quantile_sorted(sorted: &[f64], q: f64) -> f64 {
    match sorted.len() {
        0 => 0.0,
        1 => sorted[0],
        n => {
            let h = q.clamp(0.0, 1.0) * (n - 1) as f64;
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        }
    }
}

/// The `q` quantile (type 7, as `quantile_sorted`) of values given as counts per value:
/// `counts[v]` observations of value `v`; 0 for no data.
fn quantile_counts(counts: &[u64], q: f64) -> f64 {
    let n: u64 = counts.iter().sum();
    if n == 0 {
        return 0.0;
    }
    // The value of order statistic `i` (0-based).
    let at = |i: u64| -> f64 {
        let mut seen = 0;
        for (v, &c) in counts.iter().enumerate() {
            seen += c;
            if i < seen {
                return v as f64;
            }
        }
        (counts.len() - 1) as f64
    };
    let h = q.clamp(0.0, 1.0) * (n - 1) as f64;
    let lo = h.floor() as u64;
    let hi = (lo + 1).min(n - 1);
    at(lo) + (h - lo as f64) * (at(hi) - at(lo))
}

/// Whether hourly samples of the work waiting still grow over the last third of the run.
///
/// The last third is cut to an even number of whole weeks (whole days for runs too short
/// for two weeks there), so the weekly and daily cycles of working hours cancel, and split
/// into halves; the growth over the span is twice the difference of the half means.
/// Unstable when that growth exceeds a quarter of the span's mean level plus 2 tasks (a
/// stable queue fluctuates around a level, an unstable one grows in proportion to the
/// horizon: linear growth from zero gives 0.4 of the mean over the last third) and the
/// difference is over two standard errors, estimated from the spread of the daily means
/// (which a trend only inflates, so linear growth over four weeks is still 4.6 standard
/// errors): a small, bursty queue's noise is not growth. Runs under two days in their
/// last third are too short to judge.
fn still_growing(samples: &[u32]) -> bool {
    const WEEK_H: usize = 168;
    const DAY_H: usize = 24;
    let third = samples.len() / 3;
    let period = if third >= 2 * WEEK_H { WEEK_H } else { DAY_H };
    let blocks = (third / period) & !1;
    if blocks < 2 {
        return false;
    }
    let n = blocks * period;
    let tail = &samples[samples.len() - n..];
    let mean = |s: &[u32]| s.iter().map(|&y| f64::from(y)).sum::<f64>() / s.len() as f64;
    let (a, b) = tail.split_at(n / 2);
    let diff = mean(b) - mean(a);
    let days: Vec<f64> = tail.chunks(DAY_H).map(mean).collect();
    let m = days.len() as f64;
    let day_mean = days.iter().sum::<f64>() / m;
    let sd = (days.iter().map(|d| (d - day_mean).powi(2)).sum::<f64>() / (m - 1.0)).sqrt();
    let se = sd * 2.0 / m.sqrt();
    2.0 * diff > 0.25 * mean(tail) + 2.0 && diff > 2.0 * se
}

/// Accumulates a run's metrics from its trace events.
pub struct Collector {
    invariants: Invariants,
    horizon_ms: u64,
    reviewer_capacity_ms: u64,
    s: RunSummary,
    lead_time: Histogram<u64>,
    lead_time_sum_ms: f64,
    review_wait: Histogram<u64>,
    review_wait_sum_ms: f64,
    queue_len: u32,
    queue_len_since: u64,
    queue_area: f64,
    busy_ms: u64,
    senior_busy_ms: u64,
    open_incidents: BTreeMap<u32, IncidentRecord>,
    incidents: Vec<IncidentRecord>,
    recent_impacts: Vec<(u64, f64)>,
    violations: Vec<Violation>,
    days: Vec<DayStats>,
    breaker_open_ms: u64,
    freeze_since: Option<u64>,
    freeze_ms: u64,
    kill_since: Option<u64>,
    kill_ms: u64,
    deployed_agent: u64,
    deployed_human: u64,
    /// Per author kind (agent, human): proposals, rejections, refusals.
    by_kind: [KindCounts; 2],
    /// Per breaker, indexed by `BreakerKind::index`: its blocks.
    by_breaker: [BlockCounts; BreakerKind::ALL.len()],
    good_deploys: u64,
    tasks_done: u64,
    tasks_abandoned: u64,
    /// Proposed changes by tasks carried (index = tasks).
    batch_counts: Vec<u64>,
    /// Tasks waiting in all backlogs now.
    backlog: u32,
    /// Hourly samples of the backlog, and of the backlog plus the review queue.
    backlog_samples: Vec<u32>,
    waiting_samples: Vec<u32>,
    next_sample_ms: u64,
    /// Changes in flight at the horizon (censored lead times).
    censored: u64,
    review_tasks_queued: u64,
    review_tasks_dropped: u64,
}

/// Blocks kept per breaker.
#[derive(Clone, Copy, Debug, Default)]
struct BlockCounts {
    /// Blocks of defective changes (safety bought).
    true_blocks: u64,
    /// Blocks of good changes (velocity lost).
    false_blocks: u64,
    /// Blocks that sent the change to senior review instead.
    escalated: u64,
}

impl BlockCounts {
    fn all(self) -> u64 {
        self.true_blocks + self.false_blocks
    }
}

/// Counts kept per author kind.
#[derive(Clone, Copy, Debug, Default)]
struct KindCounts {
    proposed: u64,
    rejected: u64,
    refused: u64,
}

/// Index of an author kind in per-kind arrays.
fn kind_index(kind: AuthorKind) -> usize {
    match kind {
        AuthorKind::Agent => 0,
        AuthorKind::Human => 1,
    }
}

impl Collector {
    /// A collector for a run with these invariants and horizon.
    pub fn new(invariants: &Invariants, horizon_ms: u64) -> Collector {
        let days = horizon_ms.div_ceil(MS_PER_DAY).max(1) as usize;
        let hours = horizon_ms.div_ceil(MS_PER_HOUR);
        Collector {
            invariants: invariants.clone(),
            horizon_ms,
            reviewer_capacity_ms: 0,
            s: RunSummary::default(),
            lead_time: Histogram::new(3).expect("3 significant figures is valid"),
            lead_time_sum_ms: 0.0,
            review_wait: Histogram::new(3).expect("3 significant figures is valid"),
            review_wait_sum_ms: 0.0,
            queue_len: 0,
            queue_len_since: 0,
            queue_area: 0.0,
            busy_ms: 0,
            senior_busy_ms: 0,
            open_incidents: BTreeMap::new(),
            incidents: Vec::new(),
            recent_impacts: Vec::new(),
            violations: Vec::new(),
            days: vec![DayStats::default(); days],
            breaker_open_ms: 0,
            freeze_since: None,
            freeze_ms: 0,
            kill_since: None,
            kill_ms: 0,
            deployed_agent: 0,
            deployed_human: 0,
            by_kind: [KindCounts::default(); 2],
            by_breaker: [BlockCounts::default(); BreakerKind::ALL.len()],
            good_deploys: 0,
            tasks_done: 0,
            tasks_abandoned: 0,
            batch_counts: vec![0; 2],
            backlog: 0,
            backlog_samples: Vec::with_capacity(hours as usize),
            waiting_samples: Vec::with_capacity(hours as usize),
            next_sample_ms: 0,
            censored: 0,
            review_tasks_queued: 0,
            review_tasks_dropped: 0,
        }
    }

    /// Takes the hourly samples due before `t` (the levels just before the events at `t`).
    #[inline]
    fn sample_until(&mut self, t: u64) {
        while self.next_sample_ms < t && self.next_sample_ms < self.horizon_ms {
            self.backlog_samples.push(self.backlog);
            self.waiting_samples.push(self.backlog + self.queue_len);
            self.next_sample_ms += MS_PER_HOUR;
        }
    }

    fn day(&mut self, t: u64) -> &mut DayStats {
        let i = ((t / MS_PER_DAY) as usize).min(self.days.len() - 1);
        &mut self.days[i]
    }

    fn set_queue_len(&mut self, t: u64, len: u32) {
        self.queue_area += self.queue_len as f64 * (t - self.queue_len_since) as f64;
        self.queue_len_since = t;
        self.queue_len = len;
        self.s.review_queue_len_max = self.s.review_queue_len_max.max(len as f64);
    }

    /// Adds the hours of `[from, to)` to a per-day field, split across days.
    fn spread_hours(&mut self, from: u64, to: u64, field: fn(&mut DayStats) -> &mut f64) {
        let mut t = from;
        while t < to {
            let day_end = (t / MS_PER_DAY + 1) * MS_PER_DAY;
            let end = day_end.min(to);
            *field(self.day(t)) += (end - t) as f64 / MS_PER_HOUR as f64;
            t = end;
        }
    }

    fn violate(&mut self, invariant: InvariantKind, at: u64, change: Option<u64>, detail: String) {
        self.violations.push(Violation {
            invariant,
            at: SimTime(at),
            change_id: change,
            detail,
        });
    }

    /// Observes one event at simulated time `t` (ms).
    pub fn observe(&mut self, t: u64, event: &TraceEvent) {
        self.sample_until(t);
        let s = &mut self.s;
        match *event {
            TraceEvent::RunStarted {
                reviewer_capacity_ms,
                ..
            } => {
                self.reviewer_capacity_ms = reviewer_capacity_ms;
            }
            TraceEvent::TaskStarted { .. } => s.tasks_started += 1.0,
            TraceEvent::Proposed { kind, tasks, .. } => {
                s.changes_proposed += 1.0;
                let k = tasks as usize;
                if k >= self.batch_counts.len() {
                    self.batch_counts.resize(k + 1, 0);
                }
                self.batch_counts[k] += 1;
                self.by_kind[kind_index(kind)].proposed += 1;
            }
            TraceEvent::Refused { kind, .. } => {
                s.changes_refused += 1.0;
                self.by_kind[kind_index(kind)].refused += 1;
            }
            TraceEvent::Gated { .. } => {}
            TraceEvent::ReviewQueued { queue_len, .. } => {
                self.review_tasks_queued += 1;
                self.set_queue_len(t, queue_len)
            }
            TraceEvent::ReviewStarted {
                waited_ms,
                rushed,
                queue_len,
                ..
            } => {
                record(&mut self.review_wait, waited_ms);
                self.review_wait_sum_ms += waited_ms as f64;
                if rushed {
                    self.s.reviews_rushed += 1.0;
                }
                self.set_queue_len(t, queue_len);
            }
            TraceEvent::ReviewDropped { queue_len, .. } => {
                self.review_tasks_dropped += 1;
                self.set_queue_len(t, queue_len)
            }
            TraceEvent::ReviewFinished {
                senior, busy_ms, ..
            } => {
                s.reviews_done += 1.0;
                self.busy_ms += busy_ms;
                if senior {
                    self.senior_busy_ms += busy_ms;
                }
            }
            TraceEvent::AutoApproved { .. } => s.auto_approved += 1.0,
            TraceEvent::Rejected { kind, .. } => {
                s.changes_rejected += 1.0;
                self.by_kind[kind_index(kind)].rejected += 1;
            }
            TraceEvent::Blocked {
                breaker,
                defective,
                escalated,
                ..
            } => {
                let counts = &mut self.by_breaker[breaker.index()];
                if defective {
                    counts.true_blocks += 1;
                } else {
                    counts.false_blocks += 1;
                }
                counts.escalated += u64::from(escalated);
            }
            TraceEvent::Released {
                held_ms, defective, ..
            } => {
                if !defective {
                    s.block_delay_h_total += held_ms as f64 / MS_PER_HOUR as f64;
                }
            }
            TraceEvent::Escalated { .. } => s.escalations += 1.0,
            TraceEvent::Abandoned { tasks, .. } => {
                s.changes_abandoned += 1.0;
                self.tasks_abandoned += u64::from(tasks);
            }
            TraceEvent::TaskDone { tasks, .. } => self.tasks_done += u64::from(tasks),
            TraceEvent::TaskQueued { backlog, .. }
            | TraceEvent::TaskResumed { backlog, .. }
            | TraceEvent::TaskBatched { backlog, .. } => self.backlog = backlog,
            TraceEvent::TaskExpired { backlog, .. } => {
                self.backlog = backlog;
                self.tasks_abandoned += 1;
            }
            TraceEvent::InFlight { age_ms, .. } => {
                // A censored lead time: the change has taken at least this long.
                self.censored += 1;
                record(&mut self.lead_time, age_ms);
                self.lead_time_sum_ms += age_ms as f64;
            }
            TraceEvent::ReviewCensored { waited_ms, .. } => {
                record(&mut self.review_wait, waited_ms);
                self.review_wait_sum_ms += waited_ms as f64;
            }
            TraceEvent::Deployed {
                kind,
                lead_time_ms,
                incident,
                ..
            } => {
                s.changes_deployed += 1.0;
                if !incident {
                    self.good_deploys += 1;
                }
                match kind {
                    AuthorKind::Agent => self.deployed_agent += 1,
                    AuthorKind::Human => self.deployed_human += 1,
                }
                record(&mut self.lead_time, lead_time_ms);
                self.lead_time_sum_ms += lead_time_ms as f64;
                self.day(t).deploys += 1;
            }
            TraceEvent::IncidentStarted {
                incident,
                started_ms,
                change,
                group,
                kind,
                class,
                severity,
                origin,
                services_hit,
                users_hit_peak,
                ..
            } => {
                s.incidents += 1.0;
                if kind == AuthorKind::Agent {
                    s.incidents_agent += 1.0;
                }
                if severity == Severity::EnvironmentDeletion {
                    s.environment_deletions += 1.0;
                }
                let record = IncidentRecord {
                    change_id: change,
                    author_group: group as usize,
                    author_kind: kind,
                    class,
                    severity,
                    origin: ServiceId(origin),
                    started_at: SimTime(started_ms),
                    detected_at: SimTime(t),
                    restored_at: SimTime(t),
                    services_hit,
                    users_hit_peak,
                    user_impact_min: 0.0,
                    rebuilt: false,
                };
                self.open_incidents.insert(incident, record);
                let day = self.day(started_ms);
                day.incidents += 1;
                day.users_hit_max = day.users_hit_max.max(users_hit_peak);
                if let Some(limit) = self.invariants.max_users_hit_by_one_change
                    && users_hit_peak > limit
                {
                    self.violate(
                        InvariantKind::MaxUsersHitByOneChange,
                        t,
                        Some(change),
                        format!(
                            "{:.1}% of users hit, limit {:.1}%",
                            users_hit_peak * 100.0,
                            limit * 100.0
                        ),
                    );
                }
            }
            TraceEvent::IncidentDetected { .. } => {}
            TraceEvent::RecoveryStarted { incident, rebuild } => {
                if let Some(open) = self.open_incidents.get_mut(&incident) {
                    open.rebuilt = rebuild;
                }
            }
            TraceEvent::IncidentRestored {
                incident,
                user_impact_min,
            } => {
                let Some(mut record) = self.open_incidents.remove(&incident) else {
                    return;
                };
                record.restored_at = SimTime(t);
                record.user_impact_min = user_impact_min;
                let start_day = record.started_at.as_ms();
                self.day(start_day).user_impact_min += user_impact_min;
                self.check_incident_invariants(t, &record);
                self.incidents.push(record);
            }
            TraceEvent::AgentBreaker {
                state,
                open_until_ms,
                ..
            } => {
                if state == BreakerState::Open {
                    // An open period lasts its scheduled length (cut at the horizon),
                    // whenever the agent next asks to act.
                    self.s.breaker_trips += 1.0;
                    self.day(t).breaker_trips += 1;
                    let until = open_until_ms.unwrap_or(t).min(self.horizon_ms);
                    self.breaker_open_ms += until.saturating_sub(t);
                }
            }
            TraceEvent::Freeze { on } => {
                if on && self.freeze_since.is_none() {
                    self.s.freezes += 1.0;
                    self.freeze_since = Some(t);
                } else if !on && let Some(since) = self.freeze_since.take() {
                    self.freeze_ms += t - since;
                    self.spread_hours(since, t, |d| &mut d.freeze_h);
                }
            }
            TraceEvent::KillSwitch { on } => {
                if on && self.kill_since.is_none() {
                    self.kill_since = Some(t);
                } else if !on && let Some(since) = self.kill_since.take() {
                    self.kill_ms += t - since;
                    self.spread_hours(since, t, |d| &mut d.kill_switch_h);
                }
            }
            TraceEvent::Fault { .. } | TraceEvent::CascadeSpread { .. } => {}
            TraceEvent::RunEnded { events } => {
                self.s.events = events as f64;
            }
        }
    }

    fn check_incident_invariants(&mut self, t: u64, record: &IncidentRecord) {
        if let Some(limit) = self.invariants.max_outage {
            let d = record.duration();
            if d > limit {
                self.violate(
                    InvariantKind::MaxOutage,
                    t,
                    Some(record.change_id),
                    format!("outage of {d}, limit {limit}"),
                );
            }
        }
        if let Some((limit, window)) = self.invariants.max_user_impact_minutes {
            self.recent_impacts.push((t, record.user_impact_min));
            let from = t.saturating_sub(window.as_ms());
            self.recent_impacts.retain(|&(at, _)| at >= from);
            let total: f64 = self.recent_impacts.iter().map(|&(_, m)| m).sum();
            if total > limit {
                self.violate(
                    InvariantKind::MaxUserImpactMinutes,
                    t,
                    Some(record.change_id),
                    format!("{total:.0} user-impact minutes within {window}, limit {limit:.0}"),
                );
            }
        }
    }

    /// Closes the books at the horizon and produces the run's output.
    pub fn finish(
        mut self,
        stop: StopReason,
        fingerprint: u64,
        worst_hit: Vec<ServiceId>,
    ) -> RunOutput {
        let end = self.horizon_ms;
        self.sample_until(end);
        self.set_queue_len(end, self.queue_len);
        if let Some(since) = self.freeze_since.take() {
            self.freeze_ms += end.saturating_sub(since);
            self.spread_hours(since, end, |d| &mut d.freeze_h);
        }
        if let Some(since) = self.kill_since.take() {
            self.kill_ms += end.saturating_sub(since);
            self.spread_hours(since, end, |d| &mut d.kill_switch_h);
        }
        let days = end as f64 / MS_PER_DAY as f64;
        let weeks = end as f64 / MS_PER_WEEK as f64;
        let hours = |ms: f64| ms / MS_PER_HOUR as f64;
        let s = &mut self.s;
        s.deploys_per_day = s.changes_deployed / days;
        s.deploys_per_day_agent = self.deployed_agent as f64 / days;
        s.deploys_per_day_human = self.deployed_human as f64 / days;
        let [agent, human] = self.by_kind;
        s.proposed_per_day_agent = agent.proposed as f64 / days;
        s.proposed_per_day_human = human.proposed as f64 / days;
        s.rejected_per_day_agent = agent.rejected as f64 / days;
        s.rejected_per_day_human = human.rejected as f64 / days;
        s.refused_per_day_agent = agent.refused as f64 / days;
        s.refused_per_day_human = human.refused as f64 / days;
        if !self.lead_time.is_empty() {
            s.lead_time_h_mean = hours(self.lead_time_sum_ms / self.lead_time.len() as f64);
            s.lead_time_h_p50 = hours(self.lead_time.value_at_quantile(0.5) as f64);
            s.lead_time_h_p95 = hours(self.lead_time.value_at_quantile(0.95) as f64);
        }
        if !self.review_wait.is_empty() {
            s.review_wait_h_mean = hours(self.review_wait_sum_ms / self.review_wait.len() as f64);
            s.review_wait_h_p50 = hours(self.review_wait.value_at_quantile(0.5) as f64);
            s.review_wait_h_p95 = hours(self.review_wait.value_at_quantile(0.95) as f64);
        }
        s.review_queue_len_mean = self.queue_area / end.max(1) as f64;
        if self.reviewer_capacity_ms > 0 {
            s.reviewer_utilisation = self.busy_ms as f64 / self.reviewer_capacity_ms as f64;
        }
        s.senior_review_h_per_week = hours(self.senior_busy_ms as f64) / weeks;
        s.good_deploys_per_day = self.good_deploys as f64 / days;
        s.tasks_done_per_day = self.tasks_done as f64 / days;
        s.tasks_abandoned = self.tasks_abandoned as f64;
        s.batch_size_p50 = quantile_counts(&self.batch_counts, 0.5);
        s.batch_size_p95 = quantile_counts(&self.batch_counts, 0.95);
        let mut backlog: Vec<f64> = self.backlog_samples.iter().map(|&b| b as f64).collect();
        backlog.sort_by(f64::total_cmp);
        s.backlog_p95 = quantile_sorted(&backlog, 0.95);
        let observed = s.changes_deployed + self.censored as f64;
        if observed > 0.0 {
            s.lead_time_censored_share = self.censored as f64 / observed;
        }
        let needed = self
            .review_tasks_queued
            .saturating_sub(self.review_tasks_dropped);
        if self.reviewer_capacity_ms > 0 && s.reviews_done > 0.0 {
            let per_review = self.busy_ms as f64 / s.reviews_done;
            s.review_load_ratio = needed as f64 * per_review / self.reviewer_capacity_ms as f64;
        }
        s.queue_unstable = f64::from(u8::from(still_growing(&self.waiting_samples)));
        s.breaker_open_h = hours(self.breaker_open_ms as f64);
        s.freeze_h = hours(self.freeze_ms as f64);
        s.kill_switch_h = hours(self.kill_ms as f64);
        for kind in BreakerKind::ALL {
            let counts = self.by_breaker[kind.index()];
            s.blocks_true += counts.true_blocks as f64;
            s.blocks_false += counts.false_blocks as f64;
            // Breakers with their own columns besides the totals.
            match kind {
                BreakerKind::BlastGuard => {
                    s.guard_blocks = (counts.all() - counts.escalated) as f64;
                    s.guard_escalations = counts.escalated as f64;
                }
                BreakerKind::RateLimit => s.rate_limited = counts.all() as f64,
                BreakerKind::KillSwitch | BreakerKind::ErrorBudget | BreakerKind::Agent => {}
            }
        }
        if s.changes_deployed > 0.0 {
            s.change_failure_rate = s.incidents / s.changes_deployed;
        }
        let incidents = &self.incidents;
        let sorted = |f: &dyn Fn(&IncidentRecord) -> f64| {
            let mut v: Vec<f64> = incidents.iter().map(f).collect();
            v.sort_by(f64::total_cmp);
            v
        };
        let hit = sorted(&|r| r.services_hit as f64);
        let impact = sorted(&|r| r.user_impact_min);
        let ttd = sorted(&|r| r.detected_at.saturating_since(r.started_at).as_mins_f64());
        let ttr = sorted(&|r| r.duration().as_hours_f64());
        if !incidents.is_empty() {
            s.services_hit_mean = hit.iter().sum::<f64>() / hit.len() as f64;
        }
        s.services_hit_p95 = quantile_sorted(&hit, 0.95);
        s.services_hit_max = hit.last().copied().unwrap_or(0.0);
        s.users_hit_max = incidents
            .iter()
            .map(|r| r.users_hit_peak)
            .fold(0.0, f64::max);
        s.user_impact_min_total = impact.iter().sum();
        s.user_impact_min_p50 = quantile_sorted(&impact, 0.5);
        s.user_impact_min_p95 = quantile_sorted(&impact, 0.95);
        s.user_impact_min_max = impact.last().copied().unwrap_or(0.0);
        s.outage_h_max = ttr.last().copied().unwrap_or(0.0);
        s.time_to_detect_min_p50 = quantile_sorted(&ttd, 0.5);
        s.time_to_restore_h_p50 = quantile_sorted(&ttr, 0.5);
        s.time_to_restore_h_p95 = quantile_sorted(&ttr, 0.95);
        let horizon_min = end as f64 / MS_PER_MINUTE as f64;
        s.availability = (1.0 - s.user_impact_min_total / horizon_min).max(0.0);
        if let Some(min) = self.invariants.min_deploys_per_day
            && s.deploys_per_day < min
        {
            let detail = format!("{:.2} deploys per day, minimum {min:.2}", s.deploys_per_day);
            self.violations.push(Violation {
                invariant: InvariantKind::MinDeploysPerDay,
                at: SimTime(end),
                change_id: None,
                detail,
            });
        }
        self.violations.sort_by_key(|v| v.at);
        self.s.invariant_violations = self.violations.len() as f64;
        for v in &self.violations {
            *self.s.violations_of(v.invariant) += 1.0;
        }
        RunOutput {
            summary: self.s,
            incidents: self.incidents,
            violations: self.violations,
            days: self.days,
            worst_hit,
            fingerprint,
            stop,
        }
    }
}

impl TraceSink for Collector {
    #[inline]
    fn record(&mut self, record: &TraceRecord) {
        self.observe(record.t, &record.event);
    }

    /// The collector has no use for trace-only events.
    fn enabled(&self) -> bool {
        false
    }
}
