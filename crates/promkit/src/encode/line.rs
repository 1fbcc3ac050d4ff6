//! The text formats' fast path for promkit's own series (labels in the stored form): a line's
//! fixed pieces rendered once per family, and lines written into zeroed room at the end of the
//! output with fixed-size moves instead of one `memcpy` call per piece.
//!
//! A sample line is a handful of short pieces: the name and first label name, a value, the
//! next label name, another value, the closing `"} `, the number. Appending each with
//! `extend_from_slice` costs a capacity check and a call into `memcpy`, which was about half of
//! the time of a counter line. Here the name with its first label name (per suffix), the label
//! names between values and the closing are rendered once per family into [`Shape`], with
//! [`PAD`] readable bytes after the last; the output is grown in steps of at least 16 KiB
//! (`Vec::resize`: zeroed, so initialised), and what is not yet written stays at its end as
//! room ([`Pieces::slack`]) from one run of series to the next, cut off ([`Pieces::trim`]) only
//! before something else writes to the output or the encoder is done with it. A family's plain
//! series (counters and gauges) arrive as runs ([`Sink::stored_samples`]), so room is checked
//! once per run, not once per line. A piece is then copied as fixed 32-byte moves: the bytes a move writes past the
//! piece's end are overwritten by what follows, or cut away. Everything is safe code: the room
//! is initialised memory and every move is bounds-checked (checks that always pass, so the
//! branches cost next to nothing).
//!
//! The output is identical to the general path's (`write_series` and the float writers): the
//! pieces are the same bytes in the same order, and numbers go through the same rules.

use std::cell::Cell;

use super::FamilyName;
#[cfg(doc)]
use crate::model::Sink;
use crate::model::{EscapingScheme, LabelTemplate};
use crate::syntax::float::{write_go_float, write_go_u64, write_om_float, write_om_u64};

/// Readable bytes past every piece of a [`Shape`], and writable bytes past every line a
/// [`Room`] was told about: a move of up to `PAD` bytes never leaves either slice.
pub(crate) const PAD: usize = 32;

/// Room a line needs beyond its pieces, its label values and its extra label value: the
/// number (at most 26 bytes: Go's longest float form plus OpenMetrics' `.0`), `"} ` and the
/// newline, rounded up.
pub(crate) const NUMBER_ROOM: usize = 40;

/// How many heads a family's lines use at most (a histogram's `_bucket`, `_sum`, `_count` and
/// OpenMetrics' `_created`).
const MAX_HEADS: usize = 4;

/// One kind of line of a family: the suffix after the name, and whether the line carries an
/// extra label (`le`, `quantile`) after the series' own.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LineKind {
    pub(crate) suffix: &'static str,
    pub(crate) extra: bool,
}

/// The pieces of a family's lines for one label template, rendered once and reused for every
/// series (and, by the thread-local handoff, every scrape: a warm encoder does not allocate).
#[derive(Debug)]
pub(crate) struct Shape {
    /// Whether the pieces belong to the current family (a new family clears this).
    valid: bool,
    /// The address of the template they were rendered for: compared, never dereferenced.
    template: usize,
    /// Every piece back to back, then [`PAD`] zero bytes.
    buf: Vec<u8>,
    /// Per line kind: the name, suffix, opening brace and first label name up to its value's
    /// opening quote, as `(start, len)` in `buf`.
    heads: [(usize, usize); MAX_HEADS],
    /// The literals between two label values (`",code="`).
    mids: Vec<(usize, usize)>,
    /// After the last value on a line without an extra label: `"} ` (or ` `).
    tail: (usize, usize),
    /// After the last value on a line with one: `",le="`, then the extra value and `"} `.
    tail_extra: (usize, usize),
    /// How many label values a series' key holds.
    vars: usize,
    /// The longest head plus every mid plus the longer tail: with the key, the extra value and
    /// [`NUMBER_ROOM`], an upper bound on a line's length.
    fixed: usize,
}

