//! The scrape, end to end: `GET /metrics` through promkit-http's exporter and through
//! metrics-exporter-prometheus' own HTTP listener, driven by a real HTTP load generator (`oha`).
//!
//! For 10,000 and 100,000 labelled counter series (the fixtures of the `encode_10k` and
//! `encode_100k` criterion groups, so the same series as the encode benches), it
//!
//! 1. builds the promkit registry and serves it with [`promkit_http::Exporter`] on a free
//!    loopback port, as a user would (`MetricsHandler::builder(&registry).build()`);
//! 2. records the same series into metrics-exporter-prometheus with
//!    `PrometheusBuilder::with_http_listener(..).build()` and runs its listener;
//! 3. times promkit's encode alone (median of repeated text encodes into one reused buffer)
//!    and the exporter's `PrometheusHandle::render` alone (what its listener calls per request);
//! 4. checks one answer per endpoint and coding: status 200, the `Content-Encoding` asked for,
//!    every series there (sample lines counted after decoding), and promkit's identity body
//!    byte-for-byte the encode-alone bytes;
//! 5. runs `oha` against each endpoint at concurrency 1 and 4, uncompressed, gzip and zstd
//!    (the exporter's listener compresses nothing: those cells are absent), with keep-alive,
//!    a fixed request count sized to about `--seconds` per run, after a short warm-up.
//!
//! It prints one JSON object (stdout) that `report` renders as "The scrape, end to end".
//!
//! `cargo run -p bench --release --bin scrape -- [--oha PATH] [--seconds S] [--series N,..]`;
//! `oha` is found at `--oha`, `$PROMKIT_OHA`, `~/.cache/promkit/tools/bin/oha` or on `PATH`
//! (`scripts/install-bench-tools` installs it there).

use std::error::Error;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::time::{Duration, Instant};

use bench::peers::{with_metrics, with_promkit};
use bench::{ENCODE_FAMILIES, ids};
use promkit::Format;
use promkit_http::{Exporter, MetricsHandler};
use serde_json::{Value, json};

type Result<T> = std::result::Result<T, Box<dyn Error>>;

/// The codings asked for, as `(name, Accept-Encoding value)`; `None` sends no such header.
const CODINGS: [(&str, Option<&str>); 3] =
    [("identity", None), ("gzip", Some("gzip")), ("zstd", Some("zstd"))];

/// The load generator's concurrencies (connections, each one request at a time).
const CONCURRENCY: [usize; 2] = [1, 4];

/// The `Accept` header of every request: what `oha` sends by default, so promkit negotiates
/// the text format 0.0.4 (the exporter writes nothing else).
const ACCEPT: &str = "*/*";

struct Options {
    oha: PathBuf,
    seconds: f64,
    series_per_family: Vec<usize>,
}

fn main() -> ExitCode {
    match Options::parse().and_then(|o| run(&o)) {
        Ok(out) => {
            println!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("scrape: {e}");
            ExitCode::FAILURE
        }
    }
}

impl Options {
    fn parse() -> Result<Self> {
        let mut oha = None;
        let mut seconds = 3.0;
        let mut series_per_family = vec![1_000, 10_000];
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || args.next().ok_or_else(|| format!("`{arg}` needs a value"));
            match arg.as_str() {
                "--oha" => oha = Some(PathBuf::from(value()?)),
                "--seconds" => {
                    let v = value()?;
                    seconds = v.parse().map_err(|_| format!("`--seconds {v}`: not a number"))?;
                }
                "--series" => {
                    let v = value()?;
                    series_per_family = v
                        .split(',')
                        .map(|n| match n.trim().parse::<usize>() {
                            Ok(n) if n >= ENCODE_FAMILIES && n % ENCODE_FAMILIES == 0 => {
                                Ok(n / ENCODE_FAMILIES)
                            }
                            _ => Err(format!(
                                "`--series {v}`: each count must be a multiple of {ENCODE_FAMILIES}"
                            )),
                        })
                        .collect::<std::result::Result<_, _>>()?;
                }
                other => {
                    return Err(format!(
                        "unknown option `{other}`; usage: scrape [--oha PATH] [--seconds S] [--series N,..]"
                    )
                    .into());
                }
            }
        }
        let oha = match oha {
            Some(p) => p,
            None => find_oha().ok_or(
                "no `oha` found (--oha, $PROMKIT_OHA, ~/.cache/promkit/tools/bin/oha, PATH); \
                 run scripts/install-bench-tools",
            )?,
        };
        Ok(Self { oha, seconds, series_per_family })
    }
}

