//! The located-error toolkit every section shares: `ScenarioError` (every way a scenario
//! can be wrong, located in its file), `Loc` (a value with its byte span), `Ctx` (the file
//! errors point into) and the unknown-name messages with suggestions.
//!
//! Display is `file:line:column: message`, then the offending source line with a caret
//! under the bad value, as rustc and toml print them. Messages are lowercase, have no
//! trailing period and say what was expected. No error here is fatal to the process: the
//! CLI prints it and exits with code 2.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

use crate::model::config::Kind;

/// A scenario that could not be loaded. Nothing may be run from it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ScenarioError {
    /// A problem at a place in the scenario file or a file it references.
    #[error("{0}")]
    Invalid(Located),
    /// A file could not be read at all (the scenario itself; referenced files missing are
    /// `Invalid`, located at the `file = ` value that names them).
    #[error("{}: cannot read the file: {message}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        message: String,
    },
}

impl ScenarioError {
    /// The file the error is in.
    pub fn file(&self) -> &Path {
        match self {
            ScenarioError::Invalid(l) => &l.file,
            ScenarioError::Read { path, .. } => path,
        }
    }

    /// 1-based line, 0 when there is no location.
    pub fn line(&self) -> usize {
        match self {
            ScenarioError::Invalid(l) => l.line,
            ScenarioError::Read { .. } => 0,
        }
    }

    /// 1-based column (in characters), 0 when there is no location.
    pub fn column(&self) -> usize {
        match self {
            ScenarioError::Invalid(l) => l.column,
            ScenarioError::Read { .. } => 0,
        }
    }

    /// The message without location or snippet.
    pub fn message(&self) -> &str {
        match self {
            ScenarioError::Invalid(l) => &l.message,
            ScenarioError::Read { message, .. } => message,
        }
    }
}

/// A located message with the source line it points into.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Located {
    /// The file.
    pub file: PathBuf,
    /// 1-based line (0 = no location).
    pub line: usize,
    /// 1-based column in characters.
    pub column: usize,
    /// How many characters the caret underlines (at least 1).
    pub width: usize,
    /// The text of the line around the column, without its newline: the whole line when
    /// it is short, else a window of at most `EXCERPT_CHARS_MAX` characters with `…` where
    /// it was cut (see `excerpt`).
    pub source_line: String,
    /// 1-based column of the caret within `source_line` (equal to `column` unless the
    /// line was cut on the left).
    pub caret: usize,
    /// What was wrong and what was expected.
    pub message: String,
}

impl Located {
    /// Locates byte range `span` of `text` (the contents of `file`).
    pub fn at(file: &Path, text: &str, span: Range<usize>, message: impl Into<String>) -> Located {
        let start = floor_char_boundary(text, span.start.min(text.len()));
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let line = text[..start].matches('\n').count() + 1;
        let column = text[line_start..start].chars().count() + 1;
        let end = floor_char_boundary(text, span.end.clamp(start, line_end));
        let width = text[start..end].chars().count().max(1);
        let (source_line, caret, width) = excerpt(
            text[line_start..line_end].trim_end_matches('\r'),
            column,
            width,
        );
        Located {
            file: file.to_path_buf(),
            line,
            column,
            width,
            source_line,
            caret,
            message: message.into(),
        }
    }

    /// A message at line and column of `text`, as other parsers report them.
    pub fn at_line_col(
        file: &Path,
        text: &str,
        line: usize,
        column: usize,
        message: impl Into<String>,
    ) -> Located {
        let full = if line == 0 {
            ""
        } else {
            text.lines().nth(line - 1).unwrap_or("")
        };
        let (source_line, caret, width) = excerpt(full, column, 1);
        Located {
            file: file.to_path_buf(),
            line,
            column,
            width,
            source_line,
            caret,
            message: message.into(),
        }
    }

    /// The same message without the quoted line (for files that may not be what they
    /// were said to be, whose content is not ours to print).
    pub fn unquoted(mut self) -> Located {
        self.source_line.clear();
        self
    }
}

/// Longest excerpt of a source line an error prints, in characters (cut marks included).
pub const EXCERPT_CHARS_MAX: usize = 120;

/// Characters kept left of the caret when a long line is cut.
const EXCERPT_LEFT: usize = 40;

/// The part of `line` an error quotes: the whole line when it has at most
/// `EXCERPT_CHARS_MAX` characters, else a window around `column` with `…` at each cut
/// end. Returns the excerpt, the caret's column in it and the caret width clipped to it.
pub fn excerpt(line: &str, column: usize, width: usize) -> (String, usize, usize) {
    let n = line.chars().count();
    if n <= EXCERPT_CHARS_MAX {
        return (line.to_string(), column, width);
    }
    let col0 = column.saturating_sub(1).min(n);
    let from = col0.saturating_sub(EXCERPT_LEFT);
    let left_mark = from > 0;
    let room = EXCERPT_CHARS_MAX - usize::from(left_mark);
    let to_if_cut = from + room - 1;
    let right_mark = n > from + room;
    let to = if right_mark { to_if_cut } else { n };
    let mut out = String::new();
    if left_mark {
        out.push('…');
    }
    out.extend(line.chars().skip(from).take(to - from));
    if right_mark {
        out.push('…');
    }
    let caret = col0 - from + 1 + usize::from(left_mark);
    let width = width.min(to.saturating_sub(col0)).max(1);
    (out, caret, width)
}

