//! Keeps a running users-service's keys in step with `JWT_KEYS_DIR`: a re-read every
//! 500 ms, and at once when `wake` is notified (on `SIGHUP`).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::KeyRing;

/// How often the folder is re-read. Cheap: a few small JSON files; PEMs are parsed once.
const INTERVAL: Duration = Duration::from_millis(500);

/// Runs until the returned task is aborted.
pub fn spawn(ring: Arc<KeyRing>, dir: PathBuf, wake: Arc<Notify>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut last_error = None;
        loop {
            tokio::select! {
                _ = tokio::time::sleep(INTERVAL) => {}
                _ = wake.notified() => log::info!("SIGHUP: reloading signing keys"),
            }
            let (ring, folder) = (ring.clone(), dir.clone());
            let result = tokio::task::spawn_blocking(move || ring.reload(&folder)).await;
            let error = match result {
                Ok(Ok(())) => None,
                Ok(Err(e)) => Some(format!("{e:#}")),
                Err(e) => Some(e.to_string()),
            };
            // Say it once, not twice a second.
            if error.is_some() && error != last_error {
                log::error!(
                    "keys in {} not reloaded, keeping the current ones: {}",
                    dir.display(),
                    error.as_deref().unwrap_or_default()
                );
            }
            last_error = error;
        }
    })
}
