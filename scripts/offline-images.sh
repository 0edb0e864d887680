#!/usr/bin/env bash
# Makes every base image this repository names exist in the local Docker engine, for
# machines where no container registry answers.
#
#   scripts/offline-images.sh            ensure each image: present, else pulled, else a stand-in built
#   scripts/offline-images.sh --list     the names, where they are used and what is there now
#   scripts/offline-images.sh --test     check that the images under those names (real or
#                                        stand-in) do what this project relies on
#
# The names are read from the files, never listed here: the FROM lines of the Dockerfile
# (and COPY --from=<image>) and the `image:` lines of docker-compose.yml, minus scratch, the
# Dockerfile's own stage names, ${ARG} references and the images compose builds from it
# (users-service, posts-service). For each name, in this order:
#   1. `docker image inspect` finds it: nothing to do. (A stand-in found there is retried
#      with a pull first, so a real image replaces it as soon as a registry answers.)
#   2. `docker pull` (at most OFFLINE_IMAGES_PULL_TIMEOUT, 20 s) works: the real image.
#      After one registry fails on the network, its other names are not retried this run.
#   3. Neither: a STAND-IN is built under the exact name, with a loud banner, and labelled
#      io.identity.stand-in=true. Only these names are understood; any other fails loudly:
#        debian:<suite>[-slim]   Debian itself: `debootstrap --variant=minbase`, set up and
#                                slimmed like the official image, `docker import`ed
#        rust:<1|version>[-slim]-<suite>  debian:<suite>-slim + C toolchain + the HOST's
#                                Rust toolchain and CA bundle (deploy/offline-images/rust)
#        postgres:<major>[-alpine] Debian's postgresql-<major> + the official entrypoint's
#                                behaviour (deploy/offline-images/postgres)
#        nginx:<version>[-alpine] Debian's nginx + the official layout and template step
#                                (deploy/offline-images/nginx)
#        alpine:<version>        debian:<suite>-slim + busybox as /bin/sh and the applets
#                                (deploy/offline-images/alpine)
#      What each does and does not reproduce: docs/deployment.md, "Offline base images".
#
# A second run with everything present takes seconds and builds nothing.
# Settings (environment):
#   OFFLINE_IMAGES_PULL_TIMEOUT  seconds for one `docker pull` (20)
#   OFFLINE_IMAGES_SUITE         Debian suite the stand-ins are built on (trixie)
#   OFFLINE_IMAGES_REFRESH=1     debootstrap again instead of using the cached root file system
#   DEBIAN_MIRROR                mirror for debootstrap (default: debootstrap's own); the
#                                images' apt sources are the ones debootstrap writes
#   XDG_CACHE_HOME               the debootstrap tarballs are cached in
#                                ${XDG_CACHE_HOME:-~/.cache}/identity-offline-images
# Building debian:* needs root (debootstrap; installed with apt-get when missing); the
# Rust stand-in needs rustc and cargo on the host. Run by scripts/test-compose.sh.
set -euo pipefail
shopt -s inherit_errexit

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
dockerfile=$root/Dockerfile
compose_file=$root/docker-compose.yml
standins=$root/deploy/offline-images
cache=${XDG_CACHE_HOME:-$HOME/.cache}/identity-offline-images
pull_timeout=${OFFLINE_IMAGES_PULL_TIMEOUT:-20}
suite=${OFFLINE_IMAGES_SUITE:-trixie}
# The PATH of the official Debian image.
debian_path=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin

log() { printf 'offline-images: %s\n' "$*"; }
die() {
    printf 'offline-images: error: %s\n' "$*" >&2
    exit 1
}

mode=ensure
case ${1:-} in
'') ;;
--list) mode=list ;;
--test) mode=check ;;
-h | --help)
    sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "${BASH_SOURCE[0]}"
    exit 0
    ;;
*)
    echo "usage: $0 [--list | --test | --help]" >&2
    exit 2
    ;;
esac

