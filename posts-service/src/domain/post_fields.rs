use crate::error::ApiError;

/// A post id: a positive integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostId(i64);

impl PostId {
    /// Parses a decimal id from a path; anything else cannot be a post.
    pub fn parse(raw: &str) -> Result<Self, ApiError> {
        auth_common::service::positive_id::parse(raw).map(Self).ok_or(ApiError::NotFound("no such post"))
    }

    /// The number.
    pub fn get(self) -> i64 {
        self.0
    }
}

/// A title: 1–200 characters, not blank, one line, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostTitle(String);

impl PostTitle {
    /// Parses a title.
    pub fn parse(raw: String) -> Result<Self, ApiError> {
        let chars = raw.chars().count();
        if !(1..=200).contains(&chars) || raw.trim().is_empty() || raw.chars().any(char::is_control) {
            return Err(ApiError::Validation("title must be 1 to 200 characters on one line, not blank".to_owned()));
        }
        Ok(Self(raw))
    }

    /// The title.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Content: 1–10 000 characters, not blank; line breaks and tabs allowed, other control
/// characters (NUL among them) not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostContent(String);

impl PostContent {
    /// Parses content.
    pub fn parse(raw: String) -> Result<Self, ApiError> {
        let chars = raw.chars().count();
        let bad_control = raw.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'));
        if !(1..=10_000).contains(&chars) || raw.trim().is_empty() || bad_control {
            return Err(ApiError::Validation(
                "content must be 1 to 10000 characters, not blank, without control characters".to_owned(),
            ));
        }
        Ok(Self(raw))
    }

    /// The content.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_and_contents_are_checked() {
        assert!(PostTitle::parse("Hello".into()).is_ok());
        assert!(PostTitle::parse("é".repeat(200)).is_ok());
        for (case, raw) in [
            ("empty", String::new()),
            ("blank", "   ".into()),
            ("too long", "x".repeat(201)),
            ("newline", "a\nb".into()),
            ("NUL", "a\0b".into()),
        ] {
            assert!(PostTitle::parse(raw).is_err(), "title case {case}");
        }
        assert!(PostContent::parse("line one\nline two\ttabbed".into()).is_ok());
        assert!(PostContent::parse("x".repeat(10_000)).is_ok());
        for (case, raw) in [
            ("empty", String::new()),
            ("too long", "x".repeat(10_001)),
            ("NUL", "a\0b".into()),
            ("escape", "a\u{1b}[31m".into()),
        ] {
            assert!(PostContent::parse(raw).is_err(), "content case {case}");
        }
    }

    #[test]
    fn ids_are_positive_integers() {
        assert_eq!(PostId::parse("42").unwrap().get(), 42);
        for raw in ["0", "-1", "+1", "abc", "1.5", "99999999999999999999"] {
            assert!(PostId::parse(raw).is_err(), "{raw}");
        }
    }
}
