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
#   REPLICAS [1]     2: the two-replica run as well (below); THREADS and CONNECTIONS even
#   BENCH_USERS_ADDR [127.0.0.1:18281]  BENCH_POSTS_ADDR [127.0.0.1:18282]
#   BENCH_SEED_ADDR [127.0.0.1:18283]
#   BENCH_USERS2_ADDR [127.0.0.1:18284]  BENCH_POSTS2_ADDR [127.0.0.1:18285]  (REPLICAS=2)
#   BENCH_KEEP_LOGS [unset]  a folder: the services' logs are copied there at exit
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
# REPLICAS=2 adds 3 × (WARMUP + DURATION) and a few seconds to the run. It starts a second
# users-service replica on the same database and JWT_KEYS_DIR (so the same key-encryption
# key and signing keys) at BENCH_USERS2_ADDR, and a second posts-service at
# BENCH_POSTS2_ADDR whose USERS_SERVICE_URL and JWKS_URL are that replica (posts-service
# takes one users-service URL, so each posts-service has its replica; no proxy between).
# Right after its one-replica run, each of posts page, login and refresh runs again with its
# load split in two: two wrk processes at once, each with half the threads and connections,
# one on each posts-service (page) or on each replica (login, refresh); their req/s are
# summed, p50 and p99 are the higher of the two, errors are summed. For those runs each
# half of the machine gets one replica, its posts-service and its wrk (taskset: CPUs 0 to
# n/2-1 and n/2 to n-1), as CPU limits give each pod its share; the one-replica runs have
# every CPU, and the pinning is undone after each pair. Unpinned, the four services' eight
# workers and the two wrk crowd the same cores, which cost the page and refresh 6 to 9 %
# on this 2-CPU machine (docs/benchmarks.md). Then, idle, it runs
# `users-service keys rotate` with the replicas' own environment and times how long after
# the command exits both replicas' /.well-known/jwks.json list the new kid, then `keys
# retire` of that new (pending) key until it has left both. It prints a second table (one
# replica against two), the key-change times, each replica's resident memory, and the
# goals: page and refresh on two replicas within 5 % of one replica's, login at 0.8 or more
# of one replica's (both replicas hash on the same cores, so one replica's login figure is
# the Argon2 ceiling here), and each key change on both replicas within a second.
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
replicas=${REPLICAS:-1}
users2_url=http://${BENCH_USERS2_ADDR:-127.0.0.1:18284}
posts2_url=http://${BENCH_POSTS2_ADDR:-127.0.0.1:18285}
case $replicas in
1) ;;
2) ((THREADS >= 2 && THREADS % 2 == 0 && CONNECTIONS % 2 == 0)) ||
    { echo "bench: REPLICAS=2 splits the load in two: THREADS and CONNECTIONS must be even" >&2; exit 2; } ;;
