//! `SIGHUP`, an operator's "reload now", listened for in one place: each service hands
//! the [`Notify`] to the background task that reloads (users-service re-reads its key
//! folder, posts-service refetches the JWKS), which otherwise runs on its own schedule.

use std::sync::Arc;

use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// Forwards every `SIGHUP` to the returned [`Notify`] until the returned task is aborted.
/// When no handler can be installed, that is logged once, naming `what` then happens on
/// its schedule only, and nothing is ever forwarded.
pub fn forward_hangups(what: &str) -> (Arc<Notify>, JoinHandle<()>) {
    let wake = Arc::new(Notify::new());
    let task = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()) {
        Ok(mut hangup) => {
            let wake = wake.clone();
            tokio::spawn(async move {
                while hangup.recv().await.is_some() {
                    wake.notify_one();
                }
            })
        }
        Err(e) => {
            log::warn!("cannot listen for SIGHUP ({e}): {what} on schedule only");
            tokio::spawn(async {})
        }
    };
    (wake, task)
}
