//! The scenario's `[audit]` section and the arms' `claude_code_settings`, read with
//! locations from the scenario text.
//!
//! ```toml
//! [audit]
//! group = "agents"             # author group the log's agents belong to (default: the
//!                              # first agent group): its permissions and policy `group`
//!                              # conditions apply
//! unclassified_class = "code"  # class of an action no rule matches (default "code")
//! default_rules = true         # append the shipped classification rules (default true)
//! service_names = true         # find topology service names in targets (default true)
//! untimed_spacing = "1m"       # time between actions of a log without times
//! pair_window = "1h"           # how long a PreToolUse waits for its PostToolUse
//! reorder_window = 4096        # actions buffered per file to sort moderately late lines
//! project_root = "/home/dev/shop"  # anchors `/path` Claude Code rules
//! home = "/home/dev"               # anchors `~/path` Claude Code rules
//!
//! [[audit.classify]]           # first match wins, before the shipped defaults
//! name = "prod migrations"     # optional, shown in decisions.csv
//! tool = ["Bash"]              # optional: tool names, `mcp__x__*` prefixes
//! command = 'regex'            # optional patterns: command, path, url, target,
//! class = "destructive"        # tool_match (regex on the tool name), any
//!
//! [[audit.services]]           # target -> topology service, first match wins
//! match = 'kubectl .* -n (\S+)'  # regex on the action's target, path, URL or command
//! service = "$1"               # a service name, with capture references
//! ```
//!
//! The scenario parser keeps `[audit]` as an opaque table (like `[chaos]`) and accepts
//! `claude_code_settings` on arms; this module gives both their meaning and their errors.

use std::path::Path;

use regex::Regex;
use serde::Deserialize;
use toml::Spanned;

