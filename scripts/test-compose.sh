#!/usr/bin/env bash
# The real compose stack, run as a new user runs it, and checked through the gateway.
#
#   scripts/test-compose.sh
#
# 1. A Docker engine and Compose v2 (scripts/docker-engine.sh starts one when none answers)
#    and the base images (scripts/offline-images.sh, only for those neither present nor
#    pullable).
# 2. `docker compose up --build --wait` on this repository's own docker-compose.yml and
#    Dockerfile, under a project name of its own so it touches no other stack.
# 3. Through the gateway: scripts/demo.sh; then tables and rows in both PostgreSQL
#    databases; a user, a post, a refresh token and an access token made before
#    `down` + `up --build` all still work after it; scripts/rotate-keys.sh --compose under
#    a short load with zero failed requests; the public feed with authors; the images'
#    size, user and healthcheck.
# 4. `docker compose down -v` at the end, whatever happened, leaving nothing running.
#
# Settings: GATEWAY_PORT (default 18480, on 127.0.0.1), COMPOSE_PROJECT_NAME (default
# identity-compose-test), KEEP=1 leaves the stack up for a look.
# Closes with "test-compose: N passed, N failed" and exits non-zero on any failure.
set -euo pipefail
shopt -s inherit_errexit
cd "$(dirname "$0")/.."

export COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-identity-compose-test}
export GATEWAY_PORT=${GATEWAY_PORT:-18480}
# A short JWKS max-age, so the rotation below turns its new key active within the test:
# a new key is published for max-age seconds before it signs.
export JWKS_MAX_AGE_SECS=${JWKS_MAX_AGE_SECS:-6}
# Never an inherited setting that would change what is tested.
unset PUBLIC_URL APP_ENV DATABASE_URL
gateway=http://127.0.0.1:$GATEWAY_PORT
max_image_mb=60

# shellcheck source=scripts/lib/checks.sh
source scripts/lib/checks.sh
# Stops the whole run: a later check would only fail for the same reason.
die() {
    fail "$@"
    docker compose logs --no-color --tail 40 2>&1 | sed 's/^/      /' || true
    exit 1
}

