#!/usr/bin/env bash
# The explorer page (explorer/) in headless Chromium, through a gateway that is already
# running, e.g. the one scripts/dev.sh starts when nginx is installed:
#
#   scripts/dev.sh &    scripts/test-explorer.sh
#
# Creates an account with the page's form, signs in (a wrong password first), reads the
# token's claims, key and lifetime and the ID token, writes and
# lists posts, refreshes, signs out; then a tampered state and an unregistered redirect URI
# (scripts/browser/test_explorer.py says what each step checks). A fresh user each run.
#
# Settings:
#   EXPLORER_URL          the gateway's page (default http://127.0.0.1:8080/, scripts/dev.sh's)
#   EXPLORER_SCREENSHOTS  where the PNGs go (default target/explorer-screenshots)
# Installs what is missing: Debian's chromium and chromium-driver with apt-get, and Selenium
# from PyPI into a venv under ${XDG_CACHE_HOME:-~/.cache}/identity-browser. Exits 2 when
# the gateway does not answer.
set -euo pipefail
cd "$(dirname "$0")/.."

url=${EXPLORER_URL:-http://127.0.0.1:8080/}
shots=${EXPLORER_SCREENSHOTS:-target/explorer-screenshots}
venv=${XDG_CACHE_HOME:-$HOME/.cache}/identity-browser/venv

# shellcheck source=scripts/lib/apt.sh
source scripts/lib/apt.sh
missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v chromedriver >/dev/null 2>&1 || missing+=(chromium-driver)
command -v curl >/dev/null 2>&1 || missing+=(curl)
if [[ ! -x $venv/bin/python ]] && ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
    missing+=(python3-venv)
fi
apt_install_missing "${missing[@]}"
if [[ ! -x $venv/bin/python ]] || ! "$venv/bin/python" -c 'import selenium' 2>/dev/null; then
    echo "installing selenium into $venv"
    mkdir -p "$(dirname "$venv")"
    [[ -x $venv/bin/python ]] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check 'selenium>=4.20,<5'
fi

if ! curl -fsS -o /dev/null --max-time 3 "${url%/}/gateway/health"; then
    echo "no gateway answers at ${url%/}/gateway/health: start one first (scripts/dev.sh with nginx installed)" >&2
    exit 2
fi
# The page is read whole before it is searched: `curl | grep -q` lets grep exit at
# the first match, and curl, still writing, then fails the pipeline (exit 23).
page=$(curl -fsS --max-time 3 "$url" || true)
if [[ $page != *explorer.js* ]]; then
    echo "$url is not the explorer page" >&2
    exit 2
fi

# Selenium's own driver download stays off: Debian's chromedriver matches Debian's chromium.
SE_OFFLINE=true "$venv/bin/python" scripts/browser/test_explorer.py "$url" "$shots" \
    "$(command -v chromedriver)" "$(command -v chromium)"
