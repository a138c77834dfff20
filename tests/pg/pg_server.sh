#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests, so the store-backed suites run against a real
# server without depending on (or disturbing) any cluster installed on the machine.
#
#   pg_server.sh start DIR    initdb into DIR/data, start on 127.0.0.1 at a free port, create the
#                             database flowpilot_test; writes DIR/url and DIR/port, prints the URL.
#                             A server already running in DIR is reused.
#   pg_server.sh restart DIR  restart it in place (same port, same data)
#   pg_server.sh stop DIR     stop it and remove DIR
#
# Only loopback TCP is opened, and the unix socket lives in DIR. Authentication is `trust`: the
# cluster holds nothing but test data and is reachable only from this machine. fsync,
# synchronous_commit and full_page_writes are off because the cluster's durability does not
# matter (a crash loses a test run, nothing else); queries, locking and transactions behave as
# in production. FLOWPILOT_PG_DURABLE=1 keeps PostgreSQL's durable defaults instead (benchmarks).
# As root, the server runs as the `postgres` system user, since PostgreSQL refuses to run as root.
# When that user cannot reach DIR (a checkout under a private directory such as mktemp -d), the
# server's files go to a directory under /tmp, named in DIR/run_dir; DIR keeps url and port.
set -euo pipefail

readonly db_name=flowpilot_test
readonly pg_system_user=postgres

# PGHOST, PGPORT, PGSSLMODE, PGSERVICE and friends from the caller's environment would redirect
# or change the client tools' connections and the server's defaults; every setting is explicit.
while read -r var; do unset "$var"; done < <(compgen -v PG || true)

die() {
  echo "pg_server: $*" >&2
  exit 1
}

usage() {
  die "usage: $0 start|restart|stop DIR"
}

find_bindir() {
  if [ -x /usr/lib/postgresql/15/bin/postgres ]; then
    echo /usr/lib/postgresql/15/bin
    return
  fi
  local newest
  newest=$(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/postgres' 2>/dev/null |
           sort -V | tail -n 1)
  [ -n "$newest" ] || die "no PostgreSQL server binaries under /usr/lib/postgresql/*/bin;" \
                         "run scripts/setup.sh --tests"
  dirname "$newest"
}

# The data directory must belong to the user the server runs as, and that cannot be root.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u "$owner" -- "$@"
  else
    "$@"
  fi
}

ensure_system_user() {
  if ! getent passwd "$pg_system_user" >/dev/null; then
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
            --shell /usr/sbin/nologin "$pg_system_user"
  fi
}

log_tail() {
  if [ -f "$home/postgres.log" ]; then
    echo "--- last lines of $home/postgres.log:" >&2
    tail -n 40 "$home/postgres.log" >&2
  fi
}

is_ready() {  # <port>
  "$bindir/pg_isready" -q -h 127.0.0.1 -p "$1" -d postgres -U "$owner" -t 2
}

wait_ready() {  # <port>
  local i
  for i in $(seq 1 60); do
    is_ready "$1" && return 0
    sleep 0.5
  done
  return 1
}

# A postmaster.pid can outlive its server (a crash) or name a reused pid: the server must answer.
server_running() {
  local pid
  [ -f "$data/postmaster.pid" ] && [ -f "$dir/port" ] || return 1
  pid=$(head -n 1 "$data/postmaster.pid")
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  wait_ready "$(cat "$dir/port")"
}

# A random start keeps parallel harnesses from racing for the same port; the range stays below
# the kernel's ephemeral ports, which outgoing connections take.
pick_port() {
  local low=20000 high ephemeral_low port i
  read -r ephemeral_low _ </proc/sys/net/ipv4/ip_local_port_range || ephemeral_low=32768
  high=$((ephemeral_low > low + 1000 ? ephemeral_low : 32000))
  port=$((low + RANDOM % (high - low)))
  for ((i = 0; i < 500; i++)); do
    # A refused connection means nothing listens on 127.0.0.1 (or on a wildcard address).
    if ! timeout 1 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null; then
      echo "$port"
      return 0
    fi
    port=$((port + 1 >= high ? low : port + 1))
  done
  die "no free TCP port on 127.0.0.1 between $low and $high"
}

