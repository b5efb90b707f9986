//! The sensitivity analysis's journal: one small file per finished variation under
//! `<out>/.journal/sensitivity/`, so an interrupted analysis resumes at the variation it
//! was in instead of starting over.
//!
//! A variation is one `[sensitivity]` value (an end of a range or a bisection step), or the
//! base scenario itself. What the analysis keeps of it is what the decision function made
//! of its runs (`experiment::sensitivity::Judged`) and how many runs that took, so a file
//! is a few dozen bytes whatever the run count. Layout of `<variation>.csv`, where
//! `<variation>` is 16 hex digits over both keys below:
//! - `V,<experiment key>,<variation key>`: `experiment::plan::experiment_key` of the
//!   scenario and of the varied scenario;
//! - `J,<recommended setting or empty>,<advantage or empty>,<pick feasible: 0|1>,<runs>`
//!   (the advantage written exactly: Rust's shortest round-trip form of an `f64`);
//! - `E,<checksum>`, as in every journal record (`journal::seal`).
//!
//! Every variation is a pure function of the scenario, its seed and the build (the
//! experiment key covers all three), so a variation read back gives the bytes a new one
//! would. A damaged file is refused like a damaged run record: named, with
//! `--discard-damaged` as the way to simulate that variation again.

use std::fs;
use std::hash::Hasher;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::engine::Fingerprint;
use crate::experiment::sensitivity::Judged;
use crate::report::{atomic, journal};

/// The folder of the variations inside the journal folder.
pub const DIR: &str = "sensitivity";

/// Longest record read back, in bytes (a record is two short lines and a checksum).
const RECORD_BYTES_MAX: u64 = 4096;

/// The variations journal of one results folder and experiment.
#[derive(Clone, Debug)]
pub struct Variations {
    dir: PathBuf,
    key: String,
    discard_damaged: bool,
}

impl Variations {
    /// The journal of results folder `out`, whose experiment key is `key`; with
    /// `discard_damaged`, a damaged file is deleted (and its variation simulated again)
    /// instead of refused.
    pub fn open(out: &Path, key: &str, discard_damaged: bool) -> anyhow::Result<Variations> {
        let dir = journal::journal_dir(out).join(DIR);
        fs::create_dir_all(&dir)
            .map_err(|e| anyhow::anyhow!("cannot create {}: {e}", dir.display()))?;
        atomic::clean_temps(&dir)
            .map_err(|e| anyhow::anyhow!("cannot clean {}: {e}", dir.display()))?;
        Ok(Variations {
            dir,
            key: key.to_string(),
            discard_damaged,
        })
    }

    /// The folder the variations are journaled in.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, variation: &str) -> PathBuf {
        let mut h = Fingerprint::default();
        h.write(self.key.as_bytes());
        h.write(b"/");
        h.write(variation.as_bytes());
        self.dir.join(format!("{:016x}.csv", h.finish()))
    }

    /// The judged variation with key `variation` and its run count, if journaled.
    pub fn get(&self, variation: &str) -> anyhow::Result<Option<(Judged, u64)>> {
        let path = self.path(variation);
        let mut bytes = Vec::new();
        match fs::File::open(&path) {
            // A record is a few dozen bytes: read at most `RECORD_BYTES_MAX` + 1, so a
            // huge file in its place is refused as damaged instead of read whole.
            Ok(f) => f
                .take(RECORD_BYTES_MAX + 1)
                .read_to_end(&mut bytes)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => anyhow::bail!("cannot read {}: {e}", path.display()),
        };
        match self.parse(&bytes, variation) {
            Ok(v) => Ok(Some(v)),
            Err(_) if self.discard_damaged => {
                fs::remove_file(&path)
                    .map_err(|e| anyhow::anyhow!("cannot remove {}: {e}", path.display()))?;
                Ok(None)
            }
            Err(why) => anyhow::bail!(
                "{}: damaged sensitivity journal record: {why}; run the same command with \
                 --discard-damaged to simulate that variation again (or with \
                 --no-sensitivity to skip the analysis)",
                path.display()
            ),
        }
    }

    fn parse(&self, bytes: &[u8], variation: &str) -> Result<(Judged, u64), &'static str> {
        if bytes.len() as u64 > RECORD_BYTES_MAX {
            return Err("far larger than a record");
        }
        let content = journal::unseal(bytes)?;
        let text = std::str::from_utf8(content).map_err(|_| "not UTF-8")?;
        let mut lines = text.lines();
        let v: Vec<&str> = lines.next().ok_or("empty")?.split(',').collect();
        if v != ["V", self.key.as_str(), variation] {
            return Err("it belongs to another experiment or variation (copied or renamed)");
        }
        let j: Vec<&str> = lines.next().ok_or("no J line")?.split(',').collect();
        if lines.next().is_some() {
            return Err("lines after J");
        }
        let [tag, recommended, advantage, feasible, runs] = j[..] else {
            return Err("a J line without its five fields");
        };
        if tag != "J" {
            return Err("no J line");
        }
        let recommended = match recommended {
            "" => None,
            s => Some(s.parse::<usize>().map_err(|_| "bad recommended setting")?),
        };
        let advantage = match advantage {
            "" => None,
            s => Some(s.parse::<f64>().map_err(|_| "bad advantage")?),
        };
        let pick_feasible = match feasible {
            "0" => false,
            "1" => true,
            _ => return Err("bad feasibility flag"),
        };
        let runs = runs.parse::<u64>().map_err(|_| "bad run count")?;
        Ok((
            Judged {
                recommended,
                advantage,
                pick_feasible,
            },
            runs,
        ))
    }

    /// Journals the judged variation with key `variation`, atomically.
    pub fn put(&self, variation: &str, judged: &Judged, runs: u64) -> anyhow::Result<()> {
        let opt = |v: Option<String>| v.unwrap_or_default();
        let content = format!(
            "V,{},{variation}\nJ,{},{},{},{runs}\n",
            self.key,
            opt(judged.recommended.map(|r| r.to_string())),
            opt(judged.advantage.map(|a| format!("{a}"))),
            u8::from(judged.pick_feasible),
        );
        let path = self.path(variation);
        atomic::write_atomic(&path, &journal::seal(content.into_bytes()))
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))
    }
}
