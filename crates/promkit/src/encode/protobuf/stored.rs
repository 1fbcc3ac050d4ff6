//! A family's labels pre-encoded for the protobuf encoder.
//!
//! promkit's families hand their series over as runs of stored keys (escaped values,
//! newline-joined in label-name order) with one [`LabelTemplate`]. Encoding each `LabelPair`
//! from scratch would check every name, and open and patch three lengths, per label per series.
//! Instead the template is rendered once per family: a constant label as its whole `Metric.label`
//! field, a variable one as its `LabelPair.name` field and the value's tag. A series then writes
//! each variable pair with its length computed up front from the value's length: a few byte
//! copies. A plain series (a value without extras, labels without escapes) is written whole in
//! one pass, every length known before its first byte ([`StoredLabels::run`]).

use std::cell::Cell;

use super::wire::{close, open, varint, varint_bytes, varint_len};
use crate::encode::line::{PAD, Room, first_value};
use crate::model::{EscapingScheme, LabelTemplate, StoredSample};
use crate::syntax::escape::write_unescaped_label_value;
use crate::syntax::name_escape::write_label_if_needed;

/// Tag of `Metric.label` and of `LabelPair.name`: field 1, length-delimited.
const TAG_1: u8 = 1 << 3 | 2;
/// Tag of `LabelPair.value`: field 2, length-delimited.
const TAG_2: u8 = 2 << 3 | 2;
/// Tag of `MetricFamily.metric`: field 4, length-delimited.
const TAG_METRIC: u8 = 4 << 3 | 2;

/// The pieces of one template, rendered for one escaping scheme.
#[derive(Debug)]
pub(super) struct StoredLabels {
    /// Address of the template the pieces are rendered for; `None` when there are none.
    template: Option<usize>,
    /// The pieces back to back: a constant label's whole `Metric.label` field, a variable
    /// label's `LabelPair.name` field followed by the tag of `LabelPair.value`.
    buf: Vec<u8>,
    /// Where each piece ends in `buf`, in label order, and whether a value goes with it.
    parts: Vec<Part>,
    /// An upper bound on a plain `Metric`'s bytes beyond its key's: the tag and the length
    /// byte kept for it, the pieces, each variable label's tag and two lengths (five bytes
    /// each at most) and the value (25 at most).
    bound: usize,
}

#[derive(Debug, Clone, Copy)]
struct Part {
    end: usize,
    variable: bool,
}

/// The buffers handed from one encoder to the next (a registry makes an encoder per scrape),
/// so a warm encode does not allocate; a type without `Drop`, so storing it cannot call back
/// into the thread-local.
struct Spare {
    buf: Vec<u8>,
    parts: Vec<Part>,
}

impl Spare {
    const EMPTY: Spare = Spare { buf: Vec::new(), parts: Vec::new() };
}

thread_local! {
    static SPARE: Cell<Spare> = const { Cell::new(Spare::EMPTY) };
}

impl StoredLabels {
    /// Empty pieces over the thread's reusable buffers (new ones if another encoder holds them).
    pub(super) fn take() -> Self {
        let Spare { buf, parts } = SPARE.try_with(|c| c.replace(Spare::EMPTY)).unwrap_or(Spare::EMPTY);
        Self { template: None, buf, parts, bound: 0 }
    }

    /// Forgets the pieces: a new family starts (its template may live where an earlier one did).
    pub(super) fn reset(&mut self) {
        self.template = None;
    }

    /// Renders the pieces of `template` with names written as `scheme` says, unless they are
    /// rendered for it already in this family.
    pub(super) fn prepare(&mut self, template: &LabelTemplate, scheme: EscapingScheme) {
        let address = std::ptr::from_ref(template) as usize;
        if self.template == Some(address) {
            return;
        }
        self.template = Some(address);
        self.buf.clear();
        self.parts.clear();
        for (name, konst) in template.labels() {
            match konst {
                Some(value) => super::label_pair(&mut self.buf, name, value, false, scheme),
                None => {
                    name_field(&mut self.buf, name, scheme);
                    self.buf.push(TAG_2);
                }
            }
            self.parts.push(Part { end: self.buf.len(), variable: konst.is_none() });
        }
        let variables = self.parts.iter().filter(|p| p.variable).count();
        self.bound = 2 + self.buf.len() + variables * 11 + 25;
        // Readable bytes after every piece, for `run`'s fixed-size moves.
        self.buf.extend_from_slice(&[0; PAD]);
    }

