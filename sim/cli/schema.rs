//! `blastsim schema`: print the JSON schema of the scenario format.
//!
//! Draft-07, the draft with the widest editor support (ecosystem.md §4). Generated from
//! the raw serde types, so it cannot drift from the parser. Editors that understand TOML
//! schemas pick it up from a `#:schema ./scenario.schema.json` first line.

use crate::scenario::RawScenario;

/// The schema as pretty JSON.
pub fn schema_json() -> String {
    let schema = schemars::generate::SchemaSettings::draft07()
        .into_generator()
        .into_root_schema_for::<RawScenario>();
    serde_json::to_string_pretty(&schema).expect("a schema always serialises")
}

/// Runs the subcommand.
pub fn execute() -> anyhow::Result<u8> {
    println!("{}", schema_json());
    Ok(super::EXIT_OK)
}
