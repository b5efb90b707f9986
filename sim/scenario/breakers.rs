//! `[breakers]`: one optional configuration per breaker kind, switched on per arm by name.
//!
//! Breakers are named only through `BreakerKind` (`ALL`, `name()`): the `[breakers]` keys,
//! the arm `breakers` entries, the messages and the schema all derive from it.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::engine::SimDuration;
use crate::model::breaker::BreakerKind;
use crate::model::config::{
    ActionClass, AgentBreakerConfig, BlastGuardConfig, BreakerConfig, BreakerWindow, BurnWindow,
    ClassSet, ErrorBudgetConfig, FailureKinds, GuardAction, KillOn, KillScope, KillSwitchConfig,
    KillTrigger, Kind, RateLimitConfig, ReviewerConfig, TokenRate,
};
use crate::scenario::error::{Ctx, Loc, R, list_names, unknown_name};
use crate::scenario::policies::has_senior;
use crate::scenario::presets::{self, AgentBreakerPreset};
use crate::scenario::values::{
    KindKey, KindKeySeed, KindName, RawDuration, any_of, at_least_one, finite, nonneg, positive,
    positive_duration, prob,
};

/// `[breakers]`: one optional configuration per breaker kind; arms switch them on by name.
///
/// Read key by key as `BreakerKind` names, so the accepted keys, the error for an unknown
/// one and the schema's properties all come from `BreakerKind::ALL`.
#[derive(Clone, Debug, Default)]
pub struct RawBreakers {
    /// Per-agent circuit breaker.
    pub agent: Option<Loc<RawAgentBreaker>>,
    /// Blast-radius guard.
    pub blast_guard: Option<Loc<RawBlastGuard>>,
    /// Token-bucket rate limiter.
    pub rate_limit: Option<Loc<RawRateLimit>>,
    /// Error-budget freeze.
    pub error_budget: Option<Loc<RawErrorBudget>>,
    /// Incident kill switch.
    pub kill_switch: Option<Loc<RawKillSwitch>>,
}

impl Kind for BreakerKind {
    const WHAT: &'static str = "breaker";
    fn all() -> &'static [Self] {
        &BreakerKind::ALL
    }
    fn name(self) -> &'static str {
        BreakerKind::name(self)
    }
}

impl<'de> Deserialize<'de> for RawBreakers {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawBreakers;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a table with one entry per configured breaker")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawBreakers, A::Error> {
                let mut out = RawBreakers::default();
                while let Some(key) = map.next_key_seed(KindKeySeed::<BreakerKind, false>::new())? {
                    let KindKey::Named(kind) = key else {
                        unreachable!("no `default` key without DEFAULT")
                    };
                    match kind {
                        BreakerKind::Agent => out.agent = Some(map.next_value()?),
                        BreakerKind::BlastGuard => out.blast_guard = Some(map.next_value()?),
                        BreakerKind::RateLimit => out.rate_limit = Some(map.next_value()?),
                        BreakerKind::ErrorBudget => out.error_budget = Some(map.next_value()?),
                        BreakerKind::KillSwitch => out.kill_switch = Some(map.next_value()?),
                    }
                }
                Ok(out)
            }
        }
        d.deserialize_map(V)
    }
}

impl JsonSchema for RawBreakers {
    fn schema_name() -> Cow<'static, str> {
        "Breakers".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut props = serde_json::Map::new();
        for kind in BreakerKind::ALL {
            let schema = match kind {
                BreakerKind::Agent => generator.subschema_for::<RawAgentBreaker>(),
                BreakerKind::BlastGuard => generator.subschema_for::<RawBlastGuard>(),
                BreakerKind::RateLimit => generator.subschema_for::<RawRateLimit>(),
                BreakerKind::ErrorBudget => generator.subschema_for::<RawErrorBudget>(),
                BreakerKind::KillSwitch => generator.subschema_for::<RawKillSwitch>(),
            };
            props.insert(kind.name().into(), schema.into());
        }
        schemars::json_schema!({
            "type": "object",
            "properties": props,
            "additionalProperties": false,
        })
    }
}

