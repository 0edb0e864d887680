//! The browser sign-in of the authorization code grant: reading and checking an
//! authorization request ([`request`]) and the HTML page users-service serves for it
//! ([`page`]), with no script and nothing fetched from another host.

pub mod page;
pub mod request;
pub mod session;
