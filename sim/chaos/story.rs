//! The causal story of a run's worst incident, told from its trace for a policy designer:
//! who proposed what, why the approval policy and the breakers let it through, how the
//! cascade spread and how long recovery took.
//!
//! A pure function of the trace and the world it came from. The worst incident is the
//! one with the most user-impact minutes (the first of equals), as `RunOutput::worst_hit`
//! picks it.

use std::collections::BTreeSet;
use std::fmt::Write;

use crate::engine::time::{MS_PER_DAY, MS_PER_HOUR, MS_PER_MINUTE};
use crate::metrics::{BreakerKind, BreakerState, CascadeHit, ReviewNeed, TraceEvent, TraceRecord};
use crate::model::config::{
    ActionClass, AuthorKind, Condition, GuardAction, KillScope, KillTrigger, Requirement, Rule,
    WorldConfig,
};
use crate::model::graph::ServiceId;

use super::schedule::describe_fault;

/// "45 min", "3h 20m", "2 days 4h".
pub fn duration_words(ms: u64) -> String {
    if ms < MS_PER_MINUTE {
        format!("{} s", ms / 1000)
    } else if ms < MS_PER_HOUR {
        format!("{} min", ms / MS_PER_MINUTE)
    } else if ms < 2 * MS_PER_DAY {
        format!(
            "{}h {:02}m",
            ms / MS_PER_HOUR,
            (ms % MS_PER_HOUR) / MS_PER_MINUTE
        )
    } else {
        format!(
            "{} days {}h",
            ms / MS_PER_DAY,
            (ms % MS_PER_DAY) / MS_PER_HOUR
        )
    }
}

/// "day 12 14:05" (day 1 starts at time zero, a Monday 00:00 UTC).
pub fn when(t_ms: u64) -> String {
    let day = t_ms / MS_PER_DAY;
    let in_day = t_ms % MS_PER_DAY;
    format!(
        "day {} {:02}:{:02}",
        day + 1,
        in_day / MS_PER_HOUR,
        (in_day % MS_PER_HOUR) / MS_PER_MINUTE
    )
}

fn pct(x: f64) -> String {
    format!("{:.1}%", x * 100.0)
}

fn class_phrase(c: ActionClass) -> &'static str {
    match c {
        ActionClass::ReadOnly => "a read-only action",
        ActionClass::Code => "a code change",
        ActionClass::Config => "a config change",
        ActionClass::Infra => "an infrastructure change",
        ActionClass::Destructive => "a destructive action (delete and recreate)",
    }
}

fn requirement_words(r: &Requirement) -> String {
    match r {
        Requirement::None => "no review".into(),
        Requirement::Peer => "one peer review".into(),
        Requirement::Senior => "a senior's review".into(),
        Requirement::TwoPerson => "two reviews by two people".into(),
        Requirement::Sample(p) => format!("a peer review for a random {}", pct(*p)),
    }
}

fn condition_words(c: &Condition, world: &WorldConfig) -> String {
    let mut parts = Vec::new();
    if let Some(a) = c.author {
        parts.push(format!("author is {}", a.name()));
    }
    if let Some(g) = &c.groups {
        let names: Vec<&str> = g.iter().map(|&i| world.authors[i].name.as_str()).collect();
        parts.push(format!("group is {}", names.join(" or ")));
    }
    if let Some(set) = c.classes {
        let names: Vec<&str> = ActionClass::ALL
            .iter()
            .filter(|k| set.contains(**k))
            .map(|k| k.name())
            .collect();
        parts.push(format!("class is {}", names.join(" or ")));
    }
    if let Some(t) = &c.tiers {
        let names: Vec<String> = t.iter().map(u8::to_string).collect();
        parts.push(format!("tier is {}", names.join(" or ")));
    }
    if let Some(p) = c.predicted_users_above {
        parts.push(format!("predicted users above {}", pct(p)));
    }
    if let Some(s) = c.size_above {
        parts.push(format!("size above {s} lines"));
    }
    if parts.is_empty() {
        "always".into()
    } else {
        parts.join(" and ")
    }
}

