//! Response compression chosen from `Accept-Encoding`.

/// A content coding the handler can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Encoding {
    /// No compression.
    Identity,
    /// gzip (feature `gzip`).
    Gzip,
    /// zstd (feature `zstd`).
    Zstd,
}

impl Encoding {
    /// The `Content-Encoding` value, or `None` for identity (no header is sent then).
    pub fn header(self) -> Option<&'static str> {
        match self {
            Self::Identity => None,
            Self::Gzip => Some("gzip"),
            Self::Zstd => Some("zstd"),
        }
    }

    fn token(self) -> &'static str {
        self.header().unwrap_or("identity")
    }

    /// The codings this build can produce, in the order preferred at equal q.
    pub fn available() -> &'static [Encoding] {
        &[
            #[cfg(feature = "zstd")]
            Encoding::Zstd,
            #[cfg(feature = "gzip")]
            Encoding::Gzip,
            Encoding::Identity,
        ]
    }
}

/// Picks the coding with the highest q among `offered`; ties go to the earlier offer. Identity
/// competes only when listed (by name or `*`); otherwise, as in Go's `NegotiateContentEncoding`,
/// it is the answer when nothing else is acceptable (an uncompressed body beats a 406 for a
/// scraper), so `gzip;q=0.5` alone still gets gzip.
pub(crate) fn negotiate_encoding(header: Option<&str>, offered: &[Encoding]) -> Encoding {
    let Some(header) = header else { return Encoding::Identity };
    let mut best: Option<(f32, usize)> = None;
    let q_of = |enc: Encoding| -> Option<f32> {
        let mut star = None;
        for clause in header.split(',') {
            let mut parts = clause.split(';');
            let token = parts.next().unwrap_or("").trim();
            let q = parts
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.trim().eq_ignore_ascii_case("q"))
                .map_or(Some(1.0), |(_, v)| v.trim().parse::<f32>().ok().filter(|q| (0.0..=1.0).contains(q)))
                .unwrap_or(0.0);
            if token.eq_ignore_ascii_case(enc.token()) {
                return Some(q);
            }
            if token == "*" {
                star = Some(q);
            }
        }
        star
    };
    for (i, &enc) in offered.iter().enumerate() {
        if let Some(q) = q_of(enc).filter(|q| *q > 0.0)
            && best.is_none_or(|(bq, _)| q > bq)
        {
            best = Some((q, i));
        }
    }
    best.map_or(Encoding::Identity, |(_, i)| offered[i])
}

/// Compresses `body` with `enc` (identity copies it).
pub(crate) fn compress(enc: Encoding, body: &[u8]) -> std::io::Result<Vec<u8>> {
    match enc {
        Encoding::Identity => Ok(body.to_vec()),
        #[cfg(feature = "gzip")]
        Encoding::Gzip => {
            use std::io::Write;
            let mut w = flate2::write::GzEncoder::new(
                Vec::with_capacity(body.len() / 4),
                flate2::Compression::fast(),
            );
            w.write_all(body)?;
            w.finish()
        }
        #[cfg(feature = "zstd")]
        Encoding::Zstd => zstd::bulk::compress(body, 1),
        #[allow(unreachable_patterns)]
        _ => Ok(body.to_vec()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &[Encoding] = &[Encoding::Zstd, Encoding::Gzip, Encoding::Identity];

    #[test]
    fn picks_by_q_then_preference() {
        assert_eq!(negotiate_encoding(None, ALL), Encoding::Identity);
        assert_eq!(negotiate_encoding(Some("gzip"), ALL), Encoding::Gzip);
        assert_eq!(negotiate_encoding(Some("gzip, zstd"), ALL), Encoding::Zstd);
        assert_eq!(negotiate_encoding(Some("zstd;q=0.5, gzip"), ALL), Encoding::Gzip);
        assert_eq!(negotiate_encoding(Some("br"), ALL), Encoding::Identity);
        assert_eq!(negotiate_encoding(Some("*"), ALL), Encoding::Zstd);
        assert_eq!(negotiate_encoding(Some("gzip;q=0"), ALL), Encoding::Identity);
        assert_eq!(negotiate_encoding(Some("identity;q=0, gzip;q=0"), ALL), Encoding::Identity);
        assert_eq!(negotiate_encoding(Some("gzip;q=nonsense"), ALL), Encoding::Identity);
        assert_eq!(negotiate_encoding(Some(",,;;=="), ALL), Encoding::Identity);
        assert_eq!(negotiate_encoding(Some("gzip"), &[Encoding::Identity]), Encoding::Identity);
        // An unlisted identity does not outrank the codings the client did list.
        assert_eq!(negotiate_encoding(Some("gzip;q=0.5"), ALL), Encoding::Gzip);
        assert_eq!(negotiate_encoding(Some("gzip;q=0.5, identity"), ALL), Encoding::Identity);
    }

    #[test]
    fn compressed_bodies_decompress_to_the_input() {
        let body = b"metric 1\n".repeat(1000);
        let gz = compress(Encoding::Gzip, &body).unwrap();
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(&gz[..]), &mut out).unwrap();
        assert_eq!(out, body);
        let z = compress(Encoding::Zstd, &body).unwrap();
        assert_eq!(zstd::bulk::decompress(&z, body.len()).unwrap(), body);
        assert!(gz.len() < body.len() / 10 && z.len() < body.len() / 10);
    }
}
