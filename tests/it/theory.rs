//! The closed loop against queueing theory: N authors with a WIP limit of one, exponential
//! think and review times and c reviewers are the finite-source M/M/c//N queue (machine
//! repair); plus the accounting the closed loop added (utilisation within scheduled time,
//! censored lead times, the instability flag).

use blastsim::engine::{Seed, SimDuration};
use blastsim::metrics::simulate;
use blastsim::model::config::*;

use crate::support::*;

/// The M/M/c//N queue with `n` sources of think rate `lambda` and `c` servers of rate
/// `mu`: (mean wait in queue, throughput), by the exact stationary distribution
/// p_k ∝ C(n,k) r^k for k ≤ c and C(n,k) k!/(c! c^(k−c)) r^k above, r = λ/μ.
fn machine_repair(n: u32, c: u32, lambda: f64, mu: f64) -> (f64, f64) {
    let r = lambda / mu;
    let mut weights = Vec::new();
    let mut binom = 1.0; // C(n, k)
    for k in 0..=n {
        if k > 0 {
            binom *= (n - k + 1) as f64 / k as f64;
        }
        let w = if k <= c {
            binom * r.powi(k as i32)
        } else {
            // k! / (c! c^(k−c)) = Π_{j=c+1..k} j / c
            let extra: f64 = (c + 1..=k).map(|j| j as f64 / c as f64).product();
            binom * extra * r.powi(k as i32)
        };
        weights.push(w);
    }
    let total: f64 = weights.iter().sum();
    let p: Vec<f64> = weights.iter().map(|w| w / total).collect();
    let l: f64 = p.iter().enumerate().map(|(k, p)| k as f64 * p).sum();
    let lq: f64 = p
        .iter()
        .enumerate()
        .filter(|(k, _)| *k as u32 > c)
        .map(|(k, p)| (k as f64 - c as f64) * p)
        .sum();
    let throughput = lambda * (n as f64 - l);
    (lq / throughput, throughput)
}

/// `n` authors around the clock, each thinking an exponential `1/lambda` hours per task
/// when free, at most one change in flight and no backlog (a task is only taken on when
/// the author is free: by memorylessness the next arrival after the slot frees is a
/// fresh exponential think time), `c` exponential reviewers, nothing defective.
fn closed_world(n: u32, c: u32, lambda_per_h: f64, review_mean: SimDuration) -> WorldConfig {
    let mut a = authors("authors", AuthorKind::Human, n, lambda_per_h * 24.0);
    a.flow = Flow {
        wip_limit: Some(1),
        backlog_max: 0,
        ..Flow::OPEN
    };
    let mut w = world(
        chain(3),
        vec![a],
        vec![reviewers("pool", Seniority::Junior, c, review_mean)],
    );
    w.horizon = SimDuration::from_days(365);
    w
}

#[test]
fn closed_loop_matches_the_machine_repair_queue() {
    // N = 10 authors thinking 5 h on average (λ = 0.2/h), c = 2 reviewers of 1 h mean
    // (μ = 1/h): offered load 2/h against capacity 2/h when all think, so the queue is
    // busy but finite. Eight independent simulated years (≈ 14 000 reviews each); the
    // grand means must be within 3% of theory (and the wait within 4 standard errors).
    let (n, c, lambda, mu) = (10, 2, 0.2, 1.0);
    let (wq, x) = machine_repair(n, c, lambda, mu);
    // By hand for the formula's sake: at N = 1 the queue is never waited on.
    assert_eq!(machine_repair(1, 1, 0.5, 1.0).0, 0.0);
    let runs: Vec<(f64, f64)> = (0..8)
        .map(|s| {
            let out = simulate(&closed_world(n, c, lambda, hours(1)), Seed(300 + s)).summary;
            (out.review_wait_h_mean, out.reviews_done / (365.0 * 24.0))
        })
        .collect();
    let k = runs.len() as f64;
    let mean_w = runs.iter().map(|r| r.0).sum::<f64>() / k;
    let mean_x = runs.iter().map(|r| r.1).sum::<f64>() / k;
    let sd_w = (runs.iter().map(|r| (r.0 - mean_w).powi(2)).sum::<f64>() / (k - 1.0)).sqrt();
    let se_w = sd_w / k.sqrt();
    eprintln!(
        "M/M/c//N: Wq {mean_w:.4} h (SE {se_w:.4}) vs {wq:.4} h; X {mean_x:.4}/h vs {x:.4}/h"
    );
    assert!(
        (mean_w / wq - 1.0).abs() < 0.03 && (mean_w - wq).abs() < 4.0 * se_w.max(1e-9),
        "simulated Wq {mean_w:.4} h (SE {se_w:.4}) vs machine repair {wq:.4} h"
    );
    assert!(
        (mean_x / x - 1.0).abs() < 0.03,
        "simulated throughput {mean_x:.4}/h vs machine repair {x:.4}/h"
    );
}

/// Reviewers on 09:00–17:00, Monday to Friday, with more work than they can do.
fn overloaded_office() -> WorldConfig {
    let office = WorkingHours {
        start_min: 9 * 60,
        end_min: 17 * 60,
        days: 0b001_1111,
        utc_offset_min: 0,
    };
    let mut r = reviewers("seniors", Seniority::Senior, 3, mins(45));
    r.hours = Some(office);
    let mut w = world(
        chain(3),
        vec![authors("agents", AuthorKind::Agent, 10, 12.0)],
        vec![r],
    );
    w.policy = policy("senior", Requirement::Senior);
    w.horizon = SimDuration::from_days(56);
    w
}