/// A [`Shape`], a scratch buffer for numbers that take the general float writers, and the
/// room left at the end of the output by the last [`Room`].
#[derive(Debug)]
pub(crate) struct Pieces {
    pub(crate) shape: Shape,
    pub(crate) scratch: Vec<u8>,
    /// Bytes at the end of the output that are room, not output: kept from one series to the
    /// next so that room is made once per run of series rather than once per series. Whatever
    /// else writes to the output calls [`Pieces::trim`] first.
    pub(crate) slack: usize,
}

/// What [`Pieces`] hands to the thread's next encoder: its buffers (a type without `Drop`, so
/// storing it cannot call back into the thread-local).
#[derive(Debug)]
struct Spare {
    buf: Vec<u8>,
    mids: Vec<(usize, usize)>,
    scratch: Vec<u8>,
}

impl Spare {
    const EMPTY: Spare = Spare { buf: Vec::new(), mids: Vec::new(), scratch: Vec::new() };
}

impl Pieces {
    /// Pieces with the thread's reusable buffers (empty ones if another encoder holds them).
    pub(crate) fn take() -> Self {
        let Spare { buf, mids, scratch } =
            SPARE.try_with(|cell| cell.replace(Spare::EMPTY)).unwrap_or(Spare::EMPTY);
        Pieces {
            shape: Shape {
                valid: false,
                template: 0,
                buf,
                heads: [(0, 0); MAX_HEADS],
                mids,
                tail: (0, 0),
                tail_extra: (0, 0),
                vars: 0,
                fixed: 0,
            },
            scratch,
            slack: 0,
        }
    }

    /// Cuts the room off the end of `out`, leaving only what was written: before anything
    /// but a [`Room`] writes to `out`, and before the output is handed back.
    #[inline]
    pub(crate) fn trim(&mut self, out: &mut Vec<u8>) {
        cut_room(out, &mut self.slack);
    }

    /// Forgets the pieces: a new family starts.
    pub(crate) fn reset(&mut self) {
        self.shape.valid = false;
    }
}

impl Drop for Pieces {
    fn drop(&mut self) {
        let spare = Spare {
            buf: std::mem::take(&mut self.shape.buf),
            mids: std::mem::take(&mut self.shape.mids),
            scratch: std::mem::take(&mut self.scratch),
        };
        let _ = SPARE.try_with(|cell| cell.set(spare));
    }
}

thread_local! {
    /// Handed from one encoder to the next, as the name buffer is.
    static SPARE: Cell<Spare> = const { Cell::new(Spare::EMPTY) };
}

impl Shape {
    /// Renders the pieces of `kinds` for `template`, unless they are rendered already for it
    /// in this family. `extra` names the extra label of the kinds that have one.
    pub(crate) fn prepare(
        &mut self,
        template: &LabelTemplate,
        scheme: EscapingScheme,
        name: &FamilyName,
        kinds: &[LineKind],
        extra: &str,
    ) {
        let address = std::ptr::from_ref(template) as usize;
        if self.valid && self.template == address {
            return;
        }
        self.valid = true;
        self.template = address;
        let lits = template.literals(scheme);
        let vars = lits.len().saturating_sub(1);
        let has_labels = !template.is_empty();
        let buf = &mut self.buf;
        buf.clear();
        self.mids.clear();
        let mut longest_head = 0;
        for (i, kind) in kinds.iter().take(MAX_HEADS).enumerate() {
            let start = buf.len();
            let braces = has_labels || kind.extra;
            if name.quoted {
                buf.extend_from_slice(b"{\"");
                buf.extend_from_slice(name.body.as_bytes());
                buf.extend_from_slice(kind.suffix.as_bytes());
                buf.push(b'"');
                if braces {
                    buf.push(b',');
                }
            } else {
                buf.extend_from_slice(name.body.as_bytes());
                buf.extend_from_slice(kind.suffix.as_bytes());
                if braces {
                    buf.push(b'{');
                }
            }
            if vars >= 1 {
                buf.extend_from_slice(&lits[0]);
            }
            self.heads[i] = (start, buf.len() - start);
            longest_head = longest_head.max(buf.len() - start);
        }
        let mut fixed = longest_head;
        for lit in lits.iter().take(vars).skip(1) {
            self.mids.push((buf.len(), lit.len()));
            buf.extend_from_slice(lit);
            fixed += lit.len();
        }
        let last: &[u8] = lits.get(vars).map_or(&[], |l| &l[..]);
        let start = buf.len();
        buf.extend_from_slice(last);
        if has_labels || name.quoted {
            buf.push(b'}');
        }
        buf.push(b' ');
        self.tail = (start, buf.len() - start);
        let start = buf.len();
        buf.extend_from_slice(last);
        if has_labels {
            buf.push(b',');
        }
        buf.extend_from_slice(extra.as_bytes());
        buf.extend_from_slice(b"=\"");
        self.tail_extra = (start, buf.len() - start);
        buf.extend_from_slice(&[0; PAD]);
        self.vars = vars;
        self.fixed = fixed + self.tail.1.max(self.tail_extra.1);
    }

