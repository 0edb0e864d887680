//! The test kit: users-service started for a test and the requests tests make of it live
//! in `users_service::testing` (posts-service's tests start users-service the same way);
//! reading answers lives in `auth_common::testing::http`.

/// users-service's errors are always declared `application/json`: its tests check that too.
pub use auth_common::testing::http::{challenge, json_error_of as error_of};
pub use users_service::testing::*;