#[test]
fn reviewing_never_exceeds_scheduled_time() {
    // Before reviews paused at the end of the working day, a review started at 16:59
    // counted its whole span (the night included) as busy time: utilisation above 1.
    let w = overloaded_office();
    let s = simulate(&w, Seed(5)).summary;
    let scheduled_h_per_week = 3.0 * 40.0;
    assert!(
        s.reviewer_utilisation <= 1.0 && s.reviewer_utilisation > 0.95,
        "utilisation {}",
        s.reviewer_utilisation
    );
    assert!(
        s.senior_review_h_per_week <= scheduled_h_per_week + 1e-9,
        "{} senior hours a week against {scheduled_h_per_week} scheduled",
        s.senior_review_h_per_week
    );
    assert!(s.review_load_ratio > 1.0, "load {}", s.review_load_ratio);
}

#[test]
fn an_overloaded_open_loop_is_flagged_and_its_waits_are_censored() {
    let s = simulate(&overloaded_office(), Seed(5)).summary;
    assert_eq!(
        s.queue_unstable, 1.0,
        "the review queue grows without bound"
    );
    assert!(
        s.lead_time_censored_share > 0.5,
        "most changes are still waiting at the horizon: {}",
        s.lead_time_censored_share
    );
    // A stable queue is not flagged.
    let stable = simulate(
        &{
            let mut w = world(
                chain(3),
                vec![authors("a", AuthorKind::Human, 1, 24.0)],
                vec![reviewers("r", Seniority::Junior, 2, hours(1))],
            );
            w.horizon = SimDuration::from_days(120);
            w
        },
        Seed(5),
    )
    .summary;
    assert_eq!(stable.queue_unstable, 0.0);
    assert!(stable.lead_time_censored_share < 0.01);
}

#[test]
fn the_closed_loop_bounds_the_queue_and_batches_the_backlog() {
    // The same overload with a WIP limit of 2 and batching up to 4: review waits stay
    // bounded (at most 20 changes can be waiting), the backlog takes the excess, changes
    // carry several tasks, and patience turns the excess into abandoned tasks.
    let mut w = overloaded_office();
    w.authors[0].flow = Flow {
        wip_limit: Some(2),
        backlog_max: u32::MAX,
        batch_max: 4,
        patience: Some(SimDuration::from_days(3)),
        defect_exponent: 1.0,
        context_switch: None,
    };
    let s = simulate(&w, Seed(5)).summary;
    assert!(s.review_queue_len_max <= 20.0, "{}", s.review_queue_len_max);
    assert!(s.batch_size_p50 > 1.0, "median batch {}", s.batch_size_p50);
    assert!(s.batch_size_p95 <= 4.0);
    assert!(s.tasks_abandoned > 0.0);
    assert!(s.backlog_p95 > 0.0);
    assert_eq!(s.queue_unstable, 0.0, "patience bounds the backlog");
    assert!(
        s.tasks_done_per_day > s.deploys_per_day,
        "batched deploys carry several tasks"
    );
}

#[test]
fn the_batch_defect_curve_is_the_independent_tasks_curve_at_exponent_one() {
    let f = Flow::OPEN;
    assert_eq!(f.batch_defect(0.1, 1), 0.1);
    assert!((f.batch_defect(0.1, 3) - (1.0 - 0.9f64.powi(3))).abs() < 1e-12);
    let steeper = Flow {
        defect_exponent: 1.5,
        ..Flow::OPEN
    };
    assert!(steeper.batch_defect(0.1, 3) > f.batch_defect(0.1, 3));
}

#[test]
fn risk_class_discipline_serves_drastic_changes_first() {
    // Half code, half infra changes into an overloaded senior queue (40 a day against
    // about 23 a day of capacity): under `risk_class` the infra changes (20 a day) are
    // served and the code changes starve; under FIFO the two wait alike. Waits still
    // running at the horizon count at their length so far (censored).
    let waits = |discipline: QueueDiscipline| {
        let mut w = overloaded_office();
        w.horizon = SimDuration::from_days(14);
        w.authors[0].mix = ClassTable([0.0, 0.5, 0.0, 0.5, 0.0]);
        w.authors[0].tasks_per_day = 4.0;
        w.reviewers.discipline = discipline;
        let mut class_of = std::collections::BTreeMap::new();
        let mut sums = [(0.0, 0.0); 2]; // (code, infra): (total wait h, reviews)
        blastsim::metrics::simulate_traced(
            &w,
            Seed(9),
            |r: &blastsim::model::trace::TraceRecord| match r.event {
                blastsim::model::trace::TraceEvent::Proposed { change, class, .. } => {
                    class_of.insert(change, class);
                }
                blastsim::model::trace::TraceEvent::ReviewStarted {
                    change, waited_ms, ..
                }
                | blastsim::model::trace::TraceEvent::ReviewCensored { change, waited_ms } => {
                    let i = usize::from(class_of[&change] == ActionClass::Infra);
                    sums[i].0 += waited_ms as f64 / 3_600_000.0;
                    sums[i].1 += 1.0;
                }
                _ => {}
            },
        );
        (sums[0].0 / sums[0].1, sums[1].0 / sums[1].1)
    };
    let (code, infra) = waits(QueueDiscipline::RiskClass);
    assert!(
        infra * 3.0 < code,
        "risk_class: infra {infra:.2} h vs code {code:.2} h"
    );
    let (code, infra) = waits(QueueDiscipline::Fifo);
    assert!(
        (infra / code - 1.0).abs() < 0.3,
        "fifo: infra {infra:.2} h vs code {code:.2} h"
    );
}
