//! Rate limiting of failed token checks, per client address: after [`MAX_FAILURES`] wrong
//! tokens (bearer or `/ui/unlock`) within [`WINDOW`], an address gets 429 for any token check
//! until the window ends, so guessing a token is slowed to a few tries a minute.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Wrong tokens an address may send within [`WINDOW`].
pub const MAX_FAILURES: u32 = 10;
/// How long failures count.
pub const WINDOW: Duration = Duration::from_secs(60);
/// Addresses remembered at most; beyond it the oldest windows are dropped first.
const MAX_ADDRESSES: usize = 10_000;

/// Failures per client address.
#[derive(Debug, Default)]
pub struct Limiter {
    failures: Mutex<HashMap<IpAddr, (Instant, u32)>>,
}

impl Limiter {
    /// A limiter with no failures recorded.
    pub fn new() -> Self {
        Self::default()
    }

    /// When `ip` may try again, if it is blocked now.
    pub fn blocked(&self, ip: IpAddr) -> Option<Duration> {
        let now = Instant::now();
        let map = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let &(since, count) = map.get(&ip)?;
        let age = now.saturating_duration_since(since);
        (count >= MAX_FAILURES && age < WINDOW).then(|| WINDOW - age)
    }

    /// Records a wrong token from `ip`.
    pub fn fail(&self, ip: IpAddr) {
        let now = Instant::now();
        let mut map = self.failures.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if map.len() >= MAX_ADDRESSES {
            map.retain(|_, (since, _)| now.saturating_duration_since(*since) < WINDOW);
        }
        let entry = map.entry(ip).or_insert((now, 0));
        if now.saturating_duration_since(entry.0) >= WINDOW {
            *entry = (now, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_blocked_after_its_failures_only() {
        let limiter = Limiter::new();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..MAX_FAILURES - 1 {
            limiter.fail(a);
        }
        assert_eq!(limiter.blocked(a), None);
        limiter.fail(a);
        assert!(limiter.blocked(a).is_some_and(|d| d <= WINDOW));
        assert_eq!(limiter.blocked(b), None);
    }
}
