#!/usr/bin/env bash
# Checks that the settings the Rust code reads, the ones .env.example documents and the
# ones docker-compose.yml passes to the services agree:
#
#   - every variable the code reads is documented in .env.example (a `# KEY=value` line);
#   - docker-compose.yml passes each one to every service that reads it, taken from the
#     variable of the same name (`KEY: ${KEY:-default}`), unless its .env.example line is
#     marked `# compose: <why not>` (wiring compose fixes itself, per-service values); and
#     a marked one is not also passed that way (the mark would be stale);
#   - each `${KEY:-default}` in the services' environments has the code's own default
#     (where the code's default is a literal), and so has each numeric .env.example value;
#   - the services' environments in docker-compose.yml hold no variable the service does
#     not read (a typo would be ignored silently);
#   - every variable docker-compose.yml interpolates is documented in .env.example.
#
# What the code reads: the keys passed as string literals to the methods of
# auth_common's Env (the file that defines `pub struct Env`) and to std::env::var in
# users-service/src, posts-service/src and auth-common/src (test helpers aside), a
# `secret` key's `<KEY>_FILE` twin, and RUST_LOG (env_logger's filter). A small helper
# that takes `key: &str` and hands it to one of Env's methods (users-service's `kek(env,
# "JWT_KEYS_ENCRYPTION_KEY")`) counts as that method for the literal it is called with.
# Code in auth-common counts for both services.
#
#   scripts/check-settings.sh            prints every key and where it is, fails on a mismatch
#
# Needs python3 with PyYAML, or else `docker compose` to read docker-compose.yml
# (PYTHON=… picks the interpreter). Called by scripts/validate-deploy.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
compose_json=
if ! "$python" -c 'import yaml' 2>/dev/null; then
    if docker compose version >/dev/null 2>&1; then
        # Not interpolated, so the `${KEY:-default}` forms stay as written.
        compose_json=$(docker compose -f docker-compose.yml --project-directory . config \
            --no-interpolate --format json)
    else
        echo "check-settings: needs PyYAML for $python, or docker compose, to read docker-compose.yml" >&2
        exit 2
    fi
fi

COMPOSE_JSON=$compose_json exec "$python" - <<'PY'
import glob, json, os, re, sys

SERVICES = ("users-service", "posts-service")
KEY = r"[A-Z][A-Z0-9_]*"

# --- what the code reads ------------------------------------------------------------------
# The file that defines `pub struct Env` (auth-common's settings reader), wherever it lives.
env_path = next((p for p in sorted(glob.glob("auth-common/src/**/*.rs", recursive=True))
                 if re.search(r"^pub struct Env\b", open(p).read(), re.M)), None)
if env_path is None:
    sys.exit("check-settings: found no `pub struct Env` in auth-common/src")
env_rs = open(env_path).read()
methods = set(re.findall(r"pub fn (\w+)(?:<[^>]*>)?\(\s*&self,\s*key: &str", env_rs))
if not methods:
    sys.exit(f"check-settings: found no `pub fn …(&self, key: &str …)` in {env_path}")
# The methods that also read `<key>_FILE`: their body (up to the closing brace at the
# method's indentation) builds that name.
file_methods = set()
for name in methods:
    body = re.search(r"pub fn " + name + r"\b.*?\n    \}\n", env_rs, re.S)
    if body and '_FILE"' in body.group(0):
        file_methods.add(name)

call = re.compile(r"\.(" + "|".join(sorted(methods)) + r")(?:::<[^>]*>)?\(\s*\"(" + KEY + r")\"\s*(?:,\s*([^)]*))?\)")
std_var = re.compile(r"std::env::var(?:_os)?\(\s*\"(" + KEY + r")\"")

def literal(raw):
    """The default argument when it is a plain literal (number, string, bool), else None."""
    raw = (raw or "").strip()
    if re.fullmatch(r"-?[0-9][0-9_]*", raw):
        return raw.replace("_", "")
    if re.fullmatch(r'"[^"\\]*"', raw):
        return raw[1:-1]
    if raw in ("true", "false"):
        return raw
    return None

def strip_tests(text):
    # Unit tests build their settings from a map; they are not what the service reads.
    cut = re.search(r"^#\[cfg\(test\)\]\s*\nmod \w+ \{", text, re.M)
    return text[: cut.start()] if cut else text

reads = {svc: {} for svc in SERVICES}  # service -> key -> code default (literal or None)
origin = {}
for path in sorted(glob.glob("*/src/**/*.rs", recursive=True)):
    top = path.split("/")[0]
    if top == "auth-common":
        if path == env_path or path.endswith("/testing.rs") or "/testing/" in path:
            continue
        owners = SERVICES
    elif top in SERVICES:
        owners = (top,)
    else:
        continue
    text = strip_tests(open(path).read())
    found = []
    for method, key, default in call.findall(text):
        found.append((key, literal(default) if method in ("parsed", "string") else None))
        if method in file_methods:
            found.append((key + "_FILE", None))
    # Helpers in this file that pass their `key: &str` on to an Env method.
    for helper, params, body in re.findall(r"\bfn (\w+)(?:<[^>]*>)?\(([^)]*)\)[^{;]*\{(.*?)\n\}", text, re.S):
        if not re.search(r"\bkey: &str\b", params):
            continue
        inner = re.search(r"\.(" + "|".join(sorted(methods)) + r")(?:::<[^>]*>)?\(\s*key\b", body)
        if not inner:
            continue
        for key in re.findall(r"\b" + helper + r"\([^()\"]*\"(" + KEY + r")\"", text):
            found.append((key, None))
            if inner.group(1) in file_methods:
                found.append((key + "_FILE", None))
    found += [(key, None) for key in std_var.findall(text)]
    if "env_logger::Env::default()" in text:
        found.append(("RUST_LOG", None))
    for key, default in found:
        origin.setdefault(key, set()).add(path)
        for svc in owners:
            if key not in reads[svc] or reads[svc][key] is None:
                reads[svc][key] = default
