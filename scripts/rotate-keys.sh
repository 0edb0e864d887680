#!/usr/bin/env bash
# Rotates users-service's signing key, for a local run (scripts/dev.sh) or docker-compose.
#
#   scripts/rotate-keys.sh                  rotate: a new key, published now, signing after JWKS_MAX_AGE_SECS
#   scripts/rotate-keys.sh list [--json]    every key with its state and times
#   scripts/rotate-keys.sh retire KID       emergency: KID stops signing and leaves the JWKS at once
#   scripts/rotate-keys.sh --compose …      the same inside the docker-compose users-service container
#
# The running users-service sees the change within a second; the script also sends it
# SIGHUP so it applies at once. See docs/key-rotation.md.
set -euo pipefail
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
    docker compose exec users-service users-service keys "$action" "$@"
    [[ $action == list ]] || docker compose kill -s HUP users-service >/dev/null
else
    # The same folder scripts/dev.sh gives users-service, unless told otherwise.
    export JWT_KEYS_DIR=${JWT_KEYS_DIR:-.dev/keys}
    cargo build --quiet --bin users-service
    ./target/debug/users-service keys "$action" "$@"
    if [[ $action != list ]]; then
        pkill -HUP -x users-service 2>/dev/null || true
    fi
fi
