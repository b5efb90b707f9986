//! `[infrastructure]`: the dependency graph (generator, file or preset), incident
//! detection and recovery.

use std::io;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use schemars::JsonSchema;
use serde::Deserialize;

use crate::model::config::{IncidentConfig, InfraConfig, Kind};
use crate::model::graph::ServiceGraph;
use crate::model::topology::{
    self, FileFormat, Generator, TopologyOptions, TopologyPreset, TopologySpec,
};
use crate::scenario::document::Env;
use crate::scenario::error::{Ctx, Loc, Located, R, ScenarioError, list_names};
use crate::scenario::values::{
    KindName, RawDist, RawDuration, at_least_one, dist, duration, nonneg, prob,
};

/// "`a`, `b` or `c`" without the backticks.
fn or_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// `[infrastructure]`.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawInfrastructure {
    /// Where the graph comes from: a generator, a file or a preset.
    pub topology: Loc<RawTopology>,
    /// Share of generated edges that are soft.
    pub soft_dependency_share: Loc<f64>,
    /// Share of hard edges on which the dependent has a fallback (default 0).
    #[serde(default)]
    pub fallback_share: Option<Loc<f64>>,
    /// Cells per service when the source does not say (default 1).
    #[serde(default)]
    pub cells: Option<Loc<u32>>,
    /// P(a fault crosses a soft edge).
    pub soft_propagation: Loc<f64>,
    /// Motter–Lai tolerance α for the overload mode (off when absent).
    #[serde(default)]
    pub overload_alpha: Option<Loc<f64>>,
    /// Time from fault to detection.
    pub detection: Loc<RawDist>,
    /// Time to roll back.
    pub rollback: Loc<RawDist>,
    /// Time to rebuild a deleted environment.
    pub rebuild: Loc<RawDist>,
    /// Time per dependency level to come back after the level below it.
    pub restart_step: RawDuration,
    /// On-call responders (at least 1).
    pub responders: Loc<u32>,
}

/// `topology = { generator = "layered", ... }`, `{ file = "x.dot" }` or `{ preset = "..." }`.
///
/// A flat table rather than an enum so every field keeps its location; `validate` checks
/// that exactly one source is given and only its own fields are set.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawTopology {
    /// The generator.
    #[serde(default)]
    pub generator: Option<Loc<KindName<Generator>>>,
    /// Number of services (generators).
    #[serde(default)]
    pub services: Option<Loc<u32>>,
    /// Number of layers (layered).
    #[serde(default)]
    pub layers: Option<Loc<u32>>,
    /// Mean dependencies per non-leaf service (layered).
    #[serde(default)]
    pub mean_dependencies: Option<Loc<f64>>,
    /// Dependencies each new service takes (scale_free).
    #[serde(default)]
    pub edges_per_service: Option<Loc<u32>>,
    /// A topology file, relative to the scenario file.
    #[serde(default)]
    pub file: Option<Loc<String>>,
    /// The file's format (default: from the file extension).
    #[serde(default)]
    pub format: Option<Loc<KindName<FileFormat>>>,
    /// A shipped preset.
    #[serde(default)]
    pub preset: Option<Loc<KindName<TopologyPreset>>>,
    /// Seed of the graph (default 1). The graph is part of the organisation, so it stays
    /// fixed when the run seed changes.
    #[serde(default)]
    pub seed: Option<u64>,
}

// ---------------------------------------------------------------------------------------
// Infrastructure.

/// Validates `[infrastructure]` into the graph settings and incident handling.
pub(crate) fn infrastructure(
    cx: Ctx<'_>,
    env: &mut Env<'_>,
    r: &RawInfrastructure,
) -> R<(InfraConfig, IncidentConfig)> {
    let soft_share = prob(cx, &r.soft_dependency_share, "soft_dependency_share")?;
    let fallback_share = match &r.fallback_share {
        Some(f) => prob(cx, f, "fallback_share")?,
        None => 0.0,
    };
    let cells = match &r.cells {
        Some(c) => at_least_one(cx, c, "cells")?,
        None => 1,
    };
    let topo = r.topology.get();
    let opts = TopologyOptions {
        soft_share,
        fallback_share,
        cells,
        seed: topo.seed.unwrap_or(1),
    };
    let spec = topology_spec(cx, env, &r.topology)?;
    let graph = graph(cx, env, &r.topology, spec, opts)?;
    let overload_alpha = match &r.overload_alpha {
        Some(a) => Some(nonneg(cx, a, "overload_alpha")?),
        None => None,
    };
    let infra = InfraConfig {
        graph,
        soft_propagation: prob(cx, &r.soft_propagation, "soft_propagation")?,
        overload_alpha,
    };
    let incidents = IncidentConfig {
        detection: dist(cx, &r.detection)?,
        rollback: dist(cx, &r.rollback)?,
        rebuild: dist(cx, &r.rebuild)?,
        restart_step: duration(cx, &r.restart_step)?,
        responders: at_least_one(cx, &r.responders, "responders")?,
    };
    Ok((infra, incidents))
}

