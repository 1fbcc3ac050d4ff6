//! Exemplars: one traced example (a trace id, say) attached to a counter or a histogram bucket.

use super::error::ExemplarError;
use crate::syntax::name::is_valid_label_name;

/// The most label text an exemplar may carry: 128 code points across names and values
/// (OpenMetrics' limit, which Go enforces too).
pub const EXEMPLAR_MAX_RUNES: usize = 128;

/// A validated exemplar: labels (a trace id, usually), the value it was recorded with, and when.
///
/// Exemplars are written in OpenMetrics (`# {trace_id="abc"} 0.5 1.7e+09`) and protobuf, never
/// in text 0.0.4, which has no syntax for them.
#[derive(Debug, PartialEq)]
pub struct Exemplar {
    labels: Vec<(String, String)>,
    value: f64,
    /// Nanoseconds since the Unix epoch; Go writes `float64(nanos) / 1e9`.
    timestamp_nanos: Option<i64>,
}

impl Clone for Exemplar {
    fn clone(&self) -> Self {
        Self { labels: self.labels.clone(), value: self.value, timestamp_nanos: self.timestamp_nanos }
    }

    /// Copies `source` into the label strings this exemplar already owns, so a scrape that
    /// refreshes a kept copy (a native histogram's snapshot) allocates only when a label grows
    /// past what it held before. (`Vec<(String, String)>::clone_from` would reuse the vector
    /// but replace every pair: a tuple's `clone_from` is a fresh clone.)
    fn clone_from(&mut self, source: &Self) {
        self.labels.truncate(source.labels.len());
        let kept = self.labels.len();
        for ((name, value), (src_name, src_value)) in self.labels.iter_mut().zip(&source.labels) {
            name.clone_from(src_name);
            value.clone_from(src_value);
        }
        self.labels.extend_from_slice(&source.labels[kept..]);
        self.value = source.value;
        self.timestamp_nanos = source.timestamp_nanos;
    }
}

impl Exemplar {
    /// An exemplar with these labels and value, stamped with the current time (as Go does).
    ///
    /// # Errors
    /// [`ExemplarError`] for an invalid label name or more than [`EXEMPLAR_MAX_RUNES`] code
    /// points of label text.
    pub fn new<'a>(
        labels: impl IntoIterator<Item = (&'a str, &'a str)>,
        value: f64,
    ) -> Result<Self, ExemplarError> {
        let labels: Vec<(&str, &str)> = labels.into_iter().collect();
        let timestamp_nanos = Self::stamp(&labels)?;
        Ok(Self::checked(&labels, value, timestamp_nanos))
    }

    /// An exemplar from labels checked by [`stamp`](Self::stamp), which gave `timestamp_nanos`.
    pub(crate) fn checked(labels: &[(&str, &str)], value: f64, timestamp_nanos: Option<i64>) -> Self {
        let mut e = Self { labels: Vec::with_capacity(labels.len()), value, timestamp_nanos };
        e.write(labels, value, timestamp_nanos);
        e
    }

    /// Checks exemplar labels and reads the clock: the first half of an exemplar update,
    /// [`overwrite`](Self::overwrite) the second.
    ///
    /// # Errors
    /// As [`new`](Self::new).
    pub(crate) fn stamp(labels: &[(&str, &str)]) -> Result<Option<i64>, ExemplarError> {
        check(labels)?;
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok();
        // Seconds times 1e9 in i64 rather than `as_nanos`' u128: good until the year 2262.
        Ok(now.and_then(|d| {
            i64::try_from(d.as_secs())
                .ok()?
                .checked_mul(1_000_000_000)?
                .checked_add(i64::from(d.subsec_nanos()))
        }))
    }

    /// Records an exemplar with these labels (checked by [`stamp`](Self::stamp), which gave
    /// `timestamp_nanos`) and value into `slot`: the form metrics use on every exemplar
    /// update. The exemplar already in the slot is overwritten in place, its label strings
    /// reused, so a steady stream of exemplars (a trace id per request) allocates nothing
    /// once the strings are long enough.
    pub(crate) fn overwrite(
        slot: &mut Option<Self>,
        labels: &[(&str, &str)],
        value: f64,
        timestamp_nanos: Option<i64>,
    ) {
        match slot {
            Some(e) => e.write(labels, value, timestamp_nanos),
            None => *slot = Some(Self::checked(labels, value, timestamp_nanos)),
        }
    }

    /// Overwrites this exemplar in place with checked labels.
    fn write(&mut self, labels: &[(&str, &str)], value: f64, timestamp_nanos: Option<i64>) {
        self.labels.truncate(labels.len());
        // Written in name order, so a label set used again lands in the strings that held the
        // same names. At most 128 labels pass `check` (a name is at least one code point).
        let mut order = [0u8; EXEMPLAR_MAX_RUNES];
        let order = &mut order[..labels.len()];
        for (i, o) in order.iter_mut().enumerate() {
            *o = u8::try_from(i).unwrap_or(u8::MAX);
        }
        order.sort_unstable_by(|&a, &b| labels[usize::from(a)].0.cmp(labels[usize::from(b)].0));
        for (i, &(name, v)) in order.iter().map(|&o| &labels[usize::from(o)]).enumerate() {
            match self.labels.get_mut(i) {
                Some((n, old)) => {
                    n.clear();
                    n.push_str(name);
                    old.clear();
                    old.push_str(v);
                }
                None => self.labels.push((name.to_owned(), v.to_owned())),
            }
        }
        self.value = value;
        self.timestamp_nanos = timestamp_nanos;
    }

    /// Replaces the timestamp (nanoseconds since the Unix epoch), or removes it with `None`.
    #[must_use]
    pub fn with_timestamp_nanos(mut self, nanos: Option<i64>) -> Self {
        self.timestamp_nanos = nanos;
        self
    }

    /// The labels, sorted by name.
    pub fn labels(&self) -> &[(String, String)] {
        &self.labels
    }

    /// The recorded value.
    pub fn value(&self) -> f64 {
        self.value
    }

    /// Nanoseconds since the Unix epoch, if stamped.
    pub fn timestamp_nanos(&self) -> Option<i64> {
        self.timestamp_nanos
    }
}

