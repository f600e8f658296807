#!/usr/bin/env bash
# The local stack behind `make run` / `make stop`: Redis (AOF on) and a PostgreSQL cluster in .run/,
# loopback only, then the broker simulator, TickerService and BackendService. Endpoints go to .run/env.
#
#   scripts/stack.sh start    start everything that is not running yet
#   scripts/stack.sh stop     stop everything cleanly (services first, then the stores)
#   scripts/stack.sh status   what is running
#
# Ports: REDIS_PORT (6379), PG_PORT (5432), TICKER_PORT (8080), BACKEND_PORT (8081), BROKER_PORT (8090),
# PROM_PORT (9090; Prometheus is started when `prometheus` is installed, with deploy/prometheus/alerts.yml).
# Binaries: BIN_DIR (default .build/debug).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
STATE="$ROOT/.run"
LOGS="$STATE/logs"
PIDS="$STATE/pids"
REDIS_PORT=${REDIS_PORT:-6379}
PG_PORT=${PG_PORT:-5432}
TICKER_PORT=${TICKER_PORT:-8080}
BACKEND_PORT=${BACKEND_PORT:-8081}
BROKER_PORT=${BROKER_PORT:-8090}
PROM_PORT=${PROM_PORT:-9090}
BIN_DIR=${BIN_DIR:-$ROOT/.build/debug}
DB_NAME=${DB_NAME:-marketdata}

REDIS_URL="redis://127.0.0.1:$REDIS_PORT"
DATABASE_URL="postgresql://postgres@127.0.0.1:$PG_PORT/$DB_NAME"
TICKER_URL="http://127.0.0.1:$TICKER_PORT"
BACKEND_URL="http://127.0.0.1:$BACKEND_PORT"
BROKER_URL="http://127.0.0.1:$BROKER_PORT"
PROM_URL="http://127.0.0.1:$PROM_PORT"

log() { printf '%s\n' "stack: $*"; }
die() { printf '%s\n' "stack: $*" >&2; exit 1; }

pg_bin() {
    if command -v pg_config >/dev/null 2>&1 && [ -x "$(pg_config --bindir)/initdb" ]; then pg_config --bindir; return; fi
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    [ -n "$dir" ] || die "PostgreSQL server binaries not found: run scripts/install-deps.sh"
    echo "$dir"
}

# initdb and postgres refuse to run as root: run them as the postgres user then.
as_pg() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_for() {  # wait_for NAME COMMAND...
    local name=$1; shift
    for _ in $(seq 1 150); do
        if "$@" >/dev/null 2>&1; then return 0; fi
        sleep 0.2
    done
    die "$name did not become ready; see $LOGS/"
}

pid_alive() { [ -f "$PIDS/$1.pid" ] && kill -0 "$(cat "$PIDS/$1.pid")" 2>/dev/null; }

start_redis() {
    mkdir -p "$STATE/redis"
    if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then log "redis already answering on $REDIS_PORT"; return; fi
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$STATE/redis" --appendonly yes \
        --daemonize yes --pidfile "$PIDS/redis.pid" --logfile "$LOGS/redis.log" --protected-mode yes
    wait_for redis redis-cli -p "$REDIS_PORT" ping
    log "redis on 127.0.0.1:$REDIS_PORT (AOF on, data in .run/redis)"
}

start_postgres() {
    local bin data sock
    bin=$(pg_bin)
    data="$STATE/postgres/data"
    sock="$STATE/postgres/sock"
    mkdir -p "$STATE/postgres" "$sock"
    if [ "$(id -u)" -eq 0 ]; then chown -R postgres: "$STATE/postgres"; touch "$LOGS/postgres.log"; chown postgres: "$LOGS/postgres.log"; fi
    if [ ! -f "$data/PG_VERSION" ]; then
        as_pg "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-locale >"$LOGS/initdb.log" 2>&1 \
            || die "initdb failed; see $LOGS/initdb.log"
    fi
    if as_pg "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        log "postgres already running"
    else
        port_busy "$PG_PORT" && die "port $PG_PORT is in use by something else: set PG_PORT"
        as_pg "$bin/pg_ctl" -D "$data" -l "$LOGS/postgres.log" -w -t 60 \
            -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $sock" start >/dev/null \
            || die "postgres did not start; see $LOGS/postgres.log"
    fi
    wait_for postgres "$bin/pg_isready" -h 127.0.0.1 -p "$PG_PORT"
    if ! psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" | grep -q 1; then
        psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE $DB_NAME" >/dev/null
    fi
    log "postgres on 127.0.0.1:$PG_PORT (database $DB_NAME, data in .run/postgres)"
}

