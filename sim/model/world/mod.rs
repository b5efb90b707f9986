//! The World: the simulated organisation of one run, and the event handler that drives it.
//!
//! A change flows: task arrival → proposal (truth drawn) → access control → approval
//! policy → review queue → breakers at execution → deployment (direct or in waves) →
//! fine, or incident → detection → recovery (responder, rollback or rebuild) → restored.
//! Every step is reported as a `TraceEvent` to the run's `TraceSink` (in a real run the
//! metrics collector, with a tracer beside it when one is given: see `metrics::run`), so
//! the trace alone reproduces the run's metrics.
//!
//! Handlers read state, ask pure helpers (`policy::decide`, the breakers, the cascade)
//! what to do, apply it and schedule follow-ups. Nothing here reads a clock, a file or a
//! thread; iteration is over `Vec`s by index.

mod execution;
mod incidents;
mod review;
mod tasks;

use std::collections::VecDeque;

use rand::RngExt;
use rand_distr::{Distribution, Exp};

use crate::engine::time::{MS_PER_DAY, MS_PER_HOUR};
use crate::engine::{
    Model, Scheduler, Seed, SimDuration, SimTime, Simulation, StopReason, StreamRng,
};
use crate::model::change::{Change, Phase, TaskRef, draw, first_class};
use crate::model::config::{ActionClass, AuthorKind, ClassSet, WorldConfig};
use crate::model::gate::{Gate, Outcome};
use crate::model::graph::{ServiceGraph, ServiceId};
use crate::model::incident::IncidentBook;
use crate::model::policy::{ChangeView, ReviewNeed, decide};
use crate::model::reviewers::{ReviewerPool, author_first};
use crate::model::trace::{TraceEvent, TraceRecord, TraceSink};

/// Stream kinds of `Seed::stream`: one per purpose, so adding one never shifts another.
mod stream {
    /// Task arrivals and task seeds of one author.
    pub(super) const AUTHOR: u64 = 1;
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
        /// Tasks batched into it.
        tasks: u32,
    },
    /// A waiting task's patience runs out (if it is still waiting).
    Expire {
        /// Global author index.
        author: u32,
        /// Task id.
        task: u64,
    },
    /// An author with a free slot takes waiting tasks from its backlog.
    Pull {
        /// Global author index.
        author: u32,
    },
    /// An approved change has been built and tested.
    Built {
        /// Change slot.
        slot: u32,
        /// Slot generation when scheduled.
        generation: u32,
    },
    /// A change that passed the breakers starts its rollout.
    Shipped {
        /// Change slot.
        slot: u32,
        /// Slot generation when scheduled.
        generation: u32,
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
    /// An agent's breaker may let actions through again: wake its parked changes.
    AgentRecheck {
        /// Agent index.
        agent: u32,
    },
    /// A one-off re-evaluation when a halt may lift (the freeze's next check, the end of a
    /// kill-switch halt).
    Recheck,
    /// A fault starts or ends.
    Fault {
        /// Fault index.
        fault: u32,
        /// Starting (true) or ending (false).
        on: bool,
    },
}

/// A task waiting in an author's backlog.
#[derive(Clone, Copy, Debug)]
struct Waiting {
    id: u64,
    seed: u64,
    class: ActionClass,
    arrived: SimTime,
}

/// Per-author state.
struct Author {
    group: u32,
    rng: StreamRng,
    /// Index of this author among the agents of the run (for per-agent breakers).
    agent_index: Option<u32>,
    /// Tasks in flight (proposed, not yet done or given up), under the closed loop.
    in_flight: u32,
    /// Tasks waiting for a free slot, oldest first.
    backlog: VecDeque<Waiting>,
    /// Reviewing (a reviewer drawn from this author's group): takes on no new task.
    reviewing: bool,
}

/// The simulated organisation of one run.
pub struct World<'a, S: TraceSink> {
    cfg: &'a WorldConfig,
    graph: &'a ServiceGraph,
    /// Where every trace event goes.
    sink: S,
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
    /// Changes held by a fleet-wide halt (kill switch, freeze): (slot, generation).
    parked: Vec<(u32, u32)>,
    /// Per agent, changes waiting behind its open breaker, oldest first.
    agent_parked: Vec<std::collections::VecDeque<(u32, u32)>>,
    /// Times at which a `Recheck` is already scheduled.
    rechecks: std::collections::BTreeSet<u64>,
    /// Tasks waiting in all backlogs.
    backlog: u32,
}

impl<'a, S: TraceSink> World<'a, S> {
    /// Emits a trace event now.
    pub(crate) fn emit(&mut self, now: SimTime, event: TraceEvent) {
        self.sink.record(&TraceRecord {
            t: now.as_ms(),
            event,
        });
    }

