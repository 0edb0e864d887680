# shellcheck shell=bash
# The PASS/FAIL report that the check scripts share (validate-deploy.sh, test-compose.sh):
# source it, call `pass TEXT` or `fail TEXT [DETAILS]` per check, close with
# `checks_summary NAME`, which prints "NAME: N passed, N failed" (the line CI reads).
passed=0
failed=0
pass() {
    printf 'PASS  %s\n' "$1"
    passed=$((passed + 1))
}
fail() {
    printf 'FAIL  %s\n' "$1"
    if [[ -n ${2:-} ]]; then
        while IFS= read -r line; do printf '      %s\n' "$line"; done <<<"$2"
    fi
    failed=$((failed + 1))
}
step() { printf '\n==> %s\n' "$*"; }
checks_summary() { printf '\n%s: %d passed, %d failed\n' "$1" "$passed" "$failed"; }
