#!/usr/bin/env bash
# The webhook hot path against this machine's own limits, in one run (issue #6, README "Performance"):
#   l1                bench/Baseline: Kestrel + JSON parse, nothing else (the HTTP ceiling)
#   l2                pgbench issuing the service's own ingest statement (Data/Sql/ingest_event.call.sql),
#                     one event per transaction, fsync on (the database ceiling)
#   service           the published service (Role=api) under the same wrk load (unique events, HTTP Basic)
#   textbook          bench/Textbook (EF Core SaveChanges + Hangfire BackgroundJob.Enqueue per request, Role=api)
#                     under the same load
#   pipeline          the service (Role=all) on a fresh database: idle pickup, then a burst of BENCH_EVENTS events
#                     against a CRM/ticket stub answering in 5 ms; drain time and jobs/s
#   textbook-pipeline the same burst (BENCH_TEXTBOOK_EVENTS events) through the textbook, its Hangfire server in
#                     the same process with default options
#   curve             the service's ingest with its database pre-filled to 1x, 4x, 16x BENCH_CURVE_BASE events,
#                     then GET /calls/{id} at 16x
# and prints requests/s, p50, p99, non-2xx, peak RSS and the ratios between them.
# Figures are for comparing within one run: this machine is shared and noisy.
# Knobs (environment):
#   BENCH_PHASES           phases to run, default all: "l1 l2 service textbook pipeline textbook-pipeline curve"
#   BENCH_SECONDS          measured seconds per ingest run (default 30)
#   BENCH_WARMUP           warm-up seconds before each measured run (default 20; tiered JIT settles)
#   BENCH_CONNECTIONS      wrk connections / pgbench clients (default 32)
#   BENCH_EVENTS           the service's pipeline burst (default 20000)
#   BENCH_TEXTBOOK_EVENTS  the textbook's pipeline burst (default 3000: it ingests ~170/s)
#   BENCH_CURVE_BASE       events at 1x of the cost curve (default 62500, so 16x = 1 000 000)
#   BENCH_CURVE_SECONDS    measured seconds per curve size and for GET /calls/{id} (default 15)
#   BENCH_CURVE_WARMUP     load before each size's measurement, after its fill (default 15)
#   BENCH_GET_CONNECTIONS  wrk connections for GET /calls/{id} (default 4: operator reads, latency not saturation)
set -euo pipefail
[[ -n ${BENCH_TRACE:-} ]] && set -x

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
ALL_PHASES="l1 l2 service textbook pipeline textbook-pipeline curve"
PHASES=" ${BENCH_PHASES:-$ALL_PHASES} "
SECONDS_RUN=${BENCH_SECONDS:-30}
WARMUP=${BENCH_WARMUP:-20}
CONNS=${BENCH_CONNECTIONS:-32}
BURST_EVENTS=${BENCH_EVENTS:-20000}
TB_EVENTS=${BENCH_TEXTBOOK_EVENTS:-3000}
CURVE_BASE=${BENCH_CURVE_BASE:-62500}
CURVE_SECONDS=${BENCH_CURVE_SECONDS:-15}
CURVE_WARMUP=${BENCH_CURVE_WARMUP:-15}
GET_CONNS=${BENCH_GET_CONNECTIONS:-4}
for phase in $PHASES; do
  [[ " $ALL_PHASES " == *" $phase "* ]] || { echo "unknown phase '$phase' in BENCH_PHASES (known: $ALL_PHASES)" >&2; exit 2; }
done
want() { [[ $PHASES == *" $1 "* ]]; }
want_any() { local p; for p in "$@"; do want "$p" && return 0; done; return 1; }

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
cd "$REPO"
export BENCH_AUTHORIZATION="Basic $(printf 'bench:bench' | base64)"
# Operator credentials for GET /calls/{id} in the curve phase (a throwaway server: not a secret).
OPERATOR_USER=bench-operator OPERATOR_PASSWORD=bench-operator-password
export BENCH_OPERATOR_AUTHORIZATION="Basic $(printf '%s:%s' "$OPERATOR_USER" "$OPERATOR_PASSWORD" | base64)"