    /// An upper bound on the length of one line of a series whose key is `key_len` bytes,
    /// with an extra label value of `extra_len` bytes.
    #[inline]
    pub(crate) fn line_bound(&self, key_len: usize, extra_len: usize) -> usize {
        self.fixed + key_len + extra_len + NUMBER_ROOM
    }
}

/// Room at the end of an output buffer (initialised bytes: zeroes, or lines written before
/// and cut away), written with a cursor; dropping it records what is room, not output, in
/// [`Pieces::slack`], for the next series' room or [`Pieces::trim`].
pub(crate) struct Room<'o> {
    /// The output, moved out of `home` while the room is in use and put back when it is
    /// dropped. Owned by this local value, its pointer and length stay in registers: through
    /// a `&mut Vec<u8>`, every byte stored into the buffer might have changed them (a `u8`
    /// store may alias anything), so each write reloaded them for its bounds check.
    out: Vec<u8>,
    home: &'o mut Vec<u8>,
    pos: usize,
    slack: &'o mut usize,
    scratch: &'o mut Vec<u8>,
}

impl std::fmt::Debug for Room<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Room").field("pos", &self.pos).field("room", &(self.out.len() - self.pos)).finish()
    }
}

impl<'o> Room<'o> {
    /// Room at the end of `out`, of which the last `slack` bytes are room already, for about
    /// `estimate` bytes (more is made as lines ask).
    #[inline(always)]
    pub(crate) fn new(
        home: &'o mut Vec<u8>,
        slack: &'o mut usize,
        scratch: &'o mut Vec<u8>,
        estimate: usize,
    ) -> Self {
        let out = std::mem::take(home);
        let pos = out.len() - *slack;
        let mut room = Room { out, home, pos, slack, scratch };
        room.ensure(estimate);
        room
    }

    /// Makes sure the next `n` bytes (and [`PAD`] more) are room.
    #[inline(always)]
    pub(crate) fn ensure(&mut self, n: usize) {
        if self.pos + n + PAD > self.out.len() {
            // By value, so the room's own fields never leave it.
            self.out = grow(std::mem::take(&mut self.out), self.pos + n + PAD);
        }
    }

    /// Copies piece `(start, len)` of `buf`, which has [`PAD`] readable bytes after it.
    #[inline(always)]
    pub(crate) fn piece(&mut self, buf: &[u8], (start, len): (usize, usize)) {
        let mut i = 0;
        loop {
            let at = self.pos + i;
            self.out[at..at + PAD].copy_from_slice(&buf[start + i..start + i + PAD]);
            i += PAD;
            if i >= len {
                break;
            }
        }
        self.pos += len;
    }

