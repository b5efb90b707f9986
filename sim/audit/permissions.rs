//! Claude Code permission rules as a policy: the `permissions` block of a `settings.json`
//! (`allow` / `ask` / `deny` lists of `Tool` or `Tool(specifier)` rules, and
//! `defaultMode`), evaluated as Claude Code's permissions documentation describes.
//!
//! The subset implemented (anything else is refused with a located error, so a rule is
//! never silently ignored):
//!
//! - **Order**: deny rules first, then ask, then allow; the first list with a matching
//!   rule decides, whatever the rules' specificity. No match: `defaultMode` decides.
//! - **Bare tool names** (`Bash`, `WebFetch`, `Glob`, `mcp__github`): every use of the tool.
//!   `Edit` covers every built-in file-editing tool (Edit, Write, MultiEdit, NotebookEdit)
//!   and `Read` every built-in file-reading tool (Read, Glob, Grep, LS, NotebookRead), as
//!   the docs say of Edit and Read rules.
//! - **`Bash(...)`**: `Bash(npm run build)` matches exactly that command;
//!   `Bash(npm run test:*)` (legacy prefix form) matches `npm run test` and
//!   `npm run test <anything>`, on a word boundary; `*` anywhere matches any characters,
//!   spaces included (`Bash(git * main)`), and a single trailing ` *` also matches the bare
//!   command (`Bash(ls *)` matches `ls` and `ls -la`, not `lsof`). A compound command is
//!   split on `&&`, `||`, `;`, `|`, `&` and newlines outside quotes: a deny or ask rule
//!   matching the whole command or any part decides; an allow rule allows only when every
//!   part is allowed (so `Bash(safe:*)` does not allow `safe && other`). The wrappers
//!   `timeout`, `nice` and `nohup` are stripped from each part before matching.
//! - **`Read(...)`, `Edit(...)`, `Write(...)`, `MultiEdit(...)`, `NotebookEdit(...)`**:
//!   gitignore-style path patterns. `//path` is absolute, `~/path` is under `[audit] home`,
//!   `/path` is under `[audit] project_root` (the folder holding `.claude/settings.json`),
//!   `path` and `./path` are under the action's `cwd` (else the project root). A pattern
//!   with no `/` but a trailing one matches at any depth (`*.env`); `*` matches within a
//!   path segment, `**` across segments, `?` one character; a pattern naming a folder
//!   covers everything under it. `Edit(...)` applies to every editing tool; `Write(...)`
//!   and the others to that tool only (ASSUMPTION: the docs speak of Edit rules only).
//! - **`WebFetch(domain:example.com)`**: the URL's host equals the domain;
//!   `domain:*.example.com` matches its subdomains.
//! - **MCP**: `mcp__server` and `mcp__server__*` match every tool of the server,
//!   `mcp__server__tool` that tool.
//! - **`Task(name)` / `Agent(name)`**: the subagent type.
//! - **`defaultMode`**: `default` (read-only tools run, everything else asks),
//!   `acceptEdits` (file edits run too), `plan` (read-only tools run, everything else is
//!   refused), `bypassPermissions` (everything runs; deny and ask rules still apply),
//!   `dontAsk` (read-only tools run, everything else not allowed by a rule is refused).
//!   The read-only tools are Read, Glob, Grep, LS, NotebookRead, TodoWrite, Task, Agent,
//!   ExitPlanMode and BashOutput (ASSUMPTION for the last five, which need no approval in
//!   practice).
//!
//! Not implemented (refused when written): specifiers on other tools (`WebSearch(...)`,
//! `Skill(...)`, `Glob(...)`), and anything in `permissions` but `allow`, `ask`, `deny`,
//! `defaultMode`, `additionalDirectories` and `disableBypassPermissionsMode` (the last two
//! are accepted and do not change a decision). Not modelled: Claude Code's built-in
//! read-only command list for Bash, settings-file layering (give the merged file), hooks
//! that decide permissions, and sandboxing.

use std::ops::Range;
use std::path::Path;

use regex::Regex;

use crate::audit::log::Action;
use crate::scenario::error::Located;

/// What a rule list (or the default mode) says about a tool call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Behavior {
    /// Runs without a prompt.
    Allow,
    /// Prompts a person.
    Ask,
    /// Refused.
    Deny,
}