/// The per-agent breaker: a preset, explicit fields, or a preset with fields overriding it.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawAgentBreaker {
    /// "resilience4j-rescaled", "resilience4j-defaults", "hystrix-like" or "envoy-like".
    #[serde(default)]
    pub preset: Option<Loc<KindName<AgentBreakerPreset>>>,
    /// `{ count = 20 }` (last n actions) or `{ time = "1d" }`.
    #[serde(default)]
    pub window: Option<RawWindow>,
    /// Actions in the window before it may trip.
    #[serde(default)]
    pub min_actions: Option<Loc<u32>>,
    /// Trip at this failure rate or above.
    #[serde(default)]
    pub failure_rate: Option<Loc<f64>>,
    /// Time open before half-open.
    #[serde(default)]
    pub open_for: Option<RawDuration>,
    /// Trial actions when half-open.
    #[serde(default)]
    pub half_open_trials: Option<Loc<u32>>,
    /// What counts as a failure (default: rejected, refused and incident).
    #[serde(default)]
    pub failures: Option<RawFailureKinds>,
}

/// The sliding window, externally tagged.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "snake_case")]
pub enum RawWindow {
    /// The last n actions.
    Count(Loc<u32>),
    /// The actions of the last span of time.
    Time(RawDuration),
}

/// `failures = { rejected = true, refused = true, incident = true, classifier = {...} }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawFailureKinds {
    /// Rejected in review (default true).
    #[serde(default)]
    pub rejected: Option<bool>,
    /// Refused by access control (default true).
    #[serde(default)]
    pub refused: Option<bool>,
    /// Caused an incident (default true).
    #[serde(default)]
    pub incident: Option<bool>,
    /// Flagged by a risk classifier (default: no classifier).
    #[serde(default)]
    pub classifier: Option<RawClassifier>,
}

/// `classifier = { true_positive = 0.8, false_positive = 0.05 }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawClassifier {
    /// P(flag | defective).
    pub true_positive: Loc<f64>,
    /// P(flag | good).
    pub false_positive: Loc<f64>,
}

/// `blast_guard = { max_predicted_users = 0.1, estimate_noise = 0.3, action = "escalate" }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBlastGuard {
    /// Largest predicted share of users an action may touch unchecked.
    pub max_predicted_users: Loc<f64>,
    /// σ of the lognormal noise on the prediction (default 0).
    #[serde(default)]
    pub estimate_noise: Option<Loc<f64>>,
    /// "block" or "escalate" (default "block").
    #[serde(default)]
    pub action: Option<Loc<KindName<GuardAction>>>,
    /// Guard human changes too (default false).
    #[serde(default)]
    pub humans_too: Option<bool>,
    /// Action classes the guard checks (default: every class).
    #[serde(default)]
    pub classes: Option<Vec<Loc<KindName<ActionClass>>>>,
}

/// `rate_limit = { per_agent = "20/h" }` or `{ per_agent = { rate = "20/h", burst = 5 } }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimit {
    /// Bucket per agent.
    #[serde(default)]
    pub per_agent: Option<Loc<TokenRateText>>,
    /// Bucket per target service.
    #[serde(default)]
    pub per_service: Option<Loc<TokenRateText>>,
}

/// `"20/h"` (burst = 20) or `{ rate = "20/h", burst = 5 }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTokenRate {
    /// "N/period", e.g. "20/h", "100/d", "5/30m".
    pub rate: Loc<String>,
    /// Bucket capacity (default: N).
    #[serde(default)]
    pub burst: Option<Loc<u32>>,
}

/// A token rate written as a bare string or a table.
#[derive(Clone, Debug)]
pub struct TokenRateText(pub RawTokenRate);