tmp=$(mktemp -d)
down() {
    local rc=$?
    if [[ ${KEEP:-0} == 1 ]]; then
        echo "KEEP=1: the stack $COMPOSE_PROJECT_NAME is still up at $gateway"
    else
        step "docker compose down -v"
        docker compose down -v --remove-orphans --timeout 10 >/dev/null 2>&1 || true
        left=$(docker ps -a -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME")
        left+=$(docker volume ls -q --filter "label=com.docker.compose.project=$COMPOSE_PROJECT_NAME")
        if [[ -n $left ]]; then
            fail "containers or volumes of $COMPOSE_PROJECT_NAME are left after down -v" "$left"
            rc=1
        else
            pass "down -v left no container and no volume of $COMPOSE_PROJECT_NAME"
        fi
    fi
    rm -rf "$tmp"
    checks_summary test-compose
    ((failed == 0)) || rc=1
    exit "$rc"
}
trap down EXIT

# call METHOD URL [curl args…]: sets $status and $body.
call() {
    local method=$1 url=$2
    shift 2
    local out
    out=$(curl -sS --max-time 10 -X "$method" -w '\n%{http_code}' "$url" "$@" 2>&1) || {
        status=000
        body=$out
        return 0
    }
    status=${out##*$'\n'}
    body=${out%$'\n'*}
}
# json EXPR: a Python expression on the last body, bound to `j`.
json() { python3 -c "import json,sys; j=json.loads(sys.argv[1]); print($1)" "$body"; }
# kid_of TOKEN: the kid in a JWT's header.
kid_of() {
    python3 -c "import base64,json,sys; s=sys.argv[1].split('.')[0]; print(json.loads(base64.urlsafe_b64decode(s+'='*(-len(s)%4)))['kid'])" "$1"
}
psql_in() {
    local db=$1 sql=$2
    docker compose exec -T postgres psql -U postgres -d "$db" -tAc "$sql" 2>&1
}
login() {
    call POST "$gateway/auth/login" -H 'content-type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"$password\"}"
}

step "Docker engine and base images"
bash scripts/docker-engine.sh
bash scripts/offline-images.sh
docker compose version

step "docker compose up --build --wait (project $COMPOSE_PROJECT_NAME, gateway $gateway)"
# A stack left by an earlier, interrupted run starts over.
docker compose down -v --remove-orphans --timeout 10 >/dev/null 2>&1 || true
start=$SECONDS
if docker compose up --build --detach --wait --wait-timeout 300 >"$tmp/up.log" 2>&1; then
    pass "compose up --build --wait: every service healthy ($((SECONDS - start)) s)"
else
    tail -40 "$tmp/up.log"
    die "compose up --build --wait"
fi

step "images"
for svc in users-service posts-service; do
    image=$svc:${IMAGE_TAG:-dev}
    bytes=$(docker image inspect -f '{{.Size}}' "$image")
    user=$(docker image inspect -f '{{.Config.User}}' "$image")
    health=$(docker image inspect -f '{{if .Config.Healthcheck}}{{join .Config.Healthcheck.Test " "}}{{end}}' "$image")
    mb=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1000 / 1000 }')
    if ((bytes <= max_image_mb * 1000 * 1000)); then
        pass "$image is $mb MB (at most $max_image_mb MB)"
    else
        fail "$image is $mb MB, over $max_image_mb MB"
    fi
    if [[ $user == 10001:10001 && $health == *"$svc healthcheck"* ]]; then
        pass "$image runs as $user and checks itself with '$health'"
    else
        fail "$image: user '$user', healthcheck '$health'"
    fi
done

step "both services on PostgreSQL"
for svc in users-service posts-service; do
    # The start-up line names the backend (never the URL): `… database: Postgres …`.
    line=$(docker compose logs --no-color "$svc" 2>&1 | grep -m1 'listening on' || true)
    if [[ $line == *"database: Postgres"* ]]; then
        pass "$svc says database: Postgres"
    else
        fail "$svc does not say it runs on PostgreSQL" "$line"
    fi
done

step "scripts/demo.sh through the gateway"
if USERS_URL=$gateway POSTS_URL=$gateway scripts/demo.sh >"$tmp/demo.log" 2>&1; then
    pass "demo.sh through the gateway"
else
    tail -20 "$tmp/demo.log"
    fail "demo.sh through the gateway"
fi

step "tables and rows in both PostgreSQL databases"
for pair in users:users users:refresh_tokens posts:posts; do
    db=${pair%%:*} table=${pair#*:}
    rows=$(psql_in "$db" "SELECT count(*) FROM $table")
    if [[ $rows =~ ^[0-9]+$ ]] && ((rows > 0)); then
        pass "database $db: table $table has $rows rows"
    else
        fail "database $db: table $table" "$rows"
    fi
done

step "what a user made before a restart"
run=$(date +%s)-$RANDOM
name=keeper-$run
password="correct horse battery staple"
call POST "$gateway/users" -H 'content-type: application/json' \
    -d "{\"username\":\"$name\",\"email\":\"$name@example.com\",\"password\":\"$password\"}"
[[ $status == 201 ]] || die "register $name: $status $body"
login "$name"
[[ $status == 200 ]] || die "log in as $name: $status $body"
access=$(json 'j["access_token"]')
refresh=$(json 'j["refresh_token"]')
call POST "$gateway/posts" -H "Authorization: Bearer $access" -H 'content-type: application/json' \
    -d "{\"title\":\"kept across restarts\",\"content\":\"run $run\"}"
[[ $status == 201 ]] || die "create a post: $status $body"
post_id=$(json 'j["id"]')
pass "registered $name, logged in, created post $post_id"

step "docker compose down, then up --build --wait (no -v: the volumes stay)"
docker compose down --timeout 10 >/dev/null 2>&1
if docker compose up --build --detach --wait --wait-timeout 300 >"$tmp/up2.log" 2>&1; then
    pass "down + up --build --wait"
else
    tail -40 "$tmp/up2.log"
    die "second compose up"
fi
call GET "$gateway/posts/$post_id" -H "Authorization: Bearer $access"
if [[ $status == 200 && $(json 'j["author"]["username"]') == "$name" ]]; then
    pass "the access token issued before the restart still verifies; post $post_id is there with its author"
else
    fail "post $post_id with the old token after the restart" "$status $body"
fi
login "$name"
if [[ $status == 200 ]]; then
    pass "$name logs in again after the restart"
else
    fail "$name cannot log in after the restart" "$status $body"
fi
call POST "$gateway/oauth/token" -d grant_type=refresh_token -d "refresh_token=$refresh"
if [[ $status == 200 ]]; then
    pass "the refresh token issued before the restart is accepted (and rotated)"
else
    fail "refresh after the restart" "$status $body"
fi

step "key rotation under load: scripts/rotate-keys.sh --compose"
login "$name"
[[ $status == 200 ]] || die "log in before the rotation: $status $body"
old_token=$(json 'j["access_token"]')
old_kid=$(kid_of "$old_token")
# The load: for a bounded time, a login per second (the gateway allows 5 a second per
# address) and, between them, reads with the newest token and with the pre-rotation token,
# and the public feed. Every answer must be a success; each one is logged.
load_secs=$((JWKS_MAX_AGE_SECS * 2 + 8))
(
    token=$old_token
    end=$((SECONDS + load_secs))
    next_login=$SECONDS
    while ((SECONDS < end)); do
        if ((SECONDS >= next_login)); then
            login "$name"
            echo "login $status"
            [[ $status == 200 ]] && token=$(json 'j["access_token"]') && echo "kid $(kid_of "$token")"
            next_login=$((SECONDS + 1))
        fi
        call GET "$gateway/posts?limit=5" -H "Authorization: Bearer $token"
        echo "page $status"
        call GET "$gateway/posts/$post_id" -H "Authorization: Bearer $old_token"
        echo "old-token $status"
        call GET "$gateway/public/posts?limit=3"
        echo "public $status"
        sleep 0.05
    done
) >"$tmp/load.log" 2>&1 &
load_pid=$!
sleep 2
if out=$(scripts/rotate-keys.sh --compose rotate 2>&1); then
    pass "rotate-keys.sh --compose rotate"
else
    fail "rotate-keys.sh --compose rotate" "$out"
fi
wait "$load_pid" || true
bad=$(grep -E '^(login|page|old-token|public) ' "$tmp/load.log" | grep -v -E ' 200$' || true)
requests=$(grep -c -E '^(login|page|old-token|public) ' "$tmp/load.log" || true)
if [[ -z $bad && $requests -gt 20 ]]; then
    pass "$requests requests during the rotation, 0 failed"
else
    fail "requests during the rotation: $requests, failures:" "$(sort "$tmp/load.log" | uniq -c | head -20)"
fi
new_kids=$(grep '^kid ' "$tmp/load.log" | awk '{ print $2 }' | sort -u | grep -v -x "$old_kid" || true)
if [[ -n $new_kids ]]; then
    pass "tokens signed with the new key ($new_kids) verified at posts-service during the load"
else
    fail "no token was signed with a new key during the load (old kid $old_kid)"
fi
if out=$(scripts/rotate-keys.sh --compose list 2>&1) && grep -qw active <<<"$out" && grep -qw retiring <<<"$out"; then
    pass "keys list after the rotation: one active, one retiring"
else
    fail "keys list after the rotation" "$out"
fi

step "the public feed with authors"
call GET "$gateway/public/posts?limit=5"
if [[ $status == 200 && $(json 'all(p["author"] is not None for p in j["posts"]) and not j.get("degraded", False)') == True ]]; then
    pass "public feed: $(json 'len(j["posts"])') posts, every one with its author"
else
    fail "public feed" "$status $body"
fi
