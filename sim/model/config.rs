//! The validated configuration of one simulated organisation: the model's only input.
//!
//! These types are trusted: `scenario` builds them from a file and checks every range
//! (probabilities in [0, 1], mixes summing to 1, names resolved to indices), so the model
//! asserts rather than re-validates. Only the kinds that trace records name
//! (`ActionClass`, `AuthorKind`, `Severity`) derive serde, for the trace; the rest of the
//! configuration never crosses a file (the scenario's raw types do). There is deliberately
//! no `Default`: defaults live in the shipped scenario files, where users can see them.
//!
//! Every closed vocabulary a scenario names (action classes, author kinds, requirements,
//! fault kinds, ...) is an enum here with `ALL`, `name()` and the `Kind` parser, so lists,
//! suggestions and the JSON schema derive from one definition.

use std::sync::Arc;

use crate::engine::{SimDuration, SimTime};
use crate::model::dist::{DurationDist, SizeDist};
use crate::model::graph::ServiceGraph;

/// A closed vocabulary named in scenario files: its values, their names and the parser.
///
/// Implemented through `kind_names!` (or by hand for enums that also derive serde), so the
/// name of every value is written once, in an exhaustive match.
pub trait Kind: Copy + Eq + 'static {
    /// What one value is called in messages, e.g. "fault kind".
    const WHAT: &'static str;

    /// Every value, in the order lists show them.
    fn all() -> &'static [Self];

    /// The name used in scenario files.
    fn name(self) -> &'static str;

    /// Every name, in `all` order (for suggestions, messages and the schema).
    fn names() -> Vec<&'static str> {
        Self::all().iter().map(|k| k.name()).collect()
    }

    /// The value called `name`; otherwise the valid names, for the suggestion.
    fn parse(name: &str) -> Result<Self, UnknownName> {
        Self::all()
            .iter()
            .copied()
            .find(|k| k.name() == name)
            .ok_or_else(|| UnknownName {
                what: Self::WHAT,
                name: name.to_string(),
                valid: Self::names(),
            })
    }
}

/// A name that is not one of a kind's values.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownName {
    /// What was being named ("fault kind").
    pub what: &'static str,
    /// The name as written.
    pub name: String,
    /// The valid names, in `Kind::all` order.
    pub valid: Vec<&'static str>,
}

impl std::fmt::Display for UnknownName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown {} `{}`; expected one of {}",
            self.what,
            self.name,
            self.valid.join(", ")
        )
    }
}

impl std::error::Error for UnknownName {}

/// `ALL`, `name()` (an exhaustive match) and `Kind` for an enum of unit variants.
#[macro_export]
macro_rules! kind_names {
    ($t:ident, $what:literal, { $($v:ident => $n:literal),+ $(,)? }) => {
        impl $t {
            /// Every value, in the order lists show them.
            pub const ALL: [$t; [$($n),+].len()] = [$($t::$v),+];

            /// The name used in scenario files.
            pub fn name(self) -> &'static str {
                match self {
                    $($t::$v => $n),+
                }
            }
        }

        impl $crate::model::config::Kind for $t {
            const WHAT: &'static str = $what;
            fn all() -> &'static [Self] {
                &$t::ALL
            }
            fn name(self) -> &'static str {
                $t::name(self)
            }
        }

        /// Shows the scenario name, so messages and tables spell a kind one way.
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }
    };
}

/// What an action does, from harmless to drastic. The order is the escalation ladder.
// Serialize only so trace records can name it; the config itself never crosses a file.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum ActionClass {
    /// Reads state; cannot break anything.
    ReadOnly = 0,
    /// An application code change.
    Code = 1,
    /// A configuration or feature-flag change.
    Config = 2,
    /// An infrastructure change (capacity, networking, IAM).
    Infra = 3,
    /// Deletes or recreates resources (the 13-hour case).
    Destructive = 4,
}

impl ActionClass {
    /// Every class, in escalation order.
    pub const ALL: [ActionClass; 5] = [
        ActionClass::ReadOnly,
        ActionClass::Code,
        ActionClass::Config,
        ActionClass::Infra,
        ActionClass::Destructive,
    ];

