//! The browser sign-in of the authorization code grant: reading and checking an
//! authorization request ([`request`]) and the HTML page users-service serves for it
//! ([`page`]), with no script and nothing fetched from another host; the sign-in session
//! ([`session`]); and sign-out, RP-Initiated Logout's request ([`end_session`]) and its
//! `id_token_hint` ([`id_token_hint`]). [`browser`] holds what every page does alike.

pub mod browser;
pub mod end_session;
pub mod id_token_hint;
pub mod page;
pub mod request;
pub mod session;
