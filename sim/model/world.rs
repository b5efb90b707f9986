//! The World: the simulated organisation of one run, and the event handler that drives it.
//!
//! A change flows: task arrival → proposal (truth drawn) → access control → approval
//! policy → review queue → breakers at execution → deployment (direct or in waves) →
//! fine, or incident → detection → recovery (responder, rollback or rebuild) → restored.
//! Every step is reported as a `TraceEvent` to the metrics collector (and to a tracer when
//! one is given), so the trace alone reproduces the run's metrics.
//!
//! Handlers read state, ask pure helpers (`policy::decide`, the breakers, the cascade)
//! what to do, apply it and schedule follow-ups. Nothing here reads a clock, a file or a
//! thread; iteration is over `Vec`s by index.

use rand::RngExt;
use rand_distr::{Distribution, Exp};

use crate::engine::time::{MS_PER_DAY, MS_PER_HOUR};
use crate::engine::{Model, Scheduler, Seed, SimDuration, SimTime, Simulation, StreamRng};
use crate::metrics::{BreakerKind, Collector, ReviewNeed, RunOutput, TraceEvent, TraceRecord};
use crate::model::cascade::CascadeParams;
use crate::model::change::{Change, Phase, TaskRef, draw, first_class, purpose};
use crate::model::config::{
    ActionClass, AuthorKind, ClassSet, DeployConfig, FaultKind, Severity, WorldConfig,
};
use crate::model::gate::{Action, Gate, Outcome, Transition, Verdict};
use crate::model::graph::{ServiceGraph, ServiceId};
use crate::model::incident::{Incident, IncidentBook};
use crate::model::policy::{ChangeView, decide};
use crate::model::reviewers::{Busy, ReviewTask, ReviewerPool};

/// Stream kinds of `Seed::stream`: one per purpose, so adding one never shifts another.
mod stream {
    /// Task arrivals and task seeds of one author.
    pub(super) const AUTHOR: u64 = 1;
}

/// Receives every trace record of a run (for `replay --trace`).
pub trait Tracer {
    /// Called once per trace event, in order.
    fn record(&mut self, record: &TraceRecord);
}

/// A tracer that keeps nothing: the default, and free.
pub struct NoTrace;

impl Tracer for NoTrace {
    #[inline(always)]
    fn record(&mut self, _record: &TraceRecord) {}
}

impl<F: FnMut(&TraceRecord)> Tracer for F {
    fn record(&mut self, record: &TraceRecord) {
        self(record)
    }
}

/// The closed set of events of the World.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Event {
    /// An author takes on a new task.
    TaskArrival {
        /// Global author index.
        author: u32,
    },
    /// The next attempt of a task is proposed.
    Attempt {
        /// Task id.
        task: u64,
        /// Task seed.
        seed: u64,
        /// Global author index.
        author: u32,
        /// Attempt number.
        attempt: u32,
        /// Failures so far.
        failures: u32,
        /// Class of the attempt.
        class: u8,
        /// When the task started, ms.
        started_ms: u64,
    },
    /// A change passes (or re-tries) the breakers at execution.
    Execute {
        /// Change slot.
        slot: u32,
    },
    /// A reviewer finishes a review.
    ReviewDone {
        /// Reviewer index.
        reviewer: u32,
    },
    /// The auto-approve timeout of a change expires.
    AutoApprove {
        /// Change slot.
        slot: u32,
        /// Slot generation when scheduled.
        generation: u32,
    },
    /// A reviewer group starts its working day.
    ShiftStart {
        /// Reviewer group index.
        group: u32,
    },
    /// A reviewer group ends its working day.
    ShiftEnd {
        /// Reviewer group index.
        group: u32,
    },
    /// A deployment wave's bake time is over.
    WaveDone {
        /// Change slot.
        slot: u32,
        /// Wave index.
        wave: u32,
    },
    /// Monitoring notices an incident.
    Detect {
        /// Incident number.
        incident: u32,
    },
    /// The origin of an incident is repaired.
    OriginRepaired {
        /// Incident number.
        incident: u32,
    },
    /// The last service of an incident is back.
    Restored {
        /// Incident number.
        incident: u32,
    },
    /// Hourly re-evaluation of time-based breakers (error-budget freeze, kill switch).
    BreakerTick,
    /// A fault starts or ends.
    Fault {
        /// Fault index.
        fault: u32,
        /// Starting (true) or ending (false).
        on: bool,
    },
}

/// Per-author state.
struct Author {
    group: u32,
    rng: StreamRng,
    /// Index of this author among the agents of the run (for per-agent breakers).
    agent_index: Option<u32>,
}

/// The simulated organisation of one run.
pub struct World<'a, T: Tracer> {
    cfg: &'a WorldConfig,
    graph: &'a ServiceGraph,
    collector: Collector,
    tracer: T,
    authors: Vec<Author>,
    changes: Vec<Change>,
    free_slots: Vec<u32>,
    next_change_id: u64,
    next_task_id: u64,
    pub(crate) reviewers: ReviewerPool,
    pub(crate) incidents: IncidentBook,
    pub(crate) gate: Gate,
    /// Extra classes granted per author group by an active misconfiguration fault.
    extra_permissions: Vec<ClassSet>,
    defect_multiplier: Vec<f64>,
    escalation_multiplier: Vec<f64>,
    horizon: SimTime,
}

