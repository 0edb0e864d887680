-- Authorization codes (RFC 6749 §4.1), stored only as SHA-256 hashes, in the database so
-- that any replica can redeem a code another replica issued. A code is single use and
-- lives 60 s; `family_id` is the refresh-token family its redemption started, revoked if
-- the code is presented again (RFC 6749 §4.1.2).
CREATE TABLE authorization_codes (
    code_hash TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    redirect_uri TEXT NOT NULL,
    scope TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    -- OpenID Connect: the client's nonce, echoed in the ID token, and when the user signed in.
    nonce TEXT,
    auth_time TIMESTAMP NOT NULL,
    issued_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    used_at TIMESTAMP,
    family_id TEXT
);
CREATE INDEX authorization_codes_expires_at ON authorization_codes (expires_at);

-- Browser sessions of the sign-in page: a second sign-in in the same browser needs no
-- password until the session expires or is signed out. Stored as SHA-256 hashes, in the
-- database so every replica knows them.
CREATE TABLE browser_sessions (
    session_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auth_time TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP
);
CREATE INDEX browser_sessions_expires_at ON browser_sessions (expires_at);