/// `oha` from `$PROMKIT_OHA`, the bench tools directory, or `PATH`.
fn find_oha() -> Option<PathBuf> {
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Some(p) = std::env::var_os("PROMKIT_OHA") {
        candidates.push(p.into());
    }
    if let Some(home) = std::env::var_os("HOME") {
        candidates.push(Path::new(&home).join(".cache/promkit/tools/bin/oha"));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path).map(|d| d.join("oha")));
    }
    candidates.into_iter().find(|p| p.is_file())
}

fn run(options: &Options) -> Result<Value> {
    let version = Command::new(&options.oha).arg("--version").output()?;
    let generator = String::from_utf8_lossy(&version.stdout).trim().to_owned();
    // Both servers share one runtime with a worker per core (tokio's default), as a service
    // would run them; only one of them is under load at a time.
    let rt = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let mut sizes = Vec::new();
    for &per_family in &options.series_per_family {
        sizes.push(one_size(options, &rt, per_family)?);
    }
    Ok(json!({
        "generator": generator,
        "accept": ACCEPT,
        "seconds_per_run": options.seconds,
        "cores": std::thread::available_parallelism().map_or(1, |n| n.get()),
        "sizes": sizes,
    }))
}

fn one_size(options: &Options, rt: &tokio::runtime::Runtime, per_family: usize) -> Result<Value> {
    let series = ENCODE_FAMILIES * per_family;
    eprintln!("scrape: {series} series");
    let pk = with_promkit::Counters::encode_fixture(per_family);

    // promkit-http's exporter, as a user starts it.
    let handler = MetricsHandler::builder(&pk.registry).build()?;
    let exporter = rt.block_on(Exporter::bind(SocketAddr::from(([127, 0, 0, 1], 0)), handler))?;
    let pk_addr = exporter.local_addr();
    let (stop_pk, stopped_pk) = tokio::sync::oneshot::channel::<()>();
    let pk_server = rt.spawn(exporter.run_until(async {
        let _ = stopped_pk.await;
    }));

    // metrics-exporter-prometheus' own listener. It cannot bind port 0 and report the port,
    // so a free port is found first (a short race with other programs, reported if lost).
    let mep_addr = free_loopback_port()?;
    let (recorder, listener) = {
        let _entered = rt.enter();
        with_metrics::builder().with_http_listener(mep_addr).build()?
    };
    let mep_server = rt.spawn(listener);
    let mep = with_metrics::Counters::record_into(recorder, ENCODE_FAMILIES, &ids(per_family));

    // Encode alone, in process.
    let mut buf = Vec::new();
    pk.encode(Format::Text, &mut buf);
    let encode_ms = median_ms(|| {
        buf.clear();
        pk.encode(Format::Text, &mut buf);
    });
    let mep_render_ms = median_ms(|| {
        std::hint::black_box(mep.handle.render());
    });
    let floor_ms = loopback_floor_ms(&buf)?;
    // The handler alone, in process: negotiation, the blocking-pool hop and the encode,
    // everything a scrape does but the HTTP server and the network.
    let handler_alone = MetricsHandler::builder(&pk.registry).build()?;
    let handler_ms = median_ms(|| {
        let (parts, ()) = http::Request::get("/metrics")
            .header(http::header::ACCEPT, ACCEPT)
            .body(())
            .expect("a constant request is valid")
            .into_parts();
        std::hint::black_box(rt.block_on(handler_alone.serve(parts)));
    });

    let pk_url = format!("http://{pk_addr}/metrics");
    let mep_url = format!("http://{mep_addr}/metrics");
    let mut bytes = serde_json::Map::new();
    let mut runs = Vec::new();
    for (endpoint, url, addr) in [("promkit", &pk_url, pk_addr), ("metrics", &mep_url, mep_addr)] {
        for (coding, accept_encoding) in CODINGS {
            // The exporter's listener sends every answer uncompressed: only identity is asked of it.
            if endpoint == "metrics" && accept_encoding.is_some() {
                continue;
            }
            let (body_len, single) =
                check(addr, accept_encoding, series, (endpoint == "promkit").then_some(&buf[..]))
                    .map_err(|e| format!("{endpoint} {coding}, {series} series: {e}"))?;
            bytes.insert(format!("{endpoint}_{coding}"), json!(body_len));
            // About `seconds` of requests per run, from the single request's time.
            let requests = ((options.seconds / single.as_secs_f64()).ceil() as usize).clamp(40, 4_000);
            for c in CONCURRENCY {
                let requests = requests.div_ceil(c) * c;
                eprintln!("scrape: {endpoint} {coding} c={c} n={requests}");
                let _warm = oha(&options.oha, url, c, (4 * c).max(requests / 10), accept_encoding)?;
                let r = oha(&options.oha, url, c, requests, accept_encoding)?;
                runs.push(json!({
                    "endpoint": endpoint,
                    "concurrency": c,
                    "encoding": coding,
                    "requests": requests,
                    "mean_ms": r.mean_ms,
                    "p50_ms": r.p50_ms,
                    "p99_ms": r.p99_ms,
                    "requests_per_sec": r.rps,
                    "ms_per_scrape": 1e3 / r.rps,
                }));
            }
        }
    }
    let _ = stop_pk.send(());
    rt.block_on(pk_server)??;
    mep_server.abort();
    let _ = rt.block_on(mep_server);

    let find = |endpoint: &str, c: usize, coding: &str| {
        runs.iter().find(|r| r["endpoint"] == endpoint && r["concurrency"] == c && r["encoding"] == coding)
    };
    let num = |r: Option<&Value>, k: &str| r.and_then(|r| r[k].as_f64()).unwrap_or(f64::NAN);
    let pk_c1 = find("promkit", 1, "identity");
    let ratios = json!({
        "promkit_c1_p50_over_encode": num(pk_c1, "p50_ms") / encode_ms,
        "promkit_c1_mean_over_encode": num(pk_c1, "mean_ms") / encode_ms,
        "encode_plus_floor_over_encode": (encode_ms + floor_ms) / encode_ms,
        "handler_plus_floor_over_encode": (handler_ms + floor_ms) / encode_ms,
        "promkit_over_metrics_c1_p50": num(pk_c1, "p50_ms") / num(find("metrics", 1, "identity"), "p50_ms"),
        "promkit_over_metrics_c4_throughput": num(find("promkit", 4, "identity"), "ms_per_scrape")
            / num(find("metrics", 4, "identity"), "ms_per_scrape"),
    });
    Ok(json!({
        "series": series,
        "encode_alone_ms": encode_ms,
        "metrics_render_alone_ms": mep_render_ms,
        "loopback_floor_ms": floor_ms,
        "handler_alone_ms": handler_ms,
        "bytes": bytes,
        "runs": runs,
        "ratios": ratios,
    }))
}

