//! What the derived `LabelValue` and `LabelSet` impls do.

use std::borrow::Cow;
use std::collections::BTreeSet;

use promkit::{LabelSet, LabelValue};

#[derive(Debug, Clone, Copy, PartialEq, Eq, LabelValue)]
enum Method {
    Get,
    Post,
    Put,
    #[label(rename = "DELETE")]
    Delete,
}

const METHODS: [Method; 4] = [Method::Get, Method::Post, Method::Put, Method::Delete];

#[derive(Debug, LabelSet)]
struct Request {
    method: Method,
    #[label(rename = "ok")]
    success: bool,
}

fn text(v: &impl LabelValue) -> String {
    v.with_str(str::to_owned)
}

fn values(set: &impl LabelSet) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    set.for_each_value(&mut |i, s| out.push((i, s.to_owned())));
    out
}

#[test]
fn label_value_counts_variants_and_uses_their_names() {
    assert_eq!(Method::CARDINALITY, Some(4));
    assert_eq!(METHODS.map(|m| m.index()), [0, 1, 2, 3]);
    assert_eq!(METHODS.map(|m| text(&m)), ["Get", "Post", "Put", "DELETE"]);
    // Every text in index order: what a stateset over the enum writes as its states.
    assert_eq!(Method::TEXTS, ["Get", "Post", "Put", "DELETE"]);
    assert_eq!(<&Method>::TEXTS, Method::TEXTS);
}

#[test]
fn explicit_discriminants_do_not_move_the_index() {
    #[derive(Clone, Copy, LabelValue)]
    #[allow(dead_code)]
    enum Code {
        Ok = 200,
        NotFound = 404,
        Teapot = 418,
    }
    assert_eq!(Code::CARDINALITY, Some(3));
    assert_eq!([Code::Ok, Code::NotFound, Code::Teapot].map(|c| c.index()), [0, 1, 2]);
}

#[test]
fn rename_all_rules() {
    #[derive(Clone, Copy, LabelValue)]
    #[label(rename_all = "lowercase")]
    enum Lower {
        NotFound,
    }
    #[derive(Clone, Copy, LabelValue)]
    #[label(rename_all = "UPPERCASE")]
    enum Upper {
        NotFound,
    }
    #[derive(Clone, Copy, LabelValue)]
    #[label(rename_all = "snake_case")]
    enum Snake {
        NotFound,
        HTTPError,
        Http2Stream,
        // An explicit rename wins over the container's rule.
        #[label(rename = "Kept")]
        Renamed,
    }
    #[derive(Clone, Copy, LabelValue)]
    #[label(rename_all = "kebab-case")]
    enum Kebab {
        NotFound,
    }
    #[derive(Clone, Copy, LabelValue)]
    #[label(rename_all = "SCREAMING_SNAKE_CASE")]
    enum Screaming {
        NotFound,
    }
    assert_eq!(text(&Lower::NotFound), "notfound");
    assert_eq!(text(&Upper::NotFound), "NOTFOUND");
    assert_eq!(
        [Snake::NotFound, Snake::HTTPError, Snake::Http2Stream, Snake::Renamed].map(|s| text(&s)),
        ["not_found", "http_error", "http2_stream", "Kept"]
    );
    assert_eq!(text(&Kebab::NotFound), "not-found");
    assert_eq!(text(&Screaming::NotFound), "NOT_FOUND");
}

