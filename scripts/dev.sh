#!/usr/bin/env bash
# Starts users-service and posts-service on SQLite from a fresh clone, with no set-up.
# Everything they write (databases, the signing key, posts-service's client secret) goes
# to .dev/, which git ignores. Ctrl-C stops both.
#
# With nginx installed (Debian: apt-get install nginx-light gettext-base), the gateway too,
# from the same template as compose's, at GATEWAY_BIND_ADDR (default 127.0.0.1:8080): the
# explorer page at http://localhost:8080/, in front of both services on one origin, as in
# compose. Without nginx the services start alone, and a line says how to get the page.
# GATEWAY_BIND_ADDR=off skips the gateway.
#
# Settings: USERS_BIND_ADDR, POSTS_BIND_ADDR (default 127.0.0.1:8081, :8082),
# USERS_DATABASE_URL, POSTS_DATABASE_URL, JWT_ISSUER, JWT_KEYS_DIR; the binaries are where
# cargo puts them (CARGO_TARGET_DIR, build.target-dir and the like are honoured).
# users-service's pid is in .dev/users-service.pid while it runs: scripts/rotate-keys.sh
# signals that process, and no other.
set -euo pipefail
# A relative CARGO_TARGET_DIR means relative to where this was started, as for cargo.
if [[ -n ${CARGO_TARGET_DIR:-} && $CARGO_TARGET_DIR != /* ]]; then
    export CARGO_TARGET_DIR=$PWD/$CARGO_TARGET_DIR
fi
cd "$(dirname "$0")/.."

state=.dev
mkdir -p "$state"
chmod 700 "$state"
pid_file=$state/users-service.pid

# posts-service's service-account secret: made once per checkout, never committed.
if [[ ! -s $state/posts-client-secret ]]; then
    (umask 077 && head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' >"$state/posts-client-secret")
fi
posts_secret=$(cat "$state/posts-client-secret")

users_addr=${USERS_BIND_ADDR:-127.0.0.1:8081}
posts_addr=${POSTS_BIND_ADDR:-127.0.0.1:8082}
gateway_addr=${GATEWAY_BIND_ADDR:-127.0.0.1:8080}
if [[ $gateway_addr != off ]] && ! { command -v nginx && command -v envsubst; } >/dev/null 2>&1; then
    echo "no nginx (or envsubst): starting the services without the gateway and the explorer page;" \
        "apt-get install nginx-light gettext-base to have them (GATEWAY_BIND_ADDR=off: not asked)"
    gateway_addr=off
fi
# The explorer, a public client: PKCE and its exact redirect URIs, this gateway's `/` by
# either name of this machine.
clients="posts-service:$posts_secret:users:read"
if [[ $gateway_addr != off ]]; then
    gateway_port=${gateway_addr##*:}
    clients+=";explorer::openid profile posts:read posts:write users:read"
    clients+=" redirect_uri=http://localhost:$gateway_port/ redirect_uri=http://127.0.0.1:$gateway_port/"
fi

# Builds the binaries named and prints the path of each, one a line, in that order, as
# cargo reports them (its own target directory, wherever that is configured to be).
build_bins() {
    local out name path args=()
    for name in "$@"; do args+=(--bin "$name"); done
    out=$(cargo build --quiet --message-format=json-render-diagnostics "${args[@]}") || return 1
    for name in "$@"; do
        path=$(grep -o "\"executable\":\"[^\"]*/$name\"" <<<"$out" | tail -n 1 | cut -d '"' -f 4)
        if [[ ! -x $path ]]; then
            echo "cargo built $name but did not report where" >&2
            return 1
        fi
        printf '%s\n' "$path"
    done
}

echo "building…"
bins=$(build_bins users-service posts-service)
{ read -r users_bin && read -r posts_bin; } <<<"$bins"

pids=()
# shellcheck source=scripts/lib/gateway.sh
source scripts/lib/gateway.sh
gateway_dir=
stop() {
    trap - INT TERM EXIT
    if [[ -n $gateway_dir ]]; then
        gateway_stop "$gateway_dir"
        rm -rf "$gateway_dir"
    fi
    # Only our own pid file: another dev.sh may have started since.
    if ((${#pids[@]})) && [[ $(cat "$pid_file" 2>/dev/null) == "${pids[0]}" ]]; then
        rm -f "$pid_file"
    fi
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
    OAUTH_CLIENTS=$clients \
    "$users_bin" &
pids+=($!)
echo "${pids[0]}" >"$pid_file"
wait_ready users-service "http://$users_addr/health/ready"

BIND_ADDR=$posts_addr \
    DATABASE_URL=${POSTS_DATABASE_URL:-$state/posts.db} \
    JWT_ISSUER=${JWT_ISSUER:-http://$users_addr} \
    USERS_SERVICE_URL=http://$users_addr \
    POSTS_CLIENT_ID=posts-service \
    POSTS_CLIENT_SECRET=$posts_secret \
    "$posts_bin" &
pids+=($!)
wait_ready posts-service "http://$posts_addr/health/ready"

if [[ $gateway_addr != off ]]; then
    # Not under .dev/ (private): when run as root, nginx's workers are `nobody`.
    gateway_dir=$(mktemp -d)
    if gateway_start "$gateway_dir" "$users_addr" "$posts_addr" "$gateway_addr"; then
        echo "gateway ready at http://$gateway_addr: the explorer page is http://localhost:$gateway_port/"
    else
        echo "the gateway did not start (see above; GATEWAY_BIND_ADDR picks another address):" \
            "the services run without it" >&2
    fi
fi

echo "both services are up; Ctrl-C stops them"
wait
