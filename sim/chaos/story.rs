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
use crate::model::breaker::{BreakerKind, BreakerState};
use crate::model::cascade::HitCause;
use crate::model::config::{
    ActionClass, AuthorKind, Condition, GuardAction, KillScope, KillTrigger, Requirement, Rule,
    Severity, WorldConfig,
};
use crate::model::graph::ServiceId;
use crate::model::policy::ReviewNeed;
use crate::model::trace::{CascadeHit, TraceEvent, TraceRecord};

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

fn service(world: &WorldConfig, id: u32) -> String {
    let g = &world.infra.graph;
    if (id as usize) < g.len() {
        format!("`{}`", g.name(ServiceId(id)))
    } else {
        format!("service {id}")
    }
}

/// The incident the story is about, as its start and restore events recorded it.
#[derive(Clone, Copy)]
struct Worst {
    /// Incident number.
    n: u32,
    /// User-impact minutes.
    impact: f64,
    /// When the fault began, ms.
    started_ms: u64,
    /// When monitoring noticed it (its `IncidentStarted` is emitted then), ms.
    detected_at: u64,
    /// When the last affected service was back, ms.
    restored_at: u64,
    /// The change that caused it.
    change: u64,
    /// Its severity.
    severity: Severity,
    /// The service the change broke.
    origin: u32,
    /// Share of the origin's traffic running the change.
    share: f64,
    /// Services down.
    services_hit: u32,
    /// Peak share of users hit.
    users_hit_peak: f64,
}

/// The author of the change, as its proposal recorded it.
#[derive(Clone, Copy)]
struct Author {
    /// Global author index.
    author: u32,
    /// Agent or human.
    kind: AuthorKind,
}

/// The causal story of the worst incident in `trace`, a run of `world`.
pub fn story(trace: &[TraceRecord], world: &WorldConfig) -> String {
    let Some((n, impact, restored_at)) = worst_incident(trace) else {
        return "No incident happened in this run: there is no causal story to tell.\n".into();
    };
    let Some(worst) = incident_start(trace, n, impact, restored_at) else {
        return format!("Incident {n} has no start in the trace.\n");
    };
    let mut out = String::new();
    let w = &mut out;
    headline(w, &worst);
    let _ = writeln!(w, "\nWho proposed what");
    let author = proposal(w, trace, world, worst.change);
    active_faults(w, trace, world, worst.started_ms);
    let _ = writeln!(w, "\nWhy the approval policy let it through");
    let predicted = approval(w, trace, world, worst.change);
    reviews(w, trace, world, worst.change);
    let _ = writeln!(w, "\nWhy no breaker stopped it");
    breakers(
        w,
        trace,
        world,
        worst.change,
        worst.started_ms,
        author,
        predicted,
    );
    let _ = writeln!(w, "\nHow the cascade spread");
    cascade(w, trace, world, &worst);
    let _ = writeln!(w, "\nDetection and recovery");
    recovery(w, trace, world, &worst);
    out
}

/// The worst incident: most user-impact minutes, first of equals; (number, minutes,
/// restored at).
fn worst_incident(trace: &[TraceRecord]) -> Option<(u32, f64, u64)> {
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
    worst
}

/// What the start of incident `n` recorded.
fn incident_start(trace: &[TraceRecord], n: u32, impact: f64, restored_at: u64) -> Option<Worst> {
    trace.iter().find_map(|r| match r.event {
        TraceEvent::IncidentStarted {
            incident,
            started_ms,
            change,
            severity,
            origin,
            share,
            services_hit,
            users_hit_peak,
            ..
        } if incident == n => Some(Worst {
            n,
            impact,
            started_ms,
            detected_at: r.t,
            restored_at,
            change,
            severity,
            origin,
            share,
            services_hit,
            users_hit_peak,
        }),
        _ => None,
    })
}

/// The incident in one sentence.
fn headline(w: &mut String, i: &Worst) {
    let _ = writeln!(
        w,
        "Worst incident: #{}, caused by change {}, began {}. It hit {} \
         services and {} of users at peak, lasted {} and cost {:.0} user-impact minutes.",
        i.n,
        i.change,
        when(i.started_ms),
        i.services_hit,
        pct(i.users_hit_peak),
        duration_words(i.restored_at.saturating_sub(i.started_ms)),
        i.impact,
    );
}