#[test]
fn raw_identifiers_lose_their_prefix() {
    #[derive(Clone, Copy, LabelValue)]
    #[allow(non_camel_case_types)]
    enum Kind {
        r#type,
    }
    #[derive(LabelSet)]
    struct Labels {
        r#type: Kind,
    }
    assert_eq!(text(&Kind::r#type), "type");
    assert_eq!(Labels::NAMES, ["type"]);
}

#[test]
fn label_set_names_len_and_cardinality() {
    assert_eq!(Request::NAMES, ["method", "ok"]);
    assert_eq!(Request::LEN, 2);
    assert_eq!(Request::CARDINALITY, Some(8));
}

#[test]
fn label_set_index_is_a_bijection_onto_its_cardinality() {
    let mut seen = BTreeSet::new();
    for method in METHODS {
        for success in [false, true] {
            let index = Request { method, success }.index();
            // First field most significant: method * |bool| + success.
            assert_eq!(index, method.index() * 2 + usize::from(success));
            assert!(seen.insert(index), "{method:?}/{success} reused index {index}");
        }
    }
    assert_eq!(seen, (0..8).collect());
}

#[test]
fn three_field_index_is_mixed_radix() {
    #[derive(LabelSet)]
    struct Three {
        a: bool,
        b: Method,
        c: bool,
    }
    assert_eq!(Three::CARDINALITY, Some(16));
    let mut seen = BTreeSet::new();
    for a in [false, true] {
        for b in METHODS {
            for c in [false, true] {
                let index = Three { a, b, c }.index();
                assert_eq!(index, (usize::from(a) * 4 + b.index()) * 2 + usize::from(c));
                seen.insert(index);
            }
        }
    }
    assert_eq!(seen, (0..16).collect());
}

#[test]
fn for_each_value_yields_renamed_texts_in_field_order() {
    let request = Request { method: Method::Delete, success: true };
    assert_eq!(values(&request), [(0, "DELETE".to_owned()), (1, "true".to_owned())]);
}

#[test]
fn a_free_form_field_makes_the_cardinality_unbounded() {
    #[derive(LabelSet)]
    struct Route {
        method: Method,
        path: String,
    }
    assert_eq!(Route::CARDINALITY, None);
    let route = Route { method: Method::Get, path: "/users".to_owned() };
    assert_eq!(values(&route), [(0, "Get".to_owned()), (1, "/users".to_owned())]);
}

#[test]
fn empty_struct_is_one_series() {
    #[derive(LabelSet)]
    struct NoLabels {}
    assert_eq!(NoLabels::NAMES, [] as [&str; 0]);
    assert_eq!(NoLabels::LEN, 0);
    assert_eq!(NoLabels::CARDINALITY, Some(1));
    assert_eq!(NoLabels {}.index(), 0);
    assert_eq!(values(&NoLabels {}), []);
}

#[test]
fn borrowed_and_generic_fields() {
    #[derive(LabelSet)]
    struct Borrowed<'a> {
        path: &'a str,
        host: Cow<'a, str>,
        code: u16,
    }
    #[derive(LabelSet)]
    struct Generic<M> {
        method: M,
        shard: u8,
    }
    let b = Borrowed { path: "/", host: Cow::Borrowed("a"), code: 200 };
    assert_eq!(values(&b), [(0, "/".to_owned()), (1, "a".to_owned()), (2, "200".to_owned())]);
    assert_eq!(Generic::<Method>::CARDINALITY, None);
    assert_eq!(Generic::<bool>::NAMES, ["method", "shard"]);
    let g = Generic { method: Method::Put, shard: 3 };
    assert_eq!(values(&g), [(0, "Put".to_owned()), (1, "3".to_owned())]);
}

#[test]
fn cardinality_overflow_is_unbounded() {
    #[derive(Clone, Copy, LabelValue)]
    enum Two {
        A,
        B,
    }
    // 2^64 label sets do not fit a usize: the product saturates to None, not a wrong count.
    #[derive(LabelSet)]
    #[rustfmt::skip]
    struct Wide {
        a0: Two, a1: Two, a2: Two, a3: Two, a4: Two, a5: Two, a6: Two, a7: Two,
        a8: Two, a9: Two, a10: Two, a11: Two, a12: Two, a13: Two, a14: Two, a15: Two,
        a16: Two, a17: Two, a18: Two, a19: Two, a20: Two, a21: Two, a22: Two, a23: Two,
        a24: Two, a25: Two, a26: Two, a27: Two, a28: Two, a29: Two, a30: Two, a31: Two,
        a32: Two, a33: Two, a34: Two, a35: Two, a36: Two, a37: Two, a38: Two, a39: Two,
        a40: Two, a41: Two, a42: Two, a43: Two, a44: Two, a45: Two, a46: Two, a47: Two,
        a48: Two, a49: Two, a50: Two, a51: Two, a52: Two, a53: Two, a54: Two, a55: Two,
        a56: Two, a57: Two, a58: Two, a59: Two, a60: Two, a61: Two, a62: Two, a63: Two,
    }
    assert_eq!(Wide::LEN, 64);
    assert_eq!(Wide::CARDINALITY, None);
    let _ = (Two::A, Two::B);
}

mod reexport {
    //! A crate that re-exports promkit points the derives at its path.
    pub(crate) mod my_metrics {
        pub(crate) use promkit as inner;
    }

    use promkit::{LabelSet, LabelValue};

    #[derive(Clone, Copy, LabelValue)]
    #[label(crate = "my_metrics::inner")]
    enum Outcome {
        Hit,
    }

    #[derive(LabelSet)]
    #[label(crate = "my_metrics::inner")]
    struct Labels {
        outcome: Outcome,
    }

    #[test]
    fn crate_path_override() {
        assert_eq!(Outcome::CARDINALITY, Some(1));
        assert_eq!(Labels::CARDINALITY, Some(1));
        assert_eq!(Labels { outcome: Outcome::Hit }.index(), 0);
    }
}
