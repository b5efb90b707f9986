//! The one integration-test binary: each area of the crate has a module here, so the crate
//! is linked once and `cargo test --test it <filter>` runs one area.

mod engine;
mod tidy;
