//! The running service: opens and migrates the store, recovers from a crash, seeds and serves
//! the demo site, starts the worker pool, the scheduler and the HTTP server, and shuts them
//! down in order.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use promkit::Registry;
use tokio::net::TcpListener;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::domain::Limits;
use crate::domain::SiteSpec;
use crate::driver::DriverRegistry;
use crate::driver::http::{self, HttpDriver};
use crate::driver::webdriver::WebDriverDriver;
use crate::metrics::Metrics;
use crate::pool::{Drained, Pool, PoolOptions};
use crate::scheduler::{Scheduler, SchedulerOptions};
use crate::secrets::SecretKey;
use crate::service::Runs;
use crate::store::{OpenOptions, Store, StoreError};
use crate::web::{self, Access, AppState};
use crate::{demo, loopback, now_ms};

/// Why the runner could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// Listening beyond loopback without a write token would open writes to the network. A
    /// usage error, as the configuration's own: `runner` exits 2.
    #[error(
        "--write-token: required when listening on {addr} (not loopback): writes would be open to the network"
    )]
    TokenRequired {
        /// The address.
        addr: SocketAddr,
    },
    /// A token too short to withstand guessing. A usage error: `runner` exits 2.
    #[error(
        "{flag}: {len} characters is too short; use at least {MIN_TOKEN_LEN} (for example `openssl rand -hex 24`)"
    )]
    TokenTooShort {
        /// The flag.
        flag: &'static str,
        /// The given token's length.
        len: usize,
    },
    /// The listener could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The store could not be opened, migrated or read.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The metrics could not be registered.
    #[error("cannot register metrics: {0}")]
    Metrics(#[from] promkit::Error),
    /// A metric series could not be resolved.
    #[error("cannot resolve a metric series: {0}")]
    Label(#[from] promkit::LabelError),
    /// The http engine could not be built.
    #[error(transparent)]
    Http(#[from] http::BuildError),
    /// The demo site could not be served.
    #[error("cannot serve the demo site: {0}")]
    Demo(std::io::Error),
    /// A driver was registered twice.
    #[error(transparent)]
    Driver(#[from] crate::driver::DuplicateDriver),
    /// The secret key could not be read or created.
    #[error(transparent)]
    SecretKey(#[from] crate::secrets::KeyError),
    /// The chromedriver of `--chromedriver` could not be started.
    #[error(transparent)]
    Chromedriver(#[from] crate::driver::webdriver::SpawnError),
}

/// A running runner.
#[derive(Debug)]
pub struct App {
    addr: SocketAddr,
    demo_addr: Option<SocketAddr>,
    instance: String,
    store: Store,
    registry: Registry,
    metrics: Arc<Metrics>,
    state: AppState,
    stop_work: watch::Sender<bool>,
    stop_serving: watch::Sender<bool>,
    pool: JoinHandle<Drained>,
    scheduler: JoinHandle<()>,
    retention: JoinHandle<()>,
    servers: Vec<JoinHandle<()>>,
}

/// This machine's host name, for the default instance id.
fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_owned())
        .ok()
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".to_owned())
}

/// The write-token rule, checked here only: every start passes through [`App::start`],
/// whether its [`Config`] came from the command line or was built in code. An empty token
/// counts as none.
fn require_token_off_loopback(config: &Config) -> Result<(), StartError> {
    if loopback::is_ip(config.listen.ip()) || config.write_token.as_deref().is_some_and(|t| !t.is_empty()) {
        Ok(())
    } else {
        Err(StartError::TokenRequired { addr: config.listen })
    }
}

/// Shortest token accepted, in characters: short enough to type, too long to guess within
/// the rate limit.
pub const MIN_TOKEN_LEN: usize = 16;

/// Tokens shorter than [`MIN_TOKEN_LEN`] are refused at start.
fn require_long_tokens(config: &Config) -> Result<(), StartError> {
    for (flag, token) in [("--write-token", &config.write_token), ("--read-token", &config.read_token)] {
        if let Some(token) = token.as_deref().filter(|t| !t.is_empty())
            && token.chars().count() < MIN_TOKEN_LEN
        {
            return Err(StartError::TokenTooShort { flag, len: token.chars().count() });
        }
    }
    Ok(())
}

fn ms(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl App {
    /// Starts everything. Returns once the HTTP server is listening.
    ///
    /// # Errors
    ///
    /// [`StartError`] naming what could not start.
    pub async fn start(config: Config) -> Result<Self, StartError> {
        require_token_off_loopback(&config)?;
        require_long_tokens(&config)?;
        let listener = TcpListener::bind(config.listen)
            .await
            .map_err(|source| StartError::Bind { addr: config.listen, source })?;
        let addr =
            listener.local_addr().map_err(|source| StartError::Bind { addr: config.listen, source })?;
        let instance =
            config.instance_id.clone().unwrap_or_else(|| format!("{}:{}", hostname(), addr.port()));

        let store = Store::open(&config.db, &OpenOptions::default()).await?;
        let (secret_key, created) = SecretKey::load_or_create(&config.secret_key_file)?;
        if created {
            tracing::warn!(
                path = %config.secret_key_file.display(),
                "generated a new secret key (mode 0600); back it up apart from the store: secrets cannot be read without it"
            );
        }
        let secret_key = Arc::new(secret_key);
        let now = now_ms();
        // A restart under the same instance id: every job still marked running here was
        // running when this instance died.
        let recovered = store.recover_interrupted(Some(&instance), now - ms(config.stale_after), now).await?;
        store.heartbeat(&instance, now).await?;

        let registry = Registry::new();
        let metrics = Arc::new(Metrics::new(&registry, &config.metrics)?);
        // The runtime this is running on: workers, alive tasks, queue depth, busy time.
        registry.register(promkit_tokio::RuntimeCollector::current()).map_err(promkit::Error::from)?;
        for status in &recovered.settled {
            metrics.run_settled(*status);
        }
        if recovered.jobs > 0 {
            tracing::warn!(
                jobs = recovered.jobs,
                runs = recovered.settled.len(),
                "marked jobs of a previous run interrupted"
            );
        }

        let mut drivers = DriverRegistry::new();
        let mut webdriver = WebDriverDriver::start(&config).await?;
        // Jobs never reach the runner's own API nor the browser's control port.
        let mut policy = (*config.http.egress.policy).clone();
        policy.protect(addr, "the runner's own listen address");
        if let Some(control) =
            webdriver.url().and_then(|u| u.socket_addrs(|| None).ok()).into_iter().flatten().next()
        {
            policy.protect(control, "the WebDriver (chromedriver) control port");
        }
        let mut http_options = config.http.clone();
        http_options.egress.policy = Arc::new(policy);
        webdriver.set_egress(http_options.egress.clone());
        webdriver.set_files(http_options.files.clone());
        let http = HttpDriver::new(&http_options)?;
        drivers.register(Arc::new(http), metrics.driver_sessions("http")?)?;
        drivers.register(Arc::new(webdriver), metrics.driver_sessions("webdriver")?)?;
        let drivers = Arc::new(drivers);

        let (stop_work, work_rx) = watch::channel(false);
        let (stop_serving, serve_rx) = watch::channel(false);
        let mut servers = Vec::new();

        let demo_addr = if config.demo {
            let (demo_listener, demo_addr) = demo::bind().await.map_err(StartError::Demo)?;
            let rx = serve_rx.clone();
            servers.push(tokio::spawn(async move {
                if let Err(e) = demo::serve(demo_listener, rx).await {
                    tracing::error!(error = %e, "demo site stopped");
                }
            }));
            seed_demo(&store, demo_addr).await?;
            Some(demo_addr)
        } else {
            disable_demo(&store).await?;
            None
        };

        let wake = Arc::new(Notify::new());
        let runs = Runs::new(store.clone(), Arc::clone(&metrics), Arc::clone(&wake));
        let pool_options = PoolOptions {
            instance: instance.clone(),
            job_timeout: config.job_timeout,
            poll_interval: config.poll_interval,
            grace: config.grace,
            retries: config.retries,
            retry_backoff: config.retry_backoff,
        };
        let pool = Pool::new(store.clone(), Arc::clone(&drivers), Arc::clone(&metrics), pool_options, wake);
        pool.set_secret_key(Arc::clone(&secret_key));
        let pool = tokio::spawn(pool.run(work_rx.clone()));
        let scheduler_options = SchedulerOptions {
            instance: instance.clone(),
            tick: config.tick,
            heartbeat: (config.stale_after / 4).clamp(Duration::from_millis(200), Duration::from_secs(5)),
            stale_after: config.stale_after,
            overdue_after: overdue_after(&config),
            job_timeout: config.job_timeout,
        };
        let scheduler = Scheduler::new(store.clone(), runs.clone(), Arc::clone(&metrics), scheduler_options);
        let retention =
            tokio::spawn(crate::retention::run(store.clone(), config.retention.clone(), work_rx.clone()));
        let scheduler = tokio::spawn(scheduler.run(work_rx));

        let state = AppState::new(store.clone(), drivers, runs, Limits::default());
        state.set_secret_key(secret_key);
        let access = Access {
            write_token: config.write_token.as_deref().map(Arc::from),
            loopback: loopback::is_ip(addr.ip()),
            read_token: config.read_token.as_deref().map(Arc::from),
            protect_health: config.protect_health,
            protect_metrics: config.protect_metrics,
            ..Access::loopback()
        };
        let router = web::router(state.clone(), &registry, access)?;
        let mut rx = serve_rx;
        servers.push(tokio::spawn(async move {
            let stop = async move {
                let _ = rx.wait_for(|stop| *stop).await;
            };
            // The client address feeds the rate limit of failed token checks.
            let service = router.into_make_service_with_connect_info::<SocketAddr>();
            if let Err(e) = axum::serve(listener, service).with_graceful_shutdown(stop).await {
                tracing::error!(error = %e, "HTTP server stopped");
            }
        }));
        tracing::info!(%addr, demo = ?demo_addr, %instance, store = store.backend().as_str(), "runner started");
        tracing::info!("dashboard at http://{addr}/ui");
        Ok(Self {
            addr,
            demo_addr,
            instance,
            store,
            registry,
            metrics,
            state,
            stop_work,
            stop_serving,
            pool,
            scheduler,
            retention,
            servers,
        })
    }

    /// The HTTP server's address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The demo site's address, when served.
    pub fn demo_addr(&self) -> Option<SocketAddr> {
        self.demo_addr
    }

    /// This instance's id.
    pub fn instance(&self) -> &str {
        &self.instance
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// The registry `/metrics` serves.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The runner's metrics.
    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Shuts down in order: stop claiming jobs and scheduling runs; let running jobs finish
    /// within the grace period and cancel the rest; cancel queued jobs when no other instance
    /// is alive to run them; stop the HTTP servers (the demo site last, as jobs use it).
    pub async fn shutdown(self) -> Drained {
        self.state.set_draining();
        let _ = self.stop_work.send(true);
        let drained = self.pool.await.unwrap_or_else(|e| {
            tracing::error!(error = %e, "worker pool task failed");
            Drained::default()
        });
        let _ = self.scheduler.await;
        let _ = self.retention.await;
        let now = now_ms();
        match self.store.other_live_instances(&self.instance, now - 30_000).await {
            Ok(0) => match self
                .store
                .cancel_queued("the last runner instance shut down before the job started", now)
                .await
            {
                Ok(done) => {
                    for status in done.settled {
                        self.metrics.run_settled(status);
                    }
                    if done.jobs > 0 {
                        tracing::info!(jobs = done.jobs, "cancelled queued jobs");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "cannot cancel queued jobs"),
            },
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "cannot count live instances"),
        }
        if let Err(e) = self.store.remove_instance(&self.instance).await {
            tracing::warn!(error = %e, "cannot deregister this instance");
        }
        let _ = self.stop_serving.send(true);
        for server in self.servers {
            let _ = server.await;
        }
        self.store.close().await;
        tracing::info!(finished = drained.finished, cancelled = drained.cancelled, "runner stopped");
        drained
    }
}

/// Seeds the demo site into an empty store, or points the seeded one at this start's port.
async fn seed_demo(store: &Store, addr: SocketAddr) -> Result<(), StoreError> {
    let base = format!("http://{addr}/");
    let now = now_ms();
    if let Some(site) = store.builtin_site("demo").await? {
        store.set_base_url(site.id, &base, now).await?;
    } else if store.count_sites().await? == 0 {
        match store.create_site(&demo::site(&base), Some("demo"), now).await {
            Ok(site) => tracing::info!(site = site.id, %base, "seeded the demo site"),
            // Another instance seeded it at the same moment.
            Err(StoreError::DuplicateSite(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// With `--no-demo`, a demo site seeded by an earlier start would run against a port nobody
/// serves: disable it (its history stays; DELETE removes it), saying so.
async fn disable_demo(store: &Store) -> Result<(), StoreError> {
    let Some(site) = store.builtin_site("demo").await? else { return Ok(()) };
    if !site.enabled {
        return Ok(());
    }
    let spec = SiteSpec {
        name: site.name.clone(),
        base_url: site.base_url.clone(),
        interval_secs: site.interval_secs,
        enabled: false,
        flows: None,
    };
    store.update_site(site.id, &spec, now_ms()).await?;
    tracing::info!(
        site = site.id,
        "--no-demo: disabled the seeded demo site; delete it with DELETE /api/sites/{}",
        site.id
    );
    Ok(())
}

/// How long a job may be `running` before the sweep closes it: every attempt a flow may ask
/// for ([`MAX_RETRIES`](crate::domain::MAX_RETRIES) retries) at the job timeout, the waits
/// between them, the shutdown grace, and a minute for result writes held through a store
/// outage.
fn overdue_after(config: &Config) -> Duration {
    let retries = crate::domain::MAX_RETRIES;
    let backoff: Duration = (1..=retries).map(|r| crate::pool::backoff(config.retry_backoff, r)).sum();
    config.job_timeout.saturating_mul(retries + 1) + backoff + config.grace + Duration::from_secs(60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_loopback_a_write_token_is_required() {
        let config = |listen: &str, token: Option<&str>| Config {
            listen: listen.parse().unwrap(),
            write_token: token.map(str::to_owned),
            ..Config::default()
        };
        let err = require_token_off_loopback(&config("0.0.0.0:8080", None)).unwrap_err().to_string();
        assert!(err.starts_with("--write-token: required when listening on 0.0.0.0:8080"), "{err}");
        assert!(require_token_off_loopback(&config("0.0.0.0:8080", Some(""))).is_err());
        assert!(require_token_off_loopback(&config("[::]:8080", None)).is_err());
        assert!(require_token_off_loopback(&config("0.0.0.0:8080", Some("s3cret"))).is_ok());
        for loopback in ["127.0.0.1:8080", "127.0.0.2:0", "[::1]:8080", "[::ffff:127.0.0.1]:8080"] {
            assert!(require_token_off_loopback(&config(loopback, None)).is_ok(), "{loopback}");
        }
    }
}
