#!/usr/bin/env bash
# A reproducible load benchmark of users-service and posts-service (release builds).
#
#   scripts/bench.sh                         both services on SQLite, in a temporary directory
#   scripts/bench.sh postgres://u:p@host/db  on PostgreSQL: creates bench_users_<pid> and
#                                            bench_posts_<pid> there (the role needs CREATEDB)
#                                            and drops them at exit
#
# Environment (defaults in brackets):
#   DURATION [10s]  CONNECTIONS [16]  THREADS [2]   each measured wrk run
#   WARMUP [2s]                                     a wrk run before each measured one
#   SCENARIOS [all]  a comma-separated subset to run, e.g. SCENARIOS="health,posts page"
#                    (health always runs: every ratio needs it)
#   SEED [1]         0: no seed app and no "seed page" (nor when SCENARIOS leaves it out)
#   BENCH_USERS_ADDR [127.0.0.1:18281]  BENCH_POSTS_ADDR [127.0.0.1:18282]
#   BENCH_SEED_ADDR [127.0.0.1:18283]
#
# Steps: build the release binaries; start both services (RUST_LOG=warn) with fresh keys,
# databases and a fresh client secret for posts-service's service account; start the seed
# app (scripts/bench/seed/app.py: the seed article's design in Flask and PyJWT, the one this
# repository replaces) under gunicorn, one sync worker per CPU, on the same users-service
# and posts database; seed 100 users and 1 000 posts (post i by author i % 100) through the
# API; check that a page (ours and the seed's) has 20 posts by 20 distinct authors, not
# degraded; then measure, one after another:
#
#   health        GET  /health/live      posts-service, the ceiling
#   posts page    GET  /posts?limit=20   posts-service, a user's token; one users-service call
#   seed page     GET  /posts?limit=20   the seed app, a user's token; fetches the public key,
#                                        then one users-service call per post (21 in all)
#   post by id    GET  /posts/{id}       posts-service, a user's token
#   public page   GET  /public/posts     posts-service, its own client-credentials token
#   login         POST /auth/login       users-service, Argon2id
#   refresh       POST /oauth/token      users-service, refresh grant, chained per thread
#
# Prints a table (req/s, p50, p99, errors, req/s relative to health), posts page's
# throughput relative to seed page's, the resident memory of both services before and
# after the load, the machine and the commit, and whether the goals are met; the same
# text goes to target/bench/results-<timestamp>.txt. A missed goal is reported, not fatal:
# the exit status is non-zero only when something is broken (a service does not start,
# seeding fails, a page is wrong).
#
# Installs wrk (and curl, python3, psql, python3-venv when missing) with apt-get; for the
# seed app, pip installs scripts/bench/seed/requirements.txt from PyPI into a virtualenv,
# ${XDG_CACHE_HOME:-~/.cache}/identity-bench/seed-venv, created once and reused (installed
# again only when requirements.txt changes). Downloads nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

