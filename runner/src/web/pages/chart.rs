//! Server-side charts: the geometry of small SVG charts, computed here and drawn by the
//! `chart.html` macros, so that every label goes through the template's escaping and the
//! pages need no script.

use super::format;
use crate::domain::Run;
use crate::store::DurationPoint;

/// Plot area of every chart, in SVG user units.
const WIDTH: f64 = 1000.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 28.0;

/// A chart ready to draw.
#[derive(Debug, Clone, Default)]
pub(crate) struct Chart {
    /// The view box width.
    pub(crate) width: f64,
    /// The view box height.
    pub(crate) height: f64,
    /// Left edge of the plot.
    pub(crate) x0: f64,
    /// Right edge of the plot.
    pub(crate) x1: f64,
    /// Top edge of the plot.
    pub(crate) y0: f64,
    /// Bottom edge of the plot (the x axis).
    pub(crate) y1: f64,
    /// Horizontal grid lines with their labels.
    pub(crate) yticks: Vec<Tick>,
    /// Labels under the x axis.
    pub(crate) xticks: Vec<Tick>,
    /// Scatter points.
    pub(crate) dots: Vec<Dot>,
    /// Bar segments.
    pub(crate) bars: Vec<Bar>,
    /// A labelled horizontal line (a percentile).
    pub(crate) guide: Option<Tick>,
    /// What to say when there is nothing to draw.
    pub(crate) empty: Option<&'static str>,
    /// A one-sentence description for screen readers.
    pub(crate) label: String,
}

/// A tick: its position on its axis and its label.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Tick {
    /// Position (y for horizontal lines, x for axis labels).
    pub(crate) at: f64,
    /// The label.
    pub(crate) label: String,
    /// How the label sits on its position: `start`, `middle` or `end` (x axis labels).
    pub(crate) anchor: &'static str,
}

/// A point of a scatter chart.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Dot {
    pub(crate) x: f64,
    pub(crate) y: f64,
    /// `ok`, `bad`, `busy` or `off`.
    pub(crate) class: &'static str,
    /// The tooltip.
    pub(crate) title: String,
}

/// A rectangle of a bar chart, optionally a link.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bar {
    pub(crate) x: f64,
    pub(crate) y: f64,
    pub(crate) w: f64,
    pub(crate) h: f64,
    /// `ok`, `bad`, `busy` or `off`.
    pub(crate) class: &'static str,
    /// The tooltip.
    pub(crate) title: String,
    /// Where clicking it goes.
    pub(crate) href: String,
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// The smallest "nice" number (1, 2 or 5 times a power of ten) at least `v`.
fn nice_ceiling(v: f64) -> f64 {
    if v <= 0.0 {
        return 1.0;
    }
    let magnitude = 10f64.powf(v.log10().floor());
    [1.0, 2.0, 5.0, 10.0].into_iter().map(|m| m * magnitude).find(|c| *c >= v).unwrap_or(10.0 * magnitude)
}

fn frame(label: String) -> Chart {
    Chart {
        width: WIDTH,
        height: HEIGHT,
        x0: LEFT,
        x1: WIDTH - RIGHT,
        y0: TOP,
        y1: HEIGHT - BOTTOM,
        label,
        ..Chart::default()
    }
}

/// Horizontal grid lines at `n`ths of `max`, labelled by `fmt`.
fn yticks(chart: &Chart, max: f64, n: u32, fmt: impl Fn(f64) -> String) -> Vec<Tick> {
    let n = n.max(1);
    (0..=n)
        .map(|i| {
            let share = f64::from(i) / f64::from(n);
            Tick {
                at: round1(chart.y1 - (chart.y1 - chart.y0) * share),
                label: fmt(max * share),
                anchor: "end",
            }
        })
        .collect()
}

/// Time labels along the x axis: `n + 1` evenly spaced, or one when all is at one moment.
#[allow(clippy::cast_possible_truncation)] // unix ms
fn xticks(chart: &Chart, t0: i64, t1: i64, n: u32) -> Vec<Tick> {
    if t1 <= t0 {
        return vec![Tick {
            at: round1((chart.x0 + chart.x1) / 2.0),
            label: format!("{} UTC", format::clock(t0)),
            anchor: "middle",
        }];
    }
    (0..=n)
        .map(|i| {
            let share = f64::from(i) / f64::from(n);
            let t = t0 + ((t1 - t0) as f64 * share) as i64;
            let anchor = match i {
                0 => "start",
                i if i == n => "end",
                _ => "middle",
            };
            Tick {
                at: round1(chart.x0 + (chart.x1 - chart.x0) * share),
                label: format!("{} UTC", format::clock(t)),
                anchor,
            }
        })
        .collect()
}

