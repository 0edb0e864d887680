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
# 3. Through the gateway: scripts/demo.sh; the explorer page at / with the headers the
#    gateway template gives it, its client's registered redirect URIs and scopes at
#    /oauth/authorize (an unregistered redirect URI refused on the page, no redirect), and
#    the page itself in headless Chromium (scripts/test-explorer.sh, screenshots in
#    target/explorer-screenshots-compose/); then tables and rows in both PostgreSQL
#    databases, the signing keys among them, sealed, and the generated key-encryption
#    key given to users-service alone; a user, a post, a refresh token and an access token
#    made before `down` + `up --build` all still work after it, with the same signing
#    keys (from PostgreSQL: users-service has no volume) and the same key-encryption key,
#    and an `explorer` entry with old scopes added to the stored oauth-clients gives way
#    to the current registration (another client added with it is kept);
#    scripts/rotate-keys.sh --compose under a short load with zero failed requests; two
#    users-service replicas (`--scale users-service=2`): both healthy, both publishing the
#    same keys, a rotation made on one seen by the other, both given requests by the
#    gateway, one killed under a load of idempotent requests with zero failed, logins on
#    the survivor, then back to one; the public feed with authors; the images' size,
#    user and healthcheck.
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
# The explorer client as the `secrets` one-shot registers it (PUBLIC_URL is unset above,
# so compose's default, http://localhost:$GATEWAY_PORT, is its first redirect URI).
explorer_scopes="openid profile posts:read posts:write users:read"
explorer_redirects=("http://localhost:$GATEWAY_PORT/" "http://127.0.0.1:$GATEWAY_PORT/")
explorer_shots=target/explorer-screenshots-compose

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
# get_with_headers URL [curl args…]: sets $status and $body, the headers in $tmp/headers.
get_with_headers() {
    local url=$1
    shift
    : >"$tmp/headers"
    rm -f "$tmp/body"
    status=$(curl -sS --max-time 10 -D "$tmp/headers" -o "$tmp/body" -w '%{http_code}' "$url" "$@" 2>"$tmp/curl.err") ||
        status=000
    body=$(cat "$tmp/body" "$tmp/curl.err" 2>/dev/null || true)
}
# header NAME: that header of the last get_with_headers answer (empty when absent).
header() {
    { grep -i -m1 "^$1:" "$tmp/headers" || true; } | cut -d : -f 2- | sed 's/^ *//; s/\r$//'
}
# authorize CLIENT REDIRECT_URI SCOPE: GET /oauth/authorize through the gateway as a
# client doing the code flow with PKCE sends it (RFC 7636's example S256 challenge: no
# code is exchanged here); sets what get_with_headers sets.
authorize() {
    get_with_headers "$gateway/oauth/authorize" -G --data-urlencode response_type=code \
        --data-urlencode "client_id=$1" --data-urlencode "redirect_uri=$2" --data-urlencode "scope=$3" \
        --data-urlencode code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM \
        --data-urlencode code_challenge_method=S256 --data-urlencode "state=test-compose-$RANDOM"
}
# sign_in_page CLIENT SCOPE: the last answer is users-service's sign-in form for CLIENT,
# asking for SCOPE (which the page lists in byte order), and no redirect.
sign_in_page() {
    local listed
    listed=$(tr ' ' '\n' <<<"$2" | LC_ALL=C sort | paste -sd ' ')
    [[ $status == 200 && -z $(header location) && $body == *"<title>Sign in</title>"* &&
        $body == *'name="password"'* && $body == *"to continue to <strong>$1</strong>, which asks for: $listed<"* ]]
}
# explorer_registered: the explorer client asking for its scopes gets the sign-in page at
# each of its redirect URIs. Prints what went wrong; nothing when all is well.
explorer_registered() {
    local uri
    for uri in "${explorer_redirects[@]}"; do
        authorize explorer "$uri" "$explorer_scopes"
        sign_in_page explorer "$explorer_scopes" ||
            echo "redirect_uri=$uri: $status, Location '$(header location)'; $(head -c 300 <<<"$body")"
    done
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

step "the explorer page at / and its client at /oauth/authorize, through the gateway"
# Every header the gateway template adds to the explorer's files (`location /explorer/`,
# where `/` is rewritten to), as the template writes it; X-Request-Id, made per request,
# only present.
want_headers=$(python3 - deploy/nginx/templates/gateway.conf.template <<'EOF'
import re, sys
block = re.search(r"^\s*location /explorer/ \{\n(.*?)^\s*\}", open(sys.argv[1]).read(), re.M | re.S).group(1)
for name, value in re.findall(r'^\s*add_header\s+(\S+)\s+("[^"]*"|\S+)\s+always;', block, re.M):
    if "$" not in value:
        print(f"{name}: {value.strip(chr(34))}")
EOF
) || true
get_with_headers "$gateway/"
wrong=()
while IFS= read -r line; do
    got=$(header "${line%%: *}")
    [[ $got == "${line#*: }" ]] || wrong+=("${line%%: *}: '$got'")
done <<<"$want_headers"
[[ $(header content-type) == text/html* ]] || wrong+=("Content-Type: '$(header content-type)', not text/html")
[[ -n $(header x-request-id) ]] || wrong+=("no X-Request-Id")
[[ $body == *'<script src="/explorer/explorer.js"'* ]] || wrong+=("the page does not load /explorer/explorer.js")
if [[ $status == 200 && $want_headers == *Content-Security-Policy:* && ${#wrong[@]} == 0 ]]; then
    pass "GET / serves the explorer page with the template's headers: $(cut -d : -f 1 <<<"$want_headers" | paste -sd ' ')"
else
    fail "GET / through the gateway: $status, not the explorer page with the headers of its template" \
        "$(printf '%s\n' "${wrong[@]}" "what the template adds in location /explorer/:" "$want_headers")"
fi
problems=$(explorer_registered)
if [[ -z $problems ]]; then
    pass "GET /oauth/authorize, client explorer, PKCE S256, scope $explorer_scopes: the sign-in page at each registered redirect URI (${explorer_redirects[*]})"
else
    fail "the explorer client's registration at /oauth/authorize" "$problems"
fi
for uri in "$gateway/evil" "http://127.0.0.1:$GATEWAY_PORT/callback" "http://localhost:$((GATEWAY_PORT + 1))/"; do
    authorize explorer "$uri" posts:read
    if [[ $status == 400 && -z $(header location) && $body == *"redirect_uri is not registered"* ]]; then
        pass "GET /oauth/authorize, client explorer, unregistered redirect URI $uri: 400 on the page, no Location"
    else
        fail "client explorer with the unregistered redirect URI $uri: $status, Location '$(header location)'" \
            "$(head -c 400 <<<"$body")"
    fi
done

step "the explorer in headless Chromium: scripts/test-explorer.sh against $gateway/"
# It installs chromium, chromium-driver and Selenium when missing. This run's screenshots only.
rm -rf "$explorer_shots"
start=$SECONDS
if EXPLORER_URL=$gateway/ EXPLORER_SCREENSHOTS=$explorer_shots scripts/test-explorer.sh >"$tmp/explorer.log" 2>&1; then
    pass "test-explorer.sh through the compose gateway, $(grep -m1 '^test-explorer:' "$tmp/explorer.log" || echo 'no summary line') ($((SECONDS - start)) s; screenshots in $explorer_shots/)"
else
    explorer_rc=$?
    fail "test-explorer.sh through the compose gateway: exit $explorer_rc, $(grep -m1 '^test-explorer:' "$tmp/explorer.log" || echo 'no summary line') (screenshots in $explorer_shots/)" \
        "$(grep -A 4 '^FAIL' "$tmp/explorer.log" || true)
--- the last lines of its output:
$(tail -15 "$tmp/explorer.log")"
    echo "      users-service and gateway, the last lines:"
    docker compose logs --no-color --tail 15 users-service gateway 2>&1 | sed 's/^/      /' || true
fi

step "tables and rows in both PostgreSQL databases"
for pair in users:users users:refresh_tokens users:signing_keys posts:posts; do
    db=${pair%%:*} table=${pair#*:}
    rows=$(psql_in "$db" "SELECT count(*) FROM $table")
    if [[ $rows =~ ^[0-9]+$ ]] && ((rows > 0)); then
        pass "database $db: table $table has $rows rows"
    else
        fail "database $db: table $table" "$rows"
    fi
done

step "signing keys in PostgreSQL, sealed with the generated key-encryption key"
# The private halves are sealed (AES-256-GCM): no PEM text in any row, and one
# key-encryption key (kek_id, its fingerprint) for all of them.
plain=$(psql_in users "SELECT count(*) FROM signing_keys WHERE position(convert_to('PRIVATE KEY', 'UTF8') IN sealed_private_key) > 0 OR position(convert_to('-----BEGIN', 'UTF8') IN sealed_private_key) > 0")
keks=$(psql_in users "SELECT count(DISTINCT kek_id) FROM signing_keys")
if [[ $plain == 0 && $keks == 1 ]]; then
    pass "no signing key in the database holds a PEM private key; all sealed under one key-encryption key"
else
    fail "signing_keys: $plain rows with PEM text, $keks distinct kek_id (want 0 and 1)"
fi
# In the secrets store once, and copied to users-service's secrets volume only, readable
# by its uid alone: 32 bytes in base64.
kek_info() {
    docker compose run --rm --no-deps -T secrets /bin/sh -c \
        'stat -c "%a %u" /out/users/jwt-keys-encryption-key && base64 -d </out/users/jwt-keys-encryption-key | wc -c &&
         ls /out/posts /out/postgres && sha256sum </secrets/jwt-keys-encryption-key' 2>&1
}
kek=$(kek_info) || true
kek_sum=$(tail -1 <<<"$kek")
if [[ $(sed -n 1p <<<"$kek") == "400 10001" && $(sed -n 2p <<<"$kek" | tr -d ' ') == 32 && $kek != *jwt-keys-encryption-key* ]]; then
    pass "jwt-keys-encryption-key: 32 bytes, mode 0400, uid 10001, in users-service's secrets only"
else
    fail "jwt-keys-encryption-key in the secrets volumes" "$kek"
fi

step "what a user made before a restart"
run=$(date +%s)-$RANDOM
name=keeper-$run
password="correct horse battery staple"
call POST "$gateway/users" -H 'content-type: application/json' \
    -d "{\"username\":\"$name\",\"email\":\"$name@example.com\",\"password\":\"$password\"}"
[[ $status == 201 ]] || die "register $name: $status $body"
user_id=$(json 'j["id"]')
login "$name"
[[ $status == 200 ]] || die "log in as $name: $status $body"
access=$(json 'j["access_token"]')
refresh=$(json 'j["refresh_token"]')
call POST "$gateway/posts" -H "Authorization: Bearer $access" -H 'content-type: application/json' \
    -d "{\"title\":\"kept across restarts\",\"content\":\"run $run\"}"
[[ $status == 201 ]] || die "create a post: $status $body"
post_id=$(json 'j["id"]')
pass "registered $name, logged in, created post $post_id"

call GET "$gateway/.well-known/jwks.json"
kids_before=$(json '" ".join(sorted(k["kid"] for k in j["keys"]))')

# An installation made before: the stored oauth-clients has an `explorer` entry of its
# own, with an older registration's scopes (no openid, no profile), and a client added by
# hand. The next start must register the explorer as it is now, and keep that client and
# the posts-service entry as they are.
old_explorer="explorer::posts:read posts:write users:read redirect_uri=${explorer_redirects[0]} redirect_uri=${explorer_redirects[1]}"
kept_client="kept-app::posts:read redirect_uri=http://127.0.0.1:$GATEWAY_PORT/kept"
if out=$(docker compose run --rm --no-deps -T secrets /bin/sh -euc \
    'cd /secrets && printf ";%s;%s\n" "$1" "$2" >>oauth-clients && stat -c "%a %u" oauth-clients' \
    sh "$old_explorer" "$kept_client" 2>&1); then
    pass "added to the stored oauth-clients (mode, uid: $(tail -1 <<<"$out")): an old $old_explorer; $kept_client"
else
    fail "could not add an old explorer entry to the stored oauth-clients" "$out"
fi

step "docker compose down, then up --build --wait (no -v: the volumes stay)"
docker compose down --timeout 10 >/dev/null 2>&1
if docker compose up --build --detach --wait --wait-timeout 300 >"$tmp/up2.log" 2>&1; then
    pass "down + up --build --wait"
else
    tail -40 "$tmp/up2.log"
    die "second compose up"
fi
# The keys came back from PostgreSQL: users-service mounts nothing but its secrets.
mounts=$(docker inspect -f '{{range .Mounts}}{{.Destination}} {{end}}' "$(docker compose ps -q users-service)")
call GET "$gateway/.well-known/jwks.json"
kids_after=$(json '" ".join(sorted(k["kid"] for k in j["keys"]))' 2>/dev/null || true)
if [[ -n $kids_before && $kids_after == "$kids_before" && $mounts == "/run/secrets " ]]; then
    pass "the same signing keys after the restart ($kids_before), from PostgreSQL: users-service mounts only /run/secrets"
else
    fail "signing keys across the restart" "before: $kids_before; after: $kids_after; users-service mounts: $mounts"
fi
kek_again=$(kek_info | tail -1) || true
if [[ -n $kek_sum && $kek_again == "$kek_sum" ]]; then
    pass "the secrets one-shot kept jwt-keys-encryption-key across the restart"
else
    fail "jwt-keys-encryption-key changed across the restart (or could not be read)" "$kek_sum / $kek_again"
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
# With the old entry, `openid` is refused: a 303 back to the page with error=invalid_scope.
problems=$(explorer_registered)
if [[ -z $problems ]]; then
    pass "the old explorer entry gave way: scope $explorer_scopes gets the sign-in page at ${explorer_redirects[*]}"
else
    fail "the explorer's registration after the restart, over an old entry in oauth-clients" \
        "$problems
$(docker compose logs --no-color secrets 2>&1 | grep -F explorer || true)"
fi
users_copy=$(docker compose run --rm --no-deps -T secrets /bin/sh -c \
    'stat -c "%a %u" /out/users/oauth-clients && tr ";" "\n" </out/users/oauth-clients | sed "s/^posts-service:[^:]*:/posts-service:<secret>:/"' 2>&1) || true
explorer_entries=$(grep -c '^[[:space:]]*explorer[[:space:]]*:' <<<"$users_copy" || true)
authorize kept-app "http://127.0.0.1:$GATEWAY_PORT/kept" posts:read
if [[ $(head -1 <<<"$users_copy") == "400 10001" && $explorer_entries == 1 ]] &&
    grep -qxF "explorer::$explorer_scopes redirect_uri=${explorer_redirects[0]} redirect_uri=${explorer_redirects[1]}" <<<"$users_copy" &&
    grep -qxF "$kept_client" <<<"$users_copy" && grep -qxF 'posts-service:<secret>:users:read' <<<"$users_copy" &&
    sign_in_page kept-app posts:read; then
    pass "users-service's oauth-clients (0400, uid 10001): one explorer entry, the current one; posts-service's and kept-app's as they were (kept-app gets its sign-in page)"
else
    fail "users-service's oauth-clients after the restart: $explorer_entries explorer entries; kept-app at /oauth/authorize: $status" "$users_copy"
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

step "two users-service replicas: docker compose up --scale users-service=2"
start=$SECONDS
if docker compose up --detach --wait --wait-timeout 180 --no-recreate --scale users-service=2 >"$tmp/scale.log" 2>&1; then
    pass "up --scale users-service=2 --wait ($((SECONDS - start)) s)"
else
    tail -20 "$tmp/scale.log"
    die "scale users-service to 2"
fi
# Each replica: its container, its compose number, its address on the network.
declare -A replica_ip=() replica_number=()
for id in $(docker compose ps -q users-service); do
    replica_ip[$id]=$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$id")
    replica_number[$id]=$(docker inspect -f '{{index .Config.Labels "com.docker.compose.container-number"}}' "$id")
    health=$(docker inspect -f '{{.State.Health.Status}}' "$id")
    [[ $health == healthy ]] || fail "users-service replica ${replica_number[$id]} (${replica_ip[$id]}) is $health"
done
if ((${#replica_ip[@]} == 2)); then
    pass "2 users-service replicas, both healthy: ${replica_ip[*]}"
else
    die "users-service replicas after --scale 2: ${#replica_ip[@]} (${replica_ip[*]})"
fi
# What one replica answers, asked directly from the gateway's container (busybox wget).
replica_get() { docker compose exec -T gateway wget -q -O - "http://$1:8081$2" 2>&1; }
kids_of() { python3 -c 'import json,sys; print(" ".join(sorted(k["kid"] for k in json.load(sys.stdin)["keys"])))' 2>/dev/null; }
call GET "$gateway/.well-known/jwks.json"
gateway_kids=$(json '" ".join(sorted(k["kid"] for k in j["keys"]))')
same=1
for id in "${!replica_ip[@]}"; do
    kids=$(replica_get "${replica_ip[$id]}" /.well-known/jwks.json | kids_of || true)
    [[ $kids == "$gateway_kids" ]] || {
        same=0
        fail "replica ${replica_number[$id]} publishes '$kids', the gateway answered '$gateway_kids'"
    }
done
((same)) && pass "both replicas publish the same keys from PostgreSQL ($gateway_kids)"

# A key change made through one replica reaches the other by its poll of the database.
first='' second=''
for id in "${!replica_ip[@]}"; do
    if [[ ${replica_number[$id]} == 1 ]]; then first=$id; else second=$id; fi
done
if out=$(docker exec "$second" users-service keys rotate 2>&1); then
    rotated_ms=$(($(date +%s%N) / 1000000))
    new_kid=$(grep -o -m1 'key [A-Za-z0-9_-]\{43\}' <<<"$out" | cut -d ' ' -f 2 || true)
    seen_ms=
    while [[ -n $new_kid ]] && (($(date +%s%N) / 1000000 - rotated_ms < 5000)); do
        if [[ $(replica_get "${replica_ip[$first]}" /.well-known/jwks.json) == *"\"$new_kid\""* ]]; then
            seen_ms=$(($(date +%s%N) / 1000000 - rotated_ms))
            break
        fi
        sleep 0.1
    done
    if [[ -n $seen_ms ]]; then
        pass "a key added by \`keys rotate\` in replica ${replica_number[$second]}'s container ($new_kid) is published by replica 1 within $seen_ms ms (2 s promised)"
    else
        fail "a key added in replica ${replica_number[$second]}'s container ('$new_kid') did not reach replica 1 within 5 s" "$out"
    fi
else
    fail "keys rotate in replica ${replica_number[$second]}" "$out"
fi

# Both get requests: the gateway's log names the upstream of each (tagged) request.
tag=spread-$run
for i in $(seq 30); do
    call GET "$gateway/.well-known/jwks.json" -H "X-Request-Id: $tag-$i"
done
docker compose logs --no-color gateway 2>&1 | grep -F "request_id=$tag-" >"$tmp/spread.log" || true
counts=()
spread_ok=1
for id in "${!replica_ip[@]}"; do
    n=$(grep -c -F "${replica_ip[$id]}:8081" "$tmp/spread.log" || true)
    counts+=("replica ${replica_number[$id]}: $n")
    ((n > 0)) || spread_ok=0
done
if ((spread_ok)) && [[ $(grep -c . "$tmp/spread.log") == 30 ]]; then
    pass "30 JWKS requests through the gateway, spread: ${counts[*]}"
else
    fail "the gateway did not send requests to both replicas: ${counts[*]}" "$(head -5 "$tmp/spread.log")"
fi

step "a replica killed (docker kill) under a load of idempotent requests"
login "$name"
[[ $status == 200 ]] || die "log in before the kill: $status $body"
token=$(json 'j["access_token"]')
# Two clients, for a bounded time, each in turn: the JWKS, the public feed (posts-service
# asks users-service for the authors), a /users?ids= lookup and a /users/{id}. Every
# answer must be a 200: the gateway retries on the survivor what the dead one drops.
kill_load_secs=12
loaders=()
for worker in 1 2; do
    (
        end=$((SECONDS + kill_load_secs))
        while ((SECONDS < end)); do
            call GET "$gateway/.well-known/jwks.json" -H "X-Request-Id: kill-$run-$worker-$SECONDS-a"
            echo "jwks $status"
            call GET "$gateway/public/posts?limit=3" -H "X-Request-Id: kill-$run-$worker-$SECONDS-b"
            echo "public $status $([[ $status == 200 ]] && json 'j.get("degraded", False)')"
            call GET "$gateway/users?ids=$user_id" -H "Authorization: Bearer $token" -H "X-Request-Id: kill-$run-$worker-$SECONDS-c"
            echo "lookup $status"
            call GET "$gateway/users/$user_id" -H "Authorization: Bearer $token" -H "X-Request-Id: kill-$run-$worker-$SECONDS-d"
            echo "user $status"
        done
    ) >"$tmp/kill-load-$worker.log" 2>&1 &
    loaders+=($!)
done
sleep 4
victim=$second survivor=$first
docker kill "$victim" >/dev/null
for pid in "${loaders[@]}"; do wait "$pid" || true; done
cat "$tmp"/kill-load-*.log >"$tmp/kill-load.log"
requests=$(grep -c -E '^(jwks|public|lookup|user) ' "$tmp/kill-load.log" || true)
bad=$(grep -E '^(jwks|public|lookup|user) ' "$tmp/kill-load.log" | grep -v -E '^[a-z]+ 200( |$)' || true)
retried=$(docker compose logs --no-color gateway 2>&1 | grep -F "request_id=kill-$run-" | grep -c -F "${replica_ip[$victim]}:8081, " || true)
if [[ -z $bad && $requests -gt 40 ]]; then
    pass "$requests requests while replica ${replica_number[$victim]} (${replica_ip[$victim]}) was killed, 0 failed ($retried retried by the gateway on the survivor)"
else
    fail "requests while a replica was killed: $requests, failures:" "$(sort "$tmp/kill-load.log" | uniq -c | head -20)"
fi
# posts-service's own call for the authors is not behind the gateway: a page whose call
# went to the dead replica is served without authors (degraded) rather than failing.
degraded=$(grep -c -E '^public 200 True$' "$tmp/kill-load.log" || true)
echo "      public feed pages without authors (posts-service's call hit the killed replica): $degraded"

logins_ok=0
for i in 1 2 3; do
    call POST "$gateway/auth/login" -H 'content-type: application/json' -H "X-Request-Id: survivor-$run-$i" \
        -d "{\"username\":\"$name\",\"password\":\"$password\"}"
    [[ $status == 200 ]] && logins_ok=$((logins_ok + 1)) && token=$(json 'j["access_token"]')
done
call GET "$gateway/posts/$post_id" -H "Authorization: Bearer $token"
on_survivor=$(docker compose logs --no-color gateway 2>&1 | grep -F "request_id=survivor-$run-" | grep -c -F "\"${replica_ip[$survivor]}:8081\"" || true)
if ((logins_ok == 3 && on_survivor == 3)) && [[ $status == 200 ]]; then
    pass "3 logins after the kill, all answered by the survivor (${replica_ip[$survivor]}); its token reads post $post_id"
else
    fail "logins after the kill: $logins_ok of 3 succeeded, $on_survivor answered by the survivor; reading with the token: $status"
fi

step "back to one replica: docker compose up --scale users-service=1"
start=$SECONDS
if docker compose up --detach --wait --wait-timeout 120 --no-recreate --scale users-service=1 >"$tmp/scale1.log" 2>&1 &&
    [[ $(docker compose ps -q users-service | wc -l) == 1 ]]; then
    pass "scaled back to 1 replica ($((SECONDS - start)) s)"
else
    tail -20 "$tmp/scale1.log"
    fail "scale users-service back to 1" "$(docker compose ps users-service 2>&1)"
fi
login "$name"
if [[ $status == 200 ]]; then
    pass "login through the gateway with one replica again"
else
    fail "login after scaling back" "$status $body"
fi

step "the public feed with authors"
call GET "$gateway/public/posts?limit=5"
if [[ $status == 200 && $(json 'all(p["author"] is not None for p in j["posts"]) and not j.get("degraded", False)') == True ]]; then
    pass "public feed: $(json 'len(j["posts"])') posts, every one with its author"
else
    fail "public feed" "$status $body"
fi
