//! A failed query, named by what it was doing, so the log line of a 500 says which query
//! failed. The name is fixed text at the call site (`"loading a user by username"`),
//! never a value from the query; and like every internal error it reaches the log only,
//! never the response body.

use super::is_unique_violation;

/// A query that failed, and what it was doing.
#[derive(Debug, thiserror::Error)]
#[error("database query failed: {query}")]
pub struct QueryError {
    /// What the query was doing, as a phrase (`"loading a user by username"`).
    pub query: &'static str,
    /// diesel's error.
    #[source]
    pub source: diesel::result::Error,
}

impl QueryError {
    /// Whether the query found no row where it needed one.
    pub fn is_not_found(&self) -> bool {
        matches!(self.source, diesel::result::Error::NotFound)
    }

    /// Whether the query broke a unique constraint, on either backend.
    pub fn is_unique_violation(&self) -> bool {
        is_unique_violation(&self.source)
    }
}

/// `.context("…")` for diesel results: names the query a failure came from.
pub trait QueryContext<T> {
    /// Wraps an error in a [`QueryError`] that says what the query was doing.
    fn context(self, query: &'static str) -> Result<T, QueryError>;
}

impl<T> QueryContext<T> for diesel::QueryResult<T> {
    fn context(self, query: &'static str) -> Result<T, QueryError> {
        self.map_err(|source| QueryError { query, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_names_the_query_and_keeps_diesel_s_as_its_source() {
        let result: diesel::QueryResult<()> = Err(diesel::result::Error::NotFound);
        let err = result.context("loading a post").unwrap_err();
        assert!(err.is_not_found() && !err.is_unique_violation());
        let chain = format!("{:#}", anyhow::Error::new(err));
        assert!(chain.starts_with("database query failed: loading a post: "), "{chain}");
    }
}
