//! A one-request HTTP server on loopback: records the request exactly as it arrived and
//! answers with a fixed status and body, to check what the pusher sends.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::thread::{self, JoinHandle};

/// A request as received.
#[derive(Debug)]
pub(crate) struct Received {
    /// `PUT /metrics/job/x HTTP/1.1`.
    pub(crate) request_line: String,
    /// Header lines as sent, names lower-cased, in order.
    pub(crate) headers: Vec<(String, String)>,
    /// The body as text (lossy: a protobuf body is not UTF-8; see `raw`).
    pub(crate) body: String,
    /// The body's bytes.
    pub(crate) raw: Vec<u8>,
}

impl Received {
    /// The values of one header, in order.
    pub(crate) fn header(&self, name: &str) -> Vec<&str> {
        self.headers.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect()
    }
}

/// Serves one request; `join` the handle for what arrived.
pub(crate) fn serve_once(status: u16, answer: &'static str) -> (String, JoinHandle<Received>) {
    let listener = TcpListener::bind(("127.0.0.1", 0)).expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = thread::spawn(move || {
        let (stream, _) = listener.accept().expect("accept");
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut request_line = String::new();
        reader.read_line(&mut request_line).unwrap();
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            let line = line.trim_end_matches(['\r', '\n']);
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').expect("header line");
            headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
        }
        let length = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .map_or(0, |(_, v)| v.parse::<usize>().unwrap());
        let mut body = vec![0; length];
        reader.read_exact(&mut body).unwrap();
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 {status} X\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{answer}",
            answer.len()
        )
        .unwrap();
        Received {
            request_line: request_line.trim_end().to_owned(),
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
            raw: body,
        }
    });
    (url, handle)
}
