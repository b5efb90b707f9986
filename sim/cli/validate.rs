//! `blastsim validate FILE...`: parse and check scenario files without running them.
//!
//! Prints `ok: FILE (N arms x M points x R replications = T runs)` per good file and the
//! located error (file:line:column, the source line and a caret) for each bad one on
//! stderr; exits 2 if any file was bad. Writes nothing. The checks are those `run`, `chaos`
//! and `replay` apply (`scenario::load`), `[chaos]` included.

use super::{EXIT_BAD_INPUT, EXIT_OK};

/// Runs the subcommand.
pub fn execute(args: super::ValidateArgs) -> anyhow::Result<u8> {
    let mut code = EXIT_OK;
    for path in &args.scenarios {
        match crate::scenario::load(path) {
            Ok(s) => println!(
                "ok: {} ({} arms x {} points x {} replications = {} runs)",
                path.display(),
                s.arms.len(),
                s.points.len(),
                s.replications,
                s.run_count()
            ),
            Err(e) => {
                eprintln!("error: {e}");
                code = EXIT_BAD_INPUT;
            }
        }
    }
    Ok(code)
}
