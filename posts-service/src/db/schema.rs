//! The table, as diesel sees it (identical for both backends).

diesel::table! {
    posts (id) {
        id -> BigInt,
        user_id -> BigInt,
        title -> Text,
        content -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}
