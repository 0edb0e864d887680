# shellcheck shell=bash
# A private nginx running the gateway's template (deploy/nginx/templates/gateway.conf.template)
# as the current user, everything under one folder: for scripts/dev.sh and
# scripts/test-gateway.sh. Needs nginx and envsubst (nginx-light, gettext-base); run from
# the repository's root.
#
#   gateway_start DIR USERS_ADDR POSTS_ADDR LISTEN   renders, starts, waits for /gateway/health
#   gateway_stop DIR                                 stops the nginx started in DIR, if any
# The access log goes to DIR/stdout.log, errors to DIR/error.log.

# shellcheck disable=SC2016 # the names, not their values
GATEWAY_TEMPLATE_VARS='${USERS_UPSTREAM} ${POSTS_UPSTREAM} ${GATEWAY_LISTEN} ${GATEWAY_RESOLVER} ${EXPLORER_ROOT}'

gateway_start() {
    local dir=$1 users=$2 posts=$3 listen=$4 explorer=$PWD/explorer
    # Readable by nginx's workers, which run as another user when this runs as root.
    chmod 755 "$dir"
    # As root, nginx's workers are `nobody`, who may not read the checkout: they get a
    # copy. Otherwise the folder itself, so an edit shows at the next reload of the page.
    if ((EUID == 0)); then
        cp -r explorer "$dir/explorer"
        chmod -R a+rX "$dir/explorer"
        explorer=$dir/explorer
    fi
    # Only these names are replaced, so that nginx's own $variables stay as they are.
    USERS_UPSTREAM=$users POSTS_UPSTREAM=$posts GATEWAY_LISTEN=$listen GATEWAY_RESOLVER=127.0.0.1 \
        EXPLORER_ROOT=$explorer envsubst "$GATEWAY_TEMPLATE_VARS" \
        <deploy/nginx/templates/gateway.conf.template >"$dir/gateway.conf"
    cat >"$dir/nginx.conf" <<NGINX
worker_processes 1;
events { worker_connections 256; }
http {
    access_log $dir/access.log;
    client_body_temp_path $dir/client_body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    include $dir/gateway.conf;
}
NGINX
    # nginx puts itself in the background; its stdout (the gateway's access log) goes to a file.
    if ! nginx -p "$dir" -c "$dir/nginx.conf" -g "pid $dir/nginx.pid; error_log $dir/error.log;" \
        >"$dir/stdout.log" 2>&1; then
        cat "$dir/stdout.log" "$dir/error.log" >&2 2>/dev/null || true
        return 1
    fi
    for _ in $(seq 1 50); do
        curl -fsS -o /dev/null "http://$listen/gateway/health" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "the gateway on $listen did not answer /gateway/health" >&2
    return 1
}

gateway_stop() {
    local dir=$1
    [[ -s $dir/nginx.pid ]] || return 0
    kill -TERM "$(cat "$dir/nginx.pid")" 2>/dev/null || true
    for _ in $(seq 1 50); do
        [[ -e $dir/nginx.pid ]] || break
        sleep 0.1
    done
}
