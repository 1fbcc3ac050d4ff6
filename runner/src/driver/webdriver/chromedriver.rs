//! A chromedriver the runner starts itself (`--chromedriver PATH` without `--webdriver-url`):
//! on a free loopback port, waited for until it says it is ready, killed when dropped together
//! with any browser it still runs (they share its process group).

use std::net::{Ipv4Addr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::Mutex;
use std::time::Duration;

use tokio::process::{Child, Command};
use url::Url;

/// How long chromedriver may take to answer `/status` as ready.
const READY_WITHIN: Duration = Duration::from_secs(15);

/// Why chromedriver could not be started.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SpawnError {
    /// The program could not be run.
    #[error("cannot run chromedriver `{}`: {source} (install it, e.g. `apt-get install chromium-driver`, or pass --webdriver-url)", path.display())]
    Run {
        /// The path given.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// No loopback port could be found for it.
    #[error("cannot find a free loopback port for chromedriver: {0}")]
    Port(std::io::Error),
    /// It exited before it was ready.
    #[error("chromedriver `{}` exited before it was ready ({status})", path.display())]
    Exited {
        /// The path given.
        path: PathBuf,
        /// How it exited.
        status: ExitStatus,
    },
    /// It did not say it was ready in time.
    #[error("chromedriver `{}` was not ready within {}s at {url}", path.display(), READY_WITHIN.as_secs())]
    NotReady {
        /// The path given.
        path: PathBuf,
        /// Where it should have answered.
        url: Url,
    },
}

/// A running chromedriver child process; killed when dropped.
#[derive(Debug)]
pub struct Chromedriver {
    url: Url,
    child: Mutex<Child>,
}

impl Chromedriver {
    /// Starts `path` on a free port of 127.0.0.1 and waits until it is ready.
    ///
    /// # Errors
    ///
    /// [`SpawnError`] naming what failed.
    pub async fn spawn(path: &Path) -> Result<Self, SpawnError> {
        let port = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
            .and_then(|l| l.local_addr())
            .map_err(SpawnError::Port)?
            .port();
        let mut command = Command::new(path);
        // Its own process group, which the browsers it launches stay in: dropping it can then
        // stop them all, even mid-session.
        #[cfg(unix)]
        command.process_group(0);
        let mut child = command
            .arg(format!("--port={port}"))
            // chromedriver accepts local connections only unless told otherwise; say so anyway.
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|source| SpawnError::Run { path: path.to_owned(), source })?;
        let url =
            Url::parse(&format!("http://127.0.0.1:{port}/")).unwrap_or_else(|_| unreachable!("a valid URL"));
        super::super::http::install_crypto_provider();
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(2))
            .build()
            .map_err(|e| SpawnError::Run { path: path.to_owned(), source: std::io::Error::other(e) })?;
        let deadline = tokio::time::Instant::now() + READY_WITHIN;
        loop {
            if let Ok(Some(status)) = child.try_wait() {
                return Err(SpawnError::Exited { path: path.to_owned(), status });
            }
            if super::status::server_status(&client, &url).await.is_ok_and(|s| s.ready) {
                tracing::info!(%url, path = %path.display(), "started chromedriver");
                return Ok(Self { url, child: Mutex::new(child) });
            }
            if tokio::time::Instant::now() >= deadline {
                let _ = child.start_kill();
                return Err(SpawnError::NotReady { path: path.to_owned(), url });
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Where it listens.
    pub fn url(&self) -> &Url {
        &self.url
    }

    /// Its process id (also its browsers' process group), while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.lock().ok()?.id()
    }
}

impl Drop for Chromedriver {
    fn drop(&mut self) {
        let child = self.child.get_mut().unwrap_or_else(std::sync::PoisonError::into_inner);
        // The group first (chromedriver and its browsers; sessions still open, as after a
        // panic or an unfinished shutdown, would leave them running), then the child itself.
        #[cfg(unix)]
        if let Some(group) = child
            .id()
            .and_then(|id| i32::try_from(id).ok())
            .filter(|&id| id > 1)
            .and_then(rustix::process::Pid::from_raw)
        {
            let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        }
        let _ = child.start_kill();
    }
}
