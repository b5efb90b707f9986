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
    /// Schedules `event` at absolute time `at`; a time before now is a bug (it panics in
    /// debug builds and is clamped to now in release builds).
    pub fn at(&mut self, at: SimTime, event: E) -> EventKey {
        debug_assert!(at >= self.now, "scheduled in the past: {at} < {}", self.now);
        self.queue.schedule(at.max(self.now), event)
    }
    /// Schedules `event` after `delay`.
    pub fn after(&mut self, delay: SimDuration, event: E) -> EventKey {
        self.queue.schedule(self.now + delay, event)
    }
    /// Cancels a pending event; false if it already ran or was already cancelled.
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

/// The determinism fingerprint: an FxHash-style multiply-rotate over 64-bit words.
///
/// Every dispatched event adds its time, its seq and its payload's `Hash` words. One
/// multiply per word keeps it cheap (bytewise FNV cost a multiply per byte). Integers are
/// hashed by value, not by their native bytes, and `usize`/`isize` (enum discriminants)
/// are widened to 64 bits, so the fingerprint is the same on every platform.
///
/// Each step `h -> (rotl(h, 5) ^ w) * K` is a bijection of `h` for a fixed word `w` and of
/// `w` for a fixed `h` (K is odd), so two event histories that differ in a single word
/// always end with different fingerprints.
#[derive(Clone, Copy, Debug)]
pub struct Fingerprint(u64);

/// The FxHash multiplier (odd, from rustc's FxHasher).
const FX_K: u64 = 0xf135_7aea_2e62_a9c5;

impl Default for Fingerprint {
    fn default() -> Self {
        Fingerprint(0xcbf2_9ce4_8422_2325)
    }
}

impl Fingerprint {
    /// Folds one 64-bit word in.
    #[inline(always)]
    pub fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(FX_K);
    }
}

impl Hasher for Fingerprint {
    #[inline]
    fn finish(&self) -> u64 {
        self.0
    }
    /// Bytes are read as little-endian words; the length goes in too, so "ab" + "c" and
    /// "a" + "bc" differ.
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().expect("chunks_exact gives 8"));
            self.add(word);
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
        self.add(bytes.len() as u64);
    }
    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(i as u64);
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_u128(&mut self, i: u128) {
        self.add(i as u64);
        self.add((i >> 64) as u64);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
    #[inline]
    fn write_i8(&mut self, i: i8) {
        self.add(i as i64 as u64);
    }
    #[inline]
    fn write_i16(&mut self, i: i16) {
        self.add(i as i64 as u64);
    }
    #[inline]
    fn write_i32(&mut self, i: i32) {
        self.add(i as i64 as u64);
    }
    #[inline]
    fn write_i64(&mut self, i: i64) {
        self.add(i as u64);
    }
    #[inline]
    fn write_i128(&mut self, i: i128) {
        self.write_u128(i as u128);
    }
    #[inline]
    fn write_isize(&mut self, i: isize) {
        self.add(i as i64 as u64);
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

    /// Runs until the next event is after `horizon` or `events_max` events were dispatched
    /// in total (over every call), and says which limit stopped it.
    ///
    /// The budget is checked first: with the budget spent, the run stops with
    /// `EventBudget` even if nothing is left. Then an empty queue gives `Exhausted` (the
    /// clock stays at the last event), and a next event after `horizon` gives `Horizon`
    /// (the clock moves to the horizon). Events at exactly `horizon` are dispatched.
    pub fn run_until(&mut self, horizon: SimTime, events_max: u64) -> StopReason {
        loop {
            if self.events >= events_max {
                return StopReason::EventBudget;
            }
            let Some((key, event)) = self.sched.queue.pop_at_or_before(horizon) else {
                if self.sched.queue.is_empty() {
                    return StopReason::Exhausted;
                }
                self.sched.now = self.sched.now.max(horizon);
                return StopReason::Horizon;
            };
            self.sched.now = key.time;
            self.fingerprint.add(key.time.0);
            self.fingerprint.add(key.seq);
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

    /// Pending entries in the queue, including cancelled ones not yet dropped.
    pub fn pending(&self) -> usize {
        self.sched.queue.len()
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
