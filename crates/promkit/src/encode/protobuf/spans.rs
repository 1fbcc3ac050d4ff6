//! Go's span/delta layout of native histogram buckets, as the protobuf messages carry them.

/// Walks Go's span/delta encoding of sorted `(key, count)` buckets, calling `span(offset,
/// length)` for each span once it is complete and `delta(d)` for each bucket (empty filler
/// buckets included): gaps of up to two buckets are filled with empty buckets instead of
/// starting a new span. Nothing is collected, so the encoder can call it twice (spans, then
/// deltas, in field order) without allocating.
pub(crate) fn walk(buckets: &[(i32, u64)], mut span: impl FnMut(i32, u32), mut delta: impl FnMut(i64)) {
    let mut current: Option<(i32, u32)> = None;
    let mut prev: i64 = 0;
    let mut next_key = 0i32;
    for (n, &(k, count)) in buckets.iter().enumerate() {
        let gap = k - next_key;
        if n == 0 || gap > 2 {
            if let Some((o, l)) = current {
                span(o, l);
            }
            current = Some((gap, 0));
        } else {
            for _ in 0..gap {
                if let Some(s) = &mut current {
                    s.1 += 1;
                }
                delta(-prev);
                prev = 0;
            }
        }
        if let Some(s) = &mut current {
            s.1 += 1;
        }
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        delta(count - prev);
        prev = count;
        next_key = k + 1;
    }
    if let Some((o, l)) = current {
        span(o, l);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spans_and_deltas(buckets: &[(i32, u64)]) -> (Vec<(i32, u32)>, Vec<i64>) {
        let (mut spans, mut deltas) = (Vec::new(), Vec::new());
        walk(buckets, |o, l| spans.push((o, l)), |d| deltas.push(d));
        (spans, deltas)
    }

    #[test]
    fn spans_fill_small_gaps_like_go() {
        assert_eq!(spans_and_deltas(&[]), (vec![], vec![]));
        assert_eq!(spans_and_deltas(&[(0, 2)]), (vec![(0, 1)], vec![2]));
        // Gap of two: one span with two empty buckets; gap of three: a new span.
        assert_eq!(spans_and_deltas(&[(1, 1), (4, 3)]), (vec![(1, 4)], vec![1, -1, 0, 3]));
        assert_eq!(spans_and_deltas(&[(-2, 1), (2, 5)]), (vec![(-2, 1), (3, 1)], vec![1, 4]));
    }
}
