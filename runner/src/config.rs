//! Configuration: command-line flags, each with a `RUNNER_*` environment variable, and an
//! optional TOML file (`--config runner.toml`) whose keys are the long flag names. Flags win
//! over the environment, the environment over the file, the file over the defaults.
//!
//! ```toml
//! listen = "127.0.0.1:8080"
//! db = "/var/lib/runner/runner.db"
//! job-timeout = 45
//! no-demo = true
//! ```

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory, FromArgMatches, Parser};
use serde::Deserialize;
use url::Url;

use crate::driver::http::HttpOptions;
use crate::metrics::MetricsOptions;

/// Checks web forms on customer sites, runs the checks as concurrent jobs, and reports every
/// job through Prometheus at /metrics.
///
/// Every flag can also be set by the environment variable shown, or by a key of the same
/// name in the --config file. Precedence: flag, environment, file, default.
#[derive(Debug, Clone, Parser)]
#[command(name = "runner", version, max_term_width = 100)]
pub struct Cli {
    /// TOML file with settings; its keys are the long flag names (`job-timeout = 45`).
    #[arg(long, env = "RUNNER_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Address for the HTTP server: health at /, /metrics, the JSON API under /api.
    #[arg(long, env = "RUNNER_LISTEN", value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// The store: an SQLite file path (created and migrated on first start), or a
    /// postgres://user:pass@host/db URL to share one store and job queue among instances.
    #[arg(long, env = "RUNNER_DB", value_name = "PATH|URL", default_value = "runner.db")]
    pub db: String,

    /// Bearer token that writes (POST, PUT, DELETE) must present. Required when --listen is
    /// not a loopback address.
    #[arg(long, env = "RUNNER_WRITE_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub write_token: Option<String>,

    /// Expected job duration in ms: centres completion_duration_histogram_ms, whose buckets
    /// are linear from mean - 5 x domain in 20 steps of domain / 2.
    #[arg(long, env = "RUNNER_NORM_MEAN", value_name = "MS", default_value_t = 200.0)]
    pub norm_mean: f64,

    /// Spread of job durations in ms, for completion_duration_histogram_ms's buckets.
    #[arg(long, env = "RUNNER_NORM_DOMAIN", value_name = "MS", default_value_t = 40.0)]
    pub norm_domain: f64,

    /// Longest a job may run before it ends as timed_out, in seconds.
    #[arg(long, env = "RUNNER_JOB_TIMEOUT", value_name = "SECS", default_value_t = 30)]
    pub job_timeout: u64,

    /// On SIGTERM or Ctrl-C: how long running jobs may go on before they are cancelled, in
    /// seconds.
    #[arg(long, env = "RUNNER_GRACE", value_name = "SECS", default_value_t = 10)]
    pub grace: u64,

    /// Jobs the http engine runs at once on this instance.
    #[arg(long, env = "RUNNER_HTTP_SESSIONS", value_name = "N", default_value_t = 8)]
    pub http_sessions: usize,

    /// Longest wait for a connection to a site, in seconds (http engine).
    #[arg(long, env = "RUNNER_CONNECT_TIMEOUT", value_name = "SECS", default_value_t = 5)]
    pub connect_timeout: u64,

    /// Longest wait for the next bytes from a site, in seconds (http engine).
    #[arg(long, env = "RUNNER_READ_TIMEOUT", value_name = "SECS", default_value_t = 10)]
    pub read_timeout: u64,

    /// Largest page read, in bytes; a larger page fails its job (http engine).
    #[arg(long, env = "RUNNER_MAX_PAGE_BYTES", value_name = "BYTES", default_value_t = 2 * 1024 * 1024)]
    pub max_page_bytes: u64,

    /// URL of a WebDriver server (chromedriver) for the webdriver engine; without it the
    /// engine reports "not configured".
    #[arg(long, env = "RUNNER_WEBDRIVER_URL", value_name = "URL")]
    pub webdriver_url: Option<Url>,

    /// Browser sessions the webdriver engine runs at once on this instance.
    #[arg(long, env = "RUNNER_WEBDRIVER_SESSIONS", value_name = "N", default_value_t = 2)]
    pub webdriver_sessions: usize,

