//! `BuildInfoCollector` and [`build_info!`](crate::build_info!): the constant
//! `<program>_build_info{version,revision,branch,rustc,os,arch} 1` that dashboards join on to
//! show which build is running, as Go's `collectors/version` exports it.

use crate::model::{
    BuildError, CollectError, Collector, Desc, FamilyHeader, Labels, MetricType, SampleMeta, Sink, Value,
};
use crate::registry::{CollectorId, Error, Registry};
use crate::syntax::name::{is_valid_label_name, is_valid_metric_name, name_fix_hint};

/// The value of a label nobody set.
const UNKNOWN: &str = "unknown";

/// Exports `<program>_build_info`, a gauge of constant value 1 whose labels say which build
/// is running (Go's `version.NewCollector`, with `rustc` for `goversion` and `os`/`arch` for
/// `goos`/`goarch`):
///
/// | label | value |
/// |---|---|
/// | `version` | the program's version ([`build_info!`](crate::build_info!): `CARGO_PKG_VERSION`) |
/// | `revision` | the commit it was built from |
/// | `branch` | the branch it was built from |
/// | `rustc` | the compiler version |
/// | `os`, `arch` | the target, from [`std::env::consts`] |
///
/// Whatever is not set is `unknown`. Most programs use the [`build_info!`](crate::build_info!)
/// macro, which fills these from the build environment; the builder sets them by hand:
///
/// ```
/// use promkit::collectors::BuildInfoCollector;
/// use promkit::Registry;
///
/// let registry = Registry::new();
/// BuildInfoCollector::builder("myapp")
///     .version("1.4.2")
///     .revision("3f2c1ab")
///     .branch("main")
///     .rustc("1.85.0")
///     .register(&registry)?;
/// let (os, arch) = (std::env::consts::OS, std::env::consts::ARCH);
/// assert_eq!(registry.encode_text_string()?, format!("\
/// ## HELP myapp_build_info A metric with a constant '1' value labeled by version, revision, branch, and rustc version from which myapp was built, and the os and arch for the build.
/// ## TYPE myapp_build_info gauge
/// myapp_build_info{{arch=\"{arch}\",branch=\"main\",os=\"{os}\",revision=\"3f2c1ab\",rustc=\"1.85.0\",version=\"1.4.2\"}} 1
/// "));
/// # Ok::<(), promkit::Error>(())
/// ```
///
/// In PromQL, `myapp_build_info` then labels other series by joining on the target:
/// `rate(http_requests_total[5m]) * on(instance) group_left(version) myapp_build_info`.
#[derive(Debug, Clone)]
pub struct BuildInfoCollector {
    name: String,
    help: String,
    /// Sorted by name, as written.
    labels: Vec<(String, String)>,
}

impl BuildInfoCollector {
    /// Starts declaring the build-info metric of `program`: the family is
    /// `<program>_build_info` (`build_info` when `program` is empty); every label `unknown`
    /// but `os` and `arch`.
    pub fn builder(program: impl Into<String>) -> BuildInfoBuilder {
        BuildInfoBuilder {
            program: program.into(),
            version: UNKNOWN.to_owned(),
            revision: UNKNOWN.to_owned(),
            branch: UNKNOWN.to_owned(),
            rustc: UNKNOWN.to_owned(),
            extra: Vec::new(),
        }
    }

    /// The family name, `<program>_build_info`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The labels, sorted by name.
    pub fn labels(&self) -> &[(String, String)] {
        &self.labels
    }
}

impl Collector for BuildInfoCollector {
    fn describe(&self) -> Vec<Desc> {
        vec![Desc {
            name: self.name.clone(),
            help: self.help.clone(),
            unit: String::new(),
            kind: MetricType::Gauge,
            label_names: Vec::new(),
            const_labels: self.labels.clone(),
        }]
    }

    fn collect(&self, sink: &mut dyn Sink) -> Result<(), CollectError> {
        sink.family(&FamilyHeader { name: &self.name, help: &self.help, unit: "", kind: MetricType::Gauge });
        sink.sample(&Labels::Owned(&self.labels), Value::GaugeF64(1.0), &SampleMeta::default());
        Ok(())
    }
}

