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
# -> users-service / posts-service (debian slim, the binary, nothing else).
# No key and no secret is baked in: the signing key lives in a volume, secrets come from
# the environment or from *_FILE paths at run time.

# Which runtime image a plain `docker build` (no --target) produces.
ARG SERVICE=users-service

FROM rust:1-bookworm AS chef
# libpq-dev + pkg-config: diesel's PostgreSQL backend links libpq. SQLite is compiled in.
# (Debian versions are not pinned: a point release removes the old ones.)
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq-dev pkg-config \
    && rm -rf /var/lib/apt/lists/*
RUN cargo install cargo-chef --locked
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
RUN cargo build --release --locked -p users-service -p posts-service

# What both runtime images share.
FROM debian:bookworm-slim AS runtime
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates libpq5 \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin app
# Production unless told otherwise: the service then refuses to start without a signing
# key or with short secrets instead of inventing them. docker-compose.yml sets development.
ENV APP_ENV=production \
    RUST_LOG=info

FROM runtime AS users-service
COPY --from=builder /app/target/release/users-service /usr/local/bin/users-service
# The data folder: the SQLite file (when DATABASE_URL is not postgres://) and the signing keys.
RUN install -d -o 10001 -g 10001 -m 0700 /var/lib/users-service /var/lib/users-service/keys
WORKDIR /var/lib/users-service
ENV BIND_ADDR=0.0.0.0:8081 \
    DATABASE_URL=/var/lib/users-service/users.db \
    JWT_KEYS_DIR=/var/lib/users-service/keys
USER 10001:10001
EXPOSE 8081
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/users-service", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/users-service"]

FROM runtime AS posts-service
COPY --from=builder /app/target/release/posts-service /usr/local/bin/posts-service
RUN install -d -o 10001 -g 10001 -m 0700 /var/lib/posts-service
WORKDIR /var/lib/posts-service
ENV BIND_ADDR=0.0.0.0:8082 \
    DATABASE_URL=/var/lib/posts-service/posts.db
USER 10001:10001
EXPOSE 8082
HEALTHCHECK --interval=10s --timeout=5s --start-period=20s --retries=3 \
    CMD ["/usr/local/bin/posts-service", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/posts-service"]

# `docker build` without --target: the service named by the SERVICE build argument.
FROM ${SERVICE}