/// What moving `body` over loopback TCP costs with no HTTP stack: a thread of this process
/// answers each request line with a fixed header and the body, written whole, and the median
/// is taken of a client reading it whole. A server that encodes a scrape and then sends it
/// cannot answer faster than the encode plus this.
fn loopback_floor_ms(body: &[u8]) -> Result<f64> {
    let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    let addr = listener.local_addr()?;
    let head = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
    let total = head.len() + body.len();
    std::thread::scope(|s| {
        let server = s.spawn(move || -> std::io::Result<()> {
            let (mut conn, _) = listener.accept()?;
            conn.set_nodelay(true)?;
            let mut request = [0u8; 64];
            // One request line per answer; the client closes the connection when done.
            while conn.read(&mut request)? > 0 {
                conn.write_all(head.as_bytes())?;
                conn.write_all(body)?;
            }
            Ok(())
        });
        let mut client = TcpStream::connect(addr)?;
        client.set_nodelay(true)?;
        let mut sink = vec![0u8; 1 << 20];
        let mut failed = None;
        let ms = median_ms(|| {
            let mut got = 0;
            let mut exchange = || -> std::io::Result<()> {
                client.write_all(b"GET / HTTP/1.1\r\n\r\n")?;
                while got < total {
                    match client.read(&mut sink)? {
                        0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                        n => got += n,
                    }
                }
                Ok(())
            };
            if let Err(e) = exchange() {
                failed.get_or_insert(e);
            }
        });
        drop(client);
        server.join().map_err(|_| "the loopback floor's server thread panicked")??;
        match failed {
            Some(e) => Err(format!("loopback floor: {e}").into()),
            None => Ok(ms),
        }
    })
}