impl Behavior {
    /// Every behaviour, in evaluation order (deny first).
    pub const ALL: [Behavior; 3] = [Behavior::Deny, Behavior::Ask, Behavior::Allow];

    /// The settings key.
    pub fn name(self) -> &'static str {
        match self {
            Behavior::Allow => "allow",
            Behavior::Ask => "ask",
            Behavior::Deny => "deny",
        }
    }
}

/// `defaultMode`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Read-only tools run; the rest asks.
    Default,
    /// File edits run as well.
    AcceptEdits,
    /// Read-only tools only; the rest is refused.
    Plan,
    /// Everything runs unless a rule says otherwise.
    BypassPermissions,
    /// Nothing runs unless allowed (read-only tools excepted).
    DontAsk,
}

impl Mode {
    /// Every mode.
    pub const ALL: [Mode; 5] = [
        Mode::Default,
        Mode::AcceptEdits,
        Mode::Plan,
        Mode::BypassPermissions,
        Mode::DontAsk,
    ];

    /// The settings value.
    pub fn name(self) -> &'static str {
        match self {
            Mode::Default => "default",
            Mode::AcceptEdits => "acceptEdits",
            Mode::Plan => "plan",
            Mode::BypassPermissions => "bypassPermissions",
            Mode::DontAsk => "dontAsk",
        }
    }

    /// The mode with this settings value.
    pub fn parse(name: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.name() == name)
    }

    fn fallback(self, tool: &str) -> Behavior {
        let read_only = READ_TOOLS.contains(&tool) || OTHER_FREE_TOOLS.contains(&tool);
        match self {
            _ if read_only => Behavior::Allow,
            Mode::Default => Behavior::Ask,
            Mode::AcceptEdits if EDIT_TOOLS.contains(&tool) => Behavior::Allow,
            Mode::AcceptEdits => Behavior::Ask,
            Mode::Plan | Mode::DontAsk => Behavior::Deny,
            Mode::BypassPermissions => Behavior::Allow,
        }
    }
}

/// Built-in tools that edit files (what an `Edit` rule covers).
const EDIT_TOOLS: [&str; 4] = ["Edit", "Write", "MultiEdit", "NotebookEdit"];
/// Built-in tools that read files (what a `Read` rule covers).
const READ_TOOLS: [&str; 5] = ["Read", "Glob", "Grep", "LS", "NotebookRead"];
/// Other tools that need no approval.
const OTHER_FREE_TOOLS: [&str; 5] = ["TodoWrite", "Task", "Agent", "ExitPlanMode", "BashOutput"];

/// Where a path pattern is anchored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Anchor {
    Absolute,
    Home,
    Project,
    Cwd,
}

/// A compiled rule.
#[derive(Clone, Debug)]
enum Matcher {
    /// Every use of these tools.
    Tools(Vec<String>),
    /// Tools whose name starts with this (MCP servers).
    ToolPrefix(String),
    /// A Bash command pattern.
    Bash(Regex),
    /// A path pattern for these tools.
    Path {
        tools: Vec<String>,
        anchor: Anchor,
        body: Regex,
    },
    /// A WebFetch domain: exact, or `*.suffix`.
    Domain(String),
    /// A subagent type.
    Subagent(String),
}

/// One rule, with its text.
#[derive(Clone, Debug)]
pub struct Rule {
    /// As written.
    pub text: String,
    matcher: Matcher,
}

/// A parsed `permissions` block.
#[derive(Clone, Debug)]
pub struct Permissions {
    /// The settings file.
    pub file: String,
    /// deny, ask, allow rules.
    deny: Vec<Rule>,
    ask: Vec<Rule>,
    allow: Vec<Rule>,
    /// `defaultMode`.
    pub mode: Mode,
    project_root: Option<String>,
    home: Option<String>,
}

/// A decision and what made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verdict {
    /// Allow, ask or deny.
    pub behavior: Behavior,
    /// `deny:Bash(rm:*)`-style rule text, or `defaultMode:default`.
    pub by: String,
}