impl<'a, T: Tracer> World<'a, T> {
    /// Emits a trace event now.
    pub(crate) fn emit(&mut self, now: SimTime, event: TraceEvent) {
        self.collector.observe(now.as_ms(), &event);
        self.tracer.record(&TraceRecord {
            t: now.as_ms(),
            event,
        });
    }

    fn new(cfg: &'a WorldConfig, seed: Seed, tracer: T) -> Self {
        let graph: &ServiceGraph = &cfg.infra.graph;
        let mut authors = Vec::new();
        let mut agents = 0u32;
        for (g, group) in cfg.authors.iter().enumerate() {
            for _ in 0..group.count {
                let index = authors.len() as u64;
                let agent_index = (group.kind == AuthorKind::Agent).then(|| {
                    agents += 1;
                    agents - 1
                });
                authors.push(Author {
                    group: g as u32,
                    rng: seed.stream(stream::AUTHOR, index),
                    agent_index,
                });
            }
        }
        let groups = cfg.authors.len();
        World {
            cfg,
            graph,
            collector: Collector::new(&cfg.invariants, cfg.horizon.as_ms()),
            tracer,
            authors,
            changes: Vec::new(),
            free_slots: Vec::new(),
            next_change_id: 0,
            next_task_id: 0,
            reviewers: ReviewerPool::new(&cfg.reviewers),
            incidents: IncidentBook::new(cfg, graph.len()),
            gate: Gate::new(&cfg.breakers, agents),
            extra_permissions: vec![ClassSet::EMPTY; groups],
            defect_multiplier: vec![1.0; groups],
            escalation_multiplier: vec![1.0; groups],
            horizon: SimTime::ZERO + cfg.horizon,
        }
    }

    fn start(&mut self, sched: &mut Scheduler<Event>) {
        let capacity = self
            .reviewers
            .capacity_ms(&self.cfg.reviewers, self.horizon);
        self.emit(
            SimTime::ZERO,
            TraceEvent::RunStarted {
                horizon_ms: self.horizon.as_ms(),
                reviewer_capacity_ms: capacity,
            },
        );
        for a in 0..self.authors.len() as u32 {
            self.schedule_arrival(a, sched);
        }
        self.reviewers.start(&self.cfg.reviewers, sched);
        for (i, f) in self.cfg.faults.iter().enumerate() {
            sched.at(
                f.at,
                Event::Fault {
                    fault: i as u32,
                    on: true,
                },
            );
            sched.at(
                f.at + f.duration,
                Event::Fault {
                    fault: i as u32,
                    on: false,
                },
            );
        }
        if self.gate.needs_tick() {
            sched.at(SimTime::ZERO, Event::BreakerTick);
        }
    }

    /// Schedules the next task arrival of an author: Poisson in (working) time.
    fn schedule_arrival(&mut self, author: u32, sched: &mut Scheduler<Event>) {
        let a = &mut self.authors[author as usize];
        let group = &self.cfg.authors[a.group as usize];
        if group.tasks_per_day <= 0.0 {
            return;
        }
        let now = sched.now();
        let at = match group.hours {
            None => {
                let mean_ms = MS_PER_DAY as f64 / group.tasks_per_day;
                let gap = Exp::new(1.0).expect("rate 1 is valid").sample(&mut a.rng) * mean_ms;
                now + SimDuration::from_ms_f64(gap)
            }
            Some(hours) => {
                let per_day_ms =
                    hours.working_ms_per_week() as f64 / hours.days.count_ones().max(1) as f64;
                if per_day_ms <= 0.0 {
                    return;
                }
                let mean_ms = per_day_ms / group.tasks_per_day;
                let gap = Exp::new(1.0).expect("rate 1 is valid").sample(&mut a.rng) * mean_ms;
                hours.advance(now, SimDuration::from_ms_f64(gap))
            }
        };
        if at <= self.horizon {
            sched.at(at, Event::TaskArrival { author });
        }
    }

    fn on_task_arrival(&mut self, author: u32, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let a = &mut self.authors[author as usize];
        let group_index = a.group;
        let task_seed: u64 = a.rng.random();
        let class_u: f64 = a.rng.random();
        let group = &self.cfg.authors[group_index as usize];
        let class = first_class(group, class_u);
        let task = self.next_task_id;
        self.next_task_id += 1;
        self.emit(
            now,
            TraceEvent::TaskStarted {
                task,
                group: group_index,
                author,
                kind: group.kind,
            },
        );
        let task = TaskRef {
            id: task,
            seed: task_seed,
            author,
            group: group_index,
            attempt: 1,
            failures: 0,
            class,
            started_at: now,
        };
        self.propose(task, sched);
        self.schedule_arrival(author, sched);
    }

