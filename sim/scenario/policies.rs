//! `[[policies]]`: ordered approval rules (`when` conditions and `require`ments), and the
//! check that a policy only asks for reviews the reviewer pool can give.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::model::config::{
    AuthorKind, ClassSet, Condition, Kind, Policy, Requirement, RequirementName, ReviewerConfig,
    Rule, Seniority,
};
use crate::scenario::error::{Ctx, Loc, R, unknown_name};
use crate::scenario::people::RawAuthorGroup;
use crate::scenario::values::{
    KindName, OneOrMany, RawDuration, Tiers, any_of, items, positive_duration, prob, unique_names,
};

/// `[[policies]]`: ordered approval rules, first match wins.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawPolicy {
    /// Unique policy name (may shadow a preset).
    pub name: Loc<String>,
    /// Rules in order; no match means no review.
    pub rules: Vec<RawRule>,
    /// Approve a review still pending after this long (default: never).
    #[serde(default)]
    pub auto_approve_after: Option<RawDuration>,
}

/// `{ when = {...}, require = "peer" }`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRule {
    /// When the rule applies (default: always).
    #[serde(default)]
    pub when: Option<RawWhen>,
    /// What it requires.
    pub require: Loc<RawRequire>,
}

/// Conditions of a rule; every one that is set must hold.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawWhen {
    /// "agent" or "human".
    #[serde(default)]
    pub author: Option<Loc<KindName<AuthorKind>>>,
    /// Author group name(s).
    #[serde(default, alias = "groups")]
    pub group: Option<Loc<OneOrMany>>,
    /// Action class name(s).
    #[serde(default, alias = "classes")]
    pub class: Option<Loc<OneOrMany>>,
    /// Criticality tier(s) of the target.
    #[serde(default, alias = "tiers")]
    pub tier: Option<Tiers>,
    /// Predicted share of users above this.
    #[serde(default)]
    pub predicted_users_above: Option<Loc<f64>>,
    /// Change size above this many lines.
    #[serde(default)]
    pub size_above: Option<u32>,
}

/// `require = "none" | "peer" | "senior" | "two_person" | { sample = p }`.
#[derive(Clone, Debug)]
pub enum RawRequire {
    /// A named requirement.
    Named(String),
    /// A peer review with probability p.
    Sample(Loc<f64>),
}

/// `{ sample = p }`.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct SampleTable {
    /// P(a peer review is required).
    sample: Loc<f64>,
}

impl<'de> Deserialize<'de> for RawRequire {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawRequire;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                let names: Vec<String> = RequirementName::names()
                    .iter()
                    .map(|n| format!("{n:?}"))
                    .collect();
                write!(f, "{} or {{ sample = probability }}", names.join(", "))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<RawRequire, E> {
                Ok(RawRequire::Named(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawRequire, A::Error> {
                SampleTable::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(|t| RawRequire::Sample(t.sample))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for RawRequire {
    fn schema_name() -> Cow<'static, str> {
        "Require".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        any_of(vec![
            generator.subschema_for::<KindName<RequirementName>>(),
            generator.subschema_for::<SampleTable>(),
        ])
    }
}

/// A file policy with the spans its reviewer checks point at.
pub(crate) struct PolicyOut {
    pub(crate) policy: Policy,
    pub(crate) require_spans: Vec<Range<usize>>,
}

pub(crate) fn policies(
    cx: Ctx<'_>,
    raw: &[RawPolicy],
    authors: &[RawAuthorGroup],
) -> R<Vec<PolicyOut>> {
    unique_names(cx, raw.iter().map(|p| &p.name), "policy")?;
    let group_names: Vec<&str> = authors.iter().map(|a| a.name.get().as_str()).collect();
    let mut out = Vec::with_capacity(raw.len());
    for p in raw {
        let mut rules = Vec::with_capacity(p.rules.len());
        let mut require_spans = Vec::with_capacity(p.rules.len());
        for r in &p.rules {
            let when = match &r.when {
                Some(w) => condition(cx, w, &group_names)?,
                None => Condition::default(),
            };
            let require = match r.require.get() {
                RawRequire::Named(n) => {
                    let n = Loc::new(r.require.span(), n.as_str());
                    cx.kind::<RequirementName, _>(&n)?.requirement()
                }
                RawRequire::Sample(p) => Requirement::Sample(prob(cx, p, "sample")?),
            };
            rules.push(Rule { when, require });
            require_spans.push(r.require.span());
        }
        out.push(PolicyOut {
            policy: Policy {
                name: p.name.get().clone(),
                rules,
                auto_approve_after: p
                    .auto_approve_after
                    .as_ref()
                    .map(|d| positive_duration(cx, d, "auto_approve_after"))
                    .transpose()?,
            },
            require_spans,
        });
    }
    Ok(out)
}

fn condition(cx: Ctx<'_>, w: &RawWhen, group_names: &[&str]) -> R<Condition> {
    let author = match &w.author {
        Some(a) => Some(cx.kind::<AuthorKind, _>(a)?),
        None => None,
    };
    let groups = match &w.group {
        Some(g) => {
            let mut idx = Vec::new();
            for n in items(g) {
                match group_names.iter().position(|x| *x == n.get().as_str()) {
                    Some(i) => idx.push(i),
                    None => {
                        return Err(
                            cx.err_at(&n, unknown_name("author group", n.get(), group_names))
                        );
                    }
                }
            }
            Some(idx)
        }
        None => None,
    };
    let classes = match &w.class {
        Some(c) => {
            let mut set = ClassSet::EMPTY;
            for n in items(c) {
                set = set.with(cx.kind(&n)?);
            }
            Some(set)
        }
        None => None,
    };
    Ok(Condition {
        author,
        groups,
        classes,
        tiers: w.tier.as_ref().map(|t| t.0.clone()),
        predicted_users_above: w
            .predicted_users_above
            .as_ref()
            .map(|p| prob(cx, p, "predicted_users_above"))
            .transpose()?,
        size_above: w.size_above,
    })
}

/// A policy may only require reviews the reviewer pool can give.
pub(crate) fn check_reviewers(
    cx: Ctx<'_>,
    policy: &Policy,
    spans: &[Range<usize>],
    fallback: Range<usize>,
    r: &ReviewerConfig,
) -> R<()> {
    let total: u64 = r.groups.iter().map(|g| u64::from(g.count)).sum();
    for (i, rule) in policy.rules.iter().enumerate() {
        let span = spans.get(i).cloned().unwrap_or_else(|| fallback.clone());
        let name = &policy.name;
        let problem = match rule.require {
            Requirement::None => None,
            Requirement::Peer => (total == 0).then(|| no_reviewers(name)),
            Requirement::Sample(p) => (p > 0.0 && total == 0).then(|| no_reviewers(name)),
            Requirement::Senior => (!has_senior(r)).then(|| format!(
                "policy `{name}` requires a senior review, but no [[reviewers]] group has seniority \"senior\""
            )),
            Requirement::TwoPerson => (total < 2).then(|| format!(
                "policy `{name}` requires two distinct reviewers, but there are only {total}"
            )),
        };
        if let Some(msg) = problem {
            return Err(cx.err(span, msg));
        }
    }
    Ok(())
}

fn no_reviewers(policy: &str) -> String {
    format!("policy `{policy}` requires reviews, but there are no [[reviewers]]")
}

/// Whether any reviewer group is senior.
pub(crate) fn has_senior(r: &ReviewerConfig) -> bool {
    r.groups.iter().any(|g| g.seniority == Seniority::Senior)
}
