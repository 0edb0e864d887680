//! Log lines: `<time> <LEVEL> <target> [rid=<request id>] <message>`, via env_logger.

use std::io::Write;

use super::request_id;

/// Initialises env_logger (`RUST_LOG`, default `info`) with a format that carries the
/// request id of the task that logs. Call once, in `main`.
pub fn init() {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info"))
        .format(|buf, record| {
            let rid = request_id::current().map(|id| format!(" rid={id}")).unwrap_or_default();
            writeln!(
                buf,
                "{} {:<5} {}{} {}",
                buf.timestamp_millis(),
                record.level(),
                record.target(),
                rid,
                record.args()
            )
        })
        .init();
}
