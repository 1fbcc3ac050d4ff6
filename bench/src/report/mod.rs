//! The `report` subcommand: run everything, collect the numbers, write `BENCHMARKS.md`.

mod machine;
mod markdown;
mod memory;
mod results;
mod scrape;

use std::error::Error;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

pub(crate) use memory::MemoryRow;
pub(crate) use results::Results;

/// Boxed errors: this is a binary, and every failure ends the run with its message.
pub(crate) type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// What `report` was asked to do.
#[derive(Debug)]
pub(crate) struct Options {
    warm_up_time: String,
    measurement_time: String,
    skip_bench: bool,
    skip_scrape: bool,
}

impl Options {
    /// Parses the arguments after `report`.
    pub(crate) fn parse(args: &[String]) -> Result<Self> {
        let mut options = Options {
            warm_up_time: "1".to_owned(),
            measurement_time: "2".to_owned(),
            skip_bench: false,
            skip_scrape: false,
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--warm-up-time" => options.warm_up_time = seconds(arg, args.next())?,
                "--measurement-time" => options.measurement_time = seconds(arg, args.next())?,
                "--skip-bench" => options.skip_bench = true,
                "--skip-scrape" => options.skip_scrape = true,
                other => return Err(format!("unknown option `{other}`").into()),
            }
        }
        Ok(options)
    }
}

fn seconds(flag: &str, value: Option<&String>) -> Result<String> {
    let value = value.ok_or_else(|| format!("`{flag}` needs a number of seconds"))?;
    value.parse::<f64>().map_err(|_| format!("`{flag} {value}`: not a number of seconds"))?;
    Ok(value.clone())
}

/// The settings and conditions of one run, printed in the document.
#[derive(Debug)]
pub(crate) struct Run {
    /// The command that regenerates the document.
    pub(crate) command: String,
    /// Criterion's arguments.
    pub(crate) criterion_args: String,
    /// Whether criterion ran in this invocation (false with `--skip-bench`).
    pub(crate) benched: bool,
    /// Wall time of the whole run, in seconds.
    pub(crate) wall_seconds: f64,
    /// `/proc/loadavg` before and after.
    pub(crate) load: (String, String),
    /// UTC date and time of the run.
    pub(crate) date: String,
    /// The promkit sources measured: commit, and whether `crates/` had uncommitted changes.
    pub(crate) source: String,
}

/// Runs the benchmarks and the memory probe, and writes `BENCHMARKS.md`; returns its path.
pub(crate) fn run(options: &Options) -> Result<PathBuf> {
    let started = Instant::now();
    let root = workspace_root();
    let target = target_dir(&root)?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let load_before = machine::load_average();
    // Read before benchmarking: the sources the suite is about to compile.
    let source = machine::source_revision(&root);
    let criterion_args =
        format!("--warm-up-time {} --measurement-time {}", options.warm_up_time, options.measurement_time);

    let criterion_dir = target.join("criterion");
    if !options.skip_bench {
        // Stale results of a benchmark that no longer runs must not reach the table.
        for group in results::GROUPS {
            let dir = criterion_dir.join(group);
            if dir.exists() {
                std::fs::remove_dir_all(&dir)?;
            }
        }
        eprintln!("report: cargo bench -p bench -- {criterion_args}");
        let mut bench = Command::new(&cargo);
        bench
            .current_dir(&root)
            .args(["bench", "-p", "bench", "--bench", "peers", "--"])
            .args(criterion_args.split(' '));
        check_status("cargo bench", bench.status()?)?;
    }

    eprintln!("report: memory probe");
    let memory = memory::run_all(&cargo, &root, &target)?;
    let scrape = if options.skip_scrape {
        None
    } else {
        eprintln!("report: scrape under oha");
        Some(scrape::run(&cargo, &root, &target)?)
    };
    let results = Results::read(&criterion_dir)?;
    let machine = machine::Machine::describe();
    let versions = machine::crate_versions(&root.join("Cargo.lock"))?;
    let run = Run {
        command: "cargo run -p bench --release -- report".to_owned(),
        criterion_args,
        benched: !options.skip_bench,
        wall_seconds: started.elapsed().as_secs_f64(),
        load: (load_before, machine::load_average()),
        date: machine::utc_now(),
        source,
    };
    let mut text = markdown::render(&run, &machine, &versions, &results, &memory, scrape.as_ref());
    let path = root.join("BENCHMARKS.md");
    // The parser section comes from `parse-peers --write`, the profiles from reading
    // `scripts/profile-bench`; a report run keeps them.
    let previous = std::fs::read_to_string(&path).unwrap_or_default();
    for kept in bench::section::KEPT {
        if let Some(section) = kept.extract(&previous) {
            text = kept.splice(&text, section);
        }
    }
    std::fs::write(&path, text)?;
    eprintln!("report: took {:.0} s", run.wall_seconds);
    Ok(path)
}

/// The workspace root: this crate's parent directory.
fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Cargo's target directory, as `cargo metadata` reports it.
fn target_dir(root: &Path) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let out = Command::new(cargo)
        .current_dir(root)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()?;
    check_status("cargo metadata", out.status)?;
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout)?;
    let dir = meta["target_directory"].as_str().ok_or("cargo metadata has no target_directory")?;
    Ok(PathBuf::from(dir))
}

fn check_status(what: &str, status: std::process::ExitStatus) -> Result<()> {
    if status.success() { Ok(()) } else { Err(format!("`{what}` failed: {status}").into()) }
}
