//! Tests of the automated breakers as pure state machines: hand-computed golden sequences,
//! a reference model for the agent breaker, properties of the token bucket and of the
//! error budget's re-check hint, and statistics of the blast-radius guard's estimator.

use blastsim::engine::{Seed, SimDuration, SimTime};
use blastsim::model::breaker::{
    AgentBreaker, BreakerKind, BreakerState, ErrorBudget, GuardDecision, KillSwitch, Permit,
    TokenBucket, Transition, decide, flags, predict,
};
use blastsim::model::config::{
    AgentBreakerConfig, BlastGuardConfig, BreakerWindow, BurnWindow, ClassSet, ErrorBudgetConfig,
    FailureKinds, GuardAction, KillScope, KillSwitchConfig, KillTrigger, TokenRate,
};
use proptest::prelude::*;
use rand_distr::{Distribution, StandardNormal};

fn normal(rng: &mut impl rand::Rng) -> f64 {
    StandardNormal.sample(rng)
}

const MIN: u64 = 60_000;
const HOUR: u64 = 60 * MIN;

fn t(ms: u64) -> SimTime {
    SimTime(ms)
}

fn d(ms: u64) -> SimDuration {
    SimDuration::from_ms(ms)
}

fn agent_cfg(
    window: BreakerWindow,
    min_actions: u32,
    failure_rate: f64,
    open_for_ms: u64,
    half_open_trials: u32,
) -> AgentBreakerConfig {
    AgentBreakerConfig {
        window,
        min_actions,
        failure_rate,
        open_for: d(open_for_ms),
        half_open_trials,
        failures: FailureKinds {
            rejected: true,
            refused: true,
            incident: true,
            classifier: None,
        },
    }
}

// ---------------------------------------------------------------------------------------
// Agent breaker: golden sequences.

#[test]
fn agent_breaker_count_window_golden_cycle() {
    // Window of 4, may trip from 3 outcomes, at ≥ 50% failures; open 1h; 2 trials.
    let mut b = AgentBreaker::new(&agent_cfg(BreakerWindow::Count(4), 3, 0.5, HOUR, 2));
    assert_eq!(b.permit(t(0)), Permit::Allowed);
    assert_eq!(b.record(t(0), false), None);
    assert_eq!(
        b.record(t(MIN), true),
        None,
        "2 outcomes < min_actions 3: no trip at 50%"
    );
    // 2 failures of 3 = 67% ≥ 50%: trips at 2m, open until 1h 2m.
    assert_eq!(
        b.record(t(2 * MIN), true),
        Some(Transition::Tripped {
            until: t(HOUR + 2 * MIN)
        })
    );
    assert_eq!(
        (b.state(), b.open_until()),
        (BreakerState::Open, Some(t(HOUR + 2 * MIN)))
    );
    assert_eq!(
        b.permit(t(30 * MIN)),
        Permit::Denied {
            until: t(HOUR + 2 * MIN)
        }
    );
    // Outcomes arriving while open are dropped.
    assert_eq!(b.record(t(40 * MIN), true), None);
    // Lazy half-open on the first permit at the end of the open period; two trials.
    assert_eq!(b.permit(t(HOUR + 2 * MIN)), Permit::Allowed);
    assert_eq!(b.state(), BreakerState::HalfOpen);
    assert_eq!(b.permit(t(HOUR + 3 * MIN)), Permit::Allowed);
    // All trials out: retry after open_for.
    assert_eq!(
        b.permit(t(HOUR + 4 * MIN)),
        Permit::Denied {
            until: t(2 * HOUR + 4 * MIN)
        }
    );
    assert_eq!(b.record(t(HOUR + 5 * MIN), false), None);
    // 1 failure of 2 trials = 50% ≥ 50%: open again at 1h 6m.
    let until = t(2 * HOUR + 6 * MIN);
    assert_eq!(
        b.record(t(HOUR + 6 * MIN), true),
        Some(Transition::Tripped { until })
    );
    assert_eq!(b.trips(), 2);
    // Mid-way through the second open period: 1h (first) + 30m (second).
    assert_eq!(b.open_time(t(HOUR + 36 * MIN)), d(HOUR + 30 * MIN));
    assert_eq!(b.permit(until), Permit::Allowed);
    assert_eq!(b.permit(until), Permit::Allowed);
    assert_eq!(b.record(until, false), None);
    assert_eq!(b.record(until, false), Some(Transition::Closed));
    assert_eq!(b.state(), BreakerState::Closed);
    assert_eq!(
        b.window_len(),
        0,
        "a closed breaker starts with a fresh window"
    );
    // Open time stops growing once closed: exactly two full open periods.
    assert_eq!(b.open_time(t(100 * HOUR)), d(2 * HOUR));
    // Fresh window: two failures alone do not reach min_actions 3 again.
    assert_eq!(b.record(until, true), None);
    assert_eq!(b.record(until, true), None);
    assert_eq!(b.state(), BreakerState::Closed);
}

