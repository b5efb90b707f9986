//! Reading agent action logs: one normalised `Action` per tool call, streamed in time
//! order from any number of JSONL files, with bounded memory.
//!
//! Pipeline per file: bounded lines (`lines`) → one parser per format (`claude_code`,
//! `generic`) → PreToolUse/PostToolUse pairing (Claude Code only) → a reorder buffer of
//! `reorder_window` actions, so moderately out-of-order times come out sorted. Files are
//! then merged by `(time, file index, order in file)`, a fixed and input-only order.
//!
//! Memory: one line buffer (at most `max_line` bytes), the pairing buffer (at most
//! `max_pending` calls waiting for their PostToolUse) and the reorder buffer per file.
//! Nothing grows with the length of the log.
//!
//! Times are integer milliseconds since the Unix epoch. An action whose time is earlier
//! than one already handed out (out of order by more than the reorder window) is moved to
//! that time and counted (an error under `strict`), so time never runs backwards in a
//! replay. A line without a time takes the previous action's time in its file plus
//! `untimed_spacing` (order alone, as the issue asks; the spacing is an ASSUMPTION the
//! coverage report states).

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};
use std::fmt;
use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use crate::audit::claude_code::{self, Pairer};
use crate::audit::generic;
use crate::audit::lines::{BoundedLines, LineRead};
use crate::model::config::ActionClass;

/// 1970-01-05T00:00:00Z, a Monday: simulated time zero of a replay, so reviewer
/// calendars (which count from a Monday 00:00 UTC) line up with the log's wall clock.
pub const MONDAY_ZERO_MS: u64 = 345_600_000;

/// Where untimed logs start: Monday 2026-01-05 09:00 UTC (an ASSUMPTION; only the weekday
/// and the time of day matter, for reviewer shifts).
pub const UNTIMED_START_MS: u64 = 1_767_603_600_000;

/// How a logged tool call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// Completed without an error.
    Ok,
    /// Failed (an error flag, a non-zero exit code, a `PostToolUseFailure` event).
    Error,
    /// Not logged (no PostToolUse, or no outcome field).
    Unknown,
}

impl Outcome {
    /// Every outcome.
    pub const ALL: [Outcome; 3] = [Outcome::Ok, Outcome::Error, Outcome::Unknown];

    /// The name used in logs and CSV columns.
    pub fn name(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Error => "error",
            Outcome::Unknown => "unknown",
        }
    }

    /// The outcome with this name.
    pub fn parse(name: &str) -> Option<Outcome> {
        Outcome::ALL.into_iter().find(|o| o.name() == name)
    }
}

/// A log format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Format {
    /// Claude Code hook events (PreToolUse / PostToolUse JSON objects), one per line.
    ClaudeCode,
    /// blastsim's generic schema: one action per line (see `generic`).
    Generic,
}

impl Format {
    /// Every format.
    pub const ALL: [Format; 2] = [Format::ClaudeCode, Format::Generic];

    /// The name used on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::ClaudeCode => "claude-code",
            Format::Generic => "generic",
        }
    }

    /// The format with this name.
    pub fn parse(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// One logged agent action, normalised.
#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    /// Position in the merged stream (0-based), set by `LogStream`.
    pub seq: u64,
    /// Index of the log file among `--log` arguments.
    pub file: u32,
    /// 1-based line of the action in its file (the PreToolUse line when paired).
    pub line: u64,
    /// Milliseconds since the Unix epoch.
    pub time_ms: u64,
    /// Whether the time came from the log (not from order alone).
    pub timed: bool,
    /// The agent (per-agent breakers key on it).
    pub agent: String,
    /// The session.
    pub session: String,
    /// Tool name, as logged (`Bash`, `Edit`, `mcp__github__create_issue`, ...).
    pub tool: String,
    /// Shell command, for shell tools.
    pub command: Option<String>,
    /// File path, for file tools.
    pub path: Option<String>,
    /// URL, for web tools.
    pub url: Option<String>,
    /// Other target text (a resource name, an MCP call's argument, a subagent type).
    pub target: Option<String>,
    /// Working directory of the session, when logged.
    pub cwd: Option<String>,
    /// Class given by the log itself (generic schema only).
    pub class: Option<ActionClass>,
    /// Service given by the log itself (generic schema only).
    pub service: Option<String>,
    /// How it ended.
    pub outcome: Outcome,
    /// Lines written by the call (content of Write / Edit), 0 when not a file write.
    pub size: u32,
}