    /// The name used in scenario files and CSV columns.
    pub fn name(self) -> &'static str {
        match self {
            ActionClass::ReadOnly => "read_only",
            ActionClass::Code => "code",
            ActionClass::Config => "config",
            ActionClass::Infra => "infra",
            ActionClass::Destructive => "destructive",
        }
    }

    /// The class with this scenario name.
    pub fn from_name(name: &str) -> Option<ActionClass> {
        <ActionClass as Kind>::parse(name).ok()
    }

    /// The next more drastic class, if any (used by agent escalation).
    pub fn escalated(self) -> Option<ActionClass> {
        ActionClass::ALL.get(self as usize + 1).copied()
    }

    /// Index into a `ClassTable`.
    pub fn index(self) -> usize {
        self as usize
    }
}

impl Kind for ActionClass {
    const WHAT: &'static str = "action class";
    fn all() -> &'static [Self] {
        &ActionClass::ALL
    }
    fn name(self) -> &'static str {
        ActionClass::name(self)
    }
}

/// One value per action class, indexed by `ActionClass`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ClassTable<T>(pub [T; 5]);

impl<T: Copy> ClassTable<T> {
    /// The value for `class`.
    pub fn get(&self, class: ActionClass) -> T {
        self.0[class.index()]
    }
}

/// A set of action classes, as a bit mask.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct ClassSet(pub u8);

impl ClassSet {
    /// No class.
    pub const EMPTY: ClassSet = ClassSet(0);
    /// Every class.
    pub const ALL: ClassSet = ClassSet(0b1_1111);

    /// Whether `class` is in the set.
    pub fn contains(self, class: ActionClass) -> bool {
        self.0 & (1 << class.index()) != 0
    }

    /// The set with `class` added.
    pub fn with(self, class: ActionClass) -> ClassSet {
        ClassSet(self.0 | (1 << class.index()))
    }
}

/// Who wrote a change.
// Serialize only so trace records can name it; the config itself never crosses a file.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AuthorKind {
    /// An autonomous coding agent.
    Agent,
    /// A human engineer.
    Human,
}

kind_names!(AuthorKind, "author kind", { Agent => "agent", Human => "human" });

/// How bad a defective change is, drawn at proposal.
// Serialize only so trace records can name it; the config itself never crosses a file.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Breaks only the target service.
    Local,
    /// Breaks the target and spreads along dependency edges.
    Cascading,
    /// Deletes the target's environment: it spreads like a cascade and is rebuilt, not
    /// rolled back.
    EnvironmentDeletion,
}

kind_names!(Severity, "severity", {
    Local => "local",
    Cascading => "cascading",
    EnvironmentDeletion => "environment_deletion",
});

/// Given a defect, the probability of each severity; the three sum to 1.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SeverityMix {
    /// P(local fault).
    pub local: f64,
    /// P(cascading fault).
    pub cascading: f64,
    /// P(environment deletion).
    pub environment_deletion: f64,
}

/// A weekly calendar of working hours in a time zone. Time zero is Monday 00:00 UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkingHours {
    /// Start of the working day, minutes after local midnight.
    pub start_min: u32,
    /// End of the working day, minutes after local midnight (after `start_min`).
    pub end_min: u32,
    /// Working days as a bit mask, Monday = bit 0 … Sunday = bit 6.
    pub days: u8,
    /// Offset of local time from UTC, in minutes (UTC+5:30 = 330).
    pub utc_offset_min: i32,
}

/// Agent escalation: after repeated failures, retry with a more drastic action class.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Escalation {
    /// Failures on the same task before escalation is considered.
    pub after_failures: u32,
    /// Probability of escalating one class on each later failure.
    pub probability: f64,
}

/// What an author does after a change is rejected in review.
#[derive(Clone, Debug, PartialEq)]
pub struct Rework {
    /// Probability the task is retried at all (otherwise it is abandoned).
    pub probability: f64,
    /// Time spent reworking before the next attempt is proposed.
    pub delay: DurationDist,
}

