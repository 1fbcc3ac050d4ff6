//! The egress proxy of one browser session: an HTTP and CONNECT proxy on loopback that
//! Chromium is sent through (`--proxy-server`, with `--proxy-bypass-list=<-loopback>` so that
//! loopback goes through it too). It resolves each target through the policy, connects to
//! the address it checked, and answers 403 naming the rule for a refused one, keeping the
//! refusals for the job's outcome. Chromium resolves no names of proxied requests itself, so
//! the proxy's check is the only resolution.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::JoinHandle;

use super::{PolicyResolver, Refusal};

/// Largest request head read, in bytes.
const MAX_HEAD: usize = 64 * 1024;

/// A running proxy; stops when dropped.
#[derive(Debug)]
pub(crate) struct Proxy {
    addr: SocketAddr,
    refusals: Arc<Mutex<Vec<Refusal>>>,
    task: JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    /// Starts a proxy on a free loopback port.
    pub(crate) async fn start(resolver: PolicyResolver) -> std::io::Result<Self> {
        let listener = TcpListener::bind((IpAddr::from([127, 0, 0, 1]), 0)).await?;
        let addr = listener.local_addr()?;
        let refusals: Arc<Mutex<Vec<Refusal>>> = Arc::default();
        let log = Arc::clone(&refusals);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (resolver, log) = (resolver.clone(), Arc::clone(&log));
                tokio::spawn(async move {
                    if let Err(refusal) = serve(stream, &resolver).await {
                        log.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(refusal);
                    }
                });
            }
        });
        Ok(Self { addr, refusals, task })
    }

    /// Where it listens.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The connections refused so far.
    pub(crate) fn refusals(&self) -> Vec<Refusal> {
        self.refusals.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }
}

/// The checked address for `host:port`; `Err(None)` when the name does not resolve (not a
/// refusal: the browser sees a 502, as for any unreachable site).
async fn checked(resolver: &PolicyResolver, host: &str, port: u16) -> Result<SocketAddr, Option<Refusal>> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let ips = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![ip],
        Err(_) => resolver.resolve(bare).await.map_err(|e| e.downcast::<Refusal>().ok().map(|r| *r))?,
    };
    let mut refusal = None;
    for ip in ips {
        match resolver.policy.check_addr(SocketAddr::new(ip, port)) {
            Ok(()) => return Ok(SocketAddr::new(ip, port)),
            Err(r) => {
                refusal.get_or_insert(r);
            }
        }
    }
    Err(refusal)
}

/// Splits `host[:port]` with a default port.
fn host_port(authority: &str, default: u16) -> (String, u16) {
    match authority.rsplit_once(':') {
        // `[::1]:81` splits after the bracket; a bare `::1` or a `[::1` does not split.
        Some((h, p)) if (h.ends_with(']') || !h.contains(':')) && !h.starts_with(':') => {
            (h.to_owned(), p.parse().unwrap_or(default))
        }
        _ => (authority.to_owned(), default),
    }
}

/// Serves one client connection: one request (the origin is asked to close after it).
/// Returns the refusal when the target was refused; other failures just end the connection.
async fn serve(mut client: TcpStream, resolver: &PolicyResolver) -> Result<(), Refusal> {
    let mut buf = Vec::with_capacity(4096);
    let head_end = loop {
        let mut chunk = [0u8; 4096];
        let Ok(n) = client.read(&mut chunk).await else { return Ok(()) };
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        if buf.len() > MAX_HEAD {
            return Ok(());
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let first = lines.next().unwrap_or_default();
    let mut parts = first.split(' ');
    let (method, target, version) =
        (parts.next().unwrap_or(""), parts.next().unwrap_or(""), parts.next().unwrap_or("HTTP/1.1"));
    let (host, port, rewritten) = if method.eq_ignore_ascii_case("CONNECT") {
        let (h, p) = host_port(target, 443);
        (h, p, None)
    } else {
        let Some(rest) = target.strip_prefix("http://") else {
            let _ = client.write_all(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n").await;
            return Ok(());
        };
        let (authority, path) = rest.find('/').map_or((rest, "/"), |i| (&rest[..i], &rest[i..]));
        let (h, p) = host_port(authority, 80);
        let mut out = format!("{method} {path} {version}\r\n");
        for line in lines.filter(|l| !l.is_empty()) {
            let name = line.split(':').next().unwrap_or("").trim().to_ascii_lowercase();
            if !matches!(
                name.as_str(),
                "proxy-connection" | "connection" | "keep-alive" | "proxy-authorization"
            ) {
                out.push_str(line);
                out.push_str("\r\n");
            }
        }
        out.push_str("Connection: close\r\n\r\n");
        (h, p, Some(out))
    };
    let addr = match checked(resolver, &host, port).await {
        Ok(addr) => addr,
        Err(None) => {
            let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n").await;
            return Ok(());
        }
        Err(Some(refusal)) => {
            let body = refusal.to_string();
            let answer = format!(
                "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            let _ = client.write_all(answer.as_bytes()).await;
            return Err(refusal);
        }
    };
    let Ok(mut origin) = TcpStream::connect(addr).await else {
        let _ = client.write_all(b"HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n").await;
        return Ok(());
    };
    let sent = match &rewritten {
        None => client.write_all(b"HTTP/1.1 200 Connection Established\r\n\r\n").await,
        Some(head) => origin.write_all(head.as_bytes()).await,
    };
    if sent.is_err() {
        return Ok(());
    }
    if rewritten.is_some() && origin.write_all(&buf[head_end..]).await.is_err() {
        return Ok(());
    }
    let _ = tokio::io::copy_bidirectional(&mut client, &mut origin).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authorities_split() {
        assert_eq!(host_port("a.test:8080", 80), ("a.test".into(), 8080));
        assert_eq!(host_port("a.test", 443), ("a.test".into(), 443));
        assert_eq!(host_port("[::1]:81", 80), ("[::1]".into(), 81));
        assert_eq!(host_port("[::1]", 80), ("[::1]".into(), 80));
    }
}
