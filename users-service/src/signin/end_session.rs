//! A request to the end-session endpoint (OpenID Connect RP-Initiated Logout 1.0 §2–§4),
//! checked before anything changes: the hint, the client, and where the user may go after.
//! A request that fails a check is refused on a page and never redirected (§4).

use crate::signin::id_token_hint::{self, HintRefused, IdTokenHint};
use crate::state::AppState;
use crate::tokens::clients::OAuthClient;
use crate::tokens::oauth_request::FormParams;

/// A sign-out request whose every part checked out.
#[derive(Debug, Clone)]
pub struct EndSession {
    /// The valid `id_token_hint`; `None` if none came, or one signed by a retired key.
    pub hint: Option<IdTokenHint>,
    /// The client asking, from `client_id` or the hint's audience.
    pub client: Option<OAuthClient>,
    /// Where to send the user afterwards: registered for `client`.
    pub post_logout_redirect_uri: Option<String>,
    /// Returned unchanged with the redirect.
    pub state: Option<String>,
}

impl EndSession {
    /// Checks `params` (a query or a form); the reason shown on the page if refused.
    pub async fn check(params: &FormParams, app: &AppState) -> Result<Self, &'static str> {
        let hint = match params.get("id_token_hint") {
            None => None,
            Some(token) => match id_token_hint::check(token, &app.keys, &app.issuer_url, &app.clients).await {
                Ok(hint) => Some(hint),
                Err(HintRefused::KeyRetired) => None,
                Err(HintRefused::Invalid(why)) => return Err(why),
            },
        };
        let client_id = match (params.get("client_id"), &hint) {
            (Some(id), Some(hint)) if id != hint.client_id => {
                return Err("client_id is not the client the id_token_hint was issued to");
            }
            (Some(id), _) => Some(id),
            (None, hint) => hint.as_ref().map(|h| h.client_id.as_str()),
        };
        let client = match client_id {
            None => None,
            Some(id) => Some(app.clients.app(id).ok_or("no such client signs users in here")?.clone()),
        };
        let post_logout_redirect_uri = match (params.get("post_logout_redirect_uri"), &client) {
            (None, _) => None,
            (Some(_), None) => {
                return Err("post_logout_redirect_uri needs its client named: send id_token_hint or client_id");
            }
            (Some(uri), Some(client)) if client.returns_after_logout_to(uri) => Some(uri.to_owned()),
            (Some(_), Some(_)) => return Err("post_logout_redirect_uri is not registered for this client"),
        };
        Ok(Self { hint, client, post_logout_redirect_uri, state: params.get("state").map(str::to_owned) })
    }

    /// The parameters the confirmation page carries to its form: the client (named, so
    /// the hint need not travel again), the redirect and the state.
    pub fn hidden_fields(&self) -> Vec<(&'static str, String)> {
        let mut fields = Vec::new();
        if let Some(client) = &self.client {
            fields.push(("client_id", client.id.clone()));
        }
        if let Some(uri) = &self.post_logout_redirect_uri {
            fields.push(("post_logout_redirect_uri", uri.clone()));
        }
        if let Some(state) = &self.state {
            fields.push(("state", state.clone()));
        }
        fields
    }
}
