#!/usr/bin/env bash
# Rotates users-service's signing key, for a local run (scripts/dev.sh) or docker-compose.
#
#   scripts/rotate-keys.sh                  rotate: a new key, published now, signing after JWKS_MAX_AGE_SECS
#   scripts/rotate-keys.sh list [--json]    every key with its state and times
#   scripts/rotate-keys.sh retire KID       emergency: KID stops signing and leaves the JWKS at once
#   scripts/rotate-keys.sh --compose …      the same inside the docker-compose users-service container
#
# Every running users-service replica sees the change within a second (they poll the
# database); the script also sends it
# SIGHUP so it applies at once: locally the one scripts/dev.sh started (its pid is in
# .dev/users-service.pid), never any other process. The binary is built where cargo puts
# it (CARGO_TARGET_DIR and the like are honoured). See docs/key-rotation.md.
set -euo pipefail
# A relative CARGO_TARGET_DIR means relative to where this was started, as for cargo.
if [[ -n ${CARGO_TARGET_DIR:-} && $CARGO_TARGET_DIR != /* ]]; then
    export CARGO_TARGET_DIR=$PWD/$CARGO_TARGET_DIR
fi
cd "$(dirname "$0")/.."

mode=local
if [[ ${1:-} == --compose ]]; then
    mode=compose
    shift
fi
action=${1:-rotate}
[[ $# -gt 0 ]] && shift
case $action in
rotate | list | retire) ;;
*)
    echo "usage: $0 [--compose] [rotate | list [--json] | retire KID]" >&2
    exit 2
    ;;
esac

if [[ $mode == compose ]]; then
    # One replica runs the command; the change is in PostgreSQL, and every replica polls it.
    docker compose exec users-service users-service keys "$action" "$@"
    [[ $action == list ]] || docker compose kill -s HUP users-service >/dev/null
else
    # The database and key-encryption key scripts/dev.sh gives users-service, unless told
    # otherwise.
    export DATABASE_URL=${USERS_DATABASE_URL:-.dev/users.db}
    export JWT_KEYS_DIR=${JWT_KEYS_DIR:-.dev/keys}
    # Where cargo reports the binary, wherever its target directory is configured to be.
    built=$(cargo build --quiet --message-format=json-render-diagnostics --bin users-service)
    users_bin=$(grep -o '"executable":"[^"]*/users-service"' <<<"$built" | tail -n 1 | cut -d '"' -f 4 || true)
    if [[ ! -x $users_bin ]]; then
        echo "cargo built users-service but did not report where" >&2
        exit 1
    fi
    "$users_bin" keys "$action" "$@"
    if [[ $action != list ]]; then
        pid_file=.dev/users-service.pid
        pid=$(cat "$pid_file" 2>/dev/null || true)
        if [[ ! $pid =~ ^[0-9]+$ ]]; then
            echo "no $pid_file: no users-service started by scripts/dev.sh is running, so none was" \
                "signalled; a users-service started otherwise picks the change up within a second"
        elif ! command=$(ps -p "$pid" -o comm= 2>/dev/null) || [[ ${command##*/} != users-service ]]; then
            echo "$pid_file names pid $pid, which is not a running users-service (left over from an" \
                "earlier run?): nothing signalled"
        else
            kill -HUP "$pid"
            echo "signalled users-service (pid $pid, started by scripts/dev.sh) to reload its keys"
        fi
    fi
fi
