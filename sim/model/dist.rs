//! Distributions of durations and sizes, sampled into integers.
//!
//! Sampling is the one place floats become simulated time: every draw is rounded to whole
//! milliseconds by `SimDuration::from_ms_f64`.

use rand::RngExt;
use rand_distr::{Distribution, Exp, LogNormal};

use crate::engine::SimDuration;

/// A distribution of durations.
#[derive(Clone, Debug, PartialEq)]
pub enum DurationDist {
    /// Always the same value.
    Fixed(SimDuration),
    /// Exponential with the given mean (memoryless; for queueing-theory checks).
    Exponential {
        /// The mean.
        mean: SimDuration,
    },
    /// Lognormal with the given median and shape σ (repair and review times).
    Lognormal {
        /// The median, `exp(μ)`.
        median: SimDuration,
        /// The shape σ of the underlying normal.
        sigma: f64,
    },
    /// Uniform between two bounds, inclusive.
    Uniform {
        /// The lower bound.
        min: SimDuration,
        /// The upper bound.
        max: SimDuration,
    },
}

impl DurationDist {
    /// Draws one duration.
    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> SimDuration {
        match *self {
            DurationDist::Fixed(d) => d,
            DurationDist::Exponential { mean } => {
                if mean.as_ms() == 0 {
                    return SimDuration::ZERO;
                }
                let exp = Exp::new(1.0).expect("rate 1 is valid");
                SimDuration::from_ms_f64(exp.sample(rng) * mean.as_ms() as f64)
            }
            DurationDist::Lognormal { median, sigma } => {
                if median.as_ms() == 0 {
                    return SimDuration::ZERO;
                }
                let ln = LogNormal::new((median.as_ms() as f64).ln(), sigma)
                    .expect("sigma validated to be finite and non-negative");
                SimDuration::from_ms_f64(ln.sample(rng))
            }
            DurationDist::Uniform { min, max } => {
                SimDuration(rng.random_range(min.as_ms()..=max.as_ms()))
            }
        }
    }

    /// The mean of the distribution, in milliseconds (for theory checks and reports).
    pub fn mean_ms(&self) -> f64 {
        match *self {
            DurationDist::Fixed(d) => d.as_ms() as f64,
            DurationDist::Exponential { mean } => mean.as_ms() as f64,
            DurationDist::Lognormal { median, sigma } => {
                median.as_ms() as f64 * (sigma * sigma / 2.0).exp()
            }
            DurationDist::Uniform { min, max } => (min.as_ms() + max.as_ms()) as f64 / 2.0,
        }
    }
}

/// A lognormal distribution of change sizes in lines of code.
#[derive(Clone, Debug, PartialEq)]
pub struct SizeDist {
    /// The median size in lines.
    pub median_loc: f64,
    /// The shape σ of the underlying normal.
    pub sigma: f64,
}

impl SizeDist {
    /// Draws a size of at least one line.
    pub fn sample<R: rand::Rng + ?Sized>(&self, rng: &mut R) -> u32 {
        let ln = LogNormal::new(self.median_loc.max(1.0).ln(), self.sigma)
            .expect("sigma validated to be finite and non-negative");
        let v = ln.sample(rng).round();
        v.clamp(1.0, 1_000_000.0) as u32
    }
}