    fn alloc(&mut self, change: Change) -> u32 {
        match self.free_slots.pop() {
            Some(slot) => {
                let generation = self.changes[slot as usize].generation.wrapping_add(1);
                self.changes[slot as usize] = Change {
                    generation,
                    ..change
                };
                slot
            }
            None => {
                self.changes.push(change);
                self.changes.len() as u32 - 1
            }
        }
    }

    /// Frees a decided change once no review of it is still running.
    pub(crate) fn release(&mut self, slot: u32) {
        let c = &mut self.changes[slot as usize];
        c.phase = Phase::Done;
        if c.reviews_in_flight == 0 {
            c.generation = c.generation.wrapping_add(1);
            self.free_slots.push(slot);
        }
    }

    fn propose(&mut self, task: TaskRef, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let g = task.group as usize;
        let group = &self.cfg.authors[g];
        let id = self.next_change_id;
        self.next_change_id += 1;
        let change = Change::propose(
            id,
            task,
            group,
            self.graph.len() as u32,
            self.defect_multiplier[g],
        );
        let reach = self
            .incidents
            .reach_weight(self.graph, ServiceId(change.target));
        let (size, target, defective, severity, noise_z, sample_u) = (
            change.size,
            change.target,
            change.defective,
            change.severity,
            change.noise_z,
            change.u[draw::SAMPLE],
        );
        self.emit(
            now,
            TraceEvent::Proposed {
                change: id,
                task: task.id,
                attempt: task.attempt,
                group: task.group,
                author: task.author,
                kind: group.kind,
                class: task.class,
                size,
                target,
                defective,
                severity,
                reach,
            },
        );
        let slot = self.alloc(change);
        // Access control: an action outside the grant is refused outright.
        let granted = ClassSet(group.permissions.0 | self.extra_permissions[g].0);
        if !granted.contains(task.class) {
            self.emit(now, TraceEvent::Refused { change: id });
            self.report_outcome(slot, Outcome::Refused, now);
            self.attempt_failed(slot, Failure::Refused, sched);
            self.release(slot);
            return;
        }
        let view = ChangeView {
            author: group.kind,
            group: g,
            class: task.class,
            tier: self.graph.tier(ServiceId(target)),
            predicted_users: self.gate.predicted_users(reach, noise_z),
            size,
        };
        let (rule, need) = decide(&self.cfg.policy, &view, sample_u);
        self.emit(
            now,
            TraceEvent::Gated {
                change: id,
                rule,
                need,
            },
        );
        match need {
            ReviewNeed::None => {
                self.changes[slot as usize].phase = Phase::Executing;
                self.execute(slot, sched);
            }
            ReviewNeed::Peer => self.request_reviews(slot, 1, false, sched),
            ReviewNeed::Senior => self.request_reviews(slot, 1, true, sched),
            ReviewNeed::TwoPerson => self.request_reviews(slot, 2, false, sched),
        }
    }

    // ----- Review -------------------------------------------------------------------------

    fn request_reviews(
        &mut self,
        slot: u32,
        count: u8,
        senior: bool,
        sched: &mut Scheduler<Event>,
    ) {
        let now = sched.now();
        let c = &mut self.changes[slot as usize];
        c.phase = Phase::Reviewing;
        c.reviews_needed = count;
        c.reviews_started = 0;
        c.first_reviewer = None;
        if senior {
            c.guard_cleared = true;
        }
        let (id, generation) = (c.id, c.generation);
        for _ in 0..count {
            let task = ReviewTask {
                slot,
                generation,
                queued_at: now,
            };
            if senior {
                self.reviewers.senior_queue.push_back(task);
            } else {
                self.reviewers.peer_queue.push_back(task);
            }
            let queue_len = self.reviewers.waiting();
            self.emit(
                now,
                TraceEvent::ReviewQueued {
                    change: id,
                    senior_only: senior,
                    queue_len,
                },
            );
        }
        if let Some(timeout) = self.cfg.policy.auto_approve_after {
            sched.after(timeout, Event::AutoApprove { slot, generation });
        }
        self.dispatch_reviews(sched);
    }

    /// Whether a queued review task no longer needs doing.
    fn is_stale(&self, task: &ReviewTask) -> bool {
        let c = &self.changes[task.slot as usize];
        c.generation != task.generation
            || c.phase != Phase::Reviewing
            || c.reviews_started >= c.reviews_needed
    }

    /// Hands queued tasks to idle reviewers until one side runs out.
    fn dispatch_reviews(&mut self, sched: &mut Scheduler<Event>) {
        loop {
            if self.assign_from(true, sched) || self.assign_from(false, sched) {
                continue;
            }
            break;
        }
    }