command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk; }
PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)
[[ -x $PGBIN/pgbench ]] || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-contrib; PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1); }

WORK=$(mktemp -d)
chmod 755 "$WORK"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  bash "$REPO/scripts/pg-local.sh" stop "$WORK/pg" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== building (Release)" >&2
if want_any l2 service pipeline curve; then
  dotnet publish src/WebhookReceiver/WebhookReceiver.csproj -c Release -o "$WORK/service" --nologo -v quiet >&2
fi
if want_any l1 pipeline textbook-pipeline; then
  dotnet publish bench/Baseline/Baseline.csproj -c Release -o "$WORK/baseline" --nologo -v quiet >&2
fi
if want_any textbook textbook-pipeline; then
  dotnet publish bench/Textbook/Textbook.csproj -c Release -o "$WORK/textbook" --nologo -v quiet >&2
fi

ADMIN=$(bash scripts/pg-local.sh start "$WORK/pg" | tail -n1)
PGPORT=$(sed -E 's/.*Port=([0-9]+).*/\1/' <<<"$ADMIN")
psql_() { "$PGBIN/psql" -X -q -h 127.0.0.1 -p "$PGPORT" -U postgres "$@"; }
cs() { echo "Host=127.0.0.1;Port=$PGPORT;Username=postgres;Password=postgres;Database=$1"; }
# A fresh database migrated by the service itself (EF migrations + Hangfire's schema).
service_db() {
  psql_ -c "CREATE DATABASE $1" -d postgres
  ConnectionStrings__Postgres=$(cs "$1") dotnet "$WORK/service/WebhookReceiver.dll" migrate >/dev/null
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 120); do curl -s -o /dev/null "$1" && return 0; sleep 0.5; done; echo "no answer from $1" >&2; return 1; }
peak_rss_mb() { awk '/VmHWM/ {printf "%.0f", $2/1024}' "/proc/$1/status"; }
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
num_or() { [[ $1 =~ ^[0-9.]+$ ]] && echo "$1" || echo "$2"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# wrk's summary as "rps p50_ms p99_ms non2xx" (socket errors count as failures too).
wrk_summary() {
  awk '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx/ { bad += $NF }
    /Socket errors/ { gsub(/,/, ""); bad += $4 + $6 + $8 + $10 }
    END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, bad + 0 }' "$1"
}

# wrk's default 2 s timeout would count a slow answer as an error and leave it out of the percentiles.
WRK_TIMEOUT=10s
# wrk: warm up (tiered JIT settles), then measure. load URL [LUA] [SECONDS] [WARMUP] [CONNECTIONS]
load() {
  local url=$1 lua=${2:-bench/ingest.lua} seconds=${3:-$SECONDS_RUN} warmup=${4:-$WARMUP} conns=${5:-$CONNS}
  local threads=$(( conns < 2 ? 1 : 2 ))
  if (( warmup > 0 )); then wrk -t"$threads" -c"$conns" -d"${warmup}s" --timeout "$WRK_TIMEOUT" -s "$lua" "$url" >/dev/null || return 1; fi
  wrk -t"$threads" -c"$conns" -d"${seconds}s" --timeout "$WRK_TIMEOUT" --latency -s "$lua" "$url" >"$WORK/wrk.txt"
  wrk_summary "$WORK/wrk.txt"
}

