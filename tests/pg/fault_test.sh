#!/usr/bin/env bash
# Several flowpilot processes on one PostgreSQL database, under faults (docs/deploy.md, "Several
# processes on PostgreSQL"):
#
#   one `--role api` process and three `--role scheduler,worker` processes (lease TTL 3 s) share a
#   throwaway PostgreSQL server of this test's own. fault_load.py sends a steady webhook load
#   (each request with a unique Idempotency-Key, retried with the same key when it fails) while
#   this script, a few seconds apart:
#     1. SIGKILLs worker 1;
#     2. SIGSTOPs worker 2 until its leases have expired (TTL + 2 s), then SIGCONTs it: its late
#        writes must be refused by the lease epoch (the fencing token), and it must give its runs up;
#     3. SIGKILLs the process that leads the cron scheduling;
#     4. restarts PostgreSQL itself.
#   Then, once nothing is queued or running, it checks in the database that every accepted webhook
#   has exactly one run (the one it was answered with), that no run exists for a key never sent,
#   that every run and step succeeded, that no step ran again after it had finished, and that cron
#   fired every 2-second tick exactly once, none missing.
#
# Usage: fault_test.sh [FLOWPILOT_BINARY]   (default: build/cli/flowpilot of this checkout)
# Environment: FLOWPILOT_PSQL (psql to use), FLOWPILOT_FAULT_KEEP=1 keeps the work directory.
# Takes about 30 s. Exits non-zero, naming each failed check, when something is wrong.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
flowpilot="$(realpath "${1:-$here/../../build/cli/flowpilot}")"
pg_server="$here/pg_server.sh"
workflows="$here/fault_workflows"
lease_ttl_s=3
rate=40  # webhooks per second: with the 500 ms step, ~20 runs are in flight at any moment

# pg_server.sh ignores PG* variables; psql here gets everything from the URL, so do the same.
while read -r var; do unset "$var"; done < <(compgen -v PG || true)

find_psql() {
  if [ -n "${FLOWPILOT_PSQL:-}" ]; then echo "$FLOWPILOT_PSQL"; return; fi
  local candidate
  for candidate in /usr/lib/postgresql/15/bin/psql \
                   $(find /usr/lib/postgresql -mindepth 3 -maxdepth 3 -path '*/bin/psql' 2>/dev/null |
                     sort -V -r) \
                   "$(command -v psql || true)"; do
    if [ -x "$candidate" ]; then echo "$candidate"; return; fi
  done
  echo "fault_test: no psql found (scripts/setup.sh --tests installs it)" >&2
  exit 1
}
psql_bin="$(find_psql)"

[ -x "$flowpilot" ] || { echo "fault_test: $flowpilot is not an executable" >&2; exit 1; }
# Read whole, then searched: `grep -q` in a pipe would stop reading at the match, and the SIGPIPE
# of the writer fails the pipeline under pipefail.
serve_help="$("$flowpilot" serve --help 2>&1)" || {
  echo "fault_test: \`$flowpilot serve --help\` failed: $serve_help" >&2
  exit 1
}
if ! grep -q -- --role <<<"$serve_help"; then
  echo "fault_test: $flowpilot has no \`serve --role\`: it cannot run several processes" >&2
  exit 1
fi

work="$(mktemp -d /tmp/flowpilot-fault.XXXXXX)"
pg_dir="$work/pg"
stop_file="$work/load.stop"
declare -A pid=()  # process name -> pid, for every flowpilot process started
load_pid=""
pg_started=0