impl<'de> Deserialize<'de> for TokenRateText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = TokenRateText;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a rate such as \"20/h\" or { rate = \"20/h\", burst = 5 }")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<TokenRateText, E> {
                // The span of a bare string is recovered by the enclosing `Loc`.
                Ok(TokenRateText(RawTokenRate {
                    rate: Loc::new(0..0, v.to_string()),
                    burst: None,
                }))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<TokenRateText, A::Error> {
                RawTokenRate::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(TokenRateText)
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for TokenRateText {
    fn schema_name() -> Cow<'static, str> {
        "TokenRate".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        any_of(vec![
            generator.subschema_for::<String>(),
            generator.subschema_for::<RawTokenRate>(),
        ])
    }
}

/// `error_budget = { slo = 0.999, windows = [{ long = "1h", short = "5m", burn_rate = 14.4 }] }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawErrorBudget {
    /// Availability objective in (0, 1).
    pub slo: Loc<f64>,
    /// Burn-rate windows; any that fires freezes changes.
    pub windows: Loc<Vec<RawBurnWindow>>,
    /// Freeze human changes too (default false).
    #[serde(default)]
    pub humans_too: Option<bool>,
}

/// `{ long = "6h", short = "30m", burn_rate = 6.0 }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBurnWindow {
    /// Long window.
    pub long: RawDuration,
    /// Short window (default: single-window).
    #[serde(default)]
    pub short: Option<RawDuration>,
    /// Freeze at this burn rate or above.
    pub burn_rate: Loc<f64>,
}

/// `kill_switch = { on = "incident", scope = "agents" }` or
/// `{ on = "incidents", count = 2, window = "7d", halt_for = "1d" }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawKillSwitch {
    /// "incident" (while one is open) or "incidents" (after `count` in `window`).
    pub on: Loc<KindName<KillOn>>,
    /// Incidents that trip it ("incidents").
    #[serde(default)]
    pub count: Option<Loc<u32>>,
    /// Window they must fall in ("incidents").
    #[serde(default)]
    pub window: Option<RawDuration>,
    /// Halt duration ("incidents").
    #[serde(default)]
    pub halt_for: Option<RawDuration>,
    /// "agents" (all) or "offender" (default "agents").
    #[serde(default)]
    pub scope: Option<Loc<KindName<KillScope>>>,
}

/// The configured breakers of a document, by kind.
#[derive(Default)]
pub(crate) struct BreakersOut {
    agent: Option<AgentBreakerConfig>,
    blast_guard: Option<BlastGuardConfig>,
    rate_limit: Option<RateLimitConfig>,
    error_budget: Option<ErrorBudgetConfig>,
    kill_switch: Option<KillSwitchConfig>,
}

impl BreakersOut {
    /// Whether `[breakers]` configures `kind`.
    fn is_configured(&self, kind: BreakerKind) -> bool {
        match kind {
            BreakerKind::Agent => self.agent.is_some(),
            BreakerKind::BlastGuard => self.blast_guard.is_some(),
            BreakerKind::RateLimit => self.rate_limit.is_some(),
            BreakerKind::ErrorBudget => self.error_budget.is_some(),
            BreakerKind::KillSwitch => self.kill_switch.is_some(),
        }
    }