# A burst of N unique events (wrk stops each of its two threads after N/2 answers), timed until the work it
# caused is done. burst URL N RATE DB STORED_SQL PENDING_SQL; RATE (req/s measured earlier, or a guess) only
# bounds wrk's run. Sets B_P50 B_P99 B_BAD (latency while the jobs drain), BACKLOG (work waiting when the last
# event was stored), DRAIN (seconds from the burst's first request until no work is waiting), AFTER (jobs/s of
# the backlog alone, from the last stored event until none waits: the workers' rate with no ingest competing;
# "-" when there was no backlog).
burst() {
  local url=$1 n=$2 rate=$3 db=$4 stored_sql=$5 pending_sql=$6 delivered='' wrk_pid t0 t1 td bound stored last=-1 still=0
  # Only a safety net: the burst normally ends when its events are stored (below), whatever this says.
  bound=$(awk -v n="$n" -v r="$rate" 'BEGIN { s = int(n / (r > 10 ? r / 10 : 1)) + 30; print (s > 900 ? 900 : s) }')
  t0=$(date +%s.%N)
  BENCH_LIMIT=$(( n / 2 )) wrk -t2 -c"$CONNS" -d"${bound}s" --timeout "$WRK_TIMEOUT" --latency -s bench/ingest.lua "$url" >"$WORK/burst.txt" &
  wrk_pid=$!; pids+=("$wrk_pid")
  BACKLOG=''
  for _ in $(seq 1 3600); do   # 0.5 s steps: 30 min at most
    if [[ -z $delivered ]]; then
      stored=$(psql_ -d "$db" -tA -c "$stored_sql")
      if (( stored == last )); then still=$(( still + 1 )); else still=0; last=$stored; fi
      # All stored, or wrk gone, or nothing stored for 15 s (answers that were errors): the burst is over.
      if (( stored >= n / 2 * 2 || still >= 30 )) || ! kill -0 "$wrk_pid" 2>/dev/null; then
        delivered=1
        BACKLOG=$(psql_ -d "$db" -tA -c "$pending_sql")
        td=$(date +%s.%N)
        # wrk sleeps out its -d even after its threads stopped: SIGINT makes it print its figures and exit.
        kill -INT "$wrk_pid" 2>/dev/null || true
        wait "$wrk_pid" || true
      fi
    fi
    if [[ -n $delivered ]] && (( $(psql_ -d "$db" -tA -c "$pending_sql") == 0 )); then break; fi
    sleep 0.5
  done
  t1=$(date +%s.%N)
  DRAIN=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}')
  AFTER=$(awk -v n="${BACKLOG:-0}" -v a="${td:-$t1}" -v b="$t1" 'BEGIN { if (n > 0 && b - a > 0.5) printf "%.0f", n / (b - a); else print "-" }')
  read -r _ B_P50 B_P99 B_BAD < <(wrk_summary "$WORK/burst.txt")
}

# Warm-up for a pipeline phase: BENCH_WARMUP seconds of the same load (JIT tiering settles, as before the ingest
# runs), then wait until its work has drained, so the burst after it starts from a warm, idle process.
warm_and_drain() {
  local url=$1 db=$2 pending_sql=$3
  (( WARMUP > 0 )) || return 0
  wrk -t2 -c"$CONNS" -d"${WARMUP}s" --timeout "$WRK_TIMEOUT" -s bench/ingest.lua "$url" >/dev/null
  for _ in $(seq 1 1200); do
    (( $(psql_ -d "$db" -tA -c "$pending_sql") == 0 )) && return 0
    sleep 0.5
  done
  echo "warm-up work did not drain within 10 minutes" >&2
}

L1_RPS=- L1_P50=- L1_P99=- L1_BAD=- L1_RSS=-
L2_RPS=- L2_P50=- L2_P99=- L2_BAD=-
S_RPS=- S_P50=- S_P99=- S_BAD=- S_RSS=- EVENTS=-
T_RPS=- T_P50=- T_P99=- T_BAD=- T_RSS=- T_EVENTS=-

if want l1; then
  echo "== L1: bare Kestrel + JSON parse" >&2
  PORT=$(free_port)
  ASPNETCORE_URLS=http://127.0.0.1:$PORT "$WORK/baseline/Baseline" >/dev/null 2>&1 &
  L1PID=$!; pids+=("$L1PID")
  wait_http "http://127.0.0.1:$PORT/"
  read -r L1_RPS L1_P50 L1_P99 L1_BAD < <(load "http://127.0.0.1:$PORT/webhooks/minivoice")
  L1_RSS=$(peak_rss_mb "$L1PID")
  stop_pid "$L1PID"
fi

if want_any l2 service; then
  echo "== migrating the schema" >&2
  service_db bench