#[test]
fn agent_breaker_count_window_evicts_oldest() {
    // Window of 3, min 3, trip at ≥ 2/3. f,s,s → 1/3; then s evicts f → 0/3; f,f → 2/3.
    let mut b = AgentBreaker::new(&agent_cfg(BreakerWindow::Count(3), 3, 0.6, HOUR, 1));
    for (i, failure) in [true, false, false, false, true].into_iter().enumerate() {
        assert_eq!(b.record(t(i as u64), failure), None, "outcome {i}");
    }
    assert_eq!(b.window_len(), 3);
    // Window now (s, f, f): 2/3 = 0.667 ≥ 0.6.
    assert_eq!(
        b.record(t(5), true),
        Some(Transition::Tripped { until: t(5 + HOUR) })
    );
}

#[test]
fn agent_breaker_time_window_golden() {
    // Outcomes of the last 10 minutes, i.e. (now − 10m, now]; min 2; ≥ 50%.
    let mut b = AgentBreaker::new(&agent_cfg(
        BreakerWindow::Time(d(10 * MIN)),
        2,
        0.5,
        HOUR,
        1,
    ));
    assert_eq!(b.record(t(0), true), None);
    // At exactly 10m the failure at 0 has left (0, 10m]: one success alone, below min 2.
    assert_eq!(b.record(t(10 * MIN), false), None);
    assert_eq!(b.window_len(), 1);
    // At 12m: (2m, 12m] holds the success at 10m and this failure: 1/2 ≥ 50%.
    assert_eq!(
        b.record(t(12 * MIN), true),
        Some(Transition::Tripped {
            until: t(HOUR + 12 * MIN)
        })
    );
}

#[test]
fn agent_breaker_time_window_inclusive_edge() {
    // A failure at 1ms is still inside (0, 10m] at 10m: 2 failures of 2 trip.
    let mut b = AgentBreaker::new(&agent_cfg(
        BreakerWindow::Time(d(10 * MIN)),
        2,
        0.5,
        HOUR,
        1,
    ));
    assert_eq!(b.record(t(1), true), None);
    assert!(b.record(t(10 * MIN), true).is_some());
}

#[test]
fn agent_breaker_decimal_threshold_is_exact() {
    // 3 failures of 10 against a 30% threshold must trip (0.3 × 10 = 3.0000000000000004
    // in binary would not), and 2 of 10 must not.
    let cfg = agent_cfg(BreakerWindow::Count(10), 10, 0.3, HOUR, 1);
    let mut b = AgentBreaker::new(&cfg);
    let mut last = None;
    for i in 0..10 {
        last = b.record(t(i), i < 3);
    }
    assert!(matches!(last, Some(Transition::Tripped { .. })));
    let mut b = AgentBreaker::new(&cfg);
    for i in 0..10 {
        last = b.record(t(i), i < 2);
    }
    assert_eq!(last, None);
}

// ---------------------------------------------------------------------------------------
// Agent breaker: reference model over random action sequences.

/// A deliberately naive breaker: keeps every outcome since the last close and recomputes
/// the window from that history on every record.
struct RefBreaker {
    cfg: AgentBreakerConfig,
    state: RefState,
    history: Vec<(u64, bool)>,
    trips: u32,
    open_periods: Vec<(u64, u64)>,
}

#[derive(Clone, Debug, PartialEq)]
enum RefState {
    Closed,
    Open { until: u64 },
    HalfOpen { permitted: u32, outcomes: Vec<bool> },
}

impl RefBreaker {
    fn new(cfg: AgentBreakerConfig) -> Self {
        RefBreaker {
            cfg,
            state: RefState::Closed,
            history: vec![],
            trips: 0,
            open_periods: vec![],
        }
    }

    fn permit(&mut self, now: u64) -> Permit {
        if let RefState::Open { until } = self.state {
            if now < until {
                return Permit::Denied { until: t(until) };
            }
            self.state = RefState::HalfOpen {
                permitted: 0,
                outcomes: vec![],
            };
        }
        let trials = self.cfg.half_open_trials;
        let wait = self.cfg.open_for.as_ms().max(1);
        match &mut self.state {
            RefState::Closed => Permit::Allowed,
            RefState::HalfOpen { permitted, .. } if *permitted < trials => {
                *permitted += 1;
                Permit::Allowed
            }
            RefState::HalfOpen { .. } => Permit::Denied {
                until: t(now + wait),
            },
            RefState::Open { .. } => unreachable!(),
        }
    }

