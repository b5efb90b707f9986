//! The one integration-test binary: each area of the crate has a module here.

mod breaker;
mod case_study;
mod chaos;
mod decision;
mod determinism;
mod engine;
mod experiment;
mod fuzz;
mod graph;
mod readers_fuzz;
mod report;
mod scenario;
mod sensitivity;
mod support;
mod theory;
mod tidy;
mod velocity;
mod world;