fi

if want l2; then
  echo "== L2: pgbench with the service's ingest statement" >&2
  # Built from the very file the service reads; each \$n becomes a pgbench expression for a unique event.
  BODY='{"event":"call.completed","created_at":"2026-05-29T12:10:00Z","call":{"id":"call_pgbench","customer_id":"cust_123","application_id":"app_123","status":"completed","direction":"inbound","from":"+15551230001","to":"+15551230002"},"variables":{"order":"B2"},"data":{}}'
  # The body goes in as hex: pgbench would take the ':' inside a literal for a variable.
  BODYHEX=$(printf '%s' "$BODY" | od -An -v -tx1 | tr -d ' \n')
  {
    echo '\set n random(1, 1000000000000)'
    echo '\set k random(0, 3)'
    grep -v '^--' src/WebhookReceiver/Data/Sql/ingest_event.call.sql | tr '\n' ' ' | sed -E \
      -e "s/\\\$14/ARRAY['failed','busy','no-answer']/" \
      -e "s/\\\$13/decode('$BODYHEX', 'hex')/" \
      -e "s/\\\$12/'+15551230002'/" -e "s/\\\$11/'+15551230001'/" -e "s/\\\$10/'inbound'/" \
      -e "s/\\\$9/'app_123'/" -e "s/\\\$8/'cust_123'/" -e "s/\\\$7/now()/" -e "s/\\\$6/(:k::int >= 2)/" \
      -e "s/\\\$5/(ARRAY['ringing','in-progress','completed','busy'])[:k::int + 1]/" -e "s/\\\$4/'call.bench'/" \
      -e "s/\\\$3/'call_p' || :client_id::text || '_' || :n::text/" -e "s/\\\$2/NULL/" \
      -e "s/\\\$1/'pgb-' || :client_id::text || '-' || :n::text/"
    echo ';'
  } >"$WORK/ingest.pgbench"
  if (( WARMUP > 0 )); then
    "$PGBIN/pgbench" -h 127.0.0.1 -p "$PGPORT" -U postgres -n -M prepared -c "$CONNS" -j 2 -T "$WARMUP" -f "$WORK/ingest.pgbench" bench >"$WORK/pgbench-warmup.txt" 2>&1 || { grep -m3 -i error "$WORK/pgbench-warmup.txt" >&2; exit 1; }
  fi
  "$PGBIN/pgbench" -h 127.0.0.1 -p "$PGPORT" -U postgres -n -M prepared -c "$CONNS" -j 2 -T "$SECONDS_RUN" -f "$WORK/ingest.pgbench" \
    --log --log-prefix="$WORK/pgb" bench >"$WORK/pgbench.txt" 2>&1
  L2_RPS=$(awk '/^tps/ {printf "%.0f", $3; exit}' "$WORK/pgbench.txt")
  # Per-transaction log: column 3 is latency in microseconds.
  read -r L2_P50 L2_P99 < <(cat "$WORK"/pgb.* | awk '{print $3}' | sort -n | awk '{v[NR]=$1} END {printf "%.2f %.2f\n", v[int(NR*0.5)]/1000, v[int(NR*0.99)]/1000}')
  L2_BAD=$(awk '/number of failed transactions/ {print $5; exit}' "$WORK/pgbench.txt"); L2_BAD=${L2_BAD:-0}
fi

if want service; then
  echo "== service" >&2
  PORT=$(free_port)
  ConnectionStrings__Postgres=$(cs bench) ASPNETCORE_URLS=http://127.0.0.1:$PORT ASPNETCORE_ENVIRONMENT=Production \
    Webhooks__BasicAuth__Username=bench Webhooks__BasicAuth__Password=bench Role=api \
    dotnet "$WORK/service/WebhookReceiver.dll" >"$WORK/service.log" 2>&1 &
  SVCPID=$!; pids+=("$SVCPID")
  wait_http "http://127.0.0.1:$PORT/health/ready"
  read -r S_RPS S_P50 S_P99 S_BAD < <(load "http://127.0.0.1:$PORT/webhooks/minivoice")
  S_RSS=$(peak_rss_mb "$SVCPID")
  # Not L2's rows (same database, identities 'pgb-…').
  EVENTS=$(psql_ -d bench -tA -c "SELECT count(*) FROM webhook_events WHERE identity NOT LIKE 'pgb-%'")
  stop_pid "$SVCPID"
