#!/usr/bin/env bash
# Writes the env files kustomization.yaml's secretGenerator reads, with random values:
#   secrets/postgres.env  secrets/users-service.env  secrets/posts-service.env
# A file that exists is never overwritten; a missing one is made to agree with the others
# (users-service's OAUTH_CLIENTS holds posts-service's POSTS_CLIENT_SECRET). users-service's
# JWT_KEYS_ENCRYPTION_KEY (base64 of 32 random bytes) seals the signing keys in its
# database: a users-service.env from before it gets the line added, never a new value for
# an existing one (that would make the keys in the database unreadable). The files are
# git-ignored (secrets/.gitignore); secrets/*.env.example show their shape.
# Each service's DATABASE_URL (the file its Deployment mounts as DATABASE_URL_FILE) points
# at the in-cluster PostgreSQL with that service's DATABASE_PASSWORD; for a managed
# database, replace that line with your server's URL (docs/deployment.md). A service file
# written before DATABASE_URL existed gets the line added, nothing else changed.
# The database passwords are applied by PostgreSQL's first start only: a file deleted and
# made again later needs `ALTER ROLE … PASSWORD` on the running database too.
#
#   deploy/k8s/make-secrets.sh && kubectl apply -k deploy/k8s
set -euo pipefail
cd "$(dirname "$0")/secrets"
umask 077

random() { head -c 32 /dev/urandom | base64 | tr -dc 'A-Za-z0-9'; }
# All 32 bytes, in standard base64 (44 characters, `=` padding): the key-encryption key.
random_key() { head -c 32 /dev/urandom | base64 | tr -d '\n'; }

# The value of KEY in an env file, if the file and the key are there.
value_of() {
    local file=$1 key=$2
    [[ -f $file ]] || return 0
    sed -n "s/^${key}=//p" "$file" | head -n 1
}

write() {
    local file=$1 content=$2
    if [[ -e $file ]]; then
        echo "kept    deploy/k8s/secrets/$file"
    else
        printf '%s\n' "$content" >"$file.tmp"
        mv "$file.tmp" "$file"
        echo "created deploy/k8s/secrets/$file"
    fi
}

# posts-service's client secret: from whichever of the two files exists, else new.
posts_secret=$(value_of posts-service.env POSTS_CLIENT_SECRET)
if [[ -z $posts_secret ]]; then
    posts_secret=$(value_of users-service.env OAUTH_CLIENTS | sed -En 's/^(.*; *)?posts-service:([^:]*):.*/\2/p')
fi
if [[ -z $posts_secret ]]; then
    posts_secret=$(random)
fi

# The in-cluster PostgreSQL's URL for role and database $1 (both named after the service).
in_cluster_url() { printf 'postgres://%s:%s@postgres:5432/%s' "$1" "$2" "$1"; }

users_db_password=$(random)
posts_db_password=$(random)
write postgres.env "POSTGRES_PASSWORD=$(random)"
write users-service.env "OAUTH_CLIENTS=posts-service:${posts_secret}:users:read
DATABASE_PASSWORD=${users_db_password}
DATABASE_URL=$(in_cluster_url users "$users_db_password")
JWT_KEYS_ENCRYPTION_KEY=$(random_key)"
write posts-service.env "POSTS_CLIENT_SECRET=${posts_secret}
DATABASE_PASSWORD=${posts_db_password}
DATABASE_URL=$(in_cluster_url posts "$posts_db_password")"

# A file from before DATABASE_URL was one of its keys: add the in-cluster URL.
for db in users posts; do
    file=$db-service.env
    if [[ -z $(value_of "$file" DATABASE_URL) ]]; then
        password=$(value_of "$file" DATABASE_PASSWORD)
        if [[ -z $password ]]; then
            echo "deploy/k8s/secrets/$file has neither DATABASE_URL nor DATABASE_PASSWORD" >&2
            exit 1
        fi
        printf 'DATABASE_URL=%s\n' "$(in_cluster_url "$db" "$password")" >>"$file"
        echo "added   DATABASE_URL to deploy/k8s/secrets/$file"
    fi
done

# A users-service file from before the keys moved into the database: add a key-encryption
# key. Its first `keys init` (or the import of the old key folder) seals with it.
if [[ -z $(value_of users-service.env JWT_KEYS_ENCRYPTION_KEY) ]]; then
    printf 'JWT_KEYS_ENCRYPTION_KEY=%s\n' "$(random_key)" >>users-service.env
    echo "added   JWT_KEYS_ENCRYPTION_KEY to deploy/k8s/secrets/users-service.env"
fi

# Both files now exist: check they agree, whoever wrote them.
if ! value_of users-service.env OAUTH_CLIENTS | grep -qF "posts-service:$(value_of posts-service.env POSTS_CLIENT_SECRET):"; then
    echo "OAUTH_CLIENTS in users-service.env has no posts-service entry with posts-service.env's POSTS_CLIENT_SECRET" >&2
    exit 1
fi
# A URL of the in-cluster PostgreSQL must carry the password it creates the role with.
for db in users posts; do
    file=$db-service.env
    url=$(value_of "$file" DATABASE_URL)
    if [[ $url == "postgres://$db:"*"@postgres:5432/$db"* &&
        $url != "$(in_cluster_url "$db" "$(value_of "$file" DATABASE_PASSWORD)")"* ]]; then
        echo "DATABASE_URL in $file is the in-cluster PostgreSQL's, with a password other than its DATABASE_PASSWORD" >&2
        exit 1
    fi
done
