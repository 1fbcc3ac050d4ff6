//! `runner`: the instrumented flow-runner service. See `runner --help`.

use std::process::ExitCode;

use anyhow::Context as _;
use runner::app::{App, StartError};
use runner::config::{Cli, Config, ConfigError};
use tracing_subscriber::EnvFilter;

/// Waits for Ctrl-C or SIGTERM.
async fn stop_signal() -> anyhow::Result<&'static str> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).context("cannot listen for SIGTERM")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.map(|()| "interrupt").context("cannot listen for Ctrl-C"),
            _ = term.recv() => Ok("SIGTERM"),
        }
    }
    #[cfg(not(unix))]
    {
        tokio::signal::ctrl_c().await.context("cannot listen for Ctrl-C")?;
        Ok("interrupt")
    }
}

async fn run(config: Config) -> anyhow::Result<()> {
    let filter = EnvFilter::try_new(&config.log).with_context(|| format!("--log `{}`", config.log))?;
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .init();
    let app = App::start(config).await?;
    let signal = stop_signal().await?;
    tracing::info!(signal, "shutting down");
    app.shutdown().await;
    Ok(())
}

/// `runner secret ...` / `runner var ...`: manage secrets and variables in the store.
fn secrets_command() -> ExitCode {
    use clap::Parser as _;
    let cli = runner::secrets::cli::SecretsCli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runner: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(cli.run()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("runner: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    if matches!(std::env::args().nth(1).as_deref(), Some("secret" | "var")) {
        return secrets_command();
    }
    // Usage errors exit 2, as clap's own do; failures after start-up exit 1.
    let config = match Cli::load(std::env::args_os()).and_then(Cli::into_config) {
        Ok(config) => config,
        Err(ConfigError::Cli(e)) => e.exit(), // --help, --version, bad flags: clap prints them
        Err(e) => {
            eprintln!("runner: {e}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("runner: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("runner: {e:#}");
            // A listener that needs a write token is a usage error too, found at start.
            match e.downcast_ref::<StartError>() {
                Some(StartError::TokenRequired { .. } | StartError::TokenTooShort { .. }) => {
                    ExitCode::from(2)
                }
                _ => ExitCode::FAILURE,
            }
        }
    }
}