impl Action {
    /// The text service rules look at: the target, else the path, URL or command.
    pub fn subject(&self) -> &str {
        self.target
            .as_deref()
            .or(self.path.as_deref())
            .or(self.url.as_deref())
            .or(self.command.as_deref())
            .unwrap_or("")
    }
}

/// A bad line or a log that cannot be read, located by file and line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogError {
    /// The log file.
    pub file: PathBuf,
    /// 1-based line, 0 for the file as a whole.
    pub line: u64,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for LogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file.display(), self.message)
        } else {
            write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
        }
    }
}

impl std::error::Error for LogError {}

/// How many examples a tally keeps.
pub const EXAMPLES: usize = 5;

/// A count with its first few examples.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Tally {
    /// How many.
    pub count: u64,
    /// The first `EXAMPLES`, in input order.
    pub examples: Vec<String>,
}

impl Tally {
    /// Counts one, keeping the example if there is room (`example` is only called then).
    pub fn add(&mut self, example: impl FnOnce() -> String) {
        self.count += 1;
        if self.examples.len() < EXAMPLES {
            self.examples.push(example());
        }
    }
}

/// Per-reason tallies, ordered by reason.
pub type Tallies = BTreeMap<String, Tally>;

/// Most distinct reasons a `Tallies` keeps; later new reasons are counted under `(other)`,
/// so a hostile log with millions of distinct tool names cannot grow it without bound.
pub const MAX_REASONS: usize = 256;

/// Counts one under `reason`.
pub fn tally(t: &mut Tallies, reason: &str, example: impl FnOnce() -> String) {
    let reason = if t.len() >= MAX_REASONS && !t.contains_key(reason) {
        "(other)"
    } else {
        reason
    };
    if let Some(x) = t.get_mut(reason) {
        x.add(example);
    } else {
        let mut x = Tally::default();
        x.add(example);
        t.insert(reason.to_string(), x);
    }
}

/// One log file as read.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct FileStats {
    /// The path as given.
    pub path: String,
    /// The format read (auto-detected unless forced).
    pub format: String,
    /// Lines read.
    pub lines: u64,
    /// Actions produced.
    pub actions: u64,
}

/// What reading the logs found: the coverage of the input side.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct ReadStats {
    /// Per file.
    pub files: Vec<FileStats>,
    /// Lines read in all files.
    pub lines: u64,
    /// Actions produced.
    pub actions: u64,
    /// Blank lines (skipped silently).
    pub blank_lines: u64,
    /// Malformed lines skipped, by reason.
    pub malformed: Tallies,
    /// Hook events that are not tool calls (SessionStart, Stop, ...), by event name.
    pub ignored_events: BTreeMap<String, u64>,
    /// Actions without a logged time (placed by order).
    pub untimed: u64,
    /// Actions out of order by more than the reorder window (moved forward in time).
    pub out_of_order: Tally,
    /// PreToolUse calls with no PostToolUse (outcome unknown).
    pub unpaired_pre: Tally,
    /// PostToolUse events with no PreToolUse (the action is taken from the Post).
    pub unpaired_post: Tally,
    /// Actions whose outcome is unknown.
    pub outcome_unknown: u64,
}