# Temporary folders, removed on exit; never through a mount point (debootstrap mounts
# /proc and /sys inside its target while it runs).
temps=()
remove_tree() {
    local dir=$1 mnt
    [[ -d $dir ]] || return 0
    while read -r mnt; do
        umount -l "$mnt" 2>/dev/null || true
    done < <(awk -v d="$dir/" 'index($2, d) == 1 { print $2 }' /proc/mounts | sort -r)
    rm -rf --one-file-system "$dir"
}
cleanup() {
    local dir
    for dir in "${temps[@]}"; do remove_tree "$dir"; done
}
trap cleanup EXIT

# --- the names the files use -------------------------------------------------------------

# Stage names of the Dockerfile (FROM … AS name), lower-cased.
dockerfile_stages() {
    awk 'toupper($1) == "FROM" { for (i = 2; i < NF; i++) if (toupper($i) == "AS") print tolower($(i + 1)) }' "$dockerfile"
}

# Every external image of the Dockerfile: FROM and COPY --from=, minus stages, scratch and
# ${ARG} references (FROM ${SERVICE} names a stage), and a `# syntax=` frontend image.
dockerfile_images() {
    awk '
        # Parser directives: only the comment lines of the form "# key=value" at the very top.
        directives && /^#[ \t]*[A-Za-z]+[ \t]*=/ {
            if (tolower($0) ~ /^#[ \t]*syntax[ \t]*=/) { sub(/^#[ \t]*[A-Za-z]+[ \t]*=[ \t]*/, ""); ref[++n] = $1 }
            next
        }
        { directives = 0 }
        toupper($1) == "FROM" {
            i = 2
            while ($i ~ /^--/) i++
            ref[++n] = $i
            for (j = i + 1; j < NF; j++) if (toupper($j) == "AS") stage[tolower($(j + 1))] = 1
        }
        toupper($1) == "COPY" || toupper($1) == "ADD" {
            for (i = 2; i <= NF; i++) if ($i ~ /^--from=/) { sub(/^--from=/, "", $i); ref[++n] = $i }
        }
        END {
            for (k = 1; k <= n; k++) {
                r = ref[k]
                if (tolower(r) in stage || tolower(r) == "scratch" || r ~ /\$/ || r ~ /^[0-9]+$/) continue
                print r
            }
        }' directives=1 "$dockerfile"
}

# Every `image:` of docker-compose.yml, minus the images compose builds from the
# Dockerfile (their repository is one of its stage names). An unresolved ${…} in any other
# name cannot be stood in for.
compose_images() {
    local stages image repo
    stages=$(dockerfile_stages)
    sed -n -E "s/^[[:space:]]*image:[[:space:]]*['\"]?([^'\"#[:space:]]+).*/\1/p" "$compose_file" |
        while read -r image; do
            repo=${image%%:*}
            if grep -qxF "$repo" <<<"$stages"; then
                continue
            fi
            [[ $image != *'$'* ]] || die "docker-compose.yml: image '$image' has a variable in it; cannot stand in for it"
            printf '%s\n' "$image"
        done
}

# All names, each once, with the Debian bases first (the other stand-ins build on them).
image_names() {
    [[ -f $dockerfile ]] || die "no $dockerfile"
    [[ -f $compose_file ]] || die "no $compose_file"
    { dockerfile_images && compose_images; } | awk '!seen[$0]++' |
        awk '/^debian:/ { print; next } { rest[++n] = $0 } END { for (i = 1; i <= n; i++) print rest[i] }'
}

# --- what stands in for what -------------------------------------------------------------

# The kind of stand-in for a name, or failure when there is none.
standin_kind() {
    case $1 in
    debian:[a-z]*) [[ $1 =~ ^debian:[a-z]+(-slim)?$ ]] && echo debian ;;
    rust:*) [[ $1 =~ ^rust:[0-9][0-9.]*(-slim)?-[a-z]+$ ]] && echo rust ;;
    postgres:*) [[ $1 =~ ^postgres:[0-9]+(\.[0-9]+)?(-alpine[0-9.]*|-[a-z]+)?$ ]] && echo postgres ;;
    nginx:*) [[ $1 =~ ^nginx:[0-9][0-9.]*(-alpine[0-9.]*|-[a-z]+)?$ ]] && echo nginx ;;
    alpine:*) [[ $1 =~ ^alpine:[0-9][0-9.]*$ ]] && echo alpine ;;
    *) return 1 ;;
    esac
}