    /// Copies `s` exactly (nothing readable after it): overlapping moves of 16, 8, 4 or single
    /// bytes, `memcpy` only past 32 bytes.
    #[inline(always)]
    pub(crate) fn bytes(&mut self, s: &[u8]) {
        let n = s.len();
        let p = self.pos;
        let d = &mut self.out[p..p + n.max(PAD)];
        if n >= 16 {
            if n <= 32 {
                d[..16].copy_from_slice(&s[..16]);
                d[n - 16..n].copy_from_slice(&s[n - 16..]);
            } else {
                d[..n].copy_from_slice(s);
            }
        } else if n >= 8 {
            d[..8].copy_from_slice(&s[..8]);
            d[n - 8..n].copy_from_slice(&s[n - 8..]);
        } else if n >= 4 {
            d[..4].copy_from_slice(&s[..4]);
            d[n - 4..n].copy_from_slice(&s[n - 4..]);
        } else if n > 0 {
            d[0] = s[0];
            d[n / 2] = s[n / 2];
            d[n - 1] = s[n - 1];
        }
        self.pos += n;
    }

    /// Copies `key[a..b]`: one 16-byte move when it is that short and `readable` (the key
    /// and what follows it in memory) has 16 bytes from `a`, exactly otherwise.
    #[inline(always)]
    pub(crate) fn segment(&mut self, key: &[u8], readable: &[u8], a: usize, b: usize) {
        if b - a <= 16 && a + 16 <= readable.len() {
            let p = self.pos;
            // As one 16-byte integer: a plain byte copy here was merged with `bytes`' copies
            // into one `memcpy` call of a chosen length.
            let word = u128::from_le_bytes(readable[a..a + 16].try_into().unwrap_or_default());
            self.out[p..p + 16].copy_from_slice(&word.to_le_bytes());
            self.pos += b - a;
        } else {
            self.bytes(&key[a..b]);
        }
    }

    /// Lets `write` write up to [`PAD`] bytes at the cursor (bytes past what it returns as
    /// written are room again), and moves past what it wrote.
    #[inline(always)]
    pub(crate) fn with_window(&mut self, write: impl FnOnce(&mut [u8; PAD]) -> usize) {
        let p = self.pos;
        // The slice is `PAD` long, so the conversion always succeeds.
        let mut unused = [0; PAD];
        let n = write((&mut self.out[p..p + PAD]).try_into().unwrap_or(&mut unused));
        self.pos += n.min(PAD);
    }

    /// Where the cursor is, for [`Room::rewind`] or [`Room::close_length`].
    #[inline(always)]
    pub(crate) fn mark(&self) -> usize {
        self.pos
    }

    /// Moves the cursor back to `mark`: what was written since is room again.
    #[inline(always)]
    pub(crate) fn rewind(&mut self, mark: usize) {
        self.pos = self.pos.min(mark);
    }

    /// Ends a length-delimited body (protobuf) that follows one byte reserved for its length at
    /// `at`: writes the body's minimal varint length there, moving the body up when the length
    /// takes more than the one byte.
    #[inline(always)]
    pub(crate) fn close_length(&mut self, at: usize) {
        let len = self.pos - (at + 1);
        if let Ok(byte) = u8::try_from(len)
            && byte < 0x80
        {
            self.out[at] = byte;
            return;
        }
        self.close_long_length(at, len);
    }

    #[cold]
    fn close_long_length(&mut self, at: usize, len: usize) {
        // On the stack: a warm encode allocates nothing, whatever its series' lengths.
        let mut varint = [0u8; 10];
        let mut n = 0;
        super::protobuf::varint_bytes(len as u64, |b| {
            varint[n] = b;
            n += 1;
        });
        let more = n - 1;
        self.ensure(more);
        self.out.copy_within(at + 1..self.pos, at + 1 + more);
        self.out[at..at + n].copy_from_slice(&varint[..n]);
        self.pos += more;
    }

    #[inline(always)]
    pub(crate) fn byte(&mut self, b: u8) {
        let p = self.pos;
        self.out[p] = b;
        self.pos += 1;
    }

