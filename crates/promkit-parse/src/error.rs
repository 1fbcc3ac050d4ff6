//! The parse error: where (line, column, the offending text) and which rule was broken.

use std::fmt;

/// A position in the input: 1-based line and column (in bytes), or the byte offset of a
/// protobuf message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    /// 1-based line (for protobuf: the 1-based message number).
    pub line: u64,
    /// 1-based byte column within the line (for protobuf: the byte offset of the message).
    pub column: u64,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// Why an input was rejected: the position, the offending text (at most 64 characters of it)
/// and the broken rule.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{pos}: {kind}{}", snippet(.near))]
#[non_exhaustive]
pub struct ParseError {
    /// Where the problem starts.
    pub pos: Position,
    /// The offending text, shortened; empty at the end of the input.
    pub near: String,
    /// What was wrong.
    pub kind: ErrorKind,
}

fn snippet(near: &str) -> String {
    if near.is_empty() { String::new() } else { format!(" (at `{near}`)") }
}

impl ParseError {
    /// An error at `line`/`column` (1-based), quoting `near` (shortened to 64 characters).
    pub(crate) fn new(line: u64, column: usize, near: &str, kind: ErrorKind) -> Self {
        let near: String = near.chars().take(64).collect();
        Self { pos: Position { line, column: column as u64 + 1 }, near, kind }
    }

    /// The 1-based line.
    pub fn line(&self) -> u64 {
        self.pos.line
    }

    /// The 1-based column.
    pub fn column(&self) -> u64 {
        self.pos.column
    }
}

