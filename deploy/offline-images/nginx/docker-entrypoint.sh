#!/bin/sh
# Entrypoint of the STAND-IN nginx image (deploy/offline-images/nginx), as in the official
# image: when the command is nginx (or nginx-debug), every file in /docker-entrypoint.d/ in
# version order is run (*.sh, when executable) or sourced (*.envsh, when executable), then
# the command is exec'd. NGINX_ENTRYPOINT_QUIET_LOGS=1 silences this script's messages.
set -e

entrypoint_log() {
    if [ -z "${NGINX_ENTRYPOINT_QUIET_LOGS:-}" ]; then
        echo "$@"
    fi
}

if [ "$1" = nginx ] || [ "$1" = nginx-debug ]; then
    if find /docker-entrypoint.d/ -mindepth 1 -maxdepth 1 -type f -print -quit 2>/dev/null | read -r _; then
        entrypoint_log "$0: /docker-entrypoint.d/ is not empty, will attempt to perform configuration"
        entrypoint_log "$0: Looking for shell scripts in /docker-entrypoint.d/"
        # Not a pipe into `while`: a sourced *.envsh must change this shell's environment.
        scripts=$(find /docker-entrypoint.d/ -follow -type f -print | sort -V)
        for f in $scripts; do
            case $f in
            *.envsh)
                if [ -x "$f" ]; then
                    entrypoint_log "$0: Sourcing $f"
                    # shellcheck disable=SC1090
                    . "$f"
                else
                    entrypoint_log "$0: Ignoring $f, not executable"
                fi
                ;;
            *.sh)
                if [ -x "$f" ]; then
                    entrypoint_log "$0: Launching $f"
                    "$f"
                else
                    entrypoint_log "$0: Ignoring $f, not executable"
                fi
                ;;
            *) entrypoint_log "$0: Ignoring $f" ;;
            esac
        done
        entrypoint_log "$0: Configuration complete; ready for start up"
    else
        entrypoint_log "$0: No files found in /docker-entrypoint.d/, skipping configuration"
    fi
fi

exec "$@"