fn topology_spec(cx: Ctx<'_>, env: &mut Env<'_>, t: &Loc<RawTopology>) -> R<TopologySpec> {
    let r = t.get();
    let sources = [r.generator.is_some(), r.file.is_some(), r.preset.is_some()];
    if sources.iter().filter(|s| **s).count() != 1 {
        return Err(cx.err_at(
            t,
            "topology needs exactly one of `generator`, `file` or `preset`",
        ));
    }
    // Which generator fields each source accepts; anything else set is an error at it.
    let gen_fields: [(&str, Option<Range<usize>>); 4] = [
        ("services", r.services.as_ref().map(Loc::span)),
        ("layers", r.layers.as_ref().map(Loc::span)),
        (
            "mean_dependencies",
            r.mean_dependencies.as_ref().map(Loc::span),
        ),
        (
            "edges_per_service",
            r.edges_per_service.as_ref().map(Loc::span),
        ),
    ];
    let only = |source: &str, allowed: &[&str]| -> R<()> {
        for (name, span) in &gen_fields {
            if let Some(span) = span
                && !allowed.contains(name)
            {
                let takes = if allowed.is_empty() {
                    "it takes no generator settings".to_string()
                } else {
                    format!("it takes {}", list_names(allowed))
                };
                return Err(cx.err(
                    span.clone(),
                    format!("`{name}` does not apply to {source}; {takes}"),
                ));
            }
        }
        Ok(())
    };
    let need = |name: &str, v: Option<u32>, source: &str| -> R<u32> {
        match v {
            Some(0) => Err(cx.err_at(t, format!("{source} needs `{name}` of at least 1"))),
            Some(v) => Ok(v),
            None => Err(cx.err_at(t, format!("{source} needs `{name}`"))),
        }
    };
    if let Some(g) = &r.generator {
        let generator: Generator = cx.kind(g)?;
        let source = format!("generator `{}`", generator.name());
        let services = || -> R<u32> {
            let n = need("services", r.services.as_ref().map(|v| *v.get()), &source)?;
            if u64::from(n) > topology::SERVICES_MAX {
                let at = r.services.as_ref().expect("need checked it is set");
                return Err(cx.err_at(
                    at,
                    format!(
                        "{n} services is over the limit SERVICES_MAX = {} (the tested \
                         maximum is 10^6, which the cascade bench builds)",
                        topology::SERVICES_MAX
                    ),
                ));
            }
            Ok(n)
        };
        return Ok(match generator {
            Generator::Layered => {
                only(&source, &["services", "layers", "mean_dependencies"])?;
                let layers = need("layers", r.layers.as_ref().map(|v| *v.get()), &source)?;
                if layers < 2 {
                    let l = r.layers.as_ref().expect("checked above");
                    return Err(cx.err_at(l, "a layered topology needs at least 2 layers"));
                }
                let mean = match &r.mean_dependencies {
                    Some(m) => nonneg(cx, m, "mean_dependencies")?,
                    None => return Err(cx.err_at(t, format!("{source} needs `mean_dependencies`"))),
                };
                TopologySpec::Layered {
                    services: services()?,
                    layers,
                    mean_dependencies: mean,
                }
            }
            Generator::ScaleFree => {
                only(&source, &["services", "edges_per_service"])?;
                TopologySpec::ScaleFree {
                    services: services()?,
                    edges_per_service: need(
                        "edges_per_service",
                        r.edges_per_service.as_ref().map(|v| *v.get()),
                        &source,
                    )?,
                }
            }
            Generator::AlibabaLike => {
                only(&source, &["services"])?;
                TopologySpec::AlibabaLike {
                    services: services()?,
                }
            }
        });
    }
    if let Some(p) = &r.preset {
        only("a preset", &[])?;
        if let Some(f) = &r.format {
            return Err(cx.err_at(f, "`format` applies to `file` topologies only"));
        }
        let preset: TopologyPreset = cx.kind(p)?;
        return Ok(TopologySpec::Preset {
            name: preset.name().to_string(),
        });
    }
    let f = r.file.as_ref().expect("exactly one source is set");
    only("a topology file", &[])?;
    let format = match &r.format {
        Some(fmt) => cx.kind(fmt)?,
        None => {
            let ext = Path::new(f.get()).extension().and_then(|e| e.to_str());
            match ext.and_then(FileFormat::from_extension) {
                Some(format) => format,
                None => {
                    let quoted: Vec<String> = FileFormat::names()
                        .iter()
                        .map(|n| format!("\"{n}\""))
                        .collect();
                    return Err(cx.err_at(
                        f,
                        format!(
                            "cannot tell the format of `{}` from its extension; add format = {}",
                            f.get(),
                            or_list(&quoted)
                        ),
                    ));
                }
            }
        }
    };
    let path = env.base_dir.join(f.get());
    let text = env.read(&path).map_err(|e| {
        let why = if e.kind() == io::ErrorKind::NotFound {
            "not found".to_string()
        } else {
            e.to_string().to_lowercase()
        };
        cx.err_at(
            f,
            format!(
                "cannot read topology file `{}` ({why}; looked at {}); paths are relative to the scenario file",
                f.get(),
                path.display()
            ),
        )
    })?;
    Ok(TopologySpec::File {
        path: path.display().to_string(),
        format,
        text,
    })
}

