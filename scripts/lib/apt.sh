# shellcheck shell=bash
# apt_install_missing PACKAGE…: installs the Debian packages given (the ones a script found
# missing), with sudo when not root; nothing when given none. Shared by the scripts that
# bring their own tools (validate-deploy.sh, test-gateway.sh).
apt_install_missing() {
    (($#)) || return 0
    echo "installing: $*"
    local sudo=()
    if ((EUID != 0)); then
        command -v sudo >/dev/null 2>&1 || {
            echo "missing $*, and not root: install them with apt-get" >&2
            exit 2
        }
        sudo=(sudo)
    fi
    "${sudo[@]}" apt-get update -qq
    # RUNLEVEL=1: the nginx package must not start a system nginx on port 80.
    "${sudo[@]}" env RUNLEVEL=1 DEBIAN_FRONTEND=noninteractive \
        apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}