    /// Tries to start one task from the senior (or peer) queue; true if it made progress.
    fn assign_from(&mut self, senior_queue: bool, sched: &mut Scheduler<Event>) -> bool {
        let now = sched.now();
        let queue = if senior_queue {
            &self.reviewers.senior_queue
        } else {
            &self.reviewers.peer_queue
        };
        let Some(&task) = queue.front() else {
            return false;
        };
        if self.is_stale(&task) {
            self.pop_queue(senior_queue);
            let queue_len = self.reviewers.waiting();
            let change = self.changes[task.slot as usize].id;
            self.emit(now, TraceEvent::ReviewDropped { change, queue_len });
            return true;
        }
        let exclude = self.changes[task.slot as usize].first_reviewer;
        let pick = |set: &std::collections::BTreeSet<u32>| {
            set.iter().copied().find(|&r| Some(r) != exclude)
        };
        let reviewer = if senior_queue {
            pick(&self.reviewers.idle_senior)
        } else {
            pick(&self.reviewers.idle_junior).or_else(|| pick(&self.reviewers.idle_senior))
        };
        let Some(r) = reviewer else { return false };
        let waiting_before = self.reviewers.waiting();
        self.pop_queue(senior_queue);
        self.reviewers.make_unavailable(r);
        let rushed = waiting_before > self.cfg.reviewers.load.queue_above;
        let c = &mut self.changes[task.slot as usize];
        let index = c.reviews_started;
        c.reviews_started += 1;
        c.reviews_in_flight += 1;
        c.first_reviewer.get_or_insert(r);
        let id = c.id;
        let rv = &mut self.reviewers.reviewers[r as usize];
        let group = &self.cfg.reviewers.groups[rv.group as usize];
        let mut rng = c.rng(purpose::REVIEW + index as u64 * 16);
        let duration = group.review_time.sample(&mut rng);
        rv.busy = Some(Busy {
            slot: task.slot,
            generation: task.generation,
            index,
            started_at: now,
            rushed,
        });
        let senior = rv.senior;
        sched.after(duration, Event::ReviewDone { reviewer: r });
        let queue_len = self.reviewers.waiting();
        self.emit(
            now,
            TraceEvent::ReviewStarted {
                change: id,
                reviewer: r,
                senior,
                waited_ms: now.saturating_since(task.queued_at).as_ms(),
                rushed,
                queue_len,
            },
        );
        true
    }

    fn pop_queue(&mut self, senior_queue: bool) {
        if senior_queue {
            self.reviewers.senior_queue.pop_front();
        } else {
            self.reviewers.peer_queue.pop_front();
        }
    }

    fn on_review_done(&mut self, r: u32, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let rv = &mut self.reviewers.reviewers[r as usize];
        let busy = rv
            .busy
            .take()
            .expect("ReviewDone for a reviewer with no review");
        let senior = rv.senior;
        let group = &self.cfg.reviewers.groups[rv.group as usize];
        let c = &mut self.changes[busy.slot as usize];
        assert_eq!(
            c.generation, busy.generation,
            "a change slot was reused while under review"
        );
        c.reviews_in_flight -= 1;
        // Detection: careful-review probability, cut by load (rubber-stamping) and size.
        let rc = &self.cfg.reviewers;
        let mut p = group.detection.get(c.task.class);
        if busy.rushed {
            p *= rc.load.detection_factor;
        }
        if c.size > rc.size.above_loc {
            p *= rc.size.detection_factor;
        }
        let i = busy.index as usize;
        let approved = if c.defective {
            c.u[draw::DETECT[i]] >= p
        } else {
            c.u[draw::FALSE_REJECT[i]] >= rc.false_rejection
        };
        let (id, phase) = (c.id, c.phase);
        let busy_ms = now.saturating_since(busy.started_at).as_ms();
        self.emit(
            now,
            TraceEvent::ReviewFinished {
                change: id,
                reviewer: r,
                senior,
                busy_ms,
                approved,
            },
        );
        if phase == Phase::Reviewing {
            if !approved {
                self.emit(now, TraceEvent::Rejected { change: id });
                self.report_outcome(busy.slot, Outcome::Rejected, now);
                self.attempt_failed(busy.slot, Failure::Rejected, sched);
                self.release(busy.slot);
            } else {
                let c = &mut self.changes[busy.slot as usize];
                c.reviews_needed -= 1;
                if c.reviews_needed == 0 {
                    c.phase = Phase::Executing;
                    self.execute(busy.slot, sched);
                }
            }
        } else if phase == Phase::Done {
            // Decided while this review ran: free it now that nothing refers to it.
            self.release(busy.slot);
        }
        self.reviewers.make_idle_if_free(r);
        self.dispatch_reviews(sched);
    }

    fn on_auto_approve(&mut self, slot: u32, generation: u32, sched: &mut Scheduler<Event>) {
        let c = &mut self.changes[slot as usize];
        if c.generation != generation || c.phase != Phase::Reviewing {
            return;
        }
        c.phase = Phase::Executing;
        let id = c.id;
        self.emit(sched.now(), TraceEvent::AutoApproved { change: id });
        self.execute(slot, sched);
    }

    fn on_shift(&mut self, group: u32, start: bool, sched: &mut Scheduler<Event>) {
        let g = group as usize;
        let Some(hours) = self.cfg.reviewers.groups[g].hours else {
            return;
        };
        if start {
            self.reviewers.shift_start(g);
            if let Some((_, end)) = hours.shift_at_or_after(sched.now()) {
                sched.at(end, Event::ShiftEnd { group });
            }
            self.dispatch_reviews(sched);
        } else {
            self.reviewers.shift_end(g);
            if let Some((next, _)) = hours.shift_at_or_after(sched.now()) {
                sched.at(next, Event::ShiftStart { group });
            }
        }
    }

