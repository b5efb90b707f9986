//! `blastsim audit SCENARIO --log FILE... [--out DIR] [--strict]`: replay logged agent
//! actions through every arm of the scenario and write decisions, summary, diff, coverage,
//! a fitted `[[authors]]` block, a chart and a report section (see `audit`).

use super::{EXIT_BAD_INPUT, EXIT_OK};
use crate::audit::log::Format;
use crate::audit::outputs::summary_row;

/// Runs the subcommand.
pub fn execute(args: super::AuditArgs) -> anyhow::Result<u8> {
    let format = match args.format.as_str() {
        "auto" => None,
        f => match Format::parse(f) {
            Some(f) => Some(f),
            None => {
                eprintln!(
                    "error: --format {f:?} is not one of auto, {}",
                    Format::ALL.map(Format::name).join(", ")
                );
                return Ok(EXIT_BAD_INPUT);
            }
        },
    };
    let name = crate::scenario::load(&args.scenario)?.name;
    let out = args
        .out
        .unwrap_or_else(|| std::path::Path::new("results").join(name).join("audit"));
    let opts = crate::audit::Options {
        out: out.clone(),
        format,
        strict: args.strict,
        max_line: args.max_line_bytes,
        decisions: !args.no_decisions,
        command: std::iter::once("blastsim".to_string())
            .chain(std::env::args().skip(1))
            .collect::<Vec<_>>()
            .join(" "),
    };
    let outcome = crate::audit::audit_to_dir(&args.scenario, &args.log, &opts)?;
    if !args.quiet {
        println!(
            "{} actions audited; results in {}",
            outcome.actions,
            out.display()
        );
        for (n, s) in outcome.arms.iter().zip(&outcome.stats) {
            let r = summary_row(n, s);
            println!(
                "  {n}: allowed {} asked {} held {} blocked {} escalated {}; review {:.1} h",
                r[2],
                r[3],
                r[4],
                r[5],
                r[6],
                r[21].parse::<f64>().unwrap_or(0.0)
            );
        }
        let malformed: u64 = outcome.read.malformed.values().map(|t| t.count).sum();
        if malformed > 0 {
            println!(
                "  {malformed} malformed lines skipped (see audit_coverage.json; --strict stops at the first)"
            );
        }
    }
    Ok(EXIT_OK)
}
