#!/usr/bin/env bash
# Entrypoint of the STAND-IN postgres image (deploy/offline-images/postgres), written to the
# documented behaviour of the official image's docker-entrypoint.sh:
#
#   POSTGRES_PASSWORD       superuser password; required on an empty data directory unless
#                           POSTGRES_HOST_AUTH_METHOD=trust (refuses to start otherwise)
#   POSTGRES_USER           superuser name (default postgres)
#   POSTGRES_DB             database created at initialisation (default: POSTGRES_USER)
#   POSTGRES_INITDB_ARGS    extra initdb arguments, e.g. "--data-checksums"
#   POSTGRES_INITDB_WALDIR  a separate WAL directory
#   POSTGRES_HOST_AUTH_METHOD  method of the "host all all all" pg_hba line appended after
#                           initdb's own lines (default: password_encryption, scram-sha-256)
#   X_FILE                  for the first four: read the value from that file (both = error)
#
# Started as root it fixes the ownership of PGDATA and /var/run/postgresql, then runs itself
# again as postgres (setpriv). On an empty data directory (no PG_VERSION): initdb, a
# temporary server on the unix socket only (listen_addresses=''), CREATE DATABASE
# POSTGRES_DB, every /docker-entrypoint-initdb.d/* in sorted order (*.sh executed when
# executable, else sourced; *.sql, *.sql.gz/.xz/.zst through psql with ON_ERROR_STOP),
# stop. Otherwise initialisation is skipped. Then `exec "$@"` (CMD: postgres, which reads
# listen_addresses='*' from the configuration initdb wrote).
set -Eeo pipefail

# A value from VAR or from the file named by VAR_FILE, never both; exported as VAR.
file_env() {
    local var=$1 file_var="${1}_FILE" default=${2:-}
    if [[ -n ${!var:-} && -n ${!file_var:-} ]]; then
        printf >&2 'error: both %s and %s are set (but are exclusive)\n' "$var" "$file_var"
        exit 1
    fi
    local value=$default
    if [[ -n ${!var:-} ]]; then
        value=${!var}
    elif [[ -n ${!file_var:-} ]]; then
        value=$(<"${!file_var}")
    fi
    export "$var"="$value"
    unset "$file_var"
}