    fn reached(&self, failures: usize, calls: usize) -> bool {
        failures as f64 / calls as f64 >= self.cfg.failure_rate
    }

    fn trip(&mut self, now: u64) -> Option<Transition> {
        let until = now + self.cfg.open_for.as_ms();
        self.state = RefState::Open { until };
        self.trips += 1;
        self.open_periods.push((now, until));
        Some(Transition::Tripped { until: t(until) })
    }

    /// The window as of `now`, recomputed from the full history.
    fn window(&self, now: u64) -> Vec<bool> {
        match self.cfg.window {
            BreakerWindow::Count(n) => {
                let skip = self.history.len().saturating_sub(n as usize);
                self.history[skip..].iter().map(|&(_, f)| f).collect()
            }
            BreakerWindow::Time(span) => self
                .history
                .iter()
                .filter(|&&(at, _)| at + span.as_ms() > now)
                .map(|&(_, f)| f)
                .collect(),
        }
    }

    fn record(&mut self, now: u64, failure: bool) -> Option<Transition> {
        match self.state.clone() {
            RefState::Open { .. } => None,
            RefState::Closed => {
                self.history.push((now, failure));
                let window = self.window(now);
                let failures = window.iter().filter(|&&f| f).count();
                if window.len() >= self.cfg.min_actions as usize
                    && self.reached(failures, window.len())
                {
                    self.history.clear();
                    self.trip(now)
                } else {
                    None
                }
            }
            RefState::HalfOpen {
                permitted,
                mut outcomes,
            } => {
                outcomes.push(failure);
                if outcomes.len() < self.cfg.half_open_trials as usize {
                    self.state = RefState::HalfOpen {
                        permitted,
                        outcomes,
                    };
                    return None;
                }
                let failures = outcomes.iter().filter(|&&f| f).count();
                if self.reached(failures, outcomes.len()) {
                    self.trip(now)
                } else {
                    self.state = RefState::Closed;
                    self.history.clear();
                    Some(Transition::Closed)
                }
            }
        }
    }

    fn open_time(&self, now: u64) -> u64 {
        self.open_periods
            .iter()
            .map(|&(from, until)| now.min(until).saturating_sub(from))
            .sum()
    }