have_image() { docker image inspect "$1" >/dev/null 2>&1; }

is_standin() {
    [[ $(docker image inspect --format '{{ index .Config.Labels "io.identity.stand-in" }}' "$1" 2>/dev/null) == true ]]
}

# The registry a name is pulled from.
registry_of() {
    local first=${1%%/*}
    if [[ $1 == */* && ($first == *.* || $first == *:* || $first == localhost) ]]; then
        echo "$first"
    else
        echo docker.io
    fi
}

declare -A unreachable=()
try_pull() {
    local name=$1 registry out rc
    registry=$(registry_of "$name")
    if [[ -n ${unreachable[$registry]:-} ]]; then
        log "$name: not pulling, $registry did not answer"
        return 1
    fi
    log "$name: pulling (at most ${pull_timeout}s)"
    if out=$(timeout "$pull_timeout" docker pull --quiet "$name" 2>&1); then
        log "$name: pulled the real image"
        return 0
    else
        rc=$?
    fi
    if ((rc == 124)) || grep -qiE 'dial tcp|no such host|server misbehaving|timeout|deadline exceeded|connection refused|connection reset|network is unreachable|TLS handshake|x509|proxyconnect|toomanyrequests' <<<"$out"; then
        unreachable[$registry]=1
    fi
    log "$name: pull failed: $(head -n 1 <<<"$out")"
    return 1
}

# Build arguments docker predefines for proxies, passed on when set (not kept in the image).
proxy_args=()
for var in http_proxy HTTP_PROXY https_proxy HTTPS_PROXY no_proxy NO_PROXY; do
    if [[ -n ${!var:-} ]]; then proxy_args+=(--build-arg "$var"); fi
done

banner() {
    local line='################################################################################'
    printf '\n%s\n# STAND-IN: %s is not the official image; built because no registry answered\n' "$line" "$1"
    printf '#   %s\n%s\n\n' "$2" "$line"
}

label_args() {
    printf '%s\n' --label io.identity.stand-in=true --label "io.identity.stand-in.for=$1" \
        --label "org.opencontainers.image.description=STAND-IN for $1 built by scripts/offline-images.sh"
}

# docker build NAME CONTEXT [ARGS...] with the stand-in labels.
build_image() {
    local name=$1 context=$2 labels
    shift 2
    mapfile -t labels < <(label_args "$name")
    docker build --tag "$name" "${labels[@]}" "${proxy_args[@]}" "$@" "$context"
}

# debian:SUITE-slim, the base of the other stand-ins: made first when missing.
ensure_base() {
    local base=debian:$1-slim
    if ! have_image "$base" && ! try_pull "$base"; then
        build_standin "$base"
    fi
}

# --- debian: debootstrap, minimised and slimmed like the official image -------------------

# debuerreotype's minimizing-config and fixup: no service starts in `docker build`, no
# apt caches or translations, no logs or host files (resolv.conf, hostname) from the build.
minimize_root() {
    local t=$1
    cat >"$t/usr/sbin/policy-rc.d" <<'EOF'
#!/bin/sh

# For most Docker users, "apt-get install" only happens during "docker build",
# where starting services doesn't work and often fails in humorous ways. This
# prevents those failures by stopping the services from attempting to start.

exit 101
EOF
    chmod 0755 "$t/usr/sbin/policy-rc.d"
    printf '# Package installs happen in "docker build": no sync() after each file.\nforce-unsafe-io\n' \
        >"$t/etc/dpkg/dpkg.cfg.d/docker-apt-speedup"
    printf '# Remove packages pulled in only as Suggests of others.\nApt::AutoRemove::SuggestsImportant "false";\n' \
        >"$t/etc/apt/apt.conf.d/docker-autoremove-suggests"
    local clean='"rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true";'
    cat >"$t/etc/apt/apt.conf.d/docker-clean" <<EOF
# Effectively "apt-get clean" after every install: caches would only bloat image layers.
DPkg::Post-Invoke { $clean };
APT::Update::Post-Invoke { $clean };

Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    printf '# Keep the package lists compressed on disk.\nAcquire::GzipIndexes "true";\n' \
        >"$t/etc/apt/apt.conf.d/docker-gzip-indexes"
    printf '# No translation files.\nAcquire::Languages "none";\n' >"$t/etc/apt/apt.conf.d/docker-no-languages"
    chmod 0644 "$t"/etc/dpkg/dpkg.cfg.d/docker-* "$t"/etc/apt/apt.conf.d/docker-*

    local dir
    for dir in dev proc sys; do
        if mountpoint -q "$t/$dir"; then die "$t/$dir is still mounted"; fi
        find "$t/$dir" -mindepth 1 -delete
    done
    find "$t/var/cache/apt" "$t/var/lib/apt/lists" -type f -delete
    rm -f "$t/var/log/dpkg.log" "$t/var/log/bootstrap.log" "$t/var/log/alternatives.log" \
        "$t/var/log/apt/history.log" "$t/var/log/apt/term.log" "$t/var/cache/ldconfig/aux-cache" \
        "$t/etc/apt/apt.conf.d/01autoremove-kernels" "$t/run/mount/utab"
    rm -rf "$t/debootstrap" "$t/tmp/"* "$t/var/tmp/"*
    # The engine provides these at run time.
    : >"$t/etc/resolv.conf"
    : >"$t/etc/hostname"
}

