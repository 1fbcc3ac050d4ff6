//! Feeding a line-based format from a byte slice or any `BufRead`, one line at a time.

use std::io::BufRead;

use crate::error::{ErrorKind, ParseError};
use crate::record::Record;

/// The rules of one line-based exposition format: a state machine fed one line at a time.
/// [`TextRules`](crate::text::TextRules) and [`OpenMetricsRules`](crate::openmetrics::OpenMetricsRules)
/// implement it; [`Records`] and [`Reader`] drive it.
pub trait LineRules: Default {
    /// Checks one line (without its `\n`) and returns what it holds, if anything.
    ///
    /// # Errors
    /// A [`ParseError`] naming the line, the column and the rule.
    fn line<'l>(&mut self, line: &'l str, number: u64) -> Result<Option<Record<'l>>, ParseError>;

    /// Checks the end of the input: `last` is the number of lines read.
    ///
    /// # Errors
    /// A rule about the whole exposition, such as a missing `# EOF`.
    fn end(&mut self, last: u64) -> Result<(), ParseError>;

    /// True for a line that never yields a record (a blank line or plain comment in text,
    /// `# EOF` in OpenMetrics); [`line`](Self::line) returns `Ok(None)` exactly for these.
    fn is_silent(line: &str) -> bool;
}

/// Records of an in-memory exposition, borrowing from it. Stops after the first error.
#[derive(Debug)]
pub struct Records<'a, P> {
    rest: &'a [u8],
    line: u64,
    rules: P,
    done: bool,
}

impl<'a, P: LineRules> Records<'a, P> {
    /// Parses `input`.
    pub fn new(input: &'a [u8]) -> Self {
        Self { rest: input, line: 0, rules: P::default(), done: false }
    }

    /// The rules' state (e.g. to ask which families were seen).
    pub fn rules(&self) -> &P {
        &self.rules
    }
}

impl<'a, P: LineRules> Iterator for Records<'a, P> {
    type Item = Result<Record<'a>, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        while !self.done {
            if self.rest.is_empty() {
                self.done = true;
                return self.rules.end(self.line).err().map(Err);
            }
            let (raw, rest) = match memchr::memchr(b'\n', self.rest) {
                Some(i) => (&self.rest[..i], &self.rest[i + 1..]),
                None => (self.rest, &[][..]),
            };
            self.rest = rest;
            self.line += 1;
            let result = std::str::from_utf8(raw)
                .map_err(|e| utf8_error(raw, e, self.line))
                .and_then(|line| self.rules.line(line, self.line));
            match result {
                Ok(Some(record)) => return Some(Ok(record)),
                Ok(None) => {}
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
            }
        }
        None
    }
}

fn utf8_error(raw: &[u8], e: std::str::Utf8Error, line: u64) -> ParseError {
    let at = e.valid_up_to();
    let near = String::from_utf8_lossy(&raw[at..raw.len().min(at + 16)]).into_owned();
    ParseError::new(line, at, &near, ErrorKind::InvalidUtf8)
}

/// Records of an exposition read from any [`BufRead`], one line in memory at a time (at most
/// `max_line` bytes, 1 MiB by default). A lending iterator: each record borrows the reader.
#[derive(Debug)]
pub struct Reader<R, P> {
    reader: R,
    buf: Vec<u8>,
    line: u64,
    rules: P,
    done: bool,
    max_line: usize,
}

/// The default bound on one line read by a [`Reader`].
pub const DEFAULT_MAX_LINE: usize = 1 << 20;

impl<R: BufRead, P: LineRules> Reader<R, P> {
    /// Reads from `reader`.
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            buf: Vec::new(),
            line: 0,
            rules: P::default(),
            done: false,
            max_line: DEFAULT_MAX_LINE,
        }
    }

    /// Refuses lines longer than `bytes`.
    #[must_use]
    pub fn max_line(mut self, bytes: usize) -> Self {
        self.max_line = bytes;
        self
    }

    /// The next record, `None` at the end; stops after the first error.
    pub fn next_record(&mut self) -> Option<Result<Record<'_>, ParseError>> {
        loop {
            if self.done {
                return None;
            }
            match self.read_line() {
                Err(e) => {
                    self.done = true;
                    return Some(Err(e));
                }
                Ok(false) => {
                    self.done = true;
                    return self.rules.end(self.line).err().map(Err);
                }
                Ok(true) => {}
            }
            self.line += 1;
            let line = match std::str::from_utf8(&self.buf) {
                Ok(l) => l,
                Err(e) => {
                    self.done = true;
                    return Some(Err(utf8_error(&self.buf, e, self.line)));
                }
            };
            if !P::is_silent(line) {
                break;
            }
            // A silent line yields no record, so no borrow outlives this iteration.
            if let Err(e) = self.rules.line(line, self.line) {
                self.done = true;
                return Some(Err(e));
            }
        }
        let line = std::str::from_utf8(&self.buf).unwrap_or_default();
        match self.rules.line(line, self.line) {
            Ok(Some(record)) => Some(Ok(record)),
            Ok(None) => None,
            Err(e) => {
                self.done = true;
                Some(Err(e))
            }
        }
    }

    /// Calls `f` with every record; stops at the first error.
    ///
    /// # Errors
    /// The first [`ParseError`].
    pub fn for_each(mut self, mut f: impl FnMut(Record<'_>)) -> Result<(), ParseError> {
        while let Some(r) = self.next_record() {
            f(r?);
        }
        Ok(())
    }

    /// Reads one line into `buf` without its `\n`; false at the end of input.
    fn read_line(&mut self) -> Result<bool, ParseError> {
        self.buf.clear();
        let mut any = false;
        loop {
            let chunk = match self.reader.fill_buf() {
                Ok(c) => c,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(ParseError::new(self.line + 1, 0, "", ErrorKind::Io(e.to_string()))),
            };
            if chunk.is_empty() {
                return Ok(any);
            }
            any = true;
            let (take, found) = match memchr::memchr(b'\n', chunk) {
                Some(i) => (i, true),
                None => (chunk.len(), false),
            };
            if self.buf.len() + take > self.max_line {
                return Err(ParseError::new(
                    self.line + 1,
                    self.max_line,
                    "",
                    ErrorKind::LineTooLong { limit: self.max_line },
                ));
            }
            self.buf.extend_from_slice(&chunk[..take]);
            self.reader.consume(take + usize::from(found));
            if found {
                return Ok(true);
            }
        }
    }
}
