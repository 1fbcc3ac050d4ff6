//! The binary's command line: `--help` documents every flag with its environment variable,
//! and settings resolve flag > environment > file > default.

use std::process::Command;

use clap::CommandFactory;
use runner::app::{App, StartError};
use runner::config::Cli;

use crate::support::test_config;

fn runner() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_runner"));
    for (key, _) in std::env::vars() {
        if key.starts_with("RUNNER_") {
            cmd.env_remove(key);
        }
    }
    cmd
}

#[test]
fn help_documents_every_flag_and_its_environment_variable() {
    let out = runner().arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    let cli = Cli::command();
    let mut flags = 0;
    for arg in cli.get_arguments() {
        let Some(long) = arg.get_long() else { continue };
        if matches!(long, "help" | "version") {
            continue;
        }
        flags += 1;
        let env = format!("RUNNER_{}", long.to_uppercase().replace('-', "_"));
        assert!(help.contains(&format!("--{long}")), "--{long} missing from --help");
        assert!(help.contains(&format!("[env: {env}")), "{env} missing from --help");
        assert!(arg.get_long_help().or(arg.get_help()).is_some(), "--{long} has no help text");
    }
    assert!(flags >= 18, "{flags} flags");
}

/// Runs the binary with `args`, `env` and `file` as its config; returns its stderr. Every
/// case here ends in a configuration error, so no server starts.
fn config_error(args: &[&str], env: &[(&str, &str)], file: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("runner.toml");
    std::fs::write(&path, file).unwrap();
    let mut cmd = runner();
    cmd.current_dir(dir.path()).arg("--config").arg(&path).args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn flags_beat_environment_beats_file() {
    // The file alone applies.
    let err = config_error(&[], &[], "job-timeout = 0\n");
    assert_eq!(err.trim(), "runner: --job-timeout: must be at least 1");
    // The environment beats the file: 5 from the environment passes that check, and the
    // file's non-loopback listener (no token) is what stops the start.
    let err = config_error(&[], &[("RUNNER_JOB_TIMEOUT", "5")], "job-timeout = 0\nlisten = \"0.0.0.0:0\"\n");
    assert!(err.starts_with("runner: --write-token: required when listening on 0.0.0.0:0"), "{err}");
    // A flag beats the environment.
    let err = config_error(&["--job-timeout", "0"], &[("RUNNER_JOB_TIMEOUT", "5")], "");
    assert_eq!(err.trim(), "runner: --job-timeout: must be at least 1");
    // Unknown keys in the file are named.
    let err = config_error(&[], &[], "job-timeot = 5\n");
    assert!(err.contains("unknown field `job-timeot`"), "{err}");
}

#[tokio::test]
async fn no_open_writes_beyond_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&dir);
    config.listen = "0.0.0.0:0".parse().unwrap();
    let err = App::start(config).await.unwrap_err();
    assert!(matches!(err, StartError::TokenRequired { .. }), "{err}");
}

#[test]
fn secrets_are_set_from_standard_input_and_listed_by_name() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("runner.db");
    let mut child = runner()
        .args(["secret", "set", "API_KEY", "--db"])
        .arg(&db)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"k-0123456789\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "secret API_KEY set\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("generated a new secret key"));
    let key = dir.path().join("runner.db.key");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&key).unwrap().permissions().mode() & 0o777, 0o600);
    }
    let out = runner().args(["secret", "list", "--db"]).arg(&db).output().unwrap();
    let listed = String::from_utf8(out.stdout).unwrap();
    assert!(listed.starts_with("API_KEY\tupdated_at="), "{listed}");
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        let bytes = std::fs::read(entry.unwrap().path()).unwrap();
        assert!(!bytes.windows(12).any(|w| w == b"k-0123456789"), "the value is stored sealed");
    }
    let out = runner().args(["secret", "set", "bad.name", "--db"]).arg(&db).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a valid name"));
}

#[test]
fn db_values_stay_out_of_help() {
    let out = runner().arg("--help").env("RUNNER_DB", "postgres://u:hunter2@db/runner").output().unwrap();
    let help = String::from_utf8(out.stdout).unwrap();
    assert!(!help.contains("hunter2"), "{help}");
}
