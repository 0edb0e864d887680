//! The command line: serve (the default), or manage the signing keys with the service's
//! own environment.

use anyhow::Context;
use auth_common::clock::Clock;
use clap::{Parser, Subcommand};

use crate::config::Config;
use crate::keys::commands::{self, Init, KeyInfo, RotationTimes};
use crate::keys::sealing;

/// users-service: users, logins and RS256 tokens.
#[derive(Debug, Parser)]
#[command(name = "users-service", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve HTTP (the default).
    Serve,
    /// Exit 0 if this service answers /health/ready on BIND_ADDR, 1 otherwise.
    Healthcheck,
    /// Manage the signing keys in the database (DATABASE_URL).
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
}

#[derive(Debug, Subcommand)]
enum KeysAction {
    /// Every key: kid, state, created, activates, retires.
    List {
        /// Print a JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Create a first key if there is none; do nothing otherwise (for init containers).
    Init,
    /// Add a key that is published now and signs after JWKS_MAX_AGE_SECS.
    Rotate,
    /// Emergency: drop KID from signing and from the JWKS at once.
    Retire {
        /// The key id, as `keys list` shows it.
        // A thumbprint kid is base64url, so one in 64 starts with `-`: it is still a kid.
        #[arg(allow_hyphen_values = true)]
        kid: String,
    },
    /// Bring the keys of an earlier release's key folder (JWT_KEYS_DIR) into the database.
    Import {
        /// The folder of <kid>.pem and <kid>.json files.
        dir: std::path::PathBuf,
    },
    /// Seal every key again with JWT_KEYS_ENCRYPTION_KEY, opening it with
    /// JWT_KEYS_ENCRYPTION_KEY_OLD; a wrong old key changes nothing.
    Rekey,
}

impl Cli {
    /// Runs the command.
    pub async fn run(self, config: Config) -> anyhow::Result<()> {
        let clock = Clock::system();
        match self.command.unwrap_or(Command::Serve) {
            Command::Serve => crate::startup::build(config, clock).await?.run_until_stopped().await?,
            Command::Healthcheck => auth_common::service::cli::healthcheck(config.common.bind_addr).await?,
            Command::Keys { action } => tokio::task::spawn_blocking(move || keys(action, &config, &clock)).await??,
        }
        Ok(())
    }
}

/// A keys command, on the service's database.
fn keys(action: KeysAction, config: &Config, clock: &Clock) -> anyhow::Result<()> {
    let pool = crate::db::connect(&config.common.database_url, 1)?;
    let conn = &mut pool.get()?;
    let kek = || sealing::resolve(config.keys_encryption_key.as_ref(), &config.keys_dir, config.common.app_env);
    match action {
        KeysAction::Init => match commands::init(conn, &kek()?, Some(&config.keys_dir), clock)? {
            Init::Created(kid) => println!("key {kid} created; it signs now"),
            Init::Imported(kids) => {
                println!("imported {} key(s) from {}: {}", kids.len(), config.keys_dir.display(), kids.join(", "))
            }
            Init::Existing | Init::Refused => println!("the database holds a signing key already; nothing to do"),
        },
        KeysAction::List { json } => print_keys(&commands::list(conn, clock)?, json)?,
        KeysAction::Rotate => {
            let times = RotationTimes {
                publish_ahead_secs: config.jwks_max_age_secs,
                outlive_secs: config.access_token_ttl_secs + config.common.leeway_secs,
            };
            let key = commands::rotate(conn, &kek()?, times, clock)?;
            match key.activates_at {
                Some(at) if at > clock.now() => println!(
                    "key {} is published now and signs from {}; the key it replaces signs until then \
                     and leaves the JWKS {} s later",
                    key.kid,
                    at.to_rfc3339(),
                    times.outlive_secs
                ),
                _ => println!("key {} created; it signs now", key.kid),
            }
        }
        KeysAction::Retire { kid } => {
            let keys = commands::retire(conn, &kid, clock)?;
            println!("key {kid} retired: it no longer signs and has left the JWKS of every replica within a second");
            print_keys(&keys, false)?;
        }
        KeysAction::Import { dir } => {
            let done = commands::import(conn, &kek()?, &dir, clock)?;
            println!(
                "imported {} key(s) from {}{}; skipped {} the database holds already",
                done.imported.len(),
                dir.display(),
                if done.imported.is_empty() { String::new() } else { format!(" ({})", done.imported.join(", ")) },
                done.skipped.len()
            );
        }
        KeysAction::Rekey => {
            let old = config.keys_encryption_key_old.as_ref().context(
                "keys rekey: set JWT_KEYS_ENCRYPTION_KEY_OLD (or _FILE) to the key the keys are sealed with",
            )?;
            let new = config
                .keys_encryption_key
                .as_ref()
                .context("keys rekey: set JWT_KEYS_ENCRYPTION_KEY (or _FILE) to the new key")?;
            let resealed =
                commands::rekey(conn, old, &sealing::resolve(Some(new), &config.keys_dir, config.common.app_env)?)?;
            println!(
                "{resealed} key(s) sealed again with key-encryption key {}; give every replica the new key now",
                new.id()
            );
        }
    }
    Ok(())
}

fn print_keys(keys: &[KeyInfo], json: bool) -> anyhow::Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(keys)?);
        return Ok(());
    }
    let time = |t: Option<chrono::DateTime<chrono::Utc>>| {
        t.map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string()).unwrap_or("-".into())
    };
    println!("{:<44}  {:<8}  {:<20}  {:<20}  {:<20}", "KID", "STATE", "CREATED", "ACTIVATES", "RETIRES");
    for key in keys {
        let state = serde_json::to_value(key.state)?.as_str().unwrap_or_default().to_owned();
        println!(
            "{:<44}  {:<8}  {:<20}  {:<20}  {:<20}",
            key.kid,
            state,
            time(Some(key.created_at)),
            time(key.activates_at),
            time(key.retires_at)
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kid_that_starts_with_a_hyphen_is_a_kid_not_a_flag() {
        let cli = Cli::try_parse_from(["users-service", "keys", "retire", "-Zx9_kid"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Keys { action: KeysAction::Retire { ref kid } }) if kid == "-Zx9_kid"
        ));
    }
}
