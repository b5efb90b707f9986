//! The classic hold model, the standard speed test of an event queue, shared by
//! `examples/hold.rs`, `benches/engine.rs` and the tests.
//!
//! K events are pending; each step pops the earliest and schedules one more at
//! `now + Exp(mean)`, rounded to whole milliseconds. [`hold_engine`] runs it through the
//! real [`Simulation`] (model dispatch, payload, fingerprint included); [`hold_baseline`]
//! runs the same draws through a bare `BinaryHeap<Reverse<(time, seq)>>` loop. Both break
//! ties by seq, so given the same seed they dispatch the same event times and end at the
//! same simulated time: the comparison is like for like.
//!
//! [`hold_engine_timeouts`] prices cancellation: each firing also arms a timeout far ahead
//! and cancels the token's previous one, so half of all scheduled events are cancelled.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use rand::RngExt;
use rand_distr::Exp1;

use crate::engine::queue::EventKey;
use crate::engine::rng::{Seed, StreamRng};
use crate::engine::sim::{Model, Scheduler, Simulation};
use crate::engine::time::{SimDuration, SimTime};

/// The stream kind the hold model draws its delays from.
pub const HOLD_STREAM: u64 = 0x401d;

/// What one hold run did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HoldOutcome {
    /// Events dispatched.
    pub events: u64,
    /// Simulated time of the last dispatched event.
    pub end: SimTime,
    /// The engine's fingerprint (0 for the baseline, which keeps none).
    pub fingerprint: u64,
    /// Entries left in the queue, cancelled ones included.
    pub pending: usize,
}

/// One pending token; the payload is carried so the engine pays for a real payload.
#[derive(Clone, Copy, Debug, Hash)]
pub struct Token(pub u32);

/// The hold model: each token, when it fires, schedules itself again.
pub struct Hold {
    rng: StreamRng,
    mean_ms: f64,
}

impl Hold {
    /// A hold model drawing delays with mean `mean_ms` from `seed`'s hold stream.
    pub fn new(seed: Seed, mean_ms: f64) -> Self {
        Hold {
            rng: seed.stream(HOLD_STREAM, 0),
            mean_ms,
        }
    }

    /// The next delay in whole milliseconds.
    #[inline(always)]
    pub fn delay_ms(&mut self) -> u64 {
        let x: f64 = self.rng.sample(Exp1);
        SimDuration::from_ms_f64(x * self.mean_ms).as_ms()
    }
}

impl Model for Hold {
    type Event = Token;

    #[inline(always)]
    fn handle(&mut self, event: Token, sched: &mut Scheduler<Token>) {
        let delay = SimDuration::from_ms(self.delay_ms());
        sched.after(delay, event);
    }
}

/// Runs the hold model through the engine: `pending` initial tokens, then `events` events.
pub fn hold_engine(seed: Seed, pending: u32, events: u64, mean_ms: f64) -> HoldOutcome {
    let mut sim = Simulation::new(Hold::new(seed, mean_ms));
    for token in 0..pending {
        let delay = sim.model.delay_ms();
        sim.scheduler().at(SimTime(delay), Token(token));
    }
    sim.run_until(SimTime::NEVER, events);
    HoldOutcome {
        events: sim.events(),
        end: sim.now(),
        fingerprint: sim.fingerprint(),
        pending: sim.pending(),
    }
}

/// The same work as [`hold_engine`] on a plain `BinaryHeap<Reverse<(time, seq)>>`.
pub fn hold_baseline(seed: Seed, pending: u32, events: u64, mean_ms: f64) -> HoldOutcome {
    let mut hold = Hold::new(seed, mean_ms);
    let mut heap = BinaryHeap::with_capacity(pending as usize + 1);
    let mut seq = 0u64;
    for _ in 0..pending {
        heap.push(Reverse((hold.delay_ms(), seq)));
        seq += 1;
    }
    let mut now = 0u64;
    let mut done = 0u64;
    while done < events {
        let Some(Reverse((time, _))) = heap.pop() else {
            break;
        };
        now = time;
        done += 1;
        heap.push(Reverse((now + hold.delay_ms(), seq)));
        seq += 1;
    }
    HoldOutcome {
        events: done,
        end: SimTime(now),
        fingerprint: 0,
        pending: heap.len(),
    }
}

/// An event of the timeout variant.
#[derive(Clone, Copy, Debug, Hash)]
pub enum TimedToken {
    /// The token fires and reschedules itself.
    Fire(u32),
    /// The token's timeout ran out (rare: the timeout is 20 means ahead).
    Timeout(u32),
}

/// The hold model where every firing re-arms a per-token timeout, cancelling the old one.
pub struct HoldTimeouts {
    hold: Hold,
    timeouts: Vec<Option<EventKey>>,
    /// Timeouts that ran out instead of being cancelled.
    pub timeouts_fired: u64,
}

impl Model for HoldTimeouts {
    type Event = TimedToken;

    #[inline(always)]
    fn handle(&mut self, event: TimedToken, sched: &mut Scheduler<TimedToken>) {
        match event {
            TimedToken::Fire(token) => {
                let delay = SimDuration::from_ms(self.hold.delay_ms());
                sched.after(delay, TimedToken::Fire(token));
                if let Some(old) = self.timeouts[token as usize].take() {
                    sched.cancel(old);
                }
                let patience = SimDuration::from_ms_f64(20.0 * self.hold.mean_ms);
                let key = sched.after(patience, TimedToken::Timeout(token));
                self.timeouts[token as usize] = Some(key);
            }
            TimedToken::Timeout(token) => {
                self.timeouts[token as usize] = None;
                self.timeouts_fired += 1;
            }
        }
    }
}

/// The hold model with timeouts: `events` counts firings and timeouts alike.
pub fn hold_engine_timeouts(seed: Seed, pending: u32, events: u64, mean_ms: f64) -> HoldOutcome {
    let model = HoldTimeouts {
        hold: Hold::new(seed, mean_ms),
        timeouts: vec![None; pending as usize],
        timeouts_fired: 0,
    };
    let mut sim = Simulation::new(model);
    for token in 0..pending {
        let delay = sim.model.hold.delay_ms();
        sim.scheduler().at(SimTime(delay), TimedToken::Fire(token));
    }
    sim.run_until(SimTime::NEVER, events);
    HoldOutcome {
        events: sim.events(),
        end: sim.now(),
        fingerprint: sim.fingerprint(),
        pending: sim.pending(),
    }
}
