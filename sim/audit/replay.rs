//! Replaying logged actions through one arm: the arm's Claude Code permissions (if any),
//! the author group's access control, the approval policy (`policy::decide`), the
//! reviewer pool and the execution gate (`gate::Gate`, the five breakers), in the
//! simulator's order.
//!
//! The decisions are the simulator's own: `policy::decide`, `Gate::check` /
//! `Gate::record`, `ReviewerPool`'s queues, idle sets and shifts, and each reviewer group's
//! review-time distribution. What differs is where actions come from (the log, at its own
//! times) and what cannot be known from a log:
//!
//! - A logged action is not delayed by what an arm would have done to earlier ones: each
//!   meets the policy at its logged time. A hold (rate limit, open agent breaker) is
//!   reported as `held` with the delay the breaker asks for, and is not retried.
//! - Reviews approve: the log does not say whether a reviewer would have caught a bad
//!   action, so the audit measures what review costs (hours, waits), not what it catches.
//! - The prediction of reach is exact (the guard's noise draw is its median, `z = 0`).
//! - Outcomes feed the per-agent breaker: a logged success is a success, a logged failure
//!   counts as an incident-kind failure (counted when `failures.incident` is on), an
//!   unknown outcome is not recorded. Logs hold no incidents, so the kill switch and the
//!   error-budget freeze never fire in an audit.
//! - A Claude Code `ask` is a peer review by the arm's reviewer pool (ASSUMPTION: the
//!   person at the prompt costs what a peer reviewer costs); when the policy also asks for
//!   review, the policy's requirement is used.

use std::collections::{BTreeMap, BTreeSet};

use hdrhistogram::Histogram;

use crate::audit::log::{Action, Outcome};
use crate::audit::permissions::{Behavior, Permissions};
use crate::engine::rng::splitmix64;
use crate::engine::{Model, Scheduler, Seed, SimDuration, SimTime, Simulation};
use crate::model::breaker::BreakerKind;
use crate::model::breaker::Transition;
use crate::model::config::{ActionClass, WorldConfig};
use crate::model::gate::{self, Gate, Verdict};
use crate::model::graph::{ServiceGraph, ServiceId};
use crate::model::incident::IncidentBook;
use crate::model::policy::ReviewNeed;
use crate::model::policy::{ChangeView, decide};
use crate::model::reviewers::{Busy, ReviewTask, ReviewerPool, author_first};

/// What an arm did with one action.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum DecisionKind {
    /// Ran without review.
    Allowed,
    /// Ran after a review (or a Claude Code prompt).
    Asked,
    /// Delayed by a breaker (rate limit, open agent breaker).
    Held,
    /// Refused (permissions, access control, the blast-radius guard in block mode).
    Blocked,
    /// Sent to a senior by the blast-radius guard, then ran.
    Escalated,
}

impl DecisionKind {
    /// Every kind, in column order.
    pub const ALL: [DecisionKind; 5] = [
        DecisionKind::Allowed,
        DecisionKind::Asked,
        DecisionKind::Held,
        DecisionKind::Blocked,
        DecisionKind::Escalated,
    ];

    /// The name in CSV columns.
    pub fn name(self) -> &'static str {
        match self {
            DecisionKind::Allowed => "allowed",
            DecisionKind::Asked => "asked",
            DecisionKind::Held => "held",
            DecisionKind::Blocked => "blocked",
            DecisionKind::Escalated => "escalated",
        }
    }

    /// Index in `ALL`.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// What decided.
#[derive(Clone, Debug, PartialEq)]
pub enum By {
    /// No policy rule matched and no breaker objected.
    Nothing,
    /// A policy rule (0-based index).
    Policy(u32),
    /// The author group's permissions do not grant the class.
    AccessControl,
    /// A breaker.
    Breaker(BreakerKind),
    /// A Claude Code rule or the default mode (`deny:Bash(rm:*)`).
    ClaudeCode(String),
    /// The policy's auto-approve timeout.
    AutoApprove,
    /// A review still unfinished when the audit ended.
    Unfinished,
}

