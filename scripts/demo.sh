#!/usr/bin/env bash
# Walks the whole flow against a running system and checks every answer:
# register two users, log in, look inside the token, fetch the JWKS, create and list posts
# with their authors, refresh, see a forged token refused, read the public feed.
#
#   scripts/demo.sh                                   # against scripts/dev.sh (8081 / 8082)
#   USERS_URL=http://localhost:8080 POSTS_URL=http://localhost:8080 scripts/demo.sh   # via the gateway
#
# Exits non-zero at the first step that does not answer as documented.
set -euo pipefail

USERS_URL=${USERS_URL:-http://127.0.0.1:8081}
POSTS_URL=${POSTS_URL:-http://127.0.0.1:8082}
run=$(date +%s)-$RANDOM
password="correct horse battery staple"

bold=$'\e[1m'
green=$'\e[32m'
red=$'\e[31m'
reset=$'\e[0m'
[[ -t 1 ]] || { bold=; green=; red=; reset=; }

step() { printf '\n%s== %s%s\n' "$bold" "$*" "$reset"; }
ok() { printf '%s✓ %s%s\n' "$green" "$*" "$reset"; }
fail() {
    printf '%s✗ %s%s\n' "$red" "$*" "$reset" >&2
    exit 1
}

# call METHOD URL [curl args…]: sets $status and $body.
call() {
    local method=$1 url=$2
    shift 2
    local out
    out=$(curl -sS -X "$method" -w '\n%{http_code}' "$url" "$@") || fail "$method $url: no answer"
    status=${out##*$'\n'}
    body=${out%$'\n'*}
}

expect() {
    [[ $status == "$1" ]] || fail "expected HTTP $1, got $status: $body"
}

# json EXPR: evaluates a Python expression on the last body, bound to `j`.
json() { python3 -c "import json,sys; j=json.loads(sys.argv[1]); print($1)" "$body"; }

# decode PART: base64url-decodes a JWT segment and pretty-prints the JSON.
decode() {
    python3 -c "import base64,json,sys; s=sys.argv[1]; print(json.dumps(json.loads(base64.urlsafe_b64decode(s+'='*(-len(s)%4))), indent=2))" "$1"
}

step "1. Register two users at users-service ($USERS_URL)"
for name in alice bob; do
    call POST "$USERS_URL/users" -H 'content-type: application/json' \
        -d "{\"username\":\"$name-$run\",\"email\":\"$name@example.com\",\"password\":\"$password\"}"
    expect 201
    ok "$(json '"%s has id %s" % (j["username"], j["id"])')"
done

step "2. Log in: an access token and a refresh token"
call POST "$USERS_URL/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"alice-$run\",\"password\":\"$password\"}"
expect 200
access=$(json 'j["access_token"]')
refresh=$(json 'j["refresh_token"]')
ok "token_type $(json 'j["token_type"]'), expires_in $(json 'j["expires_in"]') s, scope \"$(json 'j["scope"]')\""

step "3. Inside the access token (anyone can read it; only the signature makes it trustworthy)"
IFS=. read -r header payload _ <<<"$access"
decode "$header"
decode "$payload"
[[ $(decode "$header") == *'"typ": "at+jwt"'* ]] || fail "typ is not at+jwt"
kid=$(python3 -c "import base64,json,sys; s=sys.argv[1]; print(json.loads(base64.urlsafe_b64decode(s+'='*(-len(s)%4)))['kid'])" "$header")
ok "RS256, typ at+jwt, signed with key $kid"

step "4. The public keys that verify it (JWKS)"
call GET "$USERS_URL/.well-known/jwks.json"
expect 200
json '"\n".join("%s  kty=%s alg=%s use=%s" % (k["kid"], k["kty"], k["alg"], k["use"]) for k in j["keys"])'
[[ $(json '" ".join(k["kid"] for k in j["keys"])') == *"$kid"* ]] || fail "the token's kid is not in the JWKS"
ok "the token's kid is published"

step "5. Create posts at posts-service ($POSTS_URL) with the same token"
for title in "Hello from alice" "Tokens travel"; do
    call POST "$POSTS_URL/posts" -H "Authorization: Bearer $access" -H 'content-type: application/json' \
        -d "{\"title\":\"$title\",\"content\":\"written during demo run $run\"}"
    expect 201
    ok "post $(json 'j["id"]') by $(json 'j["author"]["username"]')"
done

step "6. List posts: posts-service verified the token locally and fetched the authors in one call with it"
call GET "$POSTS_URL/posts?limit=5" -H "Authorization: Bearer $access"
expect 200
json '"\n".join("#%s %r by %s" % (p["id"], p["title"], (p["author"] or {}).get("username")) for p in j["posts"])'
[[ $(json 'j.get("degraded", False)') == False ]] || fail "the page is degraded: users-service did not answer"
[[ $(json 'j["posts"][0]["author"]["username"]') == "alice-$run" ]] || fail "the newest post does not show alice as its author"
ok "authors filled in"

step "7. Refresh: new tokens; the old refresh token is spent"
call POST "$USERS_URL/oauth/token" -d grant_type=refresh_token -d "refresh_token=$refresh"
expect 200
[[ $(json 'j["refresh_token"]') != "$refresh" ]] || fail "the refresh token was not rotated"
ok "new access token and new refresh token"
call POST "$USERS_URL/oauth/token" -d grant_type=refresh_token -d "refresh_token=$refresh"
expect 400
ok "reusing the spent refresh token: $(json 'j["error"]') (and its whole family is revoked)"

step "8. A forged token: alice's real header and claims with a made-up signature"
forged="$header.$payload.$(printf 'forged-signature' | base64 | tr '+/' '-_' | tr -d '=')"
call GET "$POSTS_URL/posts" -H "Authorization: Bearer $forged"
expect 401
ok "refused: $(json 'j["error"]'): $(json 'j["error_description"]')"
call GET "$POSTS_URL/posts"
expect 401
ok "no token at all: $(json 'j["error"]')"

step "9. The public feed: no caller token, so posts-service uses its own service token"
call GET "$POSTS_URL/public/posts?limit=3"
expect 200
json '"\n".join("#%s %r by %s" % (p["id"], p["title"], (p["author"] or {}).get("username")) for p in j["posts"])'
[[ $(json 'j["posts"][0]["author"] is not None') == True ]] || fail "the public feed has no authors (is POSTS_CLIENT_SECRET set?)"
ok "authors filled in with posts-service's client-credentials token"

printf '\n%sAll steps answered as documented.%s\n' "$bold" "$reset"
