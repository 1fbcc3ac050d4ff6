//! `runner secret ...` and `runner var ...`: set, list and delete secrets and variables in a
//! store without a running runner. A secret's value is read from standard input, never from
//! the command line, so that it stays out of shell histories and process lists.

use std::io::Read as _;
use std::path::PathBuf;

use clap::{Parser, Subcommand};

use super::{SecretKey, valid_name};
use crate::store::{OpenOptions, Store};

/// Manages the secrets and variables flows refer to as ${secrets.NAME} and ${vars.NAME}.
#[derive(Debug, Parser)]
#[command(name = "runner", max_term_width = 100)]
pub struct SecretsCli {
    /// The store, as for the runner.
    #[arg(
        long,
        env = "RUNNER_DB",
        value_name = "PATH|URL",
        default_value = "runner.db",
        global = true,
        hide_env_values = true,
        hide_default_value = true
    )]
    pub db: String,

    /// The secret key file, as for the runner (default: the --db file's path plus `.key`).
    #[arg(long, env = "RUNNER_SECRET_KEY_FILE", value_name = "FILE", global = true)]
    pub secret_key_file: Option<PathBuf>,

    /// What to do.
    #[command(subcommand)]
    pub command: Kind,
}

/// Secrets or variables.
#[derive(Debug, Subcommand)]
pub enum Kind {
    /// Secrets: values encrypted at rest, never shown again.
    #[command(subcommand)]
    Secret(Action),
    /// Variables: plain values.
    #[command(subcommand)]
    Var(Action),
}

/// One action.
#[derive(Debug, Subcommand)]
pub enum Action {
    /// Sets or rotates NAME; the value is read from standard input (a trailing newline is
    /// dropped).
    Set {
        /// The name flows use.
        name: String,
    },
    /// Lists names (and, for variables, values).
    List,
    /// Deletes NAME.
    Delete {
        /// The name.
        name: String,
    },
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CliError {
    /// A bad name.
    #[error("`{0}` is not a valid name: use 1 to 64 letters, digits, `_` or `-`")]
    Name(String),
    /// Standard input could not be read.
    #[error("cannot read the value from standard input: {0}")]
    Stdin(std::io::Error),
    /// The key.
    #[error(transparent)]
    Key(#[from] super::KeyError),
    /// Sealing.
    #[error(transparent)]
    Seal(#[from] super::SealError),
    /// The store.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

impl SecretsCli {
    /// Runs the command, printing what it did to stdout.
    ///
    /// # Errors
    ///
    /// [`CliError`].
    pub async fn run(self) -> Result<(), CliError> {
        let store = Store::open(&self.db, &OpenOptions::default()).await?;
        let now = crate::now_ms();
        match self.command {
            Kind::Secret(Action::Set { name }) => {
                if !valid_name(&name) {
                    return Err(CliError::Name(name));
                }
                let path = self.secret_key_file.unwrap_or_else(|| crate::config::default_key_file(&self.db));
                let (key, created) = SecretKey::load_or_create(&path)?;
                if created {
                    eprintln!("generated a new secret key at {} (mode 0600); back it up", path.display());
                }
                let value = read_value()?;
                store.set_secret(&name, &key.seal(&name, &value)?, now).await?;
                println!("secret {name} set");
            }
            Kind::Secret(Action::List) => {
                for s in store.secrets().await? {
                    println!("{}\tupdated_at={}", s.name, s.updated_at);
                }
            }
            Kind::Secret(Action::Delete { name }) => {
                store.delete_secret(&name).await?;
                println!("secret {name} deleted");
            }
            Kind::Var(Action::Set { name }) => {
                if !valid_name(&name) {
                    return Err(CliError::Name(name));
                }
                store.set_var(&name, &read_value()?, now).await?;
                println!("variable {name} set");
            }
            Kind::Var(Action::List) => {
                for v in store.vars().await? {
                    println!("{}={}", v.name, v.value);
                }
            }
            Kind::Var(Action::Delete { name }) => {
                store.delete_var(&name).await?;
                println!("variable {name} deleted");
            }
        }
        store.close().await;
        Ok(())
    }
}

fn read_value() -> Result<String, CliError> {
    let mut value = String::new();
    std::io::stdin().read_to_string(&mut value).map_err(CliError::Stdin)?;
    let trimmed = value.strip_suffix('\n').unwrap_or(&value);
    Ok(trimmed.strip_suffix('\r').unwrap_or(trimmed).to_owned())
}