    /// Writes a head, the series' values with the literals between them, and the tail (with
    /// the extra label's opening `",le="` when `extra`).
    #[inline(always)]
    /// `readable` is the key followed by any bytes that may be read past it (at least the key).
    pub(crate) fn series(&mut self, shape: &Shape, head: usize, key: &[u8], readable: &[u8], extra: bool) {
        self.piece(&shape.buf, shape.heads[head]);
        if shape.vars >= 1 {
            let mut a = 0;
            for &mid in &shape.mids {
                let b = next_newline(key, a);
                self.segment(key, readable, a, b);
                self.piece(&shape.buf, mid);
                a = (b + 1).min(key.len());
            }
            self.segment(key, readable, a, key.len());
        }
        self.piece(&shape.buf, if extra { shape.tail_extra } else { shape.tail });
    }

    /// Closes an extra label's value: `"} `.
    #[inline(always)]
    pub(crate) fn close_extra(&mut self) {
        let p = self.pos;
        self.out[p..p + 3].copy_from_slice(b"\"} ");
        self.pos += 3;
    }

    /// A `u64` in plain decimal.
    #[inline(always)]
    pub(crate) fn int(&mut self, v: u64) {
        let p = self.pos;
        if v < 10_000 {
            // Up to four digits (most counts): both digit pairs, the leading zeros shifted
            // out, one four-byte move, and no branch on the number's length.
            #[allow(clippy::cast_possible_truncation)] // below 10,000
            let v = v as usize;
            let (hi, lo) = (v / 100 * 2, v % 100 * 2);
            let digits = u32::from_le_bytes([
                DIGIT_PAIRS[hi],
                DIGIT_PAIRS[hi + 1],
                DIGIT_PAIRS[lo],
                DIGIT_PAIRS[lo + 1],
            ]);
            let n = 1 + usize::from(v >= 10) + usize::from(v >= 100) + usize::from(v >= 1000);
            self.out[p..p + 4].copy_from_slice(&(digits >> (8 * (4 - n))).to_le_bytes());
            self.pos += n;
            return;
        }
        let n = v.checked_ilog10().unwrap_or(0) as usize + 1;
        let d = &mut self.out[p..p + 20];
        let mut v = v;
        let mut i = n;
        while v >= 100 {
            let pair = (v % 100) as usize * 2;
            v /= 100;
            i -= 2;
            d[i..i + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
        }
        if v >= 10 {
            let pair = v as usize * 2;
            d[i - 2..i].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
        } else {
            d[i - 1] = b'0' + v as u8;
        }
        self.pos += n;
    }

    /// A count as Go's text format writes it (a float64: `1e+06` from a million on).
    #[inline(always)]
    pub(crate) fn go_u64(&mut self, v: u64) {
        if v < 1_000_000 {
            self.int(v);
        } else {
            self.scratch.clear();
            write_go_u64(self.scratch, v);
            self.flush_scratch();
        }
    }

    /// A count as Go's OpenMetrics encoder writes a counter (`5.0`, `1e+06`).
    #[inline(always)]
    pub(crate) fn om_u64(&mut self, v: u64) {
        if v < 1_000_000 {
            self.int(v);
            let p = self.pos;
            self.out[p..p + 2].copy_from_slice(b".0");
            self.pos += 2;
        } else {
            self.scratch.clear();
            write_om_u64(self.scratch, v);
            self.flush_scratch();
        }
    }

    /// A float in Go's text form.
    #[inline(always)]
    pub(crate) fn go_float(&mut self, v: f64) {
        // Small whole numbers (and -0, written `0`) are their integer: the general writer's
        // own shortcut, taken here without the scratch buffer.
        if v.abs() < 1e6 && f64::from(v as i32) == v {
            self.small_int(v as i32);
        } else {
            self.scratch.clear();
            write_go_float(self.scratch, v);
            self.flush_scratch();
        }
    }

    /// A float in the OpenMetrics form (`1.0`, `0.25`, `+Inf`).
    #[inline(always)]
    pub(crate) fn om_float(&mut self, v: f64) {
        if v.abs() < 1e6 && f64::from(v as i32) == v {
            self.small_int(v as i32);
            let p = self.pos;
            self.out[p..p + 2].copy_from_slice(b".0");
            self.pos += 2;
        } else {
            self.scratch.clear();
            write_om_float(self.scratch, v);
            self.flush_scratch();
        }
    }

    #[inline(always)]
    fn small_int(&mut self, v: i32) {
        if v < 0 {
            self.byte(b'-');
        }
        self.int(u64::from(v.unsigned_abs()));
    }

    fn flush_scratch(&mut self) {
        let s = std::mem::take(self.scratch);
        self.bytes(&s);
        *self.scratch = s;
    }

    /// Appends what `write` writes with the general writers (an exemplar, say, of any length).
    pub(crate) fn with_scratch(&mut self, write: impl FnOnce(&mut Vec<u8>)) {
        self.scratch.clear();
        write(self.scratch);
        let s = std::mem::take(self.scratch);
        // The rest of the line (its newline) keeps the room `ensure` promised before.
        self.ensure(s.len() + NUMBER_ROOM);
        self.bytes(&s);
        *self.scratch = s;
    }
}

impl Drop for Room<'_> {
    #[inline(always)]
    fn drop(&mut self) {
        *self.slack = self.out.len() - self.pos;
        *self.home = std::mem::take(&mut self.out);
    }
}