/// What was wrong with the input. Each message names the rule; the OpenMetrics ones cite the
/// specification's wording.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Input that is not UTF-8.
    #[error("invalid UTF-8: expositions MUST be UTF-8")]
    InvalidUtf8,
    /// A line longer than the reader's limit.
    #[error("line longer than {limit} bytes: the reader bounds the memory of one line")]
    LineTooLong {
        /// The limit in bytes.
        limit: usize,
    },
    /// An I/O error of the underlying reader.
    #[error("read failed: {0}")]
    Io(String),
    /// Something else was expected at this point of the grammar.
    #[error("expected {expected}")]
    Expected {
        /// What the grammar allows here.
        expected: &'static str,
    },
    /// A metric name that is not `[a-zA-Z_:][a-zA-Z0-9_:]*`.
    #[error("invalid metric name: names match [a-zA-Z_:][a-zA-Z0-9_:]*")]
    InvalidMetricName,
    /// A label name that is not `[a-zA-Z_][a-zA-Z0-9_]*`.
    #[error("invalid label name: label names match [a-zA-Z_][a-zA-Z0-9_]*")]
    InvalidLabelName,
    /// A quoted (UTF-8) metric or label name that breaks a rule of the quoted syntax, or one
    /// that would be ambiguous (two metric names for one sample).
    #[error("quoted name: {rule}")]
    QuotedName {
        /// The rule broken.
        rule: &'static str,
    },
    /// A label value that never closes.
    #[error("unterminated label value: a label value ends with an unescaped `\"`")]
    UnterminatedLabelValue,
    /// An escape sequence the format does not allow.
    #[error("invalid escape sequence: only \\\\, \\\" and \\n are allowed")]
    InvalidEscape,
    /// The same label name twice in one label set.
    #[error("duplicate label name `{name}`: label names MUST be unique within a label set")]
    DuplicateLabel {
        /// The repeated name.
        name: String,
    },
    /// A sample value that is not a number of the format.
    #[error("invalid value: {rule}")]
    InvalidValue {
        /// The number rule broken.
        rule: &'static str,
    },
    /// A timestamp that is not a number of the format.
    #[error("invalid timestamp: {rule}")]
    InvalidTimestamp {
        /// The timestamp rule broken.
        rule: &'static str,
    },
    /// An unknown `# TYPE` word.
    #[error("unknown metric type `{word}`: {allowed}")]
    UnknownType {
        /// The word found.
        word: String,
        /// The words the format allows.
        allowed: &'static str,
    },
    /// A second `# HELP`, `# TYPE` or `# UNIT` for one family.
    #[error(
        "second {what} line for `{name}`: there MUST NOT be more than one of each metadata line per family"
    )]
    DuplicateMetadata {
        /// `HELP`, `TYPE` or `UNIT`.
        what: &'static str,
        /// The family.
        name: String,
    },
    /// Metadata after the family's samples.
    #[error("{what} for `{name}` after its samples: metadata MUST come before a family's samples")]
    MetadataAfterSamples {
        /// `HELP`, `TYPE` or `UNIT`.
        what: &'static str,
        /// The family.
        name: String,
    },
    /// A family that appears again after another one.
    #[error("family `{name}` appears again after other families: families MUST NOT be interleaved")]
    InterleavedFamily {
        /// The family.
        name: String,
    },
    /// A metric (label set) of a family that appears again after another one.
    #[error(
        "metric {labels} of `{name}` appears again after another metric: metrics MUST NOT be interleaved"
    )]
    InterleavedMetric {
        /// The family.
        name: String,
        /// The label set.
        labels: String,
    },
    /// The same sample twice in one point, or points out of order.
    #[error("{what}")]
    Ordering {
        /// The ordering rule broken.
        what: &'static str,
    },
    /// A sample name whose suffix its family's type does not allow.
    #[error("sample `{sample}` does not fit family `{family}` of type {kind}: {rule}")]
    BadSuffix {
        /// The sample name.
        sample: String,
        /// The family.
        family: String,
        /// The family's type.
        kind: &'static str,
        /// The suffix rule.
        rule: &'static str,
    },
    /// A rule about a value of a given type (counter non-negative, stateset 0 or 1, ...).
    #[error("{rule}")]
    ValueRule {
        /// The rule broken.
        rule: &'static str,
    },
    /// A rule about a label a type needs (`le`, `quantile`, the stateset label).
    #[error("{rule}")]
    LabelRule {
        /// The rule broken.
        rule: &'static str,
    },
    /// A histogram whose buckets break a rule.
    #[error("histogram `{name}`: {rule}")]
    Histogram {
        /// The family.
        name: String,
        /// The rule broken.
        rule: &'static str,
    },
    /// An exemplar in a place or form the format does not allow.
    #[error("exemplar: {rule}")]
    Exemplar {
        /// The rule broken.
        rule: &'static str,
    },
    /// A `# UNIT` that breaks a rule.
    #[error("unit: {rule}")]
    Unit {
        /// The rule broken.
        rule: &'static str,
    },
    /// A `#` line the format does not know.
    #[error(
        "unexpected comment: in OpenMetrics only # HELP, # TYPE, # UNIT and # EOF lines may start with #"
    )]
    UnexpectedComment,
    /// A blank line in OpenMetrics.
    #[error("blank line: OpenMetrics does not allow empty lines")]
    BlankLine,
    /// Input ended without `# EOF`.
    #[error("missing `# EOF`: an OpenMetrics exposition MUST end with `# EOF`")]
    MissingEof,
    /// Text after `# EOF`.
    #[error("text after `# EOF`: `# EOF` MUST be the last line")]
    TextAfterEof,
    /// A family name that clashes with a sample name of another family.
    #[error("`{name}` clashes with the samples of family `{other}`: sample names MUST identify one family")]
    NameClash {
        /// The new family or sample.
        name: String,
        /// The family it clashes with.
        other: String,
    },
    /// A malformed protobuf message.
    #[error("protobuf: {0}")]
    Protobuf(String),
    /// Data the promkit model cannot hold.
    #[error("cannot build the model: {0}")]
    Model(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_position_the_text_and_the_rule() {
        let e = ParseError::new(3, 4, "a-b 1", ErrorKind::InvalidMetricName);
        assert_eq!(
            e.to_string(),
            "3:5: invalid metric name: names match [a-zA-Z_:][a-zA-Z0-9_:]* (at `a-b 1`)"
        );
        assert_eq!((e.line(), e.column()), (3, 5));
        let long = "x".repeat(100);
        assert_eq!(ParseError::new(1, 0, &long, ErrorKind::BlankLine).near.len(), 64);
    }
}
