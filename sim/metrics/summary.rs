//! `RunSummary`: the per-run metrics, one row of `runs.csv`.
//!
//! The column list is defined once, here, by the `metrics!` table: name (units last), and
//! what it means. `METRICS` is read by the `runs.csv` and `summary.csv` writers and
//! readers (report::tables), the chart labels (report::charts), objective and constraint
//! resolution (experiment::frontier), the scenario validator's metric-name check and the
//! CLI's summary table, so a metric is named one way everywhere. (The README's column
//! overview is prose written from it, not generated.)

use crate::model::config::InvariantKind;

macro_rules! metrics {
    ($( $field:ident : $doc:literal ),* $(,)?) => {
        /// The metrics of one run. Every field is an `f64` (counts are whole numbers).
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct RunSummary {
            $( #[doc = $doc] pub $field: f64, )*
        }

        /// Names and meanings of every metric, in column order.
        pub const METRICS: &[MetricDef] = &[
            $( MetricDef { name: stringify!($field), doc: $doc }, )*
        ];

        impl RunSummary {
            /// The values in `METRICS` order.
            pub fn values(&self) -> Vec<f64> {
                vec![$( self.$field, )*]
            }

            /// The value of the metric called `name`.
            pub fn get(&self, name: &str) -> Option<f64> {
                match name {
                    $( stringify!($field) => Some(self.$field), )*
                    _ => None,
                }
            }
        }
    };
}

/// The metric that counts the violations of invariant `kind` in a run (the report's
/// per-invariant warning reads it).
pub fn violation_metric(kind: InvariantKind) -> &'static str {
    match kind {
        InvariantKind::MaxUsersHitByOneChange => "violations_max_users_hit_by_one_change",
        InvariantKind::MaxOutage => "violations_max_outage",
        InvariantKind::MaxUserImpactMinutes => "violations_max_user_impact_minutes",
        InvariantKind::MinDeploysPerDay => "violations_min_deploys_per_day",
    }
}

impl RunSummary {
    /// A mutable reference to the violation count of invariant `kind`.
    pub fn violations_of(&mut self, kind: InvariantKind) -> &mut f64 {
        match kind {
            InvariantKind::MaxUsersHitByOneChange => {
                &mut self.violations_max_users_hit_by_one_change
            }
            InvariantKind::MaxOutage => &mut self.violations_max_outage,
            InvariantKind::MaxUserImpactMinutes => &mut self.violations_max_user_impact_minutes,
            InvariantKind::MinDeploysPerDay => &mut self.violations_min_deploys_per_day,
        }
    }
}

/// A metric's column name and meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MetricDef {
    /// Column name, units last.
    pub name: &'static str,
    /// One sentence: what it measures.
    pub doc: &'static str,
}

