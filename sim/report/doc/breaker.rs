//! Why the per-agent breaker does or does not trip: for every arm with one, the agents'
//! failure share per action from the run's own means, what a window holds at that share
//! against what the breaker needs to open, and the trips it actually made.

use statrs::distribution::{Binomial, DiscreteCDF};

use super::markdown::Block;
use super::text;
use crate::report::charts::input::Results;
use crate::report::charts::style::fmt_num;

/// One paragraph per arm with a per-agent breaker (none when no arm has one).
pub(super) fn section(r: &Results) -> Vec<Block> {
    let days = crate::engine::SimDuration::parse(&r.manifest.meta.horizon)
        .map(|d| d.as_days_f64())
        .unwrap_or(0.0);
    let point = r.focus_point();
    let mut out = Vec::new();
    for meta in &r.manifest.meta.arms {
        let Some(b) = &meta.agent_breaker else {
            continue;
        };
        let Some(arm) = r.arm_index(&meta.name) else {
            continue;
        };
        let mean = |m: &str| r.summary.mean(arm, point, m);
        let (Some(proposed), Some(rejected), Some(refused), Some(incidents), Some(trips)) = (
            mean("proposed_per_day_agent"),
            mean("rejected_per_day_agent"),
            mean("refused_per_day_agent"),
            mean("incidents_agent"),
            mean("breaker_trips"),
        ) else {
            continue;
        };
        let counts = |kind: &str| b.failures.iter().any(|f| f == kind);
        let actions = proposed * days;
        let failures = if counts("rejected") {
            rejected * days
        } else {
            0.0
        } + if counts("refused") {
            refused * days
        } else {
            0.0
        } + if counts("incident") { incidents } else { 0.0 };
        let share = if actions > 0.0 {
            failures / actions
        } else {
            0.0
        };
        let kinds: Vec<&str> = b
            .failures
            .iter()
            .map(|f| match f.as_str() {
                "rejected" => "was rejected in review",
                "refused" => "was refused by access control",
                "incident" => "caused an incident",
                _ => "was flagged by the classifier",
            })
            .collect();
        let kinds = match kinds.split_last() {
            None => "nothing".to_string(),
            Some((last, [])) => format!("an action that {last}"),
            Some((last, rest)) => format!("an action that {} or {last}", rest.join(", ")),
        };
        let mut p = format!(
            "**Why the per-agent breaker of {} {}.** It opens for an agent when at least {}% of the actions in its \
             window failed, once the window holds {} actions; a failure is {kinds}. A fix that simply does \
             not work is not a failure to the breaker. ",
            text::code(&meta.name),
            if trips == 0.0 {
                "never trips"
            } else if trips < 1.0 {
                "rarely trips"
            } else {
                "trips"
            },
            fmt_num(b.failure_rate * 100.0),
            b.min_actions
        );
        p.push_str(&format!(
            "In this arm the agents together made {} actions per run on average, {} of them failures: {} of their actions. ",
            fmt_num(actions),
            fmt_num(failures),
            crate::report::charts::style::fmt_pct(share)
        ));
        if let Some(w) = b.window_actions {
            let need = (b.failure_rate * f64::from(w)).ceil().max(1.0) as u64;
            let expected = share * f64::from(w);
            p.push_str(&format!(
                "A window of {w} actions therefore holds about {} failures, against the {need} it takes to open. ",
                fmt_num(expected)
            ));
            if let Ok(bin) = Binomial::new(share.clamp(0.0, 1.0), u64::from(w)) {
                let tail = bin.sf(need - 1);
                p.push_str(&format!(
                    "If failures came independently at that rate, a given window would reach {need} with probability {}. ",
                    if tail < 1e-6 {
                        "below one in a million".to_string()
                    } else {
                        format!("{tail:.2e}")
                    }
                ));
            }
        } else if let Some(t) = &b.window_time {
            p.push_str(&format!(
                "The window is the last {t} of the agent's actions. "
            ));
        }
        p.push_str(&format!(
            "Over the {} replications it opened {} times per run on average{}.",
            r.replications(),
            fmt_num(trips),
            match mean("breaker_open_h") {
                Some(h) if h > 0.0 => format!(", for {} agent-hours", fmt_num(h)),
                _ => String::new(),
            }
        ));
        out.push(Block::P(p));
    }
    if !out.is_empty() {
        out.insert(0, Block::H2("The per-agent breaker".to_string()));
    }
    out
}
