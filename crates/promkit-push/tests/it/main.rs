//! promkit-push's integration tests: URLs and requests as sent, and pushes to a real
//! Pushgateway (`prometheus-pushgateway`, from `scripts/install-deps`).

#[cfg(feature = "blocking")]
mod blocking;
mod errors;
mod formats;
mod gateway;
mod requests;
mod roundtrip;
mod server;
mod urls;
