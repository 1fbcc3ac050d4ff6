//! The seed service's metrics, ported exactly: a latency histogram in milliseconds and success
//! and failure counters, fed by a simulated run of jobs, then the exposition printed.
//!
//! ```text
//! cargo run --release -p promkit --example seed -- [--jobs N] [--norm-mean MS] [--norm-domain MS] [--openmetrics|--protobuf]
//! ```

use std::process::ExitCode;

use promkit::{Counter, Format, Histogram, Registry, linear_buckets};

/// The three metrics of the original service, declared once and registered at start-up so they
/// are exported (at zero) before the first job finishes.
struct Metrics {
    completion: Histogram,
    success: Counter,
    failure: Counter,
}

impl Metrics {
    fn new(registry: &Registry, norm_mean: f64, norm_domain: f64) -> Result<Self, promkit::Error> {
        Ok(Self {
            completion: Histogram::builder("completion_duration_histogram_ms")
                .help("Latency for mapping completion in ms")
                .buckets(linear_buckets(norm_mean - 5.0 * norm_domain, 0.5 * norm_domain, 20)?)
                .register(registry)?,
            success: Counter::builder("success_counter")
                .help("Count of successful mapping completions")
                .register(registry)?,
            failure: Counter::builder("failure_counter")
                .help("Count of failed mapping completions")
                .register(registry)?,
        })
    }
}

/// A small deterministic generator (xorshift64*), so the example needs no dependency and every
/// run prints the same numbers.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        // 53 random bits are all a double holds
        let bits = (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64;
        bits / (1u64 << 53) as f64
    }

    /// A normally distributed value (Box–Muller), as Go's `rand.NormFloat64` gives.
    fn normal(&mut self, mean: f64, stddev: f64) -> f64 {
        let (u1, u2) = (self.next_f64().max(f64::MIN_POSITIVE), self.next_f64());
        mean + stddev * (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    }
}

struct Args {
    jobs: u32,
    norm_mean: f64,
    norm_domain: f64,
    format: Format,
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args { jobs: 1000, norm_mean: 200.0, norm_domain: 40.0, format: Format::Text };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match flag.as_str() {
            "--jobs" => args.jobs = value("--jobs")?.parse().map_err(|e| format!("--jobs: {e}"))?,
            "--norm-mean" => {
                args.norm_mean = value("--norm-mean")?.parse().map_err(|e| format!("--norm-mean: {e}"))?
            }
            "--norm-domain" => {
                args.norm_domain =
                    value("--norm-domain")?.parse().map_err(|e| format!("--norm-domain: {e}"))?;
            }
            "--openmetrics" => args.format = Format::OPENMETRICS,
            "--protobuf" => args.format = Format::Protobuf,
            "-h" | "--help" => {
                return Err(
                    "usage: seed [--jobs N] [--norm-mean MS] [--norm-domain MS] [--openmetrics|--protobuf]"
                        .into(),
                );
            }
            other => return Err(format!("unknown flag {other}; try --help")),
        }
    }
    Ok(args)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    let registry = Registry::new();
    let metrics = match Metrics::new(&registry, args.norm_mean, args.norm_domain) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("seed: {e}");
            return ExitCode::FAILURE;
        }
    };

    // A simulated run: each job takes a normally distributed time; one in ten fails.
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    for _ in 0..args.jobs {
        let ms = rng.normal(args.norm_mean, args.norm_domain).max(0.0);
        metrics.completion.observe(ms);
        if rng.next_f64() < 0.9 {
            metrics.success.inc();
        } else {
            metrics.failure.inc();
        }
    }

    let mut out = Vec::new();
    match registry.encode(args.format, &mut out) {
        Ok(()) => {
            use std::io::Write;
            // Protobuf is binary: write the bytes as they are.
            let _ = std::io::stdout().write_all(&out);
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("seed: {e}");
            ExitCode::FAILURE
        }
    }
}
