//! Fuzzing the results-folder readers (`plot`'s input): the committed smoke CSVs mutated by
//! byte flips, truncation, huge numbers and CRLF line ends never make `Results::load` panic,
//! and every error names the file it is about and, for a bad row, its line. Bounded to a
//! few dozen cases per file so the suite stays at seconds.

use std::path::{Path, PathBuf};

use blastsim::report::charts::input::Results;
use proptest::prelude::*;

const FILES: [&str; 6] = [
    "manifest.json",
    "summary.csv",
    "incidents.csv",
    "timeline.csv",
    "graph_nodes.csv",
    "graph_edges.csv",
];

/// A mutation of one file's bytes.
#[derive(Clone, Debug)]
enum Mutation {
    /// XOR the byte at (position modulo length) with a non-zero mask.
    Flip(usize, u8),
    /// Keep only the first (position modulo length) bytes.
    Truncate(usize),
    /// Replace the (k modulo count)-th number-looking cell with this text.
    Number(usize, &'static str),
    /// LF to CRLF throughout.
    Crlf,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), 1u8..=255).prop_map(|(p, m)| Mutation::Flip(p, m)),
        any::<usize>().prop_map(Mutation::Truncate),
        (
            any::<usize>(),
            prop::sample::select(vec![
                "1e308",
                "-1e308",
                "inf",
                "NaN",
                "-0",
                "99999999999999999999999",
                "1e-320",
                "18446744073709551616",
                "-1",
                "",
            ])
        )
            .prop_map(|(k, v)| Mutation::Number(k, v)),
        Just(Mutation::Crlf),
    ]
}

fn apply(bytes: &[u8], m: &Mutation) -> Vec<u8> {
    let mut b = bytes.to_vec();
    match *m {
        Mutation::Flip(p, mask) if !b.is_empty() => {
            let i = p % b.len();
            b[i] ^= mask;
        }
        Mutation::Flip(..) => {}
        Mutation::Truncate(p) => b.truncate(p % (b.len() + 1)),
        Mutation::Number(k, v) => {
            let text = String::from_utf8_lossy(&b).into_owned();
            let mut cells: Vec<String> = Vec::new();
            let mut numeric = Vec::new();
            for (li, line) in text.split('\n').enumerate() {
                for (ci, cell) in line.split(',').enumerate() {
                    if li > 0 && cell.parse::<f64>().is_ok() {
                        numeric.push((li, ci));
                    }
                }
                cells.push(line.to_string());
            }
            if let Some(&(li, ci)) = numeric.get(k % numeric.len().max(1)) {
                let mut row: Vec<&str> = cells[li].split(',').collect();
                row[ci] = v;
                cells[li] = row.join(",");
            }
            b = cells.join("\n").into_bytes();
        }
        Mutation::Crlf => {
            b = String::from_utf8_lossy(&b)
                .replace('\n', "\r\n")
                .into_bytes();
        }
    }
    b
}

fn folder(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("blastsim-fuzz-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    for f in FILES {
        std::fs::copy(Path::new("results/smoke").join(f), d.join(f)).unwrap();
    }
    d
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn mutated_folders_never_panic_and_errors_are_located(
        file in 0..FILES.len(),
        m in mutation(),
        second in prop::option::of(mutation()),
    ) {
        let dir = folder("case");
        let name = FILES[file];
        let original = std::fs::read(Path::new("results/smoke").join(name)).unwrap();
        let mut bytes = apply(&original, &m);
        if let Some(m2) = &second {
            bytes = apply(&bytes, m2);
        }
        std::fs::write(dir.join(name), &bytes).unwrap();
        if let Err(e) = Results::load(&dir) {
            let text = format!("{e:#}");
            // Either the mutated file is named, or (a graph table mutated into a bad edge
            // list) its partner; a missing-file error names the folder.
            let named = FILES.iter().any(|f| text.contains(f)) || text.contains("results folder");
            prop_assert!(named, "error names no file: {}", text);
            if name.ends_with(".csv") && text.contains(name) && !text.contains("cannot read") {
                // Located: some table it names is followed by `:line` (an edge list that
                // names a node the truncated node table lost is located in the edge list).
                let located = FILES
                    .iter()
                    .any(|f| text.split(f).skip(1).any(|rest| rest.starts_with(':')));
                prop_assert!(located, "error without a line: {}", text);
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

/// The unmutated copy loads: the fuzz starts from a valid folder.
#[test]
fn the_fuzz_seed_folder_loads() {
    let dir = folder("seed");
    Results::load(&dir).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
