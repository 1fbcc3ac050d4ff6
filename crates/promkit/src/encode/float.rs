//! Number formatting exactly as Go's `expfmt` writes it (provisional; see tests).

/// Appends `v` as Go's `strconv.FormatFloat(v, 'g', -1, 64)`, the text format's number form.
pub(crate) fn write_go_float(out: &mut Vec<u8>, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"+Inf" } else { b"-Inf" });
    } else if v == 0.0 {
        out.push(b'0');
    } else {
        let s = format!("{v:e}");
        let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        if !(-4..21).contains(&exp) || exp >= 6 && mant.len() <= 21 {
            out.extend_from_slice(mant.as_bytes());
            out.extend_from_slice(if exp < 0 { b"e-" } else { b"e+" });
            let e = exp.unsigned_abs();
            if e < 10 {
                out.push(b'0');
            }
            out.extend_from_slice(itoa::Buffer::new().format(e).as_bytes());
        } else {
            out.extend_from_slice(format!("{v}").as_bytes());
        }
    }
}

/// Appends `v` in OpenMetrics' canonical form as Go writes it: the Go form, plus `.0` when that
/// has no `.`, `e` or letters (`1` → `1.0`, `1e+06` unchanged).
pub(crate) fn write_om_float(out: &mut Vec<u8>, v: f64) {
    let start = out.len();
    write_go_float(out, v);
    if v.is_finite() && !out[start..].iter().any(|b| matches!(b, b'.' | b'e')) {
        out.extend_from_slice(b".0");
    }
}

/// Appends a `u64` count the way Go writes the same value as a float64 in the text format.
pub(crate) fn write_go_u64(out: &mut Vec<u8>, v: u64) {
    if v < 1_000_000 {
        out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
    } else {
        #[allow(clippy::cast_precision_loss)] // Go holds every value as float64 too
        write_go_float(out, v as f64);
    }
}

/// Appends an integer exactly (OpenMetrics bucket counts, `_count`, text timestamps).
pub(crate) fn write_int(out: &mut Vec<u8>, v: impl itoa::Integer) {
    out.extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
}