# True when sourced (by another entrypoint) rather than executed.
is_sourced() {
    [[ ${#FUNCNAME[@]} -ge 2 && ${FUNCNAME[0]} == is_sourced && ${FUNCNAME[1]} == source ]]
}

docker_setup_env() {
    file_env POSTGRES_PASSWORD
    file_env POSTGRES_USER postgres
    file_env POSTGRES_DB "$POSTGRES_USER"
    file_env POSTGRES_INITDB_ARGS
    : "${POSTGRES_HOST_AUTH_METHOD:=}"
    DATABASE_ALREADY_EXISTS=
    if [[ -s $PGDATA/PG_VERSION ]]; then
        DATABASE_ALREADY_EXISTS=true
    fi
}

docker_create_db_directories() {
    mkdir -p "$PGDATA"
    chmod 00700 "$PGDATA" || :
    mkdir -p /var/run/postgresql || :
    chmod 03775 /var/run/postgresql || :
    if [[ -n ${POSTGRES_INITDB_WALDIR:-} ]]; then
        mkdir -p "$POSTGRES_INITDB_WALDIR"
        if [[ $(id -u) == 0 ]]; then
            find "$POSTGRES_INITDB_WALDIR" \! -user postgres -exec chown postgres '{}' +
        fi
        chmod 700 "$POSTGRES_INITDB_WALDIR"
    fi
    if [[ $(id -u) == 0 ]]; then
        find "$PGDATA" \! -user postgres -exec chown postgres '{}' +
        find /var/run/postgresql \! -user postgres -exec chown postgres '{}' +
    fi
}

docker_verify_minimum_env() {
    if [[ -z $POSTGRES_PASSWORD && $POSTGRES_HOST_AUTH_METHOD != trust ]]; then
        cat >&2 <<'EOE'
Error: Database is uninitialized and superuser password is not specified.
       You must specify POSTGRES_PASSWORD to a non-empty value for the
       superuser. For example, "-e POSTGRES_PASSWORD=password" on "docker run".

       You may also use "POSTGRES_HOST_AUTH_METHOD=trust" to allow all
       connections without a password. This is *not* recommended.

       See PostgreSQL documentation about "trust":
       https://www.postgresql.org/docs/current/auth-trust.html
EOE
        exit 1
    fi
    if [[ $POSTGRES_HOST_AUTH_METHOD == trust ]]; then
        printf >&2 'WARNING: POSTGRES_HOST_AUTH_METHOD=trust: every connection is allowed without a password.\n'
    elif ((${#POSTGRES_PASSWORD} >= 100)); then
        printf >&2 'WARNING: the superuser password is 100 characters or more; some clients cut it.\n'
    fi
}

docker_init_database_dir() {
    local args=()
    if [[ -n ${POSTGRES_INITDB_WALDIR:-} ]]; then
        args+=(--waldir "$POSTGRES_INITDB_WALDIR")
    fi
    # POSTGRES_INITDB_ARGS is a shell word list by contract ("--data-checksums -E UTF8").
    local extra=()
    if [[ -n $POSTGRES_INITDB_ARGS ]]; then
        eval "extra=($POSTGRES_INITDB_ARGS)"
    fi
    # --pwfile refuses an empty file, hence the newline.
    initdb --username="$POSTGRES_USER" --pwfile=<(printf '%s\n' "$POSTGRES_PASSWORD") \
        "${extra[@]}" "${args[@]}"
}

# Appends the network line; initdb's own lines (trust on the socket and loopback, unless
# POSTGRES_INITDB_ARGS says otherwise) stay first, as in the official image.
pg_setup_hba_conf() {
    if [[ ${1:-} == postgres ]]; then shift; fi
    local auth
    auth=$(postgres -C password_encryption "$@")
    : "${POSTGRES_HOST_AUTH_METHOD:=$auth}"
    {
        printf '\n'
        if [[ $POSTGRES_HOST_AUTH_METHOD == trust ]]; then
            printf '# warning trust is enabled for all connections\n'
        fi
        printf 'host all all all %s\n' "$POSTGRES_HOST_AUTH_METHOD"
    } >>"$PGDATA/pg_hba.conf"
}

docker_temp_server_start() {
    if [[ ${1:-} == postgres ]]; then shift; fi
    set -- "$@" -c listen_addresses='' -p "${PGPORT:-5432}"
    NOTIFY_SOCKET='' PGUSER="${PGUSER:-$POSTGRES_USER}" \
        pg_ctl -D "$PGDATA" -o "$(printf '%q ' "$@")" -w start
}

docker_temp_server_stop() {
    PGUSER="${PGUSER:-postgres}" pg_ctl -D "$PGDATA" -m fast -w stop
}

# psql as the superuser over the socket; POSTGRES_DB unless it is emptied for the call.
docker_process_sql() {
    local runner=(psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --no-password --no-psqlrc)
    if [[ -n $POSTGRES_DB ]]; then
        runner+=(--dbname "$POSTGRES_DB")
    fi
    PGHOST='' PGHOSTADDR='' "${runner[@]}" "$@"
}

docker_setup_db() {
    local db=$POSTGRES_DB exists
    exists=$(POSTGRES_DB='' docker_process_sql --dbname postgres --set db="$db" --tuples-only <<'EOSQL'
SELECT 1 FROM pg_database WHERE datname = :'db' ;
EOSQL
    )
    if [[ -z ${exists//[[:space:]]/} ]]; then
        POSTGRES_DB='' docker_process_sql --dbname postgres --set db="$db" <<'EOSQL'
CREATE DATABASE :"db" ;
EOSQL
        printf '\n'
    fi
}

docker_process_init_files() {
    # `psql` in a sourced script, for compatibility with scripts written for the official image.
    # shellcheck disable=SC2034
    psql=(docker_process_sql)
    printf '\n'
    local f
    for f; do
        case $f in
        *.sh)
            if [[ -x $f ]]; then
                printf '%s: running %s\n' "$0" "$f"
                "$f"
            else
                printf '%s: sourcing %s\n' "$0" "$f"
                # shellcheck disable=SC1090
                . "$f"
            fi
            ;;
        *.sql)
            printf '%s: running %s\n' "$0" "$f"
            docker_process_sql -f "$f"
            printf '\n'
            ;;
        *.sql.gz)
            printf '%s: running %s\n' "$0" "$f"
            gunzip -c "$f" | docker_process_sql
            printf '\n'
            ;;
        *.sql.xz)
            printf '%s: running %s\n' "$0" "$f"
            xzcat "$f" | docker_process_sql
            printf '\n'
            ;;
        *.sql.zst)
            printf '%s: running %s\n' "$0" "$f"
            zstd -dc "$f" | docker_process_sql
            printf '\n'
            ;;
        *) printf '%s: ignoring %s\n' "$0" "$f" ;;
        esac
        printf '\n'
    done
}

# -?, --help, --describe-config, -V, --version: just run postgres, no set-up.
pg_want_help() {
    local arg
    for arg; do
        case $arg in
        -'?' | --help | --describe-config | -V | --version) return 0 ;;
        esac
    done
    return 1
}

main() {
    if [[ ${1:0:1} == - ]]; then
        set -- postgres "$@"
    fi
    if [[ $1 == postgres ]] && ! pg_want_help "$@"; then
        docker_setup_env
        docker_create_db_directories
        if [[ $(id -u) == 0 ]]; then
            # The same script again, as postgres: the *_FILE values are already in the env.
            HOME=/var/lib/postgresql exec setpriv --reuid=postgres --regid=postgres --init-groups \
                "${BASH_SOURCE[0]}" "$@"
        fi
        if [[ -z $DATABASE_ALREADY_EXISTS ]]; then
            docker_verify_minimum_env
            # Fail now, not half-way, when the init folder is unreadable.
            ls /docker-entrypoint-initdb.d/ >/dev/null
            docker_init_database_dir
            pg_setup_hba_conf "$@"
            # For psql when POSTGRES_INITDB_ARGS asks for a password on the socket too.
            export PGPASSWORD="${PGPASSWORD:-$POSTGRES_PASSWORD}"
            docker_temp_server_start "$@"
            docker_setup_db
            shopt -s nullglob
            docker_process_init_files /docker-entrypoint-initdb.d/*
            shopt -u nullglob
            docker_temp_server_stop
            unset PGPASSWORD
            printf '\nPostgreSQL init process complete; ready for start up.\n\n'
        else
            printf '\nPostgreSQL Database directory appears to contain a database; Skipping initialization\n\n'
        fi
    fi
    exec "$@"
}

if ! is_sourced; then
    main "$@"
fi
