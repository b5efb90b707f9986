//! Action classification and service mapping: which of blastsim's classes a logged tool
//! call is, and which service of the topology it touches.
//!
//! Classes: the log's own `class` (generic schema) wins; then the scenario's
//! `[[audit.classify]]` rules in file order; then the shipped defaults (`DEFAULT_RULES`,
//! unless `default_rules = false`); the first rule that matches decides. An action no rule
//! matches takes `unclassified_class` and is reported as unclassified.
//!
//! Services: the log's own `service` wins; then `[[audit.services]]` rules in order (a
//! regex on the action's subject, the service given literally or as `$1`-style capture
//! references); then, unless `service_names = false`, the first topology service name that
//! appears in the subject as a whole word (longest name first at a position). An action
//! without a service is reported as unmappable; the blast-radius guard then sees a
//! predicted reach of 0 (it cannot stop what it cannot place), which the coverage report
//! states next to the count.

use regex::Regex;

use crate::audit::log::Action;
use crate::model::config::ActionClass;
use crate::model::graph::{ServiceGraph, ServiceId};

/// Which field of an action a pattern looks at.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// The shell command.
    Command,
    /// The file path.
    Path,
    /// The URL.
    Url,
    /// The other target text.
    Target,
    /// The tool name.
    Tool,
    /// Any of command, target, URL and path.
    Any,
}

impl Field {
    /// Every field, in the order rules list them.
    pub const ALL: [Field; 6] = [
        Field::Command,
        Field::Path,
        Field::Url,
        Field::Target,
        Field::Tool,
        Field::Any,
    ];

    /// The key used in `[[audit.classify]]`.
    pub fn name(self) -> &'static str {
        match self {
            Field::Command => "command",
            Field::Path => "path",
            Field::Url => "url",
            Field::Target => "target",
            Field::Tool => "tool_match",
            Field::Any => "any",
        }
    }

    /// The key's field of `a`, if the action has it.
    fn of(self, a: &Action) -> Option<&str> {
        match self {
            Field::Command => a.command.as_deref(),
            Field::Path => a.path.as_deref(),
            Field::Url => a.url.as_deref(),
            Field::Target => a.target.as_deref(),
            Field::Tool => Some(a.tool.as_str()),
            Field::Any => None,
        }
    }

    fn matches(self, re: &Regex, a: &Action) -> bool {
        match self {
            Field::Any => [&a.command, &a.target, &a.url, &a.path]
                .into_iter()
                .any(|f| f.as_deref().is_some_and(|s| re.is_match(s))),
            _ => self.of(a).is_some_and(|s| re.is_match(s)),
        }
    }
}

/// A tool-name pattern: exact, or a prefix ending in `*` (`mcp__github__*`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ToolPattern(pub String);

impl ToolPattern {
    fn matches(&self, tool: &str) -> bool {
        match self.0.strip_suffix('*') {
            Some(prefix) => tool.starts_with(prefix),
            None => tool == self.0,
        }
    }
}

/// One classification rule: every condition given must hold.
#[derive(Clone, Debug)]
pub struct ClassRule {
    /// Name shown in `decisions.csv` (`rule:<name>` / `default:<name>`).
    pub name: String,
    /// Tools it applies to (any when empty).
    pub tools: Vec<ToolPattern>,
    /// Patterns on fields.
    pub patterns: Vec<(Field, Regex)>,
    /// The class it gives.
    pub class: ActionClass,
}

impl ClassRule {
    fn matches(&self, a: &Action) -> bool {
        (self.tools.is_empty() || self.tools.iter().any(|t| t.matches(&a.tool)))
            && self.patterns.iter().all(|(f, re)| f.matches(re, a))
    }
}

/// Where an action's class came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClassSource {
    /// The log said so.
    Log,
    /// A scenario rule (index into the scenario's rules).
    Rule(usize),
    /// A shipped default rule (index into `DEFAULT_RULES`).
    Default(usize),
    /// No rule matched.
    Fallback,
}

/// Where an action's service came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ServiceSource {
    /// The log said so.
    Log,
    /// A scenario service rule (index).
    Rule(usize),
    /// A service name found in the subject.
    Name,
}

/// A service rule: a regex on the subject and the service it names.
#[derive(Clone, Debug)]
pub struct ServiceRule {
    /// Tools it applies to (any when empty).
    pub tools: Vec<ToolPattern>,
    /// The pattern.
    pub pattern: Regex,
    /// The service name, with `$1` / `${name}` capture references.
    pub service: String,
}

