//! Configuration: command-line flags, each with a `RUNNER_*` environment variable, and an
//! optional TOML file (`--config runner.toml`) whose keys are the long flag names. Flags win
//! over the environment, the environment over the file, the file over the defaults.
//!
//! Each setting is declared once, as a field of [`Cli`]: its flag, variable, default and help
//! come from clap's attributes, its file key and type from serde's derive on the same struct.
//! The file's values become the flags' defaults before the command line is read again, so the
//! precedence is clap's own and no key can be left out of the merge; a key that is not a flag
//! is an error naming it. [`Config`] is the resolved form the runner starts from.
//!
//! ```toml
//! listen = "127.0.0.1:8080"
//! db = "/var/lib/runner/runner.db"
//! job-timeout = 45
//! no-demo = true
//! ```

use std::ffi::OsString;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use clap::{Command, CommandFactory, FromArgMatches, Parser};
use serde::Deserialize;
use url::Url;

use crate::driver::http::HttpOptions;
use crate::egress::{Policy, Rule};
use crate::metrics::MetricsOptions;

/// Checks web forms on customer sites, runs the checks as concurrent jobs, and reports every
/// job through Prometheus at /metrics.
///
/// Every flag can also be set by the environment variable shown, or by a key of the same
/// name in the --config file. Precedence: flag, environment, file, default.
///
/// Flows run on their own interval_secs, else their site's, each at a fixed per-flow offset
/// (jitter, under half an interval). The job queue holds at most one job per flow: a flow
/// whose job is still queued or running skips its next slot, and "run now" is refused (409)
/// while its site has an unfinished run.
#[derive(Debug, Clone, Parser, Deserialize)]
#[command(name = "runner", version, max_term_width = 100)]
#[serde(rename_all = "kebab-case", deny_unknown_fields, default)]
pub struct Cli {
    /// TOML file with settings; its keys are the long flag names (`job-timeout = 45`).
    #[arg(long, env = "RUNNER_CONFIG", value_name = "FILE")]
    #[serde(skip)]
    pub config: Option<PathBuf>,

