//! A real Pushgateway for one test: started on a free loopback port with its own persistence
//! file, read back through plain HTTP/1.0 (not through the client under test), and killed
//! when dropped.

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// A running Pushgateway that this test started.
pub(crate) struct Gateway {
    child: Child,
    dir: PathBuf,
    /// `http://127.0.0.1:<port>`.
    pub(crate) url: String,
    port: u16,
}

impl Gateway {
    /// Starts a Pushgateway, or returns `None` after `SKIP: …` when it is not installed.
    ///
    /// # Panics
    /// Under CI (`CI` is `true` or `1`) when it is not installed; when it does not come up.
    pub(crate) fn start() -> Option<Gateway> {
        let Some(bin) = ["prometheus-pushgateway", "pushgateway"].into_iter().find_map(promkit_oracle::which)
        else {
            let how = "Debian package prometheus-pushgateway; run scripts/install-deps";
            if promkit_oracle::ci() {
                panic!("prometheus-pushgateway not found on PATH ({how}); CI needs every oracle");
            }
            eprintln!("SKIP: prometheus-pushgateway not found on PATH ({how})");
            return None;
        };
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let mut last_log = String::new();
        // The free port may be taken between finding and binding it: then try another.
        for _ in 0..3 {
            let n = STARTED.fetch_add(1, Ordering::Relaxed);
            let dir = std::env::temp_dir().join(format!("promkit-push-gw-{}-{n}", std::process::id()));
            let _ = fs::remove_dir_all(&dir);
            fs::create_dir_all(&dir).expect("temp dir");
            let log = fs::File::create(dir.join("log")).expect("log file");
            let port = promkit_oracle::free_port();
            let child = Command::new(&bin)
                .arg(format!("--web.listen-address=127.0.0.1:{port}"))
                .arg(format!("--persistence.file={}", dir.join("metrics.data").display()))
                .arg("--persistence.interval=1s")
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log file"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
            let mut gw = Gateway { child, dir, url: format!("http://127.0.0.1:{port}"), port };
            if gw.wait_ready() {
                return Some(gw);
            }
            last_log = fs::read_to_string(gw.dir.join("log")).unwrap_or_default();
        }
        panic!("the Pushgateway did not come up; its last log:\n{last_log}");
    }

    /// Polls `/-/ready` until it answers 200; false when the process exits first.
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if matches!(self.try_get("/-/ready"), Ok((200, _))) {
                return true;
            }
            thread::sleep(Duration::from_millis(20));
        }
        panic!("the Pushgateway on port {} was not ready after 30 s", self.port);
    }

    fn try_get(&self, path: &str) -> std::io::Result<(u16, String)> {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port))?;
        stream.set_read_timeout(Some(Duration::from_secs(10)))?;
        // HTTP/1.0 without Accept-Encoding: the answer is plain, unchunked, then closed.
        write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw)?;
        let raw = String::from_utf8(raw).expect("UTF-8 answer");
        let (head, body) = raw.split_once("\r\n\r\n").unwrap_or((&raw, ""));
        let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        Ok((status, body.to_owned()))
    }

    /// `GET path` asking for `accept`: the raw body of a 200 answer (a protobuf exposition is
    /// no text).
    pub(crate) fn get_bytes(&self, path: &str, accept: &str) -> Vec<u8> {
        let mut stream =
            TcpStream::connect(("127.0.0.1", self.port)).unwrap_or_else(|e| panic!("GET {path}: {e}"));
        stream.set_read_timeout(Some(Duration::from_secs(10))).expect("timeout");
        write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nAccept: {accept}\r\n\r\n")
            .expect("request");
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("an HTTP answer");
        let head = String::from_utf8_lossy(&raw[..split]);
        assert!(head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"), "GET {path}: {head}");
        raw[split + 4..].to_vec()
    }

    /// `GET path`: the body of a 200 answer.
    pub(crate) fn get(&self, path: &str) -> String {
        let (status, body) = self.try_get(path).unwrap_or_else(|e| panic!("GET {path}: {e}"));
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    /// The lines of `/metrics` for the families whose names start with `prefix` (HELP and
    /// TYPE included), in the gateway's order.
    pub(crate) fn exposition(&self, prefix: &str) -> String {
        self.get("/metrics")
            .lines()
            .filter(|l| {
                let name = l.strip_prefix("# HELP ").or_else(|| l.strip_prefix("# TYPE ")).unwrap_or(l);
                name.starts_with(prefix)
            })
            .map(|l| format!("{l}\n"))
            .collect()
    }

    /// The groups of `/api/v1/metrics`, sorted by their grouping labels.
    pub(crate) fn groups(&self) -> Vec<Value> {
        let json: Value = serde_json::from_str(&self.get("/api/v1/metrics")).expect("JSON");
        assert_eq!(json["status"], "success", "{json}");
        let mut groups = json["data"].as_array().cloned().unwrap_or_default();
        groups.sort_by_key(|g| g["labels"].to_string());
        groups
    }

    /// The grouping labels of every group, as JSON objects.
    pub(crate) fn group_labels(&self) -> Vec<Value> {
        self.groups().into_iter().map(|g| g["labels"].clone()).collect()
    }

    /// Waits until the gateway's groups have exactly the grouping labels `want` (sorted as
    /// [`Gateway::groups`] sorts them).
    pub(crate) fn expect_groups(&self, want: impl AsRef<[Value]>) {
        eventually("grouping labels", &want.as_ref().to_vec(), || self.group_labels());
    }

    /// Waits until `read()` equals `want` (what the gateway serves after a push).
    pub(crate) fn eventually<T: PartialEq + std::fmt::Debug>(
        &self,
        what: &str,
        want: &T,
        read: impl FnMut() -> T,
    ) {
        eventually(what, want, read);
    }

    /// Waits until [`Gateway::exposition`] of `prefix` is exactly `want`.
    pub(crate) fn expect_exposition(&self, prefix: &str, want: impl AsRef<str>) {
        eventually(&format!("`{prefix}` exposition"), &want.as_ref().to_owned(), || self.exposition(prefix));
    }
}

/// How long the gateway may take to show a change: it answers a DELETE (202 Accepted) before
/// it has applied it, so what it serves next may still hold the deleted group.
const SETTLE: Duration = Duration::from_secs(10);

/// Reads until `read()` equals `want`; after [`SETTLE`] panics with the last value read.
fn eventually<T: PartialEq + std::fmt::Debug>(what: &str, want: &T, mut read: impl FnMut() -> T) {
    let deadline = Instant::now() + SETTLE;
    loop {
        let got = read();
        if got == *want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "gave up after {SETTLE:?} waiting for the gateway's {what}\n got: {got:#?}\nwant: {want:#?}"
        );
        thread::sleep(Duration::from_millis(20));
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        // Only the process this test started, by its handle.
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// Starts a gateway or ends the test (after `SKIP:`) when there is none.
macro_rules! gateway_or_skip {
    () => {
        match crate::gateway::Gateway::start() {
            Some(gw) => gw,
            None => return,
        }
    };
}
pub(crate) use gateway_or_skip;