cleanup() {
  local status=$? name
  trap - EXIT
  # Stopped processes would ignore SIGTERM; SIGKILL also ends a stopped one. Nothing they hold
  # matters any more: the database is thrown away below.
  for name in "${!pid[@]}"; do
    kill -KILL "${pid[$name]}" 2>/dev/null || true
  done
  for name in "${!pid[@]}"; do
    wait "${pid[$name]}" 2>/dev/null || true
  done
  if [ -n "$load_pid" ]; then
    touch "$stop_file"
    kill "$load_pid" 2>/dev/null || true
    wait "$load_pid" 2>/dev/null || true
  fi
  if [ "$pg_started" = 1 ]; then
    bash "$pg_server" stop "$pg_dir" >/dev/null || echo "fault_test: could not stop PostgreSQL in $pg_dir" >&2
  fi
  if [ "${FLOWPILOT_FAULT_KEEP:-0}" = 1 ]; then
    echo "fault_test: kept $work" >&2
  else
    rm -rf -- "$work"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # so that cleanup runs when ctest's timeout ends the test

t0=$(date +%s%3N)
say() {  # a line of the timeline, with the seconds since the start
  local now
  now=$(date +%s%3N)
  awk -v ms="$((now - t0))" -v msg="$*" 'BEGIN {printf "[%6.1f s] %s\n", ms / 1000, msg}'
}
now_ms() { date +%s%3N; }

# ---- PostgreSQL, and the processes ---------------------------------------------------------

pg_started=1
url="$(bash "$pg_server" start "$pg_dir")"
sql() {  # psql with the test's settings: tab-separated rows, no headers, stop on the first error
  "$psql_bin" -X -q -v ON_ERROR_STOP=1 -tA -F $'\t' -d "$url" "$@"
}
say "PostgreSQL at $url"

# The same master key for every process, so that any of them could read stored connections; an
# admin password so that no process waits for a first-admin setup.
FLOWPILOT_MASTER_KEY="$(head -c 32 /dev/urandom | base64)"
FLOWPILOT_ADMIN_PASSWORD="fault-$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')"
export FLOWPILOT_MASTER_KEY FLOWPILOT_ADMIN_PASSWORD

start_process() {  # <name> <roles>
  local name=$1 roles=$2
  mkdir -p "$work/$name"
  # stdout carries "flowpilot serving on ..."; spdlog writes to stderr, the log checked below.
  "$flowpilot" serve --store "$url" --role "$roles" --listen 127.0.0.1:0 \
    --data-dir "$work/$name/data" --workflows "$workflows" --watch-interval 0s \
    --lease-ttl "${lease_ttl_s}s" --limits-webhook-rate 0 --log-level info \
    >"$work/$name.out" 2>"$work/$name.log" &
  pid[$name]=$!
}

wait_serving() {  # <name>: prints its base URL once it listens
  local name=$1 _ line
  for _ in $(seq 1 300); do
    line="$(grep -m1 -o 'flowpilot serving on http://[^ ]*' "$work/$name.out" || true)"
    if [ -n "$line" ]; then
      echo "${line#flowpilot serving on }"
      return 0
    fi
    if ! kill -0 "${pid[$name]}" 2>/dev/null; then
      echo "fault_test: $name stopped before serving; its log:" >&2
      tail -n 30 "$work/$name.log" "$work/$name.out" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "fault_test: $name did not start serving in 30 s" >&2
  return 1
}

# The api process first: it migrates the empty database and imports the workflows alone, so the
# workers start on a ready schema (starting all at once is also supported, but not this test's
# subject).
start_process api api
api_url="$(wait_serving api)"
for name in w1 w2 w3; do start_process "$name" scheduler,worker; done
for name in w1 w2 w3; do wait_serving "$name" >/dev/null; done
say "api at $api_url (pid ${pid[api]}); workers w1 ${pid[w1]}, w2 ${pid[w2]}, w3 ${pid[w3]}"

declare -A dead=()  # processes this test killed
alive() { [ -z "${dead[$1]:-}" ] && kill -0 "${pid[$1]}" 2>/dev/null; }

# The process leading the cron scheduling: a live worker that logged "leading `scheduler`" more
# often than it lost the lead (PostgreSQL's restart ends every lead, and it is taken again).
current_leader() {
  local name leads lost
  # shellcheck disable=SC2016 # the backquotes are part of the logged text
  for name in w1 w2 w3; do
    alive "$name" || continue
    leads=$(grep -c 'leading `scheduler`' "$work/$name.log" || true)
    lost=$(grep -c 'lost the lead of `scheduler`' "$work/$name.log" || true)
    if [ "$leads" -gt "$lost" ]; then echo "$name"; return 0; fi
  done
  return 1
}

wait_leader() {  # prints the leader's name; waits up to <seconds> for one
  local _
  for _ in $(seq 1 $(($1 * 10))); do
    if current_leader; then return 0; fi
    sleep 0.1
  done
  return 1
}

# ---- the load, and the faults --------------------------------------------------------------

first_leader="$(wait_leader 10)" || { echo "fault_test: no process leads the scheduling" >&2; exit 1; }
say "$first_leader leads the scheduling"

load_start_ms=$(now_ms)
python3 "$here/fault_load.py" --url "$api_url" --path fault --rate "$rate" \
  --stop-file "$stop_file" --out "$work/keys.tsv" 2>"$work/load.log" &
load_pid=$!
say "load started: $rate webhooks/s"
sleep 4

kill -KILL "${pid[w1]}"
wait "${pid[w1]}" 2>/dev/null || true  # reaped here, so bash does not report the kill on stderr
dead[w1]=1
say "SIGKILL w1"
sleep 3

# Stop w2 with runs in flight. What it held when it froze is read while it is frozen (its leases
# cannot change meanwhile); those runs must be claimed by another worker once the leases expire.
w2_owner_pattern="%:${pid[w2]}:%"
kill -STOP "${pid[w2]}"
w2_log_size_at_stop=$(stat -c %s "$work/w2.log")
sql -c "SELECT id, lease_epoch FROM runs WHERE lease_owner LIKE '$w2_owner_pattern'
        AND status IN ('queued', 'running')" >"$work/w2_held.tsv"
w2_held=$(wc -l <"$work/w2_held.tsv")
say "SIGSTOP w2 (it holds $w2_held unfinished runs)"
sleep $((lease_ttl_s + 2))
kill -CONT "${pid[w2]}"
say "SIGCONT w2"
sleep 3

if leader="$(wait_leader 10)"; then
  kill -KILL "${pid[$leader]}"
  wait "${pid[$leader]}" 2>/dev/null || true
  dead[$leader]=1
  say "SIGKILL $leader, the scheduling's leader"
else
  say "no live process leads the scheduling: nothing to kill (checked below through cron's ticks)"
  leader=""
fi
if next_leader="$(wait_leader 10)"; then
  say "$next_leader leads the scheduling"
else
  say "no process took the scheduling's lead over within 10 s"
fi
sleep 2

say "restarting PostgreSQL"
bash "$pg_server" restart "$pg_dir" >/dev/null
say "PostgreSQL restarted"
sleep 6

touch "$stop_file"
say "stopping the load (requests in progress finish, with their retries)"
wait "$load_pid" || { load_pid=""; echo "fault_test: the load client failed:" >&2; cat "$work/load.log" >&2; exit 1; }
load_pid=""
say "$(cat "$work/load.log")"

# ---- the checks ----------------------------------------------------------------------------

# The keys the client sent, with their outcome, in a table next to the runs.
sql -c "CREATE TABLE fault_keys(key TEXT PRIMARY KEY, outcome TEXT NOT NULL, status INTEGER,
                                answered_run TEXT, tries INTEGER)"