/// Cuts the `slack` bytes of room a [`Room`] left at the end of `out`, leaving only output.
#[inline]
pub(crate) fn cut_room(out: &mut Vec<u8>, slack: &mut usize) {
    if *slack != 0 {
        out.truncate(out.len() - *slack);
        *slack = 0;
    }
}

/// `out` grown to at least `needed` bytes, and by at least `GROW`: the room outlives the
/// series (see `Pieces::slack`), so the zeroing is paid once per run of series, and its bytes
/// are overwritten by the lines that follow.
#[cold]
#[inline(never)]
fn grow(mut out: Vec<u8>, needed: usize) -> Vec<u8> {
    const GROW: usize = 16 * 1024;
    let len = needed.max(out.len() + GROW);
    out.resize(len, 0);
    out
}

/// `00` … `99`, for writing two digits at a time.
const DIGIT_PAIRS: &[u8; 200] = b"\
0001020304050607080910111213141516171819\
2021222324252627282930313233343536373839\
4041424344454647484950515253545556575859\
6061626364656667686970717273747576777879\
8081828384858687888990919293949596979899";

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// The high bit of each byte of `word` that equals `byte`: the lowest set bit is exact, and a
/// wrong one only ever lies above a right one (a borrow only spreads upwards from a zero byte).
#[inline(always)]
fn bytes_equal(word: u64, byte: u8) -> u64 {
    let x = word ^ (ONES * u64::from(byte));
    x.wrapping_sub(ONES) & !x & HIGHS
}

#[inline(always)]
fn word_at(key: &[u8], i: usize) -> u64 {
    u64::from_le_bytes(key[i..i + 8].try_into().unwrap_or_default())
}

/// The position of the first newline in `key` from `from`, or the key's length: eight bytes
/// at a time (label values are short, and a call to `memchr` costs more than they do).
#[inline(always)]
fn next_newline(key: &[u8], from: usize) -> usize {
    let mut i = from;
    while i + 8 <= key.len() {
        let zero = bytes_equal(word_at(key, i), b'\n');
        if zero != 0 {
            return i + (zero.trailing_zeros() / 8) as usize;
        }
        i += 8;
    }
    while i < key.len() {
        if key[i] == b'\n' {
            return i;
        }
        i += 1;
    }
    key.len()
}

