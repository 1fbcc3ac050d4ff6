//! OpenMetrics 1.0.0, read strictly: every MUST of the specification is an error naming the
//! line, the column and the rule.
//!
//! Checked per line: the ABNF (single spaces, no trailing blanks, label syntax and escapes,
//! `realnumber` timestamps, numbers without hex or `_`), `# HELP`/`# TYPE`/`# UNIT` forms, no
//! other `#` line, no blank line, `# EOF` exactly once and last. Per family: metadata before
//! samples and at most once each, families and metrics (label sets) not interleaved, names that
//! do not clash with another family's samples, the sample-name suffixes of each type
//! (`_total`/`_created`, `_bucket`/`_count`/`_sum`, `_gcount`/`_gsum`, `_info`), `# UNIT` a
//! suffix of the name and absent on info and stateset. Per value: counters, counts, sums and
//! buckets not negative and not NaN, bucket values and counts whole numbers, `le` a number
//! (`+Inf` written exactly so) and `quantile` in [0, 1], stateset values 0 or 1, info values 1,
//! exemplars only on counter `_total` and histogram `_bucket` lines with at most 128 code points
//! of label text. Per histogram point: buckets sorted by `le` with non-decreasing counts, a
//! `+Inf` bucket equal to `_count`, `_sum` and `_count` together (`_gsum`/`_gcount` for gauge
//! histograms), no `_sum` with negative buckets, no negative `_gsum` without them. Within a
//! metric, timestamps present on all samples or none, and never going backwards.
//!
//! Where the specification leaves room, this follows the reference parser the OpenMetrics
//! test suite was written against (Python's `prometheus_client`): `le`/`quantile` values need
//! not be canonical (only `+Inf` must be spelled so), HELP text may hold a raw `"`, and a
//! repeated sample at the same timestamp is kept rather than refused.

use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, BuildHasherDefault, Hasher};

use crate::error::{ErrorKind, ParseError};
use crate::labels::{self, Dialect, Labels};
use crate::number::{is_integral, om_number, om_timestamp};
use crate::record::{Exemplar, Help, MetricKind, Record, Sample, Suffix, Timestamp};
use crate::source::{LineRules, Reader, Records};

/// Records of an in-memory OpenMetrics exposition.
pub type OpenMetricsRecords<'a> = Records<'a, OpenMetricsRules>;
/// Records of an OpenMetrics exposition read from a `BufRead`.
pub type OpenMetricsReader<R> = Reader<R, OpenMetricsRules>;

/// The most label text an exemplar may carry, in code points of names and values.
pub const EXEMPLAR_MAX_CODE_POINTS: usize = 128;

/// Parses an OpenMetrics exposition held in memory.
///
/// ```
/// use promkit_parse::{Record, Suffix, openmetrics};
/// let input = "# TYPE jobs counter\njobs_total 3 # {trace_id=\"abc\"} 1 1.7e9\n# EOF\n";
/// let records: Vec<Record<'_>> = openmetrics::parse(input.as_bytes()).collect::<Result<_, _>>()?;
/// let Record::Sample(s) = &records[1] else { unreachable!() };
/// assert_eq!((s.family(), s.suffix), ("jobs", Suffix::Total));
/// assert_eq!(s.exemplar.unwrap().labels.get("trace_id").as_deref(), Some("abc"));
///
/// let err = openmetrics::parse(b"a 1\n").collect::<Result<Vec<_>, _>>().unwrap_err();
/// assert_eq!(err.to_string(), "1:4: missing `# EOF`: an OpenMetrics exposition MUST end with `# EOF`");
/// # Ok::<(), promkit_parse::ParseError>(())
/// ```
pub fn parse(input: &[u8]) -> OpenMetricsRecords<'_> {
    Records::new(input)
}

/// Parses an OpenMetrics exposition from a reader, one line in memory at a time.
pub fn reader<R: std::io::BufRead>(reader: R) -> OpenMetricsReader<R> {
    Reader::new(reader)
}

/// The OpenMetrics rules: the current family and point, and every name seen.
#[derive(Debug, Default)]
pub struct OpenMetricsRules {
    eof: bool,
    last_len: usize,
    family: Option<Family>,
    /// Family and sample names of finished families, with the family each belongs to.
    taken: HashMap<Box<str>, Box<str>>,
    /// Reused for label-set keys.
    scratch: String,
    /// Seeded per parser, so no input can be crafted to collide two label sets.
    hasher: foldhash::quality::RandomState,
    pairs: Vec<(usize, usize, usize, usize)>,
}

#[derive(Debug)]
struct Family {
    name: String,
    kind: Option<MetricKind>,
    help: bool,
    unit: Option<String>,
    samples: bool,
    /// The current metric (label set without `le`/`quantile`/the stateset label).
    group: Option<Group>,
    /// Hashes of the finished metrics' canonical label sets.
    seen_groups: HashSet<u64, BuildHasherDefault<Prehashed>>,
    hist: HistPoint,
    /// Line of the family's last sample, for errors found when it ends.
    last_line: u64,
}

#[derive(Debug)]
struct Group {
    hash: u64,
    timestamp: Option<f64>,
}