*) echo "bench: REPLICAS is 1 or 2, not $replicas" >&2; exit 2 ;;
esac
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
    [[ -n ${BENCH_KEEP_LOGS:-} ]] && cp "$tmp"/*.log "$BENCH_KEEP_LOGS"/ 2>/dev/null
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
((replicas == 2)) && service_urls+=("$users2_url" "$posts2_url")
for url in "${service_urls[@]}"; do
    if curl -fsS -o /dev/null --max-time 2 "$url/health/live" 2>/dev/null; then
        die "something already answers at $url; stop it or set BENCH_USERS_ADDR / BENCH_POSTS_ADDR / BENCH_SEED_ADDR (/ BENCH_USERS2_ADDR / BENCH_POSTS2_ADDR)"
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

# users-service's environment, every replica's and the keys commands': one database, one
# key folder (where the development key-encryption key is generated), one issuer.
users_env=(
    APP_ENV=development RUST_LOG=warn
    DATABASE_URL="$users_database_url"
    JWT_ISSUER="$users_url"
    JWT_KEYS_DIR="$tmp/keys"
    ACCESS_TOKEN_TTL_SECS=900
    OAUTH_CLIENTS="posts-service:$posts_secret:users:read"
)

# start_users URL LOG / start_posts URL USERS-URL LOG: a users-service replica, or a
# posts-service that asks the users-service at USERS-URL; sets started_pid once it is ready.
start_users() {
    env "${users_env[@]}" BIND_ADDR="${1#http://}" "$users_bin" >"$tmp/$2" 2>&1 &
    started_pid=$!
    pids+=("$started_pid")
    wait_ready "users-service at $1" "$started_pid" "$1"
}
start_posts() {
    env APP_ENV=development RUST_LOG=warn \
        BIND_ADDR="${1#http://}" \
        DATABASE_URL="$posts_database_url" \
        JWT_ISSUER="$users_url" \
        JWKS_URL="$2/.well-known/jwks.json" \
        USERS_SERVICE_URL="$2" \
        POSTS_CLIENT_ID=posts-service \
        POSTS_CLIENT_SECRET="$posts_secret" \
        "$posts_bin" >"$tmp/$3" 2>&1 &
    started_pid=$!
    pids+=("$started_pid")
    wait_ready "posts-service at $1" "$started_pid" "$1"
}

step "starting users-service at $users_url and posts-service at $posts_url on $backend"
# Run from the temporary directory so that no .env file of the checkout is read.
cd "$tmp"
start_users "$users_url" users.log
users_pid=$started_pid
start_posts "$posts_url" "$users_url" posts.log
posts_pid=$started_pid

# The second replica starts once the first has made the keys (starting together works too).
if ((replicas == 2)); then
    step "starting a second users-service replica at $users2_url and a posts-service at $posts2_url that asks it"
    start_users "$users2_url" users2.log
    users2_pid=$started_pid
    start_posts "$posts2_url" "$users2_url" posts2.log
    posts2_pid=$started_pid
fi

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

# max N…: the largest of the numbers.
max() { printf '%s\n' "$@" | sort -g | tail -n 1; }

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
((replicas == 2)) && check_page "$posts2_url/posts?limit=20" "$token"
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
if ((replicas == 2)); then
    users2_rss_idle=$(rss_mib "$users2_pid")
    posts2_rss_idle=$(rss_mib "$posts2_pid")
fi
# Anything else busy on the machine (a compiler…) skews every figure: record the load.
loadavg=$(cut -d' ' -f1-3 /proc/loadavg)

# --- measuring ---------------------------------------------------------------------------
export BENCH_LUA_DIR=$root/scripts/bench
# Refresh: each wrk reads its starting refresh tokens from here (wrk i of a pair: from .i).
export BENCH_REFRESH_TOKENS=$tmp/refresh-tokens
# names: table 1's scenarios (one replica); names2: table 2's (two replicas), whose figures
# are kept under "NAME|2".
names=()
names2=()
declare -A rps p50 p99 errors

# wanted NAME: whether SCENARIOS selects scenario NAME (health always runs). The logins a
# scenario needs are skipped with it: each login takes Argon2's memory for a moment, and
# would show in the memory figures taken after the load.
wanted() { [[ -z ${SCENARIOS:-} || $1 == health || ,$SCENARIOS, == *",$1,"* ]]; }

# failed_lookups: how many author lookups the posts-services have given up on so far (each
# one answered a degraded page), from their own metrics.
failed_lookups() {
    local url
    for url in "$posts_url" "${posts2_pid:+$posts2_url}"; do
        [[ -n $url ]] || continue
        curl -fsS --max-time 5 "$url/metrics"
    done | awk '/^users_service_calls_total\{/ && !/result="success"/ { n += $NF } END { print n + 0 }'
}

# wrk_one DURATION WRK-ARGS…: one wrk. wrk_pair DURATION URL-1 URL-2 WRK-ARGS…: two at once,
# wrk i on URL-i with its refresh tokens from $BENCH_REFRESH_TOKENS.i; prints both outputs.
wrk_one() { wrk --timeout 5s -d "$@"; }
# pin_halves / unpin: each half of the CPUs to one replica with its posts-service (and, in
# wrk_pair, its wrk), then every CPU to every service again.
cpus=$(nproc)
halves=()
((cpus >= 2)) && halves=("0-$((cpus / 2 - 1))" "$((cpus / 2))-$((cpus - 1))")
pin_halves() {
    ((${#halves[@]})) || return 0
    taskset -a -p -c "${halves[0]}" "$users_pid" >/dev/null
    taskset -a -p -c "${halves[0]}" "$posts_pid" >/dev/null
    taskset -a -p -c "${halves[1]}" "$users2_pid" >/dev/null
    taskset -a -p -c "${halves[1]}" "$posts2_pid" >/dev/null
}
unpin() {
    local pid
    ((${#halves[@]})) || return 0
    for pid in "$users_pid" "$posts_pid" "$users2_pid" "$posts2_pid"; do
        taskset -a -p -c "0-$((cpus - 1))" "$pid" >/dev/null
    done
}
wrk_pair() {
    local duration=$1 i status=0 wrk_pids=()
    local urls=("$2" "$3")
    shift 3
    pin_halves
    for i in 1 2; do
        BENCH_REFRESH_TOKENS=$BENCH_REFRESH_TOKENS.$i \
            ${halves[i - 1]:+taskset -c "${halves[i - 1]}"} wrk --timeout 5s -d "$duration" "$@" "${urls[i - 1]}" >"$tmp/wrk.$i" 2>&1 &
        wrk_pids+=("$!")
    done
    for i in 1 2; do
        wait "${wrk_pids[i - 1]}" || status=1
    done
    unpin
    cat "$tmp/wrk.1" "$tmp/wrk.2"
    return "$status"
}

# measure KEY WRK-COMMAND ARGS…: a warm-up run, then the measured one; records the figures
# under KEY: req/s summed over the BENCH lines (one a wrk), p50 and p99 the higher, errors
# summed. BENCH_CHECK=degraded: a degraded page counts as an error. The count comes from
# posts-service's metrics before and after the run, not from wrk: handing every response
# to Lua costs wrk several microseconds a request, on the cores the services share.
measure() {
    local key=$1 runner=$2 lines pid check=${BENCH_CHECK:-} degraded_before=0
    shift 2
    step "${key/|2/ on two replicas}: warm-up $WARMUP, then $DURATION"
    for pid in "${pids[@]}"; do
        kill -0 "$pid" 2>/dev/null || die "a service has exited"
    done
    "$runner" "$WARMUP" "$@" >/dev/null || die "wrk failed in the warm-up of $key"
    if [[ -n ${BENCH_BEFORE_MEASURE:-} ]]; then
        "$BENCH_BEFORE_MEASURE"
    fi
    if [[ $check == degraded ]]; then
        degraded_before=$(failed_lookups)
    fi
    # Not `tee /dev/stderr`: that reopens stderr, and truncates it when it is a file.
    lines=$("$runner" "$DURATION" "$@") || die "wrk failed in $key"
    printf '%s\n' "$lines" >&2
    lines=$(grep '^BENCH ' <<<"$lines") || die "wrk gave no result for $key"
    read -r "rps[$key]" "p50[$key]" "p99[$key]" "errors[$key]" < <(awk '
        { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] + 0 }
          rps += v["rps"]; errors += v["socket_errors"] + v["status_errors"]
          if (v["p50_ms"] > p50) p50 = v["p50_ms"]
          if (v["p99_ms"] > p99) p99 = v["p99_ms"] }
        END { print rps, p50, p99, errors }' <<<"$lines")
    if [[ $check == degraded ]]; then
        errors[$key]=$((${errors[$key]} + $(failed_lookups) - degraded_before))
    fi
}

# run NAME WRK-ARGS…: scenario NAME on one replica, for table 1.
run() {
    wanted "$1" || return 0
    measure "$1" wrk_one "${@:2}"
    names+=("$1")
}

# run2 NAME URL-1 URL-2 WRK-ARGS…: with REPLICAS=2, scenario NAME again, its load split over
# URL-1 and URL-2 (WRK-ARGS give each wrk half the threads and connections), for table 2.
run2() {
    ((replicas == 2)) && wanted "$1" || return 0
    measure "$1|2" wrk_pair "${@:2}"
    names2+=("$1")
}

report=$BENCH_LUA_DIR/report.lua
load=(-t "$THREADS" -c "$CONNECTIONS" --latency -s "$report")
half=(-t $((THREADS / 2)) -c $((CONNECTIONS / 2)) --latency -s "$report")

run "health" "${load[@]}" "$posts_url/health/live"

wanted "posts page" && token=$(login 2 access_token)
BENCH_CHECK=degraded run "posts page" "${load[@]}" -H "Authorization: Bearer $token" \
    "$posts_url/posts?limit=20"
BENCH_CHECK=degraded run2 "posts page" "$posts_url/posts?limit=20" "$posts2_url/posts?limit=20" \
    "${half[@]}" -H "Authorization: Bearer $token"

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
BENCH_METHOD=POST BENCH_BODY=$(login_body 4) run2 "login" "$users_url/auth/login" "$users2_url/auth/login" \
    "${half[@]}" -H 'Content-Type: application/json'

# Refresh: one connection per thread; every run (warm-up and measured) starts from fresh
# refresh tokens, one per thread, written to a file refresh.lua reads in setup(). Two
# replicas: half the threads on each, each wrk with its own file; logins are on replica 1,
# so replica 2 refreshes tokens that replica 1 issued.
# refresh_tokens FILE COUNT FIRST: COUNT refresh tokens of authors FIRST, FIRST + 1, ….
refresh_tokens() {
    local i
    : >"$1"
    for ((i = $3; i < $3 + $2; i++)); do
        login "$i" refresh_token >>"$1"
    done
}
fresh_refresh_tokens() { refresh_tokens "$BENCH_REFRESH_TOKENS" "$THREADS" 11; }
fresh_refresh_token_pair() {
    refresh_tokens "$BENCH_REFRESH_TOKENS.1" $((THREADS / 2)) 11
    refresh_tokens "$BENCH_REFRESH_TOKENS.2" $((THREADS / 2)) $((11 + THREADS / 2))
}
wanted refresh && fresh_refresh_tokens
BENCH_BEFORE_MEASURE=fresh_refresh_tokens run "refresh" -t "$THREADS" -c "$THREADS" --latency \
    -s "$BENCH_LUA_DIR/refresh.lua" "$users_url/oauth/token"
((replicas == 2)) && wanted refresh && fresh_refresh_token_pair
BENCH_BEFORE_MEASURE=fresh_refresh_token_pair run2 "refresh" "$users_url/oauth/token" "$users2_url/oauth/token" \
    -t $((THREADS / 2)) -c $((THREADS / 2)) --latency -s "$BENCH_LUA_DIR/refresh.lua"

users_rss_load=$(rss_mib "$users_pid")
posts_rss_load=$(rss_mib "$posts_pid")

# --- key changes on two replicas ---------------------------------------------------------
if ((replicas == 2)); then
    users2_rss_load=$(rss_mib "$users2_pid")
    posts2_rss_load=$(rss_mib "$posts2_pid")
    step "timing key changes: keys rotate, then keys retire of the new key, on both replicas"
    # Prints rotate's kid, then for each command its own time and the time from its exit
    # until each replica's JWKS showed the change, in ms.
    key_times=$(
        cd "$tmp" &&
            python3 - "$users_url" "$users2_url" env "${users_env[@]}" "$users_bin" keys <<'PY'
"""Runs `keys rotate`, then `keys retire NEW-KID` (a pending key: allowed), and polls both
replicas' JWKS every 5 ms from each command's exit until the new kid is listed (rotate),
then gone (retire)."""
import json
import re
import subprocess
import sys
import time
import urllib.request

replicas, command = sys.argv[1:3], sys.argv[3:]


def kids(url):
    with urllib.request.urlopen(url + "/.well-known/jwks.json", timeout=5) as response:
        return {key["kid"] for key in json.load(response)["keys"]}


def keys(*args):
    """Runs the keys command; returns its output, when it exited, and how long it took (ms)."""
    started = time.monotonic()
    done = subprocess.run(command + list(args), capture_output=True, text=True)
    exited = time.monotonic()
    if done.returncode != 0:
        sys.exit(f"keys {' '.join(args)} failed: {(done.stderr or done.stdout).strip()}")
    return done.stdout, exited, (exited - started) * 1000


def seen(kid, listed, since):
    """Per replica, ms from `since` until its JWKS lists `kid` (listed) or no longer does."""
    times = {}
    while len(times) < len(replicas):
        if time.monotonic() > since + 10:
            missing = ", ".join(url for url in replicas if url not in times)
            sys.exit(f"after 10 s, {kid} is {'not yet' if listed else 'still'} in the JWKS of {missing}")
        for url in replicas:
            if url not in times and (kid in kids(url)) == listed:
                times[url] = (time.monotonic() - since) * 1000
        time.sleep(0.005)
    return [times[url] for url in replicas]


out, exited, rotate_ms = keys("rotate")
found = re.search(r"^key (\S+) ", out, re.M)
if not found:
    sys.exit(f"keys rotate printed no kid: {out!r}")
kid = found.group(1)
rotate_seen = seen(kid, True, exited)
_, exited, retire_ms = keys("retire", kid)
retire_seen = seen(kid, False, exited)
print(kid, *(f"{ms:.0f}" for ms in [rotate_ms, *rotate_seen, retire_ms, *retire_seen]))
PY
    ) || die "timing the key changes failed"
    read -r new_kid rotate_ms rotate1_ms rotate2_ms retire_ms retire1_ms retire2_ms <<<"$key_times"
    echo "key $new_kid: rotate seen after $rotate1_ms / $rotate2_ms ms, retire after $retire1_ms / $retire2_ms ms" >&2
fi

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
    if ((replicas == 2)); then
        echo
        echo "two users-service replicas on one database and key folder, each run right after its one-replica run:"
        echo "two wrk at once with half the threads and connections each ($((THREADS / 2)) and $((CONNECTIONS / 2)); refresh: $((THREADS / 2)) and $((THREADS / 2))),"
        echo "one on each replica (posts page: one on each of two posts-services, each asking its own replica);"
        echo "req/s summed, p50 and p99 the higher of the two"
        echo
        printf '%-12s %10s %11s %7s %10s %10s %8s\n' scenario "1 replica" "2 replicas" ratio p50 p99 errors
        errors2=0
        for name in "${names2[@]}"; do
            key="$name|2"
            printf '%-12s %10.0f %11.0f %6.2fx %8.2fms %8.2fms %8d\n' "$name" "${rps[$name]:-0}" "${rps[$key]}" \
                "$(awk -v a="${rps[$key]}" -v b="${rps[$name]:-0}" 'BEGIN { print b ? a / b : 0 }')" \
                "${p50[$key]}" "${p99[$key]}" "${errors[$key]}"
            errors2=$((errors2 + ${errors[$key]}))
        done
        echo
        echo "key changes, from the command's exit until both replicas' JWKS show it:"
        printf '  %-7s %5s ms (replica 1 %s ms, replica 2 %s ms); the command itself took %s ms\n' \
            rotate "$(max "$rotate1_ms" "$rotate2_ms")" "$rotate1_ms" "$rotate2_ms" "$rotate_ms" \
            retire "$(max "$retire1_ms" "$retire2_ms")" "$retire1_ms" "$retire2_ms" "$retire_ms"
        echo
        printf '%-16s %8s %8s\n' "resident memory" idle "after load"
        printf '%-16s %5s MiB %5s MiB\n' "users-service 1" "$users_rss_idle" "$users_rss_load"
        printf '%-16s %5s MiB %5s MiB\n' "users-service 2" "$users2_rss_idle" "$users2_rss_load"
        printf '%-16s %5s MiB %5s MiB\n' "posts-service 2" "$posts2_rss_idle" "$posts2_rss_load"
        echo
        goals=()
        # ratio NAME: NAME's req/s on two replicas over one replica's.
        ratio() { awk -v a="${rps[$1|2]}" -v b="${rps[$1]}" 'BEGIN { printf "%.2f", a / b }'; }
        if [[ -n ${rps[posts page|2]:-} && -n ${rps[posts page]:-} ]]; then
            r=$(ratio "posts page")
            goals+=("page ${r}x of one replica's >= 0.95 $(verdict "$r >= 0.95")")
        fi
        if [[ -n ${rps[refresh|2]:-} && -n ${rps[refresh]:-} ]]; then
            r=$(ratio refresh)
            goals+=("refresh ${r}x of one replica's >= 0.95 $(verdict "$r >= 0.95")")
        fi
        if [[ -n ${rps[login|2]:-} && -n ${rps[login]:-} ]]; then
            r=$(ratio login)
            goals+=("login ${r}x of one replica's (the Argon2 ceiling) >= 0.8 $(verdict "$r >= 0.8")")
        fi
        slowest=$(max "$rotate1_ms" "$rotate2_ms" "$retire1_ms" "$retire2_ms")
        goals+=("key changes on both replicas within $slowest ms < 1000 ms $(verdict "$slowest < 1000")")
        goals+=("errors $errors2 = 0 $(verdict "$errors2 == 0")")
        printf -v goal_line ' | %s' "${goals[@]}"
        echo "goals, two replicas:${goal_line:2}"
    fi
} | tee "$results"
echo "results written to $results"
