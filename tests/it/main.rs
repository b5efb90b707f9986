//! The one integration-test binary: each module tests one area of the crate.

mod breaker;
mod support;
mod world;