service_env() {
    cat <<ENV
ENVIRONMENT=${ENVIRONMENT:-dev}
REDIS_URL=$REDIS_URL
DATABASE_URL=$DATABASE_URL
TICKER_URL=$TICKER_URL
BACKEND_URL=$BACKEND_URL
BROKER_URL=$BROKER_URL
BROKER_WS_URL=ws://127.0.0.1:$BROKER_PORT
DHAN_WS_URL=ws://127.0.0.1:$BROKER_PORT/dhan
DHAN_URL=$BROKER_URL
ACCOUNTS_FILE=${ACCOUNTS_FILE:-$STATE/accounts.json}
ENV
}

# The local broker accounts, all on the simulator (its URLs come from BROKER_WS_URL/BROKER_URL and
# DHAN_WS_URL/DHAN_URL): the simulator's three Kite keys (3 x 9,000 instruments) and one Dhan client id (25,000), so
# Tier B (about 8,400 instruments, on by default) and the 25,000 cap both fit (docs/tiers.md). Set ACCOUNTS_FILE to
# use another file.
write_accounts() {
    [ -n "${ACCOUNTS_FILE:-}" ] && return
    cat >"$STATE/accounts.json" <<'JSON'
[{"id":"kite","broker":"kite","api_key":"sim_api_key","access_token":"sim_access_token"},
 {"id":"kite2","broker":"kite","api_key":"sim_api_key_2","access_token":"sim_access_token_2"},
 {"id":"kite3","broker":"kite","api_key":"sim_api_key_3","access_token":"sim_access_token_3"},
 {"id":"dhan","broker":"dhan","client_id":"sim_api_key_2","access_token":"sim_access_token_2"}]
JSON
}

start_process() {  # start_process NAME PORT BINARY ARGS...
    local name=$1 port=$2 binary=$3; shift 3
    [ -x "$binary" ] || die "$binary not built: run make build"
    if pid_alive "$name"; then log "$name already running (pid $(cat "$PIDS/$name.pid"))"; return; fi
    port_busy "$port" && die "port $port is in use: set the matching *_PORT variable"
    (
        set -a
        # shellcheck disable=SC1090
        . <(service_env)
        set +a
        exec "$binary" "$@" >>"$LOGS/$name.log" 2>&1
    ) &
    echo $! >"$PIDS/$name.pid"
    wait_for "$name" curl -fsS "http://127.0.0.1:$port/health"
    log "$name on http://127.0.0.1:$port (log .run/logs/$name.log)"
}

