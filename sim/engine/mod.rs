//! The domain-free discrete-event kernel: integer time, the event queue, the run loop and
//! seeded random streams, plus the hold model that measures their speed.
//!
//! Architecture Invariant: nothing in `engine` names a domain concept (no agent, change or
//! service), reads the clock or the environment, or iterates a hash map.
//!
//! # Ordering and determinism guarantees
//!
//! - Events run in `(time, seq)` order: by time, and among equal times in the order they
//!   were scheduled. Nothing else (payload, hash, memory address) can reorder them.
//! - A cancelled event never runs and never counts toward the event budget.
//! - All randomness comes from [`Seed::stream`]`(kind, entity)`: each (kind, entity) pair
//!   has its own ChaCha8 stream, so adding or using a stream never shifts another.
//! - [`Simulation::fingerprint`] hashes every dispatched event's time, seq and payload; two
//!   runs of the same model from the same seed give the same fingerprint and event count,
//!   on every platform with the same float library.
//!
//! # Speed
//!
//! The queue is a 4-ary heap of 16-byte integer keys with payloads in a side slab (see
//! `queue`). `cargo run --release --example hold -- --events 10000000 --pending 1000
//! --baseline` runs the hold model through the engine and through a plain `BinaryHeap`
//! loop; `cargo bench --bench engine` does the same at K = 10^2, 10^3 and 10^5.

pub mod hold;
pub mod queue;
pub mod rng;
pub mod sim;
pub mod time;

pub use queue::{EventKey, EventQueue, PENDING_MAX, SCHEDULED_MAX};
pub use rng::{Seed, StreamRng, splitmix64};
pub use sim::{Fingerprint, Model, Scheduler, Simulation, StopReason};
pub use time::{DurationError, SimDuration, SimTime};