/// A group of change authors with the same behaviour.
#[derive(Clone, Debug, PartialEq)]
pub struct AuthorGroup {
    /// Name, unique among groups.
    pub name: String,
    /// Agent or human.
    pub kind: AuthorKind,
    /// Number of authors.
    pub count: u32,
    /// New tasks per author per day (Poisson); for humans with hours, per working day.
    pub tasks_per_day: f64,
    /// When set, tasks only arrive during these hours.
    pub hours: Option<WorkingHours>,
    /// P(first attempt of a task is of each class); sums to 1.
    pub mix: ClassTable<f64>,
    /// P(a change of each class is latently defective).
    pub defect_probability: ClassTable<f64>,
    /// Given a defect of each class, how bad it is.
    pub severity: ClassTable<SeverityMix>,
    /// Size of a change in lines of code.
    pub size: SizeDist,
    /// Classes access control lets this group execute (a misconfiguration grants more).
    pub permissions: ClassSet,
    /// P(a deployed, non-defective change actually completes its task).
    pub task_success: f64,
    /// Most attempts at one task before it is abandoned.
    pub max_attempts: u32,
    /// Agent escalation, if this group escalates.
    pub escalation: Option<Escalation>,
    /// Behaviour after rejection.
    pub rework: Rework,
    /// Closed-loop flow control (WIP limit, backlog, batching, patience); `Flow::OPEN`
    /// is the open-loop Poisson source the queueing-theory checks use.
    pub flow: Flow,
}

/// How an author's work in flight is limited: the closed loop.
///
/// A task counts against the WIP limit from its first proposal until it is done or given
/// up (in review, in rework, in the pipeline). Tasks that arrive at the limit wait in the
/// author's backlog (FIFO); an author who frees a slot takes the oldest and, with
/// batching, folds up to `batch_max − 1` more into the same change.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Flow {
    /// Most tasks in flight per author; `None` is the open loop (no limit, no backlog).
    pub wip_limit: Option<u32>,
    /// Most tasks waiting in one author's backlog; a task arriving at a full backlog is
    /// not taken on (0 makes the author stop taking work at the limit: with exponential
    /// gaps that is the finite-source, machine-repair queue).
    pub backlog_max: u32,
    /// Most tasks folded into one change (1 = no batching).
    pub batch_max: u32,
    /// A task waiting in the backlog longer than this is abandoned (lost work).
    pub patience: Option<SimDuration>,
    /// Exponent `e` of the batch defect curve: a change of `k` tasks, each defective with
    /// probability `p`, is defective with probability `1 − (1 − p)^(k^e)` (`e = 1`:
    /// independent tasks; `e > 1`: interactions between the folded tasks).
    pub defect_exponent: f64,
    /// Rework after a long wait costs more (context switch).
    pub context_switch: Option<ContextSwitch>,
}

impl Flow {
    /// The open loop: no WIP limit, no backlog, no batching.
    pub const OPEN: Flow = Flow {
        wip_limit: None,
        backlog_max: 0,
        batch_max: 1,
        patience: None,
        defect_exponent: 1.0,
        context_switch: None,
    };

    /// The defect probability of a change folding `tasks` tasks of probability `p` each.
    pub fn batch_defect(&self, p: f64, tasks: u32) -> f64 {
        if tasks <= 1 {
            return p;
        }
        let k = (tasks as f64).powf(self.defect_exponent);
        1.0 - (1.0 - p.min(1.0)).powf(k)
    }
}

/// A rejected change that waited longer than `after` since its proposal costs `factor`
/// times the rework delay (the author has to reload the context).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ContextSwitch {
    /// Wait above which the context is lost.
    pub after: SimDuration,
    /// Multiplier on the rework delay.
    pub factor: f64,
}

/// Reviewer seniority.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Seniority {
    /// May do peer reviews.
    Junior,
    /// May do peer and senior reviews.
    Senior,
}

kind_names!(Seniority, "seniority", { Junior => "junior", Senior => "senior" });

/// A group of reviewers with the same behaviour.
#[derive(Clone, Debug, PartialEq)]
pub struct ReviewerGroup {
    /// Name, unique among groups.
    pub name: String,
    /// Seniority of everyone in the group.
    pub seniority: Seniority,
    /// Number of reviewers.
    pub count: u32,
    /// Time one review takes.
    pub review_time: DurationDist,
    /// P(a careful review detects a defect), per action class.
    pub detection: ClassTable<f64>,
    /// Working hours; `None` means around the clock.
    pub hours: Option<WorkingHours>,
    /// The author group (index into `WorldConfig::authors`) these reviewers belong to:
    /// reviewer i is author i of that group, who takes on no new task while reviewing.
    pub from_authors: Option<usize>,
}

/// The order in which waiting review tasks are served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueDiscipline {
    /// First come, first served.
    Fifo,
    /// Human changes before agent changes (FIFO within each).
    AuthorKind,
    /// The most drastic action class first (FIFO within each class).
    RiskClass,
}

