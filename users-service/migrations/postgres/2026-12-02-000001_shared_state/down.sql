DROP TABLE credential_failures;
DROP TABLE key_set_version;
DROP TABLE signing_keys;