/// Declares a [`BuildInfoCollector`]; from [`BuildInfoCollector::builder`] or
/// [`build_info!`](crate::build_info!).
#[derive(Debug, Clone)]
#[must_use = "a builder does nothing until `build` or `register`"]
pub struct BuildInfoBuilder {
    program: String,
    version: String,
    revision: String,
    branch: String,
    rustc: String,
    extra: Vec<(String, String)>,
}

impl BuildInfoBuilder {
    /// The `version` label (`1.4.2`).
    pub fn version(mut self, version: impl Into<String>) -> Self {
        self.version = version.into();
        self
    }

    /// The `revision` label: the commit hash.
    pub fn revision(mut self, revision: impl Into<String>) -> Self {
        self.revision = revision.into();
        self
    }

    /// The `branch` label.
    pub fn branch(mut self, branch: impl Into<String>) -> Self {
        self.branch = branch.into();
        self
    }

    /// The `rustc` label: the compiler version (`1.85.0`).
    pub fn rustc(mut self, rustc: impl Into<String>) -> Self {
        self.rustc = rustc.into();
        self
    }

    /// Adds a label of your own (`build_user`, `tags`; Go's `WithExtraConstLabels`).
    pub fn label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.extra.push((name.into(), value.into()));
        self
    }

    /// Validates the names and builds the collector.
    ///
    /// # Errors
    /// [`BuildError::InvalidMetricName`] when `program` makes an invalid family name;
    /// [`BuildError::InvalidLabelName`] or [`BuildError::DuplicateLabel`] for a bad
    /// [`label`](Self::label).
    pub fn build(self) -> Result<BuildInfoCollector, BuildError> {
        let (name, help) = if self.program.is_empty() {
            ("build_info".to_owned(), help_for("the program"))
        } else {
            (format!("{}_build_info", self.program), help_for(&self.program))
        };
        if !is_valid_metric_name(&name) {
            return Err(BuildError::InvalidMetricName { hint: name_fix_hint(&name, true), name });
        }
        let mut labels = vec![
            ("arch".to_owned(), std::env::consts::ARCH.to_owned()),
            ("branch".to_owned(), self.branch),
            ("os".to_owned(), std::env::consts::OS.to_owned()),
            ("revision".to_owned(), self.revision),
            ("rustc".to_owned(), self.rustc),
            ("version".to_owned(), self.version),
        ];
        for (label, value) in self.extra {
            if !is_valid_label_name(&label) {
                return Err(BuildError::InvalidLabelName {
                    hint: name_fix_hint(&label, false),
                    metric: name,
                    name: label,
                });
            }
            if labels.iter().any(|(n, _)| *n == label) {
                return Err(BuildError::DuplicateLabel { metric: name, name: label });
            }
            labels.push((label, value));
        }
        labels.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(BuildInfoCollector { name, help, labels })
    }

    /// Builds the collector and registers it.
    ///
    /// # Errors
    /// [`Error::Build`] as [`build`](Self::build), [`Error::Register`] when the registry
    /// refuses the family (one of that name exists, say).
    pub fn register(self, registry: &Registry) -> Result<CollectorId, Error> {
        Ok(registry.register(self.build()?)?)
    }

    /// As [`register`](Self::register), panicking on error.
    ///
    /// # Panics
    /// On any error `register` would return; for start-up registration only.
    #[track_caller]
    pub fn must_register(self, registry: &Registry) -> CollectorId {
        self.register(registry).unwrap_or_else(|e| panic!("{e}"))
    }
}

fn help_for(program: &str) -> String {
    format!(
        "A metric with a constant '1' value labeled by version, revision, branch, and rustc version from \
         which {program} was built, and the os and arch for the build."
    )
}

