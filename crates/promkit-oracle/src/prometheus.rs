//! `PrometheusServer`: a real Prometheus server that scrapes promkit's endpoints, asked
//! through its HTTP API with PromQL.
//!
//! The server runs as a child process in a fresh temporary directory (config, TSDB, log),
//! scrapes every target each second, and is killed and its directory removed on drop.
//! Tests poll it ([`wait_up`](PrometheusServer::wait_up),
//! [`wait_for`](PrometheusServer::wait_for)) instead of sleeping: a Prometheus server
//! discovers its static targets about five seconds after it starts.
//!
//! HTTP goes through [`http_get`], a minimal HTTP/1.1 GET over `std::net::TcpStream`
//! (`Connection: close`; `Content-Length`, chunked and read-to-end bodies). The oracle only
//! talks to servers on loopback and reads small JSON or exposition bodies, so a client crate
//! (`ureq` with its TLS, URL and cookie dependencies) would lengthen every test build for
//! nothing; the whole client is about a hundred lines that tests below pin down.

use std::fs::{self, File};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::Value;

use crate::locate::{env_path, free_port, which};
use crate::policy::missing;

/// One scrape target: Prometheus scrapes `http://{addr}{path}` as job `job`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The `job` label of the target's series.
    pub job: String,
    /// Where the target listens.
    pub addr: SocketAddr,
    /// The metrics path, `/metrics` by default.
    pub path: String,
}

impl Target {
    /// A target at `addr` with the path `/metrics`.
    pub fn new(job: impl Into<String>, addr: SocketAddr) -> Self {
        Self { job: job.into(), addr, path: "/metrics".to_owned() }
    }

    /// The same target with another metrics path.
    #[must_use]
    pub fn path(mut self, path: impl Into<String>) -> Self {
        self.path = path.into();
        self
    }
}

/// A Prometheus server started for one test; killed, and its directory removed, on drop.
///
/// ```no_run
/// use std::time::Duration;
/// use promkit_oracle::prometheus::{PrometheusServer, Target};
///
/// let addr = "127.0.0.1:9100".parse().unwrap(); // a server of the test's own
/// let Some(prom) = PrometheusServer::start(&[Target::new("app", addr)], &[]) else {
///     return; // not installed, and not CI
/// };
/// prom.wait_up("app", Duration::from_secs(20)).unwrap();
/// assert_eq!(prom.query_scalar("jobs_total{job=\"app\"}").unwrap(), Some(3.0));
/// ```
#[derive(Debug)]
pub struct PrometheusServer {
    child: Child,
    dir: PathBuf,
    addr: SocketAddr,
}

/// A response from [`http_get`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Header names (lower-cased) and values, in the order received.
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked but not decompressed.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as text (lossily decoded).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// How long one HTTP exchange may take before [`http_get`] gives up.
const IO_TIMEOUT: Duration = Duration::from_secs(15);

/// Sends `GET path_and_query` to `addr` with extra `headers` and reads the whole response.
///
/// HTTP/1.1 with `Connection: close`; the body may be sized by `Content-Length`, chunked,
/// or end with the connection. Reads and writes time out after 15 s.
///
/// # Errors
///
/// The connection failed or timed out, or the response is not HTTP/1.x.
pub fn http_get(
    addr: SocketAddr,
    path_and_query: &str,
    headers: &[(&str, &str)],
) -> Result<HttpResponse, String> {
    let fail = |what: &str, e: std::io::Error| format!("GET http://{addr}{path_and_query}: {what}: {e}");
    let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).map_err(|e| fail("connect", e))?;
    stream.set_read_timeout(Some(IO_TIMEOUT)).map_err(|e| fail("set timeout", e))?;
    stream.set_write_timeout(Some(IO_TIMEOUT)).map_err(|e| fail("set timeout", e))?;
    let mut request = format!("GET {path_and_query} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).map_err(|e| fail("write", e))?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).map_err(|e| fail("read", e))?;
    parse_response(&raw).map_err(|e| format!("GET http://{addr}{path_and_query}: {e}"))
}

