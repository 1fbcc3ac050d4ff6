//! Declares `tokio_unstable`, the cfg tokio's unstable metrics are built under, so the
//! `unexpected_cfgs` lint accepts it here without widening the workspace's list.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(tokio_unstable)");
}
