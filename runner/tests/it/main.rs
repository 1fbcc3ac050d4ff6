//! runner's integration tests: one binary, a module per topic.

mod support;

mod alertmanager;
mod api;
mod cli;
mod crash;
mod dashboard;
mod deploy;
mod http_engine;
mod page;
mod pool;
mod postgres;
mod prometheus;
mod retries;
mod store;
mod tls;
mod webdriver;