fn parse_response(raw: &[u8]) -> Result<HttpResponse, String> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").ok_or("response ends inside its headers")?;
    let head = std::str::from_utf8(&raw[..end]).map_err(|_| "response headers are not UTF-8")?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = match status_line.split(' ').collect::<Vec<_>>()[..] {
        [version, code, ..] if version.starts_with("HTTP/1.") => {
            code.parse::<u16>().map_err(|_| format!("bad status line {status_line:?}"))?
        }
        _ => return Err(format!("bad status line {status_line:?}")),
    };
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut resp = HttpResponse { status, headers, body: Vec::new() };
    let rest = &raw[end + 4..];
    resp.body = if resp.header("transfer-encoding").is_some_and(|te| te.eq_ignore_ascii_case("chunked")) {
        dechunk(rest)?
    } else if let Some(len) = resp.header("content-length") {
        let len: usize = len.parse().map_err(|_| format!("bad Content-Length {len:?}"))?;
        rest.get(..len).ok_or_else(|| format!("body has {} of {len} bytes", rest.len()))?.to_vec()
    } else {
        rest.to_vec()
    };
    Ok(resp)
}

fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let eol = rest.windows(2).position(|w| w == b"\r\n").ok_or("chunk size line never ends")?;
        let line = std::str::from_utf8(&rest[..eol]).map_err(|_| "chunk size is not UTF-8")?;
        let hex = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(hex, 16).map_err(|_| format!("bad chunk size {line:?}"))?;
        rest = &rest[eol + 2..];
        if size == 0 {
            return Ok(body);
        }
        let chunk = rest.get(..size).ok_or("body ends inside a chunk")?;
        body.extend_from_slice(chunk);
        rest = rest.get(size + 2..).ok_or("body ends after a chunk")?;
    }
}

/// Percent-encodes everything but RFC 3986's unreserved characters, for a query parameter.
fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// A PromQL string literal for `s`.
fn promql_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// The Prometheus binary: `$PROMETHEUS` (a name on `PATH` or a path), else `prometheus`.
fn prometheus_binary() -> Option<PathBuf> {
    let name = env_path("PROMETHEUS").unwrap_or_else(|| PathBuf::from("prometheus"));
    which(&name.to_string_lossy())
}

/// A directory name no other test (in this process or another) is using.
fn unique_dir() -> PathBuf {
    static SEQ: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    std::env::temp_dir().join(format!("promkit-prometheus-{}-{seq}-{nanos}", std::process::id()))
}

fn config_yaml(targets: &[Target]) -> String {
    // JSON strings are YAML double-quoted strings, so every value is quoted safely.
    let q = |s: &str| Value::from(s).to_string();
    let mut yaml = String::from(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n",
    );
    for t in targets {
        yaml.push_str(&format!(
            "  - job_name: {}\n    metrics_path: {}\n    static_configs:\n      - targets: [{}]\n",
            q(&t.job),
            q(&t.path),
            q(&t.addr.to_string())
        ));
    }
    yaml
}

/// Why a start attempt failed.
enum StartError {
    /// The port picked was taken between [`free_port`] and the bind: try another.
    PortTaken,
    Other(String),
}

impl PrometheusServer {
    /// Starts Prometheus scraping `scrape_targets` every second (timeout 1 s), listening on
    /// a free loopback port, with `extra_flags` appended to its command line (such as
    /// `--enable-feature=exemplar-storage`). Returns once the server answers `/-/ready`.
    ///
    /// The binary is `$PROMETHEUS` (a name on `PATH` or a path), else `prometheus`.
    /// Returns `None` when it is not installed and this is not a CI run.
    ///
    /// # Panics
    ///
    /// Under CI when Prometheus is missing; when it cannot be started, exits, or is not
    /// ready within 30 s (the message holds its log).
    pub fn start(scrape_targets: &[Target], extra_flags: &[&str]) -> Option<PrometheusServer> {
        let Some(binary) = prometheus_binary() else {
            return missing("prometheus", "apt-get install prometheus, or set PROMETHEUS to its path");
        };
        let mut last = String::new();
        for _ in 0..3 {
            match Self::try_start(&binary, scrape_targets, extra_flags) {
                Ok(server) => return Some(server),
                Err(StartError::PortTaken) => last = "its port was taken, three times".to_owned(),
                Err(StartError::Other(e)) => panic!("{e}"),
            }
        }
        panic!("cannot start {}: {last}", binary.display());
    }