fi

# The textbook creates its own schema (EnsureCreated, Hangfire's PrepareSchemaIfNecessary) at start.
start_textbook() {   # start_textbook DB ROLE [extra env...]; sets TBPID, TBURL
  psql_ -c "CREATE DATABASE $1" -d postgres
  local port; port=$(free_port)
  (cd "$WORK/textbook" && exec env ConnectionStrings__Postgres="$(cs "$1")" ASPNETCORE_URLS="http://127.0.0.1:$port" \
    Webhooks__BasicAuth__Username=bench Webhooks__BasicAuth__Password=bench Role="$2" "${@:3}" ./Textbook) >"$WORK/textbook-$1.log" 2>&1 &
  TBPID=$!; pids+=("$TBPID")
  TBURL=http://127.0.0.1:$port
  wait_http "$TBURL/health"
}

if want textbook; then
  echo "== textbook receiver (EF Core + Hangfire per request)" >&2
  start_textbook textbook api
  read -r T_RPS T_P50 T_P99 T_BAD < <(load "$TBURL/webhooks/minivoice")
  T_RSS=$(peak_rss_mb "$TBPID")
  T_EVENTS=$(psql_ -d textbook -tA -c "SELECT count(*) FROM events")
  stop_pid "$TBPID"
fi

if want_any pipeline textbook-pipeline; then
  STUB=$(free_port)
  ASPNETCORE_URLS=http://127.0.0.1:$STUB "$WORK/baseline/Baseline" >/dev/null 2>&1 &
  pids+=("$!")
  wait_http "http://127.0.0.1:$STUB/"
fi

if want pipeline; then
  echo "== job pipeline: a burst of $BURST_EVENTS events, CRM and ticket stub answering in 5 ms" >&2
  # A database of its own: the ingest run above left its (unworked, Role=api) actions behind.
  service_db pipeline
  PORT=$(free_port)
  ConnectionStrings__Postgres=$(cs pipeline) ASPNETCORE_URLS=http://127.0.0.1:$PORT ASPNETCORE_ENVIRONMENT=Production \
    Webhooks__BasicAuth__Username=bench Webhooks__BasicAuth__Password=bench Role=all \
    Crm__BaseUrl=http://127.0.0.1:$STUB Tickets__BaseUrl=http://127.0.0.1:$STUB \
    dotnet "$WORK/service/WebhookReceiver.dll" >"$WORK/service-all.log" 2>&1 &
  ALLPID=$!; pids+=("$ALLPID")
  wait_http "http://127.0.0.1:$PORT/health/ready"
  warm_and_drain "http://127.0.0.1:$PORT/webhooks/minivoice" pipeline "SELECT count(*) FROM call_actions WHERE state = 'pending'"
  # Idle pickup first: one final event, time until its CRM sync succeeded.
  BEFORE=$(psql_ -d pipeline -tA -c "SELECT coalesce(max(id), 0) FROM call_actions")
  curl -s -o /dev/null -u bench:bench -H 'Content-Type: application/json' \
    -d '{"event":"call.completed","created_at":"2026-05-29T12:10:00Z","call":{"id":"call_pickup","status":"completed"}}' \
    "http://127.0.0.1:$PORT/webhooks/minivoice"
  for _ in $(seq 1 100); do
    PICKUP_MS=$(psql_ -d pipeline -tA -c "SELECT round(extract(epoch FROM (completed_at - created_at)) * 1000) FROM call_actions WHERE id > $BEFORE AND state = 'succeeded'")
    [[ -n $PICKUP_MS ]] && break; sleep 0.1
  done
  BURST_START=$(psql_ -d pipeline -tA -c "SELECT now()")
  burst "http://127.0.0.1:$PORT/webhooks/minivoice" "$BURST_EVENTS" "$(num_or "$S_RPS" 1000)" pipeline \
    "SELECT count(*) FROM webhook_events WHERE received_at >= '$BURST_START'" \
    "SELECT count(*) FROM call_actions WHERE state = 'pending'"
  P_P50=$B_P50 P_P99=$B_P99 P_BAD=$B_BAD P_BACKLOG=$BACKLOG P_DRAIN=$DRAIN P_AFTER=$AFTER
  P_JOBS=$(psql_ -d pipeline -tA -c "SELECT count(*) FROM call_actions WHERE created_at >= '$BURST_START' AND state = 'succeeded'")
  P_FAILED=$(psql_ -d pipeline -tA -c "SELECT count(*) FROM call_actions WHERE created_at >= '$BURST_START' AND state <> 'succeeded'")
  # Ingest rate of the burst from the stored arrival times (first to last event).
  P_RPS=$(psql_ -d pipeline -tA -c "SELECT round(count(*) / greatest(extract(epoch FROM max(received_at) - min(received_at)), 0.001)) FROM webhook_events WHERE received_at >= '$BURST_START'")
  P_EVENTS=$(psql_ -d pipeline -tA -c "SELECT count(*) FROM webhook_events WHERE received_at >= '$BURST_START'")
  P_JOBS_PER_S=$(awk -v j="$P_JOBS" -v d="$P_DRAIN" 'BEGIN {printf "%.0f", j / d}')
  P_RSS=$(peak_rss_mb "$ALLPID")
  stop_pid "$ALLPID"
