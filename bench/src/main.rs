//! `cargo run -p bench --release -- report`: runs the criterion suite and the memory probe for
//! every crate, then regenerates `BENCHMARKS.md` at the workspace root.
//!
//! Options after `report`: `--warm-up-time S` and `--measurement-time S` (criterion's, default
//! 1 and 2 seconds), `--skip-bench` to rebuild the document from the last criterion results,
//! `--skip-scrape` to leave out the end-to-end scrape (which needs `oha`:
//! `scripts/install-bench-tools`, run by the report when it is missing).

mod report;

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("report") => match report::Options::parse(&args[1..]).and_then(|o| report::run(&o)) {
            Ok(path) => {
                eprintln!("wrote {}", path.display());
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("report failed: {e}");
                ExitCode::FAILURE
            }
        },
        _ => {
            eprintln!(
                "usage: cargo run -p bench --release -- report \
                 [--warm-up-time S] [--measurement-time S] [--skip-bench] [--skip-scrape]"
            );
            ExitCode::from(2)
        }
    }
}
