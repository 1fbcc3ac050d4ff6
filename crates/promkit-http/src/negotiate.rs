//! Content negotiation: which exposition format a scraper gets, from its `Accept` header.
//!
//! The rules are Go's `expfmt.NegotiateIncludingOpenMetrics`: media ranges are tried from the
//! highest q-value down (more specific before wildcards at equal q), and the first one promkit
//! can write wins; anything else (`*/*`, garbage, no header) gets text 0.0.4. Unlike Go, a range
//! with `q=0` ("not acceptable") is never chosen.
//!
//! **Names.** An `escaping=` parameter on a range that was looked at picks how names outside
//! the legacy character set are written (a registry with
//! [`NameValidation::Utf8`](promkit::NameValidation::Utf8) has them): `allow-utf-8` quotes them
//! (`{"http.server.duration",le="0.5"} 3`), `underscores`, `dots` and `values` escape them as
//! Go's `model.EscapeName` does. It is echoed in the Content-Type, as Prometheus 3 expects
//! (`application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8`). A
//! scrape that names no scheme (Prometheus 2, or 3 picking a format without the parameter)
//! gets `underscores`, Go's `model.NameEscapingScheme`: a name it cannot parse is never sent to
//! it. Legacy names are written unchanged under every scheme.

pub use promkit::EscapingScheme;
use promkit::Format;
use promkit::encode::CreatedSamples;

/// A wire format the handler can answer with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireFormat {
    /// `text/plain; version=0.0.4`.
    Text004,
    /// `text/plain; version=1.0.0` (the UTF-8-capable text format; the same bytes for
    /// legacy-valid names).
    Text100,
    /// `application/openmetrics-text; version=0.0.1` (asked for without a version).
    OpenMetrics001,
    /// `application/openmetrics-text; version=1.0.0`.
    OpenMetrics100,
    /// `application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily;
    /// encoding=delimited`: the format that carries native histograms.
    Protobuf,
}

/// The outcome of negotiation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// The format to write.
    pub format: WireFormat,
    /// The escaping scheme the scraper asked for, echoed in the Content-Type.
    pub escaping: Option<EscapingScheme>,
}

impl Negotiated {
    /// The scheme names are written with: the one asked for, or
    /// [`EscapingScheme::Underscores`] (Go's default) when the scrape named none.
    pub fn name_escaping(&self) -> EscapingScheme {
        self.escaping.unwrap_or_default()
    }

    /// The Content-Type header of the response.
    pub fn content_type(&self) -> String {
        let base = match self.format {
            WireFormat::Text004 => "text/plain; version=0.0.4; charset=utf-8",
            WireFormat::Text100 => "text/plain; version=1.0.0; charset=utf-8",
            WireFormat::OpenMetrics001 => "application/openmetrics-text; version=0.0.1; charset=utf-8",
            WireFormat::OpenMetrics100 => "application/openmetrics-text; version=1.0.0; charset=utf-8",
            WireFormat::Protobuf => promkit::encode::PROTOBUF_CONTENT_TYPE,
        };
        match self.escaping {
            Some(e) => format!("{base}; escaping={}", e.as_str()),
            None => base.to_owned(),
        }
    }

    /// The promkit encoder format for this wire format.
    pub fn encoder_format(&self, created_samples: CreatedSamples) -> Format {
        match self.format {
            WireFormat::Text004 | WireFormat::Text100 => Format::Text,
            WireFormat::OpenMetrics001 | WireFormat::OpenMetrics100 => {
                Format::OpenMetrics { created_samples }
            }
            WireFormat::Protobuf => Format::Protobuf,
        }
    }
}

/// One media range of an `Accept` header.
#[derive(Debug)]
struct Range<'a> {
    mime: &'a str,
    q: f32,
    params: Vec<(&'a str, &'a str)>,
}

impl Range<'_> {
    /// The parameter's value; the last one when it is given twice (Go keeps them in a map).
    fn param(&self, name: &str) -> Option<&str> {
        self.params.iter().rev().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
    }

    /// Wildcards rank below specific types at equal q.
    fn specificity(&self) -> u8 {
        match self.mime.split_once('/') {
            Some(("*", _)) => 0,
            Some((_, "*")) => 1,
            _ => 2,
        }
    }
}

fn parse_accept(header: &str) -> Vec<Range<'_>> {
    let mut ranges: Vec<Range<'_>> = header
        .split(',')
        .filter_map(|clause| {
            let mut parts = clause.split(';');
            let mime = parts.next()?.trim();
            if mime.is_empty() || !mime.contains('/') {
                return None;
            }
            let mut q = 1.0;
            let mut params = Vec::new();
            for p in parts {
                let Some((k, v)) = p.split_once('=') else { continue };
                let (k, v) = (k.trim(), v.trim().trim_matches('"'));
                if k.eq_ignore_ascii_case("q") {
                    // An unparsable q is treated as 0 ("not acceptable"), as Go's parser does.
                    q = v.parse::<f32>().ok().filter(|q| (0.0..=1.0).contains(q)).unwrap_or(0.0);
                } else {
                    params.push((k, v));
                }
            }
            Some(Range { mime, q, params })
        })
        .collect();
    // Stable: equal q and specificity keep the header's order.
    ranges.sort_by(|a, b| b.q.total_cmp(&a.q).then(b.specificity().cmp(&a.specificity())));
    ranges
}

/// Which formats negotiation may pick besides text 0.0.4, which is always offered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    /// OpenMetrics text.
    pub openmetrics: FormatOffer,
    /// Delimited protobuf.
    pub protobuf: FormatOffer,
}