fi

if want textbook-pipeline; then
  echo "== textbook job pipeline: a burst of $TB_EVENTS events, same stub" >&2
  start_textbook textbook_pipeline all Crm__BaseUrl="http://127.0.0.1:$STUB" Tickets__BaseUrl="http://127.0.0.1:$STUB"
  warm_and_drain "$TBURL/webhooks/minivoice" textbook_pipeline \
    "SELECT count(*) FROM hangfire.job WHERE statename IS NULL OR statename IN ('Enqueued', 'Processing')"
  BURST_START=$(psql_ -d textbook_pipeline -tA -c "SELECT now()")
  # Work waiting: jobs not yet done (a job row is created before its Enqueued state is set).
  burst "$TBURL/webhooks/minivoice" "$TB_EVENTS" "$(num_or "$T_RPS" 170)" textbook_pipeline \
    "SELECT count(*) FROM events WHERE received_at >= '$BURST_START'" \
    "SELECT count(*) FROM hangfire.job WHERE statename IS NULL OR statename IN ('Enqueued', 'Processing')"
  TP_P50=$B_P50 TP_P99=$B_P99 TP_BAD=$B_BAD TP_BACKLOG=$BACKLOG TP_DRAIN=$DRAIN TP_AFTER=$AFTER
  # Hangfire keeps createdat as UTC without a zone: only the burst's jobs, not the warm-up's.
  TP_SINCE="createdat >= ('$BURST_START'::timestamptz AT TIME ZONE 'UTC')"
  TP_JOBS=$(psql_ -d textbook_pipeline -tA -c "SELECT count(*) FROM hangfire.job WHERE statename = 'Succeeded' AND $TP_SINCE")
  TP_FAILED=$(psql_ -d textbook_pipeline -tA -c "SELECT count(*) FROM hangfire.job WHERE statename <> 'Succeeded' AND $TP_SINCE")
  TP_RPS=$(psql_ -d textbook_pipeline -tA -c "SELECT round(count(*) / greatest(extract(epoch FROM max(received_at) - min(received_at)), 0.001)) FROM events WHERE received_at >= '$BURST_START'")
  TP_EVENTS=$(psql_ -d textbook_pipeline -tA -c "SELECT count(*) FROM events WHERE received_at >= '$BURST_START'")
  TP_JOBS_PER_S=$(awk -v j="$TP_JOBS" -v d="$TP_DRAIN" 'BEGIN {printf "%.0f", j / d}')
  TP_RSS=$(peak_rss_mb "$TBPID")
  stop_pid "$TBPID"