    fn new(cfg: &'a WorldConfig, seed: Seed, sink: S) -> Self {
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
                    in_flight: 0,
                    backlog: VecDeque::new(),
                    reviewing: false,
                });
            }
        }
        let groups = cfg.authors.len();
        World {
            cfg,
            graph,
            sink,
            authors,
            changes: Vec::new(),
            free_slots: Vec::new(),
            next_change_id: 0,
            next_task_id: 0,
            reviewers: ReviewerPool::new(&cfg.reviewers, &author_first(&cfg.authors)),
            incidents: IncidentBook::new(graph),
            gate: Gate::new(&cfg.breakers, agents),
            extra_permissions: vec![ClassSet::EMPTY; groups],
            defect_multiplier: vec![1.0; groups],
            escalation_multiplier: vec![1.0; groups],
            horizon: SimTime::ZERO + cfg.horizon,
            parked: Vec::new(),
            agent_parked: vec![std::collections::VecDeque::new(); agents as usize],
            rechecks: std::collections::BTreeSet::new(),
            backlog: 0,
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

    /// A task arrives. The draws (task seed, class, next gap) are made whatever happens
    /// to the task, so an author's stream is common across arms and flow settings.
    fn on_task_arrival(&mut self, author: u32, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let a = &mut self.authors[author as usize];
        let group_index = a.group;
        let task_seed: u64 = a.rng.random();
        let class_u: f64 = a.rng.random();
        let group = &self.cfg.authors[group_index as usize];
        let class = first_class(group, class_u);
        let flow = group.flow;
        let kind = group.kind;
        self.schedule_arrival(author, sched);
        let a = &self.authors[author as usize];
        // Reviewing takes the author's time: no new task while a review runs.
        if a.reviewing {
            return;
        }
        let at_limit = flow.wip_limit.is_some_and(|limit| a.in_flight >= limit);
        if at_limit && a.backlog.len() as u32 >= flow.backlog_max {
            return; // Not taken on: the author is busy with work in flight.
        }
        let task = self.next_task_id;
        self.next_task_id += 1;
        self.emit(
            now,
            TraceEvent::TaskStarted {
                task,
                group: group_index,
                author,
                kind,
            },
        );
        if at_limit {
            self.authors[author as usize].backlog.push_back(Waiting {
                id: task,
                seed: task_seed,
                class,
                arrived: now,
            });
            self.backlog += 1;
            let backlog = self.backlog;
            self.emit(
                now,
                TraceEvent::TaskQueued {
                    task,
                    author,
                    backlog,
                },
            );
            if let Some(patience) = flow.patience {
                sched.after(patience, Event::Expire { author, task });
            }
            return;
        }
        self.authors[author as usize].in_flight += 1;
        let task = TaskRef {
            id: task,
            seed: task_seed,
            author,
            group: group_index,
            attempt: 1,
            failures: 0,
            class,
            started_at: now,
            tasks: 1,
        };
        self.propose(task, sched);
    }

    /// A task of `author` is done or given up: its slot is free for waiting work.
    pub(crate) fn task_closed(&mut self, author: u32, sched: &mut Scheduler<Event>) {
        let a = &mut self.authors[author as usize];
        if self.cfg.authors[a.group as usize].flow.wip_limit.is_none() {
            return;
        }
        a.in_flight -= 1;
        if !a.backlog.is_empty() {
            // Through an event, so a chain of instant deploys never recurses.
            sched.at(sched.now(), Event::Pull { author });
        }
    }

    /// Takes waiting tasks into free slots, batching up to `batch_max` per change.
    fn on_pull(&mut self, author: u32, sched: &mut Scheduler<Event>) {
        let now = sched.now();
        let group_index = self.authors[author as usize].group;
        let flow = self.cfg.authors[group_index as usize].flow;
        let limit = flow.wip_limit.unwrap_or(u32::MAX);
        while self.authors[author as usize].in_flight < limit {
            let Some(lead) = self.authors[author as usize].backlog.pop_front() else {
                return;
            };
            self.backlog -= 1;
            let mut tasks = 1;
            while tasks < flow.batch_max {
                let Some(t) = self.authors[author as usize].backlog.pop_front() else {
                    break;
                };
                self.backlog -= 1;
                tasks += 1;
                let backlog = self.backlog;
                self.emit(
                    now,
                    TraceEvent::TaskBatched {
                        task: t.id,
                        into: lead.id,
                        backlog,
                    },
                );
            }
            let backlog = self.backlog;
            self.emit(
                now,
                TraceEvent::TaskResumed {
                    task: lead.id,
                    tasks,
                    waited_ms: now.saturating_since(lead.arrived).as_ms(),
                    backlog,
                },
            );
            self.authors[author as usize].in_flight += 1;
            let task = TaskRef {
                id: lead.id,
                seed: lead.seed,
                author,
                group: group_index,
                attempt: 1,
                failures: 0,
                class: lead.class,
                started_at: lead.arrived,
                tasks,
            };
            self.propose(task, sched);
        }
    }

    /// A waiting task's patience is over: it is given up if still waiting. Patience is
    /// the same for every task of a group and the backlog is FIFO, so a task still
    /// waiting is at the front.
    fn on_expire(&mut self, author: u32, task: u64, sched: &mut Scheduler<Event>) {
        let a = &mut self.authors[author as usize];
        if a.backlog.front().is_none_or(|w| w.id != task) {
            return;
        }
        a.backlog.pop_front();
        self.backlog -= 1;
        let backlog = self.backlog;
        self.emit(sched.now(), TraceEvent::TaskExpired { task, backlog });
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
            now,
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
                tasks: task.tasks,
            },
        );
        let slot = self.alloc(change);
        // Access control: an action outside the grant is refused outright.
        let granted = ClassSet(group.permissions.0 | self.extra_permissions[g].0);
        if !granted.contains(task.class) {
            self.emit(
                now,
                TraceEvent::Refused {
                    change: id,
                    kind: group.kind,
                },
            );
            self.report_outcome(slot, Outcome::Refused, sched);
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
                predicted_users: view.predicted_users,
            },
        );
        match need {
            ReviewNeed::None => self.approved(slot, sched),
            ReviewNeed::Peer => self.request_reviews(slot, 1, false, sched),
            ReviewNeed::Senior => self.request_reviews(slot, 1, true, sched),
            ReviewNeed::TwoPerson => self.request_reviews(slot, 2, false, sched),
        }
    }
}