/// Why an action has no service.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unmapped {
    /// No rule or name matched.
    NoMatch,
    /// A rule (or the log) named a service the topology does not have.
    UnknownService(String),
}

/// The shipped default rules: (name, tools, field, pattern, class), first match wins.
///
/// Sources: the destructive forms the issue lists (recursive deletes, force pushes,
/// `terraform destroy`, `kubectl delete`, `DROP`/`TRUNCATE`, cloud `delete-*` calls,
/// environment recreation) follow each tool's documented command syntax; which class the
/// other common commands take is an ASSUMPTION (read-only inspection, `code` for file
/// edits, `config` for edits to configuration files, `infra` for changes to cloud or
/// cluster state).
pub const DEFAULT_RULES: &[(&str, &[&str], Field, &str, ActionClass)] = {
    use ActionClass::{Code, Config, Destructive, Infra, ReadOnly};
    use Field::{Any, Command, Path, Tool};
    // Patterns that must see a command word start with the "command start" anchor
    // `(?:^|[;&|(]\s*|\b(?:sudo|xargs|...)\s+)`, so `git rm -r` is not a recursive rm.
    &[
        (
            "rm-recursive",
            &[],
            Command,
            r"(?:^|[;&|(]\s*|\b(?:sudo|xargs|exec|nohup|time|then|do)\s+)rm\s+(?:[^;&|]*\s)?(?:-[a-zA-Z]*[rR][a-zA-Z]*|--recursive)(?:\s|$)",
            Destructive,
        ),
        (
            "disk-wipe",
            &[],
            Command,
            r"(?:^|[;&|(]\s*|\bsudo\s+)(?:mkfs(?:\.\w+)?\s|dd\s+[^;&|]*\bof=/dev/|shred\s)",
            Destructive,
        ),
        (
            "git-force-push",
            &[],
            Command,
            r"\bgit\s+(?:-\S+\s+)*push\b[^;&|]*(?:\s--force(?:-with-lease)?\b|\s-[a-zA-Z]*f\b|\s\+\S)",
            Destructive,
        ),
        (
            "git-history-destroy",
            &[],
            Command,
            r"\bgit\s+(?:-\S+\s+)*(?:reset\s+[^;&|]*--hard|clean\s+[^;&|]*-[a-zA-Z]*f|branch\s+[^;&|]*-D\b|push\s+[^;&|]*--delete\b|filter-branch\b)",
            Destructive,
        ),
        (
            "terraform-destroy",
            &[],
            Command,
            r"\b(?:terraform|tofu|terragrunt)\s+(?:-\S+\s+)*(?:destroy\b|apply\b[^;&|]*\s-destroy\b|state\s+rm\b)",
            Destructive,
        ),
        (
            "iac-destroy",
            &[],
            Command,
            r"\b(?:pulumi|cdk|sst|serverless|sls)\s+(?:[^;&|]*\s)?(?:destroy|remove)\b",
            Destructive,
        ),
        (
            "kubectl-delete",
            &[],
            Command,
            r"\bkubectl\s+(?:[^;&|]*\s)?(?:delete|drain)\b",
            Destructive,
        ),
        (
            "helm-uninstall",
            &[],
            Command,
            r"\bhelm\s+(?:[^;&|]*\s)?(?:uninstall|delete)\b",
            Destructive,
        ),
        (
            "sql-drop-truncate",
            &[],
            Any,
            r#"(?i)\b(?:drop\s+(?:table|database|schema|index|view|collection)\b|truncate\s+(?:table\s+)?[\w."`]+|delete\s+from\s+[\w."`]+\s*(?:;|$|"|'))"#,
            Destructive,
        ),
        (
            "cloud-delete",
            &[],
            Command,
            r"\b(?:aws\s+(?:[^;&|]*\s)?(?:delete-[\w-]+|terminate-[\w-]+|remove-[\w-]+|deregister-[\w-]+|rb)\b|aws\s+s3\s+rm\b|(?:gcloud|az|doctl|heroku|flyctl|fly|vercel|eksctl)\s+(?:[^;&|]*\s)?(?:delete|destroy|remove|rm)\b)",
            Destructive,
        ),
        (
            "mcp-delete",
            &["mcp__*"],
            Tool,
            r"(?i)(?:delete|destroy|drop|terminate|purge|remove)",
            Destructive,
        ),
        (
            "environment-recreate",
            &[],
            Command,
            r"(?:\bdocker(?:-|\s+)compose\s+[^;&|]*\bdown\b[^;&|]*(?:\s-v\b|--volumes)|\bdocker\s+(?:system|volume)\s+prune\b|\bkubectl\s+replace\s+[^;&|]*--force|\b(?:terraform|tofu)\s+apply\s+[^;&|]*-replace|\b(?:recreate|rebuild|teardown|nuke|reset)[-_](?:env|environment|stack|cluster|prod|staging)\b)",
            Destructive,
        ),
        (
            "terraform-file",
            &["Edit", "Write", "MultiEdit"],
            Path,
            r"\.(?:tf|tfvars|hcl)$",
            Infra,
        ),
        (
            "cluster-or-cloud-change",
            &[],
            Command,
            r"(?:\b(?:terraform|tofu|terragrunt)\s+(?:-\S+\s+)*(?:apply|import|taint|state\s+mv)\b|\bkubectl\s+(?:[^;&|]*\s)?(?:apply|create|scale|patch|rollout|set|edit|label|annotate|cordon|taint|expose|autoscale)\b|\bhelm\s+(?:install|upgrade|rollback)\b|\baws\s+(?:[^;&|]*\s)?(?:create|put|update|modify|run|start|stop|attach|detach|associate|authorize|revoke)-[\w-]+|\baws\s+s3\s+(?:cp|mv|sync)\b|\b(?:gcloud|az)\s+[^;&|]*\b(?:create|update|deploy|set)\b|\b(?:ansible-playbook|iptables)\b|\bpulumi\s+up\b|\b(?:cdk|sam|serverless|sls)\s+deploy\b|\bdocker\s+push\b|\bsystemctl\s+(?:stop|restart|disable|enable)\b)",
            Infra,
        ),
        (
            "config-file",
            &["Edit", "Write", "MultiEdit"],
            Path,
            r"(?i)(?:\.(?:ya?ml|json|toml|ini|conf|cfg|properties|env)$|(?:^|/)\.env(?:\.[\w-]+)?$|(?:^|/)(?:config|configs|\.github|deploy|k8s|helm|charts)/|(?:^|/)Dockerfile$)",
            Config,
        ),
        (
            "file-edit",
            &["Edit", "Write", "MultiEdit", "NotebookEdit"],
            Any,
            r"",
            Code,
        ),
        (
            "git-publish",
            &[],
            Command,
            r"\bgit\s+(?:-\S+\s+)*(?:commit|push|merge|rebase|cherry-pick|tag|revert)\b",
            Code,
        ),
        (
            "package-change",
            &[],
            Command,
            r"\b(?:npm|yarn|pnpm|pip3?|cargo|go|poetry|uv|apt|apt-get|brew|gem)\s+(?:install|add|i|get|update|upgrade|remove|uninstall|publish)\b",
            Code,
        ),
        (
            "read-tools",
            &[
                "Read",
                "Glob",
                "Grep",
                "LS",
                "NotebookRead",
                "WebFetch",
                "WebSearch",
                "TodoWrite",
                "Task",
                "Agent",
                "ExitPlanMode",
                "BashOutput",
            ],
            Any,
            r"",
            ReadOnly,
        ),
        (
            "inspect-command",
            &[],
            Command,
            r"^\s*(?:cd\s+\S+\s*&&\s*)?(?:ls|cat|head|tail|less|grep|rg|find|fd|pwd|echo|wc|which|whoami|date|env|printenv|tree|stat|file|du|df|ps|uname|diff|jq|yq|sort|uniq|awk|curl\s+-s?I|git\s+(?:status|log|diff|show|branch|remote|fetch|blame|rev-parse|ls-files)|kubectl\s+(?:[^;&|]*\s)?(?:get|describe|logs|top|explain|version)|(?:terraform|tofu)\s+(?:plan|validate|fmt|show|output|init|state\s+(?:list|show))|aws\s+(?:[^;&|]*\s)?(?:describe|list|get)-[\w-]+|aws\s+s3\s+ls|gcloud\s+[^;&|]*\b(?:list|describe)|docker\s+(?:ps|images|logs|inspect)|(?:npm|yarn|pnpm)\s+(?:test|run\s+(?:test|lint|build|typecheck|check))|cargo\s+(?:test|check|build|clippy|fmt)|pytest|python3?\s+-m\s+pytest|go\s+(?:test|build|vet)|make\s+(?:test|lint|check|build)|tsc|eslint|prettier)\b",
            ReadOnly,
        ),
    ]
};