sql -c "\\copy fault_keys FROM '$work/keys.tsv'"
sql -c "CREATE TABLE fault_w2_held(id TEXT PRIMARY KEY, epoch BIGINT NOT NULL)"
sql -c "\\copy fault_w2_held FROM '$work/w2_held.tsv'"

# Every check is a query for what is wrong: a row it returns is a failure, printed with the check's
# name. All of them read one snapshot (REPEATABLE READ), taken when nothing was queued or running:
# cron keeps firing meanwhile, and a tick's run in progress is not a failure.
cat >"$work/checks.sql" <<SQL
BEGIN ISOLATION LEVEL REPEATABLE READ;
-- The first row fixes the snapshot: how many runs are not finished in it.
SELECT 'unfinished_count', count(*) FROM runs WHERE status IN ('queued', 'running');

SELECT 'unfinished', id, workflow_id, status, lease_owner, lease_epoch, lease_expires_at
  FROM runs WHERE status IN ('queued', 'running') ORDER BY id LIMIT 20;

-- Webhooks: an accepted key has exactly one run, the one its answer named. (The column is UNIQUE,
-- so "more than one" cannot be stored; a missing run or another run id can.)
SELECT 'accepted_without_run', k.key, k.answered_run
  FROM fault_keys k LEFT JOIN runs r ON r.idempotency_key = 'hook:fault:' || k.key
 WHERE k.outcome = 'accepted' AND r.id IS NULL ORDER BY k.key LIMIT 20;
