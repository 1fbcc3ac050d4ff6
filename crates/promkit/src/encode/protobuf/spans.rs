//! Go's span/delta layout of native histogram buckets, as the protobuf messages carry them.

/// Go's span/delta encoding of sorted `(key, count)` buckets: gaps of up to two buckets are
/// filled with empty buckets instead of starting a new span.
pub(crate) fn spans_and_deltas(buckets: &[(i32, u64)]) -> (Vec<(i32, u32)>, Vec<i64>) {
    let mut spans: Vec<(i32, u32)> = Vec::new();
    let mut deltas = Vec::with_capacity(buckets.len());
    let mut prev: i64 = 0;
    let mut next_key = 0i32;
    for (n, &(k, count)) in buckets.iter().enumerate() {
        let gap = k - next_key;
        if n == 0 || gap > 2 {
            spans.push((gap, 0));
        } else {
            for _ in 0..gap {
                if let Some(s) = spans.last_mut() {
                    s.1 += 1;
                }
                deltas.push(-prev);
                prev = 0;
            }
        }
        if let Some(s) = spans.last_mut() {
            s.1 += 1;
        }
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        deltas.push(count - prev);
        prev = count;
        next_key = k + 1;
    }
    (spans, deltas)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans_fill_small_gaps_like_go() {
        assert_eq!(spans_and_deltas(&[]), (vec![], vec![]));
        assert_eq!(spans_and_deltas(&[(0, 2)]), (vec![(0, 1)], vec![2]));
        // Gap of two: one span with two empty buckets; gap of three: a new span.
        assert_eq!(spans_and_deltas(&[(1, 1), (4, 3)]), (vec![(1, 4)], vec![1, -1, 0, 3]));
        assert_eq!(spans_and_deltas(&[(-2, 1), (2, 5)]), (vec![(-2, 1), (3, 1)], vec![1, 4]));
    }
}
