//! What counts as loopback: one answer for every decision the runner takes on it.
//!
//! Those decisions are which sites the http engine reaches without a proxy, whether a
//! WebDriver server runs on this machine (and so can be given a local profile directory),
//! which `Host` headers a loopback listener answers, and whether a listener needs a write
//! token.
//!
//! Loopback is:
//!
//! - an IPv4 address in 127.0.0.0/8;
//! - the IPv6 address `::1`;
//! - an IPv4-mapped IPv6 address of 127.0.0.0/8 (`::ffff:127.0.0.1`): a dual-stack socket
//!   reaches IPv4 loopback through it, although std's `Ipv6Addr::is_loopback` says no;
//! - the name `localhost` and every name ending in `.localhost`, in any case: RFC 6761
//!   reserves them for loopback, and browsers resolve them there without asking DNS.
//!
//! Any other name is not, even one that resolves to 127.0.0.1 today: a DNS-rebinding name
//! does exactly that, so the answer never depends on DNS. The absolute form `localhost.` is
//! not accepted either (no resolver is obliged to map it to loopback).

use std::net::IpAddr;

use url::{Host, Url};

/// Whether `ip` is a loopback address (IPv4-mapped ones included).
pub(crate) fn is_ip(ip: IpAddr) -> bool {
    ip.to_canonical().is_loopback()
}

/// Whether a host name (not an address) is a loopback name.
pub(crate) fn is_name(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name == "localhost" || name.ends_with(".localhost")
}

/// Whether `url`'s host is loopback; a URL without a host is not.
pub(crate) fn is_url(url: &Url) -> bool {
    match url.host() {
        Some(Host::Domain(name)) => is_name(name),
        Some(Host::Ipv4(ip)) => is_ip(ip.into()),
        Some(Host::Ipv6(ip)) => is_ip(ip.into()),
        None => false,
    }
}

/// Whether an HTTP `Host` header value (`name[:port]`, `v4[:port]` or `[v6][:port]`) names a
/// loopback host.
pub(crate) fn is_authority(authority: &str) -> bool {
    let host = match authority.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or(""),
        None => authority.rsplit_once(':').map_or(authority, |(host, _port)| host),
    };
    match host.parse::<IpAddr>() {
        Ok(ip) => is_ip(ip),
        Err(_) => is_name(host),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOOPBACK: [&str; 9] = [
        "127.0.0.1",
        "127.1.2.3",
        "127.255.255.255",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[::ffff:127.9.8.7]",
        "localhost",
        "LocalHost",
        "app.localhost",
    ];

    const NOT_LOOPBACK: [&str; 12] = [
        "128.0.0.1",
        "126.255.255.255",
        "0.0.0.0",
        "10.0.0.1",
        "[::]",
        "[::2]",
        "[::ffff:10.0.0.1]",
        "[2001:db8::1]",
        "localhost.example",
        "notlocalhost",
        "localhost.",
        "evil.example",
    ];

    #[test]
    fn urls() {
        for host in LOOPBACK {
            let url = Url::parse(&format!("http://{host}:9515/wd/hub")).unwrap();
            assert!(is_url(&url), "{url}");
        }
        for host in NOT_LOOPBACK {
            let url = Url::parse(&format!("http://{host}:9515/")).unwrap();
            assert!(!is_url(&url), "{url}");
        }
        assert!(!is_url(&Url::parse("file:///tmp/x").unwrap()));
    }

    #[test]
    fn host_headers() {
        for host in LOOPBACK {
            assert!(is_authority(host), "{host}");
            assert!(is_authority(&format!("{host}:8080")), "{host}:8080");
        }
        for host in NOT_LOOPBACK {
            assert!(!is_authority(host), "{host}");
            assert!(!is_authority(&format!("{host}:8080")), "{host}:8080");
        }
        assert!(!is_authority(""));
    }

    #[test]
    fn addresses() {
        for ip in ["127.0.0.1", "127.0.0.2", "::1", "::ffff:127.0.0.1"] {
            assert!(is_ip(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["0.0.0.0", "::", "192.168.1.1", "::ffff:192.168.1.1", "::127.0.0.1"] {
            assert!(!is_ip(ip.parse().unwrap()), "{ip}");
        }
    }
}