fi

if want curve; then
  echo "== cost curve: the service's ingest at 1x, 4x, 16x $CURVE_BASE events, then GET /calls/{id}" >&2
  service_db curve
  PORT=$(free_port)
  ConnectionStrings__Postgres=$(cs curve) ASPNETCORE_URLS=http://127.0.0.1:$PORT ASPNETCORE_ENVIRONMENT=Production \
    Webhooks__BasicAuth__Username=bench Webhooks__BasicAuth__Password=bench Role=api \
    Dashboard__Username=$OPERATOR_USER Dashboard__Password=$OPERATOR_PASSWORD \
    dotnet "$WORK/service/WebhookReceiver.dll" >"$WORK/service-curve.log" 2>&1 &
  CURVEPID=$!; pids+=("$CURVEPID")
  wait_http "http://127.0.0.1:$PORT/health/ready"
  # Warm up once, then start from empty tables so 1x means BENCH_CURVE_BASE events.
  if (( WARMUP > 0 )); then wrk -t2 -c"$CONNS" -d"${WARMUP}s" --timeout "$WRK_TIMEOUT" -s bench/ingest.lua "http://127.0.0.1:$PORT/webhooks/minivoice" >/dev/null; fi
  psql_ -d curve -c "TRUNCATE webhook_events, calls, call_actions RESTART IDENTITY"
  FILLED_CALLS=0
  CURVE_ROWS=()
  for multiple in 1 4 16; do
    target=$(( CURVE_BASE * multiple ))
    have=$(psql_ -d curve -tA -c "SELECT count(*) FROM webhook_events")
    add=$(( (target - have + 3) / 4 ))   # calls, four events each
    fill_s=0
    if (( add > 0 )); then
      f0=$(date +%s.%N)
      psql_ -d curve -v first=$(( FILLED_CALLS + 1 )) -v last=$(( FILLED_CALLS + add )) -f bench/curve-fill.sql
      FILLED_CALLS=$(( FILLED_CALLS + add ))
      # VACUUM too, so autovacuum's pass over the freshly inserted rows does not land inside the measurement.
      psql_ -d curve -c "VACUUM (ANALYZE) webhook_events, calls, call_actions" -c "CHECKPOINT"
      fill_s=$(awk -v a="$f0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.0f", b - a}')
    fi
    size=$(psql_ -d curve -tA -c "SELECT count(*) FROM webhook_events")
    echo "   ${multiple}x: $size events (filled in ${fill_s} s), measuring" >&2
    read -r c_rps c_p50 c_p99 c_bad < <(load "http://127.0.0.1:$PORT/webhooks/minivoice" bench/ingest.lua "$CURVE_SECONDS" "$CURVE_WARMUP")
    if [[ $multiple == 1 ]]; then CURVE_1X=$c_rps; fi
    CURVE_ROWS+=("${multiple}x|$size|$fill_s|$c_rps|$c_p50|$c_p99|$c_bad|$(ratio "$c_rps" "$CURVE_1X")")
  done
  G_SIZE=$(psql_ -d curve -tA -c "SELECT count(*) FROM webhook_events")
  export BENCH_CALLS=$FILLED_CALLS
  read -r G_RPS G_P50 G_P99 G_BAD < <(load "http://127.0.0.1:$PORT" bench/get-call.lua "$CURVE_SECONDS" \
    "$(( WARMUP < 10 ? WARMUP : 10 ))" "$GET_CONNS")
  C_RSS=$(peak_rss_mb "$CURVEPID")
  stop_pid "$CURVEPID"
fi

