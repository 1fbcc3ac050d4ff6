//! runner's integration tests: one binary, a module per topic.

mod support;

mod access;
mod alertmanager;
mod api;
mod cli;
mod crash;
mod dashboard;
mod deploy;
mod egress;
mod http_engine;
mod page;
mod pool;
mod postgres;
mod prometheus;
mod retries;
mod scale;
mod secrets;
mod store;
mod tls;
mod webdriver;

/// A client that does not follow redirects, for the dashboard's 303s.
fn dashboard_client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}
