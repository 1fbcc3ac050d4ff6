//! When a scheduled flow runs: its first job a deterministic, per-flow fraction of its
//! interval after it is planned, then every interval after that.
//!
//! Without jitter, fifty flows imported together with one interval would start in the same
//! second, every interval, against the same sites. Each flow's offset is hashed from its id
//! (so it is the same on every instance and after every restart) and stays below
//! [`JITTER_FRACTION`] of the interval; the runs that follow keep the phase the first one
//! set, since each next run is computed from the slot that came due, not from the time the
//! scheduler noticed it.

/// The largest offset, as a fraction of the interval: a flow's first scheduled job comes at
/// most half an interval after it was planned.
pub const JITTER_FRACTION: f64 = 0.5;

/// SplitMix64's finaliser: consecutive ids (as flows get) land far apart.
fn mix(id: i64) -> u64 {
    // Reinterpreting the bits: ids are positive, and any bit pattern hashes the same way.
    let mut z = (id as u64).wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The flow's offset in milliseconds: in `0..interval_ms * JITTER_FRACTION`, the same for
/// the same flow id and interval.
pub fn jitter_ms(flow_id: i64, interval_ms: i64) -> i64 {
    #[allow(clippy::cast_possible_truncation, clippy::cast_precision_loss)]
    let span = (interval_ms.max(0) as f64 * JITTER_FRACTION) as u64;
    if span == 0 {
        return 0;
    }
    // The remainder is below `span`, which came from an i64.
    i64::try_from(mix(flow_id) % span).unwrap_or(0)
}

fn interval_ms(interval_secs: u64) -> i64 {
    i64::try_from(interval_secs).unwrap_or(i64::MAX / 1000).saturating_mul(1000).max(1)
}

/// When a flow planned at `now` first runs: `now` plus its offset.
pub fn first_run_at(flow_id: i64, interval_secs: u64, now: i64) -> i64 {
    now.saturating_add(jitter_ms(flow_id, interval_ms(interval_secs)))
}

/// The run after the one due at `due`: one interval later, or, when the scheduler fell
/// behind by more than an interval (a store outage, a stopped runner), the first slot of
/// the same phase after `now`, so that missed runs are skipped rather than run in a burst.
pub fn next_run_after(due: i64, interval_secs: u64, now: i64) -> i64 {
    let every = interval_ms(interval_secs);
    let next = due.saturating_add(every);
    if next > now {
        return next;
    }
    let behind = now - next;
    next.saturating_add((behind / every + 1).saturating_mul(every))
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    #[test]
    fn the_offset_is_deterministic_and_bounded() {
        for id in 1..2000 {
            for secs in [5_u64, 20, 60, 3600] {
                let ms = interval_ms(secs);
                let j = jitter_ms(id, ms);
                assert_eq!(j, jitter_ms(id, ms), "flow {id}");
                assert!((0..ms / 2).contains(&j), "flow {id}, {secs} s: offset {j} ms");
            }
        }
        assert_eq!(jitter_ms(7, 0), 0);
        assert_eq!(jitter_ms(7, 1), 0);
    }

    #[test]
    fn a_hundred_flows_with_one_interval_spread_over_the_window() {
        // 100 flows created together with a 60 s interval: their first jobs fall in a 30 s
        // window, so about 3.3 per second; no second may hold more than 10 of them.
        let mut per_second: HashMap<i64, u32> = HashMap::new();
        for id in 1..=100 {
            *per_second.entry(first_run_at(id, 60, 0) / 1000).or_default() += 1;
        }
        let busiest = per_second.values().max().copied().unwrap_or(0);
        assert!(busiest <= 10, "{busiest} flows start in one second: {per_second:?}");
        assert!(per_second.len() >= 20, "only {} distinct seconds used", per_second.len());
        assert!(per_second.keys().all(|s| (0..30).contains(s)), "{per_second:?}");
    }

    #[test]
    fn later_runs_keep_the_phase() {
        let first = first_run_at(42, 20, 1_000_000);
        assert_eq!(next_run_after(first, 20, first + 5), first + 20_000);
        // Noticed late, but within the interval: still one interval after the slot.
        assert_eq!(next_run_after(first, 20, first + 19_999), first + 20_000);
        // More than an interval behind: the missed slots are skipped, the phase kept.
        assert_eq!(next_run_after(first, 20, first + 65_000), first + 80_000);
        assert_eq!(next_run_after(first, 20, first + 60_000), first + 80_000);
    }
}