/// Who proposed the change, its latent truth, and the earlier attempts of its task.
fn proposal(
    w: &mut String,
    trace: &[TraceRecord],
    world: &WorldConfig,
    change_id: u64,
) -> Option<Author> {
    let (t, r) = trace.iter().find_map(|r| match &r.event {
        TraceEvent::Proposed { change, .. } if *change == change_id => Some((r.t, &r.event)),
        _ => None,
    })?;
    let TraceEvent::Proposed {
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
    } = *r
    else {
        unreachable!("matched above")
    };
    let gname = world
        .authors
        .get(group as usize)
        .map_or("?", |g| g.name.as_str());
    let tier = world.infra.graph.tier(ServiceId(target));
    let _ = writeln!(
        w,
        "- An {} of group `{gname}` (author {author}) proposed {} on {} (tier {tier}) at {}: \
         {size} lines, attempt {attempt} of task {task}.",
        kind.name(),
        class_phrase(class),
        service(world, target),
        when(t),
    );
    let _ = writeln!(
        w,
        "- Its latent truth: {}, severity {}. Its target reaches {} of user traffic through \
         the dependency graph.",
        if defective { "defective" } else { "sound" },
        truth.name(),
        pct(reach),
    );
    earlier_attempts(w, trace, task, change_id, t);
    Some(Author { author, kind })
}

/// What the trace says about one change.
#[derive(Default)]
struct ChangeFacts {
    proposed_at: u64,
    attempt: u32,
    class: Option<ActionClass>,
    fate: Vec<String>,
}

/// How an event decided a change's fate, if it did.
fn fate(event: &TraceEvent) -> Option<(u64, String)> {
    match event {
        TraceEvent::Refused { change, .. } => Some((*change, "refused by access control".into())),
        TraceEvent::Rejected { change, .. } => Some((*change, "rejected in review".into())),
        TraceEvent::Blocked {
            change,
            breaker,
            retry_at_ms: None,
            escalated: false,
            ..
        } => Some((*change, format!("blocked by the {}", breaker.words()))),
        TraceEvent::Deployed { change, .. } => Some((*change, "deployed".into())),
        TraceEvent::IncidentStarted {
            change, incident, ..
        } => Some((*change, format!("caused incident #{incident}"))),
        _ => None,
    }
}

/// The attempts of `task` before change `change_id` (proposed at `t`), and its escalations.
fn earlier_attempts(w: &mut String, trace: &[TraceRecord], task: u64, change_id: u64, t: u64) {
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
            } if *tk == task && *change != change_id => attempts.push((
                *change,
                ChangeFacts {
                    proposed_at: r.t,
                    attempt: *attempt,
                    class: Some(*class),
                    fate: Vec::new(),
                },
            )),
            TraceEvent::Escalated { task: tk, from, to } if *tk == task && r.t <= t => task_notes
                .push((
                    r.t,
                    format!(
                        "escalated from {} to {} at {}",
                        from.name(),
                        to.name(),
                        when(r.t)
                    ),
                )),
            _ => {}
        }
        if let Some((c, f)) = fate(&r.event)
            && let Some((_, facts)) = attempts.iter_mut().find(|(id, _)| *id == c)
        {
            facts.fate.push(f);
        }
    }
    attempts.retain(|(_, f)| f.proposed_at <= t);
    if attempts.is_empty() {
        let _ = writeln!(w, "- It was the task's first attempt.");
        return;
    }
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

/// The injected faults active when the change executed (at `started_ms`).
fn active_faults(w: &mut String, trace: &[TraceRecord], world: &WorldConfig, started_ms: u64) {
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
    if active.is_empty() {
        return;
    }
    let _ = writeln!(w, "- Faults active when it executed:");
    for f in &active {
        if let Some(fault) = world.faults.get(*f as usize) {
            let _ = writeln!(w, "  - {}", describe_fault(fault, world));
        }
    }
}

/// The approval policy's decision; returns the predicted share of users it saw.
fn approval(
    w: &mut String,
    trace: &[TraceRecord],
    world: &WorldConfig,
    change_id: u64,
) -> Option<f64> {
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
    gated.map(|(_, _, predicted)| predicted)
}

/// Who reviewed the change, and how.
fn reviews(w: &mut String, trace: &[TraceRecord], world: &WorldConfig, change_id: u64) {
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
}

