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
# shellcheck source=scripts/lib/apt.sh
source scripts/lib/apt.sh
missing=()
command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
command -v envsubst >/dev/null 2>&1 || missing+=(gettext-base)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if ((${#missing[@]})); then
    apt_install_missing "${missing[@]}"
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
# shellcheck source=scripts/lib/gateway.sh
source scripts/lib/gateway.sh
stop() {
    gateway_stop "$tmp/dead" 2>/dev/null || true
    gateway_stop "$tmp"
    rm -rf "$tmp"
}
trap stop EXIT
gateway_start "$tmp" "$users_addr" "$posts_addr" "127.0.0.1:$port"
gw=http://127.0.0.1:$port
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

# --- the explorer page ------------------------------------------------------------------
# `/` is the page, its files under /explorer/, each with its type and the page's headers.
explorer_served() {
    local path type
    for path in /:text/html /explorer/explorer.js:text/javascript /explorer/explorer.css:text/css; do
        type=${path#*:}
        path=${path%%:*}
        expect 200 "$(request "$gw$path")" || return 1
        header content-type | grep -qi "^$type" || {
            echo "$path: Content-Type '$(header content-type)', expected $type"
            return 1
        }
        if ! header content-security-policy | grep -qF "script-src 'self'" ||
            ! header content-security-policy | grep -qF "frame-ancestors 'none'"; then
            echo "$path: CSP '$(header content-security-policy)'"
            return 1
        fi
        [[ $(header x-content-type-options) == nosniff && $(header referrer-policy) == no-referrer ]] || {
            echo "$path: X-Content-Type-Options '$(header x-content-type-options)', Referrer-Policy '$(header referrer-policy)'"
            return 1
        }
        [[ -n $(header x-request-id) ]] || {
            echo "$path: no X-Request-Id"
            return 1
        }
    done
    request "$gw/" >/dev/null
    # No inline script: no <script> without src, no on…= handler attribute.
    if ! grep -qF '<script src="/explorer/explorer.js"' "$tmp/b" || grep -qiE '<script>|[[:space:]]on[a-z]+=' "$tmp/b"; then
        echo "/ does not load /explorer/explorer.js, or has inline script"
        return 1
    fi
}
check "the explorer at /: the page, its script and style, with their types, CSP and headers" explorer_served

# --- the API documentation --------------------------------------------------------------
# The Swagger UI of service $1 (users or posts, whose own address is $2) through the
# gateway, fetched as a browser does, each URL resolved against the page that names it:
# the page, every file it loads, and the document its initializer points at, which must
# be served by the gateway and be the service's own /openapi.json.
docs_served() {
    python3 - "$gw" "$1" "$2" <<'PY'
import json, re, sys, urllib.error, urllib.parse, urllib.request

gw, svc, direct = sys.argv[1], sys.argv[2] + "-service", "http://" + sys.argv[3]
http = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def get(url):
    try:
        with http.open(url, timeout=10) as r:
            return r.status, r.headers.get("content-type", ""), r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", ""), ""


page_url = f"{gw}/{svc}/docs/"
status, ctype, page = get(page_url)
if status != 200 or "text/html" not in ctype or "swagger-ui-bundle.js" not in page:
    sys.exit(f"{page_url}: {status} {ctype}, not the Swagger UI page")
refs = [urllib.parse.urljoin(page_url, r) for r in re.findall(r'(?:src|href)="([^"]+)"', page)]
for ref in refs:
    if not ref.startswith(gw + "/"):
        sys.exit(f"the page loads {ref}, which is not on the gateway")
    if (status := get(ref)[0]) != 200:
        sys.exit(f"{ref}, loaded by the page: {status}")
initializer = urllib.parse.urljoin(page_url, "swagger-initializer.js")
if initializer not in refs:
    sys.exit(f"the page does not load {initializer}")
urls = re.findall(r'"url":\s*"([^"]+)"', get(initializer)[2])
if len(urls) != 1:
    sys.exit(f"expected one document URL in {initializer}, found {urls}")
doc_url = urllib.parse.urljoin(page_url, urls[0])
if doc_url != f"{gw}/{svc}/openapi.json":
    sys.exit(f"the page loads its document from {doc_url} ({urls[0]!r}), not {gw}/{svc}/openapi.json")
status, ctype, body = get(doc_url)
if status != 200 or "application/json" not in ctype:
    sys.exit(f"{doc_url}: {status} {ctype}")
doc, own = json.loads(body), json.loads(get(direct + "/openapi.json")[2])
title = doc.get("info", {}).get("title")
if title != svc or doc != own:
    sys.exit(f"{doc_url} (title {title!r}) is not {svc}'s own {direct}/openapi.json")
print(f"{page_url}: {len(refs)} files loaded; document {urls[0]!r} -> {doc_url}, {len(doc['paths'])} paths")
PY
}
check "users-service's Swagger UI at /users-service/docs/: the page, its files, and the document it loads" \
    docs_served users "$users_addr"
check "posts-service's Swagger UI at /posts-service/docs/: the page, its files, and the document it loads" \
    docs_served posts "$posts_addr"

docs_redirects() {
    local path
    for path in /users-service/docs /posts-service/docs /docs; do
        expect 308 "$(request "$gw$path")" || return 1
        [[ $(header location) == "$path/" ]] || {
            echo "$path: Location '$(header location)', expected the relative $path/"
            return 1
        }
    done
}
check "/users-service/docs, /posts-service/docs and /docs: 308 to the same path with a slash (relative)" docs_redirects

docs_index() {
    expect 200 "$(request "$gw/docs/")" && header content-type | grep -qi 'text/html' || return 1
    cp "$tmp/b" "$tmp/docs-index"
    local link
    for link in /users-service/docs/ /users-service/openapi.json /posts-service/docs/ /posts-service/openapi.json; do
        grep -qF "href=\"$link\"" "$tmp/docs-index" || {
            echo "/docs/ does not link $link"
            return 1
        }
        expect 200 "$(request "$gw$link")" || return 1
    done
}
check "/docs/: an index linking both services' pages and documents, each 200" docs_index

no_root_docs() {
    expect 404 "$(request "$gw/openapi.json")" && json_holds '"error" in j'
}
check "GET /openapi.json at the root: 404 (each document is under its service's name)" no_root_docs

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
    # Refused by the gateway: its own 429 body. A 429 from the service behind it (its
    # login lockout, still on from an earlier run of this script) passed through.
    local limited=0 through=0 sample=
    for i in $(seq 1 30); do
        if [[ $(cat "$tmp/$name.$i.code") == 429 ]] &&
            grep -qF 'Too many requests from your address to this endpoint' "$tmp/$name.$i.b"; then
            limited=$((limited + 1))
            sample=$i
        else
            through=$((through + 1))
        fi
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

# --- the browser pages' refusals are pages ------------------------------------------------
# $tmp/h and $tmp/b (or the files given) are an HTML page from the gateway itself: its
# type, a CSP that allows nothing, X-Request-Id, and $1 in the body.
gateway_page() {
    local words=$1 h=${2:-$tmp/h} b=${3:-$tmp/b}
    [[ $(header content-type "$h") == text/html* ]] || {
        echo "Content-Type '$(header content-type "$h")', expected text/html"
        return 1
    }
    grep -qF "$words" "$b" || {
        echo "no '$words' in: $(head -c 300 "$b")"
        return 1
    }
    [[ $(header content-security-policy "$h") == *"default-src 'none'"* && -n $(header x-request-id "$h") ]] || {
        echo "CSP '$(header content-security-policy "$h")', X-Request-Id '$(header x-request-id "$h")'"
        return 1
    }
}
sign_in_rate_limited() {
    local i limited=0 sample=
    for i in $(seq 1 30); do
        curl -sS -o "$tmp/page.$i.b" -D "$tmp/page.$i.h" -w '%{http_code}' --max-time 20 \
            "$gw/oauth/authorize?client_id=gateway-test" >"$tmp/page.$i.code" &
    done
    wait
    for i in $(seq 1 30); do
        if [[ $(cat "$tmp/page.$i.code") == 429 ]]; then
            limited=$((limited + 1))
            sample=$i
        fi
    done
    echo "$limited limited"
    ((limited > 0)) || return 1
    gateway_page 'Too many attempts' "$tmp/page.$sample.h" "$tmp/page.$sample.b" &&
        [[ -n $(header retry-after "$tmp/page.$sample.h") ]]
}
check "30 concurrent GET /oauth/authorize: some 429, as an HTML page with Retry-After" sign_in_rate_limited
form_too_large() {
    head -c 70000 /dev/zero | tr '\0' 'a' | sed 's/^/username=/' >"$tmp/big-form"
    expect 413 "$(request -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
        --data-binary "@$tmp/big-form" "$gw/oauth/authorize")" && gateway_page 'This form is too large'
}
check "a 70 kB form posted to /oauth/authorize: 413 as an HTML page" form_too_large

# A second gateway whose users-service is a port nobody listens on: the sign-in pages
# say so on a page, the APIs in JSON.
dead_users() {
    local dead=$((port + 100)) port2=$((port + 1)) path
    while port_in_use "$dead"; do dead=$((dead + 1)); done
    while port_in_use "$port2" || ((port2 == dead)); do port2=$((port2 + 1)); done
    mkdir -p "$tmp/dead"
    gateway_start "$tmp/dead" "127.0.0.1:$dead" "$posts_addr" "127.0.0.1:$port2" || return 1
    local result=0
    for path in "/oauth/authorize?client_id=x" /oauth/consent /oauth/logout; do
        if ! expect 502 "$(request "http://127.0.0.1:$port2$path")" || ! gateway_page 'Sign-in is unavailable' ||
            [[ -z $(header retry-after) ]]; then
            echo "($path)"
            result=1
        fi
    done
    if ! expect 502 "$(request "http://127.0.0.1:$port2/users/me")" || ! json_holds 'j["error"] == "bad_gateway"'; then
        echo "(/users/me)"
        result=1
    fi
    gateway_stop "$tmp/dead"
    return "$result"
}
check "users-service unreachable: /oauth/authorize, /oauth/consent and /oauth/logout get a 502 page with Retry-After, /users/me 502 JSON" dead_users

printf '\ntest-gateway: %d passed, %d failed\n' "$passed" "$failed"
((failed == 0))