    /// Without --webdriver-url: start this chromedriver on a free loopback port for the
    /// webdriver engine, and stop it on shutdown.
    #[arg(long, env = "RUNNER_CHROMEDRIVER", value_name = "PATH")]
    pub chromedriver: Option<PathBuf>,

    /// The Chromium binary webdriver sessions start; default /usr/bin/chromium when it exists.
    #[arg(long, env = "RUNNER_CHROMIUM", value_name = "PATH")]
    pub chromium: Option<PathBuf>,

    /// How often to look for jobs enqueued by other instances, in milliseconds.
    #[arg(long, env = "RUNNER_POLL_INTERVAL", value_name = "MS", default_value_t = 500)]
    pub poll_interval: u64,

    /// This instance's name in the store (`claimed_by`); default HOSTNAME:PORT. Keep it
    /// stable across restarts: a restarted instance marks its previous life's running jobs
    /// interrupted at once.
    #[arg(long, env = "RUNNER_INSTANCE_ID", value_name = "NAME")]
    pub instance_id: Option<String>,

    /// After how many seconds without a heartbeat another instance counts as dead and its
    /// running jobs are marked interrupted.
    #[arg(long, env = "RUNNER_STALE_AFTER", value_name = "SECS", default_value_t = 30)]
    pub stale_after: u64,

    /// Do not serve the built-in demo site nor seed it into an empty store.
    #[arg(long, env = "RUNNER_NO_DEMO")]
    pub no_demo: bool,

    /// Cap on site label values: runner_jobs_total keeps at most 8 x N series (site x
    /// driver x outcome); label sets beyond it share one overflow series.
    #[arg(long, env = "RUNNER_MAX_SITE_SERIES", value_name = "N", default_value_t = 200)]
    pub max_site_series: usize,

    /// Log filter: error, warn, info, debug, trace, or per-module directives
    /// (`info,sqlx=warn`).
    #[arg(long, env = "RUNNER_LOG", value_name = "FILTER", default_value = "info,sqlx=warn")]
    pub log: String,
}

/// The file form: every flag but `config`, by its long name.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
struct FileConfig {
    listen: Option<SocketAddr>,
    db: Option<String>,
    write_token: Option<String>,
    norm_mean: Option<f64>,
    norm_domain: Option<f64>,
    job_timeout: Option<u64>,
    grace: Option<u64>,
    http_sessions: Option<usize>,
    connect_timeout: Option<u64>,
    read_timeout: Option<u64>,
    max_page_bytes: Option<u64>,
    webdriver_url: Option<Url>,
    webdriver_sessions: Option<usize>,
    chromedriver: Option<PathBuf>,
    chromium: Option<PathBuf>,
    poll_interval: Option<u64>,
    instance_id: Option<String>,
    stale_after: Option<u64>,
    no_demo: Option<bool>,
    max_site_series: Option<usize>,
    log: Option<String>,
}

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config file is not valid TOML, or has an unknown key or a wrong type.
    #[error("config file {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// Why.
        source: toml::de::Error,
    },
    /// A value out of range.
    #[error("{flag}: {message}")]
    Invalid {
        /// The flag (`--job-timeout`).
        flag: &'static str,
        /// What is wrong.
        message: String,
    },
    /// Command-line parsing failed (clap prints these itself).
    #[error(transparent)]
    Cli(#[from] clap::Error),
}

/// Everything the runner needs to start, resolved and checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// HTTP listener address.
    pub listen: SocketAddr,
    /// Store location.
    pub db: String,
    /// Token for writes.
    pub write_token: Option<String>,
    /// Seed histogram and label caps.
    pub metrics: MetricsOptions,
    /// Per-job limit.
    pub job_timeout: Duration,
    /// Shutdown grace period.
    pub grace: Duration,
    /// The http engine.
    pub http: HttpOptions,
    /// The WebDriver server.
    pub webdriver_url: Option<Url>,
    /// Webdriver sessions.
    pub webdriver_sessions: usize,
    /// A chromedriver to start when no WebDriver URL is given.
    pub chromedriver: Option<PathBuf>,
    /// The Chromium binary for webdriver sessions.
    pub chromium: Option<PathBuf>,
    /// Queue poll interval.
    pub poll_interval: Duration,
    /// Instance id; `None`: HOSTNAME:PORT.
    pub instance_id: Option<String>,
    /// Dead-instance threshold.
    pub stale_after: Duration,
    /// Whether to serve and seed the demo site.
    pub demo: bool,
    /// How often the scheduler ticks.
    pub tick: Duration,
    /// Log filter.
    pub log: String,
}

