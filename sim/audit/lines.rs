//! A line reader with a hard bound on line length, so a hostile log cannot make the audit
//! hold an unbounded line in memory.
//!
//! `BufRead::read_until` grows its buffer to the whole line, however long. This reader
//! copies at most `max` bytes of a line; the rest is read and thrown away, and the line is
//! reported as too long (with its full length) instead of being returned.

use std::io::{self, BufRead};

/// Default longest line accepted, in bytes (1 MiB). A Claude Code hook event carries the
/// tool's input and, for PostToolUse, its response (a whole file for `Read`), so lines of
/// a few hundred kilobytes are normal; a megabyte is generous and still bounded.
pub const DEFAULT_MAX_LINE: usize = 1 << 20;

/// One line read.
#[derive(Debug, PartialEq, Eq)]
pub enum LineRead {
    /// The line's bytes are in the caller's buffer (without the newline and any `\r`).
    Line,
    /// The line was longer than the limit; its length in bytes (the buffer is empty).
    TooLong(u64),
}

/// Reads lines of at most `max` bytes from `inner`.
#[derive(Debug)]
pub struct BoundedLines<R> {
    inner: R,
    max: usize,
    number: u64,
}

impl<R: BufRead> BoundedLines<R> {
    /// A reader of lines of at most `max` bytes.
    pub fn new(inner: R, max: usize) -> BoundedLines<R> {
        BoundedLines {
            inner,
            max,
            number: 0,
        }
    }

    /// The 1-based number of the line last read.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// Reads the next line into `buf` (cleared first); `None` at end of input.
    pub fn next_line(&mut self, buf: &mut Vec<u8>) -> io::Result<Option<LineRead>> {
        buf.clear();
        let mut len: u64 = 0;
        let mut seen_any = false;
        loop {
            let avail = match self.inner.fill_buf() {
                Ok(a) => a,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if avail.is_empty() {
                if !seen_any {
                    return Ok(None);
                }
                break;
            }
            seen_any = true;
            let (chunk, done) = match memchr::memchr(b'\n', avail) {
                Some(i) => (&avail[..i], Some(i + 1)),
                None => (avail, None),
            };
            len += chunk.len() as u64;
            if len <= self.max as u64 {
                buf.extend_from_slice(chunk);
            } else {
                buf.clear();
            }
            let consumed = done.unwrap_or(chunk.len());
            self.inner.consume(consumed);
            if done.is_some() {
                break;
            }
        }
        self.number += 1;
        if len > self.max as u64 {
            return Ok(Some(LineRead::TooLong(len)));
        }
        if buf.last() == Some(&b'\r') {
            buf.pop();
        }
        Ok(Some(LineRead::Line))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(text: &[u8], max: usize, cap: usize) -> Vec<(u64, Result<String, u64>)> {
        let reader = io::BufReader::with_capacity(cap, text);
        let mut lines = BoundedLines::new(reader, max);
        let mut buf = Vec::new();
        let mut out = Vec::new();
        while let Some(r) = lines.next_line(&mut buf).unwrap() {
            out.push((
                lines.number(),
                match r {
                    LineRead::Line => Ok(String::from_utf8(buf.clone()).unwrap()),
                    LineRead::TooLong(n) => Err(n),
                },
            ));
        }
        out
    }

    #[test]
    fn splits_lines_and_strips_carriage_returns() {
        let got = read_all(b"a\r\nbb\n\nccc", 10, 2);
        assert_eq!(
            got,
            vec![
                (1, Ok("a".into())),
                (2, Ok("bb".into())),
                (3, Ok(String::new())),
                (4, Ok("ccc".into()))
            ]
        );
    }

    #[test]
    fn a_long_line_is_reported_with_its_length_and_reading_goes_on() {
        let mut text = vec![b'x'; 100];
        text.extend_from_slice(b"\nok\n");
        // A small buffer capacity makes the long line span many reads.
        let got = read_all(&text, 10, 7);
        assert_eq!(got, vec![(1, Err(100)), (2, Ok("ok".into()))]);
        // Exactly at the limit is accepted.
        let got = read_all(b"0123456789\n", 10, 3);
        assert_eq!(got, vec![(1, Ok("0123456789".into()))]);
    }
}