/// How the cascade spread from the origin.
fn cascade(w: &mut String, trace: &[TraceRecord], world: &WorldConfig, i: &Worst) {
    let hits: Option<&Vec<CascadeHit>> = trace.iter().find_map(|r| match &r.event {
        TraceEvent::CascadeSpread { incident, hits } if *incident == i.n => Some(hits),
        _ => None,
    });
    let _ = writeln!(
        w,
        "- The change broke {} ({} of its traffic running the change; severity {}).",
        service(world, i.origin),
        pct(i.share),
        i.severity.name()
    );
    match hits {
        Some(hits) if hits.len() > 1 => {
            const SHOWN: usize = 12;
            let depth = hits.iter().map(|h| h.depth).max().unwrap_or(0);
            for h in hits
                .iter()
                .filter(|h| h.cause != HitCause::Origin)
                .take(SHOWN)
            {
                let how = match h.cause {
                    HitCause::Hard => "hard dependency on",
                    HitCause::Soft => "soft dependency on",
                    HitCause::Overload => "overloaded by the loss of",
                    HitCause::Origin => unreachable!("the origin is filtered out above"),
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
            let count = |c: HitCause| hits.iter().filter(|h| h.cause == c).count();
            let _ = writeln!(
                w,
                "- {} services in all, up to {depth} hops from the origin: {} over hard edges, {} \
                 over soft edges, {} by overload.",
                hits.len(),
                count(HitCause::Hard),
                count(HitCause::Soft),
                count(HitCause::Overload)
            );
        }
        Some(_) => {
            let _ = writeln!(w, "- It went no further: no dependent failed with it.");
        }
        None => {
            let _ = writeln!(w, "- The trace has no cascade record for it.");
        }
    }
}

/// Detection, the wait for a responder, and the recovery.
fn recovery(w: &mut String, trace: &[TraceRecord], world: &WorldConfig, i: &Worst) {
    let _ = writeln!(
        w,
        "- Monitoring noticed it {} after the fault, at {}.",
        duration_words(i.detected_at.saturating_sub(i.started_ms)),
        when(i.detected_at)
    );
    let recovery = trace.iter().find_map(|r| match r.event {
        TraceEvent::RecoveryStarted { incident, rebuild } if incident == i.n => {
            Some((r.t, rebuild))
        }
        _ => None,
    });
    match recovery {
        Some((t, rebuild)) => {
            let waited = t.saturating_sub(i.detected_at);
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
                when(i.restored_at),
                duration_words(i.restored_at.saturating_sub(t)),
            );
        }
        None => {
            let _ = writeln!(w, "- Recovery had not begun when the run ended.");
        }
    }
    let _ = writeln!(
        w,
        "- Full recovery {} after the fault. Users hit: {} at peak; {:.0} user-impact minutes.",
        duration_words(i.restored_at.saturating_sub(i.started_ms)),
        pct(i.users_hit_peak),
        i.impact
    );
}

/// `words` with a capital first letter, to open a line.
fn capitalised(words: &str) -> String {
    let mut chars = words.chars();
    chars.next().map_or_else(String::new, |c| {
        c.to_uppercase().chain(chars).collect::<String>()
    })
}

/// Where a breaker's explanation stands in the story: first the checks about this action
/// and this agent (guard, per-agent breaker), then the fleet-wide halts (kill switch,
/// freeze), then the rate limiter. Exhaustive, so a new breaker must be placed.
fn told_rank(kind: BreakerKind) -> u8 {
    match kind {
        BreakerKind::BlastGuard => 0,
        BreakerKind::Agent => 1,
        BreakerKind::KillSwitch => 2,
        BreakerKind::ErrorBudget => 3,
        BreakerKind::RateLimit => 4,
    }
}

/// What the breakers section needs to know about the change.
struct Passage<'a> {
    trace: &'a [TraceRecord],
    world: &'a WorldConfig,
    /// When the change executed, ms.
    t_exec: u64,
    author: Option<Author>,
    /// An agent wrote it.
    is_agent: bool,
    /// The predicted share of users the policy and guard saw.
    predicted: Option<f64>,
}

impl Passage<'_> {
    /// The trace up to the change's execution.
    fn before(&self) -> impl Iterator<Item = &TraceRecord> {
        self.trace.iter().take_while(|r| r.t <= self.t_exec)
    }
}