kind_names!(QueueDiscipline, "queue discipline", {
    Fifo => "fifo",
    AuthorKind => "author_kind",
    RiskClass => "risk_class",
});

impl QueueDiscipline {
    /// Priority levels a queue keeps (0 is served first).
    pub const LEVELS: usize = ActionClass::ALL.len();

    /// The priority level of a change by `kind` of `class` (0 is served first).
    pub fn level(self, kind: AuthorKind, class: ActionClass) -> u8 {
        match self {
            QueueDiscipline::Fifo => 0,
            QueueDiscipline::AuthorKind => match kind {
                AuthorKind::Human => 0,
                AuthorKind::Agent => 1,
            },
            QueueDiscipline::RiskClass => (ActionClass::ALL.len() - 1 - class.index()) as u8,
        }
    }
}

/// How review quality falls with load: above `queue_above` waiting changes, detection is
/// multiplied by `detection_factor` (rubber-stamping). No published curve exists
/// (docs/calibration.md §2.3), so this is a swept assumption.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LoadEffect {
    /// Queue length above which reviews are rushed.
    pub queue_above: u32,
    /// Multiplier on detection for a rushed review.
    pub detection_factor: f64,
}

/// How review quality falls with change size (SmartBear: > 400 LOC degrades detection).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SizeEffect {
    /// Size above which detection degrades.
    pub above_loc: u32,
    /// Multiplier on detection for a larger change.
    pub detection_factor: f64,
}

/// The reviewer pool.
#[derive(Clone, Debug, PartialEq)]
pub struct ReviewerConfig {
    /// Reviewer groups, in file order.
    pub groups: Vec<ReviewerGroup>,
    /// Load effect (rubber-stamping).
    pub load: LoadEffect,
    /// Size effect.
    pub size: SizeEffect,
    /// P(a good change is rejected anyway).
    pub false_rejection: f64,
    /// Review reading speed: a review takes its drawn time plus `size / lines_per_hour`
    /// (`None`: review time does not depend on size).
    pub lines_per_hour: Option<f64>,
    /// Order of service of waiting review tasks.
    pub discipline: QueueDiscipline,
}

/// What an approval rule demands before a change may execute.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Requirement {
    /// No review.
    None,
    /// One review by anyone.
    Peer,
    /// One review by a senior reviewer.
    Senior,
    /// Two reviews by two distinct reviewers.
    TwoPerson,
    /// A peer review with probability p, otherwise none.
    Sample(f64),
}

/// The requirements a rule names (`require = "peer"`); `Sample` is written as a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RequirementName {
    /// `Requirement::None`.
    None,
    /// `Requirement::Peer`.
    Peer,
    /// `Requirement::Senior`.
    Senior,
    /// `Requirement::TwoPerson`.
    TwoPerson,
}

kind_names!(RequirementName, "requirement", {
    None => "none",
    Peer => "peer",
    Senior => "senior",
    TwoPerson => "two_person",
});

impl RequirementName {
    /// The requirement it names.
    pub fn requirement(self) -> Requirement {
        match self {
            RequirementName::None => Requirement::None,
            RequirementName::Peer => Requirement::Peer,
            RequirementName::Senior => Requirement::Senior,
            RequirementName::TwoPerson => Requirement::TwoPerson,
        }
    }
}

/// When a rule applies; every field that is set must match.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Condition {
    /// Author kind.
    pub author: Option<AuthorKind>,
    /// Author groups, by index into `WorldConfig::authors`.
    pub groups: Option<Vec<usize>>,
    /// Action classes.
    pub classes: Option<ClassSet>,
    /// Criticality tiers of the target service.
    pub tiers: Option<Vec<u8>>,
    /// Predicted share of users above this.
    pub predicted_users_above: Option<f64>,
    /// Change size above this many lines.
    pub size_above: Option<u32>,
}

/// One ordered rule of an approval policy.
#[derive(Clone, Debug, PartialEq)]
pub struct Rule {
    /// When it applies.
    pub when: Condition,
    /// What it requires.
    pub require: Requirement,
}

/// An approval policy: ordered rules, first match wins; no match means no review.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Name, used as the arm name when the arm does not give one.
    pub name: String,
    /// Rules in order.
    pub rules: Vec<Rule>,
    /// A review still pending after this long is approved anyway (velocity pressure).
    pub auto_approve_after: Option<SimDuration>,
}