/// The histogram point being read (Python's `_check_histogram` state).
#[derive(Debug, Default)]
struct HistPoint {
    active: bool,
    group: u64,
    timestamp: Option<f64>,
    bucket: Option<f64>,
    value: f64,
    count: Option<f64>,
    sum: bool,
    gsum: bool,
    negative_gsum: bool,
    negative_buckets: bool,
}

impl Family {
    fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            kind: None,
            help: false,
            unit: None,
            samples: false,
            group: None,
            seen_groups: HashSet::default(),
            hist: HistPoint::default(),
            last_line: 0,
        }
    }

    fn kind(&self) -> MetricKind {
        self.kind.unwrap_or(MetricKind::Unknown)
    }

    /// The suffix of sample `name` if it belongs to this family.
    fn suffix_of(&self, name: &str) -> Option<Suffix> {
        let rest = name.strip_prefix(self.name.as_str())?;
        self.kind().om_suffixes().iter().copied().find(|s| s.as_str() == rest)
    }
}

fn err(line: &str, n: u64, at: usize, kind: ErrorKind) -> ParseError {
    ParseError::new(n, at, line.get(at..).unwrap_or(""), kind)
}

fn value_rule(line: &str, n: u64, at: usize, rule: &'static str) -> ParseError {
    err(line, n, at, ErrorKind::ValueRule { rule })
}

impl HistPoint {
    /// The end-of-point rules.
    fn check(&self, name: &str) -> Result<(), ErrorKind> {
        let rule = |rule| Err(ErrorKind::Histogram { name: name.to_owned(), rule });
        if !self.active {
            return Ok(());
        }
        if self.bucket != Some(f64::INFINITY) {
            return rule(
                "a histogram point MUST have a bucket with le=\"+Inf\", and it MUST be the last bucket",
            );
        }
        if self.count.is_some_and(|c| c != self.value) {
            return rule("`_count` MUST equal the `+Inf` bucket");
        }
        if self.sum && self.count.is_none() {
            return rule("`_count` MUST be present when `_sum` is");
        }
        if self.gsum && self.count.is_none() {
            return rule("`_gcount` MUST be present when `_gsum` is");
        }
        if !(self.sum || self.gsum) && self.count.is_some() {
            return rule("`_sum` (`_gsum`) MUST be present when `_count` (`_gcount`) is");
        }
        if self.negative_buckets && self.sum {
            return rule("a histogram with negative buckets MUST NOT have `_sum`");
        }
        if !self.negative_buckets && self.negative_gsum {
            return rule("`_gsum` MUST NOT be negative when no bucket is negative");
        }
        Ok(())
    }
}

/// Splits `# KEYWORD name rest`: exactly one space between the parts.
fn metadata_parts(line: &str) -> Option<(&str, &str, Option<&str>)> {
    let rest = line.strip_prefix("# ")?;
    let (word, rest) = rest.split_once(' ')?;
    // A quoted name (which may hold spaces) is kept with its quotes, for `metadata` to read.
    let split = if rest.starts_with('"') {
        labels::closing_quote(&rest.as_bytes()[1..])
            .and_then(|q| rest[q + 2..].starts_with(' ').then_some(q + 2))
    } else {
        rest.find(' ')
    };
    let (name, tail) = match split {
        Some(at) => (&rest[..at], Some(&rest[at + 1..])),
        None => (rest, None),
    };
    Some((word, name, tail))
}

impl OpenMetricsRules {
    /// Ends the current family: checks its last histogram point and reserves its names.
    fn finish_family(&mut self, line: &str, n: u64) -> Result<(), ParseError> {
        let Some(f) = self.family.take() else { return Ok(()) };
        if matches!(f.kind(), MetricKind::Histogram | MetricKind::GaugeHistogram) {
            f.hist.check(&f.name).map_err(|k| {
                let at = if f.last_line > 0 { f.last_line } else { n };
                ParseError::new(at, 0, if at == n { line } else { "" }, k)
            })?;
        }
        for s in f.kind().om_suffixes().iter().chain([&Suffix::Bare]) {
            let sample = format!("{}{}", f.name, s.as_str());
            self.taken.insert(sample.into(), f.name.as_str().into());
        }
        Ok(())
    }

    /// Starts family `name` unless it is the current one.
    fn enter(&mut self, line: &str, n: u64, name: &str, at: usize) -> Result<&mut Family, ParseError> {
        if self.family.as_ref().is_none_or(|f| f.name != name) {
            self.finish_family(line, n)?;
            if let Some(other) = self.taken.get(name) {
                let kind = if **other == *name {
                    ErrorKind::InterleavedFamily { name: name.to_owned() }
                } else {
                    ErrorKind::NameClash { name: name.to_owned(), other: other.to_string() }
                };
                return Err(err(line, n, at, kind));
            }
            self.family = Some(Family::new(name));
        }
        Ok(self.family.as_mut().unwrap_or_else(|| unreachable!("just set")))
    }