    fn try_start(binary: &PathBuf, targets: &[Target], extra_flags: &[&str]) -> Result<Self, StartError> {
        let other = StartError::Other;
        let dir = unique_dir();
        fs::create_dir_all(&dir).map_err(|e| other(format!("cannot create {}: {e}", dir.display())))?;
        let config = dir.join("prometheus.yml");
        fs::write(&config, config_yaml(targets))
            .map_err(|e| other(format!("cannot write {}: {e}", config.display())))?;
        let log =
            File::create(dir.join("prometheus.log")).map_err(|e| other(format!("cannot create log: {e}")))?;
        let log2 = log.try_clone().map_err(|e| other(format!("cannot clone log handle: {e}")))?;
        let addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--web.listen-address={addr}"))
            .arg(format!("--storage.tsdb.path={}", dir.join("data").display()))
            .args(extra_flags)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log2)
            .spawn();
        let child = match child {
            Ok(c) => c,
            Err(e) => {
                let _ = fs::remove_dir_all(&dir);
                return Err(other(format!("cannot run {}: {e}", binary.display())));
            }
        };
        // From here on, dropping `server` kills the child and removes the directory.
        let mut server = PrometheusServer { child, dir, addr };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                let log = server.log();
                if log.contains("address already in use") {
                    return Err(StartError::PortTaken);
                }
                return Err(other(format!(
                    "prometheus exited ({status}) before it was ready; its log:\n{log}"
                )));
            }
            if http_get(addr, "/-/ready", &[]).is_ok_and(|r| r.status == 200) {
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err(other(format!("prometheus not ready after 30 s; its log:\n{}", server.log())));
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The address of the server's HTTP API.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Everything the server has logged so far, for failure messages.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("prometheus.log")).unwrap_or_else(|e| format!("(no log: {e})"))
    }

    /// Calls the API at `path_and_query` (such as `/api/v1/targets`) and returns the `data`
    /// member of its answer.
    ///
    /// # Errors
    ///
    /// An HTTP failure, a body that is not JSON, or an answer with `"status": "error"`
    /// (its `error` message is returned).
    pub fn api(&self, path_and_query: &str) -> Result<Value, String> {
        let resp = http_get(self.addr, path_and_query, &[])?;
        let mut json: Value = serde_json::from_slice(&resp.body).map_err(|e| {
            format!(
                "{path_and_query}: HTTP {} with a body that is not JSON ({e}): {}",
                resp.status,
                resp.text()
            )
        })?;
        if json["status"] != "success" {
            return Err(format!(
                "{path_and_query}: HTTP {}: {}: {}",
                resp.status, json["errorType"], json["error"]
            ));
        }
        Ok(json["data"].take())
    }

    /// The server's version, such as `2.42.0+ds`.
    ///
    /// # Errors
    ///
    /// As [`api`](Self::api).
    pub fn version(&self) -> Result<String, String> {
        let data = self.api("/api/v1/status/buildinfo")?;
        data["version"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("buildinfo without a version: {data}"))
    }

    /// Evaluates `promql` at the current time and returns `data.result`: for a vector, an
    /// array of `{"metric": {..}, "value": [time, "value"]}`; for a scalar, `[time, "value"]`.
    ///
    /// # Errors
    ///
    /// As [`api`](Self::api); a PromQL syntax error is an error answer.
    pub fn query(&self, promql: &str) -> Result<Value, String> {
        Ok(self.api(&format!("/api/v1/query?query={}", url_encode(promql)))?["result"].take())
    }

    /// Evaluates `promql` and returns the value of its first sample (or the scalar), `None`
    /// when the result is empty.
    ///
    /// # Errors
    ///
    /// As [`query`](Self::query), or a result without a readable value.
    pub fn query_scalar(&self, promql: &str) -> Result<Option<f64>, String> {
        let data = self.api(&format!("/api/v1/query?query={}", url_encode(promql)))?;
        let pair = match data["resultType"].as_str() {
            Some("scalar") => &data["result"],
            Some("vector") => match data["result"].get(0) {
                Some(first) => &first["value"],
                None => return Ok(None),
            },
            _ => return Err(format!("{promql}: neither a vector nor a scalar: {data}")),
        };
        let text = pair[1].as_str().ok_or_else(|| format!("{promql}: no value in {pair}"))?;
        // Prometheus writes "NaN", "+Inf" and "-Inf", which Rust's parser reads.
        text.parse().map(Some).map_err(|e| format!("{promql}: value {text:?}: {e}"))
    }

    /// Polls `promql` (every 100 ms) until its first sample's value satisfies `predicate`,
    /// and returns that value. For assertions on data that arrives with the next scrapes.
    ///
    /// # Errors
    ///
    /// After `timeout`: the last value seen (or that there was none), or the last error.
    pub fn wait_for(
        &self,
        promql: &str,
        mut predicate: impl FnMut(f64) -> bool,
        timeout: Duration,
    ) -> Result<f64, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let last = match self.query_scalar(promql) {
                Ok(Some(v)) if predicate(v) => return Ok(v),
                Ok(Some(v)) => format!("last value {v}"),
                Ok(None) => "empty result".to_owned(),
                Err(e) => format!("last error: {e}"),
            };
            if Instant::now() > deadline {
                return Err(format!("{promql}: condition not met within {timeout:?}; {last}"));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until every target of `job` has been scraped successfully (`up == 1`).
    ///
    /// # Errors
    ///
    /// After `timeout`: the targets' health and `lastError` from `/api/v1/targets`.
    pub fn wait_up(&self, job: &str, timeout: Duration) -> Result<(), String> {
        let promql = format!("min(up{{job={}}})", promql_string(job));
        match self.wait_for(&promql, |v| v == 1.0, timeout) {
            Ok(_) => Ok(()),
            Err(e) => Err(format!("job {job:?} not up: {e}; targets: {}", self.describe_targets(job))),
        }
    }

    /// The active targets, as `/api/v1/targets` lists them (`health`, `lastError`,
    /// `scrapeUrl`, `labels`, ...).
    ///
    /// # Errors
    ///
    /// As [`api`](Self::api).
    pub fn targets(&self) -> Result<Vec<Value>, String> {
        match self.api("/api/v1/targets")?["activeTargets"].take() {
            Value::Array(targets) => Ok(targets),
            other => Err(format!("activeTargets is not an array: {other}")),
        }
    }

    fn describe_targets(&self, job: &str) -> String {
        let targets = match self.targets() {
            Ok(t) => t,
            Err(e) => return e,
        };
        let mine: Vec<String> = targets
            .iter()
            .filter(|t| t["labels"]["job"] == job)
            .map(|t| format!("{} health={} lastError={}", t["scrapeUrl"], t["health"], t["lastError"]))
            .collect();
        if mine.is_empty() {
            format!("none for this job yet (static targets appear about 5 s after start): {targets:?}")
        } else {
            mine.join("; ")
        }
    }

    /// The exemplars of the series `promql` selects over the last hour, as
    /// `/api/v1/query_exemplars` returns them: an array of
    /// `{"seriesLabels": {..}, "exemplars": [{"labels", "value", "timestamp"}]}`.
    /// Needs the server started with `--enable-feature=exemplar-storage`.
    ///
    /// # Errors
    ///
    /// As [`api`](Self::api).
    pub fn query_exemplars(&self, promql: &str) -> Result<Value, String> {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
        self.api(&format!(
            "/api/v1/query_exemplars?query={}&start={}&end={}",
            url_encode(promql),
            now.saturating_sub(3600),
            now + 60
        ))
    }
}