/// Translates a gitignore-style glob (no anchor) into a regex body.
fn glob_body(p: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = p.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '*' if chars.get(i + 1) == Some(&'*') => {
                if chars.get(i + 2) == Some(&'/') {
                    out.push_str("(?:.*/)?");
                    i += 3;
                } else {
                    out.push_str(".*");
                    i += 2;
                }
                continue;
            }
            '*' => out.push_str("[^/]*"),
            '?' => out.push_str("[^/]"),
            _ => out.push_str(&regex::escape(&c.to_string())),
        }
        i += 1;
    }
    out
}

/// Compiles a path pattern (the specifier of `Read(...)` and friends).
fn path_matcher(spec: &str) -> Result<(Anchor, Regex), String> {
    let (anchor, rest) = if let Some(r) = spec.strip_prefix("//") {
        (Anchor::Absolute, r)
    } else if let Some(r) = spec.strip_prefix("~/") {
        (Anchor::Home, r)
    } else if let Some(r) = spec.strip_prefix('/') {
        (Anchor::Project, r)
    } else if let Some(r) = spec.strip_prefix("./") {
        (Anchor::Cwd, r)
    } else {
        (Anchor::Cwd, spec)
    };
    if rest.is_empty() {
        // The base folder itself: everything under it.
        return Ok((anchor, Regex::new("^.*$").expect("a constant regex")));
    }
    let dir_only = rest.ends_with('/');
    let rest = rest.trim_end_matches('/');
    // gitignore: a pattern with a slash at the start or in the middle is relative to its
    // base; one without matches at any depth.
    let anywhere = !rest.contains('/') && anchor == Anchor::Cwd && !spec.starts_with("./");
    let lead = if anywhere { "(?:.*/)?" } else { "" };
    let tail = if dir_only { "/.*" } else { "(?:/.*)?" };
    let re = format!("^{lead}{}{tail}$", glob_body(rest));
    Regex::new(&re)
        .map(|r| (anchor, r))
        .map_err(|e| format!("bad path pattern {spec:?}: {e}"))
}

/// Compiles a Bash specifier.
fn bash_matcher(spec: &str) -> Result<Regex, String> {
    let re = if let Some(prefix) = spec.strip_suffix(":*") {
        if prefix.contains('*') {
            return Err(format!(
                "Bash({spec}): the legacy `:*` prefix form cannot hold another `*`"
            ));
        }
        format!("^{}(?: .*)?$", regex::escape(prefix))
    } else if spec.contains('*') {
        let stars = spec.matches('*').count();
        if stars == 1
            && let Some(prefix) = spec.strip_suffix(" *")
        {
            format!("^{}(?: .*)?$", regex::escape(prefix))
        } else {
            let parts: Vec<String> = spec.split('*').map(regex::escape).collect();
            format!("^{}$", parts.join(".*"))
        }
    } else {
        format!("^{}$", regex::escape(spec))
    };
    Regex::new(&re).map_err(|e| format!("bad Bash pattern {spec:?}: {e}"))
}

