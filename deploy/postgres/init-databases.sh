#!/usr/bin/env bash
# Creates one database and one login role per service (database per service):
#   users / users   and   posts / posts
# Run once by the official postgres image from /docker-entrypoint-initdb.d/, on the first
# start with an empty data directory, as the superuser, over the local socket.
# The role passwords come from USERS_DB_PASSWORD / POSTS_DB_PASSWORD, or from the files
# named by USERS_DB_PASSWORD_FILE / POSTS_DB_PASSWORD_FILE (docker-compose generates them).
# Changing them later does not touch an existing database: ALTER ROLE … PASSWORD by hand.
set -euo pipefail

for var in USERS_DB_PASSWORD POSTS_DB_PASSWORD; do
    file_var="${var}_FILE"
    if [[ -z ${!var:-} && -n ${!file_var:-} ]]; then
        printf -v "$var" '%s' "$(cat "${!file_var}")"
    fi
done
: "${USERS_DB_PASSWORD:?USERS_DB_PASSWORD or USERS_DB_PASSWORD_FILE must be set}"
: "${POSTS_DB_PASSWORD:?POSTS_DB_PASSWORD or POSTS_DB_PASSWORD_FILE must be set}"

# psql variables (:'name') quote the passwords as SQL literals: nothing is spliced raw.
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "${POSTGRES_USER:-postgres}" --dbname "${POSTGRES_DB:-postgres}" \
    -v users_password="$USERS_DB_PASSWORD" -v posts_password="$POSTS_DB_PASSWORD" <<'SQL'
CREATE ROLE users LOGIN PASSWORD :'users_password';
CREATE ROLE posts LOGIN PASSWORD :'posts_password';
CREATE DATABASE users OWNER users;
CREATE DATABASE posts OWNER posts;
-- Each role reaches its own database only.
REVOKE ALL ON DATABASE users FROM PUBLIC;
REVOKE ALL ON DATABASE posts FROM PUBLIC;
SQL
echo "init-databases: created databases users and posts, each with its own role"
