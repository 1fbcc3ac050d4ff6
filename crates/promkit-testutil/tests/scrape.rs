//! `scrape_and_compare` against a loopback server that answers like a /metrics handler.

use std::io::{Read, Write};
use std::net::TcpListener;

use promkit::{Counter, Format, Registry};
use promkit_testutil::{Error, scrape, scrape_and_compare};

/// Serves `body` with `content_type` to one connection; returns the URL.
fn serve_once(content_type: &'static str, body: Vec<u8>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/metrics", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let (mut stream, _) = listener.accept().unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 1024];
        while !request.ends_with(b"\r\n\r\n") {
            let n = stream.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            request.extend_from_slice(&buf[..n]);
        }
        let head = format!(
            "HTTP/1.0 200 OK\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(&body).unwrap();
    });
    url
}

#[test]
fn scrapes_each_format_and_compares() {
    let registry = Registry::new();
    Counter::builder("hits_total").help("Hits.").register(&registry).unwrap().inc_by(2);
    let expected = "# HELP hits_total Hits.\n# TYPE hits_total counter\nhits_total 2\n";
    for format in [Format::Text, Format::OPENMETRICS, Format::Protobuf] {
        let mut body = Vec::new();
        registry.encode(format, &mut body).unwrap();
        let url = serve_once(format.content_type(), body);
        scrape_and_compare(&url, expected, &[]).unwrap_or_else(|e| panic!("{format:?}: {e}"));
    }
    let url = serve_once(Format::Text.content_type(), b"hits_total 3\n".to_vec());
    let err = scrape_and_compare(&url, expected, &[]).unwrap_err();
    assert!(matches!(err, Error::Mismatch(_)), "{err}");
    let url = serve_once("text/plain; version=0.0.4", b"# TYPE a gauge\na 1\n".to_vec());
    let s = scrape(&url).unwrap();
    assert_eq!((s.format, s.size, s.families.len()), (promkit_parse::model::Format::Text, 19, 1));
}
