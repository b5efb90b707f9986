//! The run loop: pop the earliest event, advance the clock, hand it to the model.
//!
//! A `Model` is the only thing that knows what events mean; the loop knows time, order,
//! limits and the fingerprint. Everything is single-threaded: parallelism happens across
//! runs, never inside one.

use std::hash::{Hash, Hasher};

use crate::engine::queue::{EventKey, EventQueue};
use crate::engine::time::{SimDuration, SimTime};

/// A simulated system: it reacts to its own events by changing state and scheduling more.
pub trait Model {
    /// The closed set of events, dispatched by one `match`.
    type Event: Hash;
    /// Handles one event at time `sched.now()`.
    fn handle(&mut self, event: Self::Event, sched: &mut Scheduler<Self::Event>);
}

/// The clock and the pending events, as a model sees them.
pub struct Scheduler<E> {
    queue: EventQueue<E>,
    now: SimTime,
}

impl<E> Scheduler<E> {
    /// The current simulated time.
    pub fn now(&self) -> SimTime {
        self.now
    }
    /// Schedules `event` at absolute time `at` (not before now).
    pub fn at(&mut self, at: SimTime, event: E) -> EventKey {
        debug_assert!(at >= self.now, "scheduled in the past: {at} < {}", self.now);
        self.queue.schedule(at.max(self.now), event)
    }
    /// Schedules `event` after `delay`.
    pub fn after(&mut self, delay: SimDuration, event: E) -> EventKey {
        self.queue.schedule(self.now + delay, event)
    }
    /// Cancels a pending event.
    pub fn cancel(&mut self, key: EventKey) -> bool {
        self.queue.cancel(key)
    }
}

/// Why a run stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StopReason {
    /// The next event was past the horizon.
    Horizon,
    /// The event budget ran out first.
    EventBudget,
    /// No event was left.
    Exhausted,
}

impl StopReason {
    /// The name written to `runs.csv`.
    pub fn name(self) -> &'static str {
        match self {
            StopReason::Horizon => "horizon",
            StopReason::EventBudget => "event_budget",
            StopReason::Exhausted => "exhausted",
        }
    }
}

/// FNV-1a over 64 bits: a small, fixed, portable hash for the determinism fingerprint.
#[derive(Clone, Copy, Debug)]
pub struct Fingerprint(u64);

impl Default for Fingerprint {
    fn default() -> Self {
        Fingerprint(0xcbf2_9ce4_8422_2325)
    }
}

impl Hasher for Fingerprint {
    fn finish(&self) -> u64 {
        self.0
    }
    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 ^= b as u64;
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }
}

/// A model, its clock and its queue.
pub struct Simulation<M: Model> {
    /// The model being simulated.
    pub model: M,
    sched: Scheduler<M::Event>,
    fingerprint: Fingerprint,
    events: u64,
}

impl<M: Model> Simulation<M> {
    /// A simulation at time zero with nothing scheduled.
    pub fn new(model: M) -> Self {
        Simulation {
            model,
            sched: Scheduler {
                queue: EventQueue::new(),
                now: SimTime::ZERO,
            },
            fingerprint: Fingerprint::default(),
            events: 0,
        }
    }

    /// The scheduler, to seed initial events.
    pub fn scheduler(&mut self) -> &mut Scheduler<M::Event> {
        &mut self.sched
    }

    /// Runs until the next event is after `horizon` or `events_max` events were dispatched.
    /// The clock ends at the horizon when the horizon stopped it.
    pub fn run_until(&mut self, horizon: SimTime, events_max: u64) -> StopReason {
        loop {
            if self.events >= events_max {
                return StopReason::EventBudget;
            }
            match self.sched.queue.peek_time() {
                None => return StopReason::Exhausted,
                Some(t) if t > horizon => {
                    self.sched.now = horizon;
                    return StopReason::Horizon;
                }
                Some(_) => {}
            }
            let Some((key, event)) = self.sched.queue.pop() else {
                return StopReason::Exhausted;
            };
            self.sched.now = key.time;
            key.time.0.hash(&mut self.fingerprint);
            key.seq.hash(&mut self.fingerprint);
            event.hash(&mut self.fingerprint);
            self.events += 1;
            self.model.handle(event, &mut self.sched);
        }
    }

    /// The model and the scheduler together, to seed initial events from the model.
    pub fn parts(&mut self) -> (&mut M, &mut Scheduler<M::Event>) {
        (&mut self.model, &mut self.sched)
    }

    /// Ends the simulation and hands back the model.
    pub fn into_model(self) -> M {
        self.model
    }

    /// The running fingerprint of every dispatched event.
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint.finish()
    }
    /// Events dispatched so far.
    pub fn events(&self) -> u64 {
        self.events
    }
    /// The current simulated time.
    pub fn now(&self) -> SimTime {
        self.sched.now
    }
}