fn rule_words(i: usize, rule: &Rule, world: &WorldConfig) -> String {
    format!(
        "rule {} (when {}: require {})",
        i + 1,
        condition_words(&rule.when, world),
        requirement_words(&rule.require)
    )
}

/// Index among the run's agents of global author `author` (the per-agent breaker's id).
fn agent_index(world: &WorldConfig, author: u32) -> Option<u32> {
    let mut first = 0u32;
    let mut agents = 0u32;
    for g in &world.authors {
        if author < first + g.count {
            return (g.kind == AuthorKind::Agent).then_some(agents + (author - first));
        }
        first += g.count;
        if g.kind == AuthorKind::Agent {
            agents += g.count;
        }
    }
    None
}

/// What the trace says about one change.
#[derive(Default)]
struct ChangeFacts {
    proposed_at: u64,
    attempt: u32,
    class: Option<ActionClass>,
    fate: Vec<String>,
}

fn service(world: &WorldConfig, id: u32) -> String {
    let g = &world.infra.graph;
    if (id as usize) < g.len() {
        format!("`{}`", g.name(ServiceId(id)))
    } else {
        format!("service {id}")
    }
}

/// The causal story of the worst incident in `trace`, a run of `world`.
pub fn story(trace: &[TraceRecord], world: &WorldConfig) -> String {
    // The worst incident: most user-impact minutes, first of equals.
    let mut worst: Option<(u32, f64, u64)> = None;
    for r in trace {
        if let TraceEvent::IncidentRestored {
            incident,
            user_impact_min,
        } = r.event
            && worst.is_none_or(|(_, m, _)| user_impact_min > m)
        {
            worst = Some((incident, user_impact_min, r.t));
        }
    }
    let Some((n, impact, restored_at)) = worst else {
        return "No incident happened in this run: there is no causal story to tell.\n".into();
    };
    let mut out = String::new();
    let w = &mut out;

    // The incident itself.
    let Some((detected_at, start)) = trace.iter().find_map(|r| match &r.event {
        e @ TraceEvent::IncidentStarted { incident, .. } if *incident == n => Some((r.t, e)),
        _ => None,
    }) else {
        return format!("Incident {n} has no start in the trace.\n");
    };
    let TraceEvent::IncidentStarted {
        started_ms,
        change,
        severity,
        origin,
        share,
        services_hit,
        users_hit_peak,
        ..
    } = *start
    else {
        unreachable!("matched above")
    };
    let change_id = change;
    let _ = writeln!(
        w,
        "Worst incident: #{n}, caused by change {change_id}, began {}. It hit {services_hit} \
         services and {} of users at peak, lasted {} and cost {impact:.0} user-impact minutes.",
        when(started_ms),
        pct(users_hit_peak),
        duration_words(restored_at.saturating_sub(started_ms)),
    );

    // Who proposed what.
    let proposal = trace.iter().find_map(|r| match &r.event {
        TraceEvent::Proposed { change, .. } if *change == change_id => Some((r.t, &r.event)),
        _ => None,
    });
    let _ = writeln!(w, "\nWho proposed what");
    let mut author_info = None;
    if let Some((
        t,
        TraceEvent::Proposed {
            task,
            attempt,
            group,
            author,
            kind,
            class,
            size,
            target,
            defective,
            severity: truth,
            reach,
            ..
        },
    )) = proposal
    {
        author_info = Some((*task, *author, *kind, *group));
        let gname = world
            .authors
            .get(*group as usize)
            .map_or("?", |g| g.name.as_str());
        let tier = world.infra.graph.tier(ServiceId(*target));
        let _ = writeln!(
            w,
            "- An {} of group `{gname}` (author {author}) proposed {} on {} (tier {tier}) at {}: \
             {size} lines, attempt {attempt} of task {task}.",
            kind.name(),
            class_phrase(*class),
            service(world, *target),
            when(t),
        );
        let _ = writeln!(
            w,
            "- Its latent truth: {}, severity {}. Its target reaches {} of user traffic through \
             the dependency graph.",
            if *defective { "defective" } else { "sound" },
            truth.name(),
            pct(*reach),
        );
        let _ = severity;
        // Earlier attempts of the same task and what happened to each.
        let mut attempts: Vec<(u64, ChangeFacts)> = Vec::new();
        let mut task_notes: Vec<(u64, String)> = Vec::new();
        for r in trace {
            match &r.event {
                TraceEvent::Proposed {
                    change,
                    task: tk,
                    attempt,
                    class,
                    ..
                } if tk == task && *change != change_id => attempts.push((
                    *change,
                    ChangeFacts {
                        proposed_at: r.t,
                        attempt: *attempt,
                        class: Some(*class),
                        fate: Vec::new(),
                    },
                )),
                TraceEvent::Escalated { task: tk, from, to } if tk == task && r.t <= t => {
                    task_notes.push((
                        r.t,
                        format!(
                            "escalated from {} to {} at {}",
                            from.name(),
                            to.name(),
                            when(r.t)
                        ),
                    ))
                }
                _ => {}
            }
            let fate = match &r.event {
                TraceEvent::Refused { change, .. } => {
                    Some((*change, "refused by access control".into()))
                }
                TraceEvent::Rejected { change, .. } => Some((*change, "rejected in review".into())),
                TraceEvent::Blocked {
                    change,
                    breaker,
                    retry_at_ms: None,
                    escalated: false,
                    ..
                } => Some((
                    *change,
                    format!("blocked by the {}", breaker_name(*breaker)),
                )),
                TraceEvent::Deployed { change, .. } => Some((*change, "deployed".into())),
                TraceEvent::IncidentStarted {
                    change, incident, ..
                } => Some((*change, format!("caused incident #{incident}"))),
                _ => None,
            };
            if let Some((c, f)) = fate
                && let Some((_, facts)) = attempts.iter_mut().find(|(id, _)| *id == c)
            {
                facts.fate.push(f);
            }
        }
        attempts.retain(|(_, f)| f.proposed_at <= t);
        if attempts.is_empty() {
            let _ = writeln!(w, "- It was the task's first attempt.");
        } else {
            let _ = writeln!(w, "- Earlier attempts of task {task}:");
            let mut lines: Vec<(u64, String)> = attempts
                .iter()
                .map(|(id, f)| {
                    let fate = if f.fate.is_empty() {
                        "no recorded outcome".to_string()
                    } else if f.fate == ["deployed"] {
                        "deployed, but did not fix the task".to_string()
                    } else {
                        f.fate.join(", then ")
                    };
                    (
                        f.proposed_at,
                        format!(
                            "attempt {} (change {id}, {}) at {}: {fate}",
                            f.attempt,
                            f.class.map_or("?", |c| c.name()),
                            when(f.proposed_at)
                        ),
                    )
                })
                .collect();
            lines.extend(task_notes);
            lines.sort_by_key(|(t, _)| *t);
            for (_, l) in lines {
                let _ = writeln!(w, "  - {l}");
            }
        }
    }

    // Faults active when it executed.
    let mut active = BTreeSet::new();
    for r in trace.iter().take_while(|r| r.t <= started_ms) {
        if let TraceEvent::Fault { fault, on } = r.event {
            if on {
                active.insert(fault);
            } else {
                active.remove(&fault);
            }
        }
    }
    if !active.is_empty() {
        let _ = writeln!(w, "- Faults active when it executed:");
        for f in &active {
            if let Some(fault) = world.faults.get(*f as usize) {
                let _ = writeln!(w, "  - {}", describe_fault(fault, world));
            }
        }
    }

    // The approval policy.
    let _ = writeln!(w, "\nWhy the approval policy let it through");
    let gated = trace.iter().find_map(|r| match r.event {
        TraceEvent::Gated {
            change,
            rule,
            need,
            predicted_users,
        } if change == change_id => Some((rule, need, predicted_users)),
        _ => None,
    });
    let policy = &world.policy;
    match gated {
        Some((Some(i), need, predicted)) => {
            let rule = policy.rules.get(i as usize);
            let _ = writeln!(
                w,
                "- Policy `{}` matched {}; it saw a predicted {} of users.",
                policy.name,
                rule.map_or_else(
                    || format!("rule {}", i + 1),
                    |r| rule_words(i as usize, r, world)
                ),
                pct(predicted),
            );
            if let Some(Rule {
                require: Requirement::Sample(_),
                ..
            }) = rule
            {
                let _ = writeln!(
                    w,
                    "- The sample {} it for review.",
                    if need == ReviewNeed::None {
                        "skipped"
                    } else {
                        "picked"
                    }
                );
            }
        }
        Some((None, _, predicted)) => {
            let _ = writeln!(
                w,
                "- No rule of policy `{}` matched (predicted {} of users), so no review was required.",
                policy.name,
                pct(predicted)
            );
        }
        None => {
            let _ = writeln!(w, "- The trace has no approval decision for it.");
        }
    }
    let mut reviewed = false;
    for r in trace {
        match r.event {
            TraceEvent::ReviewStarted {
                change,
                reviewer,
                senior,
                waited_ms,
                rushed,
                queue_len,
            } if change == change_id => {
                reviewed = true;
                let _ = writeln!(
                    w,
                    "- Reviewer {reviewer} ({}) took it at {} after {} in the queue{}.",
                    if senior { "senior" } else { "not senior" },
                    when(r.t),
                    duration_words(waited_ms),
                    if rushed {
                        format!(
                            ", rushed: {queue_len} reviews were waiting, over the rubber-stamp \
                             threshold of {}",
                            world.reviewers.load.queue_above
                        )
                    } else {
                        String::new()
                    }
                );
            }
            TraceEvent::ReviewFinished {
                change,
                reviewer,
                approved,
                ..
            } if change == change_id => {
                let _ = writeln!(
                    w,
                    "- Reviewer {reviewer} {} it at {}{}.",
                    if approved { "approved" } else { "rejected" },
                    when(r.t),
                    if approved { ", missing the defect" } else { "" }
                );
            }
            TraceEvent::AutoApproved { change } if change == change_id => {
                reviewed = true;
                let _ = writeln!(
                    w,
                    "- The review timeout approved it at {} without a finished review.",
                    when(r.t)
                );
            }
            _ => {}
        }
    }
    if !reviewed {
        let _ = writeln!(w, "- Nobody reviewed it.");
    }

    // The breakers.
    let _ = writeln!(w, "\nWhy no breaker stopped it");
    breakers(
        w,
        trace,
        world,
        change_id,
        started_ms,
        author_info,
        gated.map(|g| g.2),
    );

    // The cascade.
    let _ = writeln!(w, "\nHow the cascade spread");
    let hits: Option<&Vec<CascadeHit>> = trace.iter().find_map(|r| match &r.event {
        TraceEvent::CascadeSpread { incident, hits } if *incident == n => Some(hits),
        _ => None,
    });
    let _ = writeln!(
        w,
        "- The change broke {} ({} of its traffic running the change; severity {}).",
        service(world, origin),
        pct(share),
        severity.name()
    );
    match hits {
        Some(hits) if hits.len() > 1 => {
            const SHOWN: usize = 12;
            let depth = hits.iter().map(|h| h.depth).max().unwrap_or(0);
            for h in hits.iter().filter(|h| h.cause != "origin").take(SHOWN) {
                let how = match h.cause.as_str() {
                    "hard" => "hard dependency on",
                    "soft" => "soft dependency on",
                    "overload" => "overloaded by the loss of",
                    other => other,
                };
                let _ = writeln!(
                    w,
                    "  - {} went down: {how} {} ({} hop{})",
                    service(world, h.service),
                    service(world, h.parent),
                    h.depth,
                    if h.depth == 1 { "" } else { "s" }
                );
            }
            if hits.len() - 1 > SHOWN {
                let _ = writeln!(w, "  - and {} more services", hits.len() - 1 - SHOWN);
            }
            let count = |c: &str| hits.iter().filter(|h| h.cause == c).count();
            let _ = writeln!(
                w,
                "- {} services in all, up to {depth} hops from the origin: {} over hard edges, {} \
                 over soft edges, {} by overload.",
                hits.len(),
                count("hard"),
                count("soft"),
                count("overload")
            );
        }
        Some(_) => {
            let _ = writeln!(w, "- It went no further: no dependent failed with it.");
        }
        None => {
            let _ = writeln!(w, "- The trace has no cascade record for it.");
        }
    }

    // Detection and recovery.
    let _ = writeln!(w, "\nDetection and recovery");
    let _ = writeln!(
        w,
        "- Monitoring noticed it {} after the fault, at {}.",
        duration_words(detected_at.saturating_sub(started_ms)),
        when(detected_at)
    );
    let recovery = trace.iter().find_map(|r| match r.event {
        TraceEvent::RecoveryStarted { incident, rebuild } if incident == n => Some((r.t, rebuild)),
        _ => None,
    });
    match recovery {
        Some((t, rebuild)) => {
            let waited = t.saturating_sub(detected_at);
            if waited > 0 {
                let _ = writeln!(
                    w,
                    "- It waited {} for a free responder ({} on call).",
                    duration_words(waited),
                    world.incidents.responders
                );
            } else {
                let _ = writeln!(w, "- Recovery began at once.");
            }
            let _ = writeln!(
                w,
                "- {} took until {}: {} after recovery began.",
                if rebuild {
                    "Rebuilding the deleted environment and restarting its dependents"
                } else {
                    "Rolling back and restarting the dependents"
                },
                when(restored_at),
                duration_words(restored_at.saturating_sub(t)),
            );
        }
        None => {
            let _ = writeln!(w, "- Recovery had not begun when the run ended.");
        }
    }
    let _ = writeln!(
        w,
        "- Full recovery {} after the fault. Users hit: {} at peak; {impact:.0} user-impact minutes.",
        duration_words(restored_at.saturating_sub(started_ms)),
        pct(users_hit_peak)
    );
    out
}

