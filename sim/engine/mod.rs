//! The domain-free discrete-event kernel: integer time, the event queue, the run loop and
//! seeded random streams, plus the hold model that measures their speed.
//!
//! Architecture Invariant: nothing in `engine` names a domain concept (no agent, change or
//! service), reads the clock or the environment, or iterates a hash map.

pub mod hold;
pub mod queue;
pub mod rng;
pub mod sim;
pub mod time;

pub use queue::{EventKey, EventQueue, PENDING_MAX, SCHEDULED_MAX};
pub use rng::{Seed, StreamRng, splitmix64};
pub use sim::{Fingerprint, Model, Scheduler, Simulation, StopReason};
pub use time::{DurationError, SimDuration, SimTime};
