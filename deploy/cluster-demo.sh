#!/usr/bin/env bash
# `make cluster-demo`: the app as it runs on several servers, on one machine.
#
#   PostgreSQL (Debian's cluster, started if it is not running)
#     <- server a: gunicorn on 127.0.0.1:$PORT_A, its own SEARCH_INDEX_DIR
#     <- server b: gunicorn on 127.0.0.1:$PORT_B, its own SEARCH_INDEX_DIR
#   each server's gunicorn arbiter runs one background process (search indexer, job runner,
#   warm PDF renderer): jobs (PDFs, ...) come from the shared job table, with its own JOBS_DIR
#   nginx on 127.0.0.1:$NGINX_PORT balancing the two, no sticky sessions
#   (deploy/nginx-every-seat.conf, copied with these ports into $DEMO_DIR/nginx.conf)
#
# Both servers have the same DATABASE_URL and SECRET_KEY (a session made by one is
# accepted by the other); migrations run once and the sample library is loaded once
# (`flask setup-demo`, which also prints the demo sign-ins). Each answer names the server
# that made it in an X-Served-By header. Ctrl+C stops everything the script started,
# PostgreSQL too if it was not running before.
#
# Options: --fresh drops the demo database and folder first.
# Environment: NGINX_PORT (8080), PORT_A (5101), PORT_B (5102), WORKERS (2 per server),
# DEMO_DIR (instance/cluster-demo), DEMO_DATABASE (every_seat_demo).
# Needs: Debian's nginx and postgresql packages, and root (or sudo) for PostgreSQL's setup.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
BIN=$ROOT/.venv/bin

NGINX_PORT=${NGINX_PORT:-8080}
PORT_A=${PORT_A:-5101}
PORT_B=${PORT_B:-5102}
WORKERS=${WORKERS:-2}
DEMO_DIR=${DEMO_DIR:-$ROOT/instance/cluster-demo}
DEMO_DATABASE=${DEMO_DATABASE:-every_seat_demo}
DB_USER=every_seat
DB_PASSWORD=every_seat
FRESH=0
for arg in "$@"; do
  case "$arg" in
    --fresh) FRESH=1 ;;
    *) echo "cluster-demo: unknown option $arg" >&2; exit 2 ;;
  esac
done

say() { echo "cluster-demo: $*"; }
die() { echo "cluster-demo: $*" >&2; exit 1; }