SELECT 'answered_other_run', k.key, k.answered_run, r.id
  FROM fault_keys k JOIN runs r ON r.idempotency_key = 'hook:fault:' || k.key
 WHERE k.outcome = 'accepted' AND r.id <> k.answered_run ORDER BY k.key LIMIT 20;
SELECT 'duplicate_key', idempotency_key, count(*) FROM runs
 WHERE workflow_id = 'fault-hook' GROUP BY idempotency_key HAVING count(*) > 1 LIMIT 20;
-- A run for a key that was never sent (or with no key at all, which every request had).
SELECT 'run_of_unsent_key', r.id, coalesce(r.idempotency_key, '(none)')
  FROM runs r LEFT JOIN fault_keys k ON r.idempotency_key = 'hook:fault:' || k.key
 WHERE r.workflow_id = 'fault-hook' AND k.key IS NULL ORDER BY r.id LIMIT 20;

-- Every finished run succeeded, both workflows (nothing here can fail but the machinery).
SELECT 'run_not_succeeded', id, workflow_id, status, left(error, 300)
  FROM runs WHERE status NOT IN ('queued', 'running', 'succeeded') ORDER BY id LIMIT 20;
-- ...with each of its steps recorded once and succeeded.
SELECT 'steps_not_succeeded', r.id, r.workflow_id,
       coalesce(string_agg(s.step_id || ':' || s.status, ',' ORDER BY s.step_id), '(no steps)')
  FROM runs r LEFT JOIN steps s ON s.run_id = r.id
 WHERE r.status = 'succeeded' AND r.workflow_id IN ('fault-hook', 'fault-cron')
 GROUP BY r.id, r.workflow_id
HAVING count(*) FILTER (WHERE s.status = 'succeeded')
       <> CASE r.workflow_id WHEN 'fault-hook' THEN 4 ELSE 1 END
    OR count(s.step_id) <> CASE r.workflow_id WHEN 'fault-hook' THEN 4 ELSE 1 END
 ORDER BY r.id LIMIT 20;

-- No finished step ran twice. What the tables can show:
-- * attempts: a step interrupted by a dying or stopped worker runs again with the SAME attempt
--   number (and idempotency key), replacing its attempt row, so re-running an interrupted step
--   is invisible here, and is allowed. These steps never fail, so any attempt row but exactly one
--   "attempt 1, succeeded" per step means an execution was recorded as a failure or a retry
--   (e.g. a refused or lost commit taken for a step error).
-- * logs: each execution of a core.log step appends a row stamped when it ran, unfenced (late
--   rows of a stopped worker still land, but carry their old time). A row stamped after the
--   step's recorded finish is an execution that started after the step had finished: a finished
--   step that ran again. Several rows all stamped before the finish are re-runs of an interrupted
--   step (counted below, for information).
-- * started_at: the step row keeps when the step first started, the attempt row when its last
--   execution started, so a later attempt start is a re-run of the interrupted step (allowed;
--   counted below, the core.sleep steps included, which log nothing).
SELECT 'bad_attempts', s.run_id, s.step_id, s.attempt,
       coalesce(string_agg(a.attempt || ':' || a.status, ',' ORDER BY a.attempt), '(none)')
  FROM steps s JOIN runs r ON r.id = s.run_id
  LEFT JOIN attempts a ON a.run_id = s.run_id AND a.step_id = s.step_id AND a.idx = s.idx
 WHERE r.status = 'succeeded' AND r.workflow_id IN ('fault-hook', 'fault-cron')
 GROUP BY s.run_id, s.step_id, s.idx, s.attempt