    // ----- Execution and deployment ------------------------------------------------------

    /// Runs the breakers; on a pass, deploys.
    fn execute(&mut self, slot: u32, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let c = &self.changes[slot as usize];
        if c.phase != Phase::Executing {
            return;
        }
        let author = &self.authors[c.task.author as usize];
        let reach = self.incidents.reach_weight(self.graph, ServiceId(c.target));
        let c = &self.changes[slot as usize];
        let action = Action {
            agent: author.agent_index,
            target: c.target,
            defective: c.defective,
            predicted_users: self.gate.predicted_users(reach, c.noise_z),
            guard_cleared: c.guard_cleared,
            classifier_u: c.u[draw::CLASSIFIER],
        };
        let (id, defective) = (c.id, c.defective);
        let (verdict, transition) = self.gate.check(now, &action);
        self.emit_transition(now, transition);
        match verdict {
            Verdict::Pass { flagged } => {
                let c = &mut self.changes[slot as usize];
                if let Some(since) = c.held_since.take() {
                    c.held_by = None;
                    let held_ms = now.saturating_since(since).as_ms();
                    self.emit(
                        now,
                        TraceEvent::Released {
                            change: id,
                            held_ms,
                            defective,
                        },
                    );
                }
                if flagged {
                    self.report_outcome(slot, Outcome::Flagged, now);
                }
                self.deploy(slot, sched);
            }
            Verdict::Hold { breaker, until } => {
                let c = &mut self.changes[slot as usize];
                c.held_since.get_or_insert(now);
                let first = c.held_by != Some(breaker);
                c.held_by = Some(breaker);
                // Re-check at least hourly: a hold can end early (an incident closes).
                let retry = until
                    .min(now + SimDuration::from_ms(MS_PER_HOUR))
                    .max(now + SimDuration(1));
                if first {
                    self.emit(
                        now,
                        TraceEvent::Blocked {
                            change: id,
                            breaker,
                            defective,
                            retry_at_ms: Some(retry.as_ms()),
                            escalated: false,
                        },
                    );
                }
                sched.at(retry, Event::Execute { slot });
            }
            Verdict::Drop => {
                self.emit(
                    now,
                    TraceEvent::Blocked {
                        change: id,
                        breaker: BreakerKind::BlastGuard,
                        defective,
                        retry_at_ms: None,
                        escalated: false,
                    },
                );
                self.attempt_failed(slot, Failure::Blocked, sched);
                self.release(slot);
            }
            Verdict::Escalate => {
                self.emit(
                    now,
                    TraceEvent::Blocked {
                        change: id,
                        breaker: BreakerKind::BlastGuard,
                        defective,
                        retry_at_ms: None,
                        escalated: true,
                    },
                );
                self.request_reviews(slot, 1, true, sched);
            }
        }
    }

    /// Deploys an approved change, directly or in waves.
    fn deploy(&mut self, slot: u32, sched: &mut Scheduler<Event>) {
        let c = &mut self.changes[slot as usize];
        c.phase = Phase::Deploying;
        let staged = matches!(self.cfg.deploy, DeployConfig::Waves(_))
            && c.task.class != ActionClass::Destructive;
        if !staged {
            if c.defective {
                self.start_incident(slot, 1.0, sched);
            }
            self.finish_deploy(slot, sched);
            return;
        }
        self.run_wave(slot, 0, sched);
    }

    /// Share of the target's traffic after wave `w`, rounded up to whole cells.
    fn wave_share(&self, slot: u32, w: usize) -> f64 {
        let DeployConfig::Waves(waves) = &self.cfg.deploy else {
            return 1.0;
        };
        let cells = self
            .graph
            .cells(ServiceId(self.changes[slot as usize].target))
            .max(1) as f64;
        ((waves[w].share * cells).ceil() / cells).min(1.0)
    }

    fn run_wave(&mut self, slot: u32, w: u32, sched: &mut Scheduler<Event>) {
        let DeployConfig::Waves(waves) = &self.cfg.deploy else {
            return;
        };
        let bake = waves[w as usize].bake;
        let share = self.wave_share(slot, w as usize);
        let c = &self.changes[slot as usize];
        if c.defective {
            match c.incident {
                None => self.start_incident(slot, share, sched),
                Some(i) => self.incidents.incidents[i as usize].share = share,
            }
        }
        sched.after(bake, Event::WaveDone { slot, wave: w });
    }

    fn on_wave_done(&mut self, slot: u32, wave: u32, sched: &mut Scheduler<Event>) {
        let DeployConfig::Waves(waves) = &self.cfg.deploy else {
            return;
        };
        let c = &self.changes[slot as usize];
        if c.phase != Phase::Deploying {
            return; // Halted by an alarm during the bake.
        }
        if wave as usize + 1 < waves.len() {
            self.run_wave(slot, wave + 1, sched);
        } else {
            self.finish_deploy(slot, sched);
        }
    }

