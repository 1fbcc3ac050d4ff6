//! The protobuf wire primitives the streaming encoder writes with: tags, minimal varints,
//! zigzag, little-endian doubles, and length-delimited fields whose length is patched in
//! once their body is written.
//!
//! A nested message's length is unknown until its body is written, so [`open`] reserves a
//! guessed number of length bytes and [`close`] writes the minimal varint there, moving the
//! body once (a `memmove`) only when the guess was wrong. Guesses are chosen so that the move,
//! when it happens, is of a body small next to the work of writing it.

/// Wire type of varint fields (`uint64`, `int64`, `sint*`, enums).
const VARINT: u32 = 0;
/// Wire type of `double` fields.
const FIXED64: u32 = 1;
/// Wire type of strings and nested messages.
const LEN: u32 = 2;

/// Bytes the minimal varint of `v` takes.
#[inline]
pub(super) fn varint_len(v: u64) -> usize {
    // Lengths (nearly every call) are below 128: one byte, and a branch the predictor learns
    // per call site.
    if v < 0x80 {
        return 1;
    }
    // One byte per started 7 bits of the `b` significant bits: (9b + 64) / 64 rounds b / 7 up
    // for every b in 1..=64, with a multiply by 9 and a shift instead of a division.
    let b = 64 - v.leading_zeros() as usize;
    (b * 9 + 64) / 64
}

/// Appends `v` as a minimal varint.
#[inline]
pub(super) fn varint(out: &mut Vec<u8>, v: u64) {
    varint_bytes(v, |b| out.push(b));
}

/// Hands the bytes of `v`'s minimal varint to `push`, first to last.
#[inline(always)]
pub(in crate::encode) fn varint_bytes(mut v: u64, mut push: impl FnMut(u8)) {
    while v >= 0x80 {
        #[allow(clippy::cast_possible_truncation)] // the low seven bits, by the mask
        push((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    #[allow(clippy::cast_possible_truncation)] // below 0x80 here
    push(v as u8);
}

#[inline]
fn tag(out: &mut Vec<u8>, field: u32, wire: u32) {
    varint(out, u64::from(field << 3 | wire));
}

/// A `double` field (always written, as an `optional` field that is set).
#[inline]
pub(super) fn double(out: &mut Vec<u8>, field: u32, v: f64) {
    tag(out, field, FIXED64);
    out.extend_from_slice(&v.to_le_bytes());
}

/// A `uint64`/`uint32`/enum field.
#[inline]
pub(super) fn uint(out: &mut Vec<u8>, field: u32, v: u64) {
    tag(out, field, VARINT);
    varint(out, v);
}

/// An `int64`/`int32` field: two's complement, so a negative value takes ten bytes (as the
/// protobuf specification says, for `int32` too).
#[inline]
pub(super) fn int(out: &mut Vec<u8>, field: u32, v: i64) {
    #[allow(clippy::cast_sign_loss)] // the wire form is the two's complement bits
    uint(out, field, v as u64);
}

/// A `sint64`/`sint32` field, zigzag encoded.
#[inline]
pub(super) fn sint(out: &mut Vec<u8>, field: u32, v: i64) {
    #[allow(clippy::cast_sign_loss)] // zigzag maps the sign into the low bit
    uint(out, field, ((v << 1) ^ (v >> 63)) as u64);
}

/// The tag and one-byte length of a length-delimited field whose body (below 128 bytes, known
/// up front) the caller writes next.
#[inline]
pub(super) fn header(out: &mut Vec<u8>, field: u32, len: u8) {
    debug_assert!(len < 0x80, "a one-byte length is below 128");
    tag(out, field, LEN);
    out.push(len);
}

/// A `string`/`bytes` field.
#[inline]
pub(super) fn bytes(out: &mut Vec<u8>, field: u32, v: &[u8]) {
    tag(out, field, LEN);
    varint(out, v.len() as u64);
    out.extend_from_slice(v);
}

/// An open length-delimited body: where its length bytes start, and how many were reserved.
#[derive(Debug, Clone, Copy)]
pub(super) struct Open {
    at: usize,
    reserved: usize,
}

/// Starts a nested message (or, with `field` `None`, a delimited top-level message) whose body
/// is expected to need `guess` length bytes; the body is then appended, and [`close`] ends it.
#[inline]
pub(super) fn open(out: &mut Vec<u8>, field: Option<u32>, guess: usize) -> Open {
    if let Some(field) = field {
        tag(out, field, LEN);
    }
    let at = out.len();
    out.resize(at + guess, 0);
    Open { at, reserved: guess }
}

/// Writes the minimal length of the body appended since `open`, moving the body when the
/// reserved bytes were too many or too few.
#[inline]
pub(super) fn close(out: &mut Vec<u8>, open: Open) {
    let Open { at, reserved } = open;
    let body_start = at + reserved;
    let len = out.len() - body_start;
    let need = varint_len(len as u64);
    if need != reserved {
        let end = out.len();
        if need > reserved {
            out.resize(end + (need - reserved), 0);
        }
        out.copy_within(body_start..end, at + need);
        out.truncate(at + need + len);
    }
    let mut v = len as u64;
    for b in &mut out[at..at + need] {
        #[allow(clippy::cast_possible_truncation)] // the low seven bits, by the mask
        let low = v as u8 & 0x7f;
        v >>= 7;
        *b = if v == 0 { low } else { low | 0x80 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_are_minimal() {
        for bits in 0..64 {
            for v in [1u64 << bits, (1 << bits) - 1, (1 << bits) + 1] {
                let significant = 64 - v.leading_zeros() as usize;
                assert_eq!(varint_len(v), significant.div_ceil(7).max(1), "{v}");
            }
        }
        for (v, len) in [(0u64, 1), (127, 1), (128, 2), (16_383, 2), (16_384, 3), (u64::MAX, 10)] {
            assert_eq!(varint_len(v), len, "{v}");
            let mut out = Vec::new();
            varint(&mut out, v);
            assert_eq!(out.len(), len, "{v}");
        }
        let mut out = Vec::new();
        varint(&mut out, 300);
        assert_eq!(out, [0xac, 0x02]);
    }

    #[test]
    fn close_writes_the_minimal_length_whatever_was_reserved() {
        for guess in 1..=4 {
            for len in [0usize, 1, 127, 128, 300, 16_383, 16_384, 70_000] {
                let mut out = vec![9u8];
                let o = open(&mut out, Some(4), guess);
                out.extend((0..len).map(|i| (i % 251) as u8));
                close(&mut out, o);
                let mut want = vec![9u8, 4 << 3 | 2];
                varint(&mut want, len as u64);
                want.extend((0..len).map(|i| (i % 251) as u8));
                assert_eq!(out, want, "guess {guess}, length {len}");
            }
        }
    }

    #[test]
    fn zigzag_matches_the_specification() {
        for (v, z) in [(0i64, 0u8), (-1, 1), (1, 2), (-2, 3), (2, 4)] {
            let mut out = Vec::new();
            sint(&mut out, 1, v);
            assert_eq!(out, [1 << 3, z]);
        }
    }
}
