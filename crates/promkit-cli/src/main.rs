//! `promkit`: check, convert, scrape and diff Prometheus expositions.

use std::io::Write;
use std::process::ExitCode;
use std::time::Instant;

use clap::{Parser, Subcommand, ValueEnum};
use promkit::encode::{Format as EncodeFormat, encode_families};
use promkit_cli::{Checked, check, detect, explain, read_input, to_json};
use promkit_parse::model::{Format, parse};

/// Check, convert, scrape and diff Prometheus expositions.
#[derive(Debug, Parser)]
#[command(name = "promkit", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse and lint an exposition: exit 0 clean, 1 parse error, 3 lint problems.
    Check {
        /// The input's format.
        #[arg(long, value_enum, default_value_t = InFormat::Auto)]
        format: InFormat,
        /// Only parse.
        #[arg(long)]
        no_lint: bool,
        /// A file, an http:// URL, or - for stdin.
        #[arg(default_value = "-")]
        input: String,
    },
    /// Convert an exposition to another format on stdout.
    Convert {
        /// The output format.
        #[arg(long, value_enum)]
        to: OutFormat,
        /// The input's format.
        #[arg(long, value_enum, default_value_t = InFormat::Auto)]
        format: InFormat,
        /// A file, an http:// URL, or - for stdin.
        #[arg(default_value = "-")]
        input: String,
    },
    /// Scrape a /metrics URL as Prometheus does; print the format, time and size.
    Scrape {
        /// An http:// URL.
        url: String,
    },
    /// Compare two expositions (any formats): exit 0 equal, 1 different, 2 trouble.
    Diff {
        /// The expected exposition (file, URL or -).
        a: String,
        /// The actual exposition (file, URL or -).
        b: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum InFormat {
    Auto,
    Text,
    Openmetrics,
    Protobuf,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum OutFormat {
    Text,
    Openmetrics,
    Protobuf,
    Json,
}

impl InFormat {
    fn format(self) -> Option<Format> {
        match self {
            Self::Auto => None,
            Self::Text => Some(Format::Text),
            Self::Openmetrics => Some(Format::OpenMetrics),
            Self::Protobuf => Some(Format::Protobuf),
        }
    }
}

/// Bytes of a file, stdin or URL, and the format a URL's Content-Type names.
fn load(input: &str) -> Result<(Vec<u8>, Option<Format>), String> {
    if input.starts_with("http://") {
        let (content_type, body) = promkit_testutil::http_get(input, promkit_testutil::PROMETHEUS_ACCEPT)?;
        Ok((body, Some(Format::from_content_type(&content_type))))
    } else {
        Ok((read_input(input)?, None))
    }
}

/// Loads and parses: the families, or the message to print.
fn families(input: &str, forced: Option<Format>) -> Result<Vec<promkit::model::MetricFamily>, String> {
    let (bytes, served) = load(input)?;
    let format = forced.or(served).unwrap_or_else(|| detect(&bytes));
    parse(format, &bytes).map_err(|e| format!("{input}: {}", explain(&e, format, &bytes)))
}

fn run(cli: Cli) -> Result<u8, String> {
    match cli.command {
        Command::Check { format, no_lint, input } => {
            let (bytes, served) = load(&input)?;
            let checked = check(&bytes, format.format().or(served), no_lint);
            match &checked {
                Checked::Failed(message) => eprintln!("{input}: {message}"),
                Checked::Parsed(_, problems) => {
                    for p in problems {
                        eprintln!("{input}: {p}");
                    }
                }
            }
            Ok(u8::try_from(checked.exit_code()).unwrap_or(1))
        }
        Command::Convert { to, format, input } => {
            let families = families(&input, format.format())?;
            let mut out = Vec::new();
            match to {
                OutFormat::Json => out = to_json(&families).into_bytes(),
                OutFormat::Text => encode_families(&families, EncodeFormat::Text, &mut out),
                OutFormat::Openmetrics => encode_families(&families, EncodeFormat::OPENMETRICS, &mut out),
                OutFormat::Protobuf => encode_families(&families, EncodeFormat::Protobuf, &mut out),
            }
            std::io::stdout().write_all(&out).map_err(|e| format!("stdout: {e}"))?;
            Ok(0)
        }
        Command::Scrape { url } => {
            let start = Instant::now();
            let scrape = promkit_testutil::scrape(&url).map_err(|e| e.to_string())?;
            let took = start.elapsed();
            let series: usize = scrape.families.iter().map(|f| f.samples.len()).sum();
            println!("content-type: {}", scrape.content_type);
            println!("format: {:?}", scrape.format);
            println!("size: {} bytes", scrape.size);
            println!("time: {:.1} ms", took.as_secs_f64() * 1e3);
            println!("families: {}, series: {series}", scrape.families.len());
            Ok(0)
        }
        Command::Diff { a, b } => {
            let (a, b) = (families(&a, None)?, families(&b, None)?);
            match promkit_testutil::compare_families(a, b, &[]) {
                Ok(()) => Ok(0),
                Err(mismatch) => {
                    print!("{mismatch}");
                    Ok(1)
                }
            }
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let diff = matches!(cli.command, Command::Diff { .. });
    match run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(message) => {
            eprintln!("promkit: {message}");
            // diff keeps 1 for "different"; trouble is 2 there, 1 (a parse failure) elsewhere
            ExitCode::from(if diff { 2 } else { 1 })
        }
    }
}