    /// The change is everywhere it was going: count it, and settle the task if it is good.
    fn finish_deploy(&mut self, slot: u32, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let c = &self.changes[slot as usize];
        let lead_time_ms = now.saturating_since(c.task.started_at).as_ms();
        let (id, kind, defective) = (c.id, c.kind, c.defective);
        self.emit(
            now,
            TraceEvent::Deployed {
                change: id,
                kind,
                lead_time_ms,
            },
        );
        if defective {
            // The task's fate is settled when the incident is detected.
            self.changes[slot as usize].phase = Phase::Done;
            return;
        }
        self.report_outcome(slot, Outcome::Success, now);
        let c = &self.changes[slot as usize];
        let success = c.u[draw::SUCCESS] < self.cfg.authors[c.task.group as usize].task_success;
        if success {
            let task = c.task.id;
            self.emit(now, TraceEvent::TaskDone { task });
        } else {
            self.attempt_failed(slot, Failure::Ineffective, sched);
        }
        self.release(slot);
    }

    // ----- Incidents ---------------------------------------------------------------------

    fn start_incident(&mut self, slot: u32, share: f64, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let c = &self.changes[slot as usize];
        let mut rng = c.rng(purpose::INCIDENT);
        let ic = &self.cfg.incidents;
        let mut detection = ic.detection.sample(&mut rng);
        let rebuild = c.severity == Severity::EnvironmentDeletion;
        let repair = if rebuild {
            ic.rebuild.sample(&mut rng)
        } else {
            ic.rollback.sample(&mut rng)
        };
        if let Some((below, mult)) = self.incidents.blind_spot {
            if c.target < below {
                detection = SimDuration::from_ms_f64(detection.as_ms() as f64 * mult);
            }
        }
        let mut incident = Incident {
            change_id: c.id,
            change_slot: slot,
            group: c.task.group,
            kind: c.kind,
            class: c.task.class,
            severity: c.severity,
            agent: self.authors[c.task.author as usize].agent_index,
            origin: ServiceId(c.target),
            started_at: now,
            share,
            services_hit: 0,
            weight_sum: 0.0,
            weight_depth_sum: 0.0,
            max_depth: 0,
            repair,
            rebuild,
            automatic: false,
            detected: false,
            repair_started: false,
            restored: false,
            user_impact_min: 0.0,
            hits: Vec::new(),
        };
        let params = CascadeParams {
            soft_propagation: self.cfg.infra.soft_propagation,
            // A deleted environment takes down soft dependents too: their fallbacks point
            // into the same environment.
            soft_as_hard: self.incidents.soft_as_hard || rebuild,
            overload_alpha: self.cfg.infra.overload_alpha,
        };
        let mut cascade_rng = c.rng(purpose::CASCADE);
        self.incidents
            .spread(self.graph, &mut incident, &params, &mut cascade_rng);
        let n = self.incidents.incidents.len() as u32;
        self.incidents.incidents.push(incident);
        self.changes[slot as usize].incident = Some(n);
        sched.after(detection, Event::Detect { incident: n });
    }

    fn on_detect(&mut self, n: u32, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let inc = &mut self.incidents.incidents[n as usize];
        inc.detected = true;
        let slot = inc.change_slot;
        // A fault caught while the rollout is still baking is rolled back automatically, and
        // the rollout stops at the share it had reached.
        let c = &mut self.changes[slot as usize];
        let rolling = c.phase == Phase::Deploying && c.incident == Some(n);
        if rolling {
            inc.automatic = true;
        }
        let inc = &self.incidents.incidents[n as usize];
        let event = TraceEvent::IncidentStarted {
            incident: n,
            started_ms: inc.started_at.as_ms(),
            change: inc.change_id,
            group: inc.group,
            kind: inc.kind,
            class: inc.class,
            severity: inc.severity,
            origin: inc.origin.0,
            share: inc.share,
            services_hit: inc.services_hit,
            users_hit_peak: inc.users_hit_peak(),
        };
        let (agent, users) = (inc.agent, inc.users_hit_peak());
        self.emit(now, event);
        self.emit(now, TraceEvent::IncidentDetected { incident: n });
        self.gate.incident_opened(now, n, agent, users);
        self.tick_breakers(now);
        if let Some(a) = agent {
            let t = self.gate.record(now, a, Outcome::Incident);
            self.emit_transition(now, t);
        }
        // The author learns the attempt failed.
        self.attempt_failed(slot, Failure::Incident, sched);
        if rolling {
            self.release(slot);
            self.start_repair(n, sched);
        } else {
            if self.changes[slot as usize].phase == Phase::Done {
                self.release(slot);
            }
            if self
                .incidents
                .responders_free(self.cfg.incidents.responders)
            {
                self.start_repair(n, sched);
            } else {
                self.incidents.waiting.push_back(n);
            }
        }
    }

    fn start_repair(&mut self, n: u32, sched: &mut Scheduler<Event>) {
        let inc = &mut self.incidents.incidents[n as usize];
        inc.repair_started = true;
        let (automatic, rebuild, repair) = (inc.automatic, inc.rebuild, inc.repair);
        if !automatic {
            self.incidents.responders_busy += 1;
        }
        self.emit(
            sched.now(),
            TraceEvent::RecoveryStarted {
                incident: n,
                rebuild,
            },
        );
        sched.after(repair, Event::OriginRepaired { incident: n });
    }