row() { printf '%-36s %10s %9s %9s %8s %10s\n' "$@"; }
mb() { [[ $1 == - ]] && echo - || echo "$1 MB"; }
if want_any l1 l2 service textbook; then
  echo
  echo "Ingest, c=$CONNS, ${SECONDS_RUN}s after ${WARMUP}s warm-up, fsync on, $(nproc) cores shared by load, server and PostgreSQL"
  row "what" "req/s" "p50 ms" "p99 ms" "non-2xx" "peak RSS"
  row "L1 Kestrel + JSON parse" "$L1_RPS" "$L1_P50" "$L1_P99" "$L1_BAD" "$(mb "$L1_RSS")"
  row "L2 pgbench, service's statement" "$L2_RPS" "$L2_P50" "$L2_P99" "$L2_BAD" "-"
  row "service (role api)" "$S_RPS" "$S_P50" "$S_P99" "$S_BAD" "$(mb "$S_RSS")"
  row "textbook (EF + Hangfire, role api)" "$T_RPS" "$T_P50" "$T_P99" "$T_BAD" "$(mb "$T_RSS")"
  echo "service/L2 = $(ratio "$S_RPS" "$L2_RPS")   service/L1 = $(ratio "$S_RPS" "$L1_RPS")   service/textbook = $(ratio "$S_RPS" "$T_RPS")   events stored: service $EVENTS, textbook $T_EVENTS"
fi

if want_any pipeline textbook-pipeline; then
  echo
  echo "Job pipeline, CRM/ticket stub answering in 5 ms; drain = first request of the burst until no work waits"
  printf '%-36s %8s %9s %9s %9s %8s %8s %9s %8s %7s %7s %10s\n' "what" "events" "events/s" "p50 ms" "p99 ms" "non-2xx" "backlog" "drain s" "jobs" "jobs/s" "after/s" "peak RSS"
  if want pipeline; then
    printf '%-36s %8s %9s %9s %9s %8s %8s %9s %8s %7s %7s %10s\n' "service (role all)" "$P_EVENTS" "$P_RPS" "$P_P50" "$P_P99" "$P_BAD" "$P_BACKLOG" "$P_DRAIN" "$P_JOBS" "$P_JOBS_PER_S" "$P_AFTER" "$P_RSS MB"
  fi
  if want textbook-pipeline; then
    printf '%-36s %8s %9s %9s %9s %8s %8s %9s %8s %7s %7s %10s\n' "textbook (Hangfire server in-process)" "$TP_EVENTS" "$TP_RPS" "$TP_P50" "$TP_P99" "$TP_BAD" "$TP_BACKLOG" "$TP_DRAIN" "$TP_JOBS" "$TP_JOBS_PER_S" "$TP_AFTER" "$TP_RSS MB"
  fi
  if want pipeline; then echo "service: idle pickup ${PICKUP_MS:-?} ms (commit to CRM success); actions not succeeded: $P_FAILED"; fi
  if want textbook-pipeline; then echo "textbook: jobs not succeeded (retrying or failed): $TP_FAILED"; fi
  if want pipeline && want textbook-pipeline; then
    echo "jobs/s service/textbook = $(ratio "${P_JOBS_PER_S:-}" "${TP_JOBS_PER_S:-}") over the whole drain (target >= 3);" \
      "backlog alone (after/s): $(ratio "${P_AFTER:-}" "${TP_AFTER:-}")"
  fi
fi

if want curve; then
  echo
  echo "Cost curve: service (role api) ingest, c=$CONNS, ${CURVE_SECONDS}s per size, database pre-filled (bench/curve-fill.sql)"
  printf '%-6s %12s %8s %10s %9s %9s %8s %8s\n' "size" "events" "fill s" "req/s" "p50 ms" "p99 ms" "non-2xx" "vs 1x"
  for r in "${CURVE_ROWS[@]}"; do
    IFS='|' read -r m size fill rps p50 p99 bad vs <<<"$r"
    printf '%-6s %12s %8s %10s %9s %9s %8s %8s\n' "$m" "$size" "$fill" "$rps" "$p50" "$p99" "$bad" "$vs"
  done
  echo "GET /calls/{id} at $G_SIZE events ($FILLED_CALLS pre-filled calls, random), c=$GET_CONNS, ${CURVE_SECONDS}s: $G_RPS req/s, p50 $G_P50 ms, p99 $G_P99 ms, non-2xx $G_BAD; peak RSS ${C_RSS} MB"
fi