HAVING count(a.attempt) <> 1 OR s.attempt <> 1
    OR bool_or(a.attempt <> 1 OR a.status <> 'succeeded')
 ORDER BY s.run_id LIMIT 20;
SELECT 'ran_after_finish', l.run_id, l.step_id, l.at, s.finished_at,
       (l.at - s.finished_at) || ' ms after'
  FROM logs l JOIN steps s ON s.run_id = l.run_id AND s.step_id = l.step_id AND s.idx = l.idx
  JOIN runs r ON r.id = l.run_id
 WHERE r.workflow_id IN ('fault-hook', 'fault-cron') AND s.finished_at > 0
   AND l.at > s.finished_at
 ORDER BY l.run_id LIMIT 20;
SELECT 'info_reexecuted_steps', count(*) FROM (
  SELECT l.run_id, l.step_id, l.idx FROM logs l JOIN runs r ON r.id = l.run_id
   WHERE r.workflow_id IN ('fault-hook', 'fault-cron')
   GROUP BY l.run_id, l.step_id, l.idx HAVING count(*) > 1
  UNION
  SELECT s.run_id, s.step_id, s.idx FROM steps s JOIN runs r ON r.id = s.run_id
    JOIN attempts a ON a.run_id = s.run_id AND a.step_id = s.step_id AND a.idx = s.idx
   WHERE r.workflow_id IN ('fault-hook', 'fault-cron') AND a.started_at > s.started_at) x;

-- Cron: each tick once, and from the first tick to the last an unbroken 2-second sequence.
SELECT 'cron_duplicate_tick', "trigger"::json->>'scheduled_for', count(*)
  FROM runs WHERE workflow_id = 'fault-cron'
 GROUP BY 2 HAVING count(*) > 1 ORDER BY 2 LIMIT 20;
SELECT 'cron_missing_ticks', prev, tick, extract(epoch FROM tick - prev) || ' s apart'
  FROM (SELECT tick, lag(tick) OVER (ORDER BY tick) AS prev
          FROM (SELECT DISTINCT ("trigger"::json->>'scheduled_for')::timestamptz AS tick
                  FROM runs WHERE workflow_id = 'fault-cron') t) x
 WHERE prev IS NOT NULL AND tick - prev <> interval '2 seconds' ORDER BY tick LIMIT 20;
-- ...and it fired all along: from before the load started until a few seconds ago (after every
-- fault), so that "no gap" is not vacuous.
SELECT 'cron_not_firing_throughout', count(*), min(tick), max(tick), now()
  FROM (SELECT ("trigger"::json->>'scheduled_for')::timestamptz AS tick
          FROM runs WHERE workflow_id = 'fault-cron') t
HAVING count(*) = 0 OR min(tick) > to_timestamp($load_start_ms / 1000.0) + interval '3 seconds'
    OR max(tick) < now() - interval '6 seconds';
SELECT 'info_cron', count(*), min(("trigger"::json->>'scheduled_for')::timestamptz),
       max(("trigger"::json->>'scheduled_for')::timestamptz),
       count(*) FILTER (WHERE ("trigger"::json->>'catch_up')::boolean)
  FROM runs WHERE workflow_id = 'fault-cron';

-- The runs w2 held when it froze: how many another worker claimed (its lease epoch rose).
SELECT 'info_w2_taken_over', count(*) FILTER (WHERE r.lease_epoch > h.epoch), count(*)
  FROM fault_w2_held h JOIN runs r ON r.id = h.id;
SELECT 'info_runs', count(*) FILTER (WHERE workflow_id = 'fault-hook'),
       count(*) FILTER (WHERE workflow_id = 'fault-cron') FROM runs;
COMMIT;
SQL