    /// Writes the `Metric`s of `samples` from the first, as long as they are plain: a counter,
    /// gauge or untyped value ([`super::Plain`]) whose label values have no escape. Returns how many it wrote; the next one, if any, is not plain.
    ///
    /// A plain series' pieces go into zeroed room at the end of `out` with fixed-size moves
    /// (the text encoder's [`Room`]) instead of a capacity check and a `memcpy` call each, its
    /// lengths worked out as it goes. The last `slack` bytes of `out` are room already, and
    /// the room left over is left there, its length in `slack`, for the next run: the caller
    /// cuts it off before anything else writes to `out`.
    pub(super) fn run(&self, out: &mut Vec<u8>, slack: &mut usize, samples: &[StoredSample<'_>]) -> usize {
        let mut scratch = Vec::new();
        let estimate = samples.len() * 64;
        let mut room = Room::new(out, slack, &mut scratch, estimate);
        samples.iter().take_while(|s| self.plain_metric(&mut room, s)).count()
    }

    /// One plain `Metric` into `room`, in one pass: the `Metric`'s own length is written last,
    /// into the byte kept for it. `false`, with nothing written, when `s` is not plain.
    #[inline(always)]
    fn plain_metric(&self, room: &mut Room<'_>, s: &StoredSample<'_>) -> bool {
        let Some(value) = super::Plain::of(s.value, s.created) else { return false };
        let key = s.key.as_bytes();
        room.ensure(self.bound + key.len());
        let start = room.mark();
        room.byte(TAG_METRIC);
        // The `Metric`'s length: one byte kept, written once the body is.
        room.byte(0);
        let (mut piece_start, mut at) = (0, 0);
        for part in &self.parts {
            let piece = (piece_start, part.end - piece_start);
            piece_start = part.end;
            if !part.variable {
                room.piece(&self.buf, piece);
                continue;
            }
            let (len, escaped) =
                first_value(key.get(at..).unwrap_or_default(), s.readable.get(at..).unwrap_or_default());
            if escaped {
                room.rewind(start);
                return false;
            }
            room.byte(TAG_1);
            room_varint(room, piece.1 + varint_len(len as u64) + len);
            // The name field and the value's tag.
            room.piece(&self.buf, piece);
            room_varint(room, len);
            room.segment(key, s.readable, at, at + len);
            at += len + 1;
        }
        room.with_window(|w| value.write(w));
        room.close_length(start + 1);
        true
    }

    /// Writes the `Metric.label` fields of the series whose stored values are `key`.
    #[inline]
    pub(super) fn write(&self, out: &mut Vec<u8>, key: &str) {
        let mut values = key;
        let mut start = 0;
        for part in &self.parts {
            let piece = &self.buf[start..part.end];
            start = part.end;
            if !part.variable {
                out.extend_from_slice(piece);
                continue;
            }
            // Stored values are escaped: a newline only ever separates two of them (an ASCII
            // byte, so both sides of it are `str`s).
            let (end, escaped) = first_value(values.as_bytes(), values.as_bytes());
            let value = values.get(..end).unwrap_or(values);
            values = values.get(end + 1..).unwrap_or_default();
            if escaped {
                escaped_pair(out, piece, value);
            } else {
                let body = piece.len() + varint_len(value.len() as u64) + value.len();
                out.reserve(1 + varint_len(body as u64) + body);
                out.push(TAG_1);
                varint(out, body as u64);
                // The name field and the value's tag.
                out.extend_from_slice(piece);
                varint(out, value.len() as u64);
                out.extend_from_slice(value.as_bytes());
            }
        }
    }
}

impl Drop for StoredLabels {
    fn drop(&mut self) {
        let spare = Spare { buf: std::mem::take(&mut self.buf), parts: std::mem::take(&mut self.parts) };
        let _ = SPARE.try_with(|c| c.set(spare));
    }
}

/// A minimal varint, a byte at a time (lengths: nearly always one byte).
#[inline(always)]
fn room_varint(room: &mut Room<'_>, v: usize) {
    varint_bytes(v as u64, |b| room.byte(b));
}

/// A `LabelPair.name` field.
fn name_field(out: &mut Vec<u8>, name: &str, scheme: EscapingScheme) {
    let n = open(out, Some(1), 1);
    write_label_if_needed(out, name, scheme);
    close(out, n);
}

/// A pair whose stored value has escapes: its length is known only once it is unescaped.
#[cold]
fn escaped_pair(out: &mut Vec<u8>, name_piece: &[u8], value: &str) {
    let o = open(out, Some(1), 1);
    // The name field and the value's tag.
    out.extend_from_slice(name_piece);
    let v = open(out, None, 1);
    write_unescaped_label_value(out, value);
    close(out, v);
    close(out, o);
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use crate::model::Labels;
    use crate::syntax::escape::write_label_value;
    use proptest::strategy::Strategy;

    /// The generic path: one `LabelPair` per label, every length patched in.
    fn per_pair(template: &LabelTemplate, key: &str, scheme: EscapingScheme) -> Vec<u8> {
        let mut out = Vec::new();
        Labels::Stored { template, values: key }
            .for_each_raw(&mut |n, v, escaped| super::super::label_pair(&mut out, n, v, escaped, scheme));
        out
    }

    fn stored_key(values: &[String]) -> String {
        let escaped: Vec<String> = values
            .iter()
            .map(|v| {
                let mut out = Vec::new();
                write_label_value(&mut out, v);
                String::from_utf8(out).unwrap()
            })
            .collect();
        escaped.join("\n")
    }

    #[test]
    fn a_template_is_rendered_once_per_family() {
        let template = LabelTemplate::new(&["method"], &[("app".to_owned(), "x".to_owned())]);
        let mut labels = StoredLabels::take();
        labels.prepare(&template, EscapingScheme::Underscores);
        let rendered = labels.buf.clone();
        labels.buf.push(0xff);
        labels.prepare(&template, EscapingScheme::Underscores);
        assert_eq!(labels.buf.len(), rendered.len() + 1, "the same template in the same family is kept");
        labels.reset();
        labels.prepare(&template, EscapingScheme::Underscores);
        assert_eq!(labels.buf, rendered, "a new family renders again");
        // `app="x"` is whole; `method` is its name field and the value's tag.
        let (pieces, pad) = labels.buf.split_at(labels.parts.last().unwrap().end);
        assert_eq!(pieces, b"\x0a\x08\x0a\x03app\x12\x01x\x0a\x06method\x12");
        assert_eq!(pad, [0; PAD], "fixed-size moves may read past the last piece");
    }

    proptest::proptest! {
        /// Every template (constant and variable labels, names outside the legacy set, values
        /// with escapes, long values past the one-byte varint) in every scheme writes exactly
        /// the bytes of the generic per-pair path.
        #[test]
        fn stored_pairs_match_the_generic_path(
            vars in proptest::collection::btree_set("[a-z_][a-z0-9_.]{0,8}", 0..4),
            consts in proptest::collection::btree_map("[A-Z][a-z0-9_.]{0,8}", ".{0,40}", 0..3),
            values in proptest::collection::vec(
                proptest::prop_oneof![
                    ".{0,12}",
                    ".{120,140}",
                    proptest::sample::select(vec!["a\\b", "x\"y\nz", "", "\\n"]).prop_map(str::to_owned),
                ],
                4,
            ),
            scheme in proptest::sample::select(EscapingScheme::ALL.to_vec()),
        ) {
            let vars: Vec<&str> = vars.iter().map(String::as_str).collect();
            let consts: Vec<(String, String)> = consts.into_iter().collect();
            let template = LabelTemplate::new(&vars, &consts);
            let key = stored_key(&values[..vars.len()]);
            let mut labels = StoredLabels::take();
            labels.prepare(&template, scheme);
            let mut out = vec![7u8];
            labels.write(&mut out, &key);
            proptest::prop_assert_eq!(&out[1..], &per_pair(&template, &key, scheme)[..]);
        }
    }
}