    fn metadata<'l>(&mut self, line: &'l str, n: u64) -> Result<Option<Record<'l>>, ParseError> {
        if line == "# EOF" {
            self.finish_family(line, n)?;
            self.eof = true;
            return Ok(None);
        }
        let Some((word, name, tail)) = metadata_parts(line) else {
            return Err(err(line, n, 0, ErrorKind::UnexpectedComment));
        };
        let what: &'static str = match word {
            "HELP" => "HELP",
            "TYPE" => "TYPE",
            "UNIT" => "UNIT",
            _ => return Err(err(line, n, 0, ErrorKind::UnexpectedComment)),
        };
        let name_at = 2 + word.len() + 1;
        let written = name.len();
        let (name, end) = labels::metadata_name(line, name_at).map_err(|(at, k)| err(line, n, at, k))?;
        if end != name_at + written {
            return Err(err(line, n, name_at, ErrorKind::InvalidMetricName));
        }
        let Some(tail) = tail else {
            return Err(err(
                line,
                n,
                name_at + written,
                ErrorKind::Expected { expected: "a space and the metadata value" },
            ));
        };
        let tail_at = name_at + written + 1;
        let f = self.enter(line, n, name, name_at)?;
        if f.samples {
            return Err(err(line, n, 0, ErrorKind::MetadataAfterSamples { what, name: name.to_owned() }));
        }
        let dup = || err(line, n, 0, ErrorKind::DuplicateMetadata { what, name: name.to_owned() });
        match what {
            "HELP" => {
                if f.help {
                    return Err(dup());
                }
                f.help = true;
                Ok(Some(Record::Help { name, help: Help::new(tail, Dialect::OpenMetrics) }))
            }
            "TYPE" => {
                if f.kind.is_some() {
                    return Err(dup());
                }
                let Some(kind) = MetricKind::from_openmetrics(tail) else {
                    return Err(err(
                        line,
                        n,
                        tail_at,
                        ErrorKind::UnknownType {
                            word: tail.to_owned(),
                            allowed: "OpenMetrics types are counter, gauge, histogram, gaugehistogram, summary, stateset, info and unknown",
                        },
                    ));
                };
                f.kind = Some(kind);
                if f.unit.as_deref().is_some_and(|u| !u.is_empty())
                    && matches!(kind, MetricKind::Info | MetricKind::StateSet)
                {
                    return Err(err(
                        line,
                        n,
                        tail_at,
                        ErrorKind::Unit { rule: "info and stateset families MUST NOT have a unit" },
                    ));
                }
                for s in kind.om_suffixes() {
                    let sample = format!("{name}{}", s.as_str());
                    if let Some(other) = self.taken.get(sample.as_str()) {
                        return Err(err(
                            line,
                            n,
                            name_at,
                            ErrorKind::NameClash { name: sample, other: other.to_string() },
                        ));
                    }
                }
                Ok(Some(Record::Type { name, kind }))
            }
            _ => {
                if f.unit.is_some() {
                    return Err(dup());
                }
                if !tail.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b':') {
                    return Err(err(
                        line,
                        n,
                        tail_at,
                        ErrorKind::Unit { rule: "a unit is made of metric-name characters" },
                    ));
                }
                if !tail.is_empty() {
                    if name.strip_suffix(tail).is_none_or(|s| !s.ends_with('_')) {
                        return Err(err(
                            line,
                            n,
                            tail_at,
                            ErrorKind::Unit { rule: "the family name MUST end with `_` and the unit" },
                        ));
                    }
                    if matches!(f.kind, Some(MetricKind::Info | MetricKind::StateSet)) {
                        return Err(err(
                            line,
                            n,
                            tail_at,
                            ErrorKind::Unit { rule: "info and stateset families MUST NOT have a unit" },
                        ));
                    }
                }
                f.unit = Some(tail.to_owned());
                Ok(Some(Record::Unit { name, unit: tail }))
            }
        }
    }

    fn sample<'l>(&mut self, line: &'l str, n: u64) -> Result<Record<'l>, ParseError> {
        let b = line.as_bytes();
        let head =
            labels::sample_head(line, 0, Dialect::OpenMetrics).map_err(|(at, k)| err(line, n, at, k))?;
        let name = head.name;
        // Column just after the name, where errors about the whole sample point.
        let len = head.end;
        // The family: the current one if the name fits it, else a new family of unknown type.
        let fits = self.family.as_ref().and_then(|f| f.suffix_of(name));
        let suffix = match fits {
            Some(s) => s,
            None => {
                if let Some(f) = &self.family
                    && f.name == name
                {
                    return Err(err(
                        line,
                        n,
                        0,
                        ErrorKind::BadSuffix {
                            sample: name.to_owned(),
                            family: f.name.clone(),
                            kind: f.kind().as_openmetrics(),
                            rule: suffix_rule(f.kind()),
                        },
                    ));
                }
                self.enter(line, n, name, 0)?;
                Suffix::Bare
            }
        };
        let fam = self.family.as_mut().unwrap_or_else(|| unreachable!("entered"));
        fam.samples = true;
        fam.last_line = n;
        let kind = fam.kind();
        let fname_len = fam.name.len();

        // Labels, picking out the ones the type gives meaning to.
        let mut i = head.end;
        let mut labels = Labels::empty(Dialect::OpenMetrics);
        let mut le: Option<(&str, usize)> = None;
        let mut quantile: Option<(&str, usize)> = None;
        let mut state_label = false;
        let mut sorted = true;
        self.pairs.clear();
        let label_start = match head.labels {
            Some(at) => Some(at),
            None if !head.quoted && b.get(i) == Some(&b'{') => Some((i + 1, true)),
            None => None,
        };
        if let Some((from, first)) = label_start {
            let pairs = &mut self.pairs;
            let mut prev: &str = "";
            let fam_name = &line[head.name_at..head.name_at + fname_len];
            let end = labels::scan_from(line, from, Dialect::OpenMetrics, first, |lname, value, col| {
                let excluded = match (kind, suffix, lname) {
                    (MetricKind::Histogram | MetricKind::GaugeHistogram, Suffix::Bucket, "le") => {
                        le = Some((value, col));
                        true
                    }
                    (MetricKind::Summary, Suffix::Bare, "quantile") => {
                        quantile = Some((value, col));
                        true
                    }
                    (MetricKind::StateSet, _, l) if l == fam_name => {
                        state_label = true;
                        true
                    }
                    _ => false,
                };
                if !excluded {
                    sorted &= prev <= lname;
                    prev = lname;
                    let v = value.as_ptr() as usize - line.as_ptr() as usize;
                    pairs.push((col, col + lname.len(), v, v + value.len()));
                }
                Ok(())
            })
            .map_err(|(at, k)| err(line, n, at, k))?;
            labels = Labels::new(&line[from..end - 1], Dialect::OpenMetrics);
            i = end;
        }

        // Value, timestamp, exemplar.
        if b.get(i) != Some(&b' ') {
            return Err(err(line, n, i, ErrorKind::Expected { expected: "a single space before the value" }));
        }
        i += 1;
        let v1 = memchr::memchr(b' ', &b[i..]).map_or(b.len(), |j| i + j);
        let value =
            om_number(&line[i..v1]).map_err(|rule| err(line, n, i, ErrorKind::InvalidValue { rule }))?;
        let value_at = i;
        let mut timestamp = None;
        let mut exemplar = None;
        i = v1;
        if i < b.len() {
            i += 1; // the space
            if b.get(i) != Some(&b'#') {
                let t1 = memchr::memchr(b' ', &b[i..]).map_or(b.len(), |j| i + j);
                let ts = om_timestamp(&line[i..t1])
                    .map_err(|rule| err(line, n, i, ErrorKind::InvalidTimestamp { rule }))?;
                timestamp = Some(ts);
                i = t1;
                if i < b.len() {
                    i += 1;
                    if b.get(i) != Some(&b'#') {
                        return Err(err(
                            line,
                            n,
                            i,
                            ErrorKind::Expected {
                                expected: "the end of the line or ` # {` opening an exemplar",
                            },
                        ));
                    }
                }
            }
            if i < b.len() {
                exemplar = Some(self.exemplar(line, n, i)?);
            }
        }

        // Rules of the type.
        let fam = self.family.as_mut().unwrap_or_else(|| unreachable!("entered"));
        let mut bound = None;
        match (kind, suffix) {
            (MetricKind::StateSet, _) if !state_label => {
                return Err(err(
                    line,
                    n,
                    0,
                    ErrorKind::LabelRule {
                        rule: "a stateset sample MUST have a label named after its family",
                    },
                ));
            }
            (MetricKind::Histogram | MetricKind::GaugeHistogram, Suffix::Bucket) => {
                let Some((raw, col)) = le else {
                    return Err(err(
                        line,
                        n,
                        len,
                        ErrorKind::LabelRule { rule: "a histogram bucket MUST have an `le` label" },
                    ));
                };
                let b = om_number(raw).ok().filter(|v| !v.is_nan() && (*v != f64::INFINITY || raw == "+Inf"));
                let Some(b) = b else {
                    return Err(err(
                        line,
                        n,
                        col,
                        ErrorKind::LabelRule {
                            rule: "`le` MUST be a number, and +Inf MUST be written `+Inf`",
                        },
                    ));
                };
                bound = Some(b);
            }
            (MetricKind::Summary, Suffix::Bare) => {
                let q = quantile.and_then(|(raw, _)| om_number(raw).ok()).filter(|q| (0.0..=1.0).contains(q));
                let Some(q) = q else {
                    let at = quantile.map_or(len, |(_, c)| c);
                    return Err(err(
                        line,
                        n,
                        at,
                        ErrorKind::LabelRule {
                            rule: "a summary quantile MUST have a `quantile` label with a number in [0, 1]",
                        },
                    ));
                };
                bound = Some(q);
                if value < 0.0 {
                    return Err(value_rule(line, n, value_at, "quantile values MUST NOT be negative"));
                }
            }
            _ => {}
        }
        if matches!(suffix, Suffix::Bucket | Suffix::Count | Suffix::GCount) && !is_integral(value) {
            return Err(value_rule(line, n, value_at, "bucket and `_count` values MUST be whole numbers"));
        }
        if matches!(
            suffix,
            Suffix::Total | Suffix::Sum | Suffix::Count | Suffix::Bucket | Suffix::GCount | Suffix::GSum
        ) {
            if value.is_nan() {
                return Err(value_rule(
                    line,
                    n,
                    value_at,
                    "counter-like values (_total, _sum, _count, _bucket, _gcount, _gsum) MUST NOT be NaN",
                ));
            }
            if value < 0.0 && suffix != Suffix::GSum {
                return Err(value_rule(
                    line,
                    n,
                    value_at,
                    "counter-like values (_total, _sum, _count, _bucket, _gcount) MUST NOT be negative",
                ));
            }
        }
        if kind == MetricKind::StateSet && value != 0.0 && value != 1.0 {
            return Err(value_rule(line, n, value_at, "stateset values MUST be 0 or 1"));
        }
        if kind == MetricKind::Info && value != 1.0 {
            return Err(value_rule(line, n, value_at, "info values MUST be 1"));
        }
        if exemplar.is_some()
            && !matches!(
                (kind, suffix),
                (MetricKind::Counter, Suffix::Total)
                    | (MetricKind::Histogram | MetricKind::GaugeHistogram, Suffix::Bucket)
            )
        {
            return Err(err(
                line,
                n,
                value_at,
                ErrorKind::Exemplar {
                    rule: "only counter `_total` and histogram `_bucket` samples MAY have exemplars",
                },
            ));
        }

        // The metric (group) this sample belongs to: no interleaving, consistent timestamps.
        let hash = if kind == MetricKind::Info {
            0
        } else {
            group_key(line, &mut self.pairs, sorted, &mut self.scratch, &self.hasher)
        };
        let same = fam.group.as_ref().is_some_and(|g| g.hash == hash);
        if same {
            let g = fam.group.as_mut().unwrap_or_else(|| unreachable!("same group"));
            if g.timestamp.is_some() != timestamp.is_some() {
                return Err(err(
                    line,
                    n,
                    value_at,
                    ErrorKind::Ordering {
                        what: "the samples of a metric MUST all have a timestamp, or none",
                    },
                ));
            }
            if let (Some(prev), Some(ts)) = (g.timestamp, timestamp)
                && ts < prev
                && kind != MetricKind::Info
            {
                return Err(err(
                    line,
                    n,
                    value_at,
                    ErrorKind::Ordering { what: "timestamps MUST NOT go backwards within a metric" },
                ));
            }
            g.timestamp = timestamp;
        } else {
            if fam.seen_groups.contains(&hash) {
                let shown =
                    if labels.raw().is_empty() { "{}".to_owned() } else { format!("{{{}}}", labels.raw()) };
                return Err(err(
                    line,
                    n,
                    len,
                    ErrorKind::InterleavedMetric { name: fam.name.clone(), labels: shown },
                ));
            }
            fam.seen_groups.insert(hash);
            fam.group = Some(Group { hash, timestamp });
        }

        // Histogram points.
        if matches!(kind, MetricKind::Histogram | MetricKind::GaugeHistogram) && suffix != Suffix::Bare {
            let h = &mut fam.hist;
            if !h.active || h.group != hash || h.timestamp != timestamp {
                h.check(&fam.name).map_err(|k| err(line, n, 0, k))?;
                *h = HistPoint { active: true, group: hash, timestamp, ..HistPoint::default() };
            }
            match suffix {
                Suffix::Bucket => {
                    let b = bound.unwrap_or(f64::NAN);
                    if b < 0.0 {
                        h.negative_buckets = true;
                    }
                    if h.bucket.is_some_and(|prev| b <= prev) {
                        return Err(err(
                            line,
                            n,
                            0,
                            ErrorKind::Histogram {
                                name: fam.name.clone(),
                                rule: "buckets MUST be sorted by increasing `le`",
                            },
                        ));
                    }
                    if value < h.value {
                        return Err(err(
                            line,
                            n,
                            value_at,
                            ErrorKind::Histogram {
                                name: fam.name.clone(),
                                rule: "buckets are cumulative: counts MUST NOT decrease as `le` grows",
                            },
                        ));
                    }
                    h.bucket = Some(b);
                    h.value = value;
                }
                Suffix::Count | Suffix::GCount => h.count = Some(value),
                Suffix::Sum => h.sum = true,
                Suffix::GSum => {
                    h.gsum = true;
                    h.negative_gsum |= value < 0.0;
                }
                _ => {}
            }
        }

        Ok(Record::Sample(Sample {
            name,
            suffix,
            kind,
            labels,
            bound,
            value,
            timestamp: timestamp.map(Timestamp::Seconds),
            exemplar,
            line: n,
        }))
    }

    /// Parses ` # {labels} value [timestamp]` starting at the `#` at `i`.
    fn exemplar<'l>(&mut self, line: &'l str, n: u64, i: usize) -> Result<Exemplar<'l>, ParseError> {
        let b = line.as_bytes();
        if !line[i..].starts_with("# {") {
            return Err(err(
                line,
                n,
                i,
                ErrorKind::Exemplar { rule: "an exemplar is written ` # {labels} value [timestamp]`" },
            ));
        }
        let open = i + 2;
        let mut code_points = 0;
        let end = labels::scan(line, open + 1, Dialect::OpenMetrics, |name, value, _| {
            code_points +=
                name.chars().count() + labels::unescape(value, Dialect::OpenMetrics).chars().count();
            Ok(())
        })
        .map_err(|(at, k)| err(line, n, at, k))?;
        if code_points > EXEMPLAR_MAX_CODE_POINTS {
            return Err(err(
                line,
                n,
                open,
                ErrorKind::Exemplar {
                    rule: "exemplar label names and values MUST NOT exceed 128 code points",
                },
            ));
        }
        if b.get(end) != Some(&b' ') {
            return Err(err(
                line,
                n,
                end,
                ErrorKind::Exemplar { rule: "a space and a value MUST follow the exemplar labels" },
            ));
        }
        let v0 = end + 1;
        let v1 = memchr::memchr(b' ', &b[v0..]).map_or(b.len(), |j| v0 + j);
        let value =
            om_number(&line[v0..v1]).map_err(|rule| err(line, n, v0, ErrorKind::InvalidValue { rule }))?;
        let mut timestamp = None;
        if v1 < b.len() {
            let t0 = v1 + 1;
            let ts = om_timestamp(&line[t0..])
                .map_err(|rule| err(line, n, t0, ErrorKind::InvalidTimestamp { rule }))?;
            timestamp = Some(ts);
        }
        Ok(Exemplar { labels: Labels::new(&line[open + 1..end - 1], Dialect::OpenMetrics), value, timestamp })
    }
}

