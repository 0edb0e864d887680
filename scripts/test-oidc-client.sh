#!/usr/bin/env bash
# users-service as an OpenID Provider, checked by a standard relying-party library: Python's
# authlib completes the authorization code flow from the discovery document alone, and its
# own ID-token checks (scripts/oidc-client/rp_test.py says which) pass unchanged.
#
#   scripts/test-oidc-client.sh
#
# Builds users-service (debug, where cargo puts it: CARGO_TARGET_DIR and the like are
# honoured) and starts it on a free loopback port with a temporary SQLite database and key
# folder, and two clients of its own: a public one (PKCE, no secret) and a confidential one
# (client_secret_basic); registers a user through POST /users; then, for each client,
# discovery, the sign-in page, the token request, the ID token, /userinfo and a refresh,
# and last the refusals authlib itself must make (a tampered signature, another nonce,
# another client's audience, another access token's at_hash). Everything is stopped and
# removed at exit. Prints PASS/FAIL lines and "test-oidc-client: N passed, N failed"; the
# exit status is non-zero when a check failed.
#
# authlib and requests (scripts/oidc-client/requirements.txt, pinned) come from PyPI into a
# virtualenv, ${XDG_CACHE_HOME:-~/.cache}/identity-oidc-client/venv, created once and
# reused, installed again only when requirements.txt changes. Installs python3-venv with
# apt-get when it is missing. Settings: OIDC_TEST_KEEP_LOG [unset]: a file the service's
# log is copied to at exit.
set -euo pipefail
# A relative CARGO_TARGET_DIR means relative to where this was started, as for cargo.
if [[ -n ${CARGO_TARGET_DIR:-} && $CARGO_TARGET_DIR != /* ]]; then
    export CARGO_TARGET_DIR=$PWD/$CARGO_TARGET_DIR
fi
cd "$(dirname "$0")/.."
root=$PWD
# shellcheck source=scripts/lib/checks.sh
source scripts/lib/checks.sh
# shellcheck source=scripts/lib/apt.sh
source scripts/lib/apt.sh

client_dir=$root/scripts/oidc-client
venv=${XDG_CACHE_HOME:-$HOME/.cache}/identity-oidc-client/venv

die() {
    echo "test-oidc-client: $*" >&2
    exit 1
}

# --- tools -------------------------------------------------------------------------------
missing=()
command -v curl >/dev/null 2>&1 || missing+=(curl)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [[ ! -x $venv/bin/python ]] && ! python3 -c 'import ensurepip, venv' 2>/dev/null; then
    missing+=(python3-venv)
fi
apt_install_missing "${missing[@]}"
# A copy of requirements.txt in the venv records what it holds.
if ! cmp -s "$client_dir/requirements.txt" "$venv/requirements.txt"; then
    step "installing the relying party's packages into $venv"
    if [[ ! -x $venv/bin/python ]]; then
        mkdir -p "${venv%/*}"
        python3 -m venv "$venv" || die "could not create a virtualenv at $venv"
    fi
    "$venv/bin/python" -m pip install -q --disable-pip-version-check -r "$client_dir/requirements.txt" ||
        die "could not install $client_dir/requirements.txt from PyPI"
    cp "$client_dir/requirements.txt" "$venv/requirements.txt"
fi

# --- users-service -----------------------------------------------------------------------
step "building users-service"
out=$(cargo build --quiet --locked --message-format=json-render-diagnostics --bin users-service) ||
    die "cargo build failed"
users_bin=$(grep -o '"executable":"[^"]*/users-service"' <<<"$out" | tail -n 1 | cut -d '"' -f 4)
[[ -x $users_bin ]] || die "cargo built users-service but did not report where"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/oidc-client.XXXXXX")
chmod 700 "$tmp"
users_pid=
cleanup() {
    local status=$?
    trap - EXIT INT TERM
    if [[ -n $users_pid ]]; then
        kill "$users_pid" 2>/dev/null || true
        wait "$users_pid" 2>/dev/null || true
    fi
    if ((status != 0)) && [[ -s $tmp/users.log ]]; then
        echo "--- last lines of users-service's log" >&2
        tail -n 20 "$tmp/users.log" >&2
    fi
    [[ -n ${OIDC_TEST_KEEP_LOG:-} ]] && cp "$tmp/users.log" "$OIDC_TEST_KEEP_LOG" 2>/dev/null
    rm -rf "$tmp"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A port the kernel says is free now; the service fails to start if it is taken since.
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
users_url=http://127.0.0.1:$port
# The relying party's callback, never followed: it reads the code from the 303's Location.
redirect_uri=http://127.0.0.1:$port/rp/callback
public_client=rp-public
confidential_client=rp-confidential
confidential_secret=$(head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
username=rp-alice
email=rp-alice@example.com
password=$(head -c 24 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')

step "starting users-service at $users_url (SQLite in $tmp)"
mkdir -m 700 "$tmp/keys"
# From the temporary directory, so that no .env file of the checkout is read.
(
    cd "$tmp"
    exec env APP_ENV=development RUST_LOG=warn \
        BIND_ADDR="127.0.0.1:$port" \
        DATABASE_URL="$tmp/users.db" \
        JWT_ISSUER="$users_url" \
        JWT_KEYS_DIR="$tmp/keys" \
        OAUTH_CLIENTS="$public_client::openid profile email posts:read redirect_uri=$redirect_uri;$confidential_client:$confidential_secret:openid profile email redirect_uri=$redirect_uri" \
        "$users_bin"
) >"$tmp/users.log" 2>&1 &
users_pid=$!
for _ in $(seq 1 300); do
    curl -fsS -o /dev/null --max-time 2 "$users_url/health/ready" 2>/dev/null && break
    kill -0 "$users_pid" 2>/dev/null || die "users-service exited during start-up"
    sleep 0.1
done
curl -fsS -o /dev/null --max-time 2 "$users_url/health/ready" || die "users-service was not ready after 30 s"

status=$(curl -sS -o "$tmp/register.json" -w '%{http_code}' "$users_url/users" \
    -H 'content-type: application/json' \
    -d "{\"username\":\"$username\",\"email\":\"$email\",\"password\":\"$password\"}")
[[ $status == 201 ]] || die "POST /users answered $status: $(cat "$tmp/register.json")"
echo "registered $username"

# --- the relying party -------------------------------------------------------------------
# Its lines: pass/fail/step, a tab, the text (and, for fail, a tab and the details).
exec 3< <(
    env USERS_URL="$users_url" RP_USERNAME="$username" RP_PASSWORD="$password" RP_EMAIL="$email" \
        RP_REDIRECT_URI="$redirect_uri" RP_PUBLIC_CLIENT="$public_client" \
        RP_CONFIDENTIAL_CLIENT="$confidential_client" RP_CONFIDENTIAL_SECRET="$confidential_secret" \
        "$venv/bin/python" -u "$client_dir/rp_test.py"
)
rp_pid=$!
while IFS=$'\t' read -r kind text details <&3; do
    case $kind in
    pass) pass "$text" ;;
    fail) fail "$text" "$details" ;;
    step) step "$text" ;;
    *) printf '%s\n' "$kind${text:+	$text}${details:+	$details}" ;;
    esac
done
exec 3<&-
rp_status=0
wait "$rp_pid" || rp_status=$?
if ((rp_status != 0 && failed == 0)); then
    fail "the relying party exited with status $rp_status"
fi

checks_summary test-oidc-client
((failed == 0))
