//! One `--egress-allow` / `--egress-deny` rule: a CIDR (`10.0.0.0/8`, `fd00::/8`), an address
//! (`127.0.0.2`, as /32 or /128), a host name (`intranet.example`) or a pattern of its
//! sub-domains (`*.example.com`).

use std::fmt;
use std::net::IpAddr;

/// A rule that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a CIDR (10.0.0.0/8), an address, a host name or a `*.domain` pattern")]
pub struct RuleError {
    /// The rule as given.
    pub text: String,
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rule {
    /// Addresses within `prefix` bits of `net`.
    Cidr {
        /// The network.
        net: IpAddr,
        /// Prefix length.
        prefix: u8,
    },
    /// Exactly this host name (lower case).
    Host(String),
    /// Any sub-domain of this domain (lower case, without the `*.`).
    SubdomainsOf(String),
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cidr { net, prefix } => write!(f, "{net}/{prefix}"),
            Self::Host(h) => f.write_str(h),
            Self::SubdomainsOf(d) => write!(f, "*.{d}"),
        }
    }
}

fn valid_host(host: &str) -> bool {
    !host.is_empty()
        && host.split('.').all(|label| {
            !label.is_empty() && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

impl Rule {
    /// Parses one rule.
    ///
    /// # Errors
    ///
    /// [`RuleError`] quoting it.
    pub fn parse(text: &str) -> Result<Self, RuleError> {
        let text = text.trim();
        let error = || RuleError { text: text.to_owned() };
        if let Some((net, prefix)) = text.split_once('/') {
            let net: IpAddr = net.parse().map_err(|_| error())?;
            let prefix: u8 = prefix.parse().map_err(|_| error())?;
            let max = if net.is_ipv4() { 32 } else { 128 };
            if prefix > max {
                return Err(error());
            }
            return Ok(Self::Cidr { net: net.to_canonical(), prefix });
        }
        if let Ok(ip) = text.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
            let ip = ip.to_canonical();
            return Ok(Self::Cidr { net: ip, prefix: if ip.is_ipv4() { 32 } else { 128 } });
        }
        let lower = text.trim_end_matches('.').to_ascii_lowercase();
        match lower.strip_prefix("*.") {
            Some(domain) if valid_host(domain) => Ok(Self::SubdomainsOf(domain.to_owned())),
            None if valid_host(&lower) => Ok(Self::Host(lower)),
            _ => Err(error()),
        }
    }

    /// Parses a comma-separated list (a flag's value).
    ///
    /// # Errors
    ///
    /// [`RuleError`] for the first that does not parse.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, RuleError> {
        text.split(',').filter(|s| !s.trim().is_empty()).map(Self::parse).collect()
    }

    /// Whether the address is in this rule's network.
    pub fn matches_ip(&self, ip: IpAddr) -> bool {
        let Self::Cidr { net, prefix } = self else { return false };
        match (net, ip.to_canonical()) {
            (IpAddr::V4(n), IpAddr::V4(a)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(*prefix)).unwrap_or(0);
                u32::from(*n) & mask == u32::from(a) & mask
            }
            (IpAddr::V6(n), IpAddr::V6(a)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(*prefix)).unwrap_or(0);
                u128::from(*n) & mask == u128::from(a) & mask
            }
            _ => false,
        }
    }

    /// Whether the (lower-case) host name matches this rule.
    pub fn matches_name(&self, host: &str) -> bool {
        match self {
            Self::Host(h) => host == h,
            Self::SubdomainsOf(d) => host.strip_suffix(d.as_str()).is_some_and(|rest| rest.ends_with('.')),
            Self::Cidr { .. } => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse_and_match() {
        let cidr = Rule::parse("10.0.0.0/8").unwrap();
        assert!(cidr.matches_ip("10.255.0.1".parse().unwrap()));
        assert!(cidr.matches_ip("::ffff:10.0.0.1".parse().unwrap()));
        assert!(!cidr.matches_ip("11.0.0.1".parse().unwrap()));
        let one = Rule::parse("127.0.0.2").unwrap();
        assert_eq!(one.to_string(), "127.0.0.2/32");
        assert!(
            one.matches_ip("127.0.0.2".parse().unwrap()) && !one.matches_ip("127.0.0.1".parse().unwrap())
        );
        let all = Rule::parse("0.0.0.0/0").unwrap();
        assert!(all.matches_ip("8.8.8.8".parse().unwrap()));
        assert!(Rule::parse("fe80::/10").unwrap().matches_ip("fe80::1".parse().unwrap()));
        let sub = Rule::parse("*.Example.com").unwrap();
        assert!(
            sub.matches_name("a.example.com")
                && !sub.matches_name("example.com")
                && !sub.matches_name("badexample.com")
        );
        assert!(Rule::parse("intranet").unwrap().matches_name("intranet"));
        for bad in ["10.0.0.0/33", "a b", "*.", "http://x/", ""] {
            assert!(Rule::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Rule::parse_list("127.0.0.2/32, *.x.test").unwrap().len(), 2);
    }
}