    /// Names of the configured breakers, in `BreakerKind::ALL` order.
    fn configured(&self) -> Vec<&'static str> {
        BreakerKind::ALL
            .into_iter()
            .filter(|k| self.is_configured(*k))
            .map(BreakerKind::name)
            .collect()
    }

    /// Switches `kind`'s configuration on in `set`; false when it is not configured.
    fn switch_on(&self, kind: BreakerKind, set: &mut BreakerConfig) -> bool {
        match kind {
            BreakerKind::Agent => set.agent = self.agent,
            BreakerKind::BlastGuard => set.blast_guard = self.blast_guard,
            BreakerKind::RateLimit => set.rate_limit = self.rate_limit,
            BreakerKind::ErrorBudget => set.error_budget = self.error_budget.clone(),
            BreakerKind::KillSwitch => set.kill_switch = self.kill_switch,
        }
        self.is_configured(kind)
    }

    /// The breakers an arm lists, switched on; every name must be a configured breaker,
    /// listed once, and an escalating guard needs a senior reviewer.
    pub(crate) fn arm_set(
        &self,
        cx: Ctx<'_>,
        names: &[Loc<String>],
        reviewers: &ReviewerConfig,
    ) -> R<(BreakerConfig, Vec<&'static str>)> {
        let mut set = BreakerConfig::default();
        let mut seen: Vec<BreakerKind> = Vec::new();
        for b in names {
            let kind = BreakerKind::parse(b.get()).map_err(|e| {
                cx.err_at(
                    b,
                    format!(
                        "{}; configured breakers are {}",
                        unknown_name(e.what, &e.name, &e.valid),
                        list_names(&self.configured())
                    ),
                )
            })?;
            if seen.contains(&kind) {
                return Err(cx.err_at(b, format!("breaker `{}` is listed twice", kind.name())));
            }
            seen.push(kind);
            if !self.switch_on(kind, &mut set) {
                return Err(cx.err_at(
                    b,
                    format!(
                        "breaker `{}` is not configured in [breakers]; configured breakers are {}",
                        kind.name(),
                        list_names(&self.configured())
                    ),
                ));
            }
            if let Some(g) = set.blast_guard
                && kind == BreakerKind::BlastGuard
                && g.action == GuardAction::Escalate
                && !has_senior(reviewers)
            {
                return Err(cx.err_at(
                    b,
                    "the blast-radius guard escalates to a senior reviewer, but no [[reviewers]] group has seniority \"senior\"",
                ));
            }
        }
        Ok((set, seen.into_iter().map(BreakerKind::name).collect()))
    }
}

/// Validates `[breakers]`.
pub(crate) fn breakers(cx: Ctx<'_>, raw: Option<&RawBreakers>) -> R<BreakersOut> {
    let Some(b) = raw else {
        return Ok(BreakersOut::default());
    };
    Ok(BreakersOut {
        agent: b.agent.as_ref().map(|a| agent_breaker(cx, a)).transpose()?,
        blast_guard: b
            .blast_guard
            .as_ref()
            .map(|g| blast_guard(cx, g))
            .transpose()?,
        rate_limit: b
            .rate_limit
            .as_ref()
            .map(|r| rate_limit(cx, r))
            .transpose()?,
        error_budget: b
            .error_budget
            .as_ref()
            .map(|e| error_budget(cx, e))
            .transpose()?,
        kill_switch: b
            .kill_switch
            .as_ref()
            .map(|k| kill_switch(cx, k))
            .transpose()?,
    })
}

