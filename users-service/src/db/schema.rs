//! The tables, as diesel sees them (identical for both backends).

diesel::table! {
    users (id) {
        id -> BigInt,
        username -> Text,
        email -> Text,
        password_hash -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    refresh_tokens (id) {
        id -> BigInt,
        token_hash -> Text,
        family_id -> Text,
        user_id -> BigInt,
        client_id -> Text,
        scope -> Text,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(refresh_tokens -> users (user_id));
diesel::joinable!(authorization_codes -> users (user_id));
diesel::joinable!(browser_sessions -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    users,
    refresh_tokens,
    signing_keys,
    key_set_version,
    credential_failures,
    authorization_codes,
    browser_sessions
);

diesel::table! {
    signing_keys (kid) {
        kid -> Text,
        state -> Text,
        created_at -> Timestamp,
        activates_at -> Nullable<Timestamp>,
        retires_at -> Nullable<Timestamp>,
        sealed_private_key -> Binary,
        kek_id -> Text,
    }
}

diesel::table! {
    key_set_version (id) {
        id -> Integer,
        version -> BigInt,
    }
}

diesel::table! {
    credential_failures (scope, subject) {
        scope -> Text,
        subject -> Text,
        failures -> Integer,
        first_failure -> Timestamp,
        locked_until -> Nullable<Timestamp>,
    }
}

diesel::table! {
    authorization_codes (code_hash) {
        code_hash -> Text,
        client_id -> Text,
        user_id -> BigInt,
        redirect_uri -> Text,
        scope -> Text,
        code_challenge -> Text,
        nonce -> Nullable<Text>,
        auth_time -> Timestamp,
        issued_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
        family_id -> Nullable<Text>,
    }
}

diesel::table! {
    browser_sessions (session_hash) {
        session_hash -> Text,
        user_id -> BigInt,
        auth_time -> Timestamp,
        expires_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
    }
}