/// "the latest 5 runs", "the latest run".
fn latest(n: usize, one: &str, many: &str) -> String {
    if n == 1 { format!("the latest {one}") } else { format!("the latest {n} {many}") }
}

/// An axis label for a duration: `250 ms`, `2.5 s`, `10 s` (no trailing zeros).
fn ms_label(v: f64) -> String {
    if v < 1000.0 {
        return format!("{v:.0} ms");
    }
    let text = format!("{:.2}", v / 1000.0);
    format!("{} s", text.trim_end_matches('0').trim_end_matches('.'))
}

/// Job durations over time: one dot per completed job (oldest first), coloured by status,
/// with the p95 as a dashed line.
// times and durations in ms stay far below 2^53
pub(crate) fn durations(points: &[DurationPoint], p95: Option<i64>) -> Chart {
    let mut chart =
        frame(format!("Durations of {} over time", latest(points.len(), "completed job", "completed jobs")));
    // Jobs end in any order: the axis spans the earliest to the latest end.
    let (Some(t0), Some(t1)) =
        (points.iter().map(|p| p.finished_at).min(), points.iter().map(|p| p.finished_at).max())
    else {
        chart.empty = Some("No completed jobs yet.");
        return chart;
    };
    let span = (t1 - t0).max(1) as f64;
    let top = points.iter().map(|p| p.duration_ms).max().unwrap_or(0).max(p95.unwrap_or(0));
    let max = nice_ceiling(top as f64 * 1.05);
    let (w, h) = (chart.x1 - chart.x0, chart.y1 - chart.y0);
    // Dots keep clear of the plot's edges.
    let inset = 6.0;
    let x = |t: i64| round1(chart.x0 + inset + (w - 2.0 * inset) * (t - t0) as f64 / span);
    let y = |ms: i64| round1(chart.y1 - h * ms as f64 / max);
    chart.dots = points
        .iter()
        .map(|p| Dot {
            x: if t1 == t0 { round1(chart.x0 + w / 2.0) } else { x(p.finished_at) },
            y: y(p.duration_ms),
            class: format::status_class(&p.status),
            title: format!(
                "{} · {} · {} · {} UTC · job {}",
                p.site_name,
                p.status,
                format::duration(p.duration_ms),
                format::datetime(p.finished_at),
                p.job_id
            ),
        })
        .collect();
    chart.yticks = yticks(&chart, max, 4, ms_label);
    chart.xticks = xticks(&chart, t0, t1, 4);
    chart.guide =
        p95.map(|v| Tick { at: y(v), label: format!("p95 {}", format::duration(v)), anchor: "end" });
    chart
}

/// A run with its jobs counted by outcome, for [`runs`].
#[derive(Debug, Clone)]
pub(crate) struct RunCounts {
    pub(crate) run: Run,
    pub(crate) passed: i64,
    /// Failed, timed out or error.
    pub(crate) failed: i64,
}