# Prometheus with deploy/prometheus's rules, scraping the loopback stack: the compose targets swapped for ours.
start_prometheus() {
    local binary
    binary=$(command -v prometheus || true)
    if [ -z "$binary" ]; then log "prometheus not installed: skipped (scripts/install-deps.sh installs it)"; return; fi
    if pid_alive prometheus; then log "prometheus already running (pid $(cat "$PIDS/prometheus.pid"))"; return; fi
    port_busy "$PROM_PORT" && die "port $PROM_PORT is in use: set PROM_PORT"
    mkdir -p "$STATE/prometheus/data"
    cp "$ROOT/deploy/prometheus/alerts.yml" "$STATE/prometheus/alerts.yml"
    sed -e "s/ticker-service:8080/127.0.0.1:$TICKER_PORT/" \
        -e "s/backend-service:8081/127.0.0.1:$BACKEND_PORT/" \
        -e "s/broker-simulator:8090/127.0.0.1:$BROKER_PORT/" \
        -e "s/scrape_interval: 15s/scrape_interval: 5s/" \
        "$ROOT/deploy/prometheus/prometheus.yml" >"$STATE/prometheus/prometheus.yml"
    "$binary" --config.file="$STATE/prometheus/prometheus.yml" --storage.tsdb.path="$STATE/prometheus/data" \
        --web.listen-address="127.0.0.1:$PROM_PORT" >>"$LOGS/prometheus.log" 2>&1 &
    echo $! >"$PIDS/prometheus.pid"
    wait_for prometheus curl -fsS "$PROM_URL/-/ready"
    log "prometheus on $PROM_URL (rules from deploy/prometheus/alerts.yml, log .run/logs/prometheus.log)"
}

write_env() {
    {
        echo "# Written by make run; source it: . .run/env"
        echo "export REDIS_URL=$REDIS_URL"
        echo "export DATABASE_URL=$DATABASE_URL"
        echo "export TICKER_URL=$TICKER_URL"
        echo "export BACKEND_URL=$BACKEND_URL"
        echo "export BROKER_URL=$BROKER_URL"
        echo "export PROM_URL=$PROM_URL"
        echo "export REDISCLI_PORT=$REDIS_PORT PGHOST=127.0.0.1 PGPORT=$PG_PORT PGUSER=postgres PGDATABASE=$DB_NAME"
    } >"$STATE/env"
}

start() {
    mkdir -p "$LOGS" "$PIDS"
    start_redis
    start_postgres
    write_env
    write_accounts
    (
        set -a; . <(service_env); set +a
        "$BIN_DIR/TickerService" migrate >>"$LOGS/migrate.log" 2>&1
    ) || die "migrations failed; see $LOGS/migrate.log"
    log "migrations applied"
    start_process broker-simulator "$BROKER_PORT" "$BIN_DIR/BrokerSimulator" --port "$BROKER_PORT"
    start_process ticker-service "$TICKER_PORT" "$BIN_DIR/TickerService" --port "$TICKER_PORT"
    start_process backend-service "$BACKEND_PORT" "$BIN_DIR/BackendService" --port "$BACKEND_PORT"
    start_prometheus
    log "ready. Endpoints are in .run/env:  . .run/env && curl \$TICKER_URL/health"
}

stop_process() {
    local name=$1
    if pid_alive "$name"; then
        local pid
        pid=$(cat "$PIDS/$name.pid")
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
        log "stopped $name"
    fi
    rm -f "$PIDS/$name.pid"
}

stop() {
    stop_process prometheus
    stop_process backend-service
    stop_process ticker-service
    stop_process broker-simulator
    if redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && [ -f "$PIDS/redis.pid" ]; then
        redis-cli -p "$REDIS_PORT" shutdown >/dev/null 2>&1 || true
        log "stopped redis"
    fi
    local data="$STATE/postgres/data"
    if [ -f "$data/PG_VERSION" ] && as_pg "$(pg_bin)/pg_ctl" -D "$data" status >/dev/null 2>&1; then
        as_pg "$(pg_bin)/pg_ctl" -D "$data" -m fast -w stop >/dev/null
        log "stopped postgres"
    fi
}

status() {
    for name in broker-simulator ticker-service backend-service prometheus; do
        if pid_alive "$name"; then echo "$name: running (pid $(cat "$PIDS/$name.pid"))"; else echo "$name: stopped"; fi
    done
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && echo "redis: running" || echo "redis: stopped"
    [ -f "$STATE/postgres/data/PG_VERSION" ] && as_pg "$(pg_bin)/pg_ctl" -D "$STATE/postgres/data" status >/dev/null 2>&1 \
        && echo "postgres: running" || echo "postgres: stopped"
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    status) status ;;
    *) die "usage: scripts/stack.sh start|stop|status" ;;
esac