/// One decision of one arm.
#[derive(Clone, Debug, PartialEq)]
pub struct Decision {
    /// Action sequence number.
    pub seq: u64,
    /// The decision.
    pub kind: DecisionKind,
    /// What decided.
    pub by: By,
    /// Predicted share of users (none when the action has no service).
    pub predicted_users: Option<f64>,
    /// Longest wait of the action's reviews for a reviewer, ms.
    pub review_wait_ms: u64,
    /// Review work spent on it, ms.
    pub review_ms: u64,
    /// Delay a breaker asked for, ms (`held` only).
    pub delay_ms: u64,
    /// When it was decided, ms of simulated time.
    pub decided_ms: u64,
}

/// Per-arm totals for the summary.
#[derive(Clone, Debug)]
pub struct ArmStats {
    /// Decisions per kind.
    pub kinds: [u64; 5],
    /// Destructive actions per decision kind.
    pub destructive: [u64; 5],
    /// Actions that failed in the log, per decision kind.
    pub failed: [u64; 5],
    /// Review work, ms.
    pub review_ms: u64,
    /// Reviews done.
    pub reviews: u64,
    /// Review waits, ms.
    pub waits: Histogram<u64>,
    /// Per-agent breaker trips.
    pub trips: u64,
    /// Agents whose breaker tripped at least once.
    pub agents_halted: BTreeSet<u32>,
    /// Open time of those trips, ms.
    pub halted_ms: u64,
    /// Delay of held actions, ms.
    pub held_ms: u64,
    /// Reviews still unfinished at the end.
    pub unfinished: u64,
    /// Largest number of review tasks waiting at once.
    pub peak_queue: u64,
}

impl ArmStats {
    fn new() -> ArmStats {
        ArmStats {
            kinds: [0; 5],
            destructive: [0; 5],
            failed: [0; 5],
            review_ms: 0,
            reviews: 0,
            // 1 ms to ~30 years of waits, 3 significant figures.
            waits: Histogram::new_with_bounds(1, 1_000_000_000_000, 3)
                .expect("valid histogram bounds"),
            trips: 0,
            agents_halted: BTreeSet::new(),
            halted_ms: 0,
            held_ms: 0,
            unfinished: 0,
            peak_queue: 0,
        }
    }
}

/// Draw purposes of `uniform`.
mod purpose {
    pub(super) const SAMPLE: u64 = 1;
    pub(super) const CLASSIFIER: u64 = 2;
    pub(super) const REVIEW: u64 = 0xA0D1_0000;
}

/// A uniform draw in [0, 1) for action `seq` and `purpose`, the same in every arm.
fn uniform(seed: u64, seq: u64, purpose: u64) -> f64 {
    let x = splitmix64(seed ^ splitmix64(seq.wrapping_mul(16).wrapping_add(purpose)));
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// An action waiting for reviews.
#[derive(Clone, Debug)]
struct Pending {
    generation: u32,
    live: bool,
    seq: u64,
    agent: u32,
    class: ActionClass,
    target: Option<ServiceId>,
    predicted: f64,
    outcome: Outcome,
    needed: u8,
    started: u8,
    in_flight: u8,
    first_reviewer: Option<u32>,
    escalated: bool,
    by: By,
    wait_ms: u64,
    review_ms: u64,
}

/// Events of an arm replay.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Ev {
    ReviewDone { reviewer: u32 },
    AutoApprove { slot: u32, generation: u32 },
    Shift { group: u32, start: bool },
}

/// One arm's state.
pub(crate) struct ArmModel<'a> {
    cfg: &'a WorldConfig,
    graph: &'a ServiceGraph,
    perms: Option<&'a Permissions>,
    group: usize,
    seed: u64,
    gate: Gate,
    pool: ReviewerPool,
    book: IncidentBook,
    agents: BTreeMap<String, u32>,
    pending: Vec<Pending>,
    free: Vec<u32>,
    live: usize,
    /// Decisions made and not yet taken by the driver.
    pub(crate) done: Vec<Decision>,
    pub(crate) stats: ArmStats,
}

