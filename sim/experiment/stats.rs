//! Statistics over replications: mean, sd, Student-t 95% confidence intervals, quantiles,
//! and paired differences against the baseline arm.
//!
//! Pure functions on slices, evaluated sequentially in replication order, so the same
//! inputs give the same bits on any thread count. Nothing here returns NaN for finite
//! input: with n = 1 the sd is 0 and the interval collapses to the mean (there is no
//! spread to estimate from one value); with n = 0 every figure is 0 and `n` says so.

use statrs::distribution::{ContinuousCDF, StudentsT};

/// Descriptive statistics of one metric over the replications of one arm × point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Describe {
    /// Number of values.
    pub n: usize,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation (n − 1 in the denominator); 0 when n < 2.
    pub sd: f64,
    /// Lower end of the 95% confidence interval of the mean (Student t).
    pub ci95_low: f64,
    /// Upper end of the 95% confidence interval of the mean (Student t).
    pub ci95_high: f64,
    /// Median (linear interpolation between order statistics).
    pub p50: f64,
    /// 95th percentile (linear interpolation between order statistics).
    pub p95: f64,
    /// Largest value.
    pub max: f64,
}

impl Describe {
    /// Half the width of the 95% confidence interval.
    pub fn ci95_half_width(&self) -> f64 {
        (self.ci95_high - self.ci95_low) / 2.0
    }
}

/// The paired difference of an arm against the baseline at the same point.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Paired {
    /// Number of replications present in both arms.
    pub n: usize,
    /// Mean of (arm − baseline) over those replications.
    pub mean: f64,
    /// Lower end of the 95% confidence interval of that mean (Student t).
    pub ci95_low: f64,
    /// Upper end of the 95% confidence interval of that mean (Student t).
    pub ci95_high: f64,
    /// Var(arm − baseline) / (Var(arm) + Var(baseline)) over the same replications: the
    /// variance of the paired estimate relative to what independent seeds would give
    /// (below 1 means common random numbers helped). `None` when it is undefined: fewer
    /// than two pairs, or both arms without any spread.
    pub variance_ratio: Option<f64>,
}

/// Mean of a slice in order; 0 for an empty slice.
pub fn mean(values: &[f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    let mut sum = 0.0;
    for &v in values {
        sum += v;
    }
    sum / values.len() as f64
}

/// Sample variance (n − 1 in the denominator); 0 when n < 2.
pub fn variance(values: &[f64]) -> f64 {
    if values.len() < 2 {
        return 0.0;
    }
    let m = mean(values);
    let mut ss = 0.0;
    for &v in values {
        ss += (v - m) * (v - m);
    }
    ss / (values.len() - 1) as f64
}

/// The 0.975 quantile of Student's t with `df` degrees of freedom (df ≥ 1).
pub fn t_975(df: usize) -> f64 {
    assert!(df >= 1, "t quantile needs at least one degree of freedom");
    StudentsT::new(0.0, 1.0, df as f64)
        .expect("location 0, scale 1 and df >= 1 are valid")
        .inverse_cdf(0.975)
}

/// The 95% confidence interval of the mean: mean ± t(0.975, n−1) · sd / √n; the mean
/// itself when n < 2.
pub fn ci95(values: &[f64]) -> (f64, f64) {
    let m = mean(values);
    if values.len() < 2 {
        return (m, m);
    }
    let half = t_975(values.len() - 1) * variance(values).sqrt() / (values.len() as f64).sqrt();
    (m - half, m + half)
}

pub use crate::metrics::quantile_sorted;

/// Every descriptive figure of one metric's values.
pub fn describe(values: &[f64]) -> Describe {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let (ci95_low, ci95_high) = ci95(values);
    Describe {
        n: values.len(),
        mean: mean(values),
        sd: variance(values).sqrt(),
        ci95_low,
        ci95_high,
        p50: quantile_sorted(&sorted, 0.5),
        p95: quantile_sorted(&sorted, 0.95),
        max: sorted.last().copied().unwrap_or(0.0),
    }
}

/// The paired difference `arm − baseline` over replications present in both.
///
/// `arm` and `baseline` hold one value per replication (`None` where a run is missing,
/// e.g. in a shard), indexed by replication, so pairs always share a seed.
pub fn paired(arm: &[Option<f64>], baseline: &[Option<f64>]) -> Paired {
    let mut xs = Vec::new();
    let mut bs = Vec::new();
    for (a, b) in arm.iter().zip(baseline) {
        if let (Some(a), Some(b)) = (a, b) {
            xs.push(*a);
            bs.push(*b);
        }
    }
    let diffs: Vec<f64> = xs.iter().zip(&bs).map(|(a, b)| a - b).collect();
    let (ci95_low, ci95_high) = ci95(&diffs);
    let independent = variance(&xs) + variance(&bs);
    let variance_ratio = if diffs.len() >= 2 && independent > 0.0 {
        Some(variance(&diffs) / independent)
    } else {
        None
    };
    Paired {
        n: diffs.len(),
        mean: mean(&diffs),
        ci95_low,
        ci95_high,
        variance_ratio,
    }
}
