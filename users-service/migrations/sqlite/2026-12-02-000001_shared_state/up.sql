-- Signing keys, shared by every replica. The private half is sealed with the
-- key-encryption key (JWT_KEYS_ENCRYPTION_KEY, never in the database): AES-256-GCM, the
-- 12-byte nonce first, the kid as associated data. `kek_id` is a fingerprint of the key
-- that sealed it, so a wrong key is named as such instead of failing to decrypt.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'active', 'retiring', 'retired')),
    created_at TIMESTAMP NOT NULL,
    activates_at TIMESTAMP,
    retires_at TIMESTAMP,
    sealed_private_key BLOB NOT NULL,
    kek_id TEXT NOT NULL
);

-- One row. Every change to signing_keys bumps it in the same transaction, which also
-- serialises the changes (the bump is the transaction's first write); replicas poll it.
CREATE TABLE key_set_version (
    id INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    version BIGINT NOT NULL
);
INSERT INTO key_set_version (id, version) VALUES (1, 0);

-- Failed credential checks, counted across replicas. Written only on failure (and
-- deleted by the success that follows one); rows past their window are swept.
CREATE TABLE credential_failures (
    scope TEXT NOT NULL,
    subject TEXT NOT NULL,
    failures INTEGER NOT NULL,
    first_failure TIMESTAMP NOT NULL,
    locked_until TIMESTAMP,
    PRIMARY KEY (scope, subject)
);
CREATE INDEX credential_failures_first_failure ON credential_failures (first_failure);