/// Why each configured breaker let the change through at `t_exec`.
fn breakers(
    w: &mut String,
    trace: &[TraceRecord],
    world: &WorldConfig,
    change_id: u64,
    t_exec: u64,
    author: Option<Author>,
    predicted: Option<f64>,
) {
    let b = &world.breakers;
    if !BreakerKind::ALL.iter().any(|k| k.configured(b)) {
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
                    breaker.words(),
                    when(r.t),
                    when(retry)
                );
            }
            TraceEvent::Blocked {
                change,
                breaker,
                escalated: true,
                ..
            } if change == change_id => {
                let _ = writeln!(
                    w,
                    "- The {} sent it to a senior at {}; the senior approved it.",
                    breaker.words(),
                    when(r.t)
                );
            }
            _ => {}
        }
    }
    let passage = Passage {
        trace,
        world,
        t_exec,
        author,
        is_agent: matches!(
            author,
            Some(Author {
                kind: AuthorKind::Agent,
                ..
            })
        ),
        predicted,
    };
    let mut kinds = BreakerKind::ALL;
    kinds.sort_by_key(|&k| told_rank(k));
    for kind in kinds {
        if let Some(why) = why_passed(kind, &passage) {
            let _ = writeln!(w, "- {}{why}.", capitalised(kind.words()));
        }
    }
}

/// Why breaker `kind` let the change through (the rest of its line, after its name), or
/// `None` if it is not configured or has nothing to say.
fn why_passed(kind: BreakerKind, p: &Passage) -> Option<String> {
    let b = &p.world.breakers;
    match kind {
        BreakerKind::BlastGuard => {
            let g = b.blast_guard?;
            if !p.is_agent && !g.humans_too {
                return Some(": it guards agents only; this was a human change".into());
            }
            let pred = p.predicted?;
            let verdict = if pred <= g.max_predicted_users {
                format!(
                    "the predicted {} of users was within its threshold of {}",
                    pct(pred),
                    pct(g.max_predicted_users)
                )
            } else {
                format!(
                    "the predicted {} was over its threshold of {}, and it {}",
                    pct(pred),
                    pct(g.max_predicted_users),
                    match g.action {
                        GuardAction::Escalate => "escalated to a senior, who approved",
                        GuardAction::Block => "should have blocked it",
                    }
                )
            };
            Some(format!(
                ": {verdict} (estimate noise sigma {})",
                g.estimate_noise
            ))
        }
        BreakerKind::Agent => {
            b.agent?;
            let Some(agent) = p.author.and_then(|a| agent_index(p.world, a.author)) else {
                return Some(": it watches agents only; this was a human change".into());
            };
            Some(agent_breaker_words(p, agent))
        }
        BreakerKind::KillSwitch => {
            let ks = b.kill_switch?;
            let scope = match ks.scope {
                KillScope::AllAgents => "all agents",
                KillScope::Offender => "the offending agent",
            };
            Some(format!(
                " (halts {scope}): {}",
                kill_switch_words(p, ks.trigger)
            ))
        }
        BreakerKind::ErrorBudget => {
            let eb = b.error_budget.as_ref()?;
            let frozen = p
                .before()
                .filter_map(|r| match r.event {
                    TraceEvent::Freeze { on } => Some(on),
                    _ => None,
                })
                .last()
                .unwrap_or(false);
            Some(format!(
                " (SLO {}): {}",
                pct(eb.slo),
                if frozen {
                    "a freeze was on, but it holds agent changes only when they execute"
                } else if !p.is_agent && !eb.humans_too {
                    "it freezes agents only; this was a human change"
                } else {
                    "the budget was not burning fast enough to freeze"
                }
            ))
        }
        BreakerKind::RateLimit => {
            b.rate_limit?;
            Some(format!(
                ": {}",
                if p.is_agent {
                    "the agent had tokens left; it limits how often, not what"
                } else {
                    "it limits agents only; this was a human change"
                }
            ))
        }
    }
}

/// The state and trips of `agent`'s breaker when the change executed.
fn agent_breaker_words(p: &Passage, agent: u32) -> String {
    let mut state = BreakerState::Closed;
    let mut trips = 0;
    for r in p.before() {
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
    format!(
        ": agent {agent}'s breaker was {state_words}; it had tripped \
         {trips} time{} before. Too few failures in its window to trip on this action",
        if trips == 1 { "" } else { "s" }
    )
}

/// Why the kill switch (with trigger `trigger`) did not halt the change's author.
fn kill_switch_words(p: &Passage, trigger: KillTrigger) -> String {
    let mut on = false;
    let mut open: BTreeSet<u32> = BTreeSet::new();
    for r in p.before() {
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
    if !p.is_agent {
        "it halts agents only; this was a human change".to_string()
    } else if on {
        "it was on, but halts only the offending agent".to_string()
    } else {
        match trigger {
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
    }
}
