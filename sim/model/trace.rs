//! Trace events: the domain-level story of a run, one record per thing that happened,
//! and the sink the World reports them to.
//!
//! The World reports every event, in order, to one `TraceSink` and to nothing else; it
//! neither owns nor calls the metrics. `metrics::run` wires a World to the metrics
//! collector (and, for `replay --trace`, to a tracer beside it). Because the collector sees
//! nothing but these events, replaying a written trace into a fresh collector reproduces
//! the run's `runs.csv` row exactly: the trace is a complete witness.

use serde::{Deserialize, Serialize};

use crate::model::breaker::{BreakerKind, BreakerState};
use crate::model::config::{ActionClass, AuthorKind, Severity};
use crate::model::policy::ReviewNeed;

/// Receives every trace record of a run, in order. Static dispatch: the World is generic
/// over its sink, and the record is borrowed, so reporting allocates nothing.
pub trait TraceSink {
    /// Called once per trace event, in order.
    fn record(&mut self, record: &TraceRecord);
    /// Whether events that exist only for the trace (`CascadeSpread`, whose size grows
    /// with the cascade) are wanted; the World skips building them if not.
    fn enabled(&self) -> bool {
        true
    }
}

/// A sink that keeps nothing: the default tracer, and free.
pub struct NoTrace;

impl TraceSink for NoTrace {
    #[inline(always)]
    fn record(&mut self, _record: &TraceRecord) {}
    fn enabled(&self) -> bool {
        false
    }
}

impl<F: FnMut(&TraceRecord)> TraceSink for F {
    fn record(&mut self, record: &TraceRecord) {
        self(record)
    }
}