/// The sliding window of a per-agent breaker.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum BreakerWindow {
    /// The last `n` actions.
    Count(u32),
    /// The actions of the last span of time.
    Time(SimDuration),
}

/// Which outcomes count as a failure for the per-agent breaker.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FailureKinds {
    /// Rejected in review.
    pub rejected: bool,
    /// Refused by access control.
    pub refused: bool,
    /// Caused an incident.
    pub incident: bool,
    /// Flagged risky by a classifier: (true-positive rate, false-positive rate).
    pub classifier: Option<(f64, f64)>,
}

/// A per-agent circuit breaker with resilience4j semantics.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AgentBreakerConfig {
    /// The sliding window.
    pub window: BreakerWindow,
    /// Actions in the window before the breaker may trip.
    pub min_actions: u32,
    /// Trip when the failure rate in the window is at least this.
    pub failure_rate: f64,
    /// Time in the open state before half-open.
    pub open_for: SimDuration,
    /// Trial actions allowed while half-open.
    pub half_open_trials: u32,
    /// What counts as a failure.
    pub failures: FailureKinds,
}

/// What the blast-radius guard does with an action predicted to be too big.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuardAction {
    /// Refuse the action.
    Block,
    /// Send it to a senior reviewer first.
    Escalate,
}

kind_names!(GuardAction, "guard action", { Block => "block", Escalate => "escalate" });

/// The blast-radius guard.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BlastGuardConfig {
    /// Largest predicted share of users an action may touch unchecked.
    pub max_predicted_users: f64,
    /// σ of the multiplicative lognormal noise on the prediction (0 = exact).
    pub estimate_noise: f64,
    /// Block or escalate.
    pub action: GuardAction,
    /// Whether human changes are guarded too (agents always are).
    pub humans_too: bool,
    /// The action classes it checks: a platform guards the drastic ones (infra,
    /// destructive), not every code change.
    pub classes: ClassSet,
}

/// A token-bucket rate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TokenRate {
    /// Tokens added per `per`.
    pub tokens: u32,
    /// Refill period.
    pub per: SimDuration,
    /// Bucket capacity.
    pub burst: u32,
}

/// Token-bucket rate limits on agent actions.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RateLimitConfig {
    /// Per agent.
    pub per_agent: Option<TokenRate>,
    /// Per target service.
    pub per_service: Option<TokenRate>,
}

/// One burn-rate window pair (Google SRE multiwindow alerting).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct BurnWindow {
    /// Long window.
    pub long: SimDuration,
    /// Short window (the burn must hold in both); `None` for single-window.
    pub short: Option<SimDuration>,
    /// Freeze when the burn rate is at least this.
    pub burn_rate: f64,
}

/// The error-budget freeze.
#[derive(Clone, Debug, PartialEq)]
pub struct ErrorBudgetConfig {
    /// The availability objective, e.g. 0.999.
    pub slo: f64,
    /// Any window pair that fires freezes changes.
    pub windows: Vec<BurnWindow>,
    /// Whether human changes are frozen too (agent changes always are).
    pub humans_too: bool,
}

/// When the kill switch halts agents.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum KillTrigger {
    /// While any agent-caused incident is open.
    WhileIncidentOpen,
    /// After `count` agent-caused incidents within `window`, for `halt_for`.
    AfterIncidents {
        /// Incidents that trip it.
        count: u32,
        /// The window they must fall in.
        window: SimDuration,
        /// How long agents are halted.
        halt_for: SimDuration,
    },
}

/// How a kill switch is triggered, as `on = ...` names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KillOn {
    /// `KillTrigger::WhileIncidentOpen`.
    Incident,
    /// `KillTrigger::AfterIncidents`.
    Incidents,
}

kind_names!(KillOn, "kill-switch trigger", { Incident => "incident", Incidents => "incidents" });

/// Whom the kill switch halts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KillScope {
    /// Every agent.
    AllAgents,
    /// Only the agent whose change caused the incident.
    Offender,
}

kind_names!(KillScope, "kill-switch scope", { AllAgents => "agents", Offender => "offender" });

/// The incident kill switch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct KillSwitchConfig {
    /// When it fires.
    pub trigger: KillTrigger,
    /// Whom it halts.
    pub scope: KillScope,
}