fn suffix_rule(kind: MetricKind) -> &'static str {
    match kind {
        MetricKind::Counter => "counter samples are `_total` and `_created`",
        MetricKind::Histogram => "histogram samples are `_bucket`, `_count`, `_sum` and `_created`",
        MetricKind::GaugeHistogram => "gaugehistogram samples are `_bucket`, `_gcount` and `_gsum`",
        MetricKind::Info => "info samples are `_info`",
        _ => "this sample name belongs to no family of this type",
    }
}

/// Hashes a label set (without the type's own labels) in name order, so the written order of
/// the labels does not matter.
fn group_key(
    line: &str,
    pairs: &mut [(usize, usize, usize, usize)],
    sorted: bool,
    scratch: &mut String,
    hasher: &foldhash::quality::RandomState,
) -> u64 {
    if !sorted {
        pairs.sort_unstable_by(|a, b| line[a.0..a.1].cmp(&line[b.0..b.1]));
    }
    scratch.clear();
    for &(n0, n1, v0, v1) in pairs.iter() {
        scratch.push_str(&line[n0..n1]);
        scratch.push('\u{0}');
        scratch.push_str(&line[v0..v1]);
        scratch.push('\u{1}');
    }
    hasher.hash_one(scratch.as_bytes())
}

/// A hasher for keys that are hashes already.
#[derive(Debug, Default)]
struct Prehashed(u64);