    fn on_origin_repaired(&mut self, n: u32, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let step = self.cfg.incidents.restart_step;
        let inc = &mut self.incidents.incidents[n as usize];
        inc.user_impact_min = inc.impact_min(now, step, SimTime::NEVER);
        let restored = inc.restored_at(now, step);
        if !inc.automatic {
            self.incidents.responders_busy -= 1;
            self.next_waiting_incident(sched);
        }
        sched.at(restored, Event::Restored { incident: n });
    }

    fn next_waiting_incident(&mut self, sched: &mut Scheduler<Event>) {
        while self
            .incidents
            .responders_free(self.cfg.incidents.responders)
        {
            let Some(next) = self.incidents.waiting.pop_front() else {
                break;
            };
            self.start_repair(next, sched);
        }
    }

    fn on_restored(&mut self, n: u32, now: SimTime) {
        let inc = &mut self.incidents.incidents[n as usize];
        inc.restored = true;
        let (impact, agent) = (inc.user_impact_min, inc.agent);
        if impact > self.incidents.worst.0 {
            self.incidents.worst = (impact, std::mem::take(&mut inc.hits));
        } else {
            inc.hits = Vec::new();
        }
        self.emit(
            now,
            TraceEvent::IncidentRestored {
                incident: n,
                user_impact_min: impact,
            },
        );
        self.gate.incident_closed(now, n, agent);
        self.tick_breakers(now);
    }

    // ----- Breakers, failures and faults -------------------------------------------------

    fn emit_transition(&mut self, now: SimTime, transition: Transition) {
        if let Some((agent, state, open_until_ms)) = transition {
            self.emit(
                now,
                TraceEvent::AgentBreaker {
                    agent,
                    state,
                    open_until_ms,
                },
            );
        }
    }

    /// Reports an agent action's outcome to its breaker, once per action.
    fn report_outcome(&mut self, slot: u32, outcome: Outcome, now: SimTime) {
        let c = &mut self.changes[slot as usize];
        if c.outcome_recorded {
            return;
        }
        c.outcome_recorded = true;
        if let Some(agent) = self.authors[c.task.author as usize].agent_index {
            let t = self.gate.record(now, agent, outcome);
            self.emit_transition(now, t);
        }
    }

    fn tick_breakers(&mut self, now: SimTime) {
        let (freeze, kill) = self.gate.tick(now);
        if let Some(on) = freeze {
            self.emit(now, TraceEvent::Freeze { on });
        }
        if let Some(on) = kill {
            self.emit(now, TraceEvent::KillSwitch { on });
        }
    }

    /// An attempt failed: retry (possibly with a more drastic class) or abandon the task.
    fn attempt_failed(&mut self, slot: u32, why: Failure, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let c = &self.changes[slot as usize];
        let g = c.task.group as usize;
        let group = &self.cfg.authors[g];
        let mut task = c.task;
        task.failures += 1;
        let rework_u = c.u[draw::REWORK];
        let escalate_u = c.u[draw::ESCALATE];
        let delay = group.rework.delay.sample(&mut c.rng(purpose::REWORK));
        if task.attempt >= group.max_attempts
            || (why == Failure::Rejected && rework_u >= group.rework.probability)
        {
            self.emit(now, TraceEvent::Abandoned { task: task.id });
            return;
        }
        let mut class = task.class;
        if let Some(e) = group.escalation {
            let p = (e.probability * self.escalation_multiplier[g]).min(1.0);
            if task.failures >= e.after_failures && escalate_u < p {
                if let Some(next) = class.escalated() {
                    self.emit(
                        now,
                        TraceEvent::Escalated {
                            task: task.id,
                            from: class,
                            to: next,
                        },
                    );
                    class = next;
                }
            }
        }
        sched.after(
            delay,
            Event::Attempt {
                task: task.id,
                seed: task.seed,
                author: task.author,
                attempt: task.attempt + 1,
                failures: task.failures,
                class: class as u8,
                started_ms: task.started_at.as_ms(),
            },
        );
    }

