//! A change: one attempt by an author at a task, with its latent truth.
//!
//! Every random quantity a change will ever need is drawn when it is proposed, from a
//! generator seeded by `(task seed, attempt)`. So a given attempt has the same truth — and
//! the same review-detection draws, cascade and repair times — under every policy arm:
//! arms are compared on common random numbers, attempt by attempt.

use rand::RngExt;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;
use rand_distr::{Distribution, StandardNormal};

use crate::engine::{SimTime, splitmix64};
use crate::model::config::{ActionClass, AuthorGroup, AuthorKind, Severity};

/// Named uniform draws a change carries, indices into `Change::u`.
pub(crate) mod draw {
    /// Whether a sampled policy picks this change for review.
    pub(crate) const SAMPLE: usize = 0;
    /// Detection by the first and second reviewer.
    pub(crate) const DETECT: [usize; 2] = [1, 2];
    /// False rejection by the first and second reviewer.
    pub(crate) const FALSE_REJECT: [usize; 2] = [3, 4];
    /// Whether a deployed good change completes its task.
    pub(crate) const SUCCESS: usize = 5;
    /// The risk classifier's verdict.
    pub(crate) const CLASSIFIER: usize = 6;
    /// Whether a failure escalates.
    pub(crate) const ESCALATE: usize = 7;
    /// Whether a rejected task is reworked.
    pub(crate) const REWORK: usize = 8;
    /// Number of draws.
    pub(crate) const COUNT: usize = 9;
}

/// Purposes of the generators derived from a change's seed for later, variable-length draws.
pub(crate) mod purpose {
    /// Review durations.
    pub(crate) const REVIEW: u64 = 1;
    /// Detection delay and repair time.
    pub(crate) const INCIDENT: u64 = 2;
    /// Cascade propagation.
    pub(crate) const CASCADE: u64 = 3;
    /// Rework delay.
    pub(crate) const REWORK: u64 = 4;
    /// Sizes of the tasks folded into a batch after the first.
    pub(crate) const BATCH: u64 = 5;
    /// Build/test and deploy durations of the delivery pipeline.
    pub(crate) const PIPELINE: u64 = 6;
}

/// Where a change is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Phase {
    /// Waiting for or in review.
    Reviewing,
    /// Approved, in build and test.
    Building,
    /// Approved, passing the breakers (possibly held).
    Executing,
    /// Rolling out in waves.
    Deploying,
    /// Decided: deployed, rejected, refused or dropped. Kept only while reviews finish.
    Done,
}

/// The task an attempt belongs to, carried from attempt to attempt.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct TaskRef {
    /// Task id, unique in the run.
    pub(crate) id: u64,
    /// Seed of the task; attempts derive their own from it.
    pub(crate) seed: u64,
    /// Global author index.
    pub(crate) author: u32,
    /// Author group index.
    pub(crate) group: u32,
    /// Attempt number, from 1.
    pub(crate) attempt: u32,
    /// Failed attempts so far.
    pub(crate) failures: u32,
    /// Action class of this attempt.
    pub(crate) class: ActionClass,
    /// When the task started (lead time counts from the first proposal).
    pub(crate) started_at: SimTime,
    /// Tasks this change carries: 1, or more when waiting tasks were batched into it.
    pub(crate) tasks: u32,
}

/// One change in flight.
#[derive(Clone, Debug)]
pub(crate) struct Change {
    /// Slot generation, to recognise stale events and queue entries.
    pub(crate) generation: u32,
    /// Change id, unique in the run.
    pub(crate) id: u64,
    /// The task and attempt.
    pub(crate) task: TaskRef,
    /// Agent or human.
    pub(crate) kind: AuthorKind,
    /// Size in lines.
    pub(crate) size: u32,
    /// Target service.
    pub(crate) target: u32,
    /// Latently defective.
    pub(crate) defective: bool,
    /// How bad, if defective.
    pub(crate) severity: Severity,
    /// Standard normal draw for the blast-radius estimate noise.
    pub(crate) noise_z: f64,
    /// Uniform draws, see `draw`.
    pub(crate) u: [f64; draw::COUNT],
    /// Seed of this attempt.
    pub(crate) seed: u64,
    /// Where it is.
    pub(crate) phase: Phase,
    /// Reviews still needed for approval.
    pub(crate) reviews_needed: u8,
    /// Review tasks handed out so far (0, 1, 2): the slot of the next one.
    pub(crate) reviews_started: u8,
    /// Reviews in progress.
    pub(crate) reviews_in_flight: u8,
    /// The reviewer of the first review, so a second is by someone else.
    pub(crate) first_reviewer: Option<u32>,
    /// The guard has already sent it to a senior, or a senior approved it.
    pub(crate) guard_cleared: bool,
    /// When breakers first held it.
    pub(crate) held_since: Option<SimTime>,
    /// Its outcome has been reported to the per-agent breaker.
    pub(crate) outcome_recorded: bool,
    /// Incident it caused, if any.
    pub(crate) incident: Option<u32>,
    /// When this attempt was proposed.
    pub(crate) proposed_at: SimTime,
    /// When its review tasks were queued, while it waits for review.
    pub(crate) queued_at: Option<SimTime>,
    /// It has been through build and test.
    pub(crate) built: bool,
}