# The unix socket's path must fit in sockaddr_un (107 bytes); a deep DIR gets a short directory
# under /tmp instead, recorded in DIR/socket_dir so that stop removes it.
socket_dir_for() {  # <port>
  if [ -f "$dir/socket_dir" ]; then
    cat "$dir/socket_dir"
  elif [ $(( ${#home} + ${#1} + 10 )) -le 107 ]; then
    echo "$home"
  else
    local short
    short=$(mktemp -d /tmp/flowpilot-pg.XXXXXX)
    [ "$(id -u)" -ne 0 ] || chown "$owner:" "$short"
    echo "$short" >"$dir/socket_dir"
    echo "$short"
  fi
}

write_settings() {  # <port> <socket dir>
  # Rewritten on every start, so a port taken since the last run can be replaced.
  as_owner tee "$data/flowpilot_test.conf" >/dev/null <<EOF
# Written by tests/pg/pg_server.sh for a throwaway test cluster; see that script's header.
listen_addresses = '127.0.0.1'
port = $1
unix_socket_directories = '$2'
max_connections = 200
shared_buffers = 128MB
EOF
  if [ "${FLOWPILOT_PG_DURABLE:-0}" != 1 ]; then
    printf '%s\n' "fsync = off" "synchronous_commit = off" "full_page_writes = off" |
      as_owner tee -a "$data/flowpilot_test.conf" >/dev/null
  fi
}

init_cluster() {
  # An initdb that died half-way leaves a directory it refuses to reuse.
  if [ -e "$data" ] && [ ! -f "$data/PG_VERSION" ]; then
    rm -rf "$data"
  fi
  [ -f "$data/PG_VERSION" ] && return 0
  if ! as_owner "$bindir/initdb" -D "$data" -U "$owner" --auth=trust --encoding=UTF8 \
         --locale=C --no-sync >"$home/initdb.log" 2>&1; then
    cat "$home/initdb.log" >&2
    die "initdb into $data failed"
  fi
  echo "include 'flowpilot_test.conf'" | as_owner tee -a "$data/postgresql.conf" >/dev/null
}

start_server() {
  local attempt port log_size new_log
  for attempt in 1 2 3 4 5; do
    port=$(pick_port)
    write_settings "$port" "$(socket_dir_for "$port")"
    log_size=$(stat -c %s "$home/postgres.log" 2>/dev/null || echo 0)
    if as_owner "$bindir/pg_ctl" start -D "$data" -l "$home/postgres.log" -w -t 60 -s &&
       wait_ready "$port"; then
      echo "$port" >"$dir/port"
      return 0
    fi
    new_log=$(tail -c +"$((log_size + 1))" "$home/postgres.log" 2>/dev/null || true)
    # Someone else may have bound the port between the check and the start: try another.
    if grep -q 'could not bind\|Address already in use' <<<"$new_log"; then
      echo "pg_server: port $port was taken meanwhile (attempt $attempt), trying another" >&2
      continue
    fi
    log_tail
    die "PostgreSQL did not start in $data"
  done
  log_tail
  die "PostgreSQL could not bind a free port after 5 attempts"
}

create_database() {
  local port=$1 exists
  exists=$("$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U "$owner" -d postgres -tA \
           -c "SELECT 1 FROM pg_database WHERE datname = '$db_name'")
  if [ "$exists" != 1 ]; then
    "$bindir/createdb" -h 127.0.0.1 -p "$port" -U "$owner" "$db_name"
  fi
}

write_url() {
  local port
  port=$(cat "$dir/port")
  echo "postgres://$owner@127.0.0.1:$port/$db_name" >"$dir/url"
  cat "$dir/url"
}

cmd_start() {
  [ ! -d "$dir" ] || check_removable
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    [ "$owner" != "$pg_system_user" ] || ensure_system_user
    chown "$owner:" "$dir"
    if [ "$home" = "$dir" ] && ! runuser -u "$owner" -- test -w "$dir" -a -x "$dir"; then
      home=$(mktemp -d /tmp/flowpilot-pg.XXXXXX)
      chown "$owner:" "$home"
      echo "$home" >"$dir/run_dir"
      data=$home/data
    fi
  fi
  if server_running; then
    write_url
    return 0
  fi
  init_cluster
  start_server
  create_database "$(cat "$dir/port")"
  write_url
}

cmd_restart() {
  if [ ! -f "$data/PG_VERSION" ] || [ ! -f "$dir/port" ]; then
    die "no cluster in $dir; run: $0 start $dir"
  fi
  if ! as_owner "$bindir/pg_ctl" restart -D "$data" -l "$home/postgres.log" -m fast -w -t 60 -s ||
     ! wait_ready "$(cat "$dir/port")"; then
    log_tail
    die "PostgreSQL did not restart in $data"
  fi
  write_url
}

# Only what start created may be in DIR, so a mistyped DIR cannot wipe an unrelated directory.
check_removable() {
  local entry
  for entry in "$dir"/* "$dir"/.[!.]*; do
    [ -e "$entry" ] || continue
    case "${entry##*/}" in
      data | url | port | postgres.log | initdb.log | socket_dir | run_dir | .s.PGSQL.*) ;;
      *) die "not touching $dir: it holds ${entry##*/}, which pg_server.sh did not create" ;;
    esac
  done
}

cmd_stop() {
  [ -d "$dir" ] || return 0
  check_removable
  if [ -f "$data/postmaster.pid" ]; then
    local status=0
    as_owner "$bindir/pg_ctl" status -D "$data" >/dev/null 2>&1 || status=$?
    # 3: no server running (a stale postmaster.pid after a crash).
    if [ "$status" -ne 3 ]; then
      as_owner "$bindir/pg_ctl" stop -D "$data" -m fast -w -t 60 -s ||
        { log_tail; die "could not stop PostgreSQL in $data; $dir left in place"; }
    fi
  fi
  if [ -f "$dir/socket_dir" ]; then
    rm -rf -- "$(cat "$dir/socket_dir")"
  fi
  if [ "$home" != "$dir" ]; then
    rm -rf -- "$home"
  fi
  rm -rf -- "$dir"
}

[ $# -eq 2 ] || usage
action=$1
[ -n "$2" ] || usage
dir=$(realpath -m -- "$2")
[ "$dir" != / ] || die "refusing to use / as the server directory"
home=$dir
if [ -f "$dir/run_dir" ]; then
  home=$(cat "$dir/run_dir")
  case "$home" in /tmp/flowpilot-pg.*) ;; *) die "$dir/run_dir names $home, not a directory of ours" ;; esac
fi
data=$home/data
if [ "$action" = stop ] && [ ! -d "$dir" ]; then
  exit 0
fi
bindir=$(find_bindir)

# The cluster's owner is also its superuser and the user in the URL. An existing cluster keeps
# whoever created it.
if [ -d "$data" ]; then
  owner=$(stat -c %U "$data")
elif [ "$(id -u)" -eq 0 ]; then
  owner=$pg_system_user
else
  owner=$(id -un)
fi

# The server's owner may be unable to enter the caller's working directory (e.g. /root).
cd /

case "$action" in
  start) cmd_start ;;
  restart) cmd_restart ;;
  stop) cmd_stop ;;
  *) usage ;;
esac