impl PrometheusServer {
    /// Polls [`query_exemplars`](Self::query_exemplars) for `promql` (every 100 ms) until the
    /// series it returns hold `n` exemplars or more in all, and returns that answer. Exemplars
    /// arrive with the scrape that `up` reports, but nothing promises they are queryable in
    /// the same instant.
    ///
    /// # Errors
    ///
    /// After `timeout`: how many exemplars the last answer held (or the last error), with the
    /// server's log.
    pub fn wait_exemplars(&self, promql: &str, n: usize, timeout: Duration) -> Result<Value, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let last = match self.query_exemplars(promql) {
                Ok(data) => {
                    let held: usize = data
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|series| series["exemplars"].as_array().map_or(0, Vec::len))
                        .sum();
                    if held >= n {
                        return Ok(data);
                    }
                    format!("{held} exemplars in the last answer: {data}")
                }
                Err(e) => format!("last error: {e}"),
            };
            if Instant::now() > deadline {
                return Err(format!(
                    "{promql}: fewer than {n} exemplars within {timeout:?}; {last}\n{}",
                    self.log()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for PrometheusServer {
    fn drop(&mut self) {
        // Only the child this value started; waiting reaps it so no zombie is left.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;
    use std::thread;

    #[test]
    fn responses_with_length_chunks_or_eof() {
        let r =
            parse_response(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello")
                .unwrap();
        assert_eq!(
            (r.status, r.header("content-type"), r.text().as_str()),
            (200, Some("text/plain"), "hello")
        );
        let r = parse_response(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;x=y\r\n, world\r\n0\r\n\r\n")
            .unwrap();
        assert_eq!(r.text(), "hello, world");
        let r = parse_response(b"HTTP/1.0 503 Service Unavailable\r\n\r\nbusy\n").unwrap();
        assert_eq!((r.status, r.text().as_str()), (503, "busy\n"));
        assert!(parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\nshort").is_err());
        assert!(parse_response(b"SSH-2.0\r\n\r\n").is_err());
    }

    #[test]
    fn query_parameters_are_percent_encoded() {
        assert_eq!(url_encode("up{job=\"a b\"} == 1"), "up%7Bjob%3D%22a%20b%22%7D%20%3D%3D%201");
        assert_eq!(url_encode("a-b.c_d~9"), "a-b.c_d~9");
        assert_eq!(promql_string("a\"b\\c"), "\"a\\\"b\\\\c\"");
    }

    #[test]
    fn config_quotes_every_value() {
        let t = Target::new("a \"job\"", "127.0.0.1:9100".parse().unwrap()).path("/m");
        assert_eq!(
            config_yaml(&[t]),
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  \
             - job_name: \"a \\\"job\\\"\"\n    metrics_path: \"/m\"\n    static_configs:\n      \
             - targets: [\"127.0.0.1:9100\"]\n"
        );
    }

    /// Serves one fixed OpenMetrics exposition to every connection until the test ends.
    fn static_target(body: &'static str) -> SocketAddr {
        let listener = TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let addr = listener.local_addr().unwrap();
        thread::spawn(move || {
            for mut conn in listener.incoming().flatten() {
                let mut buf = [0u8; 4096];
                let _ = conn.read(&mut buf);
                let _ = write!(
                    conn,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/openmetrics-text; version=1.0.0; charset=utf-8\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        addr
    }

    #[test]
    fn scrapes_a_target_and_answers_promql() {
        const BODY: &str = "# TYPE oracle_probe counter\n\
                            oracle_probe_total{x=\"1\"} 42 # {trace_id=\"abc\"} 1.5\n# EOF\n";
        let addr = static_target(BODY);
        let Some(prom) =
            PrometheusServer::start(&[Target::new("probe", addr)], &["--enable-feature=exemplar-storage"])
        else {
            return;
        };
        let http = http_get(addr, "/metrics", &[]).unwrap();
        assert_eq!(http.text(), BODY);
        prom.wait_up("probe", Duration::from_secs(30)).unwrap_or_else(|e| panic!("{e}\n{}", prom.log()));
        assert_eq!(prom.query_scalar("oracle_probe_total{job=\"probe\"}"), Ok(Some(42.0)));
        assert_eq!(prom.query_scalar("vector(1) * 2"), Ok(Some(2.0)));
        assert_eq!(prom.query_scalar("scalar(oracle_probe_total) + 1"), Ok(Some(43.0)));
        assert_eq!(prom.query_scalar("absent_metric_promkit"), Ok(None));
        let series = prom.query("oracle_probe_total").unwrap();
        assert_eq!(series[0]["metric"]["x"], "1");
        assert!(prom.query("up{").unwrap_err().contains("bad_data"));
        assert!(prom.version().unwrap().starts_with(|c: char| c.is_ascii_digit()));
        let exemplars = prom.query_exemplars("oracle_probe_total").unwrap();
        assert_eq!(exemplars[0]["seriesLabels"]["x"], "1", "{exemplars}");
        assert_eq!(exemplars[0]["exemplars"][0]["labels"]["trace_id"], "abc", "{exemplars}");
        assert_eq!(exemplars[0]["exemplars"][0]["value"], "1.5", "{exemplars}");
        let dir = prom.dir.clone();
        drop(prom);
        assert!(!dir.exists());
    }

    #[test]
    fn wait_up_names_the_scrape_error() {
        // A port nobody listens on: the scrape fails with "connection refused".
        let dead = SocketAddr::from(([127, 0, 0, 1], free_port()));
        let Some(prom) = PrometheusServer::start(&[Target::new("dead", dead)], &[]) else {
            return;
        };
        prom.wait_for("count(up{job=\"dead\"} == 0)", |v| v == 1.0, Duration::from_secs(30)).unwrap();
        let err = prom.wait_up("dead", Duration::from_millis(300)).unwrap_err();
        assert!(err.contains("connection refused"), "{err}");
    }
}
