//! Names to addresses, through the policy: the resolver the http engine's connections use.
//! It returns only the addresses the policy allows, so what was checked is what is
//! connected to, and a second answer for the same name (DNS rebinding) is checked again.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use super::{Policy, Refusal};
use crate::driver::BoxFuture;

/// How host names become addresses. Tests give their own, to play DNS rebinding.
pub trait Lookup: Send + Sync + fmt::Debug {
    /// The addresses of `host`.
    fn lookup<'a>(&'a self, host: &'a str) -> BoxFuture<'a, std::io::Result<Vec<IpAddr>>>;
}

/// The operating system's resolver.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemLookup;

impl Lookup for SystemLookup {
    fn lookup<'a>(&'a self, host: &'a str) -> BoxFuture<'a, std::io::Result<Vec<IpAddr>>> {
        Box::pin(async move { Ok(tokio::net::lookup_host((host, 0)).await?.map(|a| a.ip()).collect()) })
    }
}

/// reqwest's resolver: looks the name up once and hands on only the allowed addresses.
#[derive(Debug, Clone)]
pub(crate) struct PolicyResolver {
    pub(crate) policy: Arc<Policy>,
    pub(crate) lookup: Arc<dyn Lookup>,
}

impl PolicyResolver {
    /// The allowed addresses of `host`, or the refusal of the first refused one when none is.
    pub(crate) async fn resolve(
        &self,
        host: &str,
    ) -> Result<Vec<IpAddr>, Box<dyn std::error::Error + Send + Sync>> {
        self.policy.check_name(host)?;
        let all = self.lookup.lookup(host).await?;
        let mut first_refusal: Option<Refusal> = None;
        let mut allowed = Vec::new();
        for ip in all {
            match self.policy.check_ip(ip) {
                Ok(()) => allowed.push(ip),
                Err(rule) => {
                    first_refusal.get_or_insert(Refusal { target: format!("{host} ({ip})"), rule });
                }
            }
        }
        match (allowed.is_empty(), first_refusal) {
            (true, Some(refusal)) => Err(Box::new(refusal)),
            _ => Ok(allowed),
        }
    }
}

impl reqwest::dns::Resolve for PolicyResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let this = self.clone();
        Box::pin(async move {
            let ips = this.resolve(name.as_str()).await?;
            let addrs: reqwest::dns::Addrs = Box::new(ips.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(addrs)
        })
    }
}