/// Why an attempt failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Failure {
    Refused,
    Rejected,
    Blocked,
    Incident,
    Ineffective,
}

impl<S: TraceSink> Model for World<'_, S> {
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
                tasks,
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
                    tasks,
                };
                self.propose(task, sched);
            }
            Event::Expire { author, task } => self.on_expire(author, task, sched),
            Event::Pull { author } => self.on_pull(author, sched),
            Event::Built { slot, generation } => self.on_built(slot, generation, sched),
            Event::Shipped { slot, generation } => self.on_shipped(slot, generation, sched),
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
            Event::Restored { incident } => self.on_restored(incident, sched),
            Event::BreakerTick => {
                self.tick_breakers(sched);
                sched.after(SimDuration::from_ms(MS_PER_HOUR), Event::BreakerTick);
            }
            Event::AgentRecheck { agent } => {
                // The open period is over: the breaker half-opens on the next permit and
                // allows a few trials; wake that many (a later transition wakes the rest).
                let trials = self.cfg.breakers.agent.map_or(1, |a| a.half_open_trials) as usize;
                self.wake_agent(agent, trials, sched);
            }
            Event::Recheck => {
                self.rechecks.remove(&sched.now().as_ms());
                self.tick_breakers(sched);
            }
            Event::Fault { fault, on } => self.on_fault(fault, on, sched),
        }
    }
}

/// How a run ended, besides its trace: what the metrics need that no event carries.
#[derive(Clone, Debug)]
pub struct RunEnd {
    /// Which limit ended the run.
    pub stop: StopReason,
    /// Hash of every dispatched event: the witness of determinism.
    pub fingerprint: u64,
    /// The services hit by the run's worst incident (largest user-impact minutes).
    pub worst_hit: Vec<ServiceId>,
}

/// Simulates one run of `world` from `seed`, reporting every trace event to `sink`: a pure
/// function of its arguments. Hands the sink back with how the run ended.
pub fn run<S: TraceSink>(world: &WorldConfig, seed: Seed, sink: S) -> (S, RunEnd) {
    let mut sim = Simulation::new(World::new(world, seed, sink));
    let horizon = SimTime::ZERO + world.horizon;
    {
        let (model, sched) = sim.parts();
        model.start(sched);
    }
    let stop = sim.run_until(horizon, world.events_max);
    let events = sim.events();
    let fingerprint = sim.fingerprint();
    {
        let (model, sched) = sim.parts();
        model.finish(sched);
    }
    let mut model = sim.into_model();
    model.emit(horizon, TraceEvent::RunEnded { events });
    let worst_hit = model.incidents.worst.1.iter().map(|h| h.service).collect();
    let end = RunEnd {
        stop,
        fingerprint,
        worst_hit,
    };
    (model.sink, end)
}
