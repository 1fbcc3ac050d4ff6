//! https sites: the http engine's TLS (rustls with the ring provider, system roots through
//! the platform verifier) completes a handshake and checks certificates.

use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use runner::domain::{FlowSpec, JobStatus};
use runner::driver::http::{HttpDriver, HttpOptions};
use runner::driver::{Driver, JobSpec, Progress};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use url::Url;

use crate::prometheus::Killed;
use crate::support::{client, get, post, post_json, wait_for};

/// An https server for `localhost` with a fresh self-signed certificate, answering every
/// request with a small page; returns its address and the certificate (PEM).
async fn https_site() -> (SocketAddr, String) {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let pem = cert.cert.pem();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .unwrap();
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                let Ok(mut tls) = acceptor.accept(socket).await else { return };
                let mut buf = vec![0u8; 4096];
                let _ = tls.read(&mut buf).await;
                let body = "<html><title>Secure</title><p>secure hello</p></html>";
                let resp = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = tls.write_all(resp.as_bytes()).await;
                let _ = tls.shutdown().await;
            });
        }
    });
    (addr, pem)
}

#[tokio::test]
async fn an_untrusted_certificate_is_an_error_naming_it() {
    let (addr, _) = https_site().await;
    let driver = HttpDriver::new(&HttpOptions::default()).unwrap();
    let job = JobSpec {
        job_id: 1,
        site_name: "tls".into(),
        base_url: Url::parse(&format!("https://localhost:{}/", addr.port())).unwrap(),
        flow: FlowSpec {
            retries: None,
            interval_secs: None,
            timeout_secs: None,
            name: "f".into(),
            driver: "http".into(),
            start_url: "/".into(),
            steps: vec![],
        },
        progress: Progress::default(),
    };
    let outcome = driver.run(&job).await;
    assert_eq!(outcome.status, JobStatus::Error);
    let reason = outcome.reason.unwrap();
    assert!(reason.contains("certificate"), "{reason}");
}

#[tokio::test]
async fn a_trusted_https_site_passes() {
    // The binary, so that its trust store can be pointed at the test certificate through
    // SSL_CERT_FILE (read by the platform verifier on Linux) without touching this process.
    let (addr, pem) = https_site().await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, pem).unwrap();
    let port = promkit_oracle::free_port();
    let base = format!("http://127.0.0.1:{port}");
    let _runner = Killed(
        Command::new(env!("CARGO_BIN_EXE_runner"))
            .current_dir(dir.path())
            .args(["--listen", &format!("127.0.0.1:{port}"), "--no-demo", "--db", "tls.db"])
            .env("SSL_CERT_FILE", &ca)
            .env_remove("SSL_CERT_DIR")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.path().join("runner.log")).unwrap())
            .spawn()
            .unwrap(),
    );
    wait_for("the runner to answer", Duration::from_secs(60), || async {
        client().get(format!("{base}/")).send().await.ok().filter(|r| r.status() == 200).map(|_| ())
    })
    .await;
    let site = post_json(
        &format!("{base}/api/sites"),
        &json!({"name": "secure", "base_url": format!("https://localhost:{}/", addr.port()),
                "flows": [{"name": "home", "start_url": "/", "steps": [{"kind": "expect_text", "text": "secure hello"}]}]}),
    )
    .await;
    assert_eq!(site.status, 201, "{}", site.body);
    let id = site.json()["id"].as_i64().unwrap();
    let run = post(&format!("{base}/api/sites/{id}/run"), "application/json", "").await.json();
    let run_id = run["id"].as_i64().unwrap();
    let run = wait_for("the https run", Duration::from_secs(60), || async {
        let run = get(&format!("{base}/api/runs/{run_id}")).await.json();
        run["finished_at"].is_i64().then_some(run)
    })
    .await;
    assert_eq!(run["jobs"][0]["status"], "passed", "{run}");
}