/// One thing that happened in a run. Times are in the enclosing `TraceRecord`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TraceEvent {
    /// The run began; capacities the summary divides by.
    RunStarted {
        /// The horizon in ms.
        horizon_ms: u64,
        /// Working time of all reviewers over the horizon, ms.
        reviewer_capacity_ms: u64,
    },
    /// An author took on a task.
    TaskStarted {
        /// Task id.
        task: u64,
        /// Author group index.
        group: u32,
        /// Author index within the group.
        author: u32,
        /// Agent or human.
        kind: AuthorKind,
    },
    /// A change (one attempt at a task) was proposed, with its latent truth.
    Proposed {
        /// Change id.
        change: u64,
        /// Task id.
        task: u64,
        /// Attempt number, from 1.
        attempt: u32,
        /// Author group index.
        group: u32,
        /// Author index within the group.
        author: u32,
        /// Agent or human.
        kind: AuthorKind,
        /// Action class.
        class: ActionClass,
        /// Size in lines.
        size: u32,
        /// Target service id.
        target: u32,
        /// Latently defective.
        defective: bool,
        /// How bad, if defective.
        severity: Severity,
        /// Traffic-weighted reverse reach of the target (the truth the guard estimates).
        reach: f64,
        /// Tasks batched into this change (1 without batching).
        #[serde(default = "one")]
        tasks: u32,
    },
    /// Access control refused the action.
    Refused {
        /// Change id.
        change: u64,
        /// Agent or human.
        kind: AuthorKind,
    },
    /// The approval policy decided.
    Gated {
        /// Change id.
        change: u64,
        /// Index of the matching rule, if any.
        rule: Option<u32>,
        /// The review it needs.
        need: ReviewNeed,
        /// The predicted share of users it could hit, as the policy and guard saw it.
        predicted_users: f64,
    },
    /// A review task joined a queue.
    ReviewQueued {
        /// Change id.
        change: u64,
        /// Only a senior may take it.
        senior_only: bool,
        /// Review tasks waiting after this one joined.
        queue_len: u32,
    },
    /// A reviewer started a review.
    ReviewStarted {
        /// Change id.
        change: u64,
        /// Reviewer index.
        reviewer: u32,
        /// Whether the reviewer is senior.
        senior: bool,
        /// Time the task waited in the queue, ms.
        waited_ms: u64,
        /// The queue was over the rubber-stamp threshold.
        rushed: bool,
        /// Review tasks still waiting.
        queue_len: u32,
    },
    /// A queued review task was dropped unstarted (its change was decided elsewhere).
    ReviewDropped {
        /// Change id.
        change: u64,
        /// Review tasks still waiting.
        queue_len: u32,
    },
    /// A reviewer finished a review.
    ReviewFinished {
        /// Change id.
        change: u64,
        /// Reviewer index.
        reviewer: u32,
        /// Whether the reviewer is senior.
        senior: bool,
        /// Time spent, ms.
        busy_ms: u64,
        /// Approve (true) or reject (false).
        approved: bool,
    },
    /// The auto-approve timeout approved a change without (all) its reviews.
    AutoApproved {
        /// Change id.
        change: u64,
    },
    /// A change was rejected in review.
    Rejected {
        /// Change id.
        change: u64,
        /// Agent or human.
        kind: AuthorKind,
    },
    /// A breaker stopped a change: delayed until `retry_at_ms`, or dropped.
    Blocked {
        /// Change id.
        change: u64,
        /// Which breaker.
        breaker: BreakerKind,
        /// The truth: true block when defective, false block otherwise.
        defective: bool,
        /// Delayed until then; `None` means dropped (or sent to review).
        retry_at_ms: Option<u64>,
        /// Sent to senior review instead of dropped.
        escalated: bool,
    },
    /// A change that had been delayed by breakers passed them all.
    Released {
        /// Change id.
        change: u64,
        /// Total time it was held, ms.
        held_ms: u64,
        /// Whether it was defective.
        defective: bool,
    },
    /// An agent's next attempt uses a more drastic class.
    Escalated {
        /// Task id.
        task: u64,
        /// The class that failed.
        from: ActionClass,
        /// The class of the next attempt.
        to: ActionClass,
    },
    /// A task was given up after its last attempt (with the tasks batched into it).
    Abandoned {
        /// Task id.
        task: u64,
        /// Tasks lost with it (1 without batching).
        #[serde(default = "one")]
        tasks: u32,
    },
    /// A task was completed (with the tasks batched into it).
    TaskDone {
        /// Task id.
        task: u64,
        /// Tasks completed (1 without batching).
        #[serde(default = "one")]
        tasks: u32,
    },
    /// A task arrived at an author at the WIP limit and waits in the backlog.
    TaskQueued {
        /// Task id.
        task: u64,
        /// Global author index.
        author: u32,
        /// Tasks waiting in all backlogs after this one joined.
        backlog: u32,
    },
    /// A waiting task left the backlog as the first task of a new change.
    TaskResumed {
        /// Task id.
        task: u64,
        /// Tasks in the change (it and the ones batched into it).
        tasks: u32,
        /// Time it waited in the backlog, ms.
        waited_ms: u64,
        /// Tasks waiting in all backlogs afterwards.
        backlog: u32,
    },
    /// A waiting task was folded into another task's change (batching).
    TaskBatched {
        /// Task id.
        task: u64,
        /// The task whose change carries it.
        into: u64,
        /// Tasks waiting in all backlogs afterwards.
        backlog: u32,
    },
    /// A waiting task outlived its author's patience and was given up (lost work).
    TaskExpired {
        /// Task id.
        task: u64,
        /// Tasks waiting in all backlogs afterwards.
        backlog: u32,
    },
    /// A change still in flight at the horizon (in review, build, behind a breaker or
    /// rolling out): its age is a censored lead time, a lower bound.
    InFlight {
        /// Change id.
        change: u64,
        /// Task start to the horizon, ms.
        age_ms: u64,
    },
    /// A review task still waiting at the horizon: its wait so far is a censored review
    /// wait, a lower bound.
    ReviewCensored {
        /// Change id.
        change: u64,
        /// Queued to the horizon, ms.
        waited_ms: u64,
    },
    /// A change reached production everywhere it was going.
    Deployed {
        /// Change id.
        change: u64,
        /// Agent or human.
        kind: AuthorKind,
        /// Task start to full deployment, ms.
        lead_time_ms: u64,
        /// It started an incident (a defective change): not a good deploy.
        #[serde(default)]
        incident: bool,
    },
    /// A deployed change broke production.
    /// Emitted when the incident is detected (its share is final then); `started_ms` is
    /// when the fault began.
    IncidentStarted {
        /// Incident number in the run.
        incident: u32,
        /// When the fault began, ms.
        started_ms: u64,
        /// Change id.
        change: u64,
        /// Author group index.
        group: u32,
        /// Agent or human.
        kind: AuthorKind,
        /// Action class.
        class: ActionClass,
        /// Severity.
        severity: Severity,
        /// Target service id.
        origin: u32,
        /// Share of the origin's traffic running the change.
        share: f64,
        /// Services down.
        services_hit: u32,
        /// Peak share of users hit.
        users_hit_peak: f64,
    },
    /// The services a fault took down, in the order they failed. Emitted only to an
    /// enabled tracer (it is the one event whose size grows with the cascade); metrics do
    /// not use it.
    CascadeSpread {
        /// Incident number.
        incident: u32,
        /// Each hit: service id, the failed service that took it down, hops from the
        /// origin, and how ("origin", "hard", "soft" or "overload").
        hits: Vec<CascadeHit>,
    },
    /// Monitoring noticed an incident.
    IncidentDetected {
        /// Incident number.
        incident: u32,
    },
    /// Recovery of an incident began (a responder, or an automatic rollback).
    RecoveryStarted {
        /// Incident number.
        incident: u32,
        /// Rebuild rather than rollback.
        rebuild: bool,
    },
    /// The last affected service of an incident is back.
    IncidentRestored {
        /// Incident number.
        incident: u32,
        /// User-impact minutes.
        user_impact_min: f64,
    },
    /// A per-agent breaker changed state.
    AgentBreaker {
        /// Agent index (global across agent groups).
        agent: u32,
        /// The new state.
        state: BreakerState,
        /// For `Open`: when the open period ends, ms.
        open_until_ms: Option<u64>,
    },
    /// The error-budget freeze began (true) or ended (false).
    Freeze {
        /// Frozen now.
        on: bool,
    },
    /// The kill switch halted (true) or released (false) agents.
    KillSwitch {
        /// Halted now.
        on: bool,
    },
    /// An injected fault became active (true) or ended (false).
    Fault {
        /// Index of the fault in the scenario.
        fault: u32,
        /// Active now.
        on: bool,
    },
    /// The run ended.
    RunEnded {
        /// Events dispatched by the engine.
        events: u64,
    },
}

/// The serde default of task counts in traces written before batching existed.
fn one() -> u32 {
    1
}

/// One service taken down by a cascade, as traced.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CascadeHit {
    /// The service id.
    pub service: u32,
    /// The failed service that took it down (the origin names itself).
    pub parent: u32,
    /// Hops from the origin.
    pub depth: u32,
    /// Why it went down.
    pub cause: crate::model::cascade::HitCause,
}

/// A trace event with its simulated time.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TraceRecord {
    /// Simulated time, ms.
    pub t: u64,
    /// What happened.
    #[serde(flatten)]
    pub event: TraceEvent,
}
