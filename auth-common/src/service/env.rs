//! Typed settings from the environment, with errors that name the variable.
//!
//! Services read their configuration through an [`Env`] in `config.rs` and nowhere else.
//! Tests build their configuration directly or from a map, never from the process
//! environment.

use std::collections::HashMap;
use std::fmt::Display;
use std::str::FromStr;

use anyhow::{Context, anyhow};

/// Looks a variable up by name.
type Lookup = Box<dyn Fn(&str) -> Option<String>>;

/// A view of environment variables. Empty values count as unset.
pub struct Env {
    lookup: Lookup,
}

impl Env {
    /// The process environment (after `dotenvy` loaded `.env`, in `main`).
    pub fn from_process() -> Self {
        Self { lookup: Box::new(|key| std::env::var(key).ok()) }
    }

    /// A fixed map, for tests.
    pub fn from_map(map: HashMap<String, String>) -> Self {
        Self { lookup: Box::new(move |key| map.get(key).cloned()) }
    }

    /// Fixed pairs, for tests: `Env::from_pairs(&[("APP_ENV", "production")])`.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Self {
        Self::from_map(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect())
    }

    /// The value of `key`, if set and not empty.
    pub fn optional(&self, key: &str) -> Option<String> {
        (self.lookup)(key).filter(|v| !v.trim().is_empty())
    }

    /// The value of `key`, or `default`.
    pub fn string(&self, key: &str, default: &str) -> String {
        self.optional(key).unwrap_or_else(|| default.to_owned())
    }

    /// The value of `key` parsed as `T`, or `default` when unset. A value that does not
    /// parse is an error naming the key, what was expected and what was found.
    pub fn parsed<T>(&self, key: &str, default: T) -> anyhow::Result<T>
    where
        T: FromStr,
        T::Err: Display,
    {
        match self.optional(key) {
            None => Ok(default),
            Some(raw) => raw.trim().parse::<T>().map_err(|e| {
                anyhow!(
                    "{key}: expected {}, got {raw:?} ({e})",
                    std::any::type_name::<T>().rsplit("::").next().unwrap_or("a value")
                )
            }),
        }
    }

    /// A secret: the value of `key`, or the contents of the file named by `<key>_FILE`
    /// (Docker and Kubernetes secrets arrive as files), trailing newline trimmed. Both set
    /// at once is an error naming the two: neither silently wins, because the one a reader
    /// expects differs by tool (an image's `ENV DATABASE_URL` once shadowed compose's
    /// `DATABASE_URL_FILE` and put a PostgreSQL deployment on SQLite). An unreadable file
    /// is an error naming the variable, never the secret.
    pub fn secret(&self, key: &str) -> anyhow::Result<Option<String>> {
        let file_key = format!("{key}_FILE");
        let (value, path) = (self.optional(key), self.optional(&file_key));
        match (value, path) {
            (Some(_), Some(_)) => Err(anyhow!(
                "{key} and {file_key} are both set: set one of them (the value itself, or the path of a file holding it)"
            )),
            (Some(value), None) => Ok(Some(value)),
            (None, None) => Ok(None),
            (None, Some(path)) => {
                let contents =
                    std::fs::read_to_string(&path).with_context(|| format!("{file_key}: cannot read {path}"))?;
                Ok(Some(contents.trim_end_matches(['\n', '\r']).to_owned()).filter(|v| !v.is_empty()))
            }
        }
    }

    /// The value of `key`; an error naming it when unset.
    pub fn required(&self, key: &str) -> anyhow::Result<String> {
        self.optional(key).with_context(|| format!("{key}: must be set"))
    }
}

/// Where the service runs. Production refuses development conveniences (generated keys,
/// default secrets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AppEnv {
    /// The default: keys are generated on first start.
    Development,
    /// Secrets and keys must be provided.
    Production,
}