# --- What it needs -----------------------------------------------------------------
NGINX=$(command -v nginx || true)
[ -n "$NGINX" ] || [ ! -x /usr/sbin/nginx ] || NGINX=/usr/sbin/nginx
missing=()
[ -n "$NGINX" ] || missing+=(nginx)
ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  die "missing ${missing[*]}: install it with \`apt-get install -y ${missing[*]}\` (as .ci/run does)"
fi
[ -x "$BIN/gunicorn" ] || die "no $BIN/gunicorn: run \`make deps\` first"
[ -f "$ROOT/static/build/static-manifest.json" ] || die "no static/build: run \`make assets\` first"
as_postgres() {
  if [ "$(id -u)" = 0 ]; then su postgres -c "$1"; else sudo -u postgres sh -c "$1"; fi
}
pg_admin() {
  if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# --- Everything started here stops on exit (Ctrl+C included) ----------------------------
# The servers and nginx run in sessions of their own (setsid), so that Ctrl+C reaches only
# this script, which then stops them in order.
pids=()
pg_started=""
cleanup() {
  trap - EXIT INT TERM
  say "stopping"
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if [ -n "$pg_started" ]; then
    pg_admin pg_ctlcluster "$pg_started" main stop || true
    say "stopped PostgreSQL $pg_started (the demo had started it)"
  fi
  say "stopped"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- PostgreSQL: Debian's cluster, a user, the demo database -----------------------------
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
pg_lsclusters -h | grep -q "^$version main" || pg_admin pg_createcluster "$version" main >/dev/null
if ! pg_lsclusters -h | grep -q "^$version main .* online"; then
  pg_admin pg_ctlcluster "$version" main start
  pg_started=$version
  say "started PostgreSQL $version"
fi
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
pg_isready -q -h 127.0.0.1 || die "PostgreSQL does not answer on 127.0.0.1"
as_postgres "psql -qtc \"SELECT 1 FROM pg_roles WHERE rolname='$DB_USER'\"" | grep -q 1 \
  || as_postgres "psql -qc \"CREATE ROLE $DB_USER LOGIN CREATEDB PASSWORD '$DB_PASSWORD'\""
if [ "$FRESH" = 1 ]; then
  as_postgres "psql -qc 'DROP DATABASE IF EXISTS \"$DEMO_DATABASE\" WITH (FORCE)'"
  rm -rf "$DEMO_DIR"
fi
as_postgres "psql -qtc \"SELECT 1 FROM pg_database WHERE datname='$DEMO_DATABASE'\"" | grep -q 1 \
  || as_postgres "psql -qc 'CREATE DATABASE \"$DEMO_DATABASE\" OWNER $DB_USER'"

# --- The settings both servers share -------------------------------------------------------
mkdir -p "$DEMO_DIR/instance" "$DEMO_DIR/nginx"
[ -s "$DEMO_DIR/secret-key" ] || (umask 077; "$BIN/python" -c 'import secrets; print(secrets.token_hex(32))' >"$DEMO_DIR/secret-key")
export DATABASE_URL="postgresql+psycopg://$DB_USER:$DB_PASSWORD@127.0.0.1/$DEMO_DATABASE"
SECRET_KEY=$(cat "$DEMO_DIR/secret-key")
export SECRET_KEY
export EVERY_SEAT_INSTANCE="$DEMO_DIR/instance" # not ./instance: its config.py would override
export TRUSTED_PROXIES=1                         # nginx sets X-Forwarded-For/-Proto

# Migrations and the sample library: once, from one place, before any server starts.
SEARCH_INDEX_DIR="$DEMO_DIR/index-a" "$BIN/flask" --app app setup-demo

# --- Two app servers -----------------------------------------------------------------------
start_server() { # name port
  # Each server's background process (started by gunicorn.conf.py's arbiter hook) holds
  # its own locks in SEARCH_INDEX_DIR and JOBS_DIR; both claim jobs from the one
  # PostgreSQL job table.
  SERVER_NAME_LABEL=$1 SEARCH_NODE_NAME="demo-$1" SEARCH_INDEX_DIR="$DEMO_DIR/index-$1" JOBS_DIR="$DEMO_DIR/jobs-$1" \
    setsid "$BIN/gunicorn" -c "$ROOT/gunicorn.conf.py" --workers "$WORKERS" --bind "127.0.0.1:$2" \
    --no-control-socket --access-logfile "$DEMO_DIR/access-$1.log" --error-logfile "$DEMO_DIR/server-$1.log" \
    'app:create_app()' &
  pids+=($!)
}
start_server a "$PORT_A"
start_server b "$PORT_B"

# --- nginx in front: the example config with this demo's ports -----------------------------
{
  echo "# Generated by deploy/cluster-demo.sh from deploy/nginx-every-seat.conf: do not edit."
  echo "worker_processes 1;"
  echo "pid $DEMO_DIR/nginx/nginx.pid;"
  echo "error_log $DEMO_DIR/nginx/error.log warn;"
  [ "$(id -u)" = 0 ] && echo "user www-data;"
  echo "events { worker_connections 256; }"
  echo "http {"
  echo "  include /etc/nginx/mime.types;"
  echo "  access_log $DEMO_DIR/nginx/access.log;"
  for temp in client_body proxy fastcgi uwsgi scgi; do echo "  ${temp}_temp_path $DEMO_DIR/nginx/$temp;"; done
  sed -e "s/127\.0\.0\.1:5001/127.0.0.1:$PORT_A/; s/127\.0\.0\.1:5002/127.0.0.1:$PORT_B/" \
    -e "s/listen 127\.0\.0\.1:8080/listen 127.0.0.1:$NGINX_PORT/" -e 's/^/  /' deploy/nginx-every-seat.conf
  echo "}"
} >"$DEMO_DIR/nginx.conf"
"$NGINX" -t -q -e "$DEMO_DIR/nginx/error.log" -c "$DEMO_DIR/nginx.conf" -p "$DEMO_DIR/nginx" \
  || die "nginx refused $DEMO_DIR/nginx.conf"
setsid "$NGINX" -e "$DEMO_DIR/nginx/error.log" -c "$DEMO_DIR/nginx.conf" -p "$DEMO_DIR/nginx" -g 'daemon off;' &
pids+=($!)

# --- Ready when both servers answer through their own ports and nginx answers --------------
wait_for() { # url what
  for _ in $(seq 1 120); do
    if "$BIN/python" -c "import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)" "$1" 2>/dev/null; then
      return 0
    fi
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null || die "$2 stopped; see the logs in $DEMO_DIR"; done
    sleep 0.5
  done
  die "$2 did not answer at $1 within 60 s; see the logs in $DEMO_DIR"
}
wait_for "http://127.0.0.1:$PORT_A/login" "server a"
wait_for "http://127.0.0.1:$PORT_B/login" "server b"
wait_for "http://127.0.0.1:$NGINX_PORT/login" "nginx"
say "server a on 127.0.0.1:$PORT_A, server b on 127.0.0.1:$PORT_B, one database ($DEMO_DATABASE)"
say "logs and indexes in $DEMO_DIR; \`curl -sI http://127.0.0.1:$NGINX_PORT/login | grep X-Served-By\` shows which server answered"
say "ready: Every Seat on http://127.0.0.1:$NGINX_PORT (Ctrl+C stops everything)"

# Until Ctrl+C, or until one of them stops by itself.
wait -n "${pids[@]}" || true
die "a server or nginx stopped; see the logs in $DEMO_DIR"