impl Model for ArmModel<'_> {
    type Event = Ev;

    fn handle(&mut self, event: Ev, sched: &mut Scheduler<Ev>) {
        let now = sched.now();
        match event {
            Ev::ReviewDone { reviewer } => self.review_done(now, reviewer, sched),
            Ev::AutoApprove { slot, generation } => {
                let p = &self.pending[slot as usize];
                if p.generation == generation && p.live {
                    let kind = if p.escalated {
                        DecisionKind::Escalated
                    } else {
                        DecisionKind::Asked
                    };
                    self.pending[slot as usize].by = By::AutoApprove;
                    self.finish_review(now, slot, kind, sched);
                }
            }
            Ev::Shift { group, start } => self.shift(now, group, start, sched),
        }
    }
}

impl<'a> ArmModel<'a> {
    fn new(
        cfg: &'a WorldConfig,
        perms: Option<&'a Permissions>,
        group: usize,
        seed: u64,
    ) -> ArmModel<'a> {
        let graph: &ServiceGraph = &cfg.infra.graph;
        ArmModel {
            cfg,
            graph,
            perms,
            group,
            seed,
            gate: Gate::new(&cfg.breakers, 0),
            pool: ReviewerPool::new(&cfg.reviewers, &author_first(&cfg.authors)),
            book: IncidentBook::new(graph),
            agents: BTreeMap::new(),
            pending: Vec::new(),
            free: Vec::new(),
            live: 0,
            done: Vec::new(),
            stats: ArmStats::new(),
        }
    }

    /// Puts reviewer groups on or off shift at the first action's time.
    fn start(&mut self, now: SimTime, sched: &mut Scheduler<Ev>) {
        for (g, group) in self.cfg.reviewers.groups.iter().enumerate() {
            match group.hours {
                None => self.pool.shift_start(g),
                Some(h) => match h.shift_at_or_after(now) {
                    Some((s, e)) if s <= now => {
                        self.pool.shift_start(g);
                        sched.at(
                            e,
                            Ev::Shift {
                                group: g as u32,
                                start: false,
                            },
                        );
                    }
                    Some((s, _)) => {
                        sched.at(
                            s,
                            Ev::Shift {
                                group: g as u32,
                                start: true,
                            },
                        );
                    }
                    None => {}
                },
            }
        }
    }

    fn shift(&mut self, now: SimTime, group: u32, start: bool, sched: &mut Scheduler<Ev>) {
        let g = group as usize;
        let Some(hours) = self.cfg.reviewers.groups[g].hours else {
            return;
        };
        if start {
            self.pool.shift_start(g);
            if let Some((_, end)) = hours.shift_at_or_after(now) {
                sched.at(
                    end,
                    Ev::Shift {
                        group,
                        start: false,
                    },
                );
            }
            self.dispatch(now, sched);
        } else {
            self.pool.shift_end(g);
            if let Some((next, _)) = hours.shift_at_or_after(now) {
                sched.at(next, Ev::Shift { group, start: true });
            }
        }
    }

    fn agent(&mut self, name: &str) -> u32 {
        if let Some(&i) = self.agents.get(name) {
            return i;
        }
        let i = self.gate.add_agent();
        self.agents.insert(name.to_string(), i);
        i
    }

    fn note(&mut self, now: SimTime, t: Option<(u32, Transition)>) {
        if let Some((agent, Transition::Tripped { until })) = t {
            self.stats.trips += 1;
            self.stats.agents_halted.insert(agent);
            self.stats.halted_ms += until.as_ms().saturating_sub(now.as_ms());
        }
    }

    fn decided(&mut self, d: Decision, class: ActionClass, outcome: Outcome) {
        let k = d.kind.index();
        self.stats.kinds[k] += 1;
        if class == ActionClass::Destructive {
            self.stats.destructive[k] += 1;
        }
        if outcome == Outcome::Error {
            self.stats.failed[k] += 1;
        }
        self.stats.held_ms += d.delay_ms;
        self.done.push(d);
    }

    /// A logged action arrives at `now`.
    pub(crate) fn arrive(
        &mut self,
        now: SimTime,
        a: &Action,
        class: ActionClass,
        service: Option<ServiceId>,
        sched: &mut Scheduler<Ev>,
    ) {
        let agent = self.agent(&a.agent);
        let reach = service.map(|s| self.book.reach_weight(self.graph, s));
        let predicted = self.gate.predicted_users(reach.unwrap_or(0.0), 0.0);
        let shown = reach.map(|_| predicted);
        let refuse = |by: By| Decision {
            seq: a.seq,
            kind: DecisionKind::Blocked,
            by,
            predicted_users: shown,
            review_wait_ms: 0,
            review_ms: 0,
            delay_ms: 0,
            decided_ms: now.as_ms(),
        };
        let mut cc_ask = None;
        if let Some(p) = self.perms {
            let v = p.decide(a);
            match v.behavior {
                Behavior::Deny => {
                    self.decided(refuse(By::ClaudeCode(v.by)), class, a.outcome);
                    return;
                }
                Behavior::Ask => cc_ask = Some(v.by),
                Behavior::Allow => {}
            }
        }
        let author = &self.cfg.authors[self.group];
        if !author.permissions.contains(class) {
            self.decided(refuse(By::AccessControl), class, a.outcome);
            let t = self.gate.record(now, agent, gate::Outcome::Refused);
            self.note(now, t);
            return;
        }
        let view = ChangeView {
            author: author.kind,
            group: self.group,
            class,
            tier: service.map_or(u8::MAX, |s| self.graph.tier(s)),
            predicted_users: predicted,
            size: a.size,
        };
        let (rule, need) = decide(
            &self.cfg.policy,
            &view,
            uniform(self.seed, a.seq, purpose::SAMPLE),
        );
        let (need, by) = match (need, cc_ask) {
            (ReviewNeed::None, Some(by)) => (ReviewNeed::Peer, By::ClaudeCode(by)),
            (ReviewNeed::None, None) => (ReviewNeed::None, rule.map_or(By::Nothing, By::Policy)),
            (need, _) => (need, rule.map_or(By::Nothing, By::Policy)),
        };
        let p = Pending {
            generation: 0,
            live: true,
            seq: a.seq,
            agent,
            class,
            target: service,
            predicted,
            outcome: a.outcome,
            needed: 0,
            started: 0,
            in_flight: 0,
            first_reviewer: None,
            escalated: false,
            by,
            wait_ms: 0,
            review_ms: 0,
        };
        match need {
            ReviewNeed::None => self.execute(now, p, DecisionKind::Allowed, shown, sched),
            ReviewNeed::Peer => self.request(now, p, 1, false, sched),
            ReviewNeed::Senior => self.request(now, p, 1, true, sched),
            ReviewNeed::TwoPerson => self.request(now, p, 2, false, sched),
        }
    }

    /// Runs the gate on an action cleared by policy (and review).
    fn execute(
        &mut self,
        now: SimTime,
        p: Pending,
        kind: DecisionKind,
        shown: Option<f64>,
        sched: &mut Scheduler<Ev>,
    ) {
        let action = gate::Action {
            agent: Some(p.agent),
            target: p.target.map_or(u32::MAX, |s| s.0),
            class: p.class,
            defective: p.outcome == Outcome::Error,
            predicted_users: p.predicted,
            guard_cleared: p.escalated,
            classifier_u: uniform(self.seed, p.seq, purpose::CLASSIFIER),
        };
        let (verdict, t) = self.gate.check(now, &action);
        self.note(now, t);
        let mut d = Decision {
            seq: p.seq,
            kind,
            by: p.by.clone(),
            predicted_users: shown,
            review_wait_ms: p.wait_ms,
            review_ms: p.review_ms,
            delay_ms: 0,
            decided_ms: now.as_ms(),
        };
        match verdict {
            Verdict::Pass { flagged } => {
                let outcome = match (flagged, p.outcome) {
                    (true, _) => Some(gate::Outcome::Flagged),
                    (false, Outcome::Ok) => Some(gate::Outcome::Success),
                    (false, Outcome::Error) => Some(gate::Outcome::Incident),
                    (false, Outcome::Unknown) => None,
                };
                if let Some(o) = outcome {
                    let t = self.gate.record(now, p.agent, o);
                    self.note(now, t);
                }
            }
            Verdict::Hold { breaker, until } => {
                d.kind = DecisionKind::Held;
                d.by = By::Breaker(breaker);
                d.delay_ms = if until == SimTime::NEVER {
                    0
                } else {
                    until.saturating_since(now).as_ms()
                };
            }
            Verdict::Drop => {
                d.kind = DecisionKind::Blocked;
                d.by = By::Breaker(BreakerKind::BlastGuard);
            }
            Verdict::Escalate => {
                let mut p = p;
                p.escalated = true;
                p.by = By::Breaker(BreakerKind::BlastGuard);
                self.request(now, p, 1, true, sched);
                return;
            }
        }
        self.decided(d, p.class, p.outcome);
    }

    /// Queues `count` reviews for an action.
    fn request(
        &mut self,
        now: SimTime,
        mut p: Pending,
        count: u8,
        senior: bool,
        sched: &mut Scheduler<Ev>,
    ) {
        p.needed = count;
        p.started = 0;
        p.first_reviewer = None;
        p.live = true;
        let slot = match self.free.pop() {
            Some(s) => {
                p.generation = self.pending[s as usize].generation.wrapping_add(1);
                p.in_flight = self.pending[s as usize].in_flight;
                self.pending[s as usize] = p;
                s
            }
            None => {
                self.pending.push(p);
                self.pending.len() as u32 - 1
            }
        };
        self.live += 1;
        let generation = self.pending[slot as usize].generation;
        for _ in 0..count {
            let task = ReviewTask {
                slot,
                generation,
                queued_at: now,
                level: 0,
            };
            self.pool.enqueue(task, senior);
        }
        self.stats.peak_queue = self.stats.peak_queue.max(u64::from(self.pool.waiting()));
        if let Some(timeout) = self.cfg.policy.auto_approve_after {
            sched.at(now + timeout, Ev::AutoApprove { slot, generation });
        }
        self.dispatch(now, sched);
    }

    fn stale(&self, task: &ReviewTask) -> bool {
        let p = &self.pending[task.slot as usize];
        p.generation != task.generation || !p.live || p.started >= p.needed
    }

    fn dispatch(&mut self, now: SimTime, sched: &mut Scheduler<Ev>) {
        while self.assign(now, true, sched) || self.assign(now, false, sched) {}
    }

    /// Starts one task from the senior (or peer) queue; true if it made progress. The
    /// reviewer is the World's choice (`ReviewerPool::choose`).
    fn assign(&mut self, now: SimTime, senior_queue: bool, sched: &mut Scheduler<Ev>) -> bool {
        let Some(&task) = self.pool.front(senior_queue) else {
            return false;
        };
        if self.stale(&task) {
            self.pool.pop_queue(senior_queue);
            return true;
        }
        let exclude = self.pending[task.slot as usize].first_reviewer;
        let Some(r) = self.pool.choose(senior_queue, exclude) else {
            return false;
        };
        self.pool.pop_queue(senior_queue);
        self.pool.make_unavailable(r);
        let p = &mut self.pending[task.slot as usize];
        let index = p.started;
        p.started += 1;
        p.in_flight += 1;
        p.first_reviewer.get_or_insert(r);
        let wait = now.saturating_since(task.queued_at).as_ms();
        p.wait_ms = p.wait_ms.max(wait);
        let seq = p.seq;
        self.stats.waits.saturating_record(wait);
        let rv = &mut self.pool.reviewers[r as usize];
        let group = &self.cfg.reviewers.groups[rv.group as usize];
        let mut rng = Seed(self.seed).stream(purpose::REVIEW + u64::from(index), seq);
        let duration = group.review_time.sample(&mut rng).max(SimDuration(1));
        rv.busy = Some(Busy {
            slot: task.slot,
            generation: task.generation,
            index,
            started_at: now,
            rushed: false,
            work: duration,
        });
        sched.at(now + duration, Ev::ReviewDone { reviewer: r });
        true
    }

    fn review_done(&mut self, now: SimTime, r: u32, sched: &mut Scheduler<Ev>) {
        let busy = self.pool.reviewers[r as usize]
            .busy
            .take()
            .expect("ReviewDone for a reviewer with no review");
        let spent = now.saturating_since(busy.started_at).as_ms();
        self.stats.review_ms += spent;
        self.stats.reviews += 1;
        let slot = busy.slot;
        let p = &mut self.pending[slot as usize];
        p.in_flight -= 1;
        if p.generation == busy.generation && p.live {
            p.review_ms += spent;
            p.needed -= 1;
            if p.needed == 0 {
                let kind = if p.escalated {
                    DecisionKind::Escalated
                } else {
                    DecisionKind::Asked
                };
                self.finish_review(now, slot, kind, sched);
            }
        } else if !p.live && p.in_flight == 0 {
            self.free.push(slot);
        }
        self.pool.make_idle_if_free(r);
        self.dispatch(now, sched);
    }

    /// The reviews of `slot` are over (or timed out): the action meets the gate.
    fn finish_review(
        &mut self,
        now: SimTime,
        slot: u32,
        kind: DecisionKind,
        sched: &mut Scheduler<Ev>,
    ) {
        let p = self.pending[slot as usize].clone();
        self.pending[slot as usize].live = false;
        self.live -= 1;
        if p.in_flight == 0 {
            self.free.push(slot);
        }
        let shown = p.target.map(|_| p.predicted);
        self.execute(now, p, kind, shown, sched);
    }

    /// Actions waiting for review.
    pub(crate) fn waiting_reviews(&self) -> usize {
        self.live
    }

    /// Ends the replay: reviews still unfinished are reported as such.
    fn close(&mut self, now: SimTime) {
        for slot in 0..self.pending.len() {
            let p = &self.pending[slot];
            if !p.live {
                continue;
            }
            let d = Decision {
                seq: p.seq,
                kind: if p.escalated {
                    DecisionKind::Escalated
                } else {
                    DecisionKind::Asked
                },
                by: By::Unfinished,
                predicted_users: p.target.map(|_| p.predicted),
                review_wait_ms: p.wait_ms,
                review_ms: p.review_ms,
                delay_ms: 0,
                decided_ms: now.as_ms(),
            };
            let (class, outcome) = (p.class, p.outcome);
            self.pending[slot].live = false;
            self.stats.unfinished += 1;
            self.decided(d, class, outcome);
        }
        self.live = 0;
    }
}

