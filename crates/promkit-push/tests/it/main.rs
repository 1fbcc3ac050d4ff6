//! promkit-push's integration tests: URLs and requests as sent, and pushes to a real
//! Pushgateway (`prometheus-pushgateway`, from `scripts/install-deps`), the examples among them
//! (compiled in here, not built by a nested cargo).

// The example's `main` is for `cargo run --example`; the tests call its `run`.
#[allow(dead_code)]
#[path = "../../examples/batch_job.rs"]
mod batch_job;

#[cfg(feature = "blocking")]
mod blocking;
mod errors;
mod examples;
mod formats;
mod gateway;
mod requests;
mod roundtrip;
mod server;
mod urls;