    fn on_fault(&mut self, index: u32, on: bool, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let fault = &self.cfg.faults[index as usize];
        self.emit(now, TraceEvent::Fault { fault: index, on });
        let agent_groups = |group: Option<usize>| -> Vec<usize> {
            match group {
                Some(g) => vec![g],
                None => (0..self.cfg.authors.len())
                    .filter(|&g| self.cfg.authors[g].kind == AuthorKind::Agent)
                    .collect(),
            }
        };
        match fault.kind {
            FaultKind::ReviewerOutage { group, fraction } => {
                let groups: Vec<usize> = match group {
                    Some(g) => vec![g],
                    None => (0..self.cfg.reviewers.groups.len()).collect(),
                };
                for g in groups {
                    let members = self.reviewers.members(g);
                    let away = (fraction * members.len() as f64).round() as u32;
                    for r in members.start..members.start + away {
                        self.reviewers.reviewers[r as usize].away = on;
                        if on {
                            self.reviewers.make_unavailable(r);
                        } else {
                            self.reviewers.make_idle_if_free(r);
                        }
                    }
                }
                if !on {
                    self.dispatch_reviews(sched);
                }
            }
            FaultKind::PermissionMisconfiguration { group, class } => {
                for g in agent_groups(group) {
                    let p = &mut self.extra_permissions[g];
                    *p = if on {
                        p.with(class)
                    } else {
                        ClassSet(p.0 & !(1 << class.index()))
                    };
                }
            }
            FaultKind::RogueAgentBurst {
                group,
                defect_multiplier,
                escalation_multiplier,
            } => {
                for g in agent_groups(group) {
                    self.defect_multiplier[g] = if on { defect_multiplier } else { 1.0 };
                    self.escalation_multiplier[g] = if on { escalation_multiplier } else { 1.0 };
                }
            }
            FaultKind::MonitoringBlindSpot {
                service_share,
                detection_multiplier,
            } => {
                let below = (service_share * self.graph.len() as f64).round() as u32;
                self.incidents.blind_spot = on.then_some((below, detection_multiplier));
            }
            FaultKind::DependencyDegradation => self.incidents.soft_as_hard = on,
            FaultKind::ResponderShortage { fraction } => {
                let total = self.cfg.incidents.responders;
                self.incidents.responders_away = if on {
                    (fraction * total as f64).round() as u32
                } else {
                    0
                };
                if !on {
                    self.next_waiting_incident(sched);
                }
            }
        }
    }

    /// Closes the books: incidents still open at the horizon count with their impact so
    /// far, cut at the horizon.
    fn finish(&mut self) {
        let now = self.horizon;
        let step = self.cfg.incidents.restart_step;
        for n in 0..self.incidents.incidents.len() {
            let inc = &self.incidents.incidents[n];
            if !inc.detected || inc.restored {
                continue;
            }
            let back = if inc.user_impact_min > 0.0 {
                now
            } else {
                SimTime::NEVER
            };
            let impact = if inc.user_impact_min > 0.0 {
                inc.user_impact_min
            } else {
                inc.impact_min(back, step, now)
            };
            self.incidents.incidents[n].user_impact_min = impact;
            self.on_restored(n as u32, now);
        }
    }
}

/// Why an attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Failure {
    Refused,
    Rejected,
    Blocked,
    Incident,
    Ineffective,
}

impl<T: Tracer> Model for World<'_, T> {
    type Event = Event;

    fn handle(&mut self, event: Event, sched: &mut Scheduler<Event>) {
        match event {
            Event::TaskArrival { author } => self.on_task_arrival(author, sched),
            Event::Attempt {
                task,
                seed,
                author,
                attempt,
                failures,
                class,
                started_ms,
            } => {
                let task = TaskRef {
                    id: task,
                    seed,
                    author,
                    group: self.authors[author as usize].group,
                    attempt,
                    failures,
                    class: ActionClass::ALL[class as usize],
                    started_at: SimTime(started_ms),
                };
                self.propose(task, sched);
            }
            Event::Execute { slot } => self.execute(slot, sched),
            Event::ReviewDone { reviewer } => self.on_review_done(reviewer, sched),
            Event::AutoApprove { slot, generation } => {
                self.on_auto_approve(slot, generation, sched)
            }
            Event::ShiftStart { group } => self.on_shift(group, true, sched),
            Event::ShiftEnd { group } => self.on_shift(group, false, sched),
            Event::WaveDone { slot, wave } => self.on_wave_done(slot, wave, sched),
            Event::Detect { incident } => self.on_detect(incident, sched),
            Event::OriginRepaired { incident } => self.on_origin_repaired(incident, sched),
            Event::Restored { incident } => self.on_restored(incident, sched.now()),
            Event::BreakerTick => {
                let now = sched.now();
                self.tick_breakers(now);
                sched.after(SimDuration::from_ms(MS_PER_HOUR), Event::BreakerTick);
            }
            Event::Fault { fault, on } => self.on_fault(fault, on, sched),
        }
    }
}

/// Simulates one run of `world` from `seed`: a pure function of its arguments.
pub fn simulate(world: &WorldConfig, seed: Seed) -> RunOutput {
    simulate_traced(world, seed, NoTrace)
}

/// Simulates one run and hands every trace record to `tracer`.
pub fn simulate_traced<T: Tracer>(world: &WorldConfig, seed: Seed, tracer: T) -> RunOutput {
    let mut sim = Simulation::new(World::new(world, seed, tracer));
    let horizon = SimTime::ZERO + world.horizon;
    {
        let (model, sched) = sim.parts();
        model.start(sched);
    }
    let stop = sim.run_until(horizon, world.events_max);
    let events = sim.events();
    let fingerprint = sim.fingerprint();
    let mut model = sim.into_model();
    model.finish();
    model.emit(horizon, TraceEvent::RunEnded { events });
    let worst = std::mem::take(&mut model.incidents.worst.1);
    model.collector.finish(stop, fingerprint, worst)
}