/// Reading options.
#[derive(Clone, Debug)]
pub struct ReadOptions {
    /// Force a format (otherwise detected per file from its first action line).
    pub format: Option<Format>,
    /// A malformed line is an error instead of being skipped.
    pub strict: bool,
    /// Longest line, in bytes.
    pub max_line: usize,
    /// Actions kept for reordering, per file.
    pub reorder_window: usize,
    /// Time between two untimed actions, ms.
    pub untimed_spacing_ms: u64,
    /// How long a PreToolUse waits for its PostToolUse (in log time), ms.
    pub pair_window_ms: u64,
    /// Most PreToolUse calls waiting for their PostToolUse, per file.
    pub max_pending: usize,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            format: None,
            strict: false,
            max_line: crate::audit::lines::DEFAULT_MAX_LINE,
            reorder_window: 4096,
            untimed_spacing_ms: 60_000,
            pair_window_ms: 3_600_000,
            max_pending: 65_536,
        }
    }
}

/// What a parser makes of one line.
#[derive(Debug)]
pub enum Parsed {
    /// A complete action (generic schema).
    Action(Action),
    /// A Claude Code PreToolUse.
    Pre {
        /// The action (outcome unknown yet).
        action: Action,
        /// Its `tool_use_id`, if logged.
        id: Option<String>,
    },
    /// A Claude Code PostToolUse (or PostToolUseFailure).
    Post {
        /// The action as the Post describes it (used when no Pre is found).
        action: Action,
        /// Its `tool_use_id`, if logged.
        id: Option<String>,
    },
    /// A hook event that is not a tool call.
    Ignored(String),
}

/// Parses a time value: epoch milliseconds (integer) or an RFC 3339 string.
pub fn parse_time_str(s: &str) -> Result<u64, String> {
    let bad = || {
        format!(
            "time {s:?} is neither RFC 3339 (2026-11-03T14:22:01.123Z, or with an offset \
             like +02:00) nor epoch milliseconds"
        )
    };
    let (body, offset_min) = split_offset(s).ok_or_else(bad)?;
    let t = humantime::parse_rfc3339_weak(body).map_err(|_| bad())?;
    let ms = t
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| bad())?
        .as_millis();
    let ms = i128::try_from(ms).map_err(|_| bad())? - i128::from(offset_min) * 60_000;
    u64::try_from(ms).map_err(|_| bad())
}

/// Splits a trailing `Z` or `±HH:MM` off an RFC 3339 time; (rest, offset in minutes).
fn split_offset(s: &str) -> Option<(&str, i64)> {
    if let Some(rest) = s.strip_suffix('Z').or_else(|| s.strip_suffix('z')) {
        return Some((rest, 0));
    }
    let b = s.as_bytes();
    if b.len() > 6 && (b[b.len() - 6] == b'+' || b[b.len() - 6] == b'-') && b[b.len() - 3] == b':' {
        let hh: i64 = s[s.len() - 5..s.len() - 3].parse().ok()?;
        let mm: i64 = s[s.len() - 2..].parse().ok()?;
        let sign = if b[b.len() - 6] == b'-' { -1 } else { 1 };
        return Some((&s[..s.len() - 6], sign * (hh * 60 + mm)));
    }
    // No zone at all: read as UTC (humantime's weak form).
    Some((s, 0))
}

/// A time field: integer epoch milliseconds or an RFC 3339 string.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp(pub u64);