fn agent_breaker(cx: Ctx<'_>, a: &Loc<RawAgentBreaker>) -> R<AgentBreakerConfig> {
    let r = a.get();
    let base = match &r.preset {
        Some(p) => {
            let preset: AgentBreakerPreset = cx.kind(p)?;
            Some(preset.config())
        }
        None => None,
    };
    let missing = |field: &str| {
        cx.err_at(
            a,
            format!(
                "the agent breaker needs `{field}` (or a `preset`: {})",
                list_names(&AgentBreakerPreset::names())
            ),
        )
    };
    let window = match &r.window {
        Some(RawWindow::Count(n)) => BreakerWindow::Count(at_least_one(cx, n, "window.count")?),
        Some(RawWindow::Time(d)) => BreakerWindow::Time(positive_duration(cx, d, "window.time")?),
        None => base.map(|b| b.window).ok_or_else(|| missing("window"))?,
    };
    let min_actions = match &r.min_actions {
        Some(m) => at_least_one(cx, m, "min_actions")?,
        None => base
            .map(|b| b.min_actions)
            .ok_or_else(|| missing("min_actions"))?,
    };
    let failure_rate = match &r.failure_rate {
        Some(f) => {
            let v = prob(cx, f, "failure_rate")?;
            if v == 0.0 {
                return Err(cx.err_at(
                    f,
                    "failure_rate must be greater than 0 (0 would trip on every action)",
                ));
            }
            v
        }
        None => base
            .map(|b| b.failure_rate)
            .ok_or_else(|| missing("failure_rate"))?,
    };
    let open_for = match &r.open_for {
        Some(d) => positive_duration(cx, d, "open_for")?,
        None => base
            .map(|b| b.open_for)
            .ok_or_else(|| missing("open_for"))?,
    };
    let half_open_trials = match &r.half_open_trials {
        Some(h) => at_least_one(cx, h, "half_open_trials")?,
        None => base
            .map(|b| b.half_open_trials)
            .ok_or_else(|| missing("half_open_trials"))?,
    };
    let mut failures = base.map_or(presets::FAILURES_DEFAULT, |b| b.failures);
    if let Some(f) = &r.failures {
        failures = FailureKinds {
            rejected: f.rejected.unwrap_or(failures.rejected),
            refused: f.refused.unwrap_or(failures.refused),
            incident: f.incident.unwrap_or(failures.incident),
            classifier: match &f.classifier {
                Some(c) => Some((
                    prob(cx, &c.true_positive, "classifier.true_positive")?,
                    prob(cx, &c.false_positive, "classifier.false_positive")?,
                )),
                None => failures.classifier,
            },
        };
    }
    Ok(AgentBreakerConfig {
        window,
        min_actions,
        failure_rate,
        open_for,
        half_open_trials,
        failures,
    })
}

fn blast_guard(cx: Ctx<'_>, g: &Loc<RawBlastGuard>) -> R<BlastGuardConfig> {
    let r = g.get();
    Ok(BlastGuardConfig {
        max_predicted_users: prob(cx, &r.max_predicted_users, "max_predicted_users")?,
        estimate_noise: match &r.estimate_noise {
            Some(n) => nonneg(cx, n, "estimate_noise")?,
            None => 0.0,
        },
        action: match &r.action {
            Some(a) => cx.kind(a)?,
            None => GuardAction::Block,
        },
        humans_too: r.humans_too.unwrap_or(false),
        classes: match &r.classes {
            Some(list) => {
                let mut set = ClassSet::EMPTY;
                for c in list {
                    set = set.with(cx.kind(c)?);
                }
                set
            }
            None => ClassSet::ALL,
        },
    })
}

/// Parses "20/h", "100/d", "5/30m" into tokens per period.
fn token_rate(cx: Ctx<'_>, outer: &Loc<TokenRateText>) -> R<TokenRate> {
    let t = &outer.get().0;
    // A bare string carries no span of its own: use the value's.
    let rate = if t.rate.span() == (0..0) {
        Loc::new(outer.span(), t.rate.get().clone())
    } else {
        t.rate.clone()
    };
    let s = rate.get().trim();
    let bad = |why: &str| {
        cx.err_at(
            &rate,
            format!("invalid rate {s:?}: {why}; expected \"N/period\" such as \"20/h\", \"100/d\" or \"5/30m\""),
        )
    };
    let (n, per) = s.split_once('/').ok_or_else(|| bad("there is no '/'"))?;
    let tokens: u32 = n
        .trim()
        .parse()
        .map_err(|_| bad("the count is not a whole number"))?;
    if tokens == 0 {
        return Err(bad("the count must be at least 1"));
    }
    let per = per.trim();
    // "h" alone means one hour.
    let per_text = if per.starts_with(|c: char| c.is_ascii_digit()) {
        per.to_string()
    } else {
        format!("1{per}")
    };
    let per = SimDuration::parse(&per_text).map_err(|e| bad(&e.reason))?;
    if per == SimDuration::ZERO {
        return Err(bad("the period must be longer than zero"));
    }
    let burst = match &t.burst {
        Some(b) => at_least_one(cx, b, "burst")?,
        None => tokens,
    };
    Ok(TokenRate { tokens, per, burst })
}