metrics! {
    // Velocity.
    tasks_started: "tasks authors started",
    changes_proposed: "changes proposed (every attempt of every task)",
    changes_deployed: "changes that reached production",
    deploys_per_day: "changes deployed per simulated day, all authors (DORA deployment frequency)",
    deploys_per_day_agent: "changes deployed per day by agents",
    deploys_per_day_human: "changes deployed per day by humans",
    proposed_per_day_agent: "changes proposed per day by agents",
    proposed_per_day_human: "changes proposed per day by humans",
    rejected_per_day_agent: "agent changes rejected in review per day",
    rejected_per_day_human: "human changes rejected in review per day",
    refused_per_day_agent: "agent actions refused by access control per day",
    refused_per_day_human: "human actions refused by access control per day",
    changes_rejected: "changes rejected in review",
    changes_refused: "changes refused by access control",
    changes_abandoned: "tasks given up after their last attempt",
    escalations: "agent retries with a more drastic action class",
    lead_time_h_mean: "hours from task start to full deployment, mean (changes in flight at the horizon enter at their age)",
    lead_time_h_p50: "hours from task start to full deployment, median (DORA lead time; in-flight changes censored at their age)",
    lead_time_h_p95: "hours from task start to full deployment, 95th percentile (in-flight changes censored at their age)",
    review_wait_h_p50: "hours a change waited for its review to start, median (tasks still waiting at the horizon censored at their wait)",
    review_wait_h_p95: "hours a change waited for its review to start, 95th percentile (censored as the median)",
    review_wait_h_mean: "hours a change waited for its review to start, mean (censored as the median)",
    reviews_done: "reviews completed",
    reviews_rushed: "reviews done while the queue was over the rubber-stamp threshold",
    review_queue_len_mean: "changes waiting for review, time-average",
    review_queue_len_max: "changes waiting for review, high-water mark",
    auto_approved: "reviews skipped by the auto-approve timeout",
    reviewer_utilisation: "share of reviewer working time spent reviewing (reviews pause outside working hours, so at most 1)",
    senior_review_h_per_week: "senior reviewer hours spent reviewing per week",
    good_deploys_per_day: "changes deployed per day that caused no incident (velocity net of defective deploys)",
    tasks_done_per_day: "tasks per day whose change shipped and worked (batched tasks each count)",
    tasks_abandoned: "tasks given up: after their last attempt, or after outwaiting the author's patience in the backlog (lost work)",
    batch_size_p50: "tasks per proposed change, median",
    batch_size_p95: "tasks per proposed change, 95th percentile",
    backlog_p95: "tasks waiting in author backlogs (at the WIP limit), 95th percentile of hourly samples",
    lead_time_censored_share: "share of lead-time observations that are changes still in flight at the horizon (their age enters the lead-time statistics as a lower bound)",
    review_load_ratio: "review work demanded (review tasks needed x mean working time per review) / reviewer working time available",
    queue_unstable: "1 when the work waiting (review queue plus backlogs, hourly) still grows over the last third of the run (whole weeks, halves compared): growth above a quarter of its mean plus 2 and over two standard errors of the daily means",
    // Breakers.
    blocks_true: "breaker blocks of defective changes (safety bought)",
    blocks_false: "breaker blocks of good changes (velocity lost)",
    block_delay_h_total: "hours good changes spent delayed by breakers",
    guard_blocks: "actions blocked by the blast-radius guard",
    guard_escalations: "actions the blast-radius guard sent to senior review",
    rate_limited: "actions delayed by the rate limiter",
    breaker_trips: "times a per-agent breaker opened",
    breaker_open_h: "agent-hours spent with the breaker open",
    freezes: "times the error-budget freeze started",
    freeze_h: "hours under error-budget freeze",
    kill_switch_h: "hours agents were halted by the kill switch",
    // Blast radius.
    incidents: "incidents caused by deployed changes",
    incidents_agent: "incidents caused by agent changes",
    environment_deletions: "incidents that deleted an environment (rebuilt, not rolled back: the 13-hour kind)",
    change_failure_rate: "share of deployed changes that caused an incident (DORA)",
    services_hit_mean: "services down per incident, mean",
    services_hit_p95: "services down per incident, 95th percentile",
    services_hit_max: "services down in the worst incident",
    users_hit_max: "largest peak share of users affected by one incident",
    user_impact_min_total: "user-impact minutes: sum over incidents of traffic share x minutes down",
    user_impact_min_p50: "user-impact minutes per incident, median",
    user_impact_min_p95: "user-impact minutes per incident, 95th percentile",
    user_impact_min_max: "user-impact minutes of the worst incident",
    outage_h_max: "hours from fault to full recovery, longest incident",
    time_to_detect_min_p50: "minutes from fault to detection, median",
    time_to_restore_h_p50: "hours from fault to full recovery, median (DORA recovery time)",
    time_to_restore_h_p95: "hours from fault to full recovery, 95th percentile",
    availability: "user-weighted availability over the run",
    // Chaos.
    invariant_violations: "invariant violations recorded in the run",
    violations_max_users_hit_by_one_change: "incidents whose peak share of users hit was over `max_users_hit_by_one_change`",
    violations_max_outage: "incidents that lasted longer than `max_outage`",
    violations_max_user_impact_minutes: "incidents that took the user impact of the window before them over `max_user_impact_minutes`",
    violations_min_deploys_per_day: "1 when the run's deploys per day fell below `min_deploys_per_day`",
    // Engine.
    events: "events dispatched",
}
