//! Values that are valid by construction, parsed at the edge of each handler.

mod cursor;
mod post_fields;

pub use cursor::{Cursor, PageLimit};
pub use post_fields::{PostContent, PostId, PostTitle};
