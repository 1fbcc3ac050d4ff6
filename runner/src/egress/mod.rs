//! The egress policy: which addresses a job may connect to.
//!
//! Checked after DNS resolution, on the addresses the connection then uses (the resolver
//! returns only allowed addresses, so a name that resolves to an allowed address for the
//! check and to a refused one for the connection, DNS rebinding, has nothing to rebind), and
//! before any request to an address literal. In order:
//!
//! 1. the runner's own listen address and the chromedriver control port: always refused;
//! 2. `--egress-deny` (CIDRs and host patterns): refused;
//! 3. `--egress-allow`: allowed;
//! 4. by default, link-local addresses (169.254.0.0/16, fe80::/10, where cloud metadata
//!    services answer), the other usual metadata addresses and host names: refused;
//! 5. everything else, private ranges included (checking internal sites is a real use):
//!    allowed.

mod proxy;
mod resolve;
mod rule;

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

pub(crate) use proxy::Proxy;
pub(crate) use resolve::PolicyResolver;
pub use resolve::{Lookup, SystemLookup};
pub use rule::{Rule, RuleError};

/// Metadata services' host names, refused by default.
const METADATA_HOSTS: &[&str] =
    &["metadata", "metadata.google.internal", "metadata.goog", "instance-data", "instance-data.ec2.internal"];

/// Addresses refused by default, with what they are.
fn default_denied() -> Vec<(Rule, &'static str)> {
    let rule = |text: &str| Rule::parse(text).unwrap_or_else(|e| unreachable!("built-in rule {text}: {e}"));
    vec![
        (rule("169.254.0.0/16"), "link-local and cloud metadata addresses"),
        (rule("fe80::/10"), "IPv6 link-local addresses"),
        (rule("100.100.100.200/32"), "a cloud metadata address"),
        (rule("fd00:ec2::254/128"), "a cloud metadata address"),
    ]
}

/// A connection the policy refuses, with the rule that refused it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the egress policy refuses {target}: {rule}")]
pub struct Refusal {
    /// The host, address or endpoint refused.
    pub target: String,
    /// The rule, as the operator would look it up (`--egress-deny 10.0.0.0/8`, `default: ...`).
    pub rule: String,
}

/// The policy of one runner.
#[derive(Clone, Default)]
pub struct Policy {
    deny: Vec<Rule>,
    allow: Vec<Rule>,
    protected: Vec<(SocketAddr, &'static str)>,
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("deny", &self.deny.iter().map(ToString::to_string).collect::<Vec<_>>())
            .field("allow", &self.allow.iter().map(ToString::to_string).collect::<Vec<_>>())
            .field("protected", &self.protected)
            .finish()
    }
}

impl Policy {
    /// The default policy with these `--egress-allow` and `--egress-deny` rules.
    pub fn new(allow: Vec<Rule>, deny: Vec<Rule>) -> Self {
        Self { deny, allow, protected: Vec::new() }
    }

    /// Refuses `addr` always (the runner's own listener, a control port); `what` names it.
    pub fn protect(&mut self, addr: SocketAddr, what: &'static str) {
        self.protected.push((addr, what));
    }

    fn refusal(target: impl fmt::Display, rule: String) -> Refusal {
        Refusal { target: target.to_string(), rule }
    }

    /// The verdict on a host name, before resolution: deny and allow patterns, then the
    /// metadata names.
    ///
    /// # Errors
    ///
    /// [`Refusal`] naming the rule.
    pub fn check_name(&self, host: &str) -> Result<(), Refusal> {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if let Some(rule) = self.deny.iter().find(|r| r.matches_name(&host)) {
            return Err(Self::refusal(&host, format!("--egress-deny {rule}")));
        }
        if self.allow.iter().any(|r| r.matches_name(&host)) {
            return Ok(());
        }
        if METADATA_HOSTS.contains(&host.as_str()) {
            return Err(Self::refusal(&host, format!("default: cloud metadata host `{host}`")));
        }
        Ok(())
    }

    /// The verdict on one address a connection would use.
    ///
    /// # Errors
    ///
    /// [`Refusal`] naming the rule.
    pub fn check_addr(&self, addr: SocketAddr) -> Result<(), Refusal> {
        let ip = addr.ip().to_canonical();
        for (own, what) in &self.protected {
            let same_host = ip == own.ip().to_canonical()
                || (ip.is_loopback() && (own.ip().is_loopback() || own.ip().is_unspecified()))
                || ip.is_unspecified();
            if addr.port() == own.port() && same_host {
                return Err(Self::refusal(addr, format!("default: {what} {own}")));
            }
        }
        self.check_ip(ip).map_err(|rule| Self::refusal(addr, rule))
    }

