//! `PushFormat`: the exposition format a push sends its metrics in.

use promkit::Format;
use promkit::encode::{PROTOBUF_CONTENT_TYPE, TEXT_CONTENT_TYPE};

/// The format the pushed metrics are sent in; set with
/// [`PusherBuilder::format`](crate::PusherBuilder::format).
///
/// Protobuf is the default, as in Go's `push` package: it is the only format that carries
/// native histograms and exemplars to a Pushgateway (which keeps them and serves them to
/// Prometheus in protobuf). Text 0.0.4 is readable on the wire and read by every Pushgateway
/// version, but drops native buckets and exemplars (a native-only histogram arrives as its
/// count and sum).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum PushFormat {
    /// Length-delimited `io.prometheus.client.MetricFamily` messages (the default).
    #[default]
    Protobuf,
    /// Prometheus text format 0.0.4.
    Text,
}

impl PushFormat {
    /// The promkit format that encodes the body.
    pub(crate) fn encoding(self) -> Format {
        match self {
            PushFormat::Protobuf => Format::Protobuf,
            PushFormat::Text => Format::Text,
        }
    }

    /// The request's `Content-Type`.
    pub fn content_type(self) -> &'static str {
        match self {
            PushFormat::Protobuf => PROTOBUF_CONTENT_TYPE,
            PushFormat::Text => TEXT_CONTENT_TYPE,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protobuf_by_default_as_go() {
        assert_eq!(PushFormat::default(), PushFormat::Protobuf);
        assert_eq!(
            PushFormat::Protobuf.content_type(),
            "application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited"
        );
        assert_eq!(PushFormat::Text.content_type(), "text/plain; version=0.0.4; charset=utf-8");
    }
}