/// The first stored value of `key`: where it ends (its newline, or the key's end), and whether
/// it holds a backslash (an escape to undo), found in the same pass, eight bytes at a time.
/// `readable` is the key followed by any bytes that may be read past it (at least the key): a
/// key's last few bytes are then read as one word too, what lies past the key masked off.
#[inline(always)]
pub(crate) fn first_value(key: &[u8], readable: &[u8]) -> (usize, bool) {
    let mut i = 0;
    let mut escaped = false;
    loop {
        let (word, past) = if i + 8 <= key.len() {
            (word_at(key, i), 0)
        } else if i < key.len() && i + 8 <= readable.len() {
            (word_at(readable, i), 8 - (key.len() - i))
        } else {
            break;
        };
        // The high bits of the bytes within the key: a match past it does not count (and a
        // wrong bit only ever lies above a right one, so none lies below the key's end).
        let within = HIGHS >> (8 * past);
        let newline = bytes_equal(word, b'\n') & within;
        let backslash = bytes_equal(word, b'\\') & within;
        if newline != 0 {
            // Both lowest bits are exact, so a backslash bit below the newline's is a real
            // backslash before it; one above it may be wrong, and does not count.
            let below = (newline & newline.wrapping_neg()) - 1;
            return (i + (newline.trailing_zeros() / 8) as usize, escaped || backslash & below != 0);
        }
        // No newline in the word: any bit means a real backslash (the lowest one is).
        escaped |= backslash != 0;
        if past != 0 {
            return (key.len(), escaped);
        }
        i += 8;
    }
    while i < key.len() {
        match key[i] {
            b'\n' => return (i, escaped),
            b'\\' => escaped = true,
            _ => {}
        }
        i += 1;
    }
    (key.len(), escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newlines_are_found_at_every_offset() {
        for len in 0..40 {
            for at in 0..=len {
                let mut key = vec![b'x'; len];
                if at < len {
                    key[at] = b'\n';
                }
                for from in 0..=at.min(len) {
                    assert_eq!(next_newline(&key, from), at, "length {len}, newline at {at}, from {from}");
                }
            }
        }
    }

    #[test]
    fn first_values_end_at_their_newline_and_see_backslashes_before_it() {
        for len in 0..40 {
            for nl in 0..=len {
                for bs in (0..len).map(Some).chain([None]) {
                    let mut key = vec![b'x'; len];
                    if let Some(bs) = bs {
                        key[bs] = b'\\';
                    }
                    if nl < len {
                        key[nl] = b'\n';
                    }
                    let end = key.iter().position(|&b| b == b'\n').unwrap_or(len);
                    let escaped = key[..end].contains(&b'\\');
                    let want = (end, escaped);
                    assert_eq!(first_value(&key, &key), want, "{:?}", String::from_utf8_lossy(&key));
                    // Read past the key: newlines and backslashes there do not count.
                    for after in [&b"\n\n\n\n\n\n\n\n"[..], &[b'\\'; 8], b"\\\n\\\n\\\n\\\n"] {
                        let readable = [&key[..], after].concat();
                        assert_eq!(
                            first_value(&key, &readable),
                            want,
                            "{:?} then {after:?}",
                            String::from_utf8_lossy(&key)
                        );
                    }
                }
            }
        }
        // Bytes next to the searched ones (0x5b, 0x5d, 0x09, 0x0b) and high bytes do not count.
        let key = b"[]\t\x0b\xff\x80abcdefgh\nq\\";
        assert_eq!(first_value(key, key), (14, false));
        let key = "ab\\\\cdefghij\n\\".as_bytes();
        assert_eq!(first_value(key, key), (12, true));
    }

    #[test]
    fn integers_and_exact_copies() {
        let mut out = b"x".to_vec();
        let mut scratch = Vec::new();
        let mut slack = 0;
        {
            let mut room = Room::new(&mut out, &mut slack, &mut scratch, 8);
            for v in (0..=10_001).chain([12_345, 999_999, u64::MAX]) {
                room.ensure(64);
                room.int(v);
                room.byte(b' ');
            }
            for len in 0..=40 {
                let s: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
                room.ensure(64);
                room.bytes(&s);
                room.byte(b'|');
            }
        }
        out.truncate(out.len() - slack);
        let mut expected = "x".to_owned();
        for v in (0..=10_001).chain([12_345, 999_999, u64::MAX]) {
            expected.push_str(&format!("{v} "));
        }
        for len in 0..=40 {
            expected.extend((0..len).map(|i| char::from(b'a' + (i % 26) as u8)));
            expected.push('|');
        }
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }
}
