//! `Info`: OpenMetrics' info type, a series whose labels are the information and whose value is
//! always 1 (`build_info{version="1.2"} 1`).

use crate::model::{Labels, MetricType, SampleMeta, Sink, Value};

use super::{Family, LabelError, Metric};

/// Facts about the running program as labels: versions, build flags, configuration
/// (OpenMetrics' `info` type).
///
/// The name must end in `_info`. OpenMetrics writes `# TYPE build info` and the sample
/// `build_info{...} 1`; text 0.0.4 and protobuf, which have no info type, write the same
/// sample as a gauge of value 1, as Go and Prometheus map it. Give fixed facts as constant
/// labels; facts that change (or several sets of them) as a family, where each series is one
/// set of facts and [`Family::set_info`] replaces them.
///
/// ```
/// use promkit::{Format, Info, Registry};
///
/// let registry = Registry::new();
/// Info::builder("app_build_info")
///     .help("Build facts.")
///     .const_label("version", "1.4.2")
///     .const_label("commit", "9f3a2c1")
///     .register(&registry)?;
/// let config = Info::builder("app_config_info")
///     .help("Loaded configuration.")
///     .labels(["mode"])
///     .register(&registry)?;
/// config.set_info(&["batch"])?;
/// config.set_info(&["online"])?; // replaces `batch`
///
/// assert_eq!(registry.encode_string(Format::OPENMETRICS)?, "\
/// ## HELP app_build Build facts.
/// ## TYPE app_build info
/// app_build_info{commit=\"9f3a2c1\",version=\"1.4.2\"} 1.0
/// ## HELP app_config Loaded configuration.
/// ## TYPE app_config info
/// app_config_info{mode=\"online\"} 1.0
/// ## EOF
/// ");
/// assert_eq!(registry.encode_text_string()?, "\
/// ## HELP app_build_info Build facts.
/// ## TYPE app_build_info gauge
/// app_build_info{commit=\"9f3a2c1\",version=\"1.4.2\"} 1
/// ## HELP app_config_info Loaded configuration.
/// ## TYPE app_config_info gauge
/// app_config_info{mode=\"online\"} 1
/// ");
/// # Ok::<(), promkit::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Info;

impl Info {
    /// An info series (it has no state: it exists, with value 1).
    pub fn new() -> Self {
        Self
    }
}

impl Metric for Info {
    type Options = ();
    const KIND: MetricType = MetricType::Info;

    fn create(_: &()) -> Self {
        Self
    }

    fn write(&self, _: &(), labels: &Labels<'_>, sink: &mut dyn Sink) {
        sink.sample(labels, Value::GaugeF64(1.0), &SampleMeta::default());
    }

    fn reset(&self) {}
}

impl Family<Info> {
    /// Makes these label values (declared order) the family's only series: the facts changed.
    ///
    /// The new series is added before the others are removed, so a scrape in between sees
    /// both for a moment, never none. Call it from one place: two calls racing each other
    /// may both keep their series.
    ///
    /// # Errors
    /// [`LabelError::WrongCount`] when the number of values is not the number of labels.
    pub fn set_info(&self, values: &[&str]) -> Result<(), LabelError> {
        self.with_label_values(values)?;
        let mut stale = Vec::new();
        self.for_each(|v, _| {
            if v.iter().map(String::as_str).ne(values.iter().copied()) {
                stale.push(v.to_vec());
            }
        });
        for v in stale {
            let v: Vec<&str> = v.iter().map(String::as_str).collect();
            self.remove(&v)?;
        }
        Ok(())
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use crate::model::BuildError;
    use crate::{Format, Info, Registry};

    #[test]
    fn an_info_needs_its_suffix_and_no_unit() {
        let e = Info::builder("build").build().unwrap_err();
        assert_eq!(e, BuildError::MissingSuffix { metric: "build".into(), suffix: "_info" });
        assert_eq!(
            e.to_string(),
            "`build` must end in `_info`: its samples are written under that name; call it `build_info`"
        );
        assert!(Info::builder("_info").build().is_err());
        let e = Info::builder("x_seconds_info").unit("seconds").build().unwrap_err();
        assert!(matches!(e, BuildError::UnitNotAllowed { .. }), "{e}");
    }

    #[test]
    fn set_info_keeps_one_series() {
        let r = Registry::new();
        let f = Info::builder("v_info").labels(["v"]).register(&r).unwrap();
        f.set_info(&["1"]).unwrap();
        f.set_info(&["2"]).unwrap();
        f.set_info(&["2"]).unwrap();
        assert_eq!(f.len(), 1);
        assert!(f.set_info(&[]).is_err());
        let text = r.encode_string(Format::OPENMETRICS).unwrap();
        assert_eq!(text, "# HELP v \n# TYPE v info\nv_info{v=\"2\"} 1.0\n# EOF\n");
    }
}
