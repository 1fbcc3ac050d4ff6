//! The push URL: `<base>/metrics/job/<job>{/<label>/<value>}`, each value URL-escaped or,
//! where escaping is not enough, base64-encoded behind an `@base64` suffix on its name.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};

use crate::PushError;

/// Escaped: everything but RFC 3986's unreserved characters. A space becomes `%20`, not
/// Go's `+` (`url.QueryEscape`), which the Pushgateway would keep as a literal `+`.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'.').remove(b'_').remove(b'~');

/// Appends `/<name>/<escaped value>` or `/<name>@base64/<base64 value>` to `out`.
///
/// Base64 (URL-safe alphabet, unpadded) is used where escaping cannot carry the value:
/// - a `/`, which the gateway's router would split on even when escaped as `%2F`;
/// - the empty value, which would make an empty path segment: it is sent as `=`;
/// - `.` and `..`, which clients and servers resolve as dot segments, escaped or not.
pub(crate) fn push_component(out: &mut String, name: &str, value: &str) {
    out.push('/');
    out.push_str(name);
    if value.is_empty() {
        out.push_str("@base64/=");
    } else if value.contains('/') || value == "." || value == ".." {
        out.push_str("@base64/");
        URL_SAFE_NO_PAD.encode_string(value, out);
    } else {
        out.push('/');
        out.extend(utf8_percent_encode(value, COMPONENT));
    }
}

/// `base` (already normalised, no trailing `/`) plus the job and the grouping key.
pub(crate) fn push_url(base: &str, job: &str, grouping: &[(String, String)]) -> String {
    let mut out = String::with_capacity(base.len() + 16 + job.len());
    out.push_str(base);
    out.push_str("/metrics");
    push_component(&mut out, "job", job);
    for (name, value) in grouping {
        push_component(&mut out, name, value);
    }
    out
}

/// The gateway's base URL as given to [`Pusher::builder`](crate::Pusher::builder): `http://`
/// is added when there is no scheme, trailing slashes are dropped.
pub(crate) fn base_url(given: &str) -> Result<String, PushError> {
    let invalid = |why: String| PushError::InvalidUrl { url: given.to_owned(), why };
    let trimmed = given.trim();
    if trimmed.is_empty() {
        return Err(invalid(
            "the URL is empty; give the gateway's address, e.g. `http://pushgateway:9091`".into(),
        ));
    }
    let with_scheme = if trimmed.contains("://") { trimmed.to_owned() } else { format!("http://{trimmed}") };
    let parsed = reqwest::Url::parse(&with_scheme)
        .map_err(|e| invalid(format!("{e}; give it as `http://host:port`, optionally with a path prefix")))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(invalid(format!("scheme `{}`: use `http://` or `https://`", parsed.scheme())));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(invalid("no host: give it as `http://host:port`".into()));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err(invalid("remove the `?…` or `#…` part: the push path is appended to the URL".into()));
    }
    if parsed.path().contains("/metrics/job") {
        return Err(invalid(
            "give the gateway's base URL without `/metrics/job/…`: the job is the second argument of \
             `Pusher::builder` and the grouping key is set with `grouping`"
                .into(),
        ));
    }
    Ok(parsed.as_str().trim_end_matches('/').to_owned())
}