impl Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

impl LineRules for OpenMetricsRules {
    fn line<'l>(&mut self, line: &'l str, number: u64) -> Result<Option<Record<'l>>, ParseError> {
        self.last_len = line.len();
        if self.eof {
            return Err(err(line, number, 0, ErrorKind::TextAfterEof));
        }
        match line.as_bytes().first() {
            None => Err(err(line, number, 0, ErrorKind::BlankLine)),
            Some(b'#') => self.metadata(line, number),
            Some(_) => self.sample(line, number).map(Some),
        }
    }

    fn end(&mut self, last: u64) -> Result<(), ParseError> {
        if !self.eof {
            let pos = self.last_len;
            self.finish_family("", last)?;
            return Err(ParseError::new(last.max(1), pos, "", ErrorKind::MissingEof));
        }
        Ok(())
    }

    fn is_silent(line: &str) -> bool {
        line == "# EOF"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str) -> Result<Vec<Record<'_>>, ParseError> {
        parse(input.as_bytes()).collect()
    }

    /// Inputs that must parse, one per rule they exercise at its edge.
    #[test]
    fn valid_expositions() {
        let ok = [
            "# EOF\n",
            "# EOF",
            "up 1\n# EOF\n",
            "# TYPE req counter\n# UNIT req_bytes bytes\n# EOF\n",
            "# TYPE req_bytes counter\n# UNIT req_bytes bytes\n# HELP req_bytes Bytes \"read\" \\\\ \\n.\nreq_bytes_total 5 # {trace=\"x\"} 1 17.5\nreq_bytes_created 1.7e9\n# EOF\n",
            "# HELP h \n# UNIT h \nh 0\n# EOF\n",
            "# TYPE lat histogram\nlat_bucket{le=\"0.25\"} 1\nlat_bucket{le=\"2.5e0\"} 1\nlat_bucket{le=\"+Inf\"} 1\n# EOF\n",
            "# TYPE lat histogram\nlat_bucket{path=\"/\",le=\"-2\"} 1\nlat_bucket{le=\"+Inf\",path=\"/\"} 4 # {} -3\nlat_created{path=\"/\"} 12\n# EOF\n",
            "# TYPE q summary\nq_sum{x=\"1\"} 3\nq_count{x=\"1\"} 2.0\nq{x=\"1\",quantile=\"0.0\"} 0\nq{quantile=\"1e0\",x=\"1\"} 7\n# EOF\n",
            "# TYPE g gaugehistogram\ng_bucket{le=\"-5\"} 0\ng_bucket{le=\"+Inf\"} 1\ng_gcount 1\ng_gsum -12\n# EOF\n",
            "# TYPE st stateset\nst{st=\"on\"} 1\nst{st=\"off\"} 0.0\n# EOF\n",
            "# TYPE build info\nbuild_info{v=\"1.2\"} 1\n# EOF\n",
            "m{a=\"1\"} 1 10\nm{a=\"1\"} 2 10\nm{a=\"1\"} 3 11.5\nm{a=\"2\"} 1 0\n# EOF\n",
            "m{b=\"2\",a=\"1\"} 1\nm{a=\"1\",b=\"2\"} 1\n# EOF\n",
            "n 00012 +1e3\nv -Inf\nw infinity\nx nan\n# EOF\n",
            "esc{v=\"\\q\\\\\\\"\\n\u{0}\"} 1\n# EOF\n",
            "# TYPE c counter\nc_total 18446744073709551616\n# EOF\n",
        ];
        let failed: Vec<String> =
            ok.iter().filter_map(|i| check(i).err().map(|e| format!("{i:?}: {e}"))).collect();
        assert!(failed.is_empty(), "{failed:#?}");
    }

    /// Each MUST, broken once: (input, line, column, a word of the message).
    #[test]
    fn every_rule_names_its_line_and_column() {
        let bad: &[(&str, u64, u64, &str)] = &[
            ("up 1\n", 1, 5, "missing `# EOF`"),
            ("# EOF\n# EOF\n", 2, 1, "after `# EOF`"),
            ("# EOF\n\n", 2, 1, "after `# EOF`"),
            ("up 1\n\n# EOF\n", 2, 1, "blank line"),
            ("up 1\r\n# EOF\n", 1, 4, "invalid value"),
            ("# comment\n# EOF\n", 1, 1, "unexpected comment"),
            ("#  TYPE a gauge\n# EOF\n", 1, 1, "unexpected comment"),
            ("# TYPE a  gauge\n# EOF\n", 1, 10, "unknown metric type"),
            ("# TYPE a Gauge\n# EOF\n", 1, 10, "unknown metric type"),
            ("# TYPE a gauge\n# TYPE a gauge\n# EOF\n", 2, 1, "second TYPE"),
            ("# HELP a x\n# HELP a y\n# EOF\n", 2, 1, "second HELP"),
            ("# UNIT a_s s\n# UNIT a_s s\n# EOF\n", 2, 1, "second UNIT"),
            ("a 1\n# HELP a x\n# EOF\n", 2, 1, "after its samples"),
            ("a 1\nb 1\na 2\n# EOF\n", 3, 1, "interleaved"),
            ("# TYPE a gauge\nb 1\n# HELP a x\n# EOF\n", 3, 8, "interleaved"),
            ("# TYPE x_total gauge\n# TYPE x counter\n# EOF\n", 2, 8, "clashes"),
            ("# TYPE x counter\nx_total 1\nx_created 1\n# TYPE x_created gauge\n# EOF\n", 4, 8, "clashes"),
            ("# UNIT a_seconds ms\n# EOF\n", 1, 18, "MUST end with `_` and the unit"),
            ("# UNIT aseconds seconds\n# EOF\n", 1, 17, "MUST end with `_` and the unit"),
            ("# TYPE a_u stateset\n# UNIT a_u u\n# EOF\n", 2, 12, "MUST NOT have a unit"),
            ("# UNIT a_u u\n# TYPE a_u info\n# EOF\n", 2, 12, "MUST NOT have a unit"),
            ("# TYPE c counter\nc 1\n# EOF\n", 2, 1, "counter samples are `_total`"),
            ("# TYPE c counter\nc_total -0.5\n# EOF\n", 2, 9, "MUST NOT be negative"),
            ("# TYPE c counter\nc_total NaN\n# EOF\n", 2, 9, "MUST NOT be NaN"),
            ("# TYPE c counter\nc_created 1 # {} 1\n# EOF\n", 2, 11, "MAY have exemplars"),
            ("g 1 # {} 1\n# EOF\n", 1, 3, "MAY have exemplars"),
            ("# TYPE c counter\nc_total 1 # {a=\"b\"}\n# EOF\n", 2, 20, "a space and a value"),
            ("# TYPE c counter\nc_total 1 #{} 1\n# EOF\n", 2, 11, "exemplar is written"),
            ("# TYPE c counter\nc_total 1 # {} 1 2 3\n# EOF\n", 2, 18, "invalid timestamp"),
            ("# TYPE h histogram\nh_bucket 1\n# EOF\n", 2, 9, "`le` label"),
            ("# TYPE h histogram\nh_bucket{le=\"inf\"} 1\n# EOF\n", 2, 10, "`+Inf`"),
            ("# TYPE h histogram\nh_bucket{le=\"NaN\"} 1\n# EOF\n", 2, 10, "`+Inf`"),
            (
                "# TYPE h histogram\nh_bucket{le=\"1\"} 1.5\nh_bucket{le=\"+Inf\"} 2\n# EOF\n",
                2,
                18,
                "whole numbers",
            ),
            (
                "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n# EOF\n",
                3,
                21,
                "cumulative",
            ),
            ("# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_bucket{le=\"1\"} 1\n# EOF\n", 3, 1, "sorted"),
            ("# TYPE h histogram\nh_bucket{le=\"1\"} 1\n# EOF\n", 2, 1, "le=\"+Inf\""),
            (
                "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 2\nh_sum 1\n# EOF\n",
                4,
                1,
                "MUST equal the `+Inf` bucket",
            ),
            (
                "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\n# EOF\n",
                3,
                1,
                "`_count` MUST be present",
            ),
            (
                "# TYPE h histogram\nh_bucket{le=\"-1\"} 0\nh_bucket{le=\"+Inf\"} 1\nh_count 1\nh_sum 1\n# EOF\n",
                5,
                1,
                "negative buckets",
            ),
            (
                "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_sum 1 # {} 1\n# EOF\n",
                3,
                7,
                "MAY have exemplars",
            ),
            (
                "# TYPE g gaugehistogram\ng_bucket{le=\"+Inf\"} 1\ng_gcount 1\ng_gsum -1\n# EOF\n",
                4,
                1,
                "`_gsum` MUST NOT be negative",
            ),
            ("# TYPE s summary\ns{quantile=\"1.5\"} 1\n# EOF\n", 2, 3, "[0, 1]"),
            ("# TYPE s summary\ns{quantile=\"0.5\"} -1\n# EOF\n", 2, 19, "MUST NOT be negative"),
            ("# TYPE s summary\ns_count 1.5\n# EOF\n", 2, 9, "whole numbers"),
            ("# TYPE st stateset\nst{x=\"a\"} 1\n# EOF\n", 2, 1, "named after its family"),
            ("# TYPE st stateset\nst{st=\"a\"} 0.5\n# EOF\n", 2, 12, "0 or 1"),
            ("# TYPE i info\ni_info 0\n# EOF\n", 2, 8, "MUST be 1"),
            ("m 1 2\nm 1 1\n# EOF\n", 2, 3, "backwards"),
            ("m 1\nm 1 1\n# EOF\n", 2, 3, "a timestamp, or none"),
            ("m{a=\"1\"} 1\nm{a=\"2\"} 1\nm{a=\"1\"} 1\n# EOF\n", 3, 2, "MUST NOT be interleaved"),
            ("m{a=\"1\",a=\"2\"} 1\n# EOF\n", 1, 9, "duplicate label"),
            ("m{a=\"1\",} 1\n# EOF\n", 1, 9, "label name"),
            ("m{a=\"1\" } 1\n# EOF\n", 1, 8, "`,` or `}`"),
            ("m {a=\"1\"} 1\n# EOF\n", 1, 3, "invalid value"),
            ("m  1\n# EOF\n", 1, 3, "invalid value"),
            ("m 1 \n# EOF\n", 1, 5, "invalid timestamp"),
            ("m 1 1e\n# EOF\n", 1, 5, "invalid timestamp"),
            ("m 0x10\n# EOF\n", 1, 3, "invalid value"),
            ("m 1_000\n# EOF\n", 1, 3, "invalid value"),
            ("m{a=\"\\\"} 1\n# EOF\n", 1, 5, "unterminated"),
            ("m.x 1\n# EOF\n", 1, 2, "single space"),
            ("\u{feff}m 1\n# EOF\n", 1, 1, "invalid metric name"),
        ];
        let mut failed = Vec::new();
        for &(input, line, column, words) in bad {
            match check(input) {
                Ok(_) => failed.push(format!("{input:?}: accepted")),
                Err(e) if !e.to_string().contains(words) || (e.line(), e.column()) != (line, column) => {
                    failed.push(format!("{input:?}: {e}"));
                }
                Err(_) => {}
            }
        }
        assert!(failed.is_empty(), "{failed:#?}");
    }

    #[test]
    fn exemplar_limit_counts_code_points_of_unescaped_names_and_values() {
        let fits = format!("# TYPE c counter\nc_total 1 # {{id=\"{}\"}} 1\n# EOF\n", "é".repeat(126));
        assert!(check(&fits).is_ok());
        let over = format!("# TYPE c counter\nc_total 1 # {{id=\"{}\"}} 1\n# EOF\n", "é".repeat(127));
        assert!(check(&over).unwrap_err().to_string().contains("128 code points"));
        // `\n` is one code point once unescaped.
        let escaped = format!("# TYPE c counter\nc_total 1 # {{id=\"{}\\n\"}} 1\n# EOF\n", "x".repeat(125));
        assert!(check(&escaped).is_ok());
    }

    #[test]
    fn records_carry_families_suffixes_bounds_and_seconds() {
        let input = "# TYPE h histogram\n# HELP h Lat\\\"ency.\nh_bucket{le=\"0.5\"} 1 1.25 # {t=\"a\"} 0.3 1.5\nh_bucket{le=\"+Inf\"} 1 1.25\nh_sum 0.3 1.25\nh_count 1 1.25\n# EOF\n";
        let r = check(input).unwrap();
        let Record::Help { help, .. } = r[1] else { panic!() };
        assert_eq!(help.text(), "Lat\"ency.");
        let Record::Sample(s) = r[2] else { panic!() };
        assert_eq!(
            (s.family(), s.suffix, s.kind, s.bound),
            ("h", Suffix::Bucket, MetricKind::Histogram, Some(0.5))
        );
        assert_eq!(s.timestamp, Some(Timestamp::Seconds(1.25)));
        let e = s.exemplar.unwrap();
        assert_eq!((e.value, e.timestamp), (0.3, Some(1.5)));
        assert_eq!(s.labels.raw(), "le=\"0.5\"");
    }

    #[test]
    fn the_reader_applies_the_same_rules() {
        let input = "# TYPE a gauge\na 1\n# EOF\n";
        let mut r = reader(std::io::BufReader::with_capacity(4, input.as_bytes()));
        let mut n = 0;
        while let Some(rec) = r.next_record() {
            rec.unwrap();
            n += 1;
        }
        assert_eq!(n, 2);
        let mut r = reader(&b"a 1\n"[..]);
        assert!(r.next_record().unwrap().is_ok());
        assert!(matches!(r.next_record(), Some(Err(ParseError { kind: ErrorKind::MissingEof, .. }))));
        assert!(r.next_record().is_none());
    }
}