read_keys = sorted(set().union(*reads.values()))
if not read_keys:
    sys.exit("check-settings: found no setting read by the code; has the Env API changed?")

# --- what .env.example documents ----------------------------------------------------------
documented = {}  # key -> (value, compose mark or None)
line_re = re.compile(r"^#\s?(" + KEY + r")=(.*?)(?:\s+#\s*compose:\s*(.*))?$")
for line in open(".env.example"):
    m = line_re.match(line.rstrip("\n"))
    if m:
        documented[m.group(1)] = (m.group(2).strip(), (m.group(3) or "").strip() or None)

# --- what docker-compose.yml passes -------------------------------------------------------
if os.environ.get("COMPOSE_JSON"):
    compose = json.loads(os.environ["COMPOSE_JSON"])
else:
    import yaml
    compose = yaml.safe_load(open("docker-compose.yml"))

def environment(service):
    env = (compose["services"].get(service) or {}).get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return {k: ("" if v is None else str(v)) for k, v in env.items()}

passed = {svc: environment(svc) for svc in SERVICES}
with open("docker-compose.yml") as f:
    # Comment lines aside; `$${` is a literal `${` for the container, not interpolation.
    code_lines = "".join(line for line in f if not line.lstrip().startswith("#"))
    interpolated = set(re.findall(r"(?<!\$)\$\{(" + KEY + r")", code_lines))

def from_env(svc, key):
    """The default compose gives `key` for `svc` when it takes it from `${key…}`, else False."""
    value = passed[svc].get(key)
    if value is None:
        return False
    m = re.fullmatch(r"\$\{" + key + r"(?::?-(.*))?\}", value)
    return (m.group(1) or "") if m else False

# --- the report -------------------------------------------------------------------------
problems = []
print(f"{'variable':<33} {'read by':<8} {'.env.example':<16} {'users-service':<28} posts-service")
def where(svc, key):
    if key in passed[svc]:
        return "${" + key + "}" if from_env(svc, key) is not False else "fixed"
    return "not passed" if key in reads[svc] else "-"
for key in sorted(set(read_keys) | set(documented) | set().union(*(set(p) for p in passed.values()))):
    readers = [svc for svc in SERVICES if key in reads[svc]]
    by = "both" if len(readers) == 2 else (readers[0].split("-")[0] if readers else "-")
    doc = "-" if key not in documented else ("compose: marked" if documented[key][1] else "documented")
    print(f"{key:<33} {by:<8} {doc:<16} {where('users-service', key):<28} {where('posts-service', key)}")

for key in read_keys:
    readers = [svc for svc in SERVICES if key in reads[svc]]
    if key not in documented:
        problems.append(f"{key}: read by {' and '.join(readers)} ({', '.join(sorted(origin[key]))}) "
                        f"but not documented in .env.example (a `# {key}=<default>` line)")
        continue
    value, mark = documented[key]
    taking = [svc for svc in readers if from_env(svc, key) is not False]
    if mark is None:
        for svc in readers:
            if svc not in taking:
                how = "sets it to a fixed value" if key in passed[svc] else "does not pass it"
                problems.append(f"{key}: read by {svc}, but docker-compose.yml {how}; pass it as "
                                f"`{key}: ${{{key}:-<the code's default>}}`, or mark its .env.example "
                                "line `# compose: <why not>`")
    elif taking and len(taking) == len(readers):
        problems.append(f"{key}: .env.example marks it `compose: {mark}`, but docker-compose.yml "
                        f"passes it from ${{{key}}} to {' and '.join(taking)}: drop the mark")
    for svc in taking:
        code_default, compose_default = reads[svc][key], from_env(svc, key)
        if code_default is not None and compose_default != code_default:
            problems.append(f"{key}: docker-compose.yml's default for {svc} is {compose_default!r}, "
                            f"the code's is {code_default!r}")
    defaults = {reads[svc][key] for svc in readers} - {None}
    if len(defaults) == 1 and re.fullmatch(r"-?[0-9]+", value):
        (code_default,) = defaults
        if re.fullmatch(r"-?[0-9]+", code_default) and value != code_default:
            problems.append(f"{key}: .env.example says {value}, the code's default is {code_default}")

for svc in SERVICES:
    for key in passed[svc]:
        if key not in reads[svc]:
            problems.append(f"{key}: docker-compose.yml passes it to {svc}, which does not read it")
for key in sorted(interpolated):
    if key not in documented:
        problems.append(f"{key}: docker-compose.yml takes ${{{key}}} from the environment, "
                        "but .env.example does not document it")

print()
if problems:
    for p in problems:
        print(f"FAIL  {p}")
    print(f"\ncheck-settings: {len(problems)} problem(s)")
    sys.exit(1)
print(f"check-settings: ok: {len(read_keys)} variables read by the code, all documented; "
      "docker-compose.yml passes every one not marked `# compose:` with the code's defaults")
PY
