//! `Desc`: the description of one family a collector produces, and the rules every
//! description must keep (valid names, no reserved or repeated label).

use super::error::BuildError;
use super::kind::MetricType;
use super::validation::NameValidation;
use crate::syntax::name::{is_valid_label_name, is_valid_metric_name, name_fix_hint};
use crate::syntax::name_escape::{EscapingScheme, escape_name};

/// Describes one family a collector produces, for the registry's consistency checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desc {
    /// Family name.
    pub name: String,
    /// Help text.
    pub help: String,
    /// Unit, or empty.
    pub unit: String,
    /// Type.
    pub kind: MetricType,
    /// Variable label names, in declared order.
    pub label_names: Vec<String>,
    /// Constant labels, sorted by name.
    pub const_labels: Vec<(String, String)>,
}

impl Desc {
    /// Checks the rules every description keeps, wherever it comes from (a builder, a custom
    /// or wrapped collector): a valid family name, valid label names, none reserved for the
    /// type (`le` on a histogram, `quantile` on a summary), and none given twice (variable or
    /// constant). A label written twice, or `le` beside the buckets' own, would make the whole
    /// scrape unparsable.
    ///
    /// Names are checked with [`NameValidation::Legacy`]; see
    /// [`validate_with`](Self::validate_with) for UTF-8 names.
    ///
    /// # Errors
    /// The first rule broken, as a [`BuildError`] naming the fix.
    pub fn validate(&self) -> Result<(), BuildError> {
        self.check(NameValidation::Legacy, false)
    }

    /// As [`validate`](Self::validate), with names checked by `validation`.
    ///
    /// # Errors
    /// The first rule broken, as a [`BuildError`] naming the fix; under
    /// [`NameValidation::Legacy`], a UTF-8 name's error names both fixes: UTF-8 names on the
    /// registry, or the name's escaped form.
    pub fn validate_with(&self, validation: NameValidation) -> Result<(), BuildError> {
        self.check(validation, true)
    }

    /// The rules; `suggest_utf8`: a legacy error names UTF-8 names as a fix (not for a
    /// collector checking its own names, which no registry option changes).
    fn check(&self, validation: NameValidation, suggest_utf8: bool) -> Result<(), BuildError> {
        check_metric_name_with(&self.name, validation, suggest_utf8)?;
        self.validate_type_rules()?;
        let reserved = match self.kind {
            MetricType::Histogram | MetricType::GaugeHistogram => "le",
            MetricType::Summary => "quantile",
            _ => "",
        };
        let names: Vec<&String> =
            self.label_names.iter().chain(self.const_labels.iter().map(|(n, _)| n)).collect();
        for (i, n) in names.iter().enumerate() {
            if let Some(hint) = label_name_problem(n, validation, suggest_utf8) {
                return Err(BuildError::InvalidLabelName {
                    metric: self.name.clone(),
                    name: (*n).clone(),
                    hint,
                });
            }
            if n.as_str() == reserved {
                return Err(BuildError::ReservedLabel {
                    metric: self.name.clone(),
                    name: (*n).clone(),
                    kind: self.kind,
                });
            }
            if self.kind == MetricType::StateSet && **n == self.name {
                return Err(BuildError::StateLabel {
                    metric: self.name.clone(),
                    problem: format!(
                        "the label `{n}` is the state label the stateset writes itself; rename it"
                    ),
                });
            }
            if names[..i].contains(n) {
                return Err(BuildError::DuplicateLabel { metric: self.name.clone(), name: (*n).clone() });
            }
        }
        Ok(())
    }

    /// The naming rules of OpenMetrics' own types: an info's name ends in `_info` (its one
    /// sample), a stateset's name is also its state label's name, so it must be a valid label
    /// name (no `:`).
    fn validate_type_rules(&self) -> Result<(), BuildError> {
        match self.kind {
            MetricType::Info if self.name.strip_suffix("_info").is_none_or(str::is_empty) => {
                Err(BuildError::MissingSuffix { metric: self.name.clone(), suffix: "_info" })
            }
            MetricType::StateSet if !is_valid_label_name(&self.name) => Err(BuildError::StateLabel {
                metric: self.name.clone(),
                problem: format!(
                    "the name is also the state label's name, so it must be a valid label name: {}",
                    name_fix_hint(&self.name, false)
                ),
            }),
            _ => Ok(()),
        }
    }

    /// Checks that the unit, when there is one, ends the family name as OpenMetrics requires
    /// (`job_seconds`, or `job_seconds_total` for a counter).
    ///
    /// # Errors
    /// [`BuildError::UnitNotSuffix`].
    pub(crate) fn validate_unit(&self) -> Result<(), BuildError> {
        if self.unit.is_empty() {
            return Ok(());
        }
        if matches!(self.kind, MetricType::Info | MetricType::StateSet) {
            return Err(BuildError::UnitNotAllowed {
                metric: self.name.clone(),
                unit: self.unit.clone(),
                kind: self.kind,
            });
        }
        let base = match self.kind {
            MetricType::Counter => self.name.strip_suffix("_total").unwrap_or(&self.name),
            _ => &self.name,
        };
        if base.ends_with(&format!("_{}", self.unit)) {
            Ok(())
        } else {
            let suggested = match (self.kind, self.name.strip_suffix("_total")) {
                (MetricType::Counter, Some(stem)) => format!("{stem}_{}_total", self.unit),
                _ => format!("{}_{}", self.name, self.unit),
            };
            Err(BuildError::UnitNotSuffix { metric: self.name.clone(), unit: self.unit.clone(), suggested })
        }
    }
}

/// Checks a family name on its own (a collector whose other names derive from it), with the
/// legacy rules.
///
/// # Errors
/// [`BuildError::InvalidMetricName`] with the fix.
pub(crate) fn check_metric_name(name: &str) -> Result<(), BuildError> {
    check_metric_name_with(name, NameValidation::Legacy, false)
}

fn check_metric_name_with(
    name: &str,
    validation: NameValidation,
    suggest_utf8: bool,
) -> Result<(), BuildError> {
    let hint = match validation {
        _ if name.is_empty() => name_fix_hint(name, true),
        NameValidation::Utf8 => return Ok(()),
        _ if is_valid_metric_name(name) => return Ok(()),
        _ if suggest_utf8 => with_utf8_fix(name_fix_hint(name, true), name),
        _ => name_fix_hint(name, true),
    };
    Err(BuildError::InvalidMetricName { name: name.to_owned(), hint })
}

/// Why a label name is refused under `validation`, or `None`.
fn label_name_problem(name: &str, validation: NameValidation, suggest_utf8: bool) -> Option<String> {
    if is_valid_label_name(name) {
        return None;
    }
    // Empty and `__`-prefixed names are refused under every scheme.
    let always = name.is_empty() || name.starts_with("__");
    match validation {
        _ if always => Some(name_fix_hint(name, false)),
        NameValidation::Utf8 => None,
        NameValidation::Legacy if suggest_utf8 => Some(with_utf8_fix(name_fix_hint(name, false), name)),
        NameValidation::Legacy => Some(name_fix_hint(name, false)),
    }
}

/// A legacy hint completed with the two ways to keep a name that is valid UTF-8: its escaped
/// form, or UTF-8 names on the registry.
fn with_utf8_fix(hint: String, name: &str) -> String {
    let escaped = escape_name(name, EscapingScheme::Underscores);
    format!(
        "{hint}; name it `{escaped}`, or enable UTF-8 names on the registry \
         (`Registry::builder().name_validation(NameValidation::Utf8)`)"
    )
}
