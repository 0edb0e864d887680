//! `OAUTH_CLIENTS` as written: `id:secret:word word;id2:secret2:word`, split at the first
//! two colons. The words are scopes, and three kinds of setting:
//!
//! - `redirect_uri=URI`: where the authorization endpoint may send the user back (one word
//!   each; a client with none is a service account);
//! - `post_logout_redirect_uri=URI`: where the end-session endpoint may send the user after
//!   signing out; with none, the client's redirect URIs serve (as Keycloak's `+` does);
//! - `third-party`: an app someone else runs, whose users are asked to consent.

use anyhow::bail;
use auth_common::service::env::{AppEnv, weak_secret};
use auth_common::token::scope::ScopeSet;

use super::{ClientSecret, OAuthClient};

const THIRD_PARTY: &str = "third-party";
const REDIRECT_URI: &str = "redirect_uri=";
const POST_LOGOUT_REDIRECT_URI: &str = "post_logout_redirect_uri=";

/// The clients `raw` lists, or what is wrong with it (never quoting a secret).
pub fn parse(raw: &str, app_env: AppEnv) -> anyhow::Result<Vec<OAuthClient>> {
    let mut clients: Vec<OAuthClient> = Vec::new();
    for (index, entry) in raw.split(';').map(str::trim).filter(|e| !e.is_empty()).enumerate() {
        let mut parts = entry.splitn(3, ':');
        let (Some(id), Some(secret), Some(words)) = (parts.next(), parts.next(), parts.next()) else {
            bail!("entry {}: expected `client_id:secret:scope scope`", index + 1);
        };
        let id = id.trim();
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)) {
            bail!("entry {}: the client id must be letters, digits, `-`, `_` or `.`", index + 1);
        }
        // A user's `sub` is their numeric id: a numeric client id could pass for a user.
        if id.bytes().all(|b| b.is_ascii_digit()) {
            bail!("client {id}: a client id must not be all digits (it would look like a user id)");
        }
        if clients.iter().any(|c| c.id == id) {
            bail!("client {id}: listed twice");
        }
        let mut client = OAuthClient {
            id: id.to_owned(),
            secret: None,
            scopes: ScopeSet::default(),
            redirect_uris: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            third_party: false,
        };
        let mut scope_words = Vec::new();
        for word in words.split_whitespace() {
            if let Some(uri) = word.strip_prefix(REDIRECT_URI) {
                client.redirect_uris.push(redirect_uri(id, uri)?);
            } else if let Some(uri) = word.strip_prefix(POST_LOGOUT_REDIRECT_URI) {
                client.post_logout_redirect_uris.push(redirect_uri(id, uri)?);
            } else if word == THIRD_PARTY {
                client.third_party = true;
            } else {
                scope_words.push(word);
            }
        }
        // A secret-less client is public: it signs users in with PKCE, and nothing else.
        let public = secret.is_empty();
        if public && client.redirect_uris.is_empty() {
            bail!("client {id}: the secret is empty (a public client needs a redirect_uri=…)");
        }
        if !client.post_logout_redirect_uris.is_empty() && client.redirect_uris.is_empty() {
            bail!("client {id}: post_logout_redirect_uri=… is for clients that sign users in (with a redirect_uri=…)");
        }
        if let Some(why) = weak_secret(secret).filter(|_| app_env == AppEnv::Production && !public) {
            bail!("client {id}: production needs a strong secret (16 characters or more, random), and {why}");
        }
        // Not the parse error itself: with a `:` in the secret, what it would quote is part
        // of the secret.
        client.scopes = ScopeSet::parse(&scope_words.join(" ")).map_err(|_| {
            anyhow::anyhow!("client {id}: the scopes are not `resource:action` words; a secret may not contain `:`")
        })?;
        if client.scopes.is_empty() {
            bail!("client {id}: grant it at least one scope");
        }
        client.secret = (!public).then(|| ClientSecret::new(secret));
        clients.push(client);
    }
    Ok(clients)
}

/// A redirect URI as RFC 9700 §4.1 allows one: absolute, no fragment, and `https`, or
/// `http` on a loopback host (a local app, or this repository's development setup).
fn redirect_uri(client: &str, raw: &str) -> anyhow::Result<String> {
    let Some((scheme, rest)) = raw.split_once("://") else {
        bail!("client {client}: redirect URI {raw:?} is not absolute");
    };
    let host = rest.split(['/', '?']).next().unwrap_or_default();
    let host =
        host.rsplit_once(':').filter(|(_, port)| port.bytes().all(|b| b.is_ascii_digit())).map_or(host, |(h, _)| h);
    let loopback = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
    if raw.contains('#') || host.is_empty() || !(scheme == "https" || (scheme == "http" && loopback)) {
        bail!(
            "client {client}: redirect URI {raw:?} must be https (or http on localhost), with a host and no fragment"
        );
    }
    Ok(raw.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(raw: &str) -> anyhow::Result<OAuthClient> {
        parse(raw, AppEnv::Development).map(|mut clients| clients.remove(0))
    }

    #[test]
    fn settings_are_picked_out_of_the_scope_words() {
        let app = one("app::openid posts:read redirect_uri=https://app.example/cb third-party \
             post_logout_redirect_uri=https://app.example/bye")
        .unwrap();
        assert_eq!(app.scopes.to_string(), "openid posts:read");
        assert!(app.secret.is_none() && app.third_party);
        assert_eq!(app.redirect_uris, ["https://app.example/cb"]);
        assert!(app.returns_after_logout_to("https://app.example/bye"));
        assert!(!app.returns_after_logout_to("https://app.example/cb"), "listed: only those");
    }

    #[test]
    fn without_post_logout_uris_the_redirect_uris_serve() {
        let app = one("app::posts:read redirect_uri=http://localhost:8080/").unwrap();
        assert!(app.returns_after_logout_to("http://localhost:8080/"));
        assert!(!app.returns_after_logout_to("http://localhost:8080"));
    }

    #[test]
    fn unsafe_uris_and_misplaced_settings_are_refused() {
        for raw in [
            "app::posts:read redirect_uri=http://app.example/cb",
            "app::posts:read redirect_uri=https://app.example/cb#x",
            "app::posts:read redirect_uri=/cb",
            "app::posts:read redirect_uri=https://a.example/ post_logout_redirect_uri=http://evil.example/",
            "svc:secret-secret-secret:users:read post_logout_redirect_uri=https://a.example/",
            "app::posts:read",
        ] {
            assert!(one(raw).is_err(), "{raw}");
        }
    }
}