impl Offer {
    /// Every format offered.
    pub const ALL: Offer = Offer { openmetrics: FormatOffer::Offered, protobuf: FormatOffer::Offered };
}

/// Whether negotiation may pick one format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum FormatOffer {
    /// A scraper that asks for it gets it.
    #[default]
    Offered,
    /// Never picked: a scraper that asks for it gets the next format it accepts.
    Withheld,
}

/// Picks the format for an `Accept` header (`None`: no header), among text 0.0.4 and what
/// `offer` allows.
pub fn negotiate(accept: Option<&str>, offer: Offer) -> Negotiated {
    let mut escaping = None;
    for r in parse_accept(accept.unwrap_or("")) {
        if r.q <= 0.0 {
            continue;
        }
        if let Some(e) = r.param("escaping").and_then(EscapingScheme::from_param) {
            escaping = Some(e);
        }
        let version = r.param("version").unwrap_or("");
        let format = if offer.protobuf == FormatOffer::Offered
            && r.mime.eq_ignore_ascii_case("application/vnd.google.protobuf")
            && r.param("proto") == Some("io.prometheus.client.MetricFamily")
        {
            // Only the delimited encoding is a scrape format; Go's text and compact-text
            // protobuf encodings are debugging aids and fall through to the next range.
            (r.param("encoding") == Some("delimited")).then_some(WireFormat::Protobuf)
        } else if r.mime.eq_ignore_ascii_case("text/plain") {
            match version {
                "" | "0.0.4" => Some(WireFormat::Text004),
                "1.0.0" => Some(WireFormat::Text100),
                _ => None,
            }
        } else if offer.openmetrics == FormatOffer::Offered
            && r.mime.eq_ignore_ascii_case("application/openmetrics-text")
        {
            match version {
                "" | "0.0.1" => Some(WireFormat::OpenMetrics001),
                "1.0.0" => Some(WireFormat::OpenMetrics100),
                _ => None,
            }
        } else {
            None
        };
        if let Some(format) = format {
            return Negotiated { format, escaping };
        }
    }
    Negotiated { format: WireFormat::Text004, escaping }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: Offer = Offer::ALL;

    fn ct(accept: Option<&str>) -> String {
        negotiate(accept, ALL).content_type()
    }

    #[test]
    fn headers_that_scrapers_send() {
        const TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";
        const OM1: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";
        const OM0: &str = "application/openmetrics-text; version=0.0.1; charset=utf-8";
        // Prometheus 2.x default scrape.
        assert_eq!(
            ct(Some(
                "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
            )),
            OM1
        );
        // Prometheus 3 default scrape (escaping echoed).
        assert_eq!(
            ct(Some(
                "application/openmetrics-text;version=1.0.0;escaping=underscores;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=underscores;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1"
            )),
            format!("{OM1}; escaping=underscores")
        );
        assert_eq!(ct(Some("*/*")), TEXT);
        assert_eq!(ct(None), TEXT);
        assert_eq!(ct(Some("")), TEXT);
        assert_eq!(ct(Some("text/plain")), TEXT);
        assert_eq!(ct(Some("application/openmetrics-text")), OM0);
        assert_eq!(ct(Some("text/html,application/json")), TEXT);
        // q-values decide, not order.
        assert_eq!(
            ct(Some("text/plain;version=0.0.4;q=0.9,application/openmetrics-text;version=1.0.0")),
            OM1
        );
        assert_eq!(ct(Some("application/openmetrics-text;version=1.0.0;q=0.2,text/plain;q=0.3")), TEXT);
        // q=0 means "not acceptable".
        assert_eq!(ct(Some("application/openmetrics-text;version=1.0.0;q=0")), TEXT);
        // An unknown version is not that format.
        assert_eq!(ct(Some("application/openmetrics-text;version=2.0.0")), TEXT);
        assert_eq!(
            ct(Some("text/plain;version=1.0.0;escaping=allow-utf-8")),
            "text/plain; version=1.0.0; charset=utf-8; escaping=allow-utf-8"
        );
        // Garbage is text, not an error.
        assert_eq!(ct(Some(";;;,,,q=x/")), TEXT);
        assert_eq!(ct(Some("application/openmetrics-text;version=1.0.0;q=bogus")), TEXT);
        assert_eq!(ct(Some("text/plain;escaping=bogus")), TEXT);
        // OpenMetrics switched off.
        let text_only = Offer { openmetrics: FormatOffer::Withheld, protobuf: FormatOffer::Withheld };
        assert_eq!(
            negotiate(Some("application/openmetrics-text;version=1.0.0"), text_only).content_type(),
            TEXT
        );
        // Prometheus with native histograms on asks for protobuf first.
        const PROTO: &str =
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited";
        let prom_native = "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited;q=0.7,text/plain;version=0.0.4;q=0.3,*/*;q=0.1";
        assert_eq!(ct(Some(prom_native)), PROTO);
        assert_eq!(negotiate(Some(prom_native), text_only).content_type(), TEXT);
        assert_eq!(
            ct(Some("application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=text")),
            TEXT
        );
        assert_eq!(ct(Some("application/vnd.google.protobuf")), TEXT);
    }

    #[test]
    fn wildcards_rank_below_specific_types_at_equal_q() {
        assert_eq!(
            negotiate(Some("*/*,application/openmetrics-text;version=1.0.0"), ALL).format,
            WireFormat::OpenMetrics100
        );
    }
}
