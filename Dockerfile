# One Dockerfile for both services. Each service is a build target:
#
#   docker build --target users-service -t users-service:dev .
#   docker build --target posts-service -t posts-service:dev .
#
# or, the same thing with a build argument:
#
#   docker build --build-arg SERVICE=posts-service -t posts-service:dev .
#
# Stages: chef (toolchain + cargo-chef) -> planner (recipe.json: the dependency graph only)
# -> builder (dependencies compiled in their own cached layer, then the workspace)
# -> rootfs (what a dynamically linked binary needs: glibc, the CA bundle, a passwd line)
# -> users-service / posts-service (that root file system plus one binary, from scratch).
# No key and no secret is baked in: secrets come from the environment or from *_FILE
# paths at run time, and no DATABASE_URL is set here, so compose's DATABASE_URL_FILE is
# never shadowed (a service refuses to start when given both).

# Which runtime image a plain `docker build` (no --target) produces.
ARG SERVICE=users-service

# Builder and runtime on the same Debian line (13, trixie): the binary links the glibc
# it is run with.
FROM rust:1-trixie AS chef
# SQLite, libpq and the OpenSSL libpq uses for TLS are compiled from source by their
# crates (bundled / vendored), so the builder needs only the C compiler, make and perl the
# rust image already has: no libpq-dev, no libssl-dev.
RUN cargo install cargo-chef --locked --version ~0.1
WORKDIR /app

FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
COPY --from=planner /app/recipe.json recipe.json
# The build settings (SQLite's compile-time options) apply to the dependency layer too.
COPY .cargo .cargo
# Dependencies only: this layer is rebuilt only when Cargo.toml/Cargo.lock change.
RUN cargo chef cook --release --locked --workspace --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked -p users-service -p posts-service \
    && mkdir -p /out \
    && objcopy --strip-debug target/release/users-service /out/users-service \
    && objcopy --strip-debug target/release/posts-service /out/posts-service

# The runtime's root file system, distroless-style: the shared libraries the binaries
# load (found with ldd, so nothing is guessed), CA certificates, a passwd and group entry
# for uid 10001, /tmp, and each service's data folder owned by that uid. No shell, no
# package manager: `<service> healthcheck` is the healthcheck.
FROM debian:trixie-slim AS rootfs
# A failing ldd must fail the build: its list is taken in an assignment (which set -e
# and pipefail see, unlike a `for` list) and must not be empty.
SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=builder /out/ /out/
# hadolint ignore=SC2016
RUN set -eu; \
    mkdir -p /rootfs/etc/ssl/certs /rootfs/tmp /rootfs/usr/local/bin; \
    chmod 1777 /rootfs/tmp; \
    libs=$(ldd /out/users-service /out/posts-service | awk '$2 == "=>" { print $3 } $1 ~ /^\/.*[^:]$/ { print $1 }' | sort -u); \
    test -n "$libs"; \
    for lib in $libs; do \
        cp --parents -L "$lib" /rootfs/; \
    done; \
    cp /etc/ssl/certs/ca-certificates.crt /rootfs/etc/ssl/certs/; \
    printf 'root:x:0:0:root:/root:/sbin/nologin\napp:x:10001:10001:app:/nonexistent:/sbin/nologin\n' >/rootfs/etc/passwd; \
    printf 'root:x:0:\napp:x:10001:\n' >/rootfs/etc/group; \
    printf 'hosts: files dns\n' >/rootfs/etc/nsswitch.conf; \
    install -d -o 10001 -g 10001 -m 0700 /rootfs/var/lib/users-service /rootfs/var/lib/users-service/keys \
        /rootfs/var/lib/posts-service

# What both runtime images share.
FROM scratch AS runtime
COPY --from=rootfs /rootfs/ /
# Production unless told otherwise: the service then refuses to start without a signing
# key or with short secrets instead of inventing them. docker-compose.yml sets development.
ENV APP_ENV=production \
    RUST_LOG=info \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt

FROM runtime AS users-service
COPY --from=builder /out/users-service /usr/local/bin/users-service
# The working folder holds the SQLite file when DATABASE_URL is unset (a plain
# `docker run`); compose and Kubernetes point DATABASE_URL(_FILE) at PostgreSQL.
WORKDIR /var/lib/users-service
ENV BIND_ADDR=0.0.0.0:8081 \
    JWT_KEYS_DIR=/var/lib/users-service/keys
USER 10001:10001
EXPOSE 8081
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/users-service", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/users-service"]

FROM runtime AS posts-service
COPY --from=builder /out/posts-service /usr/local/bin/posts-service
WORKDIR /var/lib/posts-service
ENV BIND_ADDR=0.0.0.0:8082
USER 10001:10001
EXPOSE 8082
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/posts-service", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/posts-service"]

# `docker build` without --target: the service named by the SERVICE build argument.
FROM ${SERVICE}