/// The classifier and service mapper of one audit.
#[derive(Clone, Debug)]
pub struct Classifier {
    /// Scenario rules.
    pub rules: Vec<ClassRule>,
    /// Shipped rules (empty when `default_rules = false`).
    pub defaults: Vec<ClassRule>,
    /// Class of an action no rule matches.
    pub fallback: ActionClass,
    /// Scenario service rules.
    pub services: Vec<ServiceRule>,
    /// Whole-word service-name finder, when `service_names` is on.
    pub names: Option<Regex>,
}

/// The compiled default rules.
pub fn default_rules() -> Vec<ClassRule> {
    DEFAULT_RULES
        .iter()
        .map(|&(name, tools, field, pattern, class)| ClassRule {
            name: name.to_string(),
            tools: tools.iter().map(|t| ToolPattern(t.to_string())).collect(),
            patterns: if pattern.is_empty() {
                Vec::new()
            } else {
                vec![(field, Regex::new(pattern).expect("default rules compile"))]
            },
            class,
        })
        .collect()
}

/// A regex finding any service name of `graph` as a whole word (`None` for an empty
/// graph). Longer names come first, so `orders-db` wins over `orders` where both fit.
pub fn name_finder(graph: &ServiceGraph) -> Option<Regex> {
    let mut names: Vec<&str> = graph.services().map(|s| graph.name(s)).collect();
    if names.is_empty() {
        return None;
    }
    names.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
    let alt: Vec<String> = names.iter().map(|n| regex::escape(n)).collect();
    let re = format!(
        r"(?:^|[^A-Za-z0-9_.-])({})(?:$|[^A-Za-z0-9_-])",
        alt.join("|")
    );
    regex::RegexBuilder::new(&re)
        .size_limit(1 << 26)
        .build()
        .ok()
}

