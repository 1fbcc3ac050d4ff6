//! How the pages write times, durations, rates and statuses.

/// Unix ms as `2026-05-03 14:07:09` (UTC).
pub(crate) fn datetime(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Unix ms as `14:07:09` (UTC), for chart axes.
pub(crate) fn clock(ms: i64) -> String {
    let rem = ms.div_euclid(1000).rem_euclid(86_400);
    format!("{:02}:{:02}:{:02}", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// The calendar date of a day count since 1970-01-01 (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // 1..=31 and 1..=12
    (y, m as u32, d as u32)
}

/// How long ago `ms` was, from `now`: `12 s ago`, `5 min ago`, `3 h ago`, `2 d ago`.
pub(crate) fn ago(now: i64, ms: i64) -> String {
    let secs = (now - ms).max(0) / 1000;
    match secs {
        0..60 => format!("{secs} s ago"),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86_400 => format!("{} h ago", secs / 3600),
        _ => format!("{} d ago", secs / 86_400),
    }
}

/// A duration in ms: `850 ms`, `1.25 s`, `2 min 5 s`.
pub(crate) fn duration(ms: i64) -> String {
    match ms {
        ..1000 => format!("{ms} ms"),
        1000..60_000 => {
            // Exact as f64: below 60 000.
            let s = ms as f64 / 1000.0;
            format!("{s:.2} s")
        }
        _ => format!("{} min {} s", ms / 60_000, ms % 60_000 / 1000),
    }
}

/// A rate in 0..=1 as a percentage: `97.5 %`.
pub(crate) fn percent(rate: f64) -> String {
    format!("{:.1} %", rate * 100.0)
}

/// The CSS class of a job or run status: `ok`, `bad`, `busy` or `off`.
pub(crate) fn status_class(status: &str) -> &'static str {
    match status {
        "passed" => "ok",
        "failed" | "timed_out" | "error" => "bad",
        "queued" | "running" => "busy",
        _ => "off",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_utc_calendar_dates() {
        assert_eq!(datetime(0), "1970-01-01 00:00:00");
        assert_eq!(datetime(951_782_400_000), "2000-02-29 00:00:00");
        assert_eq!(datetime(1_777_817_229_999), "2026-05-03 14:07:09");
        assert_eq!(clock(1_777_817_229_999), "14:07:09");
    }

    #[test]
    fn durations_and_ages_read_naturally() {
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(1250), "1.25 s");
        assert_eq!(duration(125_000), "2 min 5 s");
        assert_eq!(ago(100_000, 88_000), "12 s ago");
        assert_eq!(ago(10_000_000, 0), "2 h ago");
        assert_eq!(percent(0.975), "97.5 %");
        assert_eq!(status_class("timed_out"), "bad");
    }
}
