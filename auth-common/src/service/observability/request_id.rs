//! Request ids: the caller's `X-Request-Id` if it is sane, a new UUID otherwise.
//!
//! The id is kept in a tokio task-local for the whole life of the request, so log lines
//! written anywhere while serving it carry it, and outgoing calls pass it on.

use std::fmt;
use std::sync::Arc;

/// The header that carries it, in and out.
pub const HEADER: &str = "x-request-id";

tokio::task_local! {
    static CURRENT: RequestId;
}

/// A request id: 1 to 128 characters of `[A-Za-z0-9._-]`.
#[derive(Clone, PartialEq, Eq)]
pub struct RequestId(Arc<str>);

impl RequestId {
    /// The caller's id, if it follows the rules; anything else is replaced, never echoed.
    pub fn parse(raw: &str) -> Option<Self> {
        let valid =
            (1..=128).contains(&raw.len()) && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
        valid.then(|| Self(raw.into()))
    }

    /// A fresh id.
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string().into())
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Runs `future` with this id as the current one.
    pub async fn scope<F: Future>(self, future: F) -> F::Output {
        CURRENT.scope(self, future).await
    }

    /// Runs `f` with this id as the current one.
    pub fn sync_scope<R>(self, f: impl FnOnce() -> R) -> R {
        CURRENT.sync_scope(self, f)
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RequestId({})", self.0)
    }
}

/// The id of the request this task is serving, if any.
pub fn current() -> Option<RequestId> {
    CURRENT.try_with(Clone::clone).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sane_ids_are_kept() {
        assert_eq!(RequestId::parse("abc-123_x.y").unwrap().as_str(), "abc-123_x.y");
        assert!(RequestId::parse(&"a".repeat(128)).is_some());
        for bad in ["", "has space", "new\nline", "semi;colon", "ü", &"a".repeat(129)] {
            assert!(RequestId::parse(bad).is_none(), "{bad:?}");
        }
    }

    #[tokio::test]
    async fn the_current_id_is_visible_inside_its_scope_only() {
        assert!(current().is_none());
        let id = RequestId::parse("req-1").unwrap();
        let seen = id.clone().scope(async { current() }).await;
        assert_eq!(seen, Some(id));
        assert!(current().is_none());
    }
}