/// Parses one rule string.
fn parse_rule(text: &str) -> Result<Rule, String> {
    let t = text.trim();
    let (tool, spec) = match t.find('(') {
        None => (t, None),
        Some(open) => {
            if !t.ends_with(')') {
                return Err(format!("rule {text:?} opens `(` but does not end with `)`"));
            }
            (&t[..open], Some(&t[open + 1..t.len() - 1]))
        }
    };
    let ident_ok = !tool.is_empty()
        && tool.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && tool
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '*');
    if !ident_ok {
        return Err(format!("rule {text:?} does not start with a tool name"));
    }
    let spec = spec.filter(|s| !s.is_empty() && *s != "*");
    let matcher = if let Some(server) = tool.strip_prefix("mcp__") {
        if spec.is_some() {
            return Err(format!(
                "rule {text:?}: MCP rules take no parenthesised specifier (write mcp__server__tool)"
            ));
        }
        match server.split_once("__") {
            None => Matcher::ToolPrefix(format!("{tool}__")),
            Some((_, "*")) => Matcher::ToolPrefix(tool.trim_end_matches('*').to_string()),
            Some((_, name)) if name.contains('*') => {
                return Err(format!(
                    "rule {text:?}: only a whole `*` is supported after the server name"
                ));
            }
            Some(_) => Matcher::Tools(vec![tool.to_string()]),
        }
    } else if tool.contains('*') {
        return Err(format!(
            "rule {text:?}: wildcards in tool names are only supported for mcp__ tools"
        ));
    } else {
        let family = |t: &str| -> Vec<String> {
            match t {
                "Edit" => EDIT_TOOLS.iter().map(|s| s.to_string()).collect(),
                "Read" => READ_TOOLS.iter().map(|s| s.to_string()).collect(),
                _ => vec![t.to_string()],
            }
        };
        match spec {
            None => Matcher::Tools(family(tool)),
            Some(s) => match tool {
                "Bash" => Matcher::Bash(bash_matcher(s)?),
                "Read" | "Edit" | "Write" | "MultiEdit" | "NotebookEdit" => {
                    let (anchor, body) = path_matcher(s)?;
                    Matcher::Path {
                        tools: family(tool),
                        anchor,
                        body,
                    }
                }
                "WebFetch" => match s.strip_prefix("domain:") {
                    Some(d) if !d.is_empty() => Matcher::Domain(d.to_ascii_lowercase()),
                    _ => {
                        return Err(format!(
                            "rule {text:?}: WebFetch takes `domain:host` (other specifiers are not implemented)"
                        ));
                    }
                },
                "Task" | "Agent" => Matcher::Subagent(s.to_string()),
                other => {
                    return Err(format!(
                        "rule {text:?}: a specifier on {other} is not implemented (supported: \
                         Bash, Read, Edit, Write, MultiEdit, NotebookEdit, WebFetch(domain:...), \
                         Task, Agent; or a bare tool name)"
                    ));
                }
            },
        }
    };
    Ok(Rule {
        text: t.to_string(),
        matcher,
    })
}

