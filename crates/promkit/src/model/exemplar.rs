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
        let mut pairs = Vec::new();
        let mut runes = 0;
        for (name, v) in labels {
            if !is_valid_label_name(name) {
                return Err(ExemplarError::InvalidLabelName { name: name.to_owned() });
            }
            runes += name.chars().count() + v.chars().count();
            pairs.push((name.to_owned(), v.to_owned()));
        }
        if runes > EXEMPLAR_MAX_RUNES {
            return Err(ExemplarError::TooLong { runes });
        }
        pairs.sort();
        if let Some(w) = pairs.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(ExemplarError::DuplicateLabel { name: w[0].0.clone() });
        }
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).ok();
        let timestamp_nanos = now.and_then(|d| i64::try_from(d.as_nanos()).ok());
        Ok(Self { labels: pairs, value, timestamp_nanos })
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
