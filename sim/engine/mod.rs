//! The domain-free discrete-event kernel: integer time, the event queue, the run loop and
//! seeded random streams.
//!
//! Architecture Invariant: nothing in `engine` names a domain concept (no agent, change or
//! service), reads the clock or the environment, or iterates a hash map.

pub mod queue;
pub mod rng;
pub mod sim;
pub mod time;

pub use queue::{EventKey, EventQueue};
pub use rng::{Seed, StreamRng, splitmix64};
pub use sim::{Fingerprint, Model, Scheduler, Simulation, StopReason};
pub use time::{DurationError, SimDuration, SimTime};