fn rate_limit(cx: Ctx<'_>, r: &Loc<RawRateLimit>) -> R<RateLimitConfig> {
    let v = r.get();
    if v.per_agent.is_none() && v.per_service.is_none() {
        return Err(cx.err_at(r, "rate_limit needs `per_agent`, `per_service` or both"));
    }
    Ok(RateLimitConfig {
        per_agent: v
            .per_agent
            .as_ref()
            .map(|t| token_rate(cx, t))
            .transpose()?,
        per_service: v
            .per_service
            .as_ref()
            .map(|t| token_rate(cx, t))
            .transpose()?,
    })
}

fn error_budget(cx: Ctx<'_>, e: &Loc<RawErrorBudget>) -> R<ErrorBudgetConfig> {
    let r = e.get();
    let slo = finite(cx, &r.slo, "slo")?;
    if !(slo > 0.0 && slo < 1.0) {
        return Err(cx.err_at(
            &r.slo,
            format!("slo must be between 0 and 1 (exclusive), got {slo}"),
        ));
    }
    if r.windows.get().is_empty() {
        return Err(cx.err_at(&r.windows, "error_budget needs at least one window"));
    }
    let mut windows = Vec::new();
    for w in r.windows.get() {
        let long = positive_duration(cx, &w.long, "long")?;
        let short = match &w.short {
            Some(s) => {
                let d = positive_duration(cx, s, "short")?;
                if d >= long {
                    return Err(cx.err_at(
                        s,
                        format!(
                            "the short window ({d}) must be shorter than the long one ({long})"
                        ),
                    ));
                }
                Some(d)
            }
            None => None,
        };
        windows.push(BurnWindow {
            long,
            short,
            burn_rate: positive(cx, &w.burn_rate, "burn_rate")?,
        });
    }
    Ok(ErrorBudgetConfig {
        slo,
        windows,
        humans_too: r.humans_too.unwrap_or(false),
    })
}

fn kill_switch(cx: Ctx<'_>, k: &Loc<RawKillSwitch>) -> R<KillSwitchConfig> {
    let r = k.get();
    let trigger = match cx.kind::<KillOn, _>(&r.on)? {
        KillOn::Incident => {
            let extra = [
                ("count", r.count.as_ref().map(Loc::span)),
                ("window", r.window.as_ref().map(Loc::span)),
                ("halt_for", r.halt_for.as_ref().map(Loc::span)),
            ];
            if let Some((name, Some(span))) = extra.into_iter().find(|(_, s)| s.is_some()) {
                return Err(cx.err(
                    span,
                    format!("`{name}` applies to on = \"incidents\" only; on = \"incident\" halts while an incident is open"),
                ));
            }
            KillTrigger::WhileIncidentOpen
        }
        KillOn::Incidents => {
            let need = |name: &str| cx.err_at(k, format!("on = \"incidents\" needs `{name}`"));
            KillTrigger::AfterIncidents {
                count: at_least_one(cx, r.count.as_ref().ok_or_else(|| need("count"))?, "count")?,
                window: positive_duration(
                    cx,
                    r.window.as_ref().ok_or_else(|| need("window"))?,
                    "window",
                )?,
                halt_for: positive_duration(
                    cx,
                    r.halt_for.as_ref().ok_or_else(|| need("halt_for"))?,
                    "halt_for",
                )?,
            }
        }
    };
    let scope = match &r.scope {
        Some(s) => cx.kind(s)?,
        None => KillScope::AllAgents,
    };
    Ok(KillSwitchConfig { trigger, scope })
}
