#!/usr/bin/env bash
# Starts users-service and posts-service on SQLite from a fresh clone, with no set-up.
# Everything they write (databases, the signing key, posts-service's client secret) goes
# to .dev/, which git ignores. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."

state=.dev
mkdir -p "$state"
chmod 700 "$state"

# posts-service's service-account secret: made once per checkout, never committed.
if [[ ! -s $state/posts-client-secret ]]; then
    (umask 077 && head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$state/posts-client-secret")
fi
posts_secret=$(cat "$state/posts-client-secret")

users_addr=${USERS_BIND_ADDR:-127.0.0.1:8081}
posts_addr=${POSTS_BIND_ADDR:-127.0.0.1:8082}

echo "building…"
cargo build --quiet --bin users-service --bin posts-service

pids=()
stop() {
    trap - INT TERM EXIT
    ((${#pids[@]})) && kill "${pids[@]}" 2>/dev/null
    wait 2>/dev/null || true
}
trap stop INT TERM EXIT

wait_ready() {
    local name=$1 url=$2
    for _ in $(seq 1 100); do
        if curl -fsS "$url" >/dev/null 2>&1; then
            echo "$name ready at ${url%/health/*}"
            return 0
        fi
        sleep 0.2
    done
    echo "$name did not become ready; see the log above" >&2
    return 1
}

BIND_ADDR=$users_addr \
    DATABASE_URL=${USERS_DATABASE_URL:-$state/users.db} \
    JWT_ISSUER=${JWT_ISSUER:-http://$users_addr} \
    JWT_KEYS_DIR=${JWT_KEYS_DIR:-$state/keys} \
    OAUTH_CLIENTS="posts-service:$posts_secret:users:read" \
    ./target/debug/users-service &
pids+=($!)
wait_ready users-service "http://$users_addr/health/ready"

BIND_ADDR=$posts_addr \
    DATABASE_URL=${POSTS_DATABASE_URL:-$state/posts.db} \
    JWT_ISSUER=${JWT_ISSUER:-http://$users_addr} \
    USERS_SERVICE_URL=http://$users_addr \
    POSTS_CLIENT_ID=posts-service \
    POSTS_CLIENT_SECRET=$posts_secret \
    ./target/debug/posts-service &
pids+=($!)
wait_ready posts-service "http://$posts_addr/health/ready"

echo "both services are up; Ctrl-C stops them"
wait