/// One arm being replayed.
pub struct ArmReplay<'a> {
    /// Display name.
    pub name: String,
    sim: Simulation<ArmModel<'a>>,
    started: bool,
}

impl<'a> ArmReplay<'a> {
    /// A replay of `cfg` with optional Claude Code permissions.
    pub fn new(
        name: String,
        cfg: &'a WorldConfig,
        perms: Option<&'a Permissions>,
        group: usize,
        seed: u64,
    ) -> ArmReplay<'a> {
        ArmReplay {
            name,
            sim: Simulation::new(ArmModel::new(cfg, perms, group, seed)),
            started: false,
        }
    }

    /// The arm's graph.
    pub fn graph(&self) -> &'a ServiceGraph {
        self.sim.model.graph
    }

    /// Feeds one action at simulated time `now` (never earlier than the previous one).
    pub fn feed(
        &mut self,
        now: SimTime,
        a: &Action,
        class: ActionClass,
        service: Option<ServiceId>,
    ) {
        if !self.started {
            self.started = true;
            let (m, s) = self.sim.parts();
            m.start(now, s);
        }
        self.sim.run_until(now, u64::MAX);
        let (m, s) = self.sim.parts();
        m.arrive(now, a, class, service, s);
    }

    /// Decisions made since the last call.
    pub fn take(&mut self) -> std::vec::Drain<'_, Decision> {
        self.sim.model.done.drain(..)
    }

    /// Runs the reviews still waiting (up to `limit` of simulated time after `now`), then
    /// reports the rest as unfinished.
    pub fn finish(&mut self, now: SimTime, limit: SimDuration) {
        let end = now + limit;
        let mut t = now;
        while self.sim.model.waiting_reviews() > 0 && t < end {
            t = (t + SimDuration(crate::engine::time::MS_PER_DAY)).min(end);
            self.sim.run_until(t, u64::MAX);
        }
        self.sim.model.close(t);
    }

    /// The arm's totals.
    pub fn stats(&self) -> &ArmStats {
        &self.sim.model.stats
    }

    /// The arm's world.
    pub fn world(&self) -> &'a WorldConfig {
        self.sim.model.cfg
    }
}