/// 1-based line and column (in characters) of byte `offset` of `text`.
pub(crate) fn line_of(text: &str, offset: usize) -> (usize, usize) {
    let l = Located::at(Path::new(""), text, offset..offset, "");
    (l.line, l.column)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for Located {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            return write!(f, "{}: {}", self.file.display(), self.message);
        }
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )?;
        if !self.source_line.is_empty() {
            let gutter = self.line.to_string().len();
            let pad = " ".repeat(gutter);
            // Tabs are kept under the caret line so the caret lines up in a terminal.
            let lead: String = self
                .source_line
                .chars()
                .take(self.caret.saturating_sub(1))
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            write!(
                f,
                "\n{pad} |\n{} | {}\n{pad} | {lead}{}",
                self.line,
                self.source_line,
                "^".repeat(self.width)
            )?;
        }
        Ok(())
    }
}

/// The closest few of `candidates` to `name` (Jaro–Winkler and Levenshtein), best first.
pub fn suggest<'a>(name: &str, candidates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut scored: Vec<(f64, &str)> = candidates
        .into_iter()
        .map(|c| {
            let jw = strsim::jaro_winkler(name, c);
            let lev = strsim::normalized_levenshtein(name, c);
            (jw.max(lev), c)
        })
        .filter(|(s, _)| *s >= 0.7)
        .collect();
    // Highest similarity first; ties by name so the order is stable.
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored.dedup_by(|a, b| a.1 == b.1);
    scored.into_iter().take(3).map(|(_, c)| c).collect()
}

/// "`a`, `b` or `c`".
pub fn list_names<S: AsRef<str>>(names: &[S]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{}`", n.as_ref())).collect();
    match quoted.len() {
        0 => "(none)".to_string(),
        1 => quoted[0].clone(),
        n => format!("{} or {}", quoted[..n - 1].join(", "), quoted[n - 1]),
    }
}

/// A value and the byte range it came from in the scenario text.
#[derive(Clone, Debug, PartialEq)]
pub struct Loc<T>(pub Spanned<T>);

impl<T> Loc<T> {
    /// The value.
    pub fn get(&self) -> &T {
        self.0.get_ref()
    }

    /// Byte range in the scenario text.
    pub fn span(&self) -> Range<usize> {
        self.0.span()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Loc<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Spanned::<T>::deserialize(d).map(Loc)
    }
}

impl<T: JsonSchema> JsonSchema for Loc<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

impl<T> Loc<T> {
    /// `value` located at `span`.
    pub fn new(span: Range<usize>, value: T) -> Loc<T> {
        Loc(Spanned::new(span, value))
    }
}

/// Where errors point: the file and its text.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub(crate) file: &'a Path,
    pub(crate) text: &'a str,
}

impl Ctx<'_> {
    pub(crate) fn err(&self, span: Range<usize>, message: impl Into<String>) -> ScenarioError {
        ScenarioError::Invalid(Located::at(self.file, self.text, span, message))
    }

    pub(crate) fn err_at<T>(&self, loc: &Loc<T>, message: impl Into<String>) -> ScenarioError {
        self.err(loc.span(), message)
    }

    /// The value of kind `K` that `v` names; otherwise an error at `v` with the valid
    /// names and the nearest one.
    pub(crate) fn kind<K: Kind, S: AsRef<str>>(&self, v: &Loc<S>) -> R<K> {
        K::parse(v.get().as_ref())
            .map_err(|e| self.err_at(v, unknown_name(e.what, &e.name, &e.valid)))
    }
}

/// What validation returns.
pub(crate) type R<T> = Result<T, ScenarioError>;

/// "unknown policy `x` (did you mean `y`?); expected `a`, `b` or `c`".
pub(crate) fn unknown_name<S: AsRef<str>>(what: &str, name: &str, valid: &[S]) -> String {
    let names: Vec<&str> = valid.iter().map(|s| s.as_ref()).collect();
    let hint = match suggest(name, names.iter().copied()).first() {
        Some(n) => format!(" (did you mean `{n}`?)"),
        None => String::new(),
    };
    format!(
        "unknown {what} `{name}`{hint}; expected {}",
        list_names(&names)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_cut_around_the_column() {
        let line = format!("{}X{}", "a".repeat(5000), "b".repeat(5000));
        let (e, caret, width) = excerpt(&line, 5001, 3);
        assert!(e.chars().count() <= EXCERPT_CHARS_MAX, "{}", e.len());
        assert!(e.starts_with('…') && e.ends_with('…'), "{e}");
        assert_eq!(e.chars().nth(caret - 1), Some('X'));
        assert_eq!(width, 3);
        // A short line is kept whole, the caret where it was.
        assert_eq!(excerpt("abc", 2, 1), ("abc".to_string(), 2, 1));
        // Near the start: no left mark, caret unchanged.
        let (e, caret, _) = excerpt(&line, 3, 1);
        assert!(!e.starts_with('…') && e.ends_with('…'));
        assert_eq!(caret, 3);
        // Near the end: no right mark.
        let (e, caret, _) = excerpt(&line, 10_001, 1);
        assert!(e.starts_with('…') && !e.ends_with('…'), "{e}");
        assert_eq!(e.chars().nth(caret - 1), Some('b'));
        assert!(e.chars().count() <= EXCERPT_CHARS_MAX);
    }

    #[test]
    fn unknown_name_lists_valid_names_and_the_nearest() {
        let m = unknown_name("seniority", "senoir", &["junior", "senior"]);
        assert_eq!(
            m,
            "unknown seniority `senoir` (did you mean `senior`?); expected `junior` or `senior`"
        );
    }
}
