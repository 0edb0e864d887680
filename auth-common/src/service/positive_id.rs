//! Ids as both services' databases issue them: positive integers. A request names one in
//! its path or query as plain decimal digits; anything else cannot be an id we issued.

/// Parses `raw` as a positive id: ASCII digits only (no sign, no spaces, no `+`), above
/// zero, within `i64`.
pub fn parse(raw: &str) -> Option<i64> {
    if !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse::<i64>().ok().filter(|id| *id > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_positive_decimals_are_ids() {
        assert_eq!(parse("42"), Some(42));
        assert_eq!(parse("007"), Some(7));
        for (case, raw) in [
            ("empty", ""),
            ("zero", "0"),
            ("negative", "-1"),
            ("plus sign", "+1"),
            ("letters", "abc"),
            ("fraction", "1.5"),
            ("space", " 1"),
            ("overflow", "99999999999999999999"),
        ] {
            assert_eq!(parse(raw), None, "case {case}: {raw:?}");
        }
    }
}