/// Checks exemplar labels without copying them: valid names, at most [`EXEMPLAR_MAX_RUNES`]
/// code points, no name twice (reported as the first such name in sorted order).
fn check(labels: &[(&str, &str)]) -> Result<(), ExemplarError> {
    let mut runes = 0;
    for &(name, value) in labels {
        if !is_valid_label_name(name) {
            return Err(ExemplarError::InvalidLabelName { name: name.to_owned() });
        }
        runes += code_points(name) + code_points(value);
    }
    if runes > EXEMPLAR_MAX_RUNES {
        return Err(ExemplarError::TooLong { runes });
    }
    let duplicate = labels
        .iter()
        .enumerate()
        .filter(|&(i, &(name, _))| labels[..i].iter().any(|&(n, _)| n == name))
        .map(|(_, &(name, _))| name)
        .min();
    match duplicate {
        Some(name) => Err(ExemplarError::DuplicateLabel { name: name.to_owned() }),
        None => Ok(()),
    }
}

/// The code points in `s`: its length when it is ASCII, as trace ids are.
#[inline]
fn code_points(s: &str) -> usize {
    if s.is_ascii() { s.len() } else { s.chars().count() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_128_rune_limit_counts_code_points_of_names_and_values() {
        let ok = "x".repeat(120);
        assert!(Exemplar::new([("trace_id", ok.as_str())], 1.0).is_ok()); // 8 + 120 = 128
        let long = "x".repeat(121);
        assert_eq!(
            Exemplar::new([("trace_id", long.as_str())], 1.0),
            Err(ExemplarError::TooLong { runes: 129 })
        );
        // Code points, not bytes: 120 three-byte characters are 120 runes.
        let wide = "日".repeat(120);
        assert!(Exemplar::new([("trace_id", wide.as_str())], 1.0).is_ok());
        assert!(matches!(
            Exemplar::new([("trace-id", "x")], 1.0),
            Err(ExemplarError::InvalidLabelName { .. })
        ));
        assert!(matches!(
            Exemplar::new([("a", "x"), ("a", "y")], 1.0),
            Err(ExemplarError::DuplicateLabel { .. })
        ));
        let e = Exemplar::new([("b", "2"), ("a", "1")], 0.5).unwrap();
        assert_eq!(e.labels()[0].0, "a");
        assert!(e.timestamp_nanos().unwrap() > 1_600_000_000_000_000_000);
    }

    #[test]
    fn record_overwrites_in_place_and_leaves_the_slot_alone_on_error() {
        fn record(slot: &mut Option<Exemplar>, labels: &[(&str, &str)], v: f64) -> Result<(), ExemplarError> {
            let ts = Exemplar::stamp(labels)?;
            Exemplar::overwrite(slot, labels, v, ts);
            Ok(())
        }
        let mut slot = None;
        record(&mut slot, &[("trace_id", "abcdef"), ("span", "01")], 1.5).unwrap();
        let e = slot.as_ref().unwrap();
        assert_eq!(e.labels(), [("span".into(), "01".into()), ("trace_id".into(), "abcdef".into())]);
        let held = e.labels()[1].1.as_ptr();
        record(&mut slot, &[("trace_id", "ghijkl"), ("span", "02")], 2.5).unwrap();
        let e = slot.as_ref().unwrap();
        assert_eq!(e.labels(), [("span".into(), "02".into()), ("trace_id".into(), "ghijkl".into())]);
        assert_eq!(e.value(), 2.5);
        assert_eq!(e.labels()[1].1.as_ptr(), held, "the value's string was reallocated");
        let before = slot.clone();
        assert_eq!(
            record(&mut slot, &[("b", "x"), ("a", "y"), ("b", "z"), ("a", "w")], 3.0),
            Err(ExemplarError::DuplicateLabel { name: "a".into() })
        );
        assert_eq!(slot, before, "a refused exemplar changed the slot");
        record(&mut slot, &[("trace_id", "x")], 4.0).unwrap();
        assert_eq!(slot.as_ref().unwrap().labels(), [("trace_id".into(), "x".into())]);
        assert_eq!(
            slot,
            Some(
                Exemplar::new([("trace_id", "x")], 4.0)
                    .unwrap()
                    .with_timestamp_nanos(slot.as_ref().unwrap().timestamp_nanos())
            )
        );
    }

    #[test]
    fn clone_from_copies_every_field_into_the_strings_already_held() {
        let long =
            Exemplar::new([("parent_span_id", "0123456789"), ("trace_id", "abcdefghij")], 2.5).unwrap();
        let short = Exemplar::new([("trace_id", "x")], 0.5).unwrap().with_timestamp_nanos(None);
        let mut kept = long.clone();
        let held = kept.labels()[0].0.as_ptr();
        kept.clone_from(&short);
        assert_eq!(kept, short);
        assert_eq!(kept.labels()[0].0.as_ptr(), held, "the first name reuses its buffer");
        kept.clone_from(&long);
        assert_eq!(kept, long);
    }
}
