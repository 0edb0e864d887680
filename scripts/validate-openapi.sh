#!/usr/bin/env bash
# Validates the OpenAPI documents the running services serve, with an independent
# validator (openapi-spec-validator, from PyPI, in a cached venv).
#
#   scripts/validate-openapi.sh [users-base-url] [posts-base-url]
#
# Defaults: http://127.0.0.1:8081 and http://127.0.0.1:8082 (scripts/dev.sh).
set -euo pipefail

users=${1:-http://127.0.0.1:8081}
posts=${2:-http://127.0.0.1:8082}
venv=${XDG_CACHE_HOME:-$HOME/.cache}/identity-openapi
if [[ ! -x $venv/bin/openapi-spec-validator ]]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check openapi-spec-validator
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0
failed=0
for base in "$users" "$posts"; do
    doc="$tmp/openapi.json"
    if curl -fsS "$base/openapi.json" -o "$doc" && "$venv/bin/openapi-spec-validator" "$doc" >"$tmp/out" 2>&1; then
        echo "PASS  $base/openapi.json"
        passed=$((passed + 1))
    else
        echo "FAIL  $base/openapi.json"
        cat "$tmp/out" 2>/dev/null || true
        failed=$((failed + 1))
    fi
done
echo "validate-openapi: $passed passed, $failed failed"
((failed == 0))
