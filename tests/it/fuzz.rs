//! Property test over the scenario parser: random mutations of the shipped scenarios (byte
//! flips, truncations, random TOML values at random paths, huge numbers) never panic, and
//! every error is located inside the file it names.
//!
//! Bounded for CI: a fixed number of cases per property (`CASES`), each one parse.

use std::path::{Path, PathBuf};

use blastsim::scenario::{self, ScenarioError};
use proptest::prelude::*;

/// Cases per property; each parses one mutated scenario (milliseconds each).
const CASES: u32 = 48;

const SHIPPED: [&str; 5] = [
    "scenarios/baseline.toml",
    "scenarios/breakers-vs-signoff.toml",
    "scenarios/chaos-policies.toml",
    "scenarios/kiro-13h-outage.toml",
    "scenarios/smoke.toml",
];

/// The shipped scenario `i` and its text.
fn shipped(i: usize) -> (PathBuf, String) {
    let path = PathBuf::from(SHIPPED[i % SHIPPED.len()]);
    let text = std::fs::read_to_string(&path).expect("shipped scenario");
    (path, text)
}

/// Parses `text` as the file at `path` and checks that an error, if any, points inside
/// the file it names (the scenario or a file it references).
fn parse_and_check(path: &Path, text: &str) -> Result<(), TestCaseError> {
    let result = scenario::parse(text, path, |p: &Path| std::fs::read_to_string(p));
    let e = match result {
        Ok(_) => return Ok(()),
        Err(e) => e,
    };
    match &e {
        ScenarioError::Invalid(l) => {
            let file_text = if l.file == path {
                text.to_string()
            } else {
                std::fs::read_to_string(&l.file).unwrap_or_default()
            };
            let lines = file_text.split('\n').count();
            prop_assert!(l.line >= 1, "no location: {e}");
            prop_assert!(
                l.line <= lines,
                "line {} past the end ({lines}): {e}",
                l.line
            );
            prop_assert!(l.column >= 1, "no column: {e}");
            prop_assert!(!l.message.is_empty(), "empty message: {e}");
            prop_assert!(e.to_string().len() < 4_000, "a long error: {e}");
        }
        ScenarioError::Read { .. } => prop_assert!(false, "a text parse cannot fail to read: {e}"),
        _ => {}
    }
    Ok(())
}

/// A value that stresses validation when put anywhere.
fn nasty_value() -> impl Strategy<Value = toml::Value> {
    prop_oneof![
        Just(toml::Value::Integer(i64::MAX)),
        Just(toml::Value::Integer(i64::MIN)),
        Just(toml::Value::Integer(-1)),
        Just(toml::Value::Integer(0)),
        Just(toml::Value::Integer(1_000_000_000)),
        Just(toml::Value::Float(f64::NAN)),
        Just(toml::Value::Float(f64::INFINITY)),
        Just(toml::Value::Float(1e300)),
        Just(toml::Value::Float(-0.5)),
        Just(toml::Value::String(String::new())),
        Just(toml::Value::String("10000y".into())),
        Just(toml::Value::String("999999999999d".into())),
        Just(toml::Value::String("x".repeat(300))),
        Just(toml::Value::Boolean(true)),
        Just(toml::Value::Array(vec![])),
        Just(toml::Value::Table(toml::Table::new())),
        any::<i64>().prop_map(toml::Value::Integer),
        "[a-z0-9+ ._-]{0,12}".prop_map(toml::Value::String),
    ]
}

/// Every path to a value in `v`, as a list of keys and indices.
fn paths(v: &toml::Value, here: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
    out.push(here.clone());
    match v {
        toml::Value::Table(t) => {
            for (k, child) in t {
                here.push(Seg::Key(k.clone()));
                paths(child, here, out);
                here.pop();
            }
        }
        toml::Value::Array(a) => {
            for (i, child) in a.iter().enumerate() {
                here.push(Seg::Index(i));
                paths(child, here, out);
                here.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Index(usize),
}

fn at_path<'a>(v: &'a mut toml::Value, path: &[Seg]) -> &'a mut toml::Value {
    match path.split_first() {
        None => v,
        Some((Seg::Key(k), rest)) => at_path(v.get_mut(k.as_str()).expect("path"), rest),
        Some((Seg::Index(i), rest)) => at_path(v.get_mut(*i).expect("path"), rest),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn byte_flips_never_panic(which in 0usize..5, flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4)) {
        let (path, text) = shipped(which);
        let mut bytes = text.into_bytes();
        for (at, b) in flips {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        // The parser takes text: a flip that breaks UTF-8 is replaced, as a reader would.
        let text = String::from_utf8_lossy(&bytes).into_owned();
        parse_and_check(&path, &text)?;
    }

    #[test]
    fn truncations_never_panic(which in 0usize..5, cut in any::<prop::sample::Index>()) {
        let (path, text) = shipped(which);
        let mut at = cut.index(text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        parse_and_check(&path, &text[..at])?;
    }

    #[test]
    fn random_values_at_random_paths_never_panic(
        which in 0usize..5,
        pick in any::<prop::sample::Index>(),
        value in nasty_value(),
    ) {
        let (path, text) = shipped(which);
        let mut doc = toml::Value::Table(toml::from_str(&text).expect("shipped parses"));
        let mut all = Vec::new();
        paths(&doc, &mut Vec::new(), &mut all);
        let target = &all[pick.index(all.len())];
        *at_path(&mut doc, target) = value;
        // NaN and the like may not serialise; that is toml's limit, not the parser's.
        if let Ok(text) = toml::to_string(&doc) {
            parse_and_check(&path, &text)?;
        }
    }
}
