//! Checks that an encoded exposition holds the fixture data: its sample count and value sum.
//!
//! Text and OpenMetrics are read line by line; the delimited protobuf exposition is decoded
//! with prost into prometheus-client's generated `io.prometheus.client` messages (a decoder
//! none of the encoders under test shares with promkit or prometheus).

use crate::{GO_BUCKETS, OBSERVATIONS_PER_SERIES, series_observation, series_value};

/// What an exposition contains, reduced to two numbers that any correct encoding of the same
/// data shares whatever its format, ordering or float spelling.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    /// Sample lines (neither comments nor blank).
    pub samples: usize,
    /// The sum of every sample's value.
    pub sum: f64,
}

impl Summary {
    /// True when both have the same sample count and sums equal within a relative 1e-9.
    pub fn matches(&self, other: &Summary) -> bool {
        self.samples == other.samples
            && (self.sum - other.sum).abs() <= 1e-9 * self.sum.abs().max(other.sum.abs()).max(1.0)
    }
}

/// Counts the sample lines of a text or OpenMetrics exposition and adds up their values.
///
/// # Panics
/// On a sample line whose value does not parse as a float: the encoding is broken.
pub fn summarize(exposition: &[u8]) -> Summary {
    let text = std::str::from_utf8(exposition).expect("expositions are UTF-8");
    let mut summary = Summary { samples: 0, sum: 0.0 };
    for line in text.lines() {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        // No fixture sets timestamps or exemplars, so the value is the last field.
        let value = line.rsplit(' ').next().unwrap_or_default();
        let value: f64 = value.parse().unwrap_or_else(|_| panic!("unparsable sample value in line {line:?}"));
        summary.samples += 1;
        summary.sum += value;
    }
    summary
}

/// The summary of `families` counter families of `per_family` series each.
pub fn expected_counters(families: usize, per_family: usize) -> Summary {
    let mut sum = 0.0;
    for f in 0..families {
        for j in 0..per_family {
            sum += series_value(f, j) as f64;
        }
    }
    Summary { samples: families * per_family, sum }
}

/// The summary of one histogram family of `series` series with default buckets:
/// per series 11 buckets, `+Inf`, `_sum` and `_count`.
pub fn expected_histograms(series: usize) -> Summary {
    let mut sum = 0.0;
    for j in 0..series {
        let obs: Vec<f64> = (0..OBSERVATIONS_PER_SERIES).map(|i| series_observation(j, i)).collect();
        for le in GO_BUCKETS {
            sum += obs.iter().filter(|&&o| o <= le).count() as f64;
        }
        let n = OBSERVATIONS_PER_SERIES as f64;
        sum += n + obs.iter().sum::<f64>() + n;
    }
    Summary { samples: series * (GO_BUCKETS.len() + 3), sum }
}

/// Panics unless `exposition` summarizes to `expected`, naming the crate and fixture.
///
/// # Panics
/// When the exposition does not hold the expected data.
pub fn assert_holds(what: &str, exposition: &[u8], expected: &Summary) {
    let got = summarize(exposition);
    assert!(got.matches(expected), "{what}: exposition holds {got:?}, expected {expected:?}");
}

/// Decodes a delimited `io.prometheus.client.MetricFamily` stream and reduces it like
/// [`summarize`] reduces the text form: a counter is one sample; a classic histogram is one
/// sample per finite bucket (its cumulative count), `+Inf` (the sample count), `_sum` and
/// `_count`, whether or not the encoder writes the `+Inf` bucket explicitly.
///
/// # Panics
/// When the bytes are not a delimited stream of `MetricFamily` messages.
pub fn summarize_protobuf(mut exposition: &[u8]) -> Summary {
    use prometheus_client::encoding::prometheus_protobuf::prometheus_data_model::MetricFamily;
    use prost::Message as _;

    let mut summary = Summary { samples: 0, sum: 0.0 };
    while !exposition.is_empty() {
        let family = MetricFamily::decode_length_delimited(&mut exposition)
            .unwrap_or_else(|e| panic!("undecodable MetricFamily: {e}"));
        for metric in &family.metric {
            if let Some(counter) = &metric.counter {
                summary.samples += 1;
                summary.sum += counter.value;
            }
            if let Some(h) = &metric.histogram {
                for bucket in h.bucket.iter().filter(|b| b.upper_bound.is_finite()) {
                    summary.samples += 1;
                    summary.sum += bucket.cumulative_count as f64;
                }
                let count = h.sample_count as f64;
                summary.samples += 3;
                summary.sum += count + h.sample_sum + count;
            }
        }
    }
    summary
}

/// Panics unless the delimited protobuf `exposition` summarizes to `expected`.
///
/// # Panics
/// When the exposition does not hold the expected data.
pub fn assert_holds_protobuf(what: &str, exposition: &[u8], expected: &Summary) {
    let got = summarize_protobuf(exposition);
    assert!(got.matches(expected), "{what}: protobuf exposition holds {got:?}, expected {expected:?}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn summarize_skips_comments_and_reads_last_field() {
        let text = b"# HELP a_total x\n# TYPE a_total counter\na_total{x=\"1 2\"} 3\nb 1.5e+00\n# EOF\n";
        assert_eq!(summarize(text), Summary { samples: 2, sum: 4.5 });
    }
}