# Wait until a snapshot has nothing queued or running (the workers finish what the faults left:
# runs of the killed workers are claimed once their leases expire).
say "waiting for every run to finish"
deadline=$(($(now_ms) + 90000))
while :; do
  if sql -f "$work/checks.sql" >"$work/checks.out" 2>"$work/checks.err"; then
    unfinished=$(awk -F'\t' '$1 == "unfinished_count" {print $2}' "$work/checks.out")
    [ "$unfinished" = 0 ] && break
  fi
  if [ "$(now_ms)" -gt "$deadline" ]; then
    say "runs still unfinished after 90 s"
    break
  fi
  sleep 0.5
done
say "checked"

# ---- the verdict ---------------------------------------------------------------------------

failures=()
fail() { failures+=("$1"); }

if [ -s "$work/checks.err" ]; then
  cat "$work/checks.err" >&2
  fail "the check queries failed"
fi
print_rows() {  # <check>: its rows, for the report
  awk -F'\t' -v c="$1" '$1 == c {print "    " $0}' "$work/checks.out"  # each query has LIMIT 20
}
for check in unfinished accepted_without_run answered_other_run duplicate_key run_of_unsent_key \
             run_not_succeeded steps_not_succeeded bad_attempts ran_after_finish \
             cron_duplicate_tick cron_missing_ticks cron_not_firing_throughout; do
  if awk -F'\t' -v c="$check" '$1 == c {found = 1} END {exit !found}' "$work/checks.out"; then
    fail "$check"
    echo "FAILED $check:"
    print_rows "$check"
  fi
done
info() { awk -F'\t' -v c="$1" '$1 == c {$1 = ""; sub(/^ /, ""); print}' OFS=' ' "$work/checks.out"; }

read -r accepted failed_keys < <(awk -F'\t' '$2 == "accepted" {a++} $2 == "failed" {f++}
                                 END {print a + 0, f + 0}' "$work/keys.tsv")
[ "$accepted" -gt 0 ] || fail "no webhook was accepted"

# The stopped worker: when it held runs as it froze, it must have given them up after SIGCONT
# (a renewal that finds the lease taken, or a commit refused by the lease epoch).
w2_after="$(tail -c +"$((w2_log_size_at_stop + 1))" "$work/w2.log")"
w2_gave_up=$(grep -c 'giving the run up' <<<"$w2_after" || true)
w2_refused=$(grep -c 'is no longer held; the write is refused' <<<"$w2_after" || true)
if [ "$w2_held" -gt 0 ] && [ "$w2_gave_up" -eq 0 ]; then
  fail "stale_worker_kept_runs"
  echo "FAILED stale_worker_kept_runs: w2 held $w2_held runs when stopped, yet logged no" \
       "'giving the run up' after SIGCONT; its log from then on:"
  head -n 20 <<<"$w2_after" | sed 's/^/    /'
fi

# Log lines are "<time> <level> <message> key=value..." (cli/server_log.cpp).
problem_lines='^[^ ]+ (warning|error|critical) '
echo
echo "=== fault test summary ($(( ($(now_ms) - t0) / 1000 )) s) ==="
echo "webhooks: $accepted accepted, $failed_keys never accepted (allowed: sent while PostgreSQL restarted)"
echo "runs (webhook, cron): $(info info_runs)"
echo "cron ticks (count, first, last, fired as catch-up): $(info info_cron)"
echo "steps re-run after an interruption (allowed): $(info info_reexecuted_steps)"
echo "w2 held $w2_held runs when stopped; taken over by others (of those): $(info info_w2_taken_over);" \
     "after SIGCONT it logged 'giving the run up' $w2_gave_up times, refused writes $w2_refused times"
echo "scheduler leaders: first $first_leader, killed ${leader:-none}, then ${next_leader:-none}"
for name in api w1 w2 w3; do
  echo "$name: $(grep -cE "$problem_lines" "$work/$name.log" || true) warnings and errors logged"
done
if [ "${#failures[@]}" -gt 0 ]; then
  echo "FAILED: ${failures[*]}"
  for name in api w1 w2 w3; do
    echo "--- $name: last warnings and errors"
    grep -E "$problem_lines" "$work/$name.log" | tail -n 15 | sed 's/^/    /' || true
  done
  exit 1
fi
echo "PASSED"