    /// Address for the HTTP server: health at /, /metrics, the JSON API under /api.
    #[arg(long, env = "RUNNER_LISTEN", value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// The store: an SQLite file path (created and migrated on first start), or a
    /// postgres://user:pass@host/db URL to share one store and job queue among instances.
    #[arg(
        long,
        env = "RUNNER_DB",
        value_name = "PATH|URL",
        default_value = "runner.db",
        hide_env_values = true,
        hide_default_value = true
    )]
    pub db: String,

    /// Bearer token that writes (POST, PUT, DELETE) must present. Required when --listen is
    /// not a loopback address.
    #[arg(long, env = "RUNNER_WRITE_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub write_token: Option<String>,

    /// Expected job duration in ms: centres completion_duration_histogram_ms, whose buckets
    /// are linear from mean - 5 x domain in 20 steps of domain / 2.
    #[arg(long, env = "RUNNER_NORM_MEAN", value_name = "MS", default_value_t = crate::metrics::DEFAULT_NORM_MEAN)]
    pub norm_mean: f64,

    /// Spread of job durations in ms, for completion_duration_histogram_ms's buckets.
    #[arg(long, env = "RUNNER_NORM_DOMAIN", value_name = "MS", default_value_t = crate::metrics::DEFAULT_NORM_DOMAIN)]
    pub norm_domain: f64,

    /// Longest a job may run before it ends as timed_out, in seconds, for flows that set no
    /// timeout_secs of their own.
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

    /// The folder `attach` steps read files from (`file: cv.pdf` is DIR/cv.pdf); paths that
    /// leave it (`..`, absolute, symbolic links out) are refused. Without it, `attach` steps
    /// may only give their content inline.
    #[arg(long, env = "RUNNER_FILES_DIR", value_name = "DIR")]
    pub files_dir: Option<PathBuf>,

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

    // Security settings: secrets, read access, protected endpoints.
    /// File holding the key (64 hex digits) that secrets are encrypted under; created with
    /// mode 0600 on first start when absent. Default: the --db file's path plus `.key`
    /// (`runner.key` for PostgreSQL). Back it up apart from the store.
    #[arg(long, env = "RUNNER_SECRET_KEY_FILE", value_name = "FILE")]
    pub secret_key_file: Option<PathBuf>,

    /// Bearer token that reads (GET of sites, flows, runs, jobs, screenshots, secrets' names)
    /// may present instead of --write-token when the runner listens beyond loopback.
    #[arg(long, env = "RUNNER_READ_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    pub read_token: Option<String>,

    /// Off loopback, health at / needs a token too.
    #[arg(long, env = "RUNNER_PROTECT_HEALTH")]
    pub protect_health: bool,

    /// Off loopback, /metrics needs a token too.
    #[arg(long, env = "RUNNER_PROTECT_METRICS")]
    pub protect_metrics: bool,

    /// Comma-separated CIDRs, addresses, host names or `*.domain` patterns jobs may connect
    /// to even where the default policy refuses (link-local and metadata addresses).
    #[arg(long, env = "RUNNER_EGRESS_ALLOW", value_name = "RULES")]
    pub egress_allow: Option<String>,

    /// Comma-separated CIDRs, addresses, host names or `*.domain` patterns jobs may not
    /// connect to (`10.0.0.0/8,*.corp.example`); checked after DNS resolution, before
    /// --egress-allow. Private ranges are allowed unless listed here.
    #[arg(long, env = "RUNNER_EGRESS_DENY", value_name = "RULES")]
    pub egress_deny: Option<String>,

    /// How often a job that did not pass is run again before its outcome counts, for flows
    /// that set no `retries` of their own (0 to 10).
    #[arg(long, env = "RUNNER_RETRIES", value_name = "N", default_value_t = 1)]
    pub retries: u32,

    /// Wait before the first retry of a job, in milliseconds; each further retry waits twice
    /// as long as the one before, up to a minute.
    #[arg(long, env = "RUNNER_RETRY_BACKOFF", value_name = "MS", default_value_t = 2000)]
    pub retry_backoff: u64,

    /// Finished runs (with their jobs, attempts and screenshots) older than this many days
    /// are deleted; 0 keeps them.
    #[arg(long, env = "RUNNER_KEEP_DAYS", value_name = "DAYS", default_value_t = 30)]
    pub keep_days: u64,

    /// Only the newest N runs of each site are kept; 0 keeps them all.
    #[arg(long, env = "RUNNER_KEEP_RUNS_PER_SITE", value_name = "N", default_value_t = 5000)]
    pub keep_runs_per_site: u64,

    /// Log filter: error, warn, info, debug, trace, or per-module directives
    /// (`info,sqlx=warn`).
    #[arg(long, env = "RUNNER_LOG", value_name = "FILTER", default_value = "info,sqlx=warn")]
    pub log: String,
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
    /// Retries of flows that set none.
    pub retries: u32,
    /// Wait before the first retry.
    pub retry_backoff: Duration,
    /// What the pruner keeps.
    pub retention: crate::retention::RetentionOptions,
    /// Log filter.
    pub log: String,
    /// The secret key file.
    pub secret_key_file: PathBuf,
    /// Token for reads (the write token reads too).
    pub read_token: Option<String>,
    /// Whether `/` needs a token off loopback.
    pub protect_health: bool,
    /// Whether `/metrics` needs a token off loopback.
    pub protect_metrics: bool,
}

/// Where the secret key lives by default: beside an SQLite file, else `runner.key`.
pub(crate) fn default_key_file(db: &str) -> PathBuf {
    if db.starts_with("postgres://") || db.starts_with("postgresql://") || db.starts_with("sqlite:") {
        PathBuf::from("runner.key")
    } else {
        PathBuf::from(format!("{db}.key"))
    }
}

impl Default for Config {
    /// The flags' defaults, environment ignored.
    fn default() -> Self {
        Cli::defaults().into_config_unchecked()
    }
}

impl Default for Cli {
    /// [`Cli::defaults`]: what serde fills in for keys a file leaves out.
    fn default() -> Self {
        Self::defaults()
    }
}