impl<'de> serde::Deserialize<'de> for Stamp {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Stamp, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Stamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("epoch milliseconds (an integer) or an RFC 3339 time string")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Stamp, E> {
                Ok(Stamp(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Stamp, E> {
                u64::try_from(v)
                    .map(Stamp)
                    .map_err(|_| E::custom(format!("time {v} is before 1970")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Stamp, E> {
                parse_time_str(v).map(Stamp).map_err(E::custom)
            }
        }
        d.deserialize_any(V)
    }
}

/// One log file being read.
struct FileReader {
    path: PathBuf,
    index: u32,
    lines: BoundedLines<BufReader<File>>,
    buf: Vec<u8>,
    format: Option<Format>,
    pairer: Pairer,
    /// Reorder buffer: min-heap on (time, order in file).
    heap: BinaryHeap<Reverse<Keyed>>,
    local: u64,
    /// Time of the last action placed (for untimed lines).
    prev_time: Option<u64>,
    /// Time of the last action handed out (for out-of-order detection).
    last_out: u64,
    eof: bool,
    lines_read: u64,
    actions: u64,
}

/// An action keyed for the reorder heap.
struct Keyed(u64, u64, Box<Action>);

impl PartialEq for Keyed {
    fn eq(&self, o: &Self) -> bool {
        (self.0, self.1) == (o.0, o.1)
    }
}
impl Eq for Keyed {}
impl PartialOrd for Keyed {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Keyed {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        (self.0, self.1).cmp(&(o.0, o.1))
    }
}

impl FileReader {
    fn open(path: &Path, index: u32, opts: &ReadOptions) -> Result<FileReader, LogError> {
        let file = File::open(path).map_err(|e| LogError {
            file: path.to_path_buf(),
            line: 0,
            message: format!("cannot read the log: {e}"),
        })?;
        Ok(FileReader {
            path: path.to_path_buf(),
            index,
            lines: BoundedLines::new(BufReader::with_capacity(1 << 16, file), opts.max_line),
            buf: Vec::new(),
            format: opts.format,
            pairer: Pairer::new(opts.pair_window_ms, opts.max_pending),
            heap: BinaryHeap::new(),
            local: 0,
            prev_time: None,
            last_out: 0,
            eof: false,
            lines_read: 0,
            actions: 0,
        })
    }

    fn err(&self, line: u64, message: String) -> LogError {
        LogError {
            file: self.path.clone(),
            line,
            message,
        }
    }

    /// A malformed line: an error under `strict`, else counted with an example.
    fn malformed(
        &self,
        opts: &ReadOptions,
        stats: &mut ReadStats,
        line: u64,
        reason: &str,
        detail: String,
    ) -> Result<(), LogError> {
        if opts.strict {
            return Err(self.err(line, format!("{reason}: {detail}")));
        }
        let at = format!("{}:{line}: {detail}", self.path.display());
        tally(&mut stats.malformed, reason, || at);
        Ok(())
    }

    /// The next action of this file in time order, `None` when the file is done.
    fn next(
        &mut self,
        opts: &ReadOptions,
        stats: &mut ReadStats,
    ) -> Result<Option<Action>, LogError> {
        loop {
            if self.heap.len() > opts.reorder_window || (self.eof && !self.heap.is_empty()) {
                let Reverse(Keyed(_, _, a)) = self.heap.pop().expect("heap is not empty");
                let mut a = *a;
                if a.time_ms < self.last_out {
                    if opts.strict {
                        return Err(self.err(
                            a.line,
                            format!(
                                "time is earlier than an action already replayed (out of order by \
                                 more than the reorder window of {} actions)",
                                opts.reorder_window
                            ),
                        ));
                    }
                    let at = format!("{}:{}", self.path.display(), a.line);
                    stats.out_of_order.add(|| at);
                    a.time_ms = self.last_out;
                }
                self.last_out = a.time_ms;
                return Ok(Some(a));
            }
            if self.eof {
                return Ok(None);
            }
            self.read_line(opts, stats)?;
        }
    }

    /// Reads one line (or reaches the end) and queues what it produces.
    fn read_line(&mut self, opts: &ReadOptions, stats: &mut ReadStats) -> Result<(), LogError> {
        let read = self
            .lines
            .next_line(&mut self.buf)
            .map_err(|e| self.err(self.lines.number() + 1, format!("cannot read the log: {e}")))?;
        let line = self.lines.number();
        let Some(read) = read else {
            self.eof = true;
            for (a, unpaired) in self.pairer.flush() {
                self.emit(a, unpaired, stats);
            }
            return Ok(());
        };
        self.lines_read += 1;
        stats.lines += 1;
        match read {
            LineRead::TooLong(len) => {
                return self.malformed(
                    opts,
                    stats,
                    line,
                    "line too long",
                    format!(
                        "{len} bytes, over the limit of {} (--max-line-bytes)",
                        opts.max_line
                    ),
                );
            }
            LineRead::Line => {}
        }
        if self.buf.iter().all(u8::is_ascii_whitespace) {
            stats.blank_lines += 1;
            return Ok(());
        }
        let format = match self.format {
            Some(f) => f,
            None => match detect(&self.buf) {
                Ok(f) => {
                    self.format = Some(f);
                    f
                }
                Err(why) => return self.malformed(opts, stats, line, "not a log action", why),
            },
        };
        let parsed = match format {
            Format::ClaudeCode => claude_code::parse_line(&self.buf, self.index, line),
            Format::Generic => generic::parse_line(&self.buf, self.index, line),
        };
        let parsed = match parsed {
            Ok(p) => p,
            Err((reason, detail)) => return self.malformed(opts, stats, line, reason, detail),
        };
        match parsed {
            Parsed::Ignored(event) => {
                let key = if stats.ignored_events.len() >= MAX_REASONS
                    && !stats.ignored_events.contains_key(&event)
                {
                    "(other)".to_string()
                } else {
                    event
                };
                *stats.ignored_events.entry(key).or_insert(0) += 1;
            }
            Parsed::Action(mut a) => {
                self.place(&mut a, opts, stats);
                self.emit(a, false, stats);
            }
            Parsed::Pre { mut action, id } => {
                self.place(&mut action, opts, stats);
                let now = action.time_ms;
                self.pairer.pre(action, id);
                for (a, unpaired) in self.pairer.ready(now) {
                    self.emit(a, unpaired, stats);
                }
            }
            Parsed::Post { mut action, id } => {
                // A Post without its own time inherits the previous time: it is the end of
                // a call already placed, not a new step in the order.
                let timed = action.timed;
                if !timed {
                    action.time_ms = self.prev_time.unwrap_or(UNTIMED_START_MS);
                }
                let now = action.time_ms;
                if let Some(mut orphan) = self.pairer.post(action, id) {
                    if !timed {
                        self.place(&mut orphan, opts, stats);
                    }
                    let at = format!("{}:{}", self.path.display(), orphan.line);
                    stats.unpaired_post.add(|| at);
                    self.pairer.push_resolved(orphan);
                }
                for (a, unpaired) in self.pairer.ready(now) {
                    self.emit(a, unpaired, stats);
                }
            }
        }
        Ok(())
    }

    /// Gives an untimed action its place in time.
    fn place(&mut self, a: &mut Action, opts: &ReadOptions, stats: &mut ReadStats) {
        if !a.timed {
            stats.untimed += 1;
            a.time_ms = match self.prev_time {
                Some(t) => t + opts.untimed_spacing_ms,
                None => UNTIMED_START_MS,
            };
        }
        self.prev_time = Some(a.time_ms);
    }

    /// Queues a finished action for reordering.
    fn emit(&mut self, a: Action, unpaired: bool, stats: &mut ReadStats) {
        if unpaired {
            let at = format!("{}:{}", self.path.display(), a.line);
            stats.unpaired_pre.add(|| at);
        }
        if a.outcome == Outcome::Unknown {
            stats.outcome_unknown += 1;
        }
        self.actions += 1;
        let local = self.local;
        self.local += 1;
        self.heap
            .push(Reverse(Keyed(a.time_ms, local, Box::new(a))));
    }
}

/// Tells the format of a log from one of its lines.
fn detect(line: &[u8]) -> Result<Format, String> {
    #[derive(serde::Deserialize)]
    struct Probe {
        hook_event_name: Option<serde::de::IgnoredAny>,
        tool: Option<serde::de::IgnoredAny>,
    }
    let p: Probe = serde_json::from_slice(line).map_err(|e| format!("not a JSON object ({e})"))?;
    match (p.hook_event_name.is_some(), p.tool.is_some()) {
        (true, _) => Ok(Format::ClaudeCode),
        (false, true) => Ok(Format::Generic),
        (false, false) => Err(
            "cannot tell the log format: no `hook_event_name` (Claude Code hooks) or `tool` \
             (generic schema) field"
                .to_string(),
        ),
    }
}

/// Every log file merged into one stream in time order.
pub struct LogStream {
    readers: Vec<FileReader>,
    heads: Vec<Option<Action>>,
    heap: BinaryHeap<Reverse<(u64, u32)>>,
    opts: ReadOptions,
    next_seq: u64,
    /// What reading found so far.
    pub stats: ReadStats,
    started: bool,
}

impl LogStream {
    /// Opens every file (nothing is read yet).
    pub fn open(paths: &[PathBuf], opts: ReadOptions) -> Result<LogStream, LogError> {
        let readers = paths
            .iter()
            .enumerate()
            .map(|(i, p)| FileReader::open(p, i as u32, &opts))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(LogStream {
            heads: (0..readers.len()).map(|_| None).collect(),
            readers,
            heap: BinaryHeap::new(),
            opts,
            next_seq: 0,
            stats: ReadStats::default(),
            started: false,
        })
    }

    fn refill(&mut self, i: usize) -> Result<(), LogError> {
        let a = self.readers[i].next(&self.opts, &mut self.stats)?;
        if let Some(a) = &a {
            self.heap.push(Reverse((a.time_ms, i as u32)));
        }
        self.heads[i] = a;
        Ok(())
    }

    /// The next action of all files in time order (ties: file order, then file order of
    /// lines), `None` when every file is done.
    pub fn next_action(&mut self) -> Result<Option<Action>, LogError> {
        if !self.started {
            self.started = true;
            for i in 0..self.readers.len() {
                self.refill(i)?;
            }
        }
        let Some(Reverse((_, i))) = self.heap.pop() else {
            self.finish_stats();
            return Ok(None);
        };
        let i = i as usize;
        let mut a = self.heads[i].take().expect("a queued head exists");
        self.refill(i)?;
        a.seq = self.next_seq;
        self.next_seq += 1;
        self.stats.actions += 1;
        Ok(Some(a))
    }

    /// The file paths, in `--log` order.
    pub fn paths(&self) -> Vec<PathBuf> {
        self.readers.iter().map(|r| r.path.clone()).collect()
    }

    fn finish_stats(&mut self) {
        self.stats.files = self
            .readers
            .iter()
            .map(|r| FileStats {
                path: r.path.display().to_string(),
                format: r.format.map_or("none", Format::name).to_string(),
                lines: r.lines_read,
                actions: r.actions,
            })
            .collect();
    }
}

/// Reads `line`'s text for an error example, cut to a readable length.
pub fn excerpt(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}

/// For tests and tools: reads every action of `paths` into memory.
pub fn read_all(
    paths: &[PathBuf],
    opts: ReadOptions,
) -> Result<(Vec<Action>, ReadStats), LogError> {
    let mut s = LogStream::open(paths, opts)?;
    let mut out = Vec::new();
    while let Some(a) = s.next_action()? {
        out.push(a);
    }
    Ok((out, s.stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_parse_in_every_documented_form() {
        assert_eq!(parse_time_str("1970-01-01T00:00:01Z"), Ok(1000));
        assert_eq!(parse_time_str("1970-01-01T00:00:01.250Z"), Ok(1250));
        assert_eq!(parse_time_str("1970-01-01T02:00:01+02:00"), Ok(1000));
        assert_eq!(
            parse_time_str("1970-01-01T00:00:01-00:30"),
            Ok(1000 + 1_800_000)
        );
        assert!(parse_time_str("yesterday").is_err());
        let s: Stamp = serde_json::from_str("1234").unwrap();
        assert_eq!(s, Stamp(1234));
        assert!(serde_json::from_str::<Stamp>("1.5").is_err());
        assert!(serde_json::from_str::<Stamp>("true").is_err());
    }

    #[test]
    fn excerpts_cut_on_char_boundaries() {
        assert_eq!(excerpt("héllo", 2), "h…");
        assert_eq!(excerpt("abc", 5), "abc");
    }
}