fn graph(
    cx: Ctx<'_>,
    env: &mut Env<'_>,
    t: &Loc<RawTopology>,
    spec: TopologySpec,
    opts: TopologyOptions,
) -> R<Arc<ServiceGraph>> {
    if let Some((_, _, g)) = env.graphs.iter().find(|(s, o, _)| *s == spec && *o == opts) {
        return Ok(Arc::clone(g));
    }
    let g = topology::build(&spec, &opts).map_err(|e| topology_error(cx, t.span(), &spec, &e))?;
    if g.is_empty() {
        return Err(cx.err_at(t, "the topology has no services"));
    }
    let g = Arc::new(g);
    env.graphs.push((spec, opts, Arc::clone(&g)));
    Ok(g)
}

/// A topology error: located in the topology file when it came from one (the topology
/// module knows line and column there), otherwise at the scenario's `topology` value.
fn topology_error(
    cx: Ctx<'_>,
    span: Range<usize>,
    spec: &TopologySpec,
    e: &topology::TopologyError,
) -> ScenarioError {
    match spec {
        TopologySpec::File { path, text, .. } if e.line > 0 => {
            let at =
                Located::at_line_col(Path::new(path), text, e.line, e.column, e.message.clone());
            // Until the file has shown it is topology-shaped (a first line that parsed),
            // quote nothing of it: it may be any readable file (`/etc/shadow`).
            let first = text
                .lines()
                .position(|l| !l.trim().is_empty())
                .map_or(1, |i| i + 1);
            ScenarioError::Invalid(if e.line <= first { at.unquoted() } else { at })
        }
        _ => cx.err(span, format!("cannot build the topology: {}", e.message)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The topology builder is another module's; this checks that its located errors reach
    // the user in its file, with its line and column and the offending line quoted.
    #[test]
    fn topology_file_errors_keep_their_own_location() {
        let scenario = "x = 1\ntopology = { file = \"g.csv\" }\n";
        let cx = Ctx {
            file: Path::new("dir/s.toml"),
            text: scenario,
        };
        let spec = TopologySpec::File {
            path: "dir/g.csv".into(),
            format: FileFormat::Csv,
            text: "a,b\nc,d,sideways\n".into(),
        };
        let e = topology::TopologyError {
            file: "dir/g.csv".into(),
            line: 2,
            column: 5,
            message: "unknown edge kind `sideways`".into(),
        };
        let err = topology_error(cx, 17..26, &spec, &e);
        assert_eq!(err.file(), Path::new("dir/g.csv"));
        assert_eq!((err.line(), err.column()), (2, 5));
        let shown = err.to_string();
        assert!(
            shown.starts_with("dir/g.csv:2:5: unknown edge kind"),
            "{shown}"
        );
        assert!(shown.contains("2 | c,d,sideways"), "{shown}");

        // A generator error has no file location: it points at the scenario's value.
        let gen_spec = TopologySpec::AlibabaLike { services: 0 };
        let e = topology::TopologyError {
            file: "alibaba_like".into(),
            line: 0,
            column: 0,
            message: "services must be at least 1".into(),
        };
        let err = topology_error(cx, 17..26, &gen_spec, &e);
        assert_eq!((err.line(), err.column()), (2, 12));
        assert!(err.message().contains("services must be at least 1"));
    }
}
