//! What every handler shares, built once in `startup`.

use std::sync::Arc;
use std::time::Duration;

use auth_common::clock::Clock;
use auth_common::service::db::DbPool;
use auth_common::service::observability::metrics::Metrics;

use crate::service_token::ServiceTokens;
use crate::users_client::UsersClient;

/// The application state, registered as `web::Data<AppState>`.
pub struct AppState {
    /// The database.
    pub pool: DbPool,
    /// users-service.
    pub users: UsersClient,
    /// posts-service's own token, for the public feed.
    pub service_tokens: ServiceTokens,
    /// The whole budget of a page's author lookup, retries included.
    pub users_timeout: Duration,
    /// The metrics.
    pub metrics: Arc<Metrics>,
    /// The time: a post's creation and edit times.
    pub clock: Clock,
}