/// Automated breakers at execution time; each is off when `None`.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct BreakerConfig {
    /// Per-agent circuit breaker.
    pub agent: Option<AgentBreakerConfig>,
    /// Blast-radius guard.
    pub blast_guard: Option<BlastGuardConfig>,
    /// Rate limiter.
    pub rate_limit: Option<RateLimitConfig>,
    /// Error-budget freeze.
    pub error_budget: Option<ErrorBudgetConfig>,
    /// Kill switch.
    pub kill_switch: Option<KillSwitchConfig>,
}

/// One deployment wave.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Wave {
    /// Cumulative share of the target's traffic running the change after this wave.
    pub share: f64,
    /// Bake time after the wave before the next one starts.
    pub bake: SimDuration,
}

/// How an approved change reaches production.
#[derive(Clone, Debug, PartialEq)]
pub enum DeployConfig {
    /// Everywhere at once.
    Direct,
    /// Staged waves; a fault detected during a bake is rolled back automatically.
    /// Destructive actions are never staged: deleting an environment is not gradual.
    Waves(Vec<Wave>),
}

/// The delivery pipeline between approval and production: build/test after approval,
/// then the deploy itself, so lead time has a floor even without review.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Pipeline {
    /// Build and test time after approval (`None`: instant).
    pub build: Option<DurationDist>,
    /// Time from passing the breakers to the start of the rollout (`None`: instant).
    pub deploy: Option<DurationDist>,
}

/// Incident detection, recovery and response.
#[derive(Clone, Debug, PartialEq)]
pub struct IncidentConfig {
    /// Time from fault to detection.
    pub detection: DurationDist,
    /// Time to roll back once a responder starts.
    pub rollback: DurationDist,
    /// Time to rebuild a deleted environment once a responder starts.
    pub rebuild: DurationDist,
    /// Time for each dependency level to come back after the level below it.
    pub restart_step: SimDuration,
    /// On-call responders; an incident waits when all are busy.
    pub responders: u32,
}

/// The dependency graph and how faults travel through it.
#[derive(Clone, Debug)]
pub struct InfraConfig {
    /// The service graph, shared between runs.
    pub graph: Arc<ServiceGraph>,
    /// P(a fault crosses a soft edge), T in percolation terms.
    pub soft_propagation: f64,
    /// Motter–Lai tolerance α for the optional overload mode.
    pub overload_alpha: Option<f64>,
}

/// A fault injected by the chaos harness, active in `[at, at + duration)`.
#[derive(Clone, Debug, PartialEq)]
pub struct Fault {
    /// What happens.
    pub kind: FaultKind,
    /// When it starts.
    pub at: SimTime,
    /// How long it lasts.
    pub duration: SimDuration,
}

/// The kinds of injected fault.
#[derive(Clone, Debug, PartialEq)]
pub enum FaultKind {
    /// A share of a reviewer group (all groups when `None`) is away.
    ReviewerOutage {
        /// Reviewer group index, or all.
        group: Option<usize>,
        /// Share of the group away.
        fraction: f64,
    },
    /// Agents of a group (all agent groups when `None`) are granted a class.
    PermissionMisconfiguration {
        /// Author group index, or all agent groups.
        group: Option<usize>,
        /// The class granted.
        class: ActionClass,
    },
    /// Agents misbehave: defect and escalation probabilities are multiplied.
    RogueAgentBurst {
        /// Author group index, or all agent groups.
        group: Option<usize>,
        /// Multiplier on defect probability (result capped at 1).
        defect_multiplier: f64,
        /// Multiplier on escalation probability (result capped at 1).
        escalation_multiplier: f64,
    },
    /// Detection on a share of services is slower.
    MonitoringBlindSpot {
        /// Share of services affected (the lowest ids first, a fixed choice).
        service_share: f64,
        /// Multiplier on detection delay.
        detection_multiplier: f64,
    },
    /// Soft dependency edges behave as hard ones.
    DependencyDegradation,
    /// A share of responders is unavailable.
    ResponderShortage {
        /// Share of responders away.
        fraction: f64,
    },
}