/// The median of at least 11 runs of `op`, and of as many as fit in about a second.
fn median_ms(mut op: impl FnMut()) -> f64 {
    op();
    let started = Instant::now();
    let mut times = Vec::new();
    while times.len() < 11 || (started.elapsed() < Duration::from_secs(1) && times.len() < 10_000) {
        let t = Instant::now();
        op();
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    times[times.len() / 2]
}

fn free_loopback_port() -> Result<SocketAddr> {
    let l = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
    Ok(l.local_addr()?)
}

/// One request by hand: checks the answer and returns its body size on the wire and the time
/// of a second, warm request.
fn check(
    addr: SocketAddr,
    accept_encoding: Option<&str>,
    series: usize,
    expect_identity: Option<&[u8]>,
) -> Result<(usize, Duration)> {
    let mut last = None;
    for _ in 0..2 {
        let started = Instant::now();
        let answer = get(addr, accept_encoding)?;
        last = Some((answer, started.elapsed()));
    }
    let ((status, headers, body), took) = last.ok_or("no answer")?;
    if status != 200 {
        return Err(format!("status {status}, body {:?}", String::from_utf8_lossy(&body)).into());
    }
    let header =
        |name: &str| headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str());
    let content_encoding = header("content-encoding");
    if content_encoding != accept_encoding {
        return Err(
            format!("asked for {accept_encoding:?}, got Content-Encoding {content_encoding:?}").into()
        );
    }
    let decoded = match content_encoding {
        None => body.clone(),
        Some("gzip") => {
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&body[..]).read_to_end(&mut out)?;
            out
        }
        Some("zstd") => zstd::stream::decode_all(&body[..])?,
        Some(other) => return Err(format!("unexpected Content-Encoding {other}").into()),
    };
    let samples = decoded.split(|b| *b == b'\n').filter(|l| !l.is_empty() && l[0] != b'#').count();
    if samples != series {
        return Err(format!("{samples} sample lines, expected {series}").into());
    }
    if let Some(expected) = expect_identity
        && decoded != expected
    {
        return Err("the served exposition differs from the encode-alone bytes".into());
    }
    Ok((body.len(), took))
}

type Answer = (u16, Vec<(String, String)>, Vec<u8>);

/// `GET /metrics` over HTTP/1.1 with `Connection: close`, read to the end.
fn get(addr: SocketAddr, accept_encoding: Option<&str>) -> Result<Answer> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(60)))?;
    let mut request =
        format!("GET /metrics HTTP/1.1\r\nHost: {addr}\r\nAccept: {ACCEPT}\r\nConnection: close\r\n");
    if let Some(enc) = accept_encoding {
        request.push_str(&format!("Accept-Encoding: {enc}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes())?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("no end of headers in the answer")?;
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("no status line")?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect();
    let body = &raw[split + 4..];
    if headers.iter().any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked")) {
        return Ok((status, headers, dechunk(body)?));
    }
    Ok((status, headers, body.to_vec()))
}

/// The body of a chunked answer (a streamed exposition): each chunk's hex size line, its
/// bytes and CRLF, up to the zero-size chunk; fails on a body cut off before it.
fn dechunk(mut raw: &[u8]) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let line = raw.windows(2).position(|w| w == b"\r\n").ok_or("a chunk size line without CRLF")?;
        let size = std::str::from_utf8(&raw[..line])?.split(';').next().unwrap_or_default();
        let size = usize::from_str_radix(size.trim(), 16).map_err(|e| format!("chunk size `{size}`: {e}"))?;
        raw = &raw[line + 2..];
        if size == 0 {
            return Ok(body);
        }
        if raw.len() < size + 2 || &raw[size..size + 2] != b"\r\n" {
            return Err("the chunked body was cut off".into());
        }
        body.extend_from_slice(&raw[..size]);
        raw = &raw[size + 2..];
    }
}

struct Load {
    mean_ms: f64,
    p50_ms: f64,
    p99_ms: f64,
    rps: f64,
}

/// Runs `oha` for `requests` requests over `c` keep-alive connections; fails unless every
/// answer was a 200.
fn oha(exe: &Path, url: &str, c: usize, requests: usize, accept_encoding: Option<&str>) -> Result<Load> {
    let mut cmd = Command::new(exe);
    cmd.args(["--no-tui", "--output-format", "json", "--disable-compression", "-A", ACCEPT]).args([
        "-n",
        &requests.to_string(),
        "-c",
        &c.to_string(),
    ]);
    if let Some(enc) = accept_encoding {
        cmd.args(["-H", &format!("Accept-Encoding: {enc}")]);
    }
    let out = cmd.arg(url).output()?;
    if !out.status.success() {
        return Err(format!("oha failed ({}): {}", out.status, String::from_utf8_lossy(&out.stderr)).into());
    }
    let v: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| format!("oha printed no JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))?;
    let ok = v["statusCodeDistribution"]["200"].as_u64().unwrap_or(0);
    if ok != requests as u64 {
        return Err(format!(
            "oha: {ok} of {requests} answers were 200 (status codes {}, errors {})",
            v["statusCodeDistribution"], v["errorDistribution"]
        )
        .into());
    }
    let lat = &v["metrics"]["latency_ms"];
    let f = |x: &Value, what: &str| x.as_f64().ok_or_else(|| format!("oha's JSON has no {what}"));
    Ok(Load {
        mean_ms: f(&lat["mean"], "latency_ms.mean")?,
        p50_ms: f(&lat["p50"], "latency_ms.p50")?,
        p99_ms: f(&lat["p99"], "latency_ms.p99")?,
        rps: f(&v["metrics"]["requests_per_sec"], "metrics.requests_per_sec")?,
    })
}
