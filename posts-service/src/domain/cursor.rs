use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::error::ApiError;

/// Page size: 1–100, 20 when not given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageLimit(i64);

impl PageLimit {
    /// Checks a requested limit.
    pub fn parse(raw: Option<i64>) -> Result<Self, ApiError> {
        match raw {
            None => Ok(Self(20)),
            Some(n) if (1..=100).contains(&n) => Ok(Self(n)),
            Some(_) => Err(ApiError::BadRequest("limit must be between 1 and 100".to_owned())),
        }
    }

    /// The number.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// Where the next page starts: opaque to clients. It encodes the id of the last post
/// shown; the next page holds the posts with smaller ids, so posts added meanwhile never
/// shift a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor(i64);

const PREFIX: &str = "before:";

impl Cursor {
    /// The cursor after the post `id`.
    pub fn after(id: i64) -> Self {
        Self(id)
    }

    /// Reads a cursor a client sent back.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        let invalid = || ApiError::BadRequest("cursor is invalid; pass back next_cursor unchanged".to_owned());
        if raw.len() > 64 {
            return Err(invalid());
        }
        let decoded = URL_SAFE_NO_PAD.decode(raw).map_err(|_| invalid())?;
        let text = std::str::from_utf8(&decoded).map_err(|_| invalid())?;
        let digits = text.strip_prefix(PREFIX).ok_or_else(invalid)?;
        // Only the canonical form we issue: no sign, no leading zeros.
        match digits.parse::<i64>() {
            Ok(id) if id > 0 && id.to_string() == digits => Ok(Self(id)),
            _ => Err(invalid()),
        }
    }

    /// The encoded form.
    pub fn encode(self) -> String {
        URL_SAFE_NO_PAD.encode(format!("{PREFIX}{}", self.0))
    }

    /// Posts strictly older than this id come next.
    pub fn before_id(self) -> i64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_its_round_trip() {
        let cursor = Cursor::after(42);
        assert_eq!(Cursor::parse(&cursor.encode()).unwrap(), cursor);
    }

    #[test]
    fn tampered_cursors_are_refused() {
        for raw in [
            "",
            "!!!",
            "YmVmb3JlOg",
            &URL_SAFE_NO_PAD.encode("before:-3"),
            &URL_SAFE_NO_PAD.encode("before:007"),
            &URL_SAFE_NO_PAD.encode("after:3"),
            &"A".repeat(100),
        ] {
            assert!(Cursor::parse(raw).is_err(), "{raw:?}");
        }
    }

    #[test]
    fn limits_are_bounded() {
        assert_eq!(PageLimit::parse(None).unwrap().get(), 20);
        assert!(PageLimit::parse(Some(100)).is_ok());
        for n in [0, -1, 101] {
            assert!(PageLimit::parse(Some(n)).is_err(), "{n}");
        }
    }
}