/// Splits a shell command into its simple commands, outside quotes.
fn split_command(cmd: &str) -> Vec<&str> {
    let b = cmd.as_bytes();
    let mut parts = Vec::new();
    let (mut start, mut i) = (0, 0);
    let (mut single, mut double) = (false, false);
    while i < b.len() {
        let c = b[i];
        match c {
            b'\\' if !single => {
                i += 2;
                continue;
            }
            b'\'' if !double => single = !single,
            b'"' if !single => double = !double,
            // `2>&1`, `&>file` and `>&2` are redirections, not separators.
            b'&' if (i > 0 && matches!(b[i - 1], b'>' | b'<')) || b.get(i + 1) == Some(&b'>') => {}
            b'&' | b'|' | b';' | b'\n' if !single && !double => {
                parts.push(&cmd[start..i]);
                let two = i + 1 < b.len() && (b[i + 1] == b'&' || b[i + 1] == b'|') && c != b';';
                i += if two { 2 } else { 1 };
                start = i;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    parts.push(&cmd[start.min(cmd.len())..]);
    parts
        .into_iter()
        .map(|p| strip_wrappers(p.trim()))
        .filter(|p| !p.is_empty())
        .collect()
}

/// Strips `timeout [opts] DURATION`, `nice [-n N]` and `nohup` from the front.
fn strip_wrappers(mut s: &str) -> &str {
    loop {
        let mut words = s.split_whitespace();
        let next = match words.next() {
            Some("nohup") => 1,
            Some("nice") => {
                let mut n = 1;
                let mut w = words.clone();
                match w.next() {
                    Some("-n") => n += 2,
                    Some(x) if x.starts_with('-') => n += 1,
                    _ => {}
                }
                n
            }
            Some("timeout") => {
                let mut n = 1;
                for w in words.by_ref() {
                    n += 1;
                    if !w.starts_with('-') {
                        break;
                    }
                }
                n
            }
            _ => return s,
        };
        let mut rest = s;
        for _ in 0..next {
            rest = rest.trim_start();
            rest = rest.find(char::is_whitespace).map_or("", |i| &rest[i..]);
        }
        let rest = rest.trim_start();
        if rest.is_empty() || rest == s {
            return s;
        }
        s = rest;
    }
}

/// Lexically normalises a path: drops `.` and resolves `..`.
fn normalise(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            p => out.push(p),
        }
    }
    format!("/{}", out.join("/"))
}

impl Permissions {
    /// Reads the `permissions` block of a settings file (`text` is its contents); `home`
    /// and `project_root` anchor `~/` and `/` path patterns.
    pub fn parse(
        file: &Path,
        text: &str,
        project_root: Option<&str>,
        home: Option<&str>,
    ) -> Result<Permissions, Located> {
        let at = |span: Range<usize>, msg: String| Located::at(file, text, span, msg);
        let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| {
            Located::at_line_col(file, text, e.line(), e.column(), format!("not JSON: {e}"))
        })?;
        let mut p = Permissions {
            file: file.display().to_string(),
            deny: Vec::new(),
            ask: Vec::new(),
            allow: Vec::new(),
            mode: Mode::Default,
            project_root: project_root.map(normalise),
            home: home.map(normalise),
        };
        let Some(obj) = doc.as_object() else {
            return Err(at(0..1, "a settings file is a JSON object".into()));
        };
        let Some(perms) = obj.get("permissions") else {
            return Ok(p);
        };
        let perms_at = find(text, 0, "\"permissions\"");
        let Some(perms) = perms.as_object() else {
            return Err(at(perms_at, "`permissions` must be an object".into()));
        };
        for (key, value) in perms {
            let key_at = find(text, perms_at.start, &format!("\"{key}\""));
            match key.as_str() {
                "allow" | "ask" | "deny" => {
                    let Some(list) = value.as_array() else {
                        return Err(at(
                            key_at,
                            format!("`{key}` must be a list of rule strings"),
                        ));
                    };
                    let mut from = key_at.end;
                    for item in list {
                        let Some(s) = item.as_str() else {
                            return Err(at(
                                key_at.clone(),
                                format!("`{key}` holds a non-string rule"),
                            ));
                        };
                        let quoted = serde_json::to_string(s).unwrap_or_default();
                        let span = find(text, from, &quoted);
                        from = span.end;
                        let rule = parse_rule(s).map_err(|m| at(span.clone(), m))?;
                        if let Matcher::Path { anchor, .. } = rule.matcher {
                            let missing = match anchor {
                                Anchor::Home if p.home.is_none() => Some("home"),
                                Anchor::Project if p.project_root.is_none() => Some("project_root"),
                                _ => None,
                            };
                            if let Some(what) = missing {
                                return Err(at(
                                    span,
                                    format!(
                                        "rule {s:?} needs `[audit] {what}` in the scenario to be evaluated"
                                    ),
                                ));
                            }
                        }
                        match key.as_str() {
                            "allow" => p.allow.push(rule),
                            "ask" => p.ask.push(rule),
                            _ => p.deny.push(rule),
                        }
                    }
                }
                "defaultMode" => {
                    let mode = value.as_str().and_then(Mode::parse).ok_or_else(|| {
                        at(
                            key_at.clone(),
                            format!(
                                "`defaultMode` must be one of {}",
                                Mode::ALL.map(Mode::name).join(", ")
                            ),
                        )
                    })?;
                    p.mode = mode;
                }
                "additionalDirectories" | "disableBypassPermissionsMode" => {}
                other => {
                    return Err(at(
                        key_at,
                        format!(
                            "`permissions.{other}` is not implemented (known: allow, ask, deny, \
                             defaultMode, additionalDirectories, disableBypassPermissionsMode)"
                        ),
                    ));
                }
            }
        }
        Ok(p)
    }

    /// Number of rules.
    pub fn rule_count(&self) -> usize {
        self.deny.len() + self.ask.len() + self.allow.len()
    }

    /// The absolute, normalised path an action names, if it names one.
    fn action_path(&self, a: &Action) -> Option<String> {
        let p = a.path.as_deref()?;
        if p.starts_with('/') {
            return Some(normalise(p));
        }
        let base = a.cwd.as_deref().or(self.project_root.as_deref())?;
        Some(normalise(&format!("{base}/{p}")))
    }

    fn rule_matches(&self, rule: &Rule, a: &Action, parts: &[&str], whole: bool) -> bool {
        match &rule.matcher {
            Matcher::Tools(tools) => tools.contains(&a.tool),
            Matcher::ToolPrefix(prefix) => a.tool.starts_with(prefix.as_str()),
            Matcher::Bash(re) => {
                if a.tool != "Bash" {
                    return false;
                }
                let cmd = a.command.as_deref().unwrap_or("").trim();
                if whole {
                    re.is_match(cmd) || parts.iter().any(|p| re.is_match(p))
                } else {
                    parts.len() <= 1
                        && (parts.first().is_some_and(|p| re.is_match(p)) || re.is_match(cmd))
                }
            }
            Matcher::Path {
                tools,
                anchor,
                body,
            } => {
                if !tools.contains(&a.tool) {
                    return false;
                }
                let path = match self.action_path(a) {
                    Some(p) => p,
                    // Glob, Grep and LS without a path search the working folder.
                    None => match a.cwd.as_deref().or(self.project_root.as_deref()) {
                        Some(c) => normalise(c),
                        None => return false,
                    },
                };
                let base = match anchor {
                    Anchor::Absolute => Some("/".to_string()),
                    Anchor::Home => self.home.clone(),
                    Anchor::Project => self.project_root.clone(),
                    Anchor::Cwd => a
                        .cwd
                        .as_deref()
                        .map(normalise)
                        .or(self.project_root.clone()),
                };
                let Some(base) = base else { return false };
                let base = base.trim_end_matches('/');
                let Some(rel) = path.strip_prefix(base) else {
                    return false;
                };
                let rel = match rel.strip_prefix('/') {
                    Some(r) => r,
                    None if rel.is_empty() => "",
                    None if base.is_empty() => rel,
                    None => return false,
                };
                body.is_match(rel)
            }
            Matcher::Domain(d) => {
                if a.tool != "WebFetch" {
                    return false;
                }
                let Some(host) = a.url.as_deref().and_then(host_of) else {
                    return false;
                };
                match d.strip_prefix("*.") {
                    Some(suffix) => host.ends_with(&format!(".{suffix}")),
                    None => host == *d,
                }
            }
            Matcher::Subagent(name) => {
                (a.tool == "Task" || a.tool == "Agent") && a.target.as_deref() == Some(name)
            }
        }
    }

    /// The decision for one action.
    pub fn decide(&self, a: &Action) -> Verdict {
        let parts: Vec<&str> = if a.tool == "Bash" {
            split_command(a.command.as_deref().unwrap_or(""))
        } else {
            Vec::new()
        };
        for (behavior, rules) in [(Behavior::Deny, &self.deny), (Behavior::Ask, &self.ask)] {
            if let Some(r) = rules.iter().find(|r| self.rule_matches(r, a, &parts, true)) {
                return Verdict {
                    behavior,
                    by: format!("{}:{}", behavior.name(), r.text),
                };
            }
        }
        let allowed = if a.tool == "Bash" && parts.len() > 1 {
            // Every part must be allowed, each by some rule.
            let by: Vec<&Rule> = parts
                .iter()
                .filter_map(|p| {
                    let one = [*p];
                    self.allow.iter().find(|r| match &r.matcher {
                        Matcher::Bash(re) => re.is_match(p),
                        _ => self.rule_matches(r, a, &one, false),
                    })
                })
                .collect();
            (by.len() == parts.len()).then(|| by[0])
        } else {
            self.allow
                .iter()
                .find(|r| self.rule_matches(r, a, &parts, false))
        };
        if let Some(r) = allowed {
            return Verdict {
                behavior: Behavior::Allow,
                by: format!("allow:{}", r.text),
            };
        }
        Verdict {
            behavior: self.mode.fallback(&a.tool),
            by: format!("defaultMode:{}", self.mode.name()),
        }
    }
}