impl Cli {
    /// The default of every flag (what `runner` with no flags and no environment gets), as
    /// the clap attributes declare them.
    pub fn defaults() -> Self {
        without_environment(Self::command())
            .try_get_matches_from(["runner"])
            .and_then(|matches| Self::from_arg_matches(&matches))
            .unwrap_or_else(|e| unreachable!("every flag has a default or is optional: {e}"))
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
        T: Into<OsString> + Clone,
    {
        Self::load_with(Self::command(), args)
    }

    /// [`Cli::load`] with `command`, this struct's command or a variant of it.
    fn load_with<I, T>(command: Command, args: I) -> Result<Self, ConfigError>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
    {
        let args: Vec<OsString> = args.into_iter().map(Into::into).collect();
        let first = Self::from_arg_matches(&command.clone().try_get_matches_from(&args)?)?;
        let Some(path) = first.config else { return Ok(first) };
        // Read again with the file's values as the defaults: the command line and the
        // environment still win, as they do over any default.
        let command = with_file_defaults(command, &path)?;
        Ok(Self::from_arg_matches(&command.try_get_matches_from(&args)?)?)
    }

    fn into_config_unchecked(self) -> Config {
        Config {
            secret_key_file: self.secret_key_file.clone().unwrap_or_else(|| default_key_file(&self.db)),
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
                files: crate::driver::files::FilesDir::new(self.files_dir.clone()),
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
            retries: self.retries,
            retry_backoff: Duration::from_millis(self.retry_backoff),
            retention: crate::retention::RetentionOptions {
                keep_days: self.keep_days,
                keep_runs_per_site: self.keep_runs_per_site,
                every: Duration::from_secs(600),
            },
            log: self.log,
            read_token: self.read_token.filter(|t| !t.is_empty()),
            protect_health: self.protect_health,
            protect_metrics: self.protect_metrics,
        }
    }

    /// Checks the values against what the runner can use, and resolves them. The write-token
    /// rule of a listener beyond loopback is [`App::start`](crate::app::App::start)'s, which
    /// every start passes through.
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
        if self.retries > crate::domain::MAX_RETRIES {
            return invalid("--retries", &format!("at most {}", crate::domain::MAX_RETRIES));
        }
        if self.http_sessions == 0 || self.webdriver_sessions == 0 || self.max_site_series == 0 {
            return invalid("--http-sessions/--webdriver-sessions/--max-site-series", "must be at least 1");
        }
        if let Some(url) = &self.webdriver_url
            && !matches!(url.scheme(), "http" | "https")
        {
            return invalid("--webdriver-url", "must be an http(s) URL");
        }
        let rules = |flag, text: &Option<String>| {
            Rule::parse_list(text.as_deref().unwrap_or_default())
                .map_err(|e| ConfigError::Invalid { flag, message: e.to_string() })
        };
        let allow = rules("--egress-allow", &self.egress_allow)?;
        let deny = rules("--egress-deny", &self.egress_deny)?;
        let mut config = self.into_config_unchecked();
        config.http.egress.policy = Arc::new(Policy::new(allow, deny));
        Ok(config)
    }
}

/// `command` reading no environment variables: for the defaults, and for tests that must not
/// see the caller's `RUNNER_*`.
fn without_environment(command: Command) -> Command {
    command.mut_args(|arg| arg.env(None::<&str>))
}