/// Refuses grouping label names that the Pushgateway refuses, or that cannot mean anything.
pub(crate) fn check_grouping_name(name: &str) -> Result<(), PushError> {
    let invalid =
        |why: &str| Err(PushError::InvalidGroupingLabel { name: name.to_owned(), why: why.to_owned() });
    if name == "job" {
        return invalid("the job is set by the second argument of `Pusher::builder`; use another name");
    }
    if name.starts_with("__") {
        return invalid("names starting with `__` are reserved for Prometheus; drop the leading underscores");
    }
    let mut chars = name.chars();
    let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !valid {
        return invalid(
            "use ASCII letters, digits and `_`, not starting with a digit (the only names the Pushgateway \
             accepts in a grouping key)",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn component(value: &str) -> String {
        let mut out = String::new();
        push_component(&mut out, "l", value);
        out
    }

    #[test]
    fn components_are_escaped_or_base64() {
        let cases = [
            ("plain", "/l/plain"),
            ("a-b_c.d~e", "/l/a-b_c.d~e"),
            ("", "/l@base64/="),
            ("a b", "/l/a%20b"),
            ("50%", "/l/50%25"),
            ("a+b=c&d?e#f@g", "/l/a%2Bb%3Dc%26d%3Fe%23f%40g"),
            ("zürich", "/l/z%C3%BCrich"),
            ("日本", "/l/%E6%97%A5%E6%9C%AC"),
            ("a/b", "/l@base64/YS9i"),
            ("/", "/l@base64/Lw"),
            ("zürich/ost", "/l@base64/esO8cmljaC9vc3Q"),
            // URL-safe alphabet: `_` where standard base64 has `/` (`YS8/Pj8=`), no padding.
            ("a/?>?", "/l@base64/YS8_Pj8"),
            (".", "/l@base64/Lg"),
            ("..", "/l@base64/Li4"),
            ("...", "/l/..."),
            ("%2F", "/l/%252F"),
        ];
        for (value, want) in cases {
            assert_eq!(component(value), want, "value {value:?}");
        }
    }

    #[test]
    fn base64_values_decode_back() {
        for value in ["a/b", "/", "//", "zürich/ost", "a/b/c d%"] {
            let c = component(value);
            let encoded = c.strip_prefix("/l@base64/").unwrap();
            assert!(!encoded.contains('='), "unpadded: {c}");
            let decoded = URL_SAFE_NO_PAD.decode(encoded).unwrap();
            assert_eq!(String::from_utf8(decoded).unwrap(), value);
        }
    }

    #[test]
    fn urls_put_job_first_then_grouping_in_order() {
        let g = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
        };
        let cases = [
            ("batch", g(&[]), "http://gw:9091/metrics/job/batch"),
            ("a/b", g(&[]), "http://gw:9091/metrics/job@base64/YS9i"),
            ("my job", g(&[("instance", "")]), "http://gw:9091/metrics/job/my%20job/instance@base64/="),
            (
                "batch",
                g(&[("zone", "eu/west"), ("host", "h1")]),
                "http://gw:9091/metrics/job/batch/zone@base64/ZXUvd2VzdA/host/h1",
            ),
        ];
        for (job, grouping, want) in cases {
            assert_eq!(push_url("http://gw:9091", job, &grouping), want);
        }
    }

    #[test]
    fn base_urls_are_normalised() {
        let cases = [
            ("gw:9091", "http://gw:9091"),
            ("http://gw:9091/", "http://gw:9091"),
            ("http://gw:9091//", "http://gw:9091"),
            ("  HTTP://GW:9091  ", "http://gw:9091"),
            ("https://gw/prefix/", "https://gw/prefix"),
            ("127.0.0.1:9091", "http://127.0.0.1:9091"),
            ("[::1]:9091", "http://[::1]:9091"),
        ];
        for (given, want) in cases {
            assert_eq!(base_url(given).unwrap(), want, "{given}");
        }
    }

    #[test]
    fn bad_base_urls_say_why() {
        let why = |given: &str| match base_url(given) {
            Err(PushError::InvalidUrl { url, why }) => {
                assert_eq!(url, given);
                why
            }
            other => panic!("{given}: {other:?}"),
        };
        assert!(why("").starts_with("the URL is empty"));
        assert!(why("ftp://gw").starts_with("scheme `ftp`"));
        assert!(why("http://gw:9091?x=1").starts_with("remove the `?…`"));
        assert!(why("http://gw:9091/metrics/job/x").contains("without `/metrics/job/…`"));
        assert!(why("http://gw:notaport").contains("invalid port number"));
    }

    #[test]
    fn grouping_names_follow_the_gateway_rules() {
        for ok in ["instance", "zone", "_x", "a1", "A_b"] {
            check_grouping_name(ok).unwrap();
        }
        for bad in ["", "job", "__name__", "1a", "a-b", "a.b", "zürich"] {
            assert!(
                matches!(check_grouping_name(bad), Err(PushError::InvalidGroupingLabel { ref name, .. }) if name == bad),
                "{bad:?}"
            );
        }
    }
}
