//! Calls to users-service: the batched author lookup and posts-service's own
//! client-credentials token.
//!
//! **Token forwarding.** The lookup carries a bearer token chosen by the caller of this
//! client: the end user's own token, passed on unchanged, so users-service authenticates
//! the *user* again rather than trusting posts-service; or, only where no user is involved
//! (the public feed), posts-service's own service-account token. The client follows no
//! redirects, so a token goes to the configured users-service and nowhere else.
//!
//! **Calls per request.** [`counting_calls`] counts the calls made while serving one
//! request; the routes that look authors up report the count in `X-Users-Service-Calls`,
//! so a client can see what its request cost (the explorer page shows it).

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use auth_common::service::observability::metrics::Metrics;
use auth_common::service::observability::request_id;
use auth_common::token::extractor::BearerToken;
use reqwest::StatusCode;
use reqwest::header::AUTHORIZATION;
use serde::Deserialize;

use crate::api_types::Author;
use crate::config::Secret;

/// The response header that reports [`counting_calls`]' count.
pub const CALLS_HEADER: &str = "x-users-service-calls";

tokio::task_local! {
    static CALLS: Cell<u32>;
}

/// Runs `future`, counting the calls it makes to users-service (each attempt, answered or
/// not: a retry is two); returns its output and the count.
pub async fn counting_calls<F: Future>(future: F) -> (F::Output, u32) {
    CALLS
        .scope(Cell::new(0), async {
            let output = future.await;
            (output, CALLS.with(Cell::get))
        })
        .await
}

/// One more call in the current [`counting_calls`] scope, if there is one.
fn note_call() {
    let _ = CALLS.try_with(|calls| calls.set(calls.get() + 1));
}

/// Why a call to users-service gave no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// No answer in time, or no connection.
    #[error("users-service did not answer: {0}")]
    Unreachable(#[source] reqwest::Error),
    /// An answer that was not 2xx.
    #[error("users-service answered {0}")]
    Status(StatusCode),
    /// A 2xx answer we could not read.
    #[error("users-service sent an unreadable answer: {0}")]
    Invalid(String),
}

impl UpstreamError {
    fn from_reqwest(e: reqwest::Error) -> Self {
        match e.status() {
            Some(status) => Self::Status(status),
            None if e.is_decode() => Self::Invalid(e.to_string()),
            None => Self::Unreachable(e),
        }
    }

    /// The metric label of this failure.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Unreachable(e) if e.is_timeout() => "timeout",
            Self::Unreachable(_) => "unreachable",
            Self::Status(_) => "error_status",
            Self::Invalid(_) => "invalid",
        }
    }
}

#[derive(Deserialize)]
struct UserList {
    users: Vec<Author>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    expires_in: u64,
}

/// A client for users-service, sharing the process's one `reqwest::Client`. Every call
/// carries the request id of the request it serves, and is counted by result.
pub struct UsersClient {
    http: reqwest::Client,
    base_url: String,
    /// `{base_url}/users`, parsed once: every page of posts calls it.
    users_url: reqwest::Url,
    metrics: Arc<Metrics>,
}

impl UsersClient {
    /// A client for the users-service at `base_url`; an error when that is not a URL.
    pub fn new(http: reqwest::Client, base_url: String, metrics: Arc<Metrics>) -> anyhow::Result<Self> {
        let users_url = reqwest::Url::parse(&format!("{base_url}/users"))?;
        Ok(Self { http, base_url, users_url, metrics })
    }

    /// Adds the current request id, so one id follows a request across both services.
    fn traced(request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match request_id::current() {
            Some(id) => request.header(request_id::HEADER, id.as_str()),
            None => request,
        }
    }

    fn count<T>(&self, result: &Result<T, UpstreamError>) {
        self.metrics.users_service_call(match result {
            Ok(_) => "success",
            Err(e) => e.label(),
        });
    }

    /// The authors among `ids` (at most 100), in one request authorised by `bearer`.
    pub async fn authors(&self, ids: &[i64], bearer: &BearerToken) -> Result<HashMap<i64, Author>, UpstreamError> {
        let ids = ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
        let mut url = self.users_url.clone();
        url.query_pairs_mut().append_pair("ids", &ids);
        let request = self.http.get(url);
        note_call();
        let result = async {
            let response = Self::traced(request.header(AUTHORIZATION, bearer.header_value()))
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(UpstreamError::from_reqwest)?;
            let list: UserList = response.json().await.map_err(UpstreamError::from_reqwest)?;
            Ok(list.users.into_iter().map(|author| (author.id, author)).collect())
        }
        .await;
        self.count(&result);
        result
    }

    /// A client-credentials token for posts-service itself (RFC 6749 §4.4), with its lifetime.
    pub async fn client_credentials(
        &self,
        client_id: &str,
        secret: &Secret,
        scope: &str,
    ) -> Result<(BearerToken, Duration), UpstreamError> {
        let request = self
            .http
            .post(format!("{}/oauth/token", self.base_url))
            .basic_auth(urlencode(client_id), Some(urlencode(secret.expose())))
            .form(&[("grant_type", "client_credentials"), ("scope", scope)]);
        note_call();
        let result = async {
            let response = Self::traced(request)
                .send()
                .await
                .and_then(reqwest::Response::error_for_status)
                .map_err(UpstreamError::from_reqwest)?;
            let token: TokenResponse = response.json().await.map_err(UpstreamError::from_reqwest)?;
            Ok((BearerToken::new(token.access_token), Duration::from_secs(token.expires_in)))
        }
        .await;
        self.count(&result);
        result
    }
}

/// RFC 6749 §2.3.1: client id and secret are form-encoded before they go into Basic.
fn urlencode(value: &str) -> String {
    serde_urlencoded::to_string([("v", value)]).map(|s| s[2..].to_owned()).unwrap_or_else(|_| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn calls_are_counted_inside_a_scope_only() {
        note_call(); // outside any scope: nothing to count, no panic
        let ((), calls) = counting_calls(async {
            note_call();
            tokio::task::yield_now().await;
            note_call();
        })
        .await;
        assert_eq!(calls, 2);
        assert_eq!(counting_calls(async {}).await.1, 0);
    }

    #[test]
    fn basic_credentials_are_form_encoded() {
        assert_eq!(super::urlencode("a b:c&d"), "a+b%3Ac%26d");
        assert_eq!(super::urlencode("plain-Secret_1"), "plain-Secret_1");
    }
}