/// The kinds of injected fault, by name (`FaultKind` carries each one's parameters).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FaultType {
    /// `FaultKind::ReviewerOutage`.
    ReviewerOutage,
    /// `FaultKind::PermissionMisconfiguration`.
    PermissionMisconfiguration,
    /// `FaultKind::RogueAgentBurst`.
    RogueAgentBurst,
    /// `FaultKind::MonitoringBlindSpot`.
    MonitoringBlindSpot,
    /// `FaultKind::DependencyDegradation`.
    DependencyDegradation,
    /// `FaultKind::ResponderShortage`.
    ResponderShortage,
}

kind_names!(FaultType, "fault kind", {
    ReviewerOutage => "reviewer_outage",
    PermissionMisconfiguration => "permission_misconfiguration",
    RogueAgentBurst => "rogue_agent_burst",
    MonitoringBlindSpot => "monitoring_blind_spot",
    DependencyDegradation => "dependency_degradation",
    ResponderShortage => "responder_shortage",
});

impl FaultKind {
    /// Which kind of fault this is.
    pub fn fault_type(&self) -> FaultType {
        match self {
            FaultKind::ReviewerOutage { .. } => FaultType::ReviewerOutage,
            FaultKind::PermissionMisconfiguration { .. } => FaultType::PermissionMisconfiguration,
            FaultKind::RogueAgentBurst { .. } => FaultType::RogueAgentBurst,
            FaultKind::MonitoringBlindSpot { .. } => FaultType::MonitoringBlindSpot,
            FaultKind::DependencyDegradation => FaultType::DependencyDegradation,
            FaultKind::ResponderShortage { .. } => FaultType::ResponderShortage,
        }
    }
}

/// The invariants a scenario can declare, by their `[invariants]` key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum InvariantKind {
    /// `Invariants::max_users_hit_by_one_change`.
    MaxUsersHitByOneChange,
    /// `Invariants::max_outage`.
    MaxOutage,
    /// `Invariants::max_user_impact_minutes`.
    MaxUserImpactMinutes,
    /// `Invariants::min_deploys_per_day`.
    MinDeploysPerDay,
}

kind_names!(InvariantKind, "invariant", {
    MaxUsersHitByOneChange => "max_users_hit_by_one_change",
    MaxOutage => "max_outage",
    MaxUserImpactMinutes => "max_user_impact_minutes",
    MinDeploysPerDay => "min_deploys_per_day",
});

/// Properties every run must keep; violations are recorded, not fatal.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Invariants {
    /// No single change may hit more than this share of users.
    pub max_users_hit_by_one_change: Option<f64>,
    /// No incident may last longer than this.
    pub max_outage: Option<SimDuration>,
    /// User-impact minutes within any window of this length stay at most this.
    pub max_user_impact_minutes: Option<(f64, SimDuration)>,
    /// Deploys per day over the whole run at least this.
    pub min_deploys_per_day: Option<f64>,
}

impl Invariants {
    /// Whether invariant `kind` is declared.
    pub fn is_set(&self, kind: InvariantKind) -> bool {
        match kind {
            InvariantKind::MaxUsersHitByOneChange => self.max_users_hit_by_one_change.is_some(),
            InvariantKind::MaxOutage => self.max_outage.is_some(),
            InvariantKind::MaxUserImpactMinutes => self.max_user_impact_minutes.is_some(),
            InvariantKind::MinDeploysPerDay => self.min_deploys_per_day.is_some(),
        }
    }

    /// Whether no invariant is declared.
    pub fn is_empty(&self) -> bool {
        InvariantKind::ALL.iter().all(|k| !self.is_set(*k))
    }
}

/// Everything one run needs: the validated organisation under one arm and grid point.
#[derive(Clone, Debug)]
pub struct WorldConfig {
    /// How long to simulate.
    pub horizon: SimDuration,
    /// Safety limit on dispatched events.
    pub events_max: u64,
    /// Dependency graph and propagation.
    pub infra: InfraConfig,
    /// Change authors.
    pub authors: Vec<AuthorGroup>,
    /// Reviewer pool.
    pub reviewers: ReviewerConfig,
    /// Approval policy of this arm.
    pub policy: Policy,
    /// Breakers of this arm.
    pub breakers: BreakerConfig,
    /// Deployment strategy.
    pub deploy: DeployConfig,
    /// Build/test and deploy durations.
    pub pipeline: Pipeline,
    /// Incident handling.
    pub incidents: IncidentConfig,
    /// Injected faults.
    pub faults: Vec<Fault>,
    /// Invariants to check.
    pub invariants: Invariants,
}