# debuerreotype's slimify: documentation, man pages and translations removed, and a dpkg
# configuration that keeps packages installed later from bringing them back.
slim_excludes=(/usr/share/doc/'*' /usr/share/groff/'*' /usr/share/info/'*' /usr/share/linda/'*'
    /usr/share/lintian/overrides/'*' /usr/share/locale/'*' /usr/share/man/'*')
slim_includes=(/usr/share/doc/'*'/copyright /usr/share/locale/locale.alias
    /usr/share/locale/all_languages /usr/share/locale/currency/'*' /usr/share/locale/l10n/'*'
    /usr/share/locale/languages)
slimify_root() {
    local t=$1 pattern keep=()
    {
        echo '# This is the "slim" variant of the Debian base image.'
        echo '# Many files which are normally unnecessary in containers are excluded,'
        echo '# and this configuration file keeps them that way.'
        for pattern in "${slim_excludes[@]}"; do echo "path-exclude $pattern"; done
        for pattern in "${slim_includes[@]}"; do echo "path-include $pattern"; done
    } >"$t/etc/dpkg/dpkg.cfg.d/docker"
    for pattern in "${slim_includes[@]}"; do
        ((${#keep[@]} == 0)) || keep+=(-o)
        keep+=(-path "$t$pattern")
    done
    for pattern in "${slim_excludes[@]}"; do
        local dir=$t${pattern%/\*}
        [[ -d $dir ]] || continue
        find "$dir" -depth -mindepth 1 -not \( "${keep[@]}" \) -not \( -type d -o -type l \) -delete
        # Then empty folders and dangling links, until there are none.
        while [[ -n $(find "$dir" -depth -mindepth 1 \( -empty -o -xtype l \) -print -delete) ]]; do :; done
    done
}

tar_root() {
    tar --create --file "$2.part" --directory "$1" --numeric-owner --sort=name \
        --xattrs --xattrs-include=security.capability .
    mv "$2.part" "$2"
}

# debootstrap once; both tarballs (debian:<suite> and debian:<suite>-slim) into the cache.
debootstrap_tarballs() {
    local s=$1 work
    [[ $(id -u) == 0 ]] || die "building debian:$s needs root (debootstrap); run this as root"
    if ! command -v debootstrap >/dev/null; then
        log "installing debootstrap"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
    fi
    [[ -e /usr/share/debootstrap/scripts/$s ]] || die "debootstrap on this machine does not know the suite '$s'"
    mkdir -p "$cache"
    work=$(mktemp -d "$cache/rootfs.XXXXXX")
    temps+=("$work")
    local mirror=()
    if [[ -n ${DEBIAN_MIRROR:-} ]]; then mirror=("$DEBIAN_MIRROR"); fi
    local from="debootstrap's default mirror"
    if [[ -n ${DEBIAN_MIRROR:-} ]]; then from=$DEBIAN_MIRROR; fi
    log "debootstrap --variant=minbase $s from $from; about a minute"
    if ! debootstrap --variant=minbase "$s" "$work/root" "${mirror[@]}" >"$work/debootstrap.log" 2>&1; then
        tail -n 20 "$work/debootstrap.log" >&2
        [[ ! -f $work/root/debootstrap/debootstrap.log ]] || tail -n 20 "$work/root/debootstrap/debootstrap.log" >&2
        die "debootstrap $s failed"
    fi
    minimize_root "$work/root"
    tar_root "$work/root" "$cache/debian-$s.tar"
    slimify_root "$work/root"
    tar_root "$work/root" "$cache/debian-$s-slim.tar"
    remove_tree "$work"
    log "cached $cache/debian-$s.tar and debian-$s-slim.tar"
}

build_debian() {
    local name=$1 tag s tarball labels=() slimmed=''
    tag=${name#debian:}
    s=${tag%-slim}
    if [[ $tag == *-slim ]]; then slimmed=', slimmed'; fi
    tarball=$cache/debian-$tag.tar
    banner "$name" "Debian $s: debootstrap --variant=minbase$slimmed, as the official image is made (debuerreotype)"
    if [[ ! -s $tarball || -n ${OFFLINE_IMAGES_REFRESH:-} ]]; then
        debootstrap_tarballs "$s"
    else
        log "$name: using the cached $tarball (OFFLINE_IMAGES_REFRESH=1 to debootstrap again)"
    fi
    labels=(--change "LABEL io.identity.stand-in=true io.identity.stand-in.for=$name"
        --change "LABEL org.opencontainers.image.description=\"STAND-IN for $name built by scripts/offline-images.sh\"")
    docker import "${labels[@]}" --change "ENV PATH=$debian_path" --change 'CMD ["bash"]' \
        --message "debootstrap --variant=minbase $s (scripts/offline-images.sh)" "$tarball" "$name" >/dev/null
    docker run --rm "$name" bash -c '. /etc/os-release && echo "$PRETTY_NAME"'
}

# --- rust: the builder, with the host's toolchain ------------------------------------------

build_rust() {
    local name=$1 tag want release triple sysroot base context
    tag=${name#rust:}
    want=${tag%%-*}
    base=debian:${tag##*-}-slim
    command -v rustc >/dev/null || die "$name: the stand-in copies the host's Rust toolchain, and rustc is not on PATH"
    release=$(cd "$root" && rustc -vV | sed -n 's/^release: //p')
    triple=$(cd "$root" && rustc -vV | sed -n 's/^host: //p')
    sysroot=$(cd "$root" && rustc --print sysroot)
    [[ $release == "$want" || $release == "$want".* ]] ||
        die "$name: the host's Rust is $release, which is not $want; install that toolchain or change the tag"
    [[ -x $sysroot/bin/cargo ]] || die "$name: no cargo in the host toolchain $sysroot"
    [[ -s /etc/ssl/certs/ca-certificates.crt ]] || die "$name: no host CA bundle /etc/ssl/certs/ca-certificates.crt"
    ensure_base "${tag##*-}"
    banner "$name" "$base + gcc/make/perl/pkg-config/git + the HOST's Rust $release ($sysroot) + the host's CA bundle"
    context=$(mktemp -d)
    temps+=("$context")
    cp "$standins/rust/Dockerfile" "$context/Dockerfile"
    cp /etc/ssl/certs/ca-certificates.crt "$context/ca-certificates.crt"
    # One tar stream as the build context: the toolchain is not copied to disk first. Its
    # HTML documentation (rust-docs, ~0.8 GB) is left out: the official image has none.
    # Everything is made writable for all here (the Dockerfile sets the CA bundle back to
    # 0644): a chmod in the image would copy the whole toolchain into a second layer.
    local labels
    mapfile -t labels < <(label_args "$name")
    tar --create --file - --mode=a+w --directory "$context" Dockerfile ca-certificates.crt \
        --directory "$sysroot" --exclude=./share/doc --transform='flags=rh;s,^\.,toolchain,' . |
        docker build --tag "$name" "${labels[@]}" "${proxy_args[@]}" --build-arg "BASE=$base" \
            --build-arg "RUST_VERSION=$release" --build-arg "RUST_TRIPLE=$triple" -
    docker run --rm "$name" sh -c 'cargo --version && rustc --version'
    if docker run --rm "$name" sh -c "$cargo_fetch_check" >/dev/null 2>&1; then
        log "$name: cargo downloads crates from a container"
    else
        log "WARNING: $name: cargo could not download a crate in a container: \`docker build\` will fail the same way"
    fi
}

# A crate downloaded from the registry, in a new project (`cargo search` is not used: the
# registry proxies of some machines do not serve the search API).
cargo_fetch_check='set -eu; cd /tmp; cargo new --quiet fetch-check; cd fetch-check
printf "itoa = \"1\"\n" >>Cargo.toml; cargo fetch'


# --- postgres, nginx, alpine ---------------------------------------------------------------

build_postgres() {
    local name=$1 tag major uid=999 s=$suite base
    tag=${name#postgres:}
    major=${tag%%[.-]*}
    # The alpine variant's uid; a Debian variant (postgres:17-bookworm) names its suite.
    if [[ $tag == *-alpine* ]]; then uid=70; elif [[ $tag == *-* ]]; then s=${tag##*-}; fi
    base=debian:$s-slim
    ensure_base "$s"
    banner "$name" "Debian's postgresql-$major on $base, postgres uid $uid, the official entrypoint's documented behaviour"
    if [[ $tag == *.* ]]; then log "WARNING: $name pins a minor version; the stand-in has whatever $major.x Debian $s ships"; fi
    build_image "$name" "$standins/postgres" --build-arg "BASE=$base" --build-arg "PG_MAJOR=$major" --build-arg "PG_UID=$uid"
    docker run --rm "$name" postgres --version
}

build_nginx() {
    local name=$1 tag s=$suite base version
    tag=${name#nginx:}
    if [[ $tag == *-* && $tag != *-alpine* ]]; then s=${tag##*-}; fi
    base=debian:$s-slim
    ensure_base "$s"
    banner "$name" "Debian's nginx on $base (Debian's version, not ${name#nginx:}), the official layout and template step"
    build_image "$name" "$standins/nginx" --build-arg "BASE=$base"
    version=$(docker run --rm --entrypoint nginx "$name" -v 2>&1)
    log "$name: is ${version#nginx version: } (Debian $s), standing in for nginx ${tag%%-*}"
}

build_alpine() {
    local name=$1 base=debian:$suite-slim
    ensure_base "$suite"
    banner "$name" "$base + busybox: /bin/sh and the commands are busybox's, the C library is glibc, no apk"
    build_image "$name" "$standins/alpine" --build-arg "BASE=$base"
    docker run --rm "$name" sh -c 'echo "/bin/sh -> $(readlink -f /bin/sh)"'
}

build_standin() {
    local name=$1 kind
    kind=$(standin_kind "$name") || die "$name: neither present nor pullable, and this script knows no stand-in for it"
    "build_$kind" "$name"
    built+=("$name")
}

# --- modes --------------------------------------------------------------------------------

list_images() {
    local names from_dockerfile name where state
    names=$(image_names)
    from_dockerfile=$(dockerfile_images)
    while read -r name; do
        where=compose
        if grep -qxF "$name" <<<"$from_dockerfile"; then where=Dockerfile; fi
        if ! have_image "$name"; then
            state=missing
        elif is_standin "$name"; then
            state="STAND-IN ($(docker image inspect --format '{{.Size}}' "$name" | awk '{ printf "%d MB", $1 / 1e6 }'))"
        else
            state=present
        fi
        printf '%-24s %-11s %s\n' "$name" "$where" "$state"
    done <<<"$names"
}

ensure_images() {
    local list names name missing=()
    list=$(image_names)
    [[ -n $list ]] || die "no image names found in $dockerfile or $compose_file"
    mapfile -t names <<<"$list"
    log "names in use: ${names[*]}"
    for name in "${names[@]}"; do
        if have_image "$name"; then
            if is_standin "$name"; then
                # A real image beats a stand-in as soon as a registry answers.
                try_pull "$name" || log "$name: present (stand-in)"
            else
                log "$name: present"
            fi
        elif ! try_pull "$name"; then
            missing+=("$name")
        fi
    done
    # Every stand-in known before any is built.
    for name in "${missing[@]}"; do
        standin_kind "$name" >/dev/null ||
            die "$name: neither present nor pullable, and this script knows no stand-in for it (it knows debian:<suite>[-slim], rust:<version>-<suite>, postgres:<major>-alpine, nginx:<version>-alpine, alpine:<version>)"
    done
    for name in "${missing[@]}"; do
        # debian:<suite>-slim may have been built already as another stand-in's base.
        if ! have_image "$name"; then build_standin "$name"; fi
    done
    if ((${#built[@]})); then
        printf '\n'
        log "built ${#built[@]} STAND-IN image(s): ${built[*]}"
        log "they are not the official images; see docs/deployment.md, \"Offline base images\""
    else
        log "nothing to build"
    fi
}

# --test: behaviour this project relies on, checked on whatever is under each name.
passed=0
failed=0
check() {
    local what=$1 out
    shift
    if out=$("$@" 2>&1); then
        printf 'PASS  %s\n' "$what"
        passed=$((passed + 1))
    else
        printf 'FAIL  %s\n' "$what"
        while IFS= read -r line; do printf '      %s\n' "$line"; done <<<"$(tail -n 15 <<<"$out")"
        failed=$((failed + 1))
    fi
}

test_debian() {
    local s=${1#debian:}
    s=${s%-slim}
    # shellcheck disable=SC2016 # expanded in the container
    check "$1: Debian $s with apt" docker run --rm "$1" bash -c \
        '. /etc/os-release && [ "$VERSION_CODENAME" = "$0" ] && apt-get --version | head -n 1' "$s"
}

test_rust() {
    check "$1: cargo, rustc, cc, objcopy, make, perl, pkg-config on PATH" docker run --rm "$1" sh -euc \
        'cargo --version; rustc --version; cc --version | head -n 1; objcopy --version | head -n 1
         make --version | head -n 1; perl -e "print qq(perl \$^V\n)"; pkg-config --version'
    check "$1: cargo builds a program (links with cc)" docker run --rm "$1" sh -euc \
        'cd /tmp && cargo new --quiet hello && cd hello && cargo build --quiet && ./target/debug/hello'
    check "$1: cargo downloads a crate (the CA bundle works through the proxy)" docker run --rm "$1" sh -c "$cargo_fetch_check"
}

# postgres, alpine (the secrets one-shot) and nginx, through the repository's own
# docker-compose.yml, in a project of its own (removed at the end, volumes included).
test_project=identity-offline-images-test
compose=(docker compose -f "$compose_file" -p "$test_project")
gateway_check=$test_project-gateway-check
compose_down() {
    docker rm -f "$gateway_check" >/dev/null 2>&1 || true
    "${compose[@]}" down -v --remove-orphans >/dev/null 2>&1 || true
}
logs_say() { "${compose[@]}" logs "$1" | grep -F "$2"; }
# psql ROLE [ARGS...] inside the postgres container, with that role's password from the
# secrets, over the container's network address: the "host all all all" line (loopback and
# the socket are trust, as in the official image). A caller's local psql_password
# replaces the role's own.
psql_as() {
    local role=$1
    shift
    # shellcheck disable=SC2016 # expanded in the container
    "${compose[@]}" exec -T -e "ROLE=$role" -e "WANT_PASSWORD=${psql_password:-}" postgres sh -c \
        'PGPASSWORD=${WANT_PASSWORD:-$(cat "/run/secrets/$ROLE-db-password")} exec psql -h postgres -U "$ROLE" -v ON_ERROR_STOP=1 "$@"' \
        psql "$@"
}
row_survived() { [[ $(psql_as users -d users -Atc 'SELECT n FROM offline_images_check') == 42 ]]; }
restart_postgres() { "${compose[@]}" down && "${compose[@]}" up -d --wait --wait-timeout 120 postgres; }
# Each succeeds only on the failure it names.
refuses_without_password() {
    local out
    if out=$(docker run --rm "$1" 2>&1); then return 1; fi
    grep -F 'superuser password is not specified' <<<"$out"
}
wrong_password_refused() {
    local out psql_password=wrong
    if out=$(psql_as users -d users -c 'SELECT 1' 2>&1); then return 1; fi
    grep -F 'password authentication failed for user "users"' <<<"$out"
}
posts_kept_out_of_users() {
    local out
    if out=$(psql_as posts -d users -c 'SELECT 1' 2>&1); then return 1; fi
    grep -F 'permission denied for database "users"' <<<"$out"
}
gateway_healthy() {
    local _
    for _ in 1 2 3 4 5 6 7 8 9 10; do
        docker exec "$gateway_check" wget -q -O /dev/null http://127.0.0.1:8080/gateway/health && return 0
        sleep 1
    done
    return 1
}
gateway_logs_to_stdout() { docker logs "$gateway_check" 2>/dev/null | grep -F 'Configuration complete'; }

test_compose() {
    local postgres_image=$1
    compose_down
    trap 'compose_down; cleanup' EXIT

    check "compose: secrets one-shot (alpine) and postgres up, healthy" \
        "${compose[@]}" up -d --wait --wait-timeout 120 postgres
    check "secrets: the script ran to its end under /bin/sh" logs_say secrets 'secrets: ready'
    check "postgres: init script ran from /docker-entrypoint-initdb.d" \
        logs_say postgres 'init-databases: created databases users and posts'
    # shellcheck disable=SC2016 # expanded in the container
    check "postgres: the server runs as the image's postgres user" "${compose[@]}" exec -T postgres sh -c \
        '[ "$(awk "/^Uid:/ { print \$2 }" /proc/1/status)" = "$(id -u postgres)" ] && id postgres'
    check "postgres: role users logs in with its password over TCP and writes" psql_as users -d users -Atc \
        'CREATE TABLE offline_images_check (n int); INSERT INTO offline_images_check VALUES (42); SELECT current_user'
    check "postgres: a wrong password is refused" wrong_password_refused
    check "postgres: role posts cannot connect to database users" posts_kept_out_of_users
    check "postgres: down + up (the volume kept)" restart_postgres
    check "postgres: the second start skipped initialisation" logs_say postgres 'Skipping initialization'
    check "postgres: the row written before the restart is there" row_survived
    check "postgres: refuses to initialise without a password" refuses_without_password "$postgres_image"

    # shellcheck disable=SC2016 # expanded in the container
    check "gateway: template rendered with only the defined variables, nginx -t" \
        "${compose[@]}" run --rm --no-deps -T gateway sh -c \
        '/docker-entrypoint.sh nginx -t && f=/etc/nginx/conf.d/gateway.conf &&
         grep -q "listen 8080;" $f && grep -q "resolver 127.0.0.11" $f &&
         grep -qF "\$remote_addr" $f && grep -qF "\$users_upstream" $f'
    check "gateway: starts" "${compose[@]}" run -d --no-deps --name "$gateway_check" gateway
    check "gateway: the compose healthcheck (wget /gateway/health) passes" gateway_healthy
    check "gateway: entrypoint log on stdout" gateway_logs_to_stdout
    check "gateway: an nginx user exists" docker exec "$gateway_check" id nginx
    compose_down
}

test_images() {
    local list names name postgres_image='' gateway_image=''
    list=$(image_names)
    mapfile -t names <<<"$list"
    for name in "${names[@]}"; do
        have_image "$name" || die "$name is missing: run $0 first"
        case $(standin_kind "$name" || echo other) in
        debian) test_debian "$name" ;;
        rust) test_rust "$name" ;;
        postgres) postgres_image=$name ;;
        nginx) gateway_image=$name ;;
        alpine) check "$name: /bin/sh is busybox" docker run --rm "$name" sh -c 'readlink -f /bin/sh | grep -q busybox' ;;
        *) log "$name: no test for it" ;;
        esac
    done
    if [[ -n $postgres_image && -n $gateway_image ]]; then
        test_compose "$postgres_image"
    fi
    printf '\noffline-images --test: %d passed, %d failed\n' "$passed" "$failed"
    ((failed == 0))
}

docker info >/dev/null 2>&1 || die "no Docker engine answers (scripts/docker-engine.sh starts one)"
built=()
case $mode in
list) list_images ;;
check) test_images ;;
ensure) ensure_images ;;
esac