impl Default for Config {
    /// The flags' defaults, environment ignored.
    fn default() -> Self {
        Cli::defaults().into_config_unchecked()
    }
}

/// Whether a value came from the command line or the environment (and so beats the file).
fn explicit(matches: &ArgMatches, id: &str) -> bool {
    matches!(matches.value_source(id), Some(ValueSource::CommandLine | ValueSource::EnvVariable))
}

impl Cli {
    /// The default of every flag (what `runner` with no flags and no environment gets).
    pub fn defaults() -> Self {
        Self {
            config: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            db: "runner.db".into(),
            write_token: None,
            norm_mean: 200.0,
            norm_domain: 40.0,
            job_timeout: 30,
            grace: 10,
            http_sessions: 8,
            connect_timeout: 5,
            read_timeout: 10,
            max_page_bytes: 2 * 1024 * 1024,
            webdriver_url: None,
            webdriver_sessions: 2,
            chromedriver: None,
            chromium: None,
            poll_interval: 500,
            instance_id: None,
            stale_after: 30,
            no_demo: false,
            max_site_series: 200,
            log: "info,sqlx=warn".into(),
        }
    }

    /// Parses `args` (the program name first) and the environment, then the config file.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Cli`] for bad flags (and `--help`/`--version`, which clap reports as
    /// errors to print); [`ConfigError::Read`]/[`ConfigError::Parse`] for the file.
    pub fn load<I, T>(args: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = T>,
        T: Into<std::ffi::OsString> + Clone,
    {
        let matches = Self::command().try_get_matches_from(args)?;
        let mut cli = Self::from_arg_matches(&matches)?;
        if let Some(path) = cli.config.clone() {
            cli.merge_file(&path, &matches)?;
        }
        Ok(cli)
    }

    fn merge_file(&mut self, path: &Path, matches: &ArgMatches) -> Result<(), ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|source| ConfigError::Read { path: path.into(), source })?;
        let file: FileConfig =
            toml::from_str(&text).map_err(|source| ConfigError::Parse { path: path.into(), source })?;
        macro_rules! take {
            ($($field:ident),*) => {$(
                if !explicit(matches, stringify!($field)) {
                    if let Some(v) = file.$field { self.$field = v; }
                }
            )*};
        }
        macro_rules! take_opt {
            ($($field:ident),*) => {$(
                if !explicit(matches, stringify!($field)) && file.$field.is_some() {
                    self.$field = file.$field;
                }
            )*};
        }
        take!(
            listen,
            db,
            norm_mean,
            norm_domain,
            job_timeout,
            grace,
            http_sessions,
            connect_timeout,
            read_timeout
        );
        take!(max_page_bytes, webdriver_sessions, poll_interval, stale_after, no_demo, max_site_series, log);
        take_opt!(write_token, webdriver_url, instance_id, chromedriver, chromium);
        Ok(())
    }

    fn into_config_unchecked(self) -> Config {
        Config {
            listen: self.listen,
            db: self.db,
            write_token: self.write_token.filter(|t| !t.is_empty()),
            metrics: MetricsOptions {
                norm_mean: self.norm_mean,
                norm_domain: self.norm_domain,
                max_site_series: self.max_site_series,
            },
            job_timeout: Duration::from_secs(self.job_timeout),
            grace: Duration::from_secs(self.grace),
            http: HttpOptions {
                capacity: self.http_sessions,
                connect_timeout: Duration::from_secs(self.connect_timeout),
                read_timeout: Duration::from_secs(self.read_timeout),
                request_timeout: Duration::from_secs(self.job_timeout.max(1)),
                max_page_bytes: self.max_page_bytes,
                ..HttpOptions::default()
            },
            webdriver_url: self.webdriver_url,
            webdriver_sessions: self.webdriver_sessions,
            chromedriver: self.chromedriver,
            chromium: self.chromium,
            poll_interval: Duration::from_millis(self.poll_interval),
            instance_id: self.instance_id.filter(|i| !i.is_empty()),
            stale_after: Duration::from_secs(self.stale_after),
            demo: !self.no_demo,
            tick: Duration::from_secs(1),
            log: self.log,
        }
    }

    /// Checks the values (the file's too, which clap did not see) and resolves them.
    ///
    /// # Errors
    ///
    /// [`ConfigError::Invalid`] naming the flag.
    pub fn into_config(self) -> Result<Config, ConfigError> {
        let invalid = |flag, message: &str| Err(ConfigError::Invalid { flag, message: message.to_owned() });
        if !(self.norm_domain.is_finite() && self.norm_domain > 0.0) {
            return invalid("--norm-domain", "must be a positive number of milliseconds");
        }
        if !self.norm_mean.is_finite() {
            return invalid("--norm-mean", "must be a number of milliseconds");
        }
        for (flag, v) in [
            ("--job-timeout", self.job_timeout),
            ("--connect-timeout", self.connect_timeout),
            ("--read-timeout", self.read_timeout),
            ("--poll-interval", self.poll_interval),
            ("--stale-after", self.stale_after),
            ("--max-page-bytes", self.max_page_bytes),
        ] {
            if v == 0 {
                return invalid(flag, "must be at least 1");
            }
        }
        if self.http_sessions == 0 || self.webdriver_sessions == 0 || self.max_site_series == 0 {
            return invalid("--http-sessions/--webdriver-sessions/--max-site-series", "must be at least 1");
        }
        if let Some(url) = &self.webdriver_url
            && !matches!(url.scheme(), "http" | "https")
        {
            return invalid("--webdriver-url", "must be an http(s) URL");
        }
        if !self.listen.ip().is_loopback() && self.write_token.as_deref().is_none_or(str::is_empty) {
            return invalid(
                "--write-token",
                &format!(
                    "required when listening on {} (not loopback): writes would be open to the network",
                    self.listen
                ),
            );
        }
        Ok(self.into_config_unchecked())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(args: &[&str]) -> Result<Config, ConfigError> {
        Cli::load(std::iter::once("runner").chain(args.iter().copied()))?.into_config()
    }

    #[test]
    fn defaults() {
        let c = Config::default();
        assert_eq!(c.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(c.db, "runner.db");
        assert_eq!((c.metrics.norm_mean, c.metrics.norm_domain), (200.0, 40.0));
        assert_eq!(c.job_timeout, Duration::from_secs(30));
        assert!(c.demo);
        Cli::command().debug_assert();
        if std::env::vars().all(|(k, _)| !k.starts_with("RUNNER_")) {
            let parsed = format!("{:?}", Cli::try_parse_from(["runner"]).unwrap());
            assert_eq!(parsed, format!("{:?}", Cli::defaults()));
        }
    }

    #[test]
    fn flags_beat_the_file_which_beats_defaults() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runner.toml");
        std::fs::write(&path, "job-timeout = 45\ngrace = 3\nno-demo = true\ndb = \"/tmp/x.db\"\n").unwrap();
        let c = load(&["--config", path.to_str().unwrap(), "--grace", "7"]).unwrap();
        assert_eq!(c.job_timeout, Duration::from_secs(45));
        assert_eq!(c.grace, Duration::from_secs(7));
        assert!(!c.demo);
        assert_eq!(c.db, "/tmp/x.db");
    }

    #[test]
    fn file_errors_name_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runner.toml");
        std::fs::write(&path, "job-timeot = 45\n").unwrap();
        let err = load(&["--config", path.to_str().unwrap()]).unwrap_err().to_string();
        assert!(err.contains("job-timeot"), "{err}");
    }

    #[test]
    fn non_loopback_needs_a_token() {
        let err = load(&["--listen", "0.0.0.0:8080"]).unwrap_err().to_string();
        assert!(err.starts_with("--write-token: required when listening on 0.0.0.0:8080"), "{err}");
        assert!(load(&["--listen", "0.0.0.0:8080", "--write-token", "s3cret"]).is_ok());
        assert!(load(&["--listen", "[::1]:8080"]).is_ok());
    }

    #[test]
    fn out_of_range_values_are_refused() {
        assert!(load(&["--norm-domain", "0"]).unwrap_err().to_string().starts_with("--norm-domain"));
        assert!(load(&["--job-timeout", "0"]).unwrap_err().to_string().starts_with("--job-timeout"));
        assert!(load(&["--webdriver-url", "ftp://x/"]).is_err());
    }
}