    /// The state, and the end of the open period while open.
    fn state(&self) -> (BreakerState, Option<SimTime>) {
        match self.state {
            RefState::Closed => (BreakerState::Closed, None),
            RefState::Open { until } => (BreakerState::Open, Some(t(until))),
            RefState::HalfOpen { .. } => (BreakerState::HalfOpen, None),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Op {
    Permit,
    Record(bool),
}

fn ops() -> impl Strategy<Value = Vec<(u64, Op)>> {
    // Advances of 0 (same-instant ties), round steps that land exactly on window edges and
    // open-period ends, or anything up to 40 minutes; failures about 40% of outcomes so the
    // breaker trips, half-opens and closes many times in one sequence.
    let op = prop_oneof![
        2 => Just(Op::Permit),
        3 => (0u32..10).prop_map(|x| Op::Record(x < 4)),
    ];
    let advance = prop_oneof![
        Just(0u64),
        prop::sample::select(vec![1, 5 * MIN, 10 * MIN, 30 * MIN]),
        0u64..40 * MIN,
    ];
    prop::collection::vec((advance, op), 1..300)
}

fn check_against_reference(
    cfg: AgentBreakerConfig,
    ops: &[(u64, Op)],
) -> Result<(), TestCaseError> {
    let mut real = AgentBreaker::new(&cfg);
    let mut reference = RefBreaker::new(cfg);
    let mut now = 0;
    for (step, &(advance, op)) in ops.iter().enumerate() {
        now += advance;
        match op {
            Op::Permit => {
                prop_assert_eq!(
                    real.permit(t(now)),
                    reference.permit(now),
                    "permit at step {}",
                    step
                );
            }
            Op::Record(failure) => {
                prop_assert_eq!(
                    real.record(t(now), failure),
                    reference.record(now, failure),
                    "record at step {}",
                    step
                );
                if reference.state == RefState::Closed && !reference.history.is_empty() {
                    prop_assert_eq!(real.window_len() as usize, reference.window(now).len());
                }
            }
        }
        prop_assert_eq!(
            (real.state(), real.open_until()),
            reference.state(),
            "state after step {}",
            step
        );
        prop_assert_eq!(real.trips(), reference.trips);
        prop_assert_eq!(real.open_time(t(now)), d(reference.open_time(now)));
    }
    Ok(())
}

proptest! {
    #[test]
    fn agent_breaker_count_window_matches_reference(
        n in 1u32..12,
        min_actions in 0u32..15,
        rate in prop::sample::select(vec![0.2, 0.3, 0.5, 0.6, 1.0]),
        open_for in prop::sample::select(vec![0, 1, 30 * MIN, HOUR]),
        trials in 1u32..4,
        ops in ops(),
    ) {
        let cfg = agent_cfg(BreakerWindow::Count(n), min_actions, rate, open_for, trials);
        check_against_reference(cfg, &ops)?;
    }

    #[test]
    fn agent_breaker_time_window_matches_reference(
        span in prop::sample::select(vec![1, 10 * MIN, HOUR, 3 * HOUR]),
        min_actions in 0u32..8,
        rate in prop::sample::select(vec![0.2, 0.3, 0.5, 0.6, 1.0]),
        open_for in prop::sample::select(vec![0, 1, 30 * MIN, HOUR]),
        trials in 1u32..4,
        ops in ops(),
    ) {
        let cfg = agent_cfg(BreakerWindow::Time(d(span)), min_actions, rate, open_for, trials);
        check_against_reference(cfg, &ops)?;
    }
}

// ---------------------------------------------------------------------------------------
// Token bucket.

#[test]
fn token_bucket_hand_computed_sequence() {
    // 2 tokens per hour, burst 3. One token = 3 600 000 units, refill 2 units per ms, so a
    // token takes 1 800 000 ms = 30 min to grow. The bucket starts full (3 tokens).
    //
    //   t=0      take, take, take          → ok ×3, level 0
    //   t=0      take                      → err: deficit 3.6e6 / 2 = 1.8e6 ms → 30m
    //   t=10m    take (level 1.2e6)        → err: (3.6e6 − 1.2e6) / 2 = 1.2e6 ms → 30m
    //   t=30m    take (level 3.6e6)        → ok, level 0
    //   t=45m    take (level 1.8e6)        → err: 1.8e6 / 2 = 0.9e6 ms = 15m → 60m
    //   t=3h     level 2.5h × 2/h = 5 tokens, capped at 3 → ok ×3, then
    //            take                      → err at 3h 30m
    //
    // Totals: 7 taken, 4 refused.
    let mut bucket = TokenBucket::new(&TokenRate {
        tokens: 2,
        per: d(HOUR),
        burst: 3,
    });
    assert_eq!(bucket.available(t(0)), 3);
    for _ in 0..3 {
        assert_eq!(bucket.try_take(t(0)), Ok(()));
    }
    assert_eq!(bucket.try_take(t(0)), Err(t(30 * MIN)));
    assert_eq!(bucket.try_take(t(10 * MIN)), Err(t(30 * MIN)));
    assert_eq!(bucket.try_take(t(30 * MIN)), Ok(()));
    assert_eq!(bucket.try_take(t(45 * MIN)), Err(t(60 * MIN)));
    assert_eq!(bucket.available(t(3 * HOUR)), 3);
    for _ in 0..3 {
        assert_eq!(bucket.try_take(t(3 * HOUR)), Ok(()));
    }
    assert_eq!(bucket.try_take(t(3 * HOUR)), Err(t(3 * HOUR + 30 * MIN)));
    assert_eq!((bucket.taken(), bucket.refused()), (7, 4));
}

#[test]
fn token_bucket_rounds_the_wait_up_to_the_millisecond() {
    // 3 tokens per 10 ms: a token needs 10/3 ms, so the next one is due at ceil(3.33) = 4.
    let mut bucket = TokenBucket::new(&TokenRate {
        tokens: 3,
        per: d(10),
        burst: 1,
    });
    assert_eq!(bucket.try_take(t(0)), Ok(()));
    assert_eq!(bucket.try_take(t(0)), Err(t(4)));
    assert_eq!(bucket.try_take(t(3)), Err(t(4)));
    assert_eq!(bucket.try_take(t(4)), Ok(()));
}

#[test]
fn token_bucket_that_cannot_refill_answers_never() {
    let mut empty = TokenBucket::new(&TokenRate {
        tokens: 5,
        per: d(HOUR),
        burst: 0,
    });
    assert_eq!(empty.try_take(t(HOUR)), Err(SimTime::NEVER));
    let mut no_refill = TokenBucket::new(&TokenRate {
        tokens: 0,
        per: d(HOUR),
        burst: 1,
    });
    assert_eq!(no_refill.try_take(t(0)), Ok(()));
    assert_eq!(no_refill.try_take(t(100 * HOUR)), Err(SimTime::NEVER));
}

proptest! {
    #[test]
    fn token_bucket_never_exceeds_burst_plus_rate(
        tokens in 0u32..6,
        per in prop::sample::select(vec![1, 7, MIN, HOUR]),
        burst in 0u32..6,
        gaps in prop::collection::vec(prop_oneof![Just(0u64), 0u64..3 * HOUR], 1..120),
    ) {
        let mut bucket = TokenBucket::new(&TokenRate { tokens, per: d(per), burst });
        let mut now = 0;
        let mut taken_at = Vec::new();
        for gap in gaps {
            now += gap;
            match bucket.try_take(t(now)) {
                Ok(()) => taken_at.push(now),
                Err(next) => {
                    prop_assert!(next > t(now), "a refusal points to the future");
                    if next != SimTime::NEVER {
                        // The hint is exact: one millisecond earlier still fails, at it succeeds.
                        let mut probe = bucket.clone();
                        prop_assert!(probe.try_take(SimTime(next.as_ms() - 1)).is_err());
                        prop_assert_eq!(probe.try_take(next), Ok(()));
                    }
                }
            }
        }
        // Over any window [a, b]: at most burst + floor((b − a) × tokens / per) takes.
        for (i, &a) in taken_at.iter().enumerate() {
            for (j, &b) in taken_at.iter().enumerate().skip(i) {
                let allowed = u64::from(burst) + (b - a) * u64::from(tokens) / per;
                prop_assert!((j - i + 1) as u64 <= allowed, "{} takes in [{a}, {b}]", j - i + 1);
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Error budget.

fn budget(slo: f64, windows: Vec<BurnWindow>) -> ErrorBudget {
    ErrorBudget::new(&ErrorBudgetConfig {
        slo,
        windows,
        humans_too: false,
    })
}

fn close_to(actual: f64, expected: f64) -> bool {
    (actual - expected).abs() <= 1e-12 * expected.abs().max(1.0)
}

#[test]
fn error_budget_golden_burn_rates() {
    // SLO 99% → budget 0.01. Incident A hits half the users from 0 to 6m: 3 user-minutes.
    let one_hour = BurnWindow {
        long: d(HOUR),
        short: None,
        burn_rate: 1.0,
    };
    let mut eb = budget(0.99, vec![one_hour]);
    eb.open(1, t(0), 0.5);
    eb.close(1, t(6 * MIN));
    // At 1h, window [0, 1h]: 3 / (60 × 0.01) = 5.
    assert!(close_to(eb.burn_rate(t(HOUR), d(HOUR)), 5.0));
    // At 30m the window reaches back before time zero, which counts as good: still 5.
    assert!(close_to(eb.burn_rate(t(30 * MIN), d(HOUR)), 5.0));
    // At 1h 3m, window [3m, 1h 3m] keeps 3m of A: 1.5 / 0.6 = 2.5.
    assert!(close_to(eb.burn_rate(t(HOUR + 3 * MIN), d(HOUR)), 2.5));
    // Incident B hits 10% from 1h, still open at 2h: A has left; 0.1 × 60 / 0.6 = 10, and
    // over 30m: 0.1 × 30 / (30 × 0.01) = 10.
    eb.open(2, t(HOUR), 0.1);
    assert!(close_to(eb.burn_rate(t(2 * HOUR), d(HOUR)), 10.0));
    assert!(close_to(eb.burn_rate(t(2 * HOUR), d(30 * MIN)), 10.0));
    // A ended more than the longest window ago by 1h 6m: dropped; B (open) is kept.
    eb.update(t(2 * HOUR));
    assert_eq!(eb.periods_held(), 1);
}

fn sre_page() -> BurnWindow {
    // Google SRE workbook ch.5: page at 14.4× over 1h with a 5m short window.
    BurnWindow {
        long: d(HOUR),
        short: Some(d(5 * MIN)),
        burn_rate: 14.4,
    }
}

#[test]
fn error_budget_google_sre_table_two_percent_fires_one_percent_does_not() {
    // A 30-day budget at 99.9% is 0.001 × 720h = 0.72 h of full outage. 2% of it is
    // 51.84 s; spent inside one hour that is a burn of 0.0144 / 0.001 = 14.4 exactly.
    let mut eb = budget(0.999, vec![sre_page()]);
    eb.open(1, t(10 * HOUR), 1.0);
    eb.close(1, t(10 * HOUR + 51_840));
    assert!(
        eb.frozen(t(10 * HOUR + 51_840)),
        "2% of the budget in an hour pages"
    );
    let mut eb = budget(0.999, vec![sre_page()]);
    eb.open(1, t(10 * HOUR), 1.0);
    eb.close(1, t(10 * HOUR + 25_920));
    assert!(
        !eb.frozen(t(10 * HOUR + 25_920)),
        "1% of the budget in an hour does not"
    );
    // The same 2% spread evenly over the hour (1.44% of users for 1h): long and short burn
    // are both exactly 14.4 and it fires; 1.43% does not.
    let mut eb = budget(0.999, vec![sre_page()]);
    eb.open(1, t(0), 0.0144);
    assert!(eb.frozen(t(HOUR)));
    let mut eb = budget(0.999, vec![sre_page()]);
    eb.open(1, t(0), 0.0143);
    assert!(!eb.frozen(t(HOUR)));
}

#[test]
fn error_budget_short_window_ends_the_freeze() {
    // After the 2% burst ends, the long window still burns at 14.4 for most of an hour, but
    // the short window empties after 5m: the freeze lifts (the point of the short window).
    let mut eb = budget(0.999, vec![sre_page()]);
    eb.open(1, t(10 * HOUR), 1.0);
    eb.close(1, t(10 * HOUR + 51_840));
    let later = t(10 * HOUR + 6 * MIN);
    assert!(close_to(eb.burn_rate(later, d(HOUR)), 14.4));
    assert_eq!(eb.burn_rate(later, d(5 * MIN)), 0.0);
    assert!(!eb.frozen(later));
}

#[test]
fn error_budget_freeze_accounting_is_exact_with_hints() {
    // A full outage from 1h for 120 s under the 14.4× (1h / 5m) rule.
    // Freeze starts when the long burn reaches 14.4: 51 840 ms in (short burn is higher).
    // After the close at 120 000 ms the short window [t − 5m, t] keeps 120 000 − (t − 300 000)
    // ms of outage, ≥ 4 320 ms (14.4 × 300) until t = 415 680 ms in: the freeze ends at
    // 415 681. Frozen for 415 681 − 51 840 = 363 841 ms; one freeze.
    let start = HOUR;
    let close_at = t(start + 120_000);
    let mut eb = budget(0.999, vec![sre_page()]);
    eb.open(7, t(start), 1.0);
    let mut now = t(start);
    let mut closed = false;
    let mut transitions = Vec::new();
    let mut was_frozen = false;
    for _ in 0..1_000 {
        let hint = eb.next_check(now);
        now = if !closed { hint.min(close_at) } else { hint };
        if now == SimTime::NEVER {
            break;
        }
        let frozen = if !closed && now == close_at {
            eb.close(7, now);
            closed = true;
            eb.frozen(now)
        } else {
            eb.update(now)
        };
        if frozen != was_frozen {
            transitions.push((now.as_ms() - start, frozen));
            was_frozen = frozen;
        }
    }
    assert_eq!(transitions, vec![(51_840, true), (415_681, false)]);
    assert_eq!(eb.freezes(), 1);
    assert_eq!(eb.frozen_time(t(10 * HOUR)), d(363_841));
    assert_eq!(
        eb.next_check(t(10 * HOUR)),
        SimTime::NEVER,
        "nothing left to change"
    );
}

proptest! {
    #[test]
    fn error_budget_state_is_constant_until_the_hint(
        periods in prop::collection::vec(
            (0u64..6 * HOUR, prop_oneof![Just(None), (1u64..2 * HOUR).prop_map(Some)],
             prop::sample::select(vec![0.01, 0.05, 0.2, 0.5, 1.0])),
            0..6),
        now in 0u64..10 * HOUR,
        probes in prop::collection::vec(0.0f64..1.0, 16),
    ) {
        let windows = vec![
            sre_page(),
            BurnWindow { long: d(6 * HOUR), short: Some(d(30 * MIN)), burn_rate: 6.0 },
            BurnWindow { long: d(3 * HOUR), short: None, burn_rate: 1.0 },
        ];
        let mut eb = budget(0.999, windows);
        let mut periods = periods;
        periods.sort_by_key(|p| p.0);
        for (id, &(start, length, share)) in periods.iter().enumerate() {
            if start > now {
                break;
            }
            eb.open(id as u64, t(start), share);
            if let Some(length) = length
                && start + length <= now
            {
                eb.close(id as u64, t(start + length));
            }
        }
        let hint = eb.next_check(t(now));
        prop_assert!(hint > t(now));
        let frozen_now = eb.frozen(t(now));
        let horizon = hint.as_ms().min(now + 20 * HOUR);
        for p in probes {
            let at = now + ((horizon - now) as f64 * p) as u64;
            if at < hint.as_ms() {
                prop_assert_eq!(eb.frozen(t(at)), frozen_now, "changed at {} before hint {}", at, hint.as_ms());
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// Kill switch.

#[test]
fn kill_switch_while_incident_open_halts_everyone() {
    let mut ks = KillSwitch::new(&KillSwitchConfig {
        trigger: KillTrigger::WhileIncidentOpen,
        scope: KillScope::AllAgents,
    });
    assert_eq!(ks.halted(t(0), 3), None);
    ks.on_incident_open(t(HOUR), 3);
    assert_eq!(ks.halted(t(HOUR), 9), Some(SimTime::NEVER));
    ks.on_incident_open(t(2 * HOUR), 5);
    ks.on_incident_closed(t(3 * HOUR), 3);
    assert_eq!(
        ks.halted(t(3 * HOUR), 3),
        Some(SimTime::NEVER),
        "agent 5's incident is open"
    );
    ks.on_incident_closed(t(4 * HOUR), 5);
    assert_eq!(ks.halted(t(4 * HOUR), 3), None);
    assert_eq!(ks.halts(), 1, "overlapping incidents are one halt");
    assert_eq!(ks.halt_time(t(5 * HOUR)), d(3 * HOUR));
}

#[test]
fn kill_switch_offender_scope_halts_only_the_offender() {
    let mut ks = KillSwitch::new(&KillSwitchConfig {
        trigger: KillTrigger::WhileIncidentOpen,
        scope: KillScope::Offender,
    });
    ks.on_incident_open(t(HOUR), 3);
    ks.on_incident_open(t(HOUR + 30 * MIN), 1);
    assert_eq!(ks.halted(t(HOUR), 3), Some(SimTime::NEVER));
    assert_eq!(ks.halted(t(HOUR), 5), None);
    ks.on_incident_closed(t(2 * HOUR), 3);
    assert_eq!(ks.halted(t(2 * HOUR), 3), None);
    assert_eq!(ks.halted(t(2 * HOUR), 1), Some(SimTime::NEVER));
    // Agent-time: agent 3 for 1h, agent 1 for 1h 30m so far at 3h.
    assert_eq!(ks.halt_time(t(3 * HOUR)), d(HOUR + 90 * MIN));
    assert_eq!(ks.halts(), 2);
}

#[test]
fn kill_switch_after_incidents_golden() {
    // Two incidents within a day halt every agent for 6h.
    let mut ks = KillSwitch::new(&KillSwitchConfig {
        trigger: KillTrigger::AfterIncidents {
            count: 2,
            window: d(24 * HOUR),
            halt_for: d(6 * HOUR),
        },
        scope: KillScope::AllAgents,
    });
    ks.on_incident_open(t(0), 1);
    assert_eq!(ks.halted(t(0), 1), None);
    // The incident at 0 leaves (now − 24h, now] exactly at 24h.
    ks.on_incident_open(t(24 * HOUR), 1);
    assert_eq!(ks.halted(t(24 * HOUR), 2), None);
    ks.on_incident_open(t(30 * HOUR), 2);
    assert_eq!(ks.halted(t(30 * HOUR), 7), Some(t(36 * HOUR)));
    assert_eq!(ks.halted(t(35 * HOUR), 7), Some(t(36 * HOUR)));
    // The trip consumed both incidents: one more alone does not extend the halt.
    ks.on_incident_open(t(31 * HOUR), 2);
    assert_eq!(ks.halted(t(35 * HOUR), 7), Some(t(36 * HOUR)));
    // A second one does: the same halt now ends at 38h.
    ks.on_incident_open(t(32 * HOUR), 2);
    assert_eq!(ks.halted(t(36 * HOUR), 7), Some(t(38 * HOUR)));
    assert_eq!(ks.halted(t(38 * HOUR), 7), None);
    assert_eq!(ks.halt_time(t(40 * HOUR)), d(8 * HOUR));
    ks.on_incident_open(t(50 * HOUR), 2);
    ks.on_incident_open(t(51 * HOUR), 4);
    assert_eq!(ks.halted(t(51 * HOUR), 1), Some(t(57 * HOUR)));
    assert_eq!(ks.halts(), 2);
    assert_eq!(ks.halt_time(t(54 * HOUR)), d(8 * HOUR + 3 * HOUR));
    assert_eq!(ks.halt_time(t(60 * HOUR)), d(14 * HOUR));
}

#[test]
fn kill_switch_after_incidents_offender_counts_per_agent() {
    let mut ks = KillSwitch::new(&KillSwitchConfig {
        trigger: KillTrigger::AfterIncidents {
            count: 2,
            window: d(24 * HOUR),
            halt_for: d(HOUR),
        },
        scope: KillScope::Offender,
    });
    ks.on_incident_open(t(0), 1);
    ks.on_incident_open(t(MIN), 2);
    assert_eq!(
        ks.halted(t(MIN), 1),
        None,
        "two incidents, but by different agents"
    );
    ks.on_incident_open(t(2 * MIN), 1);
    assert_eq!(ks.halted(t(2 * MIN), 1), Some(t(2 * MIN + HOUR)));
    assert_eq!(ks.halted(t(2 * MIN), 2), None);
    assert_eq!(ks.halt_time(t(10 * HOUR)), d(HOUR));
}

// ---------------------------------------------------------------------------------------
// Blast-radius guard and classifier.

fn guard(max: f64, action: GuardAction) -> BlastGuardConfig {
    BlastGuardConfig {
        max_predicted_users: max,
        estimate_noise: 0.0,
        action,
        humans_too: false,
        classes: ClassSet::ALL,
    }
}

#[test]
fn blast_guard_without_noise_is_exact() {
    let mut rng = Seed(1).stream(1, 0);
    for truth in [0.0, 1e-6, 0.013, 0.1, 0.5, 1.0] {
        for _ in 0..100 {
            assert_eq!(predict(truth, 0.0, normal(&mut rng)), truth);
        }
    }
}

#[test]
fn blast_guard_noise_has_the_truth_as_median() {
    // Median of 20 001 draws of truth × exp(0.5 z). The sample median of ln(prediction) has
    // standard error ≈ 1.2533 × 0.5 / √20001 = 0.0044; allow 0.02 in log space (4.5 SE).
    let mut rng = Seed(2026).stream(2, 0);
    let truth = 0.04;
    let mut draws: Vec<f64> = (0..20_001)
        .map(|_| predict(truth, 0.5, normal(&mut rng)))
        .collect();
    draws.sort_by(f64::total_cmp);
    let median = draws[draws.len() / 2];
    assert!(
        (median / truth).ln().abs() < 0.02,
        "median {median} vs truth {truth}"
    );
    // And the noise is real: the interquartile range in log space is 2 × 0.6745 × 0.5.
    let iqr = (draws[draws.len() * 3 / 4] / draws[draws.len() / 4]).ln();
    assert!((iqr - 0.6745).abs() < 0.03, "log IQR {iqr}");
}

#[test]
fn blast_guard_prediction_is_clamped_and_keeps_the_draw_sign() {
    let mut rng = Seed(3).stream(2, 0);
    for _ in 0..1_000 {
        let p = predict(0.9, 2.0, normal(&mut rng));
        assert!((0.0..=1.0).contains(&p));
    }
    // The estimate error is the change's own draw: the same z gives the same direction of
    // error at every noise level, so arms differing only in noise stay paired.
    assert!(predict(0.2, 0.7, 1.0) > 0.2 && predict(0.2, 0.3, 1.0) > 0.2);
    assert!(predict(0.2, 0.7, -1.0) < 0.2);
}

#[test]
fn blast_guard_threshold_boundary() {
    let block = guard(0.10, GuardAction::Block);
    assert_eq!(
        decide(&block, 0.10),
        GuardDecision::Allow,
        "the threshold itself is allowed"
    );
    assert_eq!(decide(&block, 0.0999), GuardDecision::Allow);
    assert_eq!(
        decide(&block, f64::from_bits(0.10f64.to_bits() + 1)),
        GuardDecision::Block
    );
    assert_eq!(decide(&block, 1.0), GuardDecision::Block);
    let escalate = guard(0.10, GuardAction::Escalate);
    assert_eq!(decide(&escalate, 0.5), GuardDecision::Escalate);
    assert_eq!(decide(&escalate, 0.05), GuardDecision::Allow);
    // A threshold of 1.0 never stops anything; of 0.0 stops everything but read-only-like
    // actions that hit nobody.
    assert_eq!(
        decide(&guard(1.0, GuardAction::Block), 1.0),
        GuardDecision::Allow
    );
    assert_eq!(
        decide(&guard(0.0, GuardAction::Block), 0.0),
        GuardDecision::Allow
    );
    assert_eq!(
        decide(&guard(0.0, GuardAction::Block), 1e-9),
        GuardDecision::Block
    );
}

#[test]
fn classifier_flags_at_its_rates() {
    // On a uniform grid of u, exactly tpr of defective and fpr of good changes are flagged.
    let grid = (0..1000).map(|i| f64::from(i) / 1000.0);
    let flagged_bad = grid
        .clone()
        .filter(|&u| flags(true, (0.7, 0.05), u))
        .count();
    let flagged_good = grid.filter(|&u| flags(false, (0.7, 0.05), u)).count();
    assert_eq!((flagged_bad, flagged_good), (700, 50));
    assert!(flags(true, (1.0, 0.0), 0.999_999));
    assert!(!flags(false, (1.0, 0.0), 0.0));
}

#[test]
fn breaker_names_follow_the_check_order() {
    let names: Vec<_> = BreakerKind::ALL.iter().map(|k| k.name()).collect();
    assert_eq!(
        names,
        [
            "kill_switch",
            "error_budget",
            "agent",
            "rate_limit",
            "blast_guard"
        ]
    );
}