impl FromStr for AppEnv {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "development" | "dev" | "local" | "test" => Ok(Self::Development),
            "production" | "prod" => Ok(Self::Production),
            _ => Err("`development` or `production`".to_owned()),
        }
    }
}

/// Why `secret` is not fit for production, if it is not: shorter than 16 characters, fewer
/// than 8 distinct characters (`aaaa…`, `12121212…`), or a placeholder copied from an
/// example file (`<secret>`, `changeme`, …). Development accepts any non-empty secret.
pub fn weak_secret(secret: &str) -> Option<&'static str> {
    const PLACEHOLDERS: [&str; 7] = ["<", ">", "changeme", "change-me", "change_me", "placeholder", "example"];
    let lower = secret.to_ascii_lowercase();
    let mut distinct: Vec<char> = secret.chars().collect();
    distinct.sort_unstable();
    distinct.dedup();
    if secret.chars().count() < 16 {
        Some("it is shorter than 16 characters")
    } else if PLACEHOLDERS.iter().any(|p| lower.contains(p)) {
        Some("it is a placeholder from an example file")
    } else if distinct.len() < 8 {
        Some("it has fewer than 8 distinct characters")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weak_secrets_are_named_and_random_ones_pass() {
        for weak in
            ["short", "aaaaaaaaaaaaaaaaaaaaaa", "1212121212121212", "<posts-client-secret>", "ChangeMe-ChangeMe-123"]
        {
            assert!(weak_secret(weak).is_some(), "{weak} was accepted");
        }
        assert_eq!(weak_secret("q8Zr2LxV0pKs7TfW3mYc"), None);
    }

    #[test]
    fn a_bad_value_names_the_key_and_the_value() {
        let err = Env::from_pairs(&[("PORT_SECS", "ten")]).parsed::<u64>("PORT_SECS", 1).unwrap_err().to_string();
        assert!(err.starts_with("PORT_SECS: expected u64, got \"ten\""), "{err}");
    }

    #[test]
    fn unset_and_empty_values_take_the_default() {
        let env = Env::from_pairs(&[("EMPTY", "  ")]);
        assert_eq!(env.parsed::<u64>("EMPTY", 7).unwrap(), 7);
        assert_eq!(env.string("UNSET", "d"), "d");
        assert!(env.required("EMPTY").unwrap_err().to_string().contains("EMPTY"));
    }

    /// A file holding `contents`, and its path; the folder lives as long as the guard.
    fn secret_file(contents: &str) -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("secret");
        std::fs::write(&file, contents).unwrap();
        let path = file.display().to_string();
        (dir, path)
    }

    #[test]
    fn a_secret_comes_from_the_variable_or_else_from_its_file() {
        let (_dir, path) = secret_file("from-file\n");
        assert_eq!(Env::from_pairs(&[("S_FILE", &path)]).secret("S").unwrap().as_deref(), Some("from-file"));
        assert_eq!(Env::from_pairs(&[("S", "direct")]).secret("S").unwrap().as_deref(), Some("direct"));
        assert_eq!(Env::from_pairs(&[]).secret("S").unwrap(), None);
        let err = Env::from_pairs(&[("S_FILE", "/no/such/file")]).secret("S").unwrap_err().to_string();
        assert!(err.starts_with("S_FILE: cannot read"), "{err}");
    }

    #[test]
    fn a_secret_given_both_ways_is_refused_naming_both_variables_and_neither_value() {
        let (_dir, path) = secret_file("from-file");
        let err = Env::from_pairs(&[("S", "direct-value"), ("S_FILE", &path)]).secret("S").unwrap_err().to_string();
        assert!(err.starts_with("S and S_FILE are both set"), "{err}");
        assert!(!err.contains("direct-value") && !err.contains("from-file"), "{err}");
    }

    #[test]
    fn app_env_parses_both_names() {
        assert_eq!("Production".parse::<AppEnv>().unwrap(), AppEnv::Production);
        assert!("staging".parse::<AppEnv>().is_err());
    }
}