/// Success and failure per run, oldest first: one stacked bar per run (passed jobs green at
/// the bottom, failed red above, jobs not over grey), each a link to its run.
// Job counts convert to f64 exactly: they stay far below 2^53.
pub(crate) fn runs(runs: &[RunCounts]) -> Chart {
    let mut chart = frame(format!("Passed and failed jobs of {}", latest(runs.len(), "run", "runs")));
    if runs.is_empty() {
        chart.empty = Some("No runs yet.");
        return chart;
    }
    // Whole jobs on the axis: one line per job up to 5, else quarters of a multiple of 4.
    let most = runs.iter().map(|r| r.run.jobs_total).max().unwrap_or(1).clamp(1, 1_000_000);
    let (max, lines) = if most <= 5 { (most, most) } else { ((most + 3) / 4 * 4, 4) };
    let lines = u32::try_from(lines).unwrap_or(4);
    let max = max as f64;
    let (w, h) = (chart.x1 - chart.x0, chart.y1 - chart.y0);
    let slot = w / runs.len().max(10) as f64;
    let bar_w = round1((slot * 0.7).max(2.0));
    for (i, r) in runs.iter().enumerate() {
        let x = round1(chart.x0 + slot * i as f64 + slot * 0.15);
        let other = (r.run.jobs_total - r.passed - r.failed).max(0);
        let title = format!(
            "run {} · {} · {} of {} jobs passed · {} UTC",
            r.run.id,
            r.run.status,
            r.passed,
            r.run.jobs_total,
            format::datetime(r.run.created_at)
        );
        let mut base = chart.y1;
        for (n, class) in [(r.passed, "ok"), (r.failed, "bad"), (other, "off")] {
            if n == 0 {
                continue;
            }
            let seg = h * n as f64 / max;
            base -= seg;
            chart.bars.push(Bar {
                x,
                y: round1(base),
                w: bar_w,
                h: round1(seg),
                class,
                title: title.clone(),
                href: format!("/ui/runs/{}", r.run.id),
            });
        }
        if r.run.jobs_total == 0 {
            // A run that could not start: a thin red mark on the axis.
            chart.bars.push(Bar {
                x,
                y: round1(chart.y1 - 3.0),
                w: bar_w,
                h: 3.0,
                class: "bad",
                title,
                href: format!("/ui/runs/{}", r.run.id),
            });
        }
    }
    chart.yticks = yticks(&chart, max, lines, |v| match v.round() {
        1.0 => "1 job".to_owned(),
        v => format!("{v} jobs"),
    });
    // One label under each of the first and last bars.
    let centre = |i: usize| round1(chart.x0 + slot * i as f64 + slot / 2.0);
    if let (Some(first), Some(last)) = (runs.first(), runs.last()) {
        let label = |run: &Run| format!("{} UTC", format::clock(run.created_at));
        chart.xticks = vec![Tick { at: centre(0), label: label(&first.run), anchor: "middle" }];
        if runs.len() > 1 {
            chart.xticks.push(Tick { at: centre(runs.len() - 1), label: label(&last.run), anchor: "middle" });
        }
    }
    chart
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(job_id: i64, finished_at: i64, duration_ms: i64, status: &str) -> DurationPoint {
        DurationPoint {
            job_id,
            finished_at,
            duration_ms,
            status: status.into(),
            site_name: "<b>shop</b>".into(),
            driver: "http".into(),
        }
    }

    #[test]
    fn nice_ceilings() {
        assert_eq!(nice_ceiling(0.0), 1.0);
        assert_eq!(nice_ceiling(7.0), 10.0);
        assert_eq!(nice_ceiling(130.0), 200.0);
        assert_eq!(nice_ceiling(400.0), 500.0);
        assert_eq!(nice_ceiling(1000.0), 1000.0);
    }

    #[test]
    fn durations_span_the_plot() {
        let chart = durations(&[point(1, 1000, 100, "passed"), point(2, 3000, 400, "failed")], Some(400));
        assert_eq!(chart.dots.len(), 2);
        assert_eq!((chart.dots[0].x, chart.dots[1].x), (LEFT + 6.0, WIDTH - RIGHT - 6.0));
        // max is nice_ceiling(420) = 500: 100 ms sits at a fifth of the height.
        assert_eq!(chart.dots[0].y, round1(HEIGHT - BOTTOM - (HEIGHT - BOTTOM - TOP) * 0.2));
        assert_eq!((chart.dots[0].class, chart.dots[1].class), ("ok", "bad"));
        assert!(chart.dots[0].title.starts_with("<b>shop</b> · passed · 100 ms"), "{}", chart.dots[0].title);
        assert_eq!(chart.yticks.last().unwrap().label, "500 ms");
        assert_eq!(
            (ms_label(2500.0), ms_label(10_000.0), ms_label(1250.0)),
            ("2.5 s".into(), "10 s".into(), "1.25 s".into())
        );
        assert_eq!(chart.guide.as_ref().unwrap().label, "p95 400 ms");
        assert_eq!(durations(&[], None).empty, Some("No completed jobs yet."));
    }
}
