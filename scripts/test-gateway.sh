#!/usr/bin/env bash
# Proves the gateway's routes (deploy/nginx/templates/gateway.conf.template) with this
# machine's own nginx in front of the services that are already running, e.g. started by
# scripts/dev.sh in another terminal:
#
#   scripts/dev.sh &    scripts/test-gateway.sh
#
# Settings (the same names scripts/dev.sh takes):
#   USERS_BIND_ADDR    users-service's address (default 127.0.0.1:8081)
#   POSTS_BIND_ADDR    posts-service's address (default 127.0.0.1:8082)
#   GATEWAY_TEST_PORT  where the test gateway listens on 127.0.0.1 (default 18080, or the
#                      next free port)
# Runs nginx as the current user with everything under a temporary folder, and stops it on
# exit. Installs nginx-light / gettext-base / curl / python3 with apt-get only if missing.
set -euo pipefail
cd "$(dirname "$0")/.."

users_addr=${USERS_BIND_ADDR:-127.0.0.1:8081}
posts_addr=${POSTS_BIND_ADDR:-127.0.0.1:8082}
port=${GATEWAY_TEST_PORT:-18080}

# --- tools ------------------------------------------------------------------------------
missing=()
command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
command -v envsubst >/dev/null 2>&1 || missing+=(gettext-base)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null 2>&1 || {
            echo "missing ${missing[*]}, and not root: install them with apt-get" >&2
            exit 2
        }
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update -qq
    # RUNLEVEL=1: the nginx package must not start a system nginx on port 80.
    "${sudo[@]}" env RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- the services must be up already ----------------------------------------------------
for target in "users-service $users_addr" "posts-service $posts_addr"; do
    read -r name addr <<<"$target"
    if ! curl -fsS -o /dev/null --max-time 3 "http://$addr/health/ready"; then
        echo "$name does not answer at http://$addr/health/ready: start it first (scripts/dev.sh)" >&2
        exit 2
    fi
done

# --- a private nginx --------------------------------------------------------------------
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for _ in $(seq 1 20); do
    port_in_use "$port" || break
    port=$((port + 1))
done
if port_in_use "$port"; then
    echo "no free port from ${GATEWAY_TEST_PORT:-18080} on; set GATEWAY_TEST_PORT" >&2
    exit 2
fi

tmp=$(mktemp -d)
# Readable by nginx's workers, which run as another user when this script runs as root.
chmod 755 "$tmp"
stop() {
    if [[ -s $tmp/nginx.pid ]]; then
        kill -TERM "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
        for _ in $(seq 1 50); do
            [[ -e $tmp/nginx.pid ]] || break
            sleep 0.1
        done
    fi
    rm -rf "$tmp"
}
trap stop EXIT

# Only these names are replaced, so that nginx's own $variables stay as they are.
# shellcheck disable=SC2016 # the names, not their values
gateway_vars='${USERS_UPSTREAM} ${POSTS_UPSTREAM} ${GATEWAY_LISTEN} ${GATEWAY_RESOLVER}'
USERS_UPSTREAM=$users_addr POSTS_UPSTREAM=$posts_addr GATEWAY_LISTEN=127.0.0.1:$port \
    GATEWAY_RESOLVER=127.0.0.1 envsubst "$gateway_vars" \
    <deploy/nginx/templates/gateway.conf.template >"$tmp/gateway.conf"
cat >"$tmp/nginx.conf" <<EOF
worker_processes 1;
events { worker_connections 256; }
http {
    access_log $tmp/access.log;
    client_body_temp_path $tmp/client_body;
    proxy_temp_path $tmp/proxy;
    fastcgi_temp_path $tmp/fastcgi;
    uwsgi_temp_path $tmp/uwsgi;
    scgi_temp_path $tmp/scgi;
    include $tmp/gateway.conf;
}
EOF
# nginx puts itself in the background; its stdout (the gateway's access log) goes to a file.
if ! nginx -p "$tmp" -c "$tmp/nginx.conf" -g "pid $tmp/nginx.pid; error_log $tmp/error.log;" \
    >"$tmp/stdout.log" 2>&1; then
    cat "$tmp/stdout.log" "$tmp/error.log" >&2 2>/dev/null || true
    exit 1
fi
gw=http://127.0.0.1:$port
for _ in $(seq 1 50); do
    curl -fsS -o /dev/null "$gw/gateway/health" 2>/dev/null && break
    sleep 0.1
done
echo "gateway on $gw -> users-service $users_addr, posts-service $posts_addr"

# --- checks -----------------------------------------------------------------------------
passed=0
failed=0
check() {
    local description=$1
    shift
    local detail
    if detail=$("$@" 2>&1); then
        printf 'ok    %s\n' "$description"
        passed=$((passed + 1))
    else
        printf 'FAIL  %s\n' "$description"
        while IFS= read -r line; do printf '      %s\n' "$line"; done <<<"$detail"
        failed=$((failed + 1))
    fi
}