fn breaker_name(b: BreakerKind) -> &'static str {
    match b {
        BreakerKind::KillSwitch => "kill switch",
        BreakerKind::ErrorBudget => "error-budget freeze",
        BreakerKind::Agent => "per-agent breaker",
        BreakerKind::RateLimit => "rate limiter",
        BreakerKind::BlastGuard => "blast-radius guard",
    }
}

/// Why each configured breaker let the change through at `t_exec`.
fn breakers(
    w: &mut String,
    trace: &[TraceRecord],
    world: &WorldConfig,
    change_id: u64,
    t_exec: u64,
    author: Option<(u64, u32, AuthorKind, u32)>,
    predicted: Option<f64>,
) {
    let b = &world.breakers;
    let is_agent = matches!(author, Some((_, _, AuthorKind::Agent, _)));
    let before = || trace.iter().take_while(move |r| r.t <= t_exec);
    if b.agent.is_none()
        && b.blast_guard.is_none()
        && b.rate_limit.is_none()
        && b.error_budget.is_none()
        && b.kill_switch.is_none()
    {
        let _ = writeln!(w, "- This arm has no breaker configured.");
        return;
    }
    for r in trace {
        match r.event {
            TraceEvent::Blocked {
                change,
                breaker,
                retry_at_ms: Some(retry),
                ..
            } if change == change_id => {
                let _ = writeln!(
                    w,
                    "- The {} held it at {} (retry at {}), then let it go.",
                    breaker_name(breaker),
                    when(r.t),
                    when(retry)
                );
            }
            TraceEvent::Blocked {
                change,
                escalated: true,
                ..
            } if change == change_id => {
                let _ = writeln!(
                    w,
                    "- The blast-radius guard sent it to a senior at {}; the senior approved it.",
                    when(r.t)
                );
            }
            _ => {}
        }
    }
    if let Some(g) = b.blast_guard {
        if !is_agent && !g.humans_too {
            let _ = writeln!(
                w,
                "- Blast-radius guard: it guards agents only; this was a human change."
            );
        } else if let Some(p) = predicted {
            let verdict = if p <= g.max_predicted_users {
                format!(
                    "the predicted {} of users was within its threshold of {}",
                    pct(p),
                    pct(g.max_predicted_users)
                )
            } else {
                format!(
                    "the predicted {} was over its threshold of {}, and it {}",
                    pct(p),
                    pct(g.max_predicted_users),
                    match g.action {
                        GuardAction::Escalate => "escalated to a senior, who approved",
                        GuardAction::Block => "should have blocked it",
                    }
                )
            };
            let _ = writeln!(
                w,
                "- Blast-radius guard: {verdict} (estimate noise sigma {}).",
                g.estimate_noise
            );
        }
    }
    if b.agent.is_some() {
        match author.and_then(|(_, a, _, _)| agent_index(world, a)) {
            None => {
                let _ = writeln!(
                    w,
                    "- Per-agent breaker: it watches agents only; this was a human change."
                );
            }
            Some(agent) => {
                let mut state = BreakerState::Closed;
                let mut trips = 0;
                for r in before() {
                    if let TraceEvent::AgentBreaker {
                        agent: a, state: s, ..
                    } = r.event
                        && a == agent
                    {
                        state = s;
                        if s == BreakerState::Open {
                            trips += 1;
                        }
                    }
                }
                let state_words = match state {
                    BreakerState::Closed => "closed",
                    BreakerState::Open => "open (its open period had just ended)",
                    BreakerState::HalfOpen => "half-open, letting a trial action through",
                };
                let _ = writeln!(
                    w,
                    "- Per-agent breaker: agent {agent}'s breaker was {state_words}; it had tripped \
                     {trips} time{} before. Too few failures in its window to trip on this action.",
                    if trips == 1 { "" } else { "s" }
                );
            }
        }
    }
    if let Some(ks) = b.kill_switch {
        let mut on = false;
        let mut open: BTreeSet<u32> = BTreeSet::new();
        for r in before() {
            match r.event {
                TraceEvent::KillSwitch { on: o } => on = o,
                TraceEvent::IncidentStarted {
                    incident,
                    kind: AuthorKind::Agent,
                    ..
                } => {
                    open.insert(incident);
                }
                TraceEvent::IncidentRestored { incident, .. } => {
                    open.remove(&incident);
                }
                _ => {}
            }
        }
        let scope = match ks.scope {
            KillScope::AllAgents => "all agents",
            KillScope::Offender => "the offending agent",
        };
        let why = if !is_agent {
            "it halts agents only; this was a human change".to_string()
        } else if on {
            "it was on, but halts only the offending agent".to_string()
        } else {
            match ks.trigger {
                KillTrigger::WhileIncidentOpen if open.is_empty() => {
                    "no agent-caused incident was open (detected and not restored) at the time"
                        .to_string()
                }
                KillTrigger::WhileIncidentOpen => format!(
                    "{} agent-caused incident(s) were open, but none of them was this agent's",
                    open.len()
                ),
                KillTrigger::AfterIncidents { count, window, .. } => {
                    format!("fewer than {count} agent-caused incidents had opened within {window}")
                }
            }
        };
        let _ = writeln!(w, "- Kill switch (halts {scope}): {why}.");
    }
    if let Some(eb) = &b.error_budget {
        let mut frozen = false;
        for r in before() {
            if let TraceEvent::Freeze { on } = r.event {
                frozen = on;
            }
        }
        let _ = writeln!(
            w,
            "- Error-budget freeze (SLO {}): {}.",
            pct(eb.slo),
            if frozen {
                "a freeze was on, but it holds agent changes only when they execute".to_string()
            } else if !is_agent && !eb.humans_too {
                "it freezes agents only; this was a human change".to_string()
            } else {
                "the budget was not burning fast enough to freeze".to_string()
            }
        );
    }
    if b.rate_limit.is_some() {
        let _ = writeln!(
            w,
            "- Rate limiter: {}.",
            if is_agent {
                "the agent had tokens left; it limits how often, not what"
            } else {
                "it limits agents only; this was a human change"
            }
        );
    }
}
