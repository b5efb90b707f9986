//! `blastsim validate FILE...`: parse and check scenario files without running them.
//!
//! Prints `ok: FILE (N arms x M points x R replications = T runs)` per good file and the
//! located error (file:line:column, the source line and a caret) for each bad one on
//! stderr; exits 2 if any file was bad. Writes nothing. The checks are those `run`, `chaos`
//! and `replay` apply (`scenario::load`), `[chaos]` included, plus `audit`'s own checks of
//! `[audit]` and arms' `claude_code_settings` when the file has them.

use super::{EXIT_BAD_INPUT, EXIT_OK};
use crate::pipeline::count;

/// Runs the subcommand.
pub fn execute(args: super::ValidateArgs) -> anyhow::Result<u8> {
    let mut code = EXIT_OK;
    for path in &args.scenarios {
        let checked = crate::scenario::load(path).and_then(|s| {
            if crate::audit::spec::declared(&s.source) {
                crate::audit::spec::parse(&s, &s.source, &|p| std::fs::read_to_string(p))?;
            }
            Ok(s)
        });
        match checked {
            Ok(s) => println!(
                "ok: {} ({} x {} x {} = {})",
                path.display(),
                count(s.arms.len() as u64, "arm"),
                count(s.points.len() as u64, "point"),
                count(u64::from(s.replications), "replication"),
                count(s.run_count(), "run")
            ),
            Err(e) => {
                eprintln!("error: {e}");
                code = EXIT_BAD_INPUT;
            }
        }
    }
    Ok(code)
}