/// `command` with the values of the TOML file at `path` as the defaults of their flags.
fn with_file_defaults(mut command: Command, path: &Path) -> Result<Command, ConfigError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| ConfigError::Read { path: path.into(), source })?;
    let parse_error = |source| ConfigError::Parse { path: path.into(), source };
    // The typed read names an unknown key or a wrong type, with its line; clap then reads the
    // values again, as it would from the command line.
    toml::from_str::<Cli>(&text).map_err(parse_error)?;
    let table: toml::Table = toml::from_str(&text).map_err(parse_error)?;
    for (key, value) in table {
        let id = command
            .get_arguments()
            .find(|arg| arg.get_long() == Some(key.as_str()))
            .map(|arg| arg.get_id().clone())
            .ok_or_else(|| ConfigError::Invalid {
                flag: "--config",
                message: format!("unknown key `{key}`"),
            })?;
        let value = match value {
            toml::Value::String(s) => s,
            toml::Value::Integer(n) => n.to_string(),
            toml::Value::Float(x) => x.to_string(),
            toml::Value::Boolean(b) => b.to_string(),
            toml::Value::Datetime(d) => d.to_string(),
            toml::Value::Array(_) | toml::Value::Table(_) => {
                let message = format!("`{key}` takes one value, not a list or a table");
                return Err(ConfigError::Invalid { flag: "--config", message });
            }
        };
        command = command.mut_arg(id, |arg| arg.default_value(value));
    }
    Ok(command)
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
        assert_eq!((c.metrics.norm_mean, c.metrics.norm_domain), (2500.0, 500.0));
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
    fn out_of_range_values_are_refused() {
        assert!(load(&["--norm-domain", "0"]).unwrap_err().to_string().starts_with("--norm-domain"));
        assert!(load(&["--job-timeout", "0"]).unwrap_err().to_string().starts_with("--job-timeout"));
        assert!(load(&["--webdriver-url", "ftp://x/"]).is_err());
    }

    /// How a test reads one setting back from a [`Config`].
    type Read = fn(&Config) -> String;

    /// Every key of the file, a value for it that is not its default, how to read it back
    /// from [`Config`], and what it must read. A flag without a row here fails the test, as
    /// does a key the merge or the conversion to [`Config`] drops.
    const EVERY_KEY: &[(&str, &str, Read, &str)] = &[
        ("listen", "\"0.0.0.0:9090\"", |c| c.listen.to_string(), "0.0.0.0:9090"),
        ("db", "\"/srv/runner.db\"", |c| c.db.clone(), "/srv/runner.db"),
        ("write-token", "\"s3cret\"", |c| format!("{:?}", c.write_token), "Some(\"s3cret\")"),
        ("norm-mean", "250.5", |c| c.metrics.norm_mean.to_string(), "250.5"),
        ("norm-domain", "12", |c| c.metrics.norm_domain.to_string(), "12"),
        ("job-timeout", "45", |c| format!("{:?} {:?}", c.job_timeout, c.http.request_timeout), "45s 45s"),
        ("grace", "3", |c| format!("{:?}", c.grace), "3s"),
        ("http-sessions", "3", |c| c.http.capacity.to_string(), "3"),
        ("connect-timeout", "6", |c| format!("{:?}", c.http.connect_timeout), "6s"),
        ("read-timeout", "7", |c| format!("{:?}", c.http.read_timeout), "7s"),
        ("max-page-bytes", "4096", |c| c.http.max_page_bytes.to_string(), "4096"),
        ("files-dir", "\"/srv/forms\"", |c| format!("{:?}", c.http.files), "FilesDir(Some(\"/srv/forms\"))"),
        (
            "webdriver-url",
            "\"http://grid.test:4444/wd/hub\"",
            |c| format!("{:?}", c.webdriver_url.as_ref().map(Url::as_str)),
            "Some(\"http://grid.test:4444/wd/hub\")",
        ),
        ("webdriver-sessions", "5", |c| c.webdriver_sessions.to_string(), "5"),
        (
            "chromedriver",
            "\"/opt/chromedriver\"",
            |c| format!("{:?}", c.chromedriver),
            "Some(\"/opt/chromedriver\")",
        ),
        ("chromium", "\"/opt/chromium\"", |c| format!("{:?}", c.chromium), "Some(\"/opt/chromium\")"),
        ("poll-interval", "250", |c| format!("{:?}", c.poll_interval), "250ms"),
        ("instance-id", "\"eu-1\"", |c| format!("{:?}", c.instance_id), "Some(\"eu-1\")"),
        ("stale-after", "60", |c| format!("{:?}", c.stale_after), "60s"),
        ("no-demo", "true", |c| c.demo.to_string(), "false"),
        ("max-site-series", "9", |c| c.metrics.max_site_series.to_string(), "9"),
        ("retries", "3", |c| c.retries.to_string(), "3"),
        ("retry-backoff", "500", |c| format!("{:?}", c.retry_backoff), "500ms"),
        ("keep-days", "7", |c| c.retention.keep_days.to_string(), "7"),
        ("keep-runs-per-site", "10", |c| c.retention.keep_runs_per_site.to_string(), "10"),
        ("log", "\"debug\"", |c| c.log.clone(), "debug"),
        (
            "secret-key-file",
            "\"/etc/runner.key\"",
            |c| c.secret_key_file.display().to_string(),
            "/etc/runner.key",
        ),
        (
            "read-token",
            "\"read-token-0123456789\"",
            |c| format!("{:?}", c.read_token),
            "Some(\"read-token-0123456789\")",
        ),
        ("protect-health", "true", |c| c.protect_health.to_string(), "true"),
        ("protect-metrics", "true", |c| c.protect_metrics.to_string(), "true"),
        (
            "egress-allow",
            "\"169.254.10.0/24\"",
            |c| format!("{:?}", c.http.egress.policy),
            "Policy { deny: [\"10.0.0.0/8\", \"*.corp.example\"], allow: [\"169.254.10.0/24\"], protected: [] }",
        ),
        (
            "egress-deny",
            "\"10.0.0.0/8,*.corp.example\"",
            |c| format!("{:?}", c.http.egress.policy),
            "Policy { deny: [\"10.0.0.0/8\", \"*.corp.example\"], allow: [\"169.254.10.0/24\"], protected: [] }",
        ),
    ];

    #[test]
    fn every_file_key_arrives_in_the_config() {
        let command = Cli::command();
        let mut flags: Vec<&str> =
            command.get_arguments().filter_map(|a| a.get_long()).filter(|&f| f != "config").collect();
        let mut keys: Vec<&str> = EVERY_KEY.iter().map(|(key, ..)| *key).collect();
        flags.sort_unstable();
        keys.sort_unstable();
        assert_eq!(keys, flags, "every flag but --config needs a row in EVERY_KEY");

        let file: String = EVERY_KEY.iter().map(|(key, value, ..)| format!("{key} = {value}\n")).collect();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("runner.toml");
        std::fs::write(&path, file).unwrap();
        let args = ["runner".into(), "--config".into(), path.into_os_string()];
        let config =
            Cli::load_with(without_environment(Cli::command()), args).unwrap().into_config().unwrap();
        let defaults = Config::default();
        for (key, _, read, want) in EVERY_KEY {
            assert_eq!(read(&config), *want, "`{key}` from the file");
            assert_ne!(read(&defaults), *want, "`{key}`: the test needs a value that is not the default");
        }
    }
}