    /// The verdict on an address whatever the port: the rule that refuses it, if any.
    pub(crate) fn check_ip(&self, ip: IpAddr) -> Result<(), String> {
        let ip = ip.to_canonical();
        if let Some(rule) = self.deny.iter().find(|r| r.matches_ip(ip)) {
            return Err(format!("--egress-deny {rule}"));
        }
        if self.allow.iter().any(|r| r.matches_ip(ip)) {
            return Ok(());
        }
        match default_denied().into_iter().find(|(r, _)| r.matches_ip(ip)) {
            Some((rule, what)) => Err(format!("default: {what} ({rule})")),
            None => Ok(()),
        }
    }
}

/// A policy and the resolver it checks names with: what the engines connect through.
#[derive(Debug, Clone)]
pub struct Egress {
    /// The rules.
    pub policy: Arc<Policy>,
    /// How names become addresses.
    pub lookup: Arc<dyn Lookup>,
}

impl Default for Egress {
    fn default() -> Self {
        Self { policy: Arc::new(Policy::default()), lookup: Arc::new(SystemLookup) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(text: &str) -> SocketAddr {
        text.parse().unwrap()
    }

    /// The default verdicts, decided without opening any connection.
    #[test]
    fn defaults_refuse_link_local_and_metadata_and_allow_private_ranges() {
        let p = Policy::default();
        for refused in [
            "169.254.169.254:80",
            "169.254.0.1:443",
            "[fe80::1]:80",
            "100.100.100.200:80",
            "[fd00:ec2::254]:80",
            "[::ffff:169.254.169.254]:80",
        ] {
            let err = p.check_addr(addr(refused)).unwrap_err();
            assert!(err.rule.starts_with("default: "), "{refused}: {err}");
        }
        assert!(p.check_addr(addr("169.254.169.254:80")).unwrap_err().to_string().contains("169.254.0.0/16"));
        for allowed in [
            "10.0.0.1:80",
            "172.16.5.4:443",
            "192.168.1.1:80",
            "[fd12::1]:80",
            "127.0.0.1:80",
            "93.184.216.34:443",
        ] {
            assert_eq!(p.check_addr(addr(allowed)), Ok(()), "{allowed}");
        }
        for name in ["metadata.google.internal", "METADATA.google.internal.", "metadata", "instance-data"] {
            assert!(p.check_name(name).unwrap_err().rule.contains("metadata host"), "{name}");
        }
        assert_eq!(p.check_name("example.com"), Ok(()));
    }

    #[test]
    fn operator_rules_come_before_the_defaults() {
        let allow = vec![Rule::parse("169.254.10.0/24").unwrap(), Rule::parse("metadata").unwrap()];
        let deny = vec![Rule::parse("10.0.0.0/8").unwrap(), Rule::parse("*.internal.example").unwrap()];
        let p = Policy::new(allow, deny);
        assert_eq!(p.check_addr(addr("169.254.10.9:80")), Ok(()));
        assert!(p.check_addr(addr("169.254.11.9:80")).is_err());
        assert_eq!(p.check_addr(addr("10.1.2.3:80")).unwrap_err().rule, "--egress-deny 10.0.0.0/8");
        assert_eq!(p.check_name("metadata"), Ok(()));
        assert_eq!(p.check_name("db.internal.example").unwrap_err().rule, "--egress-deny *.internal.example");
        assert_eq!(p.check_name("internal.example"), Ok(()));
    }

    #[test]
    fn the_runners_own_ports_are_refused() {
        let mut p = Policy::default();
        p.protect(addr("0.0.0.0:8080"), "the runner's own listen address");
        p.protect(addr("127.0.0.1:9515"), "the chromedriver control port");
        assert!(p.check_addr(addr("127.0.0.1:8080")).unwrap_err().rule.contains("own listen address"));
        assert!(p.check_addr(addr("127.0.0.5:9515")).unwrap_err().rule.contains("chromedriver"));
        assert!(p.check_addr(addr("[::1]:9515")).is_err());
        assert_eq!(p.check_addr(addr("127.0.0.1:8081")), Ok(()));
        assert_eq!(p.check_addr(addr("10.0.0.1:9515")), Ok(()));
    }
}
