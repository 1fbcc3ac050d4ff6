//! Quantile objectives of a summary: validated, sorted, with their `quantile` label text.

use std::sync::Arc;

use super::error::BuildError;
use crate::syntax::float::{write_go_float, write_om_float};

/// The quantiles a summary reports, each with the rank error it may have (Go's
/// `SummaryOpts.Objectives`: `0.99 → 0.001` means the reported value's rank is within
/// 0.989..0.991). Empty objectives make a count-and-sum-only summary, Go's default.
///
/// ```
/// use promkit::Quantiles;
/// let q = Quantiles::new([(0.5, 0.05), (0.9, 0.01), (0.99, 0.001)])?;
/// assert_eq!(q.len(), 3);
/// assert!(Quantiles::new([(1.5, 0.01)]).is_err());
/// # Ok::<(), promkit::Error>(())
/// ```
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Quantiles(Arc<Inner>);

#[derive(Debug, PartialEq, Default)]
struct Inner {
    objectives: Box<[(f64, f64)]>,
    text: Box<[Box<str>]>,
    openmetrics: Box<[Box<str>]>,
}

impl Quantiles {
    /// Validates `(quantile, allowed error)` pairs: quantiles in `[0, 1]`, errors in `[0, 1]`
    /// and no quantile twice. They are kept sorted by quantile.
    ///
    /// # Errors
    /// [`BuildError::InvalidObjective`] naming the bad pair.
    pub fn new(objectives: impl IntoIterator<Item = (f64, f64)>) -> Result<Self, BuildError> {
        let mut objectives: Vec<(f64, f64)> = objectives.into_iter().collect();
        for &(q, e) in &objectives {
            if !(0.0..=1.0).contains(&q) || !(0.0..=1.0).contains(&e) {
                return Err(BuildError::InvalidObjective { quantile: q, error: e });
            }
        }
        objectives.sort_by(|a, b| a.0.total_cmp(&b.0));
        if let Some(w) = objectives.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(BuildError::InvalidObjective { quantile: w[1].0, error: w[1].1 });
        }
        let render = |f: fn(&mut Vec<u8>, f64)| -> Box<[Box<str>]> {
            objectives
                .iter()
                .map(|&(q, _)| {
                    let mut out = Vec::new();
                    f(&mut out, q);
                    String::from_utf8(out).unwrap_or_default().into_boxed_str()
                })
                .collect()
        };
        let text = render(write_go_float);
        let openmetrics = render(write_om_float);
        Ok(Self(Arc::new(Inner { objectives: objectives.into_boxed_slice(), text, openmetrics })))
    }

    /// `(quantile, allowed error)` pairs, sorted by quantile.
    pub fn objectives(&self) -> &[(f64, f64)] {
        &self.0.objectives
    }

    /// The number of quantiles.
    pub fn len(&self) -> usize {
        self.0.objectives.len()
    }

    /// True for a count-and-sum-only summary.
    pub fn is_empty(&self) -> bool {
        self.0.objectives.is_empty()
    }

    /// The `quantile` label text of objective `i` in text 0.0.4 (`0.5`, `1`).
    pub(crate) fn label_text(&self, i: usize) -> &str {
        &self.0.text[i]
    }

    /// The `quantile` label text of objective `i` in OpenMetrics (`0.5`, `1.0`).
    pub(crate) fn label_openmetrics(&self, i: usize) -> &str {
        &self.0.openmetrics[i]
    }
}