database=${1:-}
if [[ -n $database && ! $database =~ ^postgres(ql)?:// ]]; then
    echo "usage: $0 [postgres://user:password@host:port/database]" >&2
    exit 2
fi

DURATION=${DURATION:-10s}
CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-2}
WARMUP=${WARMUP:-2s}
users_addr=${BENCH_USERS_ADDR:-127.0.0.1:18281}
posts_addr=${BENCH_POSTS_ADDR:-127.0.0.1:18282}
seed_addr=${BENCH_SEED_ADDR:-127.0.0.1:18283}
users_url=http://$users_addr
posts_url=http://$posts_addr
seed_url=http://$seed_addr
seed=1
if [[ ${SEED:-1} == 0 || (-n ${SCENARIOS:-} && ,$SCENARIOS, != *",seed page,"*) ]]; then
    seed=0
fi
seed_dir=$root/scripts/bench/seed
seed_venv=${XDG_CACHE_HOME:-$HOME/.cache}/identity-bench/seed-venv

AUTHORS=100
POSTS=1000
PASSWORD='bench password, not a secret'

step() { printf '\n==> %s\n' "$*" >&2; }
die() {
    echo "bench: $*" >&2
    exit 1
}

# --- tools -------------------------------------------------------------------------------
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [[ -n $database ]] && ! command -v psql >/dev/null 2>&1; then
    missing+=(postgresql-client)
fi
if ((seed)) && [[ ! -x $seed_venv/bin/python ]] && ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    missing+=(python3-venv)
fi
if ((${#missing[@]})); then
    step "installing ${missing[*]}"
    sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null 2>&1 || die "missing ${missing[*]}, and not root: install them with apt-get"
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# The seed app's packages: a copy of requirements.txt in the venv records what it holds.
if ((seed)) && ! cmp -s "$seed_dir/requirements.txt" "$seed_venv/requirements.txt"; then
    step "installing the seed app's packages into $seed_venv"
    if [[ ! -x $seed_venv/bin/python ]]; then
        mkdir -p "${seed_venv%/*}"
        python3 -m venv "$seed_venv" || die "could not create a virtualenv at $seed_venv"
    fi
    "$seed_venv/bin/python" -m pip install -q --disable-pip-version-check \
        -r "$seed_dir/requirements.txt" ||
        die "could not install $seed_dir/requirements.txt from PyPI (SEED=0 runs without the seed app)"
    cp "$seed_dir/requirements.txt" "$seed_venv/requirements.txt"
fi

step "building release binaries"
cargo build --release --locked --bin users-service --bin posts-service
target_dir=${CARGO_TARGET_DIR:-$root/target}
users_bin=$target_dir/release/users-service
posts_bin=$target_dir/release/posts-service

# --- state, and cleaning up --------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench.XXXXXX")
chmod 700 "$tmp"
pids=()
created_dbs=()

psql_admin() { psql "$database" -X -q -v ON_ERROR_STOP=1 "$@"; }

cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if ((${#pids[@]})); then
        kill "${pids[@]}" 2>/dev/null || true
        wait "${pids[@]}" 2>/dev/null || true
    fi
    if ((status != 0)); then
        for log in "$tmp"/*.log; do
            [[ -s $log ]] || continue
            echo "--- last lines of ${log##*/}" >&2
            tail -n 20 "$log" >&2
        done
    fi
    for db in "${created_dbs[@]}"; do
        psql_admin -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null ||
            echo "bench: could not drop database $db" >&2
    done
    rm -rf "$tmp"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [[ -n $database ]]; then
    # postgres://user:password@host:port/database?params → the same server, another database.
    scheme=${database%%://*}
    rest=${database#*://}
    authority=${rest%%/*}
    authority=${authority%%\?*}
    query=
    [[ $database == *\?* ]] && query="?${database#*\?}"
    db_url() { printf '%s://%s/%s%s' "$scheme" "$authority" "$1" "$query"; }

    users_db=bench_users_$$
    posts_db=bench_posts_$$
    step "creating databases $users_db and $posts_db"
    for db in "$users_db" "$posts_db"; do
        psql_admin -c "CREATE DATABASE \"$db\"" >/dev/null
        created_dbs+=("$db")
    done
    users_database_url=$(db_url "$users_db")
    posts_database_url=$(db_url "$posts_db")
    backend="PostgreSQL $(psql_admin -At -c 'SHOW server_version')"
else
    users_database_url=$tmp/users.db
    posts_database_url=$tmp/posts.db
    backend=SQLite
fi

# --- the services ------------------------------------------------------------------------
service_urls=("$users_url" "$posts_url")
((seed)) && service_urls+=("$seed_url")
for url in "${service_urls[@]}"; do
    if curl -fsS -o /dev/null --max-time 2 "$url/health/live" 2>/dev/null; then
        die "something already answers at $url; stop it or set BENCH_USERS_ADDR / BENCH_POSTS_ADDR / BENCH_SEED_ADDR"
    fi
done

posts_secret=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
mkdir -m 700 "$tmp/keys"

# wait_ready NAME PID URL [PATH]: until URL/PATH (default /health/ready) answers 2xx.
wait_ready() {
    local name=$1 pid=$2 url=$3 path=${4:-/health/ready}
    for _ in $(seq 1 300); do
        curl -fsS -o /dev/null --max-time 2 "$url$path" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || die "$name exited during start-up"
        sleep 0.1
    done
    die "$name was not ready at $url$path after 30 s"
}

step "starting users-service at $users_url and posts-service at $posts_url on $backend"
# Run from the temporary directory so that no .env file of the checkout is read.
cd "$tmp"
env APP_ENV=development RUST_LOG=warn \
    BIND_ADDR="$users_addr" \
    DATABASE_URL="$users_database_url" \
    JWT_ISSUER="$users_url" \
    JWT_KEYS_DIR="$tmp/keys" \
    ACCESS_TOKEN_TTL_SECS=900 \
    OAUTH_CLIENTS="posts-service:$posts_secret:users:read" \
    "$users_bin" >"$tmp/users.log" 2>&1 &
users_pid=$!
pids+=("$users_pid")
wait_ready users-service "$users_pid" "$users_url"

env APP_ENV=development RUST_LOG=warn \
    BIND_ADDR="$posts_addr" \
    DATABASE_URL="$posts_database_url" \
    JWT_ISSUER="$users_url" \
    JWKS_URL="$users_url/.well-known/jwks.json" \
    USERS_SERVICE_URL="$users_url" \
    POSTS_CLIENT_ID=posts-service \
    POSTS_CLIENT_SECRET="$posts_secret" \
    "$posts_bin" >"$tmp/posts.log" 2>&1 &
posts_pid=$!
pids+=("$posts_pid")
wait_ready posts-service "$posts_pid" "$posts_url"

if ((seed)); then
    step "starting the seed app at $seed_url, $(nproc) gunicorn sync workers"
    env USERS_URL="$users_url" \
        JWT_ISSUER="$users_url" \
        DATABASE_URL="$posts_database_url" \
        "$seed_venv/bin/gunicorn" --workers "$(nproc)" --worker-class sync --bind "$seed_addr" \
        --graceful-timeout 5 --chdir "$seed_dir" app:app >"$tmp/seed.log" 2>&1 &
    seed_pid=$!
    pids+=("$seed_pid")
    wait_ready "seed app" "$seed_pid" "$seed_url" /health/live
fi
cd "$root"

# --- helpers -----------------------------------------------------------------------------
# json_field FIELD: one field of the JSON object on stdin.
json_field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

author() { printf 'bench-author-%03d' "$1"; }
login_body() { printf '{"username":"%s","password":"%s"}' "$(author "$1")" "$PASSWORD"; }

# login N FIELD: logs author N in; prints access_token or refresh_token.
login() {
    curl -fsS --max-time 10 "$users_url/auth/login" -H 'Content-Type: application/json' \
        -d "$(login_body "$1")" | json_field "$2"
}

rss_mib() { awk '/^VmRSS:/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# --- seeding -----------------------------------------------------------------------------
step "seeding $AUTHORS users and $POSTS posts"
seed_started=$SECONDS
post_id=$(
    python3 - "$users_url" "$posts_url" "$AUTHORS" "$POSTS" "$PASSWORD" <<'PY'
"""Registers the authors, logs each in, then creates post i as author i % authors,
four requests at a time. Prints the id of post number posts // 2."""
import json
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor

users_url, posts_url, authors, posts, password = sys.argv[1:]
authors, posts = int(authors), int(posts)


def call(url, body, token=None, expect=200):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    request = urllib.request.Request(url, json.dumps(body).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            status, text = response.status, response.read()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read()
    if status != expect:
        sys.exit(f"POST {url}: {status} (expected {expect}): {text[:300]!r}")
    return json.loads(text)


def register_and_login(n):
    name = f"bench-author-{n:03d}"
    call(users_url + "/users", {"username": name, "email": f"{name}@example.com", "password": password}, expect=201)
    return call(users_url + "/auth/login", {"username": name, "password": password})["access_token"]


def create_post(i):
    body = {"title": f"Bench post {i}", "content": f"Post number {i} of the benchmark data set, by author {i % authors}."}
    return call(posts_url + "/posts", body, token=tokens[i % authors], expect=201)["id"]


with ThreadPoolExecutor(max_workers=4) as pool:
    tokens = list(pool.map(register_and_login, range(authors)))
    ids = list(pool.map(create_post, range(posts)))
print(ids[posts // 2])
PY
) || die "seeding failed"
echo "seeded in $((SECONDS - seed_started)) s; post by id: $post_id" >&2

# --- checks before measuring -------------------------------------------------------------
# check_page URL [TOKEN]: 20 posts, 20 distinct authors, each post with its author, not degraded.
check_page() {
    local url=$1 token=${2:-} auth=()
    [[ -n $token ]] && auth=(-H "Authorization: Bearer $token")
    curl -fsS --max-time 10 "${auth[@]}" "$url" | python3 -c '
import json, sys
page = json.load(sys.stdin)
posts = page["posts"]
problems = []
if page.get("degraded"):
    problems.append("the page is degraded")
if len(posts) != 20:
    problems.append(f"{len(posts)} posts, not 20")
if len({p["user_id"] for p in posts}) != len(posts):
    problems.append("authors repeat")
for p in posts:
    a = p.get("author")
    if not a or a.get("id") != p["user_id"] or not a.get("username", "").startswith("bench-author-"):
        problems.append("post %s has author %r" % (p["id"], a))
if problems:
    sys.exit(sys.argv[1] + ": " + "; ".join(problems))
' "$url" || die "the page at $url is wrong"
}

step "checking the pages"
token=$(login 0 access_token)
check_page "$posts_url/posts?limit=20" "$token"
check_page "$posts_url/public/posts"
if ((seed)); then
    check_page "$seed_url/posts?limit=20" "$token"
fi
curl -fsS -o /dev/null --max-time 10 -H "Authorization: Bearer $token" "$posts_url/posts/$post_id" ||
    die "GET /posts/$post_id failed"
echo "pages: 20 posts by 20 distinct authors, not degraded" >&2

# One hash's time: the mean latency of sequential logins on one connection (curl reuses
# it across the URLs of one command line), after one login to warm up.
step "timing 20 sequential logins"
login 1 access_token >/dev/null
urls=()
for _ in $(seq 1 20); do urls+=(-o /dev/null "$users_url/auth/login"); done
login_timings=$(curl -sS --max-time 60 -w '%{http_code} %{time_total}\n' \
    -H 'Content-Type: application/json' -d "$(login_body 1)" "${urls[@]}")
awk '$1 != 200 { bad = 1 } END { exit bad }' <<<"$login_timings" ||
    die "a sequential login failed: $(grep -v '^200 ' <<<"$login_timings" | head -n 3)"
login_mean_ms=$(awk '{ sum += $2 } END { printf "%.1f", sum / NR * 1000 }' <<<"$login_timings")
echo "one login: $login_mean_ms ms on average" >&2

# Idle means idle: users-service gives its hashing memory back once logins pause.
sleep 3
users_rss_idle=$(rss_mib "$users_pid")
posts_rss_idle=$(rss_mib "$posts_pid")
# Anything else busy on the machine (a compiler…) skews every figure: record the load.
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)

# --- measuring ---------------------------------------------------------------------------
export BENCH_LUA_DIR=$root/scripts/bench
names=()
declare -A rps p50 p99 errors

# wanted NAME: whether SCENARIOS selects scenario NAME (health always runs). The logins a
# scenario needs are skipped with it: each login takes Argon2's memory for a moment, and
# would show in the memory figures taken after the load.
wanted() { [[ -z ${SCENARIOS:-} || $1 == health || ,$SCENARIOS, == *",$1,"* ]]; }

# failed_lookups: how many author lookups posts-service has given up on so far (each one
# answered a degraded page), from its own metrics.
failed_lookups() {
    curl -fsS --max-time 5 "$posts_url/metrics" |
        awk '/^users_service_calls_total\{/ && !/result="success"/ { n += $NF } END { print n + 0 }'
}

# run NAME WRK-ARGS…: a warm-up run, then the measured one; records its figures.
# BENCH_CHECK=degraded: a degraded page counts as an error. The count comes from
# posts-service's metrics before and after the run, not from wrk: handing every response
# to Lua costs wrk several microseconds a request, on the cores the services share.
run() {
    local name=$1 line pid check=${BENCH_CHECK:-} degraded_before=0
    shift
    wanted "$name" || return 0
    step "$name: warm-up $WARMUP, then $DURATION"
    for pid in "${pids[@]}"; do
        kill -0 "$pid" 2>/dev/null || die "a service has exited"
    done
    wrk --timeout 5s -d "$WARMUP" "$@" >/dev/null || die "wrk failed in the warm-up of $name"
    if [[ -n ${BENCH_BEFORE_MEASURE:-} ]]; then
        "$BENCH_BEFORE_MEASURE"
    fi
    if [[ $check == degraded ]]; then
        degraded_before=$(failed_lookups)
    fi
    line=$(wrk --timeout 5s -d "$DURATION" "$@" | tee /dev/stderr | grep '^BENCH ') ||
        die "wrk gave no result for $name"
    names+=("$name")
    rps[$name]=$(sed -E 's/.* rps=([^ ]+).*/\1/' <<<"$line")
    p50[$name]=$(sed -E 's/.* p50_ms=([^ ]+).*/\1/' <<<"$line")
    p99[$name]=$(sed -E 's/.* p99_ms=([^ ]+).*/\1/' <<<"$line")
    errors[$name]=$(awk '{ for (i = 1; i <= NF; i++) if ($i ~ /_errors=/) { split($i, kv, "="); n += kv[2] } } END { print n }' <<<"$line")
    if [[ $check == degraded ]]; then
        errors[$name]=$((errors[$name] + $(failed_lookups) - degraded_before))
    fi
}

report=$BENCH_LUA_DIR/report.lua
load=(-t "$THREADS" -c "$CONNECTIONS" --latency -s "$report")

run "health" "${load[@]}" "$posts_url/health/live"

wanted "posts page" && token=$(login 2 access_token)
BENCH_CHECK=degraded run "posts page" "${load[@]}" -H "Authorization: Bearer $token" \
    "$posts_url/posts?limit=20"

# The same page, the same kind of token and the same wrk arguments, served the seed's way.
if ((seed)) && wanted "seed page"; then
    token=$(login 5 access_token)
    run "seed page" "${load[@]}" -H "Authorization: Bearer $token" \
        "$seed_url/posts?limit=20"
fi

wanted "post by id" && token=$(login 3 access_token)
run "post by id" "${load[@]}" -H "Authorization: Bearer $token" "$posts_url/posts/$post_id"

BENCH_CHECK=degraded run "public page" "${load[@]}" "$posts_url/public/posts"

BENCH_METHOD=POST BENCH_BODY=$(login_body 4) run "login" "${load[@]}" \
    -H 'Content-Type: application/json' "$users_url/auth/login"

# Refresh: one connection per thread; every run (warm-up and measured) starts from fresh
# refresh tokens, one per thread, written to a file refresh.lua reads in setup().
export BENCH_REFRESH_TOKENS=$tmp/refresh-tokens
fresh_refresh_tokens() {
    local i
    : >"$BENCH_REFRESH_TOKENS"
    for i in $(seq 1 "$THREADS"); do
        login $((10 + i)) refresh_token >>"$BENCH_REFRESH_TOKENS"
    done
}
wanted refresh && fresh_refresh_tokens
BENCH_BEFORE_MEASURE=fresh_refresh_tokens run "refresh" -t "$THREADS" -c "$THREADS" --latency \
    -s "$BENCH_LUA_DIR/refresh.lua" "$users_url/oauth/token"

users_rss_load=$(rss_mib "$users_pid")
posts_rss_load=$(rss_mib "$posts_pid")

# --- the report --------------------------------------------------------------------------
mkdir -p target/bench
results=target/bench/results-$(date -u +%Y%m%dT%H%M%SZ).txt
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [[ -n $(git status --porcelain --untracked-files=no 2>/dev/null) ]]; then
    commit+=" (working tree modified)"
fi
cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
cores=$(nproc)

{
    echo
    echo "benchmark of $commit on $backend"
    echo "machine: $cores CPUs, ${cpu:-unknown CPU}, Linux $(uname -r); load average before the load: $loadavg"
    echo "wrk: $DURATION per scenario after a $WARMUP warm-up, $THREADS threads, $CONNECTIONS connections (refresh: $THREADS)"
    echo
    printf '%-12s %10s %10s %10s %8s %9s\n' scenario req/s p50 p99 errors vs-health
    total_errors=0
    for name in "${names[@]}"; do
        printf '%-12s %10.0f %8.2fms %8.2fms %8d %8.2fx\n' "$name" "${rps[$name]}" "${p50[$name]}" \
            "${p99[$name]}" "${errors[$name]}" "$(awk -v a="${rps[$name]}" -v b="${rps[health]}" 'BEGIN { print a / b }')"
        total_errors=$((total_errors + ${errors[$name]}))
    done
    if [[ -n ${rps[posts page]:-} && -n ${rps[seed page]:-} ]]; then
        echo
        awk -v a="${rps[posts page]}" -v b="${rps[seed page]}" \
            'BEGIN { printf "posts page vs seed page: %.1fx the throughput\n", a / b }'
    fi
    echo
    printf '%-16s %8s %8s\n' "resident memory" idle "after load"
    printf '%-16s %5s MiB %5s MiB\n' users-service "$users_rss_idle" "$users_rss_load"
    printf '%-16s %5s MiB %5s MiB\n' posts-service "$posts_rss_idle" "$posts_rss_load"
    printf '%-16s %5s MiB %5s MiB\n' sum \
        "$(awk -v a="$users_rss_idle" -v b="$posts_rss_idle" 'BEGIN { printf "%.1f", a + b }')" \
        "$(awk -v a="$users_rss_load" -v b="$posts_rss_load" 'BEGIN { printf "%.1f", a + b }')"
    echo
    ceiling=$(awk -v n="$cores" -v ms="$login_mean_ms" 'BEGIN { printf "%.1f", n * 1000 / ms }')
    verdict() { if awk "BEGIN { exit !($1) }"; then echo PASS; else echo MISS; fi; }
    rss_sum=$(awk -v a="$users_rss_load" -v b="$posts_rss_load" 'BEGIN { printf "%.1f", a + b }')
    echo "login ceiling: $cores CPUs / $login_mean_ms ms per login (sequential mean) = $ceiling req/s"
    goals=()
    if [[ -n ${rps[posts page]:-} ]]; then
        page_ratio=$(awk -v a="${rps[posts page]}" -v b="${rps[health]}" 'BEGIN { printf "%.2f", a / b }')
        goals+=("page ratio ${page_ratio}x >= 0.15 $(verdict "$page_ratio >= 0.15")")
    fi
    goals+=("RSS after load, both services together, $rss_sum MiB < 48 MiB $(verdict "$rss_sum < 48")")
    goals+=("errors $total_errors = 0 $(verdict "$total_errors == 0")")
    if [[ -n ${rps[login]:-} ]]; then
        login_ratio=$(awk -v a="${rps[login]}" -v c="$ceiling" 'BEGIN { printf "%.2f", a / c }')
        goals+=("login ${login_ratio}x of ceiling >= 0.8 $(verdict "$login_ratio >= 0.8")")
    fi
    printf -v goal_line ' | %s' "${goals[@]}"
    echo "goals:${goal_line:2}"
} | tee "$results"
echo "results written to $results"