# One request: headers to $tmp/h, body to $tmp/b; prints the status code.
request() { curl -sS -o "$tmp/b" -D "$tmp/h" -w '%{http_code}' --max-time 10 "$@"; }
# The value(s) of a response header in $tmp/h (or the file given), one per line.
header() { grep -i "^$1:" "${2:-$tmp/h}" | cut -d: -f2- | sed 's/^ *//; s/\r$//'; }
# $tmp/b is JSON, and python expression $1 holds for it (as `j`).
json_holds() { python3 -c "import json,sys; j=json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" "${2:-$tmp/b}"; }
expect() {
    local want=$1 got=$2
    [[ $got == "$want" ]] || {
        echo "expected $want, got $got"
        [[ -s $tmp/b ]] && head -c 300 "$tmp/b"
        return 1
    }
}

jwks_same() {
    local direct via
    direct=$(curl -fsS "http://$users_addr/.well-known/jwks.json")
    via=$(curl -fsS "$gw/.well-known/jwks.json")
    [[ -n $via && $via == "$direct" ]] || {
        echo "direct: $direct"
        echo "via gateway: $via"
        return 1
    }
}
check "GET /.well-known/jwks.json through the gateway equals users-service's own" jwks_same

public_posts() {
    expect 200 "$(request "$gw/public/posts")" &&
        header content-type | grep -qi 'application/json' &&
        json_holds '"posts" in j'
}
check "GET /public/posts: 200 JSON with posts (posts-service)" public_posts

unknown_route() {
    expect 404 "$(request "$gw/nope")" &&
        header content-type | grep -qi 'application/json' &&
        json_holds '"error" in j and "error_description" in j'
}
check "GET /nope: 404 JSON in the error shape" unknown_route

request_id_made() {
    request "$gw/public/posts" >/dev/null
    local ids
    ids=$(header x-request-id)
    [[ -n $ids && $(wc -l <<<"$ids") -eq 1 ]] || {
        echo "X-Request-Id headers: '$ids'"
        return 1
    }
}
check "no X-Request-Id sent: exactly one comes back" request_id_made

request_id_kept() {
    request -H 'X-Request-Id: abc-123' "$gw/.well-known/jwks.json" >/dev/null
    local ids
    ids=$(header x-request-id)
    [[ $ids == abc-123 ]] || {
        echo "X-Request-Id headers: '$ids'"
        return 1
    }
}
check "X-Request-Id: abc-123 sent: abc-123 comes back" request_id_kept

authorization_passed() {
    expect 401 "$(request -H 'Authorization: Bearer not-a-real-token' "$gw/users/me")" || return 1
    if ! header www-authenticate | grep -q 'invalid_token'; then
        echo "WWW-Authenticate: '$(header www-authenticate)'"
        return 1
    fi
}
check "Authorization reaches users-service: GET /users/me with a bad token -> 401 invalid_token" authorization_passed

body_limit() {
    head -c 70000 /dev/zero | tr '\0' 'a' >"$tmp/big"
    expect 413 "$(request -X POST -H 'Content-Type: application/json' --data-binary "@$tmp/big" "$gw/users")" &&
        json_holds 'j["error"] == "payload_too_large"'
}
check "a 70 kB body: 413 JSON (client_max_body_size 64k)" body_limit

# 30 concurrent POSTs of $2 to $1: far above the limits (5 a second with bursts of 10 for
# credentials, 2 a second with bursts of 10 for registrations), so some must be refused.
rate_limited() {
    local path=$1 body=$2 name i
    name=${path//\//_}
    for i in $(seq 1 30); do
        curl -sS -o "$tmp/$name.$i.b" -D "$tmp/$name.$i.h" -w '%{http_code}' --max-time 20 \
            -X POST -H 'Content-Type: application/json' -d "$body" \
            "$gw$path" >"$tmp/$name.$i.code" &
    done
    wait
    local limited=0 through=0 sample=
    for i in $(seq 1 30); do
        case $(cat "$tmp/$name.$i.code") in
        429)
            limited=$((limited + 1))
            sample=$i
            ;;
        *) through=$((through + 1)) ;;
        esac
    done
    echo "$limited limited, $through passed through"
    ((limited > 0 && through > 0)) || return 1
    json_holds 'j["error"] == "rate_limited" and j["error_description"]' "$tmp/$name.$sample.b" || {
        echo "body: $(cat "$tmp/$name.$sample.b")"
        return 1
    }
    [[ -n $(header retry-after "$tmp/$name.$sample.h") ]] || {
        echo "no Retry-After"
        return 1
    }
    [[ -n $(header x-request-id "$tmp/$name.$sample.h") ]] || {
        echo "no X-Request-Id on the 429"
        return 1
    }
}
check "30 concurrent POST /auth/login: some 429 with a JSON body, Retry-After and X-Request-Id" \
    rate_limited /auth/login '{"username":"gateway-test-nobody","password":"not-the-password"}'
check "30 concurrent POST /oauth/revoke: some 429 with a JSON body, Retry-After and X-Request-Id" \
    rate_limited /oauth/revoke '{}'
# An invalid registration (422) costs the service nothing and writes nothing.
check "30 concurrent POST /users: some 429 with a JSON body, Retry-After and X-Request-Id" \
    rate_limited /users '{"username":"x"}'

printf '\ntest-gateway: %d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