use crate::audit::classify::{ClassRule, Field, ServiceRule, ToolPattern};
use crate::audit::permissions::Permissions;
use crate::engine::SimDuration;
use crate::model::config::{ActionClass, AuthorKind};
use crate::scenario::Scenario;
use crate::scenario::error::{Located, ScenarioError};

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn tools(self) -> Vec<ToolPattern> {
        match self {
            OneOrMany::One(s) => vec![ToolPattern(s)],
            OneOrMany::Many(v) => v.into_iter().map(ToolPattern).collect(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawClassRule {
    name: Option<String>,
    tool: Option<OneOrMany>,
    command: Option<Spanned<String>>,
    path: Option<Spanned<String>>,
    url: Option<Spanned<String>>,
    target: Option<Spanned<String>>,
    tool_match: Option<Spanned<String>>,
    any: Option<Spanned<String>>,
    class: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawServiceRule {
    tool: Option<OneOrMany>,
    #[serde(rename = "match")]
    pattern: Spanned<String>,
    service: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawAudit {
    group: Option<Spanned<String>>,
    unclassified_class: Option<Spanned<String>>,
    default_rules: Option<bool>,
    service_names: Option<bool>,
    untimed_spacing: Option<Spanned<String>>,
    pair_window: Option<Spanned<String>>,
    reorder_window: Option<Spanned<u32>>,
    project_root: Option<String>,
    home: Option<String>,
    #[serde(default)]
    classify: Vec<RawClassRule>,
    #[serde(default)]
    services: Vec<RawServiceRule>,
}

#[derive(Debug, Deserialize)]
struct DocArm {
    claude_code_settings: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
struct Doc {
    audit: Option<RawAudit>,
    #[serde(default)]
    arms: Vec<DocArm>,
}

/// The audit settings of a scenario.
#[derive(Debug)]
pub struct AuditSpec {
    /// Author group index of the log's agents.
    pub group: usize,
    /// Scenario classification rules.
    pub rules: Vec<ClassRule>,
    /// Whether the shipped rules follow them.
    pub default_rules: bool,
    /// Class of unclassified actions.
    pub unclassified_class: ActionClass,
    /// Scenario service rules.
    pub services: Vec<ServiceRule>,
    /// Whether service names are looked for in targets.
    pub service_names: bool,
    /// Time between untimed actions, ms.
    pub untimed_spacing_ms: u64,
    /// PreToolUse / PostToolUse pairing window, ms.
    pub pair_window_ms: u64,
    /// Reorder buffer, actions per file.
    pub reorder_window: usize,
    /// Claude Code permissions per scenario arm (file order), when the arm has them.
    pub arm_settings: Vec<Option<Permissions>>,
}

/// Whether the scenario's text declares anything for `audit` (an `[audit]` table or an arm
/// with `claude_code_settings`), so `blastsim validate` checks it as `audit` would.
pub fn declared(text: &str) -> bool {
    toml::from_str::<Doc>(text)
        .map(|d| d.audit.is_some() || d.arms.iter().any(|a| a.claude_code_settings.is_some()))
        .unwrap_or(true)
}

/// Reads the audit settings from the scenario's text; `read` reads a file a setting names.
pub fn parse(
    scenario: &Scenario,
    text: &str,
    read: &dyn Fn(&Path) -> std::io::Result<String>,
) -> Result<AuditSpec, ScenarioError> {
    let file = scenario.path.as_path();
    let at = |span: std::ops::Range<usize>, msg: String| {
        ScenarioError::Invalid(Located::at(file, text, span, msg))
    };
    let doc: Doc = toml::from_str(text).map_err(|e| {
        at(
            e.span().unwrap_or(0..0),
            format!("[audit]: {}", e.message()),
        )
    })?;
    let raw = doc.audit.unwrap_or_default();
    let world = scenario.world(0, 0);
    let group = match &raw.group {
        Some(g) => world
            .authors
            .iter()
            .position(|a| a.name == *g.get_ref())
            .ok_or_else(|| {
                let names: Vec<&str> = world.authors.iter().map(|a| a.name.as_str()).collect();
                at(
                    g.span(),
                    format!(
                        "no author group {:?} (groups: {})",
                        g.get_ref(),
                        names.join(", ")
                    ),
                )
            })?,
        None => world
            .authors
            .iter()
            .position(|a| a.kind == AuthorKind::Agent)
            .ok_or_else(|| {
                at(
                    0..0,
                    "the scenario has no agent author group for the log's agents; add one or set \
                     [audit] group"
                        .to_string(),
                )
            })?,
    };
    let class = |s: &Spanned<String>| {
        ActionClass::from_name(s.get_ref()).ok_or_else(|| {
            at(
                s.span(),
                format!(
                    "unknown class {:?} (classes: {})",
                    s.get_ref(),
                    ActionClass::ALL.map(ActionClass::name).join(", ")
                ),
            )
        })
    };
    let regex = |s: &Spanned<String>| {
        Regex::new(s.get_ref()).map_err(|e| at(s.span(), format!("bad regex: {e}")))
    };
    let duration = |s: &Option<Spanned<String>>, default: u64| match s {
        None => Ok(default),
        Some(s) => SimDuration::parse(s.get_ref())
            .map(SimDuration::as_ms)
            .map_err(|e| at(s.span(), e.to_string())),
    };
    let mut rules = Vec::new();
    for (i, r) in raw.classify.into_iter().enumerate() {
        let mut patterns = Vec::new();
        for (field, p) in [
            (Field::Command, &r.command),
            (Field::Path, &r.path),
            (Field::Url, &r.url),
            (Field::Target, &r.target),
            (Field::Tool, &r.tool_match),
            (Field::Any, &r.any),
        ] {
            if let Some(p) = p {
                patterns.push((field, regex(p)?));
            }
        }
        rules.push(ClassRule {
            name: r.name.unwrap_or_else(|| format!("#{}", i + 1)),
            tools: r.tool.map(OneOrMany::tools).unwrap_or_default(),
            patterns,
            class: class(&r.class)?,
        });
    }
    let mut services = Vec::new();
    for r in raw.services {
        services.push(ServiceRule {
            tools: r.tool.map(OneOrMany::tools).unwrap_or_default(),
            pattern: regex(&r.pattern)?,
            service: r.service,
        });
    }
    let dir = file.parent().unwrap_or(Path::new("."));
    let mut arm_settings = Vec::new();
    for arm in &doc.arms {
        arm_settings.push(match &arm.claude_code_settings {
            None => None,
            Some(p) => {
                let path = dir.join(p.get_ref());
                let body = read(&path)
                    .map_err(|e| at(p.span(), format!("cannot read {}: {e}", path.display())))?;
                Some(
                    Permissions::parse(
                        &path,
                        &body,
                        raw.project_root.as_deref(),
                        raw.home.as_deref(),
                    )
                    .map_err(ScenarioError::Invalid)?,
                )
            }
        });
    }
    arm_settings.resize_with(scenario.arms.len(), || None);
    Ok(AuditSpec {
        group,
        rules,
        default_rules: raw.default_rules.unwrap_or(true),
        unclassified_class: match &raw.unclassified_class {
            Some(c) => class(c)?,
            None => ActionClass::Code,
        },
        services,
        service_names: raw.service_names.unwrap_or(true),
        untimed_spacing_ms: duration(&raw.untimed_spacing, 60_000)?,
        pair_window_ms: duration(&raw.pair_window, 3_600_000)?,
        reorder_window: raw
            .reorder_window
            .map_or(4096, |w| w.into_inner().max(1) as usize),
        arm_settings,
    })
}