impl Classifier {
    /// The class of `a` and where it came from.
    pub fn classify(&self, a: &Action) -> (ActionClass, ClassSource) {
        if let Some(c) = a.class {
            return (c, ClassSource::Log);
        }
        if let Some(i) = self.rules.iter().position(|r| r.matches(a)) {
            return (self.rules[i].class, ClassSource::Rule(i));
        }
        if let Some(i) = self.defaults.iter().position(|r| r.matches(a)) {
            return (self.defaults[i].class, ClassSource::Default(i));
        }
        (self.fallback, ClassSource::Fallback)
    }

    /// The name of a class source for `decisions.csv`.
    pub fn source_name(&self, s: ClassSource) -> String {
        match s {
            ClassSource::Log => "log".to_string(),
            ClassSource::Rule(i) => format!("rule:{}", self.rules[i].name),
            ClassSource::Default(i) => format!("default:{}", self.defaults[i].name),
            ClassSource::Fallback => "unclassified".to_string(),
        }
    }

    /// The service `a` touches, or why there is none.
    pub fn service(
        &self,
        a: &Action,
        graph: &ServiceGraph,
    ) -> Result<(ServiceId, ServiceSource), Unmapped> {
        let find = |name: &str, src| {
            graph
                .find(name)
                .map(|s| (s, src))
                .ok_or_else(|| Unmapped::UnknownService(name.to_string()))
        };
        if let Some(name) = &a.service {
            return find(name, ServiceSource::Log);
        }
        let subject = a.subject();
        for (i, rule) in self.services.iter().enumerate() {
            if !(rule.tools.is_empty() || rule.tools.iter().any(|t| t.matches(&a.tool))) {
                continue;
            }
            if let Some(caps) = rule.pattern.captures(subject) {
                let mut name = String::new();
                caps.expand(&rule.service, &mut name);
                return find(&name, ServiceSource::Rule(i));
            }
        }
        if let Some(re) = &self.names
            && let Some(caps) = re.captures(subject)
            && let Some(m) = caps.get(1)
        {
            return find(m.as_str(), ServiceSource::Name);
        }
        Err(Unmapped::NoMatch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bash(cmd: &str) -> Action {
        tool("Bash", Some(cmd), None)
    }

    fn tool(name: &str, command: Option<&str>, path: Option<&str>) -> Action {
        Action {
            seq: 0,
            file: 0,
            line: 1,
            time_ms: 0,
            timed: true,
            agent: "a".into(),
            session: "s".into(),
            tool: name.into(),
            command: command.map(str::to_string),
            path: path.map(str::to_string),
            url: None,
            target: None,
            cwd: None,
            class: None,
            service: None,
            outcome: crate::audit::log::Outcome::Unknown,
            size: 0,
        }
    }

    fn classifier() -> Classifier {
        Classifier {
            rules: Vec::new(),
            defaults: default_rules(),
            fallback: ActionClass::Code,
            services: Vec::new(),
            names: None,
        }
    }

    fn class_of(c: &Classifier, a: &Action) -> (ActionClass, String) {
        let (class, src) = c.classify(a);
        (class, c.source_name(src))
    }

    #[test]
    fn default_rules_catch_the_common_destructive_forms() {
        let c = classifier();
        for cmd in [
            "rm -rf /var/lib/app",
            "sudo rm -Rf build",
            "cd x && rm -r -f data",
            "rm --recursive old",
            "git push --force origin main",
            "git push -f",
            "git push origin +main",
            "git push --force-with-lease",
            "git reset --hard HEAD~3",
            "terraform destroy -auto-approve",
            "terraform apply -destroy",
            "tofu destroy",
            "kubectl delete namespace shop",
            "kubectl -n prod delete deploy orders",
            "psql -c 'DROP TABLE users'",
            "mysql -e \"truncate table orders\"",
            "aws ec2 terminate-instances --instance-ids i-1",
            "aws rds delete-db-instance --db-instance-identifier prod",
            "aws s3 rb s3://bucket --force",
            "aws s3 rm s3://bucket --recursive",
            "gcloud compute instances delete vm-1",
            "az group delete -n rg-prod",
            "docker compose down -v",
            "make recreate-env",
            "pulumi destroy --yes",
            "helm uninstall orders",
        ] {
            let (class, src) = class_of(&c, &bash(cmd));
            assert_eq!(class, ActionClass::Destructive, "{cmd} -> {src}");
            assert!(src.starts_with("default:"), "{cmd} -> {src}");
        }
    }

    #[test]
    fn default_rules_leave_ordinary_commands_alone() {
        let c = classifier();
        let cases = [
            ("rm build.log", "unclassified"),
            ("git rm -r --cached x", "unclassified"),
            ("git push origin main", "default:git-publish"),
            ("ls -la", "default:inspect-command"),
            ("kubectl get pods", "default:inspect-command"),
            ("terraform plan", "default:inspect-command"),
            (
                "terraform apply -auto-approve",
                "default:cluster-or-cloud-change",
            ),
            (
                "kubectl apply -f deploy.yaml",
                "default:cluster-or-cloud-change",
            ),
            ("cargo test", "default:inspect-command"),
            ("npm install left-pad", "default:package-change"),
        ];
        for (cmd, want) in cases {
            let (_, src) = class_of(&c, &bash(cmd));
            assert_eq!(src, want, "{cmd}");
        }
        let (class, _) = class_of(&c, &tool("Edit", None, Some("/r/src/main.rs")));
        assert_eq!(class, ActionClass::Code);
        let (class, _) = class_of(&c, &tool("Write", None, Some("/r/config/app.yaml")));
        assert_eq!(class, ActionClass::Config);
        let (class, _) = class_of(&c, &tool("Edit", None, Some("/r/infra/main.tf")));
        assert_eq!(class, ActionClass::Infra);
        let (class, _) = class_of(&c, &tool("Read", None, Some("/r/x")));
        assert_eq!(class, ActionClass::ReadOnly);
        let (class, src) = class_of(&c, &tool("mcp__aws__delete_bucket", None, None));
        assert_eq!(
            (class, src.as_str()),
            (ActionClass::Destructive, "default:mcp-delete")
        );
        let (_, src) = class_of(&c, &tool("FrobnicateTool", None, None));
        assert_eq!(src, "unclassified");
    }

    #[test]
    fn services_map_by_rule_then_by_name() {
        let mut b = crate::model::graph::ServiceGraphBuilder::new();
        for name in ["orders", "orders-db", "payments"] {
            b.add_service(crate::model::graph::ServiceSpec {
                name: name.into(),
                weight: 1.0 / 3.0,
                tier: 1,
                cells: 1,
            });
        }
        let g = b.build();
        let mut c = classifier();
        c.names = name_finder(&g);
        c.services.push(ServiceRule {
            tools: Vec::new(),
            pattern: Regex::new(r"-n\s+(\w+)").unwrap(),
            service: "$1".into(),
        });
        let s = |cmd: &str| c.service(&bash(cmd), &g);
        assert_eq!(
            s("kubectl delete pod x -n payments").unwrap().0,
            g.find("payments").unwrap()
        );
        assert_eq!(
            s("kubectl delete pod x -n ghost"),
            Err(Unmapped::UnknownService("ghost".into()))
        );
        assert_eq!(
            s("psql orders-db -c 'drop table t'").unwrap().0,
            g.find("orders-db").unwrap()
        );
        assert_eq!(
            s("curl http://orders/health").unwrap().0,
            g.find("orders").unwrap()
        );
        assert_eq!(s("echo reorders"), Err(Unmapped::NoMatch));
    }
}
