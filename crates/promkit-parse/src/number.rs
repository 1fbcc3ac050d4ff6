//! Number rules: OpenMetrics' strict `realnumber` grammar and the lenient text 0.0.4 floats.

/// Parses an OpenMetrics `number`: a `realnumber`, or (case-insensitively) `[sign] inf`,
/// `[sign] infinity` or `nan`. Returns the rule broken on failure.
pub(crate) fn om_number(s: &str) -> Result<f64, &'static str> {
    if is_realnumber(s) {
        return s.parse().map_err(|_| REAL_RULE);
    }
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    let negative = s.starts_with('-');
    if unsigned.eq_ignore_ascii_case("inf") || unsigned.eq_ignore_ascii_case("infinity") {
        return Ok(if negative { f64::NEG_INFINITY } else { f64::INFINITY });
    }
    if s.eq_ignore_ascii_case("nan") {
        return Ok(f64::NAN);
    }
    Err("numbers are decimal (digits, `.`, `e` exponent), `+Inf`, `-Inf` or `NaN`; no hex, `_` or spaces")
}

const REAL_RULE: &str = "timestamps are decimal numbers: digits with an optional `.` and `e` exponent";

/// Parses an OpenMetrics `timestamp` (a `realnumber`) in seconds.
pub(crate) fn om_timestamp(s: &str) -> Result<f64, &'static str> {
    if !is_realnumber(s) {
        return Err(REAL_RULE);
    }
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        _ => Err("timestamps MUST fit in a 64-bit float"),
    }
}

/// `realnumber = [SIGN] 1*DIGIT ["." *DIGIT] ["e" [SIGN] 1*DIGIT] / [SIGN] *DIGIT "." 1*DIGIT [...]`
pub(crate) fn is_realnumber(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    let int_start = i;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1;
    }
    let int_digits = i - int_start;
    let mut frac_digits = 0;
    if i < b.len() && b[i] == b'.' {
        i += 1;
        let f = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        frac_digits = i - f;
    }
    if int_digits == 0 && frac_digits == 0 {
        return false;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        i += 1;
        if i < b.len() && (b[i] == b'+' || b[i] == b'-') {
            i += 1;
        }
        let e = i;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
        if i == e {
            return false;
        }
    }
    i == b.len()
}

/// Parses a text 0.0.4 float as Go's `strconv.ParseFloat` reads what exporters write:
/// decimal forms, and `Inf`, `+Inf`, `-Inf`, `Infinity`, `NaN` in any case.
pub(crate) fn text_float(s: &str) -> Result<f64, &'static str> {
    const RULE: &str = "values are Go floats: decimal, `+Inf`, `-Inf` or `NaN`";
    if s.is_empty() {
        return Err(RULE);
    }
    // Rust's parser accepts exactly Go's decimal and inf/nan spellings (any case, signed).
    // Go also reads hex floats (`0x1p-3`); no exporter writes them and they are refused.
    let unsigned = s.strip_prefix(['+', '-']).unwrap_or(s);
    if unsigned.starts_with(['+', '-']) {
        return Err(RULE);
    }
    if unsigned.eq_ignore_ascii_case("nan") && unsigned.len() != s.len() {
        return Err(RULE); // Go refuses a signed NaN
    }
    s.parse().map_err(|_| RULE)
}

/// True when `v` is a whole number (bucket counts and `_count` in OpenMetrics).
pub(crate) fn is_integral(v: f64) -> bool {
    v.is_finite() && v.fract() == 0.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn realnumber_grammar() {
        for ok in ["1", "0042", "-1", "+1.5", "1.", ".5", "1e5", "1.5E-3", "000001.2e-1"] {
            assert!(is_realnumber(ok), "{ok}");
        }
        for bad in ["", ".", "+", "1e", "1e+", "0x1p-3", "1_2", "1.1.1", " 1", "1 ", "Inf", "NaN", "0b1"] {
            assert!(!is_realnumber(bad), "{bad}");
        }
    }

    #[test]
    fn om_numbers_and_timestamps() {
        assert_eq!(om_number("+Inf"), Ok(f64::INFINITY));
        assert_eq!(om_number("-infinity"), Ok(f64::NEG_INFINITY));
        assert_eq!(om_number("Inf"), Ok(f64::INFINITY));
        assert!(om_number("NaN").unwrap().is_nan());
        assert!(om_number("+NaN").is_err());
        assert!(om_number("0x1").is_err());
        assert!(om_number("1_2").is_err());
        assert_eq!(om_timestamp("1.5e3"), Ok(1500.0));
        assert!(om_timestamp("NaN").is_err());
        assert!(om_timestamp("Inf").is_err());
        assert!(om_timestamp("1e400").is_err());
    }

    #[test]
    fn text_floats_read_go_spellings() {
        assert_eq!(text_float("inf"), Ok(f64::INFINITY));
        assert_eq!(text_float("-Inf"), Ok(f64::NEG_INFINITY));
        assert!(text_float("nan").unwrap().is_nan());
        assert!(text_float("-NaN").is_err());
        assert_eq!(text_float("1e+06"), Ok(1e6));
        assert!(text_float("").is_err());
        assert!(text_float("--1").is_err());
        assert!(text_float("1,5").is_err());
        assert!(is_integral(3.0) && !is_integral(3.5) && !is_integral(f64::INFINITY));
    }
}
