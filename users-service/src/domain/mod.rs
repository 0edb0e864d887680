//! Values that are valid by construction. Requests hold raw strings; handlers parse them
//! into these types at the edge, and everything past that point takes only these.

mod email;
mod password;
mod user_id;
mod username;

pub use email::Email;
pub use password::Password;
pub use user_id::{UserId, UserIds};
pub use username::Username;