/// The first of `candidates` that is set and not empty, else `unknown`: how
/// [`build_info!`](crate::build_info!) picks among environment variables.
#[doc(hidden)]
pub fn __first_set(candidates: &[Option<&'static str>]) -> &'static str {
    candidates.iter().flatten().copied().find(|v| !v.is_empty()).unwrap_or(UNKNOWN)
}

/// A [`BuildInfoBuilder`](crate::collectors::BuildInfoBuilder) for `<program>_build_info`,
/// filled from the environment the calling crate is compiled in.
///
/// | label | from the first set, non-empty compile-time variable of |
/// |---|---|
/// | `version` | `CARGO_PKG_VERSION` (the calling crate's, always set by Cargo) |
/// | `revision` | `GIT_COMMIT`, `VERGEN_GIT_SHA` |
/// | `branch` | `GIT_BRANCH`, `VERGEN_GIT_BRANCH` |
/// | `rustc` | `RUSTC_VERSION`, `VERGEN_RUSTC_SEMVER` |
///
/// and `unknown` when none is. The variables are read when the crate compiles (with
/// `option_env!`), not when the program runs: export them in the build's environment
/// (`GIT_COMMIT=$(git rev-parse HEAD) cargo build`), or set them from a build script, or use
/// the `vergen` crate, whose names are read too. A `build.rs` for the lot:
///
/// ```no_run
/// // build.rs
/// use std::process::Command;
///
/// fn output(cmd: &str, args: &[&str]) -> Option<String> {
///     let out = Command::new(cmd).args(args).output().ok()?;
///     out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
/// }
///
/// fn main() {
///     let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
///     // `rustc 1.85.0 (4d91de4e4 2025-02-17)` → `1.85.0`
///     if let Some(v) = output(&rustc, &["--version"]) {
///         let v = v.split(' ').nth(1).unwrap_or(&v).to_owned();
///         println!("cargo:rustc-env=RUSTC_VERSION={v}");
///     }
///     if let Some(sha) = output("git", &["rev-parse", "HEAD"]) {
///         println!("cargo:rustc-env=GIT_COMMIT={sha}");
///     }
///     if let Some(branch) = output("git", &["rev-parse", "--abbrev-ref", "HEAD"]) {
///         println!("cargo:rustc-env=GIT_BRANCH={branch}");
///     }
///     println!("cargo:rerun-if-changed=.git/HEAD");
/// }
/// ```
///
/// Then, in the program:
///
/// ```
/// use promkit::Registry;
///
/// let registry = Registry::new();
/// promkit::build_info!("myapp").register(&registry)?;
/// let text = registry.encode_text_string()?;
/// assert!(text.contains(&format!("version=\"{}\"", env!("CARGO_PKG_VERSION"))));
/// # Ok::<(), promkit::Error>(())
/// ```
///
/// The builder it returns takes further settings (`.label("build_user", "ci")`) before
/// `register`.
#[macro_export]
macro_rules! build_info {
    ($program:expr $(,)?) => {
        $crate::collectors::BuildInfoCollector::builder($program)
            .version(env!("CARGO_PKG_VERSION"))
            .revision($crate::collectors::__first_set(&[
                option_env!("GIT_COMMIT"),
                option_env!("VERGEN_GIT_SHA"),
            ]))
            .branch($crate::collectors::__first_set(&[
                option_env!("GIT_BRANCH"),
                option_env!("VERGEN_GIT_BRANCH"),
            ]))
            .rustc($crate::collectors::__first_set(&[
                option_env!("RUSTC_VERSION"),
                option_env!("VERGEN_RUSTC_SEMVER"),
            ]))
    };
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::Format;
    use std::env::consts::{ARCH, OS};

    fn fixed() -> BuildInfoBuilder {
        BuildInfoCollector::builder("myapp")
            .version("1.4.2")
            .revision("3f2c1ab")
            .branch("main")
            .rustc("1.85.0")
    }

    #[test]
    fn text_and_openmetrics_are_exact() {
        let r = Registry::new();
        fixed().register(&r).unwrap();
        let help = "A metric with a constant '1' value labeled by version, revision, branch, and rustc version \
                    from which myapp was built, and the os and arch for the build.";
        let labels = format!(
            "arch=\"{ARCH}\",branch=\"main\",os=\"{OS}\",revision=\"3f2c1ab\",rustc=\"1.85.0\",version=\"1.4.2\""
        );
        let text = r.encode_text_string().unwrap();
        assert_eq!(
            text,
            format!(
                "# HELP myapp_build_info {help}\n# TYPE myapp_build_info gauge\nmyapp_build_info{{{labels}}} 1\n"
            )
        );
        assert_eq!(
            r.encode_string(Format::OPENMETRICS).unwrap(),
            format!(
                "# HELP myapp_build_info {help}\n# TYPE myapp_build_info gauge\nmyapp_build_info{{{labels}}} 1.0\n# EOF\n"
            )
        );
        if let Some(report) = promkit_oracle::promtool_check(&text) {
            assert!(report.ok && report.lint.is_empty(), "{}", report.output);
        }
        if let Some(canon) = promkit_oracle::go_canon(&text) {
            assert_eq!(canon.as_deref(), Ok(text.as_str()));
        }
    }

    #[test]
    fn unset_labels_are_unknown_and_values_are_escaped() {
        let c = BuildInfoCollector::builder("svc")
            .version("1.0 \"beta\"\\x")
            .label("build_user", "ci")
            .build()
            .unwrap();
        assert_eq!(c.name(), "svc_build_info");
        let names: Vec<&str> = c.labels().iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["arch", "branch", "build_user", "os", "revision", "rustc", "version"]);
        let r = Registry::new();
        r.register(c).unwrap();
        let text = r.encode_text_string().unwrap();
        let sample = text.lines().last().unwrap();
        assert_eq!(
            sample,
            format!(
                "svc_build_info{{arch=\"{ARCH}\",branch=\"unknown\",build_user=\"ci\",os=\"{OS}\",\
                 revision=\"unknown\",rustc=\"unknown\",version=\"1.0 \\\"beta\\\"\\\\x\"}} 1"
            )
        );
    }

    #[test]
    fn bad_names_fail_at_build() {
        let e = BuildInfoCollector::builder("my-app").build().unwrap_err();
        assert_eq!(e.to_string(), "invalid metric name `my-app_build_info`: use `_`, not `-`");
        let e = fixed().label("build-user", "x").build().unwrap_err();
        assert_eq!(e.to_string(), "invalid label name `build-user` on `myapp_build_info`: use `_`, not `-`");
        let e = fixed().label("version", "2").build().unwrap_err();
        assert_eq!(
            e.to_string(),
            "label `version` appears twice on `myapp_build_info`; each label name may appear once"
        );
        assert_eq!(BuildInfoCollector::builder("").build().unwrap().name(), "build_info");
    }

    #[test]
    fn registering_twice_is_refused() {
        let r = Registry::new();
        fixed().register(&r).unwrap();
        let e = fixed().register(&r).unwrap_err();
        assert!(matches!(e, Error::Register(crate::RegisterError::AlreadyRegistered { .. })), "{e}");
    }

    #[test]
    fn macro_takes_the_calling_crates_environment() {
        let c = crate::build_info!("promkit").build().unwrap();
        let label = |n: &str| c.labels().iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap();
        assert_eq!(label("version"), env!("CARGO_PKG_VERSION"));
        let expect = |vars: [Option<&'static str>; 2]| __first_set(&vars).to_owned();
        assert_eq!(label("revision"), expect([option_env!("GIT_COMMIT"), option_env!("VERGEN_GIT_SHA")]));
        assert_eq!(label("branch"), expect([option_env!("GIT_BRANCH"), option_env!("VERGEN_GIT_BRANCH")]));
        assert_eq!(
            label("rustc"),
            expect([option_env!("RUSTC_VERSION"), option_env!("VERGEN_RUSTC_SEMVER")])
        );
    }

    #[test]
    fn first_set_skips_unset_and_empty() {
        assert_eq!(__first_set(&[None, Some(""), Some("abc"), Some("def")]), "abc");
        assert_eq!(__first_set(&[None, Some("")]), "unknown");
        assert_eq!(__first_set(&[]), "unknown");
    }
}