/// The host of a URL, lowercased.
fn host_of(url: &str) -> Option<String> {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host = rest.split(['/', '?', '#']).next()?;
    let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
    let host = host.split(':').next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// The span of the first `needle` at or after `from` (an empty span at `from` if none).
fn find(text: &str, from: usize, needle: &str) -> Range<usize> {
    match text.get(from..).and_then(|t| t.find(needle)) {
        Some(i) => from + i..from + i + needle.len(),
        None => from..from,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn perms(json: &str) -> Permissions {
        Permissions::parse(Path::new("s.json"), json, Some("/repo"), Some("/home/dev")).unwrap()
    }

    fn action(tool: &str, command: Option<&str>, path: Option<&str>, url: Option<&str>) -> Action {
        Action {
            seq: 0,
            file: 0,
            line: 1,
            time_ms: 0,
            timed: true,
            agent: "a".into(),
            session: "s".into(),
            tool: tool.into(),
            command: command.map(str::to_string),
            path: path.map(str::to_string),
            url: url.map(str::to_string),
            target: None,
            cwd: Some("/repo".into()),
            class: None,
            service: None,
            outcome: crate::audit::log::Outcome::Unknown,
            size: 0,
        }
    }

    fn bash(p: &Permissions, cmd: &str) -> (Behavior, String) {
        let v = p.decide(&action("Bash", Some(cmd), None, None));
        (v.behavior, v.by)
    }

    #[test]
    fn deny_beats_ask_beats_allow_whatever_the_specificity() {
        let p = perms(
            r#"{"permissions":{"allow":["Bash(aws s3 ls)","Bash(git push:*)","Bash(npm run test:*)"],
                "ask":["Bash(git push:*)"],"deny":["Bash(aws *)"]}}"#,
        );
        assert_eq!(
            bash(&p, "aws s3 ls"),
            (Behavior::Deny, "deny:Bash(aws *)".into())
        );
        assert_eq!(bash(&p, "git push origin main").0, Behavior::Ask);
        assert_eq!(bash(&p, "npm run test -- --watch").0, Behavior::Allow);
        // Unmatched Bash falls to the default mode, which asks.
        assert_eq!(
            bash(&p, "make"),
            (Behavior::Ask, "defaultMode:default".into())
        );
    }

    #[test]
    fn bash_patterns_follow_the_documented_forms() {
        let p = perms(
            r#"{"permissions":{"allow":["Bash(npm run build)","Bash(ls *)","Bash(git * main)","Bash(safe:*)","Bash(cat*)"]}}"#,
        );
        let allow = |c: &str| bash(&p, c).0 == Behavior::Allow;
        assert!(allow("npm run build"));
        assert!(!allow("npm run build --prod"));
        assert!(allow("ls"));
        assert!(allow("ls -la"));
        assert!(!allow("lsof"));
        assert!(allow("git checkout main"));
        assert!(!allow("git checkout dev"));
        assert!(allow("safe"));
        assert!(allow("safe --x"));
        assert!(!allow("safer"));
        assert!(
            allow("catalog"),
            "no space before * matches any continuation"
        );
        // Compound: every part must be allowed.
        assert!(allow("safe && ls -la"));
        assert!(!allow("safe && rm x"));
        assert!(!allow("safe; rm x"));
        assert!(!allow("echo 'a && b' | cat"), "echo is not allowed here");
        assert!(allow("ls -la 2>&1"), "a redirection is not a separator");
        // Quoted operators do not split.
        assert!(allow("safe 'a && b'"));
        // Wrappers are stripped.
        assert!(allow("timeout 30 safe --x"));
        assert!(allow("nohup ls"));
        let d = perms(
            r#"{"permissions":{"deny":["Bash(rm -rf:*)"],"defaultMode":"bypassPermissions"}}"#,
        );
        assert_eq!(bash(&d, "cd /x && rm -rf /").0, Behavior::Deny);
        assert_eq!(bash(&d, "rm -r x").0, Behavior::Allow);
    }

    #[test]
    fn path_patterns_follow_gitignore_anchoring() {
        let p = perms(
            r#"{"permissions":{"deny":["Read(*.env)","Read(//etc/**)","Edit(/secrets/)","Read(~/.ssh/**)"],
                "allow":["Edit(src/**/*.ts)"],"defaultMode":"acceptEdits"}}"#,
        );
        let read = |path: &str| p.decide(&action("Read", None, Some(path), None)).behavior;
        let edit =
            |tool: &str, path: &str| p.decide(&action(tool, None, Some(path), None)).behavior;
        assert_eq!(read("/repo/.env"), Behavior::Deny);
        assert_eq!(read("/repo/app/prod.env"), Behavior::Deny);
        assert_eq!(read("/etc/passwd"), Behavior::Deny);
        assert_eq!(read("/home/dev/.ssh/id_rsa"), Behavior::Deny);
        assert_eq!(
            read("/repo/README.md"),
            Behavior::Allow,
            "read-only tools run by default"
        );
        assert_eq!(
            edit("Write", "/repo/secrets/key.pem"),
            Behavior::Deny,
            "Edit rules cover Write"
        );
        assert_eq!(edit("Edit", "/repo/src/a/b.ts"), Behavior::Allow);
        assert_eq!(
            edit("Edit", "/repo/other/x.rs"),
            Behavior::Allow,
            "acceptEdits"
        );
        assert_eq!(
            edit("Edit", "src/../secrets/x"),
            Behavior::Deny,
            "relative paths resolve against cwd"
        );
        // Glob without a path searches the working folder.
        let g = perms(r#"{"permissions":{"deny":["Read(/)"]}}"#);
        assert_eq!(
            g.decide(&action("Glob", None, None, None)).behavior,
            Behavior::Deny
        );
    }

    #[test]
    fn web_mcp_and_modes() {
        let p = perms(
            r#"{"permissions":{"allow":["WebFetch(domain:docs.rs)","WebFetch(domain:*.example.com)","mcp__github","mcp__db__query"],
                "deny":["mcp__db__drop"],"defaultMode":"plan"}}"#,
        );
        let web = |u: &str| p.decide(&action("WebFetch", None, None, Some(u))).behavior;
        assert_eq!(web("https://docs.rs/regex"), Behavior::Allow);
        assert_eq!(web("https://api.example.com/x"), Behavior::Allow);
        assert_eq!(
            web("https://evil.com/?docs.rs"),
            Behavior::Deny,
            "plan mode refuses"
        );
        let tool = |t: &str| p.decide(&action(t, None, None, None)).behavior;
        assert_eq!(tool("mcp__github__create_issue"), Behavior::Allow);
        assert_eq!(tool("mcp__db__query"), Behavior::Allow);
        assert_eq!(tool("mcp__db__drop"), Behavior::Deny);
        assert_eq!(tool("mcp__db__other"), Behavior::Deny);
        assert_eq!(tool("Read"), Behavior::Allow);
        let d = perms(r#"{"permissions":{"allow":["Bash(ls)"],"defaultMode":"dontAsk"}}"#);
        assert_eq!(bash(&d, "ls").0, Behavior::Allow);
        assert_eq!(bash(&d, "pwd").0, Behavior::Deny);
    }

    #[test]
    fn unknown_forms_are_refused_with_a_location() {
        for (json, needle) in [
            (
                r#"{"permissions":{"allow":["WebSearch(cats)"]}}"#,
                "not implemented",
            ),
            (r#"{"permissions":{"allow":["Bash(ls"]}}"#, "does not end"),
            (
                r#"{"permissions":{"allow":["WebFetch(https://x)"]}}"#,
                "domain:",
            ),
            (r#"{"permissions":{"defaultMode":"yolo"}}"#, "acceptEdits"),
            (r#"{"permissions":{"allowed":[]}}"#, "not implemented"),
            (r#"{"permissions":{"allow":[3]}}"#, "non-string"),
            (
                "{\"permissions\": {\n  \"deny\": [\n    \"Read(./.env)\",\n    \"Skill(x)\"\n  ]\n}}",
                "Skill",
            ),
        ] {
            let e = Permissions::parse(Path::new("s.json"), json, Some("/r"), None).unwrap_err();
            assert!(e.message.contains(needle), "{json}: {}", e.message);
            assert!(e.line >= 1, "{json}");
        }
        let e = Permissions::parse(
            Path::new("s.json"),
            "{\"permissions\": {\n  \"deny\": [\n    \"Read(./.env)\",\n    \"Skill(x)\"\n  ]\n}}",
            Some("/r"),
            None,
        )
        .unwrap_err();
        assert_eq!((e.line, e.column), (4, 5));
        let e = Permissions::parse(
            Path::new("s.json"),
            r#"{"permissions":{"deny":["Read(~/.ssh)"]}}"#,
            Some("/r"),
            None,
        )
        .unwrap_err();
        assert!(e.message.contains("home"), "{}", e.message);
    }
}