impl Change {
    /// Draws the truth of attempt `task.attempt` of a task by an author of `group`.
    ///
    /// `defect_multiplier` comes from an active rogue-agent fault; it scales the probability,
    /// not the draw, so the change is the same change with or without the fault.
    pub(crate) fn propose(
        now: SimTime,
        id: u64,
        task: TaskRef,
        group: &AuthorGroup,
        services: u32,
        defect_multiplier: f64,
    ) -> Change {
        let seed = attempt_seed(task.seed, task.attempt);
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut size = group.size.sample(&mut rng);
        // Every attempt at a task works on the same service: the task's own draw.
        let target = Xoshiro256PlusPlus::seed_from_u64(task.seed).random_range(0..services.max(1));
        let p_task = (group.defect_probability.get(task.class) * defect_multiplier).min(1.0);
        // A batch: the sizes of the other tasks come from their own generator, so the
        // draws below (and every single-task change) are the same with or without batching.
        let p_defect = group.flow.batch_defect(p_task, task.tasks);
        if task.tasks > 1 {
            let mut batch =
                Xoshiro256PlusPlus::seed_from_u64(splitmix64(seed ^ splitmix64(purpose::BATCH)));
            for _ in 1..task.tasks {
                size = size.saturating_add(group.size.sample(&mut batch));
            }
        }
        let defective = rng.random::<f64>() < p_defect;
        let mix = group.severity.get(task.class);
        let s: f64 = rng.random();
        let severity = if s < mix.local {
            Severity::Local
        } else if s < mix.local + mix.cascading {
            Severity::Cascading
        } else {
            Severity::EnvironmentDeletion
        };
        let noise_z: f64 = StandardNormal.sample(&mut rng);
        let mut u = [0.0; draw::COUNT];
        for x in &mut u {
            *x = rng.random();
        }
        Change {
            generation: 0,
            id,
            task,
            kind: group.kind,
            size,
            target,
            defective,
            severity,
            noise_z,
            u,
            seed,
            phase: Phase::Reviewing,
            reviews_needed: 0,
            reviews_started: 0,
            reviews_in_flight: 0,
            first_reviewer: None,
            guard_cleared: false,
            held_since: None,
            outcome_recorded: false,
            incident: None,
            proposed_at: now,
            queued_at: None,
            built: false,
        }
    }

    /// A generator for one later purpose (see `purpose`), independent of the others.
    pub(crate) fn rng(&self, purpose: u64) -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(splitmix64(self.seed ^ splitmix64(purpose)))
    }
}

/// The seed of one attempt of a task.
pub(crate) fn attempt_seed(task_seed: u64, attempt: u32) -> u64 {
    splitmix64(task_seed ^ splitmix64(attempt as u64))
}

/// The class of a task's first attempt, drawn from the group's mix with uniform `u`.
pub(crate) fn first_class(group: &AuthorGroup, u: f64) -> ActionClass {
    let mut acc = 0.0;
    for class in ActionClass::ALL {
        acc += group.mix.get(class);
        if u < acc {
            return class;
        }
    }
    // Rounding can leave u just above the last cumulative sum: take the last class with mass.
    ActionClass::ALL
        .into_iter()
        .rev()
        .find(|&c| group.mix.get(c) > 0.0)
        .unwrap_or(ActionClass::Code)
}
