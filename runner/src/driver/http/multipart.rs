//! `multipart/form-data` bodies, built as browsers build them (the HTML standard's
//! multipart/form-data encoding algorithm): a random `----WebKitFormBoundary` boundary, one
//! part per entry in form order, line breaks in names and text values made CRLF, `"`, CR and
//! LF in names and file names escaped as `%22`, `%0D` and `%0A`, and a file input without a
//! file sent as an empty part with `filename=""`.

use super::page::Entry;

/// A boundary as Chromium makes them: a fixed prefix and 16 random letters and digits.
pub(crate) fn boundary() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut random = [0_u8; 16];
    // A system RNG failure leaves zeros: the boundary is then fixed, which is still valid
    // as long as no value contains it, as with any boundary.
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut random);
    let tail: String =
        random.iter().map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()])).collect();
    format!("----WebKitFormBoundary{tail}")
}

/// Line breaks (CR, LF, CRLF) as CRLF.
fn crlf(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\r\n");
            }
            '\n' => out.push_str("\r\n"),
            c => out.push(c),
        }
    }
    out
}

/// A name or file name inside a quoted header parameter.
fn escape(name: &str) -> String {
    name.replace('\n', "%0A").replace('\r', "%0D").replace('"', "%22")
}

/// The body of `entries` between `boundary` lines.
pub(crate) fn encode(entries: &[(String, Entry)], boundary: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, entry) in entries {
        out.extend_from_slice(format!("--{boundary}\r\n").as_bytes());
        let name = escape(&crlf(name));
        match entry {
            Entry::Text(value) => {
                out.extend_from_slice(
                    format!("Content-Disposition: form-data; name=\"{name}\"\r\n\r\n").as_bytes(),
                );
                out.extend_from_slice(crlf(value).as_bytes());
            }
            Entry::File(file) => {
                let (filename, content_type, bytes) = match file {
                    Some(f) => (escape(&f.filename), f.content_type.as_str(), &f.bytes[..]),
                    None => (String::new(), "application/octet-stream", &[][..]),
                };
                out.extend_from_slice(
                    format!(
                        "Content-Disposition: form-data; name=\"{name}\"; filename=\"{filename}\"\r\n\
                         Content-Type: {content_type}\r\n\r\n"
                    )
                    .as_bytes(),
                );
                out.extend_from_slice(bytes);
            }
        }
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::driver::files::Upload;

    #[test]
    fn boundaries_look_like_chromium_s_and_differ() {
        let (a, b) = (boundary(), boundary());
        assert_eq!(a.len(), "----WebKitFormBoundary".len() + 16);
        assert!(
            a.starts_with("----WebKitFormBoundary") && a[22..].chars().all(|c| c.is_ascii_alphanumeric())
        );
        assert_ne!(a, b);
    }

    #[test]
    fn parts_are_written_as_browsers_write_them() {
        let entries = vec![
            ("csrf".to_owned(), Entry::Text("tok".to_owned())),
            ("msg".to_owned(), Entry::Text("two\nlines\r".to_owned())),
            (
                "cv".to_owned(),
                Entry::File(Some(Upload {
                    filename: "my \"cv\".txt".to_owned(),
                    content_type: "text/plain".to_owned(),
                    bytes: b"hello\n".to_vec(),
                })),
            ),
            ("empty".to_owned(), Entry::File(None)),
        ];
        let body = String::from_utf8(encode(&entries, "B")).unwrap();
        assert_eq!(
            body,
            "--B\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\ntok\r\n\
             --B\r\nContent-Disposition: form-data; name=\"msg\"\r\n\r\ntwo\r\nlines\r\n\r\n\
             --B\r\nContent-Disposition: form-data; name=\"cv\"; filename=\"my %22cv%22.txt\"\r\n\
             Content-Type: text/plain\r\n\r\nhello\n\r\n\
             --B\r\nContent-Disposition: form-data; name=\"empty\"; filename=\"\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n\r\n\
             --B--\r\n"
        );
    }
}
